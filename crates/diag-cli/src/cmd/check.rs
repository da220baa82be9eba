//! `xdiag check` (not built yet).
use crate::context::Context;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn run(_ctx: &Context, _args: CheckArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`xdiag check` is not built yet")
}
