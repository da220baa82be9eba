//! `claims`: is the token fit for the way the device will use it? Decodes it (never trusting it),
//! checks its signature against the tenant's published keys where a third party can (not for
//! Graph tokens: they carry a header `nonce` by design), then judges audience, permissions,
//! lifetime (5 min clock-skew tolerance), tenant and, for delegated tokens, the user.
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::context::Ctx;
use crate::{
    check::CheckId,
    facts::TokenClaims,
    finding::{Evidence, Finding},
    jwt::{self, Claims, Intended, Problem, Resource, SignatureCheck, is_guid},
    rules::{RuleId, ids},
    target::Method,
};

const CHECK: CheckId = CheckId::Claims;
const MALFORMED: RuleId = ids::JWT_MALFORMED;
/// Clock skew tolerated on `exp` and `nbf`.
pub(crate) const SKEW_SECS: i64 = 300;

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let Some(token) = cx.facts.token.get() else {
        return Ctx::internal(CHECK, "the token check passed without leaving a token");
    };
    let decoded = match jwt::decode(token.value.expose()) {
        Ok(j) => j,
        Err(e) => {
            return cx.judged(
                CHECK,
                MALFORMED,
                format!("the access token is not a readable JWT: {e}"),
            );
        }
    };
    let typed_tenant = cx.target.tenant.trim();
    let tenant_is_guid = is_guid(typed_tenant);
    let need_discovery = !decoded.has_header_nonce() || !tenant_is_guid;
    let mut evidence = Vec::new();

    let (signature, revealed_tid) = if need_discovery {
        match cx.discovery().await {
            Ok(d) => {
                // `verify` answers "not verifiable by design" for Graph tokens itself.
                let mut sig = jwt::verify(token.value.expose(), &decoded, &d.keys);
                if matches!(sig, SignatureCheck::UnknownKey { kid: Some(_) }) {
                    // v1.0 tokens belong to the v1 key set; look there before calling the key unknown.
                    if let Some(keys) = cx.v1_keys(&d.config).await {
                        sig = jwt::verify(token.value.expose(), &decoded, &keys);
                    }
                }
                (Some(sig), d.config.tenant_id())
            }
            Err(why) => {
                evidence.push(Evidence::new("discovery", format!("not available: {why}")));
                let sig = decoded
                    .has_header_nonce()
                    .then_some(SignatureCheck::NotVerifiableByDesign);
                (sig, None)
            }
        }
    } else {
        (Some(SignatureCheck::NotVerifiableByDesign), None)
    };
    match &signature {
        Some(s) => evidence.push(Evidence::new("signature", s.describe())),
        None => evidence.push(Evidence::new("signature", "not checked")),
    }
    if let Some(sig) = signature.as_ref().filter(|s| s.is_bad()) {
        let mut f = cx.judged(
            CHECK,
            MALFORMED,
            format!("the token's signature {}", sig.describe()),
        );
        f.evidence.extend(claim_evidence(&decoded.claims));
        f.evidence.extend(evidence);
        return f;
    }

    let tenant = if tenant_is_guid {
        Some(typed_tenant.to_ascii_lowercase())
    } else {
        revealed_tid
    };
    if tenant.is_none() {
        evidence.push(Evidence::new(
            "tenant",
            "not compared: the tenant id behind the domain could not be found",
        ));
    }
    let intended = match cx.target.method {
        Method::Graph => Intended::Graph,
        _ => Intended::Smtp,
    };
    let now = Utc::now().timestamp();
    let mailbox = cx.target.mailbox.as_deref().map(str::trim);
    let problems = jwt::judge(
        &decoded.claims,
        intended,
        now,
        SKEW_SECS,
        tenant.as_deref(),
        mailbox,
    );

    let mut claim_ev = claim_evidence(&decoded.claims);
    claim_ev.extend(evidence);
    let finding = match problems.first() {
        Some(p) => {
            let rule = rule_for(p, intended);
            let mut f = cx.judged(
                CHECK,
                rule,
                describe(p, &decoded.claims, intended, tenant.as_deref(), mailbox),
            );
            for other in &problems[1..] {
                f.evidence.push(Evidence::new(
                    "also",
                    describe(other, &decoded.claims, intended, tenant.as_deref(), mailbox),
                ));
            }
            f.evidence.extend(claim_ev);
            f
        }
        None => {
            let mut f = Finding::pass(CHECK, pass_summary(&decoded.claims, intended));
            f.evidence = claim_ev;
            f
        }
    };
    let _ = cx.facts.claims.set(TokenClaims {
        jwt: decoded,
        signature,
        tenant_id: tenant,
    });
    finding
}

/// `judge` names one audience rule for "some other API"; on the Graph path the Exchange one reads right.
fn rule_for(p: &Problem, intended: Intended) -> RuleId {
    match (p, intended) {
        (Problem::AudienceOther(_), Intended::Graph) => ids::JWT_AUDIENCE_EXCHANGE_FOR_GRAPH,
        _ => RuleId(p.rule_id()),
    }
}

fn permission(intended: Intended, app_only: bool) -> &'static str {
    match (intended, app_only) {
        (Intended::Smtp, true) => "SMTP.SendAsApp",
        (Intended::Smtp, false) => "SMTP.Send",
        (Intended::Graph, _) => "Mail.Send",
    }
}

fn describe(
    p: &Problem,
    c: &Claims,
    intended: Intended,
    tenant: Option<&str>,
    mailbox: Option<&str>,
) -> String {
    let app_only = c.is_app_only();
    match p {
        Problem::AudienceGraphForSmtp => {
            "the token is for Microsoft Graph, but SMTP needs an Exchange Online token".into()
        }
        Problem::AudienceExchangeForGraph => {
            "the token is for Exchange Online, but Graph sendMail needs a Microsoft Graph token"
                .into()
        }
        Problem::AudienceOther(aud) => {
            format!("the token is for {aud}, which is neither Microsoft Graph nor Exchange Online")
        }
        Problem::MailSendMissing | Problem::SmtpSendAsAppMissing if app_only => {
            format!(
                "app-only {} token without {} in roles",
                Resource::of(c).describe(),
                permission(intended, true)
            )
        }
        Problem::MailSendMissing | Problem::SmtpSendAsAppMissing => {
            format!(
                "delegated token without {} in scp",
                permission(intended, false)
            )
        }
        Problem::DelegatedPermissionOnly => format!(
            "{} is granted as a delegated permission (scp), but this app-only token needs it in roles",
            permission(intended, true)
        ),
        Problem::Expired { exp } => format!("the token expired at {}", when(*exp)),
        Problem::NotYetValid { nbf } => {
            format!("the token is not valid before {} (clock skew?)", when(*nbf))
        }
        Problem::TenantMismatch { token_tid } => {
            format!(
                "the token is from tenant {token_tid}, not {}",
                tenant.unwrap_or("the configured tenant")
            )
        }
        Problem::IdentityMismatch { token_user } => {
            format!(
                "the token belongs to {token_user}, not to the sending mailbox {}",
                mailbox.unwrap_or("?")
            )
        }
    }
}

fn pass_summary(c: &Claims, intended: Intended) -> String {
    let kind = if c.is_app_only() {
        "app-only"
    } else {
        "delegated"
    };
    format!(
        "{} {kind} token with {}",
        Resource::of(c).describe(),
        permission(intended, c.is_app_only())
    )
}

fn when(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// What the token says, for the technician: no raw token, no signature.
fn claim_evidence(c: &Claims) -> Vec<Evidence> {
    let mut ev = Vec::new();
    ev.push(Evidence::new("aud", c.aud.join(", ")));
    ev.push(Evidence::new("resource", Resource::of(c).describe()));
    ev.push(Evidence::new(
        "kind",
        if c.is_app_only() {
            "app-only"
        } else {
            "delegated"
        },
    ));
    if c.is_app_only() || !c.roles.is_empty() {
        ev.push(Evidence::new(
            "roles",
            if c.roles.is_empty() {
                "(none)".to_string()
            } else {
                c.roles.join(" ")
            },
        ));
    }
    if !c.scp.is_empty() {
        ev.push(Evidence::new("scp", c.scp.join(" ")));
    }
    for (k, v) in [
        ("tid", c.tid.as_deref()),
        ("appid", c.client_id()),
        ("user", c.user()),
    ] {
        if let Some(v) = v {
            ev.push(Evidence::new(k, v));
        }
    }
    if let Some(exp) = c.exp {
        let mins = (exp - Utc::now().timestamp()) / 60;
        let rel = if mins >= 0 {
            format!("in {mins} min")
        } else {
            format!("{} min ago", -mins)
        };
        ev.push(Evidence::new("exp", format!("{} ({rel})", when(exp))));
    }
    ev
}
