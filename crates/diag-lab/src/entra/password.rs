//! The resource owner password grant (`grant_type=password`): the password-based flow that
//! MFA and security defaults stop (reference §1d: 50034, 50126, 50057, 53003, 50076).

use serde_json::Value;

use super::error::AadError;
use super::issue::{self, Delegated};
use super::request::Form;
use super::scope::{self, Flow};
use super::{client_auth, codes, grants};
use crate::state::LabState;

pub(crate) fn grant(state: &LabState, tenant: &str, form: &Form) -> Result<Value, AadError> {
    let (index, app) = grants::find_app(state, form)?;
    grants::check_enabled(app)?;
    let username = form.require("username")?;
    let password = form.require("password")?;
    let scope = scope::parse(form.require("scope")?, Flow::Delegated)?;
    let auth = client_auth::for_public_flow(state, index, app, form, tenant)?;
    let user = grants::sign_in_user(state, username)?;
    if user.password.as_deref() != Some(password) {
        return Err(codes::bad_password());
    }
    if !user.enabled {
        return Err(codes::user_disabled());
    }
    // Security defaults require MFA for everyone; a password flow cannot satisfy it.
    if user.mfa_required || state.scenario.tenant.security_defaults {
        let resource = grants::audience(state, &scope.target)?.resource;
        return Err(codes::mfa_required(resource.app_id()));
    }
    let (audience, scopes) = grants::authorize_user(state, app, user, &scope, false)?;
    let grant = Delegated {
        user,
        scopes,
        mfa: false,
        offline_access: scope.offline_access,
        openid: scope.openid,
    };
    Ok(issue::delegated(state, app, &audience, auth, &grant).0)
}
