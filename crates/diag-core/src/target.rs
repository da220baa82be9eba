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
}

impl Target {
    /// The scope the method needs: Graph `.default` for `graph`, Exchange `.default` for `smtp`.
    pub fn default_scope(&self) -> String {
        match self.method {
            Method::Graph => format!("{}/.default", self.endpoints.graph_resource),
            _ => format!("{}/.default", self.endpoints.exchange_resource),
        }
    }

    /// The sending domain: `--domain`, else the mailbox's domain.
    pub fn sending_domain(&self) -> Option<String> {
        self.domain.clone().or_else(|| {
            let from = self.from.as_deref().or(self.mailbox.as_deref())?;
            from.split_once('@').map(|(_, d)| d.to_ascii_lowercase())
        })
    }
}
