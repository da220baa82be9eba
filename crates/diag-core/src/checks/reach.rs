//! `reach`: can this site open TCP to the submission host on 587 and to the tenant's MX on 25?
//! Both are tried at the same time, each with the run's deadline, and a refused port (something
//! answered "no") is told apart from a silently dropped one (no answer: typical of an ISP that
//! blocks 25). The method decides which one must work: 587 for `smtp`, 25 for `direct-send` and
//! `relay`; the other is evidence (a blocked 25 next to an open 587 says "use client submission").
//!
//! The MX host comes from the `dns` check's facts when it has written them, else from one MX
//! lookup here (through `net::dns`, so `--dns-server` and the lab apply); `Endpoints.mx_addr`
//! overrides where to connect. For `smtp` the MX is looked up only when the run asks DNS anyway.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use super::{Event, context::Ctx};
use crate::{
    check::CheckId,
    finding::{Evidence, Finding},
    net::{
        dns::{Answer, DnsClient, HickoryDns},
        tcp::{self, ConnectError, ConnectFailure, host_port},
    },
    rules::{RuleId, ids},
    target::Method,
};

const CHECK: CheckId = CheckId::Reach;
/// The port direct send and connector relay use.
pub(super) const MX_PORT: u16 = 25;

/// Where to reach the tenant's MX.
#[derive(Clone, Debug)]
pub(super) struct MxTarget {
    pub host: String,
    /// Connect here instead of resolving `host` (lab, tests, or resolved through `--dns-server`).
    pub addr: Option<SocketAddr>,
    /// Where the host name came from, for evidence.
    pub source: &'static str,
}

/// Why there is no MX to reach: the rule and a summary.
#[derive(Clone, Debug)]
pub(super) struct NoMx {
    pub rule: Option<RuleId>,
    pub summary: String,
}

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let ep = &cx.target.endpoints;
    let deadline = cx.target.timeout;
    let submission_host = ep.smtp_host.trim().to_string();
    // The port the method needs; once it answers, dependents (smtp-tls, relay) may start while
    // the other port, only evidence, is still waiting out its deadline.
    let needs_submission = matches!(cx.target.method, Method::Smtp | Method::Graph);
    let submission = async {
        let r = match address(cx, &submission_host, ep.smtp_port, ep.smtp_addr).await {
            Ok(addr) => tcp::connect(&submission_host, ep.smtp_port, addr, deadline)
                .await
                .map(|c| (c.addr, c.elapsed)),
            Err(e) => Err(e),
        };
        if needs_submission && r.is_ok() {
            cx.emit(Event::Ready(CHECK));
        }
        r
    };
    let mx = async {
        // For client submission the MX is only evidence: look it up only where this run asks
        // DNS anyway (the dns check, or a DNS server given for the run).
        let optional = matches!(cx.target.method, Method::Smtp | Method::Graph);
        let known =
            cx.facts.mx_hosts.get().is_some() || ep.mx_addr.is_some() || ep.dns_server.is_some();
        if optional && !known && !cx.planned(CheckId::Dns) {
            return Err(NoMx {
                rule: None,
                summary: "not looked up (the dns check is not part of this run)".into(),
            });
        }
        let target = mx_target(cx).await?;
        let result = match address(cx, &target.host, MX_PORT, target.addr).await {
            Ok(addr) => tcp::connect(&target.host, MX_PORT, addr, deadline)
                .await
                .map(|c| (c.addr, c.elapsed)),
            Err(e) => Err(e),
        };
        if !needs_submission && result.is_ok() {
            cx.emit(Event::Ready(CHECK));
        }
        Ok::<_, NoMx>((target, result))
    };
    let (submission, mx) = tokio::join!(submission, mx);

    let sub_name = host_port(&submission_host, ep.smtp_port);
    let mut evidence = vec![Evidence::new("submission", outcome(&sub_name, &submission))];
    let mx_name = match &mx {
        Ok((t, r)) => {
            let name = host_port(&t.host, MX_PORT);
            evidence.push(Evidence::new("mx", outcome(&name, r)));
            evidence.push(Evidence::new("mx_source", t.source));
            Some(name)
        }
        Err(no) => {
            evidence.push(Evidence::new("mx", format!("not tried: {}", no.summary)));
            None
        }
    };

    let mut f = match cx.target.method {
        Method::DirectSend | Method::Relay => match &mx {
            Ok((_, Ok(_))) => Finding::pass(
                CHECK,
                format!(
                    "{} accepts connections",
                    mx_name.clone().unwrap_or_default()
                ),
            ),
            Ok((_, Err(e))) => blocked(cx, ids::NET_PORT_25_BLOCKED, e),
            Err(NoMx {
                rule: Some(rule),
                summary,
            }) => cx.judged(CHECK, *rule, summary.clone()),
            Err(NoMx {
                rule: None,
                summary,
            }) => Finding::skip(CHECK, summary.clone()),
        },
        Method::Smtp | Method::Graph => match &submission {
            Ok(_) => {
                let also = match &mx {
                    Ok((_, Ok(_))) => "; the MX answers on 25 too",
                    Ok((_, Err(_))) => {
                        "; the MX does not answer on 25 (direct send and relay would not work from here)"
                    }
                    Err(_) => "",
                };
                Finding::pass(CHECK, format!("{sub_name} accepts connections{also}"))
            }
            Err(e) => blocked(cx, ids::NET_PORT_587_BLOCKED, e),
        },
    };
    if let (Method::DirectSend | Method::Relay, Ok((_, Err(_))), Ok(_)) =
        (cx.target.method, &mx, &submission)
    {
        evidence.push(Evidence::new(
            "note",
            format!("{sub_name} answers: client submission (SMTP AUTH) would get through"),
        ));
    }
    f.evidence.extend(evidence);
    f
}

/// A connection that did not open, as the rule for that port (or DNS).
fn blocked(cx: &Ctx, port_rule: RuleId, e: &ConnectError) -> Finding {
    let rule = if e.kind == ConnectFailure::Dns {
        ids::DNS_DOMAIN_NOT_FOUND
    } else {
        port_rule
    };
    let mut f = cx.judged(CHECK, rule, e.describe());
    f.evidence.push(Evidence::new("network", e.kind.as_str()));
    f
}

fn outcome(name: &str, r: &Result<(SocketAddr, Duration), ConnectError>) -> String {
    match r {
        Ok((addr, took)) => format!("{name} ({addr}) connected in {} ms", took.as_millis()),
        Err(e) => format!("{} [{}]", e.describe(), e.kind.as_str()),
    }
}

/// The address to connect to: `fixed` when given; else, when the run names a DNS server (the
/// lab, `--dns-server`), the host's first A record from it; else `None` (the system resolver).
pub(super) async fn address(
    cx: &Ctx,
    host: &str,
    port: u16,
    fixed: Option<SocketAddr>,
) -> Result<Option<SocketAddr>, ConnectError> {
    if fixed.is_some() {
        return Ok(fixed);
    }
    let Some(server) = cx.target.endpoints.dns_server else {
        return Ok(None);
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(Some(SocketAddr::new(ip, port)));
    }
    let dns_error = |detail: String| ConnectError {
        kind: ConnectFailure::Dns,
        target: host_port(host, port),
        addr: None,
        detail,
    };
    let client =
        HickoryDns::new(Some(server), cx.target.timeout).map_err(|e| dns_error(e.to_string()))?;
    match client.a(bare).await {
        Answer::Records(ips) => Ok(ips.first().map(|ip| SocketAddr::new((*ip).into(), port))),
        other => Err(dns_error(other.outcome())),
    }
}

/// The tenant's MX: from the `dns` check's facts, else one lookup of the sending domain's MX;
/// `Endpoints.mx_addr` says where to connect when set.
pub(super) async fn mx_target(cx: &Ctx) -> Result<MxTarget, NoMx> {
    let fixed = cx.target.endpoints.mx_addr;
    if let Some(host) = cx.facts.mx_hosts.get().and_then(|h| h.first()) {
        return Ok(MxTarget {
            host: host.clone(),
            addr: fixed,
            source: "the dns check",
        });
    }
    let Some(domain) = cx.target.sending_domain() else {
        return match fixed {
            Some(addr) => Ok(MxTarget {
                host: addr.ip().to_string(),
                addr: fixed,
                source: "the configured MX address",
            }),
            None => Err(NoMx {
                rule: None,
                summary: "no sending domain is known (--domain or --mailbox)".into(),
            }),
        };
    };
    if let Some(addr) = fixed {
        // The lab and tests say where the MX listens; the name is what Microsoft would publish.
        return Ok(MxTarget {
            host: conventional_mx(&domain),
            addr: Some(addr),
            source: "the configured MX address",
        });
    }
    let client =
        HickoryDns::new(cx.target.endpoints.dns_server, cx.target.timeout).map_err(|e| NoMx {
            rule: Some(ids::DNS_TIMEOUT),
            summary: e.to_string(),
        })?;
    match client.mx(&domain).await {
        Answer::Records(mut records) => {
            records.sort_by_key(|m| m.preference);
            match records.into_iter().find(|m| m.exchange != ".") {
                Some(m) => Ok(MxTarget {
                    host: m.exchange,
                    addr: None,
                    source: "MX lookup",
                }),
                None => Err(NoMx {
                    rule: Some(ids::DNS_MX_MISSING),
                    summary: format!("{domain} publishes a null MX: it takes no mail"),
                }),
            }
        }
        Answer::NoData => Err(NoMx {
            rule: Some(ids::DNS_MX_MISSING),
            summary: format!("{domain} has no MX record"),
        }),
        Answer::NxDomain => Err(NoMx {
            rule: Some(ids::DNS_DOMAIN_NOT_FOUND),
            summary: format!("{domain} does not exist in DNS"),
        }),
        Answer::Failed(f) => Err(NoMx {
            rule: Some(ids::DNS_TIMEOUT),
            summary: format!("the MX lookup for {domain} failed: {f}"),
        }),
    }
}

/// `contoso.com` -> `contoso-com.mail.protection.outlook.com` (reference §7).
pub(super) fn conventional_mx(domain: &str) -> String {
    format!(
        "{}.mail.protection.outlook.com",
        domain.trim_end_matches('.').replace('.', "-")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conventional_mx_name() {
        assert_eq!(
            conventional_mx("contoso.com"),
            "contoso-com.mail.protection.outlook.com"
        );
        assert_eq!(
            conventional_mx("mail.contoso.co.uk."),
            "mail-contoso-co-uk.mail.protection.outlook.com"
        );
    }
}
