//! The live checks. `run` dispatches on `CheckId`; each check reads the target and the facts
//! earlier checks left, and returns one finding naming a rule id for anything wrong.
//!
//! The identity path (`config`, `token`, `claims`, `mailbox`, `licence`, `send`) and the mail
//! path (`dns`, `reach`, `smtp-tls`, `smtp-auth`, `smtp-send`, `relay`).
mod assertion;
mod claims;
mod config;
mod context;
mod device_code;
mod dns;
mod graph_read;
mod licence;
mod mailbox;
mod reach;
mod redact;
mod relay;
mod send;
mod smtp_auth;
mod smtp_send;
mod smtp_tls;
mod token;

use std::sync::Arc;

pub(crate) use context::Ctx;
pub use licence::{MAILBOX_PLANS, NON_MAILBOX_PLANS};
pub(crate) use redact::scrub;

use crate::{
    check::CheckId,
    classify,
    finding::Finding,
    jwt::Problem,
    rules::{RuleId, ids},
};

/// What a run tells its observer while it runs (see `pipeline`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// A check started (for a progress indication).
    Started(CheckId),
    /// A check finished, or was skipped: its final, redacted finding.
    Finished(Finding),
    /// Device-code sign-in: show this to the technician now; the token check waits for it.
    DeviceCode(DeviceCodePrompt),
    /// What this check's dependents need from it has passed, so they may start before it
    /// ends (`reach` once the port the method needs answers, while the other port, only
    /// evidence, may still be waiting out its deadline). The pipeline consumes it.
    Ready(CheckId),
}

/// What the technician needs to finish a device-code sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Entra's own one-line instruction, when it sent one.
    pub message: Option<String>,
}

/// Does this version of xdiag have the check?
pub fn implemented(check: CheckId) -> bool {
    use CheckId::*;
    matches!(
        check,
        Config
            | Token
            | Claims
            | Mailbox
            | Licence
            | Send
            | Dns
            | Reach
            | SmtpTls
            | SmtpAuth
            | SmtpSend
            | Relay
    )
}

/// Runs one check to its finding.
pub(crate) async fn run(check: CheckId, cx: &Arc<Ctx>) -> Finding {
    use CheckId::*;
    match check {
        Config => config::run(cx),
        Token => token::run(cx).await,
        Claims => claims::run(cx).await,
        Mailbox => mailbox::run(cx).await,
        Licence => licence::run(cx).await,
        Send => send::run(cx).await,
        Dns => dns::run(cx).await,
        Reach => reach::run(cx).await,
        SmtpTls => smtp_tls::run(cx).await,
        SmtpAuth => smtp_auth::run(cx).await,
        SmtpSend => smtp_send::run(cx).await,
        Relay => relay::run(cx).await,
    }
}

/// Every rule id a check can put into a finding (for the test that each has a rule file).
pub fn emitted_rules() -> Vec<RuleId> {
    let mut all: Vec<RuleId> = [
        // config
        ids::CONFIG_TENANT_INVALID,
        ids::CONFIG_CLIENT_ID_NOT_GUID,
        ids::CONFIG_SECRET_LOOKS_LIKE_ID,
        ids::CONFIG_SMTP_HOST_IS_IP,
        ids::CONFIG_SCOPE_METHOD_MISMATCH,
        ids::CONFIG_PORT_MISMATCH,
        // token (besides the classifier's)
        ids::ENTRA_ENDPOINT_UNREACHABLE,
        ids::ENTRA_CLIENT_CREDENTIAL_MISSING,
        ids::ENTRA_CERTIFICATE_INVALID,
        ids::ENTRA_DEVICE_CODE_EXPIRED,
        // claims
        ids::JWT_MALFORMED,
        ids::JWT_AUDIENCE_EXCHANGE_FOR_GRAPH,
        // mailbox
        ids::SMTP_SHARED_MAILBOX_IDENTITY,
        ids::GRAPH_ACCOUNT_DISABLED,
        // licence
        ids::GRAPH_NO_EXCHANGE_LICENCE,
        // any
        ids::XDIAG_INTERNAL_ERROR,
    ]
    .to_vec();
    all.extend(classify::aadsts::rules());
    all.extend(classify::graph::rules());
    all.extend(smtp_tls::rules());
    all.extend(dns::RULES.iter().copied());
    let problems = [
        Problem::AudienceGraphForSmtp,
        Problem::AudienceExchangeForGraph,
        Problem::AudienceOther(String::new()),
        Problem::MailSendMissing,
        Problem::SmtpSendAsAppMissing,
        Problem::DelegatedPermissionOnly,
        Problem::Expired { exp: 0 },
        Problem::NotYetValid { nbf: 0 },
        Problem::TenantMismatch {
            token_tid: String::new(),
        },
        Problem::IdentityMismatch {
            token_user: String::new(),
        },
    ];
    all.extend(problems.iter().map(|p| RuleId(p.rule_id())));
    all.sort();
    all.dedup();
    all
}
