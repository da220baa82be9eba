//! Client authentication at the token endpoint: a secret, a certificate-signed client
//! assertion, or nothing (public clients). Codes: reference §1b.

use chrono::{DateTime, Utc};

use super::codes;
use super::error::AadError;
use super::request::Form;
use crate::crypto::thumbprint;
use crate::jwt;
use crate::scenario::App;
use crate::state::{CertCredential, LabState};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock tolerance on assertion `nbf`/`exp` (Entra's exact allowance is UNCONFIRMED, §10).
const SKEW_SECS: i64 = 300;

/// How the client proved itself; becomes `appidacr` in the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Public,
    Secret,
    Certificate,
}

impl ClientAuth {
    /// `appidacr`: 0 public client, 1 secret, 2 certificate (reference §3).
    pub fn acr(self) -> &'static str {
        match self {
            ClientAuth::Public => "0",
            ClientAuth::Secret => "1",
            ClientAuth::Certificate => "2",
        }
    }
}

/// Authenticates a confidential-client request (client credentials), or any flow of an app
/// that is not a public client.
pub(crate) fn confidential(
    state: &LabState,
    app_index: usize,
    app: &App,
    form: &Form,
    tenant_segment: &str,
) -> Result<ClientAuth, AadError> {
    if let Some(assertion) = form.get("client_assertion") {
        let kind = form.require("client_assertion_type")?;
        if kind != ASSERTION_TYPE {
            return Err(codes::assertion_malformed(
                "Unsupported client_assertion_type.",
            ));
        }
        let certs = &state.app_certificates[app_index];
        verify_assertion(state, app, certs, assertion, tenant_segment)?;
        return Ok(ClientAuth::Certificate);
    }
    let Some(secret) = form.get("client_secret") else {
        return Err(codes::credential_missing());
    };
    match app.secrets.iter().find(|s| s.value == secret) {
        Some(s) if s.expires.is_some_and(|e| e <= Utc::now()) => {
            Err(codes::secret_expired(&app.client_id))
        }
        Some(_) => Ok(ClientAuth::Secret),
        // A Secret ID pasted in place of the value lands here too, as at Entra.
        None => Err(codes::secret_invalid(&app.client_id)),
    }
}

/// Authentication for public-client flows (device code, password): a public client must send
/// no credential (700025); a confidential app must send one.
pub(crate) fn for_public_flow(
    state: &LabState,
    app_index: usize,
    app: &App,
    form: &Form,
    tenant_segment: &str,
) -> Result<ClientAuth, AadError> {
    let sent = form.get("client_secret").is_some() || form.get("client_assertion").is_some();
    match (app.public_client, sent) {
        (true, true) => Err(codes::public_client_sent_credential()),
        (true, false) => Ok(ClientAuth::Public),
        (false, _) => confidential(state, app_index, app, form, tenant_segment),
    }
}

fn verify_assertion(
    state: &LabState,
    app: &App,
    certs: &[CertCredential],
    assertion: &str,
    tenant_segment: &str,
) -> Result<(), AadError> {
    let decoded = jwt::decode(assertion).map_err(codes::assertion_malformed)?;
    let alg = decoded
        .header
        .get("alg")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if alg != "RS256" {
        return Err(codes::assertion_malformed(
            "The assertion must be signed with RS256.",
        ));
    }
    for claim in ["iss", "sub"] {
        if !decoded
            .claim_str(claim)
            .is_some_and(|v| v.eq_ignore_ascii_case(&app.client_id))
        {
            return Err(codes::assertion_wrong_client());
        }
    }
    if !decoded
        .claim_str("aud")
        .is_some_and(|aud| audience_ok(state, aud, tenant_segment))
    {
        return Err(codes::assertion_malformed(
            "Invalid JWT token. AUD claim is not valid.",
        ));
    }
    let x5t = decoded
        .header
        .get("x5t")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let shown = thumbprint::x5t_to_hex(x5t);
    let Some(cert) = certs
        .iter()
        .find(|c| !x5t.is_empty() && c.x5t == x5t.trim_end_matches('='))
    else {
        return Err(codes::assertion_signature(
            "The key was not found.",
            &shown,
            &app.client_id,
        ));
    };
    let signed = cert.public.as_ref().is_some_and(|key| decoded.verify(key));
    if !signed {
        return Err(codes::assertion_signature(
            "The provided signature value did not match the expected signature value.",
            &shown,
            &app.client_id,
        ));
    }
    if cert.expires <= Utc::now() {
        return Err(codes::assertion_signature(
            "The key used is expired.",
            &shown,
            &app.client_id,
        ));
    }
    let (Some(nbf), Some(exp)) = (decoded.claim_i64("nbf"), decoded.claim_i64("exp")) else {
        return Err(codes::assertion_malformed(
            "The assertion must carry nbf and exp.",
        ));
    };
    let now = Utc::now().timestamp();
    if now + SKEW_SECS < nbf || now - SKEW_SECS > exp {
        return Err(codes::assertion_time(&show(now), &show(nbf), &show(exp)));
    }
    Ok(())
}

/// The assertion audience must be this tenant's token endpoint (v2 or v1 path), on the lab's
/// host or the real login host, or the tenant's v2 issuer.
fn audience_ok(state: &LabState, aud: &str, tenant_segment: &str) -> bool {
    let hosts = [
        state.login_base.as_str(),
        "https://login.microsoftonline.com",
    ];
    let Some(rest) = hosts.iter().find_map(|h| aud.strip_prefix(h)) else {
        return false;
    };
    let Some((tenant, path)) = rest.trim_start_matches('/').split_once('/') else {
        return false;
    };
    let tenant_ok =
        tenant.eq_ignore_ascii_case(tenant_segment) || state.scenario.tenant.is_named(tenant);
    tenant_ok && ["oauth2/v2.0/token", "oauth2/token", "v2.0"].contains(&path.trim_end_matches('/'))
}

fn show(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.format("%m/%d/%Y %H:%M:%S").to_string())
        .unwrap_or_else(|| unix.to_string())
}
