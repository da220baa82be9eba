//! `relay` (methods `direct-send` and `relay`): the tenant's MX on port 25, as a device without
//! credentials uses it. Greeting, EHLO, `MAIL FROM` the device's address, a test `RCPT TO` an
//! internal recipient (then `RSET`: nothing is sent), and with `--send-test TO` outside the
//! tenant, `RCPT TO` that recipient and the message itself. The replies name connector
//! attribution (`5.7.64`), Reject Direct Send (`5.7.68`), relaying refused (`5.7.54`, "Unable to
//! relay"), block lists, throttling and DMARC or SPF rejections. No TLS here: Microsoft's MX
//! takes plain SMTP, and direct send does not need TLS.
use std::sync::Arc;

use super::{
    context::Ctx,
    reach::{MX_PORT, address, mx_target},
    smtp_send::message,
    smtp_tls::{error_finding, transcript_evidence},
};
use crate::{
    check::CheckId,
    classify::smtp::{SmtpPath, classify},
    finding::{Evidence, Finding},
    net::{
        smtp::{Reply, SmtpClient, SmtpError},
        tcp::host_port,
    },
    rules::{RuleId, ids},
    target::Method,
};

const CHECK: CheckId = CheckId::Relay;
const PATH: SmtpPath = SmtpPath::Mx;

/// What the dialogue came to.
enum Outcome {
    /// Every step was accepted: a summary.
    Accepted(String),
    /// A step was refused: which, and the reply.
    Refused {
        what: String,
        reply: Reply,
        external: bool,
    },
    Broken(SmtpError),
}

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let mx = match mx_target(cx).await {
        Ok(t) => t,
        Err(no) => {
            return match no.rule {
                Some(rule) => cx.judged(CHECK, rule, no.summary),
                None => Finding::skip(CHECK, no.summary),
            };
        }
    };
    let Some(domain) = cx.target.sending_domain() else {
        return Finding::skip(CHECK, "no sending domain is known (--domain or --mailbox)");
    };
    let from = cx
        .target
        .from
        .as_deref()
        .or(cx.target.mailbox.as_deref())
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("xdiag@{domain}"));
    // A recipient inside the tenant: the mailbox, else the From address when it is in the
    // sending domain (`scanner@localhost` is nobody's mailbox, case-23).
    let internal = cx
        .target
        .mailbox
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .or(Some(from.as_str()).filter(|f| in_domain(f, &domain)))
        .map(str::to_string);
    let test_to = cx
        .target
        .send_test
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let external = test_to.filter(|t| !in_domain(t, &domain));
    let internal_test = test_to.filter(|t| in_domain(t, &domain));

    let deadline = cx.target.timeout;
    let addr = match address(cx, &mx.host, MX_PORT, mx.addr).await {
        Ok(a) => a,
        Err(e) => {
            return error_finding(cx, CHECK, &SmtpError::Connect(e), PATH, &Default::default());
        }
    };
    let mut client = match SmtpClient::connect(&mx.host, MX_PORT, addr, deadline).await {
        Ok(c) => c,
        Err(e) => return error_finding(cx, CHECK, &e, PATH, &Default::default()),
    };
    let outcome = dialogue(
        &mut client,
        &from,
        internal_test.or(internal.as_deref()),
        internal_test.is_some(),
        external,
    )
    .await;
    client.quit().await;

    let mx_name = host_port(&mx.host, MX_PORT);
    let mut f = match outcome {
        Outcome::Accepted(what) => Finding::pass(CHECK, format!("{mx_name} {what}")),
        Outcome::Refused {
            what,
            reply,
            external,
        } => refused_finding(cx, &what, &reply, external),
        Outcome::Broken(e) => {
            let mut f = error_finding(cx, CHECK, &e, PATH, &Default::default());
            f.evidence.retain(|e| e.key != "smtp");
            f
        }
    };
    f.evidence.push(Evidence::new(
        "mx",
        format!("{mx_name} (from {})", mx.source),
    ));
    if let Some(a) = client.peer_addr() {
        f.evidence.push(Evidence::new("address", a.to_string()));
    }
    f.evidence.push(Evidence::new("from", &from));
    if let Some(ip) = cx.target.public_ip {
        f.evidence
            .push(Evidence::new("site_public_ip", ip.to_string()));
    }
    f.evidence.extend(transcript_evidence(client.transcript()));
    f
}

/// `address` is in `domain` (or one of its subdomains).
fn in_domain(address: &str, domain: &str) -> bool {
    let Some((_, d)) = address.rsplit_once('@') else {
        return false;
    };
    let (d, domain) = (d.to_ascii_lowercase(), domain.to_ascii_lowercase());
    d == domain || d.ends_with(&format!(".{domain}"))
}

/// Greeting, EHLO, the internal transaction (sent only when it is the test recipient), then the
/// external one when there is a test recipient outside the tenant.
async fn dialogue(
    client: &mut SmtpClient,
    from: &str,
    internal: Option<&str>,
    send_internal: bool,
    external: Option<&str>,
) -> Outcome {
    let steps = async {
        let g = client.greeting().await?;
        if g.code != 220 {
            return Ok(Outcome::Refused {
                what: "greeted with a refusal".into(),
                reply: g,
                external: false,
            });
        }
        let e = client.ehlo().await?;
        if !e.is_positive() {
            return Ok(Outcome::Refused {
                what: "refused EHLO".into(),
                reply: e,
                external: false,
            });
        }
        let mut said = match internal {
            Some(internal) => {
                if let Some(refusal) =
                    transaction(client, from, internal, send_internal, false).await?
                {
                    return Ok(refusal);
                }
                if send_internal {
                    format!("accepted the test message to {internal} without authentication")
                } else {
                    format!("accepts mail from {from} to {internal} without authentication")
                }
            }
            None => "answers without authentication (no recipient inside the tenant to try: give --mailbox)".to_string(),
        };
        if let Some(to) = external {
            if let Some(refusal) = transaction(client, from, to, true, true).await? {
                return Ok(refusal);
            }
            said.push_str(&format!(", and relayed the test message to {to}"));
        }
        Ok(Outcome::Accepted(said))
    };
    steps.await.unwrap_or_else(Outcome::Broken)
}

/// One `MAIL FROM` / `RCPT TO`, then the message (`send`) or `RSET`. `None`: all accepted.
async fn transaction(
    client: &mut SmtpClient,
    from: &str,
    to: &str,
    send: bool,
    external: bool,
) -> Result<Option<Outcome>, SmtpError> {
    let r = client.mail_from(from).await?;
    if !r.is_positive() {
        return Ok(Some(Outcome::Refused {
            what: format!("refused MAIL FROM:<{from}>"),
            reply: r,
            external,
        }));
    }
    let r = client.rcpt_to(to).await?;
    if !r.is_positive() {
        return Ok(Some(Outcome::Refused {
            what: format!("refused RCPT TO:<{to}>"),
            reply: r,
            external,
        }));
    }
    if !send {
        client.rset().await?;
        return Ok(None);
    }
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("xdiag.invalid");
    let data = client.data(&message(from, to, domain)).await?;
    match data.end {
        None => Ok(Some(Outcome::Refused {
            what: "refused DATA".into(),
            reply: data.start,
            external,
        })),
        Some(end) if end.is_positive() => Ok(None),
        Some(end) => Ok(Some(Outcome::Refused {
            what: format!("refused the message to {to}"),
            reply: end,
            external,
        })),
    }
}

/// A refused step as its rule. For a connector relay, "unable to relay" to an outside address
/// means the connector did not recognise this site: tenant attribution, not a direct-send limit.
fn refused_finding(cx: &Ctx, what: &str, reply: &Reply, external: bool) -> Finding {
    let rule: Option<RuleId> = classify(reply.code, &reply.text(), PATH).map(|r| {
        if r == ids::RELAY_EXTERNAL_RECIPIENT && cx.target.method == Method::Relay {
            ids::RELAY_TENANT_ATTRIBUTION
        } else {
            r
        }
    });
    let mut f = match rule {
        Some(rule) => cx.judged(CHECK, rule, format!("the MX {what}: {}", reply.one_line())),
        None => Ctx::internal(
            CHECK,
            format!(
                "the MX {what} with a reply xdiag has no rule for: {}",
                reply.one_line()
            ),
        ),
    };
    f.evidence.push(Evidence::new("reply", reply.one_line()));
    if external {
        f.evidence
            .push(Evidence::new("recipient", "outside the sending domain"));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_means_the_sending_domain_or_below() {
        assert!(in_domain("it@contoso.com", "contoso.com"));
        assert!(in_domain("it@Sub.Contoso.com", "contoso.com"));
        assert!(!in_domain("someone@fabrikam.com", "contoso.com"));
        assert!(!in_domain("x@notcontoso.com", "contoso.com"));
    }
}
