//! Reads one rule file: a fenced ```toml header, then Markdown with `# Title` and `## ` sections.
use serde::Deserialize;

use super::{Reference, Rule, RuleSource, RuleStatus, Severity};

/// Why a rule file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the file does not start with a ```toml fenced header")]
    NoHeader,
    #[error("the ```toml header is not closed by a ``` line")]
    UnclosedHeader,
    #[error("TOML header: {0}")]
    Toml(String),
    #[error("no `# Title` line after the header")]
    NoTitle,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    severity: Severity,
    area: String,
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    status: RuleStatus,
    #[serde(default)]
    rank: i32,
    #[serde(default, rename = "match")]
    matcher: MatchHeader,
    #[serde(default, rename = "example")]
    examples: Vec<TextItem>,
    #[serde(default, rename = "counter_example")]
    counter_examples: Vec<TextItem>,
    #[serde(default, rename = "reference")]
    references: Vec<Reference>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchHeader {
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextItem {
    text: String,
}

/// Parses the text of `rules/<id>.md`. The id comes from the file name, never from the text.
pub fn parse_rule(id: &str, text: &str, source: RuleSource) -> Result<Rule, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .trim_start()
        .strip_prefix("```toml")
        .ok_or(ParseError::NoHeader)?;
    let end = rest.find("\n```").ok_or(ParseError::UnclosedHeader)?;
    let header: Header =
        toml::from_str(&rest[..end]).map_err(|e| ParseError::Toml(e.message().to_string()))?;
    let body = rest[end + 4..]
        .trim_start_matches(|c| c != '\n')
        .trim_start();

    let mut title = None;
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            sections.push((h.trim().to_string(), String::new()));
        } else if let Some(h) = line
            .strip_prefix("# ")
            .filter(|_| title.is_none() && sections.is_empty())
        {
            title = Some(h.trim().to_string());
        } else if let Some((_, text)) = sections.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    for (_, text) in &mut sections {
        *text = text.trim().to_string();
    }
    let title = title.ok_or(ParseError::NoTitle)?;
    let fix_steps = sections
        .iter()
        .find(|(h, _)| h == "Fix")
        .map(|(_, t)| ordered_list_items(t))
        .unwrap_or_default();

    Ok(Rule {
        id: id.to_string(),
        title,
        severity: header.severity,
        area: header.area,
        checks: header.checks,
        aliases: header.aliases,
        status: header.status,
        rank: header.rank,
        codes: header.matcher.codes,
        patterns: header.matcher.patterns,
        examples: header.examples.into_iter().map(|e| e.text).collect(),
        counter_examples: header
            .counter_examples
            .into_iter()
            .map(|e| e.text)
            .collect(),
        references: header.references,
        sections,
        fix_steps,
        source,
    })
}

/// The items of the first ordered list in a section (`1. ...`), continuation lines joined.
fn ordered_list_items(section: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut in_list = false;
    for line in section.lines() {
        let trimmed = line.trim_start();
        let number_end = trimmed
            .find(". ")
            .filter(|&i| i > 0 && trimmed[..i].bytes().all(|b| b.is_ascii_digit()));
        if let Some(i) = number_end.filter(|_| line.len() == trimmed.len()) {
            items.push(trimmed[i + 2..].trim().to_string());
            in_list = true;
        } else if in_list && !trimmed.is_empty() && line.starts_with(' ') {
            if let Some(last) = items.last_mut() {
                // A nested bullet stays a bullet on its own line (indented to sit under the
                // step in Markdown); any other continuation line joins the step's sentence.
                if let Some(sub) = trimmed.strip_prefix("- ").or(trimmed.strip_prefix("* ")) {
                    last.push_str("\n   - ");
                    last.push_str(sub.trim());
                } else {
                    last.push(' ');
                    last.push_str(trimmed);
                }
            }
        } else if in_list && !trimmed.is_empty() {
            break;
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "```toml\nseverity = \"fail\"\narea = \"smtp\"\n[match]\ncodes = [\"5.7.139\"]\n[[reference]]\ntitle = \"t\"\nurl = \"https://x\"\n```\n\n# A title\n\n## What you see\nA.\n\n## Fix\n1. First\n   more.\n2. Second\n\nAfter.\n";

    #[test]
    fn parses_header_title_sections_and_fix_steps() {
        let r = parse_rule("x", SAMPLE, RuleSource::Embedded).expect("sample parses");
        assert_eq!(r.title, "A title");
        assert_eq!(r.codes, vec!["5.7.139"]);
        assert_eq!(r.sections.len(), 2);
        assert_eq!(r.fix_steps, vec!["First more.", "Second"]);
    }

    #[test]
    fn nested_bullets_in_a_fix_step_stay_bullets() {
        let text = SAMPLE.replace(
            "1. First\n   more.\n",
            "1. Pick one:\n   - app-only: A;\n   - delegated: B.\n",
        );
        let r = parse_rule("x", &text, RuleSource::Embedded).expect("parses");
        assert_eq!(
            r.fix_steps,
            vec!["Pick one:\n   - app-only: A;\n   - delegated: B.", "Second"]
        );
    }

    #[test]
    fn rejects_unknown_keys_and_missing_header() {
        let bad = SAMPLE.replace("area = \"smtp\"", "area = \"smtp\"\ncolour = 1");
        assert!(matches!(
            parse_rule("x", &bad, RuleSource::Embedded),
            Err(ParseError::Toml(_))
        ));
        assert_eq!(
            parse_rule("x", "# t", RuleSource::Embedded).err(),
            Some(ParseError::NoHeader)
        );
        assert_eq!(
            parse_rule("x", "```toml\nseverity=1", RuleSource::Embedded).err(),
            Some(ParseError::UnclosedHeader)
        );
    }
}
