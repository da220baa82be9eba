//! `explain` against the real rule book: every example resolves to its rule (ranked first), no
//! counter-example resolves to its rule at all, the prefilter never loses a match, structured
//! readers (JWT, XOAUTH2, JSON bodies) add their findings, streaming keeps exact line numbers,
//! and bad input never panics. The JSON document is snapshot-tested.
use std::path::PathBuf;

use base64::{
    Engine as _, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD,
};
use diag_core::explain::{self, Matcher, render};
use diag_core::jwt::Intended;
use diag_core::rules::{RuleSource, Rulebook, parse_rule};

mod explain_support;
use explain_support::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/logs")
}

#[test]
fn every_code_entry_and_pattern_compiles_to_something_the_scanner_finds() {
    let problems: Vec<String> = matcher()
        .problems
        .iter()
        .map(|(r, p)| format!("{r}: {p}"))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_example_resolves_to_its_rule_first() {
    let mut wrong = Vec::new();
    for rule in book().iter() {
        for ex in &rule.examples {
            let r = explain(ex);
            if r.findings.first().map(|f| f.rule.as_str()) != Some(rule.id.as_str()) {
                let got: Vec<String> = r
                    .findings
                    .iter()
                    .take(3)
                    .map(|f| format!("{} ({})", f.rule, f.score))
                    .collect();
                wrong.push(format!("{}: {ex:?} -> {got:?}", rule.id));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} examples do not rank their rule first:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn no_counter_example_resolves_to_its_rule() {
    let mut wrong = Vec::new();
    for rule in book().iter() {
        for ex in &rule.counter_examples {
            let r = explain(ex);
            if let Some(f) = r.findings.iter().find(|f| f.rule == rule.id) {
                wrong.push(format!("{}: {ex:?} matched with {:?}", rule.id, f.matched));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_prefilter_never_loses_a_match() {
    // Every example line: analysed with every pattern and analysed the way the scan does (only
    // when the prefilter flags it, only the patterns whose literals it holds), the same hits.
    let m = matcher();
    let key = |h: &diag_core::explain::rank::Hit| (h.rule, h.kind, h.label.clone());
    for rule in book().iter() {
        for ex in rule.examples.iter().chain(&rule.counter_examples) {
            for line in ex.lines() {
                let mut all: Vec<_> = m.analyse_all(line).iter().map(key).collect();
                let mut fast: Vec<_> = m.analyse_prefiltered(line).iter().map(key).collect();
                all.sort();
                fast.sort();
                assert_eq!(all, fast, "{line:?}");
            }
        }
    }
}

#[test]
fn a_specific_reply_beats_a_generic_one() {
    // On separate lines of one transcript too: the tenant rule (pattern, rank 0) comes first.
    let r = explain(
        "S: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\nS: 535 5.7.3 Authentication unsuccessful",
    );
    assert_eq!(
        ids(&r)[..2],
        ["smtp-auth-disabled-for-tenant", "smtp-auth-unsuccessful"]
    );
    let r = explain(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
    );
    assert_eq!(ids(&r)[0], "smtp-auth-disabled-for-tenant");
    assert!(!ids(&r).contains(&"smtp-auth-unsuccessful"));
    // The same enhanced code after another reply code means something else.
    let r = explain("451 5.7.3 STARTTLS is required to send mail");
    assert_eq!(ids(&r)[0], "smtp-starttls-required");
    let r = explain("535 5.7.3 Authentication unsuccessful");
    assert_eq!(ids(&r)[0], "smtp-auth-unsuccessful");
    assert!(!ids(&r).contains(&"smtp-starttls-required"));
}

#[test]
fn each_rule_is_listed_once_with_every_line() {
    let text = "S: 535 5.7.3 Authentication unsuccessful\nnoise\nS: 535 5.7.3 Authentication unsuccessful\n";
    let r = explain(text);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "smtp-auth-unsuccessful")
        .expect("finding");
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.rule == "smtp-auth-unsuccessful")
            .count(),
        1
    );
    assert_eq!(f.lines, vec![1, 3]);
    assert_eq!(f.line_count, 2);
    assert!(
        f.matched.iter().any(|m| m == "535 5.7.3"),
        "{:?}",
        f.matched
    );
}

#[test]
fn aadsts_codes_inside_json_error_codes() {
    let r = explain(
        r#"{"error":"invalid_client","error_description":"see logs","error_codes":[7000222],"trace_id":"0e6a4a9c-1111-2222-3333-444455556666"}"#,
    );
    assert_eq!(ids(&r)[0], "entra-client-secret-expired");
    assert!(r.findings[0].matched.iter().any(|m| m.contains("7000222")));
    assert!(r.evidence.iter().any(|e| e.key == "trace_id"));
    // Pretty-printed over several lines, only the array names the code.
    let pretty = "{\n  \"error\": \"invalid_client\",\n  \"error_codes\": [\n    7000215\n  ]\n}\n";
    let r = explain(pretty);
    assert_eq!(ids(&r)[0], "entra-invalid-client-secret");
    assert_eq!(r.findings[0].line, Some(3));
}

#[test]
fn graph_error_bodies_and_device_codes() {
    let r = explain(
        r#"POST /v1.0/users/x/sendMail -> 403 {"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}"#,
    );
    assert_eq!(ids(&r)[0], "graph-access-denied");
    let r = explain(
        "2025-03-14 08:00:00 XC-1 jobmgr[233]: Job 4 type=ScanToEmail state=Failed fault=016-781",
    );
    assert_eq!(ids(&r)[0], "device-xerox-016-781");
    // An access log's byte count 535 is not an SMTP reply.
    let r = explain(
        r#"192.0.2.7 - - [14/Mar/2025:08:00:00 +0000] "GET /status HTTP/1.1" 200 535 "-" "curl/8.5.0""#,
    );
    assert!(r.findings.is_empty(), "{:?}", ids(&r));
}

fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT","kid":"k"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

const GRAPH_APP_TOKEN: &str = r#"{"aud":"https://graph.microsoft.com","iss":"https://sts.windows.net/11111111-2222-3333-4444-555555555555/","tid":"11111111-2222-3333-4444-555555555555","appid":"00000000-0000-0000-0000-000000000001","app_displayname":"Scanner","idtyp":"app","roles":["Mail.Send"],"iat":1741935600,"nbf":1741935600,"exp":1741939500}"#;

#[test]
fn a_graph_token_is_useless_for_smtp() {
    let t = jwt(GRAPH_APP_TOKEN);
    let r = explain(&format!(
        "C: AUTH XOAUTH2 (token below)\nBearer {t}\nS: 535 5.7.3 Authentication unsuccessful"
    ));
    assert_eq!(ids(&r)[0], "jwt-audience-graph-for-smtp");
    let tok = &r.tokens[0];
    assert_eq!(tok.resource.as_deref(), Some("Microsoft Graph"));
    assert_eq!(tok.roles, vec!["Mail.Send"]);
    assert_eq!(tok.app_only, Some(true));
    assert_eq!(tok.expires_in, Some(300));
    assert!(!tok.smtp.usable && tok.graph.usable);
    assert!(!tok.verified);
    // The token itself is never printed, in any format.
    for format in [
        render::Format::Human,
        render::Format::Json,
        render::Format::Markdown,
    ] {
        let mut out = Vec::new();
        render::render(&r, format, render::Style::default(), &mut out).expect("render");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            !text.contains(&t[..30]) && !text.contains("c2lnbmF0dXJl"),
            "{format:?} leaks the token:\n{text}"
        );
    }
    // The same token for Graph sendMail is fine: nothing matches, but the token is reported.
    let r = explain(&format!(
        "POST https://graph.microsoft.com/v1.0/users/x/sendMail\nAuthorization: Bearer {t}"
    ));
    assert!(r.findings.is_empty(), "{:?}", ids(&r));
    assert_eq!(r.tokens.len(), 1);
}

#[test]
fn xoauth2_blobs_are_judged_for_smtp_and_their_user() {
    let claims = r#"{"aud":"https://outlook.office365.com","tid":"t","idtyp":"user","scp":"SMTP.Send","upn":"admin@contoso.com","exp":1741942800}"#;
    let blob = STANDARD.encode(format!(
        "user=relay@contoso.com\u{1}auth=Bearer {}\u{1}\u{1}",
        jwt(claims)
    ));
    let r = explain(&format!(
        "C: AUTH XOAUTH2 {blob}\nS: 535 5.7.3 Authentication unsuccessful"
    ));
    assert_eq!(ids(&r)[0], "jwt-identity-mismatch");
    assert_eq!(
        r.tokens[0].xoauth2_user.as_deref(),
        Some("r***@contoso.com")
    );
    let mut out = Vec::new();
    render::render(&r, render::Format::Json, render::Style::default(), &mut out).expect("render");
    assert!(!String::from_utf8_lossy(&out).contains(&blob[..20]));
}

#[test]
fn expired_and_truncated_tokens() {
    let expired = jwt(
        r#"{"aud":"https://outlook.office365.com","idtyp":"app","roles":["SMTP.SendAsApp"],"exp":1741930000}"#,
    );
    let r = explain(&expired);
    assert_eq!(ids(&r)[0], "jwt-expired");
    assert!(r.tokens[0].expires_in.is_some_and(|s| s < 0));
    let truncated = &jwt(GRAPH_APP_TOKEN)[..70];
    let r = explain(&format!("Authorization: Bearer {truncated}"));
    assert_eq!(ids(&r)[0], "jwt-malformed");
    assert!(r.tokens[0].error.is_some());
}

#[test]
fn streaming_keeps_line_numbers_across_small_pieces() {
    let mut text = String::new();
    let mut expect = Vec::new();
    for i in 1..=20_000u64 {
        if i % 997 == 0 {
            text.push_str(
                "2025-03-14 host smtp[1]: S: 550 5.7.64 TenantAttribution; Relay Access Denied\n",
            );
            expect.push(i);
        } else {
            text.push_str(&format!(
                "2025-03-14 host smtp[1]: S: 250 2.1.5 Recipient OK size={i}535\n"
            ));
        }
    }
    let mut o = opts();
    o.chunk = 16 * 1024;
    let r = explain::explain_reader(book(), matcher(), text.as_bytes(), &o).expect("read");
    assert_eq!(ids(&r), vec!["relay-tenant-attribution"]);
    assert_eq!(r.findings[0].lines, expect);
    assert_eq!(r.input.lines, 20_000);
}

#[test]
fn local_rules_match_like_built_in_ones() {
    let local = r#"```toml
severity = "warn"
area = "device"
aliases = []

[match]
codes = ["042-999"]
patterns = ['(?i)toner gremlins detected']

[[example]]
text = "fault=042-999"

[[reference]]
title = "x"
url = "https://example.com"
```

# Local device fault

## What you see
Text.

## Cause
Text.

## Fix
1. Step.
"#;
    let rule = parse_rule(
        "device-local-fault",
        local,
        RuleSource::Local("device-local-fault.md".into()),
    )
    .expect("parse");
    let book = Rulebook::from_rules(Rulebook::embedded().iter().cloned().chain([rule]));
    let m = Matcher::compile(&book);
    let r = explain::explain_text(
        &book,
        &m,
        "panel: fault=042-999, toner gremlins detected",
        &opts(),
    );
    assert_eq!(ids(&r), vec!["device-local-fault"]);
    assert_eq!(r.findings[0].source, "local(device-local-fault.md)");
    assert_eq!(r.findings[0].score, 4);
}

#[test]
fn no_match_names_closest_ids_when_the_input_looks_like_one() {
    let r = explain("smtp-auth-disabled-for-tenat");
    assert!(r.findings.is_empty());
    assert_eq!(
        r.closest_ids.first().map(String::as_str),
        Some("smtp-auth-disabled-for-tenant")
    );
    let r = explain("AADSTS9999999: something new");
    assert!(r.findings.is_empty());
    assert_eq!(r.unrecognised, vec!["AADSTS9999999"]);
}

#[test]
fn bad_input_gives_notes_not_panics() {
    let r = explain("");
    assert!(r.findings.is_empty() && r.notes.iter().any(|n| n.contains("empty")));
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    junk.extend_from_slice(
        b"\nS: 535 5.7.139 x SmtpClientAuthentication is disabled for the Tenant \xff\xfe\n",
    );
    let r = explain::explain_reader(book(), matcher(), &junk[..], &opts()).expect("read");
    assert!(r.input.binary);
    assert_eq!(ids(&r)[0], "smtp-auth-disabled-for-tenant");
    assert!(r.input.invalid_utf8_lines >= 1);
    let r = explain(r#"{"error": "invalid_client", "error_codes": [7000215"#);
    assert_eq!(ids(&r)[0], "entra-invalid-client-secret");
    assert!(
        r.notes.iter().any(|n| n.contains("not valid JSON")),
        "{:?}",
        r.notes
    );
}

#[test]
fn a_ten_megabyte_line_is_scanned_in_windows() {
    let mut line = "x".repeat(5_000_000);
    line.push_str(" AADSTS7000215: Invalid client secret provided. ");
    line.push_str(&"y".repeat(5_000_000));
    let r = explain::explain_reader(book(), matcher(), line.as_bytes(), &opts()).expect("read");
    assert_eq!(ids(&r)[0], "entra-invalid-client-secret");
    assert_eq!(r.findings[0].line, Some(1));
    assert_eq!(r.input.long_lines, 1);
    assert!(
        r.findings[0]
            .excerpt
            .as_ref()
            .is_some_and(|e| e.chars().count() <= explain::EXCERPT_MAX + 2)
    );
}

/// A small deterministic generator (xorshift), so the randomized test needs no extra crate.
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
fn randomized_bad_input_never_panics() {
    // Fragments that exercise every scanner, spliced with random bytes.
    let fragments: &[&[u8]] = &[
        b"535 5.7.3 ",
        b"AADSTS7000215",
        b"\"error_codes\":[",
        b"eyJhbGciOiJub25lIn0.eyJ",
        b"dXNlcj1h",
        b"{\"error\":{\"code\":",
        b"016-781",
        b"S: 504 ",
        b"Error 1102",
        b"\n",
        b"\r\n",
        b"\xff\xfe",
        b"\x00",
        b"{{{{",
        b"\\u0000",
        b"5.7.",
        b"..",
        b"00000003-0000-0000-c000-000000000000",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..300 {
        let mut input = Vec::new();
        for _ in 0..(rng.next() % 64) {
            if rng.next().is_multiple_of(3) {
                input.extend_from_slice(fragments[(rng.next() % fragments.len() as u64) as usize]);
            } else {
                input.extend((0..rng.next() % 16).map(|_| rng.next() as u8));
            }
        }
        let mut o = opts();
        o.chunk = 8192 + (round % 7) * 1000;
        let r = explain::explain_reader(book(), matcher(), &input[..], &o).expect("memory read");
        for format in [
            render::Format::Human,
            render::Format::Json,
            render::Format::Markdown,
        ] {
            render::render(
                &r,
                format,
                render::Style {
                    color: round % 2 == 0,
                },
                &mut Vec::new(),
            )
            .expect("render");
        }
    }
}

#[test]
fn usage_given_by_the_caller_wins() {
    let t = jwt(GRAPH_APP_TOKEN);
    let mut o = opts();
    o.usage = Some(Intended::Smtp);
    let r = explain::explain_text(book(), matcher(), &t, &o);
    assert_eq!(ids(&r)[0], "jwt-audience-graph-for-smtp");
}

#[test]
fn fixture_logs_resolve_to_the_rule_they_are_named_after() {
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures()).expect("tests/fixtures/logs") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        let Some(id) = name
            .strip_suffix(".txt")
            .and_then(|n| n.rsplit_once('.'))
            .map(|(id, _)| id.to_string())
        else {
            continue;
        };
        let file = std::fs::File::open(&path).expect("open");
        let r = explain::explain_reader(book(), matcher(), file, &opts()).expect("read");
        assert_eq!(
            ids(&r).first().copied(),
            Some(id.as_str()),
            "{name}: {:?}",
            ids(&r)
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} fixture logs");
}

#[test]
fn json_report_snapshots() {
    let cases: &[(&str, String)] = &[
        ("smtp_transcript", "S: 334 UGFzc3dvcmQ6\nC: <password>\nS: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\nS: 535 5.7.3 Authentication unsuccessful\n".to_string()),
        ("token_endpoint", r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: 0e6a4a9c-1111-2222-3333-444455556666 Timestamp: 2025-03-14 07:59:00Z","error_codes":[7000215]}"#.to_string()),
        ("graph_token_for_smtp", format!("connecting to smtp.office365.com:587\nC: AUTH XOAUTH2\nBearer {}", jwt(GRAPH_APP_TOKEN))),
        ("no_match", "smtp-auth-disabled-for-tenat".to_string()),
    ];
    for (name, text) in cases {
        let value = render::json::to_value(&explain(text));
        insta::assert_json_snapshot!(*name, value);
    }
}

#[test]
fn lookup_report_snapshot() {
    let rule = book().lookup("AADSTS7000215").expect("alias");
    let value = render::json::to_value(&explain::explain_rule(rule, "AADSTS7000215"));
    assert_eq!(value["findings"][0]["rule"], "entra-invalid-client-secret");
    assert_eq!(value["schema"], "xdiag.explain/1");
    assert!(
        value["findings"][0]["fix_steps"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
}

/// A bare code that several rules share does not decide between them: the report says so
/// and names them all; the reply text that follows the code does decide.
#[test]
fn a_bare_shared_code_is_reported_as_ambiguous() {
    let bare = explain("5.7.139");
    assert!(bare.tied.len() >= 2, "{:?}", bare.tied);
    assert_eq!(bare.tied[0], bare.findings[0].rule);
    assert!(bare.notes[0].contains("fits"), "{:?}", bare.notes);
    let whole = explain(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox",
    );
    assert!(whole.tied.is_empty(), "{:?}", whole.tied);
    assert_eq!(whole.findings[0].rule, "smtp-auth-disabled-for-mailbox");
}
