//! SPF benchmark driver (bench/spf-oracle.sh): xdiag's SPF analysis over a set of domains against
//! one DNS server, several times, each time with a new resolver and an empty cache, one session
//! for the whole set (as checkdmarc keeps one cache for a run). Prints one JSON object: the time
//! of every run, the queries the DNS client sent in the last one, and each domain's verdict.
//!
//! ```text
//! cargo run --release -p diag-core --example spf_bench -- --server 127.0.0.1:15353 --runs 7 \
//!     [--concurrent] trivial.lab.test m365.lab.test ...
//! ```
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use diag_core::{
    net::dns::{DnsClient, HickoryDns},
    spf::{Analysis, Problem, Session},
};
use serde_json::json;

/// The verdict in the oracle's words (tests/peers/oracle/spf_oracle.py).
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

async fn one_pass(
    server: SocketAddr,
    domains: &[String],
    concurrent: bool,
) -> (Duration, u64, Vec<Analysis>) {
    let start = Instant::now();
    let dns = Arc::new(HickoryDns::new(Some(server), Duration::from_secs(2)).expect("resolver"));
    let session = Session::new(Arc::clone(&dns));
    let analyses = if concurrent {
        let tasks: Vec<_> = domains
            .iter()
            .map(|d| {
                let (s, d) = (session.clone(), d.clone());
                tokio::spawn(async move { s.analyze(&d).await })
            })
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            out.push(t.await.expect("analysis task"));
        }
        out
    } else {
        let mut out = Vec::with_capacity(domains.len());
        for d in domains {
            out.push(session.analyze(d).await);
        }
        out
    };
    (start.elapsed(), dns.queries(), analyses)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut server, mut runs, mut concurrent, mut domains) = (None, 5usize, false, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--server" => server = args.next().and_then(|s| s.parse::<SocketAddr>().ok()),
            "--runs" => runs = args.next().and_then(|s| s.parse().ok()).unwrap_or(runs),
            "--concurrent" => concurrent = true,
            _ => domains.push(a),
        }
    }
    let Some(server) = server else {
        eprintln!("usage: spf_bench --server IP:PORT [--runs N] [--concurrent] DOMAIN...");
        std::process::exit(2);
    };
    let mut times = Vec::new();
    let mut last = (0, Vec::new());
    for _ in 0..runs.max(1) {
        let (t, q, a) = one_pass(server, &domains, concurrent).await;
        times.push(t.as_secs_f64());
        last = (q, a);
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let verdicts: serde_json::Map<String, serde_json::Value> = last
        .1
        .iter()
        .map(|a| {
            (
                a.domain.clone(),
                json!({"verdict": category(a), "lookups": a.lookups, "voids": a.void_lookups}),
            )
        })
        .collect();
    let out = json!({
        "mode": if concurrent { "concurrent" } else { "sequential" },
        "domains": domains.len(),
        "runs_s": times,
        "median_s": sorted[sorted.len() / 2],
        "queries": last.0,
        "verdicts": verdicts,
    });
    println!("{out}");
}
