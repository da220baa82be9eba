//! POST `/v1.0/users/{id}/sendMail` (and `/me/sendMail`): reference §6 "sendMail basics".
//! 202 with an empty body on success; the message lands in the lab's outbox.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::Value;

use super::auth;
use super::error::{self, GraphError};
use super::users::{cloud_mailbox, me_key};
use crate::ids::is_address;
use crate::outbox::SentMessage;
use crate::state::LabState;

pub(crate) async fn send_mail(
    State(state): State<Arc<LabState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(send(&state, &headers, Some(&key), &body), &headers)
}

pub(crate) async fn send_my_mail(
    State(state): State<Arc<LabState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(send(&state, &headers, None, &body), &headers)
}

fn respond(result: Result<(), GraphError>, headers: &HeaderMap) -> Response {
    match result {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => e.respond(headers),
    }
}

/// The parts of a message the lab looks at.
struct Draft {
    subject: String,
    from: Option<String>,
    recipients: Vec<String>,
}

fn send(
    state: &LabState,
    headers: &HeaderMap,
    key: Option<&str>,
    body: &[u8],
) -> Result<(), GraphError> {
    let caller = auth::authenticate(state, headers)?;
    let key = me_key(&caller, key)?;
    // App-only needs the Mail.Send application permission; delegated needs the Mail.Send scope.
    if !caller.has_role(&["Mail.Send"]) && !caller.has_scope(&["Mail.Send"]) {
        return Err(error::access_denied());
    }
    let user = cloud_mailbox(state, &caller, &key)?;
    let is_mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let draft = if is_mime {
        mime_draft(body)?
    } else {
        json_draft(body)?
    };
    if draft.recipients.is_empty() {
        return Err(error::no_recipients());
    }
    if let Some(bad) = draft.recipients.iter().find(|r| !is_address(r)) {
        return Err(error::unresolved_recipient(bad));
    }
    let from = draft.from.unwrap_or_else(|| user.address.clone());
    let may_send_as =
        user.has_address(&from) || user.send_as.iter().any(|a| a.eq_ignore_ascii_case(&from));
    if !may_send_as {
        return Err(error::send_as_denied());
    }
    state.outbox.push(SentMessage {
        channel: "graph",
        mailbox: user.address.clone(),
        from,
        recipients: draft.recipients,
        subject: draft.subject,
    });
    Ok(())
}

fn json_draft(body: &[u8]) -> Result<Draft, GraphError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        error::bad_request(
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    })?;
    let Some(message) = value.get("message").filter(|m| m.is_object()) else {
        return Err(error::bad_request(
            "BadRequest",
            "Empty Payload. JSON content expected.",
        ));
    };
    let addresses = |field: &str| -> Vec<String> {
        message
            .get(field)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|r| {
                        r.pointer("/emailAddress/address")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let recipients = ["toRecipients", "ccRecipients", "bccRecipients"]
        .iter()
        .flat_map(|f| addresses(f))
        .collect();
    Ok(Draft {
        subject: message
            .get("subject")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        from: message
            .pointer("/from/emailAddress/address")
            .and_then(Value::as_str)
            .map(str::to_string),
        recipients,
    })
}

/// The MIME form: base64 of an RFC 5322 message in a `text/plain` body.
fn mime_draft(body: &[u8]) -> Result<Draft, GraphError> {
    let invalid = || {
        error::bad_request(
            "ErrorMimeContentInvalidBase64String",
            "Invalid base64 string for MIME content.",
        )
    };
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| invalid())?;
    let text = String::from_utf8_lossy(&raw);
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .split("\n\n")
        .next()
        .unwrap_or("");
    let mut draft = Draft {
        subject: String::new(),
        from: None,
        recipients: Vec::new(),
    };
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "subject" => draft.subject = value.trim().to_string(),
            "from" => draft.from = Some(bare_address(value)),
            "to" | "cc" | "bcc" => draft.recipients.extend(value.split(',').map(bare_address)),
            _ => {}
        }
    }
    Ok(draft)
}

/// `Name <a@b>` -> `a@b`.
fn bare_address(value: &str) -> String {
    let value = value.trim();
    match (value.rfind('<'), value.rfind('>')) {
        (Some(start), Some(end)) if start < end => value[start + 1..end].trim().to_string(),
        _ => value.to_string(),
    }
}
