//! xdiag's `dns` check against nsd and against the lab's own DNS (crates/diag-lab, hickory-server)
//! for the same records: every line of tests/peers/nsd/zones/*.zone, handed to the lab as
//! `[dns] records`. For each domain and method the two findings must be the same (status, rule,
//! summary, evidence; only the server's address differs), and must be the one the records call
//! for (`EXPECTED`), so two servers agreeing on a wrong answer still fails.
use std::{net::SocketAddr, time::Duration};

use diag_core::{
    check::CheckId,
    finding::Finding,
    pipeline,
    secret::Secret,
    target::{Cloud, Credential, Method, Target},
};
use diag_lab::{Lab, LabOptions, Scenario};

use crate::peers::{self, NSD};

const SITE_IP: &str = "203.0.113.10";

/// (domain, method, public IP, the rule the records call for; None = pass)
const EXPECTED: &[(&str, Method, Option<&str>, Option<&str>)] = &[
    ("contoso.test", Method::Smtp, None, None),
    ("contoso.test", Method::DirectSend, Some(SITE_IP), None),
    (
        "contoso.test",
        Method::DirectSend,
        Some("198.51.100.99"),
        Some("dns-spf-ip-not-authorized"),
    ),
    (
        "litware.test",
        Method::Smtp,
        None,
        Some("dns-dmarc-missing"),
    ),
    (
        "fabrikam.test",
        Method::Smtp,
        None,
        Some("dns-spf-missing-exchange-include"),
    ),
    (
        "fabrikam.test",
        Method::DirectSend,
        Some(SITE_IP),
        Some("dns-mx-not-exchange-online"),
    ),
    (
        "northwind.test",
        Method::Smtp,
        None,
        Some("dns-spf-missing"),
    ),
    (
        "northwind.test",
        Method::DirectSend,
        Some(SITE_IP),
        Some("dns-mx-missing"),
    ),
    (
        "adatum.test",
        Method::Smtp,
        None,
        Some("dns-spf-multiple-records"),
    ),
    (
        "tailspin.test",
        Method::Smtp,
        None,
        Some("dns-spf-too-many-lookups"),
    ),
    (
        "woodgrove.test",
        Method::DirectSend,
        Some(SITE_IP),
        Some("dns-spf-syntax-error"),
    ),
    (
        "gone.contoso.test",
        Method::Smtp,
        None,
        Some("dns-domain-not-found"),
    ),
];

/// The zone files' records as the lab takes them: one per line, full name, TTL, no SOA/NS
/// (the lab makes its own), `$ORIGIN`-relative names made absolute.
fn zone_records() -> Vec<String> {
    let dir = peers::workspace().join("tests/peers/nsd/zones");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("zones folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "zone"))
    {
        let mut origin = format!(
            "{}.",
            path.file_stem()
                .and_then(|s| s.to_str())
                .expect("zone name")
        );
        for line in std::fs::read_to_string(path).expect("zone file").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            if let Some(o) = line.strip_prefix("$ORIGIN") {
                origin = o.trim().to_string();
                continue;
            }
            if line.starts_with('$') {
                continue;
            }
            let (owner, rest) = line
                .split_once(char::is_whitespace)
                .expect("owner and data");
            let rest = rest.trim_start();
            let owner = match owner {
                "@" => origin.clone(),
                o if o.ends_with('.') => o.to_string(),
                o => format!("{o}.{origin}"),
            };
            let rest = if rest.starts_with("IN ") {
                format!("300 {rest}")
            } else {
                rest.to_string()
            };
            let rtype = rest.split_whitespace().nth(2).unwrap_or("");
            if rtype == "SOA" || rtype == "NS" || owner.starts_with("ns1.") {
                continue;
            }
            out.push(format!("{owner} {rest}"));
        }
    }
    out
}

fn scenario(records: &[String]) -> Scenario {
    let domains: Vec<&str> = EXPECTED
        .iter()
        .map(|e| e.0)
        .filter(|d| !d.starts_with("gone."))
        .collect();
    let toml = format!(
        "name = \"interop-dns\"\ndescription = \"the interop zones\"\n[tenant]\nid = \"11111111-2222-3333-4444-555555555555\"\ndomains = {}\n[dns]\nrecords = {}\n",
        toml_list(&domains),
        toml_list(&records.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    Scenario::from_toml_str(&toml)
        .unwrap_or_else(|e| panic!("the lab refuses the interop zones: {e}"))
}

fn toml_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

fn target(domain: &str, method: Method, public_ip: Option<&str>, dns: SocketAddr) -> Target {
    let mut endpoints = Cloud::Global.endpoints();
    endpoints.dns_server = Some(dns);
    Target {
        tenant: domain.to_string(),
        client_id: "00000000-0000-0000-0000-000000000001".into(),
        credential: match method {
            Method::Smtp | Method::Graph => {
                Credential::Secret(Secret::new("not-used-by-the-dns-check".into()))
            }
            _ => Credential::None,
        },
        mailbox: Some(format!("scanner@{domain}")),
        from: None,
        method,
        scope: None,
        domain: Some(domain.to_string()),
        public_ip: public_ip.map(|ip| ip.parse().expect("IP")),
        cloud: Cloud::Global,
        endpoints,
        timeout: Duration::from_secs(3),
        send_test: None,
        only: Some(CheckId::Dns),
        device_tls: Default::default(),
    }
}

async fn dns_finding(t: &Target) -> Finding {
    let report = pipeline::run(t, &mut |_| {}).await;
    report
        .findings
        .into_iter()
        .find(|f| f.check == CheckId::Dns)
        .expect("the report has the dns finding")
}

/// The finding as text, with the server's address taken out.
fn comparable(f: &Finding, server: SocketAddr) -> String {
    let evidence: Vec<String> = f
        .evidence
        .iter()
        .map(|e| {
            format!(
                "  {} = {}",
                e.key,
                e.value.replace(&server.to_string(), "SERVER")
            )
        })
        .collect();
    format!(
        "{:?} {:?} {}\n{}",
        f.status,
        f.rule.map(|r| r.as_str()),
        f.summary.replace(&server.to_string(), "SERVER"),
        evidence.join("\n")
    )
}

#[tokio::test]
async fn the_dns_check_finds_the_same_against_nsd_and_the_lab() {
    let Some(peers) = peers::require(
        "the_dns_check_finds_the_same_against_nsd_and_the_lab",
        &[NSD],
    ) else {
        return;
    };
    let nsd = peers.addr(NSD);
    let lab = Lab::start(&scenario(&zone_records()), LabOptions::default())
        .await
        .expect("the lab starts");
    let lab_dns = lab.endpoints().dns.expect("the lab serves DNS");

    let mut problems = Vec::new();
    for &(domain, method, ip, expected) in EXPECTED {
        let at_nsd = dns_finding(&target(domain, method, ip, nsd)).await;
        let at_lab = dns_finding(&target(domain, method, ip, lab_dns)).await;
        let what = format!(
            "{domain} ({}, public IP {})",
            method.as_str(),
            ip.unwrap_or("none")
        );
        let got = at_nsd.rule.map(|r| r.as_str());
        eprintln!(
            "{what}: nsd {:?} {got:?}, lab {:?} {:?}",
            at_nsd.status,
            at_lab.status,
            at_lab.rule.map(|r| r.as_str())
        );
        if got != expected {
            problems.push(format!(
                "{what}: nsd gives {got:?}, the records call for {expected:?}: {}",
                at_nsd.summary
            ));
        }
        let (a, b) = (comparable(&at_nsd, nsd), comparable(&at_lab, lab_dns));
        if a != b {
            problems.push(format!(
                "{what}: nsd and the lab differ\n--- nsd\n{a}\n--- lab\n{b}"
            ));
        }
    }
    lab.shutdown().await;
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
