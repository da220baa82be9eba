//! The outcome of one `explain` run: everything the three renderers print, already redacted.
//! The renderers compute nothing; they lay this out.
pub use super::readers::artifact::{Artifact, ArtifactHit, ArtifactKind};
use crate::rules::{Reference, Rule, RuleStatus, Severity};

/// One `explain` run.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplainReport {
    pub input: InputSummary,
    /// Set when TEXT was a rule id or alias: the key the user typed.
    pub lookup: Option<String>,
    /// Ranked best first; each rule once.
    pub findings: Vec<Finding>,
    /// Access tokens found in the input (decoded, never verified, never printed).
    pub tokens: Vec<TokenReport>,
    /// Trace and correlation ids, timestamps: evidence worth quoting in a ticket.
    pub evidence: Vec<Evidence>,
    /// Whole artifacts rebuilt from the input (SMTP sessions, bounces, headers, sign-in log
    /// rows), in input order, redacted.
    pub artifacts: Vec<Artifact>,
    /// Codes seen that no rule knows (`AADSTS9999999`, `016-503`, `5.4.300`).
    pub unrecognised: Vec<String>,
    /// When the input does not decide between the first findings (a bare shared code): the
    /// rule ids that tie, the shown one first. Empty when the first finding leads on its own.
    pub tied: Vec<String>,
    /// On no match, when the input looked like an id: the nearest rule ids.
    pub closest_ids: Vec<String>,
    /// Things the reader should know about the input (binary, invalid UTF-8, long lines, bad JSON).
    pub notes: Vec<String>,
}

impl ExplainReport {
    pub fn matched(&self) -> bool {
        !self.findings.is_empty()
    }
}

/// What was read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputSummary {
    /// `argument`, `stdin`, or `file <name>`.
    pub source: String,
    pub bytes: u64,
    pub lines: u64,
    /// Lines that got the full analysis (the rest were skipped by the prefilter).
    pub candidate_lines: u64,
    pub invalid_utf8_lines: u64,
    pub long_lines: u64,
    pub binary: bool,
}

/// One rule that matched, with the rule's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub area: String,
    pub status: RuleStatus,
    /// `embedded` or `local(<file>)`.
    pub source: String,
    pub score: u32,
    pub rank: i32,
    /// Every code and phrase that matched (redacted), in order of first appearance.
    pub matched: Vec<String>,
    /// The line that scored best (1-based); `None` for a direct lookup.
    pub line: Option<u64>,
    /// The matching line numbers, at most `LINE_CAP` of them.
    pub lines: Vec<u64>,
    /// How many lines matched in all (more than `lines.len()` when capped).
    pub line_count: u64,
    /// The best line, redacted and shortened.
    pub excerpt: Option<String>,
    /// A few matching lines, redacted and shortened, for tickets.
    pub samples: Vec<Sample>,
    pub what_you_see: Option<String>,
    pub cause: Option<String>,
    pub fix_steps: Vec<String>,
    pub verify: Option<String>,
    pub notes: Option<String>,
    pub references: Vec<Reference>,
}

impl Finding {
    /// A finding that carries `rule`'s text; the caller fills in where it matched.
    pub fn from_rule(rule: &Rule) -> Finding {
        let section = |h: &str| rule.section(h).map(str::to_string);
        Finding {
            rule: rule.id.clone(),
            title: rule.title.clone(),
            severity: rule.severity,
            area: rule.area.clone(),
            status: rule.status,
            source: rule.source.to_string(),
            score: 0,
            rank: rule.rank,
            matched: Vec::new(),
            line: None,
            lines: Vec::new(),
            line_count: 0,
            excerpt: None,
            samples: Vec::new(),
            what_you_see: section("What you see"),
            cause: section("Cause"),
            fix_steps: rule.fix_steps.clone(),
            verify: section("Verify"),
            notes: section("Notes"),
            references: rule.references.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub line: u64,
    pub excerpt: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub key: String,
    pub value: String,
    pub line: u64,
}

/// What an access token found in the input says, and what it can be used for. No part of the
/// token itself is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenReport {
    pub line: u64,
    /// `jwt` or `xoauth2` (a token inside an SMTP XOAUTH2 blob).
    pub found_in: String,
    /// Why it could not be decoded; `None` when it was.
    pub error: Option<String>,
    pub alg: Option<String>,
    pub signature_present: bool,
    /// Always false: explain never verifies a signature.
    pub verified: bool,
    pub audience: Option<String>,
    /// `Microsoft Graph`, `Exchange Online`, the audience itself, or `no audience`.
    pub resource: Option<String>,
    pub app_only: Option<bool>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub tenant: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    /// The signed-in user of a delegated token, local part masked.
    pub user: Option<String>,
    /// The XOAUTH2 `user=` value, local part masked.
    pub xoauth2_user: Option<String>,
    pub issued_at: Option<i64>,
    pub not_before: Option<i64>,
    pub expires_at: Option<i64>,
    /// `expires_at - now` in seconds (negative once expired).
    pub expires_in: Option<i64>,
    /// How the token is used, as read from the text around it or given by the caller.
    pub used_for: Option<String>,
    pub smtp: Usability,
    pub graph: Usability,
}

/// Whether a token will do for one way of sending, and if not why (rule ids and summaries).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usability {
    pub usable: bool,
    pub problems: Vec<TokenProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenProblem {
    pub rule: String,
    pub summary: String,
}
