//! The rule book compiled for matching: an index from code tokens to rules, each rule's
//! patterns, and the prefilter built from both. Compiled from the `Rulebook` in force at run
//! time, so local rules (`--rules-dir`) match like built-in ones.
use std::collections::HashMap;

use regex::Regex;

use super::prefilter::{Owner, Prefilter};
use super::rank::{Hit, HitKind, PATTERN};
use super::tokens::{CodeEntry, Token, TokenKind};
use crate::rules::{Rulebook, Severity};

/// The part of a rule the matcher needs.
#[derive(Clone, Debug)]
pub struct RuleRef {
    pub id: String,
    /// The order among rules that tie on score (higher first): the rule's `rank`, then its
    /// severity, so a failure outranks a warning or an informational state however many lines
    /// those match (`order_key`).
    pub rank: i32,
}

/// `rank` first, severity (fail over warn over info) within the same rank.
pub fn order_key(rank: i32, severity: Severity) -> i32 {
    let sev = match severity {
        Severity::Info => 0,
        Severity::Warn => 1,
        Severity::Fail => 2,
    };
    rank.saturating_mul(3).saturating_add(sev)
}

struct CompiledPattern {
    rule: usize,
    re: Regex,
}

pub struct Matcher {
    pub rules: Vec<RuleRef>,
    by_id: HashMap<String, usize>,
    /// Lowercase text -> (kind, rule, label as written in the rule).
    exact: HashMap<String, Vec<(TokenKind, usize, String)>>,
    /// Enhanced status entries (they can be ranges and reply-qualified): (rule, entry, label).
    enhanced: Vec<(usize, CodeEntry, String)>,
    patterns: Vec<CompiledPattern>,
    pub prefilter: Prefilter,
    /// Code entries no scanner can produce and patterns that do not compile: (rule id, problem).
    pub problems: Vec<(String, String)>,
}

/// Reader triggers: a JWT starts with `eyJ`; an XOAUTH2 blob with base64 of `user=` or `auth=`
/// (`readers::xoauth2::STARTS`, added in `compile`).
const READER_LITERALS: &[(&str, Owner)] = &[("eyJ", Owner::Jwt), ("error_codes", Owner::Codes)];

impl Matcher {
    pub fn compile(book: &Rulebook) -> Matcher {
        let mut m = Matcher {
            rules: Vec::new(),
            by_id: HashMap::new(),
            exact: HashMap::new(),
            enhanced: Vec::new(),
            patterns: Vec::new(),
            prefilter: Prefilter::build(&[], &[]),
            problems: Vec::new(),
        };
        let mut literals: Vec<(String, Owner)> = READER_LITERALS
            .iter()
            .map(|(l, o)| (l.to_string(), *o))
            .collect();
        for start in super::readers::xoauth2::STARTS {
            literals.push((start.to_string(), Owner::Xoauth2));
        }
        for (i, reader) in super::readers::ARTIFACT_READERS.iter().enumerate().take(32) {
            for t in reader.triggers {
                literals.push((t.to_string(), Owner::Trigger(i as u8)));
            }
        }
        let mut sources = Vec::new();
        for rule in book.iter() {
            let idx = m.rules.len();
            m.rules.push(RuleRef {
                id: rule.id.clone(),
                rank: order_key(rule.rank, rule.severity),
            });
            m.by_id.insert(rule.id.clone(), idx);
            for code in &rule.codes {
                match CodeEntry::parse(code) {
                    Some(entry) => {
                        literals.push((entry.literal(), Owner::Codes));
                        match entry {
                            CodeEntry::Exact(kind, text) => m
                                .exact
                                .entry(text)
                                .or_default()
                                .push((kind, idx, code.clone())),
                            e @ CodeEntry::Enhanced { .. } => {
                                m.enhanced.push((idx, e, code.clone()))
                            }
                        }
                    }
                    None => m.problems.push((
                        rule.id.clone(),
                        format!("code {code:?} is not a token any scanner produces"),
                    )),
                }
            }
            for p in &rule.patterns {
                match Regex::new(p) {
                    Ok(re) => {
                        sources.push(p.clone());
                        m.patterns.push(CompiledPattern { rule: idx, re });
                    }
                    Err(e) => m.problems.push((
                        rule.id.clone(),
                        format!(
                            "pattern {} does not compile: {}",
                            shorten_pattern(p),
                            shorten_error(p, &e)
                        ),
                    )),
                }
            }
        }
        m.prefilter = Prefilter::build(&literals, &sources);
        m
    }

    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The rules a token matches, with the score each earns and the code as the rule writes it.
    pub fn code_matches(&self, token: &Token) -> Vec<(usize, u8, String)> {
        let mut out = Vec::new();
        if token.kind == TokenKind::Enhanced {
            for (rule, entry, label) in &self.enhanced {
                if let Some(score) = entry.score(token) {
                    out.push((*rule, score, label.clone()));
                }
            }
        } else if let Some(list) = self.exact.get(token.text.as_str()) {
            out.extend(
                list.iter()
                    .filter(|(k, _, _)| *k == token.kind)
                    .map(|(_, rule, label)| (*rule, super::rank::CODE, label.clone())),
            );
        }
        out
    }

    /// Code hits for the tokens of a line.
    pub fn code_hits(&self, tokens: &[Token], hits: &mut Vec<Hit>) {
        for t in tokens {
            for (rule, score, label) in self.code_matches(t) {
                hits.push(Hit {
                    rule,
                    kind: HitKind::Code,
                    score,
                    label,
                    offset: t.start,
                    key: Some(code_key(t.kind, &t.text)),
                });
            }
        }
    }

    /// Pattern hits for the patterns named in `owners` (all patterns when `owners` is `None`).
    pub fn pattern_hits(&self, line: &str, owners: Option<&[Owner]>, hits: &mut Vec<Hit>) {
        let mut run = |i: usize| {
            let p = &self.patterns[i];
            if let Some(found) = p.re.find(line) {
                hits.push(Hit {
                    rule: p.rule,
                    kind: HitKind::Pattern,
                    score: PATTERN,
                    label: phrase(found.as_str()),
                    offset: found.start(),
                    key: None,
                });
            }
        };
        match owners {
            Some(owners) => owners
                .iter()
                .filter_map(|o| {
                    if let Owner::Pattern(i) = o {
                        Some(*i)
                    } else {
                        None
                    }
                })
                .for_each(&mut run),
            None => (0..self.patterns.len()).for_each(run),
        }
    }

    /// Code and pattern hits for one line, without the prefilter (for tests and short texts).
    pub fn analyse_all(&self, line: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.code_hits(&super::tokens::scan(line), &mut hits);
        self.pattern_hits(line, None, &mut hits);
        hits
    }

    /// Code and pattern hits for one line as the scan finds them: nothing unless the prefilter
    /// flags the line, and only the patterns whose literals it holds (for tests).
    pub fn analyse_prefiltered(&self, line: &str) -> Vec<Hit> {
        let mut owners = Vec::new();
        self.prefilter.owners_in(line.as_bytes(), &mut owners);
        let lower = line.as_bytes().to_ascii_lowercase();
        owners.retain(|o| !matches!(o, Owner::Pattern(i) if !self.prefilter.confirmed(*i, &lower)));
        for (i, re) in &self.prefilter.slow {
            if re.is_match(line.as_bytes()) {
                owners.push(Owner::Pattern(*i));
            }
        }
        let mut hits = Vec::new();
        if !owners.is_empty() {
            self.code_hits(&super::tokens::scan(line), &mut hits);
            self.pattern_hits(line, Some(&owners), &mut hits);
        }
        hits
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }
}

/// Longest pattern quoted whole in a message, in characters.
const PATTERN_SHOWN: usize = 120;

/// A pattern as quoted in a message: whole when short, else its start and its length, so a
/// 400 KB regex does not fill the terminal.
pub fn shorten_pattern(p: &str) -> String {
    let n = p.chars().count();
    if n <= PATTERN_SHOWN {
        return format!("{p:?}");
    }
    let head: String = p.chars().take(PATTERN_SHOWN).collect();
    format!("{head:?}… ({n} characters)")
}

/// The regex error for a message: the parser quotes the whole pattern with a caret under the
/// fault, which only helps when the pattern is short; for a long one, only its last line (the
/// reason) is kept.
pub fn shorten_error(p: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    if p.chars().count() <= PATTERN_SHOWN {
        return text;
    }
    let reason = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let reason: String = reason.chars().take(2 * PATTERN_SHOWN).collect();
    reason.trim().to_string()
}

/// The identity of a code token, shared by text and JSON hits on the same code.
pub fn code_key(kind: TokenKind, text: &str) -> String {
    format!("{kind:?}:{text}")
}

/// A matched phrase as shown in `matched`: redacted, one line, at most 80 characters.
fn phrase(s: &str) -> String {
    let s = crate::redact::redact(s);
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let s = s.trim();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_patterns_are_cut_short_in_messages() {
        let short = "(?i)unclosed (group";
        let e = Regex::new(short).expect_err("bad regex");
        assert_eq!(shorten_pattern(short), format!("{short:?}"));
        assert!(shorten_error(short, &e).contains("unclosed group"));

        let long = format!("(?i)({}", "word[a-z]{1,5}|".repeat(20_000));
        let e = Regex::new(&long).expect_err("bad regex");
        let msg = format!(
            "pattern {} does not compile: {}",
            shorten_pattern(&long),
            shorten_error(&long, &e)
        );
        assert!(msg.len() < 400, "{} bytes: {msg}", msg.len());
        assert!(
            msg.contains(&format!("({} characters)", long.len())),
            "{msg}"
        );
        assert!(msg.ends_with("unclosed group"), "{msg}");
    }
}
