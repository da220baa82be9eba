//! The options `check` and `lab` share, and how they become a `Target`: flags win over the
//! `--config` profile, which wins over the lab scenario's `[device]` (for `lab`) or the defaults.
//!
//! `--method auto` (the default) picks:
//! - `smtp` when an app credential is given or will be asked for (a client secret, a
//!   certificate, `--device-code`, or a client id), because SMTP AUTH with OAuth is what a
//!   multifunction device speaks;
//! - `direct-send` when there is no app at all (no client id, no credential): the device can only
//!   be sending unauthenticated to the tenant's MX.
//!
//! Graph is never guessed; ask for it with `--method graph`.
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use diag_core::{
    check::CheckId,
    config::{CloudChoice, Config, MethodChoice, Profile},
    secret::Secret,
    target::{Cloud, Credential, DeviceTls, Method, Target},
};

use crate::secret_input::{CredentialSource, prompt_secret};

/// Per network operation, unless `--timeout` or the profile says otherwise.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

#[derive(Clone, Debug, Default, Args)]
#[command(group = clap::ArgGroup::new("credential").multiple(false))]
pub struct TargetOptions {
    /// Tenant: its GUID or a verified domain (contoso.com).
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Application (client) ID of the app registration.
    #[arg(long, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Read the client secret from this environment variable.
    #[arg(long, value_name = "VAR", group = "credential")]
    pub client_secret_env: Option<String>,
    /// Read the client secret from this file (a trailing newline is ignored).
    #[arg(long, value_name = "PATH", group = "credential")]
    pub client_secret_file: Option<PathBuf>,
    /// The client secret itself. Discouraged: it lands in shell history and the process list.
    #[arg(
        long,
        value_name = "VALUE",
        group = "credential",
        hide_short_help = true
    )]
    pub client_secret: Option<String>,
    /// Authenticate with a certificate (client assertion): PEM with the certificate, and the
    /// private key unless --certificate-key is given.
    #[arg(long, value_name = "PEM", group = "credential")]
    pub certificate: Option<PathBuf>,
    /// The certificate's private key, when it is not in the --certificate file.
    #[arg(long, value_name = "PEM", requires = "certificate")]
    pub certificate_key: Option<PathBuf>,
    /// Delegated sign-in by device code (SMTP.Send as the mailbox user).
    #[arg(long, group = "credential")]
    pub device_code: bool,
    /// The mailbox the device authenticates as / sends from.
    #[arg(long, value_name = "ADDRESS")]
    pub mailbox: Option<String>,
    /// The From address, when it differs from the mailbox.
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    /// How the device sends.
    #[arg(long, value_enum, value_name = "METHOD")]
    pub method: Option<MethodArg>,
    /// The sending domain (default: the mailbox's domain).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// The site's public IP address (for SPF and connector checks).
    #[arg(long, value_name = "IP")]
    pub public_ip: Option<IpAddr>,
    /// Microsoft cloud.
    #[arg(long, value_enum, value_name = "CLOUD")]
    pub cloud: Option<CloudArg>,
    /// The scope the device asks for (default: the one the method needs).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,
    /// Run only this check and what it needs.
    #[arg(long, value_name = "CHECK", value_parser = parse_check)]
    pub only: Option<CheckId>,
    /// Seconds allowed for each network operation [default: 10].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: Option<u64>,
    /// Also send a real test message to this address.
    #[arg(long, value_name = "TO")]
    pub send_test: Option<String>,
    /// What the device's TLS stack can offer, when it is older than xdiag's: the TLS check then
    /// also sends that device's ClientHello [default: modern]
    #[arg(long, value_enum, value_name = "OFFER")]
    pub device_tls: Option<DeviceTlsArg>,
    /// A TOML file of named profiles, one per site.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The profile in --config to use (flags still win).
    #[arg(long, value_name = "NAME", requires = "config")]
    pub profile: Option<String>,
    /// Token endpoint base URL (instead of the cloud's).
    #[arg(long, value_name = "URL", help_heading = "Endpoint overrides")]
    pub login_url: Option<String>,
    /// Microsoft Graph base URL (instead of the cloud's).
    #[arg(long, value_name = "URL", help_heading = "Endpoint overrides")]
    pub graph_url: Option<String>,
    /// SMTP submission host name (instead of the cloud's).
    #[arg(long, value_name = "HOST", help_heading = "Endpoint overrides")]
    pub smtp_host: Option<String>,
    /// SMTP submission port [default: 587].
    #[arg(long, value_name = "PORT", help_heading = "Endpoint overrides",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub smtp_port: Option<u16>,
    /// Ask this DNS server instead of the system resolver (port 53 unless given).
    #[arg(long, value_name = "ADDR[:PORT]", help_heading = "Endpoint overrides",
          value_parser = dns_server_addr)]
    pub dns_server: Option<SocketAddr>,
    /// Also trust this CA (PEM) for HTTPS and SMTP TLS.
    #[arg(long, value_name = "PEM", help_heading = "Endpoint overrides")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    Graph,
    Smtp,
    DirectSend,
    Relay,
    Auto,
}

/// `--device-tls`: the TLS a device can offer (`Target::device_tls`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeviceTlsArg {
    /// TLS 1.2 and 1.3 with ECDHE suites, like any current TLS library.
    Modern,
    /// Static-RSA key exchange only, no elliptic curves (older MFP firmware).
    RsaOnly,
    /// TLS 1.1 at most.
    #[value(name = "tls1.1")]
    Tls11,
}

impl From<DeviceTlsArg> for DeviceTls {
    fn from(arg: DeviceTlsArg) -> DeviceTls {
        match arg {
            DeviceTlsArg::Modern => DeviceTls::Modern,
            DeviceTlsArg::RsaOnly => DeviceTls::RsaOnly,
            DeviceTlsArg::Tls11 => DeviceTls::Tls11,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    Global,
    GccHigh,
    Dod,
    China,
}

fn parse_check(name: &str) -> Result<CheckId, String> {
    CheckId::parse(name).ok_or_else(|| {
        let all: Vec<&str> = CheckId::ORDER.iter().map(|c| c.as_str()).collect();
        format!("no check named `{name}`; checks: {}", all.join(", "))
    })
}

/// One layer of inputs (defaults, a profile, the flags); a later layer's values win.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub credential: Option<CredentialSource>,
    pub mailbox: Option<String>,
    pub from: Option<String>,
    pub method: Option<MethodChoice>,
    pub domain: Option<String>,
    pub public_ip: Option<IpAddr>,
    pub cloud: Option<CloudChoice>,
    pub scope: Option<String>,
    pub timeout: Option<u64>,
    pub send_test: Option<String>,
    pub login_url: Option<String>,
    pub graph_url: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub dns_server: Option<std::net::SocketAddr>,
    pub ca_file: Option<PathBuf>,
}

impl Inputs {
    /// `top` over `self`: every value `top` has wins; the credential wins as a whole.
    pub fn overlay(self, top: Inputs) -> Inputs {
        Inputs {
            tenant: top.tenant.or(self.tenant),
            client_id: top.client_id.or(self.client_id),
            credential: top.credential.or(self.credential),
            mailbox: top.mailbox.or(self.mailbox),
            from: top.from.or(self.from),
            method: top.method.or(self.method),
            domain: top.domain.or(self.domain),
            public_ip: top.public_ip.or(self.public_ip),
            cloud: top.cloud.or(self.cloud),
            scope: top.scope.or(self.scope),
            timeout: top.timeout.or(self.timeout),
            send_test: top.send_test.or(self.send_test),
            login_url: top.login_url.or(self.login_url),
            graph_url: top.graph_url.or(self.graph_url),
            smtp_host: top.smtp_host.or(self.smtp_host),
            smtp_port: top.smtp_port.or(self.smtp_port),
            dns_server: top.dns_server.or(self.dns_server),
            ca_file: top.ca_file.or(self.ca_file),
        }
    }

    fn from_profile(name: &str, p: &Profile) -> anyhow::Result<Inputs> {
        let mut sources = Vec::new();
        if let Some(v) = &p.client_secret_env {
            sources.push(("client_secret_env", CredentialSource::Env(v.clone())));
        }
        if let Some(v) = &p.client_secret_file {
            sources.push(("client_secret_file", CredentialSource::File(v.clone())));
        }
        if let Some(v) = &p.certificate {
            let key = p.certificate_key.clone();
            sources.push((
                "certificate",
                CredentialSource::CertificateFiles {
                    certificate: v.clone(),
                    key,
                },
            ));
        }
        if p.device_code == Some(true) {
            sources.push(("device_code", CredentialSource::DeviceCode));
        }
        if sources.len() > 1 {
            let keys: Vec<&str> = sources.iter().map(|(k, _)| *k).collect();
            bail!(
                "profile `{name}` sets {}; keep only one way to authenticate",
                keys.join(" and ")
            );
        }
        if p.certificate_key.is_some() && p.certificate.is_none() {
            bail!("profile `{name}` sets certificate_key without certificate");
        }
        Ok(Inputs {
            tenant: p.tenant.clone(),
            client_id: p.client_id.clone(),
            credential: sources.pop().map(|(_, s)| s),
            mailbox: p.mailbox.clone(),
            from: p.from.clone(),
            method: p.method,
            domain: p.domain.clone(),
            public_ip: p.public_ip,
            cloud: p.cloud,
            scope: p.scope.clone(),
            timeout: p.timeout,
            send_test: None,
            login_url: p.login_url.clone(),
            graph_url: p.graph_url.clone(),
            smtp_host: p.smtp_host.clone(),
            smtp_port: p.smtp_port,
            dns_server: p.dns_server,
            ca_file: p.ca_file.clone(),
        })
    }
}

impl TargetOptions {
    /// The flags as a layer. Warns (on stderr) about a secret given as a plain value.
    pub fn flags(&self) -> Inputs {
        let credential = if let Some(var) = &self.client_secret_env {
            Some(CredentialSource::Env(var.clone()))
        } else if let Some(path) = &self.client_secret_file {
            Some(CredentialSource::File(path.clone()))
        } else if let Some(value) = &self.client_secret {
            eprintln!(
                "warning: --client-secret puts the secret in your shell history and the process list; \
                 prefer --client-secret-env VAR or --client-secret-file PATH"
            );
            Some(CredentialSource::Value(Secret::new(value.clone())))
        } else if let Some(cert) = &self.certificate {
            Some(CredentialSource::CertificateFiles {
                certificate: cert.clone(),
                key: self.certificate_key.clone(),
            })
        } else if self.device_code {
            Some(CredentialSource::DeviceCode)
        } else {
            None
        };
        Inputs {
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            credential,
            mailbox: self.mailbox.clone(),
            from: self.from.clone(),
            method: self.method.map(|m| match m {
                MethodArg::Graph => MethodChoice::Graph,
                MethodArg::Smtp => MethodChoice::Smtp,
                MethodArg::DirectSend => MethodChoice::DirectSend,
                MethodArg::Relay => MethodChoice::Relay,
                MethodArg::Auto => MethodChoice::Auto,
            }),
            domain: self.domain.clone(),
            public_ip: self.public_ip,
            cloud: self.cloud.map(|c| match c {
                CloudArg::Global => CloudChoice::Global,
                CloudArg::GccHigh => CloudChoice::GccHigh,
                CloudArg::Dod => CloudChoice::Dod,
                CloudArg::China => CloudChoice::China,
            }),
            scope: self.scope.clone(),
            timeout: self.timeout,
            send_test: self.send_test.clone(),
            login_url: self.login_url.clone(),
            graph_url: self.graph_url.clone(),
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port,
            dns_server: self.dns_server,
            ca_file: self.ca_file.clone(),
        }
    }

    /// The `--config` profile as a layer (empty without `--config`), and its name.
    pub fn profile(&self) -> anyhow::Result<Option<(String, Inputs)>> {
        let Some(path) = &self.config else {
            return Ok(None);
        };
        let config = Config::load(path)?;
        let (name, profile) = config.profile(self.profile.as_deref())?;
        Ok(Some((
            name.to_string(),
            Inputs::from_profile(name, profile)?,
        )))
    }

    /// Defaults, then the profile, then the flags.
    pub fn merged_over(&self, defaults: Inputs) -> anyhow::Result<(Inputs, Option<String>)> {
        let (profile_name, layer) = match self.profile()? {
            Some((name, inputs)) => (Some(name), inputs),
            None => (None, Inputs::default()),
        };
        Ok((defaults.overlay(layer).overlay(self.flags()), profile_name))
    }
}

/// `auto`: see the module documentation.
pub fn auto_method(inputs: &Inputs) -> Method {
    if inputs.credential.is_some()
        || inputs
            .client_id
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
    {
        Method::Smtp
    } else {
        Method::DirectSend
    }
}

/// The `Target` for these inputs. `may_prompt`: ask for a missing client secret at the terminal.
pub fn build_target(
    inputs: &Inputs,
    only: Option<CheckId>,
    may_prompt: bool,
) -> anyhow::Result<Target> {
    let method = match inputs.method.and_then(MethodChoice::fixed) {
        Some(m) => m,
        None => auto_method(inputs),
    };
    let cloud: Cloud = inputs.cloud.unwrap_or(CloudChoice::Global).into();
    let mut endpoints = cloud.endpoints();
    if let Some(url) = &inputs.login_url {
        endpoints.login_base = base_url(url, "--login-url")?;
    }
    if let Some(url) = &inputs.graph_url {
        endpoints.graph_base = base_url(url, "--graph-url")?;
    }
    if let Some(host) = &inputs.smtp_host {
        endpoints.smtp_host = host.trim().to_string();
    }
    if let Some(port) = inputs.smtp_port {
        endpoints.smtp_port = port;
    }
    endpoints.dns_server = inputs.dns_server;
    if let Some(path) = &inputs.ca_file {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the CA file {}", path.display()))?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            bail!("the CA file {} holds no PEM certificate", path.display());
        }
        endpoints.extra_ca_pem = Some(pem);
    }

    let client_id = inputs.client_id.clone().unwrap_or_default();
    let credential = match &inputs.credential {
        Some(source) => source.read()?,
        None if may_prompt && method.uses_token() && !client_id.trim().is_empty() => {
            match prompt_secret(&client_id)? {
                Some(secret) => Credential::Secret(secret),
                None => {
                    eprintln!(
                        "note: no client secret, certificate or --device-code given, and no \
                         terminal to ask at; the token request goes out without a credential"
                    );
                    Credential::None
                }
            }
        }
        None => Credential::None,
    };
    Ok(Target {
        tenant: inputs.tenant.clone().unwrap_or_default(),
        client_id,
        credential,
        mailbox: inputs.mailbox.clone().filter(|m| !m.trim().is_empty()),
        from: inputs.from.clone().filter(|m| !m.trim().is_empty()),
        method,
        scope: inputs.scope.clone().filter(|s| !s.trim().is_empty()),
        domain: inputs.domain.clone().filter(|s| !s.trim().is_empty()),
        public_ip: inputs.public_ip,
        cloud,
        endpoints,
        timeout: Duration::from_secs(inputs.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        send_test: inputs.send_test.clone().filter(|s| !s.trim().is_empty()),
        only,
        device_tls: Default::default(),
    })
}

/// `https://host[:port]` without a trailing slash; anything else is a usage error.
fn base_url(url: &str, flag: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(url.to_string()),
        _ => bail!("{flag} must be an https:// URL, got {url:?}"),
    }
}

/// Where the run will connect first, for the report header.
pub fn endpoint_note(target: &Target) -> Option<(String, String)> {
    let host = match target.method {
        Method::Smtp => format!(
            "{}:{}",
            target.endpoints.smtp_host, target.endpoints.smtp_port
        ),
        Method::Graph => target
            .endpoints
            .graph_base
            .trim_start_matches("https://")
            .to_string(),
        Method::DirectSend | Method::Relay => match target.sending_domain() {
            Some(d) => format!("MX of {d}:25"),
            None => return None,
        },
    };
    Some(("endpoint".to_string(), host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_profile_over_defaults() {
        let defaults = Inputs {
            tenant: Some("a.com".into()),
            mailbox: Some("x@a.com".into()),
            ..Inputs::default()
        };
        let profile = Inputs {
            tenant: Some("b.com".into()),
            timeout: Some(3),
            ..Inputs::default()
        };
        let flags = Inputs {
            tenant: Some("c.com".into()),
            ..Inputs::default()
        };
        let m = defaults.overlay(profile).overlay(flags);
        assert_eq!(m.tenant.as_deref(), Some("c.com"));
        assert_eq!(m.timeout, Some(3));
        assert_eq!(m.mailbox.as_deref(), Some("x@a.com"));
    }

    #[test]
    fn auto_picks_smtp_with_an_app_and_direct_send_without() {
        let with_app = Inputs {
            client_id: Some("6e1c4a57-3b2d-4f8e-9c0a-7d5b2e8f1a34".into()),
            ..Inputs::default()
        };
        assert_eq!(auto_method(&with_app), Method::Smtp);
        let device_code = Inputs {
            credential: Some(CredentialSource::DeviceCode),
            ..Inputs::default()
        };
        assert_eq!(auto_method(&device_code), Method::Smtp);
        assert_eq!(
            auto_method(&Inputs {
                mailbox: Some("s@a.com".into()),
                ..Inputs::default()
            }),
            Method::DirectSend
        );
    }

    #[test]
    fn overrides_reach_the_target() {
        let inputs = Inputs {
            login_url: Some("https://localhost:4443/".into()),
            smtp_port: Some(2525),
            cloud: Some(CloudChoice::GccHigh),
            ..Inputs::default()
        };
        let t = build_target(&inputs, None, false).expect("builds");
        assert_eq!(t.endpoints.login_base, "https://localhost:4443");
        assert_eq!(t.endpoints.graph_base, "https://graph.microsoft.us");
        assert_eq!(t.endpoints.smtp_port, 2525);
        assert_eq!(t.timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECS));
        assert!(
            build_target(
                &Inputs {
                    login_url: Some("ftp://x".into()),
                    ..Inputs::default()
                },
                None,
                false
            )
            .is_err()
        );
    }
}

/// `--dns-server`: `IP:PORT`, `[IPv6]:PORT`, or a bare IP meaning port 53.
fn dns_server_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("`{text}` is not an IP address (with an optional :PORT)"))
}
