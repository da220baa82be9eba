//! Every SMTP reply the lab sends, word for word, with its source. "§n" is
//! shared/reference/microsoft-facts.md, "field §1.2" is shared/reference/field-facts.md §1.2.
//! Exchange ends its negative replies with the answering server in brackets (the MS sample
//! `535 5.7.3 Authentication unsuccessful [<server>.prod.outlook.com]`, §4; case-23's
//! `[...prod.protection.outlook.com]`), so every 4xx/5xx reply here carries such a tag.
//! Texts marked "lab wording" are not in the reference; they are plain RFC 5321 replies.

use chrono::{DateTime, Utc};

use super::Role;

/// The submission server's name (field §1.2: `220 <host>.outlook.office365.com ...`).
pub(super) const SUBMISSION_HOST: &str = "LAB1P264CA0001.outlook.office365.com";
const SUBMISSION_TAG: &str = "LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM";
/// The MX front end's name (`<name>.mail.protection.outlook.com`).
pub(super) const MX_HOST: &str = "LAB1EUR01FT001.mail.protection.outlook.com";
const MX_TAG: &str = "LAB1EUR01FT001.eop-EUR01.prod.protection.outlook.com";

pub(super) fn host(role: Role) -> &'static str {
    match role {
        Role::Submission => SUBMISSION_HOST,
        Role::Mx => MX_HOST,
    }
}

/// A negative reply with the server tag appended.
pub(super) fn tagged(role: Role, text: &str) -> String {
    let tag = match role {
        Role::Submission => SUBMISSION_TAG,
        Role::Mx => MX_TAG,
    };
    format!("{text} [{tag}]")
}

/// Healthy banner, field §1.2 (MS fix-issues doc):
/// `220 <host> Microsoft ESMTP MAIL Service ready at <date>`.
pub(super) fn banner(role: Role, now: DateTime<Utc>) -> String {
    format!(
        "220 {} Microsoft ESMTP MAIL Service ready at {}",
        host(role),
        now.format("%a, %-d %b %Y %H:%M:%S %z")
    )
}

/// EHLO: `STARTTLS` before TLS, `AUTH LOGIN XOAUTH2` (no PLAIN) after it on submission, never
/// AUTH on the MX (field §1.2 notes, from a captured smtp.office365.com log).
pub(super) fn ehlo(role: Role, client_ip: &str, tls: bool) -> String {
    let mut lines = vec![
        format!("{} Hello [{client_ip}]", host(role)),
        "SIZE 157286400".to_string(),
        "PIPELINING".to_string(),
        "DSN".to_string(),
        "ENHANCEDSTATUSCODES".to_string(),
    ];
    match (role, tls) {
        (_, false) => lines.push("STARTTLS".into()),
        (Role::Submission, true) => lines.push("AUTH LOGIN XOAUTH2".into()),
        (Role::Mx, true) => {}
    }
    lines.push("8BITMIME".into());
    lines.push("SMTPUTF8".into());
    multiline(250, &lines)
}

pub(super) fn helo(role: Role, client_ip: &str) -> String {
    format!("250 {} Hello [{client_ip}]", host(role))
}

fn multiline(code: u16, lines: &[String]) -> String {
    let last = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{code}{}{l}", if i == last { ' ' } else { '-' }))
        .collect::<Vec<_>>()
        .join("\r\n")
}

// --- Authentication (client submission) ---

/// §4 [MS].
pub(super) const AUTH_OK: &str = "235 2.7.0 Authentication successful";
/// §4/§5 [MS]: generic AUTH failure (bad token, wrong audience, missing role, service principal
/// or mailbox permission, `user=` not the token's user, shared mailbox).
pub(super) const AUTH_FAILED: &str = "535 5.7.3 Authentication unsuccessful";
/// §5 [OBSERVED]: SMTP AUTH off for the organisation.
pub(super) const SMTP_AUTH_DISABLED_TENANT: &str = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.";
/// §5 [OBSERVED]: SMTP AUTH off for the mailbox.
pub(super) const SMTP_AUTH_DISABLED_MAILBOX: &str = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.";
/// §5 [OBSERVED]: Basic auth under security defaults.
pub(super) const SECURITY_DEFAULTS: &str = "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.";
/// §5 [OBSERVED]: a policy (MFA, Conditional Access, blocked sign-in) refused a Basic sign-in.
pub(super) const CRITERIA_NOT_MET: &str = "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.";
/// §5 [OBSERVED]: Basic auth turned off for client submission.
pub(super) const BASIC_AUTH_DISABLED: &str =
    "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.";
/// §5 [OBSERVED]: wrong user name or password.
pub(super) const CREDENTIALS_INCORRECT: &str =
    "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.";
/// field §1.2 (sasl-xoauth2 issue 110): the XOAUTH2 blob does not decode to `user=...^Aauth=Bearer ...^A^A`.
pub(super) const XOAUTH2_MALFORMED: &str = "501 5.5.124 Invalid XOAUTH2 auth data";
/// field §1.2: a mechanism the server does not offer there (any AUTH on the MX, PLAIN on 587).
pub(super) const UNRECOGNIZED_AUTH: &str = "504 5.7.4 Unrecognized authentication type";
/// §5 [MS]: AUTH or MAIL before STARTTLS on submission.
pub(super) const MUST_STARTTLS: &str = "451 5.7.3 Must issue a STARTTLS command first";
/// field §1.2 / §5: MAIL FROM without a successful AUTH (5.7.57 [MS]; the 530 prefix is the
/// commonly reported one).
pub(super) const NOT_AUTHENTICATED: &str = "530 5.7.57 Client not authenticated to send mail";
/// RFC 4954 prompts "Username:" / "Password:" in base64, as Exchange sends them.
pub(super) const LOGIN_USERNAME: &str = "334 VXNlcm5hbWU6";
pub(super) const LOGIN_PASSWORD: &str = "334 UGFzc3dvcmQ6";
/// The empty challenge before an XOAUTH2 response sent without an initial response (§4).
pub(super) const XOAUTH2_PROMPT: &str = "334 ";

/// §5 [OBSERVED] `554 5.2.252 SendAsDenied; <a> not allowed to send as <b>; STOREDRV...`, its
/// tail completed with the `554 5.2.0` row's wording of the same exception.
pub(super) fn send_as_denied(mailbox: &str, from: &str) -> String {
    format!(
        "554 5.2.252 SendAsDenied; {mailbox} not allowed to send as {from}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message."
    )
}

// --- MX: relay, direct send, connectors ---

/// Direct send to a recipient outside the tenant's accepted domains, with no connector (the
/// project's diagnosis list names 5.7.54 "Unable to relay"; §5 gives the same situation as
/// `5.7.1 Unable to relay`; this is the wording Exchange Online's MX is commonly reported with).
pub(super) const UNABLE_TO_RELAY: &str =
    "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain";
/// §5 [MS]: the tenant has an inbound connector but it does not match the sender.
pub(super) const TENANT_ATTRIBUTION: &str = "550 5.7.64 TenantAttribution; Relay Access Denied";
/// §5 (text [OBSERVED], behaviour [MS] blog): Reject Direct Send is on.
pub(super) const DIRECT_SEND_REJECTED: &str = "550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources";
/// §5 [MS]: Directory Based Edge Blocking, no such recipient.
pub(super) const RECIPIENT_REJECTED: &str = "550 5.4.1 Recipient address rejected: Access denied";

/// §5 [MS] `5.7.606-649 Access denied, banned sending IP [x.x.x.x]`.
pub(super) fn banned_ip(ip: &str) -> String {
    format!("550 5.7.606 Access denied, banned sending IP [{ip}]")
}

/// The code is §5 [MS] (`5.7.23` SPF violation); the wording is the one public NDR guides
/// quote for Exchange Online (not in the reference).
pub(super) const SPF_FAIL: &str =
    "550 5.7.23 The message was rejected because of Sender Policy Framework violation";

/// field §1.2: DMARC fail with p=reject.
pub(super) fn dmarc_reject(domain: &str) -> String {
    format!(
        "550 5.7.509: Access denied, sending domain [{}] does not pass DMARC verification and has a DMARC policy of reject",
        domain.to_ascii_uppercase()
    )
}

// --- Plain SMTP (lab wording, RFC 5321 codes) ---

pub(super) const STARTTLS_READY: &str = "220 2.0.0 SMTP server ready";
pub(super) const SENDER_OK: &str = "250 2.1.0 Sender OK";
pub(super) const RECIPIENT_OK: &str = "250 2.1.5 Recipient OK";
pub(super) const START_DATA: &str = "354 Start mail input; end with <CRLF>.<CRLF>";
pub(super) const RESET: &str = "250 2.0.0 Resetting";
pub(super) const OK: &str = "250 2.0.0 OK";
pub(super) const BYE: &str = "221 2.0.0 Service closing transmission channel";
pub(super) const CANNOT_VRFY: &str = "252 2.1.5 Cannot VRFY user";
pub(super) const SEND_HELLO_FIRST: &str = "503 5.5.2 Send hello first";
pub(super) const NEED_MAIL: &str = "503 5.5.2 Need mail command";
pub(super) const NEED_RCPT: &str = "503 5.5.2 Need rcpt command";
pub(super) const SENDER_ALREADY: &str = "503 5.5.2 Sender already specified";
pub(super) const BAD_SEQUENCE: &str = "503 5.5.1 Bad sequence of commands";
pub(super) const ALREADY_AUTHENTICATED: &str = "503 5.5.2 Already authenticated";
pub(super) const INVALID_DOMAIN: &str = "501 5.5.4 Invalid domain name";
pub(super) const INVALID_SENDER: &str = "501 5.1.7 Invalid address";
pub(super) const INVALID_RECIPIENT: &str = "501 5.1.3 Invalid address";
pub(super) const SYNTAX_ERROR: &str = "501 5.5.4 Syntax error in parameters or arguments";
pub(super) const CANNOT_DECODE: &str = "501 5.5.2 Cannot Decode response";
pub(super) const AUTH_CANCELLED: &str = "501 5.0.0 Authentication cancelled";
pub(super) const LINE_TOO_LONG: &str = "500 5.5.2 Line too long";
pub(super) const TOO_MANY_RECIPIENTS: &str = "452 4.5.3 Too many recipients";
pub(super) const MESSAGE_TOO_BIG: &str =
    "552 5.3.4 Message size exceeds fixed maximum message size";
pub(super) const TOO_MANY_ERRORS: &str =
    "421 4.7.0 Too many errors on this connection, closing transmission channel";
pub(super) const IDLE_TIMEOUT: &str = "421 4.4.1 Connection timed out";
pub(super) const BUSY: &str = "421 4.3.2 Service not available, closing transmission channel";

pub(super) fn unrecognized(verb: &str) -> String {
    format!("500 5.3.3 Unrecognized command '{verb}'")
}

/// After DATA. `250 2.0.0 OK <id>` is what Exchange Online answers; "Queued mail for delivery"
/// is lab wording.
pub(super) fn queued(id: &str) -> String {
    format!("250 2.0.0 OK <{id}> Queued mail for delivery")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ehlo_advertises_auth_only_after_tls_and_never_on_the_mx() {
        let before = ehlo(Role::Submission, "203.0.113.10", false);
        assert!(before.contains("250-STARTTLS") && !before.contains("AUTH"));
        let after = ehlo(Role::Submission, "203.0.113.10", true);
        assert!(after.contains("250-AUTH LOGIN XOAUTH2") && !after.contains("STARTTLS"));
        assert!(after.ends_with("250 SMTPUTF8"));
        assert!(!ehlo(Role::Mx, "203.0.113.10", true).contains("AUTH"));
        assert_eq!(
            tagged(Role::Submission, AUTH_FAILED),
            "535 5.7.3 Authentication unsuccessful [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]"
        );
    }
}
