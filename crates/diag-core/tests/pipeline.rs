//! The scheduler's invariants, with fake checks: report order, skipping with the blocker named,
//! overlap of independent checks (and none in sequential mode), a check starting as soon as its
//! needs are done, panics becoming internal errors; and the plan for each method and `--only`.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use diag_core::{
    check::CheckId,
    finding::{Finding, Status},
    pipeline::{CheckFuture, Event, PlanError, plan, run_plan},
    rules::RuleId,
    secret::Secret,
    target::{Cloud, Credential, Method, Target},
};

#[derive(Clone, Copy)]
enum Outcome {
    Pass,
    Warn,
    Fail(&'static str),
    /// The check could not decide and skipped itself (not blocked by another).
    Skip,
    Panic,
}

/// Times of every fake check: (check, start, end), relative to the run's start.
type Timeline = Arc<Mutex<Vec<(CheckId, Duration, Duration)>>>;

fn fakes(
    spec: &[(CheckId, u64, Outcome)],
    timeline: &Timeline,
    t0: Instant,
) -> impl FnMut(CheckId) -> CheckFuture {
    let spec: HashMap<CheckId, (u64, Outcome)> =
        spec.iter().map(|(c, ms, o)| (*c, (*ms, *o))).collect();
    let timeline = Arc::clone(timeline);
    move |check| {
        let (ms, outcome) = spec.get(&check).copied().unwrap_or((0, Outcome::Pass));
        let timeline = Arc::clone(&timeline);
        Box::pin(async move {
            let start = t0.elapsed();
            tokio::time::sleep(Duration::from_millis(ms)).await;
            timeline
                .lock()
                .expect("timeline")
                .push((check, start, t0.elapsed()));
            match outcome {
                Outcome::Pass => Finding::pass(check, "fine"),
                Outcome::Warn => {
                    Finding::warn(check, RuleId("graph-lookup-not-permitted"), "inconclusive")
                }
                Outcome::Fail(rule) => Finding::fail(check, RuleId(rule), "broken"),
                Outcome::Skip => Finding::skip(check, "could not read it"),
                Outcome::Panic => panic!("fake check blew up"),
            }
        })
    }
}

const IDENTITY: &[CheckId] = &[
    CheckId::Config,
    CheckId::Token,
    CheckId::Claims,
    CheckId::Mailbox,
    CheckId::Licence,
];

async fn run_fakes(
    plan: &[CheckId],
    spec: &[(CheckId, u64, Outcome)],
    sequential: bool,
) -> (Vec<Finding>, Vec<Event>, Timeline, Duration) {
    let timeline: Timeline = Arc::default();
    let t0 = Instant::now();
    let mut events = Vec::new();
    let findings = run_plan(
        plan,
        fakes(spec, &timeline, t0),
        sequential,
        None,
        &mut |e| events.push(e),
    )
    .await;
    (findings, events, timeline, t0.elapsed())
}

fn span(timeline: &Timeline, check: CheckId) -> (Duration, Duration) {
    let t = timeline.lock().expect("timeline");
    let (_, s, e) = t
        .iter()
        .find(|(c, _, _)| *c == check)
        .unwrap_or_else(|| panic!("{check} did not run"));
    (*s, *e)
}

#[tokio::test]
async fn findings_come_in_check_order_whatever_finishes_first() {
    let spec = [
        (CheckId::Token, 30, Outcome::Pass),
        (CheckId::Mailbox, 120, Outcome::Pass),
        (CheckId::Licence, 5, Outcome::Pass),
    ];
    let (findings, events, _, _) = run_fakes(IDENTITY, &spec, false).await;
    let order: Vec<CheckId> = findings.iter().map(|f| f.check).collect();
    assert_eq!(order, IDENTITY);
    let finished: Vec<CheckId> = events
        .iter()
        .filter_map(|e| {
            if let Event::Finished(f) = e {
                Some(f.check)
            } else {
                None
            }
        })
        .collect();
    let pos = |c| finished.iter().position(|x| *x == c).expect("finished");
    assert!(
        pos(CheckId::Licence) < pos(CheckId::Mailbox),
        "licence (fast) streams before mailbox (slow): {finished:?}"
    );
    // Every started check is announced before its finding.
    for c in IDENTITY {
        let started = events
            .iter()
            .position(|e| matches!(e, Event::Started(x) if x == c))
            .expect("started");
        let done = events
            .iter()
            .position(|e| matches!(e, Event::Finished(f) if f.check == *c))
            .expect("finished");
        assert!(started < done);
    }
    assert!(
        findings[3].elapsed_ms >= 100,
        "elapsed is measured: {}",
        findings[3].elapsed_ms
    );
}

#[tokio::test]
async fn independent_checks_overlap_and_sequential_mode_runs_one_at_a_time() {
    let spec = [
        (CheckId::Mailbox, 200, Outcome::Pass),
        (CheckId::Licence, 200, Outcome::Pass),
    ];
    let (_, _, timeline, total) = run_fakes(IDENTITY, &spec, false).await;
    let (ms, me) = span(&timeline, CheckId::Mailbox);
    let (ls, le) = span(&timeline, CheckId::Licence);
    assert!(ms < le && ls < me, "mailbox and licence overlap");
    assert!(
        total < Duration::from_millis(380),
        "overlapped run took {total:?}"
    );

    let (_, _, timeline, total) = run_fakes(IDENTITY, &spec, true).await;
    let mut spans: Vec<_> = timeline.lock().expect("t").clone();
    spans.sort_by_key(|(_, s, _)| *s);
    for pair in spans.windows(2) {
        assert!(
            pair[0].2 <= pair[1].1,
            "sequential: {:?} ends before {:?} starts",
            pair[0].0,
            pair[1].0
        );
    }
    assert!(
        total >= Duration::from_millis(400),
        "sequential run took {total:?}"
    );
}

#[tokio::test]
async fn a_check_starts_as_soon_as_its_needs_are_done() {
    // dns (needs config) is slow; token and claims (needs token) must not wait for it.
    let plan = [
        CheckId::Config,
        CheckId::Token,
        CheckId::Claims,
        CheckId::Dns,
    ];
    let spec = [
        (CheckId::Dns, 300, Outcome::Pass),
        (CheckId::Token, 20, Outcome::Pass),
        (CheckId::Claims, 20, Outcome::Pass),
    ];
    let (_, _, timeline, _) = run_fakes(&plan, &spec, false).await;
    let (_, claims_end) = span(&timeline, CheckId::Claims);
    let (_, dns_end) = span(&timeline, CheckId::Dns);
    assert!(
        claims_end + Duration::from_millis(150) < dns_end,
        "claims done at {claims_end:?}, dns at {dns_end:?}"
    );
}

#[tokio::test]
async fn a_failed_need_skips_its_dependents_naming_the_blocker() {
    let plan = [
        CheckId::Config,
        CheckId::Token,
        CheckId::Claims,
        CheckId::Mailbox,
        CheckId::Licence,
        CheckId::Send,
    ];
    let spec = [(
        CheckId::Token,
        0,
        Outcome::Fail("entra-invalid-client-secret"),
    )];
    let (findings, events, timeline, _) = run_fakes(&plan, &spec, false).await;
    let by = |c: CheckId| findings.iter().find(|f| f.check == c).expect("finding");
    assert_eq!(by(CheckId::Token).status, Status::Fail);
    assert_eq!(by(CheckId::Claims).status, Status::Skip);
    assert_eq!(
        by(CheckId::Claims).summary,
        "needs token, which failed with entra-invalid-client-secret"
    );
    assert_eq!(
        by(CheckId::Mailbox).summary,
        "needs claims, which was skipped: token failed with entra-invalid-client-secret"
    );
    assert_eq!(by(CheckId::Send).status, Status::Skip);
    assert!(
        by(CheckId::Send)
            .summary
            .contains("entra-invalid-client-secret"),
        "{}",
        by(CheckId::Send).summary
    );
    // Skipped checks never ran and were never announced as started.
    assert!(
        timeline
            .lock()
            .expect("t")
            .iter()
            .all(|(c, _, _)| matches!(c, CheckId::Config | CheckId::Token))
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Started(CheckId::Claims)))
    );
    assert_eq!(findings.len(), plan.len());
}

#[tokio::test]
async fn a_warning_lets_dependents_run() {
    let plan = [
        CheckId::Config,
        CheckId::Token,
        CheckId::Claims,
        CheckId::Mailbox,
        CheckId::Send,
    ];
    let spec = [(CheckId::Mailbox, 0, Outcome::Warn)];
    let (findings, _, _, _) = run_fakes(&plan, &spec, false).await;
    assert_eq!(
        findings.last().map(|f| f.status),
        Some(Status::Pass),
        "send ran after a warning"
    );
}

#[tokio::test]
async fn a_panicking_check_is_an_internal_error_and_the_run_goes_on() {
    let spec = [(CheckId::Claims, 0, Outcome::Panic)];
    let (findings, _, _, _) = run_fakes(IDENTITY, &spec, false).await;
    let claims = &findings[2];
    assert_eq!(claims.check, CheckId::Claims);
    assert_eq!(claims.status, Status::Error);
    assert_eq!(
        claims.rule.map(|r| r.as_str()),
        Some("xdiag-internal-error")
    );
    assert!(
        claims
            .evidence
            .iter()
            .any(|e| e.value.contains("fake check blew up"))
    );
    assert_eq!(findings[3].status, Status::Skip);
    assert_eq!(
        findings[3].summary,
        "needs claims, which could not run (xdiag-internal-error)"
    );
    assert_eq!(findings[1].status, Status::Pass);
}

fn target(method: Method) -> Target {
    Target {
        tenant: "contoso.com".into(),
        client_id: "00000000-0000-0000-0000-000000000001".into(),
        credential: Credential::Secret(Secret::new("x".into())),
        mailbox: Some("scanner@contoso.com".into()),
        from: None,
        method,
        scope: None,
        domain: None,
        public_ip: None,
        cloud: Cloud::Global,
        endpoints: Cloud::Global.endpoints(),
        timeout: Duration::from_secs(5),
        send_test: None,
        only: None,
        device_tls: Default::default(),
    }
}

#[test]
fn the_plan_follows_the_method() {
    use CheckId::*;
    assert_eq!(
        plan(&target(Method::Smtp)),
        Ok(vec![
            Config, Token, Claims, Mailbox, Licence, Dns, Reach, SmtpTls, SmtpAuth
        ])
    );
    assert_eq!(
        plan(&target(Method::Graph)),
        Ok(vec![Config, Token, Claims, Mailbox, Licence])
    );
    let mut t = target(Method::Graph);
    t.send_test = Some("someone@contoso.com".into());
    assert_eq!(
        plan(&t),
        Ok(vec![Config, Token, Claims, Mailbox, Licence, Send])
    );
    assert_eq!(
        plan(&target(Method::DirectSend)),
        Ok(vec![Config, Dns, Reach, Relay])
    );
}

#[test]
fn only_runs_the_check_and_what_it_needs() {
    use CheckId::*;
    let mut t = target(Method::Smtp);
    t.only = Some(Licence);
    assert_eq!(plan(&t), Ok(vec![Config, Token, Claims, Licence]));
    t.only = Some(Token);
    assert_eq!(plan(&t), Ok(vec![Config, Token]));
    t.only = Some(SmtpAuth);
    assert_eq!(
        plan(&t),
        Ok(vec![Config, Token, Claims, Reach, SmtpTls, SmtpAuth])
    );
    let mut t = target(Method::Graph);
    t.only = Some(Relay);
    assert!(matches!(
        plan(&t),
        Err(PlanError::NotApplicable { check: Relay, .. })
    ));
    t.only = Some(Send);
    assert_eq!(plan(&t), Err(PlanError::NeedsSendTest(Send)));
    t.send_test = Some("someone@contoso.com".into());
    assert_eq!(plan(&t), Ok(vec![Config, Token, Claims, Mailbox, Send]));
}

/// A check that says `Ready` lets its dependents start before it ends (reach once port 587
/// answers, while a blackholed port 25, only evidence, waits out its deadline).
#[tokio::test]
async fn a_ready_check_releases_its_dependents_before_it_ends() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let t0 = Instant::now();
    let timeline: Timeline = Arc::default();
    let tl = Arc::clone(&timeline);
    let start = move |check: CheckId| -> CheckFuture {
        let tx = tx.clone();
        let tl = Arc::clone(&tl);
        Box::pin(async move {
            let begin = t0.elapsed();
            if check == CheckId::Reach {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = tx.send(Event::Ready(CheckId::Reach));
                tokio::time::sleep(Duration::from_millis(400)).await;
            } else {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tl.lock()
                .expect("timeline")
                .push((check, begin, t0.elapsed()));
            Finding::pass(check, "ok")
        })
    };
    let plan = [CheckId::Config, CheckId::Reach, CheckId::SmtpTls];
    let mut seen = Vec::new();
    let findings = run_plan(&plan, start, false, Some(rx), &mut |e| seen.push(e)).await;
    assert_eq!(findings.len(), 3);
    let (_, reach_end) = span(&timeline, CheckId::Reach);
    let (tls_start, _) = span(&timeline, CheckId::SmtpTls);
    assert!(
        tls_start < reach_end,
        "smtp-tls started at {tls_start:?}, reach ended at {reach_end:?}"
    );
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Ready(_))),
        "Ready is the pipeline's own, not the observer's"
    );
}

/// smtp-auth waits for mailbox and licence: a failed one skips it (its finding is the cause);
/// one that skipped itself (it could not read the licences) does not hold it back.
#[tokio::test]
async fn smtp_auth_waits_for_a_failed_mailbox_but_not_for_a_licence_that_could_not_decide() {
    use CheckId::*;
    let plan = [
        Config, Token, Claims, Mailbox, Licence, Reach, SmtpTls, SmtpAuth,
    ];
    let spec = |mailbox: Outcome, licence: Outcome| {
        [
            (Config, 1, Outcome::Pass),
            (Token, 1, Outcome::Pass),
            (Claims, 1, Outcome::Pass),
            (Mailbox, 30, mailbox),
            (Licence, 1, licence),
            (Reach, 1, Outcome::Pass),
            (SmtpTls, 1, Outcome::Pass),
            (SmtpAuth, 1, Outcome::Pass),
        ]
    };
    let failed = run_fakes(
        &plan,
        &spec(Outcome::Fail("graph-mailbox-not-found"), Outcome::Pass),
        false,
    )
    .await
    .0;
    let auth = failed
        .iter()
        .find(|f| f.check == SmtpAuth)
        .expect("smtp-auth");
    assert_eq!(auth.status, Status::Skip, "{auth:?}");
    assert!(auth.summary.contains("mailbox"), "{}", auth.summary);
    let undecided = run_fakes(&plan, &spec(Outcome::Pass, Outcome::Skip), false)
        .await
        .0;
    let auth = undecided
        .iter()
        .find(|f| f.check == SmtpAuth)
        .expect("smtp-auth");
    assert_eq!(auth.status, Status::Pass, "{auth:?}");
}
