//! Basic `AUTH LOGIN` (user name and password), as Exchange Online answers it (reference §5,
//! all texts [OBSERVED]; which check Exchange makes first is UNCONFIRMED, §10 item 3). The lab's
//! order: tenant-wide refusals (security defaults, Basic auth off), then the credentials, then
//! the account's sign-in policy (blocked account, MFA, Conditional Access), then the SMTP AUTH
//! switches.

use super::{replies, switches};
use crate::state::LabState;

/// The mailbox the session is authenticated as, or the reply text of the refusal.
pub(super) fn authorize(
    state: &LabState,
    username: &str,
    password: &str,
) -> Result<String, &'static str> {
    let tenant = &state.scenario.tenant;
    if tenant.security_defaults {
        return Err(replies::SECURITY_DEFAULTS);
    }
    if !tenant.basic_auth_smtp {
        return Err(replies::BASIC_AUTH_DISABLED);
    }
    let user = state
        .mailbox_user(username)
        .filter(|u| u.password.as_deref().is_some_and(|p| p == password))
        .ok_or(replies::CREDENTIALS_INCORRECT)?;
    if !user.enabled
        || user.mfa_required
        || state.blocked_by_conditional_access("", Some(user), false)
    {
        return Err(replies::CRITERIA_NOT_MET);
    }
    switches::check(state, user)?;
    if !state.has_cloud_mailbox(user) {
        return Err(replies::AUTH_FAILED);
    }
    Ok(user.address.clone())
}
