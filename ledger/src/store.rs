//! The narrow storage interface of the ledger (what a backend must answer and the one atomic
//! write it must make), the ledger state records, and the in-memory backend.
//!
//! A backend is a key-value store with five tables: hash tiles, entry bundles, allocations,
//! programs, and two sets (dedup keys and transaction hashes), plus the log size and block
//! height. [`LedgerStore::commit`] writes one block's log batch and state changes in one
//! transaction: after a crash, either all of a block is there or none of it.

use std::collections::{BTreeMap, BTreeSet};

use bansos_verifier::entry::{
    Allocation, AllocationId, AmountRule, MemberId, PeriodKind, ProgramCode, Rupiah,
};
use bansos_verifier::governance::{Change, Roster};
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize};
use serde::{Deserialize, Serialize};

use crate::log::LogBatch;

/// A storage backend and what it fails with.
pub trait Storage {
    /// What the backend fails with (I/O, a damaged file).
    type Error: std::error::Error + Send + Sync + 'static;
}

/// Reads of the stored Merkle log.
pub trait LogRead: Storage {
    /// Number of entries in the log.
    fn log_size(&self) -> Result<TreeSize, Self::Error>;
    /// Stored [`crate::log::TileNodes`] bytes of hash tile (level, index).
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, Self::Error>;
    /// Stored entry bundle bytes (the latest, possibly partial, version).
    fn bundle(&self, index: u64) -> Result<Option<Vec<u8>>, Self::Error>;
}

/// Reads of the ledger state.
pub trait StateRead: Storage {
    /// Height of the last applied block (0 before the first).
    fn height(&self) -> Result<u64, Self::Error>;
    /// A registered program.
    fn program(&self, code: &ProgramCode) -> Result<Option<ProgramState>, Self::Error>;
    /// An allocation and its claim status.
    fn allocation(&self, id: &AllocationId) -> Result<Option<AllocationState>, Self::Error>;
    /// Whether a dedup key (see [`dedup_key`]) was used.
    fn dedup_used(&self, key: &Hash) -> Result<bool, Self::Error>;
    /// Where a committed transaction is, by its hash.
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, Self::Error>;
    /// The last checkpoint this validator signed: (size, root).
    fn signed_checkpoint(&self) -> Result<Option<(TreeSize, Hash)>, Self::Error>;
    /// Public totals, every row (bounded by programs × periods × kabupaten/kota × payers).
    fn stats(&self) -> Result<Vec<(StatsKey, StatsRow)>, Self::Error>;
    /// The governance state; `None` until the first vote (the genesis roster applies).
    fn governance(&self) -> Result<Option<GovernanceState>, Self::Error>;
    /// The first quorum checkpoint an epoch signed (the key history's proof of where it starts).
    fn epoch_checkpoint(&self, epoch: u64) -> Result<Option<Vec<u8>>, Self::Error>;
}

/// A storage backend for one validator's ledger.
pub trait LedgerStore: LogRead + StateRead {
    /// A consistent read view (one read transaction in a database backend).
    type View<'a>: LogRead<Error = Self::Error> + StateRead
    where
        Self: 'a;
    /// Opens a read view; the rules read a whole block through one view.
    fn view(&self) -> Result<Self::View<'_>, Self::Error>;
    /// Writes a log batch and a state delta atomically and durably.
    fn commit(&mut self, log: &LogBatch, state: &StateDelta) -> Result<(), Self::Error>;
}

/// The bytes of a decided block and of its encoded certificate.
pub type DecidedBytes = (Vec<u8>, Vec<u8>);

/// What a validator keeps for consensus beside its ledger, all opaque bytes to the store:
/// blocks proposed but not yet decided, by (height, block id), written durably before the
/// validator votes on them so that it votes and proposes the same after a crash; its own
/// proposal per (height, round); and, read back, the decided blocks and certificates that
/// [`LedgerStore::commit`] wrote with each block (to serve validators catching up).
pub trait ConsensusStore: LedgerStore {
    /// Durably records an undecided block under its id.
    fn put_undecided(&mut self, height: u64, id: [u8; 32], bytes: &[u8])
    -> Result<(), Self::Error>;
    /// An undecided block by height and id.
    fn undecided(&self, height: u64, id: [u8; 32]) -> Result<Option<Vec<u8>>, Self::Error>;
    /// Every undecided block stored for `height`, in id order.
    fn undecided_at(&self, height: u64) -> Result<Vec<Vec<u8>>, Self::Error>;
    /// Durably records this validator's proposal (block id) for a height and round.
    fn put_own_proposal(
        &mut self,
        height: u64,
        round: u32,
        id: [u8; 32],
    ) -> Result<(), Self::Error>;
    /// This validator's proposal for a height and round, if it made one.
    fn own_proposal(&self, height: u64, round: u32) -> Result<Option<[u8; 32]>, Self::Error>;
    /// Drops undecided blocks and own proposals at or below `height`.
    fn prune_undecided(&mut self, height: u64) -> Result<(), Self::Error>;
    /// The decided block and certificate at `height`.
    fn decided(&self, height: u64) -> Result<Option<DecidedBytes>, Self::Error>;
    /// Lowest height whose decided block is stored (0 if none).
    fn decided_min_height(&self) -> Result<u64, Self::Error>;
}

/// A program as the state knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramState {
    /// The issuing ministry.
    pub issuer: MemberId,
    /// Name for people.
    pub name: String,
    /// Shape of its periods.
    pub period_kind: PeriodKind,
    /// Amount rule.
    pub amount: AmountRule,
}

/// Whether an allocation can still be claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationStatus {
    /// Claimable (until its expiry).
    Open,
    /// Its payer returned the funds.
    Returned,
    /// Its ministry revoked it.
    Revoked,
}

/// An allocation with its claims so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationState {
    /// The allocation as logged.
    pub allocation: Allocation,
    /// The ministry that allocated it.
    pub issuer: MemberId,
    /// Its leaf in the log.
    pub leaf: LeafIndex,
    /// Total paid so far.
    pub claimed: Rupiah,
    /// Leaves of its claims, in order.
    pub claims: Vec<LeafIndex>,
    /// Open, returned or revoked.
    pub status: AllocationStatus,
    /// The leaf of its return or revocation.
    #[serde(default)]
    pub closed_by: Option<LeafIndex>,
}

/// Where a committed transaction landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Leaf index.
    pub leaf: LeafIndex,
}

/// State changes of one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateDelta {
    /// The block's height.
    pub height: u64,
    /// Programs registered.
    pub programs: BTreeMap<ProgramCode, ProgramState>,
    /// Allocations created or changed, final value.
    pub allocations: BTreeMap<AllocationId, AllocationState>,
    /// Dedup keys used.
    pub dedup: BTreeSet<Hash>,
    /// Transactions committed.
    pub txs: BTreeMap<Hash, TxLocation>,
    /// A checkpoint this validator is about to sign: recorded before the signature leaves.
    pub signed_checkpoint: Option<(TreeSize, Hash)>,
    /// Increments of the public totals made by this block.
    pub stats: BTreeMap<StatsKey, StatsRow>,
    /// The governance state after this block, when a vote changed it.
    pub governance: Option<GovernanceState>,
    /// What the node commits with the block, opaque to the rules.
    pub decided: Option<DecidedRecord>,
}

/// Votes and the rosters they made: the members, witnesses and changes in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceState {
    /// The roster of the next block (after the last approved change).
    pub roster: Roster,
    /// Changes voted in this epoch and not yet approved, by change hash.
    pub pending: BTreeMap<Hash, PendingChange>,
    /// Every approved change, epoch 1 first.
    pub approved: Vec<ApprovedChange>,
}

impl GovernanceState {
    /// The state before any vote.
    pub fn genesis(roster: Roster) -> GovernanceState {
        GovernanceState {
            roster,
            pending: BTreeMap::new(),
            approved: Vec::new(),
        }
    }
}

/// A change with its votes so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChange {
    /// The change.
    pub change: Change,
    /// Who voted, with the leaf of the vote.
    pub voters: Vec<(MemberId, LeafIndex)>,
    /// The votes, signed transactions' canonical bytes in hex (they go into the key history).
    pub votes: Vec<String>,
}

/// A change the validators approved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedChange {
    /// The epoch it started.
    pub epoch: u64,
    /// The change.
    pub change: Change,
    /// The votes that approved it (hex of signed transactions).
    pub votes: Vec<String>,
    /// The block that approved it; the new roster applies from the next height.
    pub height: u64,
    /// The log size after that block: the first checkpoint size of the new epoch.
    pub start_size: u64,
}

/// The consensus records a validator commits in the same transaction as a block's entries and
/// state: after a crash the block, its certificate and its effects are all there or none is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecidedRecord {
    /// The block (header and transactions) as consensus carries it.
    pub block: Vec<u8>,
    /// Its commit certificate, encoded.
    pub certificate: Vec<u8>,
    /// A checkpoint note with a quorum of validator signatures, to publish from now on.
    pub published_checkpoint: Option<Vec<u8>>,
    /// The same note when it is the first an epoch signed: (epoch, note).
    pub epoch_checkpoint: Option<(u64, Vec<u8>)>,
}

/// What public totals are grouped by: program, period, kabupaten/kota, payer and, for claims,
/// the channel (`None` on allocation rows).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StatsKey {
    /// Program code.
    pub program: ProgramCode,
    /// Period.
    pub period: String,
    /// Kabupaten/kota of the allocation (of the payout, on claim rows).
    pub region: u16,
    /// Paying member.
    pub payer: MemberId,
    /// How it was paid out (claim rows only).
    pub channel: Option<bansos_verifier::entry::Channel>,
}

/// Public totals of one [`StatsKey`]: counts and rupiah.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRow {
    /// Allocations made.
    pub allocations: u64,
    /// Rupiah allocated.
    pub allocated: u64,
    /// Claims recorded.
    pub claims: u64,
    /// Rupiah paid out.
    pub claimed: u64,
    /// Allocations returned by their payer.
    pub returns: u64,
    /// Rupiah returned unpaid.
    pub returned: u64,
    /// Allocations revoked by their ministry.
    pub revocations: u64,
    /// Rupiah revoked unpaid.
    pub revoked: u64,
}

impl StatsRow {
    /// Adds another row's counts (saturating: totals of a country's aid fit u64 many times over).
    pub fn add(&mut self, o: &StatsRow) {
        self.allocations = self.allocations.saturating_add(o.allocations);
        self.allocated = self.allocated.saturating_add(o.allocated);
        self.claims = self.claims.saturating_add(o.claims);
        self.claimed = self.claimed.saturating_add(o.claimed);
        self.returns = self.returns.saturating_add(o.returns);
        self.returned = self.returned.saturating_add(o.returned);
        self.revocations = self.revocations.saturating_add(o.revocations);
        self.revoked = self.revoked.saturating_add(o.revoked);
    }
}

impl StateDelta {
    /// Adds `row` to the increments of `key`.
    pub fn count(&mut self, key: StatsKey, row: StatsRow) {
        self.stats.entry(key).or_default().add(&row);
    }
}

/// The stored key of a dedup tag: unique per (program, period, tag).
pub fn dedup_key(program: &ProgramCode, period: &str, tag: &Hash) -> Hash {
    Hash::digest_parts(&[
        b"bansos-ledger/dedup-key/v1\0",
        &[program.as_str().len() as u8],
        program.as_str().as_bytes(),
        &[period.len() as u8],
        period.as_bytes(),
        &tag.0,
    ])
}

impl<T: Storage + ?Sized> Storage for &T {
    type Error = T::Error;
}

impl<T: LogRead + ?Sized> LogRead for &T {
    fn log_size(&self) -> Result<TreeSize, Self::Error> {
        (**self).log_size()
    }
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        (**self).tile(level, index)
    }
    fn bundle(&self, index: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        (**self).bundle(index)
    }
}

impl<T: StateRead + ?Sized> StateRead for &T {
    fn height(&self) -> Result<u64, Self::Error> {
        (**self).height()
    }
    fn program(&self, code: &ProgramCode) -> Result<Option<ProgramState>, Self::Error> {
        (**self).program(code)
    }
    fn allocation(&self, id: &AllocationId) -> Result<Option<AllocationState>, Self::Error> {
        (**self).allocation(id)
    }
    fn dedup_used(&self, key: &Hash) -> Result<bool, Self::Error> {
        (**self).dedup_used(key)
    }
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, Self::Error> {
        (**self).tx_location(tx_hash)
    }
    fn signed_checkpoint(&self) -> Result<Option<(TreeSize, Hash)>, Self::Error> {
        (**self).signed_checkpoint()
    }
    fn stats(&self) -> Result<Vec<(StatsKey, StatsRow)>, Self::Error> {
        (**self).stats()
    }
    fn governance(&self) -> Result<Option<GovernanceState>, Self::Error> {
        (**self).governance()
    }
    fn epoch_checkpoint(&self, epoch: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        (**self).epoch_checkpoint(epoch)
    }
}

/// Everything in memory: for tests, tools and the conformance suite's reference.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    size: TreeSize,
    tiles: BTreeMap<(u8, u64), Vec<u8>>,
    bundles: BTreeMap<u64, Vec<u8>>,
    height: u64,
    programs: BTreeMap<ProgramCode, ProgramState>,
    allocations: BTreeMap<AllocationId, AllocationState>,
    dedup: BTreeSet<Hash>,
    txs: BTreeMap<Hash, TxLocation>,
    signed_checkpoint: Option<(TreeSize, Hash)>,
    stats: BTreeMap<StatsKey, StatsRow>,
    governance: Option<GovernanceState>,
    epoch_checkpoints: BTreeMap<u64, Vec<u8>>,
    decided: BTreeMap<u64, DecidedRecord>,
    undecided: BTreeMap<(u64, [u8; 32]), Vec<u8>>,
    own: BTreeMap<(u64, u32), [u8; 32]>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl Storage for MemoryStore {
    type Error = std::convert::Infallible;
}

impl LogRead for MemoryStore {
    fn log_size(&self) -> Result<TreeSize, Self::Error> {
        Ok(self.size)
    }
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.tiles.get(&(level, index)).cloned())
    }
    fn bundle(&self, index: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.bundles.get(&index).cloned())
    }
}

impl StateRead for MemoryStore {
    fn height(&self) -> Result<u64, Self::Error> {
        Ok(self.height)
    }
    fn program(&self, code: &ProgramCode) -> Result<Option<ProgramState>, Self::Error> {
        Ok(self.programs.get(code).cloned())
    }
    fn allocation(&self, id: &AllocationId) -> Result<Option<AllocationState>, Self::Error> {
        Ok(self.allocations.get(id).cloned())
    }
    fn dedup_used(&self, key: &Hash) -> Result<bool, Self::Error> {
        Ok(self.dedup.contains(key))
    }
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, Self::Error> {
        Ok(self.txs.get(tx_hash).copied())
    }
    fn signed_checkpoint(&self) -> Result<Option<(TreeSize, Hash)>, Self::Error> {
        Ok(self.signed_checkpoint)
    }
    fn stats(&self) -> Result<Vec<(StatsKey, StatsRow)>, Self::Error> {
        Ok(self.stats.iter().map(|(k, v)| (k.clone(), *v)).collect())
    }
    fn governance(&self) -> Result<Option<GovernanceState>, Self::Error> {
        Ok(self.governance.clone())
    }
    fn epoch_checkpoint(&self, epoch: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.epoch_checkpoints.get(&epoch).cloned())
    }
}

impl LedgerStore for MemoryStore {
    type View<'a> = &'a MemoryStore;
    fn view(&self) -> Result<&MemoryStore, Self::Error> {
        Ok(self)
    }
    fn commit(&mut self, log: &LogBatch, state: &StateDelta) -> Result<(), Self::Error> {
        assert!(log.new_size >= self.size, "the log never shrinks");
        self.size = log.new_size;
        self.tiles
            .extend(log.tiles.iter().map(|(k, v)| (*k, v.clone())));
        self.bundles
            .extend(log.bundles.iter().map(|(k, v)| (*k, v.clone())));
        if state.height > 0 {
            assert!(state.height > self.height, "block heights only grow");
            self.height = state.height;
        }
        self.programs
            .extend(state.programs.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.allocations
            .extend(state.allocations.iter().map(|(k, v)| (*k, v.clone())));
        self.dedup.extend(state.dedup.iter().copied());
        self.txs.extend(state.txs.iter().map(|(k, v)| (*k, *v)));
        if let Some(signed) = state.signed_checkpoint {
            self.signed_checkpoint = Some(signed);
        }
        for (k, v) in &state.stats {
            self.stats.entry(k.clone()).or_default().add(v);
        }
        if let Some(g) = &state.governance {
            self.governance = Some(g.clone());
        }
        if let Some(d) = &state.decided {
            if let Some((epoch, note)) = &d.epoch_checkpoint {
                self.epoch_checkpoints.insert(*epoch, note.clone());
            }
            self.decided.insert(state.height, d.clone());
        }
        Ok(())
    }
}

impl ConsensusStore for MemoryStore {
    fn put_undecided(
        &mut self,
        height: u64,
        id: [u8; 32],
        bytes: &[u8],
    ) -> Result<(), Self::Error> {
        self.undecided.insert((height, id), bytes.to_vec());
        Ok(())
    }
    fn undecided(&self, height: u64, id: [u8; 32]) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.undecided.get(&(height, id)).cloned())
    }
    fn undecided_at(&self, height: u64) -> Result<Vec<Vec<u8>>, Self::Error> {
        Ok(self
            .undecided
            .range((height, [0; 32])..=(height, [0xff; 32]))
            .map(|(_, v)| v.clone())
            .collect())
    }
    fn put_own_proposal(
        &mut self,
        height: u64,
        round: u32,
        id: [u8; 32],
    ) -> Result<(), Self::Error> {
        self.own.insert((height, round), id);
        Ok(())
    }
    fn own_proposal(&self, height: u64, round: u32) -> Result<Option<[u8; 32]>, Self::Error> {
        Ok(self.own.get(&(height, round)).copied())
    }
    fn prune_undecided(&mut self, height: u64) -> Result<(), Self::Error> {
        self.undecided.retain(|(h, _), _| *h > height);
        self.own.retain(|(h, _), _| *h > height);
        Ok(())
    }
    fn decided(&self, height: u64) -> Result<Option<DecidedBytes>, Self::Error> {
        Ok(self
            .decided
            .get(&height)
            .map(|d| (d.block.clone(), d.certificate.clone())))
    }
    fn decided_min_height(&self) -> Result<u64, Self::Error> {
        Ok(self.decided.keys().next().copied().unwrap_or(0))
    }
}
