//! `bansos-testnet`: local Bansos Ledger networks with demo data. Until the validator network
//! lands (issue #3) it builds a sample log on disk (`sample`) that `bansos-node serve-log`
//! serves and `bansos-verify` audits.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use bansos_ledger::Ledger;
use bansos_ledger::store::StateRead;
use bansos_store::RedbStore;
use bansos_testnet::demo;
use bansos_verifier::entry::Leaf;
use bansos_verifier::note::{NoteSignature, SignerKey};
use bansos_verifier::tlog_proof::TlogProof;
use clap::{Parser, Subcommand};

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
    /// Build a sample log on disk: a demo genesis of four members (Kemensos, Kemenkeu, BRI,
    /// PT Pos) with fresh keys, programs, allocations over the real kabupaten/kota codes in
    /// proportion to population, claims, returns and revocations, applied block by block through
    /// the ledger rules into DIR/ledger.redb, and a checkpoint signed by all four validators.
    ///
    /// Writes DIR/genesis.json, DIR/vkeys.txt (one C2SP verifier key per validator),
    /// DIR/keys/<member>.key (PRIVATE+KEY+... as bansos-genesis writes them, mode 0600), DIR/ledger.redb, DIR/checkpoint,
    /// DIR/proofs/<leaf>.tlog-proof (offline proofs of a few allocations) and
    /// DIR/demo-receipts.txt (their receipt codes with the synthetic NIKs).
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

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Sample {
            dir,
            allocations,
            seed,
            proofs,
        } => sample(&dir, allocations, seed, proofs),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents)?;
    Ok(())
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
