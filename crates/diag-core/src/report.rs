//! One Report per run: the redacted inputs and every finding. Renderers only format it.
use serde::Serialize;

use crate::finding::{Finding, Status};

/// What the run was pointed at, redacted (the mailbox local part is masked).
#[derive(Clone, Debug, Default, Serialize)]
pub struct TargetSummary {
    pub tenant: String,
    pub mailbox: Option<String>,
    pub method: String,
    pub cloud: String,
    /// Free-form extras (e.g. `lab scenario`), rendered as-is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<(String, String)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub xdiag_version: String,
    /// UTC, RFC 3339, when the run started.
    pub started_at: String,
    pub target: TargetSummary,
    /// In check order.
    pub findings: Vec<Finding>,
}

/// The one-word outcome of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    Error,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

impl Report {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.findings {
            match f.status {
                Status::Pass => c.pass += 1,
                Status::Warn => c.warn += 1,
                Status::Fail => c.fail += 1,
                Status::Skip => c.skip += 1,
                Status::Error => c.error += 1,
            }
        }
        c
    }

    pub fn verdict(&self) -> Verdict {
        let c = self.counts();
        if c.error > 0 {
            Verdict::Error
        } else if c.fail > 0 {
            Verdict::Fail
        } else if c.warn > 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        }
    }

    /// The first failure in check order: the root cause a technician should fix first.
    pub fn first_failure(&self) -> Option<&Finding> {
        self.findings
            .iter()
            .find(|f| matches!(f.status, Status::Fail | Status::Error))
    }

    /// 0 nothing failed (warnings allowed), 1 a check failed, 2 xdiag could not run a check.
    pub fn exit_code(&self) -> u8 {
        match self.verdict() {
            Verdict::Pass | Verdict::Warn => 0,
            Verdict::Fail => 1,
            Verdict::Error => 2,
        }
    }
}
