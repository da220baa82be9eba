//! A scripted SMTP server on 127.0.0.1 for the SMTP client and check tests: real TLS on
//! STARTTLS (rustls with a CA and a `localhost` certificate made by rcgen at start), the replies
//! Exchange Online sends, and the misbehaviours a diagnostic client must survive (silence, an
//! endless line, a megabyte of EHLO, replies dribbled byte by byte, implicit TLS, a handshake
//! alert, no STARTTLS). Each test sets the behaviour it needs; the default is a healthy
//! submission host. Every line the server receives is logged for the test to inspect.
//!
//! Independent of diag-core on purpose: it speaks the protocol from the reference, not from the
//! client's code.
#![allow(dead_code)]

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// The name in the server certificate (and what the client must ask for).
pub const HOST: &str = "localhost";

/// How the connection starts.
#[derive(Clone, Debug)]
pub enum Greeting {
    /// This line (CR LF added).
    Line(String),
    /// Accept, then say nothing at all.
    Silent,
    /// `A` bytes, forever, no line end.
    Endless,
    /// TLS at once (implicit TLS, as on 465), then a normal greeting inside TLS.
    TlsFirst,
    /// Close at once.
    Close,
}

/// What STARTTLS does.
#[derive(Clone, Debug)]
pub enum StartTlsMode {
    /// Offered in EHLO; `220`, then a TLS handshake.
    Offer,
    /// Not offered; the command gets `502 5.5.2`.
    NotOffered,
    /// Offered; `220`, then a fatal TLS alert instead of a ServerHello.
    Alert(u8),
    /// Offered; `220` followed at once by bytes that must not survive the upgrade.
    Inject(String),
}

/// Which TLS versions the server accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    Modern,
    Tls13Only,
}

/// How the server answers AUTH XOAUTH2.
#[derive(Clone, Debug)]
pub enum AuthMode {
    /// This reply at once.
    Reply(String),
    /// `334 <base64 of json>`, then (after the client's line) this reply.
    Challenge { json: String, then: String },
}

#[derive(Clone, Debug)]
pub struct Behaviour {
    pub greeting: Greeting,
    /// EHLO reply lines before TLS (the last one without `-`), when not the default.
    pub ehlo_plain: Option<Vec<String>>,
    /// Raw bytes instead of the EHLO reply before TLS (a megabyte of it, say).
    pub ehlo_raw: Option<Vec<u8>>,
    pub starttls: StartTlsMode,
    pub tls: TlsMode,
    /// Offered AUTH mechanisms after TLS.
    pub auth_mechanisms: String,
    pub auth: AuthMode,
    pub mail: String,
    /// `(address suffix, reply)`: the first match answers RCPT; otherwise `250 2.1.5`.
    pub rcpt: Vec<(String, String)>,
    pub data_end: String,
    /// Write every reply one byte at a time (with a flush and a pause in between).
    pub dribble: bool,
    /// Refuse command lines longer than this with `500 Command line too long` (aiosmtpd's 512).
    pub line_limit: Option<usize>,
}

impl Default for Behaviour {
    fn default() -> Behaviour {
        Behaviour {
            greeting: Greeting::Line(format!("220 {HOST} Microsoft ESMTP MAIL Service ready at Thu, 9 Apr 2026 12:13:06 +0000")),
            ehlo_plain: None,
            ehlo_raw: None,
            starttls: StartTlsMode::Offer,
            tls: TlsMode::Modern,
            auth_mechanisms: "LOGIN XOAUTH2".into(),
            auth: AuthMode::Reply("235 2.7.0 Authentication successful".into()),
            mail: "250 2.1.0 Sender OK".into(),
            rcpt: Vec::new(),
            data_end: "250 2.0.0 OK <0000@XX0PR00MB0000.eurprd00.prod.outlook.com> [Hostname=XX0PR00MB0000.eurprd00.prod.outlook.com]".into(),
            dribble: false,
            line_limit: None,
        }
    }
}

pub struct Certs {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub ca_name: String,
    server: Arc<rustls::ServerConfig>,
    server13: Arc<rustls::ServerConfig>,
}

fn certs() -> Certs {
    let ca_name = "xdiag SMTP test root".to_string();
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name.clone());
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let mut leaf_params =
        rcgen::CertificateParams::new(vec![HOST.to_string()]).expect("leaf params");
    leaf_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "smtp.test.localhost");
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");
    let build = |versions: &[&'static rustls::SupportedProtocolVersion]| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(versions)
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![leaf.der().clone()],
                    rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
                )
                .expect("server config"),
        )
    };
    Certs {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().to_vec(),
        ca_name,
        server: build(&[&rustls::version::TLS13, &rustls::version::TLS12]),
        server13: build(&[&rustls::version::TLS13]),
    }
}

pub struct Stub {
    pub addr: SocketAddr,
    pub ca_pem: String,
    /// The CA certificate (DER), for its thumbprint.
    pub ca_der: Vec<u8>,
    pub ca_name: String,
    behaviour: Arc<Mutex<Behaviour>>,
    log: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
}

impl Stub {
    pub async fn start(behaviour: Behaviour) -> Stub {
        let certs = certs();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let behaviour = Arc::new(Mutex::new(behaviour));
        let log = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (b, l, n) = (
            Arc::clone(&behaviour),
            Arc::clone(&log),
            Arc::clone(&connections),
        );
        let (server, server13) = (Arc::clone(&certs.server), Arc::clone(&certs.server13));
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                *n.lock().expect("count") += 1;
                let behaviour = b.lock().expect("behaviour").clone();
                let config = if behaviour.tls == TlsMode::Tls13Only {
                    Arc::clone(&server13)
                } else {
                    Arc::clone(&server)
                };
                let log = Arc::clone(&l);
                tokio::spawn(async move {
                    let _ = serve(tcp, behaviour, config, log).await;
                });
            }
        });
        Stub {
            addr,
            ca_pem: certs.ca_pem,
            ca_der: certs.ca_der,
            ca_name: certs.ca_name,
            behaviour,
            log,
            connections,
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.behaviour.lock().expect("behaviour"));
    }

    /// Every line received so far, as sent (without CR LF).
    pub fn received(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().expect("count")
    }
}

/// A port where nothing listens: connections are refused.
pub fn refused_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// A port that silently drops new connections, as a filtering firewall does. Loopback cannot
/// drop packets, so this fills a listener's accept queue (backlog 1, never accepting): Linux
/// then ignores further SYNs, and a connect gets no answer at all until it gives up. The
/// fillers are returned and must be kept alive for as long as the port should stay blocked.
pub async fn blackholed_port() -> (SocketAddr, Vec<TcpStream>, tokio::net::TcpListener) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(1).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => fillers.push(s),
            // The queue is full: this connect got no answer.
            _ => return (addr, fillers, listener),
        }
    }
    panic!("the accept queue never filled: this kernel does not drop SYNs on a full queue");
}

// ---- the server -------------------------------------------------------------------------------

enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

struct Session {
    conn: Option<Conn>,
    pending: Vec<u8>,
    b: Behaviour,
    log: Arc<Mutex<Vec<String>>>,
}

impl Session {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self.conn.as_mut() {
            Some(Conn::Plain(s)) => write_to(s, bytes, self.b.dribble).await,
            Some(Conn::Tls(s)) => write_to(s.as_mut(), bytes, self.b.dribble).await,
            None => Ok(()),
        }
    }

    async fn reply(&mut self, line: &str) -> std::io::Result<()> {
        self.write(format!("{line}\r\n").as_bytes()).await
    }

    async fn reply_lines(&mut self, lines: &[String]) -> std::io::Result<()> {
        let mut out = String::new();
        for l in lines {
            out.push_str(l);
            out.push_str("\r\n");
        }
        self.write(out.as_bytes()).await
    }

    /// The next line, or `None` at EOF.
    async fn line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            if let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
                let rest = self.pending.split_off(pos + 1);
                let mut l = std::mem::replace(&mut self.pending, rest);
                l.pop();
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                let s = String::from_utf8_lossy(&l).into_owned();
                self.log.lock().expect("log").push(s.clone());
                return Ok(Some(s));
            }
            let mut chunk = [0u8; 4096];
            let n = match self.conn.as_mut() {
                Some(Conn::Plain(s)) => s.read(&mut chunk).await?,
                Some(Conn::Tls(s)) => s.read(&mut chunk).await?,
                None => 0,
            };
            if n == 0 {
                return Ok(None);
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }

    async fn tls_accept(&mut self, config: &Arc<rustls::ServerConfig>) -> std::io::Result<()> {
        let Some(Conn::Plain(tcp)) = self.conn.take() else {
            return Ok(());
        };
        self.pending.clear();
        let tls = tokio_rustls::TlsAcceptor::from(Arc::clone(config))
            .accept(tcp)
            .await?;
        self.conn = Some(Conn::Tls(Box::new(tls)));
        Ok(())
    }

    fn is_tls(&self) -> bool {
        matches!(self.conn, Some(Conn::Tls(_)))
    }
}

async fn write_to<S: AsyncWrite + Unpin>(
    s: &mut S,
    bytes: &[u8],
    dribble: bool,
) -> std::io::Result<()> {
    if dribble {
        for b in bytes {
            s.write_all(std::slice::from_ref(b)).await?;
            s.flush().await?;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    } else {
        s.write_all(bytes).await?;
        s.flush().await
    }
}

async fn hold<S: AsyncRead + Unpin>(mut s: S) {
    let mut sink = [0u8; 1024];
    while let Ok(n) = s.read(&mut sink).await {
        if n == 0 {
            return;
        }
    }
}

async fn serve(
    tcp: TcpStream,
    b: Behaviour,
    config: Arc<rustls::ServerConfig>,
    log: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let mut s = Session {
        conn: Some(Conn::Plain(tcp)),
        pending: Vec::new(),
        b: b.clone(),
        log,
    };
    match &b.greeting {
        Greeting::Line(l) => s.reply(l).await?,
        Greeting::Silent => {
            if let Some(Conn::Plain(tcp)) = s.conn.take() {
                hold(tcp).await;
            }
            return Ok(());
        }
        Greeting::Endless => {
            let chunk = vec![b'A'; 8192];
            loop {
                s.write(&chunk).await?;
            }
        }
        Greeting::TlsFirst => {
            s.tls_accept(&config).await?;
            s.reply(&format!("220 {HOST} ready (implicit TLS)")).await?;
        }
        Greeting::Close => return Ok(()),
    }
    while let Some(line) = s.line().await? {
        if b.line_limit.is_some_and(|max| line.len() + 2 > max) {
            s.reply("500 Command line too long").await?;
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("").to_string();
        match verb.as_str() {
            "EHLO" => {
                if let (false, Some(raw)) = (s.is_tls(), b.ehlo_raw.clone()) {
                    s.write(&raw).await?;
                    continue;
                }
                let lines = match (&b.ehlo_plain, s.is_tls()) {
                    (Some(lines), false) => lines.clone(),
                    _ => {
                        let mut l = vec![
                            format!("250-{HOST} Hello [127.0.0.1]"),
                            "250-SIZE 157286400".to_string(),
                            "250-PIPELINING".to_string(),
                        ];
                        if s.is_tls() {
                            l.push(format!("250-AUTH {}", b.auth_mechanisms));
                        } else if !matches!(b.starttls, StartTlsMode::NotOffered) {
                            l.push("250-STARTTLS".to_string());
                        }
                        l.push("250 SMTPUTF8".to_string());
                        l
                    }
                };
                s.reply_lines(&lines).await?;
            }
            "STARTTLS" => match b.starttls.clone() {
                StartTlsMode::NotOffered => s.reply("502 5.5.2 Command not recognized").await?,
                StartTlsMode::Offer => {
                    s.reply("220 2.0.0 SMTP server ready").await?;
                    s.tls_accept(&config).await?;
                }
                StartTlsMode::Inject(extra) => {
                    s.write(format!("220 2.0.0 SMTP server ready\r\n{extra}").as_bytes())
                        .await?;
                    s.tls_accept(&config).await?;
                }
                StartTlsMode::Alert(code) => {
                    s.reply("220 2.0.0 SMTP server ready").await?;
                    // Wait for the ClientHello, then refuse it as a server with no shared suite does.
                    let mut hello = [0u8; 512];
                    if let Some(Conn::Plain(tcp)) = s.conn.as_mut() {
                        let _ = tcp.read(&mut hello).await?;
                        tcp.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, code])
                            .await?;
                        tcp.flush().await?;
                    }
                    return Ok(());
                }
            },
            "AUTH" => {
                if !s.is_tls() {
                    s.reply("451 5.7.3 STARTTLS is required to send mail")
                        .await?;
                    continue;
                }
                if upper.trim() == "AUTH XOAUTH2" {
                    // No initial response: ask for it with an empty challenge, then go on.
                    s.reply("334 ").await?;
                    if s.line().await?.is_none() {
                        return Ok(());
                    }
                }
                match b.auth.clone() {
                    AuthMode::Reply(r) => s.reply(&r).await?,
                    AuthMode::Challenge { json, then } => {
                        use base64::Engine as _;
                        s.reply(&format!(
                            "334 {}",
                            base64::engine::general_purpose::STANDARD.encode(json)
                        ))
                        .await?;
                        if s.line().await?.is_none() {
                            return Ok(());
                        }
                        s.reply(&then).await?;
                    }
                }
            }
            "MAIL" => {
                let r = b.mail.clone();
                s.reply(&r).await?;
            }
            "RCPT" => {
                let r = b
                    .rcpt
                    .iter()
                    .find(|(suffix, _)| {
                        upper
                            .trim_end_matches('>')
                            .ends_with(&suffix.to_ascii_uppercase())
                    })
                    .map(|(_, r)| r.clone())
                    .unwrap_or_else(|| "250 2.1.5 Recipient OK".into());
                s.reply(&r).await?;
            }
            "DATA" => {
                s.reply("354 Start mail input; end with <CRLF>.<CRLF>")
                    .await?;
                while let Some(l) = s.line().await? {
                    if l == "." {
                        break;
                    }
                }
                let r = b.data_end.clone();
                s.reply(&r).await?;
            }
            "RSET" => s.reply("250 2.0.0 Resetting").await?,
            "QUIT" => {
                s.reply("221 2.0.0 Service closing transmission channel")
                    .await?;
                return Ok(());
            }
            _ => s.reply("500 5.3.3 Unrecognized command").await?,
        }
    }
    Ok(())
}
