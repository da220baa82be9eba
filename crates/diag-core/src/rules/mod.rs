//! The rule book: one Markdown file per diagnosis in `rules/`, embedded at build time, optionally
//! overlaid at run time by a local folder (`--rules-dir`). Explanation text lives only there.
mod lint;
mod parse;

use std::{collections::BTreeMap, path::Path, sync::LazyLock};

use serde::{Deserialize, Serialize};

pub use lint::{LintProblem, lint_dir, lint_rule};
pub use parse::{ParseError, parse_rule};

include!(concat!(env!("OUT_DIR"), "/rules_embedded.rs"));

/// A rule id known at compile time (see the generated `ids` module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub &'static str);

impl RuleId {
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Fail,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    #[default]
    Active,
    Retired,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub title: String,
    pub url: String,
}

/// Where a rule's text came from: built in, or a local file that replaced or added it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleSource {
    Embedded,
    Local(String),
}

impl std::fmt::Display for RuleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleSource::Embedded => f.write_str("embedded"),
            RuleSource::Local(name) => write!(f, "local({name})"),
        }
    }
}

/// One diagnosis: how to recognise it in pasted text, and what to tell the technician.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub area: String,
    /// Live checks that can emit it; empty for explain-only rules.
    pub checks: Vec<String>,
    /// Upstream codes accepted by `xdiag explain CODE` as a direct lookup.
    pub aliases: Vec<String>,
    pub status: RuleStatus,
    /// Tie-break among rules that matched equally well (higher wins); generic fallbacks are negative.
    pub rank: i32,
    /// Code tokens recognised by the scanners (`AADSTS7000215`, `5.7.139`, `535 5.7.3`, `ErrorAccessDenied`).
    pub codes: Vec<String>,
    /// Regular expressions tried on a candidate line.
    pub patterns: Vec<String>,
    pub examples: Vec<String>,
    pub counter_examples: Vec<String>,
    pub references: Vec<Reference>,
    /// `## ` sections in file order: (heading, Markdown body).
    pub sections: Vec<(String, String)>,
    /// The ordered list under `## Fix`.
    pub fix_steps: Vec<String>,
    pub source: RuleSource,
}

impl Rule {
    pub fn section(&self, heading: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|(h, _)| h == heading)
            .map(|(_, t)| t.as_str())
    }
}

/// A problem with a local rule file: reported as a warning, never fatal.
#[derive(Clone, Debug)]
pub struct RuleWarning {
    pub file: String,
    pub message: String,
}

/// All rules in force, by id.
#[derive(Clone, Debug)]
pub struct Rulebook {
    rules: BTreeMap<String, Rule>,
    alias_index: BTreeMap<String, String>,
}

static EMBEDDED_BOOK: LazyLock<Rulebook> = LazyLock::new(|| {
    // The rule-set test parses every embedded file, so a failure here cannot ship.
    let rules = EMBEDDED.iter().map(|(id, text)| {
        parse_rule(id, text, RuleSource::Embedded)
            .unwrap_or_else(|e| panic!("embedded rule {id}: {e}"))
    });
    Rulebook::from_rules(rules)
});

impl Rulebook {
    /// The built-in rules.
    pub fn embedded() -> &'static Rulebook {
        &EMBEDDED_BOOK
    }

    pub fn from_rules(rules: impl IntoIterator<Item = Rule>) -> Rulebook {
        let mut book = Rulebook {
            rules: BTreeMap::new(),
            alias_index: BTreeMap::new(),
        };
        for rule in rules {
            book.rules.insert(rule.id.clone(), rule);
        }
        book.reindex();
        book
    }

    fn reindex(&mut self) {
        self.alias_index.clear();
        for rule in self.rules.values() {
            for alias in &rule.aliases {
                self.alias_index
                    .entry(normalise_key(alias))
                    .or_insert_with(|| rule.id.clone());
            }
        }
    }

    /// The built-in rules with a local folder laid over them: a file replaces the rule of the same
    /// id whole, a new id is added. A file that fails to parse or lint is skipped with a warning.
    pub fn with_overlay(dir: &Path) -> Result<(Rulebook, Vec<RuleWarning>), std::io::Error> {
        let mut book = Rulebook::embedded().clone();
        let mut warnings = Vec::new();
        let mut paths: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .filter(|p| p.file_stem().is_some_and(|s| s != "README"))
            .collect();
        paths.sort();
        for path in paths {
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            match load_local(&path, &file) {
                Ok(rule) => {
                    book.rules.insert(rule.id.clone(), rule);
                }
                Err(message) => warnings.push(RuleWarning { file, message }),
            }
        }
        book.reindex();
        Ok((book, warnings))
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.get(id)
    }

    /// Case-insensitive lookup by id, then by alias (`AADSTS7000215`, `5.7.139`, `016-781`).
    pub fn lookup(&self, key: &str) -> Option<&Rule> {
        let key = normalise_key(key);
        self.rules
            .get(&key)
            .or_else(|| self.alias_index.get(&key).and_then(|id| self.rules.get(id)))
            .or_else(|| {
                key.parse::<u64>()
                    .ok()
                    .and_then(|_| self.lookup_aadsts_number(&key))
            })
    }

    /// `7000215` alone is taken as `AADSTS7000215` when such an alias exists.
    fn lookup_aadsts_number(&self, digits: &str) -> Option<&Rule> {
        self.alias_index
            .get(&format!("aadsts{digits}"))
            .and_then(|id| self.rules.get(id))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.rules.values()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Ids nearest to `key` by edit distance, for "did you mean" after a miss.
    pub fn closest_ids(&self, key: &str, n: usize) -> Vec<&str> {
        let key = normalise_key(key);
        let mut scored: Vec<(usize, &str)> = self
            .rules
            .keys()
            .map(|id| (edit_distance(&key, id), id.as_str()))
            .collect();
        scored.sort();
        let limit = (key.len() / 3).max(3);
        scored
            .into_iter()
            .filter(|(d, _)| *d <= limit)
            .take(n)
            .map(|(_, id)| id)
            .collect()
    }
}

fn load_local(path: &Path, file: &str) -> Result<Rule, String> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("file name is not UTF-8")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let rule =
        parse_rule(stem, &text, RuleSource::Local(file.to_string())).map_err(|e| e.to_string())?;
    let problems = lint_rule(&rule);
    if let Some(first) = problems.first() {
        return Err(first.to_string());
    }
    Ok(rule)
}

fn normalise_key(key: &str) -> String {
    key.trim().to_ascii_lowercase()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
