//! The live checks. `run` dispatches on `CheckId`; each check reads the target and the facts
//! earlier checks left, and returns one finding naming a rule id for anything wrong.
//!
//! Built so far: the identity path (`config`, `token`, `claims`, `mailbox`, `licence`, `send`).
//! The mail-path checks (`dns`, `reach`, `smtp-tls`, `smtp-auth`, `smtp-send`, `relay`) come
//! later; until then `implemented` says no and the pipeline leaves them out of the run, so a run
//! never pretends they passed.
mod assertion;
mod claims;
mod config;
mod context;
mod device_code;
mod graph_read;
mod licence;
mod mailbox;
mod redact;
mod send;
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
    matches!(check, Config | Token | Claims | Mailbox | Licence | Send)
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
        Dns | Reach | SmtpTls | SmtpAuth | SmtpSend | Relay => Ctx::internal(
            check,
            format!("the {check} check is not part of this version"),
        ),
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
