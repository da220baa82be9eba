//! The RS256 client assertion for certificate credentials (reference §2): header `x5t` = base64url
//! SHA-1 of the certificate's DER, claims `aud` = token URL, `iss` = `sub` = client id, a fresh
//! `jti`, `nbf` now and `exp` ten minutes later. The assertion is a `Secret` like the key.
use base64::{
    Engine as _, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use sha1::{Digest, Sha1};

use crate::secret::Secret;

/// How long an assertion is valid: Entra accepts up to ten minutes.
const LIFETIME_SECS: i64 = 600;

pub(crate) struct Assertion {
    pub jwt: Secret<String>,
}

#[derive(serde::Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

fn certificate_der(certificate_pem: &str) -> Result<CertificateDer<'static>, String> {
    CertificateDer::from_pem_slice(certificate_pem.as_bytes())
        .map_err(|_| "the certificate is not a PEM certificate (BEGIN CERTIFICATE)".to_string())
}

/// The SHA-1 thumbprint in the form the Entra portal shows (upper-case hex).
pub(crate) fn thumbprint(certificate_pem: &str) -> Result<String, String> {
    let der = certificate_der(certificate_pem)?;
    Ok(Sha1::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect())
}

/// Signs an assertion for `client_id` addressed to `token_url`. Errors never quote the key.
pub(crate) fn build(
    certificate_pem: &str,
    private_key_pem: &Secret<String>,
    client_id: &str,
    token_url: &str,
    now: i64,
) -> Result<Assertion, String> {
    let der = certificate_der(certificate_pem)?;
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(URL_SAFE_NO_PAD.encode(Sha1::digest(der.as_ref())));
    let key = encoding_key(private_key_pem)?;
    let claims = AssertionClaims {
        aud: token_url,
        iss: client_id,
        sub: client_id,
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: now,
        iat: now,
        exp: now + LIFETIME_SECS,
    };
    let jwt = jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| format!("the assertion could not be signed: {:?}", e.kind()))?;
    Ok(Assertion {
        jwt: Secret::new(jwt),
    })
}

/// The RSA private key, found in whichever PEM block holds it (PKCS#1 or PKCS#8; the file may
/// also hold the certificate).
fn encoding_key(private_key_pem: &Secret<String>) -> Result<EncodingKey, String> {
    let not_rsa = || {
        "the private key is not an RSA key in PEM form (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
            .to_string()
    };
    let key = PrivateKeyDer::from_pem_slice(private_key_pem.expose().as_bytes())
        .map_err(|_| not_rsa())?;
    let (label, der) = match &key {
        PrivateKeyDer::Pkcs1(k) => ("RSA PRIVATE KEY", k.secret_pkcs1_der()),
        PrivateKeyDer::Pkcs8(k) => ("PRIVATE KEY", k.secret_pkcs8_der()),
        _ => return Err(not_rsa()),
    };
    // Re-wrap the one block so jsonwebtoken sees only the key.
    let pem = Secret::new(format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        STANDARD.encode(der)
    ));
    EncodingKey::from_rsa_pem(pem.expose().as_bytes()).map_err(|_| not_rsa())
}
