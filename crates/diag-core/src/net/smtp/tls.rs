//! TLS for SMTP: the client configuration (rustls, ring provider; the system roots, or the
//! bundled Mozilla roots where the system has none, plus the lab's CA when given), the handshake
//! with a deadline, and what it showed: the negotiated version and cipher suite, the chain the
//! server presented and the root it anchors to. Microsoft's chain moved to DigiCert Global Root
//! G2; the root is reported by name and SHA-1 thumbprint so the technician knows what the device
//! must trust. The presented chain is recorded even when verification fails.
use std::{
    io,
    net::SocketAddr,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, PeerIncompatible,
    RootCertStore, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;
use tokio_rustls::{TlsConnector, client::TlsStream};

use super::super::{error::human_duration, tcp};

/// Which TLS versions to offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersions {
    /// TLS 1.2 and 1.3 (what a current client offers).
    Modern,
    /// TLS 1.2 only, ECDHE suites (the best most printers can do).
    Tls12Only,
}

/// One certificate of the presented chain, for evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub not_after: String,
    /// SHA-1 thumbprint, upper-case hex (what Windows and Microsoft's notices show).
    pub sha1: String,
}

/// The root a chain anchors to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootInfo {
    /// Distinguished name, e.g. `CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US`.
    pub name: String,
    /// Its thumbprint, when the certificate itself is at hand (sent by the server or in a store).
    pub sha1: Option<String>,
    /// xdiag's trust store has it.
    pub in_trust_store: bool,
}

/// What a completed handshake showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLS 1.3`, `TLS 1.2`.
    pub version: String,
    /// rustls' name of the suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// Server certificate first.
    pub chain: Vec<CertSummary>,
    pub root: Option<RootInfo>,
}

/// Why a handshake failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsFailureKind {
    /// The chain does not lead to a trusted root (or is otherwise not acceptable).
    Untrusted,
    /// The certificate does not name the host.
    NameMismatch,
    /// Expired, or not valid yet.
    Expired,
    /// The server refused every cipher suite offered (`handshake_failure` alert).
    NoSharedCipher,
    /// No TLS version in common.
    ProtocolVersion,
    /// The peer did not answer in TLS ("wrong version number" in OpenSSL's words).
    NotTls,
    /// The peer closed the connection during the handshake.
    Closed,
    Timeout,
    Other,
}

impl TlsFailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsFailureKind::Untrusted => "untrusted",
            TlsFailureKind::NameMismatch => "name-mismatch",
            TlsFailureKind::Expired => "expired",
            TlsFailureKind::NoSharedCipher => "no-shared-cipher",
            TlsFailureKind::ProtocolVersion => "protocol-version",
            TlsFailureKind::NotTls => "not-tls",
            TlsFailureKind::Closed => "closed",
            TlsFailureKind::Timeout => "timeout",
            TlsFailureKind::Other => "other",
        }
    }
    /// A TLS server answered (the failure came from the handshake itself, not from silence or
    /// plain text).
    pub fn peer_speaks_tls(self) -> bool {
        matches!(
            self,
            TlsFailureKind::Untrusted
                | TlsFailureKind::NameMismatch
                | TlsFailureKind::Expired
                | TlsFailureKind::NoSharedCipher
                | TlsFailureKind::ProtocolVersion
        )
    }
}

/// A failed handshake, with the chain if the server got as far as sending one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("TLS handshake failed ({}): {detail}", kind.as_str())]
pub struct TlsFailure {
    pub kind: TlsFailureKind,
    pub detail: String,
    pub chain: Vec<CertSummary>,
    pub root: Option<RootInfo>,
}

/// A trust-store root, as far as naming a chain's anchor needs it.
#[derive(Clone, Debug)]
struct RootEntry {
    /// Content of the subject Name (without its SEQUENCE header).
    subject: Vec<u8>,
    sha1: Option<String>,
}

/// The operating system's roots, read once per process.
static SYSTEM_ROOTS: LazyLock<Vec<CertificateDer<'static>>> =
    LazyLock::new(|| rustls_native_certs::load_native_certs().certs);

/// Roots and settings shared by every handshake of a check.
#[derive(Clone, Debug)]
pub struct TlsSetup {
    roots: Arc<RootCertStore>,
    entries: Arc<Vec<RootEntry>>,
    /// The system had no roots, so the bundled Mozilla set is used.
    pub bundled_roots: bool,
}

impl TlsSetup {
    /// The system roots (or the bundled ones when the system has none) plus `extra_ca_pem`.
    pub fn new(extra_ca_pem: Option<&str>) -> Result<TlsSetup, String> {
        let mut roots = RootCertStore::empty();
        let mut entries = Vec::new();
        let (added, _ignored) = roots.add_parsable_certificates(SYSTEM_ROOTS.iter().cloned());
        let bundled_roots = added == 0;
        if bundled_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            entries.extend(webpki_roots::TLS_SERVER_ROOTS.iter().map(|a| RootEntry {
                subject: a.subject.as_ref().to_vec(),
                sha1: None,
            }));
        } else {
            entries.extend(SYSTEM_ROOTS.iter().filter_map(|c| entry_of(c)));
        }
        if let Some(pem) = extra_ca_pem {
            let mut any = false;
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("the extra CA certificate is not PEM: {e}"))?;
                roots
                    .add(cert.clone())
                    .map_err(|e| format!("the extra CA certificate is not usable: {e}"))?;
                entries.extend(entry_of(&cert));
                any = true;
            }
            if !any {
                return Err("the extra CA certificate holds no CERTIFICATE block".into());
            }
        }
        if roots.is_empty() {
            return Err("no trusted root certificates are available".into());
        }
        Ok(TlsSetup {
            roots: Arc::new(roots),
            entries: Arc::new(entries),
            bundled_roots,
        })
    }

    fn config(
        &self,
        versions: TlsVersions,
        seen: Arc<Mutex<Vec<CertificateDer<'static>>>>,
    ) -> Result<Arc<ClientConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let inner = WebPkiServerVerifier::builder_with_provider(
            Arc::clone(&self.roots),
            Arc::clone(&provider),
        )
        .build()
        .map_err(|e| format!("the certificate verifier could not be built: {e}"))?;
        let verifier = Arc::new(Recording { inner, seen });
        let list: &[&'static rustls::SupportedProtocolVersion] = match versions {
            TlsVersions::Modern => &[&rustls::version::TLS13, &rustls::version::TLS12],
            TlsVersions::Tls12Only => &[&rustls::version::TLS12],
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(list)
            .map_err(|e| format!("the TLS configuration could not be built: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    /// Which root a presented chain (server certificate first) anchors to.
    fn root_of(&self, chain: &[CertificateDer<'_>]) -> Option<RootInfo> {
        let top_der = chain.last()?;
        let (_, top) = x509_parser::parse_x509_certificate(top_der.as_ref()).ok()?;
        let subject = name_content(top.subject().as_raw());
        let issuer = name_content(top.issuer().as_raw());
        if subject == issuer {
            // The server sent the root itself.
            let sha1 = thumbprint(top_der.as_ref());
            let in_store = self
                .entries
                .iter()
                .any(|e| e.subject == subject && e.sha1.as_ref().is_none_or(|s| *s == sha1));
            return Some(RootInfo {
                name: top.subject().to_string(),
                sha1: Some(sha1),
                in_trust_store: in_store,
            });
        }
        let found = self.entries.iter().find(|e| e.subject == issuer);
        Some(RootInfo {
            name: top.issuer().to_string(),
            sha1: found.and_then(|e| e.sha1.clone()),
            in_trust_store: found.is_some(),
        })
    }
}

fn entry_of(cert: &CertificateDer<'_>) -> Option<RootEntry> {
    let (_, c) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(RootEntry {
        subject: name_content(c.subject().as_raw()).to_vec(),
        sha1: Some(thumbprint(cert.as_ref())),
    })
}

/// A DER Name without its SEQUENCE header (trust anchors store it that way).
fn name_content(der: &[u8]) -> &[u8] {
    if der.first() != Some(&0x30) || der.len() < 2 {
        return der;
    }
    let header = match der[1] {
        n if n < 0x80 => 2,
        n => 2 + usize::from(n & 0x7f),
    };
    der.get(header..).unwrap_or(der)
}

fn thumbprint(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn summarize(chain: &[CertificateDer<'_>]) -> Vec<CertSummary> {
    chain
        .iter()
        .map(
            |der| match x509_parser::parse_x509_certificate(der.as_ref()) {
                Ok((_, c)) => CertSummary {
                    subject: c.subject().to_string(),
                    issuer: c.issuer().to_string(),
                    not_after: c.validity().not_after.to_string(),
                    sha1: thumbprint(der.as_ref()),
                },
                Err(_) => CertSummary {
                    subject: "(unreadable certificate)".into(),
                    issuer: String::new(),
                    not_after: String::new(),
                    sha1: thumbprint(der.as_ref()),
                },
            },
        )
        .collect()
}

/// The standard WebPKI verifier, remembering what the server presented before judging it.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Vec<CertificateDer<'static>>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.clear();
            seen.push(end_entity.clone().into_owned());
            // A hostile server could send thousands: a real chain has a handful.
            seen.extend(intermediates.iter().take(9).map(|c| c.clone().into_owned()));
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// TLS over `tcp`, for `host`, within `deadline`.
pub async fn handshake(
    setup: &TlsSetup,
    versions: TlsVersions,
    host: &str,
    tcp: TcpStream,
    deadline: Duration,
) -> Result<(TlsStream<TcpStream>, TlsInfo), TlsFailure> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fail = |kind, detail: String, seen: &Arc<Mutex<Vec<CertificateDer<'static>>>>| {
        let chain = seen.lock().map(|s| s.clone()).unwrap_or_default();
        TlsFailure {
            kind,
            detail,
            chain: summarize(&chain),
            root: setup.root_of(&chain),
        }
    };
    let config = setup
        .config(versions, Arc::clone(&seen))
        .map_err(|e| fail(TlsFailureKind::Other, e, &seen))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(bare.to_string()).map_err(|_| {
        fail(
            TlsFailureKind::Other,
            format!("'{bare}' is not a valid TLS server name"),
            &seen,
        )
    })?;
    let connector = TlsConnector::from(config);
    let stream = match tokio::time::timeout(deadline, connector.connect(name, tcp)).await {
        Err(_) => {
            return Err(fail(
                TlsFailureKind::Timeout,
                format!("no handshake within {}", human_duration(deadline)),
                &seen,
            ));
        }
        Ok(Err(e)) => {
            let (kind, detail) = classify_io(&e);
            return Err(fail(kind, detail, &seen));
        }
        Ok(Ok(s)) => s,
    };
    let info = {
        let (_, conn) = stream.get_ref();
        let chain: Vec<CertificateDer<'static>> = conn
            .peer_certificates()
            .map(|c| c.to_vec())
            .unwrap_or_default();
        TlsInfo {
            version: conn
                .protocol_version()
                .map(version_name)
                .unwrap_or_else(|| "unknown".into()),
            cipher: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_else(|| "unknown".into()),
            chain: summarize(&chain),
            root: setup.root_of(&chain),
        }
    };
    Ok((stream, info))
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        rustls::ProtocolVersion::TLSv1_1 => "TLS 1.1".into(),
        rustls::ProtocolVersion::TLSv1_0 => "TLS 1.0".into(),
        other => format!("{other:?}"),
    }
}

/// tokio-rustls wraps rustls' error in an `io::Error`: sort it by type, never by wording.
fn classify_io(e: &io::Error) -> (TlsFailureKind, String) {
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return classify_rustls(tls);
    }
    let kind = match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionAborted => TlsFailureKind::Closed,
        io::ErrorKind::TimedOut => TlsFailureKind::Timeout,
        _ => TlsFailureKind::Other,
    };
    (kind, e.to_string())
}

pub(crate) fn classify_rustls(e: &rustls::Error) -> (TlsFailureKind, String) {
    let kind = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsFailureKind::Expired,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailureKind::NameMismatch
            }
            _ => TlsFailureKind::Untrusted,
        },
        rustls::Error::AlertReceived(a) => match a {
            AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity => {
                TlsFailureKind::NoSharedCipher
            }
            AlertDescription::ProtocolVersion => TlsFailureKind::ProtocolVersion,
            _ => TlsFailureKind::Other,
        },
        rustls::Error::PeerIncompatible(p) => match p {
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::SupportedVersionsExtensionRequired => {
                TlsFailureKind::ProtocolVersion
            }
            _ => TlsFailureKind::NoSharedCipher,
        },
        rustls::Error::InvalidMessage(_) => TlsFailureKind::NotTls,
        _ => TlsFailureKind::Other,
    };
    (kind, e.to_string())
}

/// What a TLS handshake started at once on a port shows (a client set to implicit TLS / SSL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImplicitTls {
    /// A TLS server answered: the port speaks implicit TLS.
    Speaks(Result<TlsInfo, TlsFailure>),
    /// The server answered in plain text (an SMTP greeting): the port is not implicit TLS.
    PlainText(String),
    /// Nothing came back within the deadline.
    Silent,
    /// The connection did not open, or closed at once.
    NoConnection(String),
}

/// Connects to `addr` and starts TLS at once, as a client configured for implicit TLS would.
pub async fn probe_implicit_tls(
    setup: &TlsSetup,
    host: &str,
    addr: SocketAddr,
    deadline: Duration,
) -> ImplicitTls {
    let tcp = match tcp::connect_addr(addr, deadline).await {
        Ok(s) => s,
        Err(e) => return ImplicitTls::NoConnection(e.describe()),
    };
    match handshake(setup, TlsVersions::Modern, host, tcp, deadline).await {
        Ok((_, info)) => ImplicitTls::Speaks(Ok(info)),
        Err(f) if f.kind.peer_speaks_tls() => ImplicitTls::Speaks(Err(f)),
        Err(f) if f.kind == TlsFailureKind::NotTls => ImplicitTls::PlainText(f.detail),
        Err(f) if f.kind == TlsFailureKind::Timeout => ImplicitTls::Silent,
        Err(f) => ImplicitTls::NoConnection(f.detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_content_strips_short_and_long_headers() {
        assert_eq!(name_content(&[0x30, 0x03, 1, 2, 3]), &[1, 2, 3]);
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend(vec![7u8; 0x80]);
        assert_eq!(name_content(&long).len(), 0x80);
        assert_eq!(name_content(&[0x31, 1, 2]), &[0x31, 1, 2]);
    }

    #[test]
    fn rustls_errors_sort_by_type() {
        let k = |e: rustls::Error| classify_rustls(&e).0;
        assert_eq!(
            k(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            )),
            TlsFailureKind::Untrusted
        );
        assert_eq!(
            k(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName
            )),
            TlsFailureKind::NameMismatch
        );
        assert_eq!(
            k(rustls::Error::InvalidCertificate(CertificateError::Expired)),
            TlsFailureKind::Expired
        );
        assert_eq!(
            k(rustls::Error::AlertReceived(
                AlertDescription::HandshakeFailure
            )),
            TlsFailureKind::NoSharedCipher
        );
        assert_eq!(
            k(rustls::Error::AlertReceived(
                AlertDescription::ProtocolVersion
            )),
            TlsFailureKind::ProtocolVersion
        );
        assert_eq!(
            k(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType
            )),
            TlsFailureKind::NotTls
        );
    }

    #[test]
    fn the_system_or_bundled_roots_load_and_a_bad_extra_ca_is_refused() {
        let setup = TlsSetup::new(None).expect("roots");
        assert!(!setup.entries.is_empty());
        assert!(TlsSetup::new(Some("not a pem")).is_err());
    }
}
