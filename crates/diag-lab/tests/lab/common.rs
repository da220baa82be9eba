//! Helpers shared by the integration tests.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use diag_lab::{Lab, LabOptions, Scenario};
use reqwest::StatusCode;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde_json::Value;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub fn builtin(name: &str) -> Result<Scenario, String> {
    Scenario::builtin(name).ok_or_else(|| format!("no built-in scenario {name}"))
}

pub async fn start(name: &str) -> Result<Lab, Box<dyn std::error::Error>> {
    Ok(Lab::start(&builtin(name)?, LabOptions::default()).await?)
}

/// A client that trusts only the lab CA and resolves `localhost` to 127.0.0.1.
pub fn client(lab: &Lab) -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    client_with_timeout(lab, Duration::from_secs(20))
}

pub fn client_with_timeout(
    lab: &Lab,
    timeout: Duration,
) -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(lab.ca_pem().as_bytes())?)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .resolve("localhost", "127.0.0.1:0".parse()?)
        .timeout(timeout)
        .build()?)
}

pub fn token_url(lab: &Lab, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", lab.endpoints().login_base)
}

pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let response = client.post(url).form(form).send().await?;
    let status = response.status();
    Ok((status, response.json().await?))
}

/// Client credentials as the scenario's device would ask: its tenant, client id and secret,
/// and the scope its method needs (or the scenario's override).
pub async fn device_client_credentials(
    lab: &Lab,
    client: &reqwest::Client,
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let d = &lab.device().settings;
    let scope = if !d.scope.is_empty() {
        d.scope.clone()
    } else if d.method == diag_lab::scenario::Method::Graph {
        "https://graph.microsoft.com/.default".to_string()
    } else {
        "https://outlook.office365.com/.default".to_string()
    };
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", d.client_id.as_str()),
        ("client_secret", d.client_secret.as_str()),
        ("scope", scope.as_str()),
    ];
    post_form(client, &token_url(lab, &d.tenant), &form).await
}

/// An access token for the healthy device, or an error naming what came back.
pub async fn device_token(
    lab: &Lab,
    client: &reqwest::Client,
) -> Result<String, Box<dyn std::error::Error>> {
    let (status, body) = device_client_credentials(lab, client).await?;
    match body["access_token"].as_str() {
        Some(t) if status == StatusCode::OK => Ok(t.to_string()),
        _ => Err(format!("no token: {status} {body}").into()),
    }
}

/// Checks an Entra error body field by field (reference §2).
pub fn assert_aad_error(
    status: StatusCode,
    body: &Value,
    want_status: u16,
    error: &str,
    code: u64,
) {
    assert_eq!(status.as_u16(), want_status, "status for {body}");
    assert_eq!(body["error"], error, "error in {body}");
    assert_eq!(
        body["error_codes"],
        serde_json::json!([code]),
        "error_codes in {body}"
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "description {description}"
    );
    let trace = body["trace_id"].as_str().unwrap_or_default();
    let correlation = body["correlation_id"].as_str().unwrap_or_default();
    let timestamp = body["timestamp"].as_str().unwrap_or_default();
    assert!(is_guid(trace) && is_guid(correlation), "ids in {body}");
    assert!(
        description.ends_with(&format!(
            "\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"
        )),
        "description tail {description:?}"
    );
    assert_eq!(
        timestamp.len(),
        "2016-01-09 02:02:12Z".len(),
        "timestamp {timestamp}"
    );
    assert!(
        chrono::NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%d %H:%M:%SZ").is_ok(),
        "timestamp {timestamp}"
    );
    assert_eq!(
        body["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
}

/// Checks a Graph error body (reference §6).
pub fn assert_graph_error(
    status: StatusCode,
    body: &Value,
    want_status: u16,
    code: &str,
    message: &str,
) {
    assert_eq!(status.as_u16(), want_status, "status for {body}");
    assert_eq!(body["error"]["code"], code, "code in {body}");
    assert_eq!(body["error"]["message"], message, "message in {body}");
    let inner = &body["error"]["innerError"];
    assert!(
        is_guid(inner["request-id"].as_str().unwrap_or_default()),
        "request-id in {body}"
    );
    assert!(
        inner["client-request-id"].is_string() && inner["date"].is_string(),
        "innerError {body}"
    );
}

pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The claims of a JWT, decoded without verification (verification is tested separately).
pub fn claims(token: &str) -> Result<Value, Box<dyn std::error::Error>> {
    part(token, 1)
}

pub fn header(token: &str) -> Result<Value, Box<dyn std::error::Error>> {
    part(token, 0)
}

fn part(token: &str, index: usize) -> Result<Value, Box<dyn std::error::Error>> {
    let segment = token.split('.').nth(index).ok_or("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment)?;
    Ok(serde_json::from_slice(&bytes)?)
}

pub async fn get_json(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let response = client.get(url).bearer_auth(token).send().await?;
    let status = response.status();
    Ok((status, response.json().await?))
}

/// An app-only Graph token for the scenario's device app, whatever its method.
pub async fn graph_token(
    lab: &Lab,
    client: &reqwest::Client,
) -> Result<String, Box<dyn std::error::Error>> {
    let d = &lab.device().settings;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", d.client_id.as_str()),
        ("client_secret", d.client_secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let (status, body) = post_form(client, &token_url(lab, &d.tenant), &form).await?;
    match body["access_token"].as_str() {
        Some(t) if status == StatusCode::OK => Ok(t.to_string()),
        _ => Err(format!("no Graph token: {status} {body}").into()),
    }
}
