//! The command loop both roles share: greeting, EHLO/HELO, STARTTLS, the mail transaction,
//! limits. Role-specific decisions live in `submission` (AUTH, Send As) and `mx` (relay, direct
//! send, SPF/DMARC).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::TcpStream;

use super::conn::{Conn, Line, ReadError};
use super::{Role, Shared, command, data, mx, replies, submission};
use crate::outbox::SentMessage;

/// Longest command line (AUTH lines carry a whole token; RFC 4954 allows 12288 octets).
pub(super) const COMMAND_LINE_MAX: usize = 16 * 1024;
/// A client silent for this long is told so and disconnected.
const IDLE: Duration = Duration::from_secs(120);
/// Commands per connection, and failed commands per connection.
const MAX_COMMANDS: usize = 500;
const MAX_ERRORS: u32 = 20;
const MAX_RECIPIENTS: usize = 500;
/// The lab keeps messages up to this size (a lab bound, smaller than the advertised SIZE).
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// A mail transaction in progress.
pub(super) struct Envelope {
    /// Envelope sender; empty for the null path `<>`.
    pub from: String,
    pub recipients: Vec<String>,
}

pub(super) struct Session {
    pub role: Role,
    pub shared: Arc<Shared>,
    pub conn: Conn,
    pub greeted: bool,
    /// The address the lab treats the client as connecting from (`site_public_ip`, or XCLIENT).
    pub site_ip: IpAddr,
    /// Submission: the mailbox the client authenticated as.
    pub authenticated: Option<String>,
    pub envelope: Option<Envelope>,
    errors: u32,
}

enum Flow {
    Continue,
    Close,
}

/// Serves one connection to its end.
pub(super) async fn run(tcp: TcpStream, role: Role, shared: Arc<Shared>) {
    let site_ip = shared.state.scenario.network.site_public_ip;
    let latency = shared.latency;
    let mut session = Session {
        role,
        shared,
        conn: Conn::new(tcp, IDLE, latency),
        greeted: false,
        site_ip,
        authenticated: None,
        envelope: None,
        errors: 0,
    };
    if session
        .conn
        .send(&replies::banner(role, Utc::now()))
        .await
        .is_err()
    {
        return;
    }
    for _ in 0..MAX_COMMANDS {
        let line = match session.conn.read_line(COMMAND_LINE_MAX).await {
            Ok(Line::Text(line)) => line,
            Ok(Line::TooLong) => {
                if session.fail(replies::LINE_TOO_LONG).await.is_err() {
                    return;
                }
                continue;
            }
            Err(ReadError::Idle) => {
                let _ = session.fail(replies::IDLE_TIMEOUT).await;
                return;
            }
            Err(ReadError::Closed) => return,
        };
        match session.handle(&line).await {
            Ok(Flow::Continue) => {}
            Ok(Flow::Close) | Err(_) => return,
        }
        if session.errors > MAX_ERRORS {
            let _ = session.fail(replies::TOO_MANY_ERRORS).await;
            return;
        }
    }
    let _ = session.fail(replies::TOO_MANY_ERRORS).await;
}

/// Answers a connection over the session limit.
pub(super) async fn turn_away(tcp: TcpStream, role: Role) {
    let mut conn = Conn::new(tcp, Duration::from_secs(5), Duration::ZERO);
    let _ = conn.send(&replies::tagged(role, replies::BUSY)).await;
}

impl Session {
    /// Sends a positive or intermediate reply.
    pub async fn reply(&mut self, text: &str) -> std::io::Result<()> {
        self.conn.send(text).await
    }

    /// Sends a negative reply (server tag appended) and counts it.
    pub async fn fail(&mut self, text: &str) -> std::io::Result<()> {
        self.errors += 1;
        let reply = replies::tagged(self.role, text);
        self.conn.send(&reply).await
    }

    async fn handle(&mut self, line: &str) -> std::io::Result<Flow> {
        let (verb, argument) = command::split(line);
        match verb.as_str() {
            "EHLO" | "HELO" => self.hello(&verb, argument).await?,
            "STARTTLS" => return self.starttls().await,
            "AUTH" => match self.role {
                Role::Submission => submission::auth(self, argument).await?,
                Role::Mx => self.fail(replies::UNRECOGNIZED_AUTH).await?,
            },
            "MAIL" => self.mail(argument).await?,
            "RCPT" => self.rcpt(argument).await?,
            "DATA" => self.data().await?,
            "RSET" => {
                self.envelope = None;
                self.reply(replies::RESET).await?;
            }
            "NOOP" => self.reply(replies::OK).await?,
            "VRFY" => self.reply(replies::CANNOT_VRFY).await?,
            "QUIT" => {
                self.reply(replies::BYE).await?;
                return Ok(Flow::Close);
            }
            "XCLIENT" if self.role == Role::Mx => mx::xclient(self, argument).await?,
            _ => self.fail(&replies::unrecognized(&verb)).await?,
        }
        Ok(Flow::Continue)
    }

    /// The client address as EHLO shows it.
    fn client_ip(&self) -> String {
        self.site_ip.to_string()
    }

    async fn hello(&mut self, verb: &str, argument: &str) -> std::io::Result<()> {
        if argument.is_empty() {
            return self.fail(replies::INVALID_DOMAIN).await;
        }
        self.greeted = true;
        self.envelope = None;
        let reply = if verb == "EHLO" {
            replies::ehlo(self.role, &self.client_ip(), self.conn.is_tls())
        } else {
            replies::helo(self.role, &self.client_ip())
        };
        self.reply(&reply).await
    }

    async fn starttls(&mut self) -> std::io::Result<Flow> {
        if self.conn.is_tls() || self.envelope.is_some() {
            self.fail(replies::BAD_SEQUENCE).await?;
            return Ok(Flow::Continue);
        }
        self.reply(replies::STARTTLS_READY).await?;
        let acceptor = self.shared.tls.clone();
        if !self.conn.start_tls(&acceptor).await {
            return Ok(Flow::Close);
        }
        // RFC 3207 §4.2: the session starts over after the handshake.
        self.greeted = false;
        self.authenticated = None;
        self.envelope = None;
        Ok(Flow::Continue)
    }

    async fn mail(&mut self, argument: &str) -> std::io::Result<()> {
        if !self.greeted {
            return self.fail(replies::SEND_HELLO_FIRST).await;
        }
        if self.role == Role::Submission {
            if !self.conn.is_tls() {
                return self.fail(replies::MUST_STARTTLS).await;
            }
            if self.authenticated.is_none() {
                return self.fail(replies::NOT_AUTHENTICATED).await;
            }
        }
        if self.envelope.is_some() {
            return self.fail(replies::SENDER_ALREADY).await;
        }
        let Some(from) = command::path(argument, "FROM") else {
            return self.fail(replies::INVALID_SENDER).await;
        };
        self.envelope = Some(Envelope {
            from: from.to_string(),
            recipients: Vec::new(),
        });
        self.reply(replies::SENDER_OK).await
    }

    async fn rcpt(&mut self, argument: &str) -> std::io::Result<()> {
        let Some(envelope) = &self.envelope else {
            return self.fail(replies::NEED_MAIL).await;
        };
        let Some(recipient) = command::path(argument, "TO").filter(|r| !r.is_empty()) else {
            return self.fail(replies::INVALID_RECIPIENT).await;
        };
        if envelope.recipients.len() >= MAX_RECIPIENTS {
            return self.fail(replies::TOO_MANY_RECIPIENTS).await;
        }
        if self.role == Role::Mx
            && let Err(refusal) = mx::recipient(self, &envelope.from, recipient)
        {
            return self.fail(&refusal).await;
        }
        if let Some(envelope) = &mut self.envelope {
            envelope.recipients.push(recipient.to_string());
        }
        self.reply(replies::RECIPIENT_OK).await
    }

    async fn data(&mut self) -> std::io::Result<()> {
        match &self.envelope {
            None => return self.fail(replies::NEED_MAIL).await,
            Some(e) if e.recipients.is_empty() => return self.fail(replies::NEED_RCPT).await,
            Some(_) => {}
        }
        self.reply(replies::START_DATA).await?;
        let message = match data::read(&mut self.conn, MAX_MESSAGE).await {
            Ok(m) => m,
            Err(_) => return Err(std::io::Error::from(std::io::ErrorKind::ConnectionAborted)),
        };
        let Some(envelope) = self.envelope.take() else {
            return Ok(());
        };
        if message.too_big {
            return self.fail(replies::MESSAGE_TOO_BIG).await;
        }
        let verdict = match self.role {
            Role::Submission => submission::accept(self, &envelope, &message),
            Role::Mx => mx::accept(self, &envelope, &message),
        };
        let (channel, mailbox) = match verdict {
            Ok(accepted) => accepted,
            Err(refusal) => return self.fail(&refusal).await,
        };
        let from = message
            .from
            .clone()
            .unwrap_or_else(|| envelope.from.clone());
        self.shared.state.outbox.push(SentMessage {
            channel,
            mailbox,
            from,
            recipients: envelope.recipients,
            subject: message.subject,
        });
        let id = format!(
            "{}@{}",
            crate::ids::random().to_ascii_uppercase(),
            replies::host(self.role)
        );
        self.reply(&replies::queued(&id)).await
    }
}
