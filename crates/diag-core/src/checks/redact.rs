//! The last guard before a finding leaves a check: whatever a check or a library error put into
//! a summary or evidence, the run's secrets (client secret, private key, access tokens) and
//! anything shaped like a JWT are replaced. Checks are written not to need this.
use crate::{finding::Finding, jwt::find_tokens};

/// Values shorter than this are not searched for: they would match ordinary words.
const MIN_NEEDLE: usize = 8;

pub(crate) fn scrub_text(text: &str, needles: &[&str]) -> String {
    let mut out = text.to_string();
    for n in needles
        .iter()
        .map(|n| n.trim())
        .filter(|n| n.len() >= MIN_NEEDLE)
    {
        if out.contains(n) {
            out = out.replace(n, "[redacted]");
        }
    }
    let ranges = find_tokens(&out);
    for r in ranges.into_iter().rev() {
        out.replace_range(r, "[token redacted]");
    }
    out
}

pub(crate) fn scrub(mut f: Finding, needles: &[&str]) -> Finding {
    f.summary = scrub_text(&f.summary, needles);
    for e in &mut f.evidence {
        e.value = scrub_text(&e.value, needles);
        e.key = scrub_text(&e.key, needles);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_jwts_are_replaced() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
        let f = Finding::pass(
            crate::check::CheckId::Token,
            format!("got {jwt} with s3cr3t-value-123"),
        )
        .with("detail", "secret s3cr3t-value-123 and short abc");
        let f = scrub(f, &["s3cr3t-value-123", "abc"]);
        assert_eq!(f.summary, "got [token redacted] with [redacted]");
        assert_eq!(f.evidence[0].value, "secret [redacted] and short abc");
    }
}
