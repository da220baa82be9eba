//! The fast first pass over a chunk: one Aho-Corasick automaton (ASCII case-insensitive) of
//! every literal that a line must contain to match anything, so that only candidate lines get
//! the full analysis.
//!
//! The literals come from the rules themselves: each code entry's text, and for each pattern a
//! set of literals one of which every match contains, extracted from the parsed regex. A pattern
//! with no usable literal (too short, or none) is run over the whole chunk instead; that is
//! slower but never misses.
use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Why a literal is in the automaton: which analysis the line needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// A code entry: the line gets the code tokenizer.
    Codes,
    /// The pattern with this index.
    Pattern(usize),
    /// `eyJ`: maybe a JWT.
    Jwt,
    /// Base64 of `user=`: maybe an XOAUTH2 blob.
    Xoauth2,
    /// A trigger of the artifact reader with this index (`readers::ARTIFACT_READERS`): in a
    /// large input, that reader reads the lines around this one. One automaton finds these
    /// and the rest in the same pass.
    Trigger(u8),
}

/// Literals shorter than this flag too many lines to be worth it.
const MIN_LITERAL: usize = 3;
const MAX_SET: usize = 64;
const MAX_LEN: usize = 128;
const MAX_CLASS: usize = 10;

pub struct Prefilter {
    ac: AhoCorasick,
    /// The literals of `ac`, lowercase (for benchmarks and `explain` diagnostics).
    pub literals: Vec<Vec<u8>>,
    owners: Vec<Vec<Owner>>,
    /// Patterns with no usable literal: (pattern index, the regex run over whole chunks).
    pub slow: Vec<(usize, regex::bytes::Regex)>,
    /// Per pattern: every literal set its matches need (all of them), checked on a flagged line
    /// before the regex runs, so a common literal alone does not cost a regex run.
    /// Searchers built once: a finder built per line cost more than the search itself.
    confirm: Vec<Vec<Vec<memchr::memmem::Finder<'static>>>>,
}

impl Prefilter {
    /// `literals`: (literal, owner) pairs from code entries and readers; `patterns`: each
    /// pattern's source (index = pattern index).
    pub fn build(literals: &[(String, Owner)], patterns: &[String]) -> Prefilter {
        let mut by_literal: BTreeMap<Vec<u8>, BTreeSet<Owner>> = BTreeMap::new();
        for (lit, owner) in literals {
            if !lit.is_empty() {
                by_literal
                    .entry(lit.as_bytes().to_ascii_lowercase())
                    .or_default()
                    .insert(*owner);
            }
        }
        let mut slow = Vec::new();
        let confirm = patterns
            .iter()
            .map(|p| {
                required_sets(p)
                    .into_iter()
                    .map(|set| {
                        set.into_iter()
                            .map(|lit| memchr::memmem::Finder::new(&lit).into_owned())
                            .collect()
                    })
                    .collect()
            })
            .collect();
        for (i, p) in patterns.iter().enumerate() {
            match required_literals(p) {
                Some(lits) => {
                    for lit in lits
                        .into_iter()
                        .chain(FOLD_LITERALS.iter().map(|f| f.as_bytes().to_vec()))
                    {
                        by_literal.entry(lit).or_default().insert(Owner::Pattern(i));
                    }
                }
                None => {
                    if let Ok(re) = regex::bytes::Regex::new(p) {
                        slow.push((i, re));
                    }
                }
            }
        }
        let (pats, owners): (Vec<Vec<u8>>, Vec<Vec<Owner>>) = by_literal
            .into_iter()
            .map(|(l, o)| (l, o.into_iter().collect()))
            .unzip();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&pats)
            .or_else(|_| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .build(&pats)
            })
            .expect("an automaton of plain literals always builds");
        Prefilter {
            ac,
            literals: pats,
            owners,
            slow,
            confirm,
        }
    }

    /// Whether `lower_line` (ASCII-lowercased) holds a literal of every set pattern `i` needs.
    pub fn confirmed(&self, i: usize, lower_line: &[u8]) -> bool {
        // Non-ASCII text may spell a literal with a folding character: let the regex decide.
        if !lower_line.is_ascii() {
            return true;
        }
        self.confirm.get(i).is_none_or(|sets| {
            sets.iter()
                .all(|set| set.iter().any(|finder| finder.find(lower_line).is_some()))
        })
    }

    /// The start of the first literal at or after `from`, if any.
    pub fn next_hit(&self, hay: &[u8], from: usize) -> Option<usize> {
        self.ac
            .find(Input::new(hay).range(from..))
            .map(|m| m.start())
    }

    /// Every owner whose literal occurs in `line` (sorted, deduplicated).
    pub fn owners_in(&self, line: &[u8], out: &mut Vec<Owner>) {
        out.clear();
        for m in self.ac.find_overlapping_iter(line) {
            out.extend_from_slice(&self.owners[m.pattern().as_usize()]);
        }
        out.sort_unstable();
        out.dedup();
    }

    pub fn literal_count(&self) -> usize {
        self.owners.len()
    }
}

/// A set of lowercase literals one of which every match of `pattern` contains, or `None` when
/// there is no such set worth using.
pub fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    match req(&hir) {
        Req::Set { lits, .. } if quality(&lits) >= MIN_LITERAL => Some(lits.into_iter().collect()),
        _ => None,
    }
}

/// Every usable literal set a match of `pattern` needs, one per required part of its top-level
/// concatenation (a match contains a literal of each set).
pub fn required_sets(pattern: &str) -> Vec<Vec<Vec<u8>>> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return Vec::new();
    };
    let mut sets: Vec<BTreeSet<Vec<u8>>> = Vec::new();
    match hir.kind() {
        HirKind::Concat(items) => {
            let mut run = BTreeSet::from([Vec::new()]);
            for item in items {
                match req(item) {
                    Req::Set { lits, exact: true } => match cross(&run, &lits) {
                        Some(next) => run = next,
                        None => {
                            sets.push(std::mem::replace(&mut run, lits));
                        }
                    },
                    Req::Set { lits, exact: false } => {
                        sets.push(std::mem::replace(&mut run, BTreeSet::from([Vec::new()])));
                        sets.push(lits);
                    }
                    Req::Any => {
                        sets.push(std::mem::replace(&mut run, BTreeSet::from([Vec::new()])))
                    }
                }
            }
            sets.push(run);
        }
        _ => {
            if let Req::Set { lits, .. } = req(&hir) {
                sets.push(lits);
            }
        }
    }
    sets.into_iter()
        .filter(|s| quality(s) >= MIN_LITERAL)
        .map(|s| s.into_iter().collect())
        .collect()
}

/// What every match of a sub-expression must contain: `exact` means the match *is* one of the
/// literals; otherwise it contains one of them.
#[derive(Clone, Debug)]
enum Req {
    Any,
    Set {
        lits: BTreeSet<Vec<u8>>,
        exact: bool,
    },
}

fn exact(lits: BTreeSet<Vec<u8>>) -> Req {
    Req::Set { lits, exact: true }
}

fn quality(lits: &BTreeSet<Vec<u8>>) -> usize {
    lits.iter().map(Vec::len).min().unwrap_or(0)
}

fn better(a: &BTreeSet<Vec<u8>>, b: &BTreeSet<Vec<u8>>) -> bool {
    (quality(a), std::cmp::Reverse(a.len())) > (quality(b), std::cmp::Reverse(b.len()))
}

fn req(h: &Hir) -> Req {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => exact(BTreeSet::from([Vec::new()])),
        HirKind::Literal(l) => exact(BTreeSet::from([l.0.to_ascii_lowercase()])),
        HirKind::Class(c) => class_literals(c).map_or(Req::Any, exact),
        HirKind::Capture(c) => req(&c.sub),
        HirKind::Repetition(r) => {
            if r.min == 0 {
                return Req::Any;
            }
            match req(&r.sub) {
                Req::Any => Req::Any,
                Req::Set { lits, exact: true } if r.max == Some(r.min) && r.min <= 4 => {
                    let mut acc = BTreeSet::from([Vec::new()]);
                    for _ in 0..r.min {
                        match cross(&acc, &lits) {
                            Some(next) => acc = next,
                            None => return Req::Set { lits, exact: false },
                        }
                    }
                    exact(acc)
                }
                Req::Set { lits, .. } => Req::Set { lits, exact: false },
            }
        }
        HirKind::Alternation(alts) => {
            let mut all = BTreeSet::new();
            let mut all_exact = true;
            for a in alts {
                match req(a) {
                    Req::Any => return Req::Any,
                    Req::Set { lits, exact } => {
                        all_exact &= exact;
                        all.extend(lits);
                    }
                }
            }
            if all.len() > MAX_SET {
                return Req::Any;
            }
            Req::Set {
                lits: all,
                exact: all_exact,
            }
        }
        HirKind::Concat(items) => concat(items),
    }
}

/// A concatenation: adjacent exact parts are joined (cross product) into longer literals; the
/// best run or inexact part wins.
fn concat(items: &[Hir]) -> Req {
    let mut best: Option<BTreeSet<Vec<u8>>> = None;
    let consider = |set: &BTreeSet<Vec<u8>>, best: &mut Option<BTreeSet<Vec<u8>>>| {
        if best.as_ref().is_none_or(|b| better(set, b)) {
            *best = Some(set.clone());
        }
    };
    let mut run = BTreeSet::from([Vec::new()]);
    let mut all_exact = true;
    for item in items {
        match req(item) {
            Req::Set { lits, exact: true } => match cross(&run, &lits) {
                Some(next) => run = next,
                None => {
                    all_exact = false;
                    consider(&run, &mut best);
                    run = lits;
                }
            },
            Req::Set { lits, exact: false } => {
                all_exact = false;
                consider(&run, &mut best);
                consider(&lits, &mut best);
                run = BTreeSet::from([Vec::new()]);
            }
            Req::Any => {
                all_exact = false;
                consider(&run, &mut best);
                run = BTreeSet::from([Vec::new()]);
            }
        }
    }
    if all_exact {
        return exact(run);
    }
    consider(&run, &mut best);
    match best {
        Some(lits) if quality(&lits) > 0 => Req::Set { lits, exact: false },
        _ => Req::Any,
    }
}

fn cross(a: &BTreeSet<Vec<u8>>, b: &BTreeSet<Vec<u8>>) -> Option<BTreeSet<Vec<u8>>> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out = BTreeSet::new();
    for x in a {
        for y in b {
            if x.len() + y.len() > MAX_LEN {
                return None;
            }
            let mut v = x.clone();
            v.extend_from_slice(y);
            out.insert(v);
        }
    }
    Some(out)
}

/// The only non-ASCII characters whose case fold is ASCII: the long s and the Kelvin sign. They
/// are folded here so `(?i)` phrases give one literal; `FOLD_LITERALS` flags any line holding
/// them for every pattern, so nothing is lost.
fn ascii_fold(c: char) -> char {
    match c {
        '\u{17F}' => 's',
        '\u{212A}' => 'k',
        c => c,
    }
}

const FOLD_LITERALS: [&str; 2] = ["\u{17F}", "\u{212A}"];

/// The members of a small class, ASCII-lowercased (so `[Ss]` is one literal `s`).
fn class_literals(c: &Class) -> Option<BTreeSet<Vec<u8>>> {
    let mut out = BTreeSet::new();
    match c {
        Class::Unicode(u) => {
            for r in u.ranges() {
                let n = (r.end() as u32).checked_sub(r.start() as u32)? as usize + 1;
                if n > MAX_CLASS * 2 {
                    return None;
                }
                for cp in r.start() as u32..=r.end() as u32 {
                    let ch = ascii_fold(char::from_u32(cp)?.to_ascii_lowercase());
                    let mut buf = [0u8; 4];
                    out.insert(ch.encode_utf8(&mut buf).as_bytes().to_vec());
                }
            }
        }
        Class::Bytes(b) => {
            for r in b.ranges() {
                if (r.end() - r.start()) as usize + 1 > MAX_CLASS * 2 {
                    return None;
                }
                for byte in r.start()..=r.end() {
                    out.insert(vec![byte.to_ascii_lowercase()]);
                }
            }
        }
    }
    (!out.is_empty() && out.len() <= MAX_CLASS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(p: &str) -> Vec<String> {
        required_literals(p)
            .unwrap_or_default()
            .into_iter()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .collect()
    }

    #[test]
    fn case_insensitive_phrases_become_one_lowercase_literal() {
        let l = lits("(?i)SmtpClientAuthentication is disabled for the Tenant");
        assert_eq!(
            l,
            vec!["smtpclientauthentication is disabled for the tenant"]
        );
    }

    #[test]
    fn the_longest_required_part_is_chosen() {
        assert_eq!(
            lits(r"(?i)\b5\.7\.3\b.*Authentication unsuccessful"),
            vec!["authentication unsuccessful"]
        );
        assert_eq!(lits(r"\b4\.7\.[56][0-9]{2}\b"), vec!["4.7.5", "4.7.6"]);
        let aud = lits(
            r#"(?i)"aud"\s*:\s*"(https://graph\.microsoft\.(com|us)/?|00000003-0000-0000-c000-000000000000)""#,
        );
        assert!(
            aud.contains(&"https://graph.microsoft.com".to_string()),
            "{aud:?}"
        );
    }

    #[test]
    fn every_required_part_is_kept_for_confirmation() {
        let sets = required_sets(
            r"(?i)\b504[ -]5\.7\.4\b.*(mail\.protection\.outlook\.com|eop-[a-z0-9]+\.prod\.protection\.outlook\.com)",
        );
        assert_eq!(sets.len(), 2, "{sets:?}");
        assert!(sets[0].contains(&b"504 5.7.4".to_vec()));
    }

    #[test]
    fn patterns_without_a_usable_literal_are_left_to_the_slow_path() {
        assert!(required_literals(r"\d+\.\d+").is_none());
        assert!(required_literals(r"(?i)a.b").is_none());
        assert!(required_literals(r"x?").is_none());
        assert!(required_literals(r"(").is_none());
    }

    #[test]
    fn every_match_contains_a_literal() {
        // A small oracle over hand-picked patterns and texts that match them.
        let cases = [
            (
                r"(?i)wrong[ _]version[ _]number",
                "SSL: WRONG_VERSION_NUMBER",
            ),
            (
                r"(?i)One or more of the addresses (are|is) invalid",
                "one or more of the addresses is invalid",
            ),
            (
                r"(?i)\bTenant '?[^'\s]+'? not found",
                "Tenant 'x.com' not found",
            ),
            (
                r"(?i)locked by your organi[sz]ation.s security defaults policy",
                "locked by your organization's security defaults policy",
            ),
        ];
        for (p, text) in cases {
            assert!(regex::Regex::new(p).expect("regex").is_match(text));
            let l = required_literals(p).expect("literals");
            let lower = text.to_ascii_lowercase();
            assert!(
                l.iter()
                    .any(|x| lower.contains(std::str::from_utf8(x).expect("utf8"))),
                "{p}: {l:?}"
            );
        }
    }
}
