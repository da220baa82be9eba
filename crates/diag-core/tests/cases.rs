//! Every real-world case in `../shared/cases/`: its pasted input must rank one of the expected
//! ids first.
use std::path::PathBuf;

use diag_core::explain::{self, ExplainOptions, Matcher};
use diag_core::rules::Rulebook;

struct Case {
    name: String,
    expected: Vec<String>,
    input: String,
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases")
}

/// Reads `- explain must rank first (any of): a, b` and the first fenced block under
/// `## Input`.
fn parse(name: &str, text: &str) -> Option<Case> {
    let expected = text
        .lines()
        .find_map(|l| {
            l.trim_start_matches("- ")
                .strip_prefix("explain must rank first (any of):")
        })?
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let after = &text[text.find("## Input")?..];
    let open = after.find("```")?;
    let body_start = open + after[open..].find('\n')? + 1;
    let body_len = after[body_start..].find("\n```")?;
    Some(Case {
        name: name.to_string(),
        expected,
        input: after[body_start..body_start + body_len].to_string(),
    })
}

fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("../shared/cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("case-") && n.ends_with(".md"))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let text = std::fs::read_to_string(p).expect("read case");
            parse(&name, &text)
                .unwrap_or_else(|| panic!("{name}: no expected ids or no input block"))
        })
        .collect()
}

#[test]
fn every_case_ranks_an_expected_id_first() {
    let book = Rulebook::embedded();
    let matcher = Matcher::compile(book);
    let all = cases();
    assert!(all.len() >= 20, "only {} cases read", all.len());
    let mut wrong = Vec::new();
    for case in &all {
        let report = explain::explain_text(
            book,
            &matcher,
            &case.input,
            &ExplainOptions::new("argument"),
        );
        let first = report.findings.first().map(|f| f.rule.clone());
        if !first.as_ref().is_some_and(|f| case.expected.contains(f)) {
            let got: Vec<String> = report
                .findings
                .iter()
                .take(4)
                .map(|f| format!("{} ({})", f.rule, f.score))
                .collect();
            wrong.push(format!(
                "{}: expected one of {:?}, got {got:?}",
                case.name, case.expected
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_case_reader_reads_what_it_should() {
    let c = parse("x", "- explain must rank first (any of): a-b, c-d\n\n## Input (pasted)\n\n```text\nline 1\nline 2\n```\n")
        .expect("parse");
    assert_eq!(c.expected, vec!["a-b", "c-d"]);
    assert_eq!(c.input, "line 1\nline 2");
}
