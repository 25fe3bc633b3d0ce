//! A deterministic simulator of a Bansos Ledger validator network.
//!
//! N validators (4 to 7) run in one process: each is Malachite 0.8.2's own consensus state
//! machine (`arc-malachitebft-core-consensus`, driven through its `process!` effect loop, the
//! same crate instance the node's engine runs) answering through our real consensus core
//! ([`bansos_node::consensus::core::Core`]) over the real ledger rules and the memory store.
//! What the engine's actors do around the state machine (timers, the write-ahead log, gossip,
//! value sync) the simulator does itself, after the engine's contract (ARCHITECTURE.md,
//! "The simulator"). One seed fixes everything: the network's delays, losses, duplicates and
//! partitions, the crashes and restarts, the clocks, the Byzantine validators' behaviour and the
//! transactions. The same seed gives the same run, step for step ([`Outcome::trace_hash`]).
//!
//! With a governance [`Scenario`] the validators also vote on changes to themselves (a validator
//! added, removed, given a new key or more voting power; votes racing a partition; a Byzantine
//! validator voting twice), and every validator follows the roster of each height as the node
//! does.
//!
//! After every step the invariants of [`check`] are checked; a violation carries the seed and
//! the last steps that led to it.

#![forbid(unsafe_code)]

pub mod check;
pub mod governance;
mod world;

pub use check::Violation;
pub use governance::Scenario;

/// A deliberately broken behaviour of one validator the checks count as honest: the proof
/// that the invariants can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// Validator 0 signs, validly, a checkpoint of a forked log (another root at its size).
    SignForkedCheckpoint,
    /// Validator 0 decides on a third of the voting power instead of two thirds.
    CommitWithoutQuorum,
    /// Validator 0 loses its consensus write-ahead log when it crashes, so after a restart it
    /// may vote again, differently, in a round it already voted in.
    ForgetWal,
    /// Validator 0's shell gives Malachite the genesis validators at every height instead of
    /// the core's (`Core::validator_set`): caught once governance changes them.
    FixedValidatorSet,
}

/// A choice named on the command line ([`Bug`], [`Scenario`]).
pub trait Named: Copy + PartialEq + 'static {
    /// Every choice, by its command-line name.
    const ALL: &'static [(&'static str, Self)];

    /// The choice named `name`.
    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    }

    /// Its command-line name.
    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

impl Named for Bug {
    const ALL: &'static [(&'static str, Bug)] = &[
        ("sign-forked-checkpoint", Bug::SignForkedCheckpoint),
        ("commit-without-quorum", Bug::CommitWithoutQuorum),
        ("forget-wal", Bug::ForgetWal),
        ("fixed-validator-set", Bug::FixedValidatorSet),
    ];
}

/// What one run simulates.
#[derive(Clone, Debug)]
pub struct Config {
    /// Validators, 4 to 7 (power 1 each).
    pub validators: usize,
    /// Byzantine validators among them, 0 to f = (n - 1) / 3.
    pub byzantine: usize,
    /// Simulated milliseconds of faults (partitions, crashes, drifting clocks) before the
    /// network heals.
    pub chaos_ms: u64,
    /// After the network heals, every honest validator must commit this many more heights...
    pub progress_heights: u64,
    /// ...within this many simulated milliseconds (the liveness bound).
    pub progress_bound_ms: u64,
    /// The injected bug, if any.
    pub bug: Option<Bug>,
    /// Check the progress invariant (on by default). Off, a run stops when the bound has
    /// passed after the heal and reports only safety violations (to hunt safety bugs alone).
    pub check_progress: bool,
    /// Each validator sends its precommits of earlier rounds again when its engine rebroadcasts,
    /// as the node's shell does (`consensus::liveness`; on by default). Off, the validators
    /// rebroadcast as Malachite 0.8.2 alone does, which can stall a height (docs/RELIABILITY.md).
    pub republish_precommits: bool,
    /// Print every step as it happens (`--trace`), not only the last ones before a violation.
    pub full_trace: bool,
    /// The validators vote on changes to themselves, as this scenario says (none by default).
    pub governance: Option<Scenario>,
    /// Count checkpoints published with a signature by a key that no longer validates
    /// ([`Stats::stale_key_signatures`]) instead of failing on them (the stale-keys invariant):
    /// the consensus core signs the checkpoint it publishes with its own key whatever the roster
    /// says, so a removed or rotated-out validator's node still does (reported with issue #14).
    pub allow_stale_keys: bool,
}

impl Config {
    /// The largest number of Byzantine validators `n` validators tolerate.
    pub fn max_faulty(validators: usize) -> usize {
        validators.saturating_sub(1) / 3
    }

    /// Checks the bounds.
    pub fn check(&self) -> Result<(), String> {
        if !(4..=7).contains(&self.validators) {
            return Err(format!(
                "--validators must be 4 to 7, not {}",
                self.validators
            ));
        }
        let f = Config::max_faulty(self.validators);
        if self.byzantine > f {
            return Err(format!(
                "--byzantine must be at most f = {f} for {} validators, not {}",
                self.validators, self.byzantine
            ));
        }
        if self.progress_heights == 0 {
            return Err("--progress-heights must be at least 1".into());
        }
        if let Some(s) = self.governance {
            s.check(self.validators, self.byzantine)?;
        }
        if self.bug == Some(Bug::FixedValidatorSet) && self.governance.is_none() {
            return Err(
                "--inject-bug fixed-validator-set shows only when the validators change: add \
                 --governance"
                    .into(),
            );
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            validators: 4,
            byzantine: 0,
            chaos_ms: 8_000,
            progress_heights: 5,
            progress_bound_ms: 60_000,
            bug: None,
            check_progress: true,
            republish_precommits: true,
            full_trace: false,
            governance: None,
            allow_stale_keys: false,
        }
    }
}

/// What one seed's run did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// Events handled (message deliveries, timers, the validators' own answers, faults).
    pub steps: u64,
    /// Simulated milliseconds.
    pub sim_ms: u64,
    /// The lowest height every honest validator committed.
    pub min_height: u64,
    /// Entries in the log at that height.
    pub log_size: u64,
    /// Invariants broken (the run stops at the first).
    pub violations: Vec<Violation>,
    /// A hash of every step: equal for two runs of one seed.
    pub trace_hash: u64,
    /// The roster's epoch at the end (governance changes approved).
    pub epoch: u64,
    /// Counters of what happened.
    pub stats: Stats,
}

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages sent (after duplication).
    pub messages: u64,
    /// Messages lost (dropped or cut by a partition).
    pub dropped: u64,
    /// Crashes.
    pub crashes: u64,
    /// Partitions.
    pub partitions: u64,
    /// Highest round any validator reached.
    pub max_round: u32,
    /// Proposals honest validators found invalid.
    pub invalid_proposals: u64,
    /// Checkpoint votes honest validators refused.
    pub refused_checkpoint_votes: u64,
    /// Decided values fed by sync.
    pub synced: u64,
    /// Conflicting proposals and votes Byzantine validators sent.
    pub equivocations: u64,
    /// Old messages Byzantine validators replayed.
    pub replays: u64,
    /// Write-ahead-log entries replayed after restarts.
    pub wal_replayed: u64,
    /// Precommits of earlier rounds sent again.
    pub republished: u64,
    /// Governance vote transactions submitted (resubmissions included).
    pub votes: u64,
    /// Governance changes approved (epochs started).
    pub changes: u64,
    /// Validators that switched to a rotated key.
    pub key_switches: u64,
    /// Validators shut down for good after their removal.
    pub retired: u64,
    /// Pending transactions the validators' mempools refused when the roster changed.
    pub refused_by_roster: u64,
    /// Checkpoint votes of honest validators that honest validators refused.
    pub refused_honest_checkpoint_votes: u64,
    /// Checkpoints honest validators published with a signature by a key that no longer
    /// validates (counted with [`Config::allow_stale_keys`], a violation without).
    pub stale_key_signatures: u64,
    /// Vote transactions in decided blocks: accepted, or refused by the rules' reason.
    pub vote_fates: std::collections::BTreeMap<&'static str, u64>,
}

/// Runs a future that never suspends (the signer and verifier compute at once).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a signer or verifier future suspended"),
    }
}

/// Runs one seed.
pub fn run(config: &Config, seed: u64) -> Outcome {
    world::World::new(config.clone(), seed).run()
}

/// SplitMix64: the only source of randomness, seeded by the run's seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x005e_edba_2505_1ed9)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}
