//! The storage-backed Merkle log: appending batches of entries, and reading tiles, bundles,
//! roots and proofs for any past size.
//!
//! Storage holds, per hash tile, its 256 (or fewer) hashes *and* the interior nodes of the
//! 8-level subtree above them ([`TileNodes`]), and per entry bundle the C2SP bundle bytes. Only
//! the right edge (one partial tile per level and the partial bundle) is kept in memory, so
//! memory does not grow with the log. A proof touches at most one stored tile per tile level.

use std::cell::RefCell;
use std::collections::BTreeMap;

use bansos_verifier::hash::{
    EMPTY_ROOT, HASH_BYTES, Hash, LeafIndex, TreeSize, leaf_hash, node_hash,
};
use bansos_verifier::merkle::{self, ProofError, SubtreeHashes};
use bansos_verifier::tile::{self, TILE_HEIGHT, TILE_WIDTH, TileError, TileKind, TileRef};

use crate::store::LogRead;

/// Levels of interior nodes kept per tile: 0 (the tile's hashes) up to 8 (its subtree root).
const NODE_LEVELS: usize = TILE_HEIGHT as usize + 1;
/// Most entries one append may carry (bounds the memory of one batch).
pub const APPEND_ENTRIES_MAX: usize = 100_000;

/// A hash tile with its interior nodes, as stored: `width: u16 BE` then, for k = 0..=8, the
/// `width >> k` hashes of level k inside the tile, left to right.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TileNodes {
    levels: [Vec<Hash>; NODE_LEVELS],
}

/// Offset, in hashes, of level `k` in a stored tile of `width`.
fn level_offset(width: usize, k: usize) -> usize {
    (0..k).map(|i| width >> i).sum()
}

impl TileNodes {
    /// Number of hashes at level 0.
    pub fn width(&self) -> usize {
        self.levels[0].len()
    }

    /// Appends one hash, completing the interior nodes it closes.
    fn push(&mut self, h: Hash) {
        assert!(self.width() < TILE_WIDTH as usize, "push into a full tile");
        self.levels[0].push(h);
        let mut k = 0;
        while self.levels[k].len().is_multiple_of(2) {
            let n = self.levels[k].len();
            let parent = node_hash(&self.levels[k][n - 2], &self.levels[k][n - 1]);
            self.levels[k + 1].push(parent);
            k += 1;
            if k == NODE_LEVELS - 1 {
                break;
            }
        }
    }

    /// The subtree root of a full tile: its entry in the tile one level up.
    fn root(&self) -> Hash {
        assert_eq!(self.width(), TILE_WIDTH as usize);
        self.levels[NODE_LEVELS - 1][0]
    }

    /// Storage bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let w = self.width();
        let mut out = Vec::with_capacity(2 + level_offset(w, NODE_LEVELS) * HASH_BYTES);
        out.extend_from_slice(&(w as u16).to_be_bytes());
        for level in &self.levels {
            for h in level {
                out.extend_from_slice(&h.0);
            }
        }
        out
    }

    /// Parses storage bytes; `None` if they are not a tile (storage corruption).
    pub fn from_bytes(bytes: &[u8]) -> Option<TileNodes> {
        let w = view_width(bytes)?;
        let mut t = TileNodes::default();
        for k in 0..NODE_LEVELS {
            let off = 2 + level_offset(w, k) * HASH_BYTES;
            for i in 0..(w >> k) {
                let at = off + i * HASH_BYTES;
                t.levels[k].push(Hash(bytes[at..at + HASH_BYTES].try_into().ok()?));
            }
        }
        Some(t)
    }
}

/// Width of stored tile bytes, checking the length.
fn view_width(bytes: &[u8]) -> Option<usize> {
    let w = u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]) as usize;
    (w >= 1
        && w <= TILE_WIDTH as usize
        && bytes.len() == 2 + level_offset(w, NODE_LEVELS) * HASH_BYTES)
        .then_some(w)
}

/// Node `pos` of level `k` in stored tile bytes, without parsing the rest.
fn view_node(bytes: &[u8], k: usize, pos: usize) -> Option<Hash> {
    let w = view_width(bytes)?;
    if pos >= (w >> k) {
        return None;
    }
    let at = 2 + (level_offset(w, k) + pos) * HASH_BYTES;
    Some(Hash(bytes[at..at + HASH_BYTES].try_into().ok()?))
}

/// What one append writes, all in one storage transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogBatch {
    /// The log size after the batch.
    pub new_size: TreeSize,
    /// Hash tiles to write, `(level, index) → TileNodes bytes` (overwrites the stored partial).
    pub tiles: BTreeMap<(u8, u64), Vec<u8>>,
    /// Entry bundles to write, `index → bundle bytes`.
    pub bundles: BTreeMap<u64, Vec<u8>>,
}

/// Why the log could not be read or appended to.
#[derive(Debug, thiserror::Error)]
pub enum LogError<E: std::error::Error + 'static> {
    /// The storage failed; retry or check the disk.
    #[error("log storage failed: {0}")]
    Storage(#[source] E),
    /// Stored data does not form a log (a bug or a damaged disk): stop and restore.
    #[error("log storage is corrupt: {0}")]
    Corrupt(String),
    /// The request is outside the log.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// An entry cannot be logged.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// Too many entries in one append.
    #[error("an append carries at most {APPEND_ENTRIES_MAX} entries")]
    BatchTooLarge,
}

/// The right edge of the log: enough to append without reading storage.
#[derive(Clone, Debug)]
pub struct LogWriter {
    size: TreeSize,
    /// Partial tile per level (possibly empty), index = number of full tiles at that level.
    edge: Vec<TileNodes>,
    bundle: Vec<u8>,
}

impl LogWriter {
    /// The edge of an empty log.
    pub fn empty() -> LogWriter {
        LogWriter {
            size: TreeSize(0),
            edge: Vec::new(),
            bundle: Vec::new(),
        }
    }

    /// Loads the edge of a stored log.
    pub fn open<S: LogRead>(store: &S) -> Result<LogWriter, LogError<S::Error>> {
        let size = store.log_size().map_err(LogError::Storage)?;
        let mut edge = Vec::new();
        for level in 0..=tile::top_level(size) {
            let (full, partial) = tile::tiles_at_level(size, level);
            let nodes = if partial == 0 {
                TileNodes::default()
            } else {
                let bytes = store
                    .tile(level, full)
                    .map_err(LogError::Storage)?
                    .ok_or_else(|| {
                        LogError::Corrupt(format!("edge tile {level}/{full} is missing"))
                    })?;
                let mut t = TileNodes::from_bytes(&bytes).ok_or_else(|| {
                    LogError::Corrupt(format!("tile {level}/{full} is malformed"))
                })?;
                if t.width() < partial as usize {
                    return Err(LogError::Corrupt(format!(
                        "edge tile {level}/{full} is shorter than the log"
                    )));
                }
                // A crash cannot leave a wider tile (one transaction), but trim defensively.
                let p = partial as usize;
                for k in 0..NODE_LEVELS {
                    t.levels[k].truncate(p >> k);
                }
                t
            };
            edge.push(nodes);
        }
        let (full_bundles, partial) = tile::tiles_at_level(size, 0);
        let bundle = if partial == 0 {
            Vec::new()
        } else {
            let bytes = store
                .bundle(full_bundles)
                .map_err(LogError::Storage)?
                .ok_or_else(|| LogError::Corrupt("the partial entry bundle is missing".into()))?;
            tile::bundle_prefix(&bytes, partial)
                .ok_or_else(|| LogError::Corrupt("the partial entry bundle is short".into()))?
                .to_vec()
        };
        Ok(LogWriter { size, edge, bundle })
    }

    /// The log size.
    pub fn size(&self) -> TreeSize {
        self.size
    }

    /// Bytes of log data held in memory: the edge tiles' nodes and the partial bundle. Bounded
    /// by 9 levels × 511 hashes plus 255 entries, whatever the log size.
    pub fn memory_bytes(&self) -> usize {
        let nodes: usize = self
            .edge
            .iter()
            .map(|t| t.levels.iter().map(Vec::len).sum::<usize>())
            .sum();
        nodes * HASH_BYTES + self.bundle.len()
    }

    /// The current root, from the edge alone.
    pub fn root(&self) -> Hash {
        if self.size.0 == 0 {
            return EMPTY_ROOT;
        }
        // Perfect subtrees of the size's binary digits, largest first; each lies in the edge
        // tile of its level.
        let mut parts = Vec::new();
        for height in (0..64u8).rev() {
            if self.size.0 & (1 << height) != 0 {
                let (level, k) = (
                    (height / TILE_HEIGHT) as usize,
                    (height % TILE_HEIGHT) as usize,
                );
                let t = &self.edge[level];
                let pos = (t.width() >> k) - 1;
                parts.push(t.levels[k][pos]);
            }
        }
        let mut acc = parts.pop().expect("non-empty");
        while let Some(l) = parts.pop() {
            acc = node_hash(&l, &acc);
        }
        acc
    }

    /// Computes the batch that appends `entries`, and the writer after it. Nothing changes
    /// until the caller has stored the batch and adopts the returned writer.
    pub fn append<E: std::error::Error + 'static>(
        &self,
        entries: &[Vec<u8>],
    ) -> Result<(LogBatch, LogWriter), LogError<E>> {
        if entries.len() > APPEND_ENTRIES_MAX {
            return Err(LogError::BatchTooLarge);
        }
        if let Some(e) = entries.iter().find(|e| e.len() > tile::ENTRY_BYTES_MAX) {
            return Err(TileError::EntryTooLarge(e.len()).into());
        }
        let mut next = self.clone();
        let mut batch = LogBatch::default();
        for entry in entries {
            let n = next.size.0;
            tile::push_bundle_entry(&mut next.bundle, entry)?;
            if n % TILE_WIDTH == TILE_WIDTH - 1 {
                batch
                    .bundles
                    .insert(n / TILE_WIDTH, std::mem::take(&mut next.bundle));
            }
            next.push_hash(0, leaf_hash(entry), &mut batch);
            next.size = TreeSize(n + 1);
        }
        for (level, t) in next.edge.iter().enumerate() {
            if t.width() > 0 {
                let (full, _) = tile::tiles_at_level(next.size, level as u8);
                batch.tiles.insert((level as u8, full), t.to_bytes());
            }
        }
        if !next.bundle.is_empty() {
            batch
                .bundles
                .insert(next.size.0 / TILE_WIDTH, next.bundle.clone());
        }
        batch.new_size = next.size;
        Ok((batch, next))
    }

    fn push_hash(&mut self, level: usize, h: Hash, batch: &mut LogBatch) {
        if self.edge.len() == level {
            self.edge.push(TileNodes::default());
        }
        self.edge[level].push(h);
        if self.edge[level].width() == TILE_WIDTH as usize {
            let full = std::mem::take(&mut self.edge[level]);
            // Index of this tile: the level-`level` nodes before it, over 256.
            let nodes_before = (self.size.0 >> (TILE_HEIGHT as usize * level)) / TILE_WIDTH;
            batch
                .tiles
                .insert((level as u8, nodes_before), full.to_bytes());
            self.push_hash(level + 1, full.root(), batch);
        }
    }
}

/// A stored tile read during one proof: `((level, index), bytes)`.
type CachedTile = ((u8, u64), Vec<u8>);

/// Read access to a stored log at a size: tiles, bundles, roots and proofs.
pub struct LogReader<'a, S: LogRead> {
    store: &'a S,
    size: TreeSize,
    /// Tiles read during one proof; a proof reads each tile once.
    cache: RefCell<Vec<CachedTile>>,
}

impl<'a, S: LogRead> LogReader<'a, S> {
    /// A reader of the log as stored now.
    pub fn new(store: &'a S) -> Result<LogReader<'a, S>, LogError<S::Error>> {
        let size = store.log_size().map_err(LogError::Storage)?;
        Ok(LogReader {
            store,
            size,
            cache: RefCell::new(Vec::new()),
        })
    }

    /// The stored size.
    pub fn size(&self) -> TreeSize {
        self.size
    }

    /// The C2SP bytes of a hash tile or entry bundle, if it exists at the current size.
    pub fn read_tile(&self, t: &TileRef) -> Result<Option<Vec<u8>>, LogError<S::Error>> {
        let Some(exists) = tile::tile_at_size(t.kind, t.index, self.size) else {
            return Ok(None);
        };
        if t.width > exists.width {
            return Ok(None);
        }
        match t.kind {
            TileKind::Hash(level) => {
                let Some(bytes) = self.store.tile(level, t.index).map_err(LogError::Storage)?
                else {
                    return Err(LogError::Corrupt(format!("tile {} is missing", t.path())));
                };
                let w = view_width(&bytes)
                    .ok_or_else(|| LogError::Corrupt(format!("tile {} is malformed", t.path())))?;
                if w < t.width as usize {
                    return Err(LogError::Corrupt(format!("tile {} is short", t.path())));
                }
                Ok(Some(bytes[2..2 + t.width as usize * HASH_BYTES].to_vec()))
            }
            TileKind::Entries => {
                let Some(bytes) = self.store.bundle(t.index).map_err(LogError::Storage)? else {
                    return Err(LogError::Corrupt(format!("bundle {} is missing", t.path())));
                };
                let prefix = tile::bundle_prefix(&bytes, t.width)
                    .ok_or_else(|| LogError::Corrupt(format!("bundle {} is short", t.path())))?;
                Ok(Some(prefix.to_vec()))
            }
        }
    }

    /// The entries of one bundle at the current size.
    pub fn entries(&self, bundle_index: u64) -> Result<Vec<Vec<u8>>, LogError<S::Error>> {
        let Some(t) = tile::tile_at_size(TileKind::Entries, bundle_index, self.size) else {
            return Ok(Vec::new());
        };
        let bytes = self.read_tile(&t)?.expect("exists at this size");
        Ok(tile::parse_bundle(&t, &bytes)?
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect())
    }

    /// One entry.
    pub fn entry(&self, index: LeafIndex) -> Result<Option<Vec<u8>>, LogError<S::Error>> {
        if index.0 >= self.size.0 {
            return Ok(None);
        }
        let entries = self.entries(index.0 / TILE_WIDTH)?;
        Ok(entries.into_iter().nth((index.0 % TILE_WIDTH) as usize))
    }

    /// Root at `size` (≤ the stored size).
    pub fn root_at(&self, size: TreeSize) -> Result<Hash, LogError<S::Error>> {
        self.check_size(size)?;
        let r = merkle::root(self, size);
        self.cache.borrow_mut().clear();
        r
    }

    /// Inclusion proof of `index` in the tree of `size` leaves.
    pub fn inclusion_proof(
        &self,
        index: LeafIndex,
        size: TreeSize,
    ) -> Result<Vec<Hash>, LogError<S::Error>> {
        self.check_size(size)?;
        let r = merkle::inclusion_proof(self, index, size);
        self.cache.borrow_mut().clear();
        Ok(r??)
    }

    /// Consistency proof from `old` to `new` leaves.
    pub fn consistency_proof(
        &self,
        old: TreeSize,
        new: TreeSize,
    ) -> Result<Vec<Hash>, LogError<S::Error>> {
        self.check_size(new)?;
        let r = merkle::consistency_proof(self, old, new);
        self.cache.borrow_mut().clear();
        Ok(r??)
    }

    fn check_size(&self, size: TreeSize) -> Result<(), LogError<S::Error>> {
        if size > self.size {
            return Err(ProofError::SizesOutOfOrder {
                old: size.0,
                new: self.size.0,
            }
            .into());
        }
        Ok(())
    }
}

impl<S: LogRead> SubtreeHashes for LogReader<'_, S> {
    type Error = LogError<S::Error>;
    fn perfect(&self, height: u8, index: u64) -> Result<Hash, Self::Error> {
        let level = height / TILE_HEIGHT;
        let k = (height % TILE_HEIGHT) as usize;
        let first = index << k;
        let (tile_index, pos) = (first / TILE_WIDTH, ((first % TILE_WIDTH) as usize) >> k);
        let key = (level, tile_index);
        let mut cache = self.cache.borrow_mut();
        if !cache.iter().any(|(k2, _)| *k2 == key) {
            let bytes = self
                .store
                .tile(level, tile_index)
                .map_err(LogError::Storage)?
                .ok_or_else(|| {
                    LogError::Corrupt(format!("tile {level}/{tile_index} is missing"))
                })?;
            cache.push((key, bytes));
        }
        let bytes = &cache
            .iter()
            .find(|(k2, _)| *k2 == key)
            .expect("just inserted")
            .1;
        view_node(bytes, k, pos).ok_or_else(|| {
            LogError::Corrupt(format!("tile {level}/{tile_index} lacks node {k}/{pos}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_nodes_round_trip() {
        let mut t = TileNodes::default();
        for i in 0..256u32 {
            t.push(leaf_hash(&i.to_be_bytes()));
            let back = TileNodes::from_bytes(&t.to_bytes()).unwrap();
            assert_eq!(back, t);
            for k in 0..NODE_LEVELS {
                for pos in 0..(t.width() >> k) {
                    assert_eq!(view_node(&t.to_bytes(), k, pos), Some(t.levels[k][pos]));
                }
            }
        }
        let leaves: Vec<Hash> = (0..256u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        assert_eq!(t.root(), tile::full_tile_root(&leaves));
        assert!(TileNodes::from_bytes(&[0, 1]).is_none());
    }
}
