//! `config`: what the technician typed, checked without any network: tenant and client id
//! shapes, a Secret ID pasted instead of the secret Value, the scope against the method, an IP
//! typed as the SMTP host, the port against the TLS mode.
use std::net::IpAddr;

use super::context::Ctx;
use crate::{
    check::CheckId,
    finding::{Evidence, Finding, Status},
    jwt::{EXCHANGE_APP_ID, GRAPH_APP_ID, is_guid},
    rules::{RuleId, ids},
    target::{Credential, Method, Target},
};

const CHECK: CheckId = CheckId::Config;

/// At most this much of a typed value is quoted back.
fn quote(s: &str) -> String {
    let s: String = s.chars().take(60).collect();
    format!("'{s}'")
}

/// Why `tenant` is neither a GUID nor a domain name, if it is not.
pub(crate) fn tenant_problem(tenant: &str) -> Option<String> {
    let t = tenant.trim();
    if t.is_empty() {
        return Some("no tenant was given".into());
    }
    if is_guid(t)
        || ["common", "organizations", "consumers"].contains(&t.to_ascii_lowercase().as_str())
    {
        // `/common` is a valid authority; whether this app may use it is the token endpoint's call.
        return None;
    }
    if t.contains("://") || t.contains('/') {
        return Some(format!(
            "the tenant {} is a URL, not a tenant ID or domain",
            quote(t)
        ));
    }
    if t.contains('@') {
        return Some(format!(
            "the tenant {} is an e-mail address, not a tenant ID or domain",
            quote(t)
        ));
    }
    if is_domain(t) {
        None
    } else {
        Some(format!(
            "the tenant {} is neither a GUID nor a domain name",
            quote(t)
        ))
    }
}

fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.trim_end_matches('.').split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| {
            tld.chars().all(|c| c.is_ascii_alphabetic()) || tld.starts_with("xn--")
        })
}

/// Why `client_id` is not an Application (client) ID, if it is not.
pub(crate) fn client_id_problem(client_id: &str) -> Option<String> {
    let c = client_id.trim();
    if is_guid(c) {
        return None;
    }
    Some(if c.is_empty() {
        "no client ID was given".to_string()
    } else if c.starts_with(['"', '\'']) || c.ends_with(['"', '\'']) {
        "the client ID is wrapped in quotes".to_string()
    } else if c.to_ascii_lowercase().starts_with("api://") {
        "the client ID is an Application ID URI (api://...), not the Application (client) ID"
            .to_string()
    } else if c.contains('@') {
        "the client ID is a login name, not the Application (client) ID".to_string()
    } else {
        format!("the client ID {} is not a GUID", quote(c))
    })
}

/// Which API a scope names: (asks Graph, asks Exchange).
fn scope_resources(scope: &str, target: &Target) -> (bool, bool) {
    let s = scope.to_ascii_lowercase();
    let host = |r: &str| r.trim_end_matches('/').to_ascii_lowercase();
    let graph = s.contains(&host(&target.endpoints.graph_resource))
        || s.contains("graph.microsoft")
        || s.contains("microsoftgraph.")
        || s.contains(GRAPH_APP_ID);
    let exchange = s.contains(&host(&target.endpoints.exchange_resource))
        || s.contains("outlook.office")
        || s.contains("partner.outlook.cn")
        || s.contains(EXCHANGE_APP_ID);
    (graph, exchange)
}

pub(crate) fn run(cx: &Ctx) -> Finding {
    let t = &cx.target;
    let mut problems: Vec<(RuleId, String)> = Vec::new();
    // Judge only what the planned checks use: direct send and relay need no tenant or app, and
    // `--only dns` needs neither. `--only config` asks for every input the method uses.
    let config_alone = CheckId::ORDER
        .iter()
        .all(|c| *c == CheckId::Config || !cx.planned(*c));
    let uses_token = t.method.uses_token() && (config_alone || cx.planned(CheckId::Token));
    let uses_submission = t.method == Method::Smtp
        && (config_alone
            || [CheckId::Reach, CheckId::SmtpTls, CheckId::SmtpAuth]
                .iter()
                .any(|c| cx.planned(*c)));
    if uses_token && let Some(why) = tenant_problem(&t.tenant) {
        problems.push((ids::CONFIG_TENANT_INVALID, why));
    }
    if uses_token {
        if let Some(why) = client_id_problem(&t.client_id) {
            problems.push((ids::CONFIG_CLIENT_ID_NOT_GUID, why));
        }
        if let Credential::Secret(secret) = &t.credential
            && is_guid(secret.expose().trim())
        {
            problems.push((
                ids::CONFIG_SECRET_LOOKS_LIKE_ID,
                "the client secret has the shape of a GUID: that is the Secret ID, not the secret's Value".into(),
            ));
        }
        if let Some(scope) = t.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            let (graph, exchange) = scope_resources(scope, t);
            let mismatch = match t.method {
                Method::Smtp if graph && !exchange => {
                    Some("Microsoft Graph, but SMTP needs an Exchange Online token")
                }
                Method::Graph if exchange && !graph => {
                    Some("Exchange Online, but Graph sendMail needs a Microsoft Graph token")
                }
                _ => None,
            };
            if let Some(what) = mismatch {
                problems.push((
                    ids::CONFIG_SCOPE_METHOD_MISMATCH,
                    format!("the scope {} asks for {what}", quote(scope)),
                ));
            }
        }
    }
    if uses_submission {
        let host = t
            .endpoints
            .smtp_host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.parse::<IpAddr>().is_ok_and(|ip| !ip.is_loopback()) {
            problems.push((
                ids::CONFIG_SMTP_HOST_IS_IP,
                format!("the SMTP server is the IP address {host}, not a host name"),
            ));
        }
        if t.endpoints.smtp_port == 465 {
            problems.push((
                ids::CONFIG_PORT_MISMATCH,
                "port 465 is implicit TLS; Exchange Online client submission uses STARTTLS on 587"
                    .into(),
            ));
        }
    }

    let mut evidence = vec![
        Evidence::new("tenant", t.tenant.trim()),
        Evidence::new("method", t.method.as_str()),
        Evidence::new("cloud", t.cloud.as_str()),
    ];
    if !uses_token {
        evidence[0] = Evidence::new(
            "tenant",
            match t.tenant.trim() {
                "" => "(not needed by these checks)".to_string(),
                other => format!("{other} (not needed by these checks)"),
            },
        );
    }
    // Without the address the device logs in as, the checks that matter most cannot run.
    let needs_mailbox = matches!(t.method, Method::Smtp | Method::Graph)
        && (config_alone
            || [CheckId::Mailbox, CheckId::SmtpAuth, CheckId::Send]
                .iter()
                .any(|c| cx.planned(*c)));
    if needs_mailbox && t.mailbox.as_deref().is_none_or(|m| m.trim().is_empty()) {
        problems.push((
            ids::CONFIG_MAILBOX_MISSING,
            "no sending mailbox was given (--mailbox): the mailbox and login checks cannot run"
                .into(),
        ));
    }
    let mut findings: Vec<Finding> = problems
        .into_iter()
        .map(|(rule, why)| cx.judged(CHECK, rule, why))
        .collect();
    // The most serious first; the others stay visible as evidence.
    findings.sort_by_key(|f| f.status != Status::Fail);
    let mut iter = findings.into_iter();
    match iter.next() {
        None => {
            let mut f = Finding::pass(CHECK, "inputs look right");
            f.evidence = evidence;
            if uses_token {
                f.evidence
                    .push(Evidence::new("client_id", t.client_id.trim()));
            }
            f
        }
        Some(mut first) => {
            for other in iter {
                let rule = other.rule.map(|r| r.as_str()).unwrap_or_default();
                first
                    .evidence
                    .push(Evidence::new("also", format!("{} ({rule})", other.summary)));
            }
            first.evidence.extend(evidence);
            first
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants() {
        assert_eq!(tenant_problem("contoso.com"), None);
        assert_eq!(tenant_problem("contoso.onmicrosoft.com"), None);
        assert_eq!(tenant_problem("11111111-2222-3333-4444-555555555555"), None);
        assert_eq!(tenant_problem("organizations"), None);
        for bad in [
            "",
            "contoso",
            "https://login.microsoftonline.com/contoso.com",
            "admin@contoso.com",
            "con toso.com",
            "<tenant-id>",
        ] {
            assert!(tenant_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn client_ids() {
        assert_eq!(
            client_id_problem(" 11111111-2222-3333-4444-555555555555 "),
            None
        );
        assert!(
            client_id_problem("\"11111111-2222-3333-4444-555555555555\"")
                .expect("quotes")
                .contains("quotes")
        );
        assert!(
            client_id_problem("api://11111111-2222-3333-4444-555555555555")
                .expect("uri")
                .contains("api://")
        );
        assert!(
            client_id_problem("scanner@contoso.com")
                .expect("login")
                .contains("login name")
        );
        assert!(
            client_id_problem("scanner")
                .expect("other")
                .contains("not a GUID")
        );
    }
}
