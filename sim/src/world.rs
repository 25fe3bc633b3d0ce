//! The simulated world: validators, the network between them, the faults, and the event loop.
//!
//! Events wait in one queue ordered by (time, insertion number), so the run is a function of
//! the seed alone. A validator is Malachite's consensus `State` (its input queue and effects
//! driven by `process!`), our [`Core`] over a memory store (what a crash keeps), its timers and
//! its write-ahead log. Every answer the engine gives asynchronously (a proposal value, the
//! next height, a value assembled from parts) is queued as a later event, never fed from
//! inside `process!` (which holds the state for the whole input).
//!
//! Each validator's shell is `consensus::app`'s: Malachite gets the core's validator set of
//! every height (`Core::validator_set`, which follows the roster), and, in governance runs, each
//! validator has its own mempool (`bansos_ledger::mempool::Mempool`, kept across crashes as the
//! journal keeps it) whose roster it sets from `Committed::roster`, admitting transactions as
//! the node's API does and forwarding them to the others. Without governance the validators
//! share one pool of transactions, as the simulator always did (a seed's run is unchanged).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use bansos_genesis::ConsensusTimeouts;
use bansos_ledger::mempool::{Admission, MEMPOOL_BYTES_MAX, Mempool};
use bansos_ledger::rules::governance;
use bansos_ledger::store::{ConsensusStore, StateRead};
use bansos_ledger::{Ledger, MemoryStore};
use bansos_node::consensus::core::{BlockPolicy, Committed, Core, Effect, Faults, Input, Reply};
use bansos_node::consensus::ctx::{
    Address, BansosContext, Height, Proposal, ProposalPart, ValidatorSet, ValueId, Vote,
};
use bansos_node::consensus::liveness::OwnPrecommits;
use bansos_node::consensus::signing::{ConsensusSigner, ConsensusVerifier};
use bansos_node::consensus::testkit::TestNetwork;
use bansos_node::node::whoami;
use bansos_verifier::entry::{
    AmountRule, MemberId, PeriodKind, ProgramCode, ProgramRegistered, Rupiah, SignedTx, TxBody,
};
use bansos_verifier::governance::{Change, Vote as GovernanceVote};
use bansos_verifier::hash::Hash;
use bansos_verifier::note::SignerKey;
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::{
    self as mc, ConsensusMsg, LivenessMsg, Params, Resumable, Resume, SignedConsensusMsg, State,
};
use malachitebft_app_channel::app::metrics::Metrics;
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::PeerId;
use malachitebft_app_channel::app::types::core::{
    ExtendedCommitCertificate, NilOrVal, Round, SignedVote, ThresholdParam, ThresholdParams,
    Timeout, Value as _, ValueOrigin, ValueResponse, VoteExtensionPolicy, VoteExtensionScope,
    VoteType,
};
use malachitebft_app_channel::{Signer as _, Verifier as _};
use malachitebft_signing::VerifierExt as _;

use crate::check::{Checker, Violation};
use crate::governance::{Plan, Planned, RESUBMIT_MS, Scenario};
use crate::{Bug, Config, Outcome, Rng, Stats, block_on};

type Ctx = BansosContext;
type CInput = mc::Input<Ctx>;
type CEffect = mc::Effect<Ctx>;

/// Unix milliseconds at simulated time 0.
const EPOCH_MS: u64 = 1_800_000_000_000;
/// Genesis timeouts of the simulated network (milliseconds) and the block-time bound.
const TIMEOUTS: ConsensusTimeouts = ConsensusTimeouts {
    propose_ms: 1000,
    prevote_ms: 300,
    precommit_ms: 300,
    block_time_drift_ms: 2000,
};
/// Status broadcasts (value sync) every this many milliseconds.
const STATUS_MS: u64 = 300;
/// A validator asks again for a height it asked for this long ago.
const SYNC_RETRY_MS: u64 = 400;
/// Transactions arrive, and Byzantine validators replay, on this tick.
const TICK_MS: u64 = 100;
/// Most transactions waiting in the shared mempool.
const POOL_MAX: usize = 300;
/// Steps of trace kept for a violation's report.
const TRACE_KEPT: usize = 60;
/// Old messages a Byzantine validator keeps to replay.
const REPLAY_KEPT: usize = 64;
/// Most transactions in one proposal.
const BLOCK_TXS: usize = 200;
/// Salt of the generator that draws a run's governance plan (the run's own generator draws
/// exactly what it drew before governance existed).
const GOVERNANCE_SALT: u64 = 0x6076_e24a_11ce_5eed;

/// A message between validators.
#[derive(Clone, Debug)]
enum Msg {
    Consensus(SignedConsensusMsg<Ctx>),
    Liveness(LivenessMsg<Ctx>),
    Part(StreamMessage<ProposalPart>),
    /// Value sync: the sender's last committed height.
    Status(u64),
    /// Value sync: send me this decided height.
    SyncRequest(u64),
    /// Value sync: a decided block and its certificate.
    SyncResponse(Bytes, ExtendedCommitCertificate<Ctx>),
    /// Transactions a validator admitted, forwarded to a peer (governance runs).
    Txs(Vec<Bytes>),
}

impl Msg {
    fn kind(&self) -> String {
        match self {
            Msg::Consensus(SignedConsensusMsg::Vote(v)) => vote_label(&v.message),
            Msg::Consensus(SignedConsensusMsg::Proposal(p)) => format!(
                "proposal h{} r{} {}",
                p.message.height.0,
                p.message.round,
                p.message.value.id()
            ),
            Msg::Liveness(LivenessMsg::Vote(v)) => format!("re-{}", vote_label(&v.message)),
            Msg::Liveness(LivenessMsg::PolkaCertificate(c)) => {
                format!("polka-cert h{} r{}", c.height.0, c.round)
            }
            Msg::Liveness(LivenessMsg::SkipRoundCertificate(c)) => {
                format!("round-cert h{} r{}", c.height.0, c.round)
            }
            Msg::Part(p) => format!("part {}", p.sequence),
            Msg::Status(h) => format!("status {h}"),
            Msg::SyncRequest(h) => format!("sync-request {h}"),
            Msg::SyncResponse(_, c) => format!("sync-response {}", c.height.0),
            Msg::Txs(t) => format!("{} transactions", t.len()),
        }
    }
}

fn vote_label(v: &Vote) -> String {
    let kind = match v.vote_type {
        VoteType::Prevote => "prevote",
        VoteType::Precommit => "precommit",
    };
    let value = match &v.value {
        NilOrVal::Nil => "nil".to_string(),
        NilOrVal::Val(id) => id.to_string(),
    };
    format!("{kind} h{} r{} {value}", v.height.0, v.round)
}

/// Something that happens at a time.
#[derive(Debug)]
enum Ev {
    Deliver {
        from: usize,
        to: usize,
        msg: Msg,
    },
    Timer {
        node: usize,
        life: u64,
        timeout: Timeout,
        generation: u64,
    },
    /// An answer the engine gives asynchronously, for the validator's current life.
    Feed {
        node: usize,
        life: u64,
        input: CInput,
    },
    /// The mempool answer for a proposal being built.
    Collect {
        node: usize,
        life: u64,
        height: Height,
        round: Round,
    },
    Tick,
    Crash(usize),
    Restart(usize),
    /// A validator's clock is set this far (ms) from simulated time.
    ClockJump(usize, i64),
    Partition(Vec<u8>),
    Heal,
    /// A joining validator's node starts for the first time.
    Join(usize),
    /// A rotated validator's operator restarts its node with the new key.
    SwitchKey(usize),
    /// A removed validator's operator shuts its node down for good.
    Retire(usize),
}

/// A Byzantine proposer's conflicting block: its proposal, its parts, and which peers get it.
type Second = (Proposal, Vec<StreamMessage<ProposalPart>>, Vec<bool>);

/// What a Byzantine validator does.
#[derive(Clone, Debug, Default)]
struct Byzantine {
    equivocate_votes: bool,
    equivocate_proposals: bool,
    withhold_parts: bool,
    replay: bool,
    /// Old messages to replay.
    seen: VecDeque<Msg>,
    /// The proposal being streamed, while its parts are published.
    building: Option<(u64, u32)>,
    /// (height, round) → the conflicting proposal's value and parts, and which peers get it.
    second: BTreeMap<(u64, u32), Second>,
}

/// A running validator's volatile state: all of it is lost in a crash.
struct Live {
    state: State<Ctx>,
    core: Core<MemoryStore>,
    metrics: Metrics,
    /// Active timers and their generation (a rescheduled timer replaces the old one).
    timers: Vec<(Timeout, u64)>,
    generation: u64,
    /// Proposal being built: (height, round, earliest, deadline) in simulated ms.
    collecting: Option<(Height, Round, u64, u64)>,
    /// Its precommits of earlier rounds, sent again when the engine rebroadcasts (the shell's).
    precommits: OwnPrecommits,
}

/// One validator.
struct Node {
    index: usize,
    address: Address,
    /// Its key file.
    key: SignerKey,
    /// The key its operator switches to once its rotation is approved.
    next_key: Option<SignerKey>,
    /// Keys it switched to so far (its votes are told apart by key).
    key_generation: u8,
    /// node.toml's `member_id` (a validator joining by governance).
    member_id: Option<u16>,
    signer: ConsensusSigner,
    /// Its clock's offset from simulated time, milliseconds.
    clock_offset: i64,
    faults: Faults,
    byzantine: Option<Byzantine>,
    /// Incremented at each crash: events for an earlier life are dropped.
    life: u64,
    live: Option<Live>,
    /// What survives a crash: the store, and the write-ahead log up to its last flush.
    store: Option<MemoryStore>,
    wal: Vec<CInput>,
    wal_height: Height,
    wal_flushed: usize,
    /// Last committed height and log size when it crashed.
    before_crash: (u64, bansos_verifier::hash::TreeSize),
    /// When it last asked for a decided height, and which.
    sync_asked: (u64, u64),
    /// Highest committed height.
    committed: u64,
    /// Started at least once (a joining validator starts later than the others).
    started: bool,
    /// Shut down for good (removed by governance).
    retired: bool,
    /// Its mempool in governance runs: what it acknowledged, kept across crashes (the journal).
    mempool: Option<Mempool>,
}

/// The simulation.
pub struct World {
    config: Config,
    seed: u64,
    net: TestNetwork,
    /// The genesis validators (what validator 0 keeps with the fixed-validator-set bug).
    genesis_vs: ValidatorSet,
    verifier: ConsensusVerifier,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    nodes: Vec<Option<Node>>,
    /// Network: delay range (ms), loss and duplication probabilities.
    delay: (u64, u64),
    loss: f64,
    duplicate: f64,
    /// Partition: each validator's side, if split.
    sides: Option<Vec<u8>>,
    /// The shared mempool: transactions waiting, by hash.
    pool: BTreeMap<Hash, Bytes>,
    next_tx: u64,
    checker: Checker,
    stats: Stats,
    steps: u64,
    hash: u64,
    recent: VecDeque<String>,
    /// Simulated time the network healed, and the lowest honest height then.
    healed: Option<(u64, u64)>,
    violation: Option<Violation>,
    /// The validators' votes on changes to themselves, if the run has a governance scenario.
    gov: Option<Gov>,
}

/// A governance run's votes: the plan and what became of it.
struct Gov {
    plan: Plan,
    /// Each planned change as voted (built when first voted: a rotation is signed by the key of
    /// then).
    changes: Vec<Option<Change>>,
    /// Each planned change's approval height.
    approved: Vec<Option<u64>>,
    /// Each member's key as its operator holds it (it signs the votes and, for member 0, the
    /// programs).
    keys: Vec<SignerKey>,
    /// Votes of the epoch start at this simulated time.
    vote_from: u64,
    /// Approvals seen so far.
    seen: usize,
    /// (voter, planned change, epoch) → when it last submitted that vote.
    sent: BTreeMap<(u16, usize, u64), u64>,
    /// Votes the Byzantine validators signed: they submit them again and put them in their
    /// own proposals.
    byzantine_votes: Vec<(usize, Bytes)>,
}

impl Node {
    /// Validator `i` (member id `i`) with `key` and an empty store, honest, starting with the
    /// network.
    fn new(net: &TestNetwork, i: usize, key: SignerKey, clock_offset: i64) -> Node {
        Node {
            index: i,
            address: Address(i as u16),
            signer: ConsensusSigner::new(net.ctx.clone(), key.signing_key().to_bytes()),
            key,
            next_key: None,
            key_generation: 0,
            member_id: None,
            clock_offset,
            faults: Faults::default(),
            byzantine: None,
            life: 0,
            live: None,
            store: Some(MemoryStore::new()),
            wal: Vec::new(),
            wal_height: Height(0),
            wal_flushed: 0,
            before_crash: (0, bansos_verifier::hash::TreeSize(0)),
            sync_asked: (0, 0),
            committed: 0,
            started: true,
            retired: false,
            mempool: None,
        }
    }
}

fn peer_id(i: usize) -> PeerId {
    PeerId::from_bytes(&[0, 4, 0x51, 0x4d, 0, i as u8]).expect("an identity peer id")
}

impl World {
    /// A world for `config` and `seed`: validators, faults and the schedule of partitions and
    /// crashes, all drawn from the seed.
    pub fn new(config: Config, seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let n = config.validators;
        let net = TestNetwork::new(n, TIMEOUTS);
        let genesis_vs = ValidatorSet::from_network(&net.network);
        let verifier = ConsensusVerifier::new(net.ctx.clone());
        let plan = config
            .governance
            .map(|s| Plan::draw(s, &config, &mut Rng::new(seed ^ GOVERNANCE_SALT)));
        // The Byzantine validators are the last ones; the bug, if any, is validator 0's.
        let byz_from = n - config.byzantine;
        let mut honest: Vec<bool> = (0..n).map(|i| i < byz_from).collect();
        let reference = Ledger::open(net.network.clone(), MemoryStore::new())
            .expect("the reference ledger opens");
        let drift = TIMEOUTS.block_time_drift_ms as i64;
        let mut nodes = Vec::new();
        for (i, &is_honest) in honest.iter().enumerate() {
            let mut faults = Faults::default();
            let byzantine = if is_honest {
                None
            } else {
                // At least one behaviour; each drawn from the seed.
                let mut b = Byzantine::default();
                let mut f = Faults::default();
                while !(b.equivocate_votes
                    || b.equivocate_proposals
                    || b.withhold_parts
                    || b.replay
                    || f != Faults::default())
                {
                    b.equivocate_votes = rng.chance(0.5);
                    b.equivocate_proposals = rng.chance(0.5);
                    b.withhold_parts = rng.chance(0.3);
                    b.replay = rng.chance(0.5);
                    f.forge_checkpoint_signature = rng.chance(0.3);
                    f.sign_forked_checkpoint = rng.chance(0.3);
                    f.invalid_tx_in_proposal = rng.chance(0.3);
                    if rng.chance(0.3) {
                        f.block_time_offset_s = if rng.chance(0.5) { 30 } else { -30 };
                    }
                }
                faults = f;
                Some(b)
            };
            if i == 0 && config.bug == Some(Bug::SignForkedCheckpoint) {
                faults.sign_forked_checkpoint = true;
            }
            // Honest clocks drift within a fifth of the bound each way.
            let clock_offset = rng.range(0, (drift / 5 * 2) as u64) as i64 - drift / 5;
            let key = SignerKey::new(&format!("v{i}"), net.keys[i].clone());
            nodes.push(Some(Node {
                faults,
                byzantine,
                ..Node::new(&net, i, key, clock_offset)
            }));
        }
        let delay_min = rng.range(1, 10);
        let delay = (delay_min, delay_min + rng.range(10, 150));
        let loss = rng.range(0, 12) as f64 / 100.0;
        let duplicate = rng.range(0, 5) as f64 / 100.0;
        let gov = plan.map(|plan| {
            // Joining validators: honest, no store yet, their member id in node.toml.
            for member in plan.joiners() {
                let i = member as usize;
                assert_eq!(i, nodes.len(), "a joining member's id is its node's index");
                let key = Plan::joiner_key(member);
                let clock_offset = rng.range(0, (drift / 5 * 2) as u64) as i64 - drift / 5;
                nodes.push(Some(Node {
                    member_id: Some(member),
                    started: false,
                    ..Node::new(&net, i, key, clock_offset)
                }));
                honest.push(true);
            }
            for change in &plan.changes {
                if let Planned::Rotate { member } = *change {
                    let n = nodes[member as usize].as_mut().expect("a node");
                    n.next_key = Some(Plan::rotated_key(member));
                }
            }
            let keys = nodes.iter().flatten().map(|n| n.key.clone()).collect();
            Gov {
                changes: vec![None; plan.changes.len()],
                approved: vec![None; plan.changes.len()],
                keys,
                vote_from: plan.first_vote_ms,
                seen: 0,
                sent: BTreeMap::new(),
                byzantine_votes: Vec::new(),
                plan,
            }
        });
        let mut w = World {
            checker: Checker::new(honest, reference, net.ctx.clone(), config.allow_stale_keys),
            config,
            seed,
            net,
            genesis_vs,
            verifier,
            rng,
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            delay,
            loss,
            duplicate,
            sides: None,
            pool: BTreeMap::new(),
            next_tx: 0,
            stats: Stats::default(),
            steps: 0,
            hash: 0xcbf2_9ce4_8422_2325,
            recent: VecDeque::new(),
            healed: None,
            violation: None,
            gov,
        };
        w.schedule_faults();
        for i in 0..n {
            w.start(i);
        }
        if let Some(g) = &w.gov {
            let join = g.plan.join_ms;
            for member in g.plan.joiners() {
                w.at(join, Ev::Join(member as usize));
            }
        }
        w.at(0, Ev::Tick);
        w
    }

    /// Partitions, crashes and clock jumps during the chaos window, then the heal. A race
    /// scenario's split replaces the random partitions that would overlap it.
    fn schedule_faults(&mut self) {
        let n = self.config.validators;
        let chaos = self.config.chaos_ms;
        let split = self.gov.as_ref().and_then(|g| g.plan.split.clone());
        if let Some((sides, from, to)) = &split {
            self.at(*from, Ev::Partition(sides.clone()));
            self.at(*to, Ev::Heal);
        }
        let mut t = self.rng.range(200, 1500);
        while t < chaos {
            // With the write-ahead-log bug, crashes are what reveal it.
            let kind = if self.config.bug == Some(Bug::ForgetWal) {
                1
            } else {
                self.rng.range(0, 3)
            };
            match kind {
                0 => {
                    let mut sides: Vec<u8> = (0..n).map(|_| self.rng.range(0, 1) as u8).collect();
                    let heal = t + self.rng.range(300, 3000);
                    // Joining validators (governance runs only) are on a side too.
                    for _ in n..self.nodes.len() {
                        sides.push(self.rng.range(0, 1) as u8);
                    }
                    let overlaps = split
                        .as_ref()
                        .is_some_and(|(_, from, to)| t <= *to && heal.min(chaos) >= *from);
                    if !overlaps {
                        self.at(t, Ev::Partition(sides));
                        self.at(heal.min(chaos), Ev::Heal);
                    }
                }
                1 => {
                    // Crash an honest validator (or the buggy one), restart it later.
                    let honest = n - self.config.byzantine;
                    let i = if self.config.bug == Some(Bug::ForgetWal) && self.rng.chance(0.7) {
                        0
                    } else {
                        self.rng.range(0, honest as u64 - 1) as usize
                    };
                    self.at(t, Ev::Crash(i));
                    // A validator that forgot its votes must come back within the round to
                    // vote in it again.
                    let back = if self.config.bug == Some(Bug::ForgetWal) {
                        t + self.rng.range(20, 300)
                    } else {
                        t + self.rng.range(50, 2000)
                    };
                    self.at(back.min(chaos), Ev::Restart(i));
                }
                2 => {
                    // An honest clock jumps beyond the bound for a while.
                    let i = self.rng.range(0, (n - self.config.byzantine) as u64 - 1) as usize;
                    let jump = TIMEOUTS.block_time_drift_ms as i64 * 2;
                    // It jumps back within the bound when the network heals.
                    let jump = if self.rng.chance(0.5) { jump } else { -jump };
                    self.at(t, Ev::ClockJump(i, jump));
                }
                _ => {}
            }
            t += if self.config.bug == Some(Bug::ForgetWal) {
                self.rng.range(300, 1000)
            } else {
                self.rng.range(500, 3000)
            };
        }
        self.at(chaos, Ev::Heal);
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((t, self.seq), ev);
    }

    fn node(&mut self, i: usize) -> &mut Node {
        self.nodes[i].as_mut().expect("a node is not taken out")
    }

    fn local_ms(&self, node: &Node) -> u64 {
        (EPOCH_MS as i64 + self.now as i64 + node.clock_offset) as u64
    }

    fn note(&mut self, line: String) {
        let mut h = self.hash;
        for b in self.now.to_le_bytes().iter().chain(line.as_bytes()) {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        self.hash = h;
        let line = format!("{:>7} ms  {line}", self.now);
        if self.config.full_trace {
            println!("{line}");
        }
        if self.recent.len() == TRACE_KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }

    /// Runs until every honest validator progressed after the heal, or a violation.
    pub fn run(mut self) -> Outcome {
        while self.violation.is_none() {
            let Some(((t, _), ev)) = self.queue.pop_first() else {
                break;
            };
            self.now = t;
            self.steps += 1;
            self.step(ev);
            self.take_violation();
            if let Some((healed_at, base)) = self.healed {
                let low = self.min_honest_height();
                let pending = self.governance_pending();
                if low >= base + self.config.progress_heights && pending.is_none() {
                    break;
                }
                if self.now > healed_at + self.config.progress_bound_ms {
                    if !self.config.check_progress {
                        break;
                    }
                    let heights: Vec<String> = (0..self.nodes.len())
                        .filter(|i| self.counts_for_progress(*i))
                        .map(|i| format!("v{i} at {}", self.nodes[i].as_ref().unwrap().committed))
                        .collect();
                    self.checker.stalled(format!(
                        "{} ms after the network healed (at height {base}) the honest \
                         validators had not all committed {} more heights: {}{}",
                        self.config.progress_bound_ms,
                        self.config.progress_heights,
                        heights.join(", "),
                        pending
                            .map(|p| format!("; governance not done: {p}"))
                            .unwrap_or_default()
                    ));
                    self.take_violation();
                }
            }
        }
        let min_height = self.min_honest_height();
        let log_size = (0..self.nodes.len())
            .filter(|i| self.counts_for_progress(*i))
            .filter_map(|i| {
                let n = self.nodes[i].as_ref()?;
                let live = n.live.as_ref()?;
                (n.committed == min_height).then(|| live.core.ledger().size().0)
            })
            .next()
            .unwrap_or(0);
        Outcome {
            seed: self.seed,
            steps: self.steps,
            sim_ms: self.now,
            min_height,
            log_size,
            violations: self.violation.into_iter().collect(),
            trace_hash: self.hash,
            epoch: self.checker.current_governance().roster.epoch,
            stats: Stats {
                stale_key_signatures: self.checker.stale_keys,
                vote_fates: std::mem::take(&mut self.checker.vote_fates),
                ..self.stats
            },
        }
    }

    /// Whether validator `i` must progress: honest, running (started, not retired) and a
    /// validator of the network's current roster.
    fn counts_for_progress(&self, i: usize) -> bool {
        let Some(n) = self.nodes[i].as_ref() else {
            return false;
        };
        self.checker.is_honest(i)
            && n.started
            && !n.retired
            && self
                .checker
                .current_governance()
                .roster
                .validators()
                .any(|m| m.id.0 == n.address.0)
    }

    fn min_honest_height(&self) -> u64 {
        (0..self.nodes.len())
            .filter(|i| self.counts_for_progress(*i))
            .map(|i| self.nodes[i].as_ref().map(|n| n.committed).unwrap_or(0))
            .min()
            .unwrap_or(0)
    }

    fn take_violation(&mut self) {
        if self.violation.is_none()
            && let Some((invariant, detail)) = self.checker.violations.first().cloned()
        {
            self.violation = Some(Violation {
                invariant,
                detail,
                at_ms: self.now,
                trace: self.recent.iter().cloned().collect(),
            });
        }
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Deliver { from, to, msg } => self.deliver(from, to, msg),
            Ev::Timer {
                node,
                life,
                timeout,
                generation,
            } => {
                let n = self.node(node);
                if n.life != life {
                    return;
                }
                let Some(live) = n.live.as_mut() else { return };
                let pos = live
                    .timers
                    .iter()
                    .position(|(t, g)| *t == timeout && *g == generation);
                if let Some(p) = pos {
                    live.timers.remove(p);
                    self.note(format!(
                        "v{node} timeout {:?} r{}",
                        timeout.kind, timeout.round
                    ));
                    self.input(node, CInput::TimeoutElapsed(timeout));
                }
            }
            Ev::Feed { node, life, input } => {
                if self.node(node).life == life {
                    self.input(node, input);
                }
            }
            Ev::Collect {
                node,
                life,
                height,
                round,
            } => {
                if self.node(node).life == life {
                    self.collect(node, height, round);
                }
            }
            Ev::Tick => self.tick(),
            Ev::Crash(i) => self.crash(i),
            Ev::ClockJump(i, offset) => {
                self.note(format!("v{i}'s clock jumps to {offset} ms"));
                self.node(i).clock_offset = offset;
            }
            Ev::Restart(i) => {
                let n = self.node(i);
                if n.live.is_none() && n.started && !n.retired {
                    self.start(i);
                }
            }
            Ev::Join(i) => {
                self.note(format!("v{i} joins: a new node with an empty store"));
                self.node(i).started = true;
                self.start(i);
            }
            Ev::SwitchKey(i) => self.switch_key(i),
            Ev::Retire(i) => {
                if self.node(i).live.is_some() {
                    self.stop(i);
                }
                self.retire(i, "shut down by its operator after its removal");
            }
            Ev::Partition(sides) => {
                self.note(format!("partition {sides:?}"));
                self.stats.partitions += 1;
                self.sides = Some(sides);
            }
            Ev::Heal => {
                self.sides = None;
                if self.now >= self.config.chaos_ms && self.healed.is_none() {
                    self.note("heal: network whole, clocks back within the bound".into());
                    let drift = TIMEOUTS.block_time_drift_ms as i64;
                    for i in 0..self.nodes.len() {
                        let honest = self.checker.is_honest(i);
                        let n = self.node(i);
                        if honest && n.clock_offset.abs() > drift / 5 {
                            n.clock_offset = n.clock_offset.signum() * drift / 5;
                        }
                        if n.live.is_none() && n.started && !n.retired {
                            self.start(i);
                        }
                    }
                    self.healed = Some((self.now, self.min_honest_height()));
                }
            }
        }
    }

    // ---- the network ----

    fn send(&mut self, from: usize, to: usize, msg: Msg) {
        if from == to {
            return;
        }
        if let Some(s) = &self.sides
            && s[from] != s[to]
        {
            self.stats.dropped += 1;
            return;
        }
        // Losses only during the chaos window: after the heal the network is calm.
        let chaos = self.healed.is_none();
        if chaos && self.rng.chance(self.loss) {
            self.stats.dropped += 1;
            return;
        }
        let copies = if chaos && self.rng.chance(self.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            self.stats.messages += 1;
            let d = self.rng.range(self.delay.0, self.delay.1);
            self.at(
                self.now + d,
                Ev::Deliver {
                    from,
                    to,
                    msg: msg.clone(),
                },
            );
        }
    }

    fn broadcast(&mut self, from: usize, msg: Msg) {
        for to in 0..self.nodes.len() {
            self.send(from, to, msg.clone());
        }
    }

    fn deliver(&mut self, from: usize, to: usize, msg: Msg) {
        if self.node(to).live.is_none() {
            return;
        }
        // Forwarded transactions are many and tell little: kept out of the trace.
        if !matches!(msg, Msg::Txs(_)) {
            self.note(format!("v{from}->v{to} {}", msg.kind()));
        }
        if let Some(b) = self.node(to).byzantine.as_mut()
            && b.replay
            && !matches!(msg, Msg::Status(_) | Msg::SyncRequest(_))
        {
            if b.seen.len() == REPLAY_KEPT {
                b.seen.pop_front();
            }
            b.seen.push_back(msg.clone());
        }
        match msg {
            Msg::Consensus(SignedConsensusMsg::Vote(v)) => self.input(to, CInput::Vote(v)),
            Msg::Consensus(SignedConsensusMsg::Proposal(p)) => self.input(to, CInput::Proposal(p)),
            Msg::Liveness(LivenessMsg::Vote(v)) => self.input(to, CInput::Vote(v)),
            Msg::Liveness(LivenessMsg::PolkaCertificate(c)) => {
                self.input(to, CInput::PolkaCertificate(c))
            }
            Msg::Liveness(LivenessMsg::SkipRoundCertificate(c)) => {
                self.input(to, CInput::RoundCertificate(c))
            }
            Msg::Part(part) => {
                let from = peer_id(from);
                if let Some(Reply::Part(Some(pv))) =
                    self.core(to, Input::ReceivedProposalPart { from, part })
                {
                    self.input(to, CInput::ProposedValue(pv, ValueOrigin::Consensus));
                }
            }
            Msg::Status(tip) => {
                let (now, n) = (self.now, self.node(to));
                let want = n.committed + 1;
                if tip >= want && (n.sync_asked.1 != want || now >= n.sync_asked.0 + SYNC_RETRY_MS)
                {
                    n.sync_asked = (now, want);
                    self.send(to, from, Msg::SyncRequest(want));
                }
            }
            Msg::SyncRequest(h) => {
                if let Some(Reply::DecidedValues(values)) = self.core(
                    to,
                    Input::GetDecidedValues {
                        from: Height(h),
                        to: Height(h),
                    },
                ) {
                    for (bytes, cert) in values {
                        self.send(to, from, Msg::SyncResponse(bytes, cert));
                    }
                }
            }
            Msg::SyncResponse(bytes, cert) => {
                let live = self.node(to).live.as_ref().expect("live");
                if live.state.height() == cert.height {
                    let peer = peer_id(from);
                    self.input(
                        to,
                        CInput::SyncValueResponse(ValueResponse::new(peer, bytes, cert)),
                    );
                }
            }
            Msg::Txs(txs) => {
                for tx in &txs {
                    self.admit(to, tx);
                }
            }
        }
    }

    // ---- life and death ----

    /// Starts (or restarts) validator `i` from what its store and write-ahead log hold.
    fn start(&mut self, i: usize) {
        if !self.may_start(i) {
            return;
        }
        let now = self.now;
        let net = self.net.clone();
        let store = self
            .node(i)
            .store
            .take()
            .expect("a stopped node holds its store");
        let n = self.nodes[i].as_ref().expect("a node");
        let mut core = Self::core_of(&net, n, store);
        core.set_faults(n.faults.clone());
        let start = match core.on(Input::ConsensusReady, now, &|_| false) {
            Ok(effects) => match effects.into_iter().find_map(|e| match e {
                Effect::Reply(Reply::Start(h)) => Some(h),
                _ => None,
            }) {
                Some(h) => h,
                None => panic!("ConsensusReady has no answer"),
            },
            Err(e) => panic!("the core does not start: {e}"),
        };
        let mut threshold_params = ThresholdParams::default();
        if i == 0 && self.config.bug == Some(Bug::CommitWithoutQuorum) {
            threshold_params.quorum = ThresholdParam::new(1, 3);
        }
        let params = Params {
            address: self.node(i).address,
            threshold_params,
            value_payload:
                malachitebft_app_channel::app::types::core::ValuePayload::ProposalAndParts,
            enabled: true,
        };
        // The shell's `params()`: the validators of the height, as the core has them.
        let vs = if i == 0 && self.config.bug == Some(Bug::FixedValidatorSet) {
            self.genesis_vs.clone()
        } else {
            core.validator_set().clone()
        };
        // The engine's default queue capacities (malachite config 0.8.2).
        let state = State::new(net.ctx.clone(), start, vs.clone(), params, 10, 500);
        if self.gov.is_some() {
            // The node's mempool, checked against the store's roster, refilled from the journal
            // with what is not committed yet (`write::restore_journal`).
            let n = self.node(i);
            let mut pool = Mempool::new(net.network.clone(), POOL_MAX, MEMPOOL_BYTES_MAX)
                .with_roster(core.roster().clone());
            if let Some(old) = n.mempool.take() {
                for tx in old.peek_batch(usize::MAX, usize::MAX) {
                    if core
                        .ledger()
                        .store()
                        .tx_location(&tx.hash())
                        .ok()
                        .flatten()
                        .is_none()
                    {
                        pool.submit(tx);
                    }
                }
            }
            n.mempool = Some(pool);
        }
        let n = self.node(i);
        let committed = core.ledger().store().height().unwrap_or(0);
        let size = core.ledger().size();
        let before = n.before_crash;
        n.committed = committed;
        n.live = Some(Live {
            state,
            core,
            metrics: Metrics::new(),
            timers: Vec::new(),
            generation: 0,
            collecting: None,
            precommits: OwnPrecommits::new(n.address),
        });
        let replay = if n.wal_height == start {
            n.wal.clone()
        } else {
            Vec::new()
        };
        if n.life > 0 {
            self.checker.restarted(i, before, (committed, size));
            self.note(format!(
                "v{i} restarts at height {} with {} write-ahead-log entries",
                start.0,
                replay.len()
            ));
        }
        self.checker.started_height(i, start.0, &vs);
        self.input(
            i,
            CInput::StartHeight(start, vs, false, None, VoteExtensionPolicy::Required),
        );
        if !replay.is_empty() {
            self.stats.wal_replayed += replay.len() as u64;
            let mut node = self.nodes[i].take().expect("a node");
            if let Some(live) = node.live.as_mut() {
                live.state
                    .record_recovered_own_precommit_extensions(replay.iter());
                live.state.index_wal_entries(replay.iter());
            }
            self.nodes[i] = Some(node);
            for entry in replay {
                self.input(i, entry);
            }
            if let Some(live) = self.node(i).live.as_mut() {
                live.state.reset_entries_index();
            }
        }
    }

    /// Validator `i`'s core over `store`, with its key and address (`TestNetwork::core` for
    /// a validator whose key may have been rotated or that joined later).
    fn core_of(net: &TestNetwork, node: &Node, store: MemoryStore) -> Core<MemoryStore> {
        let ledger = Ledger::open(net.network.clone(), store).expect("opening a simulated ledger");
        Core::new(
            net.ctx.clone(),
            node.address,
            node.key.clone(),
            ledger,
            BlockPolicy::default(),
        )
        .expect("a simulated core")
    }

    /// Whether node `i` may start, as `bansos-node` decides it (`node::whoami` on the roster
    /// its store holds): a removed member's node does not (it retires); a rotated member's
    /// operator starts it with the new key once the rotation is approved.
    fn may_start(&mut self, i: usize) -> bool {
        let network = self.net.network.clone();
        let n = self.node(i);
        if n.retired {
            return false;
        }
        let store = n.store.as_ref().expect("a stopped node holds its store");
        let roster = match governance(&network, store) {
            Ok(g) => g.roster,
            Err(e) => panic!("a memory store does not fail: {e}"),
        };
        let who = |n: &Node| {
            whoami(
                &roster,
                &n.key.signing_key().verifying_key().to_bytes(),
                n.key.name(),
                n.member_id,
            )
        };
        let member = MemberId(n.address.0);
        let mut found = who(n);
        if found.is_err()
            && let Some(k) = n.next_key.clone()
            && roster.member(member).and_then(|m| m.key)
                == Some(k.signing_key().verifying_key().to_bytes())
        {
            self.install_key(i, k);
            found = who(self.node(i));
        }
        match found {
            Ok(m) => {
                assert_eq!(m.id, member, "a node's member id is its address");
                true
            }
            Err(e) => {
                if roster.member(member).is_some_and(|m| !m.active) {
                    self.retire(i, "does not start: removed by governance");
                } else {
                    self.checker
                        .violations
                        .push(("engine", format!("v{i} cannot start: {e:#}")));
                }
                false
            }
        }
    }

    /// Validator `i`'s operator puts its new key in place (the next start uses it).
    fn install_key(&mut self, i: usize, key: SignerKey) {
        let ctx = self.net.ctx.clone();
        let n = self.node(i);
        n.signer = ConsensusSigner::new(ctx, key.signing_key().to_bytes());
        n.key = key;
        n.next_key = None;
        n.key_generation += 1;
        self.stats.key_switches += 1;
        self.note(format!("v{i} switches to its new key"));
    }

    /// A rotated validator's operator restarts its node with the new key.
    fn switch_key(&mut self, i: usize) {
        let Some(key) = self.node(i).next_key.clone() else {
            return;
        };
        let live = self.node(i).live.is_some();
        if live {
            self.stop(i);
        }
        self.install_key(i, key);
        if live {
            self.start(i);
        }
    }

    /// Validator `i` is shut down for good.
    fn retire(&mut self, i: usize, why: &str) {
        let n = self.node(i);
        if !n.retired {
            n.retired = true;
            self.stats.retired += 1;
            self.note(format!("v{i} {why}"));
        }
    }

    /// Stops validator `i` (a clean stop: its write-ahead log is whole); what survives a crash
    /// stays.
    fn stop(&mut self, i: usize) {
        let n = self.node(i);
        let Some(live) = n.live.take() else { return };
        n.life += 1;
        n.before_crash = (n.committed, live.core.ledger().size());
        n.store = Some(live.core.into_ledger().into_store());
    }

    fn crash(&mut self, i: usize) {
        let bug = self.config.bug;
        if self.node(i).live.is_none() {
            return;
        }
        self.stop(i);
        // The engine's write-ahead log writes each entry to its file as it comes and syncs it
        // before publishing, deciding and starting a round: a process crash keeps what was
        // written, a machine crash (power loss) only what was synced. The store syncs each
        // commit. With the bug, the log is lost either way.
        let power_loss = self.rng.chance(0.3);
        let n = self.node(i);
        if power_loss {
            n.wal.truncate(n.wal_flushed);
        }
        if i == 0 && bug == Some(Bug::ForgetWal) {
            n.wal.clear();
            n.wal_flushed = 0;
        }
        self.stats.crashes += 1;
        self.note(format!(
            "v{i} crashes{}",
            if power_loss { " (power loss)" } else { "" }
        ));
    }

    // ---- periodic: transactions, status, replays ----

    fn tick(&mut self) {
        let arrivals = self.rng.range(0, 4);
        for _ in 0..arrivals {
            if self.gov.is_some() {
                self.next_tx += 1;
                let tx = self.program_tx(self.next_tx);
                let live = self.serving();
                if !live.is_empty() {
                    let i = live[self.rng.range(0, live.len() as u64 - 1) as usize];
                    self.submit(i, &tx);
                }
            } else if self.pool.len() < POOL_MAX {
                self.next_tx += 1;
                let tx = self.net.tx(self.next_tx);
                self.pool.insert(Hash::digest(&tx), tx);
            }
        }
        if self.gov.is_some() {
            self.govern();
        }
        if self.now.is_multiple_of(STATUS_MS) {
            for i in 0..self.nodes.len() {
                if self.node(i).live.is_some() {
                    let tip = self.node(i).committed;
                    self.broadcast(i, Msg::Status(tip));
                }
            }
        }
        for i in 0..self.config.validators {
            let pick = self.rng.next_u64();
            let to = self.rng.range(0, self.nodes.len() as u64 - 1) as usize;
            let replay = self.node(i).byzantine.as_ref().and_then(|b| {
                (b.replay && !b.seen.is_empty())
                    .then(|| b.seen[(pick % b.seen.len() as u64) as usize].clone())
            });
            if let Some(msg) = replay
                && self.node(i).live.is_some()
            {
                self.stats.replays += 1;
                self.send(i, to, msg);
            }
        }
        self.at(self.now + TICK_MS, Ev::Tick);
    }

    // ---- transactions and governance (governance runs) ----

    /// The nodes running.
    fn serving(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].as_ref().is_some_and(|n| n.live.is_some()))
            .collect()
    }

    /// A valid transaction, different for each `seq`: member 0 registers a program, signed
    /// with its key of the moment (`TestNetwork::tx`, with a rotated key once it is).
    fn program_tx(&self, seq: u64) -> Bytes {
        let body = TxBody::ProgramRegistered(ProgramRegistered {
            code: ProgramCode::new(&format!("P{seq}")).expect("a valid code"),
            name: "Program".into(),
            period_kind: PeriodKind::Monthly,
            amount: AmountRule::Flat(Rupiah(100_000)),
        });
        let key = &self.gov.as_ref().expect("a governance run").keys[0];
        let tx = SignedTx::sign(&self.net.network.id, MemberId(0), body, key.signing_key())
            .expect("a valid transaction");
        Bytes::from(tx.encode())
    }

    /// Node `i` admits `tx` as the node's API does (`write::admit`): not if it is committed,
    /// else through its mempool's checks against its roster.
    fn admit(&mut self, i: usize, tx: &Bytes) -> Option<Admission> {
        let n = self.nodes[i].as_mut()?;
        let live = n.live.as_ref()?;
        let signed = SignedTx::decode(tx).ok()?;
        let store = live.core.ledger().store();
        if store.tx_location(&signed.hash()).ok().flatten().is_some() {
            return None;
        }
        Some(n.mempool.as_mut()?.submit(signed))
    }

    /// A client submits `tx` to node `i`, which forwards it to the others if it admits it
    /// anew; whether it acknowledged it.
    fn submit(&mut self, i: usize, tx: &Bytes) -> bool {
        match self.admit(i, tx) {
            Some(Admission::Added(_)) => {
                self.broadcast(i, Msg::Txs(vec![tx.clone()]));
                true
            }
            Some(Admission::AlreadyPending(_)) => true,
            _ => false,
        }
    }

    /// The validators' governance: approvals followed, votes submitted (again) while not
    /// counted, the Byzantine validators' double votes.
    fn govern(&mut self) {
        let Some(mut gov) = self.gov.take() else {
            return;
        };
        let state = self.checker.current_governance().clone();
        while gov.seen < state.approved.len() {
            let a = &state.approved[gov.seen];
            gov.seen += 1;
            self.stats.changes += 1;
            let Some(k) = gov
                .changes
                .iter()
                .position(|c| c.as_ref() == Some(&a.change))
            else {
                self.checker.violations.push((
                    "governance",
                    format!(
                        "height {} approved a change no validator voted for: {}",
                        a.height,
                        a.change.name()
                    ),
                ));
                continue;
            };
            gov.approved[k] = Some(a.height);
            if let Planned::Rotate { member } = gov.plan.changes[k] {
                gov.keys[member as usize] = Plan::rotated_key(member);
            }
            gov.vote_from = self.now + gov.plan.gap_ms;
            self.note(format!(
                "epoch {} approved at height {}: {}",
                a.epoch,
                a.height,
                a.change.name()
            ));
        }
        if self.now >= gov.vote_from {
            let roster = &state.roster;
            let epoch = roster.epoch;
            let open: Vec<usize> = (0..gov.changes.len())
                .filter(|&k| gov.approved[k].is_none())
                .collect();
            // A double vote's first epoch votes on the first two changes at once.
            let double = gov.plan.scenario == Scenario::DoubleVote && gov.seen == 0;
            let candidates: Vec<usize> =
                open.into_iter().take(if double { 2 } else { 1 }).collect();
            let voters: Vec<u16> = roster.validators().map(|m| m.id.0).collect();
            for voter in voters {
                let byzantine = !self.checker.is_honest(voter as usize);
                for (slot, &k) in candidates.iter().enumerate() {
                    if double && !byzantine && gov.plan.choices[voter as usize] & (1 << slot) == 0 {
                        continue;
                    }
                    let planned = gov.plan.changes[k];
                    let change = gov.changes[k]
                        .get_or_insert_with(|| {
                            let current = &gov.keys[planned.member() as usize];
                            Plan::change(&self.net.network, planned, Some(current))
                        })
                        .clone();
                    let counted = state
                        .pending
                        .get(&change.hash())
                        .is_some_and(|p| p.voters.iter().any(|(m, _)| m.0 == voter));
                    let last = gov.sent.get(&(voter, k, epoch)).copied();
                    // An honest voter submits until its vote counts; a Byzantine one again
                    // and again.
                    if (counted && !byzantine) || last.is_some_and(|t| self.now < t + RESUBMIT_MS) {
                        continue;
                    }
                    gov.sent.insert((voter, k, epoch), self.now);
                    let body = TxBody::Vote(GovernanceVote {
                        epoch,
                        change: change.clone(),
                    });
                    let key = gov.keys[voter as usize].signing_key();
                    let tx = SignedTx::sign(&self.net.network.id, MemberId(voter), body, key)
                        .expect("a valid vote");
                    let tx = Bytes::from(tx.encode());
                    self.stats.votes += 1;
                    self.note(format!(
                        "v{voter} votes for {} in epoch {epoch}{}",
                        change.name(),
                        if last.is_some() { " again" } else { "" }
                    ));
                    if byzantine && !gov.byzantine_votes.iter().any(|(_, v)| *v == tx) {
                        gov.byzantine_votes.push((voter as usize, tx.clone()));
                    }
                    self.submit_vote(voter as usize, &tx);
                }
            }
        }
        self.gov = Some(gov);
    }

    /// A validator's operator submits its vote to its own node, or to another if that one is
    /// down or refuses it (a node behind still checks against an older roster).
    fn submit_vote(&mut self, voter: usize, tx: &Bytes) {
        if self.submit(voter, tx) {
            return;
        }
        let live = self.serving();
        if !live.is_empty() {
            let i = live[self.rng.range(0, live.len() as u64 - 1) as usize];
            self.submit(i, tx);
        }
    }

    /// Whether every planned change is approved and in force: a joining or rotated validator
    /// (still a validator) signed a block after its change (with its new key); what is missing
    /// otherwise.
    fn governance_pending(&self) -> Option<String> {
        let gov = self.gov.as_ref()?;
        let roster = &self.checker.current_governance().roster;
        for (k, planned) in gov.plan.changes.iter().enumerate() {
            let Some(at) = gov.approved[k] else {
                return Some(format!("change {} ({planned:?}) is not approved", k + 1));
            };
            let m = planned.member();
            let validates = roster.validators().any(|v| v.id.0 == m);
            let signs = matches!(planned, Planned::Add { .. } | Planned::Rotate { .. });
            if signs && validates && self.checker.signed(m).is_none_or(|h| h <= at) {
                return Some(format!(
                    "v{m} signed no block since its change ({planned:?}) was approved at height \
                     {at}"
                ));
            }
        }
        None
    }

    // ---- the consensus state machine ----

    /// Feeds one input to validator `i`'s consensus state machine and carries out its effects.
    fn input(&mut self, i: usize, input: CInput) {
        let mut node = self.nodes[i].take().expect("a node");
        if node.live.is_none() {
            self.nodes[i] = Some(node);
            return;
        }
        let mut live = node.live.take().expect("live");
        let r: Result<(), mc::Error<Ctx>> = {
            let Live {
                state,
                metrics,
                core,
                timers,
                generation,
                collecting,
                precommits,
            } = &mut live;
            let mut io = Io {
                node: &mut node,
                core,
                timers,
                generation,
                collecting,
                precommits,
            };
            let round = state.round().as_u32().unwrap_or(0);
            self.stats.max_round = self.stats.max_round.max(round);
            mc::process!(input: input, state: state, metrics: metrics, with: effect => self.effect(&mut io, effect))
        };
        node.live = Some(live);
        self.nodes[i] = Some(node);
        if let Err(e) = r {
            self.checker.violations.push((
                "engine",
                format!("v{i}: the consensus state machine failed: {e}"),
            ));
        }
    }

    /// Asks validator `i`'s core, carrying out its effects; its reply.
    fn core(&mut self, i: usize, input: Input) -> Option<Reply> {
        let mut node = self.nodes[i].take().expect("a node");
        let mut reply = None;
        if let Some(mut live) = node.live.take() {
            let Live {
                core,
                timers,
                generation,
                collecting,
                precommits,
                ..
            } = &mut live;
            let mut io = Io {
                node: &mut node,
                core,
                timers,
                generation,
                collecting,
                precommits,
            };
            reply = self.ask(&mut io, input);
            node.live = Some(live);
        }
        self.nodes[i] = Some(node);
        reply
    }

    /// Runs `input` through the core of `io`'s validator; carries out every effect but the
    /// reply, which it returns.
    fn ask(&mut self, io: &mut Io<'_>, input: Input) -> Option<Reply> {
        let i = io.node.index;
        let local = self.local_ms(io.node);
        // The shell's `admitted`: what its mempool holds passed the stateless checks against
        // the roster of the height being decided (none without a per-node mempool).
        let pool = io.node.mempool.as_ref();
        let admitted = |h: &Hash| pool.is_some_and(|p| p.contains(h));
        let effects = match io.core.on(input, local, &admitted) {
            Ok(e) => e,
            Err(e) => {
                self.checker
                    .violations
                    .push(("engine", format!("v{i}: the consensus core failed: {e:#}")));
                return None;
            }
        };
        let mut reply = None;
        for e in effects {
            match e {
                Effect::Reply(r) => reply = Some(r),
                Effect::CollectTxs {
                    height,
                    round,
                    earliest_ms,
                    deadline_ms,
                    ..
                } => {
                    let to_sim = |t: u64| {
                        (t as i64 - EPOCH_MS as i64 - io.node.clock_offset).max(self.now as i64)
                            as u64
                    };
                    let (earliest, deadline) = (to_sim(earliest_ms), to_sim(deadline_ms));
                    *io.collecting = Some((height, round, earliest, deadline));
                    let life = io.node.life;
                    self.at(
                        earliest,
                        Ev::Collect {
                            node: i,
                            life,
                            height,
                            round,
                        },
                    );
                }
                Effect::Publish(part) => self.publish_part(io, part),
                Effect::Committed(c) => {
                    io.node.committed = c.height.0;
                    match io.node.mempool.as_mut() {
                        Some(pool) => {
                            // `app::committed`: the block's transactions out of the mempool,
                            // and the roster of a change that takes effect into it.
                            pool.remove(c.accepted.iter());
                            pool.remove(c.rejected.iter().map(|(h, _)| h));
                            if let Some(roster) = c.roster.clone() {
                                let refused = pool.set_roster(roster);
                                self.stats.refused_by_roster += refused.len() as u64;
                            }
                        }
                        None => {
                            for h in c.accepted.iter().chain(c.rejected.iter().map(|(h, _)| h)) {
                                self.pool.remove(h);
                            }
                        }
                    }
                    let store = io.core.ledger().store();
                    let block = store.decided(c.height.0).ok().flatten();
                    if let Some((bytes, _)) = block {
                        let value = bansos_node::consensus::block::StoredBlock::decode(&bytes)
                            .map(|b| b.header.id());
                        match value {
                            Ok(id) => self.checker.committed(i, &c, id, &bytes),
                            Err(e) => self
                                .checker
                                .violations
                                .push(("rules", format!("v{i} stored an undecodable block: {e}"))),
                        }
                    }
                    self.checker.committed_governance(i, &c, io.core);
                    self.note(format!(
                        "v{i} commits height {} ({} entries, log size {})",
                        c.height.0,
                        c.accepted.len(),
                        c.size.0
                    ));
                    self.checker.prune_votes(c.height.0.saturating_sub(2));
                    if c.roster.is_some() {
                        self.change_seen(io, &c);
                    }
                }
                Effect::InvalidProposal { height, why, .. } => {
                    if self.checker.is_honest(i) {
                        self.stats.invalid_proposals += 1;
                    }
                    self.note(format!(
                        "v{i} refuses a proposal at height {}: {why}",
                        height.0
                    ));
                }
                Effect::RefusedCheckpointVote { validator, why } => {
                    if self.checker.is_honest(i) {
                        self.stats.refused_checkpoint_votes += 1;
                        if self.checker.is_honest(validator.0 as usize) {
                            self.stats.refused_honest_checkpoint_votes += 1;
                        }
                    }
                    self.note(format!(
                        "v{i} refuses v{}'s checkpoint vote: {why}",
                        validator.0
                    ));
                }
            }
        }
        reply
    }

    /// Validator `io` committed a block after which a governance change takes effect: if the
    /// change removed it, its operator shuts it down (or lets it follow); if it rotated its
    /// key, its operator restarts it with the new one.
    fn change_seen(&mut self, io: &mut Io<'_>, c: &Committed) {
        let i = io.node.index;
        let Some(roster) = &c.roster else { return };
        let Some(plan) = self.gov.as_ref().map(|g| g.plan.clone()) else {
            return;
        };
        let me = roster.member(MemberId(io.node.address.0));
        if me.is_some_and(|m| !m.active) {
            match plan.retire_ms {
                Some(d) => {
                    self.note(format!("v{i} sees its removal; it stops in {d} ms"));
                    self.at(self.now + d, Ev::Retire(i));
                }
                None => self.note(format!("v{i} sees its removal; it keeps following")),
            }
        }
        if let Some(k) = &io.node.next_key
            && me.and_then(|m| m.key) == Some(k.signing_key().verifying_key().to_bytes())
        {
            self.note(format!(
                "v{i} sees its key rotated; its operator switches in {} ms",
                plan.switch_ms
            ));
            self.at(self.now + plan.switch_ms, Ev::SwitchKey(i));
        }
    }

    /// The mempool's answer for a proposal: at `earliest` with what it holds, waiting until
    /// the deadline if it holds nothing.
    fn collect(&mut self, i: usize, height: Height, round: Round) {
        let now = self.now;
        let Some(live) = self.node(i).live.as_mut() else {
            return;
        };
        let Some((h, r, _, deadline)) = live.collecting else {
            return;
        };
        if (h, r) != (height, round) {
            return;
        }
        let empty = match &self.node(i).mempool {
            Some(pool) => pool.is_empty(),
            None => self.pool.is_empty(),
        };
        if empty && now < deadline {
            let life = self.node(i).life;
            self.at(
                (now + 5).min(deadline),
                Ev::Collect {
                    node: i,
                    life,
                    height,
                    round,
                },
            );
            return;
        }
        self.node(i).live.as_mut().expect("live").collecting = None;
        let mut txs: Vec<Bytes> = match &self.node(i).mempool {
            Some(pool) => pool
                .peek_batch(BLOCK_TXS, usize::MAX)
                .iter()
                .map(|t| Bytes::from(t.encode()))
                .collect(),
            None => self.pool.values().take(BLOCK_TXS).cloned().collect(),
        };
        // A Byzantine voter puts its votes in its own blocks, again and again (one twice):
        // the rules must count each vote once, in its epoch only.
        if let Some(g) = &self.gov
            && !self.checker.is_honest(i)
        {
            let mine: Vec<Bytes> = g
                .byzantine_votes
                .iter()
                .filter(|(v, _)| *v == i)
                .map(|(_, t)| t.clone())
                .collect();
            if let Some(last) = mine.last() {
                txs.push(last.clone());
            }
            txs.extend(mine);
        }
        // A Byzantine proposer that equivocates builds a second block from other
        // transactions, on a copy of its store, before the real one.
        if let Some(b) = self.node(i).byzantine.as_ref()
            && b.equivocate_proposals
        {
            self.build_second(i, height, round, &txs);
        }
        let key = (height.0, round.as_u32().unwrap_or(0));
        if let Some(b) = self.node(i).byzantine.as_mut() {
            b.building = Some(key);
        }
        let reply = self.core(i, Input::Txs { height, round, txs });
        if let Some(b) = self.node(i).byzantine.as_mut() {
            b.building = None;
        }
        if let Some(Reply::Value(v)) = reply {
            let life = self.node(i).life;
            self.at(
                self.now + 1,
                Ev::Feed {
                    node: i,
                    life,
                    input: CInput::Propose(v),
                },
            );
        }
    }

    /// A Byzantine proposer's second, conflicting block for (height, round): its value, its
    /// parts, and the peers that will get it instead of the first.
    fn build_second(&mut self, i: usize, height: Height, round: Round, txs: &[Bytes]) {
        let net = self.net.clone();
        let local = self.local_ms(self.nodes[i].as_ref().expect("a node"));
        let store = self
            .node(i)
            .live
            .as_ref()
            .expect("live")
            .core
            .ledger()
            .store()
            .clone();
        let mut shadow = net.core(i, store);
        let other: Vec<Bytes> = if txs.is_empty() {
            self.next_tx += 1;
            vec![net.tx(self.next_tx)]
        } else {
            txs[..txs.len() / 2].to_vec()
        };
        let timeout = Duration::from_millis(TIMEOUTS.propose_ms);
        let _ = shadow.on(
            Input::GetValue {
                height,
                round,
                timeout,
            },
            local,
            &|_| false,
        );
        let Ok(effects) = shadow.on(
            Input::Txs {
                height,
                round,
                txs: other,
            },
            local,
            &|_| false,
        ) else {
            return;
        };
        let mut value = None;
        let mut parts = Vec::new();
        for e in effects {
            match e {
                Effect::Reply(Reply::Value(v)) => value = Some(v.value),
                Effect::Publish(p) => parts.push(p),
                _ => {}
            }
        }
        let Some(value) = value else { return };
        let proposal = Proposal {
            height,
            round,
            value,
            pol_round: Round::Nil,
            proposer: Address(i as u16),
        };
        let to: Vec<bool> = (0..self.nodes.len())
            .map(|_| self.rng.chance(0.5))
            .collect();
        self.node(i)
            .byzantine
            .as_mut()
            .expect("byzantine")
            .second
            .insert(
                (height.0, round.as_u32().unwrap_or(0)),
                (proposal, parts, to),
            );
    }

    /// Sends a proposal part of validator `io`'s, as its behaviour says.
    fn publish_part(&mut self, io: &mut Io<'_>, part: StreamMessage<ProposalPart>) {
        let i = io.node.index;
        let (withhold, second) = match &io.node.byzantine {
            Some(b) => {
                let second = b.building.and_then(|k| b.second.get(&k).cloned());
                (b.withhold_parts, second)
            }
            None => (false, None),
        };
        for to in 0..self.nodes.len() {
            if withhold && self.rng.chance(0.5) {
                continue;
            }
            match &second {
                Some((_, parts, sides)) if sides[to] => {
                    // This peer gets the second block's part at the same position.
                    if let Some(p) = parts.iter().find(|p| p.sequence == part.sequence) {
                        self.send(i, to, Msg::Part(p.clone()));
                    }
                }
                _ => self.send(i, to, Msg::Part(part.clone())),
            }
        }
    }
}

/// What an effect handler may touch of the validator whose input is being processed.
struct Io<'a> {
    node: &'a mut Node,
    core: &'a mut Core<MemoryStore>,
    timers: &'a mut Vec<(Timeout, u64)>,
    generation: &'a mut u64,
    collecting: &'a mut Option<(Height, Round, u64, u64)>,
    precommits: &'a mut OwnPrecommits,
}

impl World {
    /// Answers one effect of the consensus state machine, as the engine does.
    fn effect(&mut self, io: &mut Io<'_>, effect: CEffect) -> Result<Resume<Ctx>, String> {
        let i = io.node.index;
        Ok(match effect {
            CEffect::CancelAllTimeouts(r) => {
                io.timers.clear();
                r.resume_with(())
            }
            CEffect::CancelTimeout(t, r) => {
                io.timers.retain(|(x, _)| *x != t);
                r.resume_with(())
            }
            CEffect::ScheduleTimeout(t, r) => {
                *io.generation += 1;
                let g = *io.generation;
                io.timers.retain(|(x, _)| *x != t);
                io.timers.push((t, g));
                let d = io.core.timeouts().duration_for(t).as_millis() as u64;
                let life = io.node.life;
                self.at(
                    self.now + d,
                    Ev::Timer {
                        node: i,
                        life,
                        timeout: t,
                        generation: g,
                    },
                );
                r.resume_with(())
            }
            CEffect::StartRound(h, round, proposer, _role, r) => {
                io.node.wal_flushed = io.node.wal.len();
                io.precommits.started_round(h, round);
                self.note(format!(
                    "v{i} starts h{} r{round} (proposer v{})",
                    h.0, proposer.0
                ));
                if let Some(Reply::Values(values)) =
                    self.ask(io, Input::StartedRound { height: h, round })
                {
                    let life = io.node.life;
                    for v in values {
                        self.at(
                            self.now,
                            Ev::Feed {
                                node: i,
                                life,
                                input: CInput::ProposedValue(v, ValueOrigin::Consensus),
                            },
                        );
                    }
                }
                r.resume_with(())
            }
            CEffect::PublishConsensusMsg(msg, r) => {
                io.node.wal_flushed = io.node.wal.len();
                self.publish_consensus(io, msg);
                r.resume_with(())
            }
            CEffect::PublishLivenessMsg(msg, r) => {
                if let LivenessMsg::Vote(v) = &msg {
                    self.record_vote(io.node, v);
                    self.republish_precommits(io);
                }
                self.broadcast(i, Msg::Liveness(msg));
                r.resume_with(())
            }
            CEffect::RepublishVote(v, r) => {
                self.record_vote(io.node, &v);
                self.republish_precommits(io);
                self.broadcast(i, Msg::Liveness(LivenessMsg::Vote(v)));
                r.resume_with(())
            }
            CEffect::RepublishRoundCertificate(c, r) => {
                self.republish_precommits(io);
                self.broadcast(i, Msg::Liveness(LivenessMsg::SkipRoundCertificate(c)));
                r.resume_with(())
            }
            CEffect::GetValue(h, round, timeout, r) => {
                let timeout = io.core.timeouts().duration_for(timeout);
                if let Some(Reply::Value(v)) = self.ask(
                    io,
                    Input::GetValue {
                        height: h,
                        round,
                        timeout,
                    },
                ) {
                    // A proposal stored before a crash: proposed again at once.
                    let life = io.node.life;
                    self.at(
                        self.now + 1,
                        Ev::Feed {
                            node: i,
                            life,
                            input: CInput::Propose(v),
                        },
                    );
                }
                r.resume_with(())
            }
            CEffect::RestreamProposal(h, round, _valid_round, _proposer, id, r) => {
                self.ask(
                    io,
                    Input::RestreamProposal {
                        height: h,
                        round,
                        value_id: id,
                    },
                );
                r.resume_with(())
            }
            CEffect::Decide(cert, extensions, r) => {
                io.node.wal_flushed = io.node.wal.len();
                // Against the roster of the height, as the reference ledger has it.
                if let Some(vs) = self.checker.validator_set_at(cert.height.0) {
                    let check = block_on(self.verifier.verify_commit_certificate(
                        &self.net.ctx,
                        &cert,
                        &vs,
                        ThresholdParams::default(),
                    ));
                    if let Err(e) = check {
                        self.checker.no_quorum(i, cert.height.0, format!("{e:?}"));
                    }
                }
                self.ask(
                    io,
                    Input::Decided {
                        certificate: cert,
                        extensions,
                    },
                );
                r.resume_with(())
            }
            CEffect::Finalize(cert, extensions, _evidence, r) => {
                if let Some(Reply::Next(h)) = self.ask(
                    io,
                    Input::Finalized {
                        certificate: cert,
                        extensions,
                    },
                ) {
                    let life = io.node.life;
                    // The shell's `Next::Start(h, params())`: the core's validators of h.
                    let vs = if i == 0 && self.config.bug == Some(Bug::FixedValidatorSet) {
                        self.genesis_vs.clone()
                    } else {
                        io.core.validator_set().clone()
                    };
                    self.checker.started_height(i, h.0, &vs);
                    self.at(
                        self.now,
                        Ev::Feed {
                            node: i,
                            life,
                            input: CInput::StartHeight(
                                h,
                                vs,
                                false,
                                None,
                                VoteExtensionPolicy::Required,
                            ),
                        },
                    );
                }
                r.resume_with(())
            }
            CEffect::SignVote(v, r) => {
                let signed = block_on(io.node.signer.sign_vote(v)).map_err(|e| e.to_string())?;
                r.resume_with(signed)
            }
            CEffect::SignProposal(p, r) => {
                let signed =
                    block_on(io.node.signer.sign_proposal(p)).map_err(|e| e.to_string())?;
                r.resume_with(signed)
            }
            CEffect::VerifySignature(msg, pk, r) => {
                let result = match &msg.message {
                    ConsensusMsg::Vote(v) => {
                        block_on(self.verifier.verify_signed_vote(v, &msg.signature, &pk))
                    }
                    ConsensusMsg::Proposal(p) => {
                        block_on(self.verifier.verify_signed_proposal(p, &msg.signature, &pk))
                    }
                };
                r.resume_with(result.map(|v| v.is_valid()).unwrap_or(false))
            }
            CEffect::VerifyCommitCertificate(cert, vs, th, r) => r.resume_with(block_on(
                self.verifier
                    .verify_commit_certificate(&self.net.ctx, &cert, &vs, th),
            )),
            CEffect::VerifyPolkaCertificate(cert, vs, th, r) => r.resume_with(block_on(
                self.verifier
                    .verify_polka_certificate(&self.net.ctx, &cert, &vs, th),
            )),
            CEffect::VerifyRoundCertificate(cert, vs, th, r) => {
                let result =
                    block_on(
                        self.verifier
                            .verify_round_certificate(&self.net.ctx, &cert, &vs, th),
                    );
                if let Err(e) = &result {
                    self.note(format!("v{i} refuses a round certificate: {e}"));
                }
                r.resume_with(result)
            }
            CEffect::VerifyExtendedCommitCertificate(cert, vs, th, policy, r) => {
                let mut result = block_on(self.verifier.verify_extended_commit_certificate(
                    &self.net.ctx,
                    &cert,
                    &vs,
                    th,
                    policy,
                ));
                if result.is_ok() {
                    // Then the application's check of every extension, as the engine does.
                    let extensions: Vec<(Address, Bytes)> = cert
                        .commit_signatures
                        .iter()
                        .filter_map(|s| Some((s.address, s.extension.as_ref()?.message.clone())))
                        .collect();
                    if !extensions.is_empty()
                        && let Some(Reply::Verdicts(verdicts)) = self.ask(
                            io,
                            Input::VerifyVoteExtensions {
                                height: cert.height,
                                extensions,
                            },
                        )
                        && let Some((a, _)) = verdicts.iter().find(|(_, v)| v.is_err())
                    {
                        result = Err(
                            malachitebft_app_channel::app::types::core::CertificateError::InvalidVoteExtension(*a),
                        );
                    }
                }
                r.resume_with(result)
            }
            CEffect::WalAppend(h, entry, r) => {
                if io.node.wal_height != h {
                    io.node.wal.clear();
                    io.node.wal_flushed = 0;
                    io.node.wal_height = h;
                }
                io.node.wal.push(entry);
                r.resume_with(())
            }
            CEffect::ExtendVote(h, round, id, _policy, r) => {
                let ext = match self.ask(io, Input::ExtendVote) {
                    Some(Reply::Extension(b)) => b,
                    _ => Bytes::new(),
                };
                self.checker.signed_checkpoint(i, &ext);
                let scope = VoteExtensionScope::new(h, round, id, io.node.address);
                let signed = block_on(io.node.signer.sign_vote_extension(scope, ext)).ok();
                r.resume_with(signed)
            }
            CEffect::VerifyVoteExtension(h, round, id, addr, ext, pk, r) => {
                let scope = VoteExtensionScope::new(h, round, id, addr);
                let valid = block_on(self.verifier.verify_signed_vote_extension(
                    &scope,
                    &ext.message,
                    &ext.signature,
                    &pk,
                ))
                .map(|v| v.is_valid())
                .unwrap_or(false);
                if !valid {
                    return Ok(r.resume_with(Err(mc::VoteExtensionError::InvalidSignature)));
                }
                let verdict = match self.ask(
                    io,
                    Input::VerifyVoteExtensions {
                        height: h,
                        extensions: vec![(addr, ext.message)],
                    },
                ) {
                    Some(Reply::Verdicts(v)) => v
                        .into_iter()
                        .next()
                        .map(|(_, v)| v)
                        .unwrap_or(Err(mc::VoteExtensionError::InvalidVoteExtension)),
                    _ => Err(mc::VoteExtensionError::InvalidVoteExtension),
                };
                r.resume_with(verdict)
            }
            CEffect::CertVerifiedSyncValue(resp, proposer, r) => {
                let (height, round) = (resp.certificate.height, resp.certificate.round);
                if let Some(Reply::Synced(Some(pv))) = self.ask(
                    io,
                    Input::ProcessSyncedValue {
                        height,
                        round,
                        proposer,
                        bytes: resp.value_bytes,
                    },
                ) {
                    self.stats.synced += 1;
                    let life = io.node.life;
                    self.at(
                        self.now,
                        Ev::Feed {
                            node: i,
                            life,
                            input: CInput::ProposedValue(pv, ValueOrigin::Sync),
                        },
                    );
                }
                r.resume_with(())
            }
            CEffect::CertRejectedSyncValue(_peer, h, e, r) => {
                self.note(format!("v{i} rejects a synced height {}: {e}", h.0));
                r.resume_with(())
            }
        })
    }

    /// What the node's shell does when the engine rebroadcasts (`consensus::liveness`): its
    /// precommits of earlier rounds of the height go out again.
    fn republish_precommits(&mut self, io: &mut Io<'_>) {
        if !self.config.republish_precommits {
            return;
        }
        let now = self.local_ms(io.node);
        for v in io.precommits.rebroadcast(now) {
            self.stats.republished += 1;
            self.broadcast(io.node.index, Msg::Liveness(LivenessMsg::Vote(v)));
        }
    }

    fn record_vote(&mut self, node: &Node, v: &SignedVote<Ctx>) {
        let (i, generation) = (node.index, node.key_generation);
        let m = &v.message;
        if m.validator.0 as usize != i {
            return;
        }
        let value = match &m.value {
            NilOrVal::Nil => None,
            NilOrVal::Val(id) => Some(id.0),
        };
        self.checker.published_vote(
            (
                i,
                m.height.0,
                m.round.as_u32().unwrap_or(0),
                m.vote_type == VoteType::Precommit,
                generation,
            ),
            value,
        );
    }

    /// Sends a proposal or vote of validator `io`'s, equivocating if it is Byzantine and
    /// does so.
    fn publish_consensus(&mut self, io: &mut Io<'_>, msg: SignedConsensusMsg<Ctx>) {
        let i = io.node.index;
        if let SignedConsensusMsg::Vote(v) = &msg {
            io.precommits.published(v);
        }
        let Some(b) = io.node.byzantine.clone() else {
            if let SignedConsensusMsg::Vote(v) = &msg {
                self.record_vote(io.node, v);
            }
            return self.broadcast(i, Msg::Consensus(msg));
        };
        let conflicting: Option<(SignedConsensusMsg<Ctx>, Vec<bool>)> = match &msg {
            SignedConsensusMsg::Proposal(p) if b.equivocate_proposals => {
                let key = (p.message.height.0, p.message.round.as_u32().unwrap_or(0));
                b.second.get(&key).and_then(|(second, _, sides)| {
                    let mut second = second.clone();
                    second.pol_round = p.message.pol_round;
                    block_on(io.node.signer.sign_proposal(second))
                        .ok()
                        .map(|s| (SignedConsensusMsg::Proposal(s), sides.clone()))
                })
            }
            SignedConsensusMsg::Vote(v) if b.equivocate_votes && self.rng.chance(0.7) => {
                let m = &v.message;
                let value = match m.value {
                    NilOrVal::Val(_) => NilOrVal::Nil,
                    NilOrVal::Nil => NilOrVal::Val(ValueId([self.rng.next_u64() as u8; 32])),
                };
                let other = Vote::new(m.vote_type, m.height, m.round, value, m.validator);
                let sides = (0..self.nodes.len())
                    .map(|_| self.rng.chance(0.5))
                    .collect();
                block_on(io.node.signer.sign_vote(other))
                    .ok()
                    .map(|s| (SignedConsensusMsg::Vote(s), sides))
            }
            _ => None,
        };
        match conflicting {
            Some((other, sides)) => {
                self.stats.equivocations += 1;
                self.note(format!("v{i} equivocates"));
                for (to, &second) in sides.iter().enumerate() {
                    let m = if second { other.clone() } else { msg.clone() };
                    self.send(i, to, Msg::Consensus(m));
                }
            }
            None => self.broadcast(i, Msg::Consensus(msg)),
        }
    }
}
