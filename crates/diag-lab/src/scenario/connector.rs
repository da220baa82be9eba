//! `[[connector]]`: inbound connectors of type "From: Your organization's email server", the
//! SMTP relay option of reference/microsoft-facts.md §7 (option 3): the tenant's MX accepts mail
//! for any recipient from a sender it can attribute to the tenant by public IP or by the name on
//! the TLS certificate the sending server presents.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::IpRange;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connector {
    /// Display name, as in the Exchange admin center.
    pub name: String,
    pub enabled: bool,
    /// Sender public IPs or CIDR blocks the connector identifies the organisation by.
    pub sender_ips: Vec<IpRange>,
    /// Certificate-based identification: the CN/SAN (an accepted domain) the sending server's TLS
    /// certificate must carry. Empty: the connector identifies by IP only.
    pub tls_domain: String,
}

impl Default for Connector {
    fn default() -> Self {
        Connector {
            name: "From scanners".into(),
            enabled: true,
            sender_ips: Vec::new(),
            tls_domain: String::new(),
        }
    }
}

impl Connector {
    /// Whether a connection from `ip`, presenting `certificate_domain` over TLS (None when the
    /// session is not encrypted or presents nothing), is attributed to this connector.
    pub fn matches(&self, ip: IpAddr, certificate_domain: Option<&str>) -> bool {
        if !self.enabled {
            return false;
        }
        let by_ip = self.sender_ips.iter().any(|r| r.contains(ip));
        let by_certificate = !self.tls_domain.is_empty()
            && certificate_domain.is_some_and(|d| {
                d.trim_end_matches('.')
                    .eq_ignore_ascii_case(self.tls_domain.trim_end_matches('.'))
            });
        by_ip || by_certificate
    }
}
