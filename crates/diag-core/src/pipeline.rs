//! Runs the checks of a `check` run and returns one `Report`.
//!
//! The plan is `CheckId::ORDER` narrowed to the checks that apply to the method and that this
//! version has (`checks::implemented`), or, with `--only`, to that check and everything it needs.
//! A check starts as soon as every check it needs has finished with pass or warn, so independent
//! checks overlap (`mailbox` and `licence` run together) and independent network work starts
//! early (OpenID discovery and the keys are fetched while the token request is in flight; the
//! Graph lookups start as soon as a Graph token exists). A check whose need failed is `Skip`,
//! naming the blocker. Every finding goes to the observer the moment it exists (the CLI streams
//! lines from it); the report lists them in check order. A panicking check becomes `Error` with
//! rule `xdiag-internal-error`; the run goes on.
use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    pin::Pin,
    sync::Arc,
    time::Instant,
};

use tokio::{sync::mpsc, task::JoinSet};

pub use crate::checks::{DeviceCodePrompt, Event};
use crate::{
    check::{CheckId, applies},
    checks::{self, Ctx},
    finding::{Evidence, Finding, Status},
    report::{Report, TargetSummary},
    rules::{Rulebook, ids},
    secret::mask_mailbox,
    target::{Credential, Target},
};

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct PipelineOptions {
    /// One check at a time and no prefetching: to measure what the overlap saves.
    pub sequential: bool,
    /// Rules in force (decides fail vs warn); the embedded ones when `None`.
    pub rulebook: Option<Arc<Rulebook>>,
}

/// Why `--only CHECK` cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{check} does not apply to method {method}")]
    NotApplicable {
        check: CheckId,
        method: &'static str,
    },
    #[error("{0} runs only with --send-test")]
    NeedsSendTest(CheckId),
    #[error("{0} is not available in this version of xdiag")]
    NotImplemented(CheckId),
}

impl PlanError {
    pub fn check(&self) -> CheckId {
        match self {
            PlanError::NotApplicable { check, .. } => *check,
            PlanError::NeedsSendTest(c) | PlanError::NotImplemented(c) => *c,
        }
    }
}

/// The checks a run will do, in report order. The CLI calls this first to reject a bad `--only`
/// (exit 2); `run` on such a target reports the requested check as skipped with the reason.
pub fn plan(target: &Target) -> Result<Vec<CheckId>, PlanError> {
    let send_test = target.send_test.is_some();
    let wanted = |c: CheckId| applies(c, target.method, send_test) && checks::implemented(c);
    let Some(only) = target.only else {
        return Ok(CheckId::ORDER
            .iter()
            .copied()
            .filter(|c| wanted(*c))
            .collect());
    };
    if !applies(only, target.method, true) {
        return Err(PlanError::NotApplicable {
            check: only,
            method: target.method.as_str(),
        });
    }
    if !applies(only, target.method, send_test) {
        return Err(PlanError::NeedsSendTest(only));
    }
    if !checks::implemented(only) {
        return Err(PlanError::NotImplemented(only));
    }
    let mut closure = vec![only];
    let mut i = 0;
    while i < closure.len() {
        for n in closure[i].needs() {
            if wanted(*n) && !closure.contains(n) {
                closure.push(*n);
            }
        }
        i += 1;
    }
    Ok(CheckId::ORDER
        .iter()
        .copied()
        .filter(|c| closure.contains(c))
        .collect())
}

/// Runs every planned check against `target` and returns the report. Needs a tokio runtime.
pub async fn run(target: &Target, observer: &mut (dyn FnMut(Event) + Send)) -> Report {
    run_with(target, PipelineOptions::default(), observer).await
}

/// `run` with options (sequential mode, a local rule book).
pub async fn run_with(
    target: &Target,
    options: PipelineOptions,
    observer: &mut (dyn FnMut(Event) + Send),
) -> Report {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let findings = match plan(target) {
        Ok(plan) => {
            let (tx, rx) = mpsc::unbounded_channel();
            let rulebook = options
                .rulebook
                .clone()
                .unwrap_or_else(|| Arc::new(Rulebook::embedded().clone()));
            let cx = Arc::new(Ctx::new(
                target.clone(),
                plan.clone(),
                !options.sequential,
                rulebook,
                tx,
            ));
            let runner = Arc::clone(&cx);
            let start = move |check: CheckId| -> CheckFuture {
                let cx = Arc::clone(&runner);
                Box::pin(async move {
                    let finding = checks::run(check, &cx).await;
                    let secrets = secrets_of(&cx);
                    let needles: Vec<&str> = secrets.iter().map(String::as_str).collect();
                    checks::scrub(finding, &needles)
                })
            };
            let findings = run_plan(&plan, start, options.sequential, Some(rx), observer).await;
            cx.abort_background();
            findings
        }
        Err(e) => {
            let f = Finding::skip(e.check(), e.to_string());
            observer(Event::Finished(f.clone()));
            vec![f]
        }
    };
    Report {
        xdiag_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        target: summarize(target),
        findings,
    }
}

/// The run's secrets, as far as they exist now: searched for in every finding before it leaves.
fn secrets_of(cx: &Ctx) -> Vec<String> {
    let mut s = Vec::new();
    match &cx.target.credential {
        Credential::Secret(v) => s.push(v.expose().clone()),
        Credential::Certificate {
            private_key_pem, ..
        } => {
            s.extend(
                private_key_pem
                    .expose()
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .map(str::to_string),
            );
        }
        Credential::DeviceCode | Credential::None => {}
    }
    if let Some(t) = cx.facts.token.get() {
        s.push(t.value.expose().clone());
    }
    s
}

/// The redacted target for the report header.
pub fn summarize(target: &Target) -> TargetSummary {
    TargetSummary {
        tenant: target.tenant.trim().to_string(),
        mailbox: target.mailbox.as_deref().map(|m| mask_mailbox(m.trim())),
        method: target.method.as_str().to_string(),
        cloud: target.cloud.as_str().to_string(),
        notes: Vec::new(),
    }
}

/// A check in flight.
pub type CheckFuture = Pin<Box<dyn Future<Output = Finding> + Send + 'static>>;

/// The scheduler, separate from the real checks so that its invariants can be tested with fake
/// ones: `start(check)` makes the future of a check. Returns the findings in `plan` order.
/// `events` carries what running checks report on the side (device-code prompts).
pub async fn run_plan(
    plan: &[CheckId],
    mut start: impl FnMut(CheckId) -> CheckFuture,
    sequential: bool,
    mut events: Option<mpsc::UnboundedReceiver<Event>>,
    observer: &mut (dyn FnMut(Event) + Send),
) -> Vec<Finding> {
    let mut done: BTreeMap<CheckId, Finding> = BTreeMap::new();
    // Checks still running whose dependents may start already (`Event::Ready`).
    let mut released: Vec<CheckId> = Vec::new();
    let mut running: HashMap<tokio::task::Id, (CheckId, Instant)> = HashMap::new();
    let mut tasks: JoinSet<Finding> = JoinSet::new();
    let needs_of = |c: CheckId| -> Vec<CheckId> {
        c.needs()
            .iter()
            .copied()
            .filter(|n| plan.contains(n))
            .collect()
    };

    loop {
        // Settle: skip what is blocked, start what is ready.
        let mut progressed = true;
        while progressed {
            progressed = false;
            for &check in plan {
                if done.contains_key(&check) || running.values().any(|(c, _)| *c == check) {
                    continue;
                }
                let needs = needs_of(check);
                let waits: Vec<CheckId> = check
                    .waits_for()
                    .iter()
                    .copied()
                    .filter(|w| plan.contains(w))
                    .collect();
                let failed = |f: &Finding| matches!(f.status, Status::Fail | Status::Error);
                let blocker = needs
                    .iter()
                    .find(|n| done.get(n).is_some_and(|f| !f.status.lets_dependents_run()))
                    .or_else(|| waits.iter().find(|w| done.get(w).is_some_and(failed)));
                if let Some(blocker) = blocker {
                    let f = skipped(check, *blocker, &done);
                    observer(Event::Finished(f.clone()));
                    done.insert(check, f);
                    progressed = true;
                    continue;
                }
                let ready = needs
                    .iter()
                    .all(|n| done.contains_key(n) || released.contains(n))
                    && waits.iter().all(|w| done.contains_key(w));
                if ready && (!sequential || running.is_empty()) {
                    observer(Event::Started(check));
                    let handle = tasks.spawn(start(check));
                    running.insert(handle.id(), (check, Instant::now()));
                    progressed = true;
                }
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            Some(event) = next_event(&mut events) => match event {
                Event::Ready(check) => released.push(check),
                other => observer(other),
            },
            Some(joined) = tasks.join_next_with_id() => {
                // Side events sent before the check ended go out before its finding.
                drain(&mut events, &mut released, observer);
                let (id, finding) = match joined {
                    Ok((id, f)) => (id, f),
                    Err(e) => {
                        let id = e.id();
                        let check = running.get(&id).map(|(c, _)| *c).unwrap_or(CheckId::Config);
                        (id, crashed(check, e))
                    }
                };
                if let Some((check, began)) = running.remove(&id) {
                    let mut finding = finding;
                    finding.check = check;
                    finding.elapsed_ms = began.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
                    observer(Event::Finished(finding.clone()));
                    done.insert(check, finding);
                }
            }
        }
    }
    drain(&mut events, &mut released, observer);
    plan.iter().filter_map(|c| done.remove(c)).collect()
}

async fn next_event(events: &mut Option<mpsc::UnboundedReceiver<Event>>) -> Option<Event> {
    match events {
        Some(rx) => match rx.recv().await {
            Some(e) => Some(e),
            None => {
                *events = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// Hands queued side events to the observer; `Ready` is the pipeline's own and is kept.
fn drain(
    events: &mut Option<mpsc::UnboundedReceiver<Event>>,
    released: &mut Vec<CheckId>,
    observer: &mut (dyn FnMut(Event) + Send),
) {
    if let Some(rx) = events {
        while let Ok(e) = rx.try_recv() {
            match e {
                Event::Ready(check) => released.push(check),
                other => observer(other),
            }
        }
    }
}

/// "needs token, which failed with entra-invalid-client-secret"; for a chain of skips, the root.
fn skipped(check: CheckId, blocker: CheckId, done: &BTreeMap<CheckId, Finding>) -> Finding {
    let mut root = blocker;
    while let Some(f) = done.get(&root).filter(|f| f.status == Status::Skip) {
        match f
            .evidence
            .iter()
            .find(|e| e.key == "blocked_by")
            .and_then(|e| CheckId::parse(&e.value))
        {
            Some(next) if next != root => root = next,
            _ => break,
        }
    }
    let why = |c: CheckId| match done.get(&c) {
        Some(f) => match (f.status, f.rule) {
            (Status::Error, Some(rule)) => format!("{c}, which could not run ({rule})"),
            (_, Some(rule)) => format!("{c}, which failed with {rule}"),
            (Status::Skip, None) => format!("{c}, which was skipped"),
            _ => format!("{c}, which did not pass"),
        },
        None => format!("{c}"),
    };
    let summary = if root == blocker {
        format!("needs {}", why(blocker))
    } else {
        format!(
            "needs {blocker}, which was skipped: {}",
            why(root).replacen(", which", "", 1)
        )
    };
    let mut f = Finding::skip(check, summary);
    f.evidence
        .push(Evidence::new("blocked_by", blocker.as_str()));
    f
}

/// A check that panicked: an xdiag bug, reported as such, never a crash of the run.
fn crashed(check: CheckId, e: tokio::task::JoinError) -> Finding {
    let detail = if e.is_panic() {
        let payload = e.into_panic();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        format!(
            "panic: {}",
            checks::scrub(Finding::skip(check, msg), &[]).summary
        )
    } else {
        "the check was cancelled".to_string()
    };
    let mut f = Finding::fail(
        check,
        ids::XDIAG_INTERNAL_ERROR,
        format!("the {check} check stopped unexpectedly (an xdiag bug)"),
    );
    f.status = Status::Error;
    f.with("detail", detail)
}
