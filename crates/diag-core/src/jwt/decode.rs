use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Why a string is not a decodable JWT. Never carries the token itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("a JWT has three parts separated by dots; this has {0}")]
    WrongPartCount(usize),
    #[error("this is an encrypted token (JWE, five parts): its claims cannot be read")]
    Encrypted,
    #[error("the {0} is not valid base64url")]
    BadBase64(&'static str),
    #[error("the {0} is not a JSON object")]
    BadJson(&'static str),
}

/// A decoded, *unverified* token. The signature is only counted, never kept.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Claims,
    /// Every claim as sent, for evidence (the renderers choose what to show).
    pub raw_claims: Map<String, Value>,
    pub signature_present: bool,
}

impl Jwt {
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
    /// Graph tokens carry a `nonce` header that makes third-party signature checks fail by design.
    pub fn has_header_nonce(&self) -> bool {
        self.header.contains_key("nonce")
    }
}

/// The claims xdiag reasons about. Unknown claims stay in `Jwt::raw_claims`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Claims {
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    pub iss: Option<String>,
    pub tid: Option<String>,
    pub appid: Option<String>,
    pub azp: Option<String>,
    pub app_displayname: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Delegated scopes, split on spaces.
    #[serde(default, deserialize_with = "space_separated")]
    pub scp: Vec<String>,
    pub idtyp: Option<String>,
    pub oid: Option<String>,
    pub upn: Option<String>,
    pub preferred_username: Option<String>,
    pub unique_name: Option<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub ver: Option<String>,
}

impl Claims {
    /// The app that asked for the token (`appid` in v1 tokens, `azp` in v2).
    pub fn client_id(&self) -> Option<&str> {
        self.appid.as_deref().or(self.azp.as_deref())
    }
    /// The signed-in user of a delegated token.
    pub fn user(&self) -> Option<&str> {
        self.upn
            .as_deref()
            .or(self.preferred_username.as_deref())
            .or(self.unique_name.as_deref())
    }
    /// App-only (client credentials): `idtyp` says so, or there are roles and no scopes.
    pub fn is_app_only(&self) -> bool {
        match self.idtyp.as_deref() {
            Some(t) => t.eq_ignore_ascii_case("app"),
            None => self.scp.is_empty() && self.user().is_none(),
        }
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

fn space_separated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default())
}

/// Decodes a compact JWT. Accepts surrounding whitespace and a `Bearer ` prefix.
pub fn decode(token: &str) -> Result<Jwt, JwtError> {
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(JwtError::Encrypted),
        n => return Err(JwtError::WrongPartCount(n)),
    }
    let header = decode_object(parts[0], "header")?;
    let raw_claims = decode_object(parts[1], "claims part")?;
    let claims = serde_json::from_value(Value::Object(raw_claims.clone()))
        .map_err(|_| JwtError::BadJson("claims part"))?;
    Ok(Jwt {
        header,
        claims,
        raw_claims,
        signature_present: !parts[2].is_empty(),
    })
}

fn decode_object(part: &str, name: &'static str) -> Result<Map<String, Value>, JwtError> {
    // Some tools pad base64url; the JWT form has no padding.
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::BadBase64(name))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::BadJson(name)),
    }
}

/// Byte ranges of things in `text` that look like compact JWTs (`eyJ...` `.` `eyJ...` `.` sig),
/// including truncated ones (two parts) so that they can be reported as malformed.
pub fn find_tokens(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(off) = memchr::memmem::find(&bytes[i..], b"eyJ") {
        let start = i + off;
        if start > 0 && (is_b64(bytes[start - 1]) || bytes[start - 1] == b'.') {
            i = start + 3;
            continue;
        }
        let mut end = start;
        let mut dots = 0;
        while end < bytes.len() && (is_b64(bytes[end]) || (bytes[end] == b'.' && dots < 4)) {
            dots += usize::from(bytes[end] == b'.');
            end += 1;
        }
        // A header of at least `{"alg":"x"}` and a second part that also starts like JSON.
        let second = text[start..end].split('.').nth(1).unwrap_or("");
        if dots >= 1 && end - start >= 20 && second.starts_with("eyJ") {
            found.push(start..end);
        }
        i = end.max(start + 3);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    #[test]
    fn decodes_header_claims_and_space_separated_scopes() {
        let t = token(
            r#"{"alg":"RS256","kid":"k1","nonce":"n"}"#,
            r#"{"aud":"https://graph.microsoft.com","scp":"Mail.Send User.Read","roles":["A"],"exp":5}"#,
        );
        let jwt = decode(&format!("Bearer {t}")).expect("decodes");
        assert_eq!(jwt.alg(), Some("RS256"));
        assert!(jwt.has_header_nonce());
        assert_eq!(jwt.claims.aud, vec!["https://graph.microsoft.com"]);
        assert_eq!(jwt.claims.scp, vec!["Mail.Send", "User.Read"]);
        assert_eq!(jwt.claims.exp, Some(5));
        assert!(jwt.signature_present);
    }

    #[test]
    fn refuses_non_tokens_without_echoing_them() {
        assert_eq!(decode("abc").err(), Some(JwtError::WrongPartCount(1)));
        assert_eq!(decode("a.b.c.d.e").err(), Some(JwtError::Encrypted));
        assert_eq!(
            decode("!!.e30.x").err(),
            Some(JwtError::BadBase64("header"))
        );
        assert_eq!(
            decode(&format!("{}.{}.x", b64("{}"), b64("[1]"))).err(),
            Some(JwtError::BadJson("claims part"))
        );
        let err = decode("eyJzZWNyZXQiOjF9.zzz")
            .expect_err("two parts")
            .to_string();
        assert!(!err.contains("zzz"));
    }

    #[test]
    fn finds_tokens_in_text_and_ignores_lookalikes() {
        let t = token(r#"{"alg":"RS256"}"#, r#"{"aud":"x"}"#);
        let line = format!("Authorization: Bearer {t} next");
        let found = find_tokens(&line);
        assert_eq!(found.len(), 1);
        assert_eq!(&line[found[0].clone()], t);
        assert!(find_tokens("eyJ alone and keyJ").is_empty());
    }
}
