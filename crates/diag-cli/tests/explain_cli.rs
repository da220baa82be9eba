//! `xdiag explain` run as a process: inputs (id, code, text, file, stdin), formats, colour and
//! the exit codes 0 (matched), 1 (nothing matched, empty input) and 2 (unreadable input).
use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Output, Stdio},
};

fn xdiag(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xdiag"));
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("XDIAG_RULES_DIR");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn xdiag");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        // Written from a thread so a large input cannot deadlock against a full stdout pipe.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    child.wait_with_output().expect("wait")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn no_panic(o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "stderr: {err}");
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/logs")
        .join(name)
        .display()
        .to_string()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn a_code_names_its_rule() {
    let o = xdiag(&["explain", "AADSTS7000215"], None);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("entra-invalid-client-secret"));
    let o = xdiag(&["--format", "json", "explain", "AADSTS7000215"], None);
    let v = json(&o);
    assert_eq!(v["schema"], "xdiag.explain/1");
    assert_eq!(v["findings"][0]["rule"], "entra-invalid-client-secret");
}

#[test]
fn pasted_text_is_ranked_and_json_keeps_the_contract_fields() {
    let o = xdiag(
        &[
            "--format", "json", "explain", "451", "5.7.3", "STARTTLS", "is", "required", "to",
            "send", "mail",
        ],
        None,
    );
    assert_eq!(code(&o), 0);
    let v = json(&o);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "smtp-starttls-required");
    for field in [
        "rule",
        "title",
        "severity",
        "area",
        "matched",
        "line",
        "excerpt",
        "cause",
        "fix_steps",
        "references",
    ] {
        assert!(f.get(field).is_some(), "missing {field}");
    }
    assert!(
        f["matched"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x == "451 5.7.3"))
    );
}

#[test]
fn files_stdin_and_the_dash() {
    let path = fixture("smtp-auth-disabled-for-tenant.1.txt");
    for args in [
        vec!["explain", path.as_str()],
        vec!["explain", "--file", path.as_str()],
    ] {
        let o = xdiag(&args, None);
        assert_eq!(code(&o), 0, "{args:?}");
        assert!(stdout(&o).contains("smtp-auth-disabled-for-tenant"));
        // The AUTH LOGIN answers (user name, password) are not printed.
        assert!(!stdout(&o).contains("aHVudGVyMg"), "{}", stdout(&o));
    }
    let text = std::fs::read(&path).expect("fixture");
    let o = xdiag(&["--format", "json", "explain", "-"], Some(&text));
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["input"]["source"], "stdin");
}

#[test]
fn nothing_matched_and_empty_input_exit_1() {
    let o = xdiag(&["explain", "the printer is sad"], None);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("no rule matched"));
    let o = xdiag(&["explain", "smtp-auth-disabled-for-tenat"], None);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("smtp-auth-disabled-for-tenant"),
        "closest id: {}",
        stdout(&o)
    );
    let o = xdiag(&["explain", "-"], Some(b""));
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("empty"), "{}", stdout(&o));
}

#[test]
fn unreadable_input_exits_2() {
    let o = xdiag(&["explain", "--file", "/nonexistent/device.log"], None);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
    let dir = std::env::temp_dir();
    let o = xdiag(&["explain", "--file", dir.to_str().expect("utf8")], None);
    assert_eq!(code(&o), 2);
    no_panic(&o);
}

#[test]
fn bad_input_never_panics() {
    let junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let o = xdiag(&["explain", "-"], Some(&junk));
    no_panic(&o);
    assert!(matches!(code(&o), 0 | 1));

    let mut invalid = b"\xff\xfe garbage \xc3\x28\n".to_vec();
    invalid.extend_from_slice(b"S: 550 5.7.64 TenantAttribution; Relay Access Denied \xff\n");
    let o = xdiag(&["explain", "-"], Some(&invalid));
    no_panic(&o);
    assert_eq!(code(&o), 0);

    let mut long = vec![b'x'; 10 * 1024 * 1024];
    long.extend_from_slice(b" 016-781 ");
    let o = xdiag(&["--format", "json", "explain", "-"], Some(&long));
    no_panic(&o);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["input"]["long_lines"], 1);

    let o = xdiag(
        &["explain", "-"],
        Some(br#"{"error": "invalid_client", "error_codes": [7000215"#),
    );
    no_panic(&o);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("not valid JSON"));
}

#[test]
fn a_truncated_token_is_malformed_and_never_echoed() {
    let token = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJyb2xlcyI6WyJNYWlsLlNlbmQiXSwi";
    let o = xdiag(
        &["explain", &format!("Authorization: Bearer {token}")],
        None,
    );
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("jwt-malformed"));
    for format in ["human", "json", "markdown"] {
        let o = xdiag(
            &[
                "--format",
                format,
                "explain",
                &format!("Authorization: Bearer {token}"),
            ],
            None,
        );
        assert!(
            !stdout(&o).contains("eyJhdWQiOiJodHRwczovL2dyYXBo"),
            "{format} leaks the token"
        );
    }
}

#[test]
fn colour_only_when_asked_and_no_color_is_respected() {
    let ansi = |o: &Output| o.stdout.contains(&0x1b);
    assert!(
        !ansi(&xdiag(&["explain", "AADSTS7000215"], None)),
        "not a terminal: no colour"
    );
    assert!(ansi(&xdiag(
        &["--color", "always", "explain", "AADSTS7000215"],
        None
    )));
    assert!(!ansi(&xdiag(
        &["--color", "never", "explain", "AADSTS7000215"],
        None
    )));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xdiag"));
    let o = cmd
        .args(["explain", "AADSTS7000215"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!ansi(&o));
}

#[test]
fn markdown_is_a_ticket_note() {
    let o = xdiag(
        &[
            "--format",
            "markdown",
            "explain",
            &fixture("entra-client-secret-expired.1.txt"),
        ],
        None,
    );
    assert_eq!(code(&o), 0);
    let md = stdout(&o);
    assert!(md.starts_with("## xdiag explain: "), "{md}");
    assert!(
        md.contains("entra-client-secret-expired") && md.contains("**Fix**") && md.contains("1. ")
    );
    assert!(!md.contains("abc8Q~0123456789"), "client secret leaked");
}

#[test]
fn rules_show_uses_the_same_renderers() {
    let o = xdiag(&["rules", "show", "5.7.139"], None);
    let o2 = xdiag(&["rules", "show", "smtp-auth-disabled-for-tenant"], None);
    assert_eq!(code(&o2), 0);
    assert!(stdout(&o2).contains("Fix"));
    assert!(matches!(code(&o), 0 | 2));
    let o = xdiag(
        &[
            "--format",
            "json",
            "rules",
            "show",
            "smtp-auth-disabled-for-tenant",
        ],
        None,
    );
    assert_eq!(json(&o)["id"], "smtp-auth-disabled-for-tenant");
}

#[test]
fn an_smtp_session_is_rebuilt_in_every_format_without_its_secrets() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/artifacts/smtp/smtp-basic-auth-disabled.printer-login-refused.txt")
        .display()
        .to_string();
    let o = xdiag(&["--format", "json", "explain", "--file", &path], None);
    no_panic(&o);
    assert_eq!(code(&o), 0);
    let v = json(&o);
    assert_eq!(v["findings"][0]["rule"], "smtp-basic-auth-disabled");
    let a = &v["artifacts"][0];
    assert_eq!(a["kind"], "smtp-session");
    assert!(a["transcript"].as_array().is_some_and(|t| t.len() > 20));
    assert_eq!(a["hits"][0]["rule"], "smtp-basic-auth-disabled");
    for format in ["human", "json", "markdown"] {
        let o = xdiag(&["--format", format, "explain", "--file", &path], None);
        let out = stdout(&o);
        // The LOGIN answers: base64 of the user and of the password.
        assert!(
            !out.contains("V2ludGVyMjAyNSFTY2Fu") && !out.contains("Winter2025!Scan"),
            "{out}"
        );
        assert!(out.contains("<password, not shown>"), "{format}: {out}");
    }
    let o = xdiag(&["--format", "markdown", "explain", "--file", &path], None);
    assert!(
        stdout(&o).contains("### SMTP session (lines 1–33)"),
        "{}",
        stdout(&o)
    );
}
