//! Helpers for the Graph tests.

use diag_lab::Lab;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub fn users_url(lab: &Lab, rest: &str) -> String {
    format!("{}/v1.0/users/{rest}", lab.endpoints().graph_base)
}

pub fn mail(to: &str, from: Option<&str>) -> Value {
    let mut message = json!({
        "subject": "Scan from MFP",
        "body": {"contentType": "Text", "content": "scan attached"},
        "toRecipients": [{"emailAddress": {"address": to}}],
    });
    if let Some(from) = from {
        message["from"] = json!({"emailAddress": {"address": from}});
    }
    json!({"message": message, "saveToSentItems": false})
}

pub async fn send(
    lab: &Lab,
    client: &reqwest::Client,
    token: &str,
    mailbox: &str,
    body: &Value,
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let response = client
        .post(users_url(lab, &format!("{mailbox}/sendMail")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    Ok((
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        },
    ))
}
