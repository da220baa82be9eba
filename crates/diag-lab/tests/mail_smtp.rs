//! SMTP client submission (port 587 role): the dialogue word for word, STARTTLS, XOAUTH2 as
//! Exchange validates it (reference §4, §5), Basic AUTH LOGIN, Send As, TLS policy, limits.

mod mail_support;

use diag_lab::scenario::SmtpAuth;
use mail_support::*;

const AUTH_FAILED: &str =
    "535 5.7.3 Authentication unsuccessful [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]";

/// AUTH XOAUTH2 as the scenario's device: its app, token for Exchange, `user=` its mailbox.
async fn device_auth(lab: &diag_lab::Lab) -> Res<String> {
    let token = app_token(lab, EXCHANGE_SCOPE).await?;
    let mut smtp = submission_session(lab).await?;
    let mailbox = lab.device().settings.mailbox.clone();
    smtp.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(&mailbox, &token)))
        .await
}

#[tokio::test]
async fn healthy_dialogue_word_for_word() -> TestResult {
    let lab = start("healthy").await?;
    let mut smtp = Smtp::connect(submission(&lab)?).await?;
    let (head, date) = smtp
        .banner
        .split_once(" ready at ")
        .ok_or("banner without date")?;
    assert_eq!(
        head,
        "220 LAB1P264CA0001.outlook.office365.com Microsoft ESMTP MAIL Service"
    );
    assert!(
        chrono::DateTime::parse_from_rfc2822(date).is_ok(),
        "banner date {date}"
    );

    let ehlo = smtp.cmd("EHLO scanner.contoso.local").await?;
    assert!(
        ehlo.starts_with("250-LAB1P264CA0001.outlook.office365.com Hello [203.0.113.10]\n"),
        "{ehlo}"
    );
    assert!(
        ehlo.contains("\n250-STARTTLS\n") && !ehlo.contains("AUTH"),
        "AUTH before TLS: {ehlo}"
    );
    let must_tls =
        "451 5.7.3 Must issue a STARTTLS command first [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]";
    assert_eq!(smtp.cmd("AUTH LOGIN").await?, must_tls);
    assert_eq!(smtp.cmd("AUTH XOAUTH2 dXNlcj0=").await?, must_tls);
    assert_eq!(smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?, must_tls);

    assert_eq!(smtp.starttls(&lab).await?, "220 2.0.0 SMTP server ready");
    assert_eq!(
        smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?,
        "503 5.5.2 Send hello first [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );
    let ehlo = smtp.cmd("EHLO scanner.contoso.local").await?;
    assert!(
        ehlo.contains("\n250-AUTH LOGIN XOAUTH2\n") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    assert!(ehlo.ends_with("\n250 SMTPUTF8"), "{ehlo}");
    assert_eq!(
        smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?,
        "530 5.7.57 Client not authenticated to send mail [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );
    assert_eq!(
        smtp.cmd("AUTH PLAIN AHNjYW5uZXIAcHc=").await?,
        "504 5.7.4 Unrecognized authentication type [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );

    let token = app_token(&lab, EXCHANGE_SCOPE).await?;
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("scanner@contoso.com", &token)
        ))
        .await?,
        "235 2.7.0 Authentication successful"
    );
    let replies = smtp
        .send_message(
            "scanner@contoso.com",
            &["reception@fabrikam.com"],
            "scanner@contoso.com",
        )
        .await?;
    assert_eq!(
        replies[..3],
        [
            "250 2.1.0 Sender OK",
            "250 2.1.5 Recipient OK",
            "354 Start mail input; end with <CRLF>.<CRLF>"
        ]
    );
    let queued = &replies[3];
    assert!(
        queued.starts_with("250 2.0.0 OK <")
            && queued.ends_with("@LAB1P264CA0001.outlook.office365.com> Queued mail for delivery"),
        "{queued}"
    );
    assert_eq!(
        smtp.cmd("QUIT").await?,
        "221 2.0.0 Service closing transmission channel"
    );

    let sent = lab.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (
            sent[0].channel,
            sent[0].mailbox.as_str(),
            sent[0].from.as_str()
        ),
        (
            "smtp-submission",
            "scanner@contoso.com",
            "scanner@contoso.com"
        )
    );
    assert_eq!(
        (sent[0].recipients.clone(), sent[0].subject.as_str()),
        (vec!["reception@fabrikam.com".to_string()], "Scan 0042")
    );
    Ok(())
}

#[tokio::test]
async fn xoauth2_after_an_empty_challenge_and_malformed_blobs() -> TestResult {
    let lab = start("healthy").await?;
    let token = app_token(&lab, EXCHANGE_SCOPE).await?;
    let mut smtp = submission_session(&lab).await?;
    assert_eq!(smtp.cmd("AUTH XOAUTH2").await?, "334 ");
    assert_eq!(
        smtp.cmd(&xoauth2("scanner@contoso.com", &token)).await?,
        "235 2.7.0 Authentication successful"
    );

    let mut smtp = submission_session(&lab).await?;
    let malformed =
        "501 5.5.124 Invalid XOAUTH2 auth data [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]";
    assert_eq!(smtp.cmd("AUTH XOAUTH2 %%%not-base64%%%").await?, malformed);
    let no_user = base64_of(&format!("auth=Bearer {token}\x01\x01"));
    assert_eq!(
        smtp.cmd(&format!("AUTH XOAUTH2 {no_user}")).await?,
        malformed
    );
    let raw_token = base64_of(&token);
    assert_eq!(
        smtp.cmd(&format!("AUTH XOAUTH2 {raw_token}")).await?,
        malformed
    );
    assert_eq!(smtp.cmd("AUTH XOAUTH2").await?, "334 ");
    assert_eq!(
        smtp.cmd("*").await?,
        "501 5.0.0 Authentication cancelled [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );
    Ok(())
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn tokens_exchange_would_not_accept() -> TestResult {
    let lab = start("healthy").await?;
    let mut smtp = submission_session(&lab).await?;
    // A Graph token: wrong audience (reference §3, field §0 item 4).
    let graph = app_token(&lab, GRAPH_SCOPE).await?;
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("scanner@contoso.com", &graph)
        ))
        .await?,
        AUTH_FAILED
    );
    // A tampered Exchange token: the signature no longer verifies with the lab's key.
    let token = app_token(&lab, EXCHANGE_SCOPE).await?;
    let (body, signature) = token.rsplit_once('.').ok_or("not a JWT")?;
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{body}.{flipped}{}", &signature[1..]);
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("scanner@contoso.com", &tampered)
        ))
        .await?,
        AUTH_FAILED
    );
    // A token from another lab (another signing key).
    let other = start("healthy").await?;
    let foreign = app_token(&other, EXCHANGE_SCOPE).await?;
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("scanner@contoso.com", &foreign)
        ))
        .await?,
        AUTH_FAILED
    );
    // A mailbox that does not exist, and one the app has no FullAccess to.
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("nobody@contoso.com", &token)
        ))
        .await?,
        AUTH_FAILED
    );
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("admin@contoso.com", &token)
        ))
        .await?,
        AUTH_FAILED
    );
    // The right one still works on the same connection.
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("scanner@contoso.com", &token)
        ))
        .await?,
        "235 2.7.0 Authentication successful"
    );
    Ok(())
}

#[tokio::test]
async fn each_tenant_state_gets_its_reply() -> TestResult {
    let tenant_off = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]";
    let mailbox_off = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]";
    let ok = "235 2.7.0 Authentication successful";
    for (scenario, want) in [
        ("healthy", ok),
        ("smtp-auth-enabled-mailbox-tenant-off", ok),
        ("smtp-auth-disabled-tenant", tenant_off),
        ("smtp-auth-disabled-mailbox", mailbox_off),
        ("no-service-principal", AUTH_FAILED),
        ("no-mailbox-permission", AUTH_FAILED),
        ("shared-mailbox-identity", AUTH_FAILED),
        ("no-smtp-sendasapp", AUTH_FAILED),
        ("tls-ecdhe-only", ok),
    ] {
        let lab = start(scenario).await?;
        assert_eq!(device_auth(&lab).await?, want, "scenario {scenario}");
    }
    Ok(())
}

#[tokio::test]
async fn each_fault_is_the_only_thing_missing() -> TestResult {
    // Repairing the one fault of each scenario makes AUTH succeed: the refusal comes from that
    // state, not from something else in the file.
    let ok = "235 2.7.0 Authentication successful";
    let mut s = builtin("no-service-principal")?;
    s.apps[0].exchange_service_principal = true;
    s.apps[0].mailbox_access = vec!["scanner@contoso.com".into()];
    assert_eq!(device_auth(&start_scenario(&s).await?).await?, ok);
    let mut s = builtin("no-mailbox-permission")?;
    s.apps[0].mailbox_access.push("scanner@contoso.com".into());
    assert_eq!(device_auth(&start_scenario(&s).await?).await?, ok);
    let mut s = builtin("smtp-auth-disabled-mailbox")?;
    s.users[0].smtp_auth = SmtpAuth::Default;
    assert_eq!(device_auth(&start_scenario(&s).await?).await?, ok);
    let mut s = builtin("shared-mailbox-identity")?;
    s.users[0].kind = diag_lab::scenario::UserKind::User;
    s.users[0].plans = vec!["EXCHANGE_S_STANDARD".into()];
    assert_eq!(device_auth(&start_scenario(&s).await?).await?, ok);
    Ok(())
}

#[tokio::test]
async fn delegated_tokens_must_belong_to_the_user() -> TestResult {
    // case-04: a delegated SMTP.Send token signed in as admin@, used for relay@.
    let mut s = builtin("device-code-wrong-user")?;
    for user in &mut s.users {
        user.password = Some("Correct-Horse-7".into());
    }
    let lab = start_scenario(&s).await?;
    let client_id = lab.device().settings.client_id.clone();
    let token = token(
        &lab,
        &[
            ("grant_type", "password"),
            ("client_id", &client_id),
            ("username", "admin@contoso.com"),
            ("password", "Correct-Horse-7"),
            ("scope", "https://outlook.office.com/SMTP.Send"),
        ],
    )
    .await?;
    let mut smtp = submission_session(&lab).await?;
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("relay@contoso.com", &token)
        ))
        .await?,
        AUTH_FAILED
    );
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("admin@contoso.com", &token)
        ))
        .await?,
        "235 2.7.0 Authentication successful"
    );
    Ok(())
}

#[tokio::test]
async fn basic_auth_login_follows_tenant_policy() -> TestResult {
    let user_b64 = base64_of("scanner@contoso.com");
    let login = |password: &str| (user_b64.clone(), base64_of(password));
    let tag = " [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]";
    let mut s = builtin("healthy")?;
    s.users[0].password = Some("Correct-Horse-7".into());
    let cases = [
        // (basic_auth_smtp, security_defaults, mfa, password) -> reply
        (
            (false, false, false, "Correct-Horse-7"),
            "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
        ),
        (
            (true, true, false, "Correct-Horse-7"),
            "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
        ),
        (
            (true, false, false, "wrong"),
            "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
        ),
        (
            (true, false, true, "Correct-Horse-7"),
            "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
        ),
    ];
    for ((basic, defaults, mfa, password), want) in cases {
        let mut s = s.clone();
        s.tenant.basic_auth_smtp = basic;
        s.tenant.security_defaults = defaults;
        s.users[0].mfa_required = mfa;
        let lab = start_scenario(&s).await?;
        let mut smtp = submission_session(&lab).await?;
        let (user, pass) = login(password);
        assert_eq!(smtp.cmd("AUTH LOGIN").await?, "334 VXNlcm5hbWU6");
        assert_eq!(smtp.cmd(&user).await?, "334 UGFzc3dvcmQ6");
        assert_eq!(smtp.cmd(&pass).await?, format!("{want}{tag}"));
    }
    let mut s = s.clone();
    s.tenant.basic_auth_smtp = true;
    let lab = start_scenario(&s).await?;
    let mut smtp = submission_session(&lab).await?;
    let (user, pass) = login("Correct-Horse-7");
    assert_eq!(
        smtp.cmd(&format!("AUTH LOGIN {user}")).await?,
        "334 UGFzc3dvcmQ6"
    );
    assert_eq!(
        smtp.cmd(&pass).await?,
        "235 2.7.0 Authentication successful"
    );
    Ok(())
}

#[tokio::test]
async fn sending_as_another_address_needs_send_as() -> TestResult {
    let mut s = builtin("healthy")?;
    s.users.push(diag_lab::scenario::User {
        address: "frontdesk@contoso.com".into(),
        plans: vec!["EXCHANGE_S_STANDARD".into()],
        ..Default::default()
    });
    let lab = start_scenario(&s).await?;
    let token = app_token(&lab, EXCHANGE_SCOPE).await?;
    let mut smtp = submission_session(&lab).await?;
    assert_eq!(
        smtp.cmd(&format!(
            "AUTH XOAUTH2 {}",
            xoauth2("scanner@contoso.com", &token)
        ))
        .await?,
        "235 2.7.0 Authentication successful"
    );
    let replies = smtp
        .send_message(
            "frontdesk@contoso.com",
            &["reception@contoso.com"],
            "frontdesk@contoso.com",
        )
        .await?;
    assert_eq!(
        replies[3],
        "554 5.2.252 SendAsDenied; scanner@contoso.com not allowed to send as frontdesk@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message. [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );
    assert!(lab.sent_messages().is_empty());
    // With Send As granted the same message goes through.
    let mut s = s.clone();
    s.users[0].send_as = vec!["frontdesk@contoso.com".into()];
    let lab = start_scenario(&s).await?;
    let token = app_token(&lab, EXCHANGE_SCOPE).await?;
    let mut smtp = submission_session(&lab).await?;
    smtp.cmd(&format!(
        "AUTH XOAUTH2 {}",
        xoauth2("scanner@contoso.com", &token)
    ))
    .await?;
    let replies = smtp
        .send_message(
            "frontdesk@contoso.com",
            &["reception@contoso.com"],
            "frontdesk@contoso.com",
        )
        .await?;
    assert!(replies[3].starts_with("250 2.0.0 OK <"), "{}", replies[3]);
    assert_eq!(lab.sent_messages()[0].from, "frontdesk@contoso.com");
    Ok(())
}

/// A TLS 1.2 ClientHello as an old device would send it: `version` in the record and hello,
/// the given cipher suites, and (optionally) the elliptic-curve extensions.
fn client_hello(version: u16, suites: &[u16], ec_extensions: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut extensions = Vec::new();
    // server_name "localhost"
    let name = b"localhost";
    let mut sni = Vec::new();
    sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    push_extension(&mut extensions, 0x0000, &sni);
    // signature_algorithms: rsa_pkcs1_sha256, rsa_pss_rsae_sha256
    push_extension(
        &mut extensions,
        0x000d,
        &[0x00, 0x04, 0x04, 0x01, 0x08, 0x04],
    );
    if ec_extensions {
        push_extension(
            &mut extensions,
            0x000a,
            &[0x00, 0x04, 0x00, 0x1d, 0x00, 0x17],
        ); // x25519, secp256r1
        push_extension(&mut extensions, 0x000b, &[0x01, 0x00]); // uncompressed points
    }
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16];
    record.extend_from_slice(&version.min(0x0301).to_be_bytes());
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

fn push_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// STARTTLS on `lab`, then `hello` on the raw socket; returns the server's first TLS record.
async fn raw_handshake(lab: &diag_lab::Lab, hello: &[u8]) -> Res<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut smtp = Smtp::connect(submission(lab)?).await?;
    smtp.cmd("EHLO old-mfp").await?;
    assert_eq!(smtp.cmd("STARTTLS").await?, "220 2.0.0 SMTP server ready");
    let mut tcp = smtp.take_plain().ok_or("no plain stream")?;
    tcp.write_all(hello).await?;
    let mut answer = vec![0u8; 7];
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_exact(&mut answer),
    )
    .await??;
    Ok(answer)
}

#[tokio::test]
async fn tls_policy_refuses_old_devices() -> TestResult {
    const ALERT: u8 = 0x15;
    const FATAL: u8 = 2;
    const HANDSHAKE_FAILURE: u8 = 40;
    const PROTOCOL_VERSION: u8 = 70;
    let lab = start("tls-ecdhe-only").await?;
    assert_eq!(
        lab.device().settings.tls_ciphers,
        diag_lab::scenario::DeviceTlsCiphers::RsaOnly
    );
    // case-26: TLS 1.2 with only static-RSA suites and no curves.
    let rsa_only = client_hello(0x0303, &[0x009c, 0x009d, 0x002f, 0x0035, 0x003c], false);
    let answer = raw_handshake(&lab, &rsa_only).await?;
    assert_eq!(
        (answer[0], answer[5], answer[6]),
        (ALERT, FATAL, HANDSHAKE_FAILURE),
        "{answer:?}"
    );
    // The same device with ECDHE suites gets a ServerHello (handshake record).
    let ecdhe = client_hello(0x0303, &[0xc02f, 0xc030], true);
    assert_eq!(raw_handshake(&lab, &ecdhe).await?[0], 0x16);
    // Only TLS 1.0: refused.
    let tls10 = client_hello(0x0301, &[0xc013, 0xc014, 0x002f], true);
    let answer = raw_handshake(&lab, &tls10).await?;
    assert_eq!(
        (answer[0], answer[5], answer[6]),
        (ALERT, FATAL, PROTOCOL_VERSION),
        "{answer:?}"
    );

    // min_version = "1.3": a TLS 1.2-only client fails, TLS 1.3 works.
    let mut s = builtin("healthy")?;
    s.tls.min_version = diag_lab::scenario::TlsVersion::V1_3;
    let lab = start_scenario(&s).await?;
    let mut smtp = Smtp::connect(submission(&lab)?).await?;
    smtp.cmd("EHLO x").await?;
    assert!(
        smtp.starttls_with(client_config(&lab, &[&rustls::version::TLS12])?)
            .await
            .is_err()
    );
    let mut smtp = Smtp::connect(submission(&lab)?).await?;
    smtp.cmd("EHLO x").await?;
    smtp.starttls_with(client_config(&lab, &[&rustls::version::TLS13])?)
        .await?;
    assert!(smtp.cmd("EHLO x").await?.contains("AUTH LOGIN XOAUTH2"));
    Ok(())
}

#[tokio::test]
async fn limits_and_sequence() -> TestResult {
    let lab = start("healthy").await?;
    let mut smtp = Smtp::connect(submission(&lab)?).await?;
    let long = format!("EHLO {}", "a".repeat(20_000));
    assert_eq!(
        smtp.cmd(&long).await?,
        "500 5.5.2 Line too long [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );
    assert_eq!(
        smtp.cmd("EHLO").await?,
        "501 5.5.4 Invalid domain name [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );
    assert_eq!(
        smtp.cmd("BDAT 10 LAST").await?,
        "500 5.3.3 Unrecognized command 'BDAT' [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );
    assert_eq!(smtp.cmd("NOOP").await?, "250 2.0.0 OK");
    assert!(
        smtp.cmd("HELO x")
            .await?
            .starts_with("250 LAB1P264CA0001.outlook.office365.com Hello [")
    );
    // Too many failed commands: the lab closes the connection with a 421.
    let mut last = String::new();
    for _ in 0..25 {
        match smtp.cmd("WHAT").await {
            Ok(reply) => last = reply,
            Err(_) => break,
        }
    }
    assert_eq!(
        last,
        "421 4.7.0 Too many errors on this connection, closing transmission channel [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
    );
    Ok(())
}
