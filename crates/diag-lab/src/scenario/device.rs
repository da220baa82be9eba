//! `[device]`: what the technician enters on the device, i.e. xdiag's inputs for the run.

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Device {
    pub method: Method,
    /// Tenant as entered: GUID or domain (or something wrong).
    pub tenant: String,
    pub client_id: String,
    /// May differ from the app's real secret (a wrong paste, the Secret ID...).
    pub client_secret: String,
    /// Authenticate with a certificate: the lab generates a key pair and certificate at start and
    /// hands their PEMs to the client (see `DeviceInputs`).
    pub certificate: bool,
    /// Optional scope override, to reproduce a wrong scope.
    pub scope: String,
    /// Identity that authenticates / sends.
    pub mailbox: String,
    pub from: String,
    /// Delegated sign-in by device code instead of client credentials.
    pub device_code: bool,
    /// With `device_code`: the account that completes the sign-in.
    pub sign_in_as: String,
    /// With `device_code`: what the person at the browser does.
    pub device_code_outcome: DeviceCodeOutcome,
    /// Mailbox password, for Basic SMTP AUTH.
    pub password: String,
    /// What the technician says the site's public IP is.
    pub public_ip: String,
    /// A recipient: also run the send test.
    pub send_test: String,
    /// The TLS cipher suites the device can offer (`rsa-only`: an old firmware without ECDHE).
    pub tls_ciphers: DeviceTlsCiphers,
    /// The newest TLS version the device can speak (`1.1`: old firmware).
    pub tls_max_version: DeviceTlsVersion,
}

impl Default for Device {
    fn default() -> Self {
        Device {
            method: Method::Smtp,
            tenant: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            certificate: false,
            scope: String::new(),
            mailbox: String::new(),
            from: String::new(),
            device_code: false,
            sign_in_as: String::new(),
            device_code_outcome: DeviceCodeOutcome::Approve,
            password: String::new(),
            public_ip: String::new(),
            send_test: String::new(),
            tls_ciphers: DeviceTlsCiphers::Modern,
            tls_max_version: DeviceTlsVersion::V1_3,
        }
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &str| if s.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("Device")
            .field("method", &self.method)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact(&self.client_secret))
            .field("certificate", &self.certificate)
            .field("scope", &self.scope)
            .field("mailbox", &self.mailbox)
            .field("from", &self.from)
            .field("device_code", &self.device_code)
            .field("sign_in_as", &self.sign_in_as)
            .field("device_code_outcome", &self.device_code_outcome)
            .field("password", &redact(&self.password))
            .field("public_ip", &self.public_ip)
            .field("send_test", &self.send_test)
            .field("tls_ciphers", &self.tls_ciphers)
            .field("tls_max_version", &self.tls_max_version)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Smtp,
    Graph,
    DirectSend,
    Relay,
}

/// What the simulated person does after the first poll of a device code flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceCodeOutcome {
    /// Signs in as `sign_in_as` (the token request then succeeds or fails per tenant state).
    Approve,
    /// Clicks "No" / cancels.
    Decline,
    /// Never finishes; the code expires.
    Expire,
}

/// What the device's TLS stack offers in its ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceTlsCiphers {
    /// ECDHE suites and the supported_groups extension, like any current TLS library.
    Modern,
    /// Only static-RSA key exchange (`TLS_RSA_WITH_*`), no elliptic-curve extensions: older MFP
    /// firmware (reference case-26).
    RsaOnly,
}

/// The newest TLS version the device's stack speaks. xdiag reproduces a `1.1` device by
/// sending its own TLS 1.1 ClientHello; `1.2` and `1.3` are what any current library offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceTlsVersion {
    #[serde(rename = "1.1")]
    V1_1,
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}
