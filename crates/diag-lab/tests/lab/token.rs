//! The token endpoint: client credentials successes and every identity-path fault.

use std::time::{Duration, Instant};

use diag_lab::scenario::TokenEndpointState;
use diag_lab::{Lab, LabOptions};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn healthy_exchange_token_carries_app_claims() -> TestResult {
    let lab = start("healthy").await?;
    let client = client(&lab)?;
    let (status, body) = device_client_credentials(&lab, &client).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    assert!(
        body.get("refresh_token").is_none(),
        "client credentials never return a refresh token"
    );
    let token = body["access_token"].as_str().ok_or("no access_token")?;
    let c = claims(token)?;
    let tid = "11111111-2222-3333-4444-555555555555";
    assert_eq!(c["aud"], "https://outlook.office365.com");
    assert_eq!(c["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(c["tid"], tid);
    assert_eq!(c["appid"], lab.device().settings.client_id);
    assert_eq!(c["appidacr"], "1");
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["ver"], "1.0");
    assert_eq!(
        c["roles"],
        json!(["SMTP.SendAsApp"]),
        "only the Exchange roles"
    );
    assert!(c.get("scp").is_none() && c.get("upn").is_none());
    assert!(is_guid(c["oid"].as_str().unwrap_or_default()));
    assert_eq!(c["oid"], c["sub"]);
    assert_eq!(
        c["exp"].as_i64().unwrap_or(0) - c["iat"].as_i64().unwrap_or(0),
        3600
    );
    let h = header(token)?;
    assert_eq!(h["alg"], "RS256");
    assert_eq!(h["kid"], h["x5t"]);
    assert!(h.get("nonce").is_none(), "only Graph tokens carry a nonce");
    lab.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn graph_token_roles_audience_forms_and_nonce() -> TestResult {
    let lab = start("healthy-graph").await?;
    let client = client(&lab)?;
    let token = device_token(&lab, &client).await?;
    let c = claims(&token)?;
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["roles"], json!(["Mail.Send", "User.Read.All"]));
    assert!(header(&token)?["nonce"].is_string());

    // The GUID form of the resource comes back as the GUID audience.
    let d = &lab.device().settings;
    let url = token_url(&lab, "11111111-2222-3333-4444-555555555555");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", d.client_id.as_str()),
        ("client_secret", d.client_secret.as_str()),
        ("scope", "00000002-0000-0ff1-ce00-000000000000/.default"),
    ];
    let (status, body) = post_form(&client, &url, &form).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap_or_default())?["aud"],
        "00000002-0000-0ff1-ce00-000000000000"
    );
    Ok(())
}

#[tokio::test]
async fn fault_scenarios_answer_with_their_aadsts_code() -> TestResult {
    let cases: &[(&str, u16, &str, u64)] = &[
        ("secret-id-pasted", 401, "invalid_client", 7000215),
        ("wrong-secret", 401, "invalid_client", 7000215),
        ("expired-secret", 401, "invalid_client", 7000222),
        ("app-not-found", 400, "unauthorized_client", 700016),
        ("app-disabled", 400, "unauthorized_client", 7000112),
        ("tenant-not-found", 400, "invalid_request", 90002),
        ("conditional-access-blocked", 400, "invalid_grant", 53003),
    ];
    for (name, status, error, code) in cases {
        let lab = start(name).await?;
        let (got, body) = device_client_credentials(&lab, &client(&lab)?).await?;
        assert_aad_error(got, &body, *status, error, *code);
        lab.shutdown().await;
    }
    Ok(())
}

#[tokio::test]
async fn secret_errors_name_the_app_and_tenant_errors_the_tenant() -> TestResult {
    let lab = start("secret-id-pasted").await?;
    let (_, body) = device_client_credentials(&lab, &client(&lab)?).await?;
    let text = body["error_description"].as_str().unwrap_or_default();
    assert!(text.contains("not the client secret ID"), "{text}");
    assert!(text.contains(&lab.device().settings.client_id), "{text}");
    let lab = start("tenant-not-found").await?;
    let (_, body) = device_client_credentials(&lab, &client(&lab)?).await?;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("Tenant 'contoso.co' not found")
    );
    Ok(())
}

#[tokio::test]
async fn consent_and_permission_state_shapes_the_roles() -> TestResult {
    // Without admin consent Entra still issues the token, without roles.
    let lab = start("missing-consent").await?;
    let token = device_token(&lab, &client(&lab)?).await?;
    let c = claims(&token)?;
    assert!(c.get("roles").is_none(), "roles present: {c}");
    assert_eq!(c["idtyp"], "app");
    // case-03: Graph Mail.Send only, Exchange token has no SMTP.SendAsApp.
    let lab = start("no-smtp-sendasapp").await?;
    let c = claims(&device_token(&lab, &client(&lab)?).await?)?;
    assert_eq!(c["aud"], "https://outlook.office365.com");
    assert!(c.get("roles").is_none() && c.get("scp").is_none(), "{c}");
    // case-13: delegated Mail.Send never reaches an app-only token.
    let lab = start("delegated-permission").await?;
    let c = claims(&device_token(&lab, &client(&lab)?).await?)?;
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert!(c.get("roles").is_none(), "{c}");
    // A Graph scope on the SMTP path gets a Graph token.
    let lab = start("graph-scope-for-smtp").await?;
    let c = claims(&device_token(&lab, &client(&lab)?).await?)?;
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    Ok(())
}

#[tokio::test]
async fn request_errors_on_a_healthy_tenant() -> TestResult {
    let lab = start("healthy").await?;
    let client = client(&lab)?;
    let d = lab.device().settings.clone();
    let id = d.client_id.as_str();
    let secret = d.client_secret.as_str();
    let url = token_url(&lab, "contoso.com");
    let cc = |scope: &'static str| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", scope),
        ]
    };

    let (s, b) = post_form(
        &client,
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("scope", "https://outlook.office365.com/.default"),
        ],
    )
    .await?;
    assert_aad_error(s, &b, 401, "invalid_client", 7000218);
    let (s, b) = post_form(
        &client,
        &url,
        &cc("https://outlook.office.com/SMTP.SendAsApp"),
    )
    .await?;
    assert_aad_error(s, &b, 400, "invalid_scope", 1002012);
    let (s, b) = post_form(&client, &url, &cc("SMTP.SendAsApp/.default")).await?;
    assert_aad_error(s, &b, 400, "invalid_scope", 70011);
    let (s, b) = post_form(
        &client,
        &url,
        &cc("https://graph.microsoft.com/.default https://outlook.office365.com/.default"),
    )
    .await?;
    assert_aad_error(s, &b, 400, "invalid_scope", 700022);
    let (s, b) = post_form(&client, &url, &cc("https://contoso.example/api/.default")).await?;
    assert_aad_error(s, &b, 400, "invalid_resource", 500011);
    let (s, b) = post_form(
        &client,
        &token_url(&lab, "common"),
        &cc("https://outlook.office365.com/.default"),
    )
    .await?;
    assert_aad_error(s, &b, 400, "invalid_request", 9001023);
    let (s, b) = post_form(
        &client,
        &token_url(&lab, "organizations"),
        &cc("https://outlook.office365.com/.default"),
    )
    .await?;
    assert_aad_error(s, &b, 400, "invalid_request", 9001023);
    let (s, b) = post_form(
        &client,
        &token_url(&lab, "Contoso%20Ltd"),
        &cc("https://outlook.office365.com/.default"),
    )
    .await?;
    assert_aad_error(s, &b, 400, "invalid_request", 900023);
    let (s, b) = post_form(&client, &url, &[("client_id", id)]).await?;
    assert_aad_error(s, &b, 400, "invalid_request", 900144);
    let (s, b) = post_form(&client, &url, &[("grant_type", "magic")]).await?;
    assert_aad_error(s, &b, 400, "unsupported_grant_type", 70003);
    let response = client.get(&url).send().await?;
    let s = response.status();
    assert_aad_error(s, &response.json().await?, 400, "invalid_request", 900561);

    // The tenant GUID works as well as the domain; a client-request-id becomes the correlation id.
    let correlation = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    let response = client
        .post(token_url(&lab, "11111111-2222-3333-4444-555555555555"))
        .header("client-request-id", correlation)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", "nope"),
            ("scope", "https://outlook.office365.com/.default"),
        ])
        .send()
        .await?;
    let s = response.status();
    let b: Value = response.json().await?;
    assert_aad_error(s, &b, 401, "invalid_client", 7000215);
    assert_eq!(b["correlation_id"], correlation);

    // HTTP Basic client authentication is accepted.
    let response = client
        .post(&url)
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://outlook.office365.com/.default"),
        ])
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    Ok(())
}

#[tokio::test]
async fn tenant_without_exchange_online_has_no_exchange_resource() -> TestResult {
    let mut scenario = builtin("healthy")?;
    scenario.tenant.exchange_online = false;
    let lab = Lab::start(&scenario, LabOptions::default()).await?;
    let (s, b) = device_client_credentials(&lab, &client(&lab)?).await?;
    assert_aad_error(s, &b, 400, "invalid_resource", 500011);
    assert!(
        b["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("https://outlook.office365.com")
    );
    Ok(())
}

fn assertion(
    lab: &Lab,
    key_pem: &str,
    x5t: &str,
    nbf: i64,
    exp: i64,
) -> Result<String, Box<dyn std::error::Error>> {
    let id = &lab.device().settings.client_id;
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(x5t.to_string());
    let claims = json!({
        "aud": token_url(lab, "contoso.com"),
        "iss": id, "sub": id, "jti": "5d0e8c57-1b2a-4c3d-9e8f-7a6b5c4d3e2f",
        "nbf": nbf, "exp": exp,
    });
    Ok(jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(key_pem.as_bytes())?,
    )?)
}

async fn assertion_grant(
    lab: &Lab,
    assertion: &str,
) -> Result<(reqwest::StatusCode, Value), Box<dyn std::error::Error>> {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", lab.device().settings.client_id.as_str()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", "https://outlook.office365.com/.default"),
    ];
    post_form(&client(lab)?, &token_url(lab, "contoso.com"), &form).await
}

#[tokio::test]
async fn certificate_credentials() -> TestResult {
    let lab = start("healthy-certificate").await?;
    let cert = lab
        .device()
        .certificate
        .clone()
        .ok_or("no generated device certificate")?;
    assert!(
        cert.certificate_pem
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert_eq!(cert.thumbprint.len(), 40);
    assert!(
        !format!("{cert:?}").contains(&cert.private_key_pem),
        "private key in Debug output"
    );
    let now = chrono::Utc::now().timestamp();

    let (s, b) = assertion_grant(
        &lab,
        &assertion(&lab, &cert.private_key_pem, &cert.x5t, now - 60, now + 600)?,
    )
    .await?;
    assert_eq!(s, 200, "{b}");
    let c = claims(b["access_token"].as_str().unwrap_or_default())?;
    assert_eq!(c["appidacr"], "2");
    assert_eq!(c["roles"], json!(["SMTP.SendAsApp"]));

    // A device clock two hours behind: the assertion is outside its window.
    let (s, b) = assertion_grant(
        &lab,
        &assertion(
            &lab,
            &cert.private_key_pem,
            &cert.x5t,
            now - 7200,
            now - 6600,
        )?,
    )
    .await?;
    assert_aad_error(s, &b, 401, "invalid_client", 700024);

    // The right thumbprint but another key: the signature does not verify.
    let other = {
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
        key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)?.to_string()
    };
    let (s, b) = assertion_grant(
        &lab,
        &assertion(&lab, &other, &cert.x5t, now - 60, now + 600)?,
    )
    .await?;
    assert_aad_error(s, &b, 401, "invalid_client", 700027);
    assert!(
        b["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("did not match the expected signature")
    );

    // certificate-mismatch: the uploaded certificate is not the device's.
    let lab = start("certificate-mismatch").await?;
    let cert = lab
        .device()
        .certificate
        .clone()
        .ok_or("no generated device certificate")?;
    let (s, b) = assertion_grant(
        &lab,
        &assertion(&lab, &cert.private_key_pem, &cert.x5t, now - 60, now + 600)?,
    )
    .await?;
    assert_aad_error(s, &b, 401, "invalid_client", 700027);
    let text = b["error_description"].as_str().unwrap_or_default();
    assert!(
        text.contains("The key was not found.") && text.contains(&cert.thumbprint),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn token_endpoint_down_refuses_connections() -> TestResult {
    let lab = start("token-endpoint-down").await?;
    let client = client(&lab)?;
    let started = Instant::now();
    let error = match device_client_credentials(&lab, &client).await {
        Ok((s, b)) => return Err(format!("token endpoint answered {s} {b}").into()),
        Err(e) => e,
    };
    let reqwest_error = error
        .downcast_ref::<reqwest::Error>()
        .ok_or("not a reqwest error")?;
    assert!(reqwest_error.is_connect(), "{reqwest_error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusal should be immediate"
    );
    // Graph is still there (it answers 401 without a token).
    let response = client
        .get(format!(
            "{}/v1.0/users/scanner@contoso.com",
            lab.endpoints().graph_base
        ))
        .send()
        .await?;
    assert_eq!(response.status(), 401);
    Ok(())
}

#[tokio::test]
async fn slow_token_endpoint_outlasts_a_client_timeout() -> TestResult {
    let mut scenario = builtin("healthy")?;
    scenario.network.token_endpoint = TokenEndpointState::Slow;
    let lab = Lab::start(&scenario, LabOptions::default()).await?;
    let client = client_with_timeout(&lab, Duration::from_secs(2))?;
    let started = Instant::now();
    match device_client_credentials(&lab, &client).await {
        Ok((s, b)) => panic!("slow endpoint answered {s} {b}"),
        Err(e) => {
            let e = e
                .downcast_ref::<reqwest::Error>()
                .ok_or("not a reqwest error")?;
            assert!(e.is_timeout(), "{e:?}");
        }
    }
    assert!(started.elapsed() >= Duration::from_secs(2));
    lab.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn latency_option_delays_every_answer() -> TestResult {
    let scenario = builtin("healthy")?;
    let lab = Lab::start(
        &scenario,
        LabOptions {
            latency: Duration::from_millis(300),
        },
    )
    .await?;
    let client = client(&lab)?;
    for url in [
        format!(
            "{}/contoso.com/v2.0/.well-known/openid-configuration",
            lab.endpoints().login_base
        ),
        format!("{}/v1.0/me", lab.endpoints().graph_base),
    ] {
        let started = Instant::now();
        let _ = client.get(&url).send().await?;
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{url} answered in {:?}",
            started.elapsed()
        );
    }
    Ok(())
}
