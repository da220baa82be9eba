//! `explain --format json`: the `xdiag.explain/1` document of `spec/cli.md`.
//!
//! ```json
//! { "schema": "xdiag.explain/1",
//!   "input": { "source": "stdin", "bytes": 412, "lines": 3, ... },
//!   "findings": [ { "rule", "title", "severity", "area", "matched", "line", "excerpt", "cause",
//!                   "fix_steps", "references", "lines", "line_count", "score", "rank", "source",
//!                   "status", "what_you_see", "verify", "notes", "samples" } ],
//!   "token": { ...the first token... }, "tokens": [ ... ],
//!   "evidence": [ ... ],
//!   "artifacts": [ { "kind", "lines": {"first", "last"}, "summary", "facts": [{"key", "value"}],
//!                    "transcript": [ ... ], "hits": [{"rule", "label", "line"}] } ],
//!   "unrecognised": [ ... ], "tied": [ ... ], "closest_ids": [ ... ], "notes": [ ... ] }
//! ```
//! The fields of the contract keep their names and meaning; the others are extensions. These
//! wire types are separate from the report types so that a change inside cannot change the wire
//! by accident.
use std::io::{self, Write};

use serde::Serialize;

use crate::explain::report::{Artifact, ExplainReport, Finding, TokenReport, Usability};
use crate::rules::{Reference, Rule};

pub const SCHEMA: &str = "xdiag.explain/1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    input: Input<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lookup: Option<&'a str>,
    findings: Vec<WireFinding<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<WireToken<'a>>,
    tokens: Vec<WireToken<'a>>,
    evidence: Vec<WireEvidence<'a>>,
    artifacts: Vec<WireArtifact<'a>>,
    unrecognised: &'a [String],
    tied: &'a [String],
    closest_ids: &'a [String],
    notes: &'a [String],
}

#[derive(Serialize)]
struct Input<'a> {
    source: &'a str,
    bytes: u64,
    lines: u64,
    candidate_lines: u64,
    invalid_utf8_lines: u64,
    long_lines: u64,
    binary: bool,
}

#[derive(Serialize)]
struct WireFinding<'a> {
    rule: &'a str,
    title: &'a str,
    severity: &'a str,
    area: &'a str,
    matched: &'a [String],
    line: Option<u64>,
    excerpt: Option<&'a str>,
    cause: Option<&'a str>,
    fix_steps: &'a [String],
    references: &'a [Reference],
    lines: &'a [u64],
    line_count: u64,
    score: u32,
    rank: i32,
    source: &'a str,
    status: &'a str,
    what_you_see: Option<&'a str>,
    verify: Option<&'a str>,
    notes: Option<&'a str>,
    samples: Vec<WireSample<'a>>,
}

#[derive(Serialize)]
struct WireSample<'a> {
    line: u64,
    excerpt: &'a str,
}

#[derive(Serialize)]
struct WireEvidence<'a> {
    key: &'a str,
    value: &'a str,
    line: u64,
}

/// An artifact (extension of `xdiag.explain/1`: added, nothing renamed).
#[derive(Serialize)]
struct WireArtifact<'a> {
    kind: &'static str,
    lines: WireLines,
    summary: &'a str,
    facts: Vec<WireFact<'a>>,
    transcript: &'a [String],
    hits: Vec<WireHit<'a>>,
}

#[derive(Serialize)]
struct WireLines {
    first: u64,
    last: u64,
}

#[derive(Serialize)]
struct WireFact<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct WireHit<'a> {
    rule: &'a str,
    label: &'a str,
    line: u64,
}

fn artifact(a: &Artifact) -> WireArtifact<'_> {
    WireArtifact {
        kind: a.kind.name(),
        lines: WireLines {
            first: a.first_line,
            last: a.last_line,
        },
        summary: &a.summary,
        facts: a
            .facts
            .iter()
            .map(|(k, v)| WireFact { key: k, value: v })
            .collect(),
        transcript: &a.transcript,
        hits: a
            .hits
            .iter()
            .map(|h| WireHit {
                rule: &h.rule,
                label: &h.label,
                line: h.line,
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct WireToken<'a> {
    line: u64,
    found_in: &'a str,
    decoded: bool,
    error: Option<&'a str>,
    alg: Option<&'a str>,
    signature_present: bool,
    signature_verified: bool,
    audience: Option<&'a str>,
    resource: Option<&'a str>,
    app_only: Option<bool>,
    roles: &'a [String],
    scopes: &'a [String],
    tenant: Option<&'a str>,
    app_id: Option<&'a str>,
    app_name: Option<&'a str>,
    user: Option<&'a str>,
    xoauth2_user: Option<&'a str>,
    issued_at: Option<i64>,
    not_before: Option<i64>,
    expires_at: Option<i64>,
    expires_in_s: Option<i64>,
    used_for: Option<&'a str>,
    smtp: WireUse<'a>,
    graph: WireUse<'a>,
}

#[derive(Serialize)]
struct WireUse<'a> {
    usable: bool,
    problems: Vec<WireProblem<'a>>,
}

#[derive(Serialize)]
struct WireProblem<'a> {
    rule: &'a str,
    summary: &'a str,
}

fn status_str(s: crate::rules::RuleStatus) -> &'static str {
    match s {
        crate::rules::RuleStatus::Active => "active",
        crate::rules::RuleStatus::Retired => "retired",
    }
}

fn finding(f: &Finding) -> WireFinding<'_> {
    WireFinding {
        rule: &f.rule,
        title: &f.title,
        severity: f.severity.as_str(),
        area: &f.area,
        matched: &f.matched,
        line: f.line,
        excerpt: f.excerpt.as_deref(),
        cause: f.cause.as_deref(),
        fix_steps: &f.fix_steps,
        references: &f.references,
        lines: &f.lines,
        line_count: f.line_count,
        score: f.score,
        rank: f.rank,
        source: &f.source,
        status: status_str(f.status),
        what_you_see: f.what_you_see.as_deref(),
        verify: f.verify.as_deref(),
        notes: f.notes.as_deref(),
        samples: f
            .samples
            .iter()
            .map(|s| WireSample {
                line: s.line,
                excerpt: &s.excerpt,
            })
            .collect(),
    }
}

fn usage(u: &Usability) -> WireUse<'_> {
    WireUse {
        usable: u.usable,
        problems: u
            .problems
            .iter()
            .map(|p| WireProblem {
                rule: &p.rule,
                summary: &p.summary,
            })
            .collect(),
    }
}

fn token(t: &TokenReport) -> WireToken<'_> {
    WireToken {
        line: t.line,
        found_in: &t.found_in,
        decoded: t.error.is_none(),
        error: t.error.as_deref(),
        alg: t.alg.as_deref(),
        signature_present: t.signature_present,
        signature_verified: t.verified,
        audience: t.audience.as_deref(),
        resource: t.resource.as_deref(),
        app_only: t.app_only,
        roles: &t.roles,
        scopes: &t.scopes,
        tenant: t.tenant.as_deref(),
        app_id: t.app_id.as_deref(),
        app_name: t.app_name.as_deref(),
        user: t.user.as_deref(),
        xoauth2_user: t.xoauth2_user.as_deref(),
        issued_at: t.issued_at,
        not_before: t.not_before,
        expires_at: t.expires_at,
        expires_in_s: t.expires_in,
        used_for: t.used_for.as_deref(),
        smtp: usage(&t.smtp),
        graph: usage(&t.graph),
    }
}

/// The report as one JSON document.
pub fn to_value(r: &ExplainReport) -> serde_json::Value {
    serde_json::to_value(doc(r)).expect("plain data serialises")
}

fn doc(r: &ExplainReport) -> Doc<'_> {
    Doc {
        schema: SCHEMA,
        input: Input {
            source: &r.input.source,
            bytes: r.input.bytes,
            lines: r.input.lines,
            candidate_lines: r.input.candidate_lines,
            invalid_utf8_lines: r.input.invalid_utf8_lines,
            long_lines: r.input.long_lines,
            binary: r.input.binary,
        },
        lookup: r.lookup.as_deref(),
        findings: r.findings.iter().map(finding).collect(),
        token: r.tokens.first().map(token),
        tokens: r.tokens.iter().map(token).collect(),
        evidence: r
            .evidence
            .iter()
            .map(|e| WireEvidence {
                key: &e.key,
                value: &e.value,
                line: e.line,
            })
            .collect(),
        artifacts: r.artifacts.iter().map(artifact).collect(),
        unrecognised: &r.unrecognised,
        tied: &r.tied,
        closest_ids: &r.closest_ids,
        notes: &r.notes,
    }
}

/// Written from the wire types directly, so fields keep the order above (`schema` first).
pub fn render(r: &ExplainReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &doc(r))?;
    writeln!(out)
}

#[derive(Serialize)]
struct WireRule<'a> {
    id: &'a str,
    title: &'a str,
    severity: &'a str,
    area: &'a str,
    checks: &'a [String],
    aliases: &'a [String],
    status: &'a str,
    rank: i32,
    source: String,
    codes: &'a [String],
    patterns: &'a [String],
    sections: Vec<WireSection<'a>>,
    fix_steps: &'a [String],
    references: &'a [Reference],
}

#[derive(Serialize)]
struct WireSection<'a> {
    heading: &'a str,
    text: &'a str,
}

pub fn render_rule(rule: &Rule, out: &mut dyn Write) -> io::Result<()> {
    let wire = WireRule {
        id: &rule.id,
        title: &rule.title,
        severity: rule.severity.as_str(),
        area: &rule.area,
        checks: &rule.checks,
        aliases: &rule.aliases,
        status: status_str(rule.status),
        rank: rule.rank,
        source: rule.source.to_string(),
        codes: &rule.codes,
        patterns: &rule.patterns,
        sections: rule
            .sections
            .iter()
            .map(|(h, t)| WireSection {
                heading: h,
                text: t,
            })
            .collect(),
        fix_steps: &rule.fix_steps,
        references: &rule.references,
    };
    serde_json::to_writer_pretty(&mut *out, &wire)?;
    writeln!(out)
}
