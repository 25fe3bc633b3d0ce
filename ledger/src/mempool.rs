//! The mempool: signed transactions admitted by a validator and waiting for a block.
//!
//! Bounded in count and bytes; a full pool refuses with [`Admission::Full`] so the API can answer
//! 503 with Retry-After instead of growing. Each signer may also be held to a share of the pool
//! ([`Mempool::with_signer_limits`], [`Admission::SignerFull`]), so one member cannot fill it
//! with transactions the rules will reject and leave the others no room. Identical resubmissions are idempotent. Blocks take
//! transactions in arrival order; committed or rejected ones are removed by hash. No I/O, no clock:
//! propagation between validators is the node's business.

use std::collections::{HashMap, VecDeque};

use bansos_genesis::Network;
use bansos_verifier::entry::{MemberId, SignedTx};
use bansos_verifier::governance::Roster;
use bansos_verifier::hash::Hash;

use crate::rules::{Rejection, precheck};

/// Default bound on pending transactions.
pub const MEMPOOL_TXS_MAX: usize = 200_000;
/// Default bound on pending bytes (encoded transactions).
pub const MEMPOOL_BYTES_MAX: usize = 128 * 1024 * 1024;

/// What happened to a submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Accepted for the next blocks.
    Added(Hash),
    /// Already pending: nothing changed (idempotent resubmission).
    AlreadyPending(Hash),
    /// Refused by the stateless checks; nothing kept.
    Rejected(Hash, Rejection),
    /// The pool is at its bound; retry later.
    Full,
    /// This signer holds its whole share of the pool; retry once its transactions are in blocks.
    SignerFull,
}

/// Pending transactions, oldest first.
pub struct Mempool {
    network: Network,
    roster: Roster,
    txs_max: usize,
    bytes_max: usize,
    bytes: usize,
    signer_txs_max: usize,
    signer_bytes_max: usize,
    /// Pending count and bytes of each signer.
    by_signer: HashMap<MemberId, (usize, usize)>,
    order: VecDeque<Hash>,
    pending: HashMap<Hash, (SignedTx, usize)>,
}

impl Mempool {
    /// An empty pool with the given bounds; one signer may fill it (see
    /// [`Mempool::with_signer_limits`]).
    pub fn new(network: Network, txs_max: usize, bytes_max: usize) -> Mempool {
        Mempool {
            roster: network.genesis_roster(),
            network,
            txs_max,
            bytes_max,
            bytes: 0,
            signer_txs_max: txs_max,
            signer_bytes_max: bytes_max,
            by_signer: HashMap::new(),
            order: VecDeque::new(),
            pending: HashMap::new(),
        }
    }

    /// The same pool, holding each signer to at most `txs_max` pending transactions and
    /// `bytes_max` pending bytes (at least one transaction each).
    pub fn with_signer_limits(mut self, txs_max: usize, bytes_max: usize) -> Mempool {
        self.signer_txs_max = txs_max.max(1);
        self.signer_bytes_max = bytes_max;
        self
    }

    /// Whether `signer` holds its whole share of the pool: a caller can refuse its new work
    /// before spending a signature check on it.
    pub fn is_signer_full(&self, signer: MemberId) -> bool {
        self.by_signer
            .get(&signer)
            .is_some_and(|&(n, b)| n >= self.signer_txs_max || b >= self.signer_bytes_max)
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Pending bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the pool is at its bound on count or bytes: a caller can refuse new work before
    /// spending a signature check on it.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= self.txs_max || self.bytes >= self.bytes_max
    }

    /// Whether a transaction is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.pending.contains_key(hash)
    }

    /// Admits a transaction after the stateless checks.
    pub fn submit(&mut self, tx: SignedTx) -> Admission {
        let hash = tx.hash();
        if self.pending.contains_key(&hash) {
            return Admission::AlreadyPending(hash);
        }
        if let Err(r) = precheck(&self.network, &self.roster, &tx) {
            return Admission::Rejected(hash, r);
        }
        let epoch = self.roster.epoch;
        self.submit_prechecked(tx, hash, epoch)
    }

    /// The same empty pool, checking against `roster` (the store's, at start).
    pub fn with_roster(mut self, roster: Roster) -> Mempool {
        self.roster = roster;
        self
    }

    /// The members the stateless checks are run against.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Sets the members in force (after a block that approved a change, or at start from the
    /// store) and runs the stateless checks again on the pending transactions of every member
    /// whose record changed (a rotated key, a removal): those now refused are dropped and
    /// returned, so that every pending transaction passed [`precheck`] with the current roster.
    pub fn set_roster(&mut self, roster: Roster) -> Vec<(Hash, Rejection)> {
        let changed: Vec<MemberId> = roster
            .members
            .iter()
            .filter(|m| self.roster.member(m.id) != Some(*m))
            .map(|m| m.id)
            .collect();
        self.roster = roster;
        if changed.is_empty() {
            return Vec::new();
        }
        let refused: Vec<(Hash, Rejection)> = self
            .pending
            .iter()
            .filter(|(_, (tx, _))| changed.contains(&tx.signer))
            .filter_map(|(h, (tx, _))| {
                precheck(&self.network, &self.roster, tx)
                    .err()
                    .map(|r| (*h, r))
            })
            .collect();
        self.remove(refused.iter().map(|(h, _)| h));
        refused
    }

    /// Admits a transaction whose stateless checks ([`precheck`]) the caller already ran with
    /// this pool's network and the roster of `epoch` (outside the pool's lock: they verify a
    /// signature). `hash` is `tx.hash()`. If the roster changed since, the checks run again.
    pub fn submit_prechecked(&mut self, tx: SignedTx, hash: Hash, epoch: u64) -> Admission {
        if self.pending.contains_key(&hash) {
            return Admission::AlreadyPending(hash);
        }
        if epoch != self.roster.epoch
            && let Err(r) = precheck(&self.network, &self.roster, &tx)
        {
            return Admission::Rejected(hash, r);
        }
        let size = tx.encode().len();
        if self.pending.len() >= self.txs_max || self.bytes + size > self.bytes_max {
            return Admission::Full;
        }
        let (n, b) = self.by_signer.get(&tx.signer).copied().unwrap_or((0, 0));
        if n >= self.signer_txs_max || b + size > self.signer_bytes_max {
            return Admission::SignerFull;
        }
        self.by_signer.insert(tx.signer, (n + 1, b + size));
        self.bytes += size;
        self.order.push_back(hash);
        self.pending.insert(hash, (tx, size));
        Admission::Added(hash)
    }

    /// The oldest pending transactions, at most `txs_max` of them and `bytes_max` bytes, for a
    /// block proposal. They stay pending until [`Mempool::remove`].
    pub fn peek_batch(&self, txs_max: usize, bytes_max: usize) -> Vec<SignedTx> {
        let mut out = Vec::new();
        let mut bytes = 0;
        for hash in &self.order {
            let Some((tx, size)) = self.pending.get(hash) else {
                continue;
            };
            if out.len() == txs_max || bytes + size > bytes_max {
                break;
            }
            bytes += size;
            out.push(tx.clone());
        }
        out
    }

    /// Removes committed or rejected transactions.
    pub fn remove<'a>(&mut self, hashes: impl IntoIterator<Item = &'a Hash>) {
        for hash in hashes {
            if let Some((tx, size)) = self.pending.remove(hash) {
                self.bytes -= size;
                if let Some((n, b)) = self.by_signer.get_mut(&tx.signer) {
                    *n -= 1;
                    *b -= size;
                    if *n == 0 {
                        self.by_signer.remove(&tx.signer);
                    }
                }
            }
        }
        // Drop removed hashes from the front; the rest are skipped lazily and compacted here.
        if self.order.len() > 2 * self.pending.len() + 1024 {
            self.order.retain(|h| self.pending.contains_key(h));
        }
        while self
            .order
            .front()
            .is_some_and(|h| !self.pending.contains_key(h))
        {
            self.order.pop_front();
        }
    }
}
