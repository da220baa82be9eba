//! The SMTP half of the mail path through the pipeline (`reach`, `smtp-tls`, `smtp-auth`,
//! `smtp-send`, `relay`): a scripted Entra ID (tests/support) issues real tokens, a scripted
//! SMTP server (tests/smtp_stub) answers as Exchange Online does, all on 127.0.0.1. Each test
//! runs with `--only` so nothing else (DNS, Graph) is asked, and checks the rule the finding
//! names, from the same state as the cases in shared/cases.
//!
//! Until these checks are wired into `checks::run`, the pipeline refuses `--only` for them and
//! each test says so and returns.
mod smtp_stub;
mod support;

use std::time::{Duration, Instant};

use diag_core::{
    check::CheckId,
    checks,
    finding::{Finding, Status},
    report::Report,
    target::{Credential, Method, Target},
};
use smtp_stub::{AuthMode, Behaviour, Greeting, HOST, StartTlsMode, Stub, TlsMode};
use support::*;

fn wired(check: CheckId) -> bool {
    let yes = checks::implemented(check);
    if !yes {
        eprintln!("the {check} check is not wired into checks::run yet: test not run");
    }
    yes
}

/// Method smtp against the stub: the submission host is `localhost` at the stub's address, the
/// MX a refused port (so `reach` asks no DNS), both CAs trusted.
fn smtp_target(fake: &Fake, stub: &Stub, only: CheckId) -> Target {
    let mut t = fake.target(Method::Smtp);
    t.endpoints.smtp_host = HOST.into();
    t.endpoints.smtp_addr = Some(stub.addr);
    t.endpoints.mx_addr = Some(smtp_stub::refused_port());
    t.endpoints.extra_ca_pem = Some(format!("{}{}", fake.ca_pem, stub.ca_pem));
    t.timeout = Duration::from_secs(3);
    t.only = Some(only);
    t
}

/// Direct send or relay to the stub as the MX; no credential, no token.
fn relay_target(stub: &Stub, method: Method) -> Target {
    let mut e = diag_core::target::Cloud::Global.endpoints();
    e.smtp_addr = Some(smtp_stub::refused_port());
    e.mx_addr = Some(stub.addr);
    e.extra_ca_pem = Some(stub.ca_pem.clone());
    Target {
        tenant: TENANT_ID.into(),
        client_id: CLIENT_ID.into(),
        credential: Credential::None,
        mailbox: Some(MAILBOX.into()),
        from: None,
        method,
        scope: None,
        domain: None,
        public_ip: Some("203.0.113.20".parse().expect("ip")),
        cloud: diag_core::target::Cloud::Global,
        endpoints: e,
        timeout: Duration::from_secs(3),
        send_test: None,
        only: Some(CheckId::Relay),
        device_tls: Default::default(),
    }
}

/// A change to the stub's behaviour, for table tests.
type Setter = Box<dyn Fn(&mut Behaviour)>;

fn rule(f: &Finding) -> Option<&'static str> {
    f.rule.map(|r| r.as_str())
}

fn all_evidence(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|e| format!("{}: {}\n", e.key, e.value))
        .collect()
}

/// No token, no XOAUTH2 payload anywhere in the report.
fn assert_redacted(report: &Report) {
    let json = serde_json::to_string(report).expect("json");
    assert!(
        !json.contains("eyJ0eXAi") && !json.contains("eyJhbGci"),
        "a JWT in the report: {json}"
    );
    assert!(
        !json.contains("dXNlcj1"),
        "an XOAUTH2 payload in the report: {json}"
    );
}

// ---- smtp-tls and smtp-auth ---------------------------------------------------------------------

#[tokio::test]
async fn a_healthy_submission_passes_every_smtp_check_with_its_evidence() {
    if !wired(CheckId::SmtpAuth) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    let stub = Stub::start(Behaviour::default()).await;
    let (report, _) = run(&smtp_target(&fake, &stub, CheckId::SmtpAuth)).await;
    for check in [
        "config",
        "token",
        "claims",
        "reach",
        "smtp-tls",
        "smtp-auth",
    ] {
        assert_eq!(
            finding(&report, check).status,
            Status::Pass,
            "{check}: {:#?}",
            report.findings
        );
    }
    let tls = finding(&report, "smtp-tls");
    assert!(
        tls.summary.starts_with("TLS 1.3 (TLS13_") && tls.summary.contains(&stub.ca_name),
        "{}",
        tls.summary
    );
    assert_eq!(evidence(tls, "root_trusted_here"), Some("yes"));
    assert!(
        evidence(tls, "tls12").is_some_and(|v| v.starts_with("accepted (TLS_ECDHE_")),
        "{}",
        all_evidence(tls)
    );
    assert_eq!(evidence(tls, "auth_mechanisms"), Some("LOGIN XOAUTH2"));
    let auth = finding(&report, "smtp-auth");
    assert!(
        all_evidence(auth).contains("smtp: C: AUTH XOAUTH2 [redacted]"),
        "{}",
        all_evidence(auth)
    );
    assert!(evidence(finding(&report, "reach"), "mx").is_some_and(|m| m.contains("refused")));
    assert_redacted(&report);
}

#[tokio::test]
async fn a_bare_535_with_a_right_app_only_token_points_at_the_exchange_service_principal() {
    // case-03 with SMTP.SendAsApp granted: the token is right, Exchange does not know the app.
    if !wired(CheckId::SmtpAuth) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    let stub = Stub::start(Behaviour {
        auth: AuthMode::Reply("535 5.7.3 Authentication unsuccessful [XX0P264CA0000.FRAP264.PROD.OUTLOOK.COM 2026-04-09T12:13:06.348Z 0000000000000000]".into()),
        ..Behaviour::default()
    })
    .await;
    let (report, _) = run(&smtp_target(&fake, &stub, CheckId::SmtpAuth)).await;
    let auth = finding(&report, "smtp-auth");
    assert_eq!(
        rule(auth),
        Some("smtp-service-principal-missing"),
        "{auth:#?}"
    );
    assert!(
        evidence(auth, "narrowed_by").is_some_and(|n| n.contains("SMTP.SendAsApp")),
        "{auth:#?}"
    );
    assert!(evidence(auth, "reply").is_some_and(|r| r.starts_with("535 5.7.3")));
    assert_redacted(&report);
}

#[tokio::test]
async fn a_334_challenge_then_535_is_narrowed_the_same_way() {
    if !wired(CheckId::SmtpAuth) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    let stub = Stub::start(Behaviour {
        auth: AuthMode::Challenge {
            json: r#"{"status":"401","schemes":"bearer"}"#.into(),
            then: "535 5.7.3 Authentication unsuccessful".into(),
        },
        ..Behaviour::default()
    })
    .await;
    let (report, _) = run(&smtp_target(&fake, &stub, CheckId::SmtpAuth)).await;
    let auth = finding(&report, "smtp-auth");
    assert_eq!(
        rule(auth),
        Some("smtp-service-principal-missing"),
        "{auth:#?}"
    );
    assert_eq!(evidence(auth, "challenge_status"), Some("401"));
    assert!(all_evidence(auth).contains("smtp: C: (empty line)"));
}

#[tokio::test]
async fn a_bare_535_for_a_shared_mailbox_names_the_shared_mailbox() {
    if !wired(CheckId::SmtpAuth) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    fake.set(|s| s.settings = settings("shared"));
    let stub = Stub::start(Behaviour {
        auth: AuthMode::Reply("535 5.7.3 Authentication unsuccessful".into()),
        ..Behaviour::default()
    })
    .await;
    let (report, _) = run(&smtp_target(&fake, &stub, CheckId::SmtpAuth)).await;
    assert_eq!(
        rule(finding(&report, "smtp-auth")),
        Some("smtp-shared-mailbox-identity"),
        "{:#?}",
        report.findings
    );
}

#[tokio::test]
async fn each_5_7_139_wording_names_its_rule_through_the_check() {
    if !wired(CheckId::SmtpAuth) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    let stub = Stub::start(Behaviour::default()).await;
    for (reply, want) in [
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
            "smtp-auth-disabled-for-tenant",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
            "smtp-auth-disabled-for-mailbox",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
            "smtp-auth-policy-blocked",
        ),
        (
            "504 5.7.4 Unrecognized authentication type",
            "smtp-auth-mechanism-unsupported",
        ),
    ] {
        stub.set(|b| b.auth = AuthMode::Reply(reply.into()));
        let (report, _) = run(&smtp_target(&fake, &stub, CheckId::SmtpAuth)).await;
        let auth = finding(&report, "smtp-auth");
        assert_eq!(rule(auth), Some(want), "{reply}: {auth:#?}");
        assert!(auth.summary.contains(&reply[..20]), "{}", auth.summary);
    }
}

#[tokio::test]
async fn an_untrusted_chain_fails_smtp_tls_and_names_the_root() {
    if !wired(CheckId::SmtpTls) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    let stub = Stub::start(Behaviour::default()).await;
    let mut t = smtp_target(&fake, &stub, CheckId::SmtpAuth);
    t.endpoints.extra_ca_pem = Some(fake.ca_pem.clone());
    let (report, _) = run(&t).await;
    let tls = finding(&report, "smtp-tls");
    assert_eq!(rule(tls), Some("tls-untrusted-root"), "{tls:#?}");
    assert!(tls.summary.contains(&stub.ca_name), "{}", tls.summary);
    assert_eq!(evidence(tls, "root_trusted_here"), Some("no"));
    assert_eq!(finding(&report, "smtp-auth").status, Status::Skip);
}

#[tokio::test]
async fn the_server_side_misfits_each_have_their_finding() {
    if !wired(CheckId::SmtpTls) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    let cases: Vec<(Behaviour, &str, Status)> = vec![
        (
            Behaviour {
                greeting: Greeting::TlsFirst,
                ..Behaviour::default()
            },
            "smtp-implicit-tls-on-587",
            Status::Fail,
        ),
        (
            Behaviour {
                starttls: StartTlsMode::NotOffered,
                ..Behaviour::default()
            },
            "smtp-starttls-required",
            Status::Fail,
        ),
        (
            Behaviour {
                greeting: Greeting::Silent,
                ..Behaviour::default()
            },
            "net-connect-timeout",
            Status::Fail,
        ),
        (
            Behaviour {
                starttls: StartTlsMode::Alert(40),
                ..Behaviour::default()
            },
            "tls-no-shared-cipher",
            Status::Fail,
        ),
        (
            Behaviour {
                tls: TlsMode::Tls13Only,
                ..Behaviour::default()
            },
            // TLS 1.2 refused with protocol_version: a version problem, not a cipher one.
            "tls-version-too-old",
            Status::Warn,
        ),
        (
            Behaviour {
                greeting: Greeting::Endless,
                ..Behaviour::default()
            },
            "xdiag-internal-error",
            Status::Error,
        ),
    ];
    for (behaviour, want, status) in cases {
        let label = format!(
            "{:?}/{:?}/{:?}",
            behaviour.greeting, behaviour.starttls, behaviour.tls
        );
        let stub = Stub::start(behaviour).await;
        let mut t = smtp_target(&fake, &stub, CheckId::SmtpTls);
        t.timeout = Duration::from_millis(800);
        let started = Instant::now();
        let (report, _) = run(&t).await;
        let tls = finding(&report, "smtp-tls");
        assert_eq!(
            (rule(tls), tls.status),
            (Some(want), status),
            "{label}: {tls:#?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{label} took {:?}",
            started.elapsed()
        );
    }
}

// ---- reach ----------------------------------------------------------------------------------------

#[tokio::test]
async fn reach_tells_a_refused_587_from_a_dropped_one() {
    if !wired(CheckId::Reach) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    let stub = Stub::start(Behaviour::default()).await;
    let mut t = smtp_target(&fake, &stub, CheckId::Reach);
    t.endpoints.smtp_addr = Some(smtp_stub::refused_port());
    let (report, _) = run(&t).await;
    let reach = finding(&report, "reach");
    assert_eq!(rule(reach), Some("net-port-587-blocked"), "{reach:#?}");
    assert_eq!(evidence(reach, "network"), Some("refused"));

    let (hole, _fillers, _listener) = smtp_stub::blackholed_port().await;
    t.endpoints.smtp_addr = Some(hole);
    t.timeout = Duration::from_millis(600);
    let started = Instant::now();
    let (report, _) = run(&t).await;
    let reach = finding(&report, "reach");
    assert_eq!(
        (rule(reach), evidence(reach, "network")),
        (Some("net-port-587-blocked"), Some("timeout")),
        "{reach:#?}"
    );
    assert!(
        reach.summary.contains("silently dropped"),
        "{}",
        reach.summary
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn direct_send_with_port_25_dropped_is_net_port_25_blocked() {
    // case-28: 25 to the MX times out while 587 answers.
    if !wired(CheckId::Relay) {
        return;
    }
    let stub = Stub::start(Behaviour::default()).await;
    let (hole, _fillers, _listener) = smtp_stub::blackholed_port().await;
    let mut t = relay_target(&stub, Method::DirectSend);
    t.endpoints.mx_addr = Some(hole);
    t.endpoints.smtp_addr = Some(stub.addr);
    t.timeout = Duration::from_millis(600);
    let (report, _) = run(&t).await;
    let reach = finding(&report, "reach");
    assert_eq!(rule(reach), Some("net-port-25-blocked"), "{reach:#?}");
    assert!(
        evidence(reach, "note").is_some_and(|n| n.contains("client submission")),
        "{reach:#?}"
    );
    assert_eq!(finding(&report, "relay").status, Status::Skip);
}

// ---- relay ----------------------------------------------------------------------------------------

#[tokio::test]
async fn direct_send_to_an_internal_recipient_passes_and_sends_nothing() {
    if !wired(CheckId::Relay) {
        return;
    }
    let stub = Stub::start(Behaviour::default()).await;
    let (report, _) = run(&relay_target(&stub, Method::DirectSend)).await;
    let relay = finding(&report, "relay");
    assert_eq!(relay.status, Status::Pass, "{relay:#?}");
    let received = stub.received();
    assert!(
        received
            .iter()
            .any(|l| l == &format!("RCPT TO:<{MAILBOX}>")),
        "{received:?}"
    );
    assert!(
        received.iter().any(|l| l == "RSET") && !received.iter().any(|l| l == "DATA"),
        "{received:?}"
    );
    assert!(
        !received.iter().any(|l| l.starts_with("AUTH")),
        "no AUTH on the MX"
    );
}

#[tokio::test]
async fn relay_replies_name_their_rules() {
    if !wired(CheckId::Relay) {
        return;
    }
    let stub = Stub::start(Behaviour::default()).await;
    let external = "someone@fabrikam.com";
    let cases: Vec<(Method, Setter, &str)> = vec![
        // Direct send reaches only the tenant's mailboxes.
        (
            Method::DirectSend,
            Box::new(|b| {
                b.rcpt = vec![(
                    "fabrikam.com".into(),
                    "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain".into(),
                )]
            }),
            "relay-external-recipient",
        ),
        // case-23: the connector no longer matches the site.
        (
            Method::Relay,
            Box::new(|b| {
                b.rcpt = vec![("fabrikam.com".into(), "550 5.7.64 TenantAttribution; Relay Access Denied [XX0AUS01FT000.eop-AUS01.prod.protection.outlook.com]".into())]
            }),
            "relay-tenant-attribution",
        ),
        // For a connector relay, "unable to relay" is the connector not matching either.
        (
            Method::Relay,
            Box::new(|b| {
                b.rcpt = vec![(
                    "fabrikam.com".into(),
                    "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain".into(),
                )]
            }),
            "relay-tenant-attribution",
        ),
        (
            Method::DirectSend,
            Box::new(|b| {
                b.mail = "550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources".into()
            }),
            "relay-direct-send-rejected",
        ),
        (
            Method::DirectSend,
            Box::new(|b| {
                b.greeting = Greeting::Line("554 5.7.1 Service unavailable; Client host [203.0.113.20] blocked using zen.spamhaus.org".into())
            }),
            "relay-ip-blocklisted",
        ),
        (
            Method::DirectSend,
            Box::new(|b| {
                b.mail = "451 4.7.500 Access denied, please try again later (AS761)".into()
            }),
            "relay-ip-throttled",
        ),
        (
            Method::DirectSend,
            Box::new(|b| {
                b.data_end = "550 5.7.509: Access denied, sending domain contoso.com does not pass DMARC verification and has a DMARC policy of reject".into()
            }),
            "relay-dmarc-reject",
        ),
    ];
    for (method, set, want) in cases {
        stub.set(|b| *b = Behaviour::default());
        stub.set(|b| set(b));
        let mut t = relay_target(&stub, method);
        t.send_test = Some(external.into());
        let (report, _) = run(&t).await;
        let relay = finding(&report, "relay");
        assert_eq!(rule(relay), Some(want), "{method:?}: {relay:#?}");
        assert_eq!(evidence(relay, "site_public_ip"), Some("203.0.113.20"));
    }
}

// ---- smtp-send ------------------------------------------------------------------------------------

#[tokio::test]
async fn the_test_message_and_the_send_refusals() {
    if !wired(CheckId::SmtpSend) {
        return;
    }
    let fake = Fake::start(Script::healthy()).await;
    let stub = Stub::start(Behaviour::default()).await;
    let mut t = smtp_target(&fake, &stub, CheckId::SmtpSend);
    t.send_test = Some("it@contoso.com".into());
    let (report, _) = run(&t).await;
    let send = finding(&report, "smtp-send");
    assert_eq!(send.status, Status::Pass, "{send:#?}");
    assert!(
        stub.received()
            .iter()
            .any(|l| l == "Subject: xdiag test message")
    );
    assert_redacted(&report);

    for (set, want, status) in [
        (
            Box::new(|b: &mut Behaviour| {
                b.data_end =
                    "550 5.7.60 SMTP; Client does not have permissions to send as this sender"
                        .into()
            }) as Setter,
            "smtp-send-as-denied",
            Status::Fail,
        ),
        (
            Box::new(|b: &mut Behaviour| {
                b.mail = "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded".into()
            }),
            "smtp-concurrency-limit",
            Status::Warn,
        ),
        (
            Box::new(|b: &mut Behaviour| {
                b.data_end = "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception".into()
            }),
            "smtp-submission-quota",
            Status::Fail,
        ),
        (
            Box::new(|b: &mut Behaviour| {
                b.data_end = "554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded".into()
            }),
            "smtp-mailbox-full",
            Status::Fail,
        ),
        (
            Box::new(|b: &mut Behaviour| {
                b.mail = "550 5.1.8 Access denied, bad outbound sender".into()
            }),
            "smtp-restricted-sender",
            Status::Fail,
        ),
        (
            Box::new(|b: &mut Behaviour| {
                b.rcpt = vec![(
                    "contoso.com".into(),
                    "550 5.7.708 Access denied, traffic not accepted from this IP".into(),
                )]
            }),
            "smtp-tenant-blocked",
            Status::Fail,
        ),
    ] {
        stub.set(|b| *b = Behaviour::default());
        stub.set(|b| set(b));
        let (report, _) = run(&t).await;
        let send = finding(&report, "smtp-send");
        assert_eq!((rule(send), send.status), (Some(want), status), "{send:#?}");
        assert!(
            all_evidence(send).contains("smtp: C: MAIL FROM:<scanner@contoso.com>"),
            "{send:#?}"
        );
    }
}
