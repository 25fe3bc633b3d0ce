//! `bansos-audit mirror` (in progress).

use std::process::ExitCode;

/// Arguments of `mirror`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `mirror`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("mirror is not written yet")
}
