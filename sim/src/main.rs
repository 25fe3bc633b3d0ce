//! `bansos-sim`: runs the deterministic simulator over many seeds (docs/RELIABILITY.md).

use std::process::ExitCode;

use bansos_sim::{Bug, Config, Named, Scenario, run};
use clap::Parser;

/// Simulates Bansos Ledger validators (Malachite's consensus state machine and our real
/// consensus core and ledger rules) in one process under a seeded faulty network: lost,
/// delayed, duplicated and reordered messages, partitions, crashes and restarts, drifting
/// clocks and up to f Byzantine validators; with --governance, validator-set changes voted on
/// the log. Checks the safety and progress invariants after every step and ends with
/// `seeds=N steps=S violations=V`. Exits 1 on a violation.
#[derive(Parser, Debug)]
#[command(name = "bansos-sim", version)]
struct Args {
    /// How many seeds to run (consecutive, from --first-seed).
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Run this one seed only (same as --first-seed S --seeds 1).
    #[arg(long, conflicts_with_all = ["seeds", "first_seed"])]
    seed: Option<u64>,
    /// Validators, 4 to 7.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Byzantine validators, 0 to f = (validators - 1) / 3.
    #[arg(long, default_value_t = 0)]
    byzantine: usize,
    /// Simulated milliseconds of faults before the network heals.
    #[arg(long, default_value_t = 8_000)]
    chaos_ms: u64,
    /// Heights every honest validator must commit after the heal...
    #[arg(long, default_value_t = 5)]
    progress_heights: u64,
    /// ...within this many simulated milliseconds.
    #[arg(long, default_value_t = 60_000)]
    progress_bound_ms: u64,
    /// Switch on one deliberately broken behaviour of validator 0 (counted as honest): the
    /// run must then report a violation. One of: sign-forked-checkpoint,
    /// commit-without-quorum, forget-wal, fixed-validator-set (with --governance).
    #[arg(long, value_name = "NAME")]
    inject_bug: Option<String>,
    /// The validators vote on changes to themselves (sim/src/governance.rs). One of: add (a
    /// validator joins: its node starts with no store and syncs), remove (one of 5 or more
    /// leaves), rotate (one gets a new key), race (one of those, voted while the network is
    /// split), double-vote (a Byzantine validator votes for two changes in one epoch;
    /// --byzantine 1), chain (add, rotate, remove), power (one of 6 or more gets power 2).
    #[arg(long, value_name = "SCENARIO")]
    governance: Option<String>,
    /// Count checkpoints published with a signature by a key that no longer validates (a
    /// removed member's, a rotated-out key) instead of failing on them: the consensus core
    /// still signs with such a key (a known defect, reported with issue #14).
    #[arg(long)]
    allow_stale_keys: bool,
    /// Do not check the progress invariant, only safety.
    #[arg(long)]
    no_progress: bool,
    /// Validators do not send their precommits of earlier rounds again (the node's shell does):
    /// Malachite 0.8.2's own rebroadcast only, which can stall a height (docs/RELIABILITY.md).
    #[arg(long)]
    no_republish: bool,
    /// Print every step of each seed (use with --seed).
    #[arg(long)]
    trace: bool,
    /// Print one line per seed.
    #[arg(long)]
    verbose: bool,
    /// Keep going after a violation (count them all).
    #[arg(long)]
    keep_going: bool,
}

/// The choice `value` names for `flag`, if any.
fn named<T: Named>(flag: &str, value: Option<&str>) -> Result<Option<T>, String> {
    let Some(name) = value else { return Ok(None) };
    T::parse(name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = T::ALL.iter().map(|(n, _)| *n).collect();
        format!("{flag} takes one of: {}, not {name:?}", names.join(", "))
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Malachite's and the core's logs, only if asked for (RUST_LOG), interleaved with --trace.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stdout)
            .without_time()
            .init();
    }
    let (bug, governance) = match (
        named::<Bug>("--inject-bug", args.inject_bug.as_deref()),
        named::<Scenario>("--governance", args.governance.as_deref()),
    ) {
        (Ok(b), Ok(g)) => (b, g),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let config = Config {
        validators: args.validators,
        byzantine: args.byzantine,
        chaos_ms: args.chaos_ms,
        progress_heights: args.progress_heights,
        progress_bound_ms: args.progress_bound_ms,
        bug,
        check_progress: !args.no_progress,
        republish_precommits: !args.no_republish,
        full_trace: args.trace,
        governance,
        allow_stale_keys: args.allow_stale_keys,
    };
    if let Err(e) = config.check() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let (first, count) = match args.seed {
        Some(s) => (s, 1),
        None => (args.first_seed, args.seeds),
    };
    let started = std::time::Instant::now();
    let (mut steps, mut violations, mut heights, mut sim_ms) = (0u64, 0u64, 0u64, 0u64);
    let mut seeds = 0;
    let mut vote_fates: std::collections::BTreeMap<&str, u64> = Default::default();
    for seed in first..first.saturating_add(count) {
        let o = run(&config, seed);
        seeds += 1;
        steps += o.steps;
        heights += o.min_height;
        sim_ms += o.sim_ms;
        for (k, v) in &o.stats.vote_fates {
            *vote_fates.entry(k).or_default() += v;
        }
        if args.verbose {
            println!(
                "seed={seed} steps={} sim_ms={} height={} log_size={} max_round={} crashes={} \
                 partitions={} invalid_proposals={} refused_checkpoint_votes={} synced={} \
                 equivocations={} replays={} republished={}{} trace={:016x}",
                o.steps,
                o.sim_ms,
                o.min_height,
                o.log_size,
                o.stats.max_round,
                o.stats.crashes,
                o.stats.partitions,
                o.stats.invalid_proposals,
                o.stats.refused_checkpoint_votes,
                o.stats.synced,
                o.stats.equivocations,
                o.stats.replays,
                o.stats.republished,
                if config.governance.is_some() {
                    format!(
                        " epoch={} votes={} key_switches={} retired={} refused_by_roster={} \
                         refused_honest_checkpoint_votes={} stale_key_signatures={}",
                        o.epoch,
                        o.stats.votes,
                        o.stats.key_switches,
                        o.stats.retired,
                        o.stats.refused_by_roster,
                        o.stats.refused_honest_checkpoint_votes,
                        o.stats.stale_key_signatures
                    )
                } else {
                    String::new()
                },
                o.trace_hash
            );
        }
        for v in &o.violations {
            violations += 1;
            println!(
                "VIOLATION seed={seed} invariant={} at {} ms: {}",
                v.invariant, v.at_ms, v.detail
            );
            println!(
                "  reproduce: bansos-sim --seed {seed} --validators {} --byzantine {}{}{}{} --trace",
                config.validators,
                config.byzantine,
                governance
                    .map(|s| format!(" --governance {}", s.name()))
                    .unwrap_or_default(),
                if config.allow_stale_keys {
                    " --allow-stale-keys"
                } else {
                    ""
                },
                bug.map(|b| format!(" --inject-bug {}", b.name()))
                    .unwrap_or_default()
            );
            println!("  the last {} steps:", v.trace.len());
            for line in &v.trace {
                println!("    {line}");
            }
        }
        if violations > 0 && !args.keep_going {
            break;
        }
    }
    eprintln!(
        "{seeds} seeds in {:.1} s wall: {} heights, {:.0} s simulated",
        started.elapsed().as_secs_f64(),
        heights,
        sim_ms as f64 / 1000.0
    );
    if !vote_fates.is_empty() {
        let fates: Vec<String> = vote_fates.iter().map(|(k, v)| format!("{k} {v}")).collect();
        eprintln!("votes in decided blocks: {}", fates.join(", "));
    }
    println!("seeds={seeds} steps={steps} violations={violations}");
    if violations > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
