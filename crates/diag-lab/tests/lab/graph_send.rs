//! Microsoft Graph sendMail: success, message errors, permissions and policies.

use base64::Engine;
use diag_lab::{Lab, LabOptions};
use serde_json::{Value, json};

use crate::common::*;
use crate::graph_common::*;

#[tokio::test]
async fn send_mail_success_and_message_errors() -> TestResult {
    let lab = start("healthy-graph").await?;
    let client = client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "scanner@contoso.com",
        &mail("frontdesk@fabrikam.com", Some("scanner@contoso.com")),
    )
    .await?;
    assert_eq!(
        (s.as_u16(), b),
        (202, Value::Null),
        "202 with an empty body"
    );
    let sent = lab.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].channel, sent[0].from.as_str()),
        ("graph", "scanner@contoso.com")
    );
    assert_eq!(
        sent[0].recipients,
        vec!["frontdesk@fabrikam.com".to_string()]
    );

    let (s, b) = send(
        &lab,
        &client,
        &token,
        "scanner@contoso.com",
        &mail("x@fabrikam.com", Some("ceo@contoso.com")),
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        403,
        "ErrorSendAsDenied",
        "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.",
    );
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "scanner@contoso.com",
        &json!({"message": {"subject": "no one"}}),
    )
    .await?;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ErrorInvalidRecipients"))
    );
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "scanner@contoso.com",
        &mail("not an address", None),
    )
    .await?;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ErrorInvalidRecipients"))
    );
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "nobody@contoso.com",
        &mail("x@fabrikam.com", None),
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        404,
        "ErrorInvalidUser",
        "The requested user 'nobody@contoso.com' is invalid.",
    );

    // The MIME form: base64 of the message in a text/plain body.
    let mime = "From: scanner@contoso.com\r\nTo: Desk <desk@fabrikam.com>\r\nSubject: MIME scan\r\n\r\nbody\r\n";
    let encoded = base64::engine::general_purpose::STANDARD.encode(mime);
    let url = users_url(&lab, "scanner@contoso.com/sendMail");
    let response = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(encoded)
        .send()
        .await?;
    assert_eq!(response.status(), 202);
    assert_eq!(
        lab.sent_messages().last().map(|m| m.subject.clone()),
        Some("MIME scan".into())
    );
    let response = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("%%%")
        .send()
        .await?;
    let s = response.status();
    assert_graph_error(
        s,
        &response.json().await?,
        400,
        "ErrorMimeContentInvalidBase64String",
        "Invalid base64 string for MIME content.",
    );
    assert_eq!(
        lab.sent_messages().len(),
        2,
        "refused messages are not sent"
    );
    Ok(())
}

#[tokio::test]
async fn permissions_and_policies() -> TestResult {
    // case-13: no Mail.Send role (delegated only) and no User.Read.All.
    let lab = start("delegated-permission").await?;
    let client = client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "noreply@contoso.com",
        &mail("x@fabrikam.com", None),
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    );
    let (s, b) = get_json(&client, &users_url(&lab, "noreply@contoso.com"), &token).await?;
    assert_graph_error(
        s,
        &b,
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    );

    // Application Access Policy scoped to another mailbox.
    let lab = start("application-access-policy").await?;
    let client = crate::common::client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "scanner@contoso.com",
        &mail("x@fabrikam.com", None),
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        403,
        "ErrorAccessDenied",
        "Access to OData is disabled.",
    );
    let (s, _) = send(
        &lab,
        &client,
        &token,
        "printers@contoso.com",
        &mail("x@fabrikam.com", None),
    )
    .await?;
    assert_eq!(s, 202, "the mailbox in the policy's scope can send");

    // case-16: the address is none of the mailbox's addresses.
    let lab = start("mailbox-not-found").await?;
    let client = crate::common::client(&lab)?;
    let token = graph_token(&lab, &client).await?;
    let (s, b) = send(
        &lab,
        &client,
        &token,
        "noreply@contoso.com",
        &mail("x@fabrikam.com", None),
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        404,
        "ErrorInvalidUser",
        "The requested user 'noreply@contoso.com' is invalid.",
    );
    let (s, b) = get_json(
        &client,
        &users_url(&lab, "noreply@contoso.onmicrosoft.com"),
        &token,
    )
    .await?;
    assert_eq!(
        (s.as_u16(), b["mail"].as_str()),
        (200, Some("noreply@fabrikam.com"))
    );
    let (s, _) = send(
        &lab,
        &client,
        &token,
        "noreply@fabrikam.com",
        &mail("x@fabrikam.com", None),
    )
    .await?;
    assert_eq!(s, 202, "the real primary address works");
    Ok(())
}

#[tokio::test]
async fn delegated_graph_token_sends_only_as_its_user() -> TestResult {
    let mut scenario = builtin("device-code-wrong-user")?;
    scenario.apps[0].delegated_permissions =
        vec!["graph:Mail.Send".into(), "graph:User.Read".into()];
    let lab = Lab::start(&scenario, LabOptions::default()).await?;
    let client = client(&lab)?;
    let url = format!(
        "{}/contoso.com/oauth2/v2.0/devicecode",
        lab.endpoints().login_base
    );
    let id = scenario.apps[0].client_id.as_str();
    let (_, started) = post_form(
        &client,
        &url,
        &[("client_id", id), ("scope", "Mail.Send User.Read")],
    )
    .await?;
    let code = started["device_code"].as_str().ok_or("no device_code")?;
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", id),
        ("device_code", code),
    ];
    let _pending = post_form(&client, &token_url(&lab, "contoso.com"), &form).await?;
    let (s, body) = post_form(&client, &token_url(&lab, "contoso.com"), &form).await?;
    assert_eq!(s, 200, "{body}");
    let token = body["access_token"].as_str().ok_or("no token")?;
    assert_eq!(claims(token)?["scp"], "Mail.Send User.Read");
    let (s, me) = get_json(
        &client,
        &format!("{}/v1.0/me", lab.endpoints().graph_base),
        token,
    )
    .await?;
    assert_eq!(
        (s.as_u16(), me["userPrincipalName"].as_str()),
        (200, Some("admin@contoso.com"))
    );
    let (s, _) = send(
        &lab,
        &client,
        token,
        "admin@contoso.com",
        &mail("x@fabrikam.com", None),
    )
    .await?;
    assert_eq!(s, 202);
    let (s, b) = send(
        &lab,
        &client,
        token,
        "relay@contoso.com",
        &mail("x@fabrikam.com", None),
    )
    .await?;
    assert_graph_error(
        s,
        &b,
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    );
    Ok(())
}
