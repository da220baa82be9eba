//! The scan: prefilter each piece, give candidate lines the full analysis (code tokens, the
//! patterns whose literals they hold, the readers they trigger) and feed the ranker.
use std::collections::{BTreeSet, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::input::Piece;
use super::matcher::Matcher;
use super::prefilter::Owner;
use super::rank::{Hit, HitKind, Ranker, STRUCTURED};
use super::readers::{
    self, ARTIFACT_READERS,
    artifact::{Artifact, ArtifactKind},
    json,
    jwt::judge_token,
    xoauth2,
};
use super::report::{Evidence, TokenReport};
use super::tokens::{self, Token, TokenKind};
use crate::jwt::Intended;

/// Lines longer than this get no JSON parsing (a 10 MB line of junk must stay cheap).
const JSON_LINE_MAX: usize = 256 * 1024;
const TOKEN_CAP: usize = 10;
const EVIDENCE_CAP: usize = 12;
const UNRECOGNISED_CAP: usize = 12;
/// Artifacts kept in a report; the rest are counted.
pub const ARTIFACT_CAP: usize = 24;
/// A large input is read by the artifact readers only around trigger lines: this many lines
/// before and after (an SMTP session up to its failure fits), and at most this many bytes.
const WINDOW_BEFORE: usize = 150;
const WINDOW_AFTER: usize = 60;
const WINDOW_BYTES: usize = 64 * 1024;

pub struct Scanner<'m> {
    m: &'m Matcher,
    now: i64,
    usage: Option<Intended>,
    pub ranker: Ranker,
    pub tokens: Vec<TokenReport>,
    seen_tokens: HashSet<u64>,
    pub evidence: Vec<Evidence>,
    pub unrecognised: BTreeSet<String>,
    pub candidate_lines: u64,
    pub invalid_utf8_lines: u64,
    pub binary: bool,
    /// Whole-input notes (JSON that does not parse).
    pub notes: Vec<String>,
    /// Whole artifacts rebuilt by the artifact readers, in input order, at most `ARTIFACT_CAP`.
    pub artifacts: Vec<Artifact>,
    /// Artifacts found beyond the cap.
    pub artifacts_dropped: u64,
    owners: Vec<Owner>,
    /// This piece's lines holding an artifact reader's trigger: (start, end, readers as bits).
    trigger_lines: Vec<(usize, usize, u32)>,
    lower: Vec<u8>,
    /// Lines the prefilter cannot flag: (line start, the owner that wants them).
    slow_lines: Vec<(usize, Owner)>,
    last_candidate: Option<u64>,
}

impl<'m> Scanner<'m> {
    pub fn new(m: &'m Matcher, now: i64, usage: Option<Intended>) -> Scanner<'m> {
        Scanner {
            m,
            now,
            usage,
            ranker: Ranker::default(),
            tokens: Vec::new(),
            seen_tokens: HashSet::new(),
            evidence: Vec::new(),
            unrecognised: BTreeSet::new(),
            candidate_lines: 0,
            invalid_utf8_lines: 0,
            binary: false,
            notes: Vec::new(),
            artifacts: Vec::new(),
            artifacts_dropped: 0,
            owners: Vec::new(),
            trigger_lines: Vec::new(),
            lower: Vec::new(),
            slow_lines: Vec::new(),
            last_candidate: None,
        }
    }

    /// Scans one piece; returns the number of newlines in it.
    pub fn piece(&mut self, p: &Piece) -> u64 {
        let data = p.data;
        if p.first_line == 1
            && !self.binary
            && memchr::memchr(0, &data[..data.len().min(8192)]).is_some()
        {
            self.binary = true;
        }
        self.collect_slow(data);
        self.trigger_lines.clear();
        let mut pos = 0;
        let mut counted = 0;
        let mut line_no = p.first_line;
        let mut slow_i = 0;
        while pos < data.len() {
            let ac = self.m.prefilter.next_hit(data, pos);
            while slow_i < self.slow_lines.len() && self.slow_lines[slow_i].0 < pos {
                slow_i += 1;
            }
            let slow = self.slow_lines.get(slow_i).map(|s| s.0);
            let Some(hit) = [ac, slow].into_iter().flatten().min() else {
                break;
            };
            let ls = memchr::memrchr(b'\n', &data[pos..hit]).map_or(pos, |i| pos + i + 1);
            let le = memchr::memchr(b'\n', &data[hit..]).map_or(data.len(), |i| hit + i);
            line_no += count_newlines(&data[counted..ls]);
            counted = ls;
            self.m.prefilter.owners_in(&data[ls..le], &mut self.owners);
            self.confirm_patterns(&data[ls..le]);
            while slow_i < self.slow_lines.len() && self.slow_lines[slow_i].0 <= le {
                self.owners.push(self.slow_lines[slow_i].1);
                slow_i += 1;
            }
            let mut readers = 0u32;
            self.owners.retain(|o| match o {
                Owner::Trigger(i) => {
                    readers |= 1 << i;
                    false
                }
                _ => true,
            });
            if readers != 0 {
                self.trigger_lines.push((ls, le, readers));
            }
            if !self.owners.is_empty() {
                self.line(data, ls, le, line_no);
            }
            pos = le + 1;
        }
        if p.whole {
            self.whole_input(data, p.first_line);
        } else if !p.window {
            self.artifact_windows(data, p.first_line);
        }
        if p.window {
            return 0;
        }
        line_no - p.first_line + count_newlines(&data[counted..])
    }

    /// Drops pattern owners whose other required literals are missing from the line: a common
    /// literal (a host name) alone must not cost a regex run.
    fn confirm_patterns(&mut self, line: &[u8]) {
        if !self.owners.iter().any(|o| matches!(o, Owner::Pattern(_))) {
            return;
        }
        self.lower.clear();
        self.lower.extend(line.iter().map(u8::to_ascii_lowercase));
        let (pf, lower) = (&self.m.prefilter, &self.lower);
        self.owners
            .retain(|o| !matches!(o, Owner::Pattern(i) if !pf.confirmed(*i, lower)));
    }

    /// Lines matched by patterns that have no literal for the prefilter: (line start, pattern).
    fn collect_slow(&mut self, data: &[u8]) {
        self.slow_lines.clear();
        for (idx, re) in &self.m.prefilter.slow {
            let mut at = 0;
            while let Some(found) = re.find_at(data, at) {
                let ls = memchr::memrchr(b'\n', &data[..found.start()]).map_or(0, |i| i + 1);
                let le = memchr::memchr(b'\n', &data[found.start()..])
                    .map_or(data.len(), |i| found.start() + i);
                self.slow_lines.push((ls, Owner::Pattern(*idx)));
                at = le + 1;
                if at > data.len() {
                    break;
                }
            }
        }
        self.slow_lines.sort_unstable();
    }

    /// The full analysis of one candidate line.
    fn line(&mut self, data: &[u8], ls: usize, le: usize, line_no: u64) {
        let mut raw = &data[ls..le];
        if raw.last() == Some(&b'\r') {
            raw = &raw[..raw.len() - 1];
        }
        let text = String::from_utf8_lossy(raw);
        if self.last_candidate != Some(line_no) {
            self.candidate_lines += 1;
            if matches!(text, std::borrow::Cow::Owned(_)) {
                self.invalid_utf8_lines += 1;
            }
            self.last_candidate = Some(line_no);
        }
        let owners = std::mem::take(&mut self.owners);
        let toks = if owners.contains(&Owner::Codes) {
            tokens::scan(&text)
        } else {
            Vec::new()
        };
        let mut hits = Vec::new();
        self.m.code_hits(&toks, &mut hits);
        self.m.pattern_hits(&text, Some(&owners), &mut hits);
        if owners.contains(&Owner::Jwt) {
            self.jwts(&text, data, ls, le, line_no, &mut hits);
        }
        if owners.contains(&Owner::Xoauth2) {
            let joined = xoauth2::join_wrapped(&text, &data[(le + 1).min(data.len())..]);
            self.xoauth2(joined.as_deref().unwrap_or(&text), line_no, &mut hits);
        }
        self.owners = owners;
        if text.len() <= JSON_LINE_MAX && text.contains('{') {
            for (start, _, value) in json::objects(&text) {
                self.json_facts(&value, line_no, start, &mut hits);
            }
        }
        self.note_unrecognised(&toks, &hits);
        if !hits.is_empty() {
            self.text_evidence(&text, line_no);
            self.ranker.add_line(line_no, &text, &hits);
        }
    }

    fn jwts(
        &mut self,
        text: &str,
        data: &[u8],
        ls: usize,
        le: usize,
        line_no: u64,
        hits: &mut Vec<Hit>,
    ) {
        for range in crate::jwt::find_tokens(text) {
            let token = &text[range.clone()];
            let usage = self.usage.or_else(|| readers::usage_near(data, ls, le));
            let at = (range.start, self.now);
            let user = readers::xoauth2_user_near(data, ls, le);
            self.judge(token, line_no, "jwt", usage, user.as_deref(), at, hits);
        }
    }

    fn xoauth2(&mut self, text: &str, line_no: u64, hits: &mut Vec<Hit>) {
        // Expiry is judged at the time the line was logged, when it says.
        let at = xoauth2::line_time(text, self.now).unwrap_or(self.now);
        for blob in xoauth2::find(text) {
            for why in &blob.faults {
                self.reader_hit(
                    "smtp-xoauth2-malformed",
                    format!("XOAUTH2 blob: {why}"),
                    blob.offset,
                    hits,
                );
            }
            if let Some(token) = &blob.token {
                // An XOAUTH2 blob is SMTP by definition, whatever the caller guessed.
                self.judge(
                    token,
                    line_no,
                    "xoauth2",
                    Some(Intended::Smtp),
                    blob.user.as_deref(),
                    (blob.offset, at),
                    hits,
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn judge(
        &mut self,
        token: &str,
        line_no: u64,
        found_in: &str,
        usage: Option<Intended>,
        user: Option<&str>,
        (offset, now): (usize, i64),
        hits: &mut Vec<Hit>,
    ) {
        let mut h = DefaultHasher::new();
        (token, user).hash(&mut h);
        if !self.seen_tokens.insert(h.finish()) {
            return;
        }
        let judged = judge_token(token, line_no, found_in, usage, user, now);
        for (rule, summary) in judged.findings {
            self.reader_hit(rule, summary, offset, hits);
        }
        if self.tokens.len() < TOKEN_CAP {
            self.tokens.push(judged.report);
        }
    }

    fn reader_hit(&self, rule_id: &str, label: String, offset: usize, hits: &mut Vec<Hit>) {
        if let Some(rule) = self.m.rule_index(rule_id) {
            hits.push(Hit {
                rule,
                kind: HitKind::Reader,
                score: STRUCTURED,
                label,
                offset,
                key: None,
            });
        }
    }

    fn json_facts(
        &mut self,
        value: &serde_json::Value,
        line_no: u64,
        offset: usize,
        hits: &mut Vec<Hit>,
    ) {
        let facts = json::facts(value);
        for code in &facts.codes {
            let token = Token {
                kind: code.kind,
                text: code.text.clone(),
                start: offset,
                reply: None,
            };
            for (rule, _, _) in self.m.code_matches(&token) {
                let key = Some(super::matcher::code_key(code.kind, &code.text));
                hits.push(Hit {
                    rule,
                    kind: HitKind::Reader,
                    score: STRUCTURED,
                    label: format!("{}: {}", code.key, code.label),
                    offset,
                    key,
                });
            }
        }
        if !hits.is_empty() {
            for (key, value) in facts.evidence {
                self.push_evidence(key, value, line_no);
            }
        }
    }

    fn push_evidence(&mut self, key: String, value: String, line: u64) {
        let value = crate::redact::redact(&value).into_owned();
        if self.evidence.len() < EVIDENCE_CAP
            && !self
                .evidence
                .iter()
                .any(|e| e.key == key && e.value == value)
        {
            self.evidence.push(Evidence { key, value, line });
        }
    }

    /// `Trace ID: ...`, `Correlation ID: ...`, `Timestamp: ...` in prose (AADSTS descriptions).
    fn text_evidence(&mut self, text: &str, line_no: u64) {
        for key in ["Trace ID", "Correlation ID", "Timestamp"] {
            let Some(at) = tokens::find_ci(text.as_bytes(), key.to_ascii_lowercase().as_bytes())
            else {
                continue;
            };
            let rest = text[at + key.len()..].trim_start_matches([':', ' ', '"']);
            let id_char = |c: char| c.is_ascii_hexdigit() || c == '-';
            let time_char =
                |c: char| c.is_ascii_digit() || matches!(c, '-' | ':' | ' ' | 'T' | 'Z' | '.');
            let value: String = if key == "Timestamp" {
                rest.chars()
                    .take_while(|&c| time_char(c))
                    .take(30)
                    .collect()
            } else {
                rest.chars().take_while(|&c| id_char(c)).take(40).collect()
            };
            let value = value.trim().trim_end_matches(['.', ' ', '-']).to_string();
            if value.len() >= 8 && value.chars().any(|c| c.is_ascii_digit()) {
                self.push_evidence(key.to_string(), value, line_no);
            }
        }
    }

    /// Codes that look like errors but that no rule knows, so the reader hears about them.
    fn note_unrecognised(&mut self, toks: &[Token], hits: &[Hit]) {
        for t in toks {
            let interesting = match t.kind {
                TokenKind::Aadsts | TokenKind::DeviceCode => true,
                TokenKind::Enhanced => t.text.starts_with('4') || t.text.starts_with('5'),
                _ => false,
            };
            let known = hits
                .iter()
                .any(|h| h.kind == HitKind::Code && h.offset == t.start);
            if interesting
                && !known
                && self.m.code_matches(t).is_empty()
                && self.unrecognised.len() < UNRECOGNISED_CAP
            {
                self.unrecognised.insert(t.text.to_ascii_uppercase());
            }
        }
    }

    /// For an input that fitted in one piece: JSON bodies spread over several lines, and a note
    /// when the whole input looks like JSON but is not.
    fn whole_input(&mut self, data: &[u8], first_line: u64) {
        let text = String::from_utf8_lossy(data);
        for reader in ARTIFACT_READERS {
            let found = (reader.read)(&text, first_line, self.now);
            self.take_artifacts(found, &text, first_line);
        }
        let trimmed = text.trim_start();
        if trimmed.starts_with(['{', '[']) {
            #[allow(clippy::collapsible_if)]
            if let Err(e) = serde_json::from_str::<serde_json::Value>(trimmed.trim_end()) {
                self.notes.push(format!(
                    "the input starts like JSON but is not valid JSON ({e}); it was read as text"
                ));
            }
        }
        let mut attempts = 0;
        let mut offset = 0;
        for (idx, line) in text.split_inclusive('\n').enumerate() {
            let start = offset;
            offset += line.len();
            let indent = line.len() - line.trim_start().len();
            if !line.trim_start().starts_with('{') || attempts >= 8 {
                continue;
            }
            attempts += 1;
            let pos = start + indent;
            let mut stream =
                serde_json::Deserializer::from_str(&text[pos..]).into_iter::<serde_json::Value>();
            let Some(Ok(value)) = stream.next() else {
                continue;
            };
            let body = &text[pos..pos + stream.byte_offset()];
            if !body.contains('\n') {
                continue; // one line: the line scan has read it
            }
            let facts = json::facts(&value);
            let mut any = false;
            for code in facts.codes {
                let at = body.find(&format!("\"{}\"", code.key)).unwrap_or(0);
                let line_no = first_line + idx as u64 + body[..at].matches('\n').count() as u64;
                let token = Token {
                    kind: code.kind,
                    text: code.text.clone(),
                    start: 0,
                    reply: None,
                };
                let label = format!("{}: {}", code.key, code.label);
                let hits: Vec<Hit> = self
                    .m
                    .code_matches(&token)
                    .into_iter()
                    .map(|(rule, _, _)| Hit {
                        rule,
                        kind: HitKind::Reader,
                        score: STRUCTURED,
                        label: label.clone(),
                        offset: 0,
                        key: Some(super::matcher::code_key(code.kind, &code.text)),
                    })
                    .collect();
                if !hits.is_empty() {
                    any = true;
                    let line_text = body[at..].lines().next().unwrap_or("");
                    self.ranker.add_line(line_no, line_text, &hits);
                }
            }
            if any {
                for (key, value) in facts.evidence {
                    self.push_evidence(key, value, first_line + idx as u64);
                }
            }
        }
    }
}

impl Scanner<'_> {
    /// A piece of a large input: each artifact reader reads the windows of lines around the
    /// lines that hold one of its triggers (overlapping windows are merged).
    fn artifact_windows(&mut self, data: &[u8], first_line: u64) {
        let mut windows: Vec<(usize, usize, u32)> = Vec::new();
        for &(ls, le, mask) in &self.trigger_lines {
            let ws = lines_back(data, ls, WINDOW_BEFORE);
            let we = lines_forward(data, le, WINDOW_AFTER);
            match windows.last_mut() {
                Some(w) if ws <= w.1 => {
                    w.1 = w.1.max(we);
                    w.2 |= mask;
                }
                _ => windows.push((ws, we, mask)),
            }
        }
        let (mut line, mut counted) = (first_line, 0);
        for (ws, we, mask) in windows {
            line += count_newlines(&data[counted..ws]);
            counted = ws;
            let text = String::from_utf8_lossy(&data[ws..we]);
            for (i, reader) in ARTIFACT_READERS.iter().enumerate().take(32) {
                if mask & (1 << i) != 0 {
                    let mut found = (reader.read)(&text, line, self.now);
                    // A trigger (an XOAUTH2 blob) may sit in a healthy session: not listed.
                    found.retain(|a| {
                        a.kind != ArtifactKind::SmtpSession || readers::smtp_session::failed(a)
                    });
                    self.take_artifacts(found, &text, line);
                }
            }
        }
    }

    /// Keeps the artifacts (up to the cap) and gives each of their hits to the ranker, on its
    /// line, as a structured reader's hit.
    fn take_artifacts(&mut self, found: Vec<Artifact>, text: &str, first_line: u64) {
        let mut starts: Option<Vec<usize>> = None;
        for a in found {
            for h in &a.hits {
                let mut hits = Vec::new();
                self.reader_hit(&h.rule, h.label.clone(), 0, &mut hits);
                if hits.is_empty() || h.line < first_line {
                    continue;
                }
                let starts = starts.get_or_insert_with(|| {
                    std::iter::once(0)
                        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
                        .collect()
                });
                let idx = (h.line - first_line) as usize;
                let Some(&ls) = starts.get(idx) else {
                    continue;
                };
                let le = starts
                    .get(idx + 1)
                    .map_or(text.len(), |&e| e.saturating_sub(1));
                let line = scrub_base64(&text[ls..le.max(ls)]);
                self.ranker.add_line(h.line, &line, &hits);
            }
            if self.artifacts.len() < ARTIFACT_CAP {
                self.artifacts.push(a);
            } else {
                self.artifacts_dropped += 1;
            }
        }
    }

    /// Takes in what another scanner saw of another part of the same input.
    pub fn merge(&mut self, other: Scanner<'_>) {
        self.ranker.merge(other.ranker);
        for t in other.tokens {
            if self.tokens.len() < TOKEN_CAP && !self.tokens.contains(&t) {
                self.tokens.push(t);
            }
        }
        self.tokens.sort_by_key(|t| t.line);
        for e in other.evidence {
            self.push_evidence(e.key, e.value, e.line);
        }
        self.evidence.sort_by_key(|e| e.line);
        for u in other.unrecognised {
            if self.unrecognised.len() < UNRECOGNISED_CAP {
                self.unrecognised.insert(u);
            }
        }
        self.candidate_lines += other.candidate_lines;
        self.invalid_utf8_lines += other.invalid_utf8_lines;
        self.binary |= other.binary;
        self.notes.extend(other.notes);
        self.artifacts.extend(other.artifacts);
        self.artifacts.sort_by_key(|a| (a.first_line, a.kind));
        let over = self.artifacts.len().saturating_sub(ARTIFACT_CAP);
        self.artifacts.truncate(ARTIFACT_CAP);
        self.artifacts_dropped += other.artifacts_dropped + over as u64;
    }
}

/// The start of the line `n` lines before the line starting at `ls`, at most `WINDOW_BYTES` back.
fn lines_back(data: &[u8], ls: usize, n: usize) -> usize {
    let floor = ls.saturating_sub(WINDOW_BYTES);
    let mut at = ls;
    for _ in 0..n {
        if at <= floor {
            break;
        }
        at = memchr::memrchr(b'\n', &data[floor..at - 1]).map_or(floor, |i| floor + i + 1);
    }
    if at == floor && floor > 0 {
        // Cut mid-line: start at the next whole line.
        at = memchr::memchr(b'\n', &data[floor..ls]).map_or(ls, |i| floor + i + 1);
    }
    at
}

/// The end of the line `n` lines after the line ending at `le`, at most `WINDOW_BYTES` on.
fn lines_forward(data: &[u8], le: usize, n: usize) -> usize {
    let ceil = (le + WINDOW_BYTES).min(data.len());
    let mut at = le;
    for _ in 0..n {
        if at + 1 >= ceil {
            break;
        }
        match memchr::memchr(b'\n', &data[at + 1..ceil]) {
            Some(i) => at = at + 1 + i,
            None => {
                at = if ceil == data.len() { ceil } else { at };
                break;
            }
        }
    }
    at
}

/// A line as given to the ranker for an artifact's hit: long base64 runs (a credential some
/// logs print, which the redactor may not know by shape) hidden before the usual redaction.
fn scrub_base64(line: &str) -> String {
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=';
    let mut out = String::with_capacity(line.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let mixed = run.bytes().any(|b| b.is_ascii_digit())
            && run.bytes().any(|b| b.is_ascii_uppercase())
            && run.bytes().any(|b| b.is_ascii_lowercase());
        if run.len() >= 20 && mixed {
            out.push_str(crate::redact::REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if b64(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

pub(crate) fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}
