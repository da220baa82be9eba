//! Bounce messages (NDRs): Exchange Online's layout ("Delivery has failed to these recipients
//! or groups", "Diagnostic information for administrators", "Generating server", "Remote server
//! returned '...'", "Original message headers") and generic delivery status notifications
//! (RFC 3464 `Reporting-MTA` / `Final-Recipient` / `Status` / `Diagnostic-Code`, Postfix's
//! "This is the mail system at host ...").
//!
//! The reader rebuilds who reported what for whom, tells internal from external recipients
//! (direct send only reaches the tenant's own mailboxes), and maps each server reply to a rule
//! through the rule book's own codes and patterns, so the reply text decides between rules that
//! share a code.
use std::sync::LazyLock;

use super::artifact::{Artifact, ArtifactHit, ArtifactKind};
use super::headers::{self, address_in, clean, domain_of, numbered_lines, org_domain};
use crate::explain::matcher::Matcher;
use crate::explain::rank::Ranker;
use crate::explain::tokens::{self, TokenKind};
use crate::redact::mask_address;
use crate::rules::{Rulebook, ids};

/// Lower-case literals, one of which every bounce this reader reports holds.
pub const TRIGGERS: &[&str] = &[
    "diagnostic information for administrators",
    "delivery has failed to these recipients",
    "remote server returned",
    "server at ",
    "server has returned",
    "returned an error",
    "generating server:",
    "reporting-mta:",
    "diagnostic-code:",
    "this is the mail system at host",
];

/// Bytes of a line looked at (a 10 MB line of junk stays cheap).
const LINE_MAX: usize = 4096;
/// Characters kept of one server reply.
const REPLY_MAX: usize = 1000;
/// Lines without anything bounce-like after which a bounce is taken to have ended.
const GAP: u64 = 80;
/// Lines of original headers kept per bounce.
const ORIGINAL_MAX: usize = 400;
const RECIPIENT_CAP: usize = 20;
const REPLY_CAP: usize = 20;
const BOUNCE_CAP: usize = 32;

/// The rule book the readers map codes and replies with (the built-in one: readers take no
/// rule book, and the ids they name are checked against it at build time).
static MATCHER: LazyLock<Matcher> = LazyLock::new(|| Matcher::compile(Rulebook::embedded()));

/// The rule that best explains `text` (a server reply, an `AADSTS` code), by the rule book's
/// own codes and patterns and its ranking.
pub(crate) fn rule_for(text: &str) -> Option<String> {
    let text = head(text, REPLY_MAX * 2);
    let m = &*MATCHER;
    let hits = m.analyse_all(text);
    if hits.is_empty() {
        return None;
    }
    let mut r = Ranker::default();
    r.add_line(1, text, &hits);
    r.finish(|i| (m.rules[i].rank, m.rules[i].id.clone()))
        .first()
        .map(|(i, _)| m.rules[*i].id.clone())
}

/// At most `n` bytes of `s`, cut at a character boundary.
fn head(s: &str, n: usize) -> &str {
    let mut cut = s.len().min(n);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Failed,
    DiagInfo,
    PostfixIntro,
    ReportingMta,
    Couldnt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Body,
    /// After "Delivery has failed to these recipients or groups": addresses follow (lines left).
    Recipients(u8),
    /// Waiting for the original headers; `true` while MIME part headers come first.
    AwaitOriginal(bool),
    Original,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Last {
    None,
    /// The last line was a reply that may continue on indented lines.
    Reply,
}

#[derive(Clone, Debug)]
struct Reply {
    text: String,
    line: u64,
}

#[derive(Clone, Debug)]
struct Draft {
    first_line: u64,
    last_line: u64,
    markers: Vec<Marker>,
    reporting_host: Option<String>,
    remote_host: Option<String>,
    recipients: Vec<String>,
    sender: Option<String>,
    replies: Vec<Reply>,
    statuses: Vec<(String, u64)>,
    actions: Vec<String>,
    delivered: bool,
    original: Vec<(u64, String)>,
    section: Section,
    last: Last,
}

impl Draft {
    fn new(line: u64) -> Draft {
        Draft {
            first_line: line,
            last_line: line,
            markers: Vec::new(),
            reporting_host: None,
            remote_host: None,
            recipients: Vec::new(),
            sender: None,
            replies: Vec::new(),
            statuses: Vec::new(),
            actions: Vec::new(),
            delivered: false,
            original: Vec::new(),
            section: Section::Body,
            last: Last::None,
        }
    }

    fn recipient(&mut self, addr: String) {
        if self.recipients.len() < RECIPIENT_CAP
            && !self
                .recipients
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&addr))
        {
            self.recipients.push(addr);
        }
    }

    fn reply(&mut self, text: &str, line: u64) {
        let text = head(text.trim(), REPLY_MAX).to_string();
        if !text.is_empty() && self.replies.len() < REPLY_CAP {
            self.replies.push(Reply { text, line });
            self.last = Last::Reply;
        }
    }
}

/// The start marker a line holds, if any.
fn marker(lower: &str) -> Option<Marker> {
    if lower.contains("delivery has failed to these recipients") {
        Some(Marker::Failed)
    } else if lower.contains("diagnostic information for administrators") {
        Some(Marker::DiagInfo)
    } else if lower.contains("this is the mail system at host") {
        Some(Marker::PostfixIntro)
    } else if lower.starts_with("reporting-mta:") {
        Some(Marker::ReportingMta)
    } else if lower.contains("your message to") && lower.contains("couldn't be delivered") {
        Some(Marker::Couldnt)
    } else {
        None
    }
}

/// The value after `key:` when `lower` starts with it (`key` lower-case, without the colon).
fn field<'a>(line: &'a str, lower: &str, key: &str) -> Option<&'a str> {
    let rest = lower.strip_prefix(key)?.strip_prefix(':')?;
    Some(line[line.len() - rest.len()..].trim())
}

/// `dns; mx.contoso.com` -> `mx.contoso.com`.
fn after_type(v: &str) -> &str {
    v.split_once(';').map_or(v, |(_, r)| r).trim()
}

/// Reads every bounce in `text`.
pub fn read(text: &str, first_line: u64, _now: i64) -> Vec<Artifact> {
    let mut done = Vec::new();
    let mut cur: Option<Draft> = None;
    for (no, full) in numbered_lines(text, first_line) {
        let line = head(full, LINE_MAX);
        let lower = line.to_ascii_lowercase();
        let blank = line.trim().is_empty();
        if let Some(d) = &cur
            && d.section != Section::Original
            && no > d.last_line + GAP
        {
            done.extend(cur.take());
        }
        let m = marker(&lower);
        let orphan_reply = returned_reply(line, &lower).is_some()
            || lower.starts_with("diagnostic-code:")
            || lower.starts_with("final-recipient:");
        let opens = match (&cur, m) {
            (None, Some(_)) => true,
            (None, None) => orphan_reply,
            (Some(d), Some(mk)) => d.markers.contains(&mk),
            (Some(_), None) => false,
        };
        if opens {
            done.extend(cur.take());
            cur = Some(Draft::new(no));
        }
        let Some(d) = cur.as_mut() else { continue };
        if let Some(mk) = m {
            d.markers.push(mk);
            d.last_line = no;
        }
        step(d, no, line, &lower, blank, m);
        if done.len() >= BOUNCE_CAP {
            break;
        }
    }
    done.extend(cur);
    done.into_iter()
        .take(BOUNCE_CAP)
        .filter_map(finish)
        .collect()
}

/// Takes in one line of a bounce.
fn step(d: &mut Draft, no: u64, line: &str, lower: &str, blank: bool, m: Option<Marker>) {
    match d.section {
        Section::Original => {
            if blank {
                d.section = Section::Body;
            } else if d.original.len() < ORIGINAL_MAX {
                d.original.push((no, line.to_string()));
                d.last_line = no;
            }
            return;
        }
        Section::AwaitOriginal(true) => {
            if blank {
                d.section = Section::AwaitOriginal(false);
            }
            return;
        }
        Section::AwaitOriginal(false) => {
            if !blank {
                d.section = Section::Original;
                d.original.push((no, line.to_string()));
                d.last_line = no;
            }
            return;
        }
        Section::Recipients(left) => {
            d.section = if left == 0 || m.is_some() {
                Section::Body
            } else {
                Section::Recipients(left - 1)
            };
            if m.is_none()
                && let Some(a) = address_in(line)
            {
                d.recipient(a);
                d.last_line = no;
                return;
            }
        }
        Section::Body => {}
    }
    let continuation = line.starts_with([' ', '\t']) && !blank;
    if continuation && d.last == Last::Reply {
        if let Some(r) = d.replies.last_mut()
            && r.text.len() < REPLY_MAX
        {
            r.text.push(' ');
            r.text.push_str(head(line.trim(), REPLY_MAX - r.text.len()));
        }
        d.last_line = no;
        return;
    }
    d.last = Last::None;
    if blank {
        return;
    }
    let touched = read_line(d, no, line, lower, m);
    if touched || m.is_some() {
        d.last_line = no;
    }
}

/// Reads what one body line of a bounce says; whether it said anything.
fn read_line(d: &mut Draft, no: u64, line: &str, lower: &str, m: Option<Marker>) -> bool {
    match m {
        Some(Marker::Failed) => d.section = Section::Recipients(12),
        Some(Marker::PostfixIntro) => {
            let at = lower
                .find("mail system at host ")
                .map_or(line.len(), |a| a + 20);
            let host = line[at..].split_whitespace().next().unwrap_or("");
            d.reporting_host
                .get_or_insert_with(|| host.trim_end_matches('.').to_string());
        }
        Some(Marker::Couldnt) => {
            if let Some(a) = address_in(line) {
                d.recipient(a);
            }
        }
        _ => {}
    }
    if let Some(v) = field(line, lower, "generating server") {
        d.reporting_host.get_or_insert_with(|| v.to_string());
    } else if let Some(v) = field(line, lower, "reporting-mta") {
        d.reporting_host
            .get_or_insert_with(|| after_type(v).to_string());
    } else if let Some(v) = field(line, lower, "remote-mta") {
        d.remote_host
            .get_or_insert_with(|| after_type(v).to_string());
    } else if let Some(v) =
        field(line, lower, "final-recipient").or_else(|| field(line, lower, "original-recipient"))
    {
        if let Some(a) = address_in(v) {
            d.recipient(a);
        }
    } else if let Some(v) = field(line, lower, "x-postfix-sender") {
        d.sender = d.sender.take().or_else(|| address_in(v));
    } else if let Some(v) = field(line, lower, "action") {
        if d.actions.len() < REPLY_CAP {
            d.actions.push(head(v, 40).to_ascii_lowercase());
        }
    } else if let Some(v) = field(line, lower, "status") {
        if !tokens::scan(head(v, 80))
            .iter()
            .any(|t| t.kind == TokenKind::Enhanced)
            || d.statuses.len() >= REPLY_CAP
        {
            return false;
        }
        d.statuses.push((head(v, 80).to_string(), no));
    } else if let Some(v) = field(line, lower, "diagnostic-code") {
        d.reply(after_type(v), no);
    } else if let Some(r) = returned_reply(line, lower) {
        let at = r.server_at;
        d.reply(r.reply, no);
        if let Some(host) = r.host.map(str::to_string).or_else(|| bracketed_host(line)) {
            d.remote_host.get_or_insert(host);
        }
        // Exchange may put the recipient on the same line, before the reply.
        if let Some(a) = address_in(&line[..at]) {
            d.recipient(a);
        }
    } else if lower.starts_with("original message headers") {
        d.section = Section::AwaitOriginal(false);
    } else if lower.starts_with("content-type: message/rfc822")
        || lower.starts_with("content-type: text/rfc822-headers")
    {
        d.section = Section::AwaitOriginal(true);
    } else if line.starts_with('<')
        && let Some((addr, rest)) = line[1..].split_once(">:")
    {
        // Postfix: `<x@fabrikam.com>: host mx.fabrikam.com[203.0.113.5] said: 550 5.7.1 ...`
        let Some(a) = address_in(addr) else {
            return false;
        };
        d.recipient(a);
        let rest_lower = rest.to_ascii_lowercase();
        if let Some(at) = rest_lower.find(" said:") {
            if let Some(h) = rest_lower.find("host ").filter(|&h| h + 5 <= at) {
                let host = rest[h + 5..at].split(['[', ' ']).next().unwrap_or("");
                d.remote_host.get_or_insert_with(|| host.to_string());
            }
            d.reply(&rest[at + 6..], no);
        } else {
            d.reply(rest, no);
        }
    } else if let Some(rest) = line.strip_prefix('#')
        && rest.len() > 3
        && rest.as_bytes()[..3].iter().all(u8::is_ascii_digit)
    {
        // Older Exchange layout: `#550 5.7.64 TenantAttribution; Relay Access Denied ##`.
        d.reply(rest.trim_end_matches('#'), no);
    } else if lower.contains("successfully delivered")
        || lower.contains("delivery to these recipients or groups is complete")
        || lower.contains("your message has been delivered")
    {
        d.delivered = true;
    } else if m.is_none() && d.markers.contains(&Marker::DiagInfo) && d.replies.is_empty() {
        // Between "Diagnostic information" and the reply, Exchange lists the recipient alone.
        let t = line.trim();
        match address_in(t) {
            Some(a) if !t.contains(' ') => d.recipient(a),
            _ => return false,
        }
    } else {
        return false;
    }
    true
}

/// A line in which a sending server reports the reply it got: `Remote Server returned '550
/// ...'`, `Remote Server at mx.contoso.com (203.0.113.5) returned '550 ...'`, `The server has
/// returned an error: 550 ...`, `Remote server returned an error: (550) ...`.
struct Returned<'a> {
    /// Where the words naming the server start (a recipient may stand before them).
    server_at: usize,
    reply: &'a str,
    /// The host the words name (`at <host>`), if they do.
    host: Option<&'a str>,
}

fn returned_reply<'a>(line: &'a str, lower: &str) -> Option<Returned<'a>> {
    let ret = lower.find(" returned")?;
    let word = lower[..ret].rfind("server")?;
    // `server` and `returned` belong to one phrase: a few words apart at most.
    let between = &lower[word..ret];
    if between.len() > 120 || between.contains(['\'', '"', ';']) {
        return None;
    }
    // `Remote Server`, `The server`: the phrase starts at the words before `server`.
    let server_at = lower[..word]
        .rfind(|c: char| !c.is_ascii_alphabetic() && c != ' ')
        .map_or(0, |i| i + 1);
    let host = between
        .find(" at ")
        .and_then(|a| line[word + a + 4..ret].split_whitespace().next())
        .filter(|h| h.contains('.'));
    let mut rest = line[ret + " returned".len()..].trim_start();
    for filler in ["an error", "the error", "error", ":", "-"] {
        if rest
            .get(..filler.len())
            .is_some_and(|f| f.eq_ignore_ascii_case(filler))
        {
            rest = rest[filler.len()..].trim_start();
        }
    }
    let reply = match rest.strip_prefix(['\'', '"']) {
        Some(inner) => inner.rfind(['\'', '"']).map_or(inner, |b| &inner[..b]),
        None => rest,
    };
    let reply = reply.trim();
    // A reply code (`550 ...`, `(550) ...`) or an enhanced status code must be there.
    let b = reply.trim_start_matches('(').as_bytes();
    let coded =
        b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) && matches!(b[0], b'4' | b'5');
    let enhanced = tokens::scan(head(reply, 200))
        .iter()
        .any(|t| t.kind == TokenKind::Enhanced);
    (coded || enhanced).then_some(Returned {
        server_at,
        reply,
        host,
    })
}

/// A host name in square brackets (`[BN8NAM11FT000.eop-nam11.prod.protection.outlook.com]`).
fn bracketed_host(line: &str) -> Option<String> {
    let open = line.rfind('[')?;
    let close = open + line[open..].find(']')?;
    let inner = &line[open + 1..close];
    let host_like = inner.contains('.')
        && inner.bytes().any(|b| b.is_ascii_alphabetic())
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    host_like.then(|| inner.to_string())
}

/// The class of a reply (`5`, `4`, `2`) from its enhanced status or reply code.
fn class_of(text: &str) -> Option<u8> {
    let toks = tokens::scan(head(text, 200));
    if let Some(t) = toks.iter().find(|t| t.kind == TokenKind::Enhanced) {
        return t.text.bytes().next().map(|b| b - b'0');
    }
    let t = text.trim_start();
    let b = t.as_bytes();
    (b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) && matches!(b[0], b'2' | b'4' | b'5'))
        .then(|| b[0] - b'0')
}

/// `550 5.7.64` from a reply, as far as it has them.
fn code_of(text: &str) -> Option<String> {
    let toks = tokens::scan(head(text, 200));
    let enhanced = toks.iter().find(|t| t.kind == TokenKind::Enhanced)?;
    Some(match enhanced.reply {
        Some(r) => format!("{r} {}", enhanced.text),
        None => enhanced.text.clone(),
    })
}

/// A reply without Postfix's wrapping: `host mx[ip] said: 550 ... (in reply to RCPT TO
/// command)` -> (`550 ...`, the remote host, the command it answered).
fn unwrap_reply(text: &str) -> (String, Option<String>, Option<String>) {
    let mut t = text.trim();
    let mut host = None;
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("host ")
        && let Some(at) = lower.find(" said:")
    {
        host = t
            .get(5..at)
            .and_then(|h| h.split(['[', ' ']).next())
            .map(str::to_string);
        t = t[at + 6..].trim();
    }
    let mut command = None;
    let lower = t.to_ascii_lowercase();
    if let Some(at) = lower.rfind("(in reply to ")
        && lower.trim_end().ends_with("command)")
    {
        let inner = &t[at + 13..t.trim_end().len() - 1];
        command = Some(inner.trim().to_string());
        t = t[..at].trim();
    }
    (t.to_string(), host, command)
}

/// What two replies share when they say the same thing (Postfix repeats the reply in the
/// delivery status part).
fn reply_key(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .join(" ")
        .to_ascii_lowercase()
        .chars()
        .take(60)
        .collect()
}

fn finish(mut d: Draft) -> Option<Artifact> {
    let mut commands: Vec<String> = Vec::new();
    let mut replies: Vec<Reply> = Vec::new();
    for r in d.replies.drain(..) {
        let (text, host, command) = unwrap_reply(&r.text);
        if d.remote_host.is_none() {
            d.remote_host = host;
        }
        if let Some(c) = command
            && !commands.contains(&c)
        {
            commands.push(c);
        }
        if !replies
            .iter()
            .any(|x| reply_key(&x.text) == reply_key(&text))
        {
            replies.push(Reply { text, line: r.line });
        }
    }
    d.replies = replies;
    let original = {
        let lines: Vec<(u64, &str)> = d.original.iter().map(|(n, l)| (*n, l.as_str())).collect();
        headers::blocks(&lines)
            .into_iter()
            .next()
            .map(|b| headers::reading(&b))
    };
    let failed_class = d
        .replies
        .iter()
        .filter_map(|r| class_of(&r.text))
        .chain(d.statuses.iter().filter_map(|(s, _)| class_of(s)))
        .filter(|c| *c == 4 || *c == 5)
        .max();
    let failed_action = d
        .actions
        .iter()
        .any(|a| a.starts_with("failed") || a.starts_with("delayed"));
    let failed_marker = d
        .markers
        .iter()
        .any(|m| matches!(m, Marker::Failed | Marker::DiagInfo | Marker::Couldnt));
    // A reply without any code ("Host or domain name not found") is a failure too.
    let uncoded_reply = d.replies.iter().any(|r| class_of(&r.text).is_none());
    let failed = failed_class.is_some() || failed_action || failed_marker || uncoded_reply;
    if !failed && !d.delivered && d.statuses.is_empty() && d.reporting_host.is_none() {
        return None;
    }
    let delayed = failed_class == Some(4)
        || (failed_class.is_none() && d.actions.iter().any(|a| a.starts_with("delayed")));

    let sender = original
        .as_ref()
        .and_then(|r| r.from.clone())
        .or_else(|| d.sender.clone());
    let sender_domain = original
        .as_ref()
        .and_then(|r| r.sender_domain())
        .or_else(|| sender.as_deref().and_then(domain_of));
    let mut recipient_domains: Vec<String> =
        d.recipients.iter().filter_map(|a| domain_of(a)).collect();
    if recipient_domains.is_empty()
        && let Some(t) = original.as_ref().and_then(|r| r.to_domain.clone())
    {
        recipient_domains.push(t);
    }
    recipient_domains.sort();
    recipient_domains.dedup();
    let external: Vec<&String> = match &sender_domain {
        Some(s) => recipient_domains
            .iter()
            .filter(|r| org_domain(r) != org_domain(s))
            .collect(),
        None => Vec::new(),
    };

    let mut facts: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| facts.push((k.to_string(), clean(&v, 300)));
    if let Some(h) = &d.reporting_host {
        put("reporting host", h.clone());
    }
    if let Some(h) = &d.remote_host {
        put("remote host", h.clone());
    }
    if let Some(s) = &sender {
        put("sender", mask_address(s));
    }
    if let Some(s) = &sender_domain {
        put("sender domain", s.clone());
    }
    if !d.recipients.is_empty() {
        let list: Vec<String> = d.recipients.iter().map(|a| mask_address(a)).collect();
        put("recipients", list.join(", "));
    }
    if !recipient_domains.is_empty() {
        put("recipient domains", recipient_domains.join(", "));
    }
    if let Some(s) = &sender_domain
        && !recipient_domains.is_empty()
    {
        let v = if external.is_empty() {
            format!("internal (same organisation as {s})")
        } else {
            let ext: Vec<&str> = external.iter().map(|e| e.as_str()).collect();
            format!("external ({}), sender domain {s}", ext.join(", "))
        };
        put("recipients are", v);
    }
    for (s, _) in &d.statuses {
        put("status", s.clone());
    }
    for a in &d.actions {
        put("action", a.clone());
    }
    for r in &d.replies {
        put("reply", r.text.clone());
    }
    for c in &commands {
        put("in reply to", c.clone());
    }
    if let Some(r) = &original {
        if let Some(p) = r.path() {
            put("original arrived by", p.describe().to_string());
        }
        if let Some(ip) = r.sending_ip() {
            put("original sending ip", ip);
        }
        if let Some(a) = &r.auth_as {
            put("original auth as", a.value.clone());
        }
    }

    let mut hits: Vec<ArtifactHit> = Vec::new();
    if failed {
        let status = d.statuses.first().map(|(s, _)| s.as_str());
        for r in &d.replies {
            let mut text = r.text.clone();
            if code_of(&text).is_none()
                && let Some(s) = status
            {
                text.push(' ');
                text.push_str(s);
            }
            let rule = rule_for(&text);
            let lower = text.to_ascii_lowercase();
            let relay_refused = lower.contains("relay")
                && !lower.contains("tenantattribution")
                && !lower.contains("tenantinboundattribution");
            let rule = match rule {
                None if relay_refused && !external.is_empty() => {
                    Some(ids::RELAY_EXTERNAL_RECIPIENT.as_str().to_string())
                }
                other => other,
            };
            let Some(rule) = rule else { continue };
            let mut label = clean(&text, 140);
            if rule == ids::RELAY_EXTERNAL_RECIPIENT.as_str()
                && let (Some(e), Some(s)) = (external.first(), &sender_domain)
            {
                label = format!("{label}: recipient domain {e} is outside {s}");
            }
            if !hits.iter().any(|h| h.rule == rule) {
                hits.push(ArtifactHit {
                    rule,
                    label: clean(&label, 200),
                    line: r.line,
                });
            }
        }
        if hits.is_empty()
            && let Some((s, line)) = d.statuses.first()
            && let Some(rule) = rule_for(s)
        {
            hits.push(ArtifactHit {
                rule,
                label: clean(&format!("status {s}"), 80),
                line: *line,
            });
        }
        // The original headers say why a receiver refused it (an IP not in SPF, a failing DMARC).
        if let Some(r) = &original {
            for h in r.hits() {
                if !hits.iter().any(|x| x.rule == h.rule) {
                    hits.push(h);
                }
            }
        }
    }

    let first_reply = d.replies.first().map(|r| clean(&r.text, 120));
    let by = d
        .reporting_host
        .as_ref()
        .or(d.remote_host.as_ref())
        .map(|h| format!(" (reported by {})", clean(h, 80)))
        .unwrap_or_default();
    let mut summary = if !failed {
        "delivered: no failure reported".to_string()
    } else {
        let what = if delayed { "delayed" } else { "bounced" };
        match (&first_reply, d.statuses.first()) {
            (Some(r), _) => format!("{what}: {r}{by}"),
            (None, Some((s, _))) => format!("{what}: status {}{by}", clean(s, 40)),
            (None, None) => format!("{what}{by}"),
        }
    };
    if failed && !external.is_empty() {
        let ext: Vec<&str> = external.iter().map(|e| e.as_str()).collect();
        summary.push_str(&format!("; external recipient domain {}", ext.join(", ")));
    }
    Some(Artifact {
        kind: ArtifactKind::Bounce,
        first_line: d.first_line,
        last_line: d.last_line.max(d.first_line),
        summary,
        facts,
        transcript: Vec::new(),
        hits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_text_decides_between_rules_sharing_a_code() {
        assert_eq!(
            rule_for("550 5.7.64 TenantAttribution; Relay Access Denied").as_deref(),
            Some("relay-tenant-attribution")
        );
        assert_eq!(
            rule_for("550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources").as_deref(),
            Some("relay-direct-send-rejected")
        );
        assert_eq!(
            rule_for("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox").as_deref(),
            Some("smtp-auth-disabled-for-mailbox")
        );
        assert_eq!(rule_for("250 2.0.0 OK"), None);
    }

    #[test]
    fn reply_classes_and_codes() {
        assert_eq!(class_of("550 5.7.64 TenantAttribution"), Some(5));
        assert_eq!(class_of("451 4.7.500 Access denied"), Some(4));
        assert_eq!(class_of("2.0.0"), Some(2));
        assert_eq!(code_of("550 5.7.64 x").as_deref(), Some("550 5.7.64"));
        assert_eq!(
            bracketed_host("Denied [BN8NAM11FT000.eop-nam11.prod.protection.outlook.com]'")
                .as_deref(),
            Some("BN8NAM11FT000.eop-nam11.prod.protection.outlook.com")
        );
    }
}
