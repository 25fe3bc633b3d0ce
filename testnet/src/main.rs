//! `bansos-testnet`: local Bansos Ledger networks with demo data. `up` starts a live testnet of
//! `bansos-node` validators on 127.0.0.1 (Malachite consensus between separate processes),
//! `down`/`stop`/`start` manage its processes, `load` measures it; `sample` builds a log on disk
//! without consensus, for `bansos-node serve-log`.

mod api;
mod chaos;
mod files;
mod flood;
mod governance;
mod load;
mod netns;
mod network;
mod process;
mod shaper;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bansos_ledger::Ledger;
use bansos_ledger::store::StateRead;
use bansos_store::RedbStore;
use bansos_testnet::demo;
use bansos_testnet::stats::Rate;
use bansos_verifier::entry::Leaf;
use bansos_verifier::note::{NoteSignature, SignerKey};
use bansos_verifier::tlog_proof::TlogProof;
use clap::{Parser, Subcommand};

use crate::files::write_private;

#[derive(Parser)]
#[command(
    name = "bansos-testnet",
    version,
    about = "Local Bansos Ledger networks and demo data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a live testnet: one bansos-node validator process per member on 127.0.0.1
    ///
    /// Makes a demo genesis with fresh keys (Kemensos, Kemenkeu, BRI, PT Pos; with --validators
    /// 5 to 8 also BNI, Mandiri, BTN, BSI, every member a validator of voting power 1), starts
    /// `bansos-node --config DIR/<name>/node.toml` for each, waits until every validator answers
    /// /healthz and has decided a block, optionally submits demo transactions and waits until
    /// every validator has committed them, then prints the URLs.
    ///
    /// Ports: validator i (in the order above) serves HTTP on 127.0.0.1:<base-port + i> and
    /// peer-to-peer on 127.0.0.1:<base-port + 100 + i>.
    ///
    /// Writes, into DIR (which must not exist or be empty):
    ///   genesis.json, vkeys.txt   the network and each validator's C2SP note verifier key
    ///   policy.json               the citizen verifier's trust policy (docs/VERIFY.md)
    ///   keys/<name>.key           each member's private key (PRIVATE+KEY+... as bansos-genesis
    ///                             writes it, mode 0600); keys/<ministry>.dedup-key likewise
    ///   keys/<name>.signed        the last checkpoint each validator signed (its
    ///                             signing_record, kept out of its data directory)
    ///   <name>/node.toml          the validator's configuration; <name>/data/ its ledger;
    ///                             <name>/node.log its stdout and stderr
    ///   testnet.json              {"quorum", "vkeys", "nodes": [{"name", "http", "p2p", "pid",
    ///                             "data_dir", "config", "log"}], "genesis", "network_id",
    ///                             "node_bin"}, read by down/stop/start/load and by tests
    ///   demo-receipts.txt         with --demo: receipt codes of a few demo allocations, each
    ///                             with the SYNTHETIC NIK it opens with
    ///
    /// The bansos-node executable is $BANSOS_NODE_BIN, or bansos-node next to this executable
    /// (`cargo build --release -p bansos-node -p bansos-testnet` puts both in target/release).
    ///
    /// Without --detach it stays in the foreground and stops every validator on Ctrl-C or
    /// SIGTERM (a second Ctrl-C kills them at once). With --detach it returns once the testnet
    /// is ready and leaves the validators running in their own process groups; stop them with
    /// `bansos-testnet down --dir DIR`. If start-up fails the validators are stopped and DIR is
    /// kept with their logs.
    #[command(verbatim_doc_comment)]
    Up {
        /// Number of validators, 4 to 8 (see above for who they are).
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Directory of the testnet; it must not exist or be empty.
        #[arg(long)]
        dir: PathBuf,
        /// First HTTP port; peer-to-peer ports start 100 above.
        #[arg(long, default_value_t = 8700)]
        base_port: u16,
        /// Demo transactions to submit once the network is up: the BLT program registration
        /// (PKH and SEMBAKO are in the genesis), then allocations over the real kabupaten/kota
        /// codes in proportion to population, and claims, returns and revocations of most of
        /// them; exactly N in all, 0 for none.
        #[arg(long, default_value_t = 0, value_name = "N")]
        demo: usize,
        /// Return once the testnet is ready and leave the validators running.
        #[arg(long)]
        detach: bool,
        /// Seed of the keys and demo data, for a reproducible genesis [default: random,
        /// printed].
        #[arg(long)]
        seed: Option<u64>,
        /// Seconds to wait for every validator to decide its first block, and, while
        /// committing the demo, for the log to grow.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
        /// Seconds between SIGTERM and SIGKILL when stopping validators.
        #[arg(long, alias = "grace", value_name = "SECONDS", default_value_t = 10)]
        grace_secs: u64,
        /// Put each validator in a Linux network namespace of its own (root only): namespace
        /// bs<base-port>-<name> with the address 10.199.K.<i+2> (K = base-port mod 251),
        /// joined by a veth pair to the bridge bsbr<base-port> (10.199.K.1) that the load
        /// tool sends through. Makes `partition`, `heal` and `link` possible; `down` removes
        /// the namespaces and the bridge.
        #[arg(long)]
        netns: bool,
        /// Name an outside witness in the genesis (repeatable), as URL,VKEY (its cosignature
        /// key as `bansos-witness keygen` prints it): the testnet's trust policy then requires
        /// every such witness's cosignature and the validators ask it at URL. Start the witness
        /// on the new genesis.json after `up` (until then checkpoints carry no cosignature).
        #[arg(long = "witness", value_name = "URL,VKEY")]
        witnesses: Vec<String>,
    },
    /// Cut the links between groups of validators of a --netns testnet, for real
    ///
    /// Every packet between validators of different groups is dropped (a blackhole route in
    /// each namespace), on open connections as on new ones; validators named in no group form
    /// one more group. Replaces any earlier partition. `heal` restores the links.
    Partition {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// The groups: names separated by commas, groups by slashes, e.g.
        /// kemensos,kemenkeu/bri,pos.
        #[arg(long)]
        groups: String,
    },
    /// Restore every link `partition` cut
    Heal {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Delay and drop what one validator of a --netns testnet sends
    ///
    /// E.g. 30 to 80 ms for validators in Makassar or Jayapura seen from Jakarta. Uses tc
    /// netem on the validator's link; on a kernel without netem, an iptables NFQUEUE rule and a
    /// shaper process in the validator's namespace (needs iptables). A new `link` replaces the
    /// validator's earlier one.
    Link {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// The validator.
        #[arg(long)]
        node: String,
        /// Added one-way delay, milliseconds.
        #[arg(long, default_value_t = 0)]
        delay_ms: u32,
        /// Share of packets dropped, percent.
        #[arg(long, default_value_t = 0.0)]
        loss: f64,
        /// Which packets are dropped, where the shaping is NFQUEUE (netem draws its own).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Restore the link instead.
        #[arg(long, conflicts_with_all = ["delay_ms", "loss"])]
        clear: bool,
    },
    /// Shape the packets of the namespace it runs in (started by `link` and `chaos`)
    #[command(hide = true)]
    ShapeLink {
        #[arg(long)]
        delay_ms: u32,
        #[arg(long)]
        loss: f64,
        #[arg(long)]
        seed: u64,
    },
    /// Load a running testnet while injecting faults at random, then check it
    ///
    /// Offers --rate tx/s round-robin over the validators (as `load` does) and, one after
    /// another, for 5 to 15 s each: kill -9 of a validator and its restart; on a --netns
    /// testnet also a minority cut off, a 2|2 split, the next proposer isolated, and delay and
    /// loss on a link (tc netem, or NFQUEUE without it). --byzantine NAME makes that validator
    /// misbehave throughout (needs bansos-node built with --features byzantine).
    ///
    /// Then, everything healed and restarted, it checks: identical roots on every validator;
    /// every checkpoint seen during the run consistent with the final one; every transaction
    /// a validator acknowledged (202) committed or rejected; nothing committed during a 2|2
    /// split and commits resumed after it; the others kept committing while the proposer was
    /// isolated; no transaction twice in the log (every entry read and hashed up to the root).
    /// Prints each fault, then one summary line; exits non-zero if any check failed.
    #[command(verbatim_doc_comment)]
    Chaos {
        /// Directory of a running testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// Seconds of faults.
        #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(10..))]
        duration: u64,
        /// Seed of the fault schedule.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Offered transactions per second.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
        rate: u64,
        /// Make this validator Byzantine for the whole run.
        #[arg(long, value_name = "NAME")]
        byzantine: Option<String>,
    },
    /// Stop every validator of a testnet (SIGTERM, then SIGKILL after the grace time)
    ///
    /// Uses the pids in DIR/testnet.json; a pid that is no longer that validator's bansos-node
    /// (checked in /proc) is left alone. DIR is kept: `start` brings validators back.
    Down {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// Seconds between SIGTERM and SIGKILL.
        #[arg(long, alias = "grace", value_name = "SECONDS", default_value_t = 10)]
        grace_secs: u64,
    },
    /// Stop one validator (SIGTERM, or SIGKILL with --kill)
    ///
    /// SIGTERM, then SIGKILL if it still runs after the grace time; with --kill, SIGKILL at
    /// once, to test crash recovery. A pid in testnet.json that is no longer that validator's
    /// bansos-node is left alone.
    Stop {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// The validator's member name, e.g. bri.
        #[arg(long, value_name = "NAME")]
        node: String,
        /// SIGKILL at once (kill -9): the validator gets no chance to shut down cleanly.
        #[arg(long)]
        kill: bool,
        /// Seconds between SIGTERM and SIGKILL.
        #[arg(long, alias = "grace", value_name = "SECONDS", default_value_t = 10)]
        grace_secs: u64,
    },
    /// Admit a new validator by governance (LOCAL TESTNETS ONLY: this tool holds every key)
    ///
    /// The new member draws its key (DIR/keys/<name>.key, 0600); every running validator votes
    /// to add it (a governance vote on the log, docs/FORMAT.md); once more than two thirds of
    /// the voting power agreed and every running validator is in the new epoch, its validator
    /// starts (DIR/<name>/node.toml with member_id, HTTP and peer-to-peer ports one above the
    /// highest in use), syncs the log and validates. testnet.json and vkeys.txt follow; the
    /// trust policy (policy.json) stays the genesis one, from which verifiers follow the key
    /// history. Not for --netns testnets.
    AddValidator {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// The new member's name, e.g. ojk.
        #[arg(long)]
        name: String,
        /// Its name for people [default: the name].
        #[arg(long)]
        display_name: Option<String>,
        /// Its role: ministry, bank or auditor.
        #[arg(long, default_value = "bank")]
        role: String,
        /// Seconds to wait for the vote, the start and the catch-up.
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
    },
    /// Remove a validator by governance (LOCAL TESTNETS ONLY)
    ///
    /// Every running validator votes to remove the member; once the change applies its
    /// validator is stopped and leaves testnet.json (its folder and key stay). Refused when
    /// fewer than 4 validators would remain.
    RemoveValidator {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// The validator's member name, e.g. pos.
        #[arg(long, value_name = "NAME")]
        node: String,
        /// Seconds to wait for the vote.
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
        /// Seconds between SIGTERM and SIGKILL.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        grace_secs: u64,
    },
    /// Rotate a validator's key by governance (LOCAL TESTNETS ONLY)
    ///
    /// The member draws a new key and signs the rotation with the new and the old key; every
    /// running validator votes it in; the validator then restarts with the new key (the old one
    /// kept as DIR/keys/<name>.key.retired-<epoch>) and catches up. From the epoch of the
    /// change the old key signs nothing the network accepts.
    RotateKey {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// The validator's member name, e.g. bri.
        #[arg(long, value_name = "NAME")]
        node: String,
        /// Seconds to wait for the vote, the restart and the catch-up.
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
        /// Seconds between SIGTERM and SIGKILL.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        grace_secs: u64,
    },
    /// Start one stopped validator again, with the same node.toml and data directory
    ///
    /// Its output is appended to DIR/<name>/node.log, its new pid recorded in testnet.json,
    /// and the command returns once the validator answers HTTP. It catches up with the others
    /// by itself; this command does not wait for that. The validator runs in its own process
    /// group and outlives this command. The executable is $BANSOS_NODE_BIN if set, else the one
    /// `up` used (node_bin in testnet.json).
    Start {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// The validator's member name, e.g. bri.
        #[arg(long, value_name = "NAME")]
        node: String,
        /// Seconds to wait for its HTTP API to answer.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
    /// Offer signed allocations and claims to a running testnet and measure what it commits
    ///
    /// Allocations are signed with the issuing ministries' keys from DIR/keys (programs of the
    /// genesis, synthetic NIKs unique to the run, amounts within each program's rule); claims,
    /// by the allocation's payer, are of allocations this run saw committed. Batches go by
    /// POST /v1/txs round-robin over every validator; "busy" transactions are sent again in a
    /// later batch, and a batch a validator cannot take (e.g. while it is stopped) goes to the
    /// next one.
    ///
    /// Reports, over the window of --duration seconds: transactions submitted (accepted by the
    /// API); committed, from the growth of one validator's log_size (anything else submitted
    /// meanwhile counts too), and committed tx/s; rejections (on submission, and when
    /// committed among the followed transactions); commit latency p50/p99/max, from sending a
    /// batch to the first GET /v1/tx/<hash> of its last accepted transaction that answers
    /// committed (polled every 50 ms, so up to 50 ms late).
    /// Followed transactions still pending after the window are given --drain-secs more.
    /// Prints a table and writes DIR/load-<UTC time>.json. Ctrl-C ends the window early.
    #[command(verbatim_doc_comment)]
    Load {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// Offered transactions per second, or `max` for as fast as the validators take them.
        #[arg(long, value_name = "R|max")]
        rate: Rate,
        /// Length of the measured window, seconds.
        #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
        duration: u64,
        /// Transactions per POST /v1/txs, 1 to 10000 [default: rate/10 up to 1000 (about ten
        /// batches a second), 1000 for max].
        #[arg(long, value_name = "B")]
        batch: Option<usize>,
        /// Share of claims among the transactions (the rest are allocations), while enough
        /// committed allocations wait to be claimed; 0 up to (not including) 1.
        #[arg(long, value_name = "F", default_value_t = 0.4)]
        claims_ratio: f64,
        /// Concurrent submitters, 1 to 64 [default: one per validator; at least 4 for max].
        #[arg(long)]
        submitters: Option<usize>,
        /// Seconds to keep following transactions after the window.
        #[arg(long, default_value_t = 30)]
        drain_secs: u64,
    },
    /// Post junk to every validator's write API, as an outsider could
    ///
    /// Batches of allocations that name real members (member ids are public) under random
    /// signatures, round-robin over the validators as fast as they answer, from --source (an
    /// address of this machine: on Linux every 127.x.y.z is). Measures what the write limits
    /// let through: run `load` beside it and compare with a run without it (docs/BENCHMARKS.md).
    /// Prints how many batches were looked at and how many refused with 429.
    Flood {
        /// Directory of the testnet (holding testnet.json).
        #[arg(long)]
        dir: PathBuf,
        /// The address the junk is sent from.
        #[arg(long, default_value = "127.0.0.2")]
        source: std::net::IpAddr,
        /// Seconds to flood.
        #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
        duration: u64,
        /// Junk transactions per batch, 1 to 10000.
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch: u64,
    },
    /// Build a sample log on disk, without consensus, for `bansos-node serve-log`
    ///
    /// A demo genesis of four members (Kemensos, Kemenkeu, BRI,
    /// PT Pos) with fresh keys, programs, allocations over the real kabupaten/kota codes in
    /// proportion to population, claims, returns and revocations, applied block by block through
    /// the ledger rules into DIR/ledger.redb, and a checkpoint signed by all four validators.
    ///
    /// Writes DIR/genesis.json, DIR/vkeys.txt (one C2SP verifier key per validator), DIR/policy.json,
    /// DIR/keys/<member>.key (PRIVATE+KEY+... as bansos-genesis writes them, mode 0600), DIR/ledger.redb, DIR/checkpoint,
    /// DIR/proofs/<leaf>.tlog-proof (offline proofs of a few allocations) and
    /// DIR/demo-receipts.txt (their receipt codes with the synthetic NIKs).
    /// No consensus runs: serve it with `bansos-node serve-log --dir DIR`.
    Sample {
        /// Directory to create; it must not exist yet or be empty.
        #[arg(long)]
        dir: PathBuf,
        /// Number of allocations to generate.
        #[arg(long, default_value_t = 20_000)]
        allocations: usize,
        /// Seed of the demo data (keys included), for reproducible runs.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Number of offline proof bundles to write.
        #[arg(long, default_value_t = 5)]
        proofs: usize,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up {
            validators,
            dir,
            base_port,
            demo,
            detach,
            seed,
            timeout_secs,
            grace_secs,
            netns,
            witnesses,
        } => network::up(network::UpArgs {
            validators,
            dir,
            base_port,
            demo,
            detach,
            seed,
            timeout: Duration::from_secs(timeout_secs),
            grace: Duration::from_secs(grace_secs),
            netns,
            witnesses: parse_witnesses(&witnesses)?,
        }),
        Command::Chaos {
            dir,
            duration,
            seed,
            rate,
            byzantine,
        } => chaos::chaos(chaos::ChaosArgs {
            dir,
            duration: Duration::from_secs(duration),
            seed,
            rate,
            byzantine,
        }),
        Command::Partition { dir, groups } => {
            let t = files::read_testnet(&dir)?;
            let groups = netns::groups(&t, &groups)?;
            netns::partition(&t, &groups)?;
            let names: Vec<String> = groups
                .iter()
                .map(|g| {
                    g.iter()
                        .map(|i| t.nodes[*i].name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect();
            println!("partitioned: {}", names.join(" | "));
            Ok(())
        }
        Command::Heal { dir } => {
            netns::heal(&files::read_testnet(&dir)?)?;
            println!("healed: every link restored");
            Ok(())
        }
        Command::Link {
            dir,
            node,
            delay_ms,
            loss,
            seed,
            clear,
        } => {
            let t = files::read_testnet(&dir)?;
            let i = t
                .nodes
                .iter()
                .position(|n| n.name == node)
                .with_context(|| format!("no validator {node} ({})", t.names()))?;
            anyhow::ensure!(
                (0.0..=100.0).contains(&loss),
                "--loss {loss}: give 0 to 100"
            );
            let shaping = netns::set_link(
                &t,
                i,
                (!clear).then_some(netns::LinkFault {
                    delay_ms,
                    loss,
                    seed,
                }),
            )?;
            match shaping {
                None => println!("{node}: link restored"),
                Some(how) => println!("{node}: +{delay_ms} ms, {loss}% loss ({how})"),
            }
            Ok(())
        }
        Command::ShapeLink {
            delay_ms,
            loss,
            seed,
        } => shaper::run(Duration::from_millis(u64::from(delay_ms)), loss, seed),
        Command::Down { dir, grace_secs } => network::down(&dir, Duration::from_secs(grace_secs)),
        Command::Stop {
            dir,
            node,
            kill,
            grace_secs,
        } => network::stop(&dir, &node, kill, Duration::from_secs(grace_secs)),
        Command::Start {
            dir,
            node,
            timeout_secs,
        } => network::start(&dir, &node, Duration::from_secs(timeout_secs)),
        Command::AddValidator {
            dir,
            name,
            display_name,
            role,
            timeout_secs,
        } => {
            let Some(role) = bansos_verifier::governance::Role::parse(&role) else {
                bail!("--role {role}: ministry, bank or auditor");
            };
            governance::add_validator(
                &dir,
                &name,
                display_name.as_deref(),
                role,
                Duration::from_secs(timeout_secs),
            )
        }
        Command::RemoveValidator {
            dir,
            node,
            timeout_secs,
            grace_secs,
        } => governance::remove_validator(
            &dir,
            &node,
            Duration::from_secs(timeout_secs),
            Duration::from_secs(grace_secs),
        ),
        Command::RotateKey {
            dir,
            node,
            timeout_secs,
            grace_secs,
        } => governance::rotate_key(
            &dir,
            &node,
            Duration::from_secs(timeout_secs),
            Duration::from_secs(grace_secs),
        ),
        Command::Load {
            dir,
            rate,
            duration,
            batch,
            claims_ratio,
            submitters,
            drain_secs,
        } => load::load(load::LoadArgs {
            dir,
            rate,
            duration: Duration::from_secs(duration),
            batch,
            claims_ratio,
            submitters,
            drain: Duration::from_secs(drain_secs),
        }),
        Command::Flood {
            dir,
            source,
            duration,
            batch,
        } => flood::flood(flood::FloodArgs {
            dir,
            source,
            duration: Duration::from_secs(duration),
            batch: batch as usize,
        }),
        Command::Sample {
            dir,
            allocations,
            seed,
            proofs,
        } => sample(&dir, allocations, seed, proofs),
    }
}

fn sample(dir: &Path, allocations: usize, seed: u64, proofs: usize) -> anyhow::Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} exists and is not empty: choose a new directory",
            dir.display()
        );
    }
    let result = build_sample(dir, allocations, seed, proofs);
    if result.is_err() {
        // Bad input or a failure leaves nothing half-built behind.
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn build_sample(dir: &Path, allocations: usize, seed: u64, proofs: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(dir.join("keys"))?;
    std::fs::create_dir_all(dir.join("proofs"))?;
    let mut rng = demo::rng(seed);
    let net = demo::network(&mut rng, 27_000);
    for (m, k) in net.network.genesis.members.iter().zip(&net.keys) {
        write_private(
            &dir.join("keys").join(format!("{}.key", m.name)),
            format!(
                "{}\n",
                SignerKey::new(&m.name, k.clone()).to_secret_string()
            )
            .as_bytes(),
        )?;
    }
    write_private(
        &dir.join("keys").join("kemensos.dedup-key"),
        format!("{}\n", data_encoding::HEXLOWER.encode(&net.dedup_key)).as_bytes(),
    )?;
    std::fs::write(dir.join("genesis.json"), &net.genesis_bytes)?;
    let vkeys: String = net
        .network
        .validator_vkeys()
        .iter()
        .map(|k| format!("{k}\n"))
        .collect();
    std::fs::write(dir.join("vkeys.txt"), vkeys)?;
    std::fs::write(
        dir.join("policy.json"),
        net.network.trust_policy().to_json(),
    )?;

    let data = demo::data(&net, &mut rng, allocations);
    let store = RedbStore::open(&dir.join("ledger.redb"))?;
    let mut ledger = Ledger::open(net.network.clone(), store)?;
    let (mut accepted, mut rejected) = (0usize, 0usize);
    for (i, block) in data.blocks.iter().enumerate() {
        let applied = ledger.apply(block)?;
        accepted += applied.outcome.accepted.len();
        rejected += applied.outcome.rejected.len();
        if i % 20 == 0 || i + 1 == data.blocks.len() {
            eprint!(
                "\rblock {}/{}: {} entries",
                i + 1,
                data.blocks.len(),
                applied.size.0
            );
        }
    }
    eprintln!();
    if rejected > 0 {
        bail!(
            "{rejected} demo transactions were rejected: the demo generator and the rules disagree"
        );
    }

    // Every validator signs the checkpoint.
    let cp = ledger.checkpoint();
    let body = cp.body();
    let sigs = net
        .network
        .genesis
        .members
        .iter()
        .zip(&net.keys)
        .filter(|(m, _)| m.voting_power > 0)
        .map(|(m, k)| NoteSignature::sign(&m.name, k, &body));
    let note = cp.to_note(sigs);
    std::fs::write(dir.join("checkpoint"), note.to_bytes())?;

    // Offline proofs and receipts of a few allocations.
    let reader = ledger.reader()?;
    let receipts = data.receipts_for(&net.network, proofs, |id| {
        ledger.store().allocation(id).ok().flatten().map(|s| s.leaf)
    });
    let mut listing = String::from(
        "# Demo receipts: receipt code, then the SYNTHETIC NIK it opens with (not a real person).\n",
    );
    for r in &receipts {
        let leaf = r.receipt.leaf_index;
        let entry = reader.entry(leaf)?.context("the receipt's leaf exists")?;
        debug_assert!(Leaf::decode(&entry).is_ok());
        let proof = reader.inclusion_proof(leaf, cp.size)?;
        let bundle = TlogProof {
            extra: Some(entry),
            index: leaf,
            proof,
            checkpoint: note.to_bytes(),
        };
        std::fs::write(
            dir.join("proofs").join(format!("{}.tlog-proof", leaf.0)),
            bundle.to_bytes(),
        )?;
        listing.push_str(&format!("{} {}\n", r.receipt.to_text(), r.nik));
    }
    write_private(&dir.join("demo-receipts.txt"), listing.as_bytes())?;
    println!(
        "sample log: {} entries ({} transactions accepted) in {} blocks, height {}, root {}, built in {:.1}s",
        cp.size.0,
        accepted,
        data.blocks.len(),
        ledger.store().height()?,
        cp.root,
        started.elapsed().as_secs_f64()
    );
    println!("wrote {}", dir.display());
    Ok(())
}

/// The `--witness` arguments: each well formed, no witness twice.
fn parse_witnesses(args: &[String]) -> anyhow::Result<Vec<bansos_genesis::GenesisWitness>> {
    let witnesses: Vec<_> = args
        .iter()
        .map(|w| parse_witness(w))
        .collect::<anyhow::Result<_>>()?;
    for (i, w) in witnesses.iter().enumerate() {
        anyhow::ensure!(
            !witnesses[..i].iter().any(|o| o.name == w.name),
            "--witness {}: the witness {} is named twice",
            w.url,
            w.name
        );
    }
    anyhow::ensure!(
        witnesses.len() <= bansos_genesis::WITNESSES_MAX,
        "at most {} witnesses",
        bansos_genesis::WITNESSES_MAX
    );
    Ok(witnesses)
}

/// `--witness URL,VKEY`, checked as the genesis will check it.
fn parse_witness(arg: &str) -> anyhow::Result<bansos_genesis::GenesisWitness> {
    use bansos_verifier::note::{KeyKind, VerifierKey};
    let (url, vkey) = arg
        .split_once(',')
        .with_context(|| format!("--witness {arg:?}: give URL,VKEY"))?;
    let key =
        VerifierKey::parse(vkey).map_err(|e| anyhow::anyhow!("--witness {url}: the vkey: {e}"))?;
    anyhow::ensure!(
        key.kind() == KeyKind::Cosignature,
        "--witness {url}: the vkey must be a cosignature key (`bansos-witness keygen` prints one)"
    );
    anyhow::ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "--witness {url}: the URL must start with http:// or https://"
    );
    Ok(bansos_genesis::GenesisWitness {
        name: key.name().to_string(),
        vkey: vkey.to_string(),
        url: url.to_string(),
    })
}
