//! Microsoft Graph: bearer validation, /users and mailboxSettings.

use base64::Engine;
use diag_lab::{Lab, LabOptions};
use serde_json::{Value, json};

use crate::common::*;
use crate::graph_common::*;

#[tokio::test]
async fn users_lookup_and_select() -> TestResult {
    let lab = start("healthy-graph").await?;
    let client = client(&lab)?;
    let token = graph_token(&lab, &client).await?;

    let (s, user) = get_json(&client, &users_url(&lab, "scanner@contoso.com"), &token).await?;
    assert_eq!(s, 200, "{user}");
    assert_eq!(user["userPrincipalName"], "scanner@contoso.com");
    assert_eq!(user["mail"], "scanner@contoso.com");
    assert!(is_guid(user["id"].as_str().unwrap_or_default()));
    assert!(
        user.get("assignedPlans").is_none(),
        "v1.0 default set has no licences"
    );

    let select = "id,accountEnabled,assignedLicenses,assignedPlans,onPremisesSyncEnabled,userType";
    let (s, user) = get_json(
        &client,
        &users_url(&lab, &format!("scanner@contoso.com?$select={select}")),
        &token,
    )
    .await?;
    assert_eq!(s, 200, "{user}");
    assert_eq!(user["accountEnabled"], true);
    assert_eq!(user["userType"], "Member");
    assert_eq!(user["onPremisesSyncEnabled"], Value::Null);
    assert_eq!(
        user["assignedLicenses"],
        json!([{"disabledPlans": [], "skuId": "4b9405b0-7788-4568-add1-99614e613b69"}])
    );
    let plan = &user["assignedPlans"][0];
    assert_eq!(
        plan["servicePlanId"],
        "9aaf7827-d63c-4b61-89c3-182f06f82e5c"
    );
    assert_eq!(plan["capabilityStatus"], "Enabled");
    assert_eq!(plan["service"], "exchange");
    assert!(plan["assignedDateTime"].is_string());
    assert!(
        user.get("mail").is_none(),
        "$select returns only what was asked"
    );

    // The same user by object id.
    let id = user["id"].as_str().unwrap_or_default().to_string();
    let (s, by_id) = get_json(&client, &users_url(&lab, &id), &token).await?;
    assert_eq!(
        (s.as_u16(), by_id["userPrincipalName"].as_str()),
        (200, Some("scanner@contoso.com"))
    );

    let (s, b) = get_json(
        &client,
        &users_url(&lab, "scanner@contoso.com?$select=favouriteColour"),
        &token,
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        400,
        "Request_BadRequest",
        "Could not find a property named 'favouriteColour' on type 'Microsoft.DirectoryServices.User'.",
    );
    let (s, b) = get_json(&client, &users_url(&lab, "ghost@contoso.com"), &token).await?;
    assert_eq!(b["error"]["code"], "Request_ResourceNotFound");
    assert_eq!(s, 404);
    let (s, b) = get_json(
        &client,
        &format!("{}/v1.0/me", lab.endpoints().graph_base),
        &token,
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        400,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    );
    Ok(())
}

#[tokio::test]
async fn licence_and_mailbox_state_per_scenario() -> TestResult {
    // case-14: only Exchange Foundation, so no mailbox behind the user.
    let lab = start("mailbox-not-enabled").await?;
    let client = client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (_, user) = get_json(
        &client,
        &users_url(
            &lab,
            "noreply@contoso.com?$select=assignedLicenses,assignedPlans",
        ),
        &token,
    )
    .await?;
    assert_eq!(
        user["assignedPlans"][0]["servicePlanId"],
        "113feb6c-3fe4-4440-bddc-54d774bf0318"
    );
    assert_eq!(user["assignedLicenses"], json!([]));
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "noreply@contoso.com",
        &mail("someone@contoso.com", None),
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        404,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
    );

    let lab = start("unlicensed-mailbox").await?;
    let client = crate::common::client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (_, user) = get_json(
        &client,
        &users_url(
            &lab,
            "scanner@contoso.com?$select=assignedLicenses,assignedPlans",
        ),
        &token,
    )
    .await?;
    assert_eq!(
        (
            user["assignedLicenses"].clone(),
            user["assignedPlans"].clone()
        ),
        (json!([]), json!([]))
    );

    let lab = start("on-premises-mailbox").await?;
    let client = crate::common::client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (_, user) = get_json(
        &client,
        &users_url(&lab, "scanner@contoso.com?$select=onPremisesSyncEnabled"),
        &token,
    )
    .await?;
    assert_eq!(user["onPremisesSyncEnabled"], true);
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "scanner@contoso.com",
        &mail("someone@contoso.com", None),
    )
    .await?;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (404, Some("MailboxNotEnabledForRESTAPI"))
    );
    Ok(())
}

#[tokio::test]
async fn mailbox_settings_needs_its_permission_and_a_cloud_mailbox() -> TestResult {
    let mut scenario = builtin("on-premises-mailbox")?;
    let lab = Lab::start(&scenario, LabOptions::default()).await?;
    let client = client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (s, b) = get_json(
        &client,
        &users_url(&lab, "admin@contoso.com/mailboxSettings"),
        &token,
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    );

    scenario.apps[0]
        .application_permissions
        .push("graph:MailboxSettings.Read".into());
    let lab = Lab::start(&scenario, LabOptions::default()).await?;
    let client = crate::common::client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (s, b) = get_json(
        &client,
        &users_url(&lab, "scanner@contoso.com/mailboxSettings"),
        &token,
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        404,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
    );
    let (s, b) = get_json(
        &client,
        &users_url(&lab, "admin@contoso.com/mailboxSettings"),
        &token,
    )
    .await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["userPurpose"], "user");
    Ok(())
}

#[tokio::test]
async fn bearer_tokens_are_validated() -> TestResult {
    let lab = start("healthy-graph").await?;
    let client = client(&lab)?;
    let url = users_url(&lab, "scanner@contoso.com");
    let response = client.get(&url).send().await?;
    assert!(response.headers().get("www-authenticate").is_some());
    let s = response.status();
    assert_graph_error(
        s,
        &response.json().await?,
        401,
        "InvalidAuthenticationToken",
        "Access token is empty.",
    );

    // An Exchange token sent to Graph.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", lab.device().settings.client_id.as_str()),
        (
            "client_secret",
            lab.device().settings.client_secret.as_str(),
        ),
        ("scope", "https://outlook.office365.com/.default"),
    ];
    let (_, body) = post_form(&client, &token_url(&lab, "contoso.com"), &form).await?;
    let exchange = body["access_token"].as_str().ok_or("no token")?;
    let (s, b) = get_json(&client, &url, exchange).await?;
    assert_graph_error(
        s,
        &b,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
    );

    // A Graph token with an edited payload.
    let token = graph_token(&lab, &client).await?;
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut c = claims(&token)?;
    c["roles"] = json!(["Mail.Send", "User.Read.All", "Directory.ReadWrite.All"]);
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c)?);
    let (s, b) = get_json(&client, &url, &parts.join(".")).await?;
    assert_graph_error(
        s,
        &b,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid signature.",
    );
    let (s, b) = get_json(&client, &url, "garbage").await?;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );

    // A token from another lab (another signing key, same tenant id) is refused.
    let other = start("healthy-graph").await?;
    let foreign = device_token(&other, &crate::common::client(&other)?).await?;
    let (s, b) = get_json(&client, &url, &foreign).await?;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    // The genuine token works.
    let (s, _) = get_json(&client, &url, &token).await?;
    assert_eq!(s, 200);
    Ok(())
}
