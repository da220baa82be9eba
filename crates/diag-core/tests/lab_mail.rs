//! Every built-in lab scenario through the whole pipeline, as `xdiag lab NAME` runs it: all the
//! checks of the scenario's method (identity and mail path), on loopback, with the lab's DNS
//! server, MX and submission port. The expected first failure of each scenario is stated here
//! from the reference and the cases (shared/cases), never read from the scenario, and a scenario
//! added without an expectation fails `every_builtin_scenario_has_an_expectation`.
mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use diag_core::{
    check::CheckId,
    finding::Status,
    pipeline::{self, PipelineOptions},
    report::Report,
    target::Method,
};
use diag_lab::Scenario;
use support::lab::{failed, lines, run_scenario, start, target_for};
use tokio::{sync::Semaphore, task::JoinSet};

/// Scenario, and the rule of the first failing finding in report order (any of), or `None`: the
/// run passes (no finding fails or errs; warnings allowed).
const EXPECTED: &[(&str, Option<&[&str]>)] = &[
    // The working set-ups: one per method, and a certificate credential.
    ("healthy", None),
    ("healthy-graph", None),
    ("healthy-certificate", None),
    ("healthy-direct-send", None),
    ("healthy-relay", None),
    // Identity path (lab_identity.rs has the reasons).
    ("secret-id-pasted", Some(&["config-secret-looks-like-id"])),
    ("expired-secret", Some(&["entra-client-secret-expired"])),
    ("wrong-secret", Some(&["entra-invalid-client-secret"])),
    ("app-not-found", Some(&["entra-app-not-found"])),
    ("app-disabled", Some(&["entra-app-disabled"])),
    ("tenant-not-found", Some(&["entra-tenant-not-found"])),
    ("certificate-mismatch", Some(&["entra-certificate-invalid"])),
    (
        "conditional-access-blocked",
        Some(&["entra-conditional-access-blocked"]),
    ),
    (
        "delegated-permission",
        Some(&["jwt-delegated-permission-only"]),
    ),
    (
        "no-smtp-sendasapp",
        Some(&[
            "jwt-role-smtp-sendasapp-missing",
            "smtp-service-principal-missing",
        ]),
    ),
    (
        "missing-consent",
        Some(&["jwt-role-smtp-sendasapp-missing"]),
    ),
    (
        "graph-scope-for-smtp",
        Some(&["config-scope-method-mismatch"]),
    ),
    ("device-code-wrong-user", Some(&["jwt-identity-mismatch"])),
    ("shared-mailbox", Some(&["entra-user-disabled"])),
    ("mailbox-not-enabled", Some(&["graph-mailbox-not-enabled"])),
    ("on-premises-mailbox", Some(&["graph-mailbox-not-enabled"])),
    ("unlicensed-mailbox", Some(&["graph-mailbox-not-enabled"])),
    ("mailbox-not-found", Some(&["graph-mailbox-not-found"])),
    ("token-endpoint-down", Some(&["entra-endpoint-unreachable"])),
    // The policy shows on the send (reference §6): the scenario's device runs --send-test.
    (
        "application-access-policy",
        Some(&["graph-application-access-policy"]),
    ),
    // Mail path.
    // case-28: the ISP drops TCP 25; direct send cannot reach the MX.
    ("port-25-blocked", Some(&["net-port-25-blocked"])),
    ("port-587-refused", Some(&["net-port-587-blocked"])),
    // case-23: the connector names the old IP, the sender is @localhost: 5.7.64 to outside.
    ("connector-mismatch", Some(&["relay-tenant-attribution"])),
    // case-31
    ("spf-missing-site-ip", Some(&["dns-spf-ip-not-authorized"])),
    // case-26: the device offers TLS_RSA_* only; the server ECDHE only.
    ("tls-ecdhe-only", Some(&["tls-no-shared-cipher"])),
    // The device speaks TLS 1.1 at most; client submission needs 1.2+ (reference §4).
    ("device-tls-1-1", Some(&["tls-version-too-old"])),
    (
        "smtp-auth-disabled-tenant",
        Some(&["smtp-auth-disabled-for-tenant"]),
    ),
    (
        "smtp-auth-disabled-mailbox",
        Some(&["smtp-auth-disabled-for-mailbox"]),
    ),
    // The mailbox's own setting wins over the tenant's (reference §4): SMTP AUTH works.
    ("smtp-auth-enabled-mailbox-tenant-off", None),
    (
        "no-service-principal",
        Some(&["smtp-service-principal-missing"]),
    ),
    // No FullAccess for the service principal: the contract's id covers "or has no mailbox
    // permission" (diagnoses.md).
    (
        "no-mailbox-permission",
        Some(&["smtp-service-principal-missing"]),
    ),
    (
        "shared-mailbox-identity",
        Some(&["smtp-shared-mailbox-identity"]),
    ),
    ("two-spf-records", Some(&["dns-spf-multiple-records"])),
    ("spf-too-many-lookups", Some(&["dns-spf-too-many-lookups"])),
    (
        "direct-send-rejected",
        Some(&["relay-direct-send-rejected"]),
    ),
    (
        "external-recipient-direct-send",
        Some(&["relay-external-recipient"]),
    ),
];

/// What went wrong with one scenario, or `None` when it diagnosed as expected.
fn verdict(name: &str, want: Option<&[&str]>, report: &Report) -> Option<String> {
    let first = report.findings.iter().find(|f| failed(f));
    let got = first.map(|f| f.rule.map(|r| r.as_str()).unwrap_or("(no rule)"));
    let ok = match (want, got) {
        (None, None) => true,
        (Some(any), Some(g)) => any.contains(&g),
        _ => false,
    };
    // A passing run must have run the method's whole mail path, not skipped it.
    let skipped = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Skip)
        .map(|f| f.check.as_str())
        .collect::<Vec<_>>();
    let ok = ok && (want.is_some() || skipped.is_empty());
    (!ok).then(|| {
        format!(
            "{name}: expected {want:?}, got {got:?} (skipped: {skipped:?})\n{}",
            lines(report)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_builtin_scenario_names_its_expected_first_failure() {
    let t0 = Instant::now();
    let mut runs = JoinSet::new();
    // A few labs at a time: starting one makes RSA keys, and on a small machine too many at
    // once starve each other's servers past the 5 s deadline.
    let slots = Arc::new(Semaphore::new(4));
    for (name, want) in EXPECTED {
        let slots = Arc::clone(&slots);
        runs.spawn(async move {
            let _slot = slots.acquire_owned().await.expect("semaphore");
            let (report, _, lab) = run_scenario(name, Duration::ZERO, false).await;
            lab.shutdown().await;
            verdict(name, *want, &report)
        });
    }
    let mut wrong = Vec::new();
    while let Some(done) = runs.join_next().await {
        if let Some(w) = done.expect("a scenario run panicked") {
            wrong.push(w);
        }
    }
    eprintln!("{} scenarios in {:?}", EXPECTED.len(), t0.elapsed());
    assert!(
        wrong.is_empty(),
        "{} scenario(s) diagnosed wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_builtin_scenario_has_an_expectation() {
    let missing: Vec<String> = Scenario::builtin_list()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !EXPECTED.iter().any(|(n, _)| n == name))
        .collect();
    assert!(
        missing.is_empty(),
        "built-in scenarios without an expected first failure in lab_mail.rs: {missing:?}"
    );
    let unknown: Vec<&str> = EXPECTED
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| Scenario::builtin(n).is_none())
        .collect();
    assert!(unknown.is_empty(), "no such scenarios: {unknown:?}");
}

/// The healthy run of every method runs the whole mail path of that method and passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_run_passes_for_every_method() {
    // With `--send-test` to an outside recipient, except direct send, which only ever reaches
    // the tenant's own mailboxes (its scenario's device tests an internal one).
    for (name, method, send_test, mail_checks) in [
        ("healthy-graph", Method::Graph, true, &[][..]),
        (
            "healthy",
            Method::Smtp,
            true,
            &[
                CheckId::Dns,
                CheckId::Reach,
                CheckId::SmtpTls,
                CheckId::SmtpAuth,
                CheckId::SmtpSend,
            ][..],
        ),
        (
            "healthy-direct-send",
            Method::DirectSend,
            false,
            &[CheckId::Dns, CheckId::Reach, CheckId::Relay][..],
        ),
        (
            "healthy-relay",
            Method::Relay,
            true,
            &[CheckId::Dns, CheckId::Reach, CheckId::Relay][..],
        ),
    ] {
        let (report, _, lab) = run_scenario(name, Duration::ZERO, send_test).await;
        lab.shutdown().await;
        assert_eq!(report.target.method, method.as_str(), "{name}");
        assert!(
            report.findings.iter().all(|f| !failed(f)),
            "{name} (send test: {send_test}):\n{}",
            lines(&report)
        );
        for check in mail_checks {
            let f = report
                .findings
                .iter()
                .find(|f| f.check == *check)
                .unwrap_or_else(|| panic!("{name}: no {check} finding"));
            assert_eq!(
                f.status,
                Status::Pass,
                "{name}: {check}\n{}",
                lines(&report)
            );
        }
    }
}

/// The device of case-26 is refused by the server's own alert, read from a hand-written
/// ClientHello: the finding says so, and the mail path behind it is skipped, not guessed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rsa_only_device_is_refused_with_a_handshake_failure_alert() {
    let (report, _, lab) = run_scenario("tls-ecdhe-only", Duration::ZERO, false).await;
    lab.shutdown().await;
    let tls = report
        .findings
        .iter()
        .find(|f| f.check == CheckId::SmtpTls)
        .expect("smtp-tls");
    let ev = |k: &str| {
        tls.evidence
            .iter()
            .find(|e| e.key == k)
            .map(|e| e.value.clone())
            .unwrap_or_default()
    };
    assert!(
        ev("device_handshake").contains("handshake_failure"),
        "{tls:#?}"
    );
    assert!(ev("tls_error").starts_with("no-shared-cipher"), "{tls:#?}");
    let auth = report
        .findings
        .iter()
        .find(|f| f.check == CheckId::SmtpAuth)
        .expect("smtp-auth");
    assert_eq!(auth.status, Status::Skip);
}

/// A device limited to TLS 1.1 against the lab (TLS 1.2 at least, as Microsoft): the server's
/// protocol_version alert is tls-version-too-old.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls11_device_is_refused_as_too_old() {
    let lab = start("healthy", Duration::ZERO).await;
    let mut target = target_for(&lab);
    target.device_tls = diag_core::target::DeviceTls::Tls11;
    target.only = Some(CheckId::SmtpTls);
    let report = pipeline::run(&target, &mut |_| {}).await;
    lab.shutdown().await;
    let tls = report
        .findings
        .iter()
        .find(|f| f.check == CheckId::SmtpTls)
        .expect("smtp-tls");
    assert_eq!(
        tls.rule.map(|r| r.as_str()),
        Some("tls-version-too-old"),
        "{}",
        lines(&report)
    );
    assert!(
        tls.evidence
            .iter()
            .any(|e| e.key == "device_handshake" && e.value.contains("protocol_version")),
        "{tls:#?}"
    );
}

/// Speed of the mail path (a measurement, run by hand):
/// `cargo test -p diag-core --test lab_mail -- --ignored --nocapture mail_path_speed`.
/// With 200 ms on every lab answer, a healthy `smtp` run overlapped vs one check after another
/// vs the longest dependent chain; and a direct-send run with port 25 blackholed vs the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: prints timings"]
async fn mail_path_speed() {
    let latency = Duration::from_millis(200);
    let lab = start("healthy", latency).await;
    let target = target_for(&lab);
    let _ = pipeline::run(&target, &mut |_| {}).await; // warm-up: system roots, key parsing
    let t0 = Instant::now();
    let report = pipeline::run(&target, &mut |_| {}).await;
    let overlapped = t0.elapsed();
    assert!(
        report.findings.iter().all(|f| !failed(f)),
        "{}",
        lines(&report)
    );
    let per_check: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{}={}ms", f.check, f.elapsed_ms))
        .collect();
    let t0 = Instant::now();
    let seq = pipeline::run_with(
        &target,
        PipelineOptions {
            sequential: true,
            ..Default::default()
        },
        &mut |_| {},
    )
    .await;
    let sequential = t0.elapsed();
    assert!(seq.findings.iter().all(|f| !failed(f)), "{}", lines(&seq));
    // The longest chain of things that must wait for each other, as the checks really took:
    // config -> token -> claims -> smtp-auth, and config -> reach -> smtp-tls -> smtp-auth;
    // the measured elapsed times of the checks on it, summed.
    let seq_ms = |c: CheckId| {
        seq.findings
            .iter()
            .find(|f| f.check == c)
            .map(|f| f.elapsed_ms)
            .unwrap_or(0)
    };
    let chain_a = seq_ms(CheckId::Token) + seq_ms(CheckId::Claims);
    let chain_b = seq_ms(CheckId::Reach) + seq_ms(CheckId::SmtpTls);
    let chain = Duration::from_millis(chain_a.max(chain_b) + seq_ms(CheckId::SmtpAuth));
    eprintln!(
        "healthy smtp, {} ms per answer: overlapped {overlapped:?}, one after another {sequential:?}, longest chain {chain:?} ({} = token+claims {chain_a} ms / reach+smtp-tls {chain_b} ms, then smtp-auth {} ms); overlapped/chain {:.2}",
        latency.as_millis(),
        if chain_a >= chain_b {
            "identity"
        } else {
            "mail"
        },
        seq_ms(CheckId::SmtpAuth),
        overlapped.as_secs_f64() / chain.as_secs_f64()
    );
    eprintln!("  overlapped per check: {}", per_check.join(" "));
    lab.shutdown().await;

    // Port 25 blackholed (healthy smtp otherwise, same latency): the MX probe is evidence for
    // smtp, and its deadline must be paid in parallel with the rest, not added to it.
    let mut scenario = Scenario::builtin("healthy").expect("healthy");
    scenario.network.blocked_ports.push(25);
    let lab = diag_lab::Lab::start(&scenario, diag_lab::LabOptions { latency })
        .await
        .expect("lab");
    let mut target = target_for(&lab);
    target.timeout = Duration::from_secs(3);
    let t0 = Instant::now();
    let report = pipeline::run(&target, &mut |_| {}).await;
    let blocked = t0.elapsed();
    let t0 = Instant::now();
    let seq = pipeline::run_with(
        &target,
        PipelineOptions {
            sequential: true,
            ..Default::default()
        },
        &mut |_| {},
    )
    .await;
    let blocked_seq = t0.elapsed();
    eprintln!(
        "healthy smtp with port 25 blackholed, {} ms per answer: overlapped {blocked:?}, one after another {blocked_seq:?}, deadline {:?}, healthy overlapped {overlapped:?}; first failure {:?} / {:?}",
        latency.as_millis(),
        target.timeout,
        report
            .findings
            .iter()
            .find(|f| failed(f))
            .and_then(|f| f.rule)
            .map(|r| r.as_str()),
        seq.findings
            .iter()
            .find(|f| failed(f))
            .and_then(|f| f.rule)
            .map(|r| r.as_str()),
    );
    eprintln!("{}", lines(&report));
    lab.shutdown().await;

    // Direct send with port 25 blackholed: the finding, after one deadline.
    let lab = start("port-25-blocked", Duration::ZERO).await;
    let mut target = target_for(&lab);
    target.timeout = Duration::from_secs(3);
    let t0 = Instant::now();
    let report = pipeline::run(&target, &mut |_| {}).await;
    eprintln!(
        "port-25-blocked (direct-send): {:?} with a {:?} deadline; first failure {:?}",
        t0.elapsed(),
        target.timeout,
        report
            .findings
            .iter()
            .find(|f| failed(f))
            .and_then(|f| f.rule)
            .map(|r| r.as_str()),
    );
    lab.shutdown().await;
}
