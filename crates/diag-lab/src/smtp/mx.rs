//! The tenant's MX: direct send and connector relay (reference §7 options 2 and 3, §5 "Relay /
//! direct send / connectors").
//!
//! Per recipient (RCPT):
//! 1. a site IP on `[network] blocklisted_ips` -> `550 5.7.606` (banned sending IP);
//! 2. a recipient in an accepted domain (`[tenant] domains`): Reject Direct Send refuses mail
//!    from one of the tenant's own domains that no connector covers (`550 5.7.68`); a recipient
//!    with no mailbox is refused by Directory Based Edge Blocking (`550 5.4.1`); else accepted;
//! 3. any other recipient (relay): accepted when a connector matches the site (IP or
//!    certificate) and the sender is in an accepted domain; refused with `550 5.7.64` when the
//!    tenant has a connector that does not cover this sender, else `550 5.7.54`.
//!
//! Per message (end of DATA), mail not covered by a connector: SPF of the envelope domain
//! (the lab's own evaluator) and DMARC of the From domain. DMARC `p=reject` without an aligned
//! SPF pass -> `550 5.7.509`; SPF `fail` or `permerror` -> `550 5.7.23`; anything else is
//! accepted (Exchange would junk soft failures, which the lab does not model).

use std::net::IpAddr;

use super::data::Message;
use super::dmarc::{self, Policy};
use super::session::{Envelope, Session};
use super::spf::{self, SpfResult};
use super::{command, replies};
use crate::scenario::Connector;

/// The connector the session is attributed to, if any.
fn connector(session: &Session) -> Option<&Connector> {
    let scenario = &session.shared.state.scenario;
    let certificate = Some(scenario.network.site_certificate_domain.as_str())
        .filter(|d| !d.is_empty() && session.conn.is_tls());
    scenario
        .connectors
        .iter()
        .find(|c| c.matches(session.site_ip, certificate))
}

fn accepted_domain(session: &Session, address: &str) -> bool {
    let domain = command::domain_of(address);
    session
        .shared
        .state
        .scenario
        .tenant
        .domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(&domain))
}

/// The RCPT verdict: Ok, or the refusal text.
pub(super) fn recipient(session: &Session, from: &str, recipient: &str) -> Result<(), String> {
    let scenario = &session.shared.state.scenario;
    if scenario.network.blocklisted_ips.contains(&session.site_ip) {
        return Err(replies::banned_ip(&session.site_ip.to_string()));
    }
    let attributed = connector(session).is_some();
    let sender_accepted = !from.is_empty() && accepted_domain(session, from);
    if accepted_domain(session, recipient) {
        if scenario.tenant.reject_direct_send && sender_accepted && !attributed {
            return Err(replies::DIRECT_SEND_REJECTED.to_string());
        }
        if session.shared.state.mailbox_user(recipient).is_none() {
            return Err(replies::RECIPIENT_REJECTED.to_string());
        }
        return Ok(());
    }
    if attributed && sender_accepted {
        return Ok(());
    }
    if scenario.connectors.iter().any(|c| c.enabled) {
        Err(replies::TENANT_ATTRIBUTION.to_string())
    } else {
        Err(replies::UNABLE_TO_RELAY.to_string())
    }
}

/// The end-of-DATA verdict: the outbox channel and sender, or the refusal text.
pub(super) fn accept(
    session: &Session,
    envelope: &Envelope,
    message: &Message,
) -> Result<(&'static str, String), String> {
    let sender_accepted = !envelope.from.is_empty() && accepted_domain(session, &envelope.from);
    if connector(session).is_some() && sender_accepted {
        return Ok(("mx-relay", envelope.from.clone()));
    }
    let zones = &session.shared.zones;
    let envelope_domain = command::domain_of(&envelope.from);
    let spf = if envelope_domain.is_empty() {
        SpfResult::None
    } else {
        spf::check_host(zones, session.site_ip, &envelope_domain)
    };
    let from_domain = message
        .from
        .as_deref()
        .map(command::domain_of)
        .unwrap_or_else(|| envelope_domain.clone());
    if !from_domain.is_empty() && dmarc::policy(zones, &from_domain) == Some(Policy::Reject) {
        let passes = spf == SpfResult::Pass && dmarc::aligned(&envelope_domain, &from_domain);
        if !passes {
            return Err(replies::dmarc_reject(&from_domain));
        }
    }
    if matches!(spf, SpfResult::Fail | SpfResult::PermError) {
        return Err(replies::SPF_FAIL.to_string());
    }
    Ok(("mx-direct-send", envelope.from.clone()))
}

/// Lab-only `XCLIENT ADDR=<ip>` (Postfix syntax): the connection is treated as coming from
/// `<ip>` and starts over with a fresh greeting.
pub(super) async fn xclient(session: &mut Session, argument: &str) -> std::io::Result<()> {
    if session.envelope.is_some() {
        return session.fail(replies::BAD_SEQUENCE).await;
    }
    let address = argument.split_whitespace().find_map(|a| {
        let (name, value) = a.split_once('=')?;
        name.eq_ignore_ascii_case("ADDR")
            .then(|| value.trim_start_matches("IPV6:").parse::<IpAddr>().ok())?
    });
    let Some(address) = address else {
        return session.fail(replies::SYNTAX_ERROR).await;
    };
    session.site_ip = address;
    session.greeted = false;
    session
        .reply(&replies::banner(session.role, chrono::Utc::now()))
        .await
}
