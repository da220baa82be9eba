//! `send` (only with `--send-test TO` and method graph): sends one small message through
//! `POST /users/{mailbox}/sendMail` with the main Graph token. `202 Accepted` means queued, not
//! delivered (reference §6).
use std::sync::Arc;

use serde_json::json;

use super::{
    context::{Ctx, GraphFetch},
    graph_read::{Read, read},
};
use crate::{
    check::CheckId,
    classify::graph::GraphOp,
    finding::{Evidence, Finding},
    net::DEFAULT_BODY_CAP,
    rules::{RuleId, ids},
};

const CHECK: CheckId = CheckId::Send;

pub(crate) fn message(to: &str, from: Option<&str>) -> serde_json::Value {
    let mut message = json!({
        "subject": "xdiag test message",
        "body": { "contentType": "Text", "content": "This message was sent by xdiag to test sending through Microsoft Graph." },
        "toRecipients": [ { "emailAddress": { "address": to } } ],
    });
    if let Some(from) = from {
        message["from"] = json!({ "emailAddress": { "address": from } });
    }
    json!({ "message": message, "saveToSentItems": false })
}

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let Some(to) = cx.target.send_test.as_deref().map(str::trim) else {
        return Finding::skip(CHECK, "no test recipient was given (--send-test)");
    };
    let Some(token) = cx.facts.token.get() else {
        return Ctx::internal(CHECK, "the token check passed without leaving a token");
    };
    let Some(url) = cx.graph_user_url(&["sendMail"]) else {
        return Finding::skip(CHECK, "no sending mailbox was given (--mailbox)");
    };
    let http = match cx.http_or_finding(CHECK) {
        Ok(h) => h,
        Err(f) => return f,
    };
    let mailbox = cx.target.mailbox.as_deref().unwrap_or_default().trim();
    let from = cx
        .target
        .from
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.eq_ignore_ascii_case(mailbox));
    let fetch = match http
        .post_json(
            &url,
            Some(&token.value),
            &message(to, from),
            DEFAULT_BODY_CAP,
        )
        .await
    {
        Ok(reply) => GraphFetch::Reply(reply),
        Err(e) => GraphFetch::Net(e),
    };
    let mut f = match read(&fetch, GraphOp::SendMail) {
        Read::Ok(reply) => Finding::pass(
            CHECK,
            format!(
                "Graph accepted the test message to {to} (HTTP {}: queued, not yet delivered)",
                reply.status
            ),
        ),
        Read::Rule { rule, evidence, .. } => {
            let mut f = cx.judged(CHECK, rule, summary(rule, mailbox, from));
            f.evidence = evidence;
            f
        }
        Read::Inconclusive(why) => {
            Finding::skip(CHECK, format!("the test message could not be sent: {why}"))
        }
    };
    f.evidence.insert(0, Evidence::new("recipient", to));
    if let Some(from) = from {
        f.evidence.insert(1, Evidence::new("from", from));
    }
    f
}

fn summary(rule: RuleId, mailbox: &str, from: Option<&str>) -> String {
    match rule {
        ids::GRAPH_ACCESS_DENIED => {
            format!("Graph denied sending as {mailbox} (ErrorAccessDenied)")
        }
        ids::GRAPH_APPLICATION_ACCESS_POLICY => {
            format!("an Application Access Policy keeps this app out of {mailbox}")
        }
        ids::GRAPH_SEND_AS_DENIED => format!(
            "{mailbox} may not send as {}",
            from.unwrap_or("the From address")
        ),
        ids::GRAPH_INVALID_RECIPIENTS => "Graph refused the recipient".to_string(),
        ids::GRAPH_THROTTLED => {
            "Graph is throttling this app; retry after the time it gives".to_string()
        }
        ids::GRAPH_MAILBOX_NOT_ENABLED => format!("{mailbox} has no Exchange Online mailbox"),
        ids::GRAPH_MAILBOX_NOT_FOUND => format!("{mailbox} is not a user in this tenant"),
        ids::GRAPH_TOKEN_REJECTED => "Graph refused the token".to_string(),
        other => format!("Graph refused the test message ({other})"),
    }
}
