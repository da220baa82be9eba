//! xdiag's SMTP client against aiosmtpd + OpenSSL (tests/peers/smtp/exchange_like.py), which
//! answers like Exchange Online: STARTTLS with a CA made at start, AUTH offered only after TLS,
//! XOAUTH2 replies scripted by user (235, 535 5.7.3, the 5.7.139 variants, a 334 challenge, a
//! multi-line 535), and the pre-TLS / pre-AUTH refusals.
use std::{net::SocketAddr, time::Duration};

use diag_core::{
    classify::smtp::{SmtpPath, classify},
    net::smtp::{
        Capabilities, ImplicitTls, Reply, SmtpClient, SmtpError, StartTls, TlsFailureKind,
        TlsSetup, TlsVersions, probe_implicit_tls,
    },
    secret::Secret,
};

use crate::peers::{self, CA, Peers, SMTP, SMTP_TLS12};

const HOST: &str = "smtp.peer.test";
const DEADLINE: Duration = Duration::from_secs(5);

fn ca(peers: &Peers) -> String {
    std::fs::read_to_string(peers.get(CA)).expect("the peer's CA file")
}

/// The rule xdiag's classifier names for a reply on the submission path ("-" for none).
fn rule(reply: &Reply) -> &'static str {
    classify(reply.code, &reply.text(), SmtpPath::Submission).map_or("-", |r| r.as_str())
}

fn code(reply: &Reply) -> String {
    let e = reply
        .enhanced()
        .map(|e| format!("{}.{}.{}", e.class, e.subject, e.detail))
        .unwrap_or_default();
    format!("{} {e}", reply.code)
}

/// Connected, greeted, EHLO'd and upgraded to TLS with the peer's CA trusted.
async fn session(addr: SocketAddr, ca_pem: &str) -> SmtpClient {
    let mut c = SmtpClient::connect(HOST, addr.port(), Some(addr), DEADLINE)
        .await
        .expect("connect");
    assert_eq!(c.greeting().await.expect("greeting").code, 220);
    assert_eq!(c.ehlo().await.expect("EHLO").code, 250);
    let setup = TlsSetup::new(Some(ca_pem)).expect("TLS setup");
    match c
        .starttls(&setup, TlsVersions::Modern)
        .await
        .expect("STARTTLS")
    {
        StartTls::Upgraded(_) => {}
        StartTls::Refused(r) => panic!("STARTTLS refused: {r}"),
    }
    assert_eq!(c.ehlo().await.expect("EHLO after TLS").code, 250);
    c
}

#[tokio::test]
async fn starttls_reports_the_negotiated_version_cipher_and_chain() {
    let Some(peers) = peers::require(
        "starttls_reports_the_negotiated_version_cipher_and_chain",
        &[SMTP, SMTP_TLS12, CA],
    ) else {
        return;
    };
    let ca_pem = ca(&peers);
    let setup = TlsSetup::new(Some(&ca_pem)).expect("TLS setup");

    // The main port: OpenSSL's defaults, so TLS 1.3 with a TLS 1.3 suite.
    let addr = peers.addr(SMTP);
    let mut c = SmtpClient::connect(HOST, addr.port(), Some(addr), DEADLINE)
        .await
        .expect("connect");
    let greeting = c.greeting().await.expect("greeting");
    assert_eq!(greeting.code, 220);
    assert!(
        greeting
            .text()
            .contains("Microsoft ESMTP MAIL Service ready"),
        "{greeting}"
    );

    // Multi-line EHLO before TLS: 7 lines, STARTTLS offered, no AUTH yet.
    let ehlo = c.ehlo().await.expect("EHLO");
    assert_eq!(
        ehlo.lines.len(),
        7,
        "every EHLO line kept: {:?}",
        ehlo.lines
    );
    assert!(
        ehlo.lines[..6].iter().all(|l| l.starts_with("250-")) && ehlo.lines[6].starts_with("250 ")
    );
    let before = Capabilities::from_reply(&ehlo);
    assert!(
        before
            .greeting
            .starts_with("SN4PR0501CA0056.outlook.office365.com"),
        "{}",
        before.greeting
    );
    assert!(before.starttls());
    assert!(
        before.auth_mechanisms().is_empty(),
        "AUTH is offered only after TLS: {:?}",
        before.keywords
    );
    assert!(before.keywords.iter().any(|k| k == "SIZE 157286400"));

    let info = match c
        .starttls(&setup, TlsVersions::Modern)
        .await
        .expect("STARTTLS")
    {
        StartTls::Upgraded(info) => info,
        StartTls::Refused(r) => panic!("STARTTLS refused: {r}"),
    };
    assert_eq!(info.version, "TLS 1.3");
    assert!(info.cipher.starts_with("TLS13_"), "{}", info.cipher);
    assert_eq!(c.tls(), Some(&info));
    assert!(
        info.chain[0].subject.contains("smtp.peer.test"),
        "{:?}",
        info.chain
    );
    let root = info.root.as_ref().expect("the root is named");
    assert!(
        root.name.contains("xdiag interop peer CA") && root.in_trust_store,
        "{root:?}"
    );

    // After TLS: AUTH LOGIN XOAUTH2 (no PLAIN), STARTTLS no longer offered.
    let after = Capabilities::from_reply(&c.ehlo().await.expect("EHLO after TLS"));
    assert_eq!(after.auth_mechanisms(), ["LOGIN", "XOAUTH2"]);
    assert!(after.offers_auth("xoauth2") && !after.offers_auth("PLAIN") && !after.starttls());
    c.quit().await;

    // The TLS 1.2 port allows one suite only: the report must name exactly that one, whether
    // xdiag offers 1.2 and 1.3 or 1.2 only.
    let addr = peers.addr(SMTP_TLS12);
    for versions in [TlsVersions::Modern, TlsVersions::Tls12Only] {
        let mut c = SmtpClient::connect(HOST, addr.port(), Some(addr), DEADLINE)
            .await
            .expect("connect");
        c.greeting().await.expect("greeting");
        c.ehlo().await.expect("EHLO");
        let StartTls::Upgraded(info) = c.starttls(&setup, versions).await.expect("STARTTLS") else {
            panic!("refused")
        };
        assert_eq!(
            (info.version.as_str(), info.cipher.as_str()),
            ("TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        c.quit().await;
    }
}

#[tokio::test]
async fn an_unknown_root_a_wrong_name_and_implicit_tls_are_told_apart() {
    let Some(peers) = peers::require(
        "an_unknown_root_a_wrong_name_and_implicit_tls_are_told_apart",
        &[SMTP, CA],
    ) else {
        return;
    };
    let addr = peers.addr(SMTP);

    // Without the peer's CA the chain leads to an unknown root: untrusted, chain still recorded.
    let system_only = TlsSetup::new(None).expect("TLS setup");
    let mut c = SmtpClient::connect(HOST, addr.port(), Some(addr), DEADLINE)
        .await
        .expect("connect");
    c.greeting().await.expect("greeting");
    c.ehlo().await.expect("EHLO");
    match c.starttls(&system_only, TlsVersions::Modern).await {
        Err(SmtpError::Tls(f)) => {
            assert_eq!(f.kind, TlsFailureKind::Untrusted, "{f}");
            assert!(
                f.chain
                    .first()
                    .is_some_and(|s| s.subject.contains("smtp.peer.test")),
                "{:?}",
                f.chain
            );
            let root = f.root.expect("the missing root is named");
            assert!(
                root.name.contains("xdiag interop peer CA") && !root.in_trust_store,
                "{root:?}"
            );
        }
        other => panic!("expected an untrusted-root failure, got {other:?}"),
    }

    // The CA is trusted but the certificate does not name this host.
    let setup = TlsSetup::new(Some(&ca(&peers))).expect("TLS setup");
    let mut c = SmtpClient::connect("wrong.peer.test", addr.port(), Some(addr), DEADLINE)
        .await
        .expect("connect");
    c.greeting().await.expect("greeting");
    c.ehlo().await.expect("EHLO");
    match c.starttls(&setup, TlsVersions::Modern).await {
        Err(SmtpError::Tls(f)) => assert_eq!(f.kind, TlsFailureKind::NameMismatch, "{f}"),
        other => panic!("expected a name mismatch, got {other:?}"),
    }

    // Implicit TLS on a STARTTLS port: the server greets in plain text ("wrong version number").
    match probe_implicit_tls(&setup, HOST, addr, DEADLINE).await {
        ImplicitTls::PlainText(detail) => assert!(!detail.is_empty()),
        other => panic!("expected plain text from a STARTTLS port, got {other:?}"),
    }
}

#[tokio::test]
async fn commands_before_tls_or_auth_get_exchanges_refusals() {
    let Some(peers) = peers::require(
        "commands_before_tls_or_auth_get_exchanges_refusals",
        &[SMTP, CA],
    ) else {
        return;
    };
    let addr = peers.addr(SMTP);
    let token = Secret::new("GOOD-TOKEN".to_string());

    let mut c = SmtpClient::connect(HOST, addr.port(), Some(addr), DEADLINE)
        .await
        .expect("connect");
    c.greeting().await.expect("greeting");
    c.ehlo().await.expect("EHLO");
    let auth = c
        .auth_xoauth2("scanner@contoso.test", &token)
        .await
        .expect("AUTH before TLS");
    assert_eq!(code(&auth.last), "504 5.7.4");
    assert_eq!(rule(&auth.last), "smtp-auth-mechanism-unsupported");
    let mail = c
        .mail_from("scanner@contoso.test")
        .await
        .expect("MAIL before TLS");
    assert_eq!(code(&mail), "451 5.7.3");
    assert_eq!(rule(&mail), "smtp-starttls-required");
    c.quit().await;

    let mut c = session(addr, &ca(&peers)).await;
    let mail = c.mail_from("scanner@contoso.test").await.expect("MAIL");
    assert_eq!(
        (code(&mail).as_str(), rule(&mail)),
        ("530 5.7.57", "smtp-not-authenticated")
    );
    let auth = c
        .auth_xoauth2("scanner@contoso.test", &token)
        .await
        .expect("AUTH");
    assert!(
        auth.succeeded() && auth.challenge.is_none(),
        "{:?}",
        auth.last
    );
    assert_eq!(code(&auth.last), "235 2.7.0");
    assert_eq!(rule(&auth.last), "-", "success names no rule");
    let mail = c
        .mail_from("someone-else@contoso.test")
        .await
        .expect("MAIL");
    assert_eq!(
        (code(&mail).as_str(), rule(&mail)),
        ("550 5.7.60", "smtp-send-as-denied")
    );
    assert_eq!(
        code(&c.mail_from("scanner@contoso.test").await.expect("MAIL")),
        "250 2.1.0"
    );
    let transcript = format!("{:?}", c.transcript());
    assert!(
        !transcript.contains("GOOD-TOKEN"),
        "the token never reaches the transcript"
    );
    c.quit().await;
}

/// (user, final reply code, enhanced code, a phrase of the text, lines, the rule it names)
const SCRIPTED: &[(&str, u16, &str, &str, usize, &str)] = &[
    (
        "scanner-wrong-token",
        535,
        "5.7.3",
        "Authentication unsuccessful",
        1,
        "smtp-auth-unsuccessful",
    ),
    (
        "tenant-off",
        535,
        "5.7.139",
        "SmtpClientAuthentication is disabled for the Tenant",
        1,
        "smtp-auth-disabled-for-tenant",
    ),
    (
        "mailbox-off",
        535,
        "5.7.139",
        "SmtpClientAuthentication is disabled for the Mailbox",
        1,
        "smtp-auth-disabled-for-mailbox",
    ),
    (
        "secdefaults",
        535,
        "5.7.139",
        "security defaults policy",
        1,
        "smtp-security-defaults",
    ),
    (
        "policy",
        535,
        "5.7.139",
        "did not meet the criteria",
        1,
        "smtp-auth-policy-blocked",
    ),
    (
        "basic-off",
        535,
        "5.7.139",
        "basic authentication is disabled",
        1,
        "smtp-basic-auth-disabled",
    ),
    (
        "bad-password",
        535,
        "5.7.139",
        "the user credentials were incorrect",
        1,
        "smtp-credentials-incorrect",
    ),
    // The tenant-off reply split over two lines: the cause is on the first, the link on the last.
    (
        "multiline",
        535,
        "5.7.139",
        "SmtpClientAuthentication is disabled for the Tenant",
        2,
        "smtp-auth-disabled-for-tenant",
    ),
    (
        "challenge",
        535,
        "5.7.3",
        "Authentication unsuccessful",
        1,
        "smtp-auth-unsuccessful",
    ),
];

#[tokio::test]
async fn xoauth2_refusals_are_read_whole_and_the_challenge_is_answered() {
    let Some(peers) = peers::require(
        "xoauth2_refusals_are_read_whole_and_the_challenge_is_answered",
        &[SMTP, CA],
    ) else {
        return;
    };
    let ca_pem = ca(&peers);
    let mut c = session(peers.addr(SMTP), &ca_pem).await;
    let token = Secret::new("NOT-THE-GOOD-TOKEN".to_string());
    for &(local, reply_code, enhanced, phrase, lines, rule_id) in SCRIPTED {
        let user = format!("{}@contoso.test", local.trim_end_matches("-wrong-token"));
        let auth = c
            .auth_xoauth2(&user, &token)
            .await
            .unwrap_or_else(|e| panic!("{local}: {e}"));
        assert!(!auth.succeeded(), "{local}");
        assert_eq!(
            code(&auth.last),
            format!("{reply_code} {enhanced}"),
            "{local}: {:?}",
            auth.last
        );
        assert!(
            auth.last.text().contains(phrase),
            "{local}: {}",
            auth.last.text()
        );
        assert_eq!(
            auth.last.lines.len(),
            lines,
            "{local}: {:?}",
            auth.last.lines
        );
        assert_eq!(rule(&auth.last), rule_id, "{local}: {}", auth.last.text());
        if local == "challenge" {
            assert_eq!(auth.first.code, 334);
            let ch = auth.challenge.as_ref().expect("the 334 challenge is kept");
            assert_eq!(ch.status.as_deref(), Some("401"));
            assert_eq!(
                ch.scope.as_deref(),
                Some("https://outlook.office365.com/.default")
            );
        } else {
            assert!(auth.challenge.is_none(), "{local}");
        }
    }
    // A token as long as Entra's (2-4 KB of base64 on the AUTH line) is sent and answered whole.
    let long = Secret::new(format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}.sig",
        "A".repeat(3000)
    ));
    let auth = c
        .auth_xoauth2("tenant-off@contoso.test", &long)
        .await
        .expect("AUTH with a long token");
    assert_eq!(
        rule(&auth.last),
        "smtp-auth-disabled-for-tenant",
        "{:?}",
        auth.last
    );
    // The session is still in step after all that: a good token still works on it.
    let good = c
        .auth_xoauth2("scanner@contoso.test", &Secret::new("GOOD-TOKEN".into()))
        .await
        .expect("AUTH");
    assert_eq!(code(&good.last), "235 2.7.0");
    c.quit().await;
}
