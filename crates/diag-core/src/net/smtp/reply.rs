//! SMTP replies: reading them off the wire (multi-line `250-...`, replies split across reads,
//! bare LF tolerated) with two bounds, a cap on one line and a cap on a whole reply, so a server
//! that sends an endless line or a megabyte of EHLO costs a bounded read, never unbounded memory.
use std::fmt;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Longest line kept (RFC 5321 allows 512 octets; servers in the wild send more, not this much).
pub const MAX_LINE: usize = 2048;
/// Most bytes read for one reply, all lines together: past this the reply is refused.
pub const MAX_REPLY: usize = 64 * 1024;
const CHUNK: usize = 4096;

/// One reply: its code and every line as sent (without CR LF), each cut at `MAX_LINE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The text of each line, after the code and the separator.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|l| l.get(4..).unwrap_or(""))
    }
    /// Every line's text, joined with spaces (what classifiers read).
    pub fn text(&self) -> String {
        self.texts().collect::<Vec<_>>().join(" ")
    }
    /// The enhanced status code (`5.7.139`) at the start of the first line's text, if any.
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        EnhancedCode::at_start(self.texts().next().unwrap_or(""))
    }
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }
    /// The reply on one line, shortened, for a finding summary.
    pub fn one_line(&self) -> String {
        let mut s = format!("{} {}", self.code, self.text());
        if s.chars().count() > 200 {
            s = s.chars().take(199).collect::<String>() + "…";
        }
        s
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line())
    }
}

/// RFC 3463 `class.subject.detail`, e.g. `5.7.139`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EnhancedCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl EnhancedCode {
    pub const fn new(class: u8, subject: u16, detail: u16) -> EnhancedCode {
        EnhancedCode {
            class,
            subject,
            detail,
        }
    }

    /// The code at the start of `text` (leading spaces allowed; a trailing `:` or `;` too).
    pub fn at_start(text: &str) -> Option<EnhancedCode> {
        let word = text
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == ';' || c == ':' || c == ',')
            .next()?;
        EnhancedCode::parse(word)
    }

    /// Every enhanced code in `text` (for replies that put it after a prefix, and for logs).
    pub fn find_all(text: &str) -> Vec<EnhancedCode> {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter_map(|w| EnhancedCode::parse(w.trim_end_matches('.')))
            .collect()
    }

    pub fn parse(word: &str) -> Option<EnhancedCode> {
        let mut parts = word.split('.');
        let (c, s, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || c.len() != 1
            || !(1..=3).contains(&s.len())
            || !(1..=3).contains(&d.len())
        {
            return None;
        }
        let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(c) && all_digits(s) && all_digits(d)) {
            return None;
        }
        let class: u8 = c.parse().ok()?;
        if !matches!(class, 2 | 4 | 5) {
            return None;
        }
        Some(EnhancedCode {
            class,
            subject: s.parse().ok()?,
            detail: d.parse().ok()?,
        })
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// Why no reply could be read (the caller adds the deadline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The connection closed before a full reply.
    Closed,
    /// The reply was longer than `MAX_REPLY` bytes.
    TooLong,
    /// The first line is not `NNN` + text: not SMTP. `preview` is the first bytes, escaped.
    NotSmtp {
        preview: String,
        looks_like_tls: bool,
    },
    Io(String),
}

/// Bytes read from the connection and not yet consumed. Kept across replies (a server may send
/// two replies in one packet when pipelining) and emptied on a TLS upgrade.
#[derive(Debug, Default)]
pub struct ReadBuf {
    pending: Vec<u8>,
}

impl ReadBuf {
    /// Drops what is buffered (before switching to TLS, bytes sent in plain text must not be
    /// read as if they came over TLS).
    pub fn clear(&mut self) -> usize {
        let n = self.pending.len();
        self.pending.clear();
        n
    }
}

/// One line: at most `MAX_LINE` bytes of it, and how many bytes it took on the wire.
struct Line {
    bytes: Vec<u8>,
    wire: usize,
}

/// Reads one whole reply from `r`. Never holds more than `MAX_LINE` + one chunk per line, and
/// gives up after `MAX_REPLY` bytes.
pub async fn read_reply<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut ReadBuf,
) -> Result<Reply, ReadError> {
    let mut used = 0usize;
    let mut lines: Vec<String> = Vec::new();
    let mut code: Option<u16> = None;
    loop {
        let line = read_line(r, buf, MAX_REPLY - used.min(MAX_REPLY)).await?;
        used += line.wire;
        let (this_code, more) = match parse_line(&line.bytes) {
            Some(p) => p,
            None if code.is_none() => return Err(not_smtp(&line.bytes)),
            // A stray line inside a multi-line reply: keep it, as a server meant it.
            None => (code.unwrap_or(0), true),
        };
        let code = *code.get_or_insert(this_code);
        lines.push(printable(&line.bytes));
        if !more {
            return Ok(Reply { code, lines });
        }
        if used >= MAX_REPLY {
            return Err(ReadError::TooLong);
        }
    }
}

/// The next line (without CR LF). Bytes past `MAX_LINE` are read and dropped; more than
/// `budget` bytes on the wire is `TooLong`.
async fn read_line<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut ReadBuf,
    budget: usize,
) -> Result<Line, ReadError> {
    let mut kept: Vec<u8> = Vec::new();
    let mut wire = 0usize;
    loop {
        if let Some(pos) = buf.pending.iter().position(|&b| b == b'\n') {
            let rest = buf.pending.split_off(pos + 1);
            let mut line = std::mem::replace(&mut buf.pending, rest);
            wire += line.len();
            if wire > budget {
                return Err(ReadError::TooLong);
            }
            line.pop();
            let room = MAX_LINE.saturating_sub(kept.len());
            kept.extend_from_slice(&line[..line.len().min(room)]);
            // The CR may have come in an earlier read than its LF.
            if kept.last() == Some(&b'\r') {
                kept.pop();
            }
            return Ok(Line { bytes: kept, wire });
        }
        // No end of line yet: keep what fits, drop the rest, count all of it.
        wire += buf.pending.len();
        if wire > budget {
            return Err(ReadError::TooLong);
        }
        let room = MAX_LINE.saturating_sub(kept.len());
        let take = buf.pending.len().min(room);
        kept.extend_from_slice(&buf.pending[..take]);
        buf.pending.clear();

        let mut chunk = [0u8; CHUNK];
        let n = r.read(&mut chunk).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => ReadError::Closed,
            _ => ReadError::Io(e.to_string()),
        })?;
        if n == 0 {
            if kept.is_empty() && wire == 0 {
                return Err(ReadError::Closed);
            }
            // The server closed in the middle of a line: what arrived may still say why
            // (e.g. a TLS alert after a plain-text command).
            if parse_line(&kept).is_none() {
                return Err(not_smtp(&kept));
            }
            return Err(ReadError::Closed);
        }
        buf.pending.extend_from_slice(&chunk[..n]);
    }
}

/// `NNN-text` (more lines follow), `NNN text` or `NNN` (last line).
fn parse_line(line: &[u8]) -> Option<(u16, bool)> {
    if line.len() < 3
        || !line[..3].iter().all(u8::is_ascii_digit)
        || !(b'2'..=b'5').contains(&line[0])
    {
        return None;
    }
    let code = u16::from(line[0] - b'0') * 100
        + u16::from(line[1] - b'0') * 10
        + u16::from(line[2] - b'0');
    match line.get(3) {
        None | Some(b' ') | Some(b'\t') => Some((code, false)),
        Some(b'-') => Some((code, true)),
        Some(_) => None,
    }
}

fn not_smtp(bytes: &[u8]) -> ReadError {
    // 0x16 = TLS handshake record, 0x15 = TLS alert, then major version 3.
    let looks_like_tls = bytes.len() >= 2 && matches!(bytes[0], 0x15 | 0x16) && bytes[1] == 0x03;
    ReadError::NotSmtp {
        preview: preview(bytes),
        looks_like_tls,
    }
}

/// The first bytes, printable ASCII as is and the rest as `\xNN`, for evidence.
pub fn preview(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes.iter().take(24) {
        if (0x20..0x7f).contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    if bytes.len() > 24 {
        s.push('…');
    }
    s
}

/// A line as text: invalid UTF-8 replaced, control characters shown as `?`.
fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(input: &[u8]) -> Vec<Result<Reply, ReadError>> {
        let mut r = input;
        let mut buf = ReadBuf::default();
        let mut out = Vec::new();
        loop {
            let reply = read_reply(&mut r, &mut buf).await;
            let stop = reply.is_err();
            out.push(reply);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn multi_line_and_pipelined_replies() {
        let got = read_all(b"250-smtp.example Hello\r\n250-STARTTLS\r\n250 SIZE 157286400\r\n220 2.0.0 SMTP server ready\n").await;
        let first = got[0].as_ref().expect("ehlo");
        assert_eq!(first.code, 250);
        assert_eq!(first.lines.len(), 3);
        assert_eq!(first.texts().nth(1), Some("STARTTLS"));
        let second = got[1].as_ref().expect("starttls");
        assert_eq!(
            (second.code, second.enhanced()),
            (220, Some(EnhancedCode::new(2, 0, 0)))
        );
        assert_eq!(got[2], Err(ReadError::Closed));
    }

    #[tokio::test]
    async fn a_bare_code_line_and_enhanced_codes() {
        let got = read_all(b"354\r\n").await;
        assert_eq!(got[0].as_ref().expect("354").code, 354);
        let r = Reply {
            code: 535,
            lines: vec!["535 5.7.139 Authentication unsuccessful, x".into()],
        };
        assert_eq!(r.enhanced(), Some(EnhancedCode::new(5, 7, 139)));
        assert_eq!(
            EnhancedCode::at_start("5.7.509: Access denied"),
            Some(EnhancedCode::new(5, 7, 509))
        );
        assert_eq!(EnhancedCode::at_start("Authentication unsuccessful"), None);
        assert_eq!(EnhancedCode::parse("1.2.3"), None);
        assert_eq!(
            EnhancedCode::find_all("said: 550 5.7.64 TenantAttribution; x 4.4.62."),
            vec![EnhancedCode::new(5, 7, 64), EnhancedCode::new(4, 4, 62)]
        );
    }

    #[tokio::test]
    async fn a_cr_and_its_lf_in_different_reads() {
        let mut r = tokio_test_reader(&[b"250-A\r", b"\n250 B\r", b"\n"]);
        let reply = read_reply(&mut r, &mut ReadBuf::default())
            .await
            .expect("reply");
        assert_eq!(reply.lines, vec!["250-A", "250 B"]);
    }

    /// A reader that hands out `parts` one read at a time.
    fn tokio_test_reader(parts: &[&[u8]]) -> impl AsyncRead + Unpin {
        let (mut w, r) = tokio::io::duplex(1024);
        let parts: Vec<Vec<u8>> = parts.iter().map(|p| p.to_vec()).collect();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for p in parts {
                let _ = w.write_all(&p).await;
                let _ = w.flush().await;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        });
        r
    }

    #[tokio::test]
    async fn an_endless_line_is_bounded() {
        let endless = vec![b'A'; MAX_REPLY + 10];
        let got = read_all(&endless).await;
        assert_eq!(got[0], Err(ReadError::TooLong));
    }

    #[tokio::test]
    async fn a_long_line_is_cut_but_the_reply_survives() {
        let mut input = b"250-".to_vec();
        input.extend(vec![b'x'; MAX_LINE * 3]);
        input.extend_from_slice(b"\r\n250 OK\r\n");
        let got = read_all(&input).await;
        let r = got[0].as_ref().expect("reply");
        assert_eq!(r.lines[0].len(), MAX_LINE);
        assert_eq!(r.lines[1], "250 OK");
    }

    #[tokio::test]
    async fn tls_bytes_and_garbage_are_not_smtp() {
        let got = read_all(&[0x16, 0x03, 0x03, 0x00, 0x2a, 0x02, b'\n']).await;
        assert!(
            matches!(
                &got[0],
                Err(ReadError::NotSmtp {
                    looks_like_tls: true,
                    ..
                })
            ),
            "{got:?}"
        );
        let got = read_all(b"HTTP/1.1 400 Bad Request\r\n").await;
        assert!(
            matches!(&got[0], Err(ReadError::NotSmtp { looks_like_tls: false, preview }) if preview.starts_with("HTTP/1.1")),
            "{got:?}"
        );
        // A TLS alert with no newline, then close.
        let got = read_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]).await;
        assert!(
            matches!(
                &got[0],
                Err(ReadError::NotSmtp {
                    looks_like_tls: true,
                    ..
                })
            ),
            "{got:?}"
        );
    }
}
