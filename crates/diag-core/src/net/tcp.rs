//! TCP connections with a deadline, and why one did not open: the name did not resolve, the
//! connection was refused (something answered "no": nothing listens, or a firewall rejects), it
//! timed out (nothing answered at all: a firewall or an ISP that silently drops), or there is no
//! route. `reach` tells a refused port from a dropped one with this; nothing here waits without
//! a limit.
use std::{
    io,
    net::SocketAddr,
    time::{Duration, Instant},
};

use tokio::net::TcpStream;

use super::error::human_duration;

/// Why a TCP connection did not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The host name did not resolve (or resolved to nothing).
    Dns,
    /// Refused at once: a reset came back.
    Refused,
    /// No answer within the deadline: the packets were silently dropped.
    Timeout,
    /// No route to the host or network.
    Unreachable,
    Other,
}

impl ConnectFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectFailure::Dns => "dns",
            ConnectFailure::Refused => "refused",
            ConnectFailure::Timeout => "timeout",
            ConnectFailure::Unreachable => "unreachable",
            ConnectFailure::Other => "other",
        }
    }
}

/// A connection that did not open: to where, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ConnectError {
    pub kind: ConnectFailure,
    /// `host:port` as asked for.
    pub target: String,
    /// The address tried last, when the name resolved.
    pub addr: Option<SocketAddr>,
    pub detail: String,
}

impl ConnectError {
    /// One line for a finding summary.
    pub fn describe(&self) -> String {
        let t = &self.target;
        match self.kind {
            ConnectFailure::Dns => format!("the name in {t} does not resolve ({})", self.detail),
            ConnectFailure::Refused => format!("{t} refused the connection"),
            ConnectFailure::Timeout => {
                format!("no answer from {t} {} (silently dropped)", self.detail)
            }
            ConnectFailure::Unreachable => format!("{t} is unreachable ({})", self.detail),
            ConnectFailure::Other => format!("could not connect to {t} ({})", self.detail),
        }
    }
}

/// An open connection and what it took.
#[derive(Debug)]
pub struct Connected {
    pub stream: TcpStream,
    pub addr: SocketAddr,
    pub elapsed: Duration,
}

/// `host:port`, with brackets around an IPv6 literal.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Resolves `host` with the system resolver, IPv4 addresses first (printers rarely have IPv6).
pub async fn resolve(
    host: &str,
    port: u16,
    deadline: Duration,
) -> Result<Vec<SocketAddr>, ConnectError> {
    let target = host_port(host, port);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let dns = |detail: String| ConnectError {
        kind: ConnectFailure::Dns,
        target: target.clone(),
        addr: None,
        detail,
    };
    let found = match tokio::time::timeout(deadline, tokio::net::lookup_host((bare, port))).await {
        Err(_) => {
            return Err(dns(format!(
                "no answer within {}",
                human_duration(deadline)
            )));
        }
        Ok(Err(e)) => return Err(dns(e.to_string())),
        Ok(Ok(addrs)) => addrs,
    };
    let mut addrs: Vec<SocketAddr> = found.collect();
    addrs.sort_by_key(|a| a.is_ipv6());
    addrs.dedup();
    if addrs.is_empty() {
        return Err(dns("no addresses".into()));
    }
    Ok(addrs)
}

/// Connects to one address within `deadline`.
pub async fn connect_addr(addr: SocketAddr, deadline: Duration) -> Result<TcpStream, ConnectError> {
    let target = addr.to_string();
    match tokio::time::timeout(deadline, TcpStream::connect(addr)).await {
        Err(_) => Err(ConnectError {
            kind: ConnectFailure::Timeout,
            target,
            addr: Some(addr),
            detail: format!("within {}", human_duration(deadline)),
        }),
        Ok(Err(e)) => Err(from_io(&e, target, addr)),
        Ok(Ok(s)) => {
            // SMTP is a dialogue of short lines: do not hold them back (Nagle).
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

/// Connects to `host:port` (or straight to `addr` when given, as the lab does), trying each
/// resolved address in turn; one deadline covers the lookup and every attempt.
pub async fn connect(
    host: &str,
    port: u16,
    addr: Option<SocketAddr>,
    deadline: Duration,
) -> Result<Connected, ConnectError> {
    let started = Instant::now();
    let target = host_port(host, port);
    let addrs = match addr {
        Some(a) => vec![a],
        None => resolve(host, port, deadline).await?,
    };
    let mut last = None;
    for a in addrs {
        let left = deadline.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        match connect_addr(a, left).await {
            Ok(stream) => {
                return Ok(Connected {
                    stream,
                    addr: a,
                    elapsed: started.elapsed(),
                });
            }
            Err(mut e) => {
                e.target = target.clone();
                if e.kind == ConnectFailure::Timeout {
                    e.detail = format!("within {}", human_duration(deadline));
                }
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or(ConnectError {
        kind: ConnectFailure::Timeout,
        target,
        addr: None,
        detail: format!("within {}", human_duration(deadline)),
    }))
}

fn from_io(e: &io::Error, target: String, addr: SocketAddr) -> ConnectError {
    let kind = match e.kind() {
        io::ErrorKind::ConnectionRefused => ConnectFailure::Refused,
        io::ErrorKind::TimedOut => ConnectFailure::Timeout,
        io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::AddrNotAvailable => ConnectFailure::Unreachable,
        _ => ConnectFailure::Other,
    };
    ConnectError {
        kind,
        target,
        addr: Some(addr),
        detail: e.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_literals_get_brackets() {
        assert_eq!(
            host_port("smtp.office365.com", 587),
            "smtp.office365.com:587"
        );
        assert_eq!(host_port("::1", 25), "[::1]:25");
        assert_eq!(host_port("[::1]", 25), "[::1]:25");
    }

    #[tokio::test]
    async fn a_closed_port_is_refused_not_timed_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let e = connect("127.0.0.1", addr.port(), None, Duration::from_secs(2))
            .await
            .expect_err("nothing listens");
        assert_eq!(e.kind, ConnectFailure::Refused, "{e}");
        assert!(e.describe().contains("refused"));
    }
}
