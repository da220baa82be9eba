//! Checking a token's signature against the keys its tenant publishes (OpenID discovery ->
//! `jwks_uri`). Microsoft Graph tokens carry a header `nonce` and cannot be checked by anyone but
//! Graph, by design (reference §3): for them the answer is `NotVerifiableByDesign`, never "bad".
use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};
use serde::Deserialize;

use super::Jwt;

/// The parts of `/.well-known/openid-configuration` xdiag uses.
#[derive(Clone, Debug, Deserialize)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub token_endpoint: Option<String>,
}

impl OpenIdConfiguration {
    /// The tenant GUID in the issuer (`https://login.microsoftonline.com/{tid}/v2.0`), which
    /// reveals the tenant id behind a domain name.
    pub fn tenant_id(&self) -> Option<String> {
        let url = url::Url::parse(&self.issuer).ok()?;
        url.path_segments()?
            .find(|s| is_guid(s))
            .map(str::to_ascii_lowercase)
    }
}

/// A tenant's signing keys. Keys xdiag cannot read are skipped, not fatal.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    keys: Vec<Jwk>,
}

impl Keys {
    /// Parses a JWKS document (`{"keys": [...]}`), keeping every key jsonwebtoken understands.
    pub fn parse(body: &[u8]) -> Option<Keys> {
        #[derive(Deserialize)]
        struct Raw {
            keys: Vec<serde_json::Value>,
        }
        let raw: Raw = serde_json::from_slice(body).ok()?;
        let keys = raw
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value(k).ok())
            .collect();
        Some(Keys { keys })
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid))
    }
}

/// What the signature check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Signed by the key `kid` of the tenant's published set.
    Valid { kid: String },
    /// A Graph token (header `nonce`): only Graph itself can check it.
    NotVerifiableByDesign,
    /// No key with this `kid` in the tenant's set.
    UnknownKey { kid: Option<String> },
    /// The signature does not match the key.
    Invalid { reason: String },
    /// Not an RS256 token: Entra signs access tokens with RS256.
    UnsupportedAlgorithm(String),
}

impl SignatureCheck {
    /// A definite "this token was not signed by the tenant" (not merely "could not check").
    pub fn is_bad(&self) -> bool {
        matches!(
            self,
            SignatureCheck::UnknownKey { .. }
                | SignatureCheck::Invalid { .. }
                | SignatureCheck::UnsupportedAlgorithm(_)
        )
    }

    /// One line of evidence. Never contains the signature.
    pub fn describe(&self) -> String {
        match self {
            SignatureCheck::Valid { kid } => format!("valid (tenant key {kid})"),
            SignatureCheck::NotVerifiableByDesign => {
                "not verifiable by third parties by design (Microsoft Graph token)".into()
            }
            SignatureCheck::UnknownKey { kid: Some(kid) } => {
                format!("signed with key {kid}, which the tenant does not publish")
            }
            SignatureCheck::UnknownKey { kid: None } => "no key id in the header".into(),
            SignatureCheck::Invalid { reason } => {
                format!("does not match the tenant's key ({reason})")
            }
            SignatureCheck::UnsupportedAlgorithm(alg) => format!("algorithm {alg}, not RS256"),
        }
    }
}

/// Checks `token` (whose decoded form is `jwt`) against `keys`. Lifetime, audience and issuer are
/// judged elsewhere (`judge`), with clock-skew tolerance; this is only the signature.
pub fn verify(token: &str, jwt: &Jwt, keys: &Keys) -> SignatureCheck {
    if jwt.has_header_nonce() {
        return SignatureCheck::NotVerifiableByDesign;
    }
    match jwt.alg() {
        Some("RS256") => {}
        other => {
            return SignatureCheck::UnsupportedAlgorithm(other.unwrap_or("(none)").to_string());
        }
    }
    let Some(kid) = jwt.kid().map(str::to_string) else {
        return SignatureCheck::UnknownKey { kid: None };
    };
    let Some(jwk) = keys.find(&kid) else {
        return SignatureCheck::UnknownKey { kid: Some(kid) };
    };
    let key = match DecodingKey::from_jwk(jwk) {
        Ok(k) => k,
        Err(e) => {
            return SignatureCheck::Invalid {
                reason: format!("the published key cannot be read: {e}"),
            };
        }
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    match jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation) {
        Ok(_) => SignatureCheck::Valid { kid },
        Err(e) => match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => SignatureCheck::Invalid {
                reason: "signature mismatch".into(),
            },
            _ => SignatureCheck::Invalid {
                reason: e.to_string(),
            },
        },
    }
}

/// `8-4-4-4-12` hex digits.
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_reveals_the_tenant_id() {
        let c = OpenIdConfiguration {
            issuer: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"
                .into(),
            jwks_uri: "https://login.microsoftonline.com/x/discovery/v2.0/keys".into(),
            token_endpoint: None,
        };
        assert_eq!(
            c.tenant_id().as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert!(is_guid("11111111-2222-3333-4444-555555555555"));
        assert!(!is_guid("11111111-2222-3333-4444-55555555555g"));
    }

    #[test]
    fn unreadable_keys_are_skipped() {
        let keys =
            Keys::parse(br#"{"keys":[{"kty":"RSA","kid":"a","n":"sXch","e":"AQAB"},42,"x"]}"#)
                .expect("jwks");
        assert_eq!(keys.len(), 1);
    }
}
