//! The command line, declared with clap. Each subcommand's own arguments live in its `cmd/` file.
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;

/// Why a printer can no longer scan to email through Microsoft 365, and what to change.
#[derive(Debug, Parser)]
#[command(name = "xdiag", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 nothing failed / a rule matched; 1 a check failed / nothing matched; \
2 usage, configuration, bad input or internal error."
)]
pub struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Colour in human output (NO_COLOR is respected with `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// A folder of local rule files that replace or add to the built-in ones.
    #[arg(long, global = true, env = "XDIAG_RULES_DIR", value_name = "DIR")]
    pub rules_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain a rule id, an error code, or pasted text (a log, a JSON body, an SMTP transcript, a JWT).
    Explain(cmd::explain::ExplainArgs),
    /// Run the ordered live checks against a tenant.
    Check(Box<cmd::check::CheckArgs>),
    /// Run `check` against the built-in offline lab tenant.
    Lab(Box<cmd::lab::LabArgs>),
    /// The rule book: list, show, lint.
    Rules(cmd::rules::RulesArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
