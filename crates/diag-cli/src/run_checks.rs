//! What `check` and `lab` share once the `Target` exists: run the pipeline, stream one human line
//! per finding as it arrives, print the final render, and map the report to the exit code.
//! With `--format json|markdown` stdout holds only the final document.
use std::{io::Write, sync::Arc};

use diag_core::{
    pipeline::{self, Event, PipelineOptions},
    render::{self, Style, human},
    target::Target,
};

use crate::{cli::Format, context::Context, progress::Progress};

pub async fn run_checks(
    ctx: &Context,
    target: &Target,
    notes: Vec<(String, String)>,
) -> anyhow::Result<u8> {
    // A bad `--only` for this method is a usage error, found before anything runs.
    pipeline::plan(target).map_err(|e| anyhow::anyhow!("--only {}: {e}", e.check()))?;

    let mut summary = pipeline::summarize(target);
    summary.notes.extend(notes);
    let style = Style::plain().with_color(ctx.color);
    let streaming = ctx.format == Format::Human;
    if streaming {
        let mut out = std::io::stdout().lock();
        human::write_header(env!("CARGO_PKG_VERSION"), &summary, &mut out)?;
        out.flush()?;
    }

    let mut progress = Progress::new();
    let line_style = style.clone();
    let mut observer = move |event: Event| match event {
        Event::Started(check) => progress.started(check),
        Event::Finished(finding) => {
            progress.clear();
            if streaming {
                let mut out = std::io::stdout().lock();
                // A closed stdout shows up again at the final write, which reports it.
                let _ = writeln!(out, "{}", human::line(&finding, &line_style));
                let _ = out.flush();
            }
            progress.finished(finding.check);
        }
        Event::DeviceCode(prompt) => progress.device_code(&prompt),
        _ => {}
    };
    let options = PipelineOptions {
        sequential: false,
        rulebook: Some(Arc::new(ctx.rules.clone())),
    };
    let mut report = pipeline::run_with(target, options, &mut observer).await;
    report.target = summary;

    let mut out = std::io::stdout().lock();
    match ctx.format {
        Format::Human => human::footer(&report, &ctx.rules, &style, &mut out)?,
        Format::Json => render::json::render(&report, &ctx.rules, &style, &mut out)?,
        Format::Markdown => render::markdown::render(&report, &ctx.rules, &style, &mut out)?,
    }
    out.flush()?;
    Ok(report.exit_code())
}

/// A multi-threaded runtime for the checks (and the lab's servers).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
