//! SASL XOAUTH2 (reference §4): the initial response is base64 of
//! `user=<mailbox>\x01auth=Bearer <token>\x01\x01`. A server that refuses it may answer `334`
//! with a base64 JSON challenge (`{"status":"401","schemes":"bearer","scope":"..."}`), which the
//! client must answer with an empty line before the final reply comes.
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::Deserialize;

use crate::secret::Secret;

/// The base64 initial response. It holds the token: a `Secret`, never printed.
pub fn initial_response(user: &str, token: &Secret<String>) -> Secret<String> {
    let raw = format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose());
    Secret::new(STANDARD.encode(raw.as_bytes()))
}

/// A `334` challenge, decoded where it is the JSON Gmail and others send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Challenge {
    /// The base64 text as sent.
    pub raw: String,
    /// The decoded text, when it is UTF-8.
    pub decoded: Option<String>,
    pub status: Option<String>,
    pub schemes: Option<String>,
    pub scope: Option<String>,
}

#[derive(Deserialize)]
struct Json {
    status: Option<serde_json::Value>,
    schemes: Option<String>,
    scope: Option<String>,
}

impl Challenge {
    pub fn parse(text: &str) -> Challenge {
        let raw = text.trim().to_string();
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let decoded = STANDARD
            .decode(compact.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let json = decoded
            .as_deref()
            .and_then(|d| serde_json::from_str::<Json>(d).ok());
        let (status, schemes, scope) = match json {
            Some(j) => {
                let status = j.status.map(|s| {
                    s.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| s.to_string())
                });
                (status, j.schemes, j.scope)
            }
            None => (None, None, None),
        };
        Challenge {
            raw,
            decoded,
            status,
            schemes,
            scope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_response_has_the_documented_shape() {
        let r = initial_response("scanner@contoso.com", &Secret::new("TOKEN".into()));
        let raw = STANDARD.decode(r.expose()).expect("base64");
        assert_eq!(
            raw,
            b"user=scanner@contoso.com\x01auth=Bearer TOKEN\x01\x01"
        );
        assert_eq!(format!("{r:?}"), "[redacted]");
    }

    #[test]
    fn a_json_challenge_is_decoded() {
        let b64 = STANDARD
            .encode(r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#);
        let c = Challenge::parse(&b64);
        assert_eq!(c.status.as_deref(), Some("401"));
        assert_eq!(c.schemes.as_deref(), Some("bearer"));
        assert_eq!(c.scope.as_deref(), Some("https://mail.google.com/"));
        let odd = Challenge::parse("not base64!");
        assert_eq!((odd.decoded, odd.status), (None, None));
    }
}
