//! `--format json` for `check` and `lab`: one document, schema `xdiag.report/1`.
//!
//! The wire types below are separate from the internal `Report`/`Finding` so that an internal
//! rename cannot change the contract (`../shared/spec/cli.md`). Fields may be added; none listed
//! here is ever renamed or removed. A test decodes the output with an independent copy of this
//! schema.
//!
//! ```json
//! {
//!   "schema": "xdiag.report/1",
//!   "verdict": "fail",                       // pass | warn | fail | error
//!   "xdiag": { "version": "0.1.0", "started_at": "2026-01-01T00:00:00Z" },
//!   "target": {
//!     "tenant": "contoso.com",
//!     "mailbox": "s***@contoso.com",         // local part masked; null when none was given
//!     "method": "smtp",                      // graph | smtp | direct-send | relay
//!     "cloud": "global",                     // global | gcc-high | dod | china
//!     "notes": [{ "key": "lab scenario", "value": "healthy" }]
//!   },
//!   "summary": { "pass": 4, "warn": 0, "fail": 1, "skip": 1, "error": 0 },
//!   "root_cause": { "check": "token", "rule": "entra-invalid-client-secret" },  // or null
//!   "findings": [                            // in check order
//!     {
//!       "check": "token",                    // config | token | claims | mailbox | licence | send |
//!                                            // dns | reach | smtp-tls | smtp-auth | smtp-send | relay
//!       "status": "fail",                    // pass | warn | fail | skip | error
//!       "rule": "entra-invalid-client-secret",   // null for pass/skip without a rule
//!       "summary": "the token endpoint refused the client secret",
//!       "evidence": [{ "key": "AADSTS", "value": "7000215" }],
//!       "elapsed_ms": 41,
//!       "fix_steps": ["..."],                // from the rule; [] without a rule
//!       "title": "...",                      // the rule's title      } present only when the
//!       "severity": "fail",                  // the rule's severity   } rule is in the rule book
//!       "references": [{ "title": "...", "url": "https://..." }]  // }
//!     }
//!   ]
//! }
//! ```
//!
//! A skipped check names the check that blocked it in `summary`. Everything is redacted: no
//! secret, no token signature, no full access token; the mailbox local part is masked.
use std::io::{self, Write};

use serde::Serialize;

use super::{Style, scrub, shown_mailbox};
use crate::{
    finding::Finding,
    report::{Report, TargetSummary},
    rules::Rulebook,
};

pub const SCHEMA: &str = "xdiag.report/1";

/// The document, pretty-printed, followed by a newline.
pub fn render(
    report: &Report,
    rules: &Rulebook,
    _style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let doc = WireReport::new(report, rules);
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}

#[derive(Serialize)]
pub struct WireReport<'a> {
    pub schema: &'static str,
    pub verdict: &'static str,
    pub xdiag: WireXdiag<'a>,
    pub target: WireTarget,
    pub summary: WireSummary,
    pub root_cause: Option<WireRootCause>,
    pub findings: Vec<WireFinding<'a>>,
}

#[derive(Serialize)]
pub struct WireXdiag<'a> {
    pub version: &'a str,
    pub started_at: &'a str,
}

#[derive(Serialize)]
pub struct WireTarget {
    pub tenant: String,
    pub mailbox: Option<String>,
    pub method: String,
    pub cloud: String,
    pub notes: Vec<WireKeyValue>,
}

#[derive(Serialize)]
pub struct WireKeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct WireSummary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

#[derive(Serialize)]
pub struct WireRootCause {
    pub check: &'static str,
    pub rule: Option<&'static str>,
}

#[derive(Serialize)]
pub struct WireFinding<'a> {
    pub check: &'static str,
    pub status: &'static str,
    pub rule: Option<&'static str>,
    pub summary: String,
    pub evidence: Vec<WireKeyValue>,
    pub elapsed_ms: u64,
    pub fix_steps: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<WireReference<'a>>>,
}

#[derive(Serialize)]
pub struct WireReference<'a> {
    pub title: &'a str,
    pub url: &'a str,
}

impl<'a> WireReport<'a> {
    pub fn new(report: &'a Report, rules: &'a Rulebook) -> WireReport<'a> {
        let c = report.counts();
        WireReport {
            schema: SCHEMA,
            verdict: verdict_str(report),
            xdiag: WireXdiag {
                version: &report.xdiag_version,
                started_at: &report.started_at,
            },
            target: WireTarget::new(&report.target),
            summary: WireSummary {
                pass: c.pass,
                warn: c.warn,
                fail: c.fail,
                skip: c.skip,
                error: c.error,
            },
            root_cause: report.first_failure().map(|f| WireRootCause {
                check: f.check.as_str(),
                rule: f.rule.map(|r| r.as_str()),
            }),
            findings: report
                .findings
                .iter()
                .map(|f| WireFinding::new(f, rules))
                .collect(),
        }
    }
}

fn verdict_str(report: &Report) -> &'static str {
    use crate::report::Verdict;
    match report.verdict() {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
        Verdict::Error => "error",
    }
}

impl WireTarget {
    fn new(t: &TargetSummary) -> WireTarget {
        WireTarget {
            tenant: scrub(&t.tenant),
            mailbox: t.mailbox.as_deref().map(shown_mailbox),
            method: t.method.clone(),
            cloud: t.cloud.clone(),
            notes: t
                .notes
                .iter()
                .map(|(k, v)| WireKeyValue {
                    key: scrub(k),
                    value: scrub(v),
                })
                .collect(),
        }
    }
}

impl<'a> WireFinding<'a> {
    fn new(f: &Finding, rules: &'a Rulebook) -> WireFinding<'a> {
        let rule = f.rule.and_then(|id| rules.get(id.as_str()));
        WireFinding {
            check: f.check.as_str(),
            status: f.status.as_str(),
            rule: f.rule.map(|r| r.as_str()),
            summary: scrub(&f.summary),
            evidence: f
                .evidence
                .iter()
                .map(|e| WireKeyValue {
                    key: scrub(&e.key),
                    value: scrub(&e.value),
                })
                .collect(),
            elapsed_ms: f.elapsed_ms,
            fix_steps: rule
                .map(|r| r.fix_steps.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            title: rule.map(|r| r.title.as_str()),
            severity: rule.map(|r| r.severity.as_str()),
            references: rule.map(|r| {
                r.references
                    .iter()
                    .map(|x| WireReference {
                        title: &x.title,
                        url: &x.url,
                    })
                    .collect()
            }),
        }
    }
}
