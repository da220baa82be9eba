//! The device authorization grant (reference §1e): POST `/{tenant}/oauth2/v2.0/devicecode`,
//! then polling the token endpoint. The lab plays the person at the browser: the first poll
//! is `authorization_pending`, the next one sees `[device] device_code_outcome` (sign in as
//! `sign_in_as`, decline, or let the code expire).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rand::Rng;
use serde_json::{Value, json};

use super::error::AadError;
use super::issue::{self, Delegated};
use super::request::{Form, resolve_tenant};
use super::scope::{self, Flow, ScopeRequest};
use super::{client_auth, codes, grants, token};
use crate::scenario::DeviceCodeOutcome;
use crate::state::LabState;

/// Seconds the user has to sign in (Entra's default: 15 minutes).
const EXPIRES_IN: u64 = 900;
/// Poll interval the lab asks for; 1 s keeps tests quick (Entra usually says 5).
const INTERVAL: u64 = 1;
const VERIFICATION_URI: &str = "https://microsoft.com/devicelogin";

/// Pending device-code flows and the refresh tokens issued by delegated grants.
#[derive(Default)]
pub(crate) struct DeviceFlows {
    flows: Mutex<HashMap<String, PendingFlow>>,
    refresh: Mutex<HashMap<String, RefreshGrant>>,
}

struct PendingFlow {
    client_id: String,
    scope: ScopeRequest,
    expires: Instant,
    polls: u32,
    finished: bool,
}

/// What a refresh token stands for.
#[derive(Clone)]
pub(crate) struct RefreshGrant {
    pub client_id: String,
    pub user: String,
    pub scope: ScopeRequest,
    pub via_device_code: bool,
}

impl DeviceFlows {
    pub fn store_refresh(&self, token: String, grant: RefreshGrant) {
        lock(&self.refresh).insert(token, grant);
    }

    /// Takes (rotates) a refresh token issued to `client_id`.
    pub fn take_refresh(&self, token: &str, client_id: &str) -> Option<RefreshGrant> {
        let mut map = lock(&self.refresh);
        let grant = map.get(token)?;
        if !grant.client_id.eq_ignore_ascii_case(client_id) {
            return None;
        }
        map.remove(token)
    }

    /// One poll: Ok(scope) when the simulated person has signed in.
    fn poll(
        &self,
        device_code: &str,
        client_id: &str,
        outcome: DeviceCodeOutcome,
    ) -> Result<ScopeRequest, AadError> {
        let mut flows = lock(&self.flows);
        let Some(flow) = flows
            .get_mut(device_code)
            .filter(|f| f.client_id.eq_ignore_ascii_case(client_id))
        else {
            return Err(codes::bad_verification_code());
        };
        if flow.finished {
            return Err(codes::device_flow_finished());
        }
        if Instant::now() >= flow.expires {
            return Err(codes::code_expired());
        }
        flow.polls += 1;
        if flow.polls == 1 {
            return Err(codes::authorization_pending());
        }
        match outcome {
            DeviceCodeOutcome::Expire => Err(codes::code_expired()),
            DeviceCodeOutcome::Decline => {
                flow.finished = true;
                Err(codes::authorization_declined())
            }
            DeviceCodeOutcome::Approve => {
                flow.finished = true;
                Ok(flow.scope.clone())
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// POST `/{tenant}/oauth2/v2.0/devicecode`.
pub(crate) async fn start(
    State(state): State<Arc<LabState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&headers, &body);
    match begin(&state, &tenant, &form) {
        Ok(body) => token::success(body),
        Err(e) => e.respond(&headers),
    }
}

fn begin(state: &LabState, tenant: &str, form: &Form) -> Result<Value, AadError> {
    // `common` and `organizations` are fine here: the user's sign-in picks the tenant.
    resolve_tenant(state, tenant)?;
    let (_, app) = grants::find_app(state, form)?;
    grants::check_enabled(app)?;
    let scope = scope::parse(form.require("scope")?, Flow::Delegated)?;
    grants::audience(state, &scope.target)?;
    let device_code = format!(
        "DAQABIQEAAAD{}",
        random_code(
            96,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
    );
    let user_code = random_code(9, b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789");
    lock(&state.device_flows.flows).insert(
        device_code.clone(),
        PendingFlow {
            client_id: app.client_id.clone(),
            scope,
            expires: Instant::now() + Duration::from_secs(EXPIRES_IN),
            polls: 0,
            finished: false,
        },
    );
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": VERIFICATION_URI,
        "expires_in": EXPIRES_IN,
        "interval": INTERVAL,
        "message": format!("To sign in, use a web browser to open the page {VERIFICATION_URI} and enter the code {user_code} to authenticate."),
    }))
}

/// Token request with `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
pub(crate) fn redeem(state: &LabState, tenant: &str, form: &Form) -> Result<Value, AadError> {
    let (index, app) = grants::find_app(state, form)?;
    let device_code = form.require("device_code")?;
    let auth = client_auth::for_public_flow(state, index, app, form, tenant)?;
    let device = &state.scenario.device;
    let scope = state
        .device_flows
        .poll(device_code, &app.client_id, device.device_code_outcome)?;
    let who = if device.sign_in_as.is_empty() {
        &device.mailbox
    } else {
        &device.sign_in_as
    };
    let user = grants::sign_in_user(state, who)?;
    let (audience, scopes) = grants::authorize_user(state, app, user, &scope, true)?;
    // The person completes MFA in the browser, so MFA requirements do not fail this flow.
    let mfa = user.mfa_required || state.scenario.tenant.security_defaults;
    let grant = Delegated {
        user,
        scopes,
        mfa,
        offline_access: scope.offline_access,
        openid: scope.openid,
    };
    let (body, refresh) = issue::delegated(state, app, &audience, auth, &grant);
    if let Some(token) = refresh {
        state.device_flows.store_refresh(
            token,
            RefreshGrant {
                client_id: app.client_id.clone(),
                user: user.upn().to_string(),
                scope,
                via_device_code: true,
            },
        );
    }
    Ok(body)
}

fn random_code(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}
