//! Discovery documents and the JWKS: tokens verify against the published key; Graph tokens
//! (header nonce) do not verify with a standard library, as with Microsoft.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::common::*;

#[tokio::test]
async fn discovery_points_at_the_lab_and_keys_verify_tokens() -> TestResult {
    let lab = start("healthy").await?;
    let client = client(&lab)?;
    let base = &lab.endpoints().login_base;
    let tid = "11111111-2222-3333-4444-555555555555";
    let doc: Value = client
        .get(format!(
            "{base}/contoso.com/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(doc["issuer"], format!("{base}/{tid}/v2.0"));
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/contoso.com/oauth2/v2.0/token")
    );
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{base}/contoso.com/oauth2/v2.0/devicecode")
    );
    let jwks_uri = doc["jwks_uri"].as_str().ok_or("no jwks_uri")?;
    assert_eq!(jwks_uri, format!("{base}/contoso.com/discovery/v2.0/keys"));
    let v1: Value = client
        .get(format!("{base}/{tid}/.well-known/openid-configuration"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tid}/"));

    let jwks: Value = client.get(jwks_uri).send().await?.json().await?;
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("sig"))
    );
    assert_eq!(key["kid"], key["x5t"]);
    // x5t is the SHA-1 of the published certificate.
    let cert = base64::engine::general_purpose::STANDARD
        .decode(key["x5c"][0].as_str().unwrap_or_default())?;
    let x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha1::digest(&cert));
    assert_eq!(key["x5t"], x5t);

    let decoding = DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap_or_default(),
        key["e"].as_str().unwrap_or_default(),
    )?;
    let token = device_token(&lab, &client).await?;
    assert_eq!(header(&token)?["kid"], key["kid"]);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://outlook.office365.com"]);
    validation.set_issuer(&[format!("https://sts.windows.net/{tid}/")]);
    let verified = jsonwebtoken::decode::<Value>(&token, &decoding, &validation)?;
    assert_eq!(verified.claims["roles"][0], "SMTP.SendAsApp");

    // A tampered payload no longer verifies.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut c = claims(&token)?;
    c["roles"] = serde_json::json!(["SMTP.SendAsApp", "Mail.Send"]);
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c)?);
    assert!(jsonwebtoken::decode::<Value>(&parts.join("."), &decoding, &validation).is_err());

    // Graph tokens carry a nonce and fail standard verification even with the right key.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", lab.device().settings.client_id.as_str()),
        (
            "client_secret",
            lab.device().settings.client_secret.as_str(),
        ),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let (_, body) = post_form(&client, &token_url(&lab, "contoso.com"), &form).await?;
    let graph_token = body["access_token"].as_str().ok_or("no graph token")?;
    let mut graph_validation = Validation::new(Algorithm::RS256);
    graph_validation.set_audience(&["https://graph.microsoft.com"]);
    let err = jsonwebtoken::decode::<Value>(graph_token, &decoding, &graph_validation)
        .err()
        .ok_or("Graph token verified")?;
    assert_eq!(
        err.kind(),
        &jsonwebtoken::errors::ErrorKind::InvalidSignature
    );
    Ok(())
}

#[tokio::test]
async fn unknown_tenant_discovery_is_an_invalid_tenant_error() -> TestResult {
    let lab = start("healthy").await?;
    let client = client(&lab)?;
    let response = client
        .get(format!(
            "{}/fabrikam.com/v2.0/.well-known/openid-configuration",
            lab.endpoints().login_base
        ))
        .send()
        .await?;
    let status = response.status();
    assert_aad_error(
        status,
        &response.json().await?,
        400,
        "invalid_tenant",
        90002,
    );
    // common serves a template issuer.
    let doc: Value = client
        .get(format!(
            "{}/common/v2.0/.well-known/openid-configuration",
            lab.endpoints().login_base
        ))
        .send()
        .await?
        .json()
        .await?;
    assert!(
        doc["issuer"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/{tenantid}/v2.0")
    );
    Ok(())
}
