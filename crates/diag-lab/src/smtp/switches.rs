//! The two SMTP AUTH switches (reference §4 "Tenant- and mailbox-level SMTP AUTH switches"):
//! `Set-CASMailbox -SmtpClientAuthenticationDisabled` wins when set; otherwise
//! `Set-TransportConfig -SmtpClientAuthenticationDisabled` decides. Applied to XOAUTH2 as well
//! as Basic (§4: [OBSERVED] yes, UNCONFIRMED by Microsoft; §10 item 2).

use super::replies;
use crate::scenario::{SmtpAuth, User};
use crate::state::LabState;

/// Ok when SMTP AUTH is allowed for `mailbox`, else the 5.7.139 reply naming the switch.
pub(super) fn check(state: &LabState, mailbox: &User) -> Result<(), &'static str> {
    match mailbox.smtp_auth {
        SmtpAuth::Enabled => Ok(()),
        SmtpAuth::Disabled => Err(replies::SMTP_AUTH_DISABLED_MAILBOX),
        SmtpAuth::Default if state.scenario.tenant.smtp_auth_disabled => {
            Err(replies::SMTP_AUTH_DISABLED_TENANT)
        }
        SmtpAuth::Default => Ok(()),
    }
}
