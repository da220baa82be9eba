//! Bearer-token validation on every Graph call: signature with the lab's key (the Graph way
//! when the header has a nonce), audience = Graph, lifetime, issuer and tenant. Anything else
//! is 401 InvalidAuthenticationToken (reference §6).

use axum::http::{HeaderMap, header};
use chrono::Utc;

use super::error::{self, GraphError};
use crate::jwt;
use crate::resource::Resource;
use crate::scenario::User;
use crate::state::LabState;

/// Who is calling, from a validated token.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    /// App-only token: the application permissions in `roles`.
    App {
        client_id: String,
        roles: Vec<String>,
    },
    /// Delegated token: the signed-in user and the `scp` permissions.
    User { upn: String, scopes: Vec<String> },
}

impl Caller {
    pub fn has_role(&self, any: &[&str]) -> bool {
        matches!(self, Caller::App { roles, .. } if roles.iter().any(|r| any.iter().any(|a| a.eq_ignore_ascii_case(r))))
    }

    pub fn has_scope(&self, any: &[&str]) -> bool {
        matches!(self, Caller::User { scopes, .. } if scopes.iter().any(|s| any.iter().any(|a| a.eq_ignore_ascii_case(s))))
    }

    /// For delegated callers: whether `user` is the signed-in user.
    pub fn is_self(&self, user: &User) -> bool {
        matches!(self, Caller::User { upn, .. } if user.has_address(upn))
    }

    /// The Application Access Policy check: an app-only caller of an app whose
    /// `graph_mailbox_scope` is set may reach only those mailboxes.
    pub fn outside_access_policy(&self, state: &LabState, user: &User) -> bool {
        let Caller::App { client_id, .. } = self else {
            return false;
        };
        let Some((_, app)) = state.app(client_id) else {
            return false;
        };
        !app.graph_mailbox_scope.is_empty()
            && !app.graph_mailbox_scope.iter().any(|a| user.has_address(a))
    }
}

/// Validates the `Authorization: Bearer` token of a Graph request.
pub(crate) fn authenticate(state: &LabState, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or("");
    if token.is_empty() {
        return Err(error::token_rejected("Access token is empty."));
    }
    let decoded = jwt::decode(token).map_err(error::token_rejected)?;
    let kid_ok =
        decoded.header.get("kid").and_then(|v| v.as_str()) == Some(state.signing.kid.as_str());
    let key = state.signing.key.public();
    let signed = if decoded.header.contains_key("nonce") {
        decoded.verify_with_nonce(&key)
    } else {
        decoded.verify(&key)
    };
    if !kid_ok || !signed {
        return Err(error::token_rejected(
            "Access token validation failure. Invalid signature.",
        ));
    }
    if !decoded
        .claim_str("aud")
        .is_some_and(|aud| Resource::Graph.accepts_audience(aud))
    {
        return Err(error::token_rejected(
            "Access token validation failure. Invalid audience.",
        ));
    }
    let now = Utc::now().timestamp();
    let (Some(nbf), Some(exp)) = (decoded.claim_i64("nbf"), decoded.claim_i64("exp")) else {
        return Err(error::token_rejected("Access token validation failure."));
    };
    if now < nbf - 300 || now >= exp {
        return Err(error::token_rejected(
            "Access token has expired or is not yet valid.",
        ));
    }
    let tid = state.tenant_id();
    let issuer = format!("https://sts.windows.net/{tid}/");
    if decoded.claim_str("tid") != Some(tid) || decoded.claim_str("iss") != Some(issuer.as_str()) {
        return Err(error::token_rejected(
            "Access token validation failure. Invalid issuer.",
        ));
    }
    if decoded.claim_str("idtyp") == Some("user") || decoded.claims.contains_key("scp") {
        let upn = decoded.claim_str("upn").unwrap_or("").to_string();
        let scopes = decoded
            .claim_str("scp")
            .unwrap_or("")
            .split(' ')
            .map(str::to_string)
            .collect();
        return Ok(Caller::User { upn, scopes });
    }
    let roles = decoded
        .claims
        .get("roles")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let client_id = decoded.claim_str("appid").unwrap_or("").to_string();
    Ok(Caller::App { client_id, roles })
}
