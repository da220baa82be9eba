//! The three renderers over the same fixture reports (`tests/fixtures/reports/*.json`), with a
//! fixture rule book so that editing a real rule does not move these snapshots. Plus: the JSON is
//! decoded by an independent copy of the `xdiag.report/1` schema, and no renderer lets a
//! token-shaped string or an unmasked mailbox through.
use std::path::{Path, PathBuf};

use diag_core::{
    check::CheckId,
    finding::{Evidence, Finding, Status},
    render::{self, Format, Style, human},
    report::{Report, TargetSummary},
    rules::{RuleId, RuleSource, Rulebook, parse_rule},
};
use serde::Deserialize;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/reports")
}

/// The fixture files use the shape `Report` serialises to; this reads them back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureReport {
    xdiag_version: String,
    started_at: String,
    target: FixtureTarget,
    findings: Vec<FixtureFinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureTarget {
    tenant: String,
    mailbox: Option<String>,
    method: String,
    cloud: String,
    #[serde(default)]
    notes: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFinding {
    check: String,
    status: String,
    rule: Option<String>,
    summary: String,
    evidence: Vec<FixtureEvidence>,
    elapsed_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureEvidence {
    key: String,
    value: String,
}

fn load_report(path: &Path) -> Report {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let f: FixtureReport =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Report {
        xdiag_version: f.xdiag_version,
        started_at: f.started_at,
        target: TargetSummary {
            tenant: f.target.tenant,
            mailbox: f.target.mailbox,
            method: f.target.method,
            cloud: f.target.cloud,
            notes: f.target.notes,
        },
        findings: f
            .findings
            .into_iter()
            .map(|x| Finding {
                check: CheckId::parse(&x.check)
                    .unwrap_or_else(|| panic!("unknown check {}", x.check)),
                status: match x.status.as_str() {
                    "pass" => Status::Pass,
                    "warn" => Status::Warn,
                    "fail" => Status::Fail,
                    "skip" => Status::Skip,
                    "error" => Status::Error,
                    other => panic!("unknown status {other}"),
                },
                // Rule ids are `&'static str`; leaking a few fixture strings in a test is fine.
                rule: x.rule.map(|r| RuleId(Box::leak(r.into_boxed_str()))),
                summary: x.summary,
                evidence: x
                    .evidence
                    .into_iter()
                    .map(|e| Evidence::new(e.key, e.value))
                    .collect(),
                elapsed_ms: x.elapsed_ms,
            })
            .collect(),
    }
}

fn fixture_rules() -> Rulebook {
    let dir = fixtures().join("rules");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture rules")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    Rulebook::from_rules(paths.into_iter().map(|p| {
        let id = p
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_string();
        let text = std::fs::read_to_string(&p).expect("read fixture rule");
        parse_rule(&id, &text, RuleSource::Embedded).unwrap_or_else(|e| panic!("{id}: {e}"))
    }))
}

/// Every fixture report, by file stem, in name order.
fn each_fixture(mut f: impl FnMut(&str, &Path)) {
    let mut paths: Vec<_> = std::fs::read_dir(fixtures())
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 5,
        "expected the five fixture reports, found {}",
        paths.len()
    );
    for path in paths {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_string();
        f(&stem, &path);
    }
}

/// One snapshot per fixture: `render_<format>@<fixture>.snap`.
fn snapshot_each(format: Format) {
    let rules = fixture_rules();
    each_fixture(|stem, path| {
        let text = rendered(format, &load_report(path), &rules, &style());
        insta::with_settings!({ snapshot_suffix => stem, prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("render_{format:?}").to_lowercase(), text);
        });
    });
}

fn style() -> Style {
    Style {
        color: false,
        platform: "linux x86_64".to_string(),
    }
}

fn rendered(format: Format, report: &Report, rules: &Rulebook, style: &Style) -> String {
    let mut out = Vec::new();
    render::render(format, report, rules, style, &mut out).expect("render to a Vec");
    String::from_utf8(out).expect("utf-8 output")
}

#[test]
fn human() {
    snapshot_each(Format::Human);
}

#[test]
fn json() {
    snapshot_each(Format::Json);
}

#[test]
fn markdown() {
    snapshot_each(Format::Markdown);
}

#[test]
fn human_in_colour() {
    let report = load_report(&fixtures().join("token-fail.json"));
    let text = rendered(
        Format::Human,
        &report,
        &fixture_rules(),
        &Style {
            color: true,
            ..style()
        },
    );
    insta::assert_snapshot!(text.replace('\x1b', "<ESC>"));
}

/// The streamed lines are the lines of the full render, in the same order.
#[test]
fn streamed_lines_are_the_rendered_lines() {
    let report = load_report(&fixtures().join("skip-chain.json"));
    let full = rendered(Format::Human, &report, &fixture_rules(), &style());
    let streamed: Vec<String> = report
        .findings
        .iter()
        .map(|f| human::line(f, &style()))
        .collect();
    let block = streamed.join("\n");
    assert!(
        full.contains(&block),
        "full render:\n{full}\nstreamed:\n{block}"
    );
    assert!(streamed[0].starts_with("PASS   config"), "{}", streamed[0]);
    assert!(
        streamed[2].starts_with("FAIL   claims")
            && streamed[2].ends_with("[jwt-role-mail-send-missing]")
    );
}

#[test]
fn counts_line_and_next_step() {
    let report = load_report(&fixtures().join("token-fail.json"));
    let full = rendered(Format::Human, &report, &fixture_rules(), &style());
    assert!(
        full.contains("\n1 failed, 0 warnings, 1 passed, 3 skipped\n"),
        "{full}"
    );
    assert!(
        full.contains("  1. First fixture step for entra-invalid-client-secret."),
        "{full}"
    );
    assert!(
        full.trim_end()
            .ends_with("next: xdiag explain entra-invalid-client-secret"),
        "{full}"
    );
}

#[test]
fn nothing_token_shaped_or_unmasked_gets_out() {
    let rules = fixture_rules();
    for name in ["internal-error.json", "warn-only.json"] {
        let report = load_report(&fixtures().join(name));
        for format in [Format::Human, Format::Json, Format::Markdown] {
            let text = rendered(format, &report, &rules, &style());
            assert!(
                !text.contains("c2lnbmF0dXJl"),
                "{name} {format:?} shows a token signature:\n{text}"
            );
            assert!(
                !text.contains("eyJhbGciOiJSUzI1NiJ9."),
                "{name} {format:?} shows a token:\n{text}"
            );
            assert!(
                !text.contains("scanner@"),
                "{name} {format:?} shows the mailbox unmasked:\n{text}"
            );
        }
    }
}

#[test]
fn a_rule_missing_from_the_book_still_renders() {
    let report = load_report(&fixtures().join("token-fail.json"));
    let empty = Rulebook::from_rules([]);
    for format in [Format::Human, Format::Json, Format::Markdown] {
        let text = rendered(format, &report, &empty, &style());
        assert!(
            text.contains("entra-invalid-client-secret"),
            "{format:?}:\n{text}"
        );
    }
}

/// An independent copy of the `xdiag.report/1` schema (cli.md): if a field is renamed, dropped
/// or changes type, decoding fails. Unknown fields are refused too, so an extension is a
/// deliberate change to this copy.
#[allow(dead_code)] // every field is decoded to check the schema, not all are read
mod wire {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Report {
        pub schema: String,
        pub verdict: Verdict,
        pub xdiag: Xdiag,
        pub target: Target,
        pub summary: Summary,
        pub root_cause: Option<RootCause>,
        pub findings: Vec<Finding>,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "lowercase")]
    pub enum Verdict {
        Pass,
        Warn,
        Fail,
        Error,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Xdiag {
        pub version: String,
        pub started_at: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Target {
        pub tenant: String,
        pub mailbox: Option<String>,
        pub method: String,
        pub cloud: String,
        pub notes: Vec<KeyValue>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct KeyValue {
        pub key: String,
        pub value: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Summary {
        pub pass: u32,
        pub warn: u32,
        pub fail: u32,
        pub skip: u32,
        pub error: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RootCause {
        pub check: String,
        pub rule: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Finding {
        pub check: String,
        pub status: Status,
        pub rule: Option<String>,
        pub summary: String,
        pub evidence: Vec<KeyValue>,
        pub elapsed_ms: u64,
        pub fix_steps: Vec<String>,
        pub title: Option<String>,
        pub severity: Option<Severity>,
        pub references: Option<Vec<Reference>>,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "lowercase")]
    pub enum Status {
        Pass,
        Warn,
        Fail,
        Skip,
        Error,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "lowercase")]
    pub enum Severity {
        Info,
        Warn,
        Fail,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Reference {
        pub title: String,
        pub url: String,
    }
}

#[test]
fn json_decodes_with_an_independent_schema() {
    let rules = fixture_rules();
    each_fixture(|_, path| {
        let report = load_report(path);
        let text = rendered(Format::Json, &report, &rules, &style());
        let doc: wire::Report = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        assert_eq!(doc.schema, "xdiag.report/1");
        assert_eq!(doc.findings.len(), report.findings.len());
        let c = report.counts();
        assert_eq!(
            (
                doc.summary.pass,
                doc.summary.warn,
                doc.summary.fail,
                doc.summary.skip,
                doc.summary.error
            ),
            (
                c.pass as u32,
                c.warn as u32,
                c.fail as u32,
                c.skip as u32,
                c.error as u32
            )
        );
        for (wire, f) in doc.findings.iter().zip(&report.findings) {
            assert_eq!(wire.check, f.check.as_str());
            assert_eq!(wire.rule.as_deref(), f.rule.map(|r| r.as_str()));
            let in_book = f.rule.and_then(|r| rules.get(r.as_str()));
            assert_eq!(wire.title.is_some(), in_book.is_some());
            assert_eq!(
                wire.fix_steps.len(),
                in_book.map_or(0, |r| r.fix_steps.len())
            );
            if matches!(
                wire.status,
                wire::Status::Fail | wire::Status::Warn | wire::Status::Error
            ) {
                assert!(
                    wire.rule.is_some(),
                    "{} {:?} without a rule",
                    wire.check,
                    wire.status
                );
            }
        }
        let expected = match report.verdict() {
            diag_core::report::Verdict::Pass => wire::Verdict::Pass,
            diag_core::report::Verdict::Warn => wire::Verdict::Warn,
            diag_core::report::Verdict::Fail => wire::Verdict::Fail,
            diag_core::report::Verdict::Error => wire::Verdict::Error,
        };
        assert_eq!(doc.verdict, expected);
        let root = report.first_failure().map(|f| f.check.as_str().to_string());
        assert_eq!(doc.root_cause.map(|r| r.check), root);
        if let Some(m) = &doc.target.mailbox {
            assert!(m.contains("***@"), "mailbox not masked: {m}");
        }
    });
}
