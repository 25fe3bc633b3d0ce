//! `bansos-audit`: what a journalist, BPK, KPK or civil society runs to check the whole log
//! from its public roots, trusting no node: `monitor` follows every node's checkpoint and
//! keeps evidence of any fork; `mirror` copies and verifies every tile into a static C2SP
//! directory; `aggregates` recomputes public totals and re-checks the ledger rules from a
//! mirror, flagging anomalies; `report` turns them into one HTML page.

mod aggregates;
mod anomalies;
mod governance;
mod mirror;
mod monitor;
mod report;
mod trust;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Checks a Bansos Ledger log from its public roots.
#[derive(Parser, Debug)]
#[command(name = "bansos-audit", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Follow every node's checkpoint; on a fork, write the evidence and fail loudly.
    Monitor(monitor::Args),
    /// Copy and verify every tile and entry bundle into a static C2SP directory.
    Mirror(mirror::Args),
    /// Recompute public totals and re-check the ledger rules from a mirror; flag anomalies.
    Aggregates(aggregates::Args),
    /// One self-contained HTML report of the aggregates and anomalies.
    Report(report::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Monitor(args) => monitor::run(args),
        Command::Mirror(args) => mirror::run(args),
        Command::Aggregates(args) => aggregates::run(args),
        Command::Report(args) => report::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bansos-audit: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
