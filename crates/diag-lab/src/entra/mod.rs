//! The Entra ID login host: token endpoint, device code, discovery and keys.

pub(crate) mod client_auth;
pub(crate) mod codes;
pub(crate) mod device_code;
pub(crate) mod discovery;
pub(crate) mod error;
pub(crate) mod grants;
pub(crate) mod issue;
pub(crate) mod password;
pub(crate) mod refresh;
pub(crate) mod request;
pub(crate) mod scope;
pub(crate) mod token;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::LabState;

/// Routes of the login host (`https://login.microsoftonline.com` in the real service).
pub(crate) fn router(state: Arc<LabState>) -> Router {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(token::token).get(token::token_get),
        )
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code::start))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery::v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/discovery/keys", get(discovery::keys))
        .with_state(state)
}
