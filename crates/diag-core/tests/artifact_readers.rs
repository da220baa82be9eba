//! The artifact readers for bounces (NDRs), message headers and Entra sign-in log exports, on
//! the fixtures in `tests/fixtures/artifacts/`: each resolves to the right rule ids, the
//! counter-examples to none, everything shown is redacted, and bad input costs bounded work.
use std::{
    collections::BTreeSet,
    path::PathBuf,
    time::{Duration, Instant},
};

use diag_core::explain::readers::{
    artifact::{Artifact, ArtifactKind},
    bounce, headers, signin,
};
use diag_core::rules::Rulebook;

const NOW: i64 = 1_776_153_600; // 2026-04-14

fn fixture(kind: &str, name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/artifacts")
        .join(kind)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn rules(artifacts: &[Artifact]) -> BTreeSet<String> {
    artifacts
        .iter()
        .flat_map(|a| a.hits.iter().map(|h| h.rule.clone()))
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn fact<'a>(a: &'a Artifact, key: &str) -> Option<&'a str> {
    a.facts
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Every hit names a rule of the book, with a label in the house style, on a line inside the
/// artifact; no full local part of an address shows anywhere.
fn well_formed(artifacts: &[Artifact], kind: ArtifactKind) {
    let book = Rulebook::embedded();
    let unmasked = regex::Regex::new(r"[A-Za-z0-9._%+-]{2}@[A-Za-z0-9-]+\.").expect("static regex");
    for a in artifacts {
        assert_eq!(a.kind, kind);
        assert!(a.first_line <= a.last_line, "{a:?}");
        assert!(!a.summary.is_empty());
        for h in &a.hits {
            assert!(book.get(&h.rule).is_some(), "unknown rule {}", h.rule);
            assert!(
                !h.label.ends_with('.') && !h.label.starts_with(char::is_uppercase),
                "label style: {:?}",
                h.label
            );
            assert!(
                (a.first_line..=a.last_line).contains(&h.line),
                "hit line {} outside {}..={}",
                h.line,
                a.first_line,
                a.last_line
            );
        }
        let shown = format!("{:?} {:?} {:?}", a.summary, a.facts, a.hits);
        assert!(!unmasked.is_match(&shown), "unmasked address in {shown}");
    }
}

// ---- bounces ----

fn bounce_of(name: &str) -> Vec<Artifact> {
    let out = bounce::read(&fixture("bounce", name), 1, NOW);
    well_formed(&out, ArtifactKind::Bounce);
    out
}

#[test]
fn bounce_tenant_attribution_through_an_on_premises_relay() {
    let out = bounce_of("exo-tenant-attribution.txt");
    assert_eq!(out.len(), 1, "{out:#?}");
    let a = &out[0];
    assert_eq!(rules(&out), set(&["relay-tenant-attribution"]));
    assert_eq!(fact(a, "reporting host"), Some("EXCH01.corp.contoso.com"));
    assert_eq!(fact(a, "sender"), Some("s***@contoso.com"));
    assert!(
        fact(a, "recipients are")
            .expect("present")
            .starts_with("external (fabrikam.com)")
    );
    assert!(
        a.summary.starts_with("bounced: 550 5.7.64"),
        "{}",
        a.summary
    );
    // The hit stands on the `Remote Server returned` line.
    assert_eq!(a.hits[0].line, 16);
}

#[test]
fn bounce_direct_send_rejected_is_told_from_tenant_attribution_by_its_text() {
    let out = bounce_of("exo-direct-send-rejected.txt");
    assert_eq!(rules(&out), set(&["relay-direct-send-rejected"]));
    assert!(
        fact(&out[0], "recipients are")
            .expect("present")
            .starts_with("internal")
    );
}

#[test]
fn bounce_remote_server_at_host_names_the_reply_and_the_host() {
    let out = bounce_of("exo-remote-server-at-host.txt");
    assert_eq!(out.len(), 1, "{out:#?}");
    let a = &out[0];
    assert_eq!(rules(&out), set(&["relay-direct-send-rejected"]));
    assert_eq!(
        fact(a, "remote host"),
        Some("contoso-com.mail.protection.outlook.com")
    );
    assert!(
        a.summary.starts_with("bounced: 550 5.7.68"),
        "{}",
        a.summary
    );
}

#[test]
fn other_wordings_of_a_returned_reply_are_read() {
    for (text, reply, host) in [
        (
            "Remote Server at mx.fabrikam.com (203.0.113.5) returned '550 5.7.1 Relaying denied'",
            "550 5.7.1 Relaying denied",
            Some("mx.fabrikam.com"),
        ),
        (
            "Delivery failed. The server has returned an error: 550 5.7.1 Relaying denied",
            "550 5.7.1 Relaying denied",
            None,
        ),
        (
            "Remote server returned an error: (550) 5.7.1 Client does not have permissions",
            "(550) 5.7.1 Client does not have permissions",
            None,
        ),
    ] {
        let out = bounce::read(text, 1, NOW);
        assert_eq!(out.len(), 1, "{text}: {out:#?}");
        assert_eq!(fact(&out[0], "reply"), Some(reply), "{text}");
        assert_eq!(fact(&out[0], "remote host"), host, "{text}");
    }
    // A server that returned something that is no reply is no bounce.
    assert!(bounce::read("the server returned to normal at 09:14", 1, NOW).is_empty());
}

#[test]
fn bounce_send_as_denied_after_authenticated_submission() {
    let out = bounce_of("exo-send-as-denied.txt");
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(rules(&out), set(&["smtp-send-as-denied"]));
    let a = &out[0];
    assert_eq!(fact(a, "sender"), Some("f***@contoso.com"));
    assert_eq!(
        fact(a, "original arrived by"),
        Some("authenticated submission")
    );
    assert!(
        fact(a, "recipients are")
            .expect("present")
            .starts_with("internal")
    );
}

#[test]
fn bounce_postfix_dmarc_reject_with_its_delivery_status_part() {
    let out = bounce_of("postfix-dmarc-reject.txt");
    assert_eq!(out.len(), 1, "{out:#?}");
    let a = &out[0];
    assert_eq!(rules(&out), set(&["relay-dmarc-reject"]));
    assert_eq!(fact(a, "reporting host"), Some("relay.contoso.com"));
    assert_eq!(
        fact(a, "remote host"),
        Some("fabrikam-com.mail.protection.outlook.com")
    );
    assert_eq!(fact(a, "status"), Some("5.7.509"));
    assert_eq!(fact(a, "action"), Some("failed"));
    assert_eq!(fact(a, "sender domain"), Some("contoso.com"));
    // The folded reply is read whole, once, without Postfix's wrapping.
    let replies: Vec<&str> = a
        .facts
        .iter()
        .filter(|(k, _)| k == "reply")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].starts_with("550 5.7.509 Access denied"));
    assert!(replies[0].contains("has a DMARC policy of reject."));
    assert_eq!(fact(a, "in reply to"), Some("end of DATA command"));
}

#[test]
fn bounce_postfix_unable_to_relay_to_an_outside_domain() {
    let out = bounce_of("postfix-external-recipient.txt");
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(rules(&out), set(&["relay-external-recipient"]));
    let h = &out[0].hits[0];
    assert!(
        h.label.starts_with("550 5.7.54 SMTP; Unable to relay")
            && h.label.ends_with("fabrikam.com is outside contoso.com"),
        "{}",
        h.label
    );
    assert_eq!(fact(&out[0], "in reply to"), Some("RCPT TO command"));
}

#[test]
fn a_delivery_report_that_is_not_a_failure_gives_no_hit() {
    let out = bounce_of("rfc3464-delivered.txt");
    assert!(rules(&out).is_empty(), "{out:#?}");
    assert!(out.iter().all(|a| a.summary.starts_with("delivered")));
}

#[test]
fn a_lone_remote_server_line_is_a_bounce_and_several_mix() {
    let text = format!(
        "noise\nRemote Server returned '550 5.7.509 Access denied, sending domain contoso.com does not pass DMARC verification'\n{}\n{}",
        "x\n".repeat(200),
        fixture("bounce", "exo-tenant-attribution.txt")
    );
    let out = bounce::read(&text, 100, NOW);
    well_formed(&out, ArtifactKind::Bounce);
    assert_eq!(out.len(), 2, "{out:#?}");
    assert_eq!(out[0].first_line, 101);
    assert_eq!(out[0].hits[0].rule, "relay-dmarc-reject");
    assert_eq!(out[1].hits[0].rule, "relay-tenant-attribution");
}

// ---- headers ----

fn headers_of(name: &str) -> Vec<Artifact> {
    let out = headers::read(&fixture("headers", name), 1, NOW);
    well_formed(&out, ArtifactKind::Headers);
    out
}

#[test]
fn headers_direct_send_junked_for_failed_authentication() {
    let out = headers_of("exo-direct-send-junked.txt");
    assert_eq!(out.len(), 1, "{out:#?}");
    let a = &out[0];
    assert_eq!(
        rules(&out),
        set(&["dns-spf-ip-not-authorized", "relay-compauth-junked"])
    );
    assert_eq!(fact(a, "sending ip"), Some("203.0.113.10"));
    assert!(
        fact(a, "arrived by")
            .expect("present")
            .starts_with("direct send")
    );
    assert_eq!(fact(a, "compauth"), Some("fail, reason 000"));
    assert_eq!(fact(a, "sfv"), Some("SPM"));
    assert_eq!(fact(a, "scl"), Some("5"));
    assert_eq!(fact(a, "cat"), Some("SPOOF"));
    assert!(a.summary.starts_with("junked"), "{}", a.summary);
    // The SPF hit stands on the line the (folded) Authentication-Results header starts on.
    let spf = a
        .hits
        .iter()
        .find(|h| h.rule == "dns-spf-ip-not-authorized")
        .expect("present");
    assert_eq!(spf.line, 10);
    assert!(spf.label.contains("203.0.113.10"), "{}", spf.label);
}

#[test]
fn headers_connector_relay_with_a_broken_spf_record() {
    let out = headers_of("exo-connector-spf-permerror.txt");
    assert_eq!(rules(&out), set(&["relay-spf-fail"]));
    assert_eq!(fact(&out[0], "arrived by"), Some("connector relay"));
    assert!(out[0].summary.starts_with("not junked"));
}

#[test]
fn an_spf_permerror_is_named_by_the_receivers_words() {
    let text = "Received-SPF: PermError (SPF Permanent Error: Too many DNS lookups)\nX-MS-Exchange-Organization-AuthAs: Anonymous\n";
    let out = headers::read(text, 1, NOW);
    well_formed(&out, ArtifactKind::Headers);
    assert_eq!(rules(&out), set(&["dns-spf-too-many-lookups"]));
}

#[test]
fn headers_isp_relay_softfail_at_an_outside_receiver() {
    let out = headers_of("gmail-isp-relay-softfail.txt");
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(
        rules(&out),
        set(&["dns-spf-ip-not-authorized", "relay-compauth-junked"])
    );
    // The relay's IP, not the device's private or site address, is what SPF judged.
    assert_eq!(fact(&out[0], "sending ip"), Some("198.51.100.7"));
    assert_eq!(
        fact(&out[0], "arrived by"),
        Some("authenticated submission")
    );
}

#[test]
fn passing_headers_give_no_spf_or_dmarc_finding() {
    for (name, verdict) in [
        ("exo-submission-pass.txt", "not junked"),
        ("gmail-pass.txt", "no spam verdict in the headers"),
    ] {
        let out = headers_of(name);
        assert_eq!(out.len(), 1, "{name}: {out:#?}");
        assert!(rules(&out).is_empty(), "{name}: {out:#?}");
        assert!(out[0].summary.starts_with(verdict), "{}", out[0].summary);
    }
    let out = headers_of("exo-submission-pass.txt");
    assert_eq!(
        fact(&out[0], "arrived by"),
        Some("authenticated submission")
    );
    assert_eq!(
        fact(&out[0], "dmarc").expect("present"),
        "pass, action none, header from contoso.com"
    );
}

#[test]
fn a_header_folded_a_thousand_times_stays_cheap() {
    let mut text = String::from("Authentication-Results: spf=fail (sender IP is 203.0.113.10)\n");
    for i in 0..1000 {
        text.push_str(&format!(" smtp.mailfrom=contoso.com; x{i}=y{i}\n"));
    }
    text.push_str("X-MS-Exchange-Organization-AuthAs: Anonymous\n");
    let big = text.repeat(50);
    let started = Instant::now();
    let out = headers::read(&big, 1, NOW);
    assert!(started.elapsed() < Duration::from_secs(5));
    // One block: the repeated headers continue it.
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].last_line, 50 * 1002);
    assert_eq!(rules(&out), set(&["dns-spf-ip-not-authorized"]));
    assert!(out[0].facts.iter().all(|(_, v)| v.chars().count() <= 201));
}

// ---- sign-in logs ----

fn signin_of(name: &str) -> Vec<Artifact> {
    let out = signin::read(&fixture("signin", name), 1, NOW);
    well_formed(&out, ArtifactKind::SignInLog);
    out
}

#[test]
fn sign_in_json_collapses_identical_failures_and_names_the_policy() {
    let out = signin_of("portal-ca-and-secret.json");
    assert_eq!(out.len(), 2, "{out:#?}");
    assert_eq!(
        rules(&out),
        set(&[
            "entra-conditional-access-blocked",
            "entra-invalid-client-secret"
        ])
    );
    let ca = &out[0];
    assert_eq!(fact(ca, "error code"), Some("AADSTS53003"));
    assert_eq!(fact(ca, "count"), Some("2"));
    assert_eq!(fact(ca, "user"), Some("s***@contoso.com"));
    assert_eq!(fact(ca, "sign-in"), Some("user, interactive"));
    assert_eq!(
        fact(ca, "ca policies"),
        Some("Block device code flow: failure")
    );
    assert!(ca.hits[0].label.ends_with("policy Block device code flow"));
    assert_eq!(fact(ca, "last seen"), Some("2026-04-14T07:41:30Z"));
    // From the first row's opening brace to the second (identical) row's closing one.
    assert_eq!((ca.first_line, ca.last_line), (2, 59));
    let secret = &out[1];
    assert_eq!(
        fact(secret, "sign-in"),
        Some("client credentials (clientSecret)")
    );
    assert_eq!(fact(secret, "resource"), Some("Office 365 Exchange Online"));
}

#[test]
fn sign_in_graph_page_is_read() {
    let out = signin_of("graph-page-mfa.json");
    assert_eq!(rules(&out), set(&["entra-mfa-required"]));
    assert_eq!(fact(&out[0], "client app"), Some("Authenticated SMTP"));
    assert_eq!(fact(&out[0], "sign-in"), Some("user, non-interactive"));
}

#[test]
fn sign_in_csv_with_quoted_commas_and_doubled_quotes() {
    let out = signin_of("portal-interactive.csv");
    assert_eq!(out.len(), 3, "{out:#?}");
    assert_eq!(
        rules(&out),
        set(&[
            "entra-user-credentials-invalid",
            "entra-user-disabled",
            "entra-conditional-access-blocked"
        ])
    );
    assert_eq!(fact(&out[0], "count"), Some("3"));
    assert_eq!(fact(&out[0], "client app"), Some("Authenticated SMTP"));
    assert_eq!(
        fact(&out[0], "failure reason"),
        Some("Error validating credentials due to invalid username or password.")
    );
    assert_eq!((out[0].first_line, out[0].last_line), (2, 4));
    assert_eq!(fact(&out[1], "user"), Some("m***@contoso.com"));
    assert_eq!(fact(&out[2], "conditional access"), Some("Failure"));
    assert_eq!(fact(&out[1], "conditional access"), Some("Not Applied"));
}

#[test]
fn sign_in_csv_of_service_principals() {
    let out = signin_of("portal-service-principal.csv");
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(rules(&out), set(&["entra-client-secret-expired"]));
    assert_eq!(fact(&out[0], "count"), Some("2"));
    assert_eq!(
        fact(&out[0], "sign-in"),
        Some("client credentials (Client secret)")
    );
}

#[test]
fn successful_sign_ins_give_no_finding() {
    let out = signin_of("all-success.json");
    assert_eq!(out.len(), 1);
    assert!(out[0].hits.is_empty());
    assert_eq!(out[0].summary, "2 sign-in(s), none failed");
}

#[test]
fn broken_csv_quoting_gives_a_clear_message_and_costs_only_its_row() {
    let out = signin_of("broken-quoting.csv");
    assert_eq!(out.len(), 1, "{out:#?}");
    let problem = fact(&out[0], "problem").expect("a problem fact");
    assert!(
        problem.contains("broken CSV quoting") && problem.contains("line 2"),
        "{problem}"
    );
    // The row after the broken one is read whole, and the broken row's code still counts.
    assert_eq!(rules(&out), set(&["entra-user-credentials-invalid"]));
    assert!(out[0].summary.contains("50126"), "{}", out[0].summary);
}

#[test]
fn stray_quotes_inside_a_row_shift_no_error_code() {
    // Quotes inside unquoted text (`Contoso "MFP" Scan`, `DE,"Failure`) and a last row cut off
    // inside a quoted field.
    let out = signin_of("broken-quoting-resync.csv");
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(rules(&out), set(&["entra-user-disabled"]));
    let problems: Vec<&str> = out[0]
        .facts
        .iter()
        .filter(|(k, _)| k == "problem")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        problems.iter().any(|p| p.contains("line 2"))
            && problems.iter().any(|p| p.contains("line 3")),
        "{problems:?}"
    );
}

#[test]
fn a_five_megabyte_json_export_is_read_in_bounded_time() {
    let row = r#"{"createdDateTime":"2026-04-14T07:40:12Z","userPrincipalName":"scanner@contoso.com","appId":"4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f","appDisplayName":"Contoso Scan to Email","status":{"errorCode":50126,"failureReason":"Error validating credentials due to invalid username or password."},"resourceDisplayName":"Office 365 Exchange Online","appliedConditionalAccessPolicies":[],"clientCredentialType":"none","isInteractive":false}"#;
    let n = 5 * 1024 * 1024 / row.len() + 1;
    let text = format!("[\n{}\n]", vec![row; n].join(",\n"));
    assert!(text.len() > 5 * 1024 * 1024);
    let started = Instant::now();
    let out = signin::read(&text, 1, NOW);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(out.len(), 1);
    assert_eq!(fact(&out[0], "count"), Some(n.to_string().as_str()));
    assert_eq!(out[0].last_line, n as u64 + 1);
    assert_eq!(out[0].first_line, 2);
    // Cut in the middle: the whole rows before the cut still count, no panic.
    let cut = &text[..text.len() / 2];
    let out = signin::read(cut, 1, NOW);
    assert_eq!(rules(&out), set(&["entra-user-credentials-invalid"]));
}

// ---- bad input for all three ----

#[test]
fn bad_input_never_panics_and_stays_bounded() {
    let mut junk = String::new();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        junk.push(char::from_u32(x % 0x2_0000).unwrap_or('\u{fffd}'));
    }
    let samples = [
        junk.clone(),
        "\0\0\0 Remote server returned '\0".to_string(),
        "Delivery has failed to these recipients or groups:\n".to_string(),
        "Original message headers:\n".to_string() + &"Received: from x\n".repeat(5000),
        "Reporting-MTA: dns;\nStatus: 5.\nDiagnostic-Code:".to_string(),
        "Authentication-Results:\nReceived-SPF:\nX-Forefront-Antispam-Report: ;;::;SCL:abc;CIP:999.1.1.1".to_string(),
        "[{\"appDisplayName\": \"x\", \"status\": {\"errorCode\": \"oops\"}, \"createdDateTime\": 1".to_string(),
        "{\"appDisplayName\"".repeat(10_000),
        "Sign-in error code\n\"".to_string() + &"a".repeat(100_000),
        "Sign-in error code,Status\n,\n,,,,\n\"\"\"\n".to_string(),
        "sign-in error code,\"\n".repeat(20_000),
        format!("Remote server returned '{}'", "5".repeat(1_000_000)),
        format!("<{}@x.com>: {}", "a".repeat(100_000), "b".repeat(100_000)),
        "This is the mail system at host\n<a@b.com>: host said: (in reply to command)\n<a@b.com>: (in reply to command)".to_string(),
        "Reporting-MTA: dns; x\nDiagnostic-Code: smtp; host x said:\n  (in reply to )command)".to_string(),
    ];
    for s in &samples {
        let started = Instant::now();
        let b = bounce::read(s, 1, NOW);
        let h = headers::read(s, 1, NOW);
        let g = signin::read(s, 1, NOW);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "slow on {:?}",
            &s[..s.len().min(60)]
        );
        well_formed(&b, ArtifactKind::Bounce);
        well_formed(&h, ArtifactKind::Headers);
        well_formed(&g, ArtifactKind::SignInLog);
    }
}

#[test]
fn triggers_are_lower_case_and_found_in_every_fixture() {
    let kinds: [(&str, &[&str]); 3] = [
        ("bounce", bounce::TRIGGERS),
        ("headers", headers::TRIGGERS),
        ("signin", signin::TRIGGERS),
    ];
    for (kind, triggers) in kinds {
        assert!(triggers.iter().all(|t| *t == t.to_ascii_lowercase()));
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/artifacts")
            .join(kind);
        for entry in std::fs::read_dir(dir).expect("fixture dir") {
            let text = std::fs::read_to_string(entry.expect("dir entry").path())
                .expect("fixture text")
                .to_ascii_lowercase();
            assert!(
                triggers.iter().any(|t| text.contains(t)),
                "{kind}: no trigger in a fixture"
            );
        }
    }
}
