//! The public data a running lab hands out: where it listens and what the technician enters.

use std::net::SocketAddr;

use crate::scenario::Device;

/// Where the lab's services listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `https://localhost:PORT`: `{login_base}/{tenant}/oauth2/v2.0/token` is the token URL.
    /// With `token_endpoint = "down"` nothing listens there (connections are refused).
    pub login_base: String,
    /// `https://localhost:PORT`: Graph URLs are `{graph_base}/v1.0/...`.
    pub graph_base: String,
    /// SMTP client submission (port 587 role, STARTTLS). With 587 in `refused_ports` or
    /// `blocked_ports` this address refuses, or never completes, connections.
    pub smtp_submission: Option<SocketAddr>,
    /// The tenant's MX (port 25 role, no AUTH), likewise for port 25.
    pub mx: Option<SocketAddr>,
    /// Authoritative DNS for the scenario's zones, UDP and TCP on this one port.
    pub dns: Option<SocketAddr>,
    /// The name every lab certificate is valid for (`localhost`).
    pub tls_server_name: String,
}

/// The device's client certificate, generated at start when `[device] certificate = true`.
#[derive(Clone)]
pub struct ClientCertificate {
    pub certificate_pem: String,
    /// PKCS#8 PEM of the RSA private key. Secret: never print it.
    pub private_key_pem: String,
    /// SHA-1 thumbprint, uppercase hex, as the Entra portal shows it.
    pub thumbprint: String,
    /// The same thumbprint as a JWT `x5t` (base64url).
    pub x5t: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("thumbprint", &self.thumbprint)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// What the technician enters: the scenario's `[device]` plus anything generated at start.
#[derive(Debug, Clone)]
pub struct DeviceInputs {
    pub settings: Device,
    pub certificate: Option<ClientCertificate>,
}
