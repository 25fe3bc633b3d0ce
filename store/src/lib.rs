//! The redb storage backend of a validator: the Merkle log's tiles and bundles and the ledger
//! state, in one redb file, written one block per ACID transaction with `fsync` on commit.
//!
//! [`RedbStore`] is the writer's handle (each read opens its own read transaction);
//! [`Snapshot`] is one read transaction, a consistent view for serving tiles and proofs while
//! blocks are being committed. Records are JSON (state) or raw bytes (log); the layout is in
//! ARCHITECTURE.md. [`journal::Journal`] is the mempool journal, in a file of its own;
//! [`mark::FileMark`] the last signed checkpoint, in a file outside the store; [`private`] reads
//! private key files only if no one else can, and tightens folders of personal data. This crate
//! knows nothing of consensus or HTTP.

use std::path::Path;

use bansos_ledger::log::LogBatch;
use bansos_ledger::store::{
    AllocationState, ConsensusStore, GovernanceState, LedgerStore, LogRead, ProgramState,
    StateDelta, StateRead, StatsKey, StatsRow, Storage, TxLocation,
};
use bansos_verifier::entry::{AllocationId, ProgramCode};
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize};
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const TILES: TableDefinition<(u8, u64), &[u8]> = TableDefinition::new("tiles");
const BUNDLES: TableDefinition<u64, &[u8]> = TableDefinition::new("bundles");
const PROGRAMS: TableDefinition<&str, &[u8]> = TableDefinition::new("programs");
const ALLOCATIONS: TableDefinition<[u8; 16], &[u8]> = TableDefinition::new("allocations");
const DEDUP: TableDefinition<[u8; 32], ()> = TableDefinition::new("dedup");
const TXS: TableDefinition<[u8; 32], (u64, u64)> = TableDefinition::new("txs");
const SIGNED: TableDefinition<&str, (u64, [u8; 32])> = TableDefinition::new("signed_checkpoint");
const LAST_SIGNED: &str = "last";
/// Public totals: JSON of a `StatsKey` → JSON of a `StatsRow`.
const STATS: TableDefinition<&str, &[u8]> = TableDefinition::new("stats");
/// Decided blocks as consensus carried them, by height (written with the block's entries).
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Commit certificates, by height (written with the block's entries).
const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");
/// The quorum-signed checkpoint being published (one row, [`PUBLISHED_KEY`]).
const PUBLISHED: TableDefinition<&str, &[u8]> = TableDefinition::new("published_checkpoint");
const PUBLISHED_KEY: &str = "checkpoint";
/// Blocks proposed or received but not decided yet, by (height, block id): consensus may
/// decide one of them after a crash.
const UNDECIDED: TableDefinition<(u64, [u8; 32]), &[u8]> = TableDefinition::new("undecided");
/// This validator's own proposal per (height, round): it must propose the same after a crash.
const OWN: TableDefinition<(u64, u32), [u8; 32]> = TableDefinition::new("own_proposals");
/// The governance state (JSON) under [`GOVERNANCE_KEY`]; absent until the first vote.
const GOVERNANCE: TableDefinition<&str, &[u8]> = TableDefinition::new("governance");
const GOVERNANCE_KEY: &str = "state";
/// The first quorum checkpoint of each epoch, by epoch.
const EPOCH_CHECKPOINTS: TableDefinition<u64, &[u8]> = TableDefinition::new("epoch_checkpoints");

const LOG_SIZE: &str = "log_size";
const HEIGHT: &str = "height";
const SCHEMA: &str = "schema";
/// redb's default page cache.
pub const DEFAULT_CACHE_BYTES: usize = 1024 * 1024 * 1024;
/// Version of the table layout; a store of another version is refused, not misread.
pub const SCHEMA_VERSION: u64 = 1;

/// What the redb backend fails with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb failed (I/O, a full disk, a damaged file).
    #[error("database error: {0}")]
    Redb(#[from] redb::Error),
    /// A record does not decode (a damaged file or a bug).
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    /// The file was written by another layout version.
    #[error("the store has schema version {found}, this build reads {SCHEMA_VERSION}")]
    Schema {
        /// Version found.
        found: u64,
    },
}

fn redb_err<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Redb(e.into())
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("state records serialize")
}

/// A decided block and its certificate, as stored.
pub use bansos_ledger::store::DecidedBytes;

pub mod journal;
pub mod mark;
pub mod private;

/// A validator's store: one redb file. Clones share the database (one writer at a time, any
/// number of readers).
#[derive(Clone)]
pub struct RedbStore {
    db: std::sync::Arc<Database>,
}

impl RedbStore {
    /// Opens (or creates) the store at `path` with redb's default page cache (1 GiB).
    pub fn open(path: &Path) -> Result<RedbStore, StoreError> {
        RedbStore::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the store with a page cache of `cache_bytes`. Proofs are fastest when
    /// the hash tiles fit (64 bytes an entry).
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<RedbStore, StoreError> {
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(redb_err)?;
        let tx = db.begin_write().map_err(redb_err)?;
        {
            let mut meta = tx.open_table(META).map_err(redb_err)?;
            let found = meta.get(SCHEMA).map_err(redb_err)?.map(|v| v.value());
            match found {
                None => {
                    meta.insert(SCHEMA, SCHEMA_VERSION).map_err(redb_err)?;
                }
                Some(SCHEMA_VERSION) => {}
                Some(found) => return Err(StoreError::Schema { found }),
            }
            tx.open_table(TILES).map_err(redb_err)?;
            tx.open_table(BUNDLES).map_err(redb_err)?;
            tx.open_table(PROGRAMS).map_err(redb_err)?;
            tx.open_table(ALLOCATIONS).map_err(redb_err)?;
            tx.open_table(DEDUP).map_err(redb_err)?;
            tx.open_table(TXS).map_err(redb_err)?;
            tx.open_table(SIGNED).map_err(redb_err)?;
            tx.open_table(STATS).map_err(redb_err)?;
            tx.open_table(BLOCKS).map_err(redb_err)?;
            tx.open_table(CERTIFICATES).map_err(redb_err)?;
            tx.open_table(PUBLISHED).map_err(redb_err)?;
            tx.open_table(UNDECIDED).map_err(redb_err)?;
            tx.open_table(OWN).map_err(redb_err)?;
            tx.open_table(GOVERNANCE).map_err(redb_err)?;
            tx.open_table(EPOCH_CHECKPOINTS).map_err(redb_err)?;
        }
        tx.commit().map_err(redb_err)?;
        Ok(RedbStore {
            db: std::sync::Arc::new(db),
        })
    }

    /// The decided block and certificate at `height`.
    pub fn decided(&self, height: u64) -> Result<Option<DecidedBytes>, StoreError> {
        let tx = self.db.begin_read().map_err(redb_err)?;
        let blocks = tx.open_table(BLOCKS).map_err(redb_err)?;
        let certs = tx.open_table(CERTIFICATES).map_err(redb_err)?;
        let b = blocks.get(height).map_err(redb_err)?;
        let c = certs.get(height).map_err(redb_err)?;
        Ok(match (b, c) {
            (Some(b), Some(c)) => Some((b.value().to_vec(), c.value().to_vec())),
            _ => None,
        })
    }

    /// Lowest height whose decided block is stored (0 if none).
    pub fn decided_min_height(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(redb_err)?;
        let blocks = tx.open_table(BLOCKS).map_err(redb_err)?;
        Ok(blocks
            .first()
            .map_err(redb_err)?
            .map(|(k, _)| k.value())
            .unwrap_or(0))
    }

    /// The quorum-signed checkpoint note being published.
    pub fn published_checkpoint(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(redb_err)?;
        let t = tx.open_table(PUBLISHED).map_err(redb_err)?;
        Ok(t.get(PUBLISHED_KEY)
            .map_err(redb_err)?
            .map(|v| v.value().to_vec()))
    }

    /// Durably records an undecided block (`bytes` as consensus carries it) under its id.
    pub fn put_undecided(&self, height: u64, id: [u8; 32], bytes: &[u8]) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(redb_err)?;
        tx.open_table(UNDECIDED)
            .map_err(redb_err)?
            .insert((height, id), bytes)
            .map_err(redb_err)?;
        tx.commit().map_err(redb_err)
    }

    /// An undecided block by height and id.
    pub fn undecided(&self, height: u64, id: [u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(redb_err)?;
        let t = tx.open_table(UNDECIDED).map_err(redb_err)?;
        Ok(t.get((height, id))
            .map_err(redb_err)?
            .map(|v| v.value().to_vec()))
    }

    /// Every undecided block stored for `height`.
    pub fn undecided_at(&self, height: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(redb_err)?;
        let t = tx.open_table(UNDECIDED).map_err(redb_err)?;
        let mut out = Vec::new();
        for row in t
            .range((height, [0u8; 32])..=(height, [0xffu8; 32]))
            .map_err(redb_err)?
        {
            out.push(row.map_err(redb_err)?.1.value().to_vec());
        }
        Ok(out)
    }

    /// Durably records this validator's proposal (block id) for a height and round.
    pub fn put_own_proposal(
        &self,
        height: u64,
        round: u32,
        id: [u8; 32],
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(redb_err)?;
        tx.open_table(OWN)
            .map_err(redb_err)?
            .insert((height, round), id)
            .map_err(redb_err)?;
        tx.commit().map_err(redb_err)
    }

    /// This validator's proposal for a height and round, if it made one.
    pub fn own_proposal(&self, height: u64, round: u32) -> Result<Option<[u8; 32]>, StoreError> {
        let tx = self.db.begin_read().map_err(redb_err)?;
        let t = tx.open_table(OWN).map_err(redb_err)?;
        Ok(t.get((height, round)).map_err(redb_err)?.map(|v| v.value()))
    }

    /// Drops undecided blocks and own proposals at or below `height` (decided by now).
    pub fn prune_undecided(&self, height: u64) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(redb_err)?;
        {
            let mut t = tx.open_table(UNDECIDED).map_err(redb_err)?;
            t.retain(|(h, _), _| h > height).map_err(redb_err)?;
            let mut o = tx.open_table(OWN).map_err(redb_err)?;
            o.retain(|(h, _), _| h > height).map_err(redb_err)?;
        }
        tx.commit().map_err(redb_err)
    }

    /// A consistent read-only view of the store as of now.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        Ok(Snapshot {
            tx: self.db.begin_read().map_err(redb_err)?,
        })
    }
}

/// One read transaction: every read sees the same committed state.
pub struct Snapshot {
    tx: ReadTransaction,
}

impl Snapshot {
    fn meta(&self, key: &str) -> Result<u64, StoreError> {
        let t = self.tx.open_table(META).map_err(redb_err)?;
        Ok(t.get(key)
            .map_err(redb_err)?
            .map(|v| v.value())
            .unwrap_or(0))
    }
}

impl Storage for Snapshot {
    type Error = StoreError;
}

impl LogRead for Snapshot {
    fn log_size(&self) -> Result<TreeSize, StoreError> {
        Ok(TreeSize(self.meta(LOG_SIZE)?))
    }
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.tx.open_table(TILES).map_err(redb_err)?;
        Ok(t.get((level, index))
            .map_err(redb_err)?
            .map(|v| v.value().to_vec()))
    }
    fn bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.tx.open_table(BUNDLES).map_err(redb_err)?;
        Ok(t.get(index).map_err(redb_err)?.map(|v| v.value().to_vec()))
    }
}

impl StateRead for Snapshot {
    fn height(&self) -> Result<u64, StoreError> {
        self.meta(HEIGHT)
    }
    fn program(&self, code: &ProgramCode) -> Result<Option<ProgramState>, StoreError> {
        let t = self.tx.open_table(PROGRAMS).map_err(redb_err)?;
        t.get(code.as_str())
            .map_err(redb_err)?
            .map(|v| decode("program", v.value()))
            .transpose()
    }
    fn allocation(&self, id: &AllocationId) -> Result<Option<AllocationState>, StoreError> {
        let t = self.tx.open_table(ALLOCATIONS).map_err(redb_err)?;
        t.get(id.0)
            .map_err(redb_err)?
            .map(|v| decode("allocation", v.value()))
            .transpose()
    }
    fn dedup_used(&self, key: &Hash) -> Result<bool, StoreError> {
        let t = self.tx.open_table(DEDUP).map_err(redb_err)?;
        Ok(t.get(key.0).map_err(redb_err)?.is_some())
    }
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, StoreError> {
        let t = self.tx.open_table(TXS).map_err(redb_err)?;
        Ok(t.get(tx_hash.0).map_err(redb_err)?.map(|v| {
            let (height, leaf) = v.value();
            TxLocation {
                height,
                leaf: LeafIndex(leaf),
            }
        }))
    }
    fn stats(&self) -> Result<Vec<(StatsKey, StatsRow)>, StoreError> {
        let t = self.tx.open_table(STATS).map_err(redb_err)?;
        let mut rows = Vec::new();
        for item in t.iter().map_err(redb_err)? {
            let (k, v) = item.map_err(redb_err)?;
            rows.push((
                decode("stats key", k.value().as_bytes())?,
                decode("stats row", v.value())?,
            ));
        }
        Ok(rows)
    }
    fn signed_checkpoint(&self) -> Result<Option<(TreeSize, Hash)>, StoreError> {
        let t = self.tx.open_table(SIGNED).map_err(redb_err)?;
        Ok(t.get(LAST_SIGNED).map_err(redb_err)?.map(|v| {
            let (size, root) = v.value();
            (TreeSize(size), Hash(root))
        }))
    }
    fn governance(&self) -> Result<Option<GovernanceState>, StoreError> {
        let t = self.tx.open_table(GOVERNANCE).map_err(redb_err)?;
        t.get(GOVERNANCE_KEY)
            .map_err(redb_err)?
            .map(|v| decode("governance", v.value()))
            .transpose()
    }
    fn epoch_checkpoint(&self, epoch: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.tx.open_table(EPOCH_CHECKPOINTS).map_err(redb_err)?;
        Ok(t.get(epoch).map_err(redb_err)?.map(|v| v.value().to_vec()))
    }
}

impl Storage for RedbStore {
    type Error = StoreError;
}

impl LogRead for RedbStore {
    fn log_size(&self) -> Result<TreeSize, StoreError> {
        self.snapshot()?.log_size()
    }
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.snapshot()?.tile(level, index)
    }
    fn bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.snapshot()?.bundle(index)
    }
}

impl StateRead for RedbStore {
    fn height(&self) -> Result<u64, StoreError> {
        self.snapshot()?.height()
    }
    fn program(&self, code: &ProgramCode) -> Result<Option<ProgramState>, StoreError> {
        self.snapshot()?.program(code)
    }
    fn allocation(&self, id: &AllocationId) -> Result<Option<AllocationState>, StoreError> {
        self.snapshot()?.allocation(id)
    }
    fn dedup_used(&self, key: &Hash) -> Result<bool, StoreError> {
        self.snapshot()?.dedup_used(key)
    }
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, StoreError> {
        self.snapshot()?.tx_location(tx_hash)
    }
    fn signed_checkpoint(&self) -> Result<Option<(TreeSize, Hash)>, StoreError> {
        self.snapshot()?.signed_checkpoint()
    }
    fn stats(&self) -> Result<Vec<(StatsKey, StatsRow)>, StoreError> {
        self.snapshot()?.stats()
    }
    fn governance(&self) -> Result<Option<GovernanceState>, StoreError> {
        self.snapshot()?.governance()
    }
    fn epoch_checkpoint(&self, epoch: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.snapshot()?.epoch_checkpoint(epoch)
    }
}

impl LedgerStore for RedbStore {
    type View<'a> = Snapshot;
    fn view(&self) -> Result<Snapshot, StoreError> {
        self.snapshot()
    }
    fn commit(&mut self, log: &LogBatch, state: &StateDelta) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(redb_err)?;
        {
            let mut meta = tx.open_table(META).map_err(redb_err)?;
            let size = meta
                .get(LOG_SIZE)
                .map_err(redb_err)?
                .map(|v| v.value())
                .unwrap_or(0);
            // Integrity invariants, checked in release builds too.
            assert!(
                log.new_size.0 >= size,
                "the log never shrinks ({size} -> {})",
                log.new_size.0
            );
            meta.insert(LOG_SIZE, log.new_size.0).map_err(redb_err)?;
            if state.height > 0 {
                let height = meta
                    .get(HEIGHT)
                    .map_err(redb_err)?
                    .map(|v| v.value())
                    .unwrap_or(0);
                assert!(
                    state.height > height,
                    "block heights only grow ({height} -> {})",
                    state.height
                );
                meta.insert(HEIGHT, state.height).map_err(redb_err)?;
            }
            let mut tiles = tx.open_table(TILES).map_err(redb_err)?;
            for (k, v) in &log.tiles {
                tiles.insert(*k, v.as_slice()).map_err(redb_err)?;
            }
            let mut bundles = tx.open_table(BUNDLES).map_err(redb_err)?;
            for (k, v) in &log.bundles {
                bundles.insert(*k, v.as_slice()).map_err(redb_err)?;
            }
            let mut programs = tx.open_table(PROGRAMS).map_err(redb_err)?;
            for (k, v) in &state.programs {
                programs
                    .insert(k.as_str(), encode(v).as_slice())
                    .map_err(redb_err)?;
            }
            let mut allocations = tx.open_table(ALLOCATIONS).map_err(redb_err)?;
            for (k, v) in &state.allocations {
                allocations
                    .insert(k.0, encode(v).as_slice())
                    .map_err(redb_err)?;
            }
            let mut dedup = tx.open_table(DEDUP).map_err(redb_err)?;
            for k in &state.dedup {
                dedup.insert(k.0, ()).map_err(redb_err)?;
            }
            let mut txs = tx.open_table(TXS).map_err(redb_err)?;
            for (k, v) in &state.txs {
                txs.insert(k.0, (v.height, v.leaf.0)).map_err(redb_err)?;
            }
            if !state.stats.is_empty() {
                let mut stats = tx.open_table(STATS).map_err(redb_err)?;
                for (k, v) in &state.stats {
                    let key = String::from_utf8(encode(k)).expect("JSON is UTF-8");
                    let mut row: StatsRow = match stats.get(key.as_str()).map_err(redb_err)? {
                        Some(old) => decode("stats row", old.value())?,
                        None => StatsRow::default(),
                    };
                    row.add(v);
                    stats
                        .insert(key.as_str(), encode(&row).as_slice())
                        .map_err(redb_err)?;
                }
            }
            if let Some(d) = &state.decided {
                tx.open_table(BLOCKS)
                    .map_err(redb_err)?
                    .insert(state.height, d.block.as_slice())
                    .map_err(redb_err)?;
                tx.open_table(CERTIFICATES)
                    .map_err(redb_err)?
                    .insert(state.height, d.certificate.as_slice())
                    .map_err(redb_err)?;
                if let Some(note) = &d.published_checkpoint {
                    tx.open_table(PUBLISHED)
                        .map_err(redb_err)?
                        .insert(PUBLISHED_KEY, note.as_slice())
                        .map_err(redb_err)?;
                }
                if let Some((epoch, note)) = &d.epoch_checkpoint {
                    tx.open_table(EPOCH_CHECKPOINTS)
                        .map_err(redb_err)?
                        .insert(*epoch, note.as_slice())
                        .map_err(redb_err)?;
                }
            }
            if let Some(g) = &state.governance {
                tx.open_table(GOVERNANCE)
                    .map_err(redb_err)?
                    .insert(GOVERNANCE_KEY, encode(g).as_slice())
                    .map_err(redb_err)?;
            }
            if let Some((size, root)) = state.signed_checkpoint {
                let mut signed = tx.open_table(SIGNED).map_err(redb_err)?;
                signed
                    .insert(LAST_SIGNED, (size.0, root.0))
                    .map_err(redb_err)?;
            }
        }
        tx.commit().map_err(redb_err)?;
        Ok(())
    }
}

/// The consensus records, through the inherent methods above (each one redb transaction; the
/// writes are durable when they return).
impl ConsensusStore for RedbStore {
    fn put_undecided(&mut self, height: u64, id: [u8; 32], bytes: &[u8]) -> Result<(), StoreError> {
        RedbStore::put_undecided(self, height, id, bytes)
    }
    fn undecided(&self, height: u64, id: [u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        RedbStore::undecided(self, height, id)
    }
    fn undecided_at(&self, height: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        RedbStore::undecided_at(self, height)
    }
    fn put_own_proposal(
        &mut self,
        height: u64,
        round: u32,
        id: [u8; 32],
    ) -> Result<(), StoreError> {
        RedbStore::put_own_proposal(self, height, round, id)
    }
    fn own_proposal(&self, height: u64, round: u32) -> Result<Option<[u8; 32]>, StoreError> {
        RedbStore::own_proposal(self, height, round)
    }
    fn prune_undecided(&mut self, height: u64) -> Result<(), StoreError> {
        RedbStore::prune_undecided(self, height)
    }
    fn decided(&self, height: u64) -> Result<Option<DecidedBytes>, StoreError> {
        RedbStore::decided(self, height)
    }
    fn decided_min_height(&self) -> Result<u64, StoreError> {
        RedbStore::decided_min_height(self)
    }
}
