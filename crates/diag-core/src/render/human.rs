//! The terminal verdict: a header, one aligned line per check, the counts, and for the root cause
//! its rule title, what was seen, the numbered fix steps and the `explain` command.
//!
//! ```text
//! xdiag 0.1.0  tenant contoso.com  method smtp  mailbox s***@contoso.com  cloud global
//!
//! PASS   config     inputs complete
//! FAIL   token      the token endpoint refused the client secret  [entra-invalid-client-secret]
//! SKIP   claims     needs token, which failed
//!
//! 1 failed, 0 warnings, 1 passed, 1 skipped
//! ```
//!
//! Status words come first (greppable, colour-blind safe); colour only decorates them. The CLI
//! streams [`line`] as each check finishes, then prints [`footer`]; [`render`] is header + lines +
//! footer, so the snapshot of the full render covers the streamed lines too.
use std::io::{self, Write};

use super::{Style, scrub, shown_mailbox};
use crate::{
    check::CheckId,
    finding::{Finding, Status},
    report::{Report, TargetSummary},
    rules::Rulebook,
};

/// The whole report.
pub fn render(
    report: &Report,
    rules: &Rulebook,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_header(&report.xdiag_version, &report.target, out)?;
    for finding in &report.findings {
        writeln!(out, "{}", line(finding, style))?;
    }
    footer(report, rules, style, out)
}

/// `xdiag VERSION  tenant T  method M  mailbox m***@d  cloud C  [notes]`, then a blank line.
pub fn write_header(version: &str, target: &TargetSummary, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", header(version, target))?;
    writeln!(out)
}

pub fn header(version: &str, target: &TargetSummary) -> String {
    let tenant = if target.tenant.trim().is_empty() {
        "(none)".to_string()
    } else {
        one_line(&target.tenant)
    };
    let mut h = format!(
        "xdiag {version}  tenant {tenant}  method {}",
        one_line(&target.method)
    );
    if let Some(mailbox) = &target.mailbox {
        h.push_str(&format!("  mailbox {}", shown_mailbox(mailbox)));
    }
    h.push_str(&format!("  cloud {}", one_line(&target.cloud)));
    for (key, value) in &target.notes {
        h.push_str(&format!("  {}: {}", one_line(key), one_line(value)));
    }
    h
}

/// One finding: `FAIL   smtp-auth  summary  [rule-id]`, aligned for every check id.
pub fn line(finding: &Finding, style: &Style) -> String {
    let word = status_word(finding.status);
    let padded = format!("{word:<STATUS_WIDTH$}");
    let status = if style.color {
        paint(finding.status, &padded)
    } else {
        padded
    };
    let width = check_width();
    let mut l = format!(
        "{status}  {:<width$}  {}",
        finding.check.as_str(),
        one_line(&finding.summary)
    );
    if let Some(rule) = finding.rule {
        l.push_str(&format!("  [{rule}]"));
    }
    l
}

/// The counts line, then the root cause (the first failure, else the first warning): its rule
/// title, the evidence, the fix steps from the rule, and `next: xdiag explain <rule>`.
pub fn footer(
    report: &Report,
    rules: &Rulebook,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{}", counts_line(report))?;
    let focus = report
        .first_failure()
        .or_else(|| report.findings.iter().find(|f| f.status == Status::Warn));
    let Some(finding) = focus else { return Ok(()) };
    let Some(rule_id) = finding.rule else {
        return Ok(());
    };
    writeln!(out)?;
    let word = status_word(finding.status);
    let word = if style.color {
        paint(finding.status, word)
    } else {
        word.to_string()
    };
    match rules.get(rule_id.as_str()) {
        Some(rule) => writeln!(out, "{word} {}: {}", finding.check, rule.title)?,
        None => writeln!(out, "{word} {}: {rule_id}", finding.check)?,
    }
    for ev in &finding.evidence {
        writeln!(out, "  {}: {}", one_line(&ev.key), one_line(&ev.value))?;
    }
    if let Some(rule) = rules
        .get(rule_id.as_str())
        .filter(|r| !r.fix_steps.is_empty())
    {
        writeln!(out)?;
        writeln!(out, "fix:")?;
        for (i, step) in rule.fix_steps.iter().enumerate() {
            // A step's nested bullets (from the rule's Markdown) go on lines of their own.
            let mut lines = step.lines();
            writeln!(out, "  {}. {}", i + 1, one_line(lines.next().unwrap_or("")))?;
            for sub in lines {
                writeln!(out, "     {}", one_line(sub.trim_start()))?;
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "next: xdiag explain {rule_id}")
}

/// `1 failed, 0 warnings, 4 passed, 1 skipped` (and `, 1 error` when xdiag could not run a check).
pub fn counts_line(report: &Report) -> String {
    let c = report.counts();
    let mut s = format!(
        "{} failed, {} {}, {} passed, {} skipped",
        c.fail,
        c.warn,
        if c.warn == 1 { "warning" } else { "warnings" },
        c.pass,
        c.skip
    );
    if c.error > 0 {
        s.push_str(&format!(
            ", {} {}",
            c.error,
            if c.error == 1 { "error" } else { "errors" }
        ));
    }
    s
}

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Skip => "SKIP",
        Status::Error => "ERROR",
    }
}

const STATUS_WIDTH: usize = 5;
/// The longest check id, so streamed lines align without knowing which checks will run.
fn check_width() -> usize {
    CheckId::ORDER
        .iter()
        .map(|c| c.as_str().len())
        .max()
        .unwrap_or(0)
}

fn paint(status: Status, text: &str) -> String {
    let code = match status {
        Status::Pass => "32",
        Status::Warn => "33",
        Status::Fail => "31;1",
        Status::Skip => "2",
        Status::Error => "35;1",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Keeps a finding on one line and drops anything token-shaped.
fn one_line(text: &str) -> String {
    scrub(&text.replace(['\r', '\n'], " "))
}
