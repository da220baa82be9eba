//! The rule linter: the same checks run by the test suite and by `xdiag rules lint DIR`.
use std::{fmt, path::Path};

use regex::Regex;

use super::{Rule, RuleSource, parse_rule};
use crate::explain::matcher::{shorten_error, shorten_pattern};

/// One thing wrong with a rule file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintProblem {
    pub id: String,
    pub message: String,
}

impl fmt::Display for LintProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.id, self.message)
    }
}

const AREAS: &[&str] = &[
    "config", "entra", "jwt", "graph", "smtp", "tls", "relay", "dns", "net", "device", "xdiag",
];
const CHECKS: &[&str] = &[
    "config",
    "token",
    "claims",
    "mailbox",
    "licence",
    "dns",
    "reach",
    "smtp-tls",
    "smtp-auth",
    "smtp-send",
    "relay",
    "send",
    "any",
];
const REQUIRED_SECTIONS: &[&str] = &["What you see", "Cause", "Fix"];
const OPTIONAL_SECTIONS: &[&str] = &["Verify", "Notes"];

/// Everything wrong with one parsed rule (empty when it is fine).
pub fn lint_rule(rule: &Rule) -> Vec<LintProblem> {
    let mut problems = Vec::new();
    let mut say = |m: String| {
        problems.push(LintProblem {
            id: rule.id.clone(),
            message: m,
        })
    };

    let id_shape = Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").expect("static regex");
    if !id_shape.is_match(&rule.id) {
        say(format!("id {:?} is not kebab-case", rule.id));
    }
    if !AREAS.contains(&rule.area.as_str()) {
        say(format!(
            "unknown area {:?} (one of {})",
            rule.area,
            AREAS.join(", ")
        ));
    } else if !rule.id.starts_with(&format!("{}-", rule.area)) {
        say(format!(
            "id must start with its area prefix `{}-`",
            rule.area
        ));
    }
    for check in &rule.checks {
        if !CHECKS.contains(&check.as_str()) {
            say(format!("unknown check {check:?}"));
        }
    }
    if rule.title.ends_with('.') || rule.title.chars().next().is_some_and(|c| c.is_lowercase()) {
        say("title must be sentence case without a final period".to_string());
    }
    let headings: Vec<&str> = rule.sections.iter().map(|(h, _)| h.as_str()).collect();
    let required_in_order: Vec<&str> = headings
        .iter()
        .copied()
        .filter(|h| REQUIRED_SECTIONS.contains(h))
        .collect();
    if required_in_order != REQUIRED_SECTIONS {
        say(format!(
            "sections must include {} in that order",
            REQUIRED_SECTIONS.join(", ")
        ));
    }
    for h in &headings {
        if !REQUIRED_SECTIONS.contains(h) && !OPTIONAL_SECTIONS.contains(h) {
            say(format!("unknown section `## {h}`"));
        }
    }
    for (h, body) in &rule.sections {
        if body.trim().is_empty() {
            say(format!("section `## {h}` is empty"));
        }
    }
    if rule.fix_steps.is_empty() {
        say("`## Fix` needs a numbered list of steps".to_string());
    }
    if rule.references.is_empty() {
        say("needs at least one [[reference]]".to_string());
    }
    for r in &rule.references {
        if !r.url.starts_with("https://") {
            say(format!("reference url {:?} is not https", r.url));
        }
        if r.title.trim().is_empty() {
            say("a reference has an empty title".to_string());
        }
    }
    for p in &rule.patterns {
        if let Err(e) = Regex::new(p) {
            say(format!(
                "pattern {} does not compile: {}",
                shorten_pattern(p),
                shorten_error(p, &e)
            ));
        }
    }
    if rule.status == super::RuleStatus::Active
        && rule.codes.is_empty()
        && rule.patterns.is_empty()
        && rule.checks.is_empty()
    {
        say("an active rule needs match codes, patterns or an emitting check".to_string());
    }
    if (!rule.codes.is_empty() || !rule.patterns.is_empty()) && rule.examples.is_empty() {
        say("a rule with match codes or patterns needs at least one [[example]]".to_string());
    }
    problems
}

/// Parses and lints every `*.md` (but README.md) in a folder; read errors are problems too.
pub fn lint_dir(dir: &Path) -> std::io::Result<(usize, Vec<LintProblem>)> {
    let mut problems = Vec::new();
    let mut count = 0;
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter(|p| p.file_stem().is_some_and(|s| s != "README"))
        .collect();
    paths.sort();
    for path in paths {
        count += 1;
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        match std::fs::read_to_string(&path) {
            Err(e) => problems.push(LintProblem {
                id,
                message: format!("cannot read: {e}"),
            }),
            Ok(text) => match parse_rule(&id, &text, RuleSource::Local(file)) {
                Err(e) => problems.push(LintProblem {
                    id,
                    message: e.to_string(),
                }),
                Ok(rule) => problems.extend(lint_rule(&rule)),
            },
        }
    }
    Ok((count, problems))
}
