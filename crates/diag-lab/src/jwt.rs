//! Compact JWS (RS256) encoding and decoding, done by hand so the lab can reproduce Graph's
//! header `nonce` behaviour (reference/microsoft-facts.md §3 "Graph tokens can't be
//! signature-checked by third parties").

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPublicKey;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::crypto::rsa_key::{RsaKey, verify_rs256};

pub(crate) type Object = Map<String, Value>;

/// A signed JWT. The signature covers `header.claims` as encoded.
pub(crate) fn encode(header: &Object, claims: &Object, key: &RsaKey) -> String {
    let input = signing_input(header, &b64_json(claims));
    let signature = key.sign_rs256(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// A JWT whose header carries `nonce`, signed the way Graph tokens are: the signature covers
/// the header with the nonce replaced by its SHA-256 (hex), so a standard JWT library fails to
/// verify the token even with the right key, while the lab's Graph (knowing the rule) succeeds.
pub(crate) fn encode_with_nonce(header: &Object, claims: &Object, key: &RsaKey) -> String {
    let payload = b64_json(claims);
    let signed_input = signing_input(&hashed_nonce_header(header), &payload);
    let signature = key.sign_rs256(signed_input.as_bytes());
    format!(
        "{}.{}",
        signing_input(header, &payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A decoded (not yet verified) JWT.
pub(crate) struct Decoded {
    pub header: Object,
    pub claims: Object,
    payload_b64: String,
    header_b64: String,
    signature: Vec<u8>,
}

/// Splits and decodes a compact JWS. The error says what is wrong, Graph-style.
pub(crate) fn decode(token: &str) -> Result<Decoded, &'static str> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("IDX14100: JWT is not well formed, there are no dots (.).");
    };
    let object = |part: &str| -> Option<Object> {
        let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let (Some(header), Some(claims), Ok(signature)) =
        (object(h), object(p), URL_SAFE_NO_PAD.decode(s))
    else {
        return Err("IDX14102: Unable to decode the header or payload as Base64Url encoded JSON.");
    };
    Ok(Decoded {
        header,
        claims,
        payload_b64: p.to_string(),
        header_b64: h.to_string(),
        signature,
    })
}

impl Decoded {
    /// Standard RS256 verification over the header as sent.
    pub fn verify(&self, key: &RsaPublicKey) -> bool {
        let input = format!("{}.{}", self.header_b64, self.payload_b64);
        verify_rs256(key, input.as_bytes(), &self.signature)
    }

    /// Verification as Graph does it for tokens with a header nonce.
    pub fn verify_with_nonce(&self, key: &RsaPublicKey) -> bool {
        let input = signing_input(&hashed_nonce_header(&self.header), &self.payload_b64);
        verify_rs256(key, input.as_bytes(), &self.signature)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn claim_i64(&self, name: &str) -> Option<i64> {
        self.claims.get(name).and_then(Value::as_i64)
    }
}

fn hashed_nonce_header(header: &Object) -> Object {
    let mut header = header.clone();
    if let Some(Value::String(nonce)) = header.get("nonce") {
        let hashed: String = Sha256::digest(nonce.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        header.insert("nonce".into(), Value::String(hashed));
    }
    header
}

fn b64_json(object: &Object) -> String {
    // Serialising a Map of JSON values cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(object).unwrap_or_default())
}

fn signing_input(header: &Object, payload_b64: &str) -> String {
    format!("{}.{payload_b64}", b64_json(header))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::LabError;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(m) => m,
            _ => Object::new(),
        }
    }

    #[test]
    fn nonce_tokens_verify_only_the_graph_way() -> Result<(), LabError> {
        let key = RsaKey::generate()?;
        let header = obj(json!({"typ": "JWT", "alg": "RS256", "nonce": "abc"}));
        let claims = obj(json!({"aud": "https://graph.microsoft.com"}));
        let plain = decode(&encode(&header, &claims, &key)).map_err(LabError::crypto)?;
        assert!(plain.verify(&key.public()));
        let graph = decode(&encode_with_nonce(&header, &claims, &key)).map_err(LabError::crypto)?;
        assert_eq!(graph.header.get("nonce"), Some(&json!("abc")));
        assert!(!graph.verify(&key.public()));
        assert!(graph.verify_with_nonce(&key.public()));
        assert!(decode("not-a-token").is_err());
        Ok(())
    }
}
