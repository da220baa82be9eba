//! Helpers for the mail-path tests: a small SMTP client written here on plain tokio and
//! tokio-rustls (trusting only the lab CA), tokens from the lab's Entra endpoint, XOAUTH2 blobs.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use diag_lab::{Lab, LabOptions, Scenario};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Every read in these tests has a deadline: a lab that stops answering fails the test.
const DEADLINE: Duration = Duration::from_secs(20);

/// The submission server's negative-reply tag and the MX's.
pub const SUBMISSION_TAG: &str = " [LAB1P264CA0001.EURP264.PROD.OUTLOOK.COM]";
pub const MX_TAG: &str = " [LAB1EUR01FT001.eop-EUR01.prod.protection.outlook.com]";

pub fn builtin(name: &str) -> Res<Scenario> {
    Scenario::builtin(name).ok_or_else(|| format!("no built-in scenario {name}").into())
}

pub async fn start(name: &str) -> Res<Lab> {
    start_scenario(&builtin(name)?).await
}

pub async fn start_scenario(scenario: &Scenario) -> Res<Lab> {
    Ok(Lab::start(scenario, LabOptions::default()).await?)
}

pub fn submission(lab: &Lab) -> Res<SocketAddr> {
    lab.endpoints()
        .smtp_submission
        .ok_or_else(|| "no submission endpoint".into())
}

pub fn mx(lab: &Lab) -> Res<SocketAddr> {
    lab.endpoints().mx.ok_or_else(|| "no MX endpoint".into())
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A line-oriented SMTP client.
pub struct Smtp {
    stream: Option<Stream>,
    buf: Vec<u8>,
    /// The greeting line.
    pub banner: String,
}

impl Smtp {
    /// Connects and reads the greeting.
    pub async fn connect(addr: SocketAddr) -> Res<Smtp> {
        let tcp = tokio::time::timeout(DEADLINE, TcpStream::connect(addr)).await??;
        let mut smtp = Smtp {
            stream: Some(Stream::Plain(tcp)),
            buf: Vec::new(),
            banner: String::new(),
        };
        smtp.banner = smtp.reply().await?;
        Ok(smtp)
    }

    /// Reads one (possibly multi-line) reply, lines joined with `\n`.
    pub async fn reply(&mut self) -> Res<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await?;
            let last = line.len() < 4 || line.as_bytes()[3] != b'-';
            lines.push(line);
            if last {
                return Ok(lines.join("\n"));
            }
        }
    }

    async fn line(&mut self) -> Res<String> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                return Ok(String::from_utf8(line[..end].to_vec())?);
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(DEADLINE, self.read(&mut chunk)).await??;
            if n == 0 {
                return Err("connection closed by the lab".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn read(&mut self, chunk: &mut [u8]) -> std::io::Result<usize> {
        match self.stream.as_mut() {
            Some(Stream::Plain(s)) => s.read(chunk).await,
            Some(Stream::Tls(s)) => s.read(chunk).await,
            None => Ok(0),
        }
    }

    /// Sends raw bytes.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Res<()> {
        match self.stream.as_mut() {
            Some(Stream::Plain(s)) => write_all(s, bytes).await,
            Some(Stream::Tls(s)) => write_all(s, bytes).await,
            None => Err("not connected".into()),
        }
    }

    /// Sends a command line and returns the reply.
    pub async fn cmd(&mut self, line: &str) -> Res<String> {
        self.send_raw(format!("{line}\r\n").as_bytes()).await?;
        self.reply().await
    }

    /// `STARTTLS` then a TLS handshake with `config`. Returns the 220 reply; errors when the
    /// handshake fails.
    pub async fn starttls_with(&mut self, config: rustls::ClientConfig) -> Res<String> {
        let ready = self.cmd("STARTTLS").await?;
        let Some(Stream::Plain(tcp)) = self.stream.take() else {
            return Err("TLS already active".into());
        };
        let connector = TlsConnector::from(Arc::new(config));
        let tls = tokio::time::timeout(
            DEADLINE,
            connector.connect(ServerName::try_from("localhost")?, tcp),
        )
        .await??;
        self.stream = Some(Stream::Tls(Box::new(tls)));
        Ok(ready)
    }

    pub async fn starttls(&mut self, lab: &Lab) -> Res<String> {
        self.starttls_with(client_config(
            lab,
            &[&rustls::version::TLS12, &rustls::version::TLS13],
        )?)
        .await
    }

    /// The plain TCP stream (for raw TLS probes after `STARTTLS`).
    pub fn take_plain(&mut self) -> Option<TcpStream> {
        match self.stream.take() {
            Some(Stream::Plain(tcp)) => Some(tcp),
            other => {
                self.stream = other;
                None
            }
        }
    }

    /// MAIL, RCPT..., DATA and a small message; returns the replies in order.
    pub async fn send_message(
        &mut self,
        from: &str,
        to: &[&str],
        header_from: &str,
    ) -> Res<Vec<String>> {
        let mut replies = vec![self.cmd(&format!("MAIL FROM:<{from}>")).await?];
        for r in to {
            replies.push(self.cmd(&format!("RCPT TO:<{r}>")).await?);
        }
        replies.push(self.cmd("DATA").await?);
        if replies.last().is_some_and(|r| r.starts_with("354")) {
            let body = format!(
                "From: Scanner <{header_from}>\r\nTo: {}\r\nSubject: Scan 0042\r\n\r\nScanned document attached.\r\n..a line starting with a dot\r\n.\r\n",
                to.join(", ")
            );
            self.send_raw(body.as_bytes()).await?;
            replies.push(self.reply().await?);
        }
        Ok(replies)
    }
}

async fn write_all<S: AsyncWrite + AsyncRead + Unpin>(s: &mut S, bytes: &[u8]) -> Res<()> {
    s.write_all(bytes).await?;
    s.flush().await?;
    Ok(())
}

/// A rustls client trusting only the lab CA, limited to `versions`.
pub fn client_config(
    lab: &Lab,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Res<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(lab.ca_pem().as_bytes())?)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Connects to the submission server, EHLO, STARTTLS, EHLO again.
pub async fn submission_session(lab: &Lab) -> Res<Smtp> {
    let mut smtp = Smtp::connect(submission(lab)?).await?;
    smtp.cmd("EHLO scanner.contoso.local").await?;
    let ready = smtp.starttls(lab).await?;
    assert_eq!(ready, "220 2.0.0 SMTP server ready");
    let ehlo = smtp.cmd("EHLO scanner.contoso.local").await?;
    assert!(ehlo.contains("250-AUTH LOGIN XOAUTH2"), "{ehlo}");
    Ok(smtp)
}

/// The XOAUTH2 initial response for `user` and `token` (reference §4).
pub fn xoauth2(user: &str, token: &str) -> String {
    STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

/// An HTTPS client trusting only the lab CA.
pub fn http(lab: &Lab) -> Res<reqwest::Client> {
    let config = client_config(lab, &[&rustls::version::TLS12, &rustls::version::TLS13])?;
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .resolve("localhost", "127.0.0.1:0".parse()?)
        .timeout(DEADLINE)
        .build()?)
}

/// A token from the lab's token endpoint for `form` (client id, secret... as given).
pub async fn token(lab: &Lab, form: &[(&str, &str)]) -> Res<String> {
    let tenant = &lab.device().settings.tenant;
    let url = format!("{}/{tenant}/oauth2/v2.0/token", lab.endpoints().login_base);
    let response = http(lab)?.post(url).form(form).send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no token: {status} {body}").into())
}

/// An app-only token for the scenario's device app and `scope`.
pub async fn app_token(lab: &Lab, scope: &str) -> Res<String> {
    let d = lab.device().settings.clone();
    token(
        lab,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &d.client_id),
            ("client_secret", &d.client_secret),
            ("scope", scope),
        ],
    )
    .await
}

pub const EXCHANGE_SCOPE: &str = "https://outlook.office365.com/.default";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
