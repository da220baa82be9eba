//! SASL XOAUTH2 as Exchange Online checks it (reference §4, §3, §5 `535 5.7.3` causes):
//! the blob, then the bearer token (signed by the lab's Entra key, Exchange audience, in its
//! lifetime, this tenant), then the SMTP AUTH switches of the `user=` mailbox, then the
//! identity: app-only tokens need `SMTP.SendAsApp` in `roles`, the app's service principal
//! registered in Exchange and FullAccess on the `user=` mailbox; delegated tokens need
//! `SMTP.Send` in `scp` and `user=` must be the signed-in user. A shared mailbox as `user=` is
//! refused (see the README: the project's contract; the app-only case is UNCONFIRMED in §8).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;

use super::replies;
use super::switches;
use crate::jwt;
use crate::resource::Resource;
use crate::scenario::UserKind;
use crate::state::LabState;

/// Clock skew tolerated on `nbf` (Entra's own allowance is UNCONFIRMED, §10 item 14).
const SKEW_SECS: i64 = 300;

/// The decoded `user=<mailbox>^Aauth=Bearer <token>^A^A`.
pub(super) struct Sasl {
    pub user: String,
    pub token: String,
}

/// Decodes the base64 blob. None: malformed (`501 5.5.124`).
pub(super) fn decode(blob: &str) -> Option<Sasl> {
    let raw = STANDARD.decode(blob.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (mut user, mut token) = (None, None);
    for part in text.split('\x01').filter(|p| !p.is_empty()) {
        if let Some(u) = part.strip_prefix("user=") {
            user = Some(u.trim().to_string());
        } else if let Some(a) = part.strip_prefix("auth=") {
            let (scheme, t) = a.split_once(' ')?;
            if !scheme.eq_ignore_ascii_case("Bearer") {
                return None;
            }
            token = Some(t.trim().to_string());
        } else {
            return None;
        }
    }
    let (user, token) = (user?, token?);
    (!user.is_empty() && !token.is_empty()).then_some(Sasl { user, token })
}

/// The mailbox the session is authenticated as, or the reply text of the refusal.
pub(super) fn authorize(state: &LabState, sasl: &Sasl) -> Result<String, &'static str> {
    let failed = replies::AUTH_FAILED;
    let token = jwt::decode(&sasl.token).map_err(|_| failed)?;
    // A Graph token (or any other resource's) is not for Exchange.
    if !token
        .claim_str("aud")
        .is_some_and(|aud| Resource::Exchange.accepts_audience(aud))
    {
        return Err(failed);
    }
    let kid_ok =
        token.header.get("kid").and_then(|v| v.as_str()) == Some(state.signing.kid.as_str());
    if !kid_ok || !token.verify(&state.signing.key.public()) {
        return Err(failed);
    }
    let now = Utc::now().timestamp();
    let (Some(nbf), Some(exp)) = (token.claim_i64("nbf"), token.claim_i64("exp")) else {
        return Err(failed);
    };
    if now < nbf - SKEW_SECS || now >= exp {
        return Err(failed);
    }
    let tid = state.tenant_id();
    if token.claim_str("tid") != Some(tid)
        || token.claim_str("iss") != Some(format!("https://sts.windows.net/{tid}/").as_str())
    {
        return Err(failed);
    }
    let mailbox = state.mailbox_user(&sasl.user).ok_or(failed)?;
    switches::check(state, mailbox)?;
    let delegated = token.claim_str("idtyp") == Some("user") || token.claims.contains_key("scp");
    if delegated {
        let scopes = token.claim_str("scp").unwrap_or("");
        let upn = token
            .claim_str("upn")
            .or_else(|| token.claim_str("preferred_username"))
            .unwrap_or("");
        if !scopes
            .split(' ')
            .any(|s| s.eq_ignore_ascii_case("SMTP.Send"))
            || upn.is_empty()
            || !mailbox.has_address(upn)
        {
            return Err(failed);
        }
    } else {
        let has_role = token
            .claims
            .get("roles")
            .and_then(|r| r.as_array())
            .is_some_and(|roles| {
                roles.iter().any(|r| {
                    r.as_str()
                        .is_some_and(|r| r.eq_ignore_ascii_case("SMTP.SendAsApp"))
                })
            });
        let app = token
            .claim_str("appid")
            .and_then(|id| state.app(id))
            .map(|(_, app)| app);
        let registered = app.is_some_and(|a| a.exchange_service_principal);
        let full_access =
            app.is_some_and(|a| a.mailbox_access.iter().any(|m| mailbox.has_address(m)));
        if !has_role || !registered || !full_access {
            return Err(failed);
        }
    }
    if mailbox.kind == UserKind::Shared || !state.has_cloud_mailbox(mailbox) {
        return Err(failed);
    }
    Ok(mailbox.address.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(text: &str) -> String {
        STANDARD.encode(text)
    }

    #[test]
    fn sasl_blobs() {
        let ok = decode(&blob(
            "user=scanner@contoso.com\x01auth=Bearer abc.def.ghi\x01\x01",
        ));
        assert!(ok.is_some_and(|s| s.user == "scanner@contoso.com" && s.token == "abc.def.ghi"));
        assert!(decode("not base64!").is_none());
        assert!(
            decode(&blob("user=scanner@contoso.com\x01\x01")).is_none(),
            "no auth="
        );
        assert!(
            decode(&blob("auth=Bearer abc\x01\x01")).is_none(),
            "no user="
        );
        assert!(decode(&blob("user=a@contoso.com\x01auth=Basic abc\x01\x01")).is_none());
        assert!(decode(&blob("scanner@contoso.com abc")).is_none());
    }
}
