//! `bansos-audit report` (in progress).

use std::process::ExitCode;

/// Arguments of `report`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `report`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("report is not written yet")
}
