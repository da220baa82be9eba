//! Reading a token-endpoint request: the form body, HTTP Basic client authentication, and the
//! `{tenant}` path segment.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use base64::Engine;

use super::codes;
use super::error::AadError;
use crate::ids;
use crate::state::LabState;

/// The form fields of a request (first value of each name wins).
pub(crate) struct Form(HashMap<String, String>);

impl Form {
    /// Parses `application/x-www-form-urlencoded`; HTTP Basic credentials fill in `client_id`
    /// and `client_secret` when the body lacks them (reference §2: both are accepted).
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Form {
        let mut fields = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            fields
                .entry(k.into_owned())
                .or_insert_with(|| v.into_owned());
        }
        if let Some((id, secret)) = basic_credentials(headers) {
            fields.entry("client_id".into()).or_insert(id);
            fields.entry("client_secret".into()).or_insert(secret);
        }
        Form(fields)
    }

    /// A field, absent when missing or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A field Entra requires (AADSTS900144 when missing).
    pub fn require(&self, name: &str) -> Result<&str, AadError> {
        self.get(name).ok_or_else(|| codes::missing_parameter(name))
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// What the `{tenant}` segment of the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TenantRef {
    /// The lab's tenant, by GUID or verified domain.
    Ours,
    /// `common`, `organizations` or `consumers`.
    MultiTenant,
}

/// Resolves the tenant segment: ours, a multi-tenant alias, or AADSTS90002 / 900023.
pub(crate) fn resolve_tenant(state: &LabState, raw: &str) -> Result<TenantRef, AadError> {
    if ["common", "organizations", "consumers"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(raw))
    {
        return Ok(TenantRef::MultiTenant);
    }
    if state.scenario.tenant.is_named(raw) {
        return Ok(TenantRef::Ours);
    }
    if ids::is_guid(raw) || ids::is_domain(raw) {
        Err(codes::tenant_not_found(raw))
    } else {
        Err(codes::tenant_invalid(raw))
    }
}
