//! The SMTP client: one connection, one command at a time, every reply read in full (the
//! `ReadBuf` keeps what a server sends early), a deadline on every command, a transcript of
//! the dialogue. XOAUTH2 is driven by hand so the whole reply is kept, including a `334`
//! challenge (answered with an empty line) and the final reply after it.
use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf as IoReadBuf},
    net::TcpStream,
};
use tokio_rustls::client::TlsStream;

use super::{
    device_hello::{self, ServerChose},
    error::SmtpError,
    reply::{MAX_REPLY, ReadBuf, ReadError, Reply, read_reply},
    tls::{TlsInfo, TlsSetup, TlsVersions, handshake},
    transcript::Transcript,
    xoauth2::{Challenge, initial_response},
};
use crate::{
    net::{error::human_duration, tcp},
    secret::Secret,
    target::DeviceTls,
};

/// QUIT is a courtesy: it never gets more than this.
const QUIT_DEADLINE: Duration = Duration::from_secs(2);

enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Between taking the plain stream and the end of a failed handshake.
    Gone,
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut IoReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Transport::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Transport::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Transport::Gone => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Transport::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// STARTTLS with a device's hand-written ClientHello: what the server chose, or its refusal of
/// STARTTLS (its reply). A refused handshake is `SmtpError::Tls`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceStartTls {
    Accepted(ServerChose),
    Refused(Reply),
}

/// STARTTLS: upgraded, or the server said no (its reply).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartTls {
    Upgraded(TlsInfo),
    Refused(Reply),
}

/// AUTH XOAUTH2 as it went: the first reply, and when that was a `334` challenge, the challenge
/// and the reply to the empty line that answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthExchange {
    pub first: Reply,
    pub challenge: Option<Challenge>,
    /// The reply that decides (the first one when there was no challenge).
    pub last: Reply,
}

impl AuthExchange {
    pub fn succeeded(&self) -> bool {
        self.last.code == 235
    }
}

/// DATA as it went: the reply to `DATA` (354 to go on), then the reply to the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataExchange {
    pub start: Reply,
    pub end: Option<Reply>,
}

pub struct SmtpClient {
    transport: Transport,
    buf: ReadBuf,
    deadline: Duration,
    host: String,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    tls: Option<TlsInfo>,
    transcript: Transcript,
}

impl SmtpClient {
    /// A client on an open connection to `host` (the TLS server name).
    pub fn new(stream: TcpStream, host: &str, deadline: Duration) -> SmtpClient {
        SmtpClient {
            peer: stream.peer_addr().ok(),
            local: stream.local_addr().ok(),
            transport: Transport::Plain(stream),
            buf: ReadBuf::default(),
            deadline,
            host: host.to_string(),
            tls: None,
            transcript: Transcript::default(),
        }
    }

    /// Connects to `host:port` (or to `addr`, when given) within `deadline`.
    pub async fn connect(
        host: &str,
        port: u16,
        addr: Option<SocketAddr>,
        deadline: Duration,
    ) -> Result<SmtpClient, SmtpError> {
        let c = tcp::connect(host, port, addr, deadline)
            .await
            .map_err(SmtpError::Connect)?;
        let mut client = SmtpClient::new(c.stream, host, deadline);
        client.transcript.note(&format!(
            "connected to {} in {} ms",
            c.addr,
            c.elapsed.as_millis()
        ));
        Ok(client)
    }

    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }
    pub fn host(&self) -> &str {
        &self.host
    }
    /// The TLS session, once STARTTLS succeeded.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }
    pub fn note(&mut self, text: &str) {
        self.transcript.note(text);
    }

    /// The server's greeting (`220 ...`).
    pub async fn greeting(&mut self) -> Result<Reply, SmtpError> {
        self.read("the greeting").await
    }

    /// What to say after EHLO: the connection's own address as an address literal (RFC 5321),
    /// which is true and needs no name.
    pub fn ehlo_name(&self) -> String {
        match self.local.map(|a| a.ip()) {
            Some(std::net::IpAddr::V4(ip)) => format!("[{ip}]"),
            Some(std::net::IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
            None => "[127.0.0.1]".into(),
        }
    }

    pub async fn ehlo(&mut self) -> Result<Reply, SmtpError> {
        let line = format!("EHLO {}", self.ehlo_name());
        self.command(&line, &line, "EHLO").await
    }

    /// STARTTLS and the handshake. Bytes the server sent before the handshake are dropped.
    pub async fn starttls(
        &mut self,
        setup: &TlsSetup,
        versions: TlsVersions,
    ) -> Result<StartTls, SmtpError> {
        if self.tls.is_some() {
            return Err(SmtpError::BadInput(
                "STARTTLS on a connection that already uses TLS".into(),
            ));
        }
        let reply = self.command("STARTTLS", "STARTTLS", "STARTTLS").await?;
        if reply.code != 220 {
            return Ok(StartTls::Refused(reply));
        }
        let early = self.buf.clear();
        if early > 0 {
            self.transcript.note(&format!(
                "{early} bytes arrived after the 220 in plain text and were dropped"
            ));
        }
        let Transport::Plain(tcp) = std::mem::replace(&mut self.transport, Transport::Gone) else {
            return Err(SmtpError::BadInput(
                "STARTTLS on a connection that is not plain TCP".into(),
            ));
        };
        match handshake(setup, versions, &self.host, tcp, self.deadline).await {
            Ok((stream, info)) => {
                self.transcript.note(&format!(
                    "{} negotiated, cipher suite {}",
                    info.version, info.cipher
                ));
                self.transport = Transport::Tls(Box::new(stream));
                self.tls = Some(info.clone());
                Ok(StartTls::Upgraded(info))
            }
            Err(f) => {
                self.transcript
                    .note(&format!("TLS handshake failed: {}", f.detail));
                Err(SmtpError::Tls(f))
            }
        }
    }

    /// STARTTLS, then the ClientHello `device` would send instead of rustls' (see
    /// `device_hello`), and the server's first answer. The connection cannot go on afterwards.
    pub async fn starttls_as_device(
        &mut self,
        device: DeviceTls,
    ) -> Result<DeviceStartTls, SmtpError> {
        let reply = self.command("STARTTLS", "STARTTLS", "STARTTLS").await?;
        if reply.code != 220 {
            return Ok(DeviceStartTls::Refused(reply));
        }
        self.buf.clear();
        let Transport::Plain(tcp) = &mut self.transport else {
            return Err(SmtpError::BadInput(
                "STARTTLS on a connection that is not plain TCP".into(),
            ));
        };
        self.transcript.note(&format!(
            "ClientHello as the device: {}",
            device_hello::describe(device)
        ));
        let result = device_hello::offer(tcp, device, &self.host, self.deadline).await;
        self.transport = Transport::Gone;
        match result {
            Ok(chose) => {
                self.transcript.note(&format!(
                    "the server chose {} with {}",
                    chose.version, chose.suite
                ));
                Ok(DeviceStartTls::Accepted(chose))
            }
            Err(f) => {
                self.transcript
                    .note(&format!("TLS handshake failed: {}", f.detail));
                Err(SmtpError::Tls(f))
            }
        }
    }

    /// `AUTH XOAUTH2 <initial response>`; a `334` challenge is decoded and answered with an
    /// empty line, then the final reply is read. The payload never reaches the transcript.
    pub async fn auth_xoauth2(
        &mut self,
        user: &str,
        token: &Secret<String>,
    ) -> Result<AuthExchange, SmtpError> {
        check_safe(user)?;
        let ir = initial_response(user, token);
        let line = Secret::new(format!("AUTH XOAUTH2 {}", ir.expose()));
        let mut first = self
            .command(line.expose(), "AUTH XOAUTH2 [redacted]", "AUTH")
            .await?;
        let mut reply = first.clone();
        if line_too_long(&first) {
            // Some servers cap command lines at 512 octets (RFC 4954 asks for 12288 with AUTH):
            // the documented other form sends the response on a line of its own after a 334.
            self.transcript.note(
                "the AUTH line was too long for the server: the response goes on its own line",
            );
            first = self.command("AUTH XOAUTH2", "AUTH XOAUTH2", "AUTH").await?;
            reply = first.clone();
            if reply.code == 334 {
                reply = self
                    .command(ir.expose(), "(XOAUTH2 response, redacted)", "AUTH")
                    .await?;
            }
        }
        if reply.code != 334 {
            return Ok(AuthExchange {
                first,
                challenge: None,
                last: reply,
            });
        }
        let challenge = Challenge::parse(&reply.text());
        if let Some(d) = &challenge.decoded {
            self.transcript.note(&format!("challenge decoded: {d}"));
        }
        let mut last = self.command("", "(empty line)", "AUTH").await?;
        if last.code == 334 {
            // Still asking: cancel (RFC 4954), so the session stays in step.
            last = self.command("*", "*", "AUTH").await?;
        }
        Ok(AuthExchange {
            first,
            challenge: Some(challenge),
            last,
        })
    }

    pub async fn mail_from(&mut self, from: &str) -> Result<Reply, SmtpError> {
        check_safe(from)?;
        let line = format!("MAIL FROM:<{from}>");
        self.command(&line, &line, "MAIL FROM").await
    }

    pub async fn rcpt_to(&mut self, to: &str) -> Result<Reply, SmtpError> {
        check_safe(to)?;
        let line = format!("RCPT TO:<{to}>");
        self.command(&line, &line, "RCPT TO").await
    }

    pub async fn rset(&mut self) -> Result<Reply, SmtpError> {
        self.command("RSET", "RSET", "RSET").await
    }

    /// DATA, then `message` (line endings made CR LF, lines starting with `.` doubled), then
    /// the final dot. The transcript shows the size, not the message.
    pub async fn data(&mut self, message: &str) -> Result<DataExchange, SmtpError> {
        let start = self.command("DATA", "DATA", "DATA").await?;
        if start.code != 354 {
            return Ok(DataExchange { start, end: None });
        }
        let mut body = String::with_capacity(message.len() + 16);
        let mut lines = 0usize;
        for line in message.lines() {
            if line.starts_with('.') {
                body.push('.');
            }
            body.push_str(line);
            body.push_str("\r\n");
            lines += 1;
        }
        body.push_str(".\r\n");
        self.transcript
            .client(&format!("(message: {lines} lines, {} bytes)", body.len()));
        self.transcript.client(".");
        self.write(&body, "the end of the message").await?;
        let end = self.read("the end of the message").await?;
        Ok(DataExchange {
            start,
            end: Some(end),
        })
    }

    /// QUIT, best effort, then close.
    pub async fn quit(&mut self) {
        let deadline = self.deadline.min(QUIT_DEADLINE);
        let fut = async {
            self.transcript.client("QUIT");
            self.transport.write_all(b"QUIT\r\n").await.ok()?;
            self.transport.flush().await.ok()?;
            let reply = read_reply(&mut self.transport, &mut self.buf).await.ok()?;
            self.transcript.server(&reply);
            self.transport.shutdown().await.ok()
        };
        let _ = tokio::time::timeout(deadline, fut).await;
    }

    /// Sends `line` (shown in the transcript as `shown`) and reads the reply.
    async fn command(&mut self, line: &str, shown: &str, what: &str) -> Result<Reply, SmtpError> {
        if line.contains(['\r', '\n']) {
            return Err(SmtpError::BadInput(format!(
                "a line break inside the {what} command"
            )));
        }
        self.transcript.client(shown);
        self.write(&format!("{line}\r\n"), what).await?;
        self.read(what).await
    }

    async fn write(&mut self, data: &str, what: &str) -> Result<(), SmtpError> {
        let deadline = self.deadline;
        let sent = tokio::time::timeout(deadline, async {
            self.transport.write_all(data.as_bytes()).await?;
            self.transport.flush().await
        })
        .await;
        match sent {
            Err(_) => Err(self.timed_out(what)),
            Ok(Err(e)) => {
                self.transcript
                    .note(&format!("sending failed: {}", e.kind()));
                Err(match e.kind() {
                    io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::NotConnected => SmtpError::Closed {
                        waiting_for: what.to_string(),
                    },
                    _ => SmtpError::Io {
                        waiting_for: what.to_string(),
                        detail: e.to_string(),
                    },
                })
            }
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn read(&mut self, what: &str) -> Result<Reply, SmtpError> {
        let got = tokio::time::timeout(
            self.deadline,
            read_reply(&mut self.transport, &mut self.buf),
        )
        .await;
        let waiting_for = what.to_string();
        match got {
            Err(_) => Err(self.timed_out(what)),
            Ok(Ok(reply)) => {
                self.transcript.server(&reply);
                Ok(reply)
            }
            Ok(Err(e)) => {
                let err = match e {
                    ReadError::Closed => SmtpError::Closed { waiting_for },
                    ReadError::TooLong => SmtpError::TooLong {
                        waiting_for,
                        limit: MAX_REPLY,
                    },
                    ReadError::NotSmtp {
                        preview,
                        looks_like_tls,
                    } => SmtpError::NotSmtp {
                        waiting_for,
                        preview,
                        looks_like_tls,
                    },
                    ReadError::Io(detail) => SmtpError::Io {
                        waiting_for,
                        detail,
                    },
                };
                self.transcript.note(&err.to_string());
                Err(err)
            }
        }
    }

    fn timed_out(&mut self, what: &str) -> SmtpError {
        let after = human_duration(self.deadline);
        self.transcript
            .note(&format!("no reply to {what} within {after}"));
        SmtpError::Timeout {
            waiting_for: what.to_string(),
            after,
        }
    }
}

/// "500 Command line too long", "500 5.5.6 Line too long".
fn line_too_long(reply: &Reply) -> bool {
    (500..=504).contains(&reply.code) && reply.text().to_ascii_lowercase().contains("too long")
}

/// An address goes into a command line: no line breaks, no angle brackets, no controls.
fn check_safe(address: &str) -> Result<(), SmtpError> {
    if address.is_empty()
        || address.len() > 320
        || address
            .chars()
            .any(|c| c.is_control() || c == '<' || c == '>')
    {
        return Err(SmtpError::BadInput(format!(
            "'{}' cannot be used in an SMTP command",
            address
                .chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect::<String>()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_line_breaks_or_brackets_are_refused() {
        assert!(check_safe("scanner@contoso.com").is_ok());
        for bad in ["a@b.com>\r\nRCPT TO:<x@y.com", "a@b.com\n", "<a@b.com>", ""] {
            assert!(check_safe(bad).is_err(), "{bad:?}");
        }
    }
}
