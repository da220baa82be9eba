//! Running the real pipeline against the offline lab tenant (crates/diag-lab), as `xdiag lab`
//! does: the scenario's `[device]` section is what the technician types, and every endpoint,
//! the MX and the DNS server are the lab's, on loopback. Shared by lab_identity.rs and
//! lab_mail.rs.
use std::time::Duration;

use diag_core::{
    finding::{Finding, Status},
    pipeline::{self, Event},
    report::Report,
    secret::Secret,
    target::{Cloud, Credential, DeviceTls, Method, Target},
};
use diag_lab::{
    Lab, LabOptions, Scenario,
    scenario::{DeviceTlsCiphers, DeviceTlsVersion, Method as LabMethod},
};

fn some(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}

/// What the technician would type for this lab: its `[device]` inputs and its endpoints.
pub fn target_for(lab: &Lab) -> Target {
    let d = &lab.device().settings;
    let method = match d.method {
        LabMethod::Smtp => Method::Smtp,
        LabMethod::Graph => Method::Graph,
        LabMethod::DirectSend => Method::DirectSend,
        LabMethod::Relay => Method::Relay,
    };
    let credential = if d.device_code {
        Credential::DeviceCode
    } else if let Some(c) = &lab.device().certificate {
        Credential::Certificate {
            certificate_pem: c.certificate_pem.clone(),
            private_key_pem: Secret::new(c.private_key_pem.clone()),
        }
    } else if d.client_secret.is_empty() {
        Credential::None
    } else {
        Credential::Secret(Secret::new(d.client_secret.clone()))
    };
    let lab_ep = lab.endpoints();
    let mut endpoints = Cloud::Global.endpoints();
    endpoints.login_base = lab_ep.login_base.clone();
    endpoints.graph_base = lab_ep.graph_base.clone();
    // The lab's certificates name `localhost`: the device is configured with that host.
    endpoints.smtp_host = lab_ep.tls_server_name.clone();
    endpoints.smtp_addr = lab_ep.smtp_submission;
    endpoints.mx_addr = lab_ep.mx;
    // Never the system resolver: the lab answers for the scenario's zones.
    endpoints.dns_server = lab_ep.dns;
    endpoints.extra_ca_pem = Some(lab.ca_pem().to_string());
    Target {
        tenant: d.tenant.clone(),
        client_id: d.client_id.clone(),
        credential,
        mailbox: some(&d.mailbox),
        from: some(&d.from),
        method,
        scope: some(&d.scope),
        domain: None,
        public_ip: d.public_ip.parse().ok(),
        cloud: Cloud::Global,
        endpoints,
        timeout: Duration::from_secs(5),
        send_test: some(&d.send_test),
        only: None,
        device_tls: match (d.tls_max_version, d.tls_ciphers) {
            (DeviceTlsVersion::V1_1, _) => DeviceTls::Tls11,
            (_, DeviceTlsCiphers::Modern) => DeviceTls::Modern,
            (_, DeviceTlsCiphers::RsaOnly) => DeviceTls::RsaOnly,
        },
    }
}

/// Starts the lab for a built-in scenario.
pub async fn start(name: &str, latency: Duration) -> Lab {
    let scenario = Scenario::builtin(name).unwrap_or_else(|| panic!("no built-in scenario {name}"));
    Lab::start(&scenario, LabOptions { latency })
        .await
        .unwrap_or_else(|e| panic!("lab {name}: {e}"))
}

/// Runs a built-in scenario through the whole pipeline. `send_test`: add `--send-test` to an
/// outside recipient (a check option, not tenant state).
pub async fn run_scenario(
    name: &str,
    latency: Duration,
    send_test: bool,
) -> (Report, Vec<Event>, Lab) {
    let lab = start(name, latency).await;
    let mut target = target_for(&lab);
    if send_test {
        target.send_test = Some("someone@fabrikam.com".into());
    }
    let mut events = Vec::new();
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        pipeline::run(&target, &mut |e| events.push(e)),
    )
    .await
    .unwrap_or_else(|_| panic!("{name}: the run did not end"));
    (report, events, lab)
}

/// Is this finding a failure (what "first failure" means)?
pub fn failed(f: &Finding) -> bool {
    matches!(f.status, Status::Fail | Status::Error)
}

/// The report, one line per finding, for assertion messages.
pub fn lines(report: &Report) -> String {
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "    {:<9} {:<5} {:<35} {}",
                f.check.as_str(),
                f.status.as_str(),
                f.rule.map(|r| r.as_str()).unwrap_or(""),
                f.summary
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
