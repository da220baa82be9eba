//! The rustls configuration of both SMTP roles, from `[tls]`.
//!
//! - `min_version = "1.2"` (and, since rustls implements nothing older, `"1.0"`/`"1.1"` too):
//!   TLS 1.2 and 1.3; `"1.3"`: TLS 1.3 only. A client offering only TLS 1.0/1.1 fails the
//!   handshake with a `protocol_version` alert. Exchange instead completes such handshakes on
//!   some endpoints and answers `421 4.7.66` (field §1.2); the lab cannot, see the README.
//! - `ecdhe_only = true`: the TLS 1.2 suites Microsoft's SMTP endpoints keep
//!   (`TLS_ECDHE_*_WITH_AES_256_GCM_SHA384`, `..._AES_128_GCM_SHA256`, reference case-26) plus
//!   the TLS 1.3 suites. A ClientHello with only static-RSA suites (`TLS_RSA_WITH_*`) gets a
//!   `handshake_failure` alert. `false` adds the ChaCha20 suites; static-RSA key exchange is
//!   never offered, because rustls does not implement it.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{CipherSuite, SupportedCipherSuite};

use crate::error::LabError;
use crate::scenario::{TlsSettings, TlsVersion};

/// The SMTP servers' TLS configuration: the lab's server certificate (taken from the HTTPS
/// configuration, so both present the same chain), `[tls]`'s versions and suites, no ALPN.
pub(crate) fn server_config(
    https: &rustls::ServerConfig,
    settings: &TlsSettings,
) -> Result<Arc<rustls::ServerConfig>, LabError> {
    let mut provider: CryptoProvider = rustls::crypto::ring::default_provider();
    if settings.ecdhe_only {
        provider.cipher_suites.retain(microsoft_suite);
    }
    let versions: &[&'static rustls::SupportedProtocolVersion] =
        if settings.min_version >= TlsVersion::V1_3 {
            &[&rustls::version::TLS13]
        } else {
            &[&rustls::version::TLS12, &rustls::version::TLS13]
        };
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .map_err(LabError::crypto)?
        .with_no_client_auth()
        .with_cert_resolver(https.cert_resolver.clone());
    Ok(Arc::new(config))
}

fn microsoft_suite(suite: &SupportedCipherSuite) -> bool {
    match suite {
        SupportedCipherSuite::Tls13(_) => true,
        SupportedCipherSuite::Tls12(s) => matches!(
            s.common.suite,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
                | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        ),
    }
}
