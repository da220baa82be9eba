//! Messages the lab accepted for delivery (Graph sendMail, SMTP submission, the MX), so tests and the
//! CLI can see that a send really went through.

use std::sync::Mutex;

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// How it was submitted: `graph` (sendMail), `smtp-submission`, `mx-direct-send` or
    /// `mx-relay` (the MX, attributed to a connector).
    pub channel: &'static str,
    /// The mailbox it was sent from (the one in the URL or the authenticated one).
    pub mailbox: String,
    /// The From address.
    pub from: String,
    pub recipients: Vec<String>,
    pub subject: String,
}

#[derive(Default)]
pub(crate) struct Outbox(Mutex<Vec<SentMessage>>);

impl Outbox {
    pub fn push(&self, message: SentMessage) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message);
    }

    pub fn snapshot(&self) -> Vec<SentMessage> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
