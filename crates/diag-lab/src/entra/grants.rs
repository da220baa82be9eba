//! Checks shared by every grant: the app, the resource, and what a signed-in user may get.

use super::codes;
use super::error::AadError;
use super::issue::Audience;
use super::request::Form;
use super::scope::{ScopeRequest, Target};
use crate::resource::Resource;
use crate::scenario::{App, User};
use crate::state::LabState;

/// The app named by `client_id` (AADSTS900144 when missing, 700016 when unknown).
pub(crate) fn find_app<'a>(state: &'a LabState, form: &Form) -> Result<(usize, &'a App), AadError> {
    let client_id = form.require("client_id")?;
    state
        .app(client_id)
        .ok_or_else(|| codes::app_not_found(client_id, &state.scenario.tenant.name))
}

/// AADSTS7000112 when the enterprise application is disabled.
pub(crate) fn check_enabled(app: &App) -> Result<(), AadError> {
    if app.enabled {
        Ok(())
    } else {
        Err(codes::app_disabled(&app.client_id, &app.display_name))
    }
}

/// The resource a scope names, if the tenant has it (AADSTS500011 otherwise; Exchange is
/// absent when the tenant has no Exchange Online).
pub(crate) fn audience(state: &LabState, target: &Target) -> Result<Audience, AadError> {
    let tenant_name = &state.scenario.tenant.name;
    match target {
        Target::Known(Resource::Exchange, aud) if !state.scenario.tenant.exchange_online => {
            Err(codes::resource_not_found(aud, tenant_name))
        }
        Target::Known(resource, aud) => Ok(Audience {
            resource: *resource,
            aud: aud.clone(),
        }),
        Target::Unknown(identifier) => Err(codes::resource_not_found(identifier, tenant_name)),
    }
}

/// What a user signing in to `app` for `scope` gets: account state, Conditional Access, and
/// consent (AADSTS50057, 53003, 65001). Returns the audience and the `scp` values: every
/// consented delegated permission of that resource.
pub(crate) fn authorize_user(
    state: &LabState,
    app: &App,
    user: &User,
    scope: &ScopeRequest,
    device_code: bool,
) -> Result<(Audience, Vec<String>), AadError> {
    if !user.enabled {
        return Err(codes::user_disabled());
    }
    if state.blocked_by_conditional_access(&app.client_id, Some(user), device_code) {
        return Err(codes::conditional_access_blocked());
    }
    let audience = audience(state, &scope.target)?;
    let consented: Vec<String> = if app.admin_consent {
        App::permissions_for(&app.delegated_permissions, audience.resource.prefix())
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    let all_granted = scope
        .permissions
        .iter()
        .all(|p| consented.iter().any(|c| c.eq_ignore_ascii_case(p)));
    if consented.is_empty() || !all_granted {
        return Err(codes::consent_missing(&app.client_id, &app.display_name));
    }
    Ok((audience, consented))
}

/// The user signing in, by UPN or address (AADSTS50034 when absent).
pub(crate) fn sign_in_user<'a>(state: &'a LabState, name: &str) -> Result<&'a User, AadError> {
    state
        .mailbox_user(name)
        .ok_or_else(|| codes::user_not_found(state.tenant_id()))
}
