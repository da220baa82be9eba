//! The tenant's MX (port 25 role): no AUTH, direct send, connector relay, Reject Direct Send,
//! block lists, SPF and DMARC at the end of DATA (reference §5 "Relay / direct send /
//! connectors", §7).

mod mail_support;

use diag_lab::scenario::{Connector, Scenario};
use mail_support::*;

/// EHLO on the MX, optionally a lab-only XCLIENT first.
async fn mx_session(lab: &diag_lab::Lab, xclient: Option<&str>) -> Res<Smtp> {
    let mut smtp = Smtp::connect(mx(lab)?).await?;
    if let Some(ip) = xclient {
        let again = smtp.cmd(&format!("XCLIENT ADDR={ip}")).await?;
        assert!(again.starts_with("220 LAB1EUR01FT001.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready at "), "{again}");
    }
    let ehlo = smtp.cmd("EHLO printer.contoso.local").await?;
    assert!(
        ehlo.starts_with("250-LAB1EUR01FT001.mail.protection.outlook.com Hello ["),
        "{ehlo}"
    );
    Ok(smtp)
}

fn tagged(text: &str) -> String {
    format!("{text}{MX_TAG}")
}

#[tokio::test]
async fn healthy_direct_send_word_for_word() -> TestResult {
    let lab = start("healthy-direct-send").await?;
    let mut smtp = Smtp::connect(mx(&lab)?).await?;
    let (head, date) = smtp
        .banner
        .split_once(" ready at ")
        .ok_or("banner without date")?;
    assert_eq!(
        head,
        "220 LAB1EUR01FT001.mail.protection.outlook.com Microsoft ESMTP MAIL Service"
    );
    assert!(chrono::DateTime::parse_from_rfc2822(date).is_ok(), "{date}");
    let ehlo = smtp.cmd("EHLO printer.contoso.local").await?;
    assert!(
        ehlo.contains("Hello [203.0.113.10]")
            && ehlo.contains("\n250-STARTTLS\n")
            && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert_eq!(
        smtp.cmd("AUTH LOGIN").await?,
        tagged("504 5.7.4 Unrecognized authentication type")
    );
    let replies = smtp
        .send_message(
            "scanner@contoso.com",
            &["reception@contoso.com"],
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
    assert!(
        replies[3].starts_with("250 2.0.0 OK <")
            && replies[3]
                .ends_with("@LAB1EUR01FT001.mail.protection.outlook.com> Queued mail for delivery"),
        "{}",
        replies[3]
    );
    let sent = lab.sent_messages();
    assert_eq!(
        (sent.len(), sent[0].channel, sent[0].recipients[0].as_str()),
        (1, "mx-direct-send", "reception@contoso.com")
    );

    // After STARTTLS: neither STARTTLS nor AUTH is offered; AUTH is still refused.
    let mut smtp = Smtp::connect(mx(&lab)?).await?;
    smtp.cmd("EHLO printer.contoso.local").await?;
    assert_eq!(smtp.starttls(&lab).await?, "220 2.0.0 SMTP server ready");
    let ehlo = smtp.cmd("EHLO printer.contoso.local").await?;
    assert!(
        !ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert_eq!(
        smtp.cmd("AUTH XOAUTH2 dXNlcj0=").await?,
        tagged("504 5.7.4 Unrecognized authentication type")
    );
    // Unknown internal recipients are refused by Directory Based Edge Blocking.
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    assert_eq!(
        smtp.cmd("RCPT TO:<nobody@contoso.com>").await?,
        tagged("550 5.4.1 Recipient address rejected: Access denied")
    );
    Ok(())
}

#[tokio::test]
async fn direct_send_cannot_relay_outside_the_tenant() -> TestResult {
    let lab = start("external-recipient-direct-send").await?;
    let mut smtp = mx_session(&lab, None).await?;
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    assert_eq!(
        smtp.cmd("RCPT TO:<partner@fabrikam.com>").await?,
        tagged("550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain")
    );
    assert_eq!(
        smtp.cmd("RCPT TO:<scanner@contoso.com>").await?,
        "250 2.1.5 Recipient OK"
    );
    Ok(())
}

#[tokio::test]
async fn reject_direct_send() -> TestResult {
    let lab = start("direct-send-rejected").await?;
    let mut smtp = mx_session(&lab, None).await?;
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    let refused = tagged(
        "550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources",
    );
    assert_eq!(smtp.cmd("RCPT TO:<reception@contoso.com>").await?, refused);
    // Ordinary inbound mail from another organisation is not direct send.
    smtp.cmd("RSET").await?;
    smtp.cmd("MAIL FROM:<partner@fabrikam.com>").await?;
    assert_eq!(
        smtp.cmd("RCPT TO:<reception@contoso.com>").await?,
        "250 2.1.5 Recipient OK"
    );
    // A connector that covers the site lifts it.
    let mut s = builtin("direct-send-rejected")?;
    s.connectors.push(Connector {
        sender_ips: vec!["203.0.113.10".parse()?],
        ..Default::default()
    });
    let lab = start_scenario(&s).await?;
    let mut smtp = mx_session(&lab, None).await?;
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    assert_eq!(
        smtp.cmd("RCPT TO:<reception@contoso.com>").await?,
        "250 2.1.5 Recipient OK"
    );
    Ok(())
}

#[tokio::test]
async fn connector_attribution() -> TestResult {
    // case-23: the connector names 203.0.113.10, the site now comes from 203.0.113.20.
    let lab = start("connector-mismatch").await?;
    let mut smtp = mx_session(&lab, None).await?;
    assert_eq!(
        smtp.cmd("MAIL FROM:<scanner@localhost>").await?,
        "250 2.1.0 Sender OK"
    );
    assert_eq!(
        smtp.cmd("RCPT TO:<reception@contoso.com>").await?,
        "250 2.1.5 Recipient OK"
    );
    let denied = tagged("550 5.7.64 TenantAttribution; Relay Access Denied");
    assert_eq!(smtp.cmd("RCPT TO:<someone@fabrikam.com>").await?, denied);
    // From the connector's IP (lab-only XCLIENT), relay works for an accepted-domain sender...
    let mut smtp = mx_session(&lab, Some("203.0.113.10")).await?;
    let replies = smtp
        .send_message(
            "scanner@contoso.com",
            &["someone@fabrikam.com"],
            "scanner@contoso.com",
        )
        .await?;
    assert!(replies[3].starts_with("250 2.0.0 OK <"), "{replies:?}");
    assert_eq!(lab.sent_messages()[0].channel, "mx-relay");
    // ...but not for a sender outside the accepted domains.
    smtp.cmd("MAIL FROM:<scanner@localhost>").await?;
    assert_eq!(smtp.cmd("RCPT TO:<someone@fabrikam.com>").await?, denied);

    let lab = start("healthy-relay").await?;
    let mut smtp = mx_session(&lab, None).await?;
    let replies = smtp
        .send_message(
            "scanner@contoso.com",
            &["partner@fabrikam.com"],
            "scanner@contoso.com",
        )
        .await?;
    assert!(replies[3].starts_with("250 2.0.0 OK <"), "{replies:?}");
    let mut smtp = mx_session(&lab, Some("198.51.100.99")).await?;
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    assert_eq!(smtp.cmd("RCPT TO:<partner@fabrikam.com>").await?, denied);
    Ok(())
}

#[tokio::test]
async fn certificate_connectors_need_tls_and_the_name() -> TestResult {
    let mut s = builtin("healthy-relay")?;
    s.connectors = vec![Connector {
        tls_domain: "mail.contoso.com".into(),
        ..Default::default()
    }];
    s.network.site_certificate_domain = "mail.contoso.com".into();
    let lab = start_scenario(&s).await?;
    let denied = tagged("550 5.7.64 TenantAttribution; Relay Access Denied");
    let mut smtp = mx_session(&lab, None).await?;
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    assert_eq!(
        smtp.cmd("RCPT TO:<partner@fabrikam.com>").await?,
        denied,
        "no certificate without TLS"
    );
    let mut smtp = mx_session(&lab, None).await?;
    smtp.starttls(&lab).await?;
    smtp.cmd("EHLO printer.contoso.local").await?;
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    assert_eq!(
        smtp.cmd("RCPT TO:<partner@fabrikam.com>").await?,
        "250 2.1.5 Recipient OK"
    );

    s.network.site_certificate_domain = "old-relay.contoso.com".into();
    let lab = start_scenario(&s).await?;
    let mut smtp = mx_session(&lab, None).await?;
    smtp.starttls(&lab).await?;
    smtp.cmd("EHLO printer.contoso.local").await?;
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    assert_eq!(smtp.cmd("RCPT TO:<partner@fabrikam.com>").await?, denied);
    Ok(())
}

/// The DATA verdict for direct send of the scenario's device.
async fn direct_send_verdict(scenario: &Scenario) -> Res<String> {
    let lab = start_scenario(scenario).await?;
    let mut smtp = mx_session(&lab, None).await?;
    let replies = smtp
        .send_message(
            "scanner@contoso.com",
            &["reception@contoso.com"],
            "scanner@contoso.com",
        )
        .await?;
    assert_eq!(replies[1], "250 2.1.5 Recipient OK");
    Ok(replies[3].clone())
}

#[tokio::test]
async fn spf_and_dmarc_at_the_end_of_data() -> TestResult {
    let spf_fail =
        tagged("550 5.7.23 The message was rejected because of Sender Policy Framework violation");
    for name in [
        "spf-missing-site-ip",
        "two-spf-records",
        "spf-too-many-lookups",
    ] {
        assert_eq!(
            direct_send_verdict(&builtin(name)?).await?,
            spf_fail,
            "{name}"
        );
    }
    assert!(
        direct_send_verdict(&builtin("healthy-direct-send")?)
            .await?
            .starts_with("250 2.0.0 OK <")
    );
    // Soft fail is accepted (Exchange would junk it).
    let mut s = builtin("spf-missing-site-ip")?;
    for r in &mut s.dns.records {
        *r = r.replace("-all", "~all");
    }
    assert!(direct_send_verdict(&s).await?.starts_with("250 2.0.0 OK <"));
    // DMARC p=reject without an SPF pass.
    for r in &mut s.dns.records {
        *r = r.replace("p=quarantine", "p=reject");
    }
    assert_eq!(
        direct_send_verdict(&s).await?,
        tagged(
            "550 5.7.509: Access denied, sending domain [CONTOSO.COM] does not pass DMARC verification and has a DMARC policy of reject"
        )
    );
    Ok(())
}

#[tokio::test]
async fn blocklisted_site_ip() -> TestResult {
    let mut s = builtin("healthy-direct-send")?;
    s.network.blocklisted_ips = vec!["203.0.113.10".parse()?];
    let lab = start_scenario(&s).await?;
    let mut smtp = mx_session(&lab, None).await?;
    smtp.cmd("MAIL FROM:<scanner@contoso.com>").await?;
    assert_eq!(
        smtp.cmd("RCPT TO:<reception@contoso.com>").await?,
        tagged("550 5.7.606 Access denied, banned sending IP [203.0.113.10]")
    );
    // Another site address is not on the list.
    let mut smtp = mx_session(&lab, Some("203.0.113.11")).await?;
    smtp.cmd("MAIL FROM:<partner@fabrikam.com>").await?;
    assert_eq!(
        smtp.cmd("RCPT TO:<reception@contoso.com>").await?,
        "250 2.1.5 Recipient OK"
    );
    assert_eq!(
        smtp.cmd("XCLIENT ADDR=203.0.113.12").await?,
        tagged("503 5.5.1 Bad sequence of commands")
    );
    Ok(())
}
