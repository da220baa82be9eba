//! Why an SMTP exchange stopped before a reply: the connection, the deadline, a server that is
//! not speaking SMTP, an oversized reply, or the TLS handshake. A reply the server did send,
//! however negative, is not an error: it is returned for the classifier to read.
use super::tls::TlsFailure;
use crate::net::tcp::ConnectError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmtpError {
    #[error("{0}")]
    Connect(ConnectError),
    /// No (complete) reply within the deadline.
    #[error("no reply to {waiting_for} within {after}")]
    Timeout { waiting_for: String, after: String },
    #[error("the server closed the connection while xdiag waited for the reply to {waiting_for}")]
    Closed { waiting_for: String },
    #[error("the reply to {waiting_for} is longer than {limit} bytes")]
    TooLong { waiting_for: String, limit: usize },
    /// The bytes that came back are not an SMTP reply (`looks_like_tls`: they are a TLS record).
    #[error("the answer to {waiting_for} is not SMTP (first bytes: {preview})")]
    NotSmtp {
        waiting_for: String,
        preview: String,
        looks_like_tls: bool,
    },
    #[error("reading the reply to {waiting_for} failed: {detail}")]
    Io { waiting_for: String, detail: String },
    #[error("{0}")]
    Tls(TlsFailure),
    /// A command xdiag was asked to send is unsafe (a line break in an address) or out of order.
    #[error("{0}")]
    BadInput(String),
}
