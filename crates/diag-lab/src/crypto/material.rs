//! Everything generated at start, in one place: the CA and HTTPS configuration, the
//! token-signing key, and the device's (and an unrelated) client certificate when the
//! scenario asks for them. RSA keys are generated in parallel on blocking threads.

use std::sync::Arc;

use base64::Engine;
use tokio::task::JoinHandle;

use super::certs::{self, GeneratedCert, LabCa};
use super::rsa_key::RsaKey;
use super::thumbprint;
use crate::error::LabError;
use crate::scenario::{GeneratedCertificate, Scenario};
use crate::state::SigningKey;

pub(crate) struct Material {
    pub ca_pem: String,
    pub https: Arc<rustls::ServerConfig>,
    pub signing: SigningKey,
    /// The device's certificate and key (when `[device] certificate` or an app refers to it).
    pub device: Option<(GeneratedCert, RsaKey)>,
    pub unrelated: Option<GeneratedCert>,
}

/// Client credential certificates look like what admins make: self-signed, one year.
const CLIENT_CERT_NAME: &str = "scan-to-email";
const CLIENT_CERT_DAYS: i64 = 365;

impl Material {
    pub async fn generate(scenario: &Scenario) -> Result<Material, LabError> {
        let wants = |kind| {
            scenario
                .apps
                .iter()
                .flat_map(|a| &a.certificates)
                .any(|c| c.generated == Some(kind))
        };
        let need_device = scenario.device.certificate || wants(GeneratedCertificate::Device);
        let need_unrelated = wants(GeneratedCertificate::Unrelated);

        let token_key = spawn_key();
        let tls_key = spawn_key();
        let device_key = need_device.then(spawn_key);
        let unrelated_key = need_unrelated.then(spawn_key);
        let ca = LabCa::generate()?;
        let tls_key = joined(tls_key).await?;
        let server_cert = ca.issue_server(&tls_key)?;
        let https = certs::https_server_config(&ca, &server_cert, &tls_key)?;
        let signing = signing_key(joined(token_key).await?)?;
        let device = match device_key {
            Some(handle) => {
                let key = joined(handle).await?;
                Some((client_cert(&key)?, key))
            }
            None => None,
        };
        let unrelated = match unrelated_key {
            Some(handle) => Some(client_cert(&joined(handle).await?)?),
            None => None,
        };
        Ok(Material {
            ca_pem: ca.pem,
            https,
            signing,
            device,
            unrelated,
        })
    }
}

fn spawn_key() -> JoinHandle<Result<RsaKey, LabError>> {
    tokio::task::spawn_blocking(RsaKey::generate)
}

async fn joined(handle: JoinHandle<Result<RsaKey, LabError>>) -> Result<RsaKey, LabError> {
    handle.await.map_err(LabError::crypto)?
}

fn client_cert(key: &RsaKey) -> Result<GeneratedCert, LabError> {
    certs::self_signed(
        key,
        CLIENT_CERT_NAME,
        chrono::Duration::days(CLIENT_CERT_DAYS),
    )
}

/// The token-signing key with a self-signed certificate, as Entra publishes its keys.
fn signing_key(key: RsaKey) -> Result<SigningKey, LabError> {
    let cert = certs::self_signed(
        &key,
        "accounts.accesscontrol.windows.net",
        chrono::Duration::days(365),
    )?;
    Ok(SigningKey {
        kid: thumbprint::x5t(&cert.der),
        x5c: base64::engine::general_purpose::STANDARD.encode(&cert.der),
        key,
    })
}
