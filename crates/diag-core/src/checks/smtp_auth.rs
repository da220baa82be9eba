//! `smtp-auth`: `AUTH XOAUTH2` with the token from the `token` check, as the device would send
//! it, driven by hand so the whole reply is kept (a `334` challenge is decoded and answered with
//! an empty line, then the final reply is read). Every `5.7.139` wording names its rule; a bare
//! `535 5.7.3` is narrowed with what the earlier checks learned (audience, permission, the
//! signed-in user, a shared mailbox, and for a right app-only token the missing Exchange service
//! principal or mailbox permission). The redacted transcript is the evidence.
use std::sync::Arc;

use chrono::Utc;

use super::{
    context::{Ctx, GraphFetch},
    licence,
    smtp_tls::{
        Session, endpoint, error_finding, open_submission, session_evidence, tls_setup,
        transcript_evidence,
    },
};
use crate::{
    check::CheckId,
    classify::smtp::{
        AuthFacts, SmtpPath, classify, is_bare_auth_failure, narrow_auth_unsuccessful,
    },
    facts::{MailboxKind, UserRecord},
    finding::{Evidence, Finding},
    net::smtp::{AuthExchange, TlsVersions},
    rules::ids,
};

const CHECK: CheckId = CheckId::SmtpAuth;
/// Clock skew tolerated on the token's `exp` / `nbf` (as the `claims` check does).
const SKEW_SECS: i64 = 300;

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let Some(user) = cx
        .target
        .mailbox
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    else {
        return Finding::skip(CHECK, "no sending mailbox was given (--mailbox)");
    };
    let setup = match tls_setup(cx, CHECK) {
        Ok(s) => s,
        Err(f) => return *f,
    };
    let mut session = match open_submission(cx, CHECK, &setup, TlsVersions::Modern).await {
        Ok(s) => s,
        Err(f) => return *f,
    };
    let result = authenticate(cx, CHECK, &mut session, user).await;
    session.client.quit().await;
    let mut f = match result {
        Ok(exchange) => {
            let mut f = Finding::pass(
                CHECK,
                format!(
                    "{user} authenticated with XOAUTH2 ({})",
                    exchange.last.one_line()
                ),
            );
            f.evidence.extend(session_evidence(cx, &session));
            f
        }
        Err(f) => *f,
    };
    f.evidence
        .extend(transcript_evidence(session.client.transcript()));
    f
}

/// `AUTH XOAUTH2` on an open session: the exchange when it succeeded, else the finding that
/// names why (without the transcript: the caller adds it once).
pub(super) async fn authenticate(
    cx: &Ctx,
    check: CheckId,
    session: &mut Session,
    user: &str,
) -> Result<AuthExchange, Box<Finding>> {
    let Some(token) = cx.facts.token.get() else {
        return Err(Box::new(Ctx::internal(
            check,
            "the token check passed without leaving a token",
        )));
    };
    let exchange = match session.client.auth_xoauth2(user, &token.value).await {
        Ok(x) => x,
        Err(e) => {
            let mut f = error_finding(cx, check, &e, SmtpPath::Submission, &Default::default());
            f.evidence.extend(session_evidence(cx, session));
            return Err(Box::new(f));
        }
    };
    if exchange.succeeded() {
        return Ok(exchange);
    }
    let mut f = auth_failure(cx, check, &exchange, user).await;
    f.evidence.extend(session_evidence(cx, session));
    Err(Box::new(f))
}

/// A refused AUTH as its rule: the reply's own rule, or for a bare `535 5.7.3` the cause the
/// earlier checks point at.
async fn auth_failure(cx: &Ctx, check: CheckId, x: &AuthExchange, user: &str) -> Finding {
    let last = &x.last;
    let text = last.text();
    let mut evidence = vec![Evidence::new("reply", last.one_line())];
    if let Some(c) = &x.challenge {
        evidence.push(Evidence::new(
            "challenge",
            c.decoded.clone().unwrap_or_else(|| c.raw.clone()),
        ));
        for (k, v) in [
            ("challenge_status", &c.status),
            ("challenge_scope", &c.scope),
        ] {
            if let Some(v) = v {
                evidence.push(Evidence::new(k, v));
            }
        }
    }
    let mut f = if is_bare_auth_failure(last.code, &text) {
        let claims = cx.facts.claims.get();
        let facts = AuthFacts {
            claims: claims.map(|c| &c.jwt.claims),
            user,
            shared_mailbox: shared_mailbox(cx).await,
            tenant: claims.and_then(|c| c.tenant_id.as_deref()),
            now: Utc::now().timestamp(),
            skew: SKEW_SECS,
        };
        let n = narrow_auth_unsuccessful(&facts);
        evidence.push(Evidence::new("narrowed_by", n.because.clone()));
        let summary = if n.rule == ids::SMTP_AUTH_UNSUCCESSFUL {
            format!(
                "{} refused XOAUTH2 for {user}: {}",
                endpoint(cx),
                last.one_line()
            )
        } else {
            format!(
                "{} refused XOAUTH2 for {user} ({}): {}",
                endpoint(cx),
                last.code,
                n.because
            )
        };
        cx.judged(check, n.rule, summary)
    } else {
        match classify(last.code, &text, SmtpPath::Submission) {
            Some(rule) => cx.judged(
                check,
                rule,
                format!(
                    "{} refused XOAUTH2 for {user}: {}",
                    endpoint(cx),
                    last.one_line()
                ),
            ),
            None => Ctx::internal(
                check,
                format!(
                    "{} answered XOAUTH2 with a reply xdiag has no rule for: {}",
                    endpoint(cx),
                    last.one_line()
                ),
            ),
        }
    };
    f.evidence.extend(evidence);
    f
}

/// Is the sending mailbox a shared one? What `mailbox` found, else Graph's `mailboxSettings`
/// (read once per run and shared with `mailbox`, which may still be running), else the user
/// record: a sign-in-blocked account with no mailbox plan is how a shared mailbox looks to an app
/// without MailboxSettings.Read (reference §8: shared mailboxes need no licence and their
/// sign-in stays blocked). `None` when nobody can tell.
async fn shared_mailbox(cx: &Ctx) -> Option<bool> {
    if let Some(kind) = cx.facts.mailbox.get() {
        match kind {
            MailboxKind::Shared => return Some(true),
            MailboxKind::Unknown => {}
            _ => return Some(false),
        }
    }
    if let GraphFetch::Reply(reply) = cx.settings_reply().await
        && reply.is_success()
        && let Some(settings) = reply.json::<serde_json::Value>()
        && let Some(purpose) = settings.get("userPurpose")
        && let Some(purpose) = purpose
            .as_str()
            .or_else(|| purpose.get("value").and_then(|v| v.as_str()))
    {
        return Some(purpose.eq_ignore_ascii_case("shared"));
    }
    let GraphFetch::Reply(reply) = cx.user_reply().await else {
        return None;
    };
    let user = reply
        .is_success()
        .then(|| reply.json::<UserRecord>())
        .flatten()?;
    let blocked = user.account_enabled == Some(false);
    let unlicensed = licence::mailbox_plans(&user).0.is_empty();
    (blocked && unlicensed).then_some(true)
}
