//! What every subcommand shares: the rule book in force, the output format and colour choice.
use std::io::IsTerminal;

use anyhow::Context as _;
use diag_core::rules::Rulebook;

use crate::cli::{Cli, ColorChoice, Format};

pub struct Context {
    pub rules: Rulebook,
    pub format: Format,
    /// Colour on stdout: `--color`, then NO_COLOR, then whether stdout is a terminal.
    pub color: bool,
}

impl Context {
    pub fn new(cli: &Cli) -> anyhow::Result<Context> {
        let rules = match &cli.rules_dir {
            None => Rulebook::embedded().clone(),
            Some(dir) => {
                let (book, warnings) = Rulebook::with_overlay(dir)
                    .with_context(|| format!("cannot read the rules folder {}", dir.display()))?;
                for w in warnings {
                    eprintln!("warning: local rule {} ignored: {}", w.file, w.message);
                }
                book
            }
        };
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Ok(Context {
            rules,
            format: cli.format,
            color,
        })
    }
}
