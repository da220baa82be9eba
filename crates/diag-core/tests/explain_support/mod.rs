//! What the explain test files share: a fixed "now", the embedded rule book compiled once, and
//! `explain` over pasted text. Each file uses part of it.
#![allow(dead_code)]
use diag_core::explain::{self, ExplainOptions, ExplainReport, Matcher};
use diag_core::rules::Rulebook;

/// A fixed "now" (2025-03-14 08:00:00 UTC) so token expiry is stable in snapshots.
pub const NOW: i64 = 1_741_939_200;

pub fn opts() -> ExplainOptions {
    let mut o = ExplainOptions::new("argument");
    o.now = NOW;
    o
}

pub fn book() -> &'static Rulebook {
    Rulebook::embedded()
}

/// The embedded rules compiled once per test binary.
pub fn matcher() -> &'static Matcher {
    static M: std::sync::OnceLock<Matcher> = std::sync::OnceLock::new();
    M.get_or_init(|| Matcher::compile(book()))
}

pub fn explain(text: &str) -> ExplainReport {
    explain::explain_text(book(), matcher(), text, &opts())
}

/// The rule ids found, best first.
pub fn ids(r: &ExplainReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.rule.as_str()).collect()
}
