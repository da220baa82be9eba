//! Certificate thumbprints: SHA-1 of the DER, shown as hex in the portal and as base64url in
//! a JWT `x5t` header.

use base64::Engine;
use sha1::{Digest, Sha1};

/// Uppercase hex SHA-1, as the Entra portal shows a certificate's thumbprint.
pub(crate) fn hex(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// base64url SHA-1, the JWT `x5t` form.
pub(crate) fn x5t(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha1::digest(der))
}

/// The hex form of an `x5t` value (for error texts), or the input when it does not decode.
pub(crate) fn x5t_to_hex(x5t: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x5t.trim_end_matches('='))
        .map(|b| b.iter().map(|b| format!("{b:02X}")).collect())
        .unwrap_or_else(|_| x5t.to_string())
}
