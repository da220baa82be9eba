//! xdiag's SPF analysis against checkdmarc (the oracle), both asking nsd for the records of
//! tests/peers/nsd/zones/spf.test.zone. For every case the lookup count, the void-lookup count
//! and the verdict must equal checkdmarc's, and also what RFC 7208 gives (the `CASES` table),
//! unless `DIFFERENCES` documents why xdiag is right and checkdmarc is not.
use std::{collections::BTreeMap, process::Command, sync::Arc, time::Duration};

use diag_core::{
    net::dns::HickoryDns,
    spf::{Analysis, Problem, Session},
};
use serde_json::Value;

use crate::peers::{self, NSD, ORACLE, PYTHON};

/// What RFC 7208 gives for a case: the verdict category (as spf_oracle.py names them) and, for
/// records that evaluate, the lookup and void-lookup counts.
struct Case {
    name: &'static str,
    verdict: &'static str,
    lookups: Option<u32>,
    voids: Option<u32>,
}

const fn case(
    name: &'static str,
    verdict: &'static str,
    lookups: Option<u32>,
    voids: Option<u32>,
) -> Case {
    Case {
        name,
        verdict,
        lookups,
        voids,
    }
}

/// Every case of the zone (the test checks the list against the zone's "; name:" comments).
const CASES: &[Case] = &[
    case("trivial", "valid", Some(0), Some(0)),
    case("ip-only", "valid", Some(0), Some(0)),
    case("exchange", "valid", Some(1), Some(0)),
    case("nested", "valid", Some(3), Some(0)),
    case("redirect", "valid", Some(2), Some(0)),
    case("redirect-all", "valid", Some(0), Some(0)),
    case("redirect-nx", "include-target-missing", Some(1), Some(1)),
    case("redirect-loop", "loop", None, None),
    case("mx-a", "valid", Some(2), Some(0)),
    case("mx-a-cidr", "valid", Some(2), Some(0)),
    case("macro-exists", "valid", Some(1), Some(0)),
    case("macro-a", "valid", Some(3), Some(0)),
    // Without a connecting IP there is no PTR question (§5.5); what a static count calls void here
    // is a reading, not RFC text: xdiag follows checkdmarc (A/AAAA of the domain, void when both
    // are empty), so no RFC void count is asserted.
    case("ptr", "valid", Some(1), None),
    case("void2", "valid", Some(2), Some(2)),
    case("void3", "too-many-void-lookups", Some(3), Some(3)),
    case("chain10", "valid", Some(10), Some(0)),
    case("chain11", "too-many-lookups", Some(11), Some(0)),
    case("wide12", "too-many-lookups", Some(12), Some(0)),
    case("mx-eleven", "too-many-lookups", Some(1), Some(0)),
    case("include-loop", "loop", None, None),
    case("two-spf", "multiple-records", Some(0), Some(0)),
    case("typo", "syntax-error", Some(0), Some(0)),
    case("bad-ip", "syntax-error", None, None),
    case("bad-cidr", "syntax-error", None, None),
    case("dup-redirect", "syntax-error", None, None),
    case("include-nx", "include-target-missing", Some(1), Some(1)),
    // no-spf.spf.test has TXT records, just no SPF one: its TXT query is not void (§4.6.4).
    // checkdmarc counts one internally here, but reports no count once it has raised.
    case("include-nospf", "include-target-missing", Some(1), Some(0)),
    case("no-spf", "no-record", Some(0), Some(0)),
    case("long-split", "valid", Some(1), Some(0)),
    case("plus-all", "valid", Some(0), Some(0)),
    case("all-first", "valid", Some(0), Some(0)),
    case("exp", "valid", Some(0), Some(0)),
    case("unknown-modifier", "valid", Some(0), Some(0)),
    case("absent", "nxdomain", Some(0), Some(0)),
];

/// Where xdiag and checkdmarc disagree on purpose: (case, field, checkdmarc's value, xdiag's
/// value, why xdiag's is right per RFC 7208). The test fails if a difference appears that is not
/// listed here, and also if a listed one goes away (so this table stays true). Empty: on this
/// set xdiag gives checkdmarc's counts and verdicts wherever checkdmarc gives one.
const DIFFERENCES: &[(&str, &str, &str, &str, &str)] = &[];

fn zone_cases() -> Vec<String> {
    let path = peers::workspace().join("tests/peers/nsd/zones/spf.test.zone");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("; "))
        .filter_map(|l| l.split_once(':').map(|(n, _)| n))
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .map(str::to_string)
        .collect();
    names.push("absent".into()); // named only in the closing comment: not in the zone at all
    names.sort();
    names.dedup();
    names
}

/// xdiag's verdict in spf_oracle.py's words.
fn category(a: &Analysis) -> &'static str {
    match &a.problem {
        None => "valid",
        Some(Problem::DomainNotFound { .. }) => "nxdomain",
        Some(Problem::NoRecord { .. }) => "no-record",
        Some(Problem::InvalidDomain { .. }) => "invalid-domain",
        Some(Problem::MultipleRecords { .. }) => "multiple-records",
        Some(Problem::Syntax { .. }) => "syntax-error",
        Some(Problem::TooManyLookups { .. } | Problem::TooManyMxNames { .. }) => "too-many-lookups",
        Some(Problem::TooManyVoidLookups { .. }) => "too-many-void-lookups",
        Some(Problem::Loop { .. }) => "loop",
        Some(Problem::TargetNone { .. }) => "include-target-missing",
        Some(Problem::Dns { .. }) => "temperror",
    }
}

/// checkdmarc tells include loops from redirect loops; xdiag names both a loop.
fn oracle_category(v: &str) -> &str {
    match v {
        "include-loop" | "redirect-loop" => "loop",
        other => other,
    }
}

fn run_oracle(
    python: &str,
    oracle: &str,
    server: &str,
    domains: &[String],
) -> BTreeMap<String, Value> {
    let out = Command::new(python)
        .arg(oracle)
        .args(["--server", server])
        .args(domains)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} {oracle}: {e}"));
    assert!(
        out.status.success(),
        "the checkdmarc oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("the oracle prints JSON");
    json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["domain"].as_str().expect("domain").to_string(), r.clone()))
        .collect()
}

fn num(v: &Value) -> Option<u32> {
    v.as_u64().map(|n| n as u32)
}

fn show(v: Option<u32>) -> String {
    v.map_or("-".into(), |n| n.to_string())
}

#[tokio::test]
async fn spf_counts_and_verdicts_match_checkdmarc() {
    let Some(peers) = peers::require(
        "spf_counts_and_verdicts_match_checkdmarc",
        &[NSD, PYTHON, ORACLE],
    ) else {
        return;
    };
    let mut listed: Vec<String> = CASES.iter().map(|c| c.name.to_string()).collect();
    listed.sort();
    assert_eq!(
        listed,
        zone_cases(),
        "CASES must list exactly the cases of spf.test.zone"
    );
    assert!(
        CASES.len() >= 15,
        "the issue asks for at least 15 SPF records"
    );

    let domains: Vec<String> = CASES
        .iter()
        .map(|c| format!("{}.spf.test", c.name))
        .collect();
    let oracle = run_oracle(
        peers.get(PYTHON),
        peers.get(ORACLE),
        peers.get(NSD),
        &domains,
    );

    let mut problems = Vec::new();
    let mut seen_differences = Vec::new();
    let mut table = vec![format!(
        "{:18} {:24} {:>9} {:>9}   {}",
        "case", "verdict", "lookups", "voids", "checkdmarc"
    )];
    for (c, domain) in CASES.iter().zip(&domains) {
        // A fresh session per domain, as the oracle clears checkdmarc's cache per domain.
        let dns = HickoryDns::new(Some(peers.addr(NSD)), Duration::from_secs(3)).expect("resolver");
        let a = Session::new(Arc::new(dns)).analyze(domain).await;
        let o = &oracle[domain];
        let xdiag = [
            category(&a).to_string(),
            a.lookups.to_string(),
            a.void_lookups.to_string(),
        ];
        let theirs = [
            oracle_category(o["verdict"].as_str().unwrap_or("?")).to_string(),
            show(num(&o["dns_lookups"])),
            show(num(&o["void_dns_lookups"])),
        ];
        table.push(format!(
            "{:18} {:24} {:>9} {:>9}   {} {}/{}",
            c.name, xdiag[0], xdiag[1], xdiag[2], theirs[0], theirs[1], theirs[2]
        ));

        // 1. RFC 7208, as the zone file's comments say.
        if xdiag[0] != c.verdict {
            problems.push(format!(
                "{}: verdict {} but RFC 7208 gives {} ({:?})",
                c.name, xdiag[0], c.verdict, a.problem
            ));
        }
        if let Some(n) = c.lookups.filter(|&n| n != a.lookups) {
            problems.push(format!(
                "{}: {} lookups but RFC 7208 counts {n}",
                c.name, a.lookups
            ));
        }
        if let Some(n) = c.voids.filter(|&n| n != a.void_lookups) {
            problems.push(format!(
                "{}: {} void lookups but RFC 7208 counts {n}",
                c.name, a.void_lookups
            ));
        }

        // 2. checkdmarc. It gives no count after some errors (None): nothing to compare then.
        let fields = ["verdict", "dns_lookups", "void_dns_lookups"];
        for ((field, ours), theirs) in fields.iter().zip(&xdiag).zip(&theirs) {
            if theirs == "-" || ours == theirs {
                continue;
            }
            match DIFFERENCES.iter().find(|d| d.0 == c.name && d.1 == *field) {
                Some(d) if d.2 == theirs && d.3 == ours => seen_differences.push((c.name, *field)),
                Some(d) => problems.push(format!(
                    "{}: {field} is {ours}, checkdmarc {theirs}; DIFFERENCES documents {} vs {}",
                    c.name, d.3, d.2
                )),
                None => problems.push(format!(
                    "{}: {field} is {ours} but checkdmarc says {theirs} ({}); fix xdiag or document why in DIFFERENCES",
                    c.name,
                    o["error"].as_str().unwrap_or("no error")
                )),
            }
        }
    }
    for d in DIFFERENCES {
        if !seen_differences.contains(&(d.0, d.1)) {
            problems.push(format!(
                "{}: the documented {} difference no longer shows; remove it from DIFFERENCES",
                d.0, d.1
            ));
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(
        problems.is_empty(),
        "xdiag vs checkdmarc / RFC 7208:\n{}",
        problems.join("\n")
    );
}
