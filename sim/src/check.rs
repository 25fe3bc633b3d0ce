//! The invariants, checked as the run goes: each method is called at the step that could
//! break its invariant, so a violation is found at the step that caused it.
//!
//! - **agreement**: no two honest validators commit different blocks at one height;
//! - **prefix**: every honest log is a prefix of the longest (the same size and root after
//!   every height);
//! - **rules**: every committed block, run again through the ledger rules by an independent
//!   reference ledger, gives the same entries, rejections, size and root;
//! - **quorum**: every block an honest validator commits carries a certificate of more than
//!   two thirds of the voting power, checked with Malachite's own certificate verifier;
//! - **durability**: a committed entry is never lost across a crash and restart;
//! - **checkpoints**: no honest validator signs a checkpoint that is not of the one log
//!   (two inconsistent checkpoints);
//! - **votes**: no honest validator publishes two different votes of one kind in one round;
//! - **progress**: with at most f faulty validators and a healed network, every honest
//!   validator commits again within the bound.

use std::collections::BTreeMap;

use bansos_ledger::rules::Block;
use bansos_ledger::{Ledger, MemoryStore};
use bansos_node::consensus::block::StoredBlock;
use bansos_node::consensus::core::{CheckpointVote, Committed};
use bansos_node::consensus::ctx::ValueId;
use bansos_verifier::entry::SignedTx;
use bansos_verifier::hash::{Hash, TreeSize};

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant.
    pub invariant: &'static str,
    /// What happened.
    pub detail: String,
    /// Simulated time, milliseconds.
    pub at_ms: u64,
    /// The last steps before it.
    pub trace: Vec<String>,
}

/// Vote kinds, for the votes invariant.
pub type VoteKey = (usize, u64, u32, bool);

/// What the honest validators did, and the reference it is checked against.
pub struct Checker {
    /// Per validator: counted as honest?
    honest: Vec<bool>,
    /// Height → the first honest decision.
    decided: BTreeMap<u64, (ValueId, usize)>,
    /// Log size → root, of the one log.
    roots: BTreeMap<u64, Hash>,
    /// The reference ledger, replaying every decided block once.
    reference: Ledger<MemoryStore>,
    /// Votes published by honest validators: (validator, height, round, precommit?) → value.
    votes: BTreeMap<VoteKey, Option<[u8; 32]>>,
    /// Found so far (only the first is kept: later ones may be its consequences).
    pub violations: Vec<(&'static str, String)>,
}

impl Checker {
    /// A checker over the network's empty reference ledger.
    pub fn new(honest: Vec<bool>, reference: Ledger<MemoryStore>) -> Checker {
        let mut roots = BTreeMap::new();
        roots.insert(0, reference.root());
        Checker {
            honest,
            decided: BTreeMap::new(),
            roots,
            reference,
            votes: BTreeMap::new(),
            violations: Vec::new(),
        }
    }

    fn fail(&mut self, invariant: &'static str, detail: String) {
        self.violations.push((invariant, detail));
    }

    /// Is validator `i` counted as honest?
    pub fn is_honest(&self, i: usize) -> bool {
        self.honest[i]
    }

    /// Validator `i` committed `c`, the block `block` (its stored encoding).
    pub fn committed(&mut self, i: usize, c: &Committed, value: ValueId, block: &[u8]) {
        if !self.honest[i] {
            return;
        }
        let h = c.height.0;
        match self.decided.get(&h) {
            Some((v, first)) if *v != value => {
                let first = *first;
                self.fail(
                    "agreement",
                    format!("v{i} committed {value} at height {h}, v{first} committed {v}"),
                );
                return;
            }
            Some(_) => {}
            None => {
                self.decided.insert(h, (value, i));
                self.replay(h, c, block);
            }
        }
        match self.roots.get(&c.size.0) {
            Some(root) if *root != c.root => {
                self.fail(
                    "prefix",
                    format!(
                        "v{i}'s log at size {} after height {h} has another root than the others'",
                        c.size.0
                    ),
                );
            }
            Some(_) => {}
            None => self.fail(
                "prefix",
                format!(
                    "v{i}'s log after height {h} has size {}, which no replay of the decided \
                     blocks reached",
                    c.size.0
                ),
            ),
        }
    }

    /// Runs the first honest commit of height `h` through the reference ledger.
    fn replay(&mut self, h: u64, c: &Committed, block: &[u8]) {
        let b = match StoredBlock::decode(block) {
            Ok(b) => b,
            Err(e) => return self.fail("rules", format!("height {h}: undecodable block: {e}")),
        };
        let mut txs = Vec::with_capacity(b.txs.len());
        for t in &b.txs {
            match SignedTx::decode(t) {
                Ok(tx) => txs.push(tx),
                Err(e) => {
                    return self.fail(
                        "rules",
                        format!("height {h}: a committed transaction does not decode: {e}"),
                    );
                }
            }
        }
        let block = Block {
            height: h,
            time: b.header.time,
            txs,
        };
        match self.reference.apply(&block) {
            Ok(applied) => {
                let (size, root) = (applied.size, applied.root);
                let accepted: Vec<Hash> = applied.outcome.accepted.iter().map(|a| a.hash).collect();
                if accepted != c.accepted || size != c.size || root != c.root {
                    self.fail(
                        "rules",
                        format!(
                            "height {h}: the reference ledger accepted {} entries (size {}), \
                             the validator {} (size {})",
                            accepted.len(),
                            size.0,
                            c.accepted.len(),
                            c.size.0
                        ),
                    );
                }
                self.roots.insert(size.0, root);
            }
            Err(e) => self.fail("rules", format!("height {h}: the reference ledger: {e}")),
        }
    }

    /// Validator `i` signed `ext` as its checkpoint vote.
    pub fn signed_checkpoint(&mut self, i: usize, ext: &[u8]) {
        if !self.honest[i] || ext.is_empty() {
            return;
        }
        let Some(vote) = CheckpointVote::decode(ext) else {
            return self.fail(
                "checkpoints",
                format!("v{i} signed an undecodable checkpoint"),
            );
        };
        match self.roots.get(&vote.size.0) {
            Some(root) if *root == vote.root => {}
            Some(_) => self.fail(
                "checkpoints",
                format!(
                    "v{i} signed a checkpoint of size {} whose root is not the log's",
                    vote.size.0
                ),
            ),
            None => self.fail(
                "checkpoints",
                format!(
                    "v{i} signed a checkpoint of size {}, a size the log never had",
                    vote.size.0
                ),
            ),
        }
    }

    /// Validator `i` published a vote.
    pub fn published_vote(&mut self, key: VoteKey, value: Option<[u8; 32]>) {
        if !self.honest[key.0] {
            return;
        }
        match self.votes.get(&key) {
            Some(v) if *v != value => {
                let (i, h, r, pc) = key;
                let kind = if pc { "precommits" } else { "prevotes" };
                self.fail(
                    "votes",
                    format!("v{i} published two different {kind} at height {h}, round {r}"),
                );
            }
            Some(_) => {}
            None => {
                self.votes.insert(key, value);
            }
        }
    }

    /// An honest validator committed a block whose certificate failed the check.
    pub fn no_quorum(&mut self, i: usize, h: u64, why: String) {
        if self.honest[i] {
            self.fail(
                "quorum",
                format!("v{i} committed height {h} on a certificate without a quorum: {why}"),
            );
        }
    }

    /// Validator `i` restarted with `now` what it had committed before the crash.
    pub fn restarted(&mut self, i: usize, before: (u64, TreeSize), now: (u64, TreeSize)) {
        if self.honest[i] && (now.0 < before.0 || now.1 < before.1) {
            self.fail(
                "durability",
                format!(
                    "v{i} had committed height {} (size {}) before its crash, {} (size {}) after",
                    before.0, before.1.0, now.0, now.1.0
                ),
            );
        }
    }

    /// Honest validators did not progress within the bound after the network healed.
    pub fn stalled(&mut self, detail: String) {
        self.fail("progress", detail);
    }

    /// Prunes votes of heights below `h` (they cannot conflict any more).
    pub fn prune_votes(&mut self, h: u64) {
        self.votes.retain(|k, _| k.1 >= h);
    }
}
