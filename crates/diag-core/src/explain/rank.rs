//! Scores and ranking (`rules/README.md`): a rule's score on a line is its best hit there: 4 for a
//! pattern, 2 for a code (3 when the code entry names the reply code too, as in `535 5.7.3`), and
//! 5 for a hit from a structured reader (a JWT judged, an `error_codes` array, a Graph
//! `error.code`), so what a reader understood stands above any text match. A rule's score is its
//! best line; ties go to `rank`, then to severity (a failure before a warning before an
//! informational state such as a device-code poll that is still pending), then to the number of
//! matching lines, then to the id. So
//! `535 5.7.139 ... disabled for the Tenant` (pattern, rank 0) beats `535 5.7.3 Authentication
//! unsuccessful` (pattern, rank -1), and a bare code never beats a pattern.
//!
//! A code several rules share is settled by their patterns: when a rule matches a code and a
//! pattern on a line, rules that matched only that same code there do not take the line
//! (`5.7.139 ... disabled for the Mailbox` is not also the tenant rule's line).
use std::collections::HashMap;

use super::{excerpt, report::Sample};

pub const PATTERN: u8 = 4;
pub const CODE: u8 = 2;
pub const REPLY_BONUS: u8 = 1;
pub const STRUCTURED: u8 = 5;

/// Line numbers kept per rule; the rest are only counted.
pub const LINE_CAP: usize = 1000;
const SAMPLE_CAP: usize = 5;
const MATCHED_CAP: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HitKind {
    Pattern,
    Code,
    Reader,
}

/// One reason a line matches a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Index of the rule in the compiled matcher.
    pub rule: usize,
    pub kind: HitKind,
    pub score: u8,
    /// What matched, as shown in `matched` (a code as the rule writes it, a phrase, a reader's note).
    pub label: String,
    /// Byte offset in the line, to centre the excerpt.
    pub offset: usize,
    /// The code token behind a code or JSON hit (`Enhanced:5.7.139`), so rules sharing a code
    /// can be told apart by their patterns; `None` for patterns and judged tokens.
    pub key: Option<String>,
}

/// A line's score for one rule: its best hit.
pub fn line_score(hits: &[&Hit]) -> u32 {
    hits.iter().map(|h| u32::from(h.score)).max().unwrap_or(0)
}

/// Whether every hit of `rule` is a shared code that another rule also matched on this line
/// together with a pattern: that rule explains the line, `rule` does not.
fn subsumed(rule: usize, hits: &[Hit]) -> bool {
    let mine: Vec<&Hit> = hits.iter().filter(|h| h.rule == rule).collect();
    mine.iter().all(|h| {
        let Some(key) = &h.key else { return false };
        hits.iter().any(|o| {
            o.rule != rule
                && o.key.as_ref() == Some(key)
                && hits
                    .iter()
                    .any(|p| p.rule == o.rule && p.kind == HitKind::Pattern)
        })
    })
}

/// Adds `label` to a rule's `matched` list unless an entry already says it (`5.7.3` beside
/// `535 5.7.3`); entries the new label says in full give way to it.
fn add_matched(matched: &mut Vec<String>, label: &str) {
    if matched.iter().any(|m| says(m, label)) {
        return;
    }
    let at = matched.iter().position(|m| says(label, m));
    matched.retain(|m| !says(label, m));
    if matched.len() < MATCHED_CAP {
        matched.insert(at.unwrap_or(matched.len()), label.to_string());
    }
}

/// Whether `long` holds `short` whole (ASCII case aside): not as part of a longer word or number.
fn says(long: &str, short: &str) -> bool {
    let (l, s) = (long.to_ascii_lowercase(), short.to_ascii_lowercase());
    if s.is_empty() {
        return true;
    }
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    l.match_indices(&s).any(|(at, _)| {
        let before = l[..at].chars().next_back();
        let mut after = l[at + s.len()..].chars();
        let next = after.next();
        let dotted_number = next == Some('.') && after.next().is_some_and(|c| c.is_ascii_digit());
        !glued(before) && before != Some('.') && !glued(next) && !dotted_number
    })
}

/// Everything known about one rule's matches so far.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub score: u32,
    pub best_line: u64,
    pub excerpt: String,
    pub lines: Vec<u64>,
    pub line_count: u64,
    pub matched: Vec<String>,
    pub samples: Vec<Sample>,
    last_line: Option<u64>,
}

/// Collects hits line by line and ranks the rules at the end.
#[derive(Default)]
pub struct Ranker {
    tallies: HashMap<usize, Tally>,
}

impl Ranker {
    /// Adds the hits of one line (`text` is the whole line, used only for excerpts).
    pub fn add_line(&mut self, line_no: u64, text: &str, hits: &[Hit]) {
        let mut rules: Vec<usize> = hits.iter().map(|h| h.rule).collect();
        rules.sort_unstable();
        rules.dedup();
        rules.retain(|&r| !subsumed(r, hits));
        for rule in rules {
            let mine: Vec<&Hit> = hits.iter().filter(|h| h.rule == rule).collect();
            let score = line_score(&mine);
            let t = self.tallies.entry(rule).or_default();
            // Windows of one long line arrive one after another; a multi-line JSON body's lines
            // may arrive after later lines (small inputs, so below the cap).
            let new_line = t.last_line != Some(line_no) && t.lines.binary_search(&line_no).is_err();
            if new_line {
                t.line_count += 1;
                if t.lines.len() < LINE_CAP {
                    let pos = t.lines.partition_point(|&l| l < line_no);
                    t.lines.insert(pos, line_no);
                }
            }
            t.last_line = Some(line_no);
            let offset = mine.iter().max_by_key(|h| h.score).map_or(0, |h| h.offset);
            if score > t.score {
                t.score = score;
                t.best_line = line_no;
                t.excerpt = excerpt(text, offset);
            }
            if new_line && t.samples.len() < SAMPLE_CAP {
                t.samples.push(Sample {
                    line: line_no,
                    excerpt: excerpt(text, offset),
                });
            }
            for h in mine {
                add_matched(&mut t.matched, &h.label);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }

    /// Takes in what another ranker saw (another part of the same input, scanned in parallel).
    /// The result does not depend on which part was scanned where.
    pub fn merge(&mut self, other: Ranker) {
        for (rule, o) in other.tallies {
            let Some(t) = self.tallies.get_mut(&rule) else {
                self.tallies.insert(rule, o);
                continue;
            };
            if o.score > t.score || (o.score == t.score && o.best_line < t.best_line) {
                t.score = o.score;
                t.best_line = o.best_line;
                t.excerpt = o.excerpt;
            }
            let capped = t.line_count > t.lines.len() as u64 || o.line_count > o.lines.len() as u64;
            let sum = t.line_count + o.line_count;
            t.lines.extend(o.lines);
            t.lines.sort_unstable();
            t.lines.dedup();
            // Windows of one long line can land in both parts: count such a line once.
            t.line_count = if capped { sum } else { t.lines.len() as u64 };
            t.lines.truncate(LINE_CAP);
            for m in o.matched {
                add_matched(&mut t.matched, &m);
            }
            t.samples.extend(o.samples);
            t.samples.sort_by_key(|s| s.line);
            t.samples.dedup_by_key(|s| s.line);
            t.samples.truncate(SAMPLE_CAP);
        }
    }

    /// The rules ranked best first: score, then the order key (`rank`, then severity: see
    /// `matcher::order_key`), then matching lines, then id.
    pub fn finish(self, rank_of: impl Fn(usize) -> (i32, String)) -> Vec<(usize, Tally)> {
        let mut out: Vec<(usize, Tally, i32, String)> = self
            .tallies
            .into_iter()
            .map(|(rule, t)| {
                let (rank, id) = rank_of(rule);
                (rule, t, rank, id)
            })
            .collect();
        out.sort_by(|a, b| {
            b.1.score
                .cmp(&a.1.score)
                .then(b.2.cmp(&a.2))
                .then(b.1.line_count.cmp(&a.1.line_count))
                .then(a.3.cmp(&b.3))
        });
        out.into_iter().map(|(rule, t, _, _)| (rule, t)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(rule: usize, kind: HitKind, score: u8) -> Hit {
        Hit {
            rule,
            kind,
            score,
            label: format!("{kind:?}{score}"),
            offset: 0,
            key: None,
        }
    }

    #[test]
    fn the_best_hit_of_a_line_counts() {
        let (a, b, c) = (
            hit(0, HitKind::Pattern, 4),
            hit(0, HitKind::Code, 2),
            hit(0, HitKind::Code, 3),
        );
        assert_eq!(line_score(&[&a, &b, &c]), 4);
        assert_eq!(line_score(&[&b, &c]), 3);
    }

    #[test]
    fn ranking_is_score_then_rank_then_lines_then_id() {
        let mut r = Ranker::default();
        r.add_line(
            1,
            "x",
            &[
                hit(0, HitKind::Code, 2),
                hit(1, HitKind::Code, 2),
                hit(2, HitKind::Code, 2),
                hit(3, HitKind::Pattern, 4),
            ],
        );
        r.add_line(2, "y", &[hit(2, HitKind::Code, 2)]);
        let ranks = |i: usize| match i {
            0 => (0, "b".to_string()),
            1 => (0, "a".to_string()),
            2 => (0, "c".to_string()),
            _ => (-1, "d".to_string()),
        };
        let order: Vec<usize> = r.finish(ranks).into_iter().map(|(i, _)| i).collect();
        assert_eq!(order, vec![3, 2, 1, 0]);
    }

    #[test]
    fn a_pattern_settles_a_shared_code() {
        let code = |rule| Hit {
            key: Some("Enhanced:5.7.139".into()),
            ..hit(rule, HitKind::Code, 2)
        };
        let mut r = Ranker::default();
        r.add_line(
            1,
            "x",
            &[code(0), code(1), hit(1, HitKind::Pattern, 4), code(2)],
        );
        let rules: Vec<usize> = r
            .finish(|i| (0, i.to_string()))
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        assert_eq!(rules, vec![1]);
        // Without a pattern to settle it, every rule with the code stays.
        let mut r = Ranker::default();
        r.add_line(1, "x", &[code(0), code(2)]);
        assert_eq!(r.finish(|i| (0, i.to_string())).len(), 2);
    }

    #[test]
    fn matched_entries_that_another_says_in_full_are_dropped() {
        let mut m = Vec::new();
        for label in [
            "535 5.7.3",
            "5.7.3",
            "5.7.3 Authentication unsuccessful",
            "535 5.7.3",
        ] {
            add_matched(&mut m, label);
        }
        assert_eq!(m, vec!["535 5.7.3", "5.7.3 Authentication unsuccessful"]);
        let mut m = vec!["5.7.3".to_string(), "AADSTS50126".to_string()];
        add_matched(&mut m, "535 5.7.3");
        assert_eq!(m, vec!["535 5.7.3", "AADSTS50126"]);
        // Part of a longer code is a different code.
        for (long, short) in [
            ("5.7.30", "5.7.3"),
            ("5.7.3.1", "5.7.3"),
            ("15.7.3", "5.7.3"),
        ] {
            let mut m = vec![long.to_string()];
            add_matched(&mut m, short);
            assert_eq!(m.len(), 2, "{long} / {short}");
        }
        let mut m = vec!["AADSTS700016".to_string()];
        add_matched(&mut m, "aadsts700016");
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn severity_orders_rules_that_tie_on_score_and_rank_before_line_count() {
        use crate::explain::matcher::order_key;
        use crate::rules::Severity;
        let mut r = Ranker::default();
        for n in 1..=5 {
            r.add_line(n, "pending", &[hit(0, HitKind::Code, 2)]);
        }
        r.add_line(6, "expired", &[hit(1, HitKind::Code, 2)]);
        let key = |i: usize| match i {
            0 => (order_key(0, Severity::Info), "a-pending".to_string()),
            _ => (order_key(0, Severity::Fail), "b-expired".to_string()),
        };
        let order: Vec<usize> = r.finish(key).into_iter().map(|(i, _)| i).collect();
        assert_eq!(order, vec![1, 0]);
        // Rank still comes first: a generic failure (rank -1) stays below an info state.
        assert!(order_key(-1, Severity::Fail) < order_key(0, Severity::Info));
        assert!(order_key(0, Severity::Warn) < order_key(0, Severity::Fail));
    }

    #[test]
    fn lines_are_counted_once_and_capped() {
        let mut r = Ranker::default();
        for n in 0..(LINE_CAP as u64 + 10) {
            r.add_line(n + 1, "x", &[hit(0, HitKind::Code, 2)]);
            r.add_line(n + 1, "x", &[hit(0, HitKind::Code, 2)]);
        }
        let (_, t) = r.finish(|_| (0, "a".into())).remove(0);
        assert_eq!(t.line_count, LINE_CAP as u64 + 10);
        assert_eq!(t.lines.len(), LINE_CAP);
        assert_eq!(t.samples.len(), SAMPLE_CAP);
    }
}
