//! Code tokens: the upstream codes pulled out of one line of text, and the rule `[match] codes`
//! entries they are compared with (see `rules/README.md`, "How pasted text is matched").
//!
//! Tokens are found wherever they stand in the line, with boundaries that keep them apart from
//! longer numbers: `5.7.139` is an enhanced status code, `1.5.7.139` and `5.7.1390` are not; a
//! reply code alone (`504`) only counts where an SMTP reply starts, so the byte count `535` in a
//! web server's access log is not an SMTP reply.

/// What kind of code a token (or a rule's code entry) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenKind {
    /// `AADSTS7000215`, also read from `"error_codes":[7000215]`.
    Aadsts,
    /// `5.7.139`: class 2, 4 or 5, then subject and detail.
    Enhanced,
    /// `504`: an SMTP reply code where a reply starts, or right before an enhanced status.
    Reply,
    /// `016-781`: a device fault code.
    DeviceCode,
    /// `1102`: a 4- or 5-digit device error number right after an error word (`Error 1102`).
    DeviceNumber,
    /// `00000003-0000-0000-c000-000000000000`.
    Guid,
    /// An identifier-like word: `ErrorAccessDenied`, `authorization_pending`, `STOREDRV.ClientSubmit`.
    Word,
}

/// One code found in a line. `text` is normalised (ASCII lowercase) for lookups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub text: String,
    /// Byte offset of the token in the line, for excerpts.
    pub start: usize,
    /// For an enhanced status: the reply code right before it (`535 5.7.3` -> 535).
    pub reply: Option<u16>,
}

/// Words right before a device error number (`Send error 1102`, `fault=1102`, `code: 1102`).
const ERROR_WORDS: &[&[u8]] = &[b"error", b"err", b"code", b"fault", b"failure", b"failed"];

/// Text right before a bare reply code that says an SMTP reply starts there (lowercase).
const REPLY_STARTS: &[&[u8]] = &[
    b"s:",
    b"<<<",
    b"<-",
    b"<--",
    b"said:",
    b"reply:",
    b"replied:",
    b"response:",
];

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every code token in `line`, in order of position (a dotted word also yields its parts).
pub fn scan(line: &str) -> Vec<Token> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    scan_aadsts(bytes, &mut out);
    scan_error_codes(bytes, &mut out);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let prev = if i > 0 { bytes[i - 1] } else { b' ' };
        if !b.is_ascii_alphanumeric() && b != b'_' {
            i += 1;
            continue;
        }
        if is_word_byte(prev) || prev == b'.' {
            // Inside a longer run, or right after a dot: not a token start.
            i += 1;
            continue;
        }
        if let Some(len) = guid_at(bytes, i) {
            out.push(Token {
                kind: TokenKind::Guid,
                text: lower(&bytes[i..i + len]),
                start: i,
                reply: None,
            });
            i += len;
            continue;
        }
        if b.is_ascii_digit() {
            i = scan_number(bytes, i, &mut out);
        } else {
            i = scan_word(bytes, i, &mut out);
        }
    }
    out.sort_by_key(|t| t.start);
    out
}

fn lower(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

fn digits(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// `AADSTS<digits>` anywhere, whatever stands before it; also `AADSTS 7000215` and
/// `AADSTS: 7000215` as devices and people write it, when the number has a code's length.
fn scan_aadsts(bytes: &[u8], out: &mut Vec<Token>) {
    let mut at = 0;
    while let Some(off) = find_ci(&bytes[at..], b"aadsts") {
        let start = at + off;
        let mut num = start + 6;
        let mut n = digits(bytes, num);
        if n == 0 {
            let gap = bytes[num..]
                .iter()
                .take(3)
                .take_while(|&&b| matches!(b, b' ' | b'\t' | b':' | b'-' | b'#'))
                .count();
            let m = digits(bytes, num + gap);
            let ends = !bytes.get(num + gap + m).is_some_and(|&b| is_word_byte(b));
            if gap > 0 && (5..=9).contains(&m) && ends {
                num += gap;
                n = m;
            }
        }
        if (1..=9).contains(&n) {
            let text = format!("aadsts{}", String::from_utf8_lossy(&bytes[num..num + n]));
            out.push(Token {
                kind: TokenKind::Aadsts,
                text,
                start,
                reply: None,
            });
        }
        at = start + 6;
    }
}

/// The numbers of an `error_codes` array (`"error_codes":[7000215, 50126]`) as AADSTS codes.
fn scan_error_codes(bytes: &[u8], out: &mut Vec<Token>) {
    let mut at = 0;
    while let Some(off) = find_ci(&bytes[at..], b"error_codes") {
        let start = at + off;
        let mut i = start + b"error_codes".len();
        // `"error_codes": [`, `error_codes=[`, `'error_codes' => [`, and `\"error_codes\":[`
        // in a JSON body logged as a string inside another JSON line.
        while i < bytes.len()
            && matches!(
                bytes[i],
                b'"' | b'\'' | b' ' | b'\t' | b':' | b'=' | b'>' | b'\\'
            )
        {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'[' {
            i += 1;
            loop {
                while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b',' | b'"' | b'\\') {
                    i += 1;
                }
                let n = digits(bytes, i);
                if n == 0 || n > 9 {
                    break;
                }
                let text = format!("aadsts{}", String::from_utf8_lossy(&bytes[i..i + n]));
                out.push(Token {
                    kind: TokenKind::Aadsts,
                    text,
                    start: i,
                    reply: None,
                });
                i += n;
            }
        }
        at = start + 1;
    }
}

/// ASCII case-insensitive search for a lowercase needle.
pub(crate) fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let rest = &hay[i..];
        let pos = memchr::memchr2(first, first.to_ascii_uppercase(), rest)?;
        let at = i + pos;
        if at + needle.len() > hay.len() {
            return None;
        }
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

fn guid_at(bytes: &[u8], i: usize) -> Option<usize> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut p = i;
    for (g, len) in GROUPS.iter().enumerate() {
        if p + len > bytes.len() || !bytes[p..p + len].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        p += len;
        if g < 4 {
            if bytes.get(p) != Some(&b'-') {
                return None;
            }
            p += 1;
        }
    }
    if bytes.get(p).is_some_and(|&b| is_word_byte(b) || b == b'-') {
        return None;
    }
    Some(p - i)
}

/// Parses `c.s.d` at `i` (class 2/4/5, subject and detail of 1 to 3 digits), not part of a longer
/// dotted number. Returns its length.
fn enhanced_at(bytes: &[u8], i: usize) -> Option<usize> {
    if !matches!(bytes.get(i), Some(b'2' | b'4' | b'5')) || bytes.get(i + 1) != Some(&b'.') {
        return None;
    }
    if i > 0 && (bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'.') {
        return None;
    }
    let s = digits(bytes, i + 2);
    if !(1..=3).contains(&s) || bytes.get(i + 2 + s) != Some(&b'.') {
        return None;
    }
    let d_at = i + 3 + s;
    let d = digits(bytes, d_at);
    if !(1..=3).contains(&d) {
        return None;
    }
    let end = d_at + d;
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(end - i)
}

fn scan_number(bytes: &[u8], i: usize, out: &mut Vec<Token>) -> usize {
    if let Some(len) = enhanced_at(bytes, i).filter(|_| !version_before(bytes, i)) {
        // The reply code, if any, was pushed just before and told us it owns this one.
        let reply = out
            .last()
            .filter(|t| t.kind == TokenKind::Reply && reply_reaches(bytes, t.start, i))
            .and_then(|t| t.text.parse().ok());
        out.push(Token {
            kind: TokenKind::Enhanced,
            text: lower(&bytes[i..i + len]),
            start: i,
            reply,
        });
        return i + len;
    }
    let n = digits(bytes, i);
    let end = i + n;
    if bytes
        .get(end)
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
    {
        // `365days`, `4d2f...`: part of a word, skip it whole.
        return end
            + bytes[end..]
                .iter()
                .take_while(|&&b| is_word_byte(b))
                .count();
    }
    if n == 3 {
        // NNN-NNN device code, not part of a longer dashed number.
        if bytes.get(end) == Some(&b'-') && digits(bytes, end + 1) == 3 {
            let after = end + 4;
            let longer = bytes.get(after).is_some_and(|&b| {
                b.is_ascii_digit()
                    || b == b'-' && bytes.get(after + 1).is_some_and(u8::is_ascii_digit)
            });
            if !longer {
                out.push(Token {
                    kind: TokenKind::DeviceCode,
                    text: lower(&bytes[i..after]),
                    start: i,
                    reply: None,
                });
                return after;
            }
        }
        if matches!(bytes[i], b'2'..=b'5') && bytes.get(end) != Some(&b'.') {
            let before_enhanced = enhanced_after_reply(bytes, end).is_some();
            let at_reply_start = matches!(bytes.get(end), None | Some(b' ' | b'-' | b'\t' | b'\r'))
                && reply_start_before(bytes, i);
            if before_enhanced || at_reply_start {
                out.push(Token {
                    kind: TokenKind::Reply,
                    text: lower(&bytes[i..end]),
                    start: i,
                    reply: None,
                });
            }
        }
    } else if (4..=5).contains(&n) && bytes.get(end) != Some(&b'.') && error_word_before(bytes, i) {
        out.push(Token {
            kind: TokenKind::DeviceNumber,
            text: lower(&bytes[i..end]),
            start: i,
            reply: None,
        });
    }
    end
}

/// Separators allowed between a reply code and its enhanced status: `535 5.7.3`, `535-5.7.3`,
/// lettre's `permanent error (535): 5.7.3`, `"535", "5.7.3"`.
fn enhanced_after_reply(bytes: &[u8], mut i: usize) -> Option<usize> {
    let start = i;
    while i < bytes.len()
        && i - start < 5
        && matches!(
            bytes[i],
            b' ' | b'\t' | b'-' | b')' | b':' | b'"' | b'\'' | b','
        )
    {
        i += 1;
    }
    if i == start {
        return None;
    }
    enhanced_at(bytes, i).map(|_| i)
}

fn reply_reaches(bytes: &[u8], reply_start: usize, enhanced_start: usize) -> bool {
    enhanced_after_reply(bytes, reply_start + 3) == Some(enhanced_start)
}

/// Whether a reply starts at `i`: at the start of the line (after blanks), or after `S:`,
/// `<<<`, `said:` and the like.
fn reply_start_before(bytes: &[u8], i: usize) -> bool {
    let head = &bytes[..i];
    let trimmed_len = head
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |p| p + 1);
    if trimmed_len == 0 {
        return true;
    }
    let head = &head[..trimmed_len];
    REPLY_STARTS.iter().any(|s| {
        head.len() >= s.len()
            && head[head.len() - s.len()..].eq_ignore_ascii_case(s)
            && (head.len() == s.len() || !head[head.len() - s.len() - 1].is_ascii_alphanumeric())
    })
}

/// Words that say the number after them is a version (`firmware 5.7.139`, `Version: 2.1.4`).
const VERSION_WORDS: &[&[u8]] = &[
    b"v",
    b"ver",
    b"version",
    b"fw",
    b"firmware",
    b"build",
    b"release",
    b"rev",
    b"revision",
    b"rom",
];

/// Whether the number at `i` is a version: right after `Product/` (`XeroxFW/5.7.139`, as in a
/// User-Agent) or after one of `VERSION_WORDS` (separators ` :=#` allowed). `v5.7.139` never gets
/// here: a number glued to a word is part of that word.
fn version_before(bytes: &[u8], i: usize) -> bool {
    if i >= 2 && bytes[i - 1] == b'/' && bytes[i - 2].is_ascii_alphabetic() {
        return true;
    }
    let mut j = i;
    while j > 0 && i - j < 3 && matches!(bytes[j - 1], b' ' | b'\t' | b':' | b'=' | b'#') {
        j -= 1;
    }
    if j == i {
        return false;
    }
    let word_start = bytes[..j]
        .iter()
        .rposition(|&b| !b.is_ascii_alphabetic())
        .map_or(0, |p| p + 1);
    let word = &bytes[word_start..j];
    VERSION_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// Whether one of `ERROR_WORDS` ends just before `i` (separators ` :=#(` and quotes allowed).
fn error_word_before(bytes: &[u8], i: usize) -> bool {
    let mut j = i;
    while j > 0
        && i - j < 4
        && matches!(
            bytes[j - 1],
            b' ' | b':' | b'=' | b'#' | b'(' | b'"' | b'\''
        )
    {
        j -= 1;
    }
    let word_start = bytes[..j]
        .iter()
        .rposition(|&b| !b.is_ascii_alphabetic())
        .map_or(0, |p| p + 1);
    let word = &bytes[word_start..j];
    ERROR_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// A word, `Dotted.Words` as a whole and in parts.
fn scan_word(bytes: &[u8], i: usize, out: &mut Vec<Token>) -> usize {
    let mut end = i;
    let mut part_start = i;
    loop {
        while end < bytes.len() && is_word_byte(bytes[end]) {
            end += 1;
        }
        push_word(bytes, part_start, end, out);
        let dotted = bytes.get(end) == Some(&b'.')
            && bytes
                .get(end + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
        if !dotted {
            break;
        }
        end += 1;
        part_start = end;
    }
    if part_start != i {
        push_word(bytes, i, end, out);
    }
    end
}

fn push_word(bytes: &[u8], start: usize, end: usize, out: &mut Vec<Token>) {
    if end > start && end - start <= 128 {
        out.push(Token {
            kind: TokenKind::Word,
            text: lower(&bytes[start..end]),
            start,
            reply: None,
        });
    }
}

/// A `[match] codes` entry of a rule, classified by the token kind it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeEntry {
    /// Matched by a token of this kind with exactly this (lowercase) text.
    Exact(TokenKind, String),
    /// An enhanced status, its detail optionally a range (`5.7.606-649`), optionally qualified by
    /// the reply code (`535 5.7.3`).
    Enhanced {
        reply: Option<u16>,
        prefix: String,
        detail_lo: u16,
        detail_hi: u16,
        detail_text: Option<String>,
    },
}

impl CodeEntry {
    /// Classifies a code entry as written in a rule; `None` when no scanner can produce it.
    pub fn parse(code: &str) -> Option<CodeEntry> {
        let code = code.trim();
        let b = code.as_bytes();
        if b.is_empty() {
            return None;
        }
        if let Some((reply, rest)) = code.split_once(' ') {
            let reply: u16 = reply
                .parse()
                .ok()
                .filter(|r| (200..600).contains(r) && reply.len() == 3)?;
            return match CodeEntry::parse(rest.trim())? {
                CodeEntry::Enhanced {
                    reply: None,
                    prefix,
                    detail_lo,
                    detail_hi,
                    detail_text,
                } => Some(CodeEntry::Enhanced {
                    reply: Some(reply),
                    prefix,
                    detail_lo,
                    detail_hi,
                    detail_text,
                }),
                _ => None,
            };
        }
        if code.len() > 6
            && code[..6].eq_ignore_ascii_case("aadsts")
            && code[6..].bytes().all(|c| c.is_ascii_digit())
        {
            return Some(CodeEntry::Exact(
                TokenKind::Aadsts,
                code.to_ascii_lowercase(),
            ));
        }
        if guid_at(b, 0) == Some(b.len()) {
            return Some(CodeEntry::Exact(TokenKind::Guid, code.to_ascii_lowercase()));
        }
        if let Some(e) = parse_enhanced_entry(code) {
            return Some(e);
        }
        if b.iter().all(u8::is_ascii_digit) {
            return match b.len() {
                3 if matches!(b[0], b'2'..=b'5') => {
                    Some(CodeEntry::Exact(TokenKind::Reply, code.to_string()))
                }
                4 | 5 => Some(CodeEntry::Exact(TokenKind::DeviceNumber, code.to_string())),
                _ => None,
            };
        }
        if b.len() == 7 && b[3] == b'-' && b[..3].iter().chain(&b[4..]).all(u8::is_ascii_digit) {
            return Some(CodeEntry::Exact(TokenKind::DeviceCode, code.to_string()));
        }
        let word_like = (b[0].is_ascii_alphabetic() || b[0] == b'_')
            && b.iter().all(|&c| is_word_byte(c) || c == b'.')
            && !code.ends_with('.')
            && !code.contains("..")
            && code.split('.').all(|p| {
                p.as_bytes()
                    .first()
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
            });
        word_like.then(|| CodeEntry::Exact(TokenKind::Word, code.to_ascii_lowercase()))
    }

    /// A literal that every line holding a matching token contains (ASCII case aside).
    pub fn literal(&self) -> String {
        match self {
            CodeEntry::Exact(TokenKind::Aadsts, _) => "aadsts".to_string(),
            CodeEntry::Exact(_, text) => text.clone(),
            CodeEntry::Enhanced {
                prefix,
                detail_text: Some(d),
                ..
            } => format!("{prefix}{d}"),
            CodeEntry::Enhanced {
                prefix,
                detail_lo,
                detail_hi,
                ..
            } => {
                let (lo, hi) = (detail_lo.to_string(), detail_hi.to_string());
                let common: String = if lo.len() == hi.len() {
                    lo.chars()
                        .zip(hi.chars())
                        .take_while(|(a, b)| a == b)
                        .map(|(a, _)| a)
                        .collect()
                } else {
                    String::new()
                };
                format!("{prefix}{common}")
            }
        }
    }

    /// The score a token earns against this entry (2, or 3 for a reply-qualified entry whose
    /// reply code is on the line too); `None` when it does not match.
    pub fn score(&self, token: &Token) -> Option<u8> {
        match self {
            CodeEntry::Exact(kind, text) => {
                (token.kind == *kind && token.text == *text).then_some(super::rank::CODE)
            }
            CodeEntry::Enhanced {
                reply,
                prefix,
                detail_lo,
                detail_hi,
                ..
            } => {
                if token.kind != TokenKind::Enhanced {
                    return None;
                }
                let detail = token.text.strip_prefix(prefix.as_str())?;
                // No leading zeros, so `5.7.06` never falls into a `5.7.6xx` range by value.
                if detail.starts_with('0') && detail.len() > 1 {
                    return None;
                }
                let d: u16 = detail.parse().ok()?;
                if d < *detail_lo || d > *detail_hi {
                    return None;
                }
                match (reply, token.reply) {
                    (None, _) | (Some(_), None) => Some(super::rank::CODE),
                    (Some(want), Some(got)) if *want == got => {
                        Some(super::rank::CODE + super::rank::REPLY_BONUS)
                    }
                    (Some(_), Some(_)) => None,
                }
            }
        }
    }
}

fn parse_enhanced_entry(code: &str) -> Option<CodeEntry> {
    let (base, range_hi) = match code.split_once('-') {
        Some((base, hi)) => (base, Some(hi)),
        None => (code, None),
    };
    let b = base.as_bytes();
    let len = enhanced_at(b, 0)?;
    if len != b.len() {
        return None;
    }
    let last_dot = base.rfind('.')?;
    let prefix = base[..=last_dot].to_string();
    let detail_text = &base[last_dot + 1..];
    let lo: u16 = detail_text.parse().ok()?;
    match range_hi {
        None => Some(CodeEntry::Enhanced {
            reply: None,
            prefix,
            detail_lo: lo,
            detail_hi: lo,
            detail_text: Some(detail_text.to_string()),
        }),
        Some(hi) => {
            let hi: u16 = hi
                .parse()
                .ok()
                .filter(|h| *h >= lo && *h < 1000 && hi.len() <= 3)?;
            Some(CodeEntry::Enhanced {
                reply: None,
                prefix,
                detail_lo: lo,
                detail_hi: hi,
                detail_text: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &str) -> Vec<(TokenKind, String, Option<u16>)> {
        scan(line)
            .into_iter()
            .filter(|t| t.kind != TokenKind::Word)
            .map(|t| (t.kind, t.text, t.reply))
            .collect()
    }

    #[test]
    fn enhanced_codes_keep_their_reply_code() {
        use TokenKind::*;
        assert_eq!(
            kinds("S: 535 5.7.139 Authentication unsuccessful"),
            vec![
                (Reply, "535".into(), None),
                (Enhanced, "5.7.139".into(), Some(535))
            ]
        );
        assert_eq!(
            kinds("permanent error (535): 5.7.3 Authentication unsuccessful"),
            vec![
                (Reply, "535".into(), None),
                (Enhanced, "5.7.3".into(), Some(535))
            ]
        );
        assert_eq!(
            kinds("main.CRITICAL: 5.7.57 SMTP; Client"),
            vec![(Enhanced, "5.7.57".into(), None)]
        );
        assert_eq!(
            kinds("451-5.7.3 STARTTLS"),
            vec![
                (Reply, "451".into(), None),
                (Enhanced, "5.7.3".into(), Some(451))
            ]
        );
    }

    #[test]
    fn longer_dotted_numbers_are_not_enhanced_codes() {
        assert!(kinds("version 1.5.7.139 and 5.7.1390 and 10.5.7.3").is_empty());
        assert!(kinds("TLSv1.2 ECDHE").is_empty());
    }

    #[test]
    fn versions_are_not_enhanced_codes() {
        for line in [
            r#""POST /scan HTTP/1.1" 200 535 "-" "XeroxFW/5.7.139""#,
            "fw 5.7.139",
            "Firmware: 5.7.139",
            "firmware 5.7.139 installed",
            "Version 5.7.139",
            "v5.7.139",
            "build=5.7.139",
        ] {
            assert!(kinds(line).is_empty(), "{line}: {:?}", kinds(line));
        }
        use TokenKind::*;
        assert_eq!(kinds("5.7.139"), vec![(Enhanced, "5.7.139".into(), None)]);
        assert_eq!(
            kinds("535 5.7.139 Authentication unsuccessful"),
            vec![
                (Reply, "535".into(), None),
                (Enhanced, "5.7.139".into(), Some(535))
            ]
        );
        // A word that merely ends in `v` or `fw` is not a version word.
        assert_eq!(
            kinds("server: 5.7.139 denied"),
            vec![(Enhanced, "5.7.139".into(), None)]
        );
    }

    #[test]
    fn aadsts_with_a_space_and_escaped_error_codes() {
        assert_eq!(kinds("AADSTS 7000215 invalid secret")[0].1, "aadsts7000215");
        assert_eq!(kinds("aadsts: 50126")[0].1, "aadsts50126");
        assert!(kinds("AADSTS 2 errors").is_empty());
        assert!(kinds("AADSTS 70002x").is_empty());
        let t = kinds(r#""body":"{\"error\":\"invalid_client\",\"error_codes\":[7000215,50126]}""#);
        let codes: Vec<&str> = t.iter().map(|(_, s, _)| s.as_str()).collect();
        assert_eq!(codes, vec!["aadsts7000215", "aadsts50126"]);
    }

    #[test]
    fn bare_reply_codes_only_where_a_reply_starts() {
        use TokenKind::*;
        assert_eq!(
            kinds("504 Unrecognized authentication type"),
            vec![(Reply, "504".into(), None)]
        );
        assert_eq!(kinds("<<< 432 too many"), vec![(Reply, "432".into(), None)]);
        assert_eq!(
            kinds("2025-03-14 host smtp[1]: S: 421 closing"),
            vec![(Reply, "421".into(), None)]
        );
        // An access log's byte count is not a reply.
        assert!(kinds(r#"192.0.2.1 - - [x] "GET / HTTP/1.1" 200 535 "-" "curl""#).is_empty());
        assert!(kinds("size=535 pages=504").is_empty());
    }

    #[test]
    fn device_codes_and_error_numbers() {
        use TokenKind::*;
        assert_eq!(
            kinds("fault=016-781"),
            vec![(DeviceCode, "016-781".into(), None)]
        );
        assert!(kinds("call 555-123-4567").is_empty());
        assert_eq!(
            kinds("Send error 1102"),
            vec![(DeviceNumber, "1102".into(), None)]
        );
        assert_eq!(
            kinds("Error code: 1102"),
            vec![(DeviceNumber, "1102".into(), None)]
        );
        assert!(kinds("Job 1102 completed size=1102KB").is_empty());
    }

    #[test]
    fn aadsts_anywhere_and_in_error_code_arrays() {
        let t = kinds(r#"{"error_description":"AADSTS7000222: x","error_codes":[7000222, 50126]}"#);
        let codes: Vec<&str> = t.iter().map(|(_, s, _)| s.as_str()).collect();
        assert_eq!(codes, vec!["aadsts7000222", "aadsts7000222", "aadsts50126"]);
        assert_eq!(kinds("error=AADSTS50126:x")[0].1, "aadsts50126");
    }

    #[test]
    fn words_guids_and_dotted_words() {
        let words: Vec<String> = scan(
            "code=ErrorAccessDenied; STOREDRV.ClientSubmit 00000003-0000-0000-c000-000000000000",
        )
        .into_iter()
        .map(|t| t.text)
        .collect();
        for w in [
            "code",
            "erroraccessdenied",
            "storedrv",
            "clientsubmit",
            "storedrv.clientsubmit",
            "00000003-0000-0000-c000-000000000000",
        ] {
            assert!(words.contains(&w.to_string()), "{w} in {words:?}");
        }
    }

    #[test]
    fn code_entries_classify_and_score() {
        let e = CodeEntry::parse("535 5.7.3").expect("entry");
        let line = |s: &str| {
            scan(s)
                .into_iter()
                .find(|t| t.kind == TokenKind::Enhanced)
                .expect("enhanced")
        };
        assert_eq!(
            e.score(&line("535 5.7.3 Authentication unsuccessful")),
            Some(3)
        );
        assert_eq!(e.score(&line("5.7.3 Authentication unsuccessful")), Some(2));
        assert_eq!(e.score(&line("451 5.7.3 STARTTLS is required")), None);
        let range = CodeEntry::parse("5.7.606-649").expect("range");
        assert_eq!(range.literal(), "5.7.6");
        assert_eq!(range.score(&line("550 5.7.610 blocked")), Some(2));
        assert_eq!(range.score(&line("550 5.7.650 blocked")), None);
        assert_eq!(
            CodeEntry::parse("1102"),
            Some(CodeEntry::Exact(TokenKind::DeviceNumber, "1102".into()))
        );
        assert_eq!(
            CodeEntry::parse("504"),
            Some(CodeEntry::Exact(TokenKind::Reply, "504".into()))
        );
        assert_eq!(CodeEntry::parse("Access to OData is disabled"), None);
        assert_eq!(
            CodeEntry::parse("AADSTS7000215").map(|e| e.literal()),
            Some("aadsts".into())
        );
    }
}
