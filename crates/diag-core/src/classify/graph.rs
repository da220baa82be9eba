//! Microsoft Graph error answers (`/users/{id}`, `/mailboxSettings`, `/sendMail`) -> rule ids.
//! Graph's `error.code` decides, with the HTTP status where the code is generic.
use serde::Deserialize;

use crate::{
    finding::Evidence,
    rules::{RuleId, ids},
};

/// `{"error": {"code", "message", "innerError": {"request-id", "date", ...}}}` (reference §6).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, alias = "innererror", rename = "innerError")]
    pub inner_error: Option<InnerError>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct InnerError {
    #[serde(rename = "request-id")]
    pub request_id: Option<String>,
    pub date: Option<String>,
    #[serde(rename = "client-request-id")]
    pub client_request_id: Option<String>,
    /// Some services nest a more specific code here.
    pub code: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    error: GraphError,
}

impl GraphError {
    /// The body as a Graph error, if it is one.
    pub fn parse(body: &[u8]) -> Option<GraphError> {
        let env: Envelope = serde_json::from_slice(body).ok()?;
        (!env.error.code.is_empty()).then_some(env.error)
    }

    fn has_code(&self, code: &str) -> bool {
        self.code.eq_ignore_ascii_case(code)
            || self
                .inner_error
                .as_ref()
                .and_then(|i| i.code.as_deref())
                .is_some_and(|c| c.eq_ignore_ascii_case(code))
    }

    /// Code, message head and the ids Microsoft support asks for.
    pub fn evidence(&self) -> Vec<Evidence> {
        let mut ev = vec![Evidence::new("graph_code", &self.code)];
        if !self.message.is_empty() {
            ev.push(Evidence::new(
                "graph_message",
                self.message.chars().take(300).collect::<String>(),
            ));
        }
        if let Some(inner) = &self.inner_error {
            for (k, v) in [
                ("request_id", &inner.request_id),
                ("date", &inner.date),
                ("client_request_id", &inner.client_request_id),
            ] {
                if let Some(v) = v {
                    ev.push(Evidence::new(k, v));
                }
            }
        }
        ev
    }
}

/// Which Graph call answered: the same code means different things on a lookup and on a send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphOp {
    /// `GET /users/{id}`
    UserLookup,
    /// `GET /users/{id}/mailboxSettings`
    MailboxSettings,
    /// `POST /users/{id}/sendMail`
    SendMail,
}

/// The phrase Graph sends when an Application Access Policy (or RBAC scope) excludes the mailbox.
/// It shares the code `ErrorAccessDenied` with a plain missing permission, so here the message is
/// the only signal (reference §6, [MS]).
const ACCESS_POLICY_PHRASE: &str = "access to odata is disabled";

/// The rule for a Graph error answer, or `None` when xdiag does not know it.
pub fn classify(status: u16, err: Option<&GraphError>, op: GraphOp) -> Option<RuleId> {
    let code = |c: &str| err.is_some_and(|e| e.has_code(c));
    let message_has = |p: &str| err.is_some_and(|e| e.message.to_ascii_lowercase().contains(p));
    let rule = if code("MailboxNotEnabledForRESTAPI") || code("MailboxNotSupportedForRESTAPI") {
        ids::GRAPH_MAILBOX_NOT_ENABLED
    } else if code("ErrorInvalidUser")
        || code("Request_ResourceNotFound")
        || (status == 404 && op == GraphOp::UserLookup)
    {
        ids::GRAPH_MAILBOX_NOT_FOUND
    } else if status == 401 || code("InvalidAuthenticationToken") {
        ids::GRAPH_TOKEN_REJECTED
    } else if status == 429
        || code("ApplicationThrottled")
        || code("TooManyRequests")
        || code("MailboxConcurrency")
        || message_has("mailboxconcurrency")
    {
        ids::GRAPH_THROTTLED
    } else if message_has(ACCESS_POLICY_PHRASE) {
        ids::GRAPH_APPLICATION_ACCESS_POLICY
    } else if code("ErrorSendAsDenied") {
        ids::GRAPH_SEND_AS_DENIED
    } else if code("ErrorInvalidRecipients") {
        ids::GRAPH_INVALID_RECIPIENTS
    } else if code("Authorization_RequestDenied")
        || code("ErrorAccessDenied")
        || code("accessDenied")
        || status == 403
    {
        match op {
            GraphOp::SendMail => ids::GRAPH_ACCESS_DENIED,
            // A read the app may not do: the lookup is inconclusive, not a failure.
            GraphOp::UserLookup | GraphOp::MailboxSettings => ids::GRAPH_LOOKUP_NOT_PERMITTED,
        }
    } else {
        return None;
    };
    Some(rule)
}

/// Every rule this classifier can name.
pub fn rules() -> Vec<RuleId> {
    [
        ids::GRAPH_MAILBOX_NOT_ENABLED,
        ids::GRAPH_MAILBOX_NOT_FOUND,
        ids::GRAPH_TOKEN_REJECTED,
        ids::GRAPH_THROTTLED,
        ids::GRAPH_APPLICATION_ACCESS_POLICY,
        ids::GRAPH_SEND_AS_DENIED,
        ids::GRAPH_INVALID_RECIPIENTS,
        ids::GRAPH_ACCESS_DENIED,
        ids::GRAPH_LOOKUP_NOT_PERMITTED,
    ]
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_envelope_and_its_ids() {
        let body = br#"{"error":{"code":"ErrorAccessDenied","message":"Access to OData is disabled.","innerError":{"request-id":"r1","date":"2024-01-01T00:00:00","client-request-id":"c1"}}}"#;
        let e = GraphError::parse(body).expect("graph error");
        assert_eq!(
            classify(403, Some(&e), GraphOp::SendMail),
            Some(ids::GRAPH_APPLICATION_ACCESS_POLICY)
        );
        let ev = e.evidence();
        assert!(ev.iter().any(|x| x.key == "request_id" && x.value == "r1"));
    }

    #[test]
    fn the_same_denial_is_a_failure_on_send_and_inconclusive_on_a_lookup() {
        let e = GraphError {
            code: "ErrorAccessDenied".into(),
            message: "Access is denied. Check credentials and try again.".into(),
            inner_error: None,
        };
        assert_eq!(
            classify(403, Some(&e), GraphOp::SendMail),
            Some(ids::GRAPH_ACCESS_DENIED)
        );
        assert_eq!(
            classify(403, Some(&e), GraphOp::MailboxSettings),
            Some(ids::GRAPH_LOOKUP_NOT_PERMITTED)
        );
    }

    #[test]
    fn unknown_answers_are_not_guessed() {
        let e = GraphError {
            code: "generalException".into(),
            ..Default::default()
        };
        assert_eq!(classify(500, Some(&e), GraphOp::SendMail), None);
        assert_eq!(classify(502, None, GraphOp::UserLookup), None);
    }
}
