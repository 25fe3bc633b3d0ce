//! What a running validator shares between its consensus loop and its HTTP API: the mempool,
//! recently rejected transactions, the published checkpoint's status and counters for
//! `/metrics`. The ledger itself is written only by the consensus loop; the API reads the store.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bansos_ledger::mempool::Mempool;
use bansos_verifier::hash::Hash;

/// Most rejected transactions remembered for `GET /v1/tx/<hash>`.
pub const REJECTED_REMEMBERED: usize = 100_000;

/// Recently rejected transactions and why, oldest forgotten first.
#[derive(Default)]
pub struct Rejected {
    reasons: HashMap<Hash, String>,
    order: VecDeque<Hash>,
}

impl Rejected {
    /// Remembers a rejection.
    pub fn insert(&mut self, hash: Hash, reason: String) {
        if self.reasons.insert(hash, reason).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > REJECTED_REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.reasons.remove(&old);
            }
        }
    }

    /// Why a transaction was rejected, if it was recently.
    pub fn get(&self, hash: &Hash) -> Option<&String> {
        self.reasons.get(hash)
    }
}

/// Counters for `/metrics` and `/v1/status`.
#[derive(Default)]
pub struct Counters {
    /// Last committed height.
    pub height: AtomicU64,
    /// Log size.
    pub log_size: AtomicU64,
    /// Size of the published (quorum-signed) checkpoint.
    pub checkpoint_size: AtomicU64,
    /// Transactions committed since start.
    pub committed_txs: AtomicU64,
    /// Transactions rejected by the rules in blocks since start.
    pub rejected_in_blocks: AtomicU64,
    /// Transactions refused at admission since start.
    pub rejected_at_admission: AtomicU64,
    /// Transactions admitted to the mempool through this node's API since start.
    pub admitted: AtomicU64,
    /// Submissions refused because the mempool was full.
    pub busy: AtomicU64,
    /// Transactions refused by the write limits (per source, per signer, concurrency).
    pub limited: AtomicU64,
    /// Transactions whose signature failed at admission (junk, or a member's bug).
    pub bad_signatures: AtomicU64,
    /// Connected consensus peers.
    pub peers: AtomicU64,
    /// Rounds above 0 started (a proposer was slow or down).
    pub round_changes: AtomicU64,
    /// Forwarded transactions dropped because a peer's queue was full.
    pub forward_dropped: AtomicU64,
    /// Proposals this validator found invalid (a faulty or Byzantine proposer).
    pub invalid_proposals: AtomicU64,
    /// Checkpoint votes of other validators refused (forged, or of another log).
    pub refused_checkpoint_votes: AtomicU64,
    /// Unix time of the last committed block (or of the start).
    pub last_commit_unix: AtomicU64,
    /// 1 when this validator misbehaves on purpose (`[byzantine]`, tests only).
    pub byzantine: AtomicU64,
}

impl Counters {
    /// Reads a counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    /// Adds to a counter.
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets a gauge.
    pub fn set(c: &AtomicU64, n: u64) {
        c.store(n, Ordering::Relaxed);
    }
}

/// The state a validator's consensus loop and API share.
pub struct Live {
    /// This member's name.
    pub name: String,
    /// The network.
    pub network: bansos_genesis::Network,
    /// Pending transactions.
    pub mempool: Mutex<Mempool>,
    /// Recently rejected transactions.
    pub rejected: Mutex<Rejected>,
    /// Counters.
    pub counters: Counters,
    /// Queues of encoded transactions to forward to each peer validator's API.
    pub forward: Vec<std::sync::mpsc::SyncSender<Vec<u8>>>,
    /// The mempool journal: what this validator acknowledged, on disk until a block takes it.
    pub journal: crate::journal::JournalHandle,
    /// Limits on the write API (`crate::limits`).
    pub limits: crate::limits::WriteLimits,
}
