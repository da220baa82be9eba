//! The rule-set gate: every rule file parses and lints, every id in the diagnosis contract has a
//! rule, ids and aliases are unique. (Examples and counter-examples are tested in `explain.rs`.)
use std::{collections::BTreeMap, path::PathBuf};

use diag_core::rules::{EMBEDDED, Rulebook, lint_rule};

fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Ids listed in the contract table rows of `../shared/spec/diagnoses.md`.
fn contract_ids() -> Vec<String> {
    let path = shared_dir().join("spec/diagnoses.md");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .filter(|id| {
            id.contains('-')
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_embedded_rule_parses_and_lints_clean() {
    let book = Rulebook::embedded();
    assert_eq!(book.len(), EMBEDDED.len());
    let problems: Vec<String> = book
        .iter()
        .flat_map(lint_rule)
        .map(|p| p.to_string())
        .collect();
    assert!(
        problems.is_empty(),
        "lint problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_contract_id_has_a_rule() {
    let ids = contract_ids();
    assert!(
        ids.len() > 100,
        "the contract lists about 106 ids, read {}",
        ids.len()
    );
    let book = Rulebook::embedded();
    let missing: Vec<&String> = ids.iter().filter(|id| book.get(id).is_none()).collect();
    assert!(
        missing.is_empty(),
        "{} ids have no rule file: {missing:?}",
        missing.len()
    );
}

#[test]
fn aliases_are_unique_across_rules() {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut clashes = Vec::new();
    for rule in Rulebook::embedded().iter() {
        for alias in &rule.aliases {
            if let Some(other) = seen.insert(alias.to_ascii_lowercase(), rule.id.clone()) {
                clashes.push(format!("{alias}: {other} and {}", rule.id));
            }
            if Rulebook::embedded()
                .get(&alias.to_ascii_lowercase())
                .is_some()
            {
                clashes.push(format!("{alias} of {} is also a rule id", rule.id));
            }
        }
    }
    assert!(clashes.is_empty(), "alias clashes:\n{}", clashes.join("\n"));
}

#[test]
fn emitting_checks_are_the_contract_ones() {
    // A rule's `checks` must include the check the contract names in its "emitted by" column.
    let text = std::fs::read_to_string(shared_dir().join("spec/diagnoses.md")).expect("contract");
    let book = Rulebook::embedded();
    let mut wrong = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 {
            continue;
        }
        let (id, emitted_by) = (cells[1], cells[3]);
        if let Some(rule) = book.get(id)
            && !emitted_by.is_empty()
            && !rule.checks.iter().any(|c| c == emitted_by)
        {
            wrong.push(format!(
                "{id}: checks {:?} lack {emitted_by:?}",
                rule.checks
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn local_overlay_replaces_adds_and_warns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = EMBEDDED
        .iter()
        .find(|(id, _)| *id == "smtp-auth-disabled-for-tenant")
        .expect("rule")
        .1;
    std::fs::write(
        dir.path().join("smtp-auth-disabled-for-tenant.md"),
        good.replace("# SMTP AUTH", "# Local SMTP AUTH"),
    )
    .expect("write");
    std::fs::write(dir.path().join("smtp-site-custom.md"), good).expect("write");
    std::fs::write(dir.path().join("smtp-broken.md"), "not a rule").expect("write");
    let (book, warnings) = Rulebook::with_overlay(dir.path()).expect("overlay");
    assert!(
        book.get("smtp-auth-disabled-for-tenant")
            .expect("replaced")
            .title
            .starts_with("Local")
    );
    assert!(book.get("smtp-site-custom").is_some());
    assert!(book.get("smtp-broken").is_none());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].file, "smtp-broken.md");
}
