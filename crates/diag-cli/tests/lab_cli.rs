//! `xdiag lab` as a process (environment cleared): the scenario list, the healthy lab, a few fault
//! scenarios (the CLI plumbing; the per-scenario table lives with the checks), flags overriding
//! the scenario, `lab serve` with `check` pointed at it, and redaction across every built-in
//! scenario in every format.
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use diag_lab::Scenario;
use serde_json::Value;

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

fn lab_json(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["lab"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let (code, out, err) = run(xdiag(&all));
    let doc = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}):\n{out}\nstderr:\n{err}"));
    (code, doc, err)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().expect("findings array")
}

#[test]
fn list_names_every_builtin_scenario_with_its_description() {
    let (code, out, err) = run(xdiag(&["lab", "--list"]));
    assert_eq!(code, 0, "{err}");
    let builtin = Scenario::builtin_list();
    assert!(builtin.len() >= 5);
    for (name, description) in &builtin {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{out}"));
        assert!(line.contains(description.as_str()), "{line}");
    }
    let (_, out, _) = run(xdiag(&["lab", "--list", "--format", "json"]));
    let list: Vec<Value> = serde_json::from_str(&out).expect("json list");
    assert_eq!(list.len(), builtin.len());
    assert_eq!(list[0]["name"], builtin[0].0.as_str());
}

#[test]
fn healthy_lab_passes_every_identity_check() {
    let (code, out, err) = run(xdiag(&["lab"]));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.starts_with("xdiag "), "{out}");
    assert!(
        out.lines()
            .next()
            .is_some_and(|l| l.contains("lab scenario: healthy")),
        "{out}"
    );
    for check in ["config", "token", "claims", "mailbox", "licence"] {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().take(2).eq(["PASS", check])),
            "{check} did not PASS:\n{out}"
        );
    }
    assert!(out.contains("\n0 failed, "), "{out}");

    let (code, doc, err) = lab_json(&["healthy"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["verdict"], "pass");
    assert_eq!(doc["root_cause"], Value::Null);
    assert!(
        findings(&doc).iter().all(|f| f["status"] == "pass"),
        "{doc:#}"
    );
    assert!(
        doc["target"]["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .any(|n| n["key"] == "lab scenario" && n["value"] == "healthy")
    );
}

/// A few faults, each found by a different check, to show the CLI carries the root cause through.
#[test]
fn fault_scenarios_exit_1_with_the_expected_rule_first() {
    for (scenario, check, rule) in [
        ("wrong-secret", "token", "entra-invalid-client-secret"),
        ("expired-secret", "token", "entra-client-secret-expired"),
        ("tenant-not-found", "token", "entra-tenant-not-found"),
        ("token-endpoint-down", "token", "entra-endpoint-unreachable"),
        ("secret-id-pasted", "config", "config-secret-looks-like-id"),
        (
            "no-smtp-sendasapp",
            "claims",
            "jwt-role-smtp-sendasapp-missing",
        ),
        ("mailbox-not-found", "mailbox", "graph-mailbox-not-found"),
    ] {
        let (code, doc, err) = lab_json(&[scenario]);
        assert_eq!(code, 1, "{scenario}: {doc:#}\n{err}");
        assert_eq!(doc["verdict"], "fail", "{scenario}");
        assert_eq!(doc["root_cause"]["rule"], rule, "{scenario}: {doc:#}");
        let first = findings(&doc)
            .iter()
            .find(|f| f["status"] == "fail")
            .expect("a failed finding");
        assert_eq!(
            (first["check"].as_str(), first["rule"].as_str()),
            (Some(check), Some(rule)),
            "{scenario}"
        );
        assert!(
            !first["fix_steps"].as_array().expect("fix_steps").is_empty(),
            "{scenario}: the rule's fix steps are embedded"
        );
        assert!(
            first["title"].is_string(),
            "{scenario}: the rule's title is embedded"
        );
    }
}

#[test]
fn a_flag_overrides_the_scenario_device() {
    let (code, doc, err) = lab_json(&["healthy", "--mailbox", "nobody@contoso.com"]);
    assert_eq!(code, 1, "{doc:#}\n{err}");
    assert_eq!(doc["target"]["mailbox"], "n***@contoso.com");
    assert_eq!(doc["root_cause"]["check"], "mailbox", "{doc:#}");

    let (code, doc, _) = lab_json(&["healthy", "--only", "config"]);
    assert_eq!(code, 0);
    assert_eq!(findings(&doc).len(), 1);
}

#[test]
fn a_scenario_file_runs_and_bad_names_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("my-site.toml");
    let text = diag_lab::scenario::builtin_source("healthy").expect("healthy source");
    std::fs::write(
        &path,
        text.replace("name = \"healthy\"", "name = \"my-site\""),
    )
    .expect("write");
    let (code, doc, err) = lab_json(&[path.to_str().expect("utf-8 path")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        doc["target"]["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .any(|n| n["value"] == "my-site")
    );

    let (code, out, err) = run(xdiag(&["lab", "no-such-scenario"]));
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("no built-in scenario `no-such-scenario`") && err.contains("healthy"),
        "{err}"
    );

    let (code, _, err) = run(xdiag(&["lab", "/nonexistent/site.toml"]));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/site.toml"), "{err}");
}

#[test]
fn latency_slows_every_lab_answer() {
    let (code, doc, err) = lab_json(&["healthy", "--latency-ms", "300"]);
    assert_eq!(code, 0, "{err}");
    let token = findings(&doc)
        .iter()
        .find(|f| f["check"] == "token")
        .expect("token finding");
    assert!(
        token["elapsed_ms"].as_u64().expect("ms") >= 300,
        "{token:#}"
    );
}

/// Kills the served lab even when an assertion fails.
struct Served(Child);
impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `lab serve` prints what `check` needs; `check` pointed at it with those flags passes.
#[test]
fn check_against_a_served_lab_passes() {
    let mut c = xdiag(&["lab", "serve", "healthy"]);
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut served = Served(c.spawn().expect("spawn lab serve"));
    let stdout = served.0.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let done = line.contains("press Ctrl-C");
        lines.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    let text = lines.join("\n");
    let value = |label: &str| -> String {
        lines
            .iter()
            .find_map(|l| {
                l.trim_start()
                    .strip_prefix(label)
                    .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{text}"))
    };
    assert!(text.contains("LAB DATA"), "{text}");
    let ca = value("CA file");
    assert!(
        std::fs::read_to_string(&ca)
            .expect("CA file exists")
            .contains("BEGIN CERTIFICATE")
    );
    let healthy = Scenario::builtin("healthy").expect("healthy");
    assert_eq!(
        value("client secret"),
        healthy.device.client_secret,
        "serve shows the lab's fake secret"
    );

    let mut check = xdiag(&[
        "check",
        "--method",
        "smtp",
        "--tenant",
        &value("tenant"),
        "--client-id",
        &value("client id"),
        "--client-secret-env",
        "XDIAG_LAB_SECRET",
        "--mailbox",
        &value("mailbox"),
        "--login-url",
        &value("login base"),
        "--graph-url",
        &value("graph base"),
        "--ca-file",
        &ca,
        "--only",
        "licence",
        "--format",
        "json",
    ]);
    check.env("XDIAG_LAB_SECRET", value("client secret"));
    let (code, out, err) = run(check);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let doc: Value = serde_json::from_str(&out).expect("json");
    let checks: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["check"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        checks,
        ["config", "token", "claims", "licence"],
        "--only licence runs what it needs"
    );
    assert!(
        !out.contains(&healthy.device.client_secret)
            && !err.contains(&healthy.device.client_secret)
    );

    // The printed `try:` command, as a technician pastes it, runs the whole smtp method against
    // the lab alone (SMTP and DNS included) and passes.
    let try_line = lines
        .iter()
        .skip_while(|l| l.trim() != "try:")
        .find(|l| l.trim_start().starts_with("xdiag check"))
        .unwrap_or_else(|| panic!("no try command in:\n{text}"));
    let words: Vec<&str> = try_line.split_whitespace().skip(1).collect();
    assert!(
        words.contains(&"--smtp-port") && words.contains(&"--dns-server"),
        "{try_line}"
    );
    let mut args = words.clone();
    args.extend(["--format", "json"]);
    let mut pasted = xdiag(&args);
    pasted.env("XDIAG_LAB_SECRET", value("client secret"));
    let (code, out, err) = run(pasted);
    assert_eq!(code, 0, "{try_line}\nstdout:\n{out}\nstderr:\n{err}");
    let doc: Value = serde_json::from_str(&out).expect("json");
    assert!(
        findings(&doc)
            .iter()
            .any(|f| f["check"] == "smtp-auth" && f["status"] == "pass"),
        "{doc:#}"
    );
}

/// Long base64url runs: a token signature (RS256: 342 characters) or a key.
fn has_long_base64url_run(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        run = if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            run + 1
        } else {
            0
        };
        if run >= 120 {
            return true;
        }
    }
    false
}

/// `eyJ` followed by two dots in one base64url/dot run: a whole JWT.
fn has_full_jwt(text: &str) -> bool {
    text.match_indices("eyJ").any(|(i, _)| {
        let rest = &text[i..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        rest[..end].matches('.').count() >= 2
    })
}

#[test]
fn no_secret_or_token_in_any_scenario_or_format() {
    let scenarios: Vec<String> = Scenario::builtin_list()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let jobs: Vec<(String, &str)> = scenarios
        .iter()
        .flat_map(|s| ["human", "json", "markdown"].map(|f| (s.clone(), f)))
        .collect();
    let jobs = Arc::new(Mutex::new(jobs));
    let problems = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (jobs, problems) = (Arc::clone(&jobs), Arc::clone(&problems));
            std::thread::spawn(move || loop {
                let Some((scenario, format)) = jobs.lock().expect("jobs").pop() else { break };
                let s = Scenario::builtin(&scenario).expect("builtin");
                let mut secrets: Vec<String> = s.apps.iter().flat_map(|a| a.secrets.iter().map(|x| x.value.clone())).collect();
                secrets.push(s.device.client_secret.clone());
                secrets.retain(|x| x.len() >= 8);
                let (code, out, err) = run(xdiag(&["lab", &scenario, "--format", format]));
                let mut p = problems.lock().expect("problems");
                if !(code == 0 || code == 1) {
                    p.push(format!("{scenario} {format}: exit {code}\n{err}"));
                }
                for (stream, text) in [("stdout", &out), ("stderr", &err)] {
                    if let Some(secret) = secrets.iter().find(|x| text.contains(x.as_str())) {
                        p.push(format!("{scenario} {format}: {stream} shows a client secret ({} chars)", secret.len()));
                    }
                    if has_full_jwt(text) {
                        p.push(format!("{scenario} {format}: {stream} shows a whole token"));
                    }
                    if has_long_base64url_run(text) {
                        p.push(format!("{scenario} {format}: {stream} shows a long base64url run (signature?)"));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let problems = problems.lock().expect("problems");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_detectors_catch_what_they_look_for() {
    let sig = "A".repeat(342);
    assert!(has_full_jwt(&format!("x eyJhbGciOi.eyJhdWQ.{sig} y")));
    assert!(!has_full_jwt("eyJhbGciOi.eyJhdWQ (truncated)"));
    assert!(has_long_base64url_run(&sig));
    assert!(!has_long_base64url_run(
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    ));
}
