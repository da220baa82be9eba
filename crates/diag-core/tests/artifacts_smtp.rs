//! Whole SMTP sessions in `explain`: every fixture under `tests/fixtures/artifacts/smtp/` (named
//! `<expected id>.<what>.txt`, or `none.<what>.txt` for a session with nothing wrong) resolves
//! to its id ranked first, the dialogue is rebuilt and redacted in every output format, large
//! inputs are read around trigger lines, and bad input never panics.
use std::path::PathBuf;

use base64::{
    Engine as _, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD,
};
use diag_core::explain::{self, ArtifactKind, ExplainReport, readers::ARTIFACT_READERS, render};

mod explain_support;
use explain_support::*;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/artifacts/smtp")
}

fn fixtures() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir())
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_string();
            (name, std::fs::read_to_string(&p).expect("read"))
        })
        .collect();
    out.sort();
    out
}

fn all_formats(r: &ExplainReport) -> Vec<(render::Format, String)> {
    [
        render::Format::Human,
        render::Format::Json,
        render::Format::Markdown,
    ]
    .into_iter()
    .map(|f| {
        let mut out = Vec::new();
        render::render(r, f, render::Style::default(), &mut out).expect("render");
        (f, String::from_utf8(out).expect("utf8"))
    })
    .collect()
}

/// The secrets of a fixture: every base64 run of 16+ characters (blobs, AUTH payloads), every
/// JWT part, and the passwords the fixtures use.
fn secrets(text: &str) -> Vec<String> {
    let mut out: Vec<String> = [
        "Winter2025!Scan",
        "P@ssw0rd-Reception",
        "Spring#2025",
        "Tr0ub4dor&3",
        "Invoice$2025",
        "Summer!2025",
        "S3cr3tPass!2026",
        "UzNjcjN0UGFzcyEyMDI2",
        "Wint3rScan!2025",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let b64 = |c: char| c.is_ascii_alphanumeric() || "+/=_-.".contains(c);
    for word in text.split(|c: char| !b64(c)) {
        let w = word.trim_matches('.');
        if w.len() >= 24
            && w.bytes().any(|b| b.is_ascii_digit())
            && w.bytes().any(|b| b.is_ascii_uppercase())
            && !w.contains("PR04")
        {
            out.push(w[..24].to_string());
            if let Some((head, rest)) = w.split_once('.') {
                out.push(head.chars().take(20).collect());
                out.push(rest.chars().take(20).collect());
            }
        }
    }
    out
}

#[test]
fn every_session_fixture_resolves_to_its_id() {
    let mut wrong = Vec::new();
    let list = fixtures();
    assert!(list.len() >= 20, "only {} fixtures", list.len());
    for (name, text) in &list {
        let id = name.split('.').next().expect("id");
        let r = explain(text);
        let sessions: Vec<_> = r
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::SmtpSession)
            .collect();
        if sessions.is_empty() {
            wrong.push(format!("{name}: no SMTP session rebuilt"));
            continue;
        }
        if id == "none" {
            if !r.findings.is_empty() || sessions.iter().any(|a| !a.hits.is_empty()) {
                wrong.push(format!(
                    "{name}: a healthy session was diagnosed: {:?}",
                    ids(&r)
                ));
            }
        } else if ids(&r).first() != Some(&id) {
            wrong.push(format!("{name}: {:?}", ids(&r)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn at_least_three_fixtures_per_dialect() {
    let mut count = std::collections::BTreeMap::new();
    for (name, _) in fixtures() {
        let what = name.split('.').nth(1).expect("what");
        let family = what.split('-').next().expect("family").to_string();
        *count.entry(family).or_insert(0) += 1;
    }
    for family in [
        "printer", "postfix", "smtplib", "javamail", "lettre", "arrows", "angle",
    ] {
        let n = count.get(family).copied().unwrap_or(0);
        assert!(n >= 3, "{family}: {n} fixtures");
    }
}

#[test]
fn no_secret_reaches_any_output_format() {
    for (name, text) in fixtures() {
        let r = explain(&text);
        let secrets = secrets(&text);
        assert!(
            !secrets.is_empty(),
            "{name}: the fixture has no secret to look for"
        );
        for (format, out) in all_formats(&r) {
            for s in &secrets {
                assert!(
                    !out.contains(s.as_str()),
                    "{name}: {format:?} shows {s:?}:\n{out}"
                );
            }
        }
        // Local parts are masked in what the artifact holds.
        for a in &r.artifacts {
            let all = format!("{:?} {:?} {}", a.facts, a.transcript, a.summary);
            for local in [
                "scanner@",
                "scans@",
                "alerts@",
                "invoices@",
                "noreply@",
                "frontdesk@",
            ] {
                assert!(!all.contains(local), "{name}: {local} unmasked in {all}");
            }
        }
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).expect("fixture")
}

#[test]
fn a_blob_split_over_334_is_read_and_judged_at_the_log_time() {
    let r = explain(&fixture("jwt-expired.printer-split-blob-expired.txt"));
    let a = &r.artifacts[0];
    let t = a.transcript.join("\n");
    assert!(t.contains("C: AUTH XOAUTH2\n"), "{t}");
    assert!(t.contains("<XOAUTH2 blob: user=s***@contoso.com, token for Exchange Online, app-only, roles SMTP.SendAsApp"), "{t}");
    assert!(t.contains("expired at the log time"), "{t}");
    let fact = |k: &str| {
        a.facts
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(fact("failed at"), Some("AUTH"));
    assert_eq!(fact("EHLO before TLS"), Some("STARTTLS, no AUTH"));
    assert_eq!(fact("EHLO after TLS"), Some("AUTH LOGIN XOAUTH2"));
    assert!(fact("token judged at").is_some_and(|v| v.contains("2025-03-13")));
    assert!(
        a.hits
            .iter()
            .any(|h| h.rule == "jwt-expired" && h.line == 30),
        "{:?}",
        a.hits
    );
    // The command after the failure is a command again, not an AUTH payload.
    assert!(t.ends_with("C: QUIT"), "{t}");
}

#[test]
fn a_healthy_session_with_a_valid_token_is_not_a_fault_although_it_has_expired_by_now() {
    let text = fixture("none.printer-healthy-xoauth2.txt");
    let r = explain(&text);
    assert!(r.findings.is_empty(), "{:?}", ids(&r));
    assert_eq!(r.artifacts[0].summary, "message accepted");
    // The same token judged today (no time on the line) has expired: the time stamp decides.
    let stripped: String = text
        .lines()
        .map(|l| l.split_once(": ").map_or(l, |(_, rest)| rest))
        .collect::<Vec<_>>()
        .join("\n");
    let r = explain(&stripped);
    assert!(ids(&r).contains(&"jwt-expired"), "{:?}", ids(&r));
    // ...but the session itself succeeded, so the session reports no fault.
    assert!(r.artifacts.iter().all(|a| a.hits.is_empty()));
}

#[test]
fn a_json_challenge_is_decoded_and_the_wrong_claim_named() {
    let r = explain(&fixture(
        "jwt-role-smtp-sendasapp-missing.smtplib-json-challenge.txt",
    ));
    let a = &r.artifacts[0];
    let fact = |k: &str| {
        a.facts
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let c = fact("server challenge").expect("challenge fact");
    assert!(
        c.contains("status=401") && c.contains("scope=https://outlook.office365.com/"),
        "{c}"
    );
    assert!(
        a.hits
            .iter()
            .any(|h| h.rule == "jwt-role-smtp-sendasapp-missing"
                && h.label.contains("without SMTP.SendAsApp")),
        "{:?}",
        a.hits
    );
    assert_eq!(fact("logged as").as_deref(), Some("Python smtplib debug"));
}

#[test]
fn basic_logins_show_the_user_masked_and_never_the_password() {
    let r = explain(&fixture(
        "smtp-basic-auth-disabled.printer-login-refused.txt",
    ));
    let a = &r.artifacts[0];
    let t = a.transcript.join("\n");
    assert!(t.contains("S: 334 VXNlcm5hbWU6 (Username:)"), "{t}");
    assert!(t.contains("C: <user s***@contoso.com>"), "{t}");
    assert!(t.contains("C: <password, not shown>"), "{t}");
    assert!(
        a.facts
            .iter()
            .any(|(k, v)| k == "AUTH mechanism" && v.starts_with("LOGIN (Basic")),
        "{:?}",
        a.facts
    );
    assert!(
        a.summary
            .starts_with("failed at AUTH (LOGIN) after STARTTLS: 535 5.7.139"),
        "{}",
        a.summary
    );
}

#[test]
fn markdown_shows_the_dialogue_fenced_and_json_the_artifact() {
    let r = explain(&fixture(
        "jwt-audience-graph-for-smtp.printer-graph-token.txt",
    ));
    let md = &all_formats(&r)[2].1;
    assert!(md.contains("### SMTP session (lines 1–30)"), "{md}");
    assert!(
        md.contains("```text\n# connecting to smtp.office365.com:587\nS: 220 "),
        "{md}"
    );
    assert!(md.contains("token for Microsoft Graph"), "{md}");
    assert!(md.contains("| claim | value |"), "{md}");
    let v = render::json::to_value(&r);
    let a = &v["artifacts"][0];
    assert_eq!(a["kind"], "smtp-session");
    assert_eq!(a["lines"]["first"], 1);
    assert_eq!(a["hits"][0]["rule"], "jwt-audience-graph-for-smtp");
    insta::assert_json_snapshot!("smtp_session_graph_token", a);
}

#[test]
fn a_session_inside_a_large_log_is_read_around_its_trigger() {
    let session = fixture("smtp-starttls-required.smtplib-login-before-tls.txt");
    let mut text = String::new();
    let noise =
        "2025-03-14T08:00:00.000Z XC-1 jobmgr[233]: Job 4711 type=Copy state=Completed pages=3\n";
    for _ in 0..30_000 {
        text.push_str(noise);
    }
    let at = 30_001;
    text.push_str(&session);
    for _ in 0..30_000 {
        text.push_str(noise);
    }
    assert!(text.len() > 2 * explain::input::CHUNK);
    for chunk in [explain::input::CHUNK, 64 * 1024] {
        let mut o = opts();
        o.chunk = chunk;
        let r = explain::explain_reader(book(), matcher(), text.as_bytes(), &o).expect("read");
        assert_eq!(
            ids(&r).first(),
            Some(&"smtp-starttls-required"),
            "chunk {chunk}"
        );
        let a = &r.artifacts[0];
        assert_eq!(a.first_line, at, "chunk {chunk}");
        assert!(a.hits.iter().all(|h| h.line > at), "{:?}", a.hits);
    }
}

#[test]
fn a_healthy_session_in_a_large_log_is_not_listed() {
    // A healthy XOAUTH2 session (its blob is a trigger) and a failing one, in a large log.
    let healthy = fixture("none.printer-healthy-xoauth2.txt");
    let failing = fixture("smtp-starttls-required.smtplib-login-before-tls.txt");
    let noise =
        "2025-03-14T08:00:00.000Z XC-1 jobmgr[233]: Job 4711 type=Copy state=Completed pages=3\n";
    let mut text = String::new();
    for part in [&healthy, &failing] {
        for _ in 0..30_000 {
            text.push_str(noise);
        }
        text.push_str(part);
    }
    let mut o = opts();
    o.chunk = 64 * 1024;
    let r = explain::explain_reader(book(), matcher(), text.as_bytes(), &o).expect("read");
    let sessions: Vec<_> = r
        .artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::SmtpSession)
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    assert!(
        sessions[0].summary.starts_with("failed at"),
        "{sessions:#?}"
    );
    // The same healthy session pasted alone is listed.
    let alone = explain(&healthy);
    assert_eq!(alone.artifacts.len(), 1);
}

fn fact<'a>(a: &'a explain::Artifact, key: &str) -> Option<&'a str> {
    a.facts
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn swaks_error_markers_are_server_replies_and_quit_is_no_password() {
    let r = explain(&fixture(
        "smtp-security-defaults.swaks-tls-error-marker.txt",
    ));
    let a = &r.artifacts[0];
    let t = a.transcript.join("\n");
    assert!(t.contains("S: 535 5.7.139"), "{t}");
    assert_eq!(t.matches("<password, not shown>").count(), 1, "{t}");
    assert!(t.contains("C: QUIT"), "{t}");
    assert_eq!(fact(a, "failed at"), Some("AUTH"));
    assert!(
        a.summary
            .starts_with("failed at AUTH (LOGIN) after STARTTLS"),
        "{}",
        a.summary
    );
    // `<**` marks an error reply in plain text.
    let plain = "=== Connected to mx.contoso.com.\n<-  220 mx.contoso.com ESMTP\n -> EHLO scanbox\n<-  250 mx.contoso.com Hello\n -> MAIL FROM:<scanner@contoso.com>\n<-  250 2.1.0 Sender OK\n -> RCPT TO:<bob@fabrikam.com>\n<** 550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain\n -> QUIT\n<-  221 2.0.0 Bye\n";
    let r = explain(plain);
    let a = &r.artifacts[0];
    assert_eq!(fact(a, "failed at"), Some("RCPT TO"), "{a:#?}");
    assert!(
        a.transcript.iter().any(|l| l.starts_with("S: 550 5.7.54")),
        "{a:#?}"
    );
}

#[test]
fn direction_words_rebuild_the_session_but_mail_headers_do_not() {
    let r = explain(&fixture(
        "jwt-audience-graph-for-smtp.printer-send-recv-graph-token.txt",
    ));
    let a = &r.artifacts[0];
    assert!(
        fact(a, "logged as").is_some_and(|d| d.contains("Send:/Recv:")),
        "{a:#?}"
    );
    assert_eq!(fact(a, "STARTTLS"), Some("used"));
    assert_eq!(fact(a, "failed at"), Some("AUTH"));
    let r = explain(&fixture(
        "smtp-starttls-required.printer-tx-rx-ehlo-cut-short.txt",
    ));
    assert_eq!(r.artifacts.len(), 1, "{:#?}", r.artifacts);
    let t = r.artifacts[0].transcript.join("\n");
    assert!(!t.contains("Received") && !t.contains("Thursday"), "{t}");
    assert!(
        t.ends_with("S: 221 2.0.0 Service closing transmission channel"),
        "{t}"
    );
}

#[test]
fn a_cut_short_ehlo_reply_says_nothing_about_what_is_missing() {
    let r = explain(&fixture(
        "smtp-starttls-required.printer-tx-rx-ehlo-cut-short.txt",
    ));
    let a = &r.artifacts[0];
    let offered = fact(a, "EHLO before TLS").expect("EHLO fact");
    assert!(
        offered.contains("STARTTLS") && offered.contains("cut short"),
        "{offered}"
    );
    assert!(!offered.contains("no AUTH"), "{offered}");
    let rules: Vec<&str> = a.hits.iter().map(|h| h.rule.as_str()).collect();
    assert_eq!(rules, vec!["smtp-starttls-required"]);
    // A cut-short reply that lost its greeting line still shows STARTTLS.
    let r = explain(
        "S: 220 host ready\nC: EHLO printer\nS: 250-STARTTLS\nC: AUTH LOGIN\nS: 504 5.7.4 Unrecognized authentication type\n",
    );
    let rules: Vec<&str> = r.artifacts[0]
        .hits
        .iter()
        .map(|h| h.rule.as_str())
        .collect();
    assert_eq!(rules, vec!["smtp-starttls-required"]);
}

#[test]
fn a_blob_wrapped_over_several_lines_is_joined_before_it_is_judged() {
    let r = explain(&fixture(
        "jwt-audience-graph-for-smtp.printer-wrapped-76-columns.txt",
    ));
    assert!(
        !ids(&r).contains(&"smtp-xoauth2-malformed"),
        "{:?}",
        ids(&r)
    );
    let a = &r.artifacts[0];
    let t = a.transcript.join("\n");
    assert_eq!(t.matches("XOAUTH2 blob").count(), 1, "{t}");
    assert!(
        t.contains("token for Microsoft Graph") && !t.contains("format fault"),
        "{t}"
    );
    // A wrapped blob that is broken once joined is still called malformed.
    let text = fixture("jwt-audience-graph-for-smtp.printer-wrapped-76-columns.txt")
        .replace("AQE=", "AQ==");
    let r = explain(&text);
    assert!(ids(&r).contains(&"smtp-xoauth2-malformed"), "{:?}", ids(&r));
}

#[test]
fn a_paste_that_starts_at_auth_does_not_claim_starttls_was_skipped() {
    let r = explain(&fixture(
        "smtp-xoauth2-malformed.angle-blob-without-user.txt",
    ));
    let a = &r.artifacts[0];
    assert_eq!(
        fact(a, "STARTTLS"),
        Some("not seen (the log starts mid-session)")
    );
    let mech = fact(a, "AUTH mechanism").expect("mechanism");
    assert!(!mech.contains("before STARTTLS"), "{mech}");
    assert!(!a.summary.contains("STARTTLS"), "{}", a.summary);
    // Its token is decoded although the blob has no `user=`: Markdown shows its claims.
    let md = &all_formats(&r)[2].1;
    assert!(
        md.contains("### Access token") && md.contains("| claim | value |"),
        "{md}"
    );
}

#[test]
fn mixed_artifacts_are_all_found() {
    let mut text = fixture("smtp-starttls-required.printer-auth-before-tls.txt");
    text.push_str("\n-- and the relay said --\n");
    text.push_str(&fixture(
        "smtp-basic-auth-disabled.postfix-basic-retired.txt",
    ));
    let headers = "\nAuthentication-Results: spf=fail (sender IP is 203.0.113.45) smtp.mailfrom=contoso.com; dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine header.from=contoso.com;compauth=fail reason=001\nReceived-SPF: Fail (protection.outlook.com: domain of contoso.com does not designate 203.0.113.45 as permitted sender) receiver=protection.outlook.com; client-ip=203.0.113.45; helo=XC-8F21A4;\nX-MS-Exchange-Organization-AuthAs: Anonymous\nX-Forefront-Antispam-Report: CIP:203.0.113.45;CTRY:NL;LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;H:XC-8F21A4;PTR:InfoNoRecords;CAT:SPOOF;SFS:;DIR:INB;\n";
    text.push_str(headers);
    let r = explain(&text);
    let kinds: Vec<ArtifactKind> = r.artifacts.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ArtifactKind::SmtpSession)
            .count(),
        2,
        "{kinds:?}"
    );
    assert!(ids(&r).contains(&"smtp-starttls-required"));
    assert!(ids(&r).contains(&"smtp-basic-auth-disabled"));
    if ARTIFACT_READERS.iter().any(|r| r.name == "headers") {
        assert!(kinds.contains(&ArtifactKind::Headers), "{kinds:?}");
    }
    // In order of the input.
    assert!(
        r.artifacts
            .windows(2)
            .all(|w| w[0].first_line <= w[1].first_line)
    );
}

fn blob(raw: &str) -> String {
    STANDARD.encode(raw)
}

fn session_with(client_auth: &[&str], reply: &str) -> String {
    let mut s = String::from(
        "S: 220 mx.contoso.com ESMTP\nC: EHLO scanner\nS: 250-mx.contoso.com\nS: 250-STARTTLS\nS: 250 SIZE 1\nC: STARTTLS\nS: 220 2.0.0 ready\nC: EHLO scanner\nS: 250-mx.contoso.com\nS: 250 AUTH LOGIN XOAUTH2\n",
    );
    for (i, c) in client_auth.iter().enumerate() {
        if i > 0 {
            s.push_str("S: 334 \n");
        }
        s.push_str(&format!("C: {c}\n"));
    }
    s.push_str(&format!("S: {reply}\n"));
    s
}

#[test]
fn bad_blobs_are_findings_not_panics() {
    let r = explain(&session_with(
        &["AUTH XOAUTH2", "%%%not-base64%%%"],
        "535 5.7.3 Authentication unsuccessful",
    ));
    let a = &r.artifacts[0];
    assert!(
        a.hits
            .iter()
            .any(|h| h.rule == "smtp-xoauth2-malformed" && h.label.contains("not valid base64")),
        "{:?}",
        a.hits
    );
    assert_eq!(ids(&r)[0], "smtp-xoauth2-malformed");
    let no_token = blob("user=scanner@contoso.com\u{1}auth=Bearer \u{1}\u{1}");
    let r = explain(&session_with(
        &[&format!("AUTH XOAUTH2 {no_token}")],
        "535 5.7.3 Authentication unsuccessful",
    ));
    assert!(
        r.artifacts[0]
            .hits
            .iter()
            .any(|h| h.label.contains("no token")),
        "{:?}",
        r.artifacts[0].hits
    );
    // user= not first, said precisely.
    let tok = format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"aud":"https://outlook.office365.com","idtyp":"app","roles":["SMTP.SendAsApp"],"exp":1741942800}"#)
    );
    let swapped = blob(&format!(
        "auth=Bearer {tok}\u{1}user=scanner@contoso.com\u{1}\u{1}"
    ));
    let r = explain(&session_with(
        &["AUTH XOAUTH2", &swapped],
        "535 5.7.3 Authentication unsuccessful",
    ));
    assert_eq!(ids(&r)[0], "smtp-xoauth2-malformed");
    assert!(
        r.findings[0]
            .matched
            .iter()
            .any(|m| m.contains("`user=` is not the first field")),
        "{:?}",
        r.findings[0].matched
    );
    for (_, out) in all_formats(&r) {
        assert!(
            !out.contains(&swapped[..24]) && !out.contains(&tok[..20]),
            "{out}"
        );
    }
}

#[test]
fn a_megabyte_reply_and_a_hundred_thousand_line_session_stay_bounded() {
    let mut s = session_with(&["AUTH LOGIN"], "535 5.7.3 Authentication unsuccessful");
    s.push_str(&format!("S: 250-{}\n", "x".repeat(1_000_000)));
    let r = explain(&s);
    assert!(
        r.artifacts
            .iter()
            .all(|a| a.transcript.iter().all(|l| l.chars().count() <= 300))
    );
    let mut long = String::from("S: 220 mx.contoso.com ESMTP\nC: EHLO scanner\n");
    for i in 0..100_000 {
        long.push_str(&format!("C: RCPT TO:<user{i}@contoso.com>\nS: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found\n"));
    }
    let started = std::time::Instant::now();
    let r = explain::explain_reader(book(), matcher(), long.as_bytes(), &opts()).expect("read");
    assert!(started.elapsed().as_secs() < 60);
    assert!(!r.artifacts.is_empty());
    assert!(r.artifacts.len() <= 24);
    assert!(
        r.artifacts.iter().all(|a| a.transcript.len() <= 200),
        "transcripts are capped"
    );
}

/// A small deterministic generator (xorshift), as in `tests/explain.rs`.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn randomized_sessions_never_panic() {
    let fragments: &[&[u8]] = &[
        b"S: 220 mx ESMTP\n",
        b"C: EHLO x\n",
        b"S: 250-AUTH LOGIN XOAUTH2\n",
        b"S: 250 STARTTLS\n",
        b"C: STARTTLS\n",
        b"C: AUTH XOAUTH2 ",
        b"C: AUTH LOGIN\n",
        b"C: AUTH PLAIN AGEAYg==\n",
        b"S: 334 \n",
        b"S: 334 eyJzdGF0dXMiOiI0MDEifQ==\n",
        b"dXNlcj1hQGIuYwFhdXRoPUJlYXJlciBleUo",
        b"S: 535 5.7.3 Authentication unsuccessful\n",
        b"S: 504 5.7.4 x\n",
        b"send: b'",
        b"reply: b'535 5.7.139 x\\r\\n'\n",
        b"<< 250-a<CRLF>250 b<CRLF>",
        b">> AUTH XOAUTH2 ",
        b"postfix/smtp[1]: x said: 535 5.7.3 y (in reply to AUTH command)\n",
        b"DEBUG SMTP: AUTH LOGIN failed\n",
        b"C: MAIL FROM:<a@b.c>\n",
        b"S: 354 go\n",
        b"C: .\n",
        b"\xff\xfe",
        b"\x00",
        b"\r\n",
    ];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for round in 0..300 {
        let mut input = Vec::new();
        for _ in 0..(rng.next() % 80) {
            if !rng.next().is_multiple_of(4) {
                input.extend_from_slice(fragments[(rng.next() % fragments.len() as u64) as usize]);
            } else {
                input.extend((0..rng.next() % 12).map(|_| rng.next() as u8));
            }
        }
        let mut o = opts();
        o.chunk = 8192 + (round % 5) * 1000;
        let r = explain::explain_reader(book(), matcher(), &input[..], &o).expect("memory read");
        let _ = explain::explain_text(book(), matcher(), &String::from_utf8_lossy(&input), &opts());
        assert_eq!(all_formats(&r).len(), 3);
    }
}
