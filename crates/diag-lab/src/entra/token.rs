//! POST `/{tenant}/oauth2/v2.0/token`: dispatch by grant type, and the client credentials
//! grant (reference §1, §2; the checks run in the order request -> client -> resource ->
//! policy, so a scenario with one fault gets that fault's code).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::AadError;
use super::request::{Form, TenantRef, resolve_tenant};
use super::scope::{self, Flow};
use super::{client_auth, codes, device_code, grants, password, refresh};
use crate::state::LabState;

pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub(crate) async fn token(
    State(state): State<Arc<LabState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&headers, &body);
    match grant(&state, &tenant, &form) {
        Ok(body) => success(body),
        Err(e) => e.respond(&headers),
    }
}

/// GET on the token endpoint (AADSTS900561).
pub(crate) async fn token_get(headers: HeaderMap) -> Response {
    codes::post_only().respond(&headers)
}

/// A 200 token response with Entra's cache headers.
pub(crate) fn success(body: Value) -> Response {
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    response
}

fn grant(state: &LabState, tenant: &str, form: &Form) -> Result<Value, AadError> {
    let tenant_ref = resolve_tenant(state, tenant)?;
    match form.require("grant_type")? {
        "client_credentials" => client_credentials(state, tenant_ref, tenant, form),
        DEVICE_CODE_GRANT | "device_code" => device_code::redeem(state, tenant, form),
        // Password flows may use `/organizations`; the sign-in picks the tenant.
        "password" => password::grant(state, tenant, form),
        "refresh_token" => refresh::grant(state, tenant, form),
        other => Err(codes::unsupported_grant_type(other)),
    }
}

fn client_credentials(
    state: &LabState,
    tenant_ref: TenantRef,
    tenant: &str,
    form: &Form,
) -> Result<Value, AadError> {
    if tenant_ref == TenantRef::MultiTenant {
        return Err(codes::tenant_required());
    }
    let (index, app) = grants::find_app(state, form)?;
    let scope = scope::parse(form.require("scope")?, Flow::AppOnly)?;
    let auth = client_auth::confidential(state, index, app, form, tenant)?;
    grants::check_enabled(app)?;
    let audience = grants::audience(state, &scope.target)?;
    if state.blocked_by_conditional_access(&app.client_id, None, false) {
        return Err(codes::conditional_access_blocked());
    }
    Ok(super::issue::app_only(state, app, &audience, auth))
}
