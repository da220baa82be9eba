//! The device-code flow for `--device-code` (reference §1e): ask `/devicecode` for a code with the
//! delegated scope, show the code to the technician (an `Event::DeviceCode`), then poll the token
//! endpoint at `interval` until the sign-in finishes, is declined, or the code expires. Each poll
//! has the run's deadline; the whole wait is bounded by `expires_in`.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde::Deserialize;

use super::{
    DeviceCodePrompt, Event,
    context::Ctx,
    token::{self, TokenFailure, TokenOk},
};
use crate::{
    check::CheckId, classify::aadsts::Flow, finding::Finding, net::DEFAULT_BODY_CAP, rules::ids,
    target::Method,
};

const CHECK: CheckId = CheckId::Token;
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Entra gives 15 minutes; never wait longer than this whatever a server says.
const MAX_WAIT: Duration = Duration::from_secs(20 * 60);

#[derive(Deserialize)]
struct DeviceCodeReply {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    expires_in: serde_json::Value,
    #[serde(default)]
    interval: serde_json::Value,
    message: Option<String>,
}

fn seconds(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// The delegated scope the method needs: `SMTP.Send` (+ `offline_access`, as a device keeps a
/// refresh token) for smtp, `Mail.Send` for graph; a typed `--scope` wins.
pub(crate) fn delegated_scope(cx: &Ctx) -> String {
    if let Some(s) = cx.target.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        return s.to_string();
    }
    let e = &cx.target.endpoints;
    match cx.target.method {
        Method::Graph => format!("{}/Mail.Send", e.graph_resource.trim_end_matches('/')),
        _ => format!(
            "{}/SMTP.Send offline_access",
            e.exchange_resource.trim_end_matches('/')
        ),
    }
}

/// Runs the flow to a token, or to the finding that says why not.
pub(crate) async fn obtain(cx: &Arc<Ctx>) -> Result<(TokenOk, String), Finding> {
    let http = cx.http_or_finding(CHECK)?;
    let scope = delegated_scope(cx);
    let client_id = cx.target.client_id.trim();
    let code_url = cx.devicecode_url();
    let with_scope = |f: Finding| {
        f.with("scope", scope.clone())
            .with("credential", "device code")
    };

    let reply = http
        .post_form(
            &code_url,
            &[("client_id", client_id), ("scope", &scope)],
            DEFAULT_BODY_CAP,
        )
        .await
        .map_err(|e| with_scope(TokenFailure::Net(e).finding(cx, CHECK, &code_url)))?;
    if !reply.is_success() {
        let failure = match token::read_reply(&reply, Flow::DeviceCode) {
            Err(f) => f,
            Ok(_) => TokenFailure::Unexpected {
                shape: reply.shape(),
                why: "an error status with a token in it".into(),
            },
        };
        return Err(with_scope(failure.finding(cx, CHECK, &code_url)));
    }
    let Some(code) = reply.json::<DeviceCodeReply>() else {
        let failure = TokenFailure::Unexpected {
            shape: reply.shape(),
            why: "the device-code answer is not the expected JSON".into(),
        };
        return Err(with_scope(failure.finding(cx, CHECK, &code_url)));
    };
    let expires_in = seconds(&code.expires_in).unwrap_or(900);
    let mut interval = Duration::from_secs(seconds(&code.interval).unwrap_or(5));
    cx.emit(Event::DeviceCode(DeviceCodePrompt {
        user_code: code.user_code.clone(),
        verification_uri: code.verification_uri.clone(),
        expires_in,
        message: code.message.clone(),
    }));

    let token_url = cx.token_url();
    let give_up = Instant::now() + Duration::from_secs(expires_in).min(MAX_WAIT);
    let form = [
        ("grant_type", GRANT),
        ("client_id", client_id),
        ("device_code", code.device_code.as_str()),
    ];
    loop {
        let reply = http
            .post_form(&token_url, &form, DEFAULT_BODY_CAP)
            .await
            .map_err(|e| with_scope(TokenFailure::Net(e).finding(cx, CHECK, &token_url)))?;
        match token::read_reply(&reply, Flow::DeviceCode) {
            Ok(ok) => return Ok((ok, scope)),
            Err(TokenFailure::Refused { error, .. }) if error.error == "slow_down" => {
                interval += Duration::from_secs(5)
            }
            Err(TokenFailure::Refused {
                rule: Some(ids::ENTRA_DEVICE_CODE_PENDING),
                ..
            }) => {}
            Err(failure) => return Err(with_scope(failure.finding(cx, CHECK, &token_url))),
        }
        let now = Instant::now();
        if now + interval >= give_up {
            let f = cx.judged(
                CHECK,
                ids::ENTRA_DEVICE_CODE_EXPIRED,
                format!("nobody finished the sign-in within {} min", expires_in / 60),
            );
            return Err(with_scope(
                f.with("verification_uri", code.verification_uri.clone()),
            ));
        }
        tokio::time::sleep(interval).await;
    }
}
