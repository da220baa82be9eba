//! SMTP sessions in logs: the dialogue between a device (or relay) and a server, however the
//! client logged it (`S:`/`C:`, `<<<`/`>>>`, `-->`/`<--`, swaks' `->`/`<-`, lettre's `>>`/`<<`,
//! Python smtplib's `send:`/`reply:`, JavaMail's `DEBUG SMTP:` with raw lines, Postfix's
//! `... said: 535 ...`). The dialogue is rebuilt (multi-line replies joined), the step that
//! failed is named, what the server offered before and after TLS is read, and the whole
//! sequence is judged: AUTH before STARTTLS, Basic refused, an XOAUTH2 token that does not fit.
//!
//! Nothing secret survives into the artifact: an XOAUTH2 blob becomes a description of its
//! claims, an AUTH LOGIN/PLAIN payload becomes its user (masked), a password is never shown.
use std::fmt::Write as _;

use super::artifact::{Artifact, ArtifactHit, ArtifactKind};
use super::jwt::judge_token;
use super::xoauth2::{self, LENIENT};
use crate::jwt::Intended;
use crate::redact::{mask_address, redact};
use base64::Engine as _;

/// Literals one of which every failing session holds: a 4xx/5xx reply with an enhanced code,
/// Postfix's `said:`, an XOAUTH2 blob, a JSON challenge or JavaMail's failure lines. A healthy
/// session holds none, so a large log full of them costs nothing.
pub const TRIGGERS: &[&str] = &[
    "421 4.",
    "432 4.",
    "451 4.",
    "451 5.",
    "454 4.",
    "501 5.",
    "503 5.",
    "504 5.",
    "530 5.",
    "535 5.",
    "535-5.",
    "550 5.",
    "553 5.",
    "554 5.",
    "said: 4",
    "said: 5",
    "dxnlcj",
    "334 eyj",
    "debug smtp: auth",
    "authenticationfailedexception",
];

/// Whether a session artifact shows a failure (a refused step or a fault): a large log is
/// reported only by these, its healthy sessions being what it is mostly made of.
pub fn failed(a: &Artifact) -> bool {
    !a.hits.is_empty() || a.facts.iter().any(|(k, _)| k == "failed at")
}

/// Non-SMTP lines tolerated between two lines of one session.
const MAX_GAP: u64 = 60;
const SESSION_CAP: usize = 16;
const TRANSCRIPT_HEAD: usize = 150;
const TRANSCRIPT_TAIL: usize = 30;
const LINE_MAX: usize = 240;
const HITS_CAP: usize = 12;

/// Who said it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    Client,
    Server,
    /// A client library's own remark (`DEBUG SMTP: ...`, `connecting to ...`).
    Note,
}

#[derive(Clone, Debug)]
struct Event {
    line: u64,
    dir: Dir,
    text: String,
    /// A bare line (no marker): only taken when the lines around it make a session.
    bare: bool,
}

/// Reads every SMTP session in `text` (whose first line is `first_line`). `now` is the fallback
/// time for token expiry when a line carries no time stamp.
pub fn read(text: &str, first_line: u64, now: i64) -> Vec<Artifact> {
    let mut events = Vec::new();
    let mut postfix = Vec::new();
    let mut dialects = Dialects::default();
    let mut times: Vec<(u64, i64)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = first_line + i as u64;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.len() > 64 * 1024 {
            // A giant line is no SMTP dialogue line; only its start is looked at.
            let head = &line[..floor(line, 4096)];
            classify(head, line_no, &mut events, &mut postfix, &mut dialects);
            continue;
        }
        let before = events.len();
        classify(line, line_no, &mut events, &mut postfix, &mut dialects);
        if events.len() > before
            && let Some(t) = xoauth2::line_time(line, now)
        {
            times.push((line_no, t));
        }
    }
    let mut out = Vec::new();
    for s in split_sessions(events) {
        if out.len() >= SESSION_CAP {
            break;
        }
        if let Some(a) = analyse(&s, &dialects, &times, now) {
            out.push(a);
        }
    }
    for p in postfix {
        if out.len() >= SESSION_CAP {
            break;
        }
        out.push(p);
    }
    out.sort_by_key(|a| a.first_line);
    out
}

fn floor(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Which ways of logging were seen (for the `dialect` fact).
#[derive(Default)]
struct Dialects {
    names: Vec<&'static str>,
}

impl Dialects {
    fn saw(&mut self, name: &'static str) {
        if !self.names.contains(&name) {
            self.names.push(name);
        }
    }
}

const VERBS: &[&str] = &[
    "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "QUIT", "RSET", "NOOP", "BDAT",
    "VRFY",
];

fn is_reply(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && (b'2'..=b'5').contains(&b[0])
        && b.get(3).is_none_or(|&c| c == b' ' || c == b'-')
}

fn verb(text: &str) -> Option<&'static str> {
    let word = text.split_whitespace().next()?;
    let word = word.split(':').next()?;
    VERBS.iter().copied().find(|v| v.eq_ignore_ascii_case(word))
}

/// Markers that say who speaks: (marker, direction, dialect, must be the first word).
const MARKERS: &[(&str, Dir, &str, bool)] = &[
    ("S:", Dir::Server, "S:/C: markers", false),
    ("C:", Dir::Client, "S:/C: markers", false),
    ("<<<", Dir::Server, "<<< / >>> markers", false),
    (">>>", Dir::Client, "<<< / >>> markers", false),
    ("<--", Dir::Server, "<-- / --> markers", false),
    ("-->", Dir::Client, "<-- / --> markers", false),
    ("<<", Dir::Server, "lettre debug (<< / >>)", false),
    (">>", Dir::Client, "lettre debug (<< / >>)", false),
    ("<-", Dir::Server, "swaks (<- / ->)", true),
    ("->", Dir::Client, "swaks (<- / ->)", true),
    ("<~", Dir::Server, "swaks (<~ / ~>, in TLS)", true),
    ("~>", Dir::Client, "swaks (<~ / ~>, in TLS)", true),
    // swaks marks a server reply it takes for an error: `<**` in plain text, `<~*` in TLS.
    ("<**", Dir::Server, "swaks (<- / ->)", true),
    ("<~*", Dir::Server, "swaks (<~ / ~>, in TLS)", true),
];

/// Device and library logs that name the direction in a word (`Send:`/`Recv:`, `TX:`/`RX:`,
/// `OUT`/`IN`), matched without regard to case and anywhere in the first words. These words
/// also occur in prose and mail headers (`Received: from ...`), so a line only counts when a
/// server line carries a reply code and a client line a command or a base64 payload.
const WORD_MARKERS: &[(&str, Dir)] = &[
    ("send:", Dir::Client),
    ("sent:", Dir::Client),
    ("sending:", Dir::Client),
    ("tx:", Dir::Client),
    ("out:", Dir::Client),
    ("[out]", Dir::Client),
    ("<out>", Dir::Client),
    ("c->s:", Dir::Client),
    ("recv:", Dir::Server),
    ("rcvd:", Dir::Server),
    ("receive:", Dir::Server),
    ("received:", Dir::Server),
    ("rx:", Dir::Server),
    ("in:", Dir::Server),
    ("[in]", Dir::Server),
    ("<in>", Dir::Server),
    ("s->c:", Dir::Server),
];

/// The direction a direction word names, if `word` is one (`OUT`/`IN` bare only in capitals:
/// in lower case they are ordinary words).
fn word_marker(word: &str) -> Option<Dir> {
    match word {
        "OUT" => return Some(Dir::Client),
        "IN" => return Some(Dir::Server),
        _ => {}
    }
    WORD_MARKERS
        .iter()
        .find(|(m, _)| m.eq_ignore_ascii_case(word))
        .map(|&(_, d)| d)
}

/// What a client line marked only by a direction word must look like: a command, or a base64
/// payload (an AUTH answer), or the end of message content.
fn looks_sent(rest: &str) -> bool {
    verb(rest).is_some()
        || rest == "."
        || rest == "*"
        || (rest.len() >= 4 && !rest.contains(' ') && rest.bytes().all(is_b64))
}

fn classify(
    line: &str,
    line_no: u64,
    events: &mut Vec<Event>,
    postfix: &mut Vec<Artifact>,
    dialects: &mut Dialects,
) {
    if line.trim().is_empty() {
        return;
    }
    if line.contains("postfix/") && line.contains(" said: ") {
        if let Some(a) = postfix_line(line, line_no) {
            dialects.saw("Postfix");
            // Postfix logs one refusal twice (the SASL line, then the queue's status line).
            let n = postfix.len();
            match postfix.last_mut() {
                Some(last) if last.summary == a.summary && line_no <= last.last_line + 3 => {
                    last.last_line = line_no;
                }
                _ if n < SESSION_CAP => postfix.push(a),
                _ => {}
            }
        }
        return;
    }
    if let Some(evs) = smtplib(line, line_no) {
        dialects.saw("Python smtplib debug");
        events.extend(evs);
        return;
    }
    if let Some(at) = line.find("DEBUG SMTP:") {
        dialects.saw("JavaMail debug");
        events.push(Event {
            line: line_no,
            dir: Dir::Note,
            text: line[at + 11..].trim().to_string(),
            bare: false,
        });
        return;
    }
    for (i, (start, word)) in words(line).take(8).enumerate() {
        if let Some(dir) = word_marker(word) {
            let rest = line[start + word.len()..].trim();
            let fits = match dir {
                Dir::Server => is_reply(rest),
                _ => looks_sent(rest),
            };
            if !fits {
                continue; // `Received: from ...`, `Sent: Monday`: not a dialogue line
            }
            dialects.saw("direction words (Send:/Recv:, TX:/RX:, OUT/IN)");
            events.push(Event {
                line: line_no,
                dir,
                text: rest.to_string(),
                bare: false,
            });
            return;
        }
        let Some(&(_, dir, dialect, first_only)) = MARKERS.iter().find(|m| m.0 == word) else {
            continue;
        };
        if first_only && i > 0 {
            continue;
        }
        let rest = line[start + word.len()..].trim();
        // lettre joins a multi-line reply with `<CRLF>`.
        let parts: Vec<&str> = if (word == "<<" || word == ">>") && rest.contains("<CRLF>") {
            rest.split("<CRLF>").filter(|p| !p.is_empty()).collect()
        } else {
            vec![rest]
        };
        if dir == Dir::Server && !parts.first().is_some_and(|p| is_reply(p)) {
            return; // `S: ` followed by something that is no reply: not a dialogue line
        }
        dialects.saw(dialect);
        for p in parts {
            events.push(Event {
                line: line_no,
                dir,
                text: p.to_string(),
                bare: false,
            });
        }
        return;
    }
    let t = line.trim();
    if let Some(rest) = connect_note(t) {
        events.push(Event {
            line: line_no,
            dir: Dir::Note,
            text: rest,
            bare: true,
        });
        return;
    }
    // Raw lines (JavaMail prints the dialogue without markers).
    let raw = line.trim_end();
    if is_reply(raw) {
        events.push(Event {
            line: line_no,
            dir: Dir::Server,
            text: raw.to_string(),
            bare: true,
        });
    } else if (verb(raw).is_some() && raw.starts_with(|c: char| c.is_ascii_alphabetic()))
        || (raw.len() >= 4 && !raw.contains(' ') && raw.bytes().all(is_b64))
    {
        events.push(Event {
            line: line_no,
            dir: Dir::Client,
            text: raw.to_string(),
            bare: true,
        });
    }
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Whitespace-separated words with their byte offsets.
fn words(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split_ascii_whitespace()
        .map(move |w| (w.as_ptr() as usize - line.as_ptr() as usize, w))
}

/// `connecting to smtp.office365.com:587`, `trying to connect to host "x", port 587`.
fn connect_note(t: &str) -> Option<String> {
    let lower = t.to_ascii_lowercase();
    let at = lower
        .find("connecting to ")
        .or_else(|| lower.find("connect to "))?;
    let rest = &t[at..];
    (lower.contains(":587")
        || lower.contains(":25")
        || lower.contains(":465")
        || lower.contains("port"))
    .then(|| rest.chars().take(160).collect())
}

/// Python smtplib at debug level 1 or 2: `send: b'ehlo x\r\n'`, `reply: b'250-x\r\n'`.
fn smtplib(line: &str, line_no: u64) -> Option<Vec<Event>> {
    let (at, dir, skip) = if let Some(at) = line.find("send: ") {
        (at, Dir::Client, 6)
    } else if let Some(at) = line.find("reply: ") {
        (at, Dir::Server, 7)
    } else {
        return None;
    };
    let rest = &line[at + skip..];
    let rest = rest.strip_prefix('b').unwrap_or(rest);
    let quote = rest.chars().next().filter(|&c| c == '\'' || c == '"')?;
    let body = rest[1..].strip_suffix(quote).unwrap_or(&rest[1..]);
    let text = py_unescape(body);
    let evs: Vec<Event> = text
        .split("\r\n")
        .flat_map(|p| p.split('\n'))
        .filter(|p| !p.is_empty())
        .map(|p| Event {
            line: line_no,
            dir,
            text: p.to_string(),
            bare: false,
        })
        .collect();
    (!evs.is_empty()).then_some(evs)
}

fn py_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('x') => {
                let hex: String = it.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) => out.push(char::from(b)),
                    Err(_) => out.push('?'),
                }
            }
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

/// Cuts the events into sessions: a new banner (220 not answering STARTTLS), a 221 goodbye,
/// or a long gap ends one.
fn split_sessions(events: Vec<Event>) -> Vec<Vec<Event>> {
    let mut sessions: Vec<Vec<Event>> = Vec::new();
    let mut cur: Vec<Event> = Vec::new();
    let mut last_client: Option<String> = None;
    for e in events {
        let gap = cur.last().is_some_and(|l| e.line > l.line + MAX_GAP);
        let banner = e.dir == Dir::Server
            && e.text.starts_with("220")
            && !last_client
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("STARTTLS"))
            && cur.iter().any(|x| x.dir != Dir::Note);
        let after_quit = cur
            .last()
            .is_some_and(|l| l.dir == Dir::Server && l.text.starts_with("221"));
        if (gap || banner || after_quit) && !cur.is_empty() {
            sessions.push(std::mem::take(&mut cur));
            last_client = None;
        }
        if e.dir == Dir::Client {
            last_client = Some(e.text.trim().to_string());
        }
        cur.push(e);
    }
    if !cur.is_empty() {
        sessions.push(cur);
    }
    sessions
}

/// One reply, its continuation lines joined.
#[derive(Clone, Debug)]
struct Reply {
    code: u16,
    /// The enhanced status code of the last line, if any (`5.7.3`).
    enhanced: Option<String>,
    lines: Vec<String>,
    line: u64,
    /// The last line ends the reply (`250 ...`, not `250-...`): a log may cut a reply short.
    complete: bool,
}

impl Reply {
    fn last_text(&self) -> &str {
        self.lines.last().map_or("", String::as_str)
    }
    /// `535 5.7.3 Authentication unsuccessful`, shortened and redacted.
    fn short(&self) -> String {
        clean_reply(self.last_text())
    }
}

fn enhanced_of(text: &str) -> Option<String> {
    let rest = text.get(4..)?.trim_start();
    let code: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (code.matches('.').count() == 2 && code.starts_with(['2', '4', '5'])).then_some(code)
}

/// The steps of a session, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Banner,
    Ehlo,
    StartTls,
    Auth,
    Mail,
    Rcpt,
    Data,
    Content,
    Quit,
    Other,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Banner => "banner",
            Step::Ehlo => "EHLO",
            Step::StartTls => "STARTTLS",
            Step::Auth => "AUTH",
            Step::Mail => "MAIL FROM",
            Step::Rcpt => "RCPT TO",
            Step::Data | Step::Content => "DATA",
            Step::Quit => "QUIT",
            Step::Other => "command",
        }
    }
}

/// What the server said it supports in one EHLO reply.
#[derive(Clone, Debug, Default)]
struct Caps {
    starttls: bool,
    auth: Vec<String>,
    /// The whole reply is in the log (its last line is `250 ...`); only then does a missing
    /// keyword mean the server did not offer it.
    complete: bool,
}

impl Caps {
    fn parse(reply: &Reply) -> Caps {
        let mut c = Caps {
            complete: reply.complete,
            ..Caps::default()
        };
        for (i, l) in reply.lines.iter().enumerate() {
            let kw = l.get(4..).unwrap_or("").trim();
            let upper = kw.to_ascii_uppercase();
            // The first line greets (`mx Hello [ip]`), unless the log lost it and starts at a
            // keyword.
            if i == 0 && upper != "STARTTLS" && !upper.starts_with("AUTH") {
                continue;
            }
            if upper == "STARTTLS" {
                c.starttls = true;
            } else if let Some(mechs) = upper
                .strip_prefix("AUTH ")
                .or_else(|| upper.strip_prefix("AUTH="))
            {
                for m in mechs.split_whitespace() {
                    if !c.auth.iter().any(|x| x == m) {
                        c.auth.push(m.to_string());
                    }
                }
            }
        }
        c
    }
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.starttls {
            parts.push("STARTTLS".to_string());
        }
        if !self.auth.is_empty() {
            parts.push(format!("AUTH {}", self.auth.join(" ")));
        } else if self.complete {
            parts.push("no AUTH".to_string());
        }
        let mut d = parts.join(", ");
        if !self.complete {
            if !d.is_empty() {
                d.push_str("; ");
            }
            d.push_str("the reply is cut short in the log");
        }
        d
    }
}

/// The mechanism the client logged in with.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Mech {
    Login,
    Plain,
    Xoauth2,
    Other(String),
}

impl Mech {
    fn of(name: &str) -> Mech {
        match name.to_ascii_uppercase().as_str() {
            "LOGIN" => Mech::Login,
            "PLAIN" => Mech::Plain,
            "XOAUTH2" => Mech::Xoauth2,
            o => Mech::Other(o.chars().take(20).collect()),
        }
    }
    fn name(&self) -> &str {
        match self {
            Mech::Login => "LOGIN",
            Mech::Plain => "PLAIN",
            Mech::Xoauth2 => "XOAUTH2",
            Mech::Other(o) => o,
        }
    }
    fn basic(&self) -> bool {
        matches!(self, Mech::Login | Mech::Plain)
    }
}

/// What the session's XOAUTH2 blob held, judged.
struct BlobSeen {
    line: u64,
    user: Option<String>,
    faults: Vec<&'static str>,
    token: Option<TokenSeen>,
    /// The blob was there but no token in it, or it is no blob at all.
    problem: Option<String>,
}

struct TokenSeen {
    describe: String,
    findings: Vec<(&'static str, String)>,
    app_only: bool,
    judged_at: String,
}

/// Everything the dialogue says, built step by step.
struct State<'a> {
    times: &'a [(u64, i64)],
    now: i64,
    transcript: Vec<String>,
    dropped: usize,
    tls: bool,
    step: Step,
    ehlo_before: Option<Caps>,
    ehlo_after: Option<Caps>,
    ehlo_before_line: Option<u64>,
    offered_starttls_seen: bool,
    starttls_used: bool,
    starttls_failed: Option<Reply>,
    mech: Option<Mech>,
    auth_line: Option<u64>,
    auth_before_tls: bool,
    auth_ok: bool,
    login_user: Option<String>,
    login_prompt: Option<String>,
    /// A `334` challenge waits for the client's answer: only the next client line is one.
    awaiting_answer: bool,
    /// The log shows the session's start (a banner or EHLO/HELO), so what it lacks before AUTH
    /// (STARTTLS) was really not sent.
    start_seen: bool,
    blob: Option<BlobSeen>,
    challenge_error: Option<String>,
    failure: Option<(Step, Reply)>,
    mail_without_auth: bool,
    sent: bool,
    banner: Option<String>,
    connect: Option<String>,
    replies: usize,
    commands: usize,
}

fn analyse(
    events: &[Event],
    dialects: &Dialects,
    times: &[(u64, i64)],
    now: i64,
) -> Option<Artifact> {
    let marked = events.iter().any(|e| !e.bare && e.dir != Dir::Note);
    let has_server = events.iter().any(|e| e.dir == Dir::Server);
    let has_client = events
        .iter()
        .any(|e| e.dir == Dir::Client && verb(&e.text).is_some());
    // A session needs both sides; bare lines alone need a recognisable command too.
    if !has_server || !has_client {
        return None;
    }
    if !marked && !events.iter().any(|e| e.dir == Dir::Note) {
        let cmds = events
            .iter()
            .filter(|e| e.dir == Dir::Client && verb(&e.text).is_some())
            .count();
        if cmds < 2 {
            return None;
        }
    }
    let mut st = State {
        times,
        now,
        transcript: Vec::new(),
        dropped: 0,
        tls: false,
        step: Step::Banner,
        ehlo_before: None,
        ehlo_after: None,
        ehlo_before_line: None,
        offered_starttls_seen: false,
        starttls_used: false,
        starttls_failed: None,
        mech: None,
        auth_line: None,
        auth_before_tls: false,
        auth_ok: false,
        login_user: None,
        login_prompt: None,
        awaiting_answer: false,
        start_seen: false,
        blob: None,
        challenge_error: None,
        failure: None,
        mail_without_auth: false,
        sent: false,
        banner: None,
        connect: None,
        replies: 0,
        commands: 0,
    };
    let events = join_wrapped(events);
    let mut pending: Option<Reply> = None;
    for e in &events {
        match e.dir {
            Dir::Note => {
                if st.connect.is_none() && e.bare {
                    st.connect = Some(clean(&e.text));
                }
                if let Some(r) = pending.take() {
                    st.reply(r);
                }
                st.note(e);
            }
            Dir::Server => {
                let code: u16 = e.text.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
                let cont = e.text.as_bytes().get(3) == Some(&b'-');
                match &mut pending {
                    Some(p) if p.code == code => {
                        p.lines.push(e.text.clone());
                        p.line = e.line;
                    }
                    _ => {
                        if let Some(r) = pending.take() {
                            st.reply(r);
                        }
                        pending = Some(Reply {
                            code,
                            enhanced: None,
                            lines: vec![e.text.clone()],
                            line: e.line,
                            complete: false,
                        });
                    }
                }
                if !cont && let Some(mut r) = pending.take() {
                    r.complete = true;
                    r.enhanced = enhanced_of(r.last_text());
                    st.reply(r);
                }
            }
            Dir::Client => {
                if let Some(mut r) = pending.take() {
                    r.enhanced = enhanced_of(r.last_text());
                    st.reply(r);
                }
                st.command(e);
            }
        }
    }
    if let Some(mut r) = pending.take() {
        r.enhanced = enhanced_of(r.last_text());
        st.reply(r);
    }
    if st.replies == 0 || st.commands == 0 {
        return None;
    }
    Some(st.finish(&events, dialects))
}

/// A log that wraps long lines (at 76 columns, say) splits a base64 payload over several
/// lines, the later ones with no marker. Such a bare line of pure base64 right after a client
/// line that ends in a long base64 run without padding is the rest of that payload.
fn join_wrapped(events: &[Event]) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    // The input line the last kept event ends on (a joined payload keeps its first line).
    let mut ends_on = 0;
    for e in events {
        let t = e.text.trim();
        let pure = t.len() >= 4 && t.bytes().all(is_b64);
        if e.bare
            && e.dir == Dir::Client
            && pure
            && let Some(prev) = out.last_mut()
            && prev.dir == Dir::Client
            && e.line == ends_on + 1
            && ends_in_open_base64(&prev.text)
        {
            prev.text.push_str(t);
            ends_on = e.line;
            continue;
        }
        ends_on = e.line;
        out.push(e.clone());
    }
    out
}

/// Whether `text` ends in a base64 run long enough to have been cut by a line wrap (a whole
/// payload ends with its padding, or is short).
fn ends_in_open_base64(text: &str) -> bool {
    let t = text.trim_end();
    let run = t.bytes().rev().take_while(|&b| is_b64(b)).count();
    run >= 40 && !t.ends_with('=')
}

impl State<'_> {
    fn push(&mut self, line: String) {
        if self.transcript.len() < TRANSCRIPT_HEAD + TRANSCRIPT_TAIL {
            self.transcript.push(line);
        } else {
            // Keep the head and a rolling tail; what falls out is counted.
            self.transcript.remove(TRANSCRIPT_HEAD);
            self.transcript.push(line);
            self.dropped += 1;
        }
    }

    fn time_of(&self, line: u64) -> (i64, bool) {
        match self.times.binary_search_by_key(&line, |t| t.0) {
            Ok(i) => (self.times[i].1, true),
            Err(_) => (self.now, false),
        }
    }

    fn note(&mut self, e: &Event) {
        let t = clean(&e.text);
        let lower = t.to_ascii_lowercase();
        // JavaMail names the mechanism it tries and says when it failed.
        if let Some(m) = lower
            .strip_prefix("auth ")
            .and_then(|r| r.split_whitespace().next())
            .filter(|_| lower.contains("failed"))
            && self.mech.is_none()
        {
            self.mech = Some(Mech::of(m));
        }
        self.push(format!("# {}", mask_addresses(&t)));
    }

    fn command(&mut self, e: &Event) {
        self.commands += 1;
        let text = e.text.trim();
        if self.step == Step::Content {
            if text == "." {
                self.step = Step::Data;
                self.push("C: .".into());
            } else if !self
                .transcript
                .last()
                .is_some_and(|l| l.starts_with("C: (message content"))
            {
                self.push("C: (message content, not shown)".into());
            }
            return;
        }
        // The client line answering a 334 challenge is part of AUTH, whatever it looks like;
        // after it, a client line is a command again (`QUIT` after a refused password).
        if self.step == Step::Auth && self.awaiting_answer && !self.auth_ok {
            self.awaiting_answer = false;
            let shown = self.auth_payload(text, e.line);
            self.push(format!("C: {shown}"));
            return;
        }
        let Some(v) = verb(text) else {
            // A payload whose challenge the log left out.
            if self.step == Step::Auth && !self.auth_ok && self.login_prompt.is_none() {
                let shown = self.auth_payload(text, e.line);
                self.push(format!("C: {shown}"));
            } else {
                self.push(format!("C: {}", hide_base64(&clean(text))));
            }
            return;
        };
        match v {
            "EHLO" | "HELO" => {
                self.step = Step::Ehlo;
                self.start_seen = true;
            }
            "STARTTLS" => {
                self.step = Step::StartTls;
                self.starttls_used = true;
            }
            "AUTH" => {
                self.step = Step::Auth;
                self.auth_line = Some(e.line);
                let mut parts = text.split_whitespace().skip(1);
                let mech = Mech::of(parts.next().unwrap_or(""));
                if !self.tls {
                    self.auth_before_tls = true;
                }
                self.login_prompt = None;
                let initial = parts.next();
                let shown = match initial {
                    Some(ir) => {
                        let ir = ir.to_string();
                        self.mech = Some(mech.clone());
                        let d = self.auth_payload(&ir, e.line);
                        format!("AUTH {} {d}", mech.name())
                    }
                    None => format!("AUTH {}", mech.name()),
                };
                self.mech = Some(mech);
                self.push(format!("C: {shown}"));
                return;
            }
            "MAIL" => {
                self.step = Step::Mail;
                if self.auth_line.is_none() {
                    self.mail_without_auth = true;
                }
            }
            "RCPT" => self.step = Step::Rcpt,
            "DATA" | "BDAT" => self.step = Step::Data,
            "QUIT" => self.step = Step::Quit,
            _ => self.step = Step::Other,
        }
        self.push(format!("C: {}", mask_addresses(&clean(text))));
    }

    /// What a client sent as part of AUTH, as it may be shown.
    fn auth_payload(&mut self, text: &str, line: u64) -> String {
        let mech = self.mech.clone().unwrap_or(Mech::Other(String::new()));
        let t = text.trim();
        if t.is_empty() {
            return "(empty line)".into();
        }
        if t == "*" {
            return "* (cancels the AUTH exchange)".into();
        }
        match mech {
            Mech::Xoauth2 => self.read_blob(t, line),
            Mech::Login => {
                let prompt = self
                    .login_prompt
                    .clone()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let is_password = prompt.contains("pass");
                if is_password || (self.login_user.is_some() && !prompt.contains("user")) {
                    "<password, not shown>".into()
                } else {
                    match decode_text(t) {
                        Some(u) => {
                            let u = mask_address(u.trim());
                            self.login_user = Some(u.clone());
                            format!("<user {u}>")
                        }
                        None => "<base64 data, not shown>".into(),
                    }
                }
            }
            Mech::Plain => match LENIENT.decode(t.as_bytes()) {
                Ok(raw) => {
                    let parts: Vec<&[u8]> = raw.split(|&b| b == 0).collect();
                    let user = parts
                        .get(1)
                        .or(parts.first())
                        .map(|u| String::from_utf8_lossy(u).into_owned())
                        .filter(|u| !u.is_empty());
                    match user {
                        Some(u) => {
                            let u = mask_address(&u);
                            self.login_user = Some(u.clone());
                            format!("<PLAIN: user {u}, password not shown>")
                        }
                        None => "<PLAIN credentials, not shown>".into(),
                    }
                }
                Err(_) => "<data, not shown>".into(),
            },
            Mech::Other(_) => "<data, not shown>".into(),
        }
    }

    /// Reads an XOAUTH2 response and judges its token at the time of its line.
    fn read_blob(&mut self, text: &str, line: u64) -> String {
        match xoauth2::decode(text) {
            Err(why) => {
                // A log that already hid the blob (`<redacted 1.4 KB>`) says nothing about it.
                let absent = text.starts_with(['<', '[', '*']) || text.contains("redacted");
                self.blob = Some(BlobSeen {
                    line,
                    user: None,
                    faults: Vec::new(),
                    token: None,
                    problem: (!absent).then(|| why.describe().to_string()),
                });
                if absent {
                    "<XOAUTH2 blob, not in the log>".into()
                } else {
                    "<not an XOAUTH2 blob, not shown>".into()
                }
            }
            Ok(b) => {
                let user = b.user.as_deref().map(mask_address);
                let (at, stamped) = self.time_of(line);
                let token = b.token.as_deref().map(|tok| {
                    let j = judge_token(
                        tok,
                        line,
                        "xoauth2",
                        Some(Intended::Smtp),
                        b.user.as_deref(),
                        at,
                    );
                    let r = &j.report;
                    let describe = match &r.error {
                        Some(e) => format!("token that cannot be decoded ({e})"),
                        None => {
                            let mut d = format!(
                                "token for {}",
                                r.resource.as_deref().unwrap_or("no audience")
                            );
                            if r.app_only == Some(true) {
                                d.push_str(", app-only");
                            } else if r.app_only == Some(false) {
                                d.push_str(", delegated");
                            }
                            if !r.roles.is_empty() {
                                let _ = write!(d, ", roles {}", r.roles.join(" "));
                            }
                            if !r.scopes.is_empty() {
                                let _ = write!(d, ", scopes {}", r.scopes.join(" "));
                            }
                            if let Some(u) = &r.user {
                                let _ = write!(d, ", user {u}");
                            }
                            if let Some(exp) = r.expires_at {
                                let state = if exp < at { "expired" } else { "valid" };
                                let when = if stamped { "at the log time" } else { "now" };
                                let _ = write!(
                                    d,
                                    ", expires {} ({state} {when})",
                                    super::jwt::utc(exp)
                                );
                            }
                            d
                        }
                    };
                    TokenSeen {
                        describe,
                        findings: j.findings,
                        app_only: r.app_only == Some(true),
                        judged_at: if stamped {
                            format!("the log time ({})", super::jwt::utc(at))
                        } else {
                            "now (the line has no time stamp)".into()
                        },
                    }
                });
                let mut shown = String::from("<XOAUTH2 blob: ");
                match &user {
                    Some(u) => {
                        let _ = write!(shown, "user={u}");
                    }
                    None => shown.push_str("no user="),
                }
                match &token {
                    Some(t) => {
                        let _ = write!(shown, ", {}", t.describe);
                    }
                    None => shown.push_str(", no token"),
                }
                if let Some(f) = b.faults.first() {
                    let _ = write!(shown, "; format fault: {f}");
                }
                shown.push('>');
                let problem = token
                    .is_none()
                    .then(|| "the blob holds no token".to_string());
                self.blob = Some(BlobSeen {
                    line,
                    user,
                    faults: b.faults,
                    token,
                    problem,
                });
                shown
            }
        }
    }

    fn reply(&mut self, r: Reply) {
        self.replies += 1;
        self.awaiting_answer = r.code == 334;
        if r.code != 334 {
            // A final answer ends the AUTH exchange: what the client sends next is a command.
            self.login_prompt = None;
        }
        for (i, l) in r.lines.iter().enumerate() {
            let shown = if r.code == 334 && i == r.lines.len() - 1 {
                self.challenge(l)
            } else {
                mask_addresses(&clean_reply(l))
            };
            self.push(format!("S: {shown}"));
        }
        match (self.step, r.code) {
            (Step::Banner, 220) => {
                self.start_seen = true;
                self.banner = r
                    .last_text()
                    .get(4..)
                    .and_then(|t| t.split_whitespace().next().map(clean));
            }
            (Step::Ehlo, 250) => {
                let caps = Caps::parse(&r);
                if self.tls {
                    self.ehlo_after = Some(caps);
                } else {
                    self.offered_starttls_seen |= caps.starttls;
                    self.ehlo_before_line = Some(r.line);
                    self.ehlo_before = Some(caps);
                }
            }
            (Step::StartTls, 220) => self.tls = true,
            (Step::Auth, 334) => {
                let payload = r.last_text().get(4..).unwrap_or("").trim();
                let decoded = xoauth2::challenge(payload).unwrap_or_default();
                if decoded.starts_with("JSON {") {
                    self.challenge_error = Some(decoded.clone());
                }
                self.login_prompt = Some(decoded);
            }
            (Step::Auth, 235) => self.auth_ok = true,
            (Step::Data, 354) => self.step = Step::Content,
            (Step::Data, 250) => self.sent = true,
            _ => {}
        }
        if r.code >= 400 && self.failure.is_none() {
            let step = match self.step {
                Step::Banner if self.commands > 0 => infer_step(&r),
                Step::Other | Step::Quit => infer_step(&r),
                s => s,
            };
            if step == Step::StartTls {
                self.starttls_failed = Some(r.clone());
            }
            self.failure = Some((step, r));
        }
    }

    /// A `334` challenge as shown: its decoded text next to it.
    fn challenge(&self, line: &str) -> String {
        let payload = line.get(4..).unwrap_or("").trim();
        match xoauth2::challenge(payload) {
            Some(d) => format!("334 {} ({})", clean(payload), mask_addresses(&clean(&d))),
            None => clean(line),
        }
    }

    fn finish(self, events: &[Event], dialects: &Dialects) -> Artifact {
        let first_line = events.first().map_or(0, |e| e.line);
        let last_line = events.last().map_or(0, |e| e.line);
        let mut facts: Vec<(String, String)> = Vec::new();
        let mut fact = |k: &str, v: String| facts.push((k.to_string(), v));
        let used: Vec<&str> = dialects
            .names
            .iter()
            .copied()
            .filter(|n| *n != "Postfix")
            .collect();
        if !used.is_empty() {
            fact("logged as", used.join(", "));
        }
        if let Some(c) = &self.connect {
            fact("connection", c.clone());
        }
        if let Some(b) = &self.banner {
            fact("server", b.clone());
        }
        if let Some(c) = &self.ehlo_before {
            fact("EHLO before TLS", c.describe());
        }
        fact(
            "STARTTLS",
            match (&self.starttls_failed, self.starttls_used, self.tls) {
                (Some(r), _, _) => format!("refused: {}", r.short()),
                (None, _, true) => "used".into(),
                (None, true, false) => "sent, no answer in the log".into(),
                (None, false, _) if self.start_seen => "not used".into(),
                (None, false, _) => "not seen (the log starts mid-session)".into(),
            },
        );
        if let Some(c) = &self.ehlo_after {
            fact("EHLO after TLS", c.describe());
        }
        if let Some(m) = &self.mech {
            let kind = if m.basic() {
                "Basic: user name and password, which Exchange Online is retiring"
            } else if *m == Mech::Xoauth2 {
                "OAuth"
            } else {
                "other"
            };
            let when = if self.auth_before_tls && self.start_seen {
                ", before STARTTLS"
            } else {
                ""
            };
            fact("AUTH mechanism", format!("{} ({kind}){when}", m.name()));
        }
        if let Some(u) = &self.login_user {
            fact("login user", u.clone());
        }
        if let Some(b) = &self.blob {
            if let Some(u) = &b.user {
                fact("XOAUTH2 user", u.clone());
            }
            if !b.faults.is_empty() {
                fact("XOAUTH2 format", b.faults.join("; "));
            }
            if let Some(p) = &b.problem {
                fact("XOAUTH2 blob", p.clone());
            }
            if let Some(t) = &b.token {
                fact("XOAUTH2 token", t.describe.clone());
                fact("token judged at", t.judged_at.clone());
                for (_, s) in &t.findings {
                    fact("token problem", s.clone());
                }
            }
        }
        if let Some(c) = &self.challenge_error {
            fact("server challenge", mask_addresses(c));
        }
        let outcome = match (&self.failure, self.sent, self.auth_ok) {
            (Some((step, r)), _, _) => {
                fact("failed at", step.name().to_string());
                fact("reply", mask_addresses(&r.short()));
                format!("failed at {}", step.name())
            }
            (None, true, _) => "message accepted".to_string(),
            (None, false, true) => "authenticated, no failure in the log".to_string(),
            (None, false, false) => "no failure in the log".to_string(),
        };
        let hits = self.diagnose();
        let mut summary = outcome;
        if let Some((Step::Auth, _)) = &self.failure
            && let Some(m) = &self.mech
        {
            let _ = write!(summary, " ({})", m.name());
        }
        if self.failure.is_some() {
            let _ = write!(
                summary,
                "{}",
                if self.tls {
                    " after STARTTLS"
                } else if self.starttls_used {
                    " during STARTTLS"
                } else if self.start_seen {
                    " without STARTTLS"
                } else {
                    ""
                }
            );
            if let Some((_, r)) = &self.failure {
                let _ = write!(summary, ": {}", truncate(&mask_addresses(&r.short()), 100));
            }
        }
        let mut transcript = self.transcript;
        if self.dropped > 0 {
            transcript.insert(
                TRANSCRIPT_HEAD,
                format!("… {} line(s) of the dialogue left out …", self.dropped),
            );
        }
        Artifact {
            kind: ArtifactKind::SmtpSession,
            first_line,
            last_line,
            summary,
            facts,
            transcript,
            hits,
        }
    }

    /// The faults the whole sequence shows. Only a session that failed is diagnosed.
    fn diagnose(&self) -> Vec<ArtifactHit> {
        let mut hits = Vec::new();
        let Some((step, reply)) = &self.failure else {
            return hits;
        };
        let mut hit = |rule: &str, label: String, line: u64| {
            if hits.len() < HITS_CAP
                && !hits
                    .iter()
                    .any(|h: &ArtifactHit| h.rule == rule && h.line == line)
            {
                hits.push(ArtifactHit {
                    rule: rule.to_string(),
                    label,
                    line,
                });
            }
        };
        let enh = reply.enhanced.as_deref().unwrap_or("");
        let code = format!("{} {enh}", reply.code).trim().to_string();
        let lower = reply.last_text().to_ascii_lowercase();
        // TLS first: without it Exchange offers no AUTH, and nothing after can work.
        let saw_start = self.ehlo_before.is_some();
        let before_no_auth = self
            .ehlo_before
            .as_ref()
            .is_some_and(|c| c.complete && c.auth.is_empty());
        let says_starttls = lower.contains("starttls");
        let tls_missing = !self.tls && (saw_start && self.offered_starttls_seen || says_starttls);
        if tls_missing && matches!(step, Step::Auth | Step::Mail) {
            if self.auth_before_tls {
                let offered = self
                    .ehlo_before
                    .as_ref()
                    .map_or_else(|| "nothing in the log".into(), Caps::describe);
                hit(
                    "smtp-starttls-required",
                    format!(
                        "AUTH {} sent before STARTTLS (before TLS the server offered {offered}); refused with {code}",
                        self.mech.as_ref().map_or("", Mech::name)
                    ),
                    reply.line,
                );
            } else if !self.starttls_used && (before_no_auth || says_starttls) {
                hit(
                    "smtp-starttls-required",
                    format!(
                        "the client never sent STARTTLS, and the server offers AUTH only after TLS; refused with {code}"
                    ),
                    reply.line,
                );
            }
        }
        if *step == Step::Auth {
            let mech = self.mech.clone().unwrap_or(Mech::Other(String::new()));
            let offered = if self.tls {
                &self.ehlo_after
            } else {
                &self.ehlo_before
            };
            // Exchange Online's MX endpoint takes no AUTH at all: a device that logs in there
            // talks to the wrong host, whatever mechanism it tries.
            let on_mx = [
                self.connect.as_deref(),
                self.banner.as_deref(),
                Some(&lower),
            ]
            .into_iter()
            .flatten()
            .any(names_mx_endpoint);
            if reply.code == 504 && on_mx {
                hit(
                    "relay-auth-on-mx",
                    format!(
                        "AUTH {} sent to Exchange Online's MX endpoint, which offers no AUTH; refused with {code}",
                        mech.name()
                    ),
                    reply.line,
                );
            }
            // Only a whole EHLO reply shows what the server does not offer.
            if reply.code == 504
                && !on_mx
                && let Some(c) = offered
                && c.complete
                && !c.auth.iter().any(|m| m == mech.name())
                && !(self.auth_before_tls && self.offered_starttls_seen)
            {
                hit(
                    "smtp-auth-mechanism-unsupported",
                    format!(
                        "the client used AUTH {}; the server offered {}",
                        mech.name(),
                        c.describe()
                    ),
                    reply.line,
                );
            }
            if mech.basic() && reply.code >= 500 && reply.code != 504 {
                let specific_139 = enh == "5.7.139" && !lower.contains("basic authentication");
                if !specific_139 {
                    hit(
                        "smtp-basic-auth-disabled",
                        format!(
                            "AUTH {} is Basic authentication (user name and password), refused with {code}",
                            mech.name()
                        ),
                        reply.line,
                    );
                }
            }
            if mech == Mech::Xoauth2
                && let Some(b) = &self.blob
            {
                for f in &b.faults {
                    hit(
                        "smtp-xoauth2-malformed",
                        format!("XOAUTH2 blob: {f}"),
                        b.line,
                    );
                }
                if let Some(p) = &b.problem {
                    hit("smtp-xoauth2-malformed", format!("XOAUTH2: {p}"), b.line);
                }
                if let Some(t) = &b.token {
                    for (rule, s) in &t.findings {
                        hit(rule, format!("{code} after XOAUTH2: {s}"), reply.line);
                    }
                    if t.findings.is_empty() && b.faults.is_empty() && t.app_only && enh == "5.7.3"
                    {
                        hit(
                            "smtp-service-principal-missing",
                            format!(
                                "{code} after XOAUTH2 with a token that is right for SMTP: Exchange does not accept the app for this mailbox"
                            ),
                            reply.line,
                        );
                    }
                }
            }
        }
        if *step == Step::Mail
            && self.mail_without_auth
            && enh == "5.7.57"
            && self
                .ehlo_after
                .as_ref()
                .or(self.ehlo_before.as_ref())
                .is_some_and(|c| !c.auth.is_empty())
        {
            hit(
                "smtp-not-authenticated",
                format!(
                    "MAIL FROM sent without AUTH although the server offered it; refused with {code}"
                ),
                reply.line,
            );
        }
        hits
    }
}

/// Whether a host name or reply names Exchange Online's MX endpoint (or the EOP front end
/// answering for it), where devices send without AUTH.
fn names_mx_endpoint(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains(".mail.protection.outlook.com")
        || lower.contains(".mx.microsoft")
        || (lower.contains("eop-") && lower.contains(".prod.protection.outlook.com"))
}

/// The step a reply belongs to when the log shows no command before it.
fn infer_step(r: &Reply) -> Step {
    let lower = r.last_text().to_ascii_lowercase();
    match r.code {
        535 | 334 | 235 => Step::Auth,
        504 if lower.contains("auth") => Step::Auth,
        530 | 550 if lower.contains("5.7.57") => Step::Mail,
        _ if lower.contains("starttls") => Step::Auth,
        _ => Step::Other,
    }
}

/// Postfix's one-line account of a refused session.
fn postfix_line(line: &str, line_no: u64) -> Option<Artifact> {
    let at = line.find(" said: ")?;
    let said = line[at + 7..].trim();
    if !is_reply(said) {
        return None;
    }
    let (reply, cmd) = match said.rfind(" (in reply to ") {
        Some(i) => {
            let cmd = said[i + 14..]
                .trim_end_matches(')')
                .trim_end_matches(" command")
                .trim()
                .to_string();
            (&said[..i], Some(cmd))
        }
        None => (said.trim_end_matches(')'), None),
    };
    let server = line[..at]
        .rsplit(' ')
        .next()
        .filter(|s| s.contains('['))
        .map(clean);
    let lower = line.to_ascii_lowercase();
    let step = match cmd.as_deref().map(str::to_ascii_uppercase) {
        Some(c) if c.starts_with("AUTH") => Step::Auth,
        Some(c) if c.starts_with("MAIL") => Step::Mail,
        Some(c) if c.starts_with("RCPT") => Step::Rcpt,
        Some(c) if c.starts_with("DATA") || c.contains("END OF DATA") => Step::Data,
        Some(c) if c.starts_with("EHLO") || c.starts_with("HELO") => Step::Ehlo,
        Some(c) if c.starts_with("STARTTLS") => Step::StartTls,
        Some(_) => Step::Other,
        None if lower.contains("sasl authentication failed") => Step::Auth,
        None => Step::Other,
    };
    let reply = mask_addresses(&clean_reply(reply));
    let mut facts = vec![("logged as".to_string(), "Postfix".to_string())];
    if let Some(s) = &server {
        facts.push(("server".into(), s.clone()));
    }
    facts.push(("failed at".into(), step.name().to_string()));
    facts.push(("reply".into(), reply.clone()));
    Some(Artifact {
        kind: ArtifactKind::SmtpSession,
        first_line: line_no,
        last_line: line_no,
        summary: format!("failed at {}: {}", step.name(), truncate(&reply, 100)),
        facts,
        transcript: vec![format!("S: {reply}")],
        hits: Vec::new(),
    })
}

/// A server's reply as it may be shown. Replies hold no secrets, and the redactor would take
/// `AUTH LOGIN XOAUTH2` or `Basic authentication` for credentials; only a token-like text in
/// one (an echo of what the client sent) is redacted.
fn clean_reply(s: &str) -> String {
    if s.contains("eyJ") || s.contains("dXNlcj") {
        return clean(s);
    }
    let t: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate(t.trim(), LINE_MAX)
}

/// Text as it may be shown: secrets redacted, control characters dropped, length capped.
fn clean(s: &str) -> String {
    let red = redact(s);
    let t: String = red
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate(t.trim(), LINE_MAX)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

/// Base64 that decodes to text (an AUTH LOGIN user name).
fn decode_text(b64: &str) -> Option<String> {
    if !b64.bytes().all(is_b64) {
        return None;
    }
    let raw = LENIENT.decode(b64.as_bytes()).ok()?;
    let s = String::from_utf8(raw).ok()?;
    (!s.is_empty() && !s.chars().any(char::is_control)).then_some(s)
}

/// A client line that is a long run of base64 (a credential the log printed) is not shown.
fn hide_base64(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 12 && !t.contains(' ') && t.bytes().all(is_b64) {
        "<base64 data, not shown>".into()
    } else {
        s.to_string()
    }
}

/// Every e-mail address in `s` with its local part masked.
pub fn mask_addresses(s: &str) -> String {
    if !s.contains('@') {
        return s.to_string();
    }
    let local = |c: char| c.is_ascii_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = out.len();
            let mut n = 0;
            for (pos, c) in out.char_indices().rev() {
                if !local(c) {
                    break;
                }
                start = pos;
                n += 1;
            }
            let has_domain = chars.get(i + 1).is_some_and(|&c| domain(c));
            if n > 0 && has_domain {
                let first = out[start..].chars().next().unwrap_or('x');
                out.truncate(start);
                out.push(first);
                out.push_str("***");
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked() {
        assert_eq!(
            mask_addresses("MAIL FROM:<scanner@contoso.com> SIZE=1"),
            "MAIL FROM:<s***@contoso.com> SIZE=1"
        );
        assert_eq!(mask_addresses("no address @ all"), "no address @ all");
    }

    #[test]
    fn markers_and_raw_lines_are_read() {
        let text = "2025-03-14T08:00:00Z dev smtp[1]: S: 220 mx ready\nC: EHLO scanner\n250-mx Hello\n250 AUTH LOGIN\nsend: b'QUIT\\r\\n'\n";
        let mut ev = Vec::new();
        let mut pf = Vec::new();
        let mut d = Dialects::default();
        for (i, l) in text.lines().enumerate() {
            classify(l, i as u64 + 1, &mut ev, &mut pf, &mut d);
        }
        let dirs: Vec<Dir> = ev.iter().map(|e| e.dir).collect();
        assert_eq!(
            dirs,
            vec![
                Dir::Server,
                Dir::Client,
                Dir::Server,
                Dir::Server,
                Dir::Client
            ]
        );
        assert_eq!(ev[4].text, "QUIT");
    }

    #[test]
    fn swaks_error_markers_and_direction_words_are_read() {
        let text = "<** 550 5.7.54 no\n<~* 535 5.7.3 no\n2026 SMTP Send: EHLO x\n2026 SMTP RECV: 250 ok\nTX: AUTH LOGIN\nrx: 334 VXNlcm5hbWU6\nOUT EHLO y\nIN 250 ok\nReceived: from mx.contoso.com by x\nSent: Thursday, March 13\nlogged in 250 ms\n";
        let mut ev = Vec::new();
        let mut pf = Vec::new();
        let mut d = Dialects::default();
        for (i, l) in text.lines().enumerate() {
            classify(l, i as u64 + 1, &mut ev, &mut pf, &mut d);
        }
        let got: Vec<(Dir, &str)> = ev.iter().map(|e| (e.dir, e.text.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Dir::Server, "550 5.7.54 no"),
                (Dir::Server, "535 5.7.3 no"),
                (Dir::Client, "EHLO x"),
                (Dir::Server, "250 ok"),
                (Dir::Client, "AUTH LOGIN"),
                (Dir::Server, "334 VXNlcm5hbWU6"),
                (Dir::Client, "EHLO y"),
                (Dir::Server, "250 ok"),
            ]
        );
    }

    #[test]
    fn a_graph_access_log_arrow_is_not_a_dialogue() {
        let r = read(
            "2025-03-14 dev graph[1]: POST /v1.0/users/x/sendMail -> 404 {\"error\":{}}\n",
            1,
            0,
        );
        assert!(r.is_empty());
    }
}
