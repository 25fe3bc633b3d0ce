//! `bansos-testnet load`: offers signed allocations and claims to every validator of a testnet
//! at a rate (or as fast as it takes them) and measures what the network commits.
//!
//! Threads: `submitters` build and send batches round-robin over the validators; one poller
//! follows the last accepted transaction of every batch with `GET /v1/tx/<hash>` and records
//! its commit latency. An allocation becomes claimable once its batch's followed transaction
//! is committed (each validator keeps its mempool in arrival order, so a committed last
//! transaction means the batch is in); claims whose allocation is missing show as rejections.
//! Committed tx/s comes from the growth of one validator's `log_size` over the window.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use bansos_genesis::{Network, Role};
use bansos_testnet::batch::BATCH_TXS_MAX;
use bansos_testnet::calendar::{Utc, period};
use bansos_testnet::demo;
use bansos_testnet::stats::{Rate, percentile};
use bansos_verifier::commitment::{Nik, beneficiary_commitment, claim_lock, dedup_tag};
use bansos_verifier::entry::{
    Allocation, AllocationId, AmountRule, Channel, Claim, MemberId, Period, ProgramCode,
    RegionCode, Rupiah, SignedTx, TxBody,
};
use bansos_verifier::hash::Hash;
use bansos_verifier::note::SignerKey;
use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::api::{NodeApi, TxState};
use crate::files::read_testnet;
use crate::process::Interrupts;

/// Pause between two polling rounds of followed transactions.
const POLL_INTERVAL_MS: u64 = 50;
/// Followed transactions polled by one thread; more are split over threads.
const POLL_PER_THREAD: usize = 32;
/// Most allocations kept waiting for a claim (the oldest are dropped past it).
const CLAIMABLE_MAX: usize = 2_000_000;
/// Most distinct rejection reasons kept for the report.
const REASONS_MAX: usize = 50;
/// Most submitters.
pub const SUBMITTERS_MAX: usize = 64;
/// Amount step of allocations in a program with an amount range.
const AMOUNT_STEP_RUPIAH: u64 = 25_000;
/// 10^12: the NIK digits after the region code.
const NIK_SERIALS: u64 = 1_000_000_000_000;

/// What `load` was asked for.
pub struct LoadArgs {
    /// The testnet directory.
    pub dir: PathBuf,
    /// Offered rate.
    pub rate: Rate,
    /// Length of the measured window.
    pub duration: Duration,
    /// Transactions per batch; a default from the rate if absent.
    pub batch: Option<usize>,
    /// Share of claims among the transactions, when enough allocations are committed.
    pub claims_ratio: f64,
    /// Concurrent submitters; one per validator (at least 4 for `max`) if absent.
    pub submitters: Option<usize>,
    /// How long to keep following transactions after the window.
    pub drain: Duration,
}

/// Default batch size: about ten batches a second at a rate, 1,000 at `max`.
pub fn default_batch(rate: Rate) -> usize {
    match rate {
        Rate::Max => 1_000,
        Rate::PerSec(r) => ((r / 10.0).round() as usize).clamp(1, 1_000),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// A committed allocation, with what its payer needs to record a claim.
#[derive(Clone)]
struct Claimable {
    id: AllocationId,
    payer: MemberId,
    amount: Rupiah,
    region: RegionCode,
    secret: [u8; 16],
}

/// A program the loader can allocate under: its issuer's key is in `DIR/keys`.
struct Program {
    code: ProgramCode,
    issuer: MemberId,
    period: Period,
    amount: AmountRule,
    dedup_key: [u8; 32],
}

/// What every submitter shares, read-only.
struct Setup {
    network: Network,
    keys: Vec<Option<SigningKey>>,
    programs: Vec<Program>,
    payers: Vec<MemberId>,
    regions: Vec<(RegionCode, u64)>,
    population: u64,
    nik_base: u64,
    expires_at: u64,
}

/// Reads the genesis and whatever member keys `DIR/keys` holds.
fn setup(dir: &Path, genesis: &Path) -> anyhow::Result<Setup> {
    let bytes = std::fs::read(genesis).with_context(|| format!("reading {}", genesis.display()))?;
    let network = Network::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid genesis", genesis.display()))?;
    // The members in force, if a validator answers: governance may have removed a member or
    // rotated its key since genesis.
    let roster = crate::files::read_testnet(dir).ok().and_then(|t| {
        t.nodes.iter().find_map(|n| {
            let (status, body) = NodeApi::new(&n.name, &n.http).get("/v1/governance").ok()?;
            let v: serde_json::Value = serde_json::from_slice(&body)
                .ok()
                .filter(|_| status == 200)?;
            serde_json::from_value::<bansos_verifier::governance::Roster>(v["roster"].clone()).ok()
        })
    });
    let mut keys = Vec::new();
    for m in &network.genesis.members {
        let path = dir.join("keys").join(format!("{}.key", m.name));
        let in_force = roster.as_ref().and_then(|r| r.member(m.id));
        let Ok(text) = std::fs::read_to_string(&path) else {
            keys.push(None);
            continue;
        };
        if in_force.is_some_and(|r| !r.active) {
            keys.push(None); // removed by governance: it signs nothing any more
            continue;
        }
        let k = SignerKey::parse(text.trim())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let public = k.signing_key().verifying_key();
        let expected = match in_force {
            Some(r) => r.key == Some(public.to_bytes()),
            None => Some(&public) == network.key(m.id),
        };
        if k.name() != m.name || !expected {
            bail!(
                "{} is not the key of member {} in force (genesis, or its rotation)",
                path.display(),
                m.name
            );
        }
        keys.push(Some(k.signing_key().clone()));
    }
    let now = unix_now();
    let mut programs = Vec::new();
    for p in &network.genesis.programs {
        if keys[p.issuer.0 as usize].is_none() {
            continue;
        }
        let issuer = network.member(p.issuer).expect("validated genesis");
        let path = dir.join("keys").join(format!("{}.dedup-key", issuer.name));
        let dedup_key = match std::fs::read_to_string(&path) {
            Ok(hex) => data_encoding::HEXLOWER_PERMISSIVE
                .decode(hex.trim().as_bytes())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .with_context(|| format!("{} is not 64 hex digits", path.display()))?,
            // Without the ministry's key, a key of this run still makes distinct tags.
            Err(_) => rand::random(),
        };
        programs.push(Program {
            code: p.code.clone(),
            issuer: p.issuer,
            period: period(p.period_kind, now),
            amount: p.amount,
            dedup_key,
        });
    }
    let payers: Vec<MemberId> = network
        .genesis
        .members
        .iter()
        .filter(|m| m.role == Role::Bank && keys[m.id.0 as usize].is_some())
        .map(|m| m.id)
        .collect();
    if programs.is_empty() {
        bail!(
            "no genesis program has its issuing ministry's key in {}/keys: nothing to allocate",
            dir.display()
        );
    }
    if payers.is_empty() {
        bail!(
            "no bank or PT Pos key in {}/keys: nothing could claim",
            dir.display()
        );
    }
    let regions = demo::regions();
    let population = regions.iter().map(|r| r.1).sum();
    Ok(Setup {
        network,
        keys,
        programs,
        payers,
        regions,
        population,
        nik_base: rand::random_range(0..NIK_SERIALS),
        expires_at: now + demo::ALLOCATION_LIFETIME_SECS,
    })
}

impl Setup {
    fn sign(&self, signer: MemberId, body: TxBody) -> SignedTx {
        let key = self.keys[signer.0 as usize]
            .as_ref()
            .expect("only members with keys sign");
        SignedTx::sign(&self.network.id, signer, body, key).expect("generated bodies are valid")
    }

    /// A new allocation to a synthetic person; `serial` makes its NIK unique in the run.
    fn allocation(&self, rng: &mut StdRng, serial: u64) -> (SignedTx, Claimable) {
        let p = &self.programs[rng.random_range(0..self.programs.len())];
        let region = demo::pick_region(rng, &self.regions, self.population);
        let nik = format!(
            "{:04}{:012}",
            region.get(),
            (self.nik_base + serial) % NIK_SERIALS
        );
        let nik = Nik::parse(&nik).expect("16 digits");
        let amount = match p.amount {
            AmountRule::Flat(a) => a,
            AmountRule::Range { min, max } => {
                let steps = (max.0 - min.0) / AMOUNT_STEP_RUPIAH;
                Rupiah(min.0 + AMOUNT_STEP_RUPIAH * rng.random_range(0..=steps))
            }
        };
        let salt: [u8; 32] = rng.random();
        let secret: [u8; 16] = rng.random();
        let payer = self.payers[rng.random_range(0..self.payers.len())];
        let a = Allocation {
            id: AllocationId(rng.random()),
            program: p.code.clone(),
            period: p.period.clone(),
            region,
            amount,
            payer,
            beneficiary_commitment: beneficiary_commitment(&salt, &nik),
            dedup_tag: dedup_tag(&p.dedup_key, p.code.as_str(), p.period.as_str(), &nik),
            claim_lock: claim_lock(&secret),
            expires_at: self.expires_at,
        };
        let c = Claimable {
            id: a.id,
            payer,
            amount,
            region,
            secret,
        };
        (self.sign(p.issuer, TxBody::Allocation(a)), c)
    }

    /// The full claim of a committed allocation by its payer, paid now.
    fn claim(&self, rng: &mut StdRng, c: &Claimable) -> SignedTx {
        let is_pos = self
            .network
            .member(c.payer)
            .is_some_and(|m| m.name == "pos");
        let channel = if is_pos {
            [Channel::PosOutlet, Channel::PosDoor][rng.random_range(0..2)]
        } else {
            [
                Channel::Kks,
                Channel::Agent,
                Channel::Ewarong,
                Channel::BankTeller,
            ][rng.random_range(0..4)]
        };
        self.sign(
            c.payer,
            TxBody::Claim(Claim {
                allocation: c.id,
                amount: c.amount,
                channel,
                region: c.region,
                outlet: rng.random(),
                claim_secret: c.secret,
                claimed_at: unix_now(),
            }),
        )
    }
}

/// A transaction of a batch.
struct Item {
    bytes: Vec<u8>,
    hash: Hash,
    /// For an allocation: what claiming it needs.
    allocation: Option<Claimable>,
}

/// A batch's last accepted transaction, followed until committed.
struct Followed {
    hash: Hash,
    node: usize,
    sent: Instant,
    /// The batch's accepted allocations, claimable once `hash` is committed.
    allocations: Vec<Claimable>,
}

/// Counters and queues shared by the threads.
#[derive(Default)]
struct Shared {
    allocations: AtomicU64,
    claims: AtomicU64,
    rejected_on_submission: AtomicU64,
    rejected_on_commit: AtomicU64,
    busy: AtomicU64,
    transport_errors: AtomicU64,
    batches: AtomicU64,
    /// Batches whose last accepted transaction was handed to the poller.
    followed: AtomicU64,
    /// Of those, committed or rejected so far.
    resolved: AtomicU64,
    nik_serial: AtomicU64,
    claimable: Mutex<VecDeque<Claimable>>,
    to_follow: Mutex<Vec<Followed>>,
    latencies_ms: Mutex<Vec<u64>>,
    reasons: Mutex<BTreeMap<String, u64>>,
    /// Submitters stop.
    stop: AtomicBool,
    /// The poller stops.
    stop_polling: AtomicBool,
    /// Whether to keep every acknowledged hash (`chaos`).
    record: bool,
    /// Hashes answered pending or committed, with the validator that answered, if `record`.
    acknowledged: Mutex<Vec<(Hash, usize)>>,
}

impl Shared {
    fn reason(&self, why: &str) {
        let mut r = self.reasons.lock().expect("not poisoned");
        let key: String = why.chars().take(200).collect();
        if r.len() < REASONS_MAX || r.contains_key(&key) {
            *r.entry(key).or_default() += 1;
        }
    }

    fn add_claimable(&self, c: impl IntoIterator<Item = Claimable>) {
        let mut q = self.claimable.lock().expect("not poisoned");
        q.extend(c);
        while q.len() > CLAIMABLE_MAX {
            q.pop_front();
        }
    }
}

struct Plan<'a> {
    setup: &'a Setup,
    apis: &'a [NodeApi],
    rate: Rate,
    batch: usize,
    claims_ratio: f64,
    submitters: usize,
    start: Instant,
    end: Instant,
}

fn sleep_until(t: Instant, shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= t {
            return;
        }
        std::thread::sleep((t - now).min(Duration::from_millis(100)));
    }
}

/// Submitter `j`: batches `j`, `j + submitters`, ... on the rate's schedule.
fn submitter(j: usize, plan: &Plan<'_>, shared: &Shared) {
    let mut rng = StdRng::from_rng(&mut rand::rng());
    let mut carry: Vec<Item> = Vec::new();
    let mut k = j as u64;
    loop {
        if let Some(due) = plan.rate.due(k, plan.batch) {
            sleep_until(plan.start + due, shared);
        }
        if shared.stop.load(Ordering::SeqCst) || Instant::now() >= plan.end {
            return;
        }
        let fresh = plan.batch.saturating_sub(carry.len());
        let claims_wanted = (fresh as f64 * plan.claims_ratio).round() as usize;
        let to_claim: Vec<Claimable> = {
            let mut q = shared.claimable.lock().expect("not poisoned");
            let n = claims_wanted.min(q.len());
            q.drain(..n).collect()
        };
        let mut items = std::mem::take(&mut carry);
        for c in &to_claim {
            let tx = plan.setup.claim(&mut rng, c);
            items.push(Item {
                bytes: tx.encode(),
                hash: tx.hash(),
                allocation: None,
            });
        }
        for _ in to_claim.len()..fresh {
            let serial = shared.nik_serial.fetch_add(1, Ordering::Relaxed);
            let (tx, c) = plan.setup.allocation(&mut rng, serial);
            items.push(Item {
                bytes: tx.encode(),
                hash: tx.hash(),
                allocation: Some(c),
            });
        }
        let node = (k as usize) % plan.apis.len();
        k += plan.submitters as u64;
        let bodies: Vec<&[u8]> = items.iter().map(|i| i.bytes.as_slice()).collect();
        let sent = Instant::now();
        let (results, retry_after) = match plan.apis[node].submit(&bodies) {
            Ok(r) => r,
            Err(_) => {
                // A validator down (a crash test) must not stop the load: the next batch goes
                // to the next validator and carries this one.
                shared.transport_errors.fetch_add(1, Ordering::Relaxed);
                carry = items;
                if plan.rate == Rate::Max {
                    std::thread::sleep(Duration::from_millis(100));
                }
                continue;
            }
        };
        shared.batches.fetch_add(1, Ordering::Relaxed);
        let mut accepted_allocations = Vec::new();
        let mut last_pending = None;
        for (item, r) in items.into_iter().zip(results) {
            match r.status.as_str() {
                "pending" | "committed" => {
                    let counter = if item.allocation.is_some() {
                        &shared.allocations
                    } else {
                        &shared.claims
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    if shared.record {
                        shared
                            .acknowledged
                            .lock()
                            .expect("not poisoned")
                            .push((item.hash, node));
                    }
                    if r.status == "pending" {
                        last_pending = Some(item.hash);
                    }
                    accepted_allocations.extend(item.allocation);
                }
                "busy" => {
                    shared.busy.fetch_add(1, Ordering::Relaxed);
                    carry.push(item);
                }
                other => {
                    shared
                        .rejected_on_submission
                        .fetch_add(1, Ordering::Relaxed);
                    let why = r.message.unwrap_or_else(|| format!("status {other}"));
                    shared.reason(&format!("on submission: {why}"));
                }
            }
        }
        match last_pending {
            Some(hash) => {
                shared.followed.fetch_add(1, Ordering::SeqCst);
                shared
                    .to_follow
                    .lock()
                    .expect("not poisoned")
                    .push(Followed {
                        hash,
                        node,
                        sent,
                        allocations: accepted_allocations,
                    });
            }
            // Everything accepted was already committed.
            None => shared.add_claimable(accepted_allocations),
        }
        if !carry.is_empty() && plan.rate == Rate::Max {
            std::thread::sleep(Duration::from_secs(retry_after.unwrap_or(1).clamp(1, 10)));
        }
    }
}

/// Follows batches until `stop_polling`; returns those still unresolved then.
fn poller(apis: &[NodeApi], shared: &Shared) -> usize {
    let mut outstanding: Vec<Followed> = Vec::new();
    loop {
        let stopping = shared.stop_polling.load(Ordering::SeqCst);
        outstanding.append(&mut shared.to_follow.lock().expect("not poisoned"));
        if stopping {
            return outstanding.len();
        }
        let states: Vec<(anyhow::Result<TxState>, Instant)> = std::thread::scope(|s| {
            let handles: Vec<_> = outstanding
                .chunks(POLL_PER_THREAD)
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|f| (apis[f.node].tx(&f.hash), Instant::now()))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a polling thread panicked"))
                .collect()
        });
        let mut still = Vec::new();
        for (mut f, (state, at)) in outstanding.drain(..).zip(states) {
            match state {
                Ok(TxState::Committed { .. }) => {
                    let ms = (at - f.sent).as_millis() as u64;
                    shared.latencies_ms.lock().expect("not poisoned").push(ms);
                    shared.add_claimable(f.allocations);
                    shared.resolved.fetch_add(1, Ordering::SeqCst);
                }
                Ok(TxState::Rejected(why)) => {
                    shared.rejected_on_commit.fetch_add(1, Ordering::Relaxed);
                    shared.resolved.fetch_add(1, Ordering::SeqCst);
                    shared.reason(&format!("when committed: {why}"));
                }
                Ok(TxState::Pending | TxState::Unknown) => still.push(f),
                Err(_) => {
                    // That validator is down: ask another one.
                    f.node = (f.node + 1) % apis.len();
                    still.push(f);
                }
            }
        }
        outstanding = still;
        std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS));
    }
}

/// The log size of the first validator in `order` that answers, with its index.
fn log_size(apis: &[NodeApi], prefer: usize) -> Option<(usize, u64)> {
    (0..apis.len())
        .map(|i| (prefer + i) % apis.len())
        .find_map(|i| apis[i].status().ok().map(|s| (i, s.log_size)))
}

/// `n` allocations that name real members and carry signatures nobody made: what an outsider
/// can send, since member ids are public (`bansos-testnet flood`).
pub fn junk(dir: &Path, genesis: &Path, n: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let setup = setup(dir, genesis)?;
    let mut rng = StdRng::from_rng(&mut rand::rng());
    Ok((0..n as u64)
        .map(|serial| {
            let (mut tx, _) = setup.allocation(&mut rng, serial);
            tx.signature = rng.random();
            tx.encode()
        })
        .collect())
}

/// What [`offer_until`] offered.
pub struct Offered {
    /// Every transaction a validator answered pending (202) or committed, with that
    /// validator's index.
    pub acknowledged: Vec<(Hash, usize)>,
    /// Busy answers, sent again.
    pub busy: u64,
    /// Batches sent again after a transport error (a validator down or cut off).
    pub transport_errors: u64,
}

/// Offers load at `rate` to the testnet in `dir` until `stop`, keeping every acknowledged
/// hash (`bansos-testnet chaos`).
pub fn offer_until(dir: &Path, rate: Rate, stop: &AtomicBool) -> anyhow::Result<Offered> {
    let t = read_testnet(dir)?;
    let setup = setup(dir, &t.genesis)?;
    let apis: Vec<NodeApi> = t
        .nodes
        .iter()
        .map(|n| NodeApi::new(&n.name, &n.http))
        .collect();
    let shared = Shared {
        record: true,
        ..Shared::default()
    };
    let start = Instant::now();
    let plan = Plan {
        setup: &setup,
        apis: &apis,
        rate,
        batch: default_batch(rate),
        claims_ratio: 0.4,
        submitters: apis.len(),
        start,
        end: start + Duration::from_secs(100 * 365 * 86_400),
    };
    std::thread::scope(|s| {
        let poll = s.spawn(|| poller(&apis, &shared));
        let subs: Vec<_> = (0..plan.submitters)
            .map(|j| {
                let (plan, shared) = (&plan, &shared);
                s.spawn(move || submitter(j, plan, shared))
            })
            .collect();
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        shared.stop.store(true, Ordering::SeqCst);
        for h in subs {
            h.join().expect("a submitter panicked");
        }
        shared.stop_polling.store(true, Ordering::SeqCst);
        poll.join().expect("the poller panicked");
    });
    Ok(Offered {
        busy: shared.busy.load(Ordering::Relaxed),
        transport_errors: shared.transport_errors.load(Ordering::Relaxed),
        acknowledged: shared.acknowledged.into_inner().expect("not poisoned"),
    })
}

/// `bansos-testnet load`.
pub fn load(args: LoadArgs) -> anyhow::Result<()> {
    if !(0.0..1.0).contains(&args.claims_ratio) {
        bail!(
            "--claims-ratio {}: give a share from 0 up to (not including) 1; claims need \
             allocations to claim",
            args.claims_ratio
        );
    }
    let batch = args.batch.unwrap_or_else(|| default_batch(args.rate));
    if !(1..=BATCH_TXS_MAX).contains(&batch) {
        bail!("--batch {batch}: a batch holds 1 to {BATCH_TXS_MAX} transactions");
    }
    let t = read_testnet(&args.dir)?;
    let interrupts = Interrupts::install()?;
    let setup = setup(&args.dir, &t.genesis)?;
    let apis: Vec<NodeApi> = t
        .nodes
        .iter()
        .map(|n| NodeApi::new(&n.name, &n.http))
        .collect();
    let submitters = args.submitters.unwrap_or(match args.rate {
        Rate::Max => apis.len().max(4),
        Rate::PerSec(_) => apis.len(),
    });
    if !(1..=SUBMITTERS_MAX).contains(&submitters) {
        bail!("--submitters {submitters}: give 1 to {SUBMITTERS_MAX}");
    }
    let Some((measured, size_start)) = log_size(&apis, 0) else {
        bail!(
            "no validator of {} answers GET /v1/status: is the testnet up? ({})",
            args.dir.display(),
            t.names()
        );
    };
    let started_at = Utc::from_unix(unix_now()).compact();
    println!(
        "load: rate {} tx/s, {} s, batches of {batch}, {submitters} submitters, claims {:.0}%, \
         round-robin over {} validators ({}); Ctrl-C ends early",
        args.rate,
        args.duration.as_secs(),
        args.claims_ratio * 100.0,
        apis.len(),
        t.names()
    );

    let shared = Shared::default();
    let start = Instant::now();
    let plan = Plan {
        setup: &setup,
        apis: &apis,
        rate: args.rate,
        batch,
        claims_ratio: args.claims_ratio,
        submitters,
        start,
        end: start + args.duration,
    };
    let (window, size_end, measured_end, unresolved) = std::thread::scope(|s| {
        let poll = s.spawn(|| poller(&apis, &shared));
        let subs: Vec<_> = (0..submitters)
            .map(|j| {
                let (plan, shared) = (&plan, &shared);
                s.spawn(move || submitter(j, plan, shared))
            })
            .collect();
        while Instant::now() < plan.end && !interrupts.any() {
            std::thread::sleep(Duration::from_millis(50));
        }
        // The window closes now, whatever is still in flight.
        let window = start.elapsed();
        let end = log_size(&apis, measured);
        shared.stop.store(true, Ordering::SeqCst);
        for h in subs {
            h.join().expect("a submitter panicked");
        }
        // Let followed transactions commit, then stop following.
        let drain_end = Instant::now() + args.drain;
        while Instant::now() < drain_end
            && interrupts.count() < 2
            && shared.resolved.load(Ordering::SeqCst) < shared.followed.load(Ordering::SeqCst)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        shared.stop_polling.store(true, Ordering::SeqCst);
        let unresolved = poll.join().expect("the poller panicked");
        (window, end.map(|e| e.1), end.map(|e| e.0), unresolved)
    });
    let size_after = log_size(&apis, measured_end.unwrap_or(measured)).map(|s| s.1);

    let secs = window.as_secs_f64().max(1e-9);
    let allocations = shared.allocations.load(Ordering::Relaxed);
    let claims = shared.claims.load(Ordering::Relaxed);
    let submitted = allocations + claims;
    let committed = size_end.map(|e| e.saturating_sub(size_start));
    let mut lat = shared.latencies_ms.into_inner().expect("not poisoned");
    lat.sort_unstable();
    let (p50, p99, max) = (
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        lat.last().copied(),
    );
    let reasons = shared.reasons.into_inner().expect("not poisoned");
    let rejected_submit = shared.rejected_on_submission.load(Ordering::Relaxed);
    let rejected_commit = shared.rejected_on_commit.load(Ordering::Relaxed);
    let busy = shared.busy.load(Ordering::Relaxed);
    let transport = shared.transport_errors.load(Ordering::Relaxed);
    let measured_name = &apis[measured_end.unwrap_or(measured)].name;

    let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| format!("{v} ms"));
    println!();
    println!(
        "  {:<34} {:>10} {:>10}",
        format!("over {secs:.1} s"),
        "count",
        "per s"
    );
    println!(
        "  {:<34} {:>10} {:>10.1}   (allocations {allocations}, claims {claims})",
        "submitted (accepted by the API)",
        submitted,
        submitted as f64 / secs
    );
    match committed {
        Some(c) => println!(
            "  {:<34} {:>10} {:>10.1}",
            format!("committed ({measured_name}'s log size)"),
            c,
            c as f64 / secs
        ),
        None => println!("  committed: no validator answered at the end of the window"),
    }
    println!("  {:<34} {:>10}", "rejected on submission", rejected_submit);
    println!(
        "  {:<34} {:>10}   (of {} followed batches)",
        "rejected when committed",
        rejected_commit,
        lat.len() as u64 + rejected_commit + unresolved as u64
    );
    println!("  {:<34} {:>10}", "busy answers, sent again", busy);
    println!(
        "  {:<34} {:>10}",
        "batches lost to transport errors", transport
    );
    println!(
        "  commit latency: p50 {}, p99 {}, max {}  ({} batches; {unresolved} not committed {} s after the window)",
        ms(p50),
        ms(p99),
        ms(max),
        lat.len(),
        args.drain.as_secs()
    );
    for (why, n) in reasons.iter().take(5) {
        println!("  {n} × {why}");
    }

    let report = serde_json::json!({
        "started_at": started_at,
        "dir": args.dir,
        "validators": t.nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>(),
        "rate": match args.rate {
            Rate::Max => serde_json::json!("max"),
            Rate::PerSec(r) => serde_json::json!(r),
        },
        "batch": batch,
        "submitters": submitters,
        "claims_ratio": args.claims_ratio,
        "window_secs": secs,
        "submitted": {
            "allocations": allocations,
            "claims": claims,
            "total": submitted,
            "per_sec": submitted as f64 / secs,
        },
        "committed": {
            "measured_on": measured_name,
            "log_size_start": size_start,
            "log_size_end": size_end,
            "log_size_after_drain": size_after,
            "in_window": committed,
            "per_sec": committed.map(|c| c as f64 / secs),
        },
        "rejected_on_submission": rejected_submit,
        "rejected_on_commit": rejected_commit,
        "busy_retries": busy,
        "transport_errors": transport,
        "latency_ms": {
            "method": "submission of a batch to the first GET /v1/tx of its last accepted transaction that answers committed",
            "batches": lat.len(),
            "p50": p50,
            "p99": p99,
            "max": max,
            "unresolved": unresolved,
        },
        "rejection_reasons": reasons,
    });
    let path = args.dir.join(format!("load-{started_at}.json"));
    let mut text = serde_json::to_vec_pretty(&report).expect("a report serializes");
    text.push(b'\n');
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bansos_ledger::rules::Block;
    use bansos_ledger::{Ledger, MemoryStore};

    #[test]
    fn default_batches_make_about_ten_a_second() {
        assert_eq!(default_batch(Rate::Max), 1_000);
        assert_eq!(default_batch(Rate::PerSec(1_000.0)), 100);
        assert_eq!(default_batch(Rate::PerSec(3.0)), 1);
        assert_eq!(default_batch(Rate::PerSec(1e6)), 1_000);
    }

    #[test]
    fn generated_allocations_and_their_claims_pass_the_rules() {
        let mut rng = demo::rng(11);
        let net = demo::network(&mut rng, 27_000);
        let now = unix_now();
        let network = net.network.clone();
        let programs = network
            .genesis
            .programs
            .iter()
            .map(|p| Program {
                code: p.code.clone(),
                issuer: p.issuer,
                period: period(p.period_kind, now),
                amount: p.amount,
                dedup_key: net.dedup_key,
            })
            .collect();
        let regions = demo::regions();
        let setup = Setup {
            keys: net.keys.iter().cloned().map(Some).collect(),
            programs,
            payers: vec![MemberId(2), MemberId(3)],
            population: regions.iter().map(|r| r.1).sum(),
            regions,
            // Serials wrap around 10^12 without repeating within a run.
            nik_base: NIK_SERIALS - 100,
            expires_at: now + demo::ALLOCATION_LIFETIME_SECS,
            network,
        };
        let (allocations, claimable): (Vec<SignedTx>, Vec<Claimable>) =
            (0..300).map(|i| setup.allocation(&mut rng, i)).unzip();
        let claims: Vec<SignedTx> = claimable.iter().map(|c| setup.claim(&mut rng, c)).collect();
        let mut ledger = Ledger::open(net.network.clone(), MemoryStore::new()).unwrap();
        for (height, txs) in [(1, allocations), (2, claims)] {
            let applied = ledger
                .apply(&Block {
                    height,
                    time: now + height,
                    txs,
                })
                .unwrap();
            assert!(
                applied.outcome.rejected.is_empty(),
                "{:?}",
                applied.outcome.rejected.first()
            );
            assert_eq!(applied.outcome.accepted.len(), 300);
        }
    }
}
