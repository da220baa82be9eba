//! `xdiag check` as a process (environment cleared): exit codes, config-file and secret-input
//! errors, and that a secret given on the command line never shows up in any output.
use std::{
    path::Path,
    process::{Command, Output},
};

fn xdiag(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xdiag"));
    c.env_clear().args(args);
    c
}

fn run(mut c: Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("run xdiag");
    let code = status.code().expect("exit code, not a signal");
    (
        code,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

const TENANT: &str = "contoso.com";
const CLIENT_ID: &str = "6e1c4a57-3b2d-4f8e-9c0a-7d5b2e8f1a34";
const SECRET: &str = "Zq8~FAKE.secret-value-4711-never-printed";

/// Inputs that pass `config`; `--only config` keeps the run off the network entirely.
fn config_only(extra: &[&str]) -> Command {
    let mut args = vec![
        "check",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--mailbox",
        "scanner@contoso.com",
        "--only",
        "config",
    ];
    args.extend_from_slice(extra);
    xdiag(&args)
}

/// Everything network-bound points at a closed loopback port: the token check fails fast.
fn unreachable(extra: &[&str]) -> Command {
    let mut args = vec![
        "check",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--mailbox",
        "scanner@contoso.com",
        "--method",
        "smtp",
        "--login-url",
        "https://127.0.0.1:9",
        "--graph-url",
        "https://127.0.0.1:9",
        "--dns-server",
        "127.0.0.1:9",
        "--smtp-host",
        "localhost",
        "--smtp-port",
        "9",
        "--timeout",
        "3",
    ];
    args.extend_from_slice(extra);
    xdiag(&args)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.display().to_string()
}

fn config_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/config")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn passing_config_check_exits_0() {
    let mut c = config_only(&[]);
    c.env("XDIAG_TEST_SECRET", SECRET);
    c.args(["--client-secret-env", "XDIAG_TEST_SECRET"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.lines().any(|l| l.starts_with("PASS   config")), "{out}");
    assert!(out.contains("0 failed"), "{out}");
}

#[test]
fn a_failed_check_exits_1() {
    let mut c = unreachable(&[
        "--client-secret-env",
        "XDIAG_TEST_SECRET",
        "--format",
        "json",
    ]);
    c.env("XDIAG_TEST_SECRET", SECRET);
    let (code, out, err) = run(c);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(doc["schema"], "xdiag.report/1");
    assert_eq!(doc["verdict"], "fail");
    assert_eq!(doc["root_cause"]["check"], "token");
}

#[test]
fn usage_errors_exit_2() {
    for (args, needle) in [
        (vec!["check"], "nothing to check"),
        (vec!["check", "--bogus"], "--bogus"),
        (vec!["check", "--timeout", "0"], "--timeout"),
        (
            vec!["check", "--method", "carrier-pigeon"],
            "carrier-pigeon",
        ),
        (vec!["check", "--only", "nope"], "no check named `nope`"),
        (vec!["check", "--profile", "x"], "--config"),
        (
            vec![
                "check",
                "--client-secret-env",
                "A",
                "--client-secret-file",
                "B",
            ],
            "cannot be used with",
        ),
        (
            vec![
                "check",
                "--tenant",
                TENANT,
                "--method",
                "graph",
                "--only",
                "smtp-auth",
            ],
            "smtp-auth does not apply to method graph",
        ),
        (
            vec![
                "check",
                "--tenant",
                TENANT,
                "--method",
                "smtp",
                "--only",
                "smtp-send",
            ],
            "runs only with --send-test",
        ),
    ] {
        let (code, out, err) = run(xdiag(&args));
        assert_eq!(code, 2, "{args:?}\nstdout:\n{out}\nstderr:\n{err}");
        assert!(
            err.contains(needle),
            "{args:?}: stderr lacks {needle:?}:\n{err}"
        );
    }
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let (code, out, err) = run(config_only(&[
        "--config",
        &config_fixture("sites.toml"),
        "--profile",
        "nowhere",
    ]));
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("no profile `nowhere`") && err.contains("branch-office, head-office"),
        "{err}"
    );
}

#[test]
fn a_profile_supplies_inputs_and_flags_win() {
    let mut c = xdiag(&[
        "check",
        "--config",
        &config_fixture("sites.toml"),
        "--profile",
        "head-office",
        "--only",
        "config",
        "--format",
        "json",
    ]);
    c.env("XDIAG_SECRET_HQ", SECRET);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["target"]["tenant"], "contoso.com");
    assert_eq!(doc["target"]["mailbox"], "s***@contoso.com");
    assert!(
        doc["target"]["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .any(|n| n["key"] == "profile" && n["value"] == "head-office")
    );

    let mut c = xdiag(&[
        "check",
        "--config",
        &config_fixture("sites.toml"),
        "--profile",
        "head-office",
        "--tenant",
        "fabrikam.com",
        "--only",
        "config",
        "--format",
        "json",
    ]);
    c.env("XDIAG_SECRET_HQ", SECRET);
    let (_, out, _) = run(c);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        doc["target"]["tenant"], "fabrikam.com",
        "the flag wins over the profile"
    );
}

#[test]
fn config_file_errors_are_clear_and_quote_no_value() {
    for (file, needles) in [
        ("wrong-type.toml", vec!["line 4", "`timeout`", "wrong type"]),
        ("unknown-key.toml", vec!["line 4", "client_secrt"]),
        (
            "plain-secret.toml",
            vec!["client_secret", "client_secret_env"],
        ),
        ("bad-syntax.toml", vec!["line 3"]),
    ] {
        let (code, out, err) = run(config_only(&["--config", &config_fixture(file)]));
        assert_eq!(code, 2, "{file}\nstdout:\n{out}\nstderr:\n{err}");
        for n in needles {
            assert!(err.contains(n), "{file}: stderr lacks {n:?}:\n{err}");
        }
        // Every fixture puts this marker in the value that is wrong or secret.
        assert!(
            !err.contains("LEAK") && !out.contains("LEAK"),
            "{file} echoed a value:\n{err}"
        );
    }
}

#[test]
fn an_unreadable_secret_file_exits_2_without_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such.secret").display().to_string();
    let (code, out, err) = run(config_only(&["--client-secret-file", &missing]));
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("cannot read the client secret file") && err.contains("no-such.secret"),
        "{err}"
    );

    // A folder cannot be read as a file either.
    let (code, _, err) = run(config_only(&[
        "--client-secret-file",
        &dir.path().display().to_string(),
    ]));
    assert_eq!(code, 2, "{err}");

    // Two lines: refused, and neither line is printed.
    let two = write(
        dir.path(),
        "two.secret",
        &format!("{SECRET}\nsecond-line-LEAK\n"),
    );
    let (code, out, err) = run(config_only(&["--client-secret-file", &two]));
    assert_eq!(code, 2, "{err}");
    assert!(
        !err.contains(SECRET) && !err.contains("LEAK") && !out.contains(SECRET),
        "{err}"
    );
}

#[test]
fn a_missing_secret_variable_exits_2() {
    let (code, _, err) = run(config_only(&["--client-secret-env", "XDIAG_NOT_SET"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("XDIAG_NOT_SET") && err.contains("not set"),
        "{err}"
    );
}

#[test]
fn a_certificate_without_a_key_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = write(
        dir.path(),
        "c.pem",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    );
    let (code, _, err) = run(config_only(&["--certificate", &cert]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--certificate-key"), "{err}");
}

#[test]
fn a_plain_secret_flag_warns_and_is_never_printed() {
    for format in ["human", "json", "markdown"] {
        // `config` runs the secret through its checks; the unreachable run through the token check.
        for mut c in [
            config_only(&["--client-secret", SECRET]),
            unreachable(&["--client-secret", SECRET]),
        ] {
            c.args(["--format", format]);
            let (code, out, err) = run(c);
            assert!(code == 0 || code == 1, "{format}: exit {code}\n{err}");
            assert!(
                err.contains("warning: --client-secret puts the secret in your shell history"),
                "{format}: {err}"
            );
            assert!(
                !out.contains(SECRET) && !err.contains(SECRET),
                "{format}: the secret was printed\n{out}\n{err}"
            );
            assert!(
                !out.contains("FAKE.secret") && !err.contains("FAKE.secret"),
                "{format}: part of the secret was printed"
            );
        }
    }
}

#[test]
fn json_and_markdown_print_only_the_document() {
    let mut c = config_only(&["--client-secret-env", "S", "--format", "json"]);
    c.env("S", SECRET);
    let (_, out, _) = run(c);
    serde_json::from_str::<serde_json::Value>(&out).expect("the whole stdout is one JSON document");

    let mut c = config_only(&["--client-secret-env", "S", "--format", "markdown"]);
    c.env("S", SECRET);
    let (_, out, _) = run(c);
    assert!(out.starts_with("# xdiag check PASS"), "{out}");
    assert!(
        !out.contains("PASS   config"),
        "no streamed human lines in markdown:\n{out}"
    );
}

/// A check asks only for the inputs it uses: `--only dns` for direct send needs a domain and a
/// DNS server, no tenant and no app (and the same holds for `--only dns` under `smtp`).
#[test]
fn dns_alone_needs_no_tenant() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let scenario = diag_lab::Scenario::builtin("healthy-direct-send").expect("scenario");
    let lab = rt
        .block_on(diag_lab::Lab::start(
            &scenario,
            diag_lab::LabOptions::default(),
        ))
        .expect("lab");
    let dns = lab.endpoints().dns.expect("the lab serves DNS").to_string();
    for method in ["direct-send", "smtp"] {
        let (code, out, err) = run(xdiag(&[
            "check",
            "--only",
            "dns",
            "--method",
            method,
            "--domain",
            "contoso.com",
            "--public-ip",
            "203.0.113.10",
            "--dns-server",
            &dns,
            "--timeout",
            "5",
            "--color",
            "never",
        ]));
        assert_eq!(code, 0, "{method}: {out}\n{err}");
        assert!(out.contains("PASS   config"), "{method}: {out}");
        assert!(out.contains("PASS   dns"), "{method}: {out}");
        assert!(!out.contains("config-tenant-invalid"), "{method}: {out}");
        assert!(!out.contains("config-client-id"), "{method}: {out}");
    }
    // A run that does use the tenant still asks for it.
    let (code, out, _) = run(xdiag(&[
        "check",
        "--only",
        "token",
        "--method",
        "smtp",
        "--client-id",
        CLIENT_ID,
        "--color",
        "never",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("config-tenant-invalid"), "{out}");
    rt.block_on(lab.shutdown());
}

/// Endpoint flags are checked when parsed: a bare DNS server IP means port 53, port 0 is a
/// usage error, and an error quoting its cause says the cause once.
#[test]
fn endpoint_flags_are_parsed_strictly_and_errors_say_each_cause_once() {
    let (code, _, err) = run(config_only(&["--dns-server", "127.0.0.1"]));
    assert_eq!(code, 0, "a bare IP is a DNS server on port 53: {err}");
    let (code, _, err) = run(config_only(&["--smtp-port", "0"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--smtp-port"), "{err}");
    let (code, _, err) = run(xdiag(&["check", "--config", "/nonexistent/xdiag.toml"]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

/// Without --mailbox the login cannot be tried: the run says so instead of passing quietly.
#[test]
fn a_missing_mailbox_is_a_warning_not_a_quiet_pass() {
    let (code, out, err) = run(xdiag(&[
        "check",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--only",
        "config",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "a warning still exits 0: {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["verdict"], "warn", "{doc:#}");
    assert_eq!(
        doc["findings"][0]["rule"], "config-mailbox-missing",
        "{doc:#}"
    );
}
