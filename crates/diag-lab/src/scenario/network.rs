//! `[dns]`, `[network]` and `[tls]`: what the wire looks like from the site.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dns {
    /// Zone-file lines served by the lab DNS (one record per line). Absent from the file: the
    /// records of [`default_records`]; `records = []`: none at all.
    pub records: Vec<String>,
}

/// What a scenario without `[dns] records` serves: for every tenant domain the MX and SPF
/// records Microsoft 365 asks for (the spec's example; reference §7: the MX endpoint is the
/// domain with dots as dashes under `mail.protection.outlook.com`, the SPF include is
/// `spf.protection.outlook.com`). An `onmicrosoft.com` domain gets the form Microsoft itself
/// publishes for it, `<name>.mail.protection.outlook.com`.
pub fn default_records(domains: &[String]) -> Vec<String> {
    let mut records = Vec::new();
    for domain in domains {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let host = match domain.strip_suffix(".onmicrosoft.com") {
            Some(name) if !name.contains('.') => name.to_string(),
            _ => domain.replace('.', "-"),
        };
        records.push(format!(
            "{domain}. 3600 IN MX 0 {host}.mail.protection.outlook.com."
        ));
        records.push(format!(
            "{domain}. 3600 IN TXT \"v=spf1 include:spf.protection.outlook.com -all\""
        ));
    }
    records
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    /// The address the lab's MX sees the site as.
    pub site_public_ip: IpAddr,
    /// Ports whose connections never complete (silently dropped).
    pub blocked_ports: Vec<u16>,
    /// Ports whose connections are refused at once.
    pub refused_ports: Vec<u16>,
    pub token_endpoint: TokenEndpointState,
    /// Site IPs on a block list (the MX refuses them).
    pub blocklisted_ips: Vec<IpAddr>,
    /// Name on the TLS certificate the site's sending server presents to the MX (matched
    /// against certificate-based connectors); empty: it presents none.
    pub site_certificate_domain: String,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            site_public_ip: IpAddr::from([203, 0, 113, 10]),
            blocked_ports: Vec::new(),
            refused_ports: Vec::new(),
            token_endpoint: TokenEndpointState::Up,
            blocklisted_ips: Vec::new(),
            site_certificate_domain: String::new(),
        }
    }
}

/// The Entra login host as seen from the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenEndpointState {
    Up,
    /// Not served at all: connections are refused.
    Down,
    /// Answers only after a delay longer than any sane client timeout.
    Slow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// Lowest TLS version the SMTP servers accept.
    pub min_version: TlsVersion,
    /// Offer only ECDHE key-exchange suites, as Microsoft does.
    pub ecdhe_only: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            min_version: TlsVersion::V1_2,
            ecdhe_only: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}
