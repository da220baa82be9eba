//! SPF (RFC 7208): a record parser with precise syntax errors, `check_host()` for one IP, and a
//! static analysis that counts the DNS lookups a receiver may need ("N of 10"), the way
//! checkdmarc does. Both run in a `Session` over a `DnsClient`, which caches every answer for the
//! session, and the analysis asks independent questions concurrently.
//!
//! ```text
//! let session = Session::new(Arc::new(client));
//! let a = session.analyze("contoso.com").await;          // lookups, void lookups, problem
//! let e = session.check_host(ip, "contoso.com", "scanner@contoso.com", "").await;  // pass/fail/...
//! ```
pub mod dmarc;
mod eval;
pub mod macros;
pub mod parse;
mod session;

use std::{fmt, net::IpAddr};

pub use eval::{LOOKUP_LIMIT, VOID_LIMIT};
pub use parse::{Qualifier, SyntaxError, SyntaxErrorKind, parse, parse_bytes};
pub use session::Session;

use eval::{Limit, Mode, Subject, Walker};

use crate::net::dns::{DnsClient, Failure};

/// The result of `check_host()` (RFC 7208 §2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError,
}

impl SpfResult {
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

impl From<Qualifier> for SpfResult {
    fn from(q: Qualifier) -> SpfResult {
        match q {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::SoftFail => SpfResult::SoftFail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an evaluation ended in none, permerror or temperror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// none: the domain does not exist (NXDOMAIN).
    DomainNotFound { domain: String },
    /// none: no `v=spf1` record (`other_txt` TXT records of other kinds; 0 means NODATA).
    NoRecord { domain: String, other_txt: usize },
    /// none: not a valid domain name (RFC 7208 §4.3).
    InvalidDomain { domain: String },
    /// permerror: more than one SPF record (§4.5).
    MultipleRecords { domain: String, count: usize },
    /// permerror: the record does not parse.
    Syntax { domain: String, error: SyntaxError },
    /// permerror: more than 10 DNS-querying terms (§4.6.4).
    TooManyLookups { count: u32 },
    /// permerror: more than 2 void lookups (§4.6.4).
    TooManyVoidLookups { count: u32 },
    /// permerror: an `mx` term names more than 10 hosts (§4.6.4).
    TooManyMxNames { domain: String, count: usize },
    /// permerror: an include or redirect leads back into a domain being evaluated.
    Loop { chain: Vec<String> },
    /// permerror: an include or redirect target has no SPF record (§5.2, §6.1).
    TargetNone {
        via: &'static str,
        target: String,
        reason: Box<Problem>,
    },
    /// temperror: a DNS question got no usable answer.
    Dns {
        name: String,
        rtype: &'static str,
        failure: Failure,
    },
}

impl Problem {
    /// NXDOMAIN or NODATA where a record was expected: a void lookup.
    pub fn is_void(&self) -> bool {
        matches!(
            self,
            Problem::DomainNotFound { .. } | Problem::NoRecord { other_txt: 0, .. }
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::DomainNotFound { domain } => write!(f, "{domain} does not exist (NXDOMAIN)"),
            Problem::NoRecord {
                domain,
                other_txt: 0,
            } => write!(f, "{domain} has no TXT record (NODATA), so no SPF record"),
            Problem::NoRecord { domain, other_txt } => write!(
                f,
                "{domain} has {other_txt} TXT record(s) but none starts with v=spf1"
            ),
            Problem::InvalidDomain { domain } => write!(f, "'{domain}' is not a valid domain name"),
            Problem::MultipleRecords { domain, count } => write!(
                f,
                "{domain} publishes {count} SPF records; only one is allowed"
            ),
            Problem::Syntax { domain, error } => {
                write!(f, "the SPF record of {domain} does not parse: {error}")
            }
            Problem::TooManyLookups { count } => write!(
                f,
                "{count} DNS lookups, more than the {LOOKUP_LIMIT} allowed"
            ),
            Problem::TooManyVoidLookups { count } => write!(
                f,
                "{count} void DNS lookups, more than the {VOID_LIMIT} allowed"
            ),
            Problem::TooManyMxNames { domain, count } => {
                write!(
                    f,
                    "{domain} has {count} MX records, more than the 10 an mx term may use"
                )
            }
            Problem::Loop { chain } => write!(f, "include loop: {}", chain.join(" -> ")),
            Problem::TargetNone {
                via,
                target,
                reason,
            } => write!(f, "{via}:{target} has no usable SPF record ({reason})"),
            Problem::Dns {
                name,
                rtype,
                failure,
            } => write!(f, "{rtype} {name}: {failure}"),
        }
    }
}

/// One step of the path to a result: a domain and the term evaluated there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub domain: String,
    pub term: String,
}

impl Step {
    pub(crate) fn new(domain: &str, term: &str) -> Step {
        Step {
            domain: domain.to_string(),
            term: term.to_string(),
        }
    }
}

/// `contoso.com: include:spf.protection.outlook.com -> spf.protection.outlook.com: ip4:40.92.0.0/15`.
pub fn describe_path(path: &[Step]) -> String {
    path.iter()
        .map(|s| format!("{}: {}", s.domain, s.term))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// An include (or a redirect) met on the way, before any `all`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    /// The domain whose record has the term.
    pub from: String,
    pub target: String,
    /// A redirect's is `+`: the target's result is taken as it is.
    pub qualifier: Qualifier,
    /// `redirect=` rather than `include:`.
    pub redirect: bool,
}

impl Include {
    /// As written: `include:x`, `-include:x`, `redirect=x`.
    pub fn term(&self) -> String {
        if self.redirect {
            return format!("redirect={}", self.target);
        }
        let q = match self.qualifier {
            Qualifier::Pass => "",
            Qualifier::Fail => "-",
            Qualifier::SoftFail => "~",
            Qualifier::Neutral => "?",
        };
        format!("{q}include:{}", self.target)
    }
}

/// What a receiver may have to look up for a domain, and whether the record set works at all.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub domain: String,
    /// The domain's SPF record, when there is exactly one (printable, clipped).
    pub record: Option<String>,
    /// DNS-querying terms, includes and redirects counted through.
    pub lookups: u32,
    pub void_lookups: u32,
    /// `None` when the record set is usable.
    pub problem: Option<Problem>,
    /// none / permerror / temperror when there is a problem; otherwise what `all` says, or neutral.
    pub result: SpfResult,
    /// Where the problem is (the includes down to it).
    pub path: Vec<Step>,
    pub includes: Vec<Include>,
    pub warnings: Vec<String>,
}

impl Analysis {
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
    }

    /// "3 of 10".
    pub fn lookups_text(&self) -> String {
        format!("{} of {LOOKUP_LIMIT}", self.lookups)
    }

    /// Is `target` included (with any qualifier) before an `all`, anywhere in the tree?
    pub fn includes_domain(&self, target: &str) -> Option<&Include> {
        let target = target.trim_end_matches('.').to_ascii_lowercase();
        self.includes.iter().find(|i| i.target == target)
    }
}

/// `check_host(ip, domain, sender)`: the result, the counts, and the path that decided it.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub ip: IpAddr,
    pub domain: String,
    pub result: SpfResult,
    pub problem: Option<Problem>,
    pub lookups: u32,
    pub void_lookups: u32,
    pub path: Vec<Step>,
}

impl<C: DnsClient> Session<C> {
    /// The static analysis of `domain`'s SPF record set.
    pub async fn analyze(&self, domain: &str) -> Analysis {
        let mut w = Walker::new(self, Mode::Analyze);
        let outcome = w.run(domain).await;
        let limit = w.limit.map(|l| match l {
            Limit::Lookups => Problem::TooManyLookups { count: w.lookups },
            Limit::Voids => Problem::TooManyVoidLookups { count: w.voids },
        });
        let (result, problem, path) = match (outcome, limit) {
            // A limit passed before anything else went wrong is what a receiver meets first.
            (_, Some(p)) => (SpfResult::PermError, Some(p), Vec::new()),
            (Ok(d), None) => (d.result, None, Vec::new()),
            (Err(stop), None) => (stop.result, Some(stop.problem), stop.path),
        };
        Analysis {
            domain: session_key(domain),
            record: w.record,
            lookups: w.lookups,
            void_lookups: w.voids,
            problem,
            result,
            path,
            includes: w.includes,
            warnings: w.warnings,
        }
    }

    /// RFC 7208 `check_host()` for mail from `sender` (`postmaster@<domain>` when empty) sent
    /// by `ip`, which said `helo`.
    pub async fn check_host(
        &self,
        ip: IpAddr,
        domain: &str,
        sender: &str,
        helo: &str,
    ) -> Evaluation {
        // An IPv4-mapped IPv6 address is the IPv4 address (RFC 7208 §5).
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let sender = if sender.contains('@') {
            sender.to_string()
        } else {
            format!("postmaster@{}", session_key(domain))
        };
        let subject = Subject {
            ip,
            sender,
            helo: helo.to_string(),
        };
        let mut w = Walker::new(self, Mode::Check(subject));
        let (result, problem, path) = match w.run(domain).await {
            Ok(d) => (d.result, None, d.path),
            Err(stop) => (stop.result, Some(stop.problem), stop.path),
        };
        Evaluation {
            ip,
            domain: session_key(domain),
            result,
            problem,
            lookups: w.lookups,
            void_lookups: w.voids,
            path,
        }
    }
}

fn session_key(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
