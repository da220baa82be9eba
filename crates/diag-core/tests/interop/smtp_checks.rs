//! The `smtp-tls` and `smtp-auth` checks end to end against the Exchange-like aiosmtpd peer: the
//! token comes from the lab's Entra ID (built-in `healthy` scenario: a right app-only token), the
//! SMTP conversation is with the peer, whose reply is chosen by the mailbox's local part. Each
//! reply must come out as the rule it names, through the whole pipeline.
use std::time::Duration;

use diag_core::{
    check::CheckId,
    finding::{Finding, Status},
    pipeline,
    secret::Secret,
    target::{Cloud, Credential, Method, Target},
};
use diag_lab::{Lab, LabOptions, Scenario};

use crate::peers::{self, CA, SMTP, SMTP_TLS12};

fn target(
    lab: &Lab,
    mailbox: &str,
    smtp: std::net::SocketAddr,
    extra_ca: String,
    only: CheckId,
) -> Target {
    let d = &lab.device().settings;
    let mut endpoints = Cloud::Global.endpoints();
    endpoints.login_base = lab.endpoints().login_base.clone();
    endpoints.graph_base = lab.endpoints().graph_base.clone();
    endpoints.smtp_host = "smtp.peer.test".into();
    endpoints.smtp_port = smtp.port();
    endpoints.smtp_addr = Some(smtp);
    endpoints.extra_ca_pem = Some(extra_ca);
    Target {
        tenant: d.tenant.clone(),
        client_id: d.client_id.clone(),
        credential: Credential::Secret(Secret::new(d.client_secret.clone())),
        mailbox: Some(mailbox.to_string()),
        from: None,
        method: Method::Smtp,
        scope: None,
        domain: None,
        public_ip: None,
        cloud: Cloud::Global,
        endpoints,
        timeout: Duration::from_secs(5),
        send_test: None,
        only: Some(only),
        device_tls: Default::default(),
    }
}

async fn finding(t: &Target, check: CheckId) -> Finding {
    let report = tokio::time::timeout(Duration::from_secs(60), pipeline::run(t, &mut |_| {}))
        .await
        .expect("the run ends");
    let all: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {:?} {:?} {}", f.check, f.status, f.rule, f.summary))
        .collect();
    report
        .findings
        .into_iter()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("no {check} finding in {all:#?}"))
}

fn evidence_text(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|e| format!("{} = {}", e.key, e.value))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (mailbox local part, the rule the peer's reply names)
const AUTH_CASES: &[(&str, &str)] = &[
    ("tenant-off", "smtp-auth-disabled-for-tenant"),
    ("mailbox-off", "smtp-auth-disabled-for-mailbox"),
    ("secdefaults", "smtp-security-defaults"),
    ("policy", "smtp-auth-policy-blocked"),
    ("basic-off", "smtp-basic-auth-disabled"),
    ("bad-password", "smtp-credentials-incorrect"),
    ("multiline", "smtp-auth-disabled-for-tenant"),
];

#[tokio::test]
async fn smtp_tls_and_smtp_auth_checks_classify_the_peers_replies() {
    let Some(peers) = peers::require(
        "smtp_tls_and_smtp_auth_checks_classify_the_peers_replies",
        &[SMTP, SMTP_TLS12, CA],
    ) else {
        return;
    };
    let lab = Lab::start(
        &Scenario::builtin("healthy").expect("built-in healthy scenario"),
        LabOptions::default(),
    )
    .await
    .expect("the lab starts");
    let peer_ca = std::fs::read_to_string(peers.get(CA)).expect("the peer's CA");
    let both_cas = format!("{}\n{peer_ca}", lab.ca_pem());
    let mut problems = Vec::new();

    // smtp-tls: the negotiated version and suite are reported; the TLS 1.2 port has one suite.
    for (port, version, cipher) in [
        (SMTP, "TLS 1.3", "TLS13_"),
        (
            SMTP_TLS12,
            "TLS 1.2",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ),
    ] {
        let f = finding(
            &target(
                &lab,
                "scanner@contoso.com",
                peers.addr(port),
                both_cas.clone(),
                CheckId::SmtpTls,
            ),
            CheckId::SmtpTls,
        )
        .await;
        let ev = evidence_text(&f);
        if f.status != Status::Pass || !ev.contains(version) || !ev.contains(cipher) {
            problems.push(format!(
                "smtp-tls on {port}: {:?} {:?} {} (want {version}, {cipher}...)\n{ev}",
                f.status, f.rule, f.summary
            ));
        }
    }
    // Without the peer's CA its chain ends at a root xdiag does not trust.
    let f = finding(
        &target(
            &lab,
            "scanner@contoso.com",
            peers.addr(SMTP),
            lab.ca_pem().to_string(),
            CheckId::SmtpTls,
        ),
        CheckId::SmtpTls,
    )
    .await;
    if f.rule.map(|r| r.as_str()) != Some("tls-untrusted-root") {
        problems.push(format!(
            "smtp-tls without the peer's CA: {:?} {:?} {}",
            f.status, f.rule, f.summary
        ));
    }

    // smtp-auth: each scripted refusal names its rule.
    for &(local, rule) in AUTH_CASES {
        let t = target(
            &lab,
            &format!("{local}@contoso.com"),
            peers.addr(SMTP),
            both_cas.clone(),
            CheckId::SmtpAuth,
        );
        let f = finding(&t, CheckId::SmtpAuth).await;
        if f.status != Status::Fail || f.rule.map(|r| r.as_str()) != Some(rule) {
            problems.push(format!(
                "smtp-auth for {local}: {:?} {:?} {} (want fail {rule})\n{}",
                f.status,
                f.rule,
                f.summary,
                evidence_text(&f)
            ));
        }
    }
    // The 334 challenge, then 535 5.7.3: the challenge is answered and kept as evidence, and the
    // bare 535 5.7.3 is narrowed: the lab's token is right for SMTP (Exchange audience,
    // SMTP.SendAsApp), so the cause is on the Exchange side (no service principal / permission).
    let f = finding(
        &target(
            &lab,
            "challenge@contoso.com",
            peers.addr(SMTP),
            both_cas.clone(),
            CheckId::SmtpAuth,
        ),
        CheckId::SmtpAuth,
    )
    .await;
    let ev = evidence_text(&f);
    eprintln!(
        "smtp-auth with a 334 challenge: {:?} {:?} {}",
        f.status, f.rule, f.summary
    );
    let narrowed = f.rule.map(|r| r.as_str()) == Some("smtp-service-principal-missing");
    if f.status != Status::Fail || !narrowed || !ev.contains("334") || !ev.contains("535") {
        problems.push(format!(
            "smtp-auth with a 334 challenge: {:?} {:?} {}\n{ev}",
            f.status, f.rule, f.summary
        ));
    }
    if ev.contains(lab.device().settings.client_secret.as_str()) {
        problems.push("the client secret reached the evidence".into());
    }
    lab.shutdown().await;
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
