//! `xdiag`: a thin front end. It parses arguments, reads inputs, picks a renderer and maps the
//! outcome to an exit code; every check and every rule lives in `diag-core`.
mod cli;
mod cmd;
mod context;
mod progress;
mod run_checks;
mod secret_input;
mod target_opts;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let ctx = match context::Context::new(&cli) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        cli::Command::Explain(args) => cmd::explain::run(&ctx, args),
        cli::Command::Check(args) => cmd::check::run(&ctx, *args),
        cli::Command::Lab(args) => cmd::lab::run(&ctx, *args),
        cli::Command::Rules(args) => cmd::rules::run(&ctx, args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once: many errors already quote their cause.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
