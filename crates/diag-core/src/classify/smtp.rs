//! SMTP replies (reply code, enhanced status code, text) -> rule ids, from the replies Exchange
//! Online documents or is seen to send (reference §5, field facts §1.2). The enhanced status code
//! decides where it is specific; the text decides where Microsoft uses one code for several
//! causes (the `5.7.139` family, `5.2.2`, `5.2.0 STOREDRV...`), and the path (submission host or
//! MX) where the same reply means different things (`504 5.7.4`).
//!
//! A bare `535 5.7.3` says only "authentication unsuccessful": `narrow_auth_unsuccessful` uses
//! what the earlier checks learned (the token's claims, the mailbox kind) to name the cause.
use crate::{
    jwt::{Claims, Intended, Problem, Resource, judge},
    net::smtp::EnhancedCode,
    rules::{RuleId, ids},
};

/// Where a reply came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpPath {
    /// Client submission (`smtp.office365.com:587`).
    Submission,
    /// The tenant's MX on 25 (direct send, connector relay).
    Mx,
}

/// The enhanced status code of a reply: at the start of its text, else the first one in it.
pub fn enhanced_code(text: &str) -> Option<EnhancedCode> {
    EnhancedCode::at_start(text).or_else(|| EnhancedCode::find_all(text).into_iter().next())
}

/// The rule a reply names, if any. `text` is the reply's text after the code (all lines).
pub fn classify(code: u16, text: &str, path: SmtpPath) -> Option<RuleId> {
    let e = enhanced_code(text);
    let t = text.to_ascii_lowercase();
    let has = |p: &str| t.contains(p);
    let is = |c: u8, s: u16, d: u16| e == Some(EnhancedCode::new(c, s, d));
    let detail_in = |c: u8, s: u16, range: std::ops::RangeInclusive<u16>| {
        e.is_some_and(|e| e.class == c && e.subject == s && range.contains(&e.detail))
    };

    // Authentication (client submission).
    if is(5, 7, 139) || (code == 535 && has("authentication unsuccessful,")) {
        return Some(if has("disabled for the tenant") {
            ids::SMTP_AUTH_DISABLED_FOR_TENANT
        } else if has("disabled for the mailbox") {
            ids::SMTP_AUTH_DISABLED_FOR_MAILBOX
        } else if has("security defaults") {
            ids::SMTP_SECURITY_DEFAULTS
        } else if has("basic authentication is disabled") {
            ids::SMTP_BASIC_AUTH_DISABLED
        } else if has("did not meet the criteria") {
            ids::SMTP_AUTH_POLICY_BLOCKED
        } else if has("credentials were incorrect") {
            ids::SMTP_CREDENTIALS_INCORRECT
        } else {
            // Other wordings (federated STS unreachable, ...) name no cause we have a rule for.
            ids::SMTP_AUTH_UNSUCCESSFUL
        });
    }
    if is(5, 7, 30) || has("basic authentication is not supported") {
        return Some(ids::SMTP_BASIC_AUTH_DISABLED);
    }
    if is(5, 5, 124) || has("invalid xoauth2") {
        return Some(ids::SMTP_XOAUTH2_MALFORMED);
    }
    if (code == 504 && (is(5, 7, 4) || e.is_none())) || has("unrecognized authentication type") {
        return Some(match path {
            SmtpPath::Mx => ids::RELAY_AUTH_ON_MX,
            SmtpPath::Submission => ids::SMTP_AUTH_MECHANISM_UNSUPPORTED,
        });
    }
    if has("must issue a starttls")
        || (has("starttls") && (matches!(code, 451 | 530) || is(5, 7, 3) || is(5, 7, 0)))
    {
        return Some(ids::SMTP_STARTTLS_REQUIRED);
    }
    if is(4, 7, 66) || has("tls 1.0 and 1.1 are not supported") || has("aka.ms/smtp_auth_tls") {
        return Some(ids::TLS_VERSION_TOO_OLD);
    }
    if is(5, 7, 57) || has("not authenticated to send") {
        return Some(ids::SMTP_NOT_AUTHENTICATED);
    }
    if code == 535 || (is(5, 7, 3) && has("authentication unsuccessful")) {
        return Some(ids::SMTP_AUTH_UNSUCCESSFUL);
    }

    // Sending (after AUTH): Send As, concurrency, quotas, restricted senders, tenant blocks.
    if is(5, 7, 60)
        || is(5, 2, 252)
        || has("sendasdenied")
        || has("permissions to send as this sender")
    {
        return Some(ids::SMTP_SEND_AS_DENIED);
    }
    if is(4, 3, 2) && (code == 432 || has("thread limit") || has("concurren")) {
        return Some(ids::SMTP_CONCURRENCY_LIMIT);
    }
    // Before the mailbox-full test: `SubmissionQuotaExceededException` contains `QuotaExceededException`.
    if has("submissionquotaexceeded")
        || is(5, 1, 90)
        || (is(5, 2, 2) && has("submission quota"))
        || has("daily limit for message recipients")
    {
        return Some(ids::SMTP_SUBMISSION_QUOTA);
    }
    if has("quotaexceededexception") || (is(5, 2, 2) && has("mailbox full")) {
        return Some(ids::SMTP_MAILBOX_FULL);
    }
    if is(5, 1, 8) || has("bad outbound sender") {
        return Some(ids::SMTP_RESTRICTED_SENDER);
    }
    if [705, 708, 750, 232, 233].iter().any(|&d| is(5, 7, d)) {
        return Some(ids::SMTP_TENANT_BLOCKED);
    }
    if [501, 502, 503, 511].iter().any(|&d| is(5, 7, d)) || has("banned sender") {
        // "Access denied, banned sender": the account (submission) or the site (MX) is banned.
        return Some(match path {
            SmtpPath::Submission => ids::SMTP_RESTRICTED_SENDER,
            SmtpPath::Mx => ids::RELAY_IP_BLOCKLISTED,
        });
    }

    // Direct send and connector relay on the MX.
    if is(5, 7, 68) || has("tenantinboundattribution") || has("direct send not allowed") {
        return Some(ids::RELAY_DIRECT_SEND_REJECTED);
    }
    if is(5, 7, 64) || has("tenantattribution") || is(4, 4, 62) {
        return Some(ids::RELAY_TENANT_ATTRIBUTION);
    }
    if is(5, 7, 54) || has("unable to relay") {
        return Some(ids::RELAY_EXTERNAL_RECIPIENT);
    }
    // Directory Based Edge Blocking: an accepted domain, but no such recipient (reference §5).
    if is(5, 4, 1) && has("recipient address rejected") {
        return Some(ids::RELAY_RECIPIENT_NOT_FOUND);
    }
    if detail_in(5, 7, 606..=649)
        || has("banned sending ip")
        || has("blocked using")
        || has("spamhaus")
    {
        return Some(ids::RELAY_IP_BLOCKLISTED);
    }
    if detail_in(4, 7, 500..=699) || detail_in(4, 7, 850..=899) {
        return Some(ids::RELAY_IP_THROTTLED);
    }
    if is(5, 7, 509) || has("does not pass dmarc") {
        return Some(ids::RELAY_DMARC_REJECT);
    }
    if is(5, 7, 23)
        || has("sender policy framework")
        || has("has a policy that prohibited")
        || has("spf permerror")
    {
        return Some(ids::RELAY_SPF_FAIL);
    }
    None
}

/// A `535` that says nothing but "authentication unsuccessful" (`5.7.3`, or no enhanced code):
/// the one reply `narrow_auth_unsuccessful` is for.
pub fn is_bare_auth_failure(code: u16, text: &str) -> bool {
    code == 535
        && matches!(
            enhanced_code(text),
            None | Some(EnhancedCode {
                class: 5,
                subject: 7,
                detail: 3
            })
        )
        && classify(code, text, SmtpPath::Submission) == Some(ids::SMTP_AUTH_UNSUCCESSFUL)
}

/// What the earlier checks learned, for narrowing a bare `535 5.7.3`.
#[derive(Clone, Copy, Debug)]
pub struct AuthFacts<'a> {
    /// The decoded token (from `claims`), if that check ran.
    pub claims: Option<&'a Claims>,
    /// The XOAUTH2 `user=` (the sending mailbox).
    pub user: &'a str,
    /// `Some(true)` when `mailbox` found a shared mailbox, `None` when it did not tell.
    pub shared_mailbox: Option<bool>,
    /// The tenant GUID the token should carry, when known.
    pub tenant: Option<&'a str>,
    pub now: i64,
    /// Clock skew tolerated on `exp` / `nbf`.
    pub skew: i64,
}

/// The rule a bare `535 5.7.3` comes down to, and the fact that decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Narrowed {
    pub rule: RuleId,
    pub because: String,
}

/// Audience first, then the permission, the identity, tenant and lifetime, the kind of mailbox;
/// a token that is right in every way points at Exchange's side: for an app-only token, the
/// service principal (`New-ServicePrincipal`) or the mailbox permission is missing.
pub fn narrow_auth_unsuccessful(f: &AuthFacts<'_>) -> Narrowed {
    let n = |rule: RuleId, because: String| Narrowed { rule, because };
    let Some(claims) = f.claims else {
        return n(ids::SMTP_AUTH_UNSUCCESSFUL, "the token's claims are not known (the claims check did not run), so the cause cannot be narrowed".into());
    };
    let problems = judge(
        claims,
        Intended::Smtp,
        f.now,
        f.skew,
        f.tenant,
        Some(f.user),
    );
    let find = |want: fn(&Problem) -> bool| problems.iter().find(|p| want(p));
    if find(|p| matches!(p, Problem::AudienceGraphForSmtp | Problem::AudienceOther(_))).is_some() {
        return n(
            ids::JWT_AUDIENCE_GRAPH_FOR_SMTP,
            format!(
                "the token is for {}, not Exchange Online",
                Resource::of(claims).describe()
            ),
        );
    }
    if find(|p| matches!(p, Problem::DelegatedPermissionOnly)).is_some() {
        return n(
            ids::JWT_DELEGATED_PERMISSION_ONLY,
            "SMTP.SendAsApp is granted as a delegated permission, but the token is app-only".into(),
        );
    }
    if find(|p| matches!(p, Problem::SmtpSendAsAppMissing)).is_some() {
        let what = if claims.is_app_only() {
            "app-only token without SMTP.SendAsApp in roles"
        } else {
            "delegated token without SMTP.Send in scp"
        };
        return n(ids::JWT_ROLE_SMTP_SENDASAPP_MISSING, what.into());
    }
    if let Some(Problem::IdentityMismatch { token_user }) =
        find(|p| matches!(p, Problem::IdentityMismatch { .. }))
    {
        return n(
            ids::JWT_IDENTITY_MISMATCH,
            format!(
                "the token belongs to {token_user}, but XOAUTH2 user= is {}",
                f.user
            ),
        );
    }
    if let Some(Problem::TenantMismatch { token_tid }) =
        find(|p| matches!(p, Problem::TenantMismatch { .. }))
    {
        return n(
            ids::JWT_TENANT_MISMATCH,
            format!("the token is from tenant {token_tid}"),
        );
    }
    if find(|p| matches!(p, Problem::Expired { .. } | Problem::NotYetValid { .. })).is_some() {
        return n(
            ids::JWT_EXPIRED,
            "the token is outside its validity period".into(),
        );
    }
    if f.shared_mailbox == Some(true) {
        return n(
            ids::SMTP_SHARED_MAILBOX_IDENTITY,
            format!(
                "{} is a shared mailbox, used as the XOAUTH2 identity",
                f.user
            ),
        );
    }
    if claims.is_app_only() {
        return n(
            ids::SMTP_SERVICE_PRINCIPAL_MISSING,
            "the app-only token is right (Exchange Online audience, SMTP.SendAsApp), so Exchange does not know the app or it has no permission on the mailbox".into(),
        );
    }
    n(
        ids::SMTP_AUTH_UNSUCCESSFUL,
        "the delegated token looks right for this mailbox; Exchange gave no reason".into(),
    )
}

/// Every rule this module can name (for the test that each has a rule file).
pub fn rules() -> Vec<RuleId> {
    vec![
        ids::SMTP_AUTH_DISABLED_FOR_TENANT,
        ids::SMTP_AUTH_DISABLED_FOR_MAILBOX,
        ids::SMTP_SECURITY_DEFAULTS,
        ids::SMTP_BASIC_AUTH_DISABLED,
        ids::SMTP_AUTH_POLICY_BLOCKED,
        ids::SMTP_CREDENTIALS_INCORRECT,
        ids::SMTP_AUTH_UNSUCCESSFUL,
        ids::SMTP_XOAUTH2_MALFORMED,
        ids::SMTP_AUTH_MECHANISM_UNSUPPORTED,
        ids::RELAY_AUTH_ON_MX,
        ids::SMTP_STARTTLS_REQUIRED,
        ids::TLS_VERSION_TOO_OLD,
        ids::SMTP_NOT_AUTHENTICATED,
        ids::SMTP_SEND_AS_DENIED,
        ids::SMTP_CONCURRENCY_LIMIT,
        ids::SMTP_SUBMISSION_QUOTA,
        ids::SMTP_MAILBOX_FULL,
        ids::SMTP_RESTRICTED_SENDER,
        ids::SMTP_TENANT_BLOCKED,
        ids::RELAY_DIRECT_SEND_REJECTED,
        ids::RELAY_TENANT_ATTRIBUTION,
        ids::RELAY_EXTERNAL_RECIPIENT,
        ids::RELAY_IP_BLOCKLISTED,
        ids::RELAY_IP_THROTTLED,
        ids::RELAY_DMARC_REJECT,
        ids::RELAY_SPF_FAIL,
        // narrowing
        ids::JWT_AUDIENCE_GRAPH_FOR_SMTP,
        ids::JWT_DELEGATED_PERMISSION_ONLY,
        ids::JWT_ROLE_SMTP_SENDASAPP_MISSING,
        ids::JWT_IDENTITY_MISMATCH,
        ids::JWT_TENANT_MISMATCH,
        ids::JWT_EXPIRED,
        ids::SMTP_SHARED_MAILBOX_IDENTITY,
        ids::SMTP_SERVICE_PRINCIPAL_MISSING,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use SmtpPath::{Mx, Submission};

    /// A full reply line as the server sends it: code, then text.
    fn rule(line: &str, path: SmtpPath) -> Option<&'static str> {
        let (code, text) = line.split_at(3);
        classify(
            code.parse().expect("code"),
            text.trim_start_matches([' ', '-']),
            path,
        )
        .map(|r| r.as_str())
    }

    /// Every reply of reference §5 and field facts §1.2, verbatim, with the rule it names.
    #[test]
    fn every_documented_reply_names_its_rule() {
        let table: &[(&str, SmtpPath, Option<&str>)] = &[
            // Authentication (client submission)
            (
                "535 5.7.3 Authentication unsuccessful [XX0PR00CA0000.eurprd00.prod.outlook.com]",
                Submission,
                Some("smtp-auth-unsuccessful"),
            ),
            (
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
                Submission,
                Some("smtp-auth-disabled-for-tenant"),
            ),
            (
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
                Submission,
                Some("smtp-auth-disabled-for-mailbox"),
            ),
            (
                "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
                Submission,
                Some("smtp-security-defaults"),
            ),
            (
                "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
                Submission,
                Some("smtp-auth-policy-blocked"),
            ),
            (
                "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
                Submission,
                Some("smtp-basic-auth-disabled"),
            ),
            (
                "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
                Submission,
                Some("smtp-credentials-incorrect"),
            ),
            (
                "535 5.7.139 Authentication unsuccessful, federated STS service was unreachable.",
                Submission,
                Some("smtp-auth-unsuccessful"),
            ),
            (
                "535 5.7.139 Authentication unsuccessful, the federated STS URL does not support HTTPS.",
                Submission,
                Some("smtp-auth-unsuccessful"),
            ),
            (
                "550 5.7.30 Basic authentication is not supported for Client Submission.",
                Submission,
                Some("smtp-basic-auth-disabled"),
            ),
            (
                "530 5.7.57 Client not authenticated to send mail",
                Submission,
                Some("smtp-not-authenticated"),
            ),
            (
                "550 5.7.57 Client was not authenticated to send anonymous mail during MAIL FROM",
                Submission,
                Some("smtp-not-authenticated"),
            ),
            (
                "451 5.7.3 Must issue a STARTTLS command first",
                Submission,
                Some("smtp-starttls-required"),
            ),
            (
                "451 5.7.3 STARTTLS is required to send mail [XX0PR01CA0000.ausprd01.prod.outlook.com]",
                Submission,
                Some("smtp-starttls-required"),
            ),
            (
                "530 5.7.0 Must issue a STARTTLS command first",
                Submission,
                Some("smtp-starttls-required"),
            ),
            (
                "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls.",
                Submission,
                Some("tls-version-too-old"),
            ),
            (
                "504 5.7.4 Unrecognized authentication type",
                Submission,
                Some("smtp-auth-mechanism-unsupported"),
            ),
            (
                "504 5.7.4 Unrecognized authentication type [BN8NAM11FT000.eop-nam11.prod.protection.outlook.com]",
                Mx,
                Some("relay-auth-on-mx"),
            ),
            (
                "501 5.5.124 Invalid XOAUTH2 auth data",
                Submission,
                Some("smtp-xoauth2-malformed"),
            ),
            // Sender / Send As
            (
                "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
                Submission,
                Some("smtp-send-as-denied"),
            ),
            (
                "554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message.",
                Submission,
                Some("smtp-send-as-denied"),
            ),
            (
                "554 5.2.252 SendAsDenied; scanner@contoso.com not allowed to send as alerts@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
                Submission,
                Some("smtp-send-as-denied"),
            ),
            (
                "550 5.1.8 Access denied, bad outbound sender",
                Submission,
                Some("smtp-restricted-sender"),
            ),
            (
                "550 5.7.511 Access denied, banned sender",
                Submission,
                Some("smtp-restricted-sender"),
            ),
            (
                "550 5.7.511 Access denied, banned sender",
                Mx,
                Some("relay-ip-blocklisted"),
            ),
            // Quotas / throttling
            (
                "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded",
                Submission,
                Some("smtp-concurrency-limit"),
            ),
            (
                "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException",
                Submission,
                Some("smtp-submission-quota"),
            ),
            (
                "550 5.1.90 Your message can't be sent because you've reached your daily limit for message recipients",
                Submission,
                Some("smtp-submission-quota"),
            ),
            (
                "554 5.2.2 Submission quota exceeded",
                Submission,
                Some("smtp-submission-quota"),
            ),
            (
                "554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
                Submission,
                Some("smtp-mailbox-full"),
            ),
            (
                "554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionQuotaExceeded",
                Submission,
                Some("smtp-mailbox-full"),
            ),
            (
                "550 5.7.232 Your message can't be sent because your trial tenant has exceeded its daily limit for sending email to external recipients",
                Submission,
                Some("smtp-tenant-blocked"),
            ),
            (
                "550 5.7.233 Your message can't be sent because your tenant exceeded its daily limit for sending email to external recipients",
                Submission,
                Some("smtp-tenant-blocked"),
            ),
            (
                "451 4.7.500 Access denied, please try again later (AS761)",
                Mx,
                Some("relay-ip-throttled"),
            ),
            (
                "451 4.7.650 Access denied, please try again later",
                Mx,
                Some("relay-ip-throttled"),
            ),
            (
                "451 4.7.850 Access denied, please try again later",
                Mx,
                Some("relay-ip-throttled"),
            ),
            // Relay / direct send / connectors
            (
                "550 5.7.64 TenantAttribution; Relay Access Denied [XX0AUS01FT000.eop-AUS01.prod.protection.outlook.com]",
                Mx,
                Some("relay-tenant-attribution"),
            ),
            (
                "451 4.4.62 Mail sent to the wrong Office 365 region",
                Mx,
                Some("relay-tenant-attribution"),
            ),
            (
                "550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources",
                Mx,
                Some("relay-direct-send-rejected"),
            ),
            (
                "550 5.7.1 Unable to relay",
                Mx,
                Some("relay-external-recipient"),
            ),
            (
                "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
                Mx,
                Some("relay-external-recipient"),
            ),
            (
                "550 5.7.606 Access denied, banned sending IP [203.0.113.10]",
                Mx,
                Some("relay-ip-blocklisted"),
            ),
            (
                "550 5.7.649 Access denied, banned sending IP [203.0.113.10]",
                Mx,
                Some("relay-ip-blocklisted"),
            ),
            (
                "554 5.7.1 Service unavailable; Client host [203.0.113.10] blocked using zen.spamhaus.org",
                Mx,
                Some("relay-ip-blocklisted"),
            ),
            (
                "550 5.7.705 Access denied, tenant has exceeded threshold",
                Mx,
                Some("smtp-tenant-blocked"),
            ),
            (
                "550 5.7.708 Access denied, traffic not accepted from this IP",
                Mx,
                Some("smtp-tenant-blocked"),
            ),
            (
                "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains",
                Mx,
                Some("smtp-tenant-blocked"),
            ),
            (
                "550 5.7.509: Access denied, sending domain contoso.com does not pass DMARC verification and has a DMARC policy of reject",
                Mx,
                Some("relay-dmarc-reject"),
            ),
            (
                "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
                Mx,
                Some("relay-spf-fail"),
            ),
            (
                "550 5.7.1 The user or domain that you are sending to (or from) has a policy that prohibited the mail that you sent",
                Mx,
                Some("relay-spf-fail"),
            ),
            // No rule: these say nothing a rule covers.
            ("550 5.4.1 Relay Access Denied", Mx, None),
            (
                "550 5.4.1 Recipient address rejected: Access denied",
                Mx,
                Some("relay-recipient-not-found"),
            ),
            ("550 5.7.1 Delivery not authorized", Mx, None),
            ("452 4.5.3 Too many recipients", Mx, None),
            ("250 2.1.5 Recipient OK", Mx, None),
            ("235 2.7.0 Authentication successful", Submission, None),
        ];
        for (line, path, want) in table {
            assert_eq!(rule(line, *path), *want, "{line} ({path:?})");
        }
    }

    #[test]
    fn only_a_bare_535_is_narrowed() {
        assert!(is_bare_auth_failure(
            535,
            "5.7.3 Authentication unsuccessful [XX0P264CA0000.FRAP264.PROD.OUTLOOK.COM]"
        ));
        assert!(is_bare_auth_failure(535, "Authentication unsuccessful"));
        assert!(!is_bare_auth_failure(
            535,
            "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
        ));
        assert!(!is_bare_auth_failure(
            535,
            "5.7.139 Authentication unsuccessful, federated STS service was unreachable."
        ));
        assert!(!is_bare_auth_failure(
            451,
            "5.7.3 Must issue a STARTTLS command first"
        ));
    }

    const T: i64 = 1_000_000;

    fn app(aud: &str, roles: &[&str]) -> Claims {
        Claims {
            aud: vec![aud.into()],
            roles: roles.iter().map(|r| r.to_string()).collect(),
            idtyp: Some("app".into()),
            tid: Some("tid-1".into()),
            nbf: Some(T - 60),
            exp: Some(T + 3600),
            ..Claims::default()
        }
    }

    fn narrowed(claims: Option<&Claims>, user: &str, shared: Option<bool>) -> &'static str {
        narrow_auth_unsuccessful(&AuthFacts {
            claims,
            user,
            shared_mailbox: shared,
            tenant: Some("tid-1"),
            now: T,
            skew: 300,
        })
        .rule
        .as_str()
    }

    #[test]
    fn a_bare_535_is_narrowed_by_what_the_token_says() {
        let graph = app("https://graph.microsoft.com", &["Mail.Send"]);
        assert_eq!(
            narrowed(Some(&graph), "scanner@contoso.com", None),
            "jwt-audience-graph-for-smtp"
        );
        // case-03: Exchange audience, no SMTP.SendAsApp.
        let no_role = app("https://outlook.office365.com", &[]);
        assert_eq!(
            narrowed(Some(&no_role), "noreply@contoso.com", None),
            "jwt-role-smtp-sendasapp-missing"
        );
        // case-13 shape: the permission added as Delegated, used app-only.
        let mut delegated_only = app("https://outlook.office365.com", &[]);
        delegated_only.scp = vec!["SMTP.Send".into()];
        assert_eq!(
            narrowed(Some(&delegated_only), "noreply@contoso.com", None),
            "jwt-delegated-permission-only"
        );
        // case-04: delegated token of admin@, user= relay@.
        let admin = Claims {
            aud: vec!["https://outlook.office.com".into()],
            scp: vec!["SMTP.Send".into()],
            idtyp: Some("user".into()),
            upn: Some("admin@contoso.com".into()),
            tid: Some("tid-1".into()),
            exp: Some(T + 3600),
            ..Claims::default()
        };
        assert_eq!(
            narrowed(Some(&admin), "relay@contoso.com", None),
            "jwt-identity-mismatch"
        );
        assert_eq!(
            narrowed(Some(&admin), "admin@contoso.com", None),
            "smtp-auth-unsuccessful"
        );
        let mut other_tenant = app("https://outlook.office365.com", &["SMTP.SendAsApp"]);
        other_tenant.tid = Some("tid-2".into());
        assert_eq!(
            narrowed(Some(&other_tenant), "scanner@contoso.com", None),
            "jwt-tenant-mismatch"
        );
        let mut expired = app("https://outlook.office365.com", &["SMTP.SendAsApp"]);
        expired.exp = Some(T - 3600);
        assert_eq!(
            narrowed(Some(&expired), "scanner@contoso.com", None),
            "jwt-expired"
        );
    }

    #[test]
    fn a_right_app_only_token_points_at_exchange() {
        let good = app("00000002-0000-0ff1-ce00-000000000000", &["SMTP.SendAsApp"]);
        assert_eq!(
            narrowed(Some(&good), "scanner@contoso.com", Some(false)),
            "smtp-service-principal-missing"
        );
        assert_eq!(
            narrowed(Some(&good), "shared@contoso.com", Some(true)),
            "smtp-shared-mailbox-identity"
        );
        assert_eq!(
            narrowed(None, "scanner@contoso.com", None),
            "smtp-auth-unsuccessful"
        );
        let why = narrow_auth_unsuccessful(&AuthFacts {
            claims: Some(&good),
            user: "s@c.com",
            shared_mailbox: None,
            tenant: None,
            now: T,
            skew: 300,
        });
        assert!(why.because.contains("SMTP.SendAsApp"), "{why:?}");
    }
}
