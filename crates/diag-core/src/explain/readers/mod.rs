//! Structured readers: they understand a piece of text (a JWT, an XOAUTH2 blob, a JSON error
//! body) instead of matching it, and add strong hits of their own. Artifact readers rebuild
//! whole artifacts (an SMTP session, a bounce, headers, a sign-in log export); `ARTIFACT_READERS`
//! lists them for the scan.
pub mod artifact;
pub mod json;
pub mod jwt;
pub mod xoauth2;

/// One artifact reader as the scan runs it.
pub struct ArtifactReader {
    /// The module name (`smtp_session`), for messages.
    pub name: &'static str,
    /// `read(text, first_line, now)`: the artifacts in `text`, line numbers from `first_line`.
    pub read: fn(&str, u64, i64) -> Vec<artifact::Artifact>,
    /// Lower-case literals: a large input is read only around lines that hold one.
    pub triggers: &'static [&'static str],
}

/// Declares each artifact reader module and lists it in `ARTIFACT_READERS`: adding a reader
/// (a module with `read` and `TRIGGERS`) is one name here.
macro_rules! artifact_readers {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*
        pub const ARTIFACT_READERS: &[ArtifactReader] = &[$(ArtifactReader {
            name: stringify!($module),
            read: $module::read,
            triggers: $module::TRIGGERS,
        }),*];
    };
}

artifact_readers!(smtp_session, bounce, headers, signin);

use crate::jwt::Intended;

/// Lines looked at on each side of a token to see how it is used.
const CONTEXT_LINES: usize = 5;
/// Bytes looked at on each side at most (a single huge line must not be searched whole).
const CONTEXT_BYTES: usize = 4096;

const SMTP_WORDS: &[&str] = &[
    "xoauth2",
    "smtp",
    ":587",
    "port 587",
    "auth login",
    "starttls",
];
const GRAPH_WORDS: &[&str] = &["sendmail", "/v1.0/", "/beta/", "graph api", "ms graph"];

/// How the text around `data[start..end]` says a token is used: the nearest line that names
/// only one way of sending wins; a line that names both, or none nearby, says nothing.
pub fn usage_near(data: &[u8], start: usize, end: usize) -> Option<Intended> {
    let says = |line: &[u8]| -> Option<Option<Intended>> {
        let lower =
            String::from_utf8_lossy(&line[..line.len().min(CONTEXT_BYTES)]).to_ascii_lowercase();
        let smtp = SMTP_WORDS.iter().any(|w| lower.contains(w));
        let graph = GRAPH_WORDS.iter().any(|w| lower.contains(w));
        match (smtp, graph) {
            (true, false) => Some(Some(Intended::Smtp)),
            (false, true) => Some(Some(Intended::Graph)),
            (true, true) => Some(None),
            (false, false) => None,
        }
    };
    if let Some(verdict) = says(&data[start..end]) {
        return verdict;
    }
    let lo = start.saturating_sub(CONTEXT_BYTES);
    let hi = (end + CONTEXT_BYTES).min(data.len());
    let before: Vec<&[u8]> = data[lo..start]
        .split(|&b| b == b'\n')
        .rev()
        .skip(1)
        .take(CONTEXT_LINES)
        .collect();
    let after: Vec<&[u8]> = data[end.min(hi)..hi]
        .split(|&b| b == b'\n')
        .skip(1)
        .take(CONTEXT_LINES)
        .collect();
    for d in 0..CONTEXT_LINES {
        let b = before.get(d).and_then(|l| says(l));
        let a = after.get(d).and_then(|l| says(l));
        match (b, a) {
            (Some(x), None) | (None, Some(x)) => return x,
            (Some(x), Some(y)) if x == y => return x,
            (Some(_), Some(_)) => return None,
            (None, None) => {}
        }
    }
    None
}

/// The XOAUTH2 login a debug log printed in clear (`AUTH XOAUTH2 user=relay@contoso.com`) on
/// the token's line or one of the few lines before it, so a bare token can be compared with the
/// mailbox that logs in, as a blob's own `user=` is.
pub fn xoauth2_user_near(data: &[u8], start: usize, end: usize) -> Option<String> {
    let lo = start.saturating_sub(CONTEXT_BYTES);
    let lines = data[lo..end.min(data.len())]
        .split(|&b| b == b'\n')
        .rev()
        .take(CONTEXT_LINES + 1);
    for line in lines {
        let line = String::from_utf8_lossy(&line[..line.len().min(CONTEXT_BYTES)]);
        let lower = line.to_ascii_lowercase();
        if !lower.contains("xoauth2") {
            continue;
        }
        let Some(at) = lower.find("user=") else {
            continue;
        };
        let user: String = line[at + 5..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "._%+-@".contains(*c))
            .collect();
        if user.contains('@') {
            return Some(user);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_xoauth2_login_near_a_token_names_its_user() {
        let text = "AUTH XOAUTH2 user=relay@contoso.com\ntoken: TOKEN\n";
        let start = text.find("token").expect("token");
        let end = start + "token: TOKEN".len();
        assert_eq!(
            xoauth2_user_near(text.as_bytes(), start, end).as_deref(),
            Some("relay@contoso.com")
        );
        let plain = "GET /login?user=a@b.com\ntoken: TOKEN\n";
        let start = plain.find("token").expect("token");
        assert_eq!(xoauth2_user_near(plain.as_bytes(), start, start + 12), None);
    }

    fn around(text: &str, marker: &str) -> Option<Intended> {
        let start = text.find(marker).expect("marker");
        let end = start + text[start..].find('\n').unwrap_or(text.len() - start);
        usage_near(text.as_bytes(), start, end)
    }

    #[test]
    fn nearest_line_decides() {
        assert_eq!(around("C: AUTH XOAUTH2 TOKEN", "C:"), Some(Intended::Smtp));
        assert_eq!(
            around(
                "POST /v1.0/users/x/sendMail\nAuthorization: Bearer TOKEN\n",
                "Authorization"
            ),
            Some(Intended::Graph)
        );
        assert_eq!(
            around(
                "connect smtp.office365.com:587\ntoken TOKEN\nx\nsendMail later\nx",
                "token"
            ),
            Some(Intended::Smtp)
        );
        assert_eq!(around("token TOKEN\nnothing here", "token"), None);
    }
}
