//! The DNS half of the mail path against a real DNS server: zones served by hickory-server
//! in-process on 127.0.0.1 (random port), asked through the real resolver (`HickoryDns`).
//! Covers: NXDOMAIN vs NODATA vs records, multi-string and binary TXT, a server that never
//! answers, the 25-domain SPF bench zone (counts as checkdmarc reports them), and each dns-*
//! finding of the `dns` check through the pipeline.
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

use diag_core::{
    check::CheckId,
    checks,
    finding::{Finding, Status},
    net::dns::{Answer, DnsClient, Failure, HickoryDns, Mx, Txt},
    pipeline::{self, PipelineOptions},
    secret::Secret,
    spf::{Problem, Session, SpfResult},
    target::{Cloud, Credential, Method, Target},
};
use hickory_server::{
    Server,
    net::runtime::TokioRuntimeProvider,
    proto::rr::{
        LowerName, Name, RData, Record,
        rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, TXT},
    },
    store::in_memory::InMemoryZoneHandler,
    zone_handler::{AxfrPolicy, Catalog, ZoneType},
};
use tokio::net::{TcpListener, UdpSocket};

// ---- a tiny zone-file reader and an in-process server -------------------------------------

/// Reads the subset of RFC 1035 zone files the tests and the bench zone use: `$ORIGIN`, `$TTL`,
/// `;` comments, `( ... )` continuation, quoted strings with `\DDD` and `\X` escapes (several
/// strings per TXT record), and SOA NS A AAAA MX TXT PTR CNAME records. (hickory's own zone
/// parser splits quoted TXT strings inside parentheses, which the bench zone uses.)
fn read_zone(text: &str, origin: &str) -> Vec<Record> {
    #[derive(Debug)]
    enum Tok {
        Word(String),
        Quoted(Vec<u8>),
        Newline,
    }
    let mut toks = Vec::new();
    let b = text.as_bytes();
    let (mut i, mut depth) = (0, 0);
    while i < b.len() {
        match b[i] {
            b';' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\n' => {
                if depth == 0 {
                    toks.push(Tok::Newline);
                }
            }
            b'(' => depth += 1,
            b')' => depth -= 1,
            b'"' => {
                let mut s = Vec::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\'
                        && i + 3 < b.len()
                        && b[i + 1..i + 4].iter().all(u8::is_ascii_digit)
                    {
                        let n: u16 = std::str::from_utf8(&b[i + 1..i + 4])
                            .expect("digits")
                            .parse()
                            .expect("number");
                        s.push(n as u8);
                        i += 4;
                        continue;
                    }
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    s.push(b[i]);
                    i += 1;
                }
                toks.push(Tok::Quoted(s));
            }
            c if c.is_ascii_whitespace() => {}
            _ => {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && !b"();\"".contains(&b[i]) {
                    i += 1;
                }
                toks.push(Tok::Word(text[start..i].to_string()));
                continue;
            }
        }
        i += 1;
    }
    let mut origin = Name::from_str(origin).expect("origin");
    origin.set_fqdn(true);
    let mut ttl = 300;
    let name = |w: &str, origin: &Name| -> Name {
        if w == "@" {
            return origin.clone();
        }
        let n = Name::from_str(w).expect("name");
        if w.ends_with('.') {
            n
        } else {
            n.append_domain(origin).expect("append origin")
        }
    };
    let mut records = Vec::new();
    for line in toks
        .split(|t| matches!(t, Tok::Newline))
        .filter(|l| !l.is_empty())
    {
        let word = |k: usize| match &line[k] {
            Tok::Word(w) => w.as_str(),
            other => panic!("expected a word, got {other:?}"),
        };
        match word(0) {
            "$ORIGIN" => {
                origin = name(word(1), &Name::root());
                continue;
            }
            "$TTL" => {
                ttl = word(1).parse().expect("ttl");
                continue;
            }
            _ => {}
        }
        let owner = name(word(0), &origin);
        let mut k = 1;
        if word(k).eq_ignore_ascii_case("IN") {
            k += 1;
        }
        let rtype = word(k).to_ascii_uppercase();
        let rest = k + 1;
        let rdata = match rtype.as_str() {
            "SOA" => RData::SOA(SOA::new(
                name(word(rest), &origin),
                name(word(rest + 1), &origin),
                word(rest + 2).parse().expect("serial"),
                word(rest + 3).parse().expect("refresh"),
                word(rest + 4).parse().expect("retry"),
                word(rest + 5).parse().expect("expire"),
                word(rest + 6).parse().expect("minimum"),
            )),
            "NS" => RData::NS(NS(name(word(rest), &origin))),
            "CNAME" => RData::CNAME(CNAME(name(word(rest), &origin))),
            "PTR" => RData::PTR(PTR(name(word(rest), &origin))),
            "A" => RData::A(A(word(rest).parse().expect("ipv4"))),
            "AAAA" => RData::AAAA(AAAA(word(rest).parse().expect("ipv6"))),
            "MX" => RData::MX(MX::new(
                word(rest).parse().expect("preference"),
                name(word(rest + 1), &origin),
            )),
            "TXT" => RData::TXT(TXT::from_bytes(
                line[rest..]
                    .iter()
                    .map(|t| match t {
                        Tok::Quoted(s) => s.as_slice(),
                        Tok::Word(w) => w.as_bytes(),
                        Tok::Newline => unreachable!(),
                    })
                    .collect(),
            )),
            other => panic!("record type {other} is not supported here"),
        };
        records.push(Record::from_rdata(owner, ttl, rdata));
    }
    records
}

/// A DNS server on 127.0.0.1 (UDP and TCP, one random port) serving `zones` (origin, text).
struct ZoneServer {
    addr: SocketAddr,
    _server: Server<Catalog>,
}

async fn serve(zones: &[(&str, &str)]) -> ZoneServer {
    let mut catalog = Catalog::new();
    for (origin, text) in zones {
        let mut origin_name = Name::from_str(origin).expect("origin");
        origin_name.set_fqdn(true);
        let mut handler = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
            origin_name.clone(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
        );
        let mut records = read_zone(text, origin);
        if !records.iter().any(|r| matches!(r.data, RData::SOA(_))) {
            records.extend(read_zone(
                &format!("@ IN SOA ns1.{origin}. hostmaster.{origin}. 1 3600 600 86400 300\n"),
                origin,
            ));
        }
        for record in records {
            handler.upsert_mut(record, 1);
        }
        catalog.upsert(LowerName::new(&origin_name), vec![Arc::new(handler)]);
    }
    let mut server = Server::new(catalog);
    // UDP and TCP on the same port (TCP for answers too big for UDP).
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let addr = udp.local_addr().expect("udp addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            server.register_socket(udp);
            server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
            return ZoneServer {
                addr,
                _server: server,
            };
        }
    }
    panic!("no free port for UDP and TCP together");
}

fn client(server: SocketAddr) -> HickoryDns {
    HickoryDns::new(Some(server), Duration::from_secs(3)).expect("resolver")
}

fn txt_strings(a: &Answer<Txt>) -> Vec<Vec<Vec<u8>>> {
    a.records().iter().map(|t| t.strings.clone()).collect()
}

// ---- the resolver ---------------------------------------------------------------------------

const BASICS: &str = "
@          IN MX  10 mail.basics.test.
@          IN TXT \"v=spf1 ip4:192.0.2.1 -all\"
mail       IN A   192.0.2.25
mail       IN AAAA 2001:db8::25
mx-only    IN MX  0 mail.basics.test.
split      IN TXT \"v=spf1 ip4:192.0.2.1 \" \"include:spf.other.test -all\"
binary     IN TXT \"v=spf1 \\255\\000\\010 -all\"
deep.sub   IN A   192.0.2.99
alias      IN CNAME mail.basics.test.
";

const REVERSE: &str = "25 IN PTR mail.basics.test.\n";

#[tokio::test]
async fn the_resolver_keeps_nxdomain_nodata_and_records_apart() {
    let dns = serve(&[("basics.test", BASICS), ("2.0.192.in-addr.arpa", REVERSE)]).await;
    let c = client(dns.addr);
    assert_eq!(c.server(), dns.addr.to_string());
    assert_eq!(
        c.mx("basics.test").await,
        Answer::Records(vec![Mx {
            preference: 10,
            exchange: "mail.basics.test".into()
        }])
    );
    assert_eq!(
        c.txt("basics.test").await,
        Answer::Records(vec![Txt::new(["v=spf1 ip4:192.0.2.1 -all"])])
    );
    assert_eq!(
        c.txt("mx-only.basics.test").await,
        Answer::NoData,
        "the name exists, without TXT"
    );
    assert_eq!(
        c.txt("sub.basics.test").await,
        Answer::NoData,
        "an empty non-terminal exists too"
    );
    assert_eq!(c.txt("absent.basics.test").await, Answer::NxDomain);
    assert_eq!(
        c.mx("absent.basics.test.").await,
        Answer::NxDomain,
        "a final dot changes nothing"
    );
    assert_eq!(
        c.a("mail.basics.test").await,
        Answer::Records(vec!["192.0.2.25".parse().expect("ip")])
    );
    assert_eq!(
        c.aaaa("mail.basics.test").await,
        Answer::Records(vec!["2001:db8::25".parse().expect("ip")])
    );
    assert_eq!(
        c.a("alias.basics.test").await,
        Answer::Records(vec!["192.0.2.25".parse().expect("ip")]),
        "through the CNAME"
    );
    assert_eq!(
        c.ptr("192.0.2.25".parse().expect("ip")).await,
        Answer::Records(vec!["mail.basics.test".into()])
    );
    assert_eq!(
        c.ptr("192.0.2.26".parse().expect("ip")).await,
        Answer::NxDomain
    );
    assert!(matches!(
        c.txt("not-a-name..basics.test").await,
        Answer::Failed(Failure::Other(_))
    ));
    assert_eq!(
        c.queries(),
        11,
        "every call is one query; the invalid name is not asked"
    );
}

#[tokio::test]
async fn txt_strings_arrive_as_sent() {
    let dns = serve(&[("basics.test", BASICS)]).await;
    let c = client(dns.addr);
    let split = c.txt("split.basics.test").await;
    assert_eq!(
        txt_strings(&split),
        vec![vec![
            b"v=spf1 ip4:192.0.2.1 ".to_vec(),
            b"include:spf.other.test -all".to_vec()
        ]]
    );
    let binary = c.txt("binary.basics.test").await;
    assert_eq!(
        txt_strings(&binary),
        vec![vec![b"v=spf1 \xff\x00\n -all".to_vec()]]
    );
    // Binary SPF is a syntax error naming the byte, never a panic.
    let s = Session::new(Arc::new(c));
    let e = s
        .check_host(
            "192.0.2.1".parse().expect("ip"),
            "binary.basics.test",
            "",
            "",
        )
        .await;
    assert_eq!(e.result, SpfResult::PermError);
    assert!(
        matches!(&e.problem, Some(Problem::Syntax { error, .. }) if error.position == 7),
        "{:?}",
        e.problem
    );
}

#[tokio::test]
async fn a_large_txt_answer_comes_over_tcp() {
    // ~10 KB of SPF in 40 strings: far more than a UDP answer holds.
    let strings: Vec<String> = (0..40).map(|i| format!("\" ip4:10.{i}.0.0/16 ip4:10.{i}.1.0/24 ip4:10.{i}.2.0/24 ip4:10.{i}.3.0/24 ip4:10.{i}.4.0/24 ip4:10.{i}.5.0/24 ip4:10.{i}.6.0/24 ip4:10.{i}.7.0/24 ip4:10.{i}.8.0/24 ip4:10.{i}.9.0/24 ip4:10.{i}.10.0/24 ip4:10.{i}.11.0/24 ip4:10.{i}.12.0/24\"")).collect();
    let zone = format!("@ IN TXT \"v=spf1\" {} \" -all\"\n", strings.join(" "));
    let dns = serve(&[("big.test", &zone)]).await;
    let s = Session::new(Arc::new(client(dns.addr)));
    let a = s.analyze("big.test").await;
    assert!(a.is_valid(), "{:?}", a.problem);
    assert!(
        a.record.as_deref().is_some_and(|r| r.ends_with("bytes)")),
        "clipped for evidence"
    );
    let e = s
        .check_host("10.39.12.7".parse().expect("ip"), "big.test", "", "")
        .await;
    assert_eq!(e.result, SpfResult::Pass);
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout_within_the_deadline() {
    // A socket that is bound but never read: queries vanish.
    let silent = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let deadline = Duration::from_millis(800);
    let c = HickoryDns::new(Some(silent.local_addr().expect("addr")), deadline).expect("resolver");
    let started = Instant::now();
    let (txt, mx) = tokio::join!(c.txt("contoso.com"), c.mx("contoso.com"));
    assert_eq!(txt, Answer::Failed(Failure::Timeout));
    assert_eq!(mx, Answer::Failed(Failure::Timeout));
    let took = started.elapsed();
    assert!(
        took >= deadline / 2 && took < deadline + Duration::from_millis(400),
        "{took:?}"
    );
    let s = Session::new(Arc::new(c));
    let a = s.analyze("contoso.com").await;
    assert_eq!(a.result, SpfResult::TempError);
    assert!(matches!(
        a.problem,
        Some(Problem::Dns {
            failure: Failure::Timeout,
            ..
        })
    ));
    drop(silent);
}

// ---- the 25-domain SPF bench zone -----------------------------------------------------------

fn bench_zone() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/bench/spf-zone/lab.test.zone");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// (domain, lookups and void lookups, problem).
type BenchCase = (&'static str, Option<(u32, u32)>, &'static str);

/// The 25 measured domains, with lookups and void lookups as checkdmarc 6.0.4 reports them for
/// valid records (and void3), and the problem for the others (checkdmarc reports no count there).
const BENCH: [BenchCase; 25] = [
    ("trivial", Some((0, 0)), ""),
    ("ip-only", Some((0, 0)), ""),
    ("m365", Some((1, 0)), ""),
    ("m365-office", Some((1, 0)), ""),
    ("mx-a", Some((3, 0)), ""),
    ("redirect", Some((2, 0)), ""),
    ("saas-soup", Some((9, 0)), ""),
    ("chain5", Some((5, 0)), ""),
    ("chain10", Some((10, 0)), ""),
    ("chain11", Some((11, 0)), "too-many-lookups"),
    ("wide12", Some((12, 0)), "too-many-lookups"),
    ("two-spf", None, "multiple-records"),
    ("typo", None, "syntax"),
    ("bad-ip", None, "syntax"),
    ("void3", Some((3, 3)), "too-many-void-lookups"),
    ("include-nx", None, "target-none"),
    ("include-nospf", None, "target-none"),
    ("loop", None, "loop"),
    ("no-spf", None, "no-record"),
    ("long-split", Some((1, 0)), ""),
    ("plus-all", Some((0, 0)), ""),
    ("ptr-macro", Some((3, 1)), ""),
    ("mx-eleven", Some((1, 0)), "too-many-mx-names"),
    ("redirect-all", Some((0, 0)), ""),
    ("absent", None, "domain-not-found"),
];

fn problem_kind(p: &Option<Problem>) -> &'static str {
    match p {
        None => "",
        Some(Problem::DomainNotFound { .. }) => "domain-not-found",
        Some(Problem::NoRecord { .. }) => "no-record",
        Some(Problem::InvalidDomain { .. }) => "invalid-domain",
        Some(Problem::MultipleRecords { .. }) => "multiple-records",
        Some(Problem::Syntax { .. }) => "syntax",
        Some(Problem::TooManyLookups { .. }) => "too-many-lookups",
        Some(Problem::TooManyVoidLookups { .. }) => "too-many-void-lookups",
        Some(Problem::TooManyMxNames { .. }) => "too-many-mx-names",
        Some(Problem::Loop { .. }) => "loop",
        Some(Problem::TargetNone { .. }) => "target-none",
        Some(Problem::Dns { .. }) => "dns",
    }
}

#[tokio::test]
async fn the_bench_zone_counts_as_checkdmarc_does() {
    let dns = serve(&[("lab.test", &bench_zone())]).await;
    let c = Arc::new(client(dns.addr));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (name, _, _) in BENCH {
        // One session per domain: nothing is shared between domains but the connection.
        let s = Session::new(Arc::clone(&c));
        tasks.spawn(async move { (name, s.analyze(&format!("{name}.lab.test")).await) });
    }
    let mut results = std::collections::HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (name, a) = done.expect("analysis task");
        results.insert(name, a);
    }
    let took = started.elapsed();
    for (name, counts, problem) in BENCH {
        let a = &results[name];
        assert_eq!(problem_kind(&a.problem), problem, "{name}: {:?}", a.problem);
        if let Some((lookups, voids)) = counts {
            assert_eq!((a.lookups, a.void_lookups), (lookups, voids), "{name}");
        }
    }
    // checkdmarc needs 223 queries; this reading needs far fewer (no SPF-type, CNAME or MX-host
    // address queries, one question per name per session).
    assert!(c.queries() <= 120, "{} queries", c.queries());
    eprintln!(
        "bench zone over hickory-server: {} queries in {took:?}",
        c.queries()
    );
}

// ---- the dns check, through the pipeline ----------------------------------------------------

const CHECK_ZONE: &str = "
healthy      IN MX  0 healthy-test.mail.protection.outlook.com.
healthy      IN TXT \"v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all\"
healthy      IN TXT \"MS=ms12345678\"
_dmarc.healthy IN TXT \"v=DMARC1; p=reject\"
no-mx        IN TXT \"v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all\"
other-mx     IN MX  10 mail.isp.test.
other-mx     IN TXT \"v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all\"
no-spf       IN MX  0 no-spf-test.mail.protection.outlook.com.
no-spf       IN TXT \"MS=ms87654321\"
two-spf      IN MX  0 two-spf-test.mail.protection.outlook.com.
two-spf      IN TXT \"v=spf1 include:spf.protection.outlook.com -all\"
two-spf      IN TXT \"v=spf1 ip4:203.0.113.10 -all\"
typo         IN MX  0 typo-test.mail.protection.outlook.com.
typo         IN TXT \"v=spf1 inclde:spf.protection.outlook.com -all\"
chain        IN MX  0 chain-test.mail.protection.outlook.com.
chain        IN TXT \"v=spf1 include:h11.chain.test -all\"
h1.chain     IN TXT \"v=spf1 include:spf.protection.outlook.com -all\"
h2.chain     IN TXT \"v=spf1 include:h1.chain.test -all\"
h3.chain     IN TXT \"v=spf1 include:h2.chain.test -all\"
h4.chain     IN TXT \"v=spf1 include:h3.chain.test -all\"
h5.chain     IN TXT \"v=spf1 include:h4.chain.test -all\"
h6.chain     IN TXT \"v=spf1 include:h5.chain.test -all\"
h7.chain     IN TXT \"v=spf1 include:h6.chain.test -all\"
h8.chain     IN TXT \"v=spf1 include:h7.chain.test -all\"
h9.chain     IN TXT \"v=spf1 include:h8.chain.test -all\"
h10.chain    IN TXT \"v=spf1 include:h9.chain.test -all\"
h11.chain    IN TXT \"v=spf1 include:h10.chain.test -all\"
no-include   IN MX  0 no-include-test.mail.protection.outlook.com.
no-include   IN TXT \"v=spf1 ip4:203.0.113.10 -all\"
_dmarc.no-include IN TXT \"v=DMARC1; p=none\"
case31       IN MX  0 case31-test.mail.protection.outlook.com.
case31       IN TXT \"v=spf1 include:spf.protection.outlook.com -all\"
_dmarc.case31 IN TXT \"v=DMARC1; p=quarantine\"
no-dmarc     IN MX  0 no-dmarc-test.mail.protection.outlook.com.
no-dmarc     IN TXT \"v=spf1 include:spf.protection.outlook.com ~all\"
";

const OUTLOOK_ZONE: &str = "
spf.protection IN TXT \"v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip6:2a01:111:f400::/48 -all\"
healthy-test.mail.protection IN A 52.101.1.1
";

fn target(
    dns: SocketAddr,
    domain: &str,
    method: Method,
    public_ip: Option<&str>,
    timeout: Duration,
) -> Target {
    let mut endpoints = Cloud::Global.endpoints();
    endpoints.dns_server = Some(dns);
    Target {
        tenant: "contoso.onmicrosoft.com".into(),
        client_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        credential: if method == Method::Smtp {
            Credential::Secret(Secret::new("not-a-real-secret-value".to_string()))
        } else {
            Credential::None
        },
        mailbox: Some(format!("scanner@{domain}")),
        from: None,
        method,
        scope: None,
        domain: Some(domain.into()),
        public_ip: public_ip.map(|s| IpAddr::from_str(s).expect("ip")),
        cloud: Cloud::Global,
        endpoints,
        timeout,
        send_test: None,
        only: Some(CheckId::Dns),
        device_tls: Default::default(),
    }
}

async fn dns_finding(t: &Target) -> Finding {
    let report = pipeline::run_with(t, PipelineOptions::default(), &mut |_| {}).await;
    report
        .findings
        .iter()
        .find(|f| f.check == CheckId::Dns)
        .cloned()
        .unwrap_or_else(|| panic!("no dns finding in {:?}", report.findings))
}

fn evidence<'a>(f: &'a Finding, key: &str) -> &'a str {
    f.evidence
        .iter()
        .find(|e| e.key == key)
        .map_or("", |e| e.value.as_str())
}

/// The pipeline plans the dns check (it used to be left out before it existed).
fn wired() -> bool {
    checks::implemented(CheckId::Dns)
}

#[tokio::test]
async fn each_dns_finding_comes_from_the_right_records() {
    assert!(wired(), "checks::run has no dns arm");
    let dns = serve(&[("test", CHECK_ZONE), ("outlook.com", OUTLOOK_ZONE)]).await;
    let t = Duration::from_secs(3);
    // (domain, method, --public-ip, expected rule, expected status)
    type Case = (
        &'static str,
        Method,
        Option<&'static str>,
        Option<&'static str>,
        Status,
    );
    let cases: [Case; 12] = [
        (
            "healthy.test",
            Method::Relay,
            Some("203.0.113.10"),
            None,
            Status::Pass,
        ),
        ("healthy.test", Method::Smtp, None, None, Status::Pass),
        (
            "absent.test",
            Method::DirectSend,
            None,
            Some("dns-domain-not-found"),
            Status::Fail,
        ),
        (
            "no-mx.test",
            Method::DirectSend,
            None,
            Some("dns-mx-missing"),
            Status::Fail,
        ),
        (
            "other-mx.test",
            Method::Relay,
            None,
            Some("dns-mx-not-exchange-online"),
            Status::Fail,
        ),
        (
            "no-spf.test",
            Method::Smtp,
            None,
            Some("dns-spf-missing"),
            Status::Fail,
        ),
        (
            "two-spf.test",
            Method::Smtp,
            None,
            Some("dns-spf-multiple-records"),
            Status::Fail,
        ),
        (
            "typo.test",
            Method::DirectSend,
            None,
            Some("dns-spf-syntax-error"),
            Status::Fail,
        ),
        (
            "chain.test",
            Method::Smtp,
            None,
            Some("dns-spf-too-many-lookups"),
            Status::Fail,
        ),
        (
            "no-include.test",
            Method::Smtp,
            None,
            Some("dns-spf-missing-exchange-include"),
            Status::Fail,
        ),
        (
            "case31.test",
            Method::Relay,
            Some("198.51.100.25"),
            Some("dns-spf-ip-not-authorized"),
            Status::Fail,
        ),
        (
            "no-dmarc.test",
            Method::Smtp,
            None,
            Some("dns-dmarc-missing"),
            Status::Warn,
        ),
    ];
    for (domain, method, ip, rule, status) in cases {
        let f = dns_finding(&target(dns.addr, domain, method, ip, t)).await;
        assert_eq!(
            (f.rule.map(|r| r.as_str()), f.status),
            (rule, status),
            "{domain} {method:?}: {} {:?}",
            f.summary,
            f.evidence
        );
        assert_eq!(evidence(&f, "dns_server"), dns.addr.to_string());
    }
    let f = dns_finding(&target(dns.addr, "chain.test", Method::Smtp, None, t)).await;
    assert_eq!(evidence(&f, "spf_lookups"), "11 of 10");
    let f = dns_finding(&target(
        dns.addr,
        "case31.test",
        Method::Relay,
        Some("198.51.100.25"),
        t,
    ))
    .await;
    assert_eq!(
        evidence(&f, "public_ip_check"),
        "198.51.100.25: fail (case31.test: -all)"
    );
    assert_eq!(evidence(&f, "dmarc"), "p=quarantine at _dmarc.case31.test");
    let f = dns_finding(&target(
        dns.addr,
        "healthy.test",
        Method::Relay,
        Some("203.0.113.10"),
        t,
    ))
    .await;
    assert_eq!(
        evidence(&f, "mx"),
        "0 healthy-test.mail.protection.outlook.com"
    );
    assert_eq!(evidence(&f, "spf_lookups"), "1 of 10");
    assert!(
        evidence(&f, "microsoft_address_check").starts_with("40.92.0.1: pass"),
        "{:?}",
        f.evidence
    );
}

#[tokio::test]
async fn a_dns_server_that_never_answers_is_dns_timeout_within_the_deadline() {
    assert!(wired(), "checks::run has no dns arm");
    let silent = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let deadline = Duration::from_millis(800);
    let started = Instant::now();
    let f = dns_finding(&target(
        silent.local_addr().expect("addr"),
        "contoso.com",
        Method::DirectSend,
        None,
        deadline,
    ))
    .await;
    let took = started.elapsed();
    assert_eq!(
        f.rule.map(|r| r.as_str()),
        Some("dns-timeout"),
        "{}",
        f.summary
    );
    assert_eq!(f.status, Status::Fail);
    assert!(took < deadline + Duration::from_millis(700), "{took:?}");
    drop(silent);
}
