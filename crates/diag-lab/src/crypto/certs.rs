//! The lab's certificate authority, the HTTPS/SMTP server certificate it issues, and
//! self-signed certificates for RSA keys (token signing, device client credential).

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::rsa_key::RsaKey;
use crate::error::LabError;

/// The CA a client trusts only when pointed at the lab.
pub(crate) struct LabCa {
    issuer: Issuer<'static, KeyPair>,
    pub pem: String,
    pub der: CertificateDer<'static>,
}

/// A generated certificate.
#[derive(Clone)]
pub(crate) struct GeneratedCert {
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub not_after: DateTime<Utc>,
}

impl LabCa {
    /// A fresh ECDSA P-256 CA valid for a month around now.
    pub fn generate() -> Result<LabCa, LabError> {
        let key = KeyPair::generate().map_err(LabError::crypto)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name("xdiag lab root CA (not a real CA)");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        set_validity(&mut params, Duration::days(30));
        let cert = params.self_signed(&key).map_err(LabError::crypto)?;
        Ok(LabCa {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A server certificate for `localhost` and `127.0.0.1` on an RSA key (Microsoft's servers
    /// use RSA certificates, so the suites offered are ECDHE_RSA ones).
    pub fn issue_server(&self, key: &RsaKey) -> Result<GeneratedCert, LabError> {
        let subject_key = rcgen_key(key)?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_string()]).map_err(LabError::crypto)?;
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
        params.distinguished_name = name("localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.use_authority_key_identifier_extension = true;
        let not_after = set_validity(&mut params, Duration::days(7));
        let cert = params
            .signed_by(&subject_key, &self.issuer)
            .map_err(LabError::crypto)?;
        Ok(GeneratedCert {
            pem: cert.pem(),
            der: cert.der().clone(),
            not_after,
        })
    }
}

/// A self-signed certificate for an RSA key, as `New-SelfSignedCertificate` or the portal's
/// certificate upload would use.
pub(crate) fn self_signed(
    key: &RsaKey,
    common_name: &str,
    valid_for: Duration,
) -> Result<GeneratedCert, LabError> {
    let signing_key = rcgen_key(key)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name);
    let not_after = set_validity(&mut params, valid_for);
    let cert = params.self_signed(&signing_key).map_err(LabError::crypto)?;
    Ok(GeneratedCert {
        pem: cert.pem(),
        der: cert.der().clone(),
        not_after,
    })
}

/// The rustls server configuration for the lab's HTTPS listeners (ring provider, TLS 1.2+,
/// HTTP/1.1).
pub(crate) fn https_server_config(
    ca: &LabCa,
    server: &GeneratedCert,
    key: &RsaKey,
) -> Result<Arc<rustls::ServerConfig>, LabError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(LabError::crypto)?
        .with_no_client_auth()
        .with_single_cert(vec![server.der.clone(), ca.der.clone()], key_der)
        .map_err(LabError::crypto)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn rcgen_key(key: &RsaKey) -> Result<KeyPair, LabError> {
    let der = PrivatePkcs8KeyDer::from(key.pkcs8_der.as_slice());
    KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256).map_err(LabError::crypto)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Valid from yesterday (clock tolerance) for `valid_for`; returns notAfter. rcgen takes whole
/// days, so the times are midnight UTC.
fn set_validity(params: &mut CertificateParams, valid_for: Duration) -> DateTime<Utc> {
    let now = Utc::now();
    let from = (now - Duration::days(1)).date_naive();
    let to = (now + valid_for).date_naive();
    params.not_before = rcgen::date_time_ymd(from.year(), from.month() as u8, from.day() as u8);
    params.not_after = rcgen::date_time_ymd(to.year(), to.month() as u8, to.day() as u8);
    to.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now + valid_for)
}
