//! The Microsoft Graph host: `/v1.0/users/...`, `/v1.0/me/...`.

pub(crate) mod auth;
pub(crate) mod error;
pub(crate) mod send_mail;
pub(crate) mod user_json;
pub(crate) mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{get, post};

use crate::state::LabState;

/// Routes of the Graph host (`https://graph.microsoft.com` in the real service). Graph path
/// segments are case-insensitive, so both spellings of the action names are routed.
pub(crate) fn router(state: Arc<LabState>) -> Router {
    Router::new()
        .route("/v1.0/users/{id}", get(users::get_user))
        .route("/v1.0/me", get(users::get_me))
        .route(
            "/v1.0/users/{id}/mailboxSettings",
            get(users::get_mailbox_settings),
        )
        .route(
            "/v1.0/users/{id}/mailboxsettings",
            get(users::get_mailbox_settings),
        )
        .route(
            "/v1.0/me/mailboxSettings",
            get(users::get_my_mailbox_settings),
        )
        .route("/v1.0/users/{id}/sendMail", post(send_mail::send_mail))
        .route("/v1.0/users/{id}/sendmail", post(send_mail::send_mail))
        .route("/v1.0/me/sendMail", post(send_mail::send_my_mail))
        .fallback(unknown_segment)
        .with_state(state)
}

/// Graph's answer for a path it does not serve.
async fn unknown_segment(request: Request) -> Response {
    let segment = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .nth(1)
        .unwrap_or("")
        .to_string();
    error::bad_request(
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
    .respond(request.headers())
}
