//! `xdiag explain`: name the rule behind a code, a log, a JSON error body, an SMTP transcript or
//! an access token.
//!
//! The pipeline: `input` reads in large pieces cut at line ends; the `prefilter` (one
//! Aho-Corasick automaton of every literal the rules need) finds candidate lines; each gets the
//! full analysis in `scan`: `tokens` pulls out code tokens, `matcher` looks them up and runs the
//! patterns whose literals the line holds, and the `readers` understand JWTs, XOAUTH2 blobs and
//! JSON error bodies. Artifact readers rebuild whole artifacts (an SMTP session, a bounce,
//! headers, a sign-in log export) from the whole input, or from windows of lines around their
//! triggers when the input is large. `rank` scores and orders the rules; the result is one
//! `ExplainReport`, laid out by `render` as text, JSON or a Markdown ticket note. Everything
//! shown is redacted.
pub mod input;
pub mod matcher;
pub mod prefilter;
pub mod rank;
pub mod readers;
pub mod render;
pub mod report;
mod scan;
pub mod ties;
pub mod tokens;

use std::io::{self, Read};

pub use matcher::Matcher;
pub use report::{
    Artifact, ArtifactHit, ArtifactKind, Evidence, ExplainReport, Finding, InputSummary, Sample,
    TokenProblem, TokenReport, Usability,
};

use crate::jwt::Intended;
use crate::rules::{Rule, Rulebook};

/// How to run one explain.
#[derive(Clone, Debug)]
pub struct ExplainOptions {
    /// "Now" in Unix seconds, for token expiry (fixed in tests).
    pub now: i64,
    /// How tokens in the input are used, when the caller knows; otherwise read from the text.
    pub usage: Option<Intended>,
    /// Where the input came from, for the report: `argument`, `stdin`, `file <name>`.
    pub source: String,
    /// Read size; `input::CHUNK` unless a test wants tiny pieces.
    pub chunk: usize,
}

impl ExplainOptions {
    pub fn new(source: impl Into<String>) -> ExplainOptions {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        ExplainOptions {
            now,
            usage: None,
            source: source.into(),
            chunk: input::CHUNK,
        }
    }
}

/// Explains everything `reader` yields. Fails only when the input cannot be read.
pub fn explain_reader<R: Read>(
    book: &Rulebook,
    matcher: &Matcher,
    reader: R,
    opts: &ExplainOptions,
) -> io::Result<ExplainReport> {
    let (mut scanner, stats) = scan_parallel(matcher, reader, opts)?;
    let mut notes = Vec::new();
    if stats.bytes == 0 {
        notes.push("the input is empty: nothing to explain".to_string());
    }
    if scanner.binary {
        notes.push(
            "the input looks binary (it holds NUL bytes); it was scanned as text".to_string(),
        );
    }
    if scanner.invalid_utf8_lines > 0 {
        notes.push(format!(
            "{} analysed line(s) were not valid UTF-8; they were read with replacement characters",
            scanner.invalid_utf8_lines
        ));
    }
    if let Some(n) = stats.decoding_note() {
        notes.push(n);
    }
    if stats.long_lines > 0 {
        notes.push(format!(
            "{} line(s) were longer than {} MiB; they were scanned in windows",
            stats.long_lines,
            opts.chunk >> 20
        ));
    }
    notes.append(&mut scanner.notes);
    if scanner.artifacts_dropped > 0 {
        notes.push(format!(
            "{} more artifact(s) were found than the {} listed",
            scanner.artifacts_dropped,
            scan::ARTIFACT_CAP
        ));
    }
    let ranked = std::mem::take(&mut scanner.ranker)
        .finish(|i| (matcher.rules[i].rank, matcher.rules[i].id.clone()));
    let findings = ranked
        .into_iter()
        .filter_map(|(idx, t)| {
            let rule = book.get(&matcher.rules[idx].id)?;
            let mut f = Finding::from_rule(rule);
            f.score = t.score;
            f.matched = t.matched;
            f.line = Some(t.best_line);
            f.lines = t.lines;
            f.line_count = t.line_count;
            f.excerpt = Some(t.excerpt);
            f.samples = t.samples;
            Some(f)
        })
        .collect::<Vec<Finding>>();
    let tied = ties::tied_with_first(&findings);
    if !tied.is_empty() {
        notes.insert(0, ties::tie_note(&tied, &findings[0].matched));
    }
    Ok(ExplainReport {
        input: InputSummary {
            source: opts.source.clone(),
            bytes: stats.bytes,
            lines: stats.lines,
            candidate_lines: scanner.candidate_lines,
            invalid_utf8_lines: scanner.invalid_utf8_lines,
            long_lines: stats.long_lines,
            binary: scanner.binary,
        },
        lookup: None,
        findings,
        tokens: scanner.tokens,
        evidence: scanner.evidence,
        artifacts: std::mem::take(&mut scanner.artifacts),
        unrecognised: scanner.unrecognised.into_iter().collect(),
        tied,
        closest_ids: Vec::new(),
        notes,
    })
}

/// Workers scanning pieces of a large input at the same time (the machine has two cores).
const WORKERS: usize = 2;

/// Reads on this thread and scans on `WORKERS` threads, piece by piece; a small input (one
/// piece) is scanned right here. Pieces go round-robin, so the merged result is the same on
/// every run.
fn scan_parallel<'m, R: Read>(
    matcher: &'m Matcher,
    reader: R,
    opts: &ExplainOptions,
) -> io::Result<(scan::Scanner<'m>, input::ReadStats)> {
    use std::sync::mpsc::sync_channel;
    struct Owned {
        data: Vec<u8>,
        first_line: u64,
        window: bool,
    }
    std::thread::scope(|scope| {
        let mut senders = Vec::new();
        let mut workers = Vec::new();
        let mut spawn = |senders: &mut Vec<std::sync::mpsc::SyncSender<Owned>>| {
            for _ in 0..WORKERS {
                let (tx, rx) = sync_channel::<Owned>(1);
                senders.push(tx);
                workers.push(scope.spawn(move || {
                    let mut s = scan::Scanner::new(matcher, opts.now, opts.usage);
                    for p in rx {
                        s.piece(&input::Piece {
                            data: &p.data,
                            first_line: p.first_line,
                            window: p.window,
                            whole: false,
                        });
                    }
                    s
                }));
            }
        };
        let mut local = scan::Scanner::new(matcher, opts.now, opts.usage);
        let mut next = 0usize;
        let stats = input::read_pieces(reader, opts.chunk, |piece| {
            if piece.whole {
                return local.piece(piece);
            }
            if senders.is_empty() {
                spawn(&mut senders);
                // The first piece decides whether the input looks binary.
                local.binary =
                    memchr::memchr(0, &piece.data[..piece.data.len().min(8192)]).is_some();
            }
            let newlines = if piece.window {
                0
            } else {
                scan::count_newlines(piece.data)
            };
            let owned = Owned {
                data: piece.data.to_vec(),
                first_line: piece.first_line,
                window: piece.window,
            };
            let _ = senders[next % WORKERS].send(owned);
            next += 1;
            newlines
        });
        drop(senders);
        for w in workers {
            match w.join() {
                Ok(s) => local.merge(s),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        stats.map(|st| (local, st))
    })
}

/// Explains pasted text (arguments). When nothing matches and the text looks like a rule id,
/// the report names the closest ids.
pub fn explain_text(
    book: &Rulebook,
    matcher: &Matcher,
    text: &str,
    opts: &ExplainOptions,
) -> ExplainReport {
    let mut report = explain_reader(book, matcher, text.as_bytes(), opts)
        .expect("reading from memory cannot fail");
    if report.findings.is_empty() && looks_like_id(text) {
        report.closest_ids = book
            .closest_ids(text.trim(), 3)
            .into_iter()
            .map(str::to_string)
            .collect();
    }
    report
}

/// The report for a rule named directly by id or alias.
pub fn explain_rule(rule: &Rule, key: &str) -> ExplainReport {
    let mut f = Finding::from_rule(rule);
    f.matched = vec![key.trim().to_string()];
    ExplainReport {
        input: InputSummary {
            source: "argument".into(),
            bytes: key.len() as u64,
            lines: 1,
            ..InputSummary::default()
        },
        lookup: Some(key.trim().to_string()),
        findings: vec![f],
        tokens: Vec::new(),
        evidence: Vec::new(),
        artifacts: Vec::new(),
        unrecognised: Vec::new(),
        tied: Vec::new(),
        closest_ids: Vec::new(),
        notes: Vec::new(),
    }
}

/// One word of kebab-case, like a rule id (`smtp-auth-disabled`).
pub fn looks_like_id(text: &str) -> bool {
    let t = text.trim();
    t.contains('-')
        && t.len() <= 80
        && t.bytes().any(|b| b.is_ascii_alphabetic())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Longest excerpt shown, in characters.
pub const EXCERPT_MAX: usize = 200;

/// A line as shown to the user: redacted, control characters replaced, shortened around
/// `offset` (a byte offset into `line`).
pub fn excerpt(line: &str, offset: usize) -> String {
    let mut cut = offset.min(line.len());
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    let centre = crate::redact::redact(&line[..cut]).chars().count();
    let red = crate::redact::redact(line);
    let chars: Vec<char> = red.trim_end().chars().map(printable).collect();
    if chars.len() <= EXCERPT_MAX {
        return chars.into_iter().collect::<String>().trim().to_string();
    }
    let start = centre
        .saturating_sub(EXCERPT_MAX / 3)
        .min(chars.len() - EXCERPT_MAX);
    let end = start + EXCERPT_MAX;
    let mut s = String::new();
    if start > 0 {
        s.push('…');
    }
    s.extend(&chars[start..end]);
    if end < chars.len() {
        s.push('…');
    }
    s
}

/// Control and bidi-override characters would let pasted text rewrite the terminal.
fn printable(c: char) -> char {
    match c {
        '\t' => ' ',
        c if c.is_control() => '\u{FFFD}',
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '\u{FFFD}',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_redacted_clean_and_short() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl";
        let e = excerpt(&format!("\x1b[31mtoken {jwt} 535 5.7.3"), 10);
        assert!(!e.contains("c2lnbmF0"), "{e}");
        assert!(!e.contains('\x1b'));
        let long = format!("{} AADSTS7000215 {}", "a".repeat(5000), "b".repeat(5000));
        let e = excerpt(&long, 5001);
        assert!(e.contains("AADSTS7000215"), "{e}");
        assert!(e.chars().count() <= EXCERPT_MAX + 2);
    }

    #[test]
    fn id_shapes() {
        assert!(looks_like_id("smtp-auth-disabled"));
        assert!(!looks_like_id("535 5.7.3"));
        assert!(!looks_like_id("016-781"));
    }
}
