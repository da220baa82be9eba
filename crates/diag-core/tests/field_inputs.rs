//! Field inputs: realistic pastes a red-team tester wrote from device logs, panels, relays and
//! scripts (`tests/fixtures/field/`). Each input resolves to the rule its `expected.tsv` row names
//! (ranked first) or to nothing; a secret on the same line as a matched error never reaches any
//! output format; UTF-16 files as Windows PowerShell writes them are read as text.
use std::path::PathBuf;

use diag_core::explain::{self, ExplainOptions, ExplainReport, render};
use diag_core::rules::Rulebook;

/// A fixed "now" (2026-12-03 00:00:00 UTC): the test tokens are valid from 2026-01-01 to 2030,
/// except the ones meant to be expired.
const NOW: i64 = 1_796_256_000;

/// Inputs whose expectation stands but which need a reader this suite does not cover yet, with
/// the reason. Checked by `known_gaps_still_fail_for_the_stated_reason` so a fix is noticed.
const KNOWN_GAPS: &[(&str, &str)] = &[];

fn field() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/field")
}

mod explain_support;
use explain_support::matcher;

/// Explains a file's bytes as `xdiag explain --file` does: through the streaming reader.
fn explain_file(path: &PathBuf) -> ExplainReport {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut o = ExplainOptions::new(format!("file {}", path.display()));
    o.now = NOW;
    explain::explain_reader(Rulebook::embedded(), matcher(), &bytes[..], &o).expect("explain")
}

fn first(r: &ExplainReport) -> Option<&str> {
    r.findings.first().map(|f| f.rule.as_str())
}

/// (file, accepted first rules; empty = no finding, why) from `expected.tsv`.
fn expectations() -> Vec<(String, Vec<String>, String)> {
    let tsv = std::fs::read_to_string(field().join("expected.tsv")).expect("expected.tsv");
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let file = cols.next().unwrap_or_default().to_string();
            let want = cols.next().unwrap_or_default();
            let why = cols.next().unwrap_or_default().to_string();
            let want = if want == "(none)" {
                Vec::new()
            } else {
                want.split('|').map(str::to_string).collect()
            };
            (file, want, why)
        })
        .collect()
}

#[test]
fn every_field_input_resolves_to_its_expected_rule() {
    let rows = expectations();
    assert!(rows.len() >= 120, "{} rows", rows.len());
    let mut wrong = Vec::new();
    for (file, want, why) in &rows {
        if KNOWN_GAPS.iter().any(|(f, _)| f == file) {
            continue;
        }
        let r = explain_file(&field().join("inputs").join(file));
        let got = first(&r);
        let ok = match got {
            None => want.is_empty(),
            Some(g) => want.iter().any(|w| w == g),
        };
        if !ok {
            let all: Vec<String> = r
                .findings
                .iter()
                .take(4)
                .map(|f| format!("{} ({})", f.rule, f.score))
                .collect();
            wrong.push(format!("{file}: want {want:?} ({why}), got {all:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} field inputs resolve wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn known_gaps_still_fail_for_the_stated_reason() {
    for (file, reason) in KNOWN_GAPS {
        let r = explain_file(&field().join("inputs").join(file));
        let (_, want, _) = expectations()
            .into_iter()
            .find(|(f, _, _)| f == file)
            .expect("listed in expected.tsv");
        assert!(
            !want.iter().any(|w| Some(w.as_str()) == first(&r)),
            "{file} now resolves as expected ({reason}): remove it from KNOWN_GAPS"
        );
    }
}

/// Renders `r` in every format, as a technician would see it.
fn all_formats(r: &ExplainReport) -> Vec<(render::Format, String)> {
    [
        render::Format::Human,
        render::Format::Json,
        render::Format::Markdown,
    ]
    .into_iter()
    .map(|format| {
        let mut out = Vec::new();
        render::render(r, format, render::Style::default(), &mut out).expect("render");
        (format, String::from_utf8(out).expect("utf-8 output"))
    })
    .collect()
}

#[test]
fn a_secret_beside_a_matched_error_reaches_no_output_format() {
    // Pieces of the secrets in the leak files: none may appear, even in part.
    const SECRET_PARTS: &[&str] = &["Winter2026", "!secret", "Qx8Q~", "abcDEF1234567890"];
    let leaks = field().join("leaks");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&leaks)
        .expect("leaks dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.push(field().join("inputs/105-client-secret-in-input.txt"));
    files.sort();
    assert!(files.len() >= 7);
    for path in files {
        let r = explain_file(&path);
        assert!(
            !r.findings.is_empty(),
            "{}: the error next to the secret is still explained",
            path.display()
        );
        for (format, out) in all_formats(&r) {
            for part in SECRET_PARTS {
                assert!(
                    !out.contains(part),
                    "{} leaks {part:?} in {format:?}:\n{out}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn utf16_files_from_windows_powershell_are_read_as_text() {
    for name in ["utf16le-bom.txt", "utf16le-no-bom.txt", "utf16be-bom.txt"] {
        let r = explain_file(&field().join("encoding").join(name));
        assert_eq!(
            first(&r),
            Some("smtp-auth-disabled-for-tenant"),
            "{name}: {:?}",
            r.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
        );
        assert!(!r.input.binary, "{name} is not binary");
        assert_eq!(r.input.invalid_utf8_lines, 0, "{name}");
        let json = all_formats(&r).remove(1).1;
        assert!(
            json.contains("SmtpClientAuthentication is disabled for the Tenant"),
            "{name}: the excerpt is decoded text:\n{json}"
        );
    }
}
