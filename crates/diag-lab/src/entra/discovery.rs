//! OpenID Connect discovery and signing keys (reference §3 "Signing keys / discovery"):
//! `/{tenant}/v2.0/.well-known/openid-configuration`, the v1 document, and the JWKS at
//! `/{tenant}/discovery/v2.0/keys` (and v1 `/discovery/keys`). URLs point at the lab.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::AadError;
use super::request::{TenantRef, resolve_tenant};
use crate::crypto::rsa_key::jwk_components;
use crate::state::LabState;

pub(crate) async fn v2(
    State(state): State<Arc<LabState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    document(&state, &tenant, &headers, true)
}

pub(crate) async fn v1(
    State(state): State<Arc<LabState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    document(&state, &tenant, &headers, false)
}

pub(crate) async fn keys(
    State(state): State<Arc<LabState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = resolve_tenant(&state, &tenant) {
        return discovery_error(e, &headers);
    }
    let (n, e) = jwk_components(&state.signing.key.public());
    let kid = &state.signing.kid;
    let body = json!({
        "keys": [{
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "x5t": kid,
            "n": n,
            "e": e,
            "x5c": [state.signing.x5c],
            "issuer": format!("{}/{{tenantid}}/v2.0", state.login_base),
        }]
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn document(state: &LabState, tenant: &str, headers: &HeaderMap, v2: bool) -> Response {
    let tenant_ref = match resolve_tenant(state, tenant) {
        Ok(t) => t,
        Err(e) => return discovery_error(e, headers),
    };
    // Multi-tenant documents carry the `{tenantid}` template, as Entra's do.
    let tid = match tenant_ref {
        TenantRef::Ours => state.tenant_id().to_string(),
        TenantRef::MultiTenant => "{tenantid}".to_string(),
    };
    let base = &state.login_base;
    let body: Value = if v2 {
        json!({
            "issuer": format!("{base}/{tid}/v2.0"),
            "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
            "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
            "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
            "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
            "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "request_uri_parameter_supported": false,
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        })
    } else {
        json!({
            "issuer": format!("https://sts.windows.net/{tid}/"),
            "authorization_endpoint": format!("{base}/{tenant}/oauth2/authorize"),
            "token_endpoint": format!("{base}/{tenant}/oauth2/token"),
            "jwks_uri": format!("{base}/{tenant}/discovery/keys"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        })
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Discovery answers an unknown tenant with the same body shape, `error` = `invalid_tenant`.
fn discovery_error(mut e: AadError, headers: &HeaderMap) -> Response {
    e.error = "invalid_tenant";
    e.respond(headers)
}
