//! One SMTP connection: plain TCP until STARTTLS, then TLS; reading lines with a length bound
//! and an idle deadline; writing replies.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A client that neither finishes the TLS handshake nor gives up is dropped after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Between taking the TCP stream for the handshake and getting the TLS stream back.
    Gone,
}

/// A line read from the client.
pub(super) enum Line {
    /// Without its CRLF (or bare LF); bytes that are not UTF-8 are replaced.
    Text(String),
    /// Longer than the bound; the whole line was read and dropped.
    TooLong,
}

/// Why no line came.
#[derive(Debug)]
pub(super) enum ReadError {
    Closed,
    Idle,
}

pub(super) struct Conn {
    transport: Transport,
    buf: Vec<u8>,
    idle: Duration,
    /// Added once per round trip (`LabOptions::latency`): before the first reply that follows
    /// bytes from the client (or the greeting), not before each line of a pipelined batch.
    latency: Duration,
    /// The client sent something (or just connected) and has not been answered yet.
    latency_owed: bool,
}

impl Conn {
    pub fn new(tcp: TcpStream, idle: Duration, latency: Duration) -> Conn {
        Conn {
            transport: Transport::Plain(tcp),
            buf: Vec::new(),
            idle,
            latency,
            latency_owed: true,
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls(_))
    }

    /// The next line, at most `max` bytes before its line end.
    pub async fn read_line(&mut self, max: usize) -> Result<Line, ReadError> {
        let mut discarding = false;
        loop {
            if let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if discarding || line.len() > max {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Text(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.buf.len() > max + 1 {
                discarding = true;
                self.buf.clear();
            }
            let mut chunk = [0u8; 4096];
            let read = tokio::time::timeout(self.idle, self.read(&mut chunk)).await;
            match read {
                Err(_) => return Err(ReadError::Idle),
                Ok(Ok(0)) | Ok(Err(_)) => return Err(ReadError::Closed),
                Ok(Ok(n)) => {
                    self.latency_owed = true;
                    self.buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }

    async fn read(&mut self, chunk: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.transport {
            Transport::Plain(s) => s.read(chunk).await,
            Transport::Tls(s) => s.read(chunk).await,
            Transport::Gone => Ok(0),
        }
    }

    /// Sends one reply (lines joined with CRLF by the caller) and its final CRLF.
    pub async fn send(&mut self, reply: &str) -> std::io::Result<()> {
        let bytes = format!("{reply}\r\n").into_bytes();
        if std::mem::take(&mut self.latency_owed) && !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let write = async {
            match &mut self.transport {
                Transport::Plain(s) => {
                    s.write_all(&bytes).await?;
                    s.flush().await
                }
                Transport::Tls(s) => {
                    s.write_all(&bytes).await?;
                    s.flush().await
                }
                Transport::Gone => Err(std::io::Error::from(std::io::ErrorKind::NotConnected)),
            }
        };
        tokio::time::timeout(self.idle, write)
            .await
            .unwrap_or_else(|_| Err(std::io::Error::from(std::io::ErrorKind::TimedOut)))
    }

    /// The server side of the TLS handshake after `220 2.0.0 SMTP server ready`. Anything the
    /// client pipelined before the handshake is discarded (RFC 3207 §4.2). On failure the
    /// connection is unusable and the session must end.
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> bool {
        self.buf.clear();
        let Transport::Plain(tcp) = std::mem::replace(&mut self.transport, Transport::Gone) else {
            return false;
        };
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => {
                self.transport = Transport::Tls(Box::new(tls));
                true
            }
            _ => false,
        }
    }
}
