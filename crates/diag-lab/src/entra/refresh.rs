//! The refresh token grant: a device that signed in once by device code keeps getting tokens
//! for the same user (case-04's relay does this). Refresh tokens rotate on use.

use serde_json::Value;

use super::device_code::RefreshGrant;
use super::error::AadError;
use super::issue::{self, Delegated};
use super::request::Form;
use super::scope::{self, Flow};
use super::{client_auth, codes, grants};
use crate::state::LabState;

pub(crate) fn grant(state: &LabState, tenant: &str, form: &Form) -> Result<Value, AadError> {
    let (index, app) = grants::find_app(state, form)?;
    let token = form.require("refresh_token")?;
    let auth = client_auth::for_public_flow(state, index, app, form, tenant)?;
    let stored = state
        .device_flows
        .take_refresh(token, &app.client_id)
        .ok_or_else(codes::refresh_token_invalid)?;
    let scope = match form.get("scope") {
        Some(s) => scope::parse(s, Flow::Delegated)?,
        None => stored.scope.clone(),
    };
    let user = grants::sign_in_user(state, &stored.user)?;
    let (audience, scopes) =
        grants::authorize_user(state, app, user, &scope, stored.via_device_code)?;
    let grant = Delegated {
        user,
        scopes,
        mfa: user.mfa_required || state.scenario.tenant.security_defaults,
        offline_access: true,
        openid: scope.openid,
    };
    let (body, refresh) = issue::delegated(state, app, &audience, auth, &grant);
    if let Some(new_token) = refresh {
        state
            .device_flows
            .store_refresh(new_token, RefreshGrant { scope, ..stored });
    }
    Ok(body)
}
