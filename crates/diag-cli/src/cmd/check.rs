//! `xdiag check`: the ordered live checks against a real tenant. Inputs come from flags, a
//! `--config` profile and the environment; the secret from `--client-secret-env`,
//! `--client-secret-file`, a hidden prompt, or (with a warning) `--client-secret`.
use crate::{
    context::Context,
    run_checks::{run_checks, runtime},
    target_opts::{Inputs, TargetOptions, build_target, endpoint_note},
};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no check failed (warnings allowed); 1 at least one check failed; \
2 usage, configuration or internal error."
)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: TargetOptions,
}

pub fn run(ctx: &Context, args: CheckArgs) -> anyhow::Result<u8> {
    let (inputs, profile) = args.target.merged_over(Inputs::default())?;
    if [
        &inputs.tenant,
        &inputs.client_id,
        &inputs.mailbox,
        &inputs.domain,
    ]
    .iter()
    .all(|v| v.is_none())
    {
        anyhow::bail!(
            "nothing to check: give at least --tenant, --client-id and --mailbox (or --config FILE); \
             `xdiag lab` shows a whole run against the built-in offline tenant"
        );
    }
    let mut target = build_target(&inputs, args.target.only, true)?;
    if let Some(offer) = args.target.device_tls {
        target.device_tls = offer.into();
    }
    let mut notes: Vec<(String, String)> = Vec::new();
    notes.extend(endpoint_note(&target));
    if let Some(name) = profile {
        notes.push(("profile".to_string(), name));
    }
    runtime()?.block_on(run_checks(ctx, &target, notes))
}
