//! `xdiag lab [SCENARIO|FILE]`: the same checks as `check`, against the offline lab tenant on
//! loopback. The scenario's `[device]` section supplies the inputs; every `check` option
//! overrides it. `xdiag lab --list` lists the built-in scenarios; `xdiag lab serve NAME` keeps a
//! lab running for trying things by hand.
use std::{
    io::Write,
    net::{Ipv4Addr, SocketAddr},
    path::Path,
    time::Duration,
};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use diag_core::{
    config::MethodChoice,
    secret::Secret,
    target::{DeviceTls, Target},
};
use diag_lab::{
    Lab, LabOptions, Scenario,
    scenario::{DeviceTlsCiphers, DeviceTlsVersion, Method as LabMethod},
};

use crate::{
    cli::Format,
    context::Context,
    run_checks::{run_checks, runtime},
    secret_input::CredentialSource,
    target_opts::{Inputs, TargetOptions, build_target, endpoint_note},
};

const DEFAULT_SCENARIO: &str = "healthy";

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no check failed (warnings allowed); 1 at least one check failed; \
2 usage, configuration or internal error."
)]
pub struct LabArgs {
    #[command(subcommand)]
    pub action: Option<LabAction>,
    /// A built-in scenario (see --list) or a scenario file (.toml) [default: healthy].
    #[arg(value_name = "SCENARIO|FILE")]
    pub scenario: Option<String>,
    /// List the built-in scenarios.
    #[arg(long)]
    pub list: bool,
    /// Delay every lab answer by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Any `check` option overrides the scenario's [device] value.
    #[command(flatten)]
    pub target: TargetOptions,
}

#[derive(Debug, Subcommand)]
pub enum LabAction {
    /// Keep a lab running and print its endpoints, CA file and credentials, until Ctrl-C.
    Serve {
        /// A built-in scenario or a scenario file [default: healthy].
        #[arg(value_name = "SCENARIO|FILE")]
        scenario: Option<String>,
        /// Delay every lab answer by this many milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 0)]
        latency_ms: u64,
    },
}

pub fn run(ctx: &Context, args: LabArgs) -> anyhow::Result<u8> {
    if let Some(LabAction::Serve {
        scenario,
        latency_ms,
    }) = &args.action
    {
        let scenario = load_scenario(scenario.as_deref().unwrap_or(DEFAULT_SCENARIO))?;
        return runtime()?.block_on(serve(&scenario, *latency_ms));
    }
    if args.list {
        return list(ctx);
    }
    let scenario = load_scenario(args.scenario.as_deref().unwrap_or(DEFAULT_SCENARIO))?;
    runtime()?.block_on(async {
        let lab = Lab::start(&scenario, options(args.latency_ms))
            .await
            .with_context(|| format!("cannot start the lab for scenario {}", scenario.name))?;
        let (inputs, profile) = args.target.merged_over(lab_inputs(&lab))?;
        let mut target = build_target(&inputs, args.target.only, false)?;
        point_at_lab(&mut target, &lab);
        // A flag overrides the scenario's `[device]` value (spec/lab.md).
        target.device_tls = args
            .target
            .device_tls
            .map(DeviceTls::from)
            .unwrap_or_else(|| device_tls(&lab));
        let mut notes = vec![("lab scenario".to_string(), scenario.name.clone())];
        notes.extend(endpoint_note(&target));
        if let Some(name) = profile {
            notes.push(("profile".to_string(), name));
        }
        let code = run_checks(ctx, &target, notes).await;
        lab.shutdown().await;
        code
    })
}

fn options(latency_ms: u64) -> LabOptions {
    LabOptions {
        latency: Duration::from_millis(latency_ms),
    }
}

/// A built-in name, or a path to a scenario file.
fn load_scenario(arg: &str) -> anyhow::Result<Scenario> {
    let looks_like_path = arg.ends_with(".toml")
        || arg.contains('/')
        || arg.contains('\\')
        || Path::new(arg).is_file();
    if looks_like_path {
        return Ok(Scenario::from_file(arg)?);
    }
    match Scenario::builtin(arg) {
        Some(s) => Ok(s),
        None => {
            let names: Vec<String> = Scenario::builtin_list()
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            bail!(
                "no built-in scenario `{arg}`; built-in scenarios: {} (or give a .toml file)",
                names.join(", ")
            )
        }
    }
}

fn list(ctx: &Context) -> anyhow::Result<u8> {
    let all = Scenario::builtin_list();
    let mut out = std::io::stdout().lock();
    if ctx.format == Format::Json {
        let list: Vec<_> = all
            .iter()
            .map(|(n, d)| serde_json::json!({ "name": n, "description": d }))
            .collect();
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
    } else {
        let width = all.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, description) in &all {
            writeln!(out, "{name:<width$}  {description}")?;
        }
    }
    Ok(0)
}

/// The scenario's `[device]` and the lab's endpoints as the bottom layer of inputs.
fn lab_inputs(lab: &Lab) -> Inputs {
    let device = &lab.device().settings;
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let credential = if device.device_code {
        Some(CredentialSource::DeviceCode)
    } else if let Some(cert) = &lab.device().certificate {
        Some(CredentialSource::CertificatePem {
            certificate_pem: cert.certificate_pem.clone(),
            private_key_pem: Secret::new(cert.private_key_pem.clone()),
        })
    } else {
        text(&device.client_secret)
            .map(|_| CredentialSource::Value(Secret::new(device.client_secret.clone())))
    };
    let endpoints = lab.endpoints();
    Inputs {
        tenant: text(&device.tenant),
        client_id: text(&device.client_id),
        credential,
        mailbox: text(&device.mailbox),
        from: text(&device.from),
        method: Some(match device.method {
            LabMethod::Smtp => MethodChoice::Smtp,
            LabMethod::Graph => MethodChoice::Graph,
            LabMethod::DirectSend => MethodChoice::DirectSend,
            LabMethod::Relay => MethodChoice::Relay,
        }),
        domain: None,
        public_ip: device.public_ip.trim().parse().ok(),
        cloud: None,
        scope: text(&device.scope),
        timeout: None,
        send_test: text(&device.send_test),
        login_url: Some(endpoints.login_base.clone()),
        graph_url: Some(endpoints.graph_base.clone()),
        smtp_host: Some(endpoints.tls_server_name.clone()),
        smtp_port: endpoints.smtp_submission.map(|a| a.port()),
        dns_server: endpoints.dns,
        ca_file: None,
    }
}

/// What the scenario's device can offer in TLS (`[device] tls_ciphers`).
fn device_tls(lab: &Lab) -> DeviceTls {
    let device = &lab.device().settings;
    if device.tls_max_version == DeviceTlsVersion::V1_1 {
        return DeviceTls::Tls11;
    }
    match device.tls_ciphers {
        DeviceTlsCiphers::Modern => DeviceTls::Modern,
        DeviceTlsCiphers::RsaOnly => DeviceTls::RsaOnly,
    }
}

/// Where nothing answers: the lab serves no DNS yet, and a lab run must never fall back to the
/// system resolver and the internet.
const NOWHERE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9);

/// Trust the lab CA (only here, beside any `--ca-file`), resolve its host name to loopback, and
/// connect SMTP and MX to the lab's own ports.
fn point_at_lab(target: &mut Target, lab: &Lab) {
    let endpoints = lab.endpoints();
    let mut pem = target.endpoints.extra_ca_pem.take().unwrap_or_default();
    if !pem.is_empty() && !pem.ends_with('\n') {
        pem.push('\n');
    }
    pem.push_str(lab.ca_pem());
    target.endpoints.extra_ca_pem = Some(pem);
    // Port 0: reqwest keeps the port from the URL.
    let loopback = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
    target
        .endpoints
        .resolve
        .push((endpoints.tls_server_name.clone(), loopback));
    target.endpoints.smtp_addr = endpoints.smtp_submission;
    target.endpoints.mx_addr = endpoints.mx;
    if target.endpoints.dns_server.is_none() {
        target.endpoints.dns_server = Some(NOWHERE);
    }
}

/// `xdiag lab serve`: print what a person needs to point xdiag (or a real device) at the lab.
async fn serve(scenario: &Scenario, latency_ms: u64) -> anyhow::Result<u8> {
    let lab = Lab::start(scenario, options(latency_ms))
        .await
        .with_context(|| format!("cannot start the lab for scenario {}", scenario.name))?;
    let dir = tempfile::Builder::new()
        .prefix("xdiag-lab-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let ca_path = dir.path().join("lab-ca.pem");
    std::fs::write(&ca_path, lab.ca_pem()).context("cannot write the lab CA file")?;
    let device = &lab.device().settings;
    let cert_path = match &lab.device().certificate {
        Some(cert) => {
            let p = dir.path().join("device-certificate.pem");
            std::fs::write(
                &p,
                format!("{}{}", cert.certificate_pem, cert.private_key_pem),
            )
            .context("cannot write the lab device certificate")?;
            Some((p, cert.thumbprint.clone()))
        }
        None => None,
    };
    let e = lab.endpoints();
    let not_served = "(not served by this lab version)".to_string();
    let addr = |a: Option<SocketAddr>| {
        a.map(|a| a.to_string())
            .unwrap_or_else(|| not_served.clone())
    };

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "lab scenario {}: {}",
        scenario.name, scenario.description
    )?;
    writeln!(out)?;
    writeln!(out, "endpoints")?;
    writeln!(
        out,
        "  token endpoint   {}/{}/oauth2/v2.0/token",
        e.login_base, device.tenant
    )?;
    writeln!(out, "  login base       {}", e.login_base)?;
    writeln!(out, "  graph base       {}", e.graph_base)?;
    writeln!(out, "  smtp submission  {}", addr(e.smtp_submission))?;
    writeln!(out, "  mx               {}", addr(e.mx))?;
    writeln!(out, "  dns              {}", addr(e.dns))?;
    writeln!(out, "  TLS name         {}", e.tls_server_name)?;
    writeln!(
        out,
        "  CA file          {}  (trust it for the lab only)",
        ca_path.display()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "credentials to try by hand (LAB DATA: fake values that exist only in this lab)"
    )?;
    writeln!(out, "  method           {}", lab_method(device.method))?;
    writeln!(out, "  tenant           {}", device.tenant)?;
    writeln!(out, "  client id        {}", device.client_id)?;
    if !device.client_secret.is_empty() {
        writeln!(
            out,
            "  client secret    {}  (lab data)",
            device.client_secret
        )?;
    }
    if let Some((p, thumb)) = &cert_path {
        writeln!(
            out,
            "  certificate      {}  (certificate and key, lab data; thumbprint {thumb})",
            p.display()
        )?;
    }
    if device.device_code {
        writeln!(out, "  device code      sign in as {}", device.sign_in_as)?;
    }
    if !device.mailbox.is_empty() {
        writeln!(out, "  mailbox          {}", device.mailbox)?;
    }
    writeln!(out)?;
    let credential = if device.device_code {
        " --device-code".to_string()
    } else if let Some((p, _)) = &cert_path {
        format!(" --certificate {}", p.display())
    } else if !device.client_secret.is_empty() {
        " --client-secret-env XDIAG_LAB_SECRET".to_string()
    } else {
        String::new()
    };
    let mailbox = if device.mailbox.is_empty() {
        String::new()
    } else {
        format!(" --mailbox {}", device.mailbox)
    };
    // Everything `check` needs to reach this lab and nothing real: SMTP and DNS included.
    let mut mail = String::new();
    if let Some(a) = e.smtp_submission {
        mail.push_str(&format!(
            " --smtp-host {} --smtp-port {}",
            e.tls_server_name,
            a.port()
        ));
    }
    if let Some(a) = e.dns {
        mail.push_str(&format!(" --dns-server {a}"));
    }
    writeln!(out, "try:")?;
    if credential.contains("XDIAG_LAB_SECRET") {
        writeln!(out, "  export XDIAG_LAB_SECRET='<the client secret above>'")?;
    }
    writeln!(
        out,
        "  xdiag check --method {} --tenant {} --client-id {}{credential}{mailbox} --login-url {} --graph-url {}{mail} --ca-file {}",
        lab_method(device.method),
        device.tenant,
        device.client_id,
        e.login_base,
        e.graph_base,
        ca_path.display()
    )?;
    writeln!(out)?;
    writeln!(out, "the lab is running; press Ctrl-C to stop it")?;
    out.flush()?;
    drop(out);

    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    lab.shutdown().await;
    drop(dir);
    Ok(0)
}

fn lab_method(m: LabMethod) -> &'static str {
    match m {
        LabMethod::Smtp => "smtp",
        LabMethod::Graph => "graph",
        LabMethod::DirectSend => "direct-send",
        LabMethod::Relay => "relay",
    }
}
