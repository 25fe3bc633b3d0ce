//! `bansos-audit aggregates` (in progress).

use std::process::ExitCode;

/// Arguments of `aggregates`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `aggregates`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("aggregates is not written yet")
}
