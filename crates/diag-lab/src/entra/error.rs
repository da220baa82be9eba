//! The JSON error body the Entra token endpoint sends (reference/microsoft-facts.md §2):
//! `{error, error_description, error_codes, timestamp, trace_id, correlation_id, error_uri}`,
//! with Trace ID, Correlation ID and Timestamp appended to the description by `\r\n`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::ids;

/// One AADSTS error, before it is rendered for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AadError {
    pub status: StatusCode,
    /// OAuth class string (`invalid_client`, `invalid_scope`...).
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    /// The text after `AADSTSnnnn: `.
    pub text: String,
}

impl AadError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        text: impl Into<String>,
    ) -> Self {
        AadError {
            status,
            error,
            code,
            text: text.into(),
        }
    }

    /// The response as Entra sends it. A GUID `client-request-id` header becomes the
    /// correlation id, as Entra does.
    pub fn respond(self, request_headers: &HeaderMap) -> Response {
        let trace_id = ids::random();
        let correlation_id = client_request_id(request_headers).unwrap_or_else(ids::random);
        let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.text
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache"),
        );
        if let Ok(v) = HeaderValue::from_str(&trace_id) {
            headers.insert("x-ms-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&correlation_id) {
            headers.insert("client-request-id", v);
        }
        response
    }
}

fn client_request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("client-request-id")?.to_str().ok()?;
    ids::is_guid(value).then(|| value.to_ascii_lowercase())
}
