//! Entra ID token-endpoint errors (`/oauth2/v2.0/token`, `/devicecode`) -> rule ids.
//! The AADSTS numbers in `error_codes` decide first; the OAuth `error` word is the fallback.
use serde::Deserialize;

use crate::{
    finding::Evidence,
    rules::{RuleId, ids},
};

/// The error body the token endpoint sends (reference §2).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TokenError {
    #[serde(default)]
    pub error: String,
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<u64>,
    pub timestamp: Option<String>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub error_uri: Option<String>,
}

impl TokenError {
    /// The body as a token-endpoint error, if it is one (an object with a non-empty `error`).
    pub fn parse(body: &[u8]) -> Option<TokenError> {
        let e: TokenError = serde_json::from_slice(body).ok()?;
        (!e.error.is_empty()).then_some(e)
    }

    /// `AADSTS7000215`, from the first code.
    pub fn first_code(&self) -> Option<String> {
        self.error_codes.first().map(|c| format!("AADSTS{c}"))
    }

    /// The first line of `error_description` (the rest repeats trace and correlation ids).
    pub fn description_head(&self) -> Option<String> {
        let d = self.error_description.as_deref()?;
        let head = d.split(['\r', '\n']).next().unwrap_or(d).trim();
        Some(head.chars().take(300).collect())
    }

    /// Evidence a support case needs: the codes, the OAuth word, the ids to quote.
    pub fn evidence(&self) -> Vec<Evidence> {
        let mut ev = Vec::new();
        if !self.error_codes.is_empty() {
            let codes: Vec<String> = self
                .error_codes
                .iter()
                .map(|c| format!("AADSTS{c}"))
                .collect();
            ev.push(Evidence::new("error_codes", codes.join(", ")));
        }
        ev.push(Evidence::new("error", &self.error));
        if let Some(d) = self.description_head() {
            ev.push(Evidence::new("error_description", d));
        }
        for (k, v) in [
            ("trace_id", &self.trace_id),
            ("correlation_id", &self.correlation_id),
            ("timestamp", &self.timestamp),
        ] {
            if let Some(v) = v {
                ev.push(Evidence::new(k, v));
            }
        }
        ev
    }
}

/// How the client authenticated: the same OAuth word means different faults per flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    ClientSecret,
    ClientAssertion,
    DeviceCode,
}

/// The rule for a token-endpoint error: the first AADSTS code xdiag knows, else the OAuth word.
pub fn classify(err: &TokenError, flow: Flow) -> Option<RuleId> {
    err.error_codes
        .iter()
        .find_map(|&c| rule_for_code(c))
        .or_else(|| rule_for_word(&err.error, flow))
}

/// AADSTS number -> rule (the `entra` table of the diagnosis contract, plus `config-tenant-invalid`).
pub fn rule_for_code(code: u64) -> Option<RuleId> {
    CODES
        .iter()
        .find(|(codes, _)| codes.contains(&code))
        .map(|(_, rule)| *rule)
}

/// The OAuth `error` word -> rule, for answers without a known AADSTS number.
pub fn rule_for_word(word: &str, flow: Flow) -> Option<RuleId> {
    let rule = match word {
        "authorization_pending" => ids::ENTRA_DEVICE_CODE_PENDING,
        "authorization_declined" | "bad_verification_code" => ids::ENTRA_DEVICE_CODE_DECLINED,
        "expired_token" => ids::ENTRA_DEVICE_CODE_EXPIRED,
        "invalid_client" => match flow {
            Flow::ClientSecret => ids::ENTRA_INVALID_CLIENT_SECRET,
            Flow::ClientAssertion => ids::ENTRA_CERTIFICATE_INVALID,
            // A confidential app asked for a device code: Entra wants a secret.
            Flow::DeviceCode => ids::ENTRA_CLIENT_CREDENTIAL_MISSING,
        },
        "unauthorized_client" => ids::ENTRA_APP_NOT_FOUND,
        "invalid_scope" => ids::ENTRA_INVALID_SCOPE,
        "invalid_resource" => ids::ENTRA_RESOURCE_NOT_FOUND,
        "consent_required" => ids::ENTRA_CONSENT_MISSING,
        _ => return None,
    };
    Some(rule)
}

/// Every rule this classifier can name.
pub fn rules() -> Vec<RuleId> {
    let mut all: Vec<RuleId> = CODES.iter().map(|(_, r)| *r).collect();
    for word in [
        "authorization_pending",
        "authorization_declined",
        "expired_token",
        "unauthorized_client",
        "invalid_scope",
        "invalid_resource",
        "consent_required",
    ] {
        all.extend(rule_for_word(word, Flow::ClientSecret));
    }
    for flow in [Flow::ClientSecret, Flow::ClientAssertion, Flow::DeviceCode] {
        all.extend(rule_for_word("invalid_client", flow));
    }
    all.sort();
    all.dedup();
    all
}

/// Reference §1; the grouping is the contract's (`shared/spec/diagnoses.md`, entra section).
const CODES: &[(&[u64], RuleId)] = &[
    (&[900023], ids::CONFIG_TENANT_INVALID),
    (&[90002], ids::ENTRA_TENANT_NOT_FOUND),
    (&[90038, 900439, 900432, 900382], ids::ENTRA_WRONG_CLOUD),
    (
        &[9001023, 50194, 90124, 90130, 50059, 90019],
        ids::ENTRA_COMMON_ENDPOINT_NOT_ALLOWED,
    ),
    (&[700016, 700011], ids::ENTRA_APP_NOT_FOUND),
    (&[7000112, 70001], ids::ENTRA_APP_DISABLED),
    (&[7000215, 70002], ids::ENTRA_INVALID_CLIENT_SECRET),
    (&[7000222], ids::ENTRA_CLIENT_SECRET_EXPIRED),
    (&[7000218], ids::ENTRA_CLIENT_CREDENTIAL_MISSING),
    (&[700025], ids::ENTRA_PUBLIC_CLIENT_SENT_SECRET),
    (&[700027], ids::ENTRA_CERTIFICATE_INVALID),
    (&[700024, 500133], ids::ENTRA_ASSERTION_CLOCK_SKEW),
    (&[1002012], ids::ENTRA_SCOPE_NEEDS_DEFAULT),
    (&[70011, 28002, 28003, 700023], ids::ENTRA_INVALID_SCOPE),
    (&[700022], ids::ENTRA_MULTIPLE_RESOURCES_SCOPE),
    (&[500011, 50001, 650052], ids::ENTRA_RESOURCE_NOT_FOUND),
    (&[65001, 90094, 90095, 65004], ids::ENTRA_CONSENT_MISSING),
    (&[650056, 650057], ids::ENTRA_PERMISSION_NOT_CONFIGURED),
    (
        &[53003, 530032, 53000, 53001, 53002, 50131],
        ids::ENTRA_CONDITIONAL_ACCESS_BLOCKED,
    ),
    (&[530035], ids::ENTRA_SECURITY_DEFAULTS_BLOCKED),
    (&[50076, 50079, 50074], ids::ENTRA_MFA_REQUIRED),
    (&[50126], ids::ENTRA_USER_CREDENTIALS_INVALID),
    // 50020 and its siblings (reference §1d): the account is from another tenant or IdP.
    (
        &[50034, 50020, 50014, 51004, 16000],
        ids::ENTRA_USER_NOT_FOUND,
    ),
    (&[50057], ids::ENTRA_USER_DISABLED),
    (&[50053], ids::ENTRA_USER_LOCKED),
    (&[50055, 50144], ids::ENTRA_PASSWORD_EXPIRED),
    (&[70016], ids::ENTRA_DEVICE_CODE_PENDING),
    (&[70019], ids::ENTRA_DEVICE_CODE_EXPIRED),
    (&[70018], ids::ENTRA_DEVICE_CODE_DECLINED),
    (
        &[700082, 70008, 50173, 70043, 70000],
        ids::ENTRA_REFRESH_TOKEN_EXPIRED,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_decides_before_the_word() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app 'x' are expired.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2024-01-01 00:00:00Z","error_codes":[7000222],"timestamp":"2024-01-01 00:00:00Z","trace_id":"t","correlation_id":"c"}"#;
        let e = TokenError::parse(body).expect("token error");
        assert_eq!(
            classify(&e, Flow::ClientSecret),
            Some(ids::ENTRA_CLIENT_SECRET_EXPIRED)
        );
        assert_eq!(
            e.description_head().as_deref(),
            Some("AADSTS7000222: The provided client secret keys for app 'x' are expired.")
        );
    }

    #[test]
    fn unknown_codes_fall_back_to_the_word_per_flow() {
        let e = TokenError {
            error: "invalid_client".into(),
            error_codes: vec![1],
            ..Default::default()
        };
        assert_eq!(
            classify(&e, Flow::ClientAssertion),
            Some(ids::ENTRA_CERTIFICATE_INVALID)
        );
        assert_eq!(
            classify(&e, Flow::ClientSecret),
            Some(ids::ENTRA_INVALID_CLIENT_SECRET)
        );
        let e = TokenError {
            error: "server_error".into(),
            error_codes: vec![1],
            ..Default::default()
        };
        assert_eq!(classify(&e, Flow::ClientSecret), None);
    }

    #[test]
    fn a_success_body_is_not_an_error() {
        assert!(TokenError::parse(br#"{"token_type":"Bearer","access_token":"x"}"#).is_none());
        assert!(TokenError::parse(b"<html>proxy</html>").is_none());
    }
}
