//! Keys and certificates the lab generates at start: the TLS certificate authority and server
//! certificate, the token-signing key, and the device's client certificate.

pub(crate) mod app_certs;
pub(crate) mod certs;
pub(crate) mod material;
pub(crate) mod rsa_key;
pub(crate) mod thumbprint;
