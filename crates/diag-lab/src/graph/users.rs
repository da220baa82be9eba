//! GET `/v1.0/users/{id | userPrincipalName}`, `/v1.0/me` and `.../mailboxSettings`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{self, Caller};
use super::error::{self, GraphError};
use super::user_json;
use crate::scenario::User;
use crate::state::LabState;

const DIRECTORY_READ_ROLES: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const DIRECTORY_READ_SCOPES: &[&str] = &[
    "User.Read.All",
    "User.ReadBasic.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
];

type Params = Query<HashMap<String, String>>;

pub(crate) async fn get_user(
    State(state): State<Arc<LabState>>,
    Path(key): Path<String>,
    Query(query): Params,
    headers: HeaderMap,
) -> Response {
    respond(user(&state, &headers, Some(&key), &query), &headers)
}

pub(crate) async fn get_me(
    State(state): State<Arc<LabState>>,
    Query(query): Params,
    headers: HeaderMap,
) -> Response {
    respond(user(&state, &headers, None, &query), &headers)
}

pub(crate) async fn get_mailbox_settings(
    State(state): State<Arc<LabState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(mailbox_settings(&state, &headers, Some(&key)), &headers)
}

pub(crate) async fn get_my_mailbox_settings(
    State(state): State<Arc<LabState>>,
    headers: HeaderMap,
) -> Response {
    respond(mailbox_settings(&state, &headers, None), &headers)
}

fn respond(result: Result<Value, GraphError>, headers: &HeaderMap) -> Response {
    match result {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(e) => e.respond(headers),
    }
}

/// `/me` needs a delegated token; `key` None means `/me`.
pub(crate) fn me_key(caller: &Caller, key: Option<&str>) -> Result<String, GraphError> {
    match (key, caller) {
        (Some(k), _) => Ok(k.to_string()),
        (None, Caller::User { upn, .. }) => Ok(upn.clone()),
        (None, Caller::App { .. }) => Err(error::bad_request(
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        )),
    }
}

fn user(
    state: &LabState,
    headers: &HeaderMap,
    key: Option<&str>,
    query: &HashMap<String, String>,
) -> Result<Value, GraphError> {
    let caller = auth::authenticate(state, headers)?;
    let key = me_key(&caller, key)?;
    if matches!(caller, Caller::App { .. }) && !caller.has_role(DIRECTORY_READ_ROLES) {
        return Err(error::directory_denied());
    }
    let found = state.directory_user(&key);
    if matches!(caller, Caller::User { .. })
        && !caller.has_scope(DIRECTORY_READ_SCOPES)
        && !(caller.has_scope(&["User.Read"]) && found.is_some_and(|u| caller.is_self(u)))
    {
        return Err(error::directory_denied());
    }
    let user = found.ok_or_else(|| error::directory_not_found(&key))?;
    if state.scenario.tenant.exchange_online {
        return user_json::render(user, query.get("$select").map(String::as_str));
    }
    // A tenant without Exchange Online has no subscription that could assign a mailbox plan
    // (reference §8: the plans come with the licences), so Graph lists none.
    let mut user = user.clone();
    user.plans
        .retain(|p| !crate::plans::find(p).is_some_and(|plan| plan.gives_mailbox));
    user_json::render(&user, query.get("$select").map(String::as_str))
}

fn mailbox_settings(
    state: &LabState,
    headers: &HeaderMap,
    key: Option<&str>,
) -> Result<Value, GraphError> {
    let caller = auth::authenticate(state, headers)?;
    let key = me_key(&caller, key)?;
    let allowed = caller.has_role(&["MailboxSettings.Read", "MailboxSettings.ReadWrite"])
        || caller.has_scope(&["MailboxSettings.Read", "MailboxSettings.ReadWrite"]);
    if !allowed {
        return Err(error::access_denied());
    }
    let user = cloud_mailbox(state, &caller, &key)?;
    Ok(json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#users('{key}')/mailboxSettings"),
        "archiveFolder": crate::ids::derived(&format!("archive:{}", user.address)),
        "timeZone": "UTC",
        "dateFormat": "yyyy-MM-dd",
        "timeFormat": "HH:mm",
        "userPurpose": if user.kind == crate::scenario::UserKind::Shared { "shared" } else { "user" },
        "automaticRepliesSetting": { "status": "disabled", "externalAudience": "all" },
        "language": { "locale": "en-US", "displayName": "English (United States)" },
    }))
}

/// Exchange-side resolution shared by mailbox calls: the user (404 ErrorInvalidUser), a cloud
/// mailbox (404 MailboxNotEnabledForRESTAPI), delegated access to one's own mailbox only, and
/// the Application Access Policy (403 "Access to OData is disabled.").
pub(crate) fn cloud_mailbox<'a>(
    state: &'a LabState,
    caller: &Caller,
    key: &str,
) -> Result<&'a User, GraphError> {
    let user = state
        .mailbox_user(key)
        .ok_or_else(|| error::invalid_user(key))?;
    if !state.has_cloud_mailbox(user) {
        return Err(error::mailbox_not_enabled());
    }
    if matches!(caller, Caller::User { .. }) && !caller.is_self(user) {
        return Err(error::access_denied());
    }
    if caller.outside_access_policy(state, user) {
        return Err(error::access_policy_blocked());
    }
    Ok(user)
}
