//! Human output: the best finding in full (title, what you see, cause, fix steps, references),
//! then "also matched:" lines, the token sections, evidence and notes. Status words come first
//! so the text reads the same without colour; colour only decorates.
use std::io::{self, Write};

use super::{Style, line_list, relative};
use crate::explain::report::{Artifact, ExplainReport, Finding, TokenReport, Usability};
use crate::rules::{Rule, RuleStatus, Severity};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const GREEN: &str = "\x1b[32m";

struct Paint(bool);

impl Paint {
    fn p(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
    fn severity(&self, s: Severity) -> String {
        let (word, code) = match s {
            Severity::Fail => ("FAIL", RED),
            Severity::Warn => ("WARN", YELLOW),
            Severity::Info => ("INFO", CYAN),
        };
        self.p(&format!("{BOLD}{code}"), word)
    }
}

const RETIRED_BANNER: &str =
    "RETIRED: xdiag no longer emits this diagnosis; the text is kept so old logs still explain";

pub fn render(r: &ExplainReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint(style.color);
    match r.findings.split_first() {
        Some((best, rest)) => {
            if !r.tied.is_empty() {
                // Said first: the full text below is one of several readings, not the answer.
                writeln!(
                    out,
                    "{} the input fits {} rules equally: {}",
                    paint.p(&format!("{BOLD}{YELLOW}"), "AMBIGUOUS"),
                    r.tied.len(),
                    r.tied.join(", ")
                )?;
                writeln!(
                    out,
                    "  the text after the code tells them apart; paste the whole reply line\n"
                )?;
            }
            best_finding(best, r.lookup.as_deref(), &paint, out)?;
            if !rest.is_empty() {
                writeln!(out)?;
                writeln!(out, "{}", paint.p(BOLD, "also matched:"))?;
                let width = rest.iter().map(|f| f.rule.len()).max().unwrap_or(0);
                for f in rest {
                    let at = f.line.map(|l| format!("line {l}")).unwrap_or_default();
                    writeln!(
                        out,
                        "  {}  {:<width$}  {}  {}",
                        paint.severity(f.severity),
                        f.rule,
                        paint.p(DIM, &at),
                        f.matched.join(", ")
                    )?;
                    if let Some(e) = &f.excerpt {
                        writeln!(out, "        {}", paint.p(DIM, e))?;
                    }
                }
            }
        }
        None => {
            writeln!(out, "{}", paint.p(BOLD, "no rule matched"))?;
            if !r.closest_ids.is_empty() {
                writeln!(out, "  closest ids: {}", r.closest_ids.join(", "))?;
            }
        }
    }
    for a in &r.artifacts {
        writeln!(out)?;
        artifact(a, &paint, out)?;
    }
    for t in &r.tokens {
        writeln!(out)?;
        token(t, &paint, out)?;
    }
    if !r.evidence.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.p(BOLD, "evidence:"))?;
        for e in &r.evidence {
            writeln!(
                out,
                "  {}: {}  {}",
                e.key,
                e.value,
                paint.p(DIM, &format!("(line {})", e.line))
            )?;
        }
    }
    if !r.unrecognised.is_empty() {
        writeln!(out)?;
        writeln!(out, "not in the rule book: {}", r.unrecognised.join(", "))?;
    }
    for n in &r.notes {
        writeln!(out, "{} {n}", paint.p(YELLOW, "note:"))?;
    }
    Ok(())
}

fn best_finding(
    f: &Finding,
    lookup: Option<&str>,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "{}  {}",
        paint.severity(f.severity),
        paint.p(BOLD, &f.title)
    )?;
    let mut about = format!("{} · {}", f.rule, f.area);
    if f.source != "embedded" {
        about.push_str(&format!(" · {}", f.source));
    }
    writeln!(out, "      {}", paint.p(DIM, &about))?;
    if f.status == RuleStatus::Retired {
        writeln!(out, "      {}", paint.p(YELLOW, RETIRED_BANNER))?;
    }
    match (lookup, f.line) {
        (Some(key), _) => writeln!(out, "      looked up: {key}")?,
        (None, Some(_)) => {
            writeln!(out, "      matched: {}", f.matched.join(", "))?;
            writeln!(
                out,
                "      lines: {}",
                line_list(&f.lines, f.line_count, 10)
            )?;
            for s in &f.samples {
                writeln!(
                    out,
                    "      {} {}",
                    paint.p(DIM, &format!("{:>6} |", s.line)),
                    s.excerpt
                )?;
            }
        }
        (None, None) => {}
    }
    sections(
        f.what_you_see.as_deref(),
        f.cause.as_deref(),
        &f.fix_steps,
        f.verify.as_deref(),
        f.notes.as_deref(),
        paint,
        out,
    )?;
    if !f.references.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.p(BOLD, "References"))?;
        for r in &f.references {
            writeln!(out, "  - {}\n    {}", r.title, paint.p(CYAN, &r.url))?;
        }
    }
    Ok(())
}

fn sections(
    see: Option<&str>,
    cause: Option<&str>,
    fix: &[String],
    verify: Option<&str>,
    notes: Option<&str>,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let block = |out: &mut dyn Write, head: &str, body: Option<&str>| -> io::Result<()> {
        if let Some(body) = body {
            writeln!(out)?;
            writeln!(out, "{}", paint.p(BOLD, head))?;
            for l in body.lines() {
                writeln!(out, "  {l}")?;
            }
        }
        Ok(())
    };
    block(out, "What you see", see)?;
    block(out, "Cause", cause)?;
    if !fix.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.p(BOLD, "Fix"))?;
        for (i, step) in fix.iter().enumerate() {
            writeln!(out, "  {}. {step}", i + 1)?;
        }
    }
    block(out, "Verify", verify)?;
    block(out, "Notes", notes)
}

/// Lines of a rebuilt dialogue shown in the terminal; the JSON and Markdown hold more.
const TRANSCRIPT_SHOWN: usize = 40;

fn artifact(a: &Artifact, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let span = if a.first_line == a.last_line {
        format!("line {}", a.first_line)
    } else {
        format!("lines {}-{}", a.first_line, a.last_line)
    };
    writeln!(
        out,
        "{} {}",
        paint.p(BOLD, &format!("{} ({span}):", a.kind.name())),
        a.summary
    )?;
    let width = a.facts.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &a.facts {
        writeln!(out, "  {k:<width$}  {v}")?;
    }
    for h in &a.hits {
        writeln!(
            out,
            "  {} {} ({}, line {})",
            paint.p(RED, "fault:"),
            h.label,
            h.rule,
            h.line
        )?;
    }
    if !a.transcript.is_empty() {
        writeln!(out, "  {}", paint.p(DIM, "dialogue (redacted):"))?;
        for l in a.transcript.iter().take(TRANSCRIPT_SHOWN) {
            writeln!(out, "    {}", paint.p(DIM, l))?;
        }
        if a.transcript.len() > TRANSCRIPT_SHOWN {
            writeln!(
                out,
                "    {}",
                paint.p(
                    DIM,
                    &format!(
                        "… {} more line(s): see --format markdown or json",
                        a.transcript.len() - TRANSCRIPT_SHOWN
                    )
                )
            )?;
        }
    }
    Ok(())
}

fn token(t: &TokenReport, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let what = if t.found_in == "xoauth2" {
        "access token inside an XOAUTH2 blob"
    } else {
        "access token (JWT)"
    };
    writeln!(
        out,
        "{} {}",
        paint.p(BOLD, &format!("{what}, line {}:", t.line)),
        paint.p(DIM, "decoded, signature NOT verified")
    )?;
    if let Some(e) = &t.error {
        writeln!(out, "  cannot be decoded: {e}")?;
        return Ok(());
    }
    let row = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "  {k:<10} {v}");
    let resource = match (&t.resource, &t.audience) {
        (Some(r), Some(a)) if r != a => format!("{r} ({a})"),
        (Some(r), _) => r.clone(),
        _ => "no audience".into(),
    };
    row(out, "for", &resource)?;
    if let Some(app_only) = t.app_only {
        row(
            out,
            "type",
            if app_only {
                "app-only (client credentials)"
            } else {
                "delegated (a user signed in)"
            },
        )?;
    }
    if !t.roles.is_empty() || t.app_only == Some(true) {
        row(out, "roles", &none_if_empty(&t.roles))?;
    }
    if !t.scopes.is_empty() || t.app_only == Some(false) {
        row(out, "scopes", &none_if_empty(&t.scopes))?;
    }
    if let Some(u) = &t.user {
        row(out, "user", u)?;
    }
    if let Some(u) = &t.xoauth2_user {
        row(out, "xoauth2", &format!("user={u}"))?;
    }
    if let Some(tid) = &t.tenant {
        row(out, "tenant", tid)?;
    }
    if let Some(app) = &t.app_id {
        let name = t
            .app_name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        row(out, "app", &format!("{app}{name}"))?;
    }
    if let (Some(exp), Some(left)) = (t.expires_at, t.expires_in) {
        let when = crate::explain::readers::jwt::utc(exp);
        let rel = relative(left);
        let text = if left < 0 {
            paint.p(RED, &format!("expired {rel}"))
        } else {
            format!("expires {rel}")
        };
        row(out, "expiry", &format!("{when}, {text}"))?;
    }
    if let Some(u) = &t.used_for {
        row(out, "used for", u)?;
    }
    usable(out, "SMTP AUTH (XOAUTH2)", &t.smtp, paint)?;
    usable(out, "Graph sendMail", &t.graph, paint)
}

fn usable(out: &mut dyn Write, what: &str, u: &Usability, paint: &Paint) -> io::Result<()> {
    if u.usable {
        writeln!(out, "  {:<20} {}", what, paint.p(GREEN, "usable"))
    } else {
        writeln!(out, "  {:<20} {}", what, paint.p(RED, "NOT usable"))?;
        for p in &u.problems {
            writeln!(out, "  {:<20}   - {} ({})", "", p.summary, p.rule)?;
        }
        Ok(())
    }
}

fn none_if_empty(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

/// `xdiag rules show`: one rule in full.
pub fn render_rule(rule: &Rule, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint(style.color);
    writeln!(
        out,
        "{}  {}",
        paint.severity(rule.severity),
        paint.p(BOLD, &rule.title)
    )?;
    writeln!(
        out,
        "      {}",
        paint.p(
            DIM,
            &format!("{} · {} · {}", rule.id, rule.area, rule.source)
        )
    )?;
    if rule.status == RuleStatus::Retired {
        writeln!(out, "      {}", paint.p(YELLOW, RETIRED_BANNER))?;
    }
    if !rule.aliases.is_empty() {
        writeln!(out, "      aliases: {}", rule.aliases.join(", "))?;
    }
    if !rule.checks.is_empty() {
        writeln!(out, "      emitted by: {}", rule.checks.join(", "))?;
    }
    sections(
        rule.section("What you see"),
        rule.section("Cause"),
        &rule.fix_steps,
        rule.section("Verify"),
        rule.section("Notes"),
        &paint,
        out,
    )?;
    if !rule.references.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.p(BOLD, "References"))?;
        for r in &rule.references {
            writeln!(out, "  - {}\n    {}", r.title, paint.p(CYAN, &r.url))?;
        }
    }
    Ok(())
}
