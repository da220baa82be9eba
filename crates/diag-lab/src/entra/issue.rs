//! Minting access tokens: v1.0 RS256 JWTs with the claims a real token carries (reference §3),
//! and the token-endpoint success body (§2).

use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use serde_json::{Value, json};

use super::client_auth::ClientAuth;
use crate::jwt::{self, Object};
use crate::resource::Resource;
use crate::scenario::{App, User};
use crate::state::LabState;

/// Access-token lifetime: one hour (`expires_in` 3599, as Entra prints it).
const LIFETIME_SECS: i64 = 3600;

/// Who the token is for.
pub(crate) struct Audience {
    pub resource: Resource,
    /// The `aud` value, in the form the scope named the resource.
    pub aud: String,
}

/// An app-only (client credentials) token body. `roles` holds the consented application
/// permissions of the resource, and is absent when there are none: Entra still issues the
/// token (reference §3, `roles`).
pub(crate) fn app_only(
    state: &LabState,
    app: &App,
    audience: &Audience,
    auth: ClientAuth,
) -> Value {
    let mut claims = base_claims(state, app, audience, auth);
    let oid = LabState::service_principal_id(app);
    let roles: Vec<&str> = if app.admin_consent {
        App::permissions_for(&app.application_permissions, audience.resource.prefix()).collect()
    } else {
        Vec::new()
    };
    if !roles.is_empty() {
        claims.insert("roles".into(), json!(roles));
    }
    claims.insert("idtyp".into(), json!("app"));
    claims.insert("oid".into(), json!(oid));
    claims.insert("sub".into(), json!(oid));
    json!({
        "token_type": "Bearer",
        "expires_in": LIFETIME_SECS - 1,
        "ext_expires_in": LIFETIME_SECS - 1,
        "access_token": sign(state, audience.resource, &claims),
    })
}

/// What a delegated grant hands back beside the access token.
pub(crate) struct Delegated<'a> {
    pub user: &'a User,
    /// Consented delegated permissions of the resource (the `scp` claim).
    pub scopes: Vec<String>,
    pub mfa: bool,
    pub offline_access: bool,
    pub openid: bool,
}

/// A delegated token body (device code, password, refresh).
pub(crate) fn delegated(
    state: &LabState,
    app: &App,
    audience: &Audience,
    auth: ClientAuth,
    grant: &Delegated<'_>,
) -> (Value, Option<String>) {
    let user = grant.user;
    let mut claims = base_claims(state, app, audience, auth);
    let oid = LabState::user_id(user);
    let name = user
        .display_name
        .clone()
        .unwrap_or_else(|| user.upn().to_string());
    let amr: &[&str] = if grant.mfa { &["pwd", "mfa"] } else { &["pwd"] };
    claims.insert("idtyp".into(), json!("user"));
    claims.insert("oid".into(), json!(oid));
    claims.insert(
        "sub".into(),
        json!(crate::ids::derived(&format!("sub:{oid}:{}", app.client_id))),
    );
    claims.insert("scp".into(), json!(grant.scopes.join(" ")));
    claims.insert("upn".into(), json!(user.upn()));
    claims.insert("unique_name".into(), json!(user.upn()));
    claims.insert("preferred_username".into(), json!(user.upn()));
    claims.insert("name".into(), json!(name));
    claims.insert("amr".into(), json!(amr));
    claims.insert(
        "ipaddr".into(),
        json!(state.scenario.network.site_public_ip.to_string()),
    );
    let granted: Vec<String> = grant
        .scopes
        .iter()
        .map(|s| match audience.resource {
            Resource::Graph => s.clone(),
            Resource::Exchange => format!("{}/{s}", audience.aud),
        })
        .chain(grant.openid.then(|| "openid".to_string()))
        .collect();
    let mut body = json!({
        "token_type": "Bearer",
        "scope": granted.join(" "),
        "expires_in": LIFETIME_SECS - 1,
        "ext_expires_in": LIFETIME_SECS - 1,
        "access_token": sign(state, audience.resource, &claims),
    });
    let refresh = grant.offline_access.then(opaque_token);
    if let (Some(rt), Some(map)) = (&refresh, body.as_object_mut()) {
        map.insert("refresh_token".into(), json!(rt));
    }
    if grant.openid
        && let Some(map) = body.as_object_mut()
    {
        map.insert("id_token".into(), json!(id_token(state, app, user)));
    }
    (body, refresh)
}

fn base_claims(state: &LabState, app: &App, audience: &Audience, auth: ClientAuth) -> Object {
    let now = Utc::now().timestamp();
    let tid = state.tenant_id();
    let issuer = format!("https://sts.windows.net/{tid}/");
    let claims = json!({
        "aud": audience.aud,
        "iss": issuer,
        "iat": now,
        "nbf": now,
        "exp": now + LIFETIME_SECS,
        "aio": random_b64(42),
        "app_displayname": app.display_name,
        "appid": app.client_id,
        "appidacr": auth.acr(),
        "idp": issuer,
        "rh": format!("0.{}.", random_b64(48)),
        "tid": tid,
        "uti": random_b64(16),
        "ver": "1.0",
    });
    match claims {
        Value::Object(map) => map,
        _ => Object::new(),
    }
}

/// Graph tokens carry a header `nonce` and are signed the Graph way (jwt::encode_with_nonce).
fn sign(state: &LabState, resource: Resource, claims: &Object) -> String {
    let mut header = Object::new();
    header.insert("typ".into(), json!("JWT"));
    header.insert("alg".into(), json!("RS256"));
    header.insert("x5t".into(), json!(state.signing.kid));
    header.insert("kid".into(), json!(state.signing.kid));
    match resource {
        Resource::Graph => {
            header.insert("nonce".into(), json!(random_b64(32)));
            jwt::encode_with_nonce(&header, claims, &state.signing.key)
        }
        Resource::Exchange => jwt::encode(&header, claims, &state.signing.key),
    }
}

/// A v2 id token for the signed-in user (only when `openid` was asked for).
fn id_token(state: &LabState, app: &App, user: &User) -> String {
    let now = Utc::now().timestamp();
    let tid = state.tenant_id();
    let claims = json!({
        "aud": app.client_id,
        "iss": format!("https://login.microsoftonline.com/{tid}/v2.0"),
        "iat": now, "nbf": now, "exp": now + LIFETIME_SECS,
        "oid": LabState::user_id(user),
        "preferred_username": user.upn(),
        "tid": tid,
        "ver": "2.0",
    });
    let mut header = Object::new();
    header.insert("typ".into(), json!("JWT"));
    header.insert("alg".into(), json!("RS256"));
    header.insert("kid".into(), json!(state.signing.kid));
    match claims {
        Value::Object(map) => jwt::encode(&header, &map, &state.signing.key),
        _ => String::new(),
    }
}

/// An opaque refresh token (Entra's are not JWTs).
pub(crate) fn opaque_token() -> String {
    format!("1.AQ{}", random_b64(180))
}

fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
