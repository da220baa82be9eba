//! `xdiag rules list|show|lint`: the rule book itself.
use std::{io::Write, path::PathBuf};

use clap::Subcommand;

use crate::{cli::Format, context::Context};

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: RulesAction,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// One line per rule: id, severity, title.
    List,
    /// Show one rule by id or alias.
    Show { id: String },
    /// Parse and lint every rule file in a folder.
    Lint { dir: PathBuf },
}

pub fn run(ctx: &Context, args: RulesArgs) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    match args.action {
        RulesAction::List => {
            if ctx.format == Format::Json {
                let list: Vec<_> = ctx
                    .rules
                    .iter()
                    .map(|r| serde_json::json!({"id": r.id, "title": r.title, "severity": r.severity, "area": r.area, "source": r.source.to_string()}))
                    .collect();
                serde_json::to_writer_pretty(&mut out, &list)?;
                writeln!(out)?;
            } else {
                for r in ctx.rules.iter() {
                    writeln!(out, "{:<40} {:<5} {}", r.id, r.severity.as_str(), r.title)?;
                }
            }
            Ok(0)
        }
        RulesAction::Show { id } => match ctx.rules.lookup(&id) {
            Some(rule) => {
                crate::cmd::explain::print_rule(ctx, rule, &mut out)?;
                Ok(0)
            }
            None => {
                eprintln!("error: no rule with id or code {id:?}");
                let near = ctx.rules.closest_ids(&id, 3);
                if !near.is_empty() {
                    eprintln!("closest ids: {}", near.join(", "));
                }
                Ok(2)
            }
        },
        RulesAction::Lint { dir } => {
            let (count, problems) = diag_core::rules::lint_dir(&dir)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
            for p in &problems {
                writeln!(out, "{p}")?;
            }
            writeln!(out, "{count} rule files, {} problems", problems.len())?;
            Ok(if problems.is_empty() { 0 } else { 1 })
        }
    }
}
