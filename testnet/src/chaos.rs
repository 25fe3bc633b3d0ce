//! `bansos-testnet chaos`: load on a running testnet while faults are injected at random, then
//! the checks a ministry, a bank and an auditor care about.
//!
//! Faults, one at a time (the next once every validator has caught up from the last: two of
//! four out at once leave no quorum, by design), each for a few seconds with a pause after it
//! (chosen by `--seed`):
//! kill -9 of a validator and its restart; and, on a `--netns` testnet, a minority cut off, a
//! 2|2 split (two against two: no side has a quorum), the next proposer isolated, and delay
//! and loss on one validator's link (netem, or NFQUEUE where the kernel lacks it). With
//! `--byzantine NAME` that validator misbehaves throughout (the faults of the network tests:
//! equivocating votes and proposals, dropped inbound proposals, forged checkpoint signatures,
//! invalid transactions in its proposals, a clock an hour off), which needs a bansos-node built
//! with `--features byzantine`.
//!
//! At the end, every fault healed and every validator up, it checks: every validator reaches
//! the same log with the same root; every checkpoint seen during the run (signature-checked
//! against the testnet's trust policy) is consistent with the final one (RFC 6962 consistency
//! proofs, verified here); every transaction an honest validator acknowledged (202) is committed or
//! rejected; during each 2|2 split nothing was committed and afterwards commits resumed; while
//! the proposer was isolated the others went on committing; no transaction is in the log twice
//! (every entry bundle read, its leaves hashed up to the final root).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bansos_testnet::layout::TestnetFile;
use bansos_testnet::stats::Rate;
use bansos_verifier::checkpoint::verify_checkpoint;
use bansos_verifier::entry::Leaf;
use bansos_verifier::hash::{Hash, TreeSize, leaf_hash, node_hash};
use bansos_verifier::merkle::verify_consistency;
use bansos_verifier::policy::TrustPolicy;
use bansos_verifier::tile::{TILE_WIDTH, TileRef, parse_bundle};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

use crate::api::NodeApi;
use crate::files::{read_testnet, write_testnet};
use crate::load::{Offered, offer_until};
use crate::netns;
use crate::process;

/// What `chaos` was asked for.
pub struct ChaosArgs {
    /// The testnet directory.
    pub dir: PathBuf,
    /// How long faults are injected.
    pub duration: Duration,
    /// Seed of the fault schedule.
    pub seed: u64,
    /// Offered transactions per second.
    pub rate: u64,
    /// A validator to make Byzantine for the whole run.
    pub byzantine: Option<String>,
}

/// The Byzantine faults of the network tests (#8), all at once.
const BYZANTINE: &str = "\n[byzantine]\n\
    seed = 43\n\
    equivocate_votes = { mode = \"random\", probability = 0.3 }\n\
    equivocate_proposals = { mode = \"random\", probability = 0.5 }\n\
    drop_inbound_proposals = { mode = \"random\", probability = 0.2 }\n\
    [byzantine.app]\n\
    forge_checkpoint_signature = true\n\
    invalid_tx_in_proposal = true\n\
    block_time_offset_s = 3600\n";

/// Longest wait for the network to settle after the faults.
const SETTLE_SECS: u64 = 180;
/// Seconds a split or an isolation is watched before its effect is measured.
const WATCH_SECS: u64 = 3;

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Kill,
    Minority,
    Split,
    IsolateProposer,
    Link,
}

#[derive(Default)]
struct Tally {
    kills: u64,
    minority: u64,
    splits: u64,
    /// Entries committed during splits (after the first seconds); must be 0.
    committed_in_splits: u64,
    /// Splits after which commits did not resume.
    splits_not_resumed: u64,
    isolations: u64,
    /// Isolations during which the others did not go on committing.
    isolations_stalled: u64,
    links: u64,
    /// Longest time every validator took to catch up after a fault.
    slowest_catch_up: Duration,
    problems: Vec<String>,
}

fn apis(t: &TestnetFile) -> Vec<NodeApi> {
    t.nodes
        .iter()
        .map(|n| NodeApi::new(&n.name, &n.http))
        .collect()
}

/// The largest log size any validator reports (those that answer).
fn max_size(apis: &[NodeApi]) -> u64 {
    apis.iter()
        .filter_map(|a| a.status().ok())
        .map(|s| s.log_size)
        .max()
        .unwrap_or(0)
}

fn kill(t: &TestnetFile, i: usize) {
    let n = &t.nodes[i];
    let _ = process::stop_node(n.pid, Some(&n.config), Duration::ZERO, true, &mut || false);
}

/// Starts validator `i` again and records its pid.
fn restart(dir: &Path, i: usize) -> anyhow::Result<()> {
    let mut t = read_testnet(dir)?;
    let n = t.nodes[i].clone();
    if process::is_node_running(n.pid, &n.config) {
        return Ok(());
    }
    let ns = t.netns.as_ref().map(|l| l.namespaces[i].clone());
    let child = process::spawn_node(&t.node_bin, &n.config, &n.log, ns.as_deref())?;
    t.nodes[i].pid = child.id();
    write_testnet(dir, &t)
}

/// Samples quorum-signed checkpoints from random validators every second.
fn sample_checkpoints(
    apis: &[NodeApi],
    policy: &TrustPolicy,
    stop: &AtomicBool,
    seen: &Mutex<Vec<(u64, Hash)>>,
    problems: &Mutex<Vec<String>>,
) {
    let mut rng = StdRng::seed_from_u64(7);
    while !stop.load(Ordering::SeqCst) {
        let api = &apis[rng.random_range(0..apis.len())];
        if let Ok((200, body)) = api.get("/checkpoint") {
            match verify_checkpoint(&body, None, policy.checkpoint_policy()) {
                Ok(v) => {
                    let cp = (v.checkpoint.size.0, v.checkpoint.root);
                    let mut s = seen.lock().expect("not poisoned");
                    if s.last() != Some(&cp) {
                        s.push(cp);
                    }
                }
                Err(e) => problems.lock().expect("not poisoned").push(format!(
                    "{} served a checkpoint that does not verify: {e}",
                    api.name
                )),
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Most heights a validator may trail the others by and count as caught up.
const CAUGHT_UP_HEIGHTS: u64 = 2;
/// Longest wait for every validator to catch up after a fault.
const CATCH_UP_SECS: u64 = 120;

/// Waits until every validator answers within [`CAUGHT_UP_HEIGHTS`] of the highest: the
/// faults come one at a time, and a validator still catching up after the last one is a fault
/// of its own (with two of four out, no side has a quorum, by design). Returns how long it took.
fn caught_up(apis: &[NodeApi]) -> Result<Duration, String> {
    let start = Instant::now();
    loop {
        let heights: Vec<Option<u64>> = apis
            .iter()
            .map(|a| a.status().ok().map(|s| s.height))
            .collect();
        let max = heights.iter().flatten().max().copied().unwrap_or(0);
        let behind: Vec<String> = apis
            .iter()
            .zip(&heights)
            .filter(|(_, h)| h.is_none_or(|h| h + CAUGHT_UP_HEIGHTS < max))
            .map(|(a, h)| format!("{} at {}", a.name, h.map_or("-".into(), |h| h.to_string())))
            .collect();
        if behind.is_empty() {
            return Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(CATCH_UP_SECS) {
            return Err(format!(
                "not caught up {CATCH_UP_SECS} s after a fault (others at {max}): {}",
                behind.join(", ")
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Injects one fault and heals it; what it saw goes into `tally`.
fn inject(
    dir: &Path,
    fault: Fault,
    rng: &mut StdRng,
    apis: &[NodeApi],
    byzantine: Option<usize>,
    tally: &mut Tally,
) -> anyhow::Result<String> {
    let t = read_testnet(dir)?;
    let n = t.nodes.len();
    let hold = Duration::from_secs(rng.random_range(5..=15));
    let i = rng.random_range(0..n);
    match fault {
        Fault::Kill => {
            kill(&t, i);
            tally.kills += 1;
            std::thread::sleep(hold);
            restart(dir, i)?;
            Ok(format!(
                "kill -9 {} for {} s",
                t.nodes[i].name,
                hold.as_secs()
            ))
        }
        Fault::Minority => {
            let others: Vec<usize> = (0..n).filter(|j| *j != i).collect();
            netns::partition(&t, &[vec![i], others])?;
            tally.minority += 1;
            std::thread::sleep(hold);
            netns::heal(&t)?;
            Ok(format!(
                "{} cut off for {} s",
                t.nodes[i].name,
                hold.as_secs()
            ))
        }
        Fault::Split => {
            let mut order: Vec<usize> = (0..n).collect();
            for k in (1..n).rev() {
                order.swap(k, rng.random_range(0..=k));
            }
            let (a, b) = order.split_at(n / 2);
            netns::partition(&t, &[a.to_vec(), b.to_vec()])?;
            tally.splits += 1;
            // A block already voted may still land in the first moments.
            std::thread::sleep(Duration::from_secs(WATCH_SECS));
            let before = max_size(apis);
            std::thread::sleep(hold);
            let during = max_size(apis);
            tally.committed_in_splits += during.saturating_sub(before);
            netns::heal(&t)?;
            let deadline = Instant::now() + Duration::from_secs(60);
            let resumed = loop {
                if max_size(apis) > during {
                    break true;
                }
                if Instant::now() > deadline {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(500));
            };
            if !resumed {
                tally.splits_not_resumed += 1;
            }
            Ok(format!(
                "2|2 split for {} s: {} entries committed during it, {}",
                hold.as_secs(),
                during.saturating_sub(before),
                if resumed {
                    "resumed after heal"
                } else {
                    "NOT resumed within 60 s"
                }
            ))
        }
        Fault::IsolateProposer => {
            // Round 0 of height h is proposed by validator (h - 1) mod n (`ctx::select_proposer`).
            let height = apis
                .iter()
                .filter_map(|a| a.status().ok())
                .map(|s| s.height)
                .max()
                .unwrap_or(0);
            let p = (height as usize) % n;
            let others: Vec<usize> = (0..n).filter(|j| *j != p).collect();
            netns::partition(&t, &[vec![p], others.clone()])?;
            tally.isolations += 1;
            std::thread::sleep(Duration::from_secs(WATCH_SECS));
            let size = |k: &usize| apis[*k].status().map(|s| s.height).unwrap_or(0);
            let before: u64 = others.iter().map(size).max().unwrap_or(0);
            std::thread::sleep(hold);
            let after: u64 = others.iter().map(size).max().unwrap_or(0);
            netns::heal(&t)?;
            // With a Byzantine validator among the others, only two honest ones are left: BFT
            // owes no progress then (f = 1 of 4), only safety.
            let owed = byzantine.is_none_or(|b| b == p);
            if after <= before && owed {
                tally.isolations_stalled += 1;
            }
            Ok(format!(
                "proposer {} isolated for {} s: the others went from height {before} to \
                 {after}{}",
                t.nodes[p].name,
                hold.as_secs(),
                if owed {
                    ""
                } else {
                    " (a Byzantine one among them: progress not owed)"
                }
            ))
        }
        Fault::Link => {
            let delay = rng.random_range(30..=80);
            let loss = f64::from(rng.random_range(0..=5u32));
            let seed = rng.random();
            netns::set_link(
                &t,
                i,
                Some(netns::LinkFault {
                    delay_ms: delay,
                    loss,
                    seed,
                }),
            )?;
            tally.links += 1;
            std::thread::sleep(hold);
            netns::set_link(&t, i, None)?;
            Ok(format!(
                "{}'s link +{delay} ms, {loss}% loss for {} s",
                t.nodes[i].name,
                hold.as_secs()
            ))
        }
    }
}

/// Waits until every validator answers with the same log size and a checkpoint of that size,
/// the same for all, and stays so; returns that checkpoint.
fn settle(apis: &[&NodeApi], policy: &TrustPolicy) -> anyhow::Result<(u64, Hash)> {
    let deadline = Instant::now() + Duration::from_secs(SETTLE_SECS);
    loop {
        let cps: Vec<Option<(u64, Hash, u64)>> = apis
            .iter()
            .map(|a| {
                let st = a.status().ok()?;
                let (code, body) = a.get("/checkpoint").ok()?;
                if code != 200 {
                    return None;
                }
                let v = verify_checkpoint(&body, None, policy.checkpoint_policy()).ok()?;
                Some((v.checkpoint.size.0, v.checkpoint.root, st.log_size))
            })
            .collect();
        if let Some(Some(first)) = cps.first()
            && cps.iter().all(|c| *c == Some(*first))
            && first.0 == first.2
        {
            // Still the same a moment later: nothing was in flight.
            std::thread::sleep(Duration::from_secs(3));
            let again = apis[0].status().map(|s| s.log_size).unwrap_or(0);
            if again == first.0 {
                return Ok((first.0, first.1));
            }
        }
        if Instant::now() > deadline {
            bail!(
                "the validators did not settle on one log within {SETTLE_SECS} s (last                  (checkpoint size, root, log size) of each: {cps:?}): divergent or stalled"
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Reads every entry of the log from `api`, checks that its leaves hash up to `root`, and
/// returns how many transactions appear more than once.
fn entries_twice(api: &NodeApi, size: u64, root: &Hash) -> anyhow::Result<u64> {
    let mut leaves = Vec::with_capacity(size as usize);
    let mut seen = HashSet::with_capacity(size as usize);
    let mut twice = 0;
    let bundles = size.div_ceil(TILE_WIDTH);
    for b in 0..bundles {
        let width = (size - b * TILE_WIDTH).min(TILE_WIDTH) as u16;
        let tile = TileRef::entries(b, width);
        let (code, bytes) = api.get(&format!("/{}", tile.path()))?;
        if code != 200 {
            bail!("{}: GET /{}: HTTP {code}", api.name, tile.path());
        }
        let entries = parse_bundle(&tile, &bytes)
            .map_err(|e| anyhow::anyhow!("{}: bundle {b}: {e}", api.name))?;
        for e in entries {
            leaves.push(leaf_hash(e));
            let leaf = Leaf::decode(e).map_err(|e| anyhow::anyhow!("entry: {e}"))?;
            if !seen.insert(leaf.tx.hash()) {
                twice += 1;
            }
        }
    }
    if leaves.len() as u64 != size || mth(&leaves) != *root {
        bail!(
            "{}: the entries do not hash up to the checkpoint's root",
            api.name
        );
    }
    Ok(twice)
}

/// RFC 6962 Merkle tree hash of leaf hashes.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::digest(&[]),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// Checks that every sampled checkpoint is consistent with the final one.
fn consistent(api: &NodeApi, seen: &[(u64, Hash)], size: u64, root: &Hash) -> anyhow::Result<()> {
    for (old, old_root) in seen {
        if *old == 0 || *old > size {
            if *old > size {
                bail!("a checkpoint of size {old} was seen, larger than the final {size}");
            }
            continue;
        }
        let (code, body) = api.get(&format!("/v1/proof/consistency?old={old}&new={size}"))?;
        if code != 200 {
            bail!("{}: consistency {old}→{size}: HTTP {code}", api.name);
        }
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        let proof: Vec<Hash> = v["proof"]
            .as_array()
            .context("no proof")?
            .iter()
            .map(|h| {
                h.as_str()
                    .and_then(Hash::from_base64)
                    .context("a proof hash")
            })
            .collect::<anyhow::Result<_>>()?;
        verify_consistency(TreeSize(*old), TreeSize(size), old_root, root, &proof).map_err(
            |e| {
                anyhow::anyhow!(
                    "the checkpoint of size {old} is not consistent with the final one: {e:?}"
                )
            },
        )?;
    }
    Ok(())
}

/// Every acknowledged transaction's fate: (committed, rejected, lost).
fn fates(apis: &[&NodeApi], acked: &[Hash]) -> anyhow::Result<(u64, u64, Vec<Hash>)> {
    let (mut committed, mut rejected, mut lost) = (0, 0, Vec::new());
    for chunk in acked.chunks(10_000) {
        let answers: Vec<Vec<String>> = apis
            .iter()
            .map(|a| a.tx_states(chunk))
            .collect::<anyhow::Result<_>>()?;
        for (k, h) in chunk.iter().enumerate() {
            let of = |s: &str| answers.iter().any(|a| a[k] == s);
            if of("committed") {
                committed += 1;
            } else if of("rejected") {
                rejected += 1;
            } else {
                lost.push(*h);
            }
        }
    }
    Ok((committed, rejected, lost))
}

/// `bansos-testnet chaos`.
pub fn chaos(args: ChaosArgs) -> anyhow::Result<()> {
    let t = read_testnet(&args.dir)?;
    let policy_path = args.dir.join("policy.json");
    let policy = TrustPolicy::parse(
        &std::fs::read(&policy_path)
            .with_context(|| format!("reading {}", policy_path.display()))?,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", policy_path.display()))?;
    let apis = apis(&t);
    let mut kinds = vec![Fault::Kill];
    let mut unavailable: Vec<String> = Vec::new();
    let mut shaping = String::new();
    if t.netns.is_some() {
        kinds.extend([Fault::Minority, Fault::Split, Fault::IsolateProposer]);
        match netns::link_shaping(&t) {
            Ok(how) => {
                kinds.push(Fault::Link);
                shaping = format!("; links shaped by {how}");
            }
            Err(e) => unavailable.push(format!("link delay/loss ({e:#})")),
        }
    } else {
        unavailable.push("partitions and link faults (not a --netns testnet)".into());
    }
    let byzantine = match &args.byzantine {
        None => None,
        Some(name) => {
            let i = t
                .nodes
                .iter()
                .position(|n| &n.name == name)
                .with_context(|| {
                    format!("--byzantine {name}: no such validator ({})", t.names())
                })?;
            let n = &t.nodes[i];
            let mut text = std::fs::read_to_string(&n.config)?;
            if !text.contains("[byzantine]") {
                text.push_str(BYZANTINE);
                std::fs::write(&n.config, text)?;
            }
            kill(&t, i);
            restart(&args.dir, i)?;
            let deadline = Instant::now() + Duration::from_secs(60);
            while apis[i].healthz().is_err() {
                let t = read_testnet(&args.dir)?;
                let n = &t.nodes[i];
                if !process::is_node_running(n.pid, &n.config) || Instant::now() > deadline {
                    bail!(
                        "the Byzantine {name} did not come up (a bansos-node without --features \
                         byzantine refuses [byzantine]); the end of its log {}:\n{}",
                        n.log.display(),
                        process::log_tail(&n.log, process::LOG_TAIL_LINES)
                    );
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            Some(i)
        }
    };
    println!(
        "chaos: seed {}, {} s at {} tx/s over {} validators; faults: {:?}{shaping}{}{}",
        args.seed,
        args.duration.as_secs(),
        args.rate,
        t.nodes.len(),
        kinds,
        byzantine.map_or(String::new(), |i| format!(
            "; {} Byzantine",
            t.nodes[i].name
        )),
        if unavailable.is_empty() {
            String::new()
        } else {
            format!("; left out: {}", unavailable.join(", "))
        }
    );

    let stop_load = AtomicBool::new(false);
    let stop_sampling = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    let problems = Arc::new(Mutex::new(Vec::new()));
    let mut tally = Tally::default();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let started = Instant::now();
    let (offered, faults): (anyhow::Result<Offered>, anyhow::Result<()>) =
        std::thread::scope(|s| {
            let load =
                s.spawn(|| offer_until(&args.dir, Rate::PerSec(args.rate as f64), &stop_load));
            let sampler =
                s.spawn(|| sample_checkpoints(&apis, &policy, &stop_sampling, &seen, &problems));
            let faults = (|| {
                // Load first, faults after a calm start.
                std::thread::sleep(Duration::from_secs(5));
                while started.elapsed() < args.duration {
                    match caught_up(&apis) {
                        Ok(took) => tally.slowest_catch_up = tally.slowest_catch_up.max(took),
                        Err(e) => {
                            tally.problems.push(e);
                            break;
                        }
                    }
                    let fault = kinds[rng.random_range(0..kinds.len())];
                    let what = inject(&args.dir, fault, &mut rng, &apis, byzantine, &mut tally)?;
                    println!("  {:>5.0} s  {what}", started.elapsed().as_secs_f64());
                    std::thread::sleep(Duration::from_secs(rng.random_range(3..=8)));
                }
                Ok(())
            })();
            // Whatever happened: links healed, every validator up, then the load stops.
            if let Ok(t) = read_testnet(&args.dir) {
                if t.netns.is_some() {
                    let _ = netns::heal(&t);
                    for i in 0..t.nodes.len() {
                        let _ = netns::set_link(&t, i, None);
                    }
                }
                for i in 0..t.nodes.len() {
                    let _ = restart(&args.dir, i);
                }
            }
            std::thread::sleep(Duration::from_secs(5));
            stop_load.store(true, Ordering::SeqCst);
            let offered = load.join().expect("the load thread panicked");
            stop_sampling.store(true, Ordering::SeqCst);
            sampler.join().expect("the sampler panicked");
            (offered, faults)
        });
    faults?;
    let offered = offered?;
    println!(
        "faults over; load stopped ({} acknowledged); waiting for the validators to settle",
        offered.acknowledged.len()
    );
    let t = read_testnet(&args.dir)?;
    let apis = self::apis(&t);
    // The honest validators must agree; a Byzantine one's own answers prove nothing.
    let honest: Vec<&NodeApi> = (0..apis.len())
        .filter(|i| Some(*i) != byzantine)
        .map(|i| &apis[i])
        .collect();
    let (size, root) = settle(&honest, &policy)?;
    let seen = seen.into_inner().expect("not poisoned");
    if let Err(e) = consistent(honest[0], &seen, size, &root) {
        tally.problems.push(format!("{e:#}"));
    }
    // The acknowledged transactions still pending when the load stopped get their blocks.
    // A Byzantine validator's 202 promises nothing: only honest acknowledgements are owed.
    let owed: Vec<Hash> = offered
        .acknowledged
        .iter()
        .filter(|(_, by)| Some(*by) != byzantine)
        .map(|(h, _)| *h)
        .collect();
    let mut fate = fates(&honest, &owed)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !fate.2.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(2));
        let again = fates(&honest, &fate.2)?;
        fate = (fate.0 + again.0, fate.1 + again.1, again.2);
    }
    let (size, root) = settle(&honest, &policy)?;
    let twice = entries_twice(honest[0], size, &root)?;
    let (committed, rejected, lost) = fate;
    tally
        .problems
        .extend(problems.lock().expect("not poisoned").drain(..));
    if tally.committed_in_splits > 0 {
        tally.problems.push(format!(
            "{} entries committed while the network was split 2|2",
            tally.committed_in_splits
        ));
    }
    if tally.splits_not_resumed > 0 {
        tally.problems.push(format!(
            "{} splits did not resume after heal",
            tally.splits_not_resumed
        ));
    }
    if tally.isolations_stalled > 0 {
        tally.problems.push(format!(
            "{} proposer isolations stalled the others",
            tally.isolations_stalled
        ));
    }
    if !lost.is_empty() {
        tally.problems.push(format!(
            "{} acknowledged transactions lost, e.g. {}",
            lost.len(),
            lost[0].to_hex()
        ));
    }
    if twice > 0 {
        tally
            .problems
            .push(format!("{twice} transactions committed twice"));
    }
    println!(
        "chaos summary: seed {} {} s {} tx/s | acknowledged {} (by honest validators {}) committed {committed} rejected \
         {rejected} lost {} twice {twice} (busy retries {}, batches resent after transport \
         errors {}) | roots identical on {}/{} honest validators at size {size} | \
         checkpoints {} consistent | kills {} minority {} splits {} (committed during {}) \
         proposer-isolations {} links {} | slowest catch-up {:.1} s | byzantine {} | {}",
        args.seed,
        args.duration.as_secs(),
        args.rate,
        offered.acknowledged.len(),
        owed.len(),
        lost.len(),
        offered.busy,
        offered.transport_errors,
        honest.len(),
        honest.len(),
        seen.len(),
        tally.kills,
        tally.minority,
        tally.splits,
        tally.committed_in_splits,
        tally.isolations,
        if unavailable.iter().any(|u| u.starts_with("link")) {
            "unavailable".to_string()
        } else {
            tally.links.to_string()
        },
        tally.slowest_catch_up.as_secs_f64(),
        byzantine.map_or("none", |i| t.nodes[i].name.as_str()),
        if tally.problems.is_empty() {
            "OK".to_string()
        } else {
            format!("FAILED: {}", tally.problems.join("; "))
        }
    );
    if !tally.problems.is_empty() {
        bail!("chaos found {} problems", tally.problems.len());
    }
    Ok(())
}
