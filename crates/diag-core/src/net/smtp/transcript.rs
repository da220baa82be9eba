//! The dialogue as a technician would read it in a protocol log: `C:` lines the client sent,
//! `S:` lines the server answered, `--` notes (TLS negotiated). Bounded in lines and line
//! length. Secrets never enter it: the client records the AUTH payload as `[redacted]` itself,
//! client lines pass through `redact` as well, and server lines lose anything shaped like a JWT
//! (a server that echoes a token). Server lines are not put through the general redaction, which
//! would take `250-AUTH LOGIN XOAUTH2` or a base64 JSON challenge for secrets.
use super::reply::Reply;
use crate::{jwt::find_tokens, redact::redact};

/// Lines kept in all; later ones are counted, not kept.
pub const MAX_LINES: usize = 120;
/// Lines kept of one reply (a long EHLO); the rest are summarised.
const MAX_REPLY_LINES: usize = 30;
const MAX_CHARS: usize = 300;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    lines: Vec<String>,
    dropped: usize,
}

impl Transcript {
    /// A line the client sent, as it may be shown (the caller has already masked secrets).
    pub fn client(&mut self, shown: &str) {
        self.push(redact(&format!("C: {shown}")).into_owned());
    }

    pub fn server(&mut self, reply: &Reply) {
        for (i, line) in reply.lines.iter().enumerate() {
            if i == MAX_REPLY_LINES && reply.lines.len() > MAX_REPLY_LINES + 1 {
                self.push(format!("S: … ({} more lines)", reply.lines.len() - i - 1));
                if let Some(last) = reply.lines.last() {
                    self.push(format!("S: {}", without_tokens(last)));
                }
                return;
            }
            self.push(format!("S: {}", without_tokens(line)));
        }
    }

    /// Something that is not a line on the wire (TLS negotiated, a timeout, a closed connection).
    pub fn note(&mut self, text: &str) {
        self.push(redact(&format!("-- {text}")).into_owned());
    }

    fn push(&mut self, line: String) {
        if self.lines.len() >= MAX_LINES {
            self.dropped += 1;
            return;
        }
        let mut line = line;
        if line.chars().count() > MAX_CHARS {
            line = line.chars().take(MAX_CHARS - 1).collect::<String>() + "…";
        }
        self.lines.push(line);
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The whole transcript, one line per line, with a last line for what was dropped.
    pub fn to_text(&self) -> String {
        let mut s = self.lines.join("\n");
        if self.dropped > 0 {
            s.push_str(&format!("\n-- {} more lines not kept", self.dropped));
        }
        s
    }

    /// Appends another dialogue (a second connection of the same check).
    pub fn extend(&mut self, other: &Transcript) {
        for l in &other.lines {
            if self.lines.len() >= MAX_LINES {
                self.dropped += 1;
            } else {
                self.lines.push(l.clone());
            }
        }
        self.dropped += other.dropped;
    }
}

/// `line` with every JWT-shaped run replaced.
fn without_tokens(line: &str) -> String {
    let mut out = line.to_string();
    for r in find_tokens(line).into_iter().rev() {
        out.replace_range(r, "[token redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_replies_are_summarised_and_lines_cut() {
        let mut t = Transcript::default();
        let lines: Vec<String> = (0..100)
            .map(|i| format!("250-K{i}"))
            .chain(["250 LAST".to_string()])
            .collect();
        t.server(&Reply { code: 250, lines });
        assert_eq!(t.lines().len(), MAX_REPLY_LINES + 2);
        assert!(t.lines().iter().any(|l| l.contains("70 more lines")));
        assert_eq!(t.lines().last().map(String::as_str), Some("S: 250 LAST"));
        t.client(&"word ".repeat(200));
        assert!(
            t.lines()
                .last()
                .is_some_and(|l| l.chars().count() == MAX_CHARS)
        );
    }

    #[test]
    fn the_number_of_lines_is_bounded_and_secrets_are_redacted() {
        let mut t = Transcript::default();
        for _ in 0..(MAX_LINES + 5) {
            t.note("x");
        }
        assert_eq!(t.lines().len(), MAX_LINES);
        assert!(t.to_text().ends_with("-- 5 more lines not kept"));
        let mut t = Transcript::default();
        t.client("AUTH XOAUTH2 dXNlcj1hQGIuY29tAWF1dGg9QmVhcmVyIHh4eHh4eHh4eHgBAQ==");
        assert_eq!(t.lines()[0], "C: AUTH XOAUTH2 [redacted]");
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
        t.server(&Reply {
            code: 535,
            lines: vec![format!("535 5.7.3 bad token {jwt}")],
        });
        assert_eq!(t.lines()[1], "S: 535 5.7.3 bad token [token redacted]");
        // Server lines keep what the general redaction would take for secrets.
        t.server(&Reply {
            code: 250,
            lines: vec!["250-AUTH LOGIN XOAUTH2".into(), "250 OK".into()],
        });
        t.server(&Reply {
            code: 334,
            lines: vec!["334 eyJzdGF0dXMiOiI0MDEifQ==".into()],
        });
        assert_eq!(
            &t.lines()[2..],
            [
                "S: 250-AUTH LOGIN XOAUTH2",
                "S: 250 OK",
                "S: 334 eyJzdGF0dXMiOiI0MDEifQ=="
            ]
        );
    }
}
