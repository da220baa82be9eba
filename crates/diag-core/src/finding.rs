//! What a check produces: a status, the rule that explains it, a one-line summary and evidence.
use serde::Serialize;

use crate::{check::CheckId, rules::RuleId};

/// `Error` means xdiag could not run the check (a bug or an unexpected condition), as opposed to
/// `Fail`, which is a fault in the customer's setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
    /// Can a check that needs this one go ahead?
    pub fn lets_dependents_run(self) -> bool {
        matches!(self, Status::Pass | Status::Warn)
    }
}

/// One key/value of evidence, already redacted (no secret, no token, no signature).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub key: String,
    pub value: String,
}

impl Evidence {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Evidence {
        Evidence {
            key: key.into(),
            value: value.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: CheckId,
    pub status: Status,
    /// Required for warn, fail and error: the explanation lives in the rule.
    pub rule: Option<RuleId>,
    /// One line, lowercase start, no final period.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub elapsed_ms: u64,
}

impl Finding {
    pub fn pass(check: CheckId, summary: impl Into<String>) -> Finding {
        Finding {
            check,
            status: Status::Pass,
            rule: None,
            summary: summary.into(),
            evidence: Vec::new(),
            elapsed_ms: 0,
        }
    }
    pub fn fail(check: CheckId, rule: RuleId, summary: impl Into<String>) -> Finding {
        Finding {
            check,
            status: Status::Fail,
            rule: Some(rule),
            summary: summary.into(),
            evidence: Vec::new(),
            elapsed_ms: 0,
        }
    }
    pub fn warn(check: CheckId, rule: RuleId, summary: impl Into<String>) -> Finding {
        Finding {
            check,
            status: Status::Warn,
            rule: Some(rule),
            summary: summary.into(),
            evidence: Vec::new(),
            elapsed_ms: 0,
        }
    }
    pub fn skip(check: CheckId, summary: impl Into<String>) -> Finding {
        Finding {
            check,
            status: Status::Skip,
            rule: None,
            summary: summary.into(),
            evidence: Vec::new(),
            elapsed_ms: 0,
        }
    }
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Finding {
        self.evidence.push(Evidence::new(key, value));
        self
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}
