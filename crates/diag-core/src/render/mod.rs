//! One Report, three renderers. Each renderer is
//! `fn(&Report, &Rulebook, &Style, &mut dyn Write) -> io::Result<()>` and computes nothing: the
//! verdict, the counts and the root cause come from `Report`, every explanation from the rule book.
//!
//! - [`human`]: aligned `STATUS  check  summary  [rule]` lines, counts, the first failure's fix.
//! - [`json`]: the `xdiag.report/1` document (wire types and schema in that module).
//! - [`markdown`]: a ticket that is safe to paste into a help-desk system.
//!
//! Redaction: findings arrive already redacted by the checks, and a renderer never sees a
//! `Target` (so never a credential). As a second line of defence every renderer passes free text
//! through [`scrub`], which replaces anything shaped like a JWT, and masks the mailbox local part.
use std::io::{self, Write};

use crate::{report::Report, rules::Rulebook};

pub mod human;
pub mod json;
pub mod markdown;

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

/// How to draw, not what to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Style {
    /// ANSI colour on the status words (a decoration only: the words are always there).
    pub color: bool,
    /// The platform named in the Markdown ticket (`linux x86_64`); fixed in snapshot tests.
    pub platform: String,
}

impl Style {
    /// No colour, this machine's platform.
    pub fn plain() -> Style {
        Style {
            color: false,
            platform: this_platform(),
        }
    }

    pub fn with_color(mut self, color: bool) -> Style {
        self.color = color;
        self
    }
}

impl Default for Style {
    fn default() -> Style {
        Style::plain()
    }
}

fn this_platform() -> String {
    format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)
}

/// Renders the whole report in `format`.
pub fn render(
    format: Format,
    report: &Report,
    rules: &Rulebook,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, rules, style, out),
        Format::Json => json::render(report, rules, style, out),
        Format::Markdown => markdown::render(report, rules, style, out),
    }
}

/// Replaces every JWT-shaped run in `text` with `[token redacted]`. Checks redact their own
/// evidence; this only makes sure a slip there never reaches a ticket.
pub fn scrub(text: &str) -> String {
    let found = crate::jwt::find_tokens(text);
    if found.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for range in found {
        out.push_str(&text[last..range.start]);
        out.push_str("[token redacted]");
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// The target's mailbox as shown: masked even if the summary came in unmasked.
pub(crate) fn shown_mailbox(address: &str) -> String {
    if address.contains("***@") {
        address.to_string()
    } else {
        crate::secret::mask_mailbox(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_drops_tokens_and_keeps_the_rest() {
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
        let text = format!("Bearer {token} and more");
        assert_eq!(scrub(&text), "Bearer [token redacted] and more");
        assert_eq!(
            scrub("535 5.7.3 Authentication unsuccessful"),
            "535 5.7.3 Authentication unsuccessful"
        );
    }

    #[test]
    fn mailbox_is_masked_once() {
        assert_eq!(shown_mailbox("scanner@contoso.com"), "s***@contoso.com");
        assert_eq!(shown_mailbox("s***@contoso.com"), "s***@contoso.com");
    }
}
