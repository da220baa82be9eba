//! Reading the DATA section: dot-unstuffing, a size bound, and the header fields the lab looks
//! at (From, Subject).

use super::command;
use super::conn::{Conn, Line, ReadError};

/// Longest accepted text line in DATA (RFC 5321 allows 1000 octets; devices sometimes send
/// long base64 lines, so the lab is lenient).
const DATA_LINE_MAX: usize = 64 * 1024;

/// What the lab keeps of a message.
pub(super) struct Message {
    /// The bare address of the `From:` header, if any.
    pub from: Option<String>,
    pub subject: String,
    /// Over the size bound: the message was read to its end but not kept.
    pub too_big: bool,
}

/// Reads up to the lone `.`; `max_size` bounds the message.
pub(super) async fn read(conn: &mut Conn, max_size: usize) -> Result<Message, ReadError> {
    let mut size = 0usize;
    let mut in_headers = true;
    let mut headers: Vec<String> = Vec::new();
    let mut too_big = false;
    loop {
        let line = match conn.read_line(DATA_LINE_MAX).await? {
            Line::TooLong => {
                too_big = true;
                continue;
            }
            Line::Text(t) => t,
        };
        if line == "." {
            break;
        }
        let line = line.strip_prefix('.').map(str::to_string).unwrap_or(line);
        size += line.len() + 2;
        if size > max_size {
            too_big = true;
        }
        if in_headers {
            if line.is_empty() {
                in_headers = false;
            } else if line.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.push_str(&line);
                }
            } else if headers.len() < 200 {
                headers.push(line);
            }
        }
    }
    let field = |name: &str| {
        headers.iter().find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    Ok(Message {
        from: field("From")
            .map(|v| bare_address(&v))
            .filter(|a| command::is_mailbox(a)),
        subject: field("Subject").unwrap_or_default(),
        too_big,
    })
}

/// `Name <a@b>` -> `a@b`.
fn bare_address(value: &str) -> String {
    match (value.rfind('<'), value.rfind('>')) {
        (Some(start), Some(end)) if start < end => value[start + 1..end].trim().to_string(),
        _ => value.trim().to_string(),
    }
}
