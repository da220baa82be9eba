//! The evaluator over a scripted DNS (`FakeDns`): results, limits, counts, paths, caching and
//! concurrency.
use std::{net::IpAddr, sync::Arc, time::Duration};

use super::*;
use crate::net::dns::fake::FakeDns;

fn session(zone: &str) -> Session<FakeDns> {
    Session::new(Arc::new(FakeDns::new(zone)))
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

async fn check(s: &Session<FakeDns>, addr: &str, domain: &str) -> Evaluation {
    s.check_host(ip(addr), domain, "scanner@contoso.com", "mfp.contoso.com")
        .await
}

const M365: &str = "spf.protection.outlook.com TXT v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip6:2a01:111:f400::/48 -all";

#[tokio::test]
async fn include_chain_passes_with_its_path_and_count() {
    let s = session(&format!(
        "contoso.com TXT v=spf1 ip4:203.0.113.10 include:_spf.contoso.com -all\n\
         _spf.contoso.com TXT v=spf1 include:spf.protection.outlook.com ~all\n{M365}"
    ));
    let e = check(&s, "40.107.1.2", "contoso.com").await;
    assert_eq!(e.result, SpfResult::Pass);
    assert_eq!(e.lookups, 2);
    assert_eq!(
        describe_path(&e.path),
        "contoso.com: include:_spf.contoso.com -> _spf.contoso.com: include:spf.protection.outlook.com -> spf.protection.outlook.com: ip4:40.107.0.0/16"
    );
    let e = check(&s, "203.0.113.10", "contoso.com").await;
    assert_eq!(
        (e.result, e.lookups),
        (SpfResult::Pass, 0),
        "decided before the include"
    );
    let e = check(&s, "198.51.100.25", "contoso.com").await;
    assert_eq!(
        e.result,
        SpfResult::Fail,
        "case-31: the ISP relay is not in SPF"
    );
    assert_eq!(describe_path(&e.path), "contoso.com: -all");
    let e = check(&s, "2a01:111:f400::1", "contoso.com").await;
    assert_eq!(e.result, SpfResult::Pass);
    // The included record's ~all is "no match" for the includer, not softfail.
    let s = session("a.example TXT v=spf1 include:b.example -all\nb.example TXT v=spf1 ~all");
    assert_eq!(
        check(&s, "192.0.2.1", "a.example").await.result,
        SpfResult::Fail
    );
}

#[tokio::test]
async fn redirect_takes_the_target_result_and_counts() {
    let s = session(&format!(
        "redirect.example TXT v=spf1 redirect=m365.example\nm365.example TXT v=spf1 include:spf.protection.outlook.com -all\n{M365}\n\
         with-all.example TXT v=spf1 redirect=m365.example ?all"
    ));
    let e = check(&s, "40.92.0.1", "redirect.example").await;
    assert_eq!((e.result, e.lookups), (SpfResult::Pass, 2));
    assert_eq!(e.path[0].term, "redirect=m365.example");
    let a = s.analyze("redirect.example").await;
    assert_eq!((a.lookups, a.void_lookups, a.is_valid()), (2, 0, true));
    // redirect next to all is ignored.
    let e = check(&s, "40.92.0.1", "with-all.example").await;
    assert_eq!((e.result, e.lookups), (SpfResult::Neutral, 0));
    let a = s.analyze("with-all.example").await;
    assert_eq!(a.lookups, 0);
    assert!(a.warnings.iter().any(|w| w.contains("redirect is ignored")));
    // A redirect to a domain without SPF is a permerror, and its NXDOMAIN a void lookup.
    let s = session("r.example TXT v=spf1 redirect=nowhere.example");
    let e = check(&s, "192.0.2.1", "r.example").await;
    assert_eq!((e.result, e.void_lookups), (SpfResult::PermError, 1));
    assert!(matches!(
        e.problem,
        Some(Problem::TargetNone {
            via: "redirect",
            ..
        })
    ));
}

#[tokio::test]
async fn void_lookups_are_counted_and_limited() {
    let s = session(
        "void2.example TXT v=spf1 a:nx1.example mx:nx2.example -all\n\
         void3.example TXT v=spf1 a:nx1.example a:nx2.example a:nx3.example -all\n\
         v6only.example TXT v=spf1 a:six.example -all\nsix.example AAAA 2001:db8::1",
    );
    let e = check(&s, "192.0.2.1", "void2.example").await;
    assert_eq!(
        (e.result, e.lookups, e.void_lookups),
        (SpfResult::Fail, 2, 2)
    );
    let e = check(&s, "192.0.2.1", "void3.example").await;
    assert_eq!(e.result, SpfResult::PermError);
    assert_eq!(e.problem, Some(Problem::TooManyVoidLookups { count: 3 }));
    let a = s.analyze("void3.example").await;
    assert_eq!((a.lookups, a.void_lookups), (3, 3));
    assert_eq!(a.problem, Some(Problem::TooManyVoidLookups { count: 3 }));
    // check_host for IPv4 asks A only, so a name with only AAAA is void there; the analysis
    // asks both (checkdmarc's reading) and finds an address.
    assert_eq!(
        check(&s, "192.0.2.1", "v6only.example").await.void_lookups,
        1
    );
    assert_eq!(s.analyze("v6only.example").await.void_lookups, 0);
}

#[tokio::test]
async fn include_and_redirect_loops_are_named() {
    let s = session(
        "loop.example TXT v=spf1 include:loop-b.example -all\nloop-b.example TXT v=spf1 include:loop.example -all\n\
         self.example TXT v=spf1 redirect=self.example",
    );
    let e = check(&s, "192.0.2.1", "loop.example").await;
    assert_eq!(e.result, SpfResult::PermError);
    assert_eq!(
        e.problem,
        Some(Problem::Loop {
            chain: vec![
                "loop.example".into(),
                "loop-b.example".into(),
                "loop.example".into()
            ]
        })
    );
    assert_eq!(
        describe_path(&e.path),
        "loop.example: include:loop-b.example -> loop-b.example: include:loop.example"
    );
    let a = s.analyze("loop.example").await;
    assert!(matches!(a.problem, Some(Problem::Loop { .. })));
    assert!(matches!(
        check(&s, "192.0.2.1", "self.example").await.problem,
        Some(Problem::Loop { .. })
    ));
    // Including the same domain twice is no loop: counted twice, asked once.
    let s = session(
        "twice.example TXT v=spf1 include:leaf.example include:leaf.example -all\nleaf.example TXT v=spf1 a -all\nleaf.example A 192.0.2.9",
    );
    let a = s.analyze("twice.example").await;
    assert_eq!((a.lookups, a.is_valid()), (4, true));
    let asked = s.client().asked();
    assert_eq!(
        asked.iter().filter(|q| *q == "TXT leaf.example").count(),
        1,
        "{asked:?}"
    );
}

fn chain_zone(n: usize) -> String {
    let mut z = String::from("h1.chain TXT v=spf1 ip4:192.0.2.1 -all\n");
    for i in 2..=n {
        z.push_str(&format!(
            "h{i}.chain TXT v=spf1 ip4:192.0.2.{i} include:h{}.chain -all\n",
            i - 1
        ));
    }
    z.push_str("chain10.example TXT v=spf1 include:h10.chain -all\nchain11.example TXT v=spf1 include:h11.chain -all\n");
    let wide: Vec<String> = (1..=12).map(|i| format!("include:w{i:02}.wide")).collect();
    z.push_str(&format!(
        "wide12.example TXT v=spf1 {} -all\n",
        wide.join(" ")
    ));
    for i in 1..=12 {
        z.push_str(&format!(
            "w{i:02}.wide TXT v=spf1 ip4:198.51.100.{i} -all\n"
        ));
    }
    z
}

#[tokio::test]
async fn more_than_ten_lookups_is_a_permerror_and_counted_in_full() {
    let s = session(&chain_zone(12));
    let e = check(&s, "203.0.113.1", "chain10.example").await;
    assert_eq!(
        (e.result, e.lookups),
        (SpfResult::Fail, 10),
        "10 is still allowed"
    );
    let e = check(&s, "203.0.113.1", "chain11.example").await;
    assert_eq!(e.result, SpfResult::PermError);
    assert_eq!(e.problem, Some(Problem::TooManyLookups { count: 11 }));
    let a = s.analyze("chain11.example").await;
    assert_eq!(
        (a.lookups, a.problem.clone()),
        (11, Some(Problem::TooManyLookups { count: 11 }))
    );
    assert_eq!(a.lookups_text(), "11 of 10");
    let a = s.analyze("wide12.example").await;
    assert_eq!(
        a.lookups, 12,
        "checkdmarc counts the terms past the limit too"
    );
    // ... but does not follow them: w11 and w12 were never asked.
    let asked = s.client().asked();
    assert!(
        !asked.contains(&"TXT w11.wide".to_string())
            && !asked.contains(&"TXT w12.wide".to_string()),
        "{asked:?}"
    );
    // check_host stops at the 11th term.
    let e = check(&s, "203.0.113.1", "wide12.example").await;
    assert_eq!((e.result, e.lookups), (SpfResult::PermError, 11));
}

#[tokio::test]
async fn a_and_mx_with_cidr_lengths() {
    let s = session(
        "cidr.example TXT v=spf1 a/24 mx:mail.example//64 -all\ncidr.example A 192.0.2.10\n\
         mail.example MX 10 mx1.mail.example\nmail.example MX 20 mx2.mail.example\n\
         mx1.mail.example A 198.51.100.7\nmx2.mail.example AAAA 2001:db8:5::1\n\
         mxonly.example TXT v=spf1 mx:mail.example/30 -all",
    );
    let e = check(&s, "192.0.2.200", "cidr.example").await;
    assert_eq!(e.result, SpfResult::Pass, "a/24 covers the neighbour");
    assert_eq!(
        describe_path(&e.path),
        "cidr.example: a/24 -> cidr.example: address 192.0.2.10"
    );
    assert_eq!(
        check(&s, "192.0.3.1", "cidr.example").await.result,
        SpfResult::Fail
    );
    let e = check(&s, "2001:db8:5::ffff", "cidr.example").await;
    assert_eq!(e.result, SpfResult::Pass, "mx //64 covers the v6 neighbour");
    assert_eq!(
        e.path.last().map(|s| s.domain.as_str()),
        Some("mx2.mail.example")
    );
    assert_eq!(
        check(&s, "198.51.100.5", "mxonly.example").await.result,
        SpfResult::Pass
    );
    assert_eq!(
        check(&s, "198.51.100.8", "mxonly.example").await.result,
        SpfResult::Fail
    );
    // An mx term naming 11 hosts is a permerror.
    let mut z = String::from("mx-eleven.example TXT v=spf1 mx -all\n");
    for i in 1..=11 {
        z.push_str(&format!("mx-eleven.example MX {i} mx{i}.mx-eleven.example\nmx{i}.mx-eleven.example A 192.0.2.{i}\n"));
    }
    let s = session(&z);
    let e = check(&s, "192.0.2.1", "mx-eleven.example").await;
    assert_eq!(
        e.problem,
        Some(Problem::TooManyMxNames {
            domain: "mx-eleven.example".into(),
            count: 11
        })
    );
    let a = s.analyze("mx-eleven.example").await;
    assert_eq!((a.lookups, a.result), (1, SpfResult::PermError));
}

#[tokio::test]
async fn ptr_matches_only_validated_names_in_the_domain() {
    let s = session(
        "ptr.example TXT v=spf1 ptr -all\n\
         192.0.2.5 PTR mfp.ptr.example\nmfp.ptr.example A 192.0.2.5\n\
         192.0.2.6 PTR liar.ptr.example\nliar.ptr.example A 192.0.2.99\n\
         192.0.2.7 PTR host.elsewhere.example\nhost.elsewhere.example A 192.0.2.7",
    );
    let e = check(&s, "192.0.2.5", "ptr.example").await;
    assert_eq!(e.result, SpfResult::Pass);
    assert_eq!(e.lookups, 1);
    assert_eq!(
        check(&s, "192.0.2.6", "ptr.example").await.result,
        SpfResult::Fail,
        "forward lookup does not confirm"
    );
    assert_eq!(
        check(&s, "192.0.2.7", "ptr.example").await.result,
        SpfResult::Fail,
        "validated, but another domain"
    );
    let e = check(&s, "192.0.2.8", "ptr.example").await;
    assert_eq!(
        (e.result, e.void_lookups),
        (SpfResult::Fail, 1),
        "no PTR at all is a void lookup"
    );
    let a = s.analyze("ptr.example").await;
    assert!(a.warnings.iter().any(|w| w.contains("ptr")));
}

#[tokio::test]
async fn exists_with_macros() {
    let zone = "ex.example TXT v=spf1 exists:%{ir}.%{v}._spf.%{d} exists:%{l}.users.%{d2} -all\n\
         10.2.0.192.in-addr._spf.ex.example A 127.0.0.2\nscanner.users.ex.example A 127.0.0.2";
    // The analysis counts macro terms without asking.
    let s = session(zone);
    let a = s.analyze("ex.example").await;
    assert_eq!((a.lookups, a.void_lookups), (2, 0));
    assert_eq!(s.client().asked(), vec!["TXT ex.example".to_string()]);
    let s = session(zone);
    let e = check(&s, "192.0.2.10", "ex.example").await;
    assert_eq!(e.result, SpfResult::Pass);
    assert_eq!(
        e.path.last().map(|s| s.domain.as_str()),
        Some("10.2.0.192.in-addr._spf.ex.example")
    );
    let e = s
        .check_host(ip("192.0.2.11"), "ex.example", "scanner@contoso.com", "")
        .await;
    assert_eq!(
        (e.result, e.lookups, e.void_lookups),
        (SpfResult::Pass, 2, 1),
        "second exists via %{{l}}"
    );
    let e = s
        .check_host(ip("192.0.2.11"), "ex.example", "other@contoso.com", "")
        .await;
    assert_eq!((e.result, e.void_lookups), (SpfResult::Fail, 2));
    // %{p}: the validated name.
    let s = session(
        "p.example TXT v=spf1 exists:%{p}.ok.p.example -all\n192.0.2.5 PTR mfp.p.example\nmfp.p.example A 192.0.2.5\nmfp.p.example.ok.p.example A 127.0.0.2",
    );
    assert_eq!(
        check(&s, "192.0.2.5", "p.example").await.result,
        SpfResult::Pass
    );
}

#[tokio::test]
async fn two_records_none_and_nodata_stay_apart() {
    let s = session(&format!(
        "two.example TXT v=spf1 include:spf.protection.outlook.com -all\ntwo.example TXT v=spf1 ip4:192.0.2.20 -all\n{M365}\n\
         no-spf.example TXT MS=ms87654321\nno-spf.example TXT google-site-verification=abc\n\
         mx-only.example MX 10 mail.mx-only.example\n\
         include-nx.example TXT v=spf1 include:does-not-exist.example -all\n\
         include-nospf.example TXT v=spf1 include:no-spf.example -all"
    ));
    let e = check(&s, "192.0.2.20", "two.example").await;
    assert_eq!(e.result, SpfResult::PermError);
    assert_eq!(
        e.problem,
        Some(Problem::MultipleRecords {
            domain: "two.example".into(),
            count: 2
        })
    );
    let e = check(&s, "192.0.2.1", "absent.example").await;
    assert_eq!(
        (e.result, e.problem),
        (
            SpfResult::None,
            Some(Problem::DomainNotFound {
                domain: "absent.example".into()
            })
        )
    );
    let e = check(&s, "192.0.2.1", "mx-only.example").await;
    assert_eq!(
        e.problem,
        Some(Problem::NoRecord {
            domain: "mx-only.example".into(),
            other_txt: 0
        }),
        "NODATA"
    );
    let e = check(&s, "192.0.2.1", "no-spf.example").await;
    assert_eq!(
        e.problem,
        Some(Problem::NoRecord {
            domain: "no-spf.example".into(),
            other_txt: 2
        })
    );
    let e = check(&s, "192.0.2.1", "include-nx.example").await;
    assert_eq!((e.result, e.void_lookups), (SpfResult::PermError, 1));
    assert!(
        matches!(&e.problem, Some(Problem::TargetNone { via: "include", reason, .. }) if matches!(**reason, Problem::DomainNotFound { .. }))
    );
    let a = s.analyze("include-nospf.example").await;
    assert!(
        matches!(&a.problem, Some(Problem::TargetNone { reason, .. }) if matches!(**reason, Problem::NoRecord { other_txt: 2, .. }))
    );
    assert_eq!(
        a.void_lookups, 0,
        "TXT records without SPF are no void lookup"
    );
    let e = check(&s, "192.0.2.1", "bad..name").await;
    assert!(matches!(e.problem, Some(Problem::InvalidDomain { .. })));
}

#[tokio::test]
async fn dns_failures_are_temperrors() {
    let s = session(
        "t.example TXT v=spf1 include:slow.example a:broken.example -all\nslow.example TXT !timeout\nbroken.example A !servfail\nu.example TXT v=spf1 a:broken.example -all",
    );
    let e = check(&s, "192.0.2.1", "t.example").await;
    assert_eq!(e.result, SpfResult::TempError);
    assert_eq!(
        e.problem,
        Some(Problem::Dns {
            name: "slow.example".into(),
            rtype: "TXT",
            failure: Failure::Timeout
        })
    );
    assert_eq!(describe_path(&e.path), "t.example: include:slow.example");
    let e = check(&s, "192.0.2.1", "u.example").await;
    assert_eq!(
        e.problem,
        Some(Problem::Dns {
            name: "broken.example".into(),
            rtype: "A",
            failure: Failure::ServFail
        })
    );
    let s = session("top.example TXT !servfail");
    assert_eq!(s.analyze("top.example").await.result, SpfResult::TempError);
}

#[tokio::test]
async fn syntax_errors_anywhere_in_the_tree() {
    let s = session(
        "typo.example TXT v=spf1 inclde:spf.protection.outlook.com -all\n\
         outer.example TXT v=spf1 include:bad-ip.example -all\nbad-ip.example TXT v=spf1 ip4:192.0.2.300 -all\n\
         binary.example TXT \"v=spf1 ip4:192.0.2.1 \\xff\\x00 -all\"\n\
         split.example TXT \"v=spf1 ip4:192.0.2.1 \" \"include:spf.protection.outlook.com -all\"\n\
         spf.protection.outlook.com TXT v=spf1 ip4:40.92.0.0/15 -all",
    );
    let e = check(&s, "192.0.2.1", "typo.example").await;
    assert_eq!(e.result, SpfResult::PermError);
    let Some(Problem::Syntax { domain, error }) = &e.problem else {
        panic!("{:?}", e.problem)
    };
    assert_eq!((domain.as_str(), error.position), ("typo.example", 7));
    let a = s.analyze("outer.example").await;
    let Some(Problem::Syntax { domain, error }) = &a.problem else {
        panic!("{:?}", a.problem)
    };
    assert_eq!((domain.as_str(), error.position), ("bad-ip.example", 11));
    assert_eq!(
        describe_path(&a.path),
        "outer.example: include:bad-ip.example"
    );
    let e = check(&s, "192.0.2.1", "binary.example").await;
    assert!(
        matches!(&e.problem, Some(Problem::Syntax { error, .. }) if error.kind == SyntaxErrorKind::InvalidByte(0xff))
    );
    // A record split over two strings is joined without a space.
    let e = check(&s, "40.92.1.1", "split.example").await;
    assert_eq!((e.result, e.lookups), (SpfResult::Pass, 1));
    let a = s.analyze("split.example").await;
    assert_eq!(
        a.record.as_deref(),
        Some("v=spf1 ip4:192.0.2.1 include:spf.protection.outlook.com -all")
    );
}

#[tokio::test]
async fn the_analysis_counts_terms_a_match_would_skip() {
    // For any IP, check_host stops at the first include that passes; the analysis counts on.
    let s = session(&format!(
        "soup.example TXT v=spf1 mx a include:spf.protection.outlook.com include:plus.example include:c.example -all\n\
         soup.example A 192.0.2.30\nsoup.example MX 10 mail.soup.example\nmail.soup.example A 192.0.2.31\n\
         plus.example TXT v=spf1 +all\nc.example TXT v=spf1 include:d.example ~all\nd.example TXT v=spf1 ip4:203.0.113.0/24 ~all\n{M365}"
    ));
    let a = s.analyze("soup.example").await;
    assert_eq!((a.lookups, a.void_lookups, a.is_valid()), (6, 0, true));
    assert!(a.includes_domain("spf.protection.outlook.com.").is_some());
    assert!(
        a.includes_domain("d.example").is_some(),
        "nested includes are listed"
    );
    // After the analysis, check_host is answered from the cache.
    let before = s.client().queries();
    let e = check(&s, "192.0.2.31", "soup.example").await;
    assert_eq!(e.result, SpfResult::Pass);
    assert_eq!(
        s.client().queries(),
        before + 1,
        "only the MX host's address was new"
    );
}

#[tokio::test]
async fn the_analysis_asks_independent_questions_together() {
    let zone = "flat.example TXT v=spf1 include:a.example include:b.example include:c.example include:d.example mx -all\n\
         a.example TXT v=spf1 -all\nb.example TXT v=spf1 -all\nc.example TXT v=spf1 -all\nd.example TXT v=spf1 -all\n\
         flat.example MX 10 mx.flat.example";
    let s = Session::new(Arc::new(
        FakeDns::new(zone).with_delay(Duration::from_millis(200)),
    ));
    let started = std::time::Instant::now();
    let a = s.analyze("flat.example").await;
    assert_eq!((a.lookups, a.is_valid()), (5, true));
    // One round for the record, one for its five terms together (400 ms); in turn: 1200 ms.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        s.client().queries(),
        6,
        "each question once: {:?}",
        s.client().asked()
    );
}

#[tokio::test]
async fn a_huge_record_stays_bounded() {
    // 10 KB of includes: the analysis counts them all but follows 10; check_host stops at 11.
    let mut record = String::from("v=spf1");
    let mut n = 0;
    while record.len() < 10 * 1024 {
        record.push_str(&format!(" include:i{n}.example"));
        n += 1;
    }
    let s = session(&format!("huge.example TXT {record} -all"));
    let a = s.analyze("huge.example").await;
    assert_eq!(
        a.lookups, 1,
        "the first include has no record: that ends it"
    );
    assert!(
        matches!(a.problem, Some(Problem::TargetNone { .. })),
        "{:?}",
        a.problem
    );
    assert!(s.client().queries() <= 11, "{}", s.client().queries());
    let s = session(&format!(
        "huge.example TXT {record} -all\n{}",
        (0..n)
            .map(|i| format!("i{i}.example TXT v=spf1 -all\n"))
            .collect::<String>()
    ));
    let a = s.analyze("huge.example").await;
    assert_eq!(
        (a.lookups, a.problem.clone()),
        (n, Some(Problem::TooManyLookups { count: n }))
    );
    assert!(s.client().queries() <= 12, "{}", s.client().queries());
    let e = check(&s, "192.0.2.1", "huge.example").await;
    assert_eq!((e.result, e.lookups), (SpfResult::PermError, 11));
}

#[tokio::test]
async fn mapped_ipv6_is_ipv4_and_sender_defaults_to_postmaster() {
    let s = session(
        "m.example TXT v=spf1 ip4:192.0.2.0/24 exists:%{l}.u.m.example -all\npostmaster.u.m.example A 127.0.0.2",
    );
    let e = check(&s, "::ffff:192.0.2.7", "m.example").await;
    assert_eq!((e.result, e.ip), (SpfResult::Pass, ip("192.0.2.7")));
    let e = s.check_host(ip("198.51.100.1"), "m.example", "", "").await;
    assert_eq!(e.result, SpfResult::Pass, "%{{l}} of postmaster@m.example");
}
