//! Sorting transport failures into kinds a technician can act on. Classification walks the error
//! chain by type (our own DNS failure, `rustls::Error`, `std::io::ErrorKind`), never by wording.
use std::{error::Error as StdError, io, time::Duration};

use crate::finding::Evidence;

/// Why a request got no HTTP answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetErrorKind {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection was refused (nothing listens, or a firewall rejects).
    Refused,
    /// No answer within the deadline (a firewall that drops, a dead host, a slow service).
    Timeout,
    /// The peer closed or reset the connection.
    Reset,
    /// A proxy from the environment was in the way and failed.
    Proxy,
    /// The server's certificate is not trusted: typically TLS interception by a proxy or firewall.
    TlsUntrusted,
    /// Another TLS handshake failure.
    TlsHandshake,
    Other,
}

impl NetErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NetErrorKind::Dns => "dns",
            NetErrorKind::Refused => "refused",
            NetErrorKind::Timeout => "timeout",
            NetErrorKind::Reset => "reset",
            NetErrorKind::Proxy => "proxy",
            NetErrorKind::TlsUntrusted => "tls-untrusted",
            NetErrorKind::TlsHandshake => "tls-handshake",
            NetErrorKind::Other => "other",
        }
    }
}

/// A request that got no HTTP answer. Carries host names and causes, never request bodies.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct NetError {
    pub kind: NetErrorKind,
    pub host: String,
    /// The proxy the request went through, if any (credentials stripped).
    pub proxy: Option<String>,
    pub detail: String,
}

impl NetError {
    /// One line for a finding summary.
    pub fn describe(&self) -> String {
        let host = &self.host;
        match self.kind {
            NetErrorKind::Dns => format!("the name {host} does not resolve"),
            NetErrorKind::Refused => format!("{host} refused the connection"),
            NetErrorKind::Timeout => format!("no answer from {host} {}", self.detail),
            NetErrorKind::Reset => format!("{host} closed the connection"),
            NetErrorKind::Proxy => {
                format!(
                    "the proxy {} failed on the way to {host}",
                    self.proxy.as_deref().unwrap_or("(from the environment)")
                )
            }
            NetErrorKind::TlsUntrusted => {
                format!(
                    "the certificate {host} presented is not trusted (TLS interception by a proxy or firewall?)"
                )
            }
            NetErrorKind::TlsHandshake => format!("the TLS handshake with {host} failed"),
            NetErrorKind::Other => format!("could not reach {host}"),
        }
    }

    /// Evidence lines: what failed, where, through which proxy.
    pub fn evidence(&self) -> Vec<Evidence> {
        let mut ev = vec![
            Evidence::new("network", self.kind.as_str()),
            Evidence::new("host", &self.host),
        ];
        if !self.detail.is_empty() {
            ev.push(Evidence::new("detail", &self.detail));
        }
        if let Some(p) = &self.proxy {
            ev.push(Evidence::new("proxy", p));
        }
        ev
    }

    pub(crate) fn timeout(host: &str, after: Duration, proxy: Option<String>) -> NetError {
        NetError {
            kind: NetErrorKind::Timeout,
            host: host.to_string(),
            proxy,
            detail: format!("within {}", human_duration(after)),
        }
    }

    pub(crate) fn from_reqwest(
        err: &reqwest::Error,
        host: &str,
        proxy: Option<String>,
        deadline: Duration,
    ) -> NetError {
        let (mut kind, detail) = classify_chain(err);
        if err.is_timeout() && kind == NetErrorKind::Other {
            return NetError::timeout(host, deadline, proxy);
        }
        // Through a proxy, a failure to connect is the proxy's (the origin is never dialled).
        if proxy.is_some()
            && err.is_connect()
            && matches!(
                kind,
                NetErrorKind::Dns
                    | NetErrorKind::Refused
                    | NetErrorKind::Reset
                    | NetErrorKind::Other
            )
        {
            kind = NetErrorKind::Proxy;
        }
        NetError {
            kind,
            host: host.to_string(),
            proxy,
            detail,
        }
    }
}

/// A DNS lookup failure raised by our resolver, so that the chain walk can recognise it by type.
#[derive(Debug, thiserror::Error)]
#[error("{host}: {detail}")]
pub(crate) struct DnsFailure {
    pub host: String,
    pub detail: String,
}

fn classify_chain(err: &(dyn StdError + 'static)) -> (NetErrorKind, String) {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    let mut innermost = String::new();
    while let Some(e) = cur {
        if let Some(found) = classify_nested(e) {
            return found;
        }
        innermost = e.to_string();
        cur = e.source();
    }
    (NetErrorKind::Other, innermost)
}

/// `io::Error::source` skips the error it wraps, and connectors wrap io errors in io errors:
/// look inside every layer explicitly.
fn classify_nested(e: &(dyn StdError + 'static)) -> Option<(NetErrorKind, String)> {
    classify_one(e).or_else(|| {
        e.downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| classify_nested(inner))
    })
}

fn classify_one(e: &(dyn StdError + 'static)) -> Option<(NetErrorKind, String)> {
    if let Some(d) = e.downcast_ref::<DnsFailure>() {
        return Some((NetErrorKind::Dns, d.detail.clone()));
    }
    if let Some(t) = e.downcast_ref::<rustls::Error>() {
        return Some(match t {
            rustls::Error::InvalidCertificate(c) => (
                NetErrorKind::TlsUntrusted,
                format!("certificate rejected: {c:?}"),
            ),
            other => (NetErrorKind::TlsHandshake, other.to_string()),
        });
    }
    if let Some(io) = e.downcast_ref::<io::Error>() {
        let kind = match io.kind() {
            io::ErrorKind::ConnectionRefused => NetErrorKind::Refused,
            io::ErrorKind::TimedOut => NetErrorKind::Timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => NetErrorKind::Reset,
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                NetErrorKind::Other
            }
            _ => return None,
        };
        return Some((kind, io.kind().to_string()));
    }
    None
}

/// Building the HTTPS client failed (e.g. the extra CA is not a PEM certificate).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetSetupError {
    #[error("the extra CA certificate is not a PEM certificate: {0}")]
    BadExtraCa(String),
    #[error("the TLS configuration could not be built: {0}")]
    Tls(String),
    #[error("the HTTPS client could not be built: {0}")]
    Client(String),
}

/// `10 s`, `1.5 s`, `250 ms`.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds_and_wrapped_tls_errors_are_recognised() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify_chain(&refused).0, NetErrorKind::Refused);
        let inner = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let tls = io::Error::other(inner);
        let (kind, detail) = classify_chain(&tls);
        assert_eq!(kind, NetErrorKind::TlsUntrusted);
        assert!(detail.contains("UnknownIssuer"));
        let dns = io::Error::other(DnsFailure {
            host: "x.invalid".into(),
            detail: "no such host".into(),
        });
        assert_eq!(classify_chain(&dns).0, NetErrorKind::Dns);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(10)), "10 s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
    }
}
