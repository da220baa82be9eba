//! Which prefilter literals a log trips, most first: where the explain scan spends its time.
//! `cargo run --release -p diag-core --example prefilter_hits -- LOG`
use std::collections::HashMap;

use diag_core::{explain::Matcher, rules::Rulebook};

fn main() {
    let path = std::env::args().nth(1).expect("usage: prefilter_hits LOG");
    let text = std::fs::read(&path).expect("read log");
    let m = Matcher::compile(Rulebook::embedded());
    let lits = &m.prefilter.literals;
    let lower = text.to_ascii_lowercase();
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for (i, lit) in lits.iter().enumerate() {
        let n = memchr::memmem::find_iter(&lower, lit).count();
        if n > 0 {
            counts.insert(i, n);
        }
    }
    let mut by: Vec<_> = counts.into_iter().collect();
    by.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    println!(
        "{} literals; lines in log: {}",
        lits.len(),
        memchr::memchr_iter(b'\n', &text).count()
    );
    for (i, n) in by.iter().take(30) {
        println!("{n:>9}  {:?}", String::from_utf8_lossy(&lits[*i]));
    }
}
