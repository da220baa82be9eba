//! `mailbox`: is the sending address a user with an Exchange Online mailbox in this tenant, and
//! can it be used the way the device uses it? Reads `GET /users/{mailbox}` and
//! `GET /users/{mailbox}/mailboxSettings` with a Graph token (for method smtp a second,
//! client-credentials Graph token of the same app).
use std::sync::Arc;

use super::{
    context::{Ctx, GraphFetch, LookupToken},
    graph_read::{Read, read},
    licence,
};
use crate::{
    check::CheckId,
    classify::graph::GraphOp,
    facts::{MailboxKind, UserRecord},
    finding::{Evidence, Finding},
    rules::{RuleId, ids},
    target::{Credential, Method},
};

const CHECK: CheckId = CheckId::Mailbox;
const NOT_FOUND: RuleId = ids::GRAPH_MAILBOX_NOT_FOUND;
const NOT_PERMITTED: RuleId = ids::GRAPH_LOOKUP_NOT_PERMITTED;

pub(crate) fn looks_like_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>' || c == ',')
        && !domain.contains('@')
}

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let Some(mailbox) = cx.target.mailbox.as_deref().map(str::trim) else {
        return Finding::skip(CHECK, "no sending mailbox was given (--mailbox)");
    };
    if !looks_like_address(mailbox) {
        return cx.judged(
            CHECK,
            NOT_FOUND,
            format!(
                "'{}' is not an e-mail address",
                mailbox.chars().take(80).collect::<String>()
            ),
        );
    }
    match cx.lookup_token().await {
        LookupToken::Ready(_) => {}
        LookupToken::Unavailable(why) => {
            return Finding::skip(CHECK, format!("the mailbox cannot be read: {why}"));
        }
        LookupToken::Failed(failure) => {
            let mut f = cx.judged(
                CHECK,
                NOT_PERMITTED,
                format!(
                    "no Graph token for the lookup: the token endpoint answered {}",
                    failure.rule()
                ),
            );
            f.evidence
                .extend(failure.finding(cx, CHECK, &cx.token_url()).evidence);
            return f;
        }
    }
    // Prefetched in a normal run; in sequential mode read one after the other.
    let (user, settings) = if cx.overlap {
        tokio::join!(cx.user_reply(), cx.settings_reply())
    } else {
        let user = cx.user_reply().await;
        (user, cx.settings_reply().await)
    };
    judge(cx, mailbox, user, settings)
}

fn judge(cx: &Ctx, mailbox: &str, user: &GraphFetch, settings: &GraphFetch) -> Finding {
    let mut notes: Vec<Evidence> = Vec::new();
    let record: Option<UserRecord> = match read(user, GraphOp::UserLookup) {
        Read::Ok(reply) => match reply.json::<UserRecord>() {
            Some(u) => Some(u),
            None => {
                return Ctx::internal(
                    CHECK,
                    format!(
                        "the user record is not the JSON Graph sends ({})",
                        reply.shape()
                    ),
                );
            }
        },
        Read::Rule { rule, evidence, .. } if rule == NOT_PERMITTED => {
            notes.push(Evidence::new(
                "user_lookup",
                "not permitted (the app may not read users: User.Read.All)",
            ));
            notes.extend(evidence);
            None
        }
        Read::Rule { rule, evidence, .. } => {
            let mut f = cx.judged(CHECK, rule, rule_summary(rule, mailbox));
            f.evidence = evidence;
            return f;
        }
        Read::Inconclusive(why) => {
            notes.push(Evidence::new("user_lookup", why));
            None
        }
    };
    if let Some(u) = &record {
        notes.extend(user_evidence(u));
    }

    let kind = match read(settings, GraphOp::MailboxSettings) {
        Read::Ok(reply) => purpose(reply.json::<serde_json::Value>().as_ref()),
        Read::Rule { rule, evidence, .. }
            if rule == ids::GRAPH_APPLICATION_ACCESS_POLICY
                && cx.target.method != Method::Graph =>
        {
            // An Application Access Policy limits Graph only; SMTP does not see it.
            notes.push(Evidence::new("mailbox_settings", "Graph access to this mailbox is limited by an Application Access Policy (does not affect SMTP)"));
            notes.extend(evidence);
            MailboxKind::Unknown
        }
        Read::Rule { rule, evidence, .. } if rule == NOT_PERMITTED => {
            // A side note on a lookup that otherwise worked: the code is enough.
            let code = evidence
                .iter()
                .find(|e| e.key == "graph_code")
                .map(|e| e.value.as_str())
                .unwrap_or("403");
            notes.push(Evidence::new(
                "mailbox_settings",
                format!("not readable: {code} (the app lacks MailboxSettings.Read)"),
            ));
            MailboxKind::Unknown
        }
        Read::Rule { rule, evidence, .. } => {
            let mut f = cx.judged(CHECK, rule, rule_summary(rule, mailbox));
            f.evidence = evidence;
            f.evidence.extend(notes);
            return f;
        }
        Read::Inconclusive(why) => {
            notes.push(Evidence::new("mailbox_settings", why));
            MailboxKind::Unknown
        }
    };
    notes.push(Evidence::new("mailbox_kind", kind_name(&kind)));

    let delegated = matches!(cx.target.credential, Credential::DeviceCode);
    let disabled = record.as_ref().and_then(|u| u.account_enabled) == Some(false);
    // Without `mailboxSettings` (MailboxSettings.Read), the licences tell whether the user can
    // have a cloud mailbox at all (reference §6, §8): an enabled account without a mailbox plan
    // has none; a sign-in-blocked one without a licence is typically a shared mailbox.
    let is_guest = record
        .as_ref()
        .and_then(|u| u.user_type.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("guest"));
    let no_mailbox_plan = record
        .as_ref()
        .is_some_and(|u| licence::mailbox_plans(u).0.is_empty());
    let finding = if kind == MailboxKind::Shared && cx.target.method == Method::Smtp && delegated {
        cx.judged(
            CHECK,
            ids::SMTP_SHARED_MAILBOX_IDENTITY,
            format!("{mailbox} is a shared mailbox, and the device signs in to SMTP as it"),
        )
    } else if disabled && kind != MailboxKind::Shared && delegated {
        cx.judged(
            CHECK,
            ids::GRAPH_ACCOUNT_DISABLED,
            format!("the account {mailbox} is disabled, and the device signs in as it"),
        )
    } else if record.is_none() && kind == MailboxKind::Unknown {
        let mut f = cx.judged(
            CHECK,
            NOT_PERMITTED,
            format!(
                "{mailbox} could not be looked up: the app may not read users or mailbox settings"
            ),
        );
        f.evidence = notes;
        return f;
    } else if kind == MailboxKind::Unknown && is_guest {
        // A guest (B2B) account is a mail user in the host tenant: its mailbox, if any, lives in
        // its home organisation, whatever licence it was assigned here (graph-mailbox-not-enabled
        // covers every "no Exchange Online mailbox" cause).
        cx.judged(
            CHECK,
            ids::GRAPH_MAILBOX_NOT_ENABLED,
            format!(
                "{mailbox} has no Exchange Online mailbox: it is a guest account (userType Guest)"
            ),
        )
    } else if kind == MailboxKind::Unknown && no_mailbox_plan && !disabled {
        let on_prem = record.as_ref().and_then(|u| u.on_premises_sync_enabled) == Some(true);
        let why = if on_prem {
            "synchronised from on-premises and without an Exchange Online plan: its mailbox, if any, is on-premises"
        } else {
            "none of its service plans gives one"
        };
        let mut f = cx.judged(
            CHECK,
            ids::GRAPH_MAILBOX_NOT_ENABLED,
            format!("{mailbox} has no Exchange Online mailbox: {why}"),
        );
        if let Some(u) = &record {
            f.evidence.extend(licence::mailbox_plans(u).1);
        }
        f
    } else {
        if disabled {
            notes.push(Evidence::new(
                "account",
                match &kind {
                    MailboxKind::Shared => "sign-in blocked, as a shared mailbox should be",
                    MailboxKind::Unknown if no_mailbox_plan => {
                        "sign-in blocked and unlicensed: typically a shared mailbox"
                    }
                    _ => "disabled (no matter for app-only sending)",
                },
            ));
        }
        if kind == MailboxKind::Shared && cx.target.method == Method::Smtp {
            // App-only XOAUTH2 for a shared mailbox with FullAccess is reported to work
            // (reference §8, UNCONFIRMED): smtp-auth, not this lookup, has the last word.
            notes.push(Evidence::new(
                "smtp_identity",
                "a shared mailbox: app-only XOAUTH2 needs FullAccess for the app on it",
            ));
        }
        let what = match &kind {
            MailboxKind::User => "a user mailbox".to_string(),
            MailboxKind::Shared => "a shared mailbox".to_string(),
            MailboxKind::Other(p) => format!("a {p} mailbox"),
            MailboxKind::Unknown => "a user (mailbox type not readable)".to_string(),
        };
        Finding::pass(CHECK, format!("{mailbox} is {what} in this tenant"))
    };
    let mut finding = finding;
    finding.evidence.extend(notes);
    if let Some(u) = record {
        let _ = cx.facts.user.set(u);
    }
    let _ = cx.facts.mailbox.set(kind);
    finding
}

fn rule_summary(rule: RuleId, mailbox: &str) -> String {
    match rule {
        ids::GRAPH_MAILBOX_NOT_FOUND => format!("{mailbox} is not a user in this tenant"),
        ids::GRAPH_MAILBOX_NOT_ENABLED => format!("{mailbox} has no Exchange Online mailbox"),
        ids::GRAPH_TOKEN_REJECTED => "Graph refused the token".to_string(),
        ids::GRAPH_THROTTLED => "Graph is throttling this app".to_string(),
        ids::GRAPH_APPLICATION_ACCESS_POLICY => {
            format!("an Application Access Policy keeps this app out of {mailbox}")
        }
        other => format!("Graph refused the lookup of {mailbox} ({other})"),
    }
}

/// `mailboxSettings.userPurpose`: a string in v1.0, an object `{ "value": ... }` in older forms.
pub(crate) fn purpose(settings: Option<&serde_json::Value>) -> MailboxKind {
    let Some(p) = settings.and_then(|s| s.get("userPurpose")) else {
        return MailboxKind::User;
    };
    let p = p
        .as_str()
        .or_else(|| p.get("value").and_then(|v| v.as_str()))
        .unwrap_or("user");
    match p.to_ascii_lowercase().as_str() {
        "user" => MailboxKind::User,
        "shared" => MailboxKind::Shared,
        other => MailboxKind::Other(other.to_string()),
    }
}

fn kind_name(kind: &MailboxKind) -> String {
    match kind {
        MailboxKind::User => "user".into(),
        MailboxKind::Shared => "shared".into(),
        MailboxKind::Other(p) => p.clone(),
        MailboxKind::Unknown => "unknown".into(),
    }
}

fn user_evidence(u: &UserRecord) -> Vec<Evidence> {
    let mut ev = Vec::new();
    for (k, v) in [
        ("user_principal_name", &u.user_principal_name),
        ("mail", &u.mail),
        ("user_type", &u.user_type),
    ] {
        if let Some(v) = v {
            ev.push(Evidence::new(k, v));
        }
    }
    if let Some(e) = u.account_enabled {
        ev.push(Evidence::new("account_enabled", e.to_string()));
    }
    if u.on_premises_sync_enabled == Some(true) {
        ev.push(Evidence::new(
            "on_premises_sync",
            "synchronised from on-premises Active Directory",
        ));
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_shapes() {
        assert!(looks_like_address("scanner@contoso.com"));
        for bad in [
            "scanner",
            "scanner@contoso",
            "\"a\"@b.com",
            "a b@c.com",
            "@contoso.com",
            "a@b@c.com",
        ] {
            assert!(!looks_like_address(bad), "{bad}");
        }
    }

    #[test]
    fn user_purpose_in_both_shapes() {
        assert_eq!(
            purpose(Some(&serde_json::json!({"userPurpose": "shared"}))),
            MailboxKind::Shared
        );
        assert_eq!(
            purpose(Some(&serde_json::json!({"userPurpose": {"value": "room"}}))),
            MailboxKind::Other("room".into())
        );
        assert_eq!(
            purpose(Some(&serde_json::json!({"timeZone": "UTC"}))),
            MailboxKind::User
        );
    }
}
