//! RSA keys (the rsa crate: ring cannot generate RSA keys) and RS256 signatures.

use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::error::LabError;

/// An RSA private key with its PKCS#8 encoding (for rcgen and for handing PEMs out).
#[derive(Clone)]
pub(crate) struct RsaKey {
    pub private: RsaPrivateKey,
    pub pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaKey(<redacted>)")
    }
}

impl RsaKey {
    /// A fresh 2048-bit key. Slow in unoptimised builds (about a second), so callers run it
    /// on a blocking thread.
    pub fn generate() -> Result<RsaKey, LabError> {
        let private =
            RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(LabError::crypto)?;
        let pkcs8_der = private
            .to_pkcs8_der()
            .map_err(LabError::crypto)?
            .as_bytes()
            .to_vec();
        Ok(RsaKey { private, pkcs8_der })
    }

    pub fn pkcs8_pem(&self) -> Result<String, LabError> {
        Ok(self
            .private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(LabError::crypto)?
            .to_string())
    }

    pub fn public(&self) -> RsaPublicKey {
        self.private.to_public_key()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWT `RS256`).
    pub fn sign_rs256(&self, message: &[u8]) -> Vec<u8> {
        SigningKey::<Sha256>::new(self.private.clone())
            .sign(message)
            .to_vec()
    }
}

/// Verifies an RS256 signature.
pub(crate) fn verify_rs256(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = Signature::try_from(signature) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(message, &signature)
        .is_ok()
}

/// The RSA key inside a SubjectPublicKeyInfo (None when it is not RSA).
pub(crate) fn public_from_spki(spki_der: &[u8]) -> Option<RsaPublicKey> {
    RsaPublicKey::from_public_key_der(spki_der).ok()
}

/// JWK `n` and `e`, base64url without padding.
pub(crate) fn jwk_components(key: &RsaPublicKey) -> (String, String) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    (
        b64.encode(key.n().to_bytes_be()),
        b64.encode(key.e().to_bytes_be()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip() -> Result<(), LabError> {
        let key = RsaKey::generate()?;
        let sig = key.sign_rs256(b"header.payload");
        assert!(verify_rs256(&key.public(), b"header.payload", &sig));
        assert!(!verify_rs256(&key.public(), b"header.payload2", &sig));
        Ok(())
    }
}
