//! `dns`: the sending domain's mail records, judged for the way the device sends (reference §7).
//! Asks the system resolver, or `--dns-server`, for the MX, the SPF record set (analysed like
//! checkdmarc: "N of 10" lookups, void lookups, loops, syntax), the DMARC policy, and evaluates
//! SPF (`check_host`) for the site's public IP and for a Microsoft 365 outbound address, all in
//! one cached session with a deadline on every query.
//!
//! Which findings apply to which method:
//!
//! | finding | smtp | direct-send | relay |
//! |---|---|---|---|
//! | dns-timeout, dns-domain-not-found | yes | yes | yes |
//! | dns-mx-missing, dns-mx-not-exchange-online | no: the device submits to `smtp.office365.com`; the MX is evidence | yes: the MX is the device's target | yes: same |
//! | dns-spf-missing, -multiple-records, -syntax-error, -too-many-lookups | yes | yes | yes: receivers get a permerror whatever the path |
//! | dns-spf-missing-exchange-include | yes: the mail leaves from Microsoft's servers | no: direct send only reaches the tenant's own mailboxes; evidence | yes: mail to outside recipients leaves from Microsoft |
//! | dns-spf-ip-not-authorized (needs `--public-ip`) | no: the site's IP never talks to a receiver | yes | yes (Microsoft's recommended record lists it; connector and SPF change together) |
//! | dns-dmarc-missing (warn) | yes | yes | yes |
//!
//! The Exchange-specific judgments (MX host, include) use the global cloud's host names; for the
//! sovereign clouds they are shown, not judged. The check returns the first problem in the
//! order of the table (a domain that does not exist explains everything below it).
use std::{net::IpAddr, sync::Arc};

use super::context::Ctx;
use crate::{
    check::CheckId,
    finding::{Evidence, Finding},
    net::dns::{Answer, DnsClient, HickoryDns, Mx},
    rules::{RuleId, ids},
    spf::{
        Analysis, Evaluation, Problem, Session, SpfResult, VOID_LIMIT, describe_path,
        dmarc::{self, Dmarc},
        parse::{Mechanism, TermKind},
    },
    target::{Cloud, Method, is_public_name},
};

const CHECK: CheckId = CheckId::Dns;

/// Every rule this check can emit (for `checks::emitted_rules`).
pub(crate) const RULES: &[RuleId] = &[
    ids::DNS_DOMAIN_NOT_FOUND,
    ids::DNS_TIMEOUT,
    ids::DNS_MX_MISSING,
    ids::DNS_MX_NOT_EXCHANGE_ONLINE,
    ids::DNS_SPF_MISSING,
    ids::DNS_SPF_MULTIPLE_RECORDS,
    ids::DNS_SPF_SYNTAX_ERROR,
    ids::DNS_SPF_TOO_MANY_LOOKUPS,
    ids::DNS_SPF_MISSING_EXCHANGE_INCLUDE,
    ids::DNS_SPF_IP_NOT_AUTHORIZED,
    ids::DNS_DMARC_MISSING,
];

/// Microsoft's SPF include and MX host suffixes, global cloud (reference §7).
const EXCHANGE_INCLUDE: &str = "spf.protection.outlook.com";
const EXCHANGE_MX_SUFFIXES: [&str; 2] = [".mail.protection.outlook.com", ".mx.microsoft"];

/// What the check needs from the target.
#[derive(Clone, Debug)]
pub(crate) struct Inputs {
    pub domain: String,
    pub method: Method,
    pub cloud: Cloud,
    pub public_ip: Option<IpAddr>,
    /// The envelope sender for `check_host` (`postmaster@domain` when unknown).
    pub sender: String,
}

impl Inputs {
    fn judges_mx(&self) -> bool {
        matches!(self.method, Method::DirectSend | Method::Relay)
    }
    fn needs_exchange_include(&self) -> bool {
        matches!(self.method, Method::Smtp | Method::Relay)
    }
    fn judges_site_ip(&self) -> bool {
        matches!(self.method, Method::DirectSend | Method::Relay)
    }
    fn knows_exchange_hosts(&self) -> bool {
        self.cloud == Cloud::Global
    }
}

/// Everything the check asked and learned.
#[derive(Clone, Debug)]
pub(crate) struct Survey {
    pub server: String,
    pub mx: Answer<Mx>,
    pub spf: Analysis,
    pub dmarc: Dmarc,
    /// `check_host` for the site's public IP, when the method sends from it.
    pub site: Option<Evaluation>,
    /// `check_host` for an address of Microsoft's own record, when the method sends through it.
    pub microsoft: Option<Evaluation>,
    pub queries: u64,
}

/// A judgment: the rule (none: pass), the summary and the evidence.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub rule: Option<RuleId>,
    pub summary: String,
    pub evidence: Vec<Evidence>,
}

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let t = &cx.target;
    let Some(domain) = t.sending_domain() else {
        return Finding::skip(
            CHECK,
            "no sending domain: give --domain, or --mailbox with a domain",
        );
    };
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let client = match HickoryDns::new(t.endpoints.dns_server, t.timeout) {
        Ok(c) => c,
        // No usable system configuration (no resolv.conf): nothing to ask, as for a silent server.
        Err(e) => {
            let mut f = cx.judged(
                CHECK,
                ids::DNS_TIMEOUT,
                format!("there is no DNS server to ask ({e}): give --dns-server"),
            );
            f.evidence.push(Evidence::new("domain", domain));
            return f;
        }
    };
    let server = client.server().to_string();
    // An envelope domain that is not a public name (`scanner@localhost`) has no records to
    // judge: the sending domain above is then the tenant's, and the note says why.
    let private_sender = t
        .sender_domain()
        .filter(|d| *d != domain && !is_public_name(d));
    let sender = match &private_sender {
        Some(_) => format!("postmaster@{domain}"),
        None => t
            .from
            .as_deref()
            .or(t.mailbox.as_deref())
            .map(str::trim)
            .unwrap_or_default()
            .to_string(),
    };
    let inputs = Inputs {
        domain,
        method: t.method,
        cloud: t.cloud,
        public_ip: t.public_ip,
        sender,
    };
    let survey = survey(Session::new(Arc::new(client)), server, &inputs).await;
    // Hand the MX hosts on (most preferred first) so reach and relay need not ask again.
    if let Answer::Records(r) = &survey.mx {
        let mut sorted: Vec<_> = r
            .iter()
            .filter(|m| !matches!(m.exchange.as_str(), "." | ""))
            .collect();
        sorted.sort_by_key(|m| m.preference);
        let hosts = sorted
            .iter()
            .map(|m| m.exchange.trim_end_matches('.').to_string())
            .collect();
        let _ = cx.facts.mx_hosts.set(hosts);
    }
    let verdict = judge(&survey, &inputs);
    let mut finding = match verdict.rule {
        Some(rule) => cx.judged(CHECK, rule, verdict.summary),
        None => Finding::pass(CHECK, verdict.summary),
    };
    finding.evidence = verdict.evidence;
    if let Some(d) = private_sender {
        finding.evidence.push(Evidence::new(
            "sender_domain",
            format!("{d} is not a public DNS name: no receiver can check SPF or DMARC for it, and Exchange Online accepts its mail as the tenant's only through a matching connector"),
        ));
    }
    finding
}

/// Asks everything the judgment needs: MX, SPF analysis and DMARC together, then the
/// `check_host` evaluations from the same cache.
pub(crate) async fn survey<C: DnsClient>(
    session: Session<C>,
    server: String,
    inputs: &Inputs,
) -> Survey {
    let domain = inputs.domain.as_str();
    let (mx, spf, dmarc) = tokio::join!(
        session.mx(domain),
        session.analyze(domain),
        dmarc::lookup(&session, domain)
    );
    let mut site = None;
    let mut microsoft = None;
    if spf.is_valid() {
        if let (true, Some(ip)) = (inputs.judges_site_ip(), inputs.public_ip) {
            site = Some(session.check_host(ip, domain, &inputs.sender, "").await);
        }
        if inputs.needs_exchange_include()
            && inputs.knows_exchange_hosts()
            && spf.includes_domain(EXCHANGE_INCLUDE).is_some()
            && let Some(ip) = microsoft_address(&session).await
        {
            microsoft = Some(session.check_host(ip, domain, &inputs.sender, "").await);
        }
    }
    let queries = session.client().queries();
    Survey {
        server,
        mx,
        spf,
        dmarc,
        site,
        microsoft,
        queries,
    }
}

/// An address Microsoft 365 sends from: the first `ip4:` network of its own SPF record (already in
/// the cache: the analysis read it), one above the network address.
async fn microsoft_address<C: DnsClient>(session: &Session<C>) -> Option<IpAddr> {
    let answer = session.txt(EXCHANGE_INCLUDE).await;
    let record = answer
        .records()
        .iter()
        .map(|t| t.joined())
        .find(|t| crate::spf::parse::is_spf(t))?;
    let parsed = crate::spf::parse_bytes(&record).ok()?;
    parsed.terms.iter().find_map(|t| match &t.kind {
        TermKind::Directive {
            mechanism: Mechanism::Ip4 { addr, prefix },
            ..
        } => {
            let host = if *prefix < 32 {
                u32::from(*addr).saturating_add(1)
            } else {
                u32::from(*addr)
            };
            Some(IpAddr::V4(host.into()))
        }
        _ => None,
    })
}

fn is_exchange_mx(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    EXCHANGE_MX_SUFFIXES.iter().any(|s| host.ends_with(s))
}

/// The rule for an SPF problem that makes the record set unusable (receivers: none/permerror).
fn spf_rule(problem: &Problem, domain: &str) -> RuleId {
    match problem {
        Problem::DomainNotFound { domain: d } if d == domain => ids::DNS_DOMAIN_NOT_FOUND,
        Problem::InvalidDomain { domain: d } if d == domain => ids::DNS_DOMAIN_NOT_FOUND,
        Problem::NoRecord { domain: d, .. } if d == domain => ids::DNS_SPF_MISSING,
        Problem::MultipleRecords { .. } => ids::DNS_SPF_MULTIPLE_RECORDS,
        Problem::TooManyLookups { .. }
        | Problem::TooManyVoidLookups { .. }
        | Problem::TooManyMxNames { .. }
        | Problem::Loop { .. } => ids::DNS_SPF_TOO_MANY_LOOKUPS,
        Problem::Dns { .. } => ids::DNS_TIMEOUT,
        // A syntax error, or an include/redirect to a name without a (usable) record: the record
        // must be rewritten.
        _ => ids::DNS_SPF_SYNTAX_ERROR,
    }
}

fn spf_summary(problem: &Problem, domain: &str) -> String {
    match problem {
        Problem::NoRecord { other_txt: 0, .. } => {
            format!("{domain} has no SPF record (no TXT record at all)")
        }
        Problem::NoRecord { other_txt, .. } => format!(
            "{domain} has no SPF record ({other_txt} other TXT record(s), none starting with v=spf1)"
        ),
        Problem::TooManyLookups { count } => {
            format!(
                "the SPF record of {domain} needs {count} of 10 DNS lookups: receivers return permerror"
            )
        }
        Problem::TooManyVoidLookups { count } => format!(
            "the SPF record of {domain} makes {count} void lookups (names that do not exist or have no address), more than the {VOID_LIMIT} allowed: receivers return permerror"
        ),
        Problem::Loop { .. } | Problem::TooManyMxNames { .. } | Problem::TargetNone { .. } => {
            format!("the SPF record of {domain} cannot be evaluated: {problem}")
        }
        Problem::Dns {
            name,
            rtype,
            failure,
        } => format!("no usable answer for {rtype} {name}: {failure}"),
        other => lowercase_start(&other.to_string()),
    }
}

/// `the DNS server 192.0.2.53:53` or `the system resolver`.
fn who(server: &str) -> String {
    if server.starts_with("the ") {
        server.to_string()
    } else {
        format!("the DNS server {server}")
    }
}

fn lowercase_start(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn mx_text(mx: &Answer<Mx>) -> String {
    match mx {
        Answer::Records(r) => {
            let mut r = r.clone();
            r.sort_by_key(|m| m.preference);
            r.iter()
                .map(|m| format!("{} {}", m.preference, m.exchange))
                .collect::<Vec<_>>()
                .join(", ")
        }
        other => other.outcome(),
    }
}

fn eval_text(e: &Evaluation) -> String {
    let how = if e.path.is_empty() {
        String::new()
    } else {
        format!(" ({})", describe_path(&e.path))
    };
    match &e.problem {
        Some(p) => format!("{}: {}{how}: {p}", e.ip, e.result),
        None => format!("{}: {}{how}", e.ip, e.result),
    }
}

/// Turns the survey into one finding's rule, summary and evidence.
pub(crate) fn judge(s: &Survey, inputs: &Inputs) -> Verdict {
    let domain = inputs.domain.as_str();
    let spf = &s.spf;
    let mut ev = vec![
        Evidence::new("domain", domain),
        Evidence::new("dns_server", &s.server),
        Evidence::new("mx", mx_text(&s.mx)),
        Evidence::new(
            "spf_record",
            spf.record.clone().unwrap_or_else(|| "(none)".into()),
        ),
        Evidence::new("spf_lookups", spf.lookups_text()),
        Evidence::new(
            "spf_void_lookups",
            format!("{} of {VOID_LIMIT}", spf.void_lookups),
        ),
    ];
    if let Some(p) = &spf.problem {
        let at = if spf.path.is_empty() {
            String::new()
        } else {
            format!(" (at {})", describe_path(&spf.path))
        };
        ev.push(Evidence::new(
            "spf_problem",
            format!("{}: {p}{at}", spf.result),
        ));
    }
    if !spf.warnings.is_empty() {
        ev.push(Evidence::new(
            "spf_warnings",
            spf.warnings
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let include = spf.includes_domain(EXCHANGE_INCLUDE);
    ev.push(Evidence::new(
        "exchange_include",
        match (inputs.knows_exchange_hosts(), include) {
            (false, _) => format!("not judged for cloud {}", inputs.cloud.as_str()),
            (true, Some(i)) => format!("{} in the record of {}", i.term(), i.from),
            (true, None) => format!("include:{EXCHANGE_INCLUDE} not found"),
        },
    ));
    if let Some(m) = &s.microsoft {
        ev.push(Evidence::new("microsoft_address_check", eval_text(m)));
    }
    ev.push(Evidence::new(
        "public_ip_check",
        match (&s.site, inputs.public_ip) {
            (Some(e), _) => eval_text(e),
            (None, _) if !inputs.judges_site_ip() => format!(
                "not judged: with method {} receivers see Microsoft's servers, not the site",
                inputs.method.as_str()
            ),
            (None, None) => "not checked: no --public-ip".into(),
            (None, Some(_)) => "not checked: the SPF record set is not usable".into(),
        },
    ));
    ev.push(Evidence::new("dmarc", s.dmarc.describe()));
    ev.push(Evidence::new("dns_queries", s.queries.to_string()));

    let verdict = |rule: RuleId, summary: String| Verdict {
        rule: Some(rule),
        summary,
        evidence: ev.clone(),
    };

    // 1. The domain itself: does it exist, does the server answer?
    let nx = matches!(s.mx, Answer::NxDomain)
        || matches!(&spf.problem, Some(Problem::DomainNotFound { domain: d }) if d == domain);
    if nx {
        return verdict(
            ids::DNS_DOMAIN_NOT_FOUND,
            format!("{domain} does not exist in DNS (NXDOMAIN)"),
        );
    }
    if let Some(Problem::InvalidDomain { .. }) = &spf.problem {
        return verdict(
            ids::DNS_DOMAIN_NOT_FOUND,
            format!("'{domain}' is not a valid domain name"),
        );
    }
    if let Answer::Failed(f) = &s.mx {
        return verdict(
            ids::DNS_TIMEOUT,
            format!(
                "{} gave no usable answer for MX {domain}: {f}",
                who(&s.server)
            ),
        );
    }
    if let Some(Problem::Dns {
        name,
        rtype,
        failure,
    }) = &spf.problem
    {
        return verdict(
            ids::DNS_TIMEOUT,
            format!(
                "{} gave no usable answer for {rtype} {name}: {failure}",
                who(&s.server)
            ),
        );
    }

    // 2. The MX, where the device sends to it.
    if inputs.judges_mx() {
        match &s.mx {
            Answer::Records(r) if r.iter().all(|m| matches!(m.exchange.as_str(), "." | "")) => {
                return verdict(
                    ids::DNS_MX_MISSING,
                    format!("{domain} publishes a null MX: it accepts no mail"),
                );
            }
            Answer::Records(r) if inputs.knows_exchange_hosts() => {
                let best = r.iter().map(|m| m.preference).min().unwrap_or_default();
                let preferred: Vec<&str> = r
                    .iter()
                    .filter(|m| m.preference == best)
                    .map(|m| m.exchange.as_str())
                    .collect();
                if !preferred.iter().any(|h| is_exchange_mx(h)) {
                    return verdict(
                        ids::DNS_MX_NOT_EXCHANGE_ONLINE,
                        format!(
                            "the MX of {domain} points at {}, not at Exchange Online (*.mail.protection.outlook.com)",
                            preferred.join(", ")
                        ),
                    );
                }
            }
            Answer::Records(_) => {}
            _ => return verdict(ids::DNS_MX_MISSING, format!("{domain} has no MX record")),
        }
    }

    // 3. The SPF record set as a whole.
    if let Some(p) = &spf.problem {
        return verdict(spf_rule(p, domain), spf_summary(p, domain));
    }

    // 4. Microsoft's servers, where the mail leaves through them.
    if inputs.needs_exchange_include() && inputs.knows_exchange_hosts() {
        match (&include, &s.microsoft) {
            (None, _) => {
                return verdict(
                    ids::DNS_SPF_MISSING_EXCHANGE_INCLUDE,
                    format!(
                        "the SPF record of {domain} does not include {EXCHANGE_INCLUDE}: mail Microsoft 365 sends for it fails SPF"
                    ),
                );
            }
            (Some(_), Some(m)) if m.result != SpfResult::Pass => {
                if let Some(v) = evaluation_problem(m, domain, &verdict) {
                    return v;
                }
                return verdict(
                    ids::DNS_SPF_MISSING_EXCHANGE_INCLUDE,
                    format!(
                        "the Microsoft 365 address {} gets {} from the SPF record of {domain}, not pass ({})",
                        m.ip,
                        m.result,
                        describe_path(&m.path)
                    ),
                );
            }
            _ => {}
        }
    }

    // 5. The site's own IP, where the device sends from it.
    if let Some(e) = &s.site
        && e.result != SpfResult::Pass
    {
        if let Some(v) = evaluation_problem(e, domain, &verdict) {
            return v;
        }
        return verdict(
            ids::DNS_SPF_IP_NOT_AUTHORIZED,
            format!(
                "the site's IP {} is not authorised by the SPF record of {domain}: {} ({})",
                e.ip,
                e.result,
                describe_path(&e.path)
            ),
        );
    }

    // 6. DMARC (a warning).
    match &s.dmarc {
        Dmarc::Missing => {
            return verdict(
                ids::DNS_DMARC_MISSING,
                format!("{domain} publishes no DMARC record"),
            );
        }
        Dmarc::Multiple { name, count } => {
            return verdict(
                ids::DNS_DMARC_MISSING,
                format!("{name} has {count} DMARC records, so receivers apply none"),
            );
        }
        Dmarc::Found { .. } | Dmarc::Failed { .. } => {}
    }

    let mut parts = vec![format!("SPF {} lookups", spf.lookups_text())];
    if inputs.judges_mx() {
        parts.insert(0, format!("MX {}", mx_text(&s.mx)));
    }
    if let Some(e) = &s.site {
        parts.push(format!("{} passes", e.ip));
    }
    if s.microsoft.is_some() {
        parts.push("Microsoft 365 passes".into());
    }
    parts.push(format!("DMARC {}", s.dmarc.describe()));
    Verdict {
        rule: None,
        summary: format!("{domain}: {}", parts.join(", ")),
        evidence: ev,
    }
}

/// A `check_host` that ended in permerror or temperror (a path the analysis could not take: a
/// macro, the site's PTR): the same rules as the analysis.
fn evaluation_problem(
    e: &Evaluation,
    domain: &str,
    verdict: &impl Fn(RuleId, String) -> Verdict,
) -> Option<Verdict> {
    let p = e
        .problem
        .as_ref()
        .filter(|_| matches!(e.result, SpfResult::PermError | SpfResult::TempError))?;
    Some(verdict(
        spf_rule(p, domain),
        format!("evaluating SPF for {}: {}", e.ip, spf_summary(p, domain)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dns::fake::FakeDns;

    const M365: &str = "spf.protection.outlook.com TXT v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip6:2a01:111:f400::/48 -all";

    fn healthy(spf: &str) -> String {
        format!(
            "contoso.com MX 0 contoso-com.mail.protection.outlook.com\ncontoso.com TXT {spf}\n\
             _dmarc.contoso.com TXT v=DMARC1; p=reject\n{M365}"
        )
    }

    fn inputs(method: Method, ip: Option<&str>) -> Inputs {
        Inputs {
            domain: "contoso.com".into(),
            method,
            cloud: Cloud::Global,
            public_ip: ip.map(|s| s.parse().expect("ip")),
            sender: "scanner@contoso.com".into(),
        }
    }

    async fn verdict_for(zone: &str, inputs: &Inputs) -> Verdict {
        let s = survey(
            Session::new(Arc::new(FakeDns::new(zone))),
            "127.0.0.1:53".into(),
            inputs,
        )
        .await;
        judge(&s, inputs)
    }

    fn rule(v: &Verdict) -> Option<&'static str> {
        v.rule.map(RuleId::as_str)
    }

    fn ev<'a>(v: &'a Verdict, key: &str) -> &'a str {
        v.evidence
            .iter()
            .find(|e| e.key == key)
            .map_or("", |e| e.value.as_str())
    }

    #[tokio::test]
    async fn a_healthy_domain_passes_for_every_method() {
        let zone = healthy("v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all");
        for method in [Method::Smtp, Method::DirectSend, Method::Relay] {
            let v = verdict_for(&zone, &inputs(method, Some("203.0.113.10"))).await;
            assert_eq!(rule(&v), None, "{method:?}: {}", v.summary);
            assert_eq!(ev(&v, "spf_lookups"), "1 of 10");
            assert_eq!(ev(&v, "dmarc"), "p=reject at _dmarc.contoso.com");
            assert!(
                !v.summary.ends_with('.') && v.summary.starts_with("contoso.com"),
                "{}",
                v.summary
            );
        }
        let v = verdict_for(&zone, &inputs(Method::Relay, Some("203.0.113.10"))).await;
        assert!(
            ev(&v, "microsoft_address_check").starts_with("40.92.0.1: pass"),
            "{}",
            ev(&v, "microsoft_address_check")
        );
        assert!(ev(&v, "public_ip_check").starts_with("203.0.113.10: pass"));
        assert_eq!(ev(&v, "mx"), "0 contoso-com.mail.protection.outlook.com");
    }

    #[tokio::test]
    async fn the_domain_itself() {
        let v = verdict_for(M365, &inputs(Method::Smtp, None)).await;
        assert_eq!(rule(&v), Some("dns-domain-not-found"), "{}", v.summary);
        assert_eq!(v.summary, "contoso.com does not exist in DNS (NXDOMAIN)");
        let v = verdict_for(
            "contoso.com MX !timeout\ncontoso.com TXT v=spf1 -all",
            &inputs(Method::Smtp, None),
        )
        .await;
        assert_eq!(rule(&v), Some("dns-timeout"));
        assert!(
            v.summary
                .contains("the DNS server 127.0.0.1:53 gave no usable answer for MX contoso.com"),
            "{}",
            v.summary
        );
        let v = verdict_for(
            "contoso.com MX 0 contoso-com.mail.protection.outlook.com\ncontoso.com TXT !servfail",
            &inputs(Method::Smtp, None),
        )
        .await;
        assert_eq!(rule(&v), Some("dns-timeout"));
        assert!(
            v.summary.contains("TXT contoso.com: SERVFAIL"),
            "{}",
            v.summary
        );
    }

    #[tokio::test]
    async fn the_mx_counts_only_where_the_device_sends_to_it() {
        let no_mx = "contoso.com TXT v=spf1 include:spf.protection.outlook.com -all\n_dmarc.contoso.com TXT v=DMARC1; p=none\n".to_string() + M365;
        assert_eq!(
            rule(&verdict_for(&no_mx, &inputs(Method::DirectSend, None)).await),
            Some("dns-mx-missing")
        );
        assert_eq!(
            rule(&verdict_for(&no_mx, &inputs(Method::Smtp, None)).await),
            None,
            "smtp submits to smtp.office365.com"
        );
        let other = no_mx.clone()
            + "\ncontoso.com MX 10 mail.isp.example\ncontoso.com MX 20 contoso-com.mail.protection.outlook.com";
        let v = verdict_for(&other, &inputs(Method::Relay, None)).await;
        assert_eq!(rule(&v), Some("dns-mx-not-exchange-online"));
        assert!(v.summary.contains("mail.isp.example"), "{}", v.summary);
        let dane = no_mx.clone() + "\ncontoso.com MX 0 contoso-com.o-v1.mx.microsoft";
        assert_eq!(
            rule(&verdict_for(&dane, &inputs(Method::DirectSend, None)).await),
            None
        );
        let null = no_mx.clone() + "\ncontoso.com MX 0 .";
        assert_eq!(
            rule(&verdict_for(&null, &inputs(Method::DirectSend, None)).await),
            Some("dns-mx-missing")
        );
        let mut gov = inputs(Method::Relay, None);
        gov.cloud = Cloud::GccHigh;
        let v = verdict_for(&other, &gov).await;
        assert_eq!(
            rule(&v),
            None,
            "host names of sovereign clouds are not judged"
        );
        assert_eq!(ev(&v, "exchange_include"), "not judged for cloud gcc-high");
    }

    #[tokio::test]
    async fn each_spf_problem_has_its_rule() {
        let cases = [
            (
                "MS=ms12345678",
                "dns-spf-missing",
                "no SPF record (1 other TXT record(s)",
            ),
            (
                "v=spf1 -all\ncontoso.com TXT v=spf1 include:spf.protection.outlook.com -all",
                "dns-spf-multiple-records",
                "2 SPF records",
            ),
            (
                "v=spf1 inclde:spf.protection.outlook.com -all",
                "dns-spf-syntax-error",
                "position 7",
            ),
            (
                "v=spf1 include:spf.protection.outlok.com -all",
                "dns-spf-syntax-error",
                "include:spf.protection.outlok.com has no usable SPF record",
            ),
            (
                "v=spf1 a:nx1.contoso.com a:nx2.contoso.com a:nx3.contoso.com include:spf.protection.outlook.com -all",
                "dns-spf-too-many-lookups",
                "3 void lookups",
            ),
            (
                "v=spf1 include:contoso.com -all",
                "dns-spf-too-many-lookups",
                "include loop: contoso.com -> contoso.com",
            ),
        ];
        for (record, want, words) in cases {
            let v = verdict_for(&healthy(record), &inputs(Method::Smtp, None)).await;
            assert_eq!(rule(&v), Some(want), "{record}: {}", v.summary);
            assert!(v.summary.contains(words), "{record}: {}", v.summary);
            assert!(
                v.summary.chars().next().is_some_and(|c| !c.is_uppercase())
                    && !v.summary.ends_with('.'),
                "{}",
                v.summary
            );
        }
        let mut z = healthy("v=spf1 include:h11.chain.contoso.com -all");
        z.push_str("\nh1.chain.contoso.com TXT v=spf1 include:spf.protection.outlook.com -all");
        for i in 2..=11 {
            z.push_str(&format!(
                "\nh{i}.chain.contoso.com TXT v=spf1 include:h{}.chain.contoso.com -all",
                i - 1
            ));
        }
        let v = verdict_for(&z, &inputs(Method::Smtp, None)).await;
        assert_eq!(rule(&v), Some("dns-spf-too-many-lookups"));
        // The 12th term (h1's include) is past the limit and no longer followed.
        assert!(
            v.summary.contains("needs 11 of 10 DNS lookups"),
            "{}",
            v.summary
        );
        assert_eq!(ev(&v, "spf_lookups"), "11 of 10");
    }

    #[tokio::test]
    async fn the_exchange_include_matters_where_mail_leaves_through_microsoft() {
        let zone = healthy("v=spf1 ip4:203.0.113.10 -all");
        for (method, want) in [
            (Method::Smtp, Some("dns-spf-missing-exchange-include")),
            (Method::Relay, Some("dns-spf-missing-exchange-include")),
            (Method::DirectSend, None),
        ] {
            let v = verdict_for(&zone, &inputs(method, Some("203.0.113.10"))).await;
            assert_eq!(rule(&v), want, "{method:?}: {}", v.summary);
        }
        // A redirect to Microsoft's record authorises Microsoft too.
        let v = verdict_for(
            &healthy("v=spf1 redirect=spf.protection.outlook.com"),
            &inputs(Method::Smtp, None),
        )
        .await;
        assert_eq!(rule(&v), None, "{}", v.summary);
        assert_eq!(
            ev(&v, "exchange_include"),
            "redirect=spf.protection.outlook.com in the record of contoso.com"
        );
        // Written after -all: never reached.
        let v = verdict_for(
            &healthy("v=spf1 -all include:spf.protection.outlook.com"),
            &inputs(Method::Smtp, None),
        )
        .await;
        assert_eq!(rule(&v), Some("dns-spf-missing-exchange-include"));
        // There, but with a fail qualifier: Microsoft's own address gets fail.
        let v = verdict_for(
            &healthy("v=spf1 -include:spf.protection.outlook.com ~all"),
            &inputs(Method::Smtp, None),
        )
        .await;
        assert_eq!(rule(&v), Some("dns-spf-missing-exchange-include"));
        assert!(v.summary.contains("40.92.0.1 gets fail"), "{}", v.summary);
    }

    #[tokio::test]
    async fn the_site_ip_matters_where_the_device_sends_from_it() {
        // case-31: SPF lists Microsoft only; the device sends through the ISP relay.
        let zone = healthy("v=spf1 include:spf.protection.outlook.com -all");
        for method in [Method::DirectSend, Method::Relay] {
            let v = verdict_for(&zone, &inputs(method, Some("198.51.100.25"))).await;
            assert_eq!(rule(&v), Some("dns-spf-ip-not-authorized"), "{method:?}");
            assert_eq!(
                v.summary,
                "the site's IP 198.51.100.25 is not authorised by the SPF record of contoso.com: fail (contoso.com: -all)"
            );
        }
        let v = verdict_for(&zone, &inputs(Method::Smtp, Some("198.51.100.25"))).await;
        assert_eq!(rule(&v), None, "{}", v.summary);
        assert!(ev(&v, "public_ip_check").starts_with("not judged"));
        let v = verdict_for(&zone, &inputs(Method::DirectSend, None)).await;
        assert_eq!(ev(&v, "public_ip_check"), "not checked: no --public-ip");
        // Softfail is not authorised either; a neutral default neither.
        let v = verdict_for(
            &healthy("v=spf1 include:spf.protection.outlook.com ?all"),
            &inputs(Method::DirectSend, Some("198.51.100.25")),
        )
        .await;
        assert!(v.summary.contains(": neutral ("), "{}", v.summary);
    }

    #[tokio::test]
    async fn dmarc_missing_is_the_last_word() {
        let zone = format!(
            "contoso.com MX 0 contoso-com.mail.protection.outlook.com\ncontoso.com TXT v=spf1 include:spf.protection.outlook.com -all\n{M365}"
        );
        let v = verdict_for(&zone, &inputs(Method::Smtp, None)).await;
        assert_eq!(rule(&v), Some("dns-dmarc-missing"));
        assert_eq!(ev(&v, "dmarc"), "no DMARC record");
        // A parent domain's record applies to a subdomain (its sp= policy).
        let zone = "mfp.contoso.com MX 0 contoso-com.mail.protection.outlook.com\nmfp.contoso.com TXT v=spf1 include:spf.protection.outlook.com -all\n\
                    _dmarc.contoso.com TXT v=DMARC1; p=reject; sp=quarantine\n"
            .to_string()
            + M365;
        let mut sub = inputs(Method::Smtp, None);
        sub.domain = "mfp.contoso.com".into();
        let v = verdict_for(&zone, &sub).await;
        assert_eq!(rule(&v), None, "{}", v.summary);
        assert_eq!(ev(&v, "dmarc"), "p=quarantine at _dmarc.contoso.com");
    }
}
