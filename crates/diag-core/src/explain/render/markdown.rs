//! `explain --format markdown`: a note to paste into a help-desk ticket. Self-contained (the
//! rule text is in it) and redacted like everything else.
use std::io::{self, Write};

use super::{line_list, relative};
use crate::explain::report::{Artifact, ExplainReport, Finding, TokenReport};
use crate::rules::{Rule, RuleStatus};

pub fn render(r: &ExplainReport, out: &mut dyn Write) -> io::Result<()> {
    let headline = r
        .findings
        .first()
        .map_or("no rule matched", |f| f.title.as_str());
    writeln!(out, "## xdiag explain: {}", escape(headline))?;
    writeln!(out)?;
    writeln!(out, "| | |")?;
    writeln!(out, "|---|---|")?;
    match &r.lookup {
        Some(key) => writeln!(out, "| looked up | `{}` |", code(key))?,
        None => writeln!(
            out,
            "| input | {}, {} lines, {} bytes |",
            escape(&r.input.source),
            r.input.lines,
            r.input.bytes
        )?,
    }
    writeln!(out, "| findings | {} |", r.findings.len())?;
    if !r.tied.is_empty() {
        writeln!(
            out,
            "| ambiguous | the input fits {} rules equally: {} |",
            r.tied.len(),
            r.tied
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(out, "| xdiag | {} |", env!("CARGO_PKG_VERSION"))?;
    for (i, f) in r.findings.iter().enumerate() {
        writeln!(out)?;
        finding(i + 1, f, out)?;
    }
    if r.findings.is_empty() && !r.closest_ids.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Closest rule ids: {}",
            r.closest_ids
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    for a in &r.artifacts {
        writeln!(out)?;
        artifact(a, out)?;
    }
    for t in &r.tokens {
        writeln!(out)?;
        token(t, out)?;
    }
    if !r.evidence.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Evidence")?;
        writeln!(out)?;
        for e in &r.evidence {
            writeln!(
                out,
                "- {}: `{}` (line {})",
                escape(&e.key),
                code(&e.value),
                e.line
            )?;
        }
    }
    if !r.unrecognised.is_empty() || !r.notes.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Notes")?;
        writeln!(out)?;
        if !r.unrecognised.is_empty() {
            writeln!(
                out,
                "- not in the rule book: {}",
                r.unrecognised
                    .iter()
                    .map(|c| format!("`{}`", code(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        for n in &r.notes {
            writeln!(out, "- {}", escape(n))?;
        }
    }
    Ok(())
}

fn finding(n: usize, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### {n}. {} (`{}`, {})",
        escape(&f.title),
        f.rule,
        f.severity.as_str()
    )?;
    writeln!(out)?;
    if f.status == RuleStatus::Retired {
        writeln!(
            out,
            "> Retired: xdiag no longer emits this diagnosis; the text is kept so old logs still explain."
        )?;
        writeln!(out)?;
    }
    if f.line.is_some() {
        let matched: Vec<String> = f.matched.iter().map(|m| format!("`{}`", code(m))).collect();
        writeln!(
            out,
            "Matched {} on line(s) {}.",
            matched.join(", "),
            line_list(&f.lines, f.line_count, 10)
        )?;
        writeln!(out)?;
        let body: Vec<String> = f
            .samples
            .iter()
            .map(|s| format!("{:>6} | {}", s.line, s.excerpt))
            .collect();
        fenced(&body.join("\n"), out)?;
    }
    section("What you see", f.what_you_see.as_deref(), out)?;
    section("Cause", f.cause.as_deref(), out)?;
    steps(&f.fix_steps, out)?;
    section("Verify", f.verify.as_deref(), out)?;
    references(&f.references, out)
}

fn section(head: &str, body: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    if let Some(body) = body {
        writeln!(out, "**{head}**")?;
        writeln!(out)?;
        writeln!(out, "{body}")?;
        writeln!(out)?;
    }
    Ok(())
}

fn steps(fix: &[String], out: &mut dyn Write) -> io::Result<()> {
    if !fix.is_empty() {
        writeln!(out, "**Fix**")?;
        writeln!(out)?;
        for (i, s) in fix.iter().enumerate() {
            writeln!(out, "{}. {s}", i + 1)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn references(refs: &[crate::rules::Reference], out: &mut dyn Write) -> io::Result<()> {
    if !refs.is_empty() {
        writeln!(out, "**References**")?;
        writeln!(out)?;
        for r in refs {
            writeln!(out, "- [{}]({})", escape(&r.title), r.url)?;
        }
    }
    Ok(())
}

fn artifact(a: &Artifact, out: &mut dyn Write) -> io::Result<()> {
    let what = match a.kind.name() {
        "smtp-session" => "SMTP session",
        "bounce" => "Bounce message",
        "headers" => "Message headers",
        "sign-in-log" => "Sign-in log",
        other => other,
    };
    let span = if a.first_line == a.last_line {
        format!("line {}", a.first_line)
    } else {
        format!("lines {}–{}", a.first_line, a.last_line)
    };
    writeln!(out, "### {what} ({span})")?;
    writeln!(out)?;
    writeln!(out, "{}", escape(&a.summary))?;
    writeln!(out)?;
    if !a.facts.is_empty() {
        writeln!(out, "| | |")?;
        writeln!(out, "|---|---|")?;
        for (k, v) in &a.facts {
            writeln!(out, "| {} | {} |", escape(k), escape(v))?;
        }
        writeln!(out)?;
    }
    for h in &a.hits {
        writeln!(
            out,
            "- {} (`{}`, line {})",
            escape(&h.label),
            h.rule,
            h.line
        )?;
    }
    if !a.hits.is_empty() {
        writeln!(out)?;
    }
    if !a.transcript.is_empty() {
        writeln!(out, "Dialogue as rebuilt (redacted):")?;
        writeln!(out)?;
        fenced(&a.transcript.join("\n"), out)?;
    }
    Ok(())
}

fn token(t: &TokenReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### Access token (line {}, signature not verified)",
        t.line
    )?;
    writeln!(out)?;
    if let Some(e) = &t.error {
        writeln!(out, "Cannot be decoded: {}.", escape(e))?;
        return Ok(());
    }
    writeln!(out, "| claim | value |")?;
    writeln!(out, "|---|---|")?;
    let mut row = |k: &str, v: String| writeln!(out, "| {k} | {} |", escape(&v));
    row("resource", t.resource.clone().unwrap_or_default())?;
    row("audience", t.audience.clone().unwrap_or_default())?;
    row(
        "type",
        t.app_only.map_or(String::new(), |a| {
            if a {
                "app-only".into()
            } else {
                "delegated".into()
            }
        }),
    )?;
    row("roles", t.roles.join(", "))?;
    row("scopes", t.scopes.join(", "))?;
    row("tenant", t.tenant.clone().unwrap_or_default())?;
    row("app", t.app_id.clone().unwrap_or_default())?;
    if let Some(u) = &t.user {
        row("user", u.clone())?;
    }
    if let Some(u) = &t.xoauth2_user {
        row("XOAUTH2 user", u.clone())?;
    }
    if let (Some(exp), Some(left)) = (t.expires_at, t.expires_in) {
        row(
            "expires",
            format!(
                "{} ({})",
                crate::explain::readers::jwt::utc(exp),
                relative(left)
            ),
        )?;
    }
    row(
        "SMTP AUTH",
        if t.smtp.usable {
            "usable".into()
        } else {
            "not usable".into()
        },
    )?;
    row(
        "Graph sendMail",
        if t.graph.usable {
            "usable".into()
        } else {
            "not usable".into()
        },
    )?;
    writeln!(out)?;
    for p in t.smtp.problems.iter().chain(&t.graph.problems) {
        writeln!(out, "- {} (`{}`)", escape(&p.summary), p.rule)?;
    }
    Ok(())
}

/// Pasted text in a fence longer than any backtick run inside it, so it cannot break out.
fn fenced(body: &str, out: &mut dyn Write) -> io::Result<()> {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    writeln!(out, "{fence}text")?;
    writeln!(out, "{body}")?;
    writeln!(out, "{fence}")?;
    writeln!(out)
}

/// Inline code cannot hold a backtick; table cells cannot hold a pipe.
fn code(s: &str) -> String {
    s.replace('`', "'").replace('|', "\\|")
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `xdiag rules show --format markdown`: the rule as Markdown (without its TOML header).
pub fn render_rule(rule: &Rule, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# {}", rule.title)?;
    writeln!(out)?;
    writeln!(
        out,
        "`{}` · {} · {}",
        rule.id,
        rule.severity.as_str(),
        rule.area
    )?;
    if rule.status == RuleStatus::Retired {
        writeln!(out)?;
        writeln!(
            out,
            "> Retired: xdiag no longer emits this diagnosis; the text is kept so old logs still explain."
        )?;
    }
    for (h, body) in &rule.sections {
        writeln!(out)?;
        writeln!(out, "## {h}")?;
        writeln!(out, "{body}")?;
    }
    if !rule.references.is_empty() {
        writeln!(out)?;
        writeln!(out, "## References")?;
        for r in &rule.references {
            writeln!(out, "- [{}]({})", escape(&r.title), r.url)?;
        }
    }
    Ok(())
}
