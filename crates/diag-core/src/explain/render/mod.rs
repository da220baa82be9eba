//! One `ExplainReport`, three layouts: human text (coloured on request), JSON
//! (`xdiag.explain/1`) and a Markdown note ready to paste into a ticket. The renderers compute
//! nothing; they only lay out what the report holds.
pub mod human;
pub mod json;
pub mod markdown;

use std::io::{self, Write};

use super::ExplainReport;
use crate::rules::Rule;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

/// How human output may look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

pub fn render(
    report: &ExplainReport,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, style, out),
        Format::Json => json::render(report, out),
        Format::Markdown => markdown::render(report, out),
    }
}

/// One rule in full (`xdiag rules show`).
pub fn render_rule(
    rule: &Rule,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render_rule(rule, style, out),
        Format::Json => json::render_rule(rule, out),
        Format::Markdown => markdown::render_rule(rule, out),
    }
}

/// A signed number of seconds from now as `in 59 min` or `2 h 5 min ago`.
pub fn relative(secs: i64) -> String {
    let a = secs.unsigned_abs();
    let text = if a < 60 {
        format!("{a} s")
    } else if a < 3600 {
        format!("{} min", a / 60)
    } else if a < 86_400 {
        format!("{} h {} min", a / 3600, a % 3600 / 60)
    } else {
        format!("{} d {} h", a / 86_400, a % 86_400 / 3600)
    };
    if secs >= 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// Line numbers as `3, 5, 9` with `and N more` past a few.
pub fn line_list(lines: &[u64], total: u64, show: usize) -> String {
    let mut s: Vec<String> = lines.iter().take(show).map(u64::to_string).collect();
    let rest = total.saturating_sub(s.len() as u64);
    if rest > 0 {
        s.push(format!("and {rest} more"));
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        assert_eq!(relative(3540), "in 59 min");
        assert_eq!(relative(-7500), "2 h 5 min ago");
        assert_eq!(relative(-90_000), "1 d 1 h ago");
        assert_eq!(relative(5), "in 5 s");
    }

    #[test]
    fn line_lists() {
        assert_eq!(line_list(&[3, 5], 2, 5), "3, 5");
        assert_eq!(
            line_list(&[1, 2, 3, 4, 5, 6], 1200, 3),
            "1, 2, 3, and 1197 more"
        );
    }
}
