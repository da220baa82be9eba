//! The whole explain path on arbitrary bytes: streaming in small pieces (so windows and line
//! cuts are exercised), then all three renderers.
#![no_main]
use std::sync::LazyLock;

use diag_core::explain::{self, ExplainOptions, Matcher, render};
use diag_core::rules::Rulebook;
use libfuzzer_sys::fuzz_target;

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| Matcher::compile(Rulebook::embedded()));

fuzz_target!(|data: &[u8]| {
    let mut opts = ExplainOptions::new("fuzz");
    opts.now = 1_741_939_200;
    opts.chunk = 8192;
    let report =
        explain::explain_reader(Rulebook::embedded(), &MATCHER, data, &opts).expect("memory read");
    for format in [
        render::Format::Human,
        render::Format::Json,
        render::Format::Markdown,
    ] {
        render::render(
            &report,
            format,
            render::Style { color: true },
            &mut std::io::sink(),
        )
        .expect("render");
    }
});
