//! `xdiag explain` (not built yet).
use crate::context::Context;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {}

pub fn print_rule(_ctx: &Context, _rule: &diag_core::rules::Rule, _out: &mut dyn std::io::Write) -> std::io::Result<()> {
    Ok(())
}

pub fn run(_ctx: &Context, _args: ExplainArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`xdiag explain` is not built yet")
}
