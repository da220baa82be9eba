//! `xdiag lab` (not built yet).
use crate::context::Context;

#[derive(Debug, clap::Args)]
pub struct LabArgs {}

pub fn run(_ctx: &Context, _args: LabArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`xdiag lab` is not built yet")
}
