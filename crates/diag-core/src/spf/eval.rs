//! RFC 7208 `check_host()` (§4, §5, §6) with its processing limits (§4.6.4), and the same walk
//! as a static analysis (no IP: count what a receiver may have to look up).
//!
//! Limits: at most 10 DNS-querying terms (include, a, mx, ptr, exists, redirect), counted across
//! the whole evaluation, includes and redirects included; at most 2 void lookups (NXDOMAIN or
//! NODATA); an `mx` term may name at most 10 hosts; a `ptr` term uses the first 10 names. An
//! include or redirect back into a domain still being evaluated is a loop (a receiver would
//! recurse until the lookup limit: permerror either way; naming the loop is clearer).
//!
//! The analysis follows checkdmarc's reading so its counts can be compared: every term up to the
//! first `all` is visited whatever an IP would match; past 10 lookups terms are still counted but
//! no longer followed; terms whose domain has a macro are counted, not followed; `exists` is
//! counted, not queried; `a` (and, as checkdmarc does, `ptr`) ask for A and AAAA and are void only
//! when both are empty. While it walks, the analysis asks the questions of a record's next terms
//! together (never more than the lookups left under the limit), then judges them in order.
use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    pin::Pin,
};

use super::{
    Include, Problem, SpfResult, Step,
    macros::{MacroContext, MacroString, fit_domain},
    parse::{Mechanism, Qualifier, Record, TermKind, is_spf, parse_bytes, printable},
    session::{Question, Session, key},
};
use crate::net::dns::{Answer, DnsClient, Failure};

/// RFC 7208 §4.6.4.
pub const LOOKUP_LIMIT: u32 = 10;
pub const VOID_LIMIT: u32 = 2;
const MX_NAME_LIMIT: usize = 10;
const PTR_NAME_LIMIT: usize = 10;

/// What `check_host` is evaluated for.
#[derive(Clone, Debug)]
pub(crate) struct Subject {
    pub ip: IpAddr,
    pub sender: String,
    pub helo: String,
}

pub(crate) enum Mode {
    Analyze,
    Check(Subject),
}

/// The evaluation ended without a mechanism deciding: none, permerror or temperror, and why.
#[derive(Debug)]
pub(crate) struct Stop {
    pub result: SpfResult,
    pub problem: Problem,
    pub path: Vec<Step>,
}

impl Stop {
    fn none(problem: Problem) -> Stop {
        Stop {
            result: SpfResult::None,
            problem,
            path: Vec::new(),
        }
    }
    fn perm(problem: Problem) -> Stop {
        Stop {
            result: SpfResult::PermError,
            problem,
            path: Vec::new(),
        }
    }
    fn temp(name: &str, rtype: &'static str, failure: Failure) -> Stop {
        Stop {
            result: SpfResult::TempError,
            problem: Problem::Dns {
                name: name.to_string(),
                rtype,
                failure,
            },
            path: Vec::new(),
        }
    }
    fn under(mut self, domain: &str, term: &str) -> Stop {
        self.path.insert(0, Step::new(domain, term));
        self
    }
}

/// A mechanism decided: the result and the terms that led there.
#[derive(Debug)]
pub(crate) struct Decided {
    pub result: SpfResult,
    pub path: Vec<Step>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Top,
    Include,
    Redirect,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Limit {
    Lookups,
    Voids,
}

type Flow<T> = Result<T, Stop>;
type BoxFlow<'a, T> = Pin<Box<dyn Future<Output = Flow<T>> + Send + 'a>>;

pub(crate) struct Walker<'s, C: DnsClient> {
    session: &'s Session<C>,
    mode: Mode,
    pub lookups: u32,
    pub voids: u32,
    /// Analysis: the first limit passed (the walk goes on counting).
    pub limit: Option<Limit>,
    stack: Vec<String>,
    pub includes: Vec<Include>,
    pub warnings: Vec<String>,
    /// The top record as published (printable).
    pub record: Option<String>,
}

impl<'s, C: DnsClient> Walker<'s, C> {
    pub fn new(session: &'s Session<C>, mode: Mode) -> Walker<'s, C> {
        Walker {
            session,
            mode,
            lookups: 0,
            voids: 0,
            limit: None,
            stack: Vec::new(),
            includes: Vec::new(),
            warnings: Vec::new(),
            record: None,
        }
    }

    fn analyzing(&self) -> bool {
        matches!(self.mode, Mode::Analyze)
    }

    pub async fn run(&mut self, domain: &str) -> Flow<Decided> {
        self.eval_domain(key(domain), Via::Top).await
    }

    /// Counts one DNS-querying term. `Ok(false)`: past the limit in an analysis (count, do not
    /// follow).
    fn count_lookup(&mut self) -> Flow<bool> {
        self.lookups += 1;
        if self.lookups <= LOOKUP_LIMIT {
            return Ok(true);
        }
        if self.analyzing() {
            self.limit.get_or_insert(Limit::Lookups);
            Ok(false)
        } else {
            Err(Stop::perm(Problem::TooManyLookups {
                count: self.lookups,
            }))
        }
    }

    fn count_void(&mut self) -> Flow<()> {
        self.voids += 1;
        if self.voids <= VOID_LIMIT {
            return Ok(());
        }
        if self.analyzing() {
            self.limit.get_or_insert(Limit::Voids);
            Ok(())
        } else {
            Err(Stop::perm(Problem::TooManyVoidLookups {
                count: self.voids,
            }))
        }
    }

    fn eval_domain(&mut self, domain: String, via: Via) -> BoxFlow<'_, Decided> {
        Box::pin(async move {
            if !valid_domain(&domain) {
                return Err(Stop::none(Problem::InvalidDomain { domain }));
            }
            let record = self.fetch_record(&domain, via).await?;
            if self.analyzing() {
                self.prefetch(&domain, &record);
                if record.redirect().is_some() && record.has_all() {
                    self.warnings.push(format!(
                        "{domain}: redirect is ignored because the record has an all term"
                    ));
                }
            }
            self.stack.push(domain.clone());
            let out = self.eval_record(&domain, &record).await;
            self.stack.pop();
            out
        })
    }

    /// RFC 7208 §4.4 and §4.5: the one SPF record of `domain`, parsed.
    async fn fetch_record(&mut self, domain: &str, via: Via) -> Flow<Record> {
        let records = match self.session.txt(domain).await {
            Answer::Records(r) => r,
            Answer::NxDomain => {
                return Err(Stop::none(Problem::DomainNotFound {
                    domain: domain.to_string(),
                }));
            }
            Answer::NoData => {
                return Err(Stop::none(Problem::NoRecord {
                    domain: domain.to_string(),
                    other_txt: 0,
                }));
            }
            Answer::Failed(f) => return Err(Stop::temp(domain, "TXT", f)),
        };
        let joined: Vec<Vec<u8>> = records.iter().map(|t| t.joined()).collect();
        let spf: Vec<&Vec<u8>> = joined.iter().filter(|t| is_spf(t)).collect();
        let text = match spf.as_slice() {
            [] => {
                return Err(Stop::none(Problem::NoRecord {
                    domain: domain.to_string(),
                    other_txt: joined.len(),
                }));
            }
            [one] => *one,
            many => {
                return Err(Stop::perm(Problem::MultipleRecords {
                    domain: domain.to_string(),
                    count: many.len(),
                }));
            }
        };
        if via == Via::Top {
            self.record = Some(printable(text, 2048));
        }
        parse_bytes(text).map_err(|error| {
            Stop::perm(Problem::Syntax {
                domain: domain.to_string(),
                error,
            })
        })
    }

    /// Analysis: start the questions of the next terms now, as many as lookups are left.
    fn prefetch(&self, domain: &str, record: &Record) {
        let mut budget = LOOKUP_LIMIT.saturating_sub(self.lookups);
        let ask = |q: Question| self.session.prefetch(q);
        let literal = |spec: &Option<MacroString>| match spec {
            None => Some(domain.to_string()),
            Some(s) if !s.has_percent() => Some(key(&s.raw)),
            Some(_) => None,
        };
        for term in &record.terms {
            let TermKind::Directive { mechanism, .. } = &term.kind else {
                continue;
            };
            if matches!(mechanism, Mechanism::All) {
                return;
            }
            if !mechanism.queries_dns() {
                continue;
            }
            if budget == 0 {
                return;
            }
            budget -= 1;
            match mechanism {
                Mechanism::Include(s) if !s.has_percent() => ask(Question::Txt(key(&s.raw))),
                Mechanism::A { domain: spec, .. } | Mechanism::Ptr(spec) => {
                    if let Some(name) = literal(spec) {
                        ask(Question::A(name.clone()));
                        ask(Question::Aaaa(name));
                    }
                }
                Mechanism::Mx { domain: spec, .. } => {
                    if let Some(name) = literal(spec) {
                        ask(Question::Mx(name));
                    }
                }
                _ => {}
            }
        }
        if let Some((_, spec)) = record.redirect()
            && budget > 0
            && !spec.has_percent()
        {
            ask(Question::Txt(key(&spec.raw)));
        }
    }

    /// RFC 7208 §4.6.2, §6.1: mechanisms in order; the first match decides; then redirect.
    async fn eval_record(&mut self, domain: &str, record: &Record) -> Flow<Decided> {
        for term in &record.terms {
            let TermKind::Directive {
                qualifier,
                mechanism,
            } = &term.kind
            else {
                continue;
            };
            let hit = self
                .eval_mechanism(domain, *qualifier, mechanism)
                .await
                .map_err(|s| s.under(domain, &term.text))?;
            if let Some(mut path) = hit {
                path.insert(0, Step::new(domain, &term.text));
                return Ok(Decided {
                    result: SpfResult::from(*qualifier),
                    path,
                });
            }
        }
        if let Some((term, spec)) = record.redirect().filter(|_| !record.has_all()) {
            let mut d = self
                .eval_redirect(domain, spec)
                .await
                .map_err(|s| s.under(domain, &term.text))?;
            d.path.insert(0, Step::new(domain, &term.text));
            return Ok(d);
        }
        Ok(Decided {
            result: SpfResult::Neutral,
            path: vec![Step::new(domain, "(no term matched: neutral)")],
        })
    }

    async fn eval_redirect(&mut self, domain: &str, spec: &MacroString) -> Flow<Decided> {
        if !self.count_lookup()? {
            return Ok(Decided {
                result: SpfResult::Neutral,
                path: Vec::new(),
            });
        }
        let Some(target) = self.target(Some(spec), domain).await else {
            return Ok(Decided {
                result: SpfResult::Neutral,
                path: Vec::new(),
            });
        };
        self.includes.push(Include {
            from: domain.to_string(),
            target: target.clone(),
            qualifier: Qualifier::Pass,
            redirect: true,
        });
        self.check_loop(&target)?;
        self.follow(target, Via::Redirect).await
    }

    /// Include and redirect: evaluate `target`; "none" there is a permerror here (§5.2, §6.1).
    async fn follow(&mut self, target: String, via: Via) -> Flow<Decided> {
        match self.eval_domain(target.clone(), via).await {
            Err(stop) if stop.result == SpfResult::None => {
                if stop.problem.is_void() {
                    self.count_void()?;
                }
                let how = if via == Via::Include {
                    "include"
                } else {
                    "redirect"
                };
                Err(Stop::perm(Problem::TargetNone {
                    via: how,
                    target,
                    reason: Box::new(stop.problem),
                }))
            }
            other => other,
        }
    }

    fn check_loop(&self, target: &str) -> Flow<()> {
        if self.stack.iter().any(|d| d == target) {
            let mut chain = self.stack.clone();
            chain.push(target.to_string());
            return Err(Stop::perm(Problem::Loop { chain }));
        }
        Ok(())
    }

    /// `Some(path below this term)` when the mechanism matches.
    async fn eval_mechanism(
        &mut self,
        domain: &str,
        qualifier: Qualifier,
        mechanism: &Mechanism,
    ) -> Flow<Option<Vec<Step>>> {
        let ip = match &self.mode {
            Mode::Check(s) => Some(s.ip),
            Mode::Analyze => None,
        };
        match mechanism {
            Mechanism::All => Ok(Some(Vec::new())),
            Mechanism::Ip4 { addr, prefix } => Ok(match ip {
                Some(IpAddr::V4(ip)) if in_v4(ip, *addr, *prefix) => Some(Vec::new()),
                _ => None,
            }),
            Mechanism::Ip6 { addr, prefix } => Ok(match ip {
                Some(IpAddr::V6(ip)) if in_v6(ip, *addr, *prefix) => Some(Vec::new()),
                _ => None,
            }),
            Mechanism::Include(spec) => {
                if !self.count_lookup()? {
                    return Ok(None);
                }
                let Some(target) = self.target(Some(spec), domain).await else {
                    return Ok(None);
                };
                self.includes.push(Include {
                    from: domain.to_string(),
                    target: target.clone(),
                    qualifier,
                    redirect: false,
                });
                self.check_loop(&target)?;
                let decided = self.follow(target, Via::Include).await?;
                // §5.2: only "pass" of the included record is a match. The analysis never
                // matches, so every term gets counted.
                Ok((ip.is_some() && decided.result == SpfResult::Pass).then_some(decided.path))
            }
            Mechanism::A {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                if !self.count_lookup()? {
                    return Ok(None);
                }
                let Some(target) = self.target(spec.as_ref(), domain).await else {
                    return Ok(None);
                };
                match ip {
                    None => {
                        self.void_unless_addresses(&target).await?;
                        Ok(None)
                    }
                    Some(ip) => {
                        let found = self.addresses(&target, ip).await?;
                        if found.is_void() {
                            self.count_void()?;
                        }
                        Ok(matching(&found, ip, *cidr4, *cidr6)
                            .map(|a| vec![Step::new(&target, &format!("address {a}"))]))
                    }
                }
            }
            Mechanism::Mx {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                if !self.count_lookup()? {
                    return Ok(None);
                }
                let Some(target) = self.target(spec.as_ref(), domain).await else {
                    return Ok(None);
                };
                let hosts = match self.session.mx(&target).await {
                    Answer::Records(r) => r,
                    Answer::Failed(f) => return Err(Stop::temp(&target, "MX", f)),
                    _ => {
                        self.count_void()?;
                        return Ok(None);
                    }
                };
                if hosts.len() > MX_NAME_LIMIT {
                    return Err(Stop::perm(Problem::TooManyMxNames {
                        domain: target,
                        count: hosts.len(),
                    }));
                }
                let Some(ip) = ip else { return Ok(None) };
                for host in hosts.iter().filter(|h| valid_domain(&h.exchange)) {
                    let found = self.addresses(&host.exchange, ip).await?;
                    if let Some(a) = matching(&found, ip, *cidr4, *cidr6) {
                        return Ok(Some(vec![Step::new(
                            &host.exchange,
                            &format!("MX host address {a}"),
                        )]));
                    }
                }
                Ok(None)
            }
            Mechanism::Ptr(spec) => {
                if !self.count_lookup()? {
                    return Ok(None);
                }
                let Some(target) = self.target(spec.as_ref(), domain).await else {
                    return Ok(None);
                };
                let Some(ip) = ip else {
                    self.warnings.push(format!(
                        "{domain}: the ptr mechanism should not be used (RFC 7208 §5.5)"
                    ));
                    // checkdmarc's reading: a ptr whose domain has no address is void.
                    let (a, aaaa) =
                        tokio::join!(self.session.a(&target), self.session.aaaa(&target));
                    if a.is_void() && aaaa.is_void() {
                        self.count_void()?;
                    }
                    return Ok(None);
                };
                let names = match self.session.ptr(ip).await {
                    Answer::Records(r) => r,
                    found => {
                        if found.is_void() {
                            self.count_void()?;
                        }
                        // §5.5: a DNS error here just means no match.
                        return Ok(None);
                    }
                };
                for name in self.validated_names(&names, ip).await {
                    if name == target || name.ends_with(&format!(".{target}")) {
                        return Ok(Some(vec![Step::new(&name, "validated PTR name")]));
                    }
                }
                Ok(None)
            }
            Mechanism::Exists(spec) => {
                if !self.count_lookup()? {
                    return Ok(None);
                }
                if ip.is_none() {
                    // Counted, not asked: the name depends on the connection (checkdmarc does the same).
                    return Ok(None);
                }
                let Some(target) = self.target(Some(spec), domain).await else {
                    return Ok(None);
                };
                match self.session.a(&target).await {
                    Answer::Records(_) => Ok(Some(vec![Step::new(&target, "exists")])),
                    Answer::Failed(f) => Err(Stop::temp(&target, "A", f)),
                    _ => {
                        self.count_void()?;
                        Ok(None)
                    }
                }
            }
        }
    }

    /// Analysis of `a`: A and AAAA together; void when both are empty.
    async fn void_unless_addresses(&mut self, target: &str) -> Flow<()> {
        let (a, aaaa) = tokio::join!(self.session.a(target), self.session.aaaa(target));
        if let Some(f) = a.failure() {
            return Err(Stop::temp(target, "A", f.clone()));
        }
        if let Some(f) = aaaa.failure() {
            return Err(Stop::temp(target, "AAAA", f.clone()));
        }
        if a.is_void() && aaaa.is_void() {
            self.count_void()?;
        }
        Ok(())
    }

    /// The addresses of `name` in the family of `ip` (§5: A for IPv4, AAAA for IPv6).
    async fn addresses(&self, name: &str, ip: IpAddr) -> Flow<Answer<IpAddr>> {
        let found = match ip {
            IpAddr::V4(_) => map_answer(self.session.a(name).await, IpAddr::V4),
            IpAddr::V6(_) => map_answer(self.session.aaaa(name).await, IpAddr::V6),
        };
        match found {
            Answer::Failed(f) => Err(Stop::temp(name, if ip.is_ipv4() { "A" } else { "AAAA" }, f)),
            other => Ok(other),
        }
    }

    /// §5.5: of the first 10 PTR names, those whose addresses include `ip`.
    async fn validated_names(&self, names: &[String], ip: IpAddr) -> Vec<String> {
        let mut valid = Vec::new();
        for name in names
            .iter()
            .take(PTR_NAME_LIMIT)
            .filter(|n| valid_domain(n))
        {
            // A lookup error skips the name (§5.5).
            if let Ok(found) = self.addresses(name, ip).await
                && found.records().contains(&ip)
            {
                valid.push(key(name));
            }
        }
        valid
    }

    /// The domain a term asks about: its domain-spec expanded, or the current domain. `None` in
    /// an analysis when the spec has a macro (it depends on the connection), or when the
    /// expansion is no domain name.
    async fn target(&mut self, spec: Option<&MacroString>, domain: &str) -> Option<String> {
        let Some(spec) = spec else {
            return Some(domain.to_string());
        };
        let subject = match &self.mode {
            Mode::Analyze if spec.has_percent() => return None,
            Mode::Analyze => return Some(key(&spec.raw)),
            Mode::Check(s) => s.clone(),
        };
        let validated_name = if spec.uses('p') {
            self.p_macro(&subject, domain).await
        } else {
            String::new()
        };
        let cx = MacroContext {
            sender: subject.sender,
            domain: domain.to_string(),
            ip: subject.ip,
            helo: subject.helo,
            validated_name,
        };
        let name = key(&fit_domain(&spec.expand(&cx)));
        if valid_domain(&name) {
            Some(name)
        } else {
            self.warnings.push(format!(
                "{domain}: '{}' expands to '{}', which is no domain name",
                spec.raw,
                printable(name.as_bytes(), 100)
            ));
            None
        }
    }

    /// `%{p}`: a validated name of the IP, preferably in `domain` (§7.3), else `unknown`.
    async fn p_macro(&self, subject: &Subject, domain: &str) -> String {
        let names = self.session.ptr(subject.ip).await;
        let valid = self.validated_names(names.records(), subject.ip).await;
        let in_domain = valid
            .iter()
            .find(|n| *n == domain || n.ends_with(&format!(".{domain}")));
        in_domain
            .or(valid.first())
            .cloned()
            .unwrap_or_else(|| "unknown".to_string())
    }
}

fn map_answer<T, U>(a: Answer<T>, f: impl Fn(T) -> U) -> Answer<U> {
    match a {
        Answer::Records(r) => Answer::Records(r.into_iter().map(f).collect()),
        Answer::NoData => Answer::NoData,
        Answer::NxDomain => Answer::NxDomain,
        Answer::Failed(e) => Answer::Failed(e),
    }
}

/// The first address of `found` whose network (with the term's prefix) holds `ip`.
fn matching(
    found: &Answer<IpAddr>,
    ip: IpAddr,
    cidr4: Option<u8>,
    cidr6: Option<u8>,
) -> Option<IpAddr> {
    found.records().iter().copied().find(|a| match (ip, a) {
        (IpAddr::V4(ip), IpAddr::V4(a)) => in_v4(ip, *a, cidr4.unwrap_or(32)),
        (IpAddr::V6(ip), IpAddr::V6(a)) => in_v6(ip, *a, cidr6.unwrap_or(128)),
        _ => false,
    })
}

pub(crate) fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    u32::from(ip) & mask == u32::from(net) & mask
}

pub(crate) fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    };
    u128::from(ip) & mask == u128::from(net) & mask
}

/// RFC 7208 §4.3: a multi-label name, labels of 1 to 63 octets, at most 253 in all, printable.
pub(crate) fn valid_domain(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    !name.is_empty()
        && name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|l| !l.is_empty() && l.len() <= 63)
        && name.bytes().all(|b| (0x21..=0x7e).contains(&b))
}
