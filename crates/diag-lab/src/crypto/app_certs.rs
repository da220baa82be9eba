//! Turning `[[app]] certificates` into credentials the token endpoint checks assertions
//! against: the generated device certificate, an unrelated generated one, or a PEM.

use chrono::{DateTime, Utc};

use super::certs::GeneratedCert;
use super::rsa_key::public_from_spki;
use super::thumbprint;
use crate::error::LabError;
use crate::scenario::{App, AppCertificate, GeneratedCertificate, ScenarioError};
use crate::state::CertCredential;

/// The certificates generated at start that scenario entries may refer to.
pub(crate) struct Generated<'a> {
    pub device: Option<&'a GeneratedCert>,
    pub unrelated: Option<&'a GeneratedCert>,
}

pub(crate) fn resolve(
    app: &App,
    app_index: usize,
    generated: &Generated<'_>,
    origin: &str,
) -> Result<Vec<CertCredential>, LabError> {
    app.certificates
        .iter()
        .enumerate()
        .map(|(i, cert)| {
            let key = format!("app[{app_index}].certificates[{i}]");
            one(cert, generated).map_err(|message| {
                LabError::Scenario(ScenarioError::Invalid {
                    origin: origin.to_string(),
                    key,
                    message,
                })
            })
        })
        .collect()
}

fn one(cert: &AppCertificate, generated: &Generated<'_>) -> Result<CertCredential, String> {
    let (der, not_after) = match (cert.generated, &cert.public_pem) {
        (Some(GeneratedCertificate::Device), _) => from_generated(generated.device)?,
        (Some(GeneratedCertificate::Unrelated), _) => from_generated(generated.unrelated)?,
        (None, Some(pem)) => from_pem(pem)?,
        (None, None) => return Err("needs `public_pem` or `generated`".into()),
    };
    let public = x509_parser::parse_x509_certificate(&der)
        .ok()
        .and_then(|(_, c)| public_from_spki(c.public_key().raw));
    Ok(CertCredential {
        x5t: thumbprint::x5t(&der),
        public,
        expires: cert.expires.unwrap_or(not_after),
    })
}

fn from_generated(cert: Option<&GeneratedCert>) -> Result<(Vec<u8>, DateTime<Utc>), String> {
    let cert = cert.ok_or("the lab did not generate this certificate")?;
    Ok((cert.der.to_vec(), cert.not_after))
}

fn from_pem(pem: &str) -> Result<(Vec<u8>, DateTime<Utc>), String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| format!("not a PEM certificate: {e}"))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let not_after = DateTime::<Utc>::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .unwrap_or_else(Utc::now);
    Ok((pem.contents.clone(), not_after))
}
