//! Validated inputs of a `check` run: who the tenant is, how the device authenticates and sends,
//! and where the services are (cloud presets, or explicit overrides for the lab and sovereign
//! setups). Secrets are `Secret<String>` and never printed.
use std::{net::SocketAddr, time::Duration};

use serde::Serialize;

use crate::{check::CheckId, secret::Secret};

/// How the device sends mail (`--method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Microsoft Graph sendMail over HTTPS.
    Graph,
    /// SMTP AUTH XOAUTH2 client submission on 587.
    Smtp,
    /// Direct send to the tenant's MX on 25, no authentication.
    DirectSend,
    /// A connector relay on 25 to the MX.
    Relay,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Graph => "graph",
            Method::Smtp => "smtp",
            Method::DirectSend => "direct-send",
            Method::Relay => "relay",
        }
    }
    /// Does this method get an OAuth token at all?
    pub fn uses_token(self) -> bool {
        matches!(self, Method::Graph | Method::Smtp)
    }
}

/// Microsoft's clouds (`--cloud`), each with its own hosts (reference §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    Global,
    GccHigh,
    Dod,
    China,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::GccHigh => "gcc-high",
            Cloud::Dod => "dod",
            Cloud::China => "china",
        }
    }

    /// The service endpoints of this cloud.
    pub fn endpoints(self) -> Endpoints {
        let (login, graph, smtp, exchange) = match self {
            Cloud::Global => (
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
                "smtp.office365.com",
                "https://outlook.office365.com",
            ),
            Cloud::GccHigh => (
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
                "smtp.office365.us",
                "https://outlook.office365.us",
            ),
            Cloud::Dod => (
                "https://login.microsoftonline.us",
                "https://dod-graph.microsoft.us",
                "outlook-dod.office365.us",
                "https://outlook-dod.office365.us",
            ),
            Cloud::China => (
                "https://login.partner.microsoftonline.cn",
                "https://microsoftgraph.chinacloudapi.cn",
                "smtp.partner.outlook.cn",
                "https://partner.outlook.cn",
            ),
        };
        Endpoints {
            login_base: login.to_string(),
            graph_base: graph.to_string(),
            graph_resource: graph.to_string(),
            exchange_resource: exchange.to_string(),
            smtp_host: smtp.to_string(),
            smtp_port: 587,
            smtp_addr: None,
            mx_addr: None,
            dns_server: None,
            extra_ca_pem: None,
            resolve: Vec::new(),
        }
    }
}

/// Where the services are. Defaults come from the cloud; every field can be overridden.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// `{login_base}/{tenant}/oauth2/v2.0/token`.
    pub login_base: String,
    /// `{graph_base}/v1.0/...`.
    pub graph_base: String,
    /// Resource part of the Graph scope (`{graph_resource}/.default`).
    pub graph_resource: String,
    /// Resource part of the Exchange scope (`{exchange_resource}/.default`).
    pub exchange_resource: String,
    /// SMTP submission host name (TLS server name) and port.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// Connect here instead of resolving `smtp_host` (lab, tests).
    pub smtp_addr: Option<SocketAddr>,
    /// Connect here instead of the MX found in DNS (lab, tests).
    pub mx_addr: Option<SocketAddr>,
    /// Ask this DNS server instead of the system resolver.
    pub dns_server: Option<SocketAddr>,
    /// An extra CA to trust (the lab's). Public endpoints never need it.
    pub extra_ca_pem: Option<String>,
    /// Host name -> address overrides for HTTPS (like curl's --resolve).
    pub resolve: Vec<(String, SocketAddr)>,
}

/// How the app proves who it is at the token endpoint.
#[derive(Clone, Debug)]
pub enum Credential {
    /// Client credentials with a client secret.
    Secret(Secret<String>),
    /// Client credentials with a certificate: a signed RS256 client assertion.
    Certificate {
        certificate_pem: String,
        private_key_pem: Secret<String>,
    },
    /// Delegated sign-in by device code (`SMTP.Send` / `Mail.Send` scopes).
    DeviceCode,
    /// Nothing given (direct send and relay need none).
    None,
}

/// Everything a `check` run needs.
#[derive(Clone, Debug)]
pub struct Target {
    /// Tenant GUID or verified domain name, as the technician typed it.
    pub tenant: String,
    pub client_id: String,
    pub credential: Credential,
    /// The mailbox the device authenticates as / sends from.
    pub mailbox: Option<String>,
    /// The From address, when it differs from the mailbox.
    pub from: Option<String>,
    pub method: Method,
    /// A scope typed by the technician; `None` means the one the method needs.
    pub scope: Option<String>,
    /// The sending domain (defaults to the mailbox's domain).
    pub domain: Option<String>,
    /// The site's public IP, for SPF and connector attribution.
    pub public_ip: Option<std::net::IpAddr>,
    pub cloud: Cloud,
    pub endpoints: Endpoints,
    /// Deadline for every single network operation.
    pub timeout: Duration,
    /// Send a real test message to this recipient.
    pub send_test: Option<String>,
    /// Run only this check and what it needs.
    pub only: Option<CheckId>,
    /// What the device's own TLS stack can offer (`smtp-tls` reproduces it).
    pub device_tls: DeviceTls,
}

/// What the device's TLS stack offers in its ClientHello. xdiag itself always can do better;
/// these reproduce an older device so the server's answer to *it* is seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceTls {
    /// A current TLS stack (TLS 1.2/1.3 with ECDHE): nothing extra to test.
    #[default]
    Modern,
    /// TLS 1.2 with static-RSA key exchange only (`TLS_RSA_WITH_*`), no elliptic-curve
    /// extensions: older MFP firmware (case-26).
    RsaOnly,
    /// At most TLS 1.1 (TLS 1.0/1.1 firmware).
    Tls11,
}

impl DeviceTls {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceTls::Modern => "modern",
            DeviceTls::RsaOnly => "rsa-only",
            DeviceTls::Tls11 => "tls1.1",
        }
    }
}

impl Target {
    /// The scope the method needs: Graph `.default` for `graph`, Exchange `.default` for `smtp`.
    pub fn default_scope(&self) -> String {
        match self.method {
            Method::Graph => format!("{}/.default", self.endpoints.graph_resource),
            _ => format!("{}/.default", self.endpoints.exchange_resource),
        }
    }

    /// The sending domain: `--domain`, else the domain of the From address or the mailbox,
    /// else the tenant when it was given as a domain name. An address domain that is not a
    /// public DNS name (`scanner@localhost`, as old firmware sends, case-23) is passed over:
    /// no receiver can look it up, and the tenant's own domain is where its mail goes.
    pub fn sending_domain(&self) -> Option<String> {
        if let Some(d) = self
            .domain
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            return Some(d.to_ascii_lowercase());
        }
        [self.from.as_deref(), self.mailbox.as_deref()]
            .into_iter()
            .flatten()
            .filter_map(address_domain)
            .find(|d| is_public_name(d))
            .or_else(|| {
                let t = self
                    .tenant
                    .trim()
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                (t.contains('.') && is_public_name(&t) && !t.contains('/')).then_some(t)
            })
    }

    /// The domain of the envelope sender (From, else the mailbox), public or not.
    pub fn sender_domain(&self) -> Option<String> {
        [self.from.as_deref(), self.mailbox.as_deref()]
            .into_iter()
            .flatten()
            .find_map(address_domain)
    }
}

fn address_domain(address: &str) -> Option<String> {
    address
        .trim()
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
}

/// A name a resolver on the internet could answer for: at least two labels and not one of the
/// special-use or private names (RFC 6761, RFC 8375, common LAN suffixes).
pub fn is_public_name(domain: &str) -> bool {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    const PRIVATE: [&str; 7] = [
        "localhost",
        "local",
        "localdomain",
        "lan",
        "internal",
        "invalid",
        "home.arpa",
    ];
    d.contains('.')
        && d.parse::<std::net::IpAddr>().is_err()
        && !PRIVATE
            .iter()
            .any(|p| d == *p || d.ends_with(&format!(".{p}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(tenant: &str, from: Option<&str>, mailbox: Option<&str>) -> Target {
        Target {
            tenant: tenant.into(),
            client_id: String::new(),
            credential: Credential::None,
            mailbox: mailbox.map(str::to_string),
            from: from.map(str::to_string),
            method: Method::Relay,
            scope: None,
            domain: None,
            public_ip: None,
            cloud: Cloud::Global,
            endpoints: Cloud::Global.endpoints(),
            timeout: Duration::from_secs(1),
            send_test: None,
            only: None,
            device_tls: DeviceTls::Modern,
        }
    }

    #[test]
    fn a_private_sender_domain_gives_way_to_the_tenant_domain() {
        // case-23: scanner@localhost, tenant typed as contoso.com.
        let t = target("contoso.com", Some("scanner@localhost"), None);
        assert_eq!(t.sending_domain().as_deref(), Some("contoso.com"));
        assert_eq!(t.sender_domain().as_deref(), Some("localhost"));
        let t = target("contoso.com", Some("scan@Fabrikam.com"), None);
        assert_eq!(t.sending_domain().as_deref(), Some("fabrikam.com"));
        let t = target(
            "11111111-2222-3333-4444-555555555555",
            Some("a@printer.local"),
            None,
        );
        assert_eq!(t.sending_domain(), None);
        let t = target("", Some("a@printer.local"), Some("s@contoso.com"));
        assert_eq!(t.sending_domain().as_deref(), Some("contoso.com"));
        assert!(!is_public_name("192.0.2.1"));
        assert!(is_public_name("contoso.co.uk."));
    }
}
