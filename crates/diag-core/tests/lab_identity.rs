//! The identity checks against the offline lab tenant (crates/diag-lab): each built-in scenario
//! describes tenant state only; the diagnosis it must produce is stated here, from the reference
//! and the cases (shared/cases), never read from the scenario.
mod support;

use std::time::{Duration, Instant};

use diag_core::{
    check::CheckId,
    finding::Status,
    pipeline::{self, Event, PipelineOptions},
    report::Report,
};
use diag_lab::{Lab, LabOptions, Scenario, scenario::Method as LabMethod};
use support::lab::{run_scenario, target_for};

/// The identity path's checks: the ones this suite is about (the mail path is tested apart).
fn identity(check: CheckId) -> bool {
    matches!(
        check,
        CheckId::Config
            | CheckId::Token
            | CheckId::Claims
            | CheckId::Mailbox
            | CheckId::Licence
            | CheckId::Send
    )
}

/// The first failure among the identity checks.
fn first_failure(report: &Report) -> Option<&'static str> {
    report
        .findings
        .iter()
        .filter(|f| identity(f.check))
        .find(|f| matches!(f.status, Status::Fail | Status::Error))
        .and_then(|f| f.rule)
        .map(|r| r.as_str())
}

/// Scenario, whether to add `--send-test`, and the first failing identity rule (any of), or
/// `None`: no identity check fails (every one passes or, for an inconclusive lookup, is skipped).
const EXPECTED: &[(&str, bool, Option<&[&str]>)] = &[
    ("healthy", false, None),
    ("healthy-graph", true, None),
    ("healthy-certificate", false, None),
    (
        "secret-id-pasted",
        false,
        Some(&["config-secret-looks-like-id"]),
    ),
    (
        "expired-secret",
        false,
        Some(&["entra-client-secret-expired"]),
    ),
    (
        "wrong-secret",
        false,
        Some(&["entra-invalid-client-secret"]),
    ),
    ("app-not-found", false, Some(&["entra-app-not-found"])),
    ("app-disabled", false, Some(&["entra-app-disabled"])),
    ("tenant-not-found", false, Some(&["entra-tenant-not-found"])),
    (
        "certificate-mismatch",
        false,
        Some(&["entra-certificate-invalid"]),
    ),
    (
        "conditional-access-blocked",
        false,
        Some(&["entra-conditional-access-blocked"]),
    ),
    // case-13: Mail.Send added as Delegated only; the app-only Graph token has no roles at all.
    (
        "delegated-permission",
        false,
        Some(&["jwt-delegated-permission-only"]),
    ),
    // case-03
    (
        "no-smtp-sendasapp",
        false,
        Some(&[
            "jwt-role-smtp-sendasapp-missing",
            "smtp-service-principal-missing",
        ]),
    ),
    // Client credentials without admin consent still get a token, with no roles (reference §1c).
    (
        "missing-consent",
        false,
        Some(&["jwt-role-smtp-sendasapp-missing"]),
    ),
    (
        "graph-scope-for-smtp",
        false,
        Some(&["config-scope-method-mismatch"]),
    ),
    // case-04
    (
        "device-code-wrong-user",
        false,
        Some(&["jwt-identity-mismatch"]),
    ),
    // A shared mailbox's account is blocked from sign-in: AADSTS50057 (reference §1d, §8).
    ("shared-mailbox", false, Some(&["entra-user-disabled"])),
    // case-14: no mailbox plan, so no Exchange Online mailbox (reference §6, §8).
    (
        "mailbox-not-enabled",
        false,
        Some(&["graph-mailbox-not-enabled"]),
    ),
    (
        "on-premises-mailbox",
        false,
        Some(&["graph-mailbox-not-enabled"]),
    ),
    (
        "unlicensed-mailbox",
        false,
        Some(&["graph-mailbox-not-enabled"]),
    ),
    // case-16
    (
        "mailbox-not-found",
        false,
        Some(&["graph-mailbox-not-found"]),
    ),
    // case-29
    (
        "token-endpoint-down",
        false,
        Some(&["entra-endpoint-unreachable"]),
    ),
    // The policy shows on the mailbox's data, i.e. on the send (reference §6).
    (
        "application-access-policy",
        true,
        Some(&["graph-application-access-policy"]),
    ),
    // Faults on the mail path: every identity check passes (smtp-auth and friends find them).
    ("shared-mailbox-identity", false, None),
    ("no-service-principal", false, None),
    ("no-mailbox-permission", false, None),
    ("smtp-auth-disabled-tenant", false, None),
    ("smtp-auth-disabled-mailbox", false, None),
    ("smtp-auth-enabled-mailbox-tenant-off", false, None),
    ("port-587-refused", false, None),
    ("tls-ecdhe-only", false, None),
    ("device-tls-1-1", false, None),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_identity_scenario_names_its_expected_first_failure() {
    let mut wrong = Vec::new();
    for (name, send_test, want) in EXPECTED {
        let (report, _, lab) = run_scenario(name, Duration::ZERO, *send_test).await;
        let got = first_failure(&report);
        let ok = match want {
            None => {
                got.is_none()
                    && report
                        .findings
                        .iter()
                        .filter(|f| identity(f.check))
                        .all(|f| matches!(f.status, Status::Pass | Status::Skip))
            }
            Some(any) => got.is_some_and(|g| any.contains(&g)),
        };
        if !ok {
            let lines: Vec<String> = report
                .findings
                .iter()
                .map(|f| {
                    format!(
                        "    {:<8} {:<5} {:<35} {}",
                        f.check.as_str(),
                        f.status.as_str(),
                        f.rule.map(|r| r.as_str()).unwrap_or(""),
                        f.summary
                    )
                })
                .collect();
            wrong.push(format!(
                "{name}: expected {want:?}, got {got:?}\n{}",
                lines.join("\n")
            ));
        }
        lab.shutdown().await;
    }
    assert!(
        wrong.is_empty(),
        "{} scenario(s) diagnosed wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every built-in scenario that authenticates has an expectation above.
#[test]
fn every_builtin_identity_scenario_has_an_expectation() {
    let missing: Vec<String> = Scenario::builtin_list()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !EXPECTED.iter().any(|(n, _, _)| n == name))
        .filter(|name| {
            Scenario::builtin(name)
                .is_some_and(|s| matches!(s.device.method, LabMethod::Smtp | LabMethod::Graph))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "scenarios without an expected diagnosis: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_scenarios_show_the_code() {
    let (_, events, lab) = run_scenario("device-code-wrong-user", Duration::ZERO, false).await;
    assert!(events.iter().any(|e| matches!(e, Event::DeviceCode(p) if !p.user_code.is_empty() && !p.verification_uri.is_empty())));
    lab.shutdown().await;
}

/// With 200 ms on every answer, a healthy identity run takes under 1.5x its longest dependent
/// chain (discovery -> keys, or token -> user read: two answers), because independent work
/// overlaps; the same checks one after another take about three times as long.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_run_overlaps_independent_work() {
    let latency = Duration::from_millis(200);
    let scenario = Scenario::builtin("healthy").expect("healthy");
    let lab = Lab::start(&scenario, LabOptions { latency })
        .await
        .expect("lab");
    let mut target = target_for(&lab);
    // The identity checks only: the lab delays SMTP and DNS round trips too, and the mail path's
    // own chain is measured by lab_mail.rs (mail_path_speed).
    target.only = Some(CheckId::Licence);
    let _ = pipeline::run(&target, &mut |_| {}).await; // warm-up: system roots, key parsing
    let t0 = Instant::now();
    let report = pipeline::run_with(&target, PipelineOptions::default(), &mut |_| {}).await;
    let overlapped = t0.elapsed();
    assert_eq!(first_failure(&report), None, "{:#?}", report.findings);
    let t0 = Instant::now();
    let report = pipeline::run_with(
        &target,
        PipelineOptions {
            sequential: true,
            ..Default::default()
        },
        &mut |_| {},
    )
    .await;
    let sequential = t0.elapsed();
    assert_eq!(first_failure(&report), None);
    let chain = 2 * latency;
    eprintln!(
        "lab healthy: overlapped {overlapped:?}, sequential {sequential:?}, chain {chain:?}, ratio {:.2}",
        overlapped.as_secs_f64() / chain.as_secs_f64()
    );
    assert!(
        overlapped < chain * 3 / 2,
        "overlapped {overlapped:?} vs chain {chain:?}"
    );
    assert!(
        sequential > overlapped * 2,
        "sequential {sequential:?} vs overlapped {overlapped:?}"
    );
    lab.shutdown().await;
}
