//! A raw SMTP client for the mail-path checks, on tokio and tokio-rustls (ring provider):
//! connect with a deadline, read replies whole (multi-line, split across reads) within a line
//! cap and a reply cap, EHLO capabilities before and after TLS, STARTTLS with the negotiated
//! version, cipher suite, chain and root recorded, an implicit-TLS probe, AUTH XOAUTH2 driven by
//! hand (the `334` challenge kept and answered with an empty line), MAIL / RCPT / DATA, and a
//! transcript in which the AUTH payload and any token are redacted.
//!
//! Replies are data, not errors: a `535` comes back as a `Reply` for `classify::smtp` to read.
//! `SmtpError` is for exchanges that produced no reply (deadline, closed, not SMTP, TLS).
mod client;
mod device_hello;
mod ehlo;
mod error;
mod reply;
mod tls;
mod transcript;
mod xoauth2;

pub use client::{AuthExchange, DataExchange, DeviceStartTls, SmtpClient, StartTls};
pub use device_hello::{ServerChose, client_hello, describe as describe_device_tls};
pub use ehlo::Capabilities;
pub use error::SmtpError;
pub use reply::{EnhancedCode, MAX_LINE, MAX_REPLY, Reply, preview};
pub use tls::{
    CertSummary, ImplicitTls, RootInfo, TlsFailure, TlsFailureKind, TlsInfo, TlsSetup, TlsVersions,
    probe_implicit_tls,
};
pub use transcript::Transcript;
pub use xoauth2::{Challenge, initial_response};
