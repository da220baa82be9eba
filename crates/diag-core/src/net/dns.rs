//! DNS for the mail-path checks: the small `DnsClient` trait the SPF evaluator and the `dns` check
//! ask, and its one real implementation over hickory-resolver 0.26 (`HickoryDns`). Everything
//! hickory-specific stays in this file, so the next hickory API change touches only here, and
//! tests can answer with a fake.
//!
//! An answer keeps apart what the checks must tell apart (style.md §1.8): a name that does not
//! exist (`NXDOMAIN`), a name without records of the asked type (`NODATA`), no answer in time, and
//! a server that answered with an error (`SERVFAIL`, `REFUSED`). Every query has a deadline and is
//! counted.
use std::{
    fmt,
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use hickory_resolver::{
    TokioResolver,
    config::{NameServerConfig, ResolveHosts, ResolverConfig},
    net::{DnsError, NetError, runtime::TokioRuntimeProvider},
    proto::{
        op::ResponseCode,
        rr::{Name, RData, RecordType},
    },
};

/// What one query came back with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    /// At least one record of the asked type.
    Records(Vec<T>),
    /// The name exists but has no record of this type (`NOERROR` with an empty answer).
    NoData,
    /// The name does not exist (`NXDOMAIN`).
    NxDomain,
    /// No usable answer: see `Failure`.
    Failed(Failure),
}

/// Why a query has no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Nothing came back before the deadline.
    Timeout,
    /// The server could not be reached at all (connection refused, network unreachable).
    Unreachable(String),
    /// The server answered `SERVFAIL`.
    ServFail,
    /// The server answered `REFUSED`.
    Refused,
    /// Anything else (another response code, a malformed name or answer).
    Other(String),
}

impl<T> Answer<T> {
    /// The records, or nothing for every other outcome.
    pub fn records(&self) -> &[T] {
        match self {
            Answer::Records(r) => r,
            _ => &[],
        }
    }

    /// `NXDOMAIN` or `NODATA`: what RFC 7208 §4.6.4 calls a void lookup.
    pub fn is_void(&self) -> bool {
        matches!(self, Answer::NoData | Answer::NxDomain)
    }

    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Answer::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// Short name of the outcome for evidence: `records`, `NODATA`, `NXDOMAIN`, `timeout`, ...
    pub fn outcome(&self) -> String {
        match self {
            Answer::Records(r) => format!("{} record(s)", r.len()),
            Answer::NoData => "NODATA".into(),
            Answer::NxDomain => "NXDOMAIN".into(),
            Answer::Failed(f) => f.to_string(),
        }
    }
}

impl Failure {
    /// No answer at all, as opposed to an error answer from the server.
    pub fn is_silence(&self) -> bool {
        matches!(self, Failure::Timeout | Failure::Unreachable(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout => f.write_str("no answer before the deadline"),
            Failure::Unreachable(why) => write!(f, "server unreachable ({why})"),
            Failure::ServFail => f.write_str("SERVFAIL"),
            Failure::Refused => f.write_str("REFUSED"),
            Failure::Other(why) => f.write_str(why),
        }
    }
}

/// One TXT record: its character-strings as sent (RFC 7208 §3.3 joins them without spaces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Txt {
    pub strings: Vec<Vec<u8>>,
}

impl Txt {
    pub fn new<S: Into<Vec<u8>>>(strings: impl IntoIterator<Item = S>) -> Txt {
        Txt {
            strings: strings.into_iter().map(Into::into).collect(),
        }
    }

    /// The character-strings joined, bytes as sent (they need not be UTF-8).
    pub fn joined(&self) -> Vec<u8> {
        self.strings.concat()
    }
}

/// One MX record. `exchange` is lowercase, without the final dot (`.` stays `.`: a null MX).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mx {
    pub preference: u16,
    pub exchange: String,
}

/// The DNS questions the mail-path checks ask. Names are absolute (`contoso.com` means
/// `contoso.com.`: no search list). Every call is one query with a deadline and adds one to
/// `queries`.
pub trait DnsClient: Send + Sync + 'static {
    fn txt(&self, name: &str) -> impl Future<Output = Answer<Txt>> + Send;
    fn mx(&self, name: &str) -> impl Future<Output = Answer<Mx>> + Send;
    fn a(&self, name: &str) -> impl Future<Output = Answer<Ipv4Addr>> + Send;
    fn aaaa(&self, name: &str) -> impl Future<Output = Answer<Ipv6Addr>> + Send;
    /// PTR records of the reverse name of `ip` (names lowercase, without the final dot).
    fn ptr(&self, ip: IpAddr) -> impl Future<Output = Answer<String>> + Send;
    /// Queries sent so far.
    fn queries(&self) -> u64;
}

/// Why the resolver could not be set up (no usable system configuration).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the DNS resolver could not be set up: {0}")]
pub struct DnsSetupError(pub String);

/// The real client: hickory's resolver against the system's DNS servers or one given server.
pub struct HickoryDns {
    resolver: TokioResolver,
    deadline: Duration,
    queries: AtomicU64,
    server: String,
}

impl HickoryDns {
    /// Asks `server` (UDP, with TCP for truncated answers), or the system's resolvers when
    /// `None`. Every query gives up after `deadline`.
    pub fn new(
        server: Option<SocketAddr>,
        deadline: Duration,
    ) -> Result<HickoryDns, DnsSetupError> {
        let provider = TokioRuntimeProvider::default();
        let (mut builder, description) = match server {
            Some(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in ns.connections.iter_mut() {
                    c.port = addr.port();
                }
                let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
                (
                    TokioResolver::builder_with_config(config, provider),
                    addr.to_string(),
                )
            }
            None => {
                let builder =
                    TokioResolver::builder(provider).map_err(|e| DnsSetupError(e.to_string()))?;
                (builder, "the system resolver".to_string())
            }
        };
        let opts = builder.options_mut();
        // Two tries within the deadline (one lost UDP packet is not a timeout); the evaluation
        // caches answers itself, so hickory's cache would only blur the query count.
        opts.timeout = (deadline / 2).max(Duration::from_millis(100));
        opts.attempts = 1;
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ndots = 0;
        opts.max_active_requests = 256;
        let resolver = builder.build().map_err(|e| DnsSetupError(e.to_string()))?;
        Ok(HickoryDns {
            resolver,
            deadline,
            queries: AtomicU64::new(0),
            server: description,
        })
    }

    /// Which server is asked, for evidence: `127.0.0.1:15353` or `the system resolver`.
    pub fn server(&self) -> &str {
        &self.server
    }

    async fn lookup<T>(
        &self,
        name: Result<Name, String>,
        rtype: RecordType,
        pick: impl Fn(&RData) -> Option<T>,
    ) -> Answer<T> {
        let name = match name {
            Ok(n) => n,
            Err(why) => return Answer::Failed(Failure::Other(why)),
        };
        self.queries.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(self.deadline, self.resolver.lookup(name, rtype)).await {
            Err(_) => Answer::Failed(Failure::Timeout),
            Ok(Err(e)) => classify(&e),
            Ok(Ok(lookup)) => {
                let records: Vec<T> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| pick(&r.data))
                    .collect();
                if records.is_empty() {
                    Answer::NoData
                } else {
                    Answer::Records(records)
                }
            }
        }
    }
}

/// `contoso.com` as an absolute name (IDNs become punycode).
fn absolute(name: &str) -> Result<Name, String> {
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err("empty domain name".into());
    }
    let mut n = Name::from_utf8(trimmed)
        .map_err(|e| format!("'{}' is not a domain name: {e}", clip(trimmed)))?;
    n.set_fqdn(true);
    Ok(n)
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Lowercase, without the final dot (the root stays `.`).
fn plain(name: &Name) -> String {
    let s = name.to_ascii().to_ascii_lowercase();
    match s.strip_suffix('.') {
        Some("") | None => s,
        Some(t) => t.to_string(),
    }
}

/// hickory's error as one of our outcomes.
fn classify<T>(e: &NetError) -> Answer<T> {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(nr)) => match nr.response_code {
            ResponseCode::NXDomain => Answer::NxDomain,
            ResponseCode::NoError => Answer::NoData,
            code => from_code(code),
        },
        NetError::Dns(DnsError::ResponseCode(code)) => from_code(*code),
        NetError::Timeout => Answer::Failed(Failure::Timeout),
        NetError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            Answer::Failed(Failure::Timeout)
        }
        NetError::Io(io) => Answer::Failed(Failure::Unreachable(io.kind().to_string())),
        NetError::NoConnections => {
            Answer::Failed(Failure::Unreachable("no connection to the server".into()))
        }
        other => Answer::Failed(Failure::Other(other.to_string())),
    }
}

fn from_code<T>(code: ResponseCode) -> Answer<T> {
    match code {
        ResponseCode::ServFail => Answer::Failed(Failure::ServFail),
        ResponseCode::Refused => Answer::Failed(Failure::Refused),
        other => Answer::Failed(Failure::Other(format!("response code {other}"))),
    }
}

impl DnsClient for HickoryDns {
    async fn txt(&self, name: &str) -> Answer<Txt> {
        self.lookup(absolute(name), RecordType::TXT, |d| match d {
            RData::TXT(t) => Some(Txt {
                strings: t.txt_data.iter().map(|s| s.to_vec()).collect(),
            }),
            _ => None,
        })
        .await
    }

    async fn mx(&self, name: &str) -> Answer<Mx> {
        self.lookup(absolute(name), RecordType::MX, |d| match d {
            RData::MX(mx) => Some(Mx {
                preference: mx.preference,
                exchange: plain(&mx.exchange),
            }),
            _ => None,
        })
        .await
    }

    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        self.lookup(absolute(name), RecordType::A, |d| match d {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        self.lookup(absolute(name), RecordType::AAAA, |d| match d {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        self.lookup(Ok(Name::from(ip)), RecordType::PTR, |d| match d {
            RData::PTR(p) => Some(plain(&p.0)),
            _ => None,
        })
        .await
    }

    fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

/// A scripted DNS for tests: a tiny zone text, one record per line, `name TYPE value`:
/// `contoso.com TXT v=spf1 -all`, `contoso.com TXT "part one " "part two"` (several strings,
/// `\xNN` for any byte), `contoso.com MX 10 mail.contoso.com`, `mail.contoso.com A 192.0.2.1`,
/// `192.0.2.1 PTR mail.contoso.com`, and failures: `slow.example TXT !timeout` (`!servfail`,
/// `!refused`). A name with no record of the asked type answers NODATA when it or a name below
/// it has some record, NXDOMAIN otherwise.
#[cfg(test)]
pub(crate) mod fake {
    use std::{
        net::{IpAddr, Ipv4Addr, Ipv6Addr},
        sync::{
            Mutex, PoisonError,
            atomic::{AtomicU64, Ordering},
        },
        time::Duration,
    };

    use super::{Answer, DnsClient, Failure, Mx, Txt};

    pub(crate) struct FakeDns {
        records: Vec<(String, String, String)>,
        delay: Duration,
        queries: AtomicU64,
        log: Mutex<Vec<String>>,
    }

    impl FakeDns {
        pub(crate) fn new(zone: &str) -> FakeDns {
            let records = zone
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| {
                    let mut it = l.splitn(3, ' ');
                    let name = it
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches('.')
                        .to_ascii_lowercase();
                    let rtype = it.next().unwrap_or_default().to_ascii_uppercase();
                    (name, rtype, it.next().unwrap_or_default().to_string())
                })
                .collect();
            FakeDns {
                records,
                delay: Duration::ZERO,
                queries: AtomicU64::new(0),
                log: Mutex::new(Vec::new()),
            }
        }

        /// Every answer takes this long (with a paused clock: to see what runs concurrently).
        pub(crate) fn with_delay(mut self, delay: Duration) -> FakeDns {
            self.delay = delay;
            self
        }

        /// The questions asked so far, `TYPE name`, in order.
        pub(crate) fn asked(&self) -> Vec<String> {
            self.log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }

        async fn answer<T>(
            &self,
            name: &str,
            rtype: &str,
            parse: impl Fn(&str) -> Option<T>,
        ) -> Answer<T> {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            self.queries.fetch_add(1, Ordering::Relaxed);
            self.log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(format!("{rtype} {name}"));
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            let mine: Vec<&str> = self
                .records
                .iter()
                .filter(|(n, t, _)| *n == name && t == rtype)
                .map(|(_, _, v)| v.as_str())
                .collect();
            match mine.first().copied() {
                Some("!timeout") => return Answer::Failed(Failure::Timeout),
                Some("!servfail") => return Answer::Failed(Failure::ServFail),
                Some("!refused") => return Answer::Failed(Failure::Refused),
                _ => {}
            }
            let found: Vec<T> = mine.iter().filter_map(|v| parse(v)).collect();
            if !found.is_empty() {
                return Answer::Records(found);
            }
            let below = format!(".{name}");
            if self
                .records
                .iter()
                .any(|(n, _, _)| *n == name || n.ends_with(&below))
            {
                Answer::NoData
            } else {
                Answer::NxDomain
            }
        }
    }

    /// `"a" "b\xff"` as strings of bytes, or the whole text as one string.
    fn txt_strings(v: &str) -> Txt {
        if !v.starts_with('"') {
            return Txt::new([v.as_bytes().to_vec()]);
        }
        let mut strings = Vec::new();
        let mut cur: Option<Vec<u8>> = None;
        let b = v.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match (b[i], cur.as_mut()) {
                (b'"', None) => cur = Some(Vec::new()),
                (b'"', Some(_)) => strings.extend(cur.take()),
                (b'\\', Some(s)) if b.get(i + 1) == Some(&b'x') => {
                    let hex = std::str::from_utf8(&b[i + 2..(i + 4).min(b.len())]).unwrap_or("00");
                    s.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 3;
                }
                (c, Some(s)) => s.push(c),
                _ => {}
            }
            i += 1;
        }
        Txt { strings }
    }

    impl DnsClient for FakeDns {
        async fn txt(&self, name: &str) -> Answer<Txt> {
            self.answer(name, "TXT", |v| Some(txt_strings(v))).await
        }
        async fn mx(&self, name: &str) -> Answer<Mx> {
            self.answer(name, "MX", |v| {
                let (pref, host) = v.split_once(' ')?;
                let host = if host == "." {
                    host
                } else {
                    host.trim_end_matches('.')
                };
                Some(Mx {
                    preference: pref.parse().ok()?,
                    exchange: host.to_ascii_lowercase(),
                })
            })
            .await
        }
        async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
            self.answer(name, "A", |v| v.parse().ok()).await
        }
        async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
            self.answer(name, "AAAA", |v| v.parse().ok()).await
        }
        async fn ptr(&self, ip: IpAddr) -> Answer<String> {
            self.answer(&ip.to_string(), "PTR", |v| {
                Some(v.trim_end_matches('.').to_ascii_lowercase())
            })
            .await
        }
        fn queries(&self) -> u64 {
            self.queries.load(Ordering::Relaxed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_absolute_and_idn_becomes_punycode() {
        assert_eq!(
            absolute("contoso.com").map(|n| n.to_ascii()),
            Ok("contoso.com.".to_string())
        );
        assert_eq!(
            absolute("contoso.com.").map(|n| n.to_ascii()),
            Ok("contoso.com.".to_string())
        );
        assert_eq!(
            absolute("bücher.example").map(|n| n.to_ascii()),
            Ok("xn--bcher-kva.example.".to_string())
        );
        assert!(absolute("  ").is_err());
        assert!(
            absolute(&"a".repeat(70)).is_err(),
            "a label over 63 octets is no name"
        );
    }

    #[test]
    fn nxdomain_nodata_and_failures_stay_apart() {
        use hickory_resolver::{net::NoRecords, proto::op::Query};
        let nx = NetError::from(NoRecords::new(
            Box::new(Query::default()),
            ResponseCode::NXDomain,
        ));
        let nodata = NetError::from(NoRecords::new(
            Box::new(Query::default()),
            ResponseCode::NoError,
        ));
        assert_eq!(classify::<u8>(&nx), Answer::NxDomain);
        assert_eq!(classify::<u8>(&nodata), Answer::NoData);
        assert_eq!(
            classify::<u8>(&NetError::Dns(DnsError::ResponseCode(
                ResponseCode::ServFail
            ))),
            Answer::Failed(Failure::ServFail)
        );
        assert_eq!(
            classify::<u8>(&NetError::Dns(DnsError::ResponseCode(
                ResponseCode::Refused
            ))),
            Answer::Failed(Failure::Refused)
        );
        assert_eq!(
            classify::<u8>(&NetError::Timeout),
            Answer::Failed(Failure::Timeout)
        );
        assert!(Answer::<u8>::NxDomain.is_void() && Answer::<u8>::NoData.is_void());
        assert!(!Answer::<u8>::Failed(Failure::Timeout).is_void());
    }

    #[test]
    fn txt_strings_join_without_spaces() {
        let t = Txt::new(["v=spf1 ip4:192.0.2.1", " -all"]);
        assert_eq!(t.joined(), b"v=spf1 ip4:192.0.2.1 -all");
    }
}
