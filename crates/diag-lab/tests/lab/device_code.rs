//! The device code flow with the lab playing the person at the browser.

use diag_lab::scenario::DeviceCodeOutcome;
use diag_lab::{Lab, LabOptions, Scenario};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

const SMTP_SEND: &str = "https://outlook.office.com/SMTP.Send offline_access";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn begin(
    lab: &Lab,
    client: &reqwest::Client,
    scope: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    let url = format!(
        "{}/contoso.com/oauth2/v2.0/devicecode",
        lab.endpoints().login_base
    );
    let form = [
        ("client_id", lab.device().settings.client_id.as_str()),
        ("scope", scope),
    ];
    let (status, body) = post_form(client, &url, &form).await?;
    assert_eq!(status, 200, "{body}");
    Ok(body)
}

async fn poll(
    lab: &Lab,
    client: &reqwest::Client,
    device_code: &str,
    extra: &[(&str, &str)],
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let mut form = vec![
        ("grant_type", DEVICE_GRANT),
        ("client_id", lab.device().settings.client_id.as_str()),
        ("device_code", device_code),
    ];
    form.extend_from_slice(extra);
    post_form(client, &token_url(lab, "contoso.com"), &form).await
}

#[tokio::test]
async fn pending_then_token_for_the_signed_in_user() -> TestResult {
    let lab = start("device-code-wrong-user").await?;
    let client = client(&lab)?;
    let started = begin(&lab, &client, SMTP_SEND).await?;
    assert_eq!(started["interval"], 1);
    assert_eq!(started["expires_in"], 900);
    assert_eq!(
        started["verification_uri"],
        "https://microsoft.com/devicelogin"
    );
    let user_code = started["user_code"].as_str().ok_or("no user_code")?;
    assert_eq!(user_code.len(), 9);
    assert!(
        started["message"]
            .as_str()
            .unwrap_or_default()
            .contains(user_code)
    );
    let device_code = started["device_code"].as_str().ok_or("no device_code")?;

    let (s, b) = poll(&lab, &client, device_code, &[]).await?;
    assert_aad_error(s, &b, 400, "authorization_pending", 70016);
    let (s, b) = poll(&lab, &client, device_code, &[]).await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["scope"], "https://outlook.office.com/SMTP.Send");
    assert!(
        b["refresh_token"].is_string(),
        "offline_access asks for a refresh token"
    );
    let c = claims(b["access_token"].as_str().unwrap_or_default())?;
    // case-04: the token belongs to the admin who signed in, not to relay@.
    assert_eq!(c["upn"], "admin@contoso.com");
    assert_eq!(c["unique_name"], "admin@contoso.com");
    assert_eq!(c["preferred_username"], "admin@contoso.com");
    assert_eq!(c["scp"], "SMTP.Send");
    assert_eq!(c["aud"], "https://outlook.office.com");
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["appidacr"], "0");
    assert!(c.get("roles").is_none());

    // The code is used up; the refresh token keeps working for the same user and rotates.
    let (s, b2) = poll(&lab, &client, device_code, &[]).await?;
    assert_aad_error(s, &b2, 400, "invalid_grant", 90120);
    let refresh = b["refresh_token"].as_str().unwrap_or_default();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", lab.device().settings.client_id.as_str()),
        ("refresh_token", refresh),
    ];
    let (s, r) = post_form(&client, &token_url(&lab, "contoso.com"), &form).await?;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        claims(r["access_token"].as_str().unwrap_or_default())?["upn"],
        "admin@contoso.com"
    );
    assert_ne!(r["refresh_token"], b["refresh_token"]);
    let (s, r) = post_form(&client, &token_url(&lab, "contoso.com"), &form).await?;
    assert_aad_error(s, &r, 400, "invalid_grant", 70000);
    Ok(())
}

async fn second_poll(
    scenario: &Scenario,
    scope: &str,
    extra: &[(&str, &str)],
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let lab = Lab::start(scenario, LabOptions::default()).await?;
    let client = client(&lab)?;
    let started = begin(&lab, &client, scope).await?;
    let code = started["device_code"].as_str().ok_or("no device_code")?;
    let (s, b) = poll(&lab, &client, code, extra).await?;
    if s == 400 && b["error"] != "authorization_pending" {
        return Ok((s, b));
    }
    poll(&lab, &client, code, extra).await
}

#[tokio::test]
async fn declined_expired_and_refused_sign_ins() -> TestResult {
    let mut scenario = builtin("device-code-wrong-user")?;
    scenario.device.device_code_outcome = DeviceCodeOutcome::Decline;
    let (s, b) = second_poll(&scenario, SMTP_SEND, &[]).await?;
    assert_aad_error(s, &b, 400, "authorization_declined", 70018);

    scenario.device.device_code_outcome = DeviceCodeOutcome::Expire;
    let (s, b) = second_poll(&scenario, SMTP_SEND, &[]).await?;
    assert_aad_error(s, &b, 400, "expired_token", 70019);

    // Delegated Mail.Send was never consented for this app.
    let scenario = builtin("device-code-wrong-user")?;
    let (s, b) = second_poll(&scenario, "https://graph.microsoft.com/Mail.Send", &[]).await?;
    assert_aad_error(s, &b, 400, "invalid_grant", 65001);

    // A public client must not send a secret.
    let (s, b) = second_poll(&scenario, SMTP_SEND, &[("client_secret", "anything")]).await?;
    assert_aad_error(s, &b, 401, "invalid_client", 700025);

    // Conditional Access blocking the device code flow.
    let mut blocked = scenario.clone();
    blocked.tenant.conditional_access_block = vec!["device-code".into()];
    let (s, b) = second_poll(&blocked, SMTP_SEND, &[]).await?;
    assert_aad_error(s, &b, 400, "invalid_grant", 53003);

    // Signing in as a shared mailbox, whose account is disabled.
    let (s, b) = second_poll(&builtin("shared-mailbox")?, SMTP_SEND, &[]).await?;
    assert_aad_error(s, &b, 400, "invalid_grant", 50057);

    // A confidential app (public client flows off) without a secret.
    let (s, b) = second_poll(&builtin("healthy")?, SMTP_SEND, &[]).await?;
    assert_aad_error(s, &b, 401, "invalid_client", 7000218);
    Ok(())
}

#[tokio::test]
async fn unknown_device_code() -> TestResult {
    let lab = start("device-code-wrong-user").await?;
    let (s, b) = poll(&lab, &client(&lab)?, "DAQABIQEAAADnot-a-real-code", &[]).await?;
    assert_aad_error(s, &b, 400, "bad_verification_code", 70018);
    Ok(())
}

#[tokio::test]
async fn password_grant_meets_mfa_and_bad_passwords() -> TestResult {
    let mut scenario = builtin("device-code-wrong-user")?;
    scenario.users[0].password = Some("Winter2025!".into());
    scenario.users[1].password = Some("Adm1n!".into());
    scenario.users[1].mfa_required = true;
    let lab = Lab::start(&scenario, LabOptions::default()).await?;
    let client = client(&lab)?;
    let id = scenario.apps[0].client_id.as_str();
    let url = token_url(&lab, "contoso.com");
    let ropc = |user: &'static str, password: &'static str| {
        [
            ("grant_type", "password"),
            ("client_id", id),
            ("username", user),
            ("password", password),
            ("scope", "https://outlook.office.com/SMTP.Send"),
        ]
    };
    let (s, b) = post_form(&client, &url, &ropc("relay@contoso.com", "Winter2025!")).await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        claims(b["access_token"].as_str().unwrap_or_default())?["upn"],
        "relay@contoso.com"
    );
    let (s, b) = post_form(&client, &url, &ropc("relay@contoso.com", "winter2025!")).await?;
    assert_aad_error(s, &b, 400, "invalid_grant", 50126);
    let (s, b) = post_form(&client, &url, &ropc("admin@contoso.com", "Adm1n!")).await?;
    assert_aad_error(s, &b, 400, "invalid_grant", 50076);
    let (s, b) = post_form(&client, &url, &ropc("nobody@contoso.com", "x")).await?;
    assert_aad_error(s, &b, 400, "invalid_grant", 50034);
    Ok(())
}
