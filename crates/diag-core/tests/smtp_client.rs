//! The raw SMTP client (`net::smtp`, `net::tcp`) against a scripted SMTP server on loopback:
//! whole replies (multi-line, dribbled byte by byte), STARTTLS with the chain and root recorded,
//! XOAUTH2 with the `334` challenge answered by an empty line, MAIL / RCPT / DATA, and the bad
//! peers a diagnostic tool meets (silence, an endless line, a megabyte of EHLO, no STARTTLS,
//! implicit TLS, an untrusted chain, no TLS version or cipher in common, a refused port and a
//! blackholed one). No secret reaches a transcript.
mod smtp_stub;

use std::time::{Duration, Instant};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use diag_core::{
    classify::smtp::{SmtpPath, classify, is_bare_auth_failure},
    net::{
        smtp::{
            Capabilities, ImplicitTls, MAX_REPLY, SmtpClient, SmtpError, StartTls, TlsFailureKind,
            TlsSetup, TlsVersions, probe_implicit_tls,
        },
        tcp::{self, ConnectFailure},
    },
    secret::Secret,
};
use sha1::{Digest, Sha1};
use smtp_stub::*;

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSJ9.c2lnbmF0dXJlLXNlY3JldA";
const USER: &str = "scanner@contoso.com";
const SHORT: Duration = Duration::from_millis(400);
const NORMAL: Duration = Duration::from_secs(5);

async fn connect(stub: &Stub, deadline: Duration) -> SmtpClient {
    SmtpClient::connect(HOST, stub.addr.port(), Some(stub.addr), deadline)
        .await
        .expect("connect to the stub")
}

fn trusting(stub: &Stub) -> TlsSetup {
    TlsSetup::new(Some(&stub.ca_pem)).expect("tls setup")
}

/// Greeting, EHLO, STARTTLS, EHLO: the capabilities before and after TLS.
async fn upgraded(stub: &Stub, client: &mut SmtpClient) -> (Capabilities, Capabilities) {
    assert_eq!(client.greeting().await.expect("greeting").code, 220);
    let before = Capabilities::from_reply(&client.ehlo().await.expect("ehlo"));
    match client
        .starttls(&trusting(stub), TlsVersions::Modern)
        .await
        .expect("starttls")
    {
        StartTls::Upgraded(_) => {}
        StartTls::Refused(r) => panic!("STARTTLS refused: {r}"),
    }
    let after = Capabilities::from_reply(&client.ehlo().await.expect("ehlo after tls"));
    (before, after)
}

fn assert_no_secret(text: &str) {
    let payload = STANDARD.encode(format!("user={USER}\x01auth=Bearer {TOKEN}\x01\x01"));
    assert!(!text.contains(TOKEN), "token in {text}");
    assert!(
        !text.contains("c2lnbmF0dXJlLXNlY3JldA"),
        "token signature in {text}"
    );
    assert!(!text.contains(&payload[..40]), "XOAUTH2 payload in {text}");
    assert!(!text.contains("eyJ0eXAi"), "JWT header in {text}");
}

// ---- a healthy dialogue -----------------------------------------------------------------------

#[tokio::test]
async fn a_healthy_submission_dialogue_records_tls_root_and_auth() {
    let stub = Stub::start(Behaviour::default()).await;
    let mut client = connect(&stub, NORMAL).await;
    let (before, after) = upgraded(&stub, &mut client).await;
    assert!(
        before.starttls() && before.auth_mechanisms().is_empty(),
        "{before:?}"
    );
    assert_eq!(after.auth_mechanisms(), vec!["LOGIN", "XOAUTH2"]);

    let tls = client.tls().expect("tls").clone();
    assert_eq!(tls.version, "TLS 1.3");
    assert!(tls.cipher.starts_with("TLS13_"), "{}", tls.cipher);
    assert_eq!(tls.chain.len(), 1);
    assert!(
        tls.chain[0].subject.contains("smtp.test.localhost"),
        "{:?}",
        tls.chain
    );
    let root = tls.root.expect("root");
    assert!(root.name.contains(&stub.ca_name), "{root:?}");
    assert!(root.in_trust_store);
    let want_sha1: String = Sha1::digest(&stub.ca_der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(
        root.sha1.as_deref(),
        Some(want_sha1.as_str()),
        "the root's thumbprint comes from the trust store"
    );

    let auth = client
        .auth_xoauth2(USER, &Secret::new(TOKEN.to_string()))
        .await
        .expect("auth");
    assert!(auth.succeeded(), "{auth:?}");
    assert_eq!(client.mail_from(USER).await.expect("mail").code, 250);
    assert_eq!(
        client.rcpt_to("it@contoso.com").await.expect("rcpt").code,
        250
    );
    let data = client
        .data("Subject: t\r\n\r\n.leading dot\r\nend\r\n")
        .await
        .expect("data");
    assert_eq!(data.end.expect("end").code, 250);
    client.quit().await;

    // What the server got: the documented SASL string, and the dot doubled.
    let received = stub.received();
    let auth_line = received
        .iter()
        .find(|l| l.starts_with("AUTH XOAUTH2 "))
        .expect("auth line");
    let blob = STANDARD
        .decode(auth_line.trim_start_matches("AUTH XOAUTH2 "))
        .expect("base64");
    assert_eq!(
        blob,
        format!("user={USER}\x01auth=Bearer {TOKEN}\x01\x01").into_bytes()
    );
    assert!(
        received.iter().any(|l| l == "..leading dot"),
        "{received:?}"
    );
    assert_eq!(received.last().map(String::as_str), Some("QUIT"));

    let transcript = client.transcript().to_text();
    assert!(
        transcript.contains("C: AUTH XOAUTH2 [redacted]"),
        "{transcript}"
    );
    assert!(transcript.contains("-- TLS 1.3 negotiated"), "{transcript}");
    assert!(
        transcript.contains("S: 235 2.7.0 Authentication successful"),
        "{transcript}"
    );
    assert!(transcript.contains("C: (message: 4 lines"), "{transcript}");
    assert_no_secret(&transcript);
}

#[tokio::test]
async fn replies_dribbled_byte_by_byte_are_read_whole() {
    let stub = Stub::start(Behaviour {
        dribble: true,
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    let greeting = client.greeting().await.expect("greeting");
    assert!(
        greeting.lines[0].starts_with("220 localhost Microsoft ESMTP"),
        "{greeting:?}"
    );
    let ehlo = client.ehlo().await.expect("ehlo");
    assert_eq!(ehlo.lines.len(), 5, "{ehlo:?}");
    assert!(Capabilities::from_reply(&ehlo).starttls());
    assert_eq!(
        client.mail_from(USER).await.expect("mail").code,
        250,
        "the next reply starts clean"
    );
}

// ---- XOAUTH2 failures ---------------------------------------------------------------------------

#[tokio::test]
async fn a_334_challenge_is_answered_with_an_empty_line_and_the_final_reply_kept() {
    let json =
        r#"{"status":"401","schemes":"bearer","scope":"https://outlook.office365.com/.default"}"#;
    let then = "535 5.7.3 Authentication unsuccessful [XX0P264CA0000.FRAP264.PROD.OUTLOOK.COM]";
    let stub = Stub::start(Behaviour {
        auth: AuthMode::Challenge {
            json: json.into(),
            then: then.into(),
        },
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    upgraded(&stub, &mut client).await;
    let x = client
        .auth_xoauth2(USER, &Secret::new(TOKEN.to_string()))
        .await
        .expect("auth");
    assert_eq!(x.first.code, 334);
    let c = x.challenge.as_ref().expect("challenge");
    assert_eq!(c.status.as_deref(), Some("401"));
    assert_eq!(
        c.scope.as_deref(),
        Some("https://outlook.office365.com/.default")
    );
    assert_eq!(x.last.lines, vec![then.to_string()]);
    assert!(!x.succeeded());
    assert!(is_bare_auth_failure(x.last.code, &x.last.text()));
    // The empty line went to the server, and the session is still in step.
    let received = stub.received();
    let at = received
        .iter()
        .position(|l| l.starts_with("AUTH XOAUTH2"))
        .expect("auth");
    assert_eq!(
        received.get(at + 1).map(String::as_str),
        Some(""),
        "{received:?}"
    );
    assert_eq!(client.mail_from(USER).await.expect("mail").code, 250);
    let t = client.transcript().to_text();
    assert!(
        t.contains("C: (empty line)") && t.contains(r#"challenge decoded: {"status":"401""#),
        "{t}"
    );
    assert_no_secret(&t);
}

#[tokio::test]
async fn a_server_that_caps_command_lines_gets_the_response_on_its_own_line() {
    let stub = Stub::start(Behaviour {
        line_limit: Some(512),
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    upgraded(&stub, &mut client).await;
    let long_token = format!("{TOKEN}{}", "A".repeat(600));
    let x = client
        .auth_xoauth2(USER, &Secret::new(long_token.clone()))
        .await
        .expect("auth");
    assert!(x.succeeded(), "{x:?}");
    let received = stub.received();
    let at = received
        .iter()
        .position(|l| l == "AUTH XOAUTH2")
        .expect("the short form");
    let blob = STANDARD
        .decode(&received[at + 1])
        .expect("the response alone on its line");
    assert_eq!(
        blob,
        format!("user={USER}\x01auth=Bearer {long_token}\x01\x01").into_bytes()
    );
    let t = client.transcript().to_text();
    assert!(
        t.contains("C: (XOAUTH2 response, redacted)") && t.contains("too long"),
        "{t}"
    );
    assert!(!t.contains(&long_token[..40]), "{t}");
}

#[tokio::test]
async fn every_5_7_139_wording_comes_back_whole_and_names_its_rule() {
    let cases = [
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [XX0PR00CA0000.eurprd00.prod.outlook.com]",
            "smtp-auth-disabled-for-tenant",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
            "smtp-auth-disabled-for-mailbox",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
            "smtp-security-defaults",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
            "smtp-auth-policy-blocked",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
            "smtp-basic-auth-disabled",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
            "smtp-credentials-incorrect",
        ),
        (
            "501 5.5.124 Invalid XOAUTH2 auth data",
            "smtp-xoauth2-malformed",
        ),
        (
            "504 5.7.4 Unrecognized authentication type",
            "smtp-auth-mechanism-unsupported",
        ),
    ];
    for (reply, want) in cases {
        let stub = Stub::start(Behaviour {
            auth: AuthMode::Reply(reply.into()),
            ..Behaviour::default()
        })
        .await;
        let mut client = connect(&stub, NORMAL).await;
        upgraded(&stub, &mut client).await;
        let x = client
            .auth_xoauth2(USER, &Secret::new(TOKEN.to_string()))
            .await
            .expect("auth");
        assert_eq!(x.last.lines, vec![reply.to_string()]);
        assert_eq!(
            classify(x.last.code, &x.last.text(), SmtpPath::Submission).map(|r| r.as_str()),
            Some(want),
            "{reply}"
        );
        assert!(
            !is_bare_auth_failure(x.last.code, &x.last.text()),
            "{reply} is specific"
        );
    }
}

#[tokio::test]
async fn auth_before_starttls_gets_the_starttls_reply() {
    let stub = Stub::start(Behaviour::default()).await;
    let mut client = connect(&stub, NORMAL).await;
    client.greeting().await.expect("greeting");
    client.ehlo().await.expect("ehlo");
    let x = client
        .auth_xoauth2(USER, &Secret::new(TOKEN.to_string()))
        .await
        .expect("auth");
    assert_eq!(
        classify(x.last.code, &x.last.text(), SmtpPath::Submission).map(|r| r.as_str()),
        Some("smtp-starttls-required")
    );
}

// ---- bad peers ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_silent_server_costs_one_deadline() {
    let stub = Stub::start(Behaviour {
        greeting: Greeting::Silent,
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, SHORT).await;
    let started = Instant::now();
    let e = client.greeting().await.expect_err("silence");
    assert!(
        matches!(&e, SmtpError::Timeout { waiting_for, .. } if waiting_for == "the greeting"),
        "{e:?}"
    );
    assert!(
        started.elapsed() >= SHORT && started.elapsed() < SHORT * 5,
        "{:?}",
        started.elapsed()
    );
    assert!(
        client
            .transcript()
            .to_text()
            .contains("no reply to the greeting within 400 ms")
    );
}

#[tokio::test]
async fn an_endless_line_is_cut_off_after_the_reply_cap() {
    let stub = Stub::start(Behaviour {
        greeting: Greeting::Endless,
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    let started = Instant::now();
    let e = client.greeting().await.expect_err("endless");
    assert_eq!(
        e,
        SmtpError::TooLong {
            waiting_for: "the greeting".into(),
            limit: MAX_REPLY
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by bytes, not by the deadline"
    );
}

#[tokio::test]
async fn a_megabyte_of_ehlo_is_refused_not_buffered() {
    let mut raw = Vec::with_capacity(1 << 20);
    let mut i = 0;
    while raw.len() < (1 << 20) {
        raw.extend_from_slice(format!("250-X-CAPABILITY-{i:08} {}\r\n", "z".repeat(60)).as_bytes());
        i += 1;
    }
    raw.extend_from_slice(b"250 OK\r\n");
    let stub = Stub::start(Behaviour {
        ehlo_raw: Some(raw),
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    client.greeting().await.expect("greeting");
    let e = client.ehlo().await.expect_err("too long");
    assert_eq!(
        e,
        SmtpError::TooLong {
            waiting_for: "EHLO".into(),
            limit: MAX_REPLY
        }
    );
    // The transcript stays small too.
    assert!(client.transcript().to_text().len() < 4096);
}

#[tokio::test]
async fn a_server_without_starttls_says_so() {
    let stub = Stub::start(Behaviour {
        starttls: StartTlsMode::NotOffered,
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    client.greeting().await.expect("greeting");
    let caps = Capabilities::from_reply(&client.ehlo().await.expect("ehlo"));
    assert!(!caps.starttls(), "{caps:?}");
    match client
        .starttls(&trusting(&stub), TlsVersions::Modern)
        .await
        .expect("reply")
    {
        StartTls::Refused(r) => assert_eq!(r.code, 502),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bytes_sent_before_the_handshake_do_not_survive_it() {
    let stub = Stub::start(Behaviour {
        starttls: StartTlsMode::Inject("250-INJECTED\r\n250 AUTH PLAIN\r\n".into()),
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    let (_, after) = upgraded(&stub, &mut client).await;
    assert_eq!(
        after.auth_mechanisms(),
        vec!["LOGIN", "XOAUTH2"],
        "the reply came over TLS, not from the injected text"
    );
    assert!(client.transcript().to_text().contains("were dropped"));
}

#[tokio::test]
async fn implicit_tls_on_the_port_is_recognised() {
    let stub = Stub::start(Behaviour {
        greeting: Greeting::TlsFirst,
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, SHORT).await;
    assert!(
        matches!(client.greeting().await, Err(SmtpError::Timeout { .. })),
        "an implicit-TLS port waits for a ClientHello"
    );
    match probe_implicit_tls(&trusting(&stub), HOST, stub.addr, NORMAL).await {
        ImplicitTls::Speaks(Ok(info)) => assert!(info.version.starts_with("TLS 1.")),
        other => panic!("{other:?}"),
    }
    // And a STARTTLS port answers a ClientHello in plain text ("wrong version number").
    let plain = Stub::start(Behaviour::default()).await;
    assert!(matches!(
        probe_implicit_tls(&trusting(&plain), HOST, plain.addr, NORMAL).await,
        ImplicitTls::PlainText(_)
    ));
}

#[tokio::test]
async fn an_untrusted_chain_fails_with_the_chain_and_its_root_named() {
    let stub = Stub::start(Behaviour::default()).await;
    let mut client = connect(&stub, NORMAL).await;
    client.greeting().await.expect("greeting");
    client.ehlo().await.expect("ehlo");
    let system_only = TlsSetup::new(None).expect("system roots");
    let Err(SmtpError::Tls(f)) = client.starttls(&system_only, TlsVersions::Modern).await else {
        panic!("must fail")
    };
    assert_eq!(f.kind, TlsFailureKind::Untrusted, "{f:?}");
    assert!(
        f.chain
            .first()
            .is_some_and(|c| c.subject.contains("smtp.test.localhost")),
        "{f:?}"
    );
    let root = f.root.expect("root named from the chain");
    assert!(
        root.name.contains(&stub.ca_name) && !root.in_trust_store,
        "{root:?}"
    );
    assert!(
        client
            .transcript()
            .to_text()
            .contains("TLS handshake failed")
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_name_mismatch() {
    let stub = Stub::start(Behaviour::default()).await;
    let mut client = SmtpClient::connect(
        "smtp.office365.com",
        stub.addr.port(),
        Some(stub.addr),
        NORMAL,
    )
    .await
    .expect("connect");
    client.greeting().await.expect("greeting");
    client.ehlo().await.expect("ehlo");
    let Err(SmtpError::Tls(f)) = client.starttls(&trusting(&stub), TlsVersions::Modern).await
    else {
        panic!("must fail")
    };
    assert_eq!(f.kind, TlsFailureKind::NameMismatch, "{f:?}");
}

#[tokio::test]
async fn a_tls13_only_server_refuses_a_tls12_client() {
    let stub = Stub::start(Behaviour {
        tls: TlsMode::Tls13Only,
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    client.greeting().await.expect("greeting");
    client.ehlo().await.expect("ehlo");
    let Err(SmtpError::Tls(f)) = client
        .starttls(&trusting(&stub), TlsVersions::Tls12Only)
        .await
    else {
        panic!("must fail")
    };
    assert_eq!(f.kind, TlsFailureKind::ProtocolVersion, "{f:?}");
    // The same server with a client that offers 1.3 is fine.
    let mut ok = connect(&stub, NORMAL).await;
    upgraded(&stub, &mut ok).await;
    assert_eq!(ok.tls().map(|t| t.version.as_str()), Some("TLS 1.3"));
}

#[tokio::test]
async fn a_handshake_failure_alert_means_no_shared_cipher() {
    let stub = Stub::start(Behaviour {
        starttls: StartTlsMode::Alert(40),
        ..Behaviour::default()
    })
    .await;
    let mut client = connect(&stub, NORMAL).await;
    client.greeting().await.expect("greeting");
    client.ehlo().await.expect("ehlo");
    let Err(SmtpError::Tls(f)) = client.starttls(&trusting(&stub), TlsVersions::Modern).await
    else {
        panic!("must fail")
    };
    assert_eq!(f.kind, TlsFailureKind::NoSharedCipher, "{f:?}");
    assert!(f.chain.is_empty(), "no certificate came");
}

// ---- TCP ----------------------------------------------------------------------------------------

#[tokio::test]
async fn a_refused_port_and_a_blackholed_port_are_told_apart() {
    let refused = refused_port();
    let started = Instant::now();
    let e = tcp::connect("127.0.0.1", refused.port(), None, NORMAL)
        .await
        .expect_err("refused");
    assert_eq!(e.kind, ConnectFailure::Refused);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a refusal is immediate"
    );

    let (hole, _fillers, _listener) = blackholed_port().await;
    let started = Instant::now();
    let e = tcp::connect("127.0.0.1", hole.port(), None, SHORT)
        .await
        .expect_err("dropped");
    assert_eq!(e.kind, ConnectFailure::Timeout, "{e:?}");
    assert!(
        e.describe().contains("silently dropped"),
        "{}",
        e.describe()
    );
    assert!(
        started.elapsed() >= SHORT && started.elapsed() < SHORT * 5,
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_line_break_in_an_address_never_reaches_the_wire() {
    let stub = Stub::start(Behaviour::default()).await;
    let mut client = connect(&stub, NORMAL).await;
    client.greeting().await.expect("greeting");
    client.ehlo().await.expect("ehlo");
    let e = client
        .mail_from("a@contoso.com>\r\nRCPT TO:<victim@fabrikam.com")
        .await
        .expect_err("unsafe");
    assert!(matches!(e, SmtpError::BadInput(_)), "{e:?}");
    assert!(
        !stub.received().iter().any(|l| l.contains("victim")),
        "{:?}",
        stub.received()
    );
}
