//! `bansos-audit monitor` (in progress).

use std::process::ExitCode;

/// Arguments of `monitor`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `monitor`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("monitor is not written yet")
}
