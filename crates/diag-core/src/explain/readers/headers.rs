//! Message headers of a delivered or junked scan: `Authentication-Results` (spf, dkim, dmarc,
//! compauth), `Received-SPF`, Exchange Online's `X-MS-Exchange-Organization-AuthAs` and
//! `X-Forefront-Antispam-Report`, and the `Received` chain. The reader says how the mail
//! arrived (direct send, connector relay, authenticated submission), whether it was junked,
//! and which authentication result explains it.
//!
//! Folded headers are unfolded (a continuation line starts with a space or a tab), each value
//! capped, so a header folded a thousand times costs one pass over its lines.
use std::sync::LazyLock;

use regex::Regex;

use super::artifact::{Artifact, ArtifactHit, ArtifactKind};
use crate::redact::{mask_address, redact};
use crate::rules::ids;

/// Lower-case literals, one of which every header block this reader reports holds.
pub const TRIGGERS: &[&str] = &[
    "authentication-results:",
    "received-spf:",
    "x-ms-exchange-organization-authas:",
    "x-forefront-antispam-report:",
    "x-microsoft-antispam:",
];

/// Bytes kept of one unfolded header value.
const VALUE_CAP: usize = 8 * 1024;
/// Headers kept per block (the ones this reader reads; others are skipped).
const HEADER_CAP: usize = 512;
/// Header blocks reported per call.
const BLOCK_CAP: usize = 32;
/// Longest header name accepted (RFC 5322 lines are 78 characters).
const NAME_MAX: usize = 76;

/// Headers this reader reads; the rest of a block is skipped.
const KEPT: &[&str] = &[
    "authentication-results",
    "received-spf",
    "x-ms-exchange-organization-authas",
    "x-ms-exchange-organization-authsource",
    "x-ms-exchange-organization-scl",
    "x-forefront-antispam-report",
    "x-microsoft-antispam",
    "x-microsoft-antispam-mailbox-delivery",
    "received",
    "from",
    "to",
    "return-path",
];

/// Headers that make a block worth reporting on its own.
const SIGNATURE: &[&str] = &[
    "authentication-results",
    "received-spf",
    "x-ms-exchange-organization-authas",
    "x-forefront-antispam-report",
    "x-microsoft-antispam",
];

/// One unfolded header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Lower-case name.
    pub name: String,
    pub value: String,
    /// The input line the header starts on.
    pub line: u64,
}

/// A run of header lines.
#[derive(Clone, Debug, Default)]
pub(crate) struct Block {
    pub headers: Vec<Header>,
    pub first_line: u64,
    pub last_line: u64,
}

/// Reads every header block of `text` that holds authentication or anti-spam headers.
pub fn read(text: &str, first_line: u64, _now: i64) -> Vec<Artifact> {
    let lines = numbered_lines(text, first_line);
    blocks(&lines)
        .into_iter()
        .filter(|b| {
            b.headers
                .iter()
                .any(|h| SIGNATURE.contains(&h.name.as_str()))
        })
        .take(BLOCK_CAP)
        .map(|b| {
            let r = reading(&b);
            Artifact {
                kind: ArtifactKind::Headers,
                first_line: b.first_line,
                last_line: b.last_line,
                summary: r.summary(),
                facts: r.facts(),
                transcript: Vec::new(),
                hits: r.hits(),
            }
        })
        .collect()
}

/// `text` cut into lines (without `\r`), each with its 1-based input line number.
pub(crate) fn numbered_lines(text: &str, first_line: u64) -> Vec<(u64, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (first_line + i as u64, l.strip_suffix('\r').unwrap_or(l)))
        .collect()
}

/// `Name: value` at the start of a line: the name and the value.
fn header_start(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let name = &line[..colon];
    let ok = !name.is_empty()
        && name.len() <= NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && name.bytes().any(|b| b.is_ascii_alphabetic());
    ok.then(|| (name, line[colon + 1..].trim()))
}

/// Appends `more` to a header value, one space between, never past `VALUE_CAP`.
fn append_capped(value: &mut String, more: &str) {
    if value.len() >= VALUE_CAP {
        return;
    }
    if !value.is_empty() {
        value.push(' ');
    }
    let room = VALUE_CAP.saturating_sub(value.len());
    let mut cut = more.len().min(room);
    while !more.is_char_boundary(cut) {
        cut -= 1;
    }
    value.push_str(&more[..cut]);
}

/// Runs of header lines (a header, then its continuation lines); a line that is neither, or a
/// blank line, ends a run. Only the headers in `KEPT` are kept.
pub(crate) fn blocks(lines: &[(u64, &str)]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut cur: Option<Block> = None;
    // Whether the last header started was kept (its continuation lines go to it).
    let mut kept_last = false;
    for &(no, line) in lines {
        let continuation = line.starts_with([' ', '\t']) && !line.trim().is_empty();
        if continuation && let Some(b) = cur.as_mut() {
            if kept_last && let Some(h) = b.headers.last_mut() {
                append_capped(&mut h.value, line.trim());
            }
            b.last_line = no;
            continue;
        }
        match header_start(line) {
            Some((name, value)) => {
                let b = cur.get_or_insert_with(|| Block {
                    first_line: no,
                    ..Block::default()
                });
                b.last_line = no;
                let name = name.to_ascii_lowercase();
                kept_last = KEPT.contains(&name.as_str()) && b.headers.len() < HEADER_CAP;
                if kept_last {
                    let mut v = String::new();
                    append_capped(&mut v, value);
                    b.headers.push(Header {
                        name,
                        value: v,
                        line: no,
                    });
                }
            }
            None => {
                if let Some(b) = cur.take() {
                    out.push(b);
                }
                kept_last = false;
            }
        }
    }
    if let Some(b) = cur {
        out.push(b);
    }
    out
}

/// A result read from a header, with the line it stands on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    pub value: String,
    pub line: u64,
}

/// One `Received` hop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Hop {
    pub from_ip: Option<String>,
    pub by_host: String,
    pub with: String,
    pub line: u64,
}

impl Hop {
    fn is_microsoft(&self) -> bool {
        let h = self.by_host.to_ascii_lowercase();
        h.ends_with(".outlook.com") || h.ends_with(".office365.com") || h.ends_with(".mx.microsoft")
    }

    /// The MX front end (direct send and connector relay arrive here).
    fn is_mx(&self) -> bool {
        let h = self.by_host.to_ascii_lowercase();
        h.ends_with(".mail.protection.outlook.com") || h.ends_with(".mx.microsoft")
    }
}

/// What one header block says.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reading {
    pub spf: Option<Seen>,
    pub spf_ip: Option<String>,
    /// What the receivers said about SPF in words (comments, the `Received-SPF` text), for the
    /// rule book to tell one SPF error from another.
    pub spf_detail: String,
    pub mailfrom: Option<String>,
    pub dkim: Option<Seen>,
    pub dkim_domain: Option<String>,
    pub dmarc: Option<Seen>,
    pub dmarc_action: Option<String>,
    pub header_from: Option<String>,
    pub compauth: Option<Seen>,
    pub compauth_reason: Option<String>,
    pub received_spf: Option<Seen>,
    pub received_spf_ip: Option<String>,
    pub auth_as: Option<Seen>,
    pub auth_source: Option<String>,
    pub sfv: Option<Seen>,
    pub scl: Option<i32>,
    pub cat: Option<String>,
    pub cip: Option<String>,
    pub bcl: Option<String>,
    pub dest: Option<String>,
    /// The From address (unmasked; masked when shown).
    pub from: Option<String>,
    pub to_domain: Option<String>,
    /// The hop that brought the mail into Microsoft 365 (the lowest Microsoft `Received`).
    pub entry: Option<Hop>,
    /// A `Received` hop `with ESMTPSA` / `ESMTPA`: a client logged in to submit.
    pub esmtpsa: bool,
}

static IP_IN_BRACKETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\[(](?:IPv6:)?([0-9A-Fa-f:.]*[0-9A-Fa-f])[\])]").expect("static regex")
});
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+'=-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").expect("static regex")
});

/// The first e-mail address in `s`.
pub(crate) fn address_in(s: &str) -> Option<String> {
    ADDRESS.find(s).map(|m| m.as_str().to_string())
}

/// The domain of an address, or `s` itself when it is a bare domain; lower-case.
pub(crate) fn domain_of(s: &str) -> Option<String> {
    let s = s.trim().trim_matches(|c| c == '<' || c == '>' || c == '"');
    let d = s.rsplit_once('@').map_or(s, |(_, d)| d);
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    let ok = d.contains('.')
        && d.len() <= 253
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then_some(d)
}

/// The organisation part of a domain: its last two labels, three under a short second-level
/// label such as `co.uk` (close enough to tell `contoso.com` from `fabrikam.com`).
pub(crate) fn org_domain(d: &str) -> String {
    let labels: Vec<&str> = d.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    let keep = if n >= 3 && labels[n - 1].len() == 2 && labels[n - 2].len() <= 3 {
        3
    } else {
        2
    };
    labels[n.saturating_sub(keep)..].join(".")
}

/// Text fit for an artifact: redacted, addresses masked, control characters dropped, at most
/// `max` characters.
pub(crate) fn clean(text: &str, max: usize) -> String {
    let red = redact(text);
    let masked = ADDRESS.replace_all(&red, |c: &regex::Captures<'_>| mask_address(&c[0]));
    let mut out = String::new();
    for (i, ch) in masked.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        out.push(if ch.is_control() { ' ' } else { ch });
    }
    out.trim().to_string()
}

/// Splits at `sep` outside parentheses (comments may hold the separator).
fn split_outside_parens(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// `s` without its parenthesised comments, and the comments.
fn strip_comments(s: &str) -> (String, Vec<String>) {
    let mut bare = String::new();
    let mut comments = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => {
                if depth > 0 {
                    cur.push(c);
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    comments.push(std::mem::take(&mut cur));
                    bare.push(' ');
                } else {
                    cur.push(c);
                }
            }
            _ if depth > 0 => cur.push(c),
            _ => bare.push(c),
        }
    }
    (bare, comments)
}

/// The IP address a comment names as the sender (`sender IP is 203.0.113.10`,
/// `designates 203.0.113.10 as permitted sender`).
fn ip_in_comment(comment: &str) -> Option<String> {
    let lower = comment.to_ascii_lowercase();
    for marker in ["sender ip is ", "designates ", "designate "] {
        if let Some(at) = lower.find(marker) {
            let rest = &comment[at + marker.len()..];
            let word = rest.split_whitespace().next().unwrap_or("");
            let word = word.trim_matches(|c: char| c == ',' || c == ';' || c == ')');
            if word.parse::<std::net::IpAddr>().is_ok() {
                return Some(word.to_string());
            }
        }
    }
    None
}

fn read_authentication_results(h: &Header, r: &mut Reading) {
    for part in split_outside_parens(&h.value, ';') {
        let (bare, comments) = strip_comments(part);
        let mut words = bare.split_whitespace();
        let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else {
            continue;
        };
        let method = method.to_ascii_lowercase();
        let seen = Seen {
            value: result.to_ascii_lowercase(),
            line: h.line,
        };
        let props: Vec<(String, &str)> = words
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let prop = |k: &str| props.iter().find(|(p, _)| p == k).map(|(_, v)| *v);
        // The topmost header is the receiving organisation's own verdict: the first one wins.
        match method.as_str() {
            "spf" if r.spf.is_none() => {
                r.spf = Some(seen);
                r.spf_ip = comments.iter().find_map(|c| ip_in_comment(c));
                append_capped(&mut r.spf_detail, &comments.join(" "));
                r.mailfrom = prop("smtp.mailfrom").and_then(domain_of);
            }
            "dkim" if r.dkim.is_none() => {
                r.dkim = Some(seen);
                r.dkim_domain = prop("header.d").or(prop("header.i")).and_then(domain_of);
            }
            "dmarc" if r.dmarc.is_none() => {
                r.dmarc = Some(seen);
                r.dmarc_action = prop("action").map(str::to_ascii_lowercase);
                r.header_from = prop("header.from").and_then(domain_of);
            }
            "compauth" if r.compauth.is_none() => {
                r.compauth = Some(seen);
                r.compauth_reason = prop("reason").map(|v| clean(v, 8));
            }
            _ => {}
        }
    }
}

/// `KEY:VALUE;KEY:VALUE` pairs (the anti-spam headers).
fn pairs(value: &str) -> impl Iterator<Item = (String, &str)> {
    value.split(';').filter_map(|p| {
        let (k, v) = p.split_once(':')?;
        Some((k.trim().to_ascii_uppercase(), v.trim()))
    })
}

fn read_received(h: &Header) -> Hop {
    let lower = h.value.to_ascii_lowercase();
    let by_at = lower.find(" by ");
    let from_part = by_at.map_or(h.value.as_str(), |at| &h.value[..at]);
    let from_ip = IP_IN_BRACKETS
        .captures_iter(from_part)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
        .last()
        .map(str::to_string);
    let word_after = |at: usize, len: usize| -> String {
        h.value[at + len..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches(';')
            .to_string()
    };
    Hop {
        from_ip,
        by_host: by_at.map(|at| word_after(at, 4)).unwrap_or_default(),
        with: lower
            .find(" with ")
            .map(|at| word_after(at, 6))
            .unwrap_or_default(),
        line: h.line,
    }
}

/// Everything one header block says.
pub(crate) fn reading(b: &Block) -> Reading {
    let mut r = Reading::default();
    let mut hops = Vec::new();
    for h in &b.headers {
        let seen = |v: &str| Seen {
            value: v.to_string(),
            line: h.line,
        };
        match h.name.as_str() {
            "authentication-results" => read_authentication_results(h, &mut r),
            "received-spf" if r.received_spf.is_none() => {
                let result = h.value.split_whitespace().next().unwrap_or("");
                r.received_spf = Some(seen(&result.to_ascii_lowercase()));
                append_capped(&mut r.spf_detail, &format!("Received-SPF: {}", h.value));
                r.received_spf_ip = h
                    .value
                    .split(|c: char| c == ';' || c.is_whitespace())
                    .find_map(|w| w.strip_prefix("client-ip="))
                    .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
                    .map(str::to_string);
            }
            "x-ms-exchange-organization-authas" if r.auth_as.is_none() => {
                r.auth_as = Some(seen(&clean(&h.value, 32).to_ascii_lowercase()));
            }
            "x-ms-exchange-organization-authsource" if r.auth_source.is_none() => {
                r.auth_source = Some(clean(&h.value, 120));
            }
            "x-ms-exchange-organization-scl" => {
                if let Ok(n) = h.value.trim().parse() {
                    r.scl = Some(n);
                }
            }
            "x-forefront-antispam-report" => {
                for (k, v) in pairs(&h.value) {
                    match k.as_str() {
                        "SFV" if r.sfv.is_none() => r.sfv = Some(seen(&clean(v, 16))),
                        "SCL" if r.scl.is_none() => r.scl = v.parse().ok(),
                        "CAT" if r.cat.is_none() => r.cat = Some(clean(v, 16)),
                        "CIP" if r.cip.is_none() => {
                            r.cip = v.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string());
                        }
                        _ => {}
                    }
                }
            }
            "x-microsoft-antispam" => {
                if let Some((_, v)) = pairs(&h.value).find(|(k, _)| k == "BCL") {
                    r.bcl = Some(clean(v, 8));
                }
            }
            "x-microsoft-antispam-mailbox-delivery" => {
                if let Some((_, v)) = pairs(&h.value).find(|(k, _)| k == "DEST") {
                    r.dest = Some(clean(v, 8).to_ascii_uppercase());
                }
            }
            "received" => hops.push(read_received(h)),
            "from" if r.from.is_none() => r.from = address_in(&h.value),
            "to" if r.to_domain.is_none() => {
                r.to_domain = address_in(&h.value).and_then(|a| domain_of(&a));
            }
            "return-path" if r.mailfrom.is_none() => {
                r.mailfrom = address_in(&h.value).and_then(|a| domain_of(&a));
            }
            _ => {}
        }
    }
    r.esmtpsa = hops.iter().any(|h| {
        let w = h.with.to_ascii_lowercase();
        w.starts_with("esmtpa") || w.starts_with("esmtpsa") || w.starts_with("utf8smtpa")
    });
    // Received headers are newest first: the lowest Microsoft hop is where the mail came in.
    r.entry = hops.into_iter().rev().find(Hop::is_microsoft);
    r
}

/// How the mail reached Microsoft 365, as far as the headers tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    DirectSend,
    AnonymousExternal,
    Anonymous,
    ConnectorRelay,
    Submission,
}

impl Path {
    pub fn describe(self) -> &'static str {
        match self {
            Path::DirectSend => {
                "direct send (anonymous to the MX, sender in the recipient's domain)"
            }
            Path::AnonymousExternal => "anonymous, from another organisation's domain",
            Path::Anonymous => "anonymous to the MX",
            Path::ConnectorRelay => "connector relay",
            Path::Submission => "authenticated submission",
        }
    }

    /// A few words, for labels.
    pub fn short(self) -> &'static str {
        match self {
            Path::DirectSend => "direct send",
            Path::AnonymousExternal | Path::Anonymous => "anonymous",
            Path::ConnectorRelay => "connector relay",
            Path::Submission => "authenticated submission",
        }
    }
}

impl Reading {
    fn auth_as(&self) -> Option<&str> {
        self.auth_as.as_ref().map(|s| s.value.as_str())
    }

    /// The From domain: the DMARC `header.from`, else the `From:` header.
    pub fn sender_domain(&self) -> Option<String> {
        self.header_from
            .clone()
            .or_else(|| self.from.as_deref().and_then(domain_of))
    }

    /// The IP the mail came from, as Microsoft 365 saw it.
    pub fn sending_ip(&self) -> Option<String> {
        self.cip
            .clone()
            .or_else(|| self.entry.as_ref().and_then(|h| h.from_ip.clone()))
            .or_else(|| self.received_spf_ip.clone())
            .or_else(|| self.spf_ip.clone())
    }

    pub fn anonymous(&self) -> bool {
        self.auth_as() == Some("anonymous")
    }

    pub fn path(&self) -> Option<Path> {
        if self.esmtpsa {
            return Some(Path::Submission);
        }
        let at_mx = self.entry.as_ref().is_some_and(Hop::is_mx);
        match self.auth_as()? {
            "internal" if at_mx => Some(Path::ConnectorRelay),
            "internal" => Some(Path::Submission),
            "partner" => Some(Path::ConnectorRelay),
            "anonymous" => match (self.sender_domain(), &self.to_domain) {
                (Some(f), Some(t)) if org_domain(&f) == org_domain(t) => Some(Path::DirectSend),
                (Some(_), Some(_)) => Some(Path::AnonymousExternal),
                _ => Some(Path::Anonymous),
            },
            _ => None,
        }
    }

    fn spf_result(&self) -> Option<&Seen> {
        self.spf.as_ref().or(self.received_spf.as_ref())
    }

    /// Why the mail went to Junk, if the headers say it did.
    pub fn junked(&self) -> Option<String> {
        let sfv = self.sfv.as_ref().map(|s| s.value.to_ascii_uppercase());
        let by_verdict = matches!(sfv.as_deref(), Some("SPM" | "SKS" | "SKB" | "BLK"));
        let skipped = matches!(sfv.as_deref(), Some("SKN" | "SKA" | "SKI" | "SFE" | "SKQ"));
        let by_scl = !skipped && self.scl.is_some_and(|s| s >= 5);
        let by_dest = self.dest.as_deref() == Some("J");
        if !(by_verdict || by_scl || by_dest) {
            return None;
        }
        let mut why = Vec::new();
        if let Some(s) = sfv {
            why.push(format!("SFV:{s}"));
        }
        if let Some(s) = self.scl {
            why.push(format!("SCL {s}"));
        }
        if let Some(c) = &self.cat {
            why.push(format!("CAT:{c}"));
        }
        if by_dest {
            why.push("delivered to Junk".to_string());
        }
        Some(why.join(", "))
    }

    /// The authentication results, in a few words: `spf fail, dkim none, dmarc fail`.
    fn auth_words(&self) -> String {
        let mut w = Vec::new();
        if let Some(c) = &self.compauth {
            match &self.compauth_reason {
                Some(reason) => w.push(format!("compauth {} (reason {reason})", c.value)),
                None => w.push(format!("compauth {}", c.value)),
            }
        }
        if let Some(s) = self.spf_result() {
            w.push(format!("spf {}", s.value));
        }
        if let Some(s) = &self.dkim {
            w.push(format!("dkim {}", s.value));
        }
        if let Some(s) = &self.dmarc {
            w.push(format!("dmarc {}", s.value));
        }
        w.join(", ")
    }

    pub fn summary(&self) -> String {
        let verdict = self.sfv.is_some() || self.scl.is_some() || self.dest.is_some();
        let mut s = match self.junked() {
            Some(why) => format!("junked ({why})"),
            None if verdict => "not junked".to_string(),
            None => "no spam verdict in the headers".to_string(),
        };
        let auth = self.auth_words();
        if !auth.is_empty() {
            s.push_str(": ");
            s.push_str(&auth);
        }
        if let Some(p) = self.path() {
            s.push_str("; arrived by ");
            s.push_str(p.describe());
        }
        s
    }

    pub fn facts(&self) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: String| f.push((k.to_string(), v));
        if let Some(a) = &self.from {
            put("from", mask_address(a));
        }
        if let Some(d) = &self.to_domain {
            put("to domain", d.clone());
        }
        if let Some(ip) = self.sending_ip() {
            put("sending ip", ip);
        }
        if let Some(p) = self.path() {
            put("arrived by", p.describe().to_string());
        }
        if let Some(a) = &self.auth_as {
            put("auth as", a.value.clone());
        }
        if let Some(a) = &self.auth_source {
            put("auth source", a.clone());
        }
        if let Some(h) = &self.entry {
            put("entry hop", clean(&h.by_host, 120));
        }
        if self.esmtpsa {
            put(
                "submission",
                "a Received hop says ESMTPSA (client logged in)".into(),
            );
        }
        if let Some(s) = &self.spf {
            let mut v = s.value.clone();
            if let Some(ip) = &self.spf_ip {
                v.push_str(&format!(" (sender ip {ip})"));
            }
            if let Some(d) = &self.mailfrom {
                v.push_str(&format!(", mail from {d}"));
            }
            put("spf", v);
        }
        if let Some(s) = &self.received_spf {
            let mut v = clean(&s.value, 16);
            if let Some(ip) = &self.received_spf_ip {
                v.push_str(&format!(" (client ip {ip})"));
            }
            put("received-spf", v);
        }
        if let Some(s) = &self.dkim {
            let mut v = s.value.clone();
            if let Some(d) = &self.dkim_domain {
                v.push_str(&format!(" (d={d})"));
            }
            put("dkim", v);
        }
        if let Some(s) = &self.dmarc {
            let mut v = s.value.clone();
            if let Some(a) = &self.dmarc_action {
                v.push_str(&format!(", action {a}"));
            }
            if let Some(d) = &self.header_from {
                v.push_str(&format!(", header from {d}"));
            }
            put("dmarc", v);
        }
        if let Some(s) = &self.compauth {
            let mut v = s.value.clone();
            if let Some(r) = &self.compauth_reason {
                v.push_str(&format!(", reason {r}"));
            }
            put("compauth", v);
        }
        if let Some(s) = &self.sfv {
            put("sfv", s.value.clone());
        }
        if let Some(s) = self.scl {
            put("scl", s.to_string());
        }
        if let Some(c) = &self.cat {
            put("cat", c.clone());
        }
        if let Some(b) = &self.bcl {
            put("bcl", b.clone());
        }
        if let Some(d) = &self.dest {
            put("mailbox delivery", format!("dest:{d}"));
        }
        for (_, v) in &mut f {
            *v = clean(v, 200);
        }
        f
    }

    /// The faults the headers show, each mapped to a rule.
    pub fn hits(&self) -> Vec<ArtifactHit> {
        let mut hits = Vec::new();
        let mut hit = |rule: &str, label: String, line: u64| {
            hits.push(ArtifactHit {
                rule: rule.to_string(),
                label: clean(&label, 160),
                line,
            })
        };
        let domain = self
            .mailfrom
            .clone()
            .or_else(|| self.sender_domain())
            .unwrap_or_else(|| "the sending domain".to_string());
        let how = self
            .path()
            .map(|p| format!(" ({})", p.short()))
            .unwrap_or_default();
        if let Some(spf) = self.spf_result() {
            match spf.value.as_str() {
                "fail" | "softfail" => {
                    let label = match self.sending_ip() {
                        Some(ip) => format!(
                            "spf {}: {ip} is not authorised for {domain}{how}",
                            spf.value
                        ),
                        None => format!("spf {} for {domain}{how}", spf.value),
                    };
                    hit(ids::DNS_SPF_IP_NOT_AUTHORIZED.as_str(), label, spf.line);
                }
                "permerror" => {
                    // The receiver's words may name the record's fault (too many lookups, two
                    // records): the rule book tells; otherwise it is the generic SPF refusal.
                    let text = format!("SPF PermError {}", self.spf_detail);
                    let rule = super::bounce::rule_for(&text)
                        .filter(|r| r.starts_with("dns-spf-") || r.starts_with("relay-spf-"))
                        .unwrap_or_else(|| ids::RELAY_SPF_FAIL.as_str().to_string());
                    hit(
                        &rule,
                        format!("spf permerror: the spf record of {domain} cannot be evaluated"),
                        spf.line,
                    );
                }
                "none" if self.anonymous() => hit(
                    ids::DNS_SPF_MISSING.as_str(),
                    format!("spf none: {domain} publishes no spf record{how}"),
                    spf.line,
                ),
                _ => {}
            }
        }
        let from_domain = self
            .sender_domain()
            .unwrap_or_else(|| "the From domain".to_string());
        if let Some(d) = &self.dmarc {
            if d.value == "fail" && self.dmarc_action.as_deref() == Some("reject") {
                hit(
                    ids::RELAY_DMARC_REJECT.as_str(),
                    format!("dmarc fail for {from_domain} with action reject"),
                    d.line,
                );
            }
            if d.value == "none" && self.anonymous() {
                hit(
                    ids::DNS_DMARC_MISSING.as_str(),
                    format!("dmarc none: {from_domain} publishes no dmarc record"),
                    d.line,
                );
            }
        }
        let junked = self.junked();
        let compauth_fail = self.compauth.as_ref().filter(|c| c.value == "fail");
        let dmarc_fail = self.dmarc.as_ref().filter(|d| d.value == "fail");
        let auth_fail = compauth_fail.or(dmarc_fail.filter(|_| self.compauth.is_none()));
        if let Some(seen) = auth_fail {
            let what = match (&self.compauth, &self.compauth_reason) {
                (Some(c), Some(r)) => format!("compauth {} reason {r}", c.value),
                (Some(c), None) => format!("compauth {}", c.value),
                _ => "dmarc fail".to_string(),
            };
            let label = match &junked {
                Some(_) => format!("junked: {what} for {from_domain}{how}"),
                None => format!("{what} for {from_domain}{how}"),
            };
            hit(ids::RELAY_COMPAUTH_JUNKED.as_str(), label, seen.line);
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_caps_folded_headers() {
        let mut text = String::from("Authentication-Results: spf=pass\n");
        for _ in 0..3000 {
            text.push_str("\t smtp.mailfrom=contoso.com;\n");
        }
        text.push_str("X-Other: 1\n");
        let lines = numbered_lines(&text, 1);
        let b = blocks(&lines);
        assert_eq!(b.len(), 1);
        assert!(b[0].headers[0].value.len() <= VALUE_CAP);
        assert_eq!(b[0].last_line, 3002);
    }

    #[test]
    fn comments_may_hold_separators() {
        let parts = split_outside_parens("spf=pass (a; b) x=y; dkim=none", ';');
        assert_eq!(parts.len(), 2);
        let (bare, c) = strip_comments("spf=fail (sender IP is 203.0.113.10) smtp.mailfrom=x");
        assert_eq!(c, vec!["sender IP is 203.0.113.10"]);
        assert!(bare.contains("smtp.mailfrom=x"));
        assert_eq!(ip_in_comment(&c[0]).as_deref(), Some("203.0.113.10"));
    }

    #[test]
    fn organisation_domains() {
        assert_eq!(org_domain("scans.contoso.com"), "contoso.com");
        assert_eq!(org_domain("mail.contoso.co.uk"), "contoso.co.uk");
        assert_eq!(org_domain("contoso.com"), "contoso.com");
    }

    #[test]
    fn received_hops() {
        let h = Header {
            name: "received".into(),
            value: "from [192.168.1.50] (unknown [203.0.113.10]) by mail.fabrikam.com with ESMTPSA id 1"
                .into(),
            line: 3,
        };
        let hop = read_received(&h);
        assert_eq!(hop.from_ip.as_deref(), Some("203.0.113.10"));
        assert_eq!(hop.by_host, "mail.fabrikam.com");
        assert_eq!(hop.with, "ESMTPSA");
    }
}
