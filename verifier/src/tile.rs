//! C2SP tlog-tiles: tile paths, hash tiles, entry bundles, and a set of tiles authenticated
//! against a checkpoint that can answer any subtree hash a proof needs.
//!
//! Height is fixed at 8 (256 hashes per full tile), as the spec requires.

use std::collections::BTreeMap;

use crate::hash::{HASH_BYTES, Hash, TreeSize, leaf_hash, node_hash};
use crate::merkle::{self, SubtreeHashes};

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// log2 of [`TILE_WIDTH`].
pub const TILE_HEIGHT: u8 = 8;
/// Bytes in a full hash tile.
pub const TILE_BYTES_FULL: usize = TILE_WIDTH as usize * HASH_BYTES;
/// Highest tile level the spec allows.
pub const TILE_LEVEL_MAX: u8 = 63;
/// Largest entry an entry bundle can hold (uint16 length prefix).
pub const ENTRY_BYTES_MAX: usize = u16::MAX as usize;
/// Longest tile path we accept: `tile/entries/` + 7 groups of `x000/` + `.p/255`.
pub const TILE_PATH_BYTES_MAX: usize = 64;

/// What a tile path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TileKind {
    /// A hash tile at this level (0 = leaf hashes).
    Hash(u8),
    /// An entry bundle.
    Entries,
}

/// One tile or entry bundle: its kind, index `N` and width (256 for a full tile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileRef {
    /// Hash tile level or entry bundle.
    pub kind: TileKind,
    /// The tile index `N` at its level.
    pub index: u64,
    /// Number of hashes or entries, 1..=256.
    pub width: u16,
}

/// Why a tile path, tile or bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The path does not follow the C2SP tlog-tiles grammar.
    #[error("not a C2SP tile path: {0}")]
    BadPath(&'static str),
    /// A hash tile's length is not 32 × its width.
    #[error("tile {path} has {got} bytes, expected {expected}")]
    BadTileLength {
        /// The tile's path.
        path: String,
        /// Bytes received.
        got: usize,
        /// Bytes its width calls for.
        expected: usize,
    },
    /// An entry bundle does not split into the expected number of length-prefixed entries.
    #[error("entry bundle {path} is malformed: {reason}")]
    BadBundle {
        /// The bundle's path.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An entry is too large for a bundle.
    #[error("an entry of {0} bytes does not fit the uint16 length prefix of an entry bundle")]
    EntryTooLarge(usize),
    /// A tile does not hash to what the checkpoint (through its parent tiles) commits to.
    #[error("tile {0} does not match the checkpoint's root")]
    Inconsistent(String),
    /// The edge tiles do not hash to the checkpoint's root (one of them, or the root, is wrong).
    #[error("the checkpoint's root does not match {0}")]
    RootMismatch(String),
    /// A tile needed to answer was not supplied.
    #[error("tile {0} is needed and was not supplied")]
    Missing(String),
}

impl TileRef {
    /// A hash tile.
    pub fn hash(level: u8, index: u64, width: u16) -> TileRef {
        assert!(level <= TILE_LEVEL_MAX && (1..=256).contains(&width));
        TileRef {
            kind: TileKind::Hash(level),
            index,
            width,
        }
    }

    /// An entry bundle.
    pub fn entries(index: u64, width: u16) -> TileRef {
        assert!((1..=256).contains(&width));
        TileRef {
            kind: TileKind::Entries,
            index,
            width,
        }
    }

    /// Whether this is a full tile (no `.p/W` suffix).
    pub fn is_full(&self) -> bool {
        self.width == 256
    }

    /// The same tile at full width.
    pub fn full(&self) -> TileRef {
        TileRef {
            width: 256,
            ..*self
        }
    }

    /// The C2SP path, without a leading slash: `tile/0/x001/234.p/17`, `tile/entries/000`.
    pub fn path(&self) -> String {
        let mut s = String::with_capacity(32);
        s.push_str("tile/");
        match self.kind {
            TileKind::Hash(level) => s.push_str(&level.to_string()),
            TileKind::Entries => s.push_str("entries"),
        }
        s.push('/');
        s.push_str(&encode_index(self.index));
        if !self.is_full() {
            s.push_str(".p/");
            s.push_str(&self.width.to_string());
        }
        s
    }

    /// Parses a C2SP tile path (with or without a leading `/`). Only the canonical form is
    /// accepted: no leading zeros in `L` or `W`, `x` on all but the last index element, the
    /// shortest index encoding, `W` in 1..=255.
    pub fn parse(path: &str) -> Result<TileRef, TileError> {
        if path.len() > TILE_PATH_BYTES_MAX {
            return Err(TileError::BadPath("too long"));
        }
        let path = path.strip_prefix('/').unwrap_or(path);
        let rest = path
            .strip_prefix("tile/")
            .ok_or(TileError::BadPath("must start with tile/"))?;
        let (level, rest) = rest
            .split_once('/')
            .ok_or(TileError::BadPath("missing index"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            TileKind::Hash(
                parse_small_decimal(level, 0, TILE_LEVEL_MAX as u64)
                    .ok_or(TileError::BadPath("bad level"))? as u8,
            )
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((idx, w)) => {
                let w = parse_small_decimal(w, 1, 255)
                    .ok_or(TileError::BadPath("bad partial width"))?;
                (idx, w as u16)
            }
            None => (rest, 256),
        };
        let index = decode_index(index_part).ok_or(TileError::BadPath("bad tile index"))?;
        Ok(TileRef { kind, index, width })
    }

    /// The level-`level` hash tile whose hashes these entries hash to (entry bundles ↔ level 0).
    pub fn as_hash_tile(&self) -> TileRef {
        match self.kind {
            TileKind::Entries => TileRef {
                kind: TileKind::Hash(0),
                ..*self
            },
            TileKind::Hash(_) => *self,
        }
    }
}

impl std::fmt::Display for TileRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path())
    }
}

fn parse_small_decimal(s: &str, min: u64, max: u64) -> Option<u64> {
    if s.is_empty()
        || s.len() > 3
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    let v: u64 = s.parse().ok()?;
    (min..=max).contains(&v).then_some(v)
}

fn encode_index(mut n: u64) -> String {
    let mut groups = Vec::with_capacity(7);
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut s = String::with_capacity(groups.len() * 5);
    for (i, g) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            s.push_str(&format!("x{g:03}/"));
        } else {
            s.push_str(&format!("{g:03}"));
        }
    }
    s
}

fn decode_index(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() > 7 {
        return None;
    }
    let mut n: u64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let digits = if i + 1 < parts.len() {
            part.strip_prefix('x')?
        } else {
            part
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    // Canonical: no leading all-zero groups.
    (encode_index(n) == s).then_some(n)
}

/// The level-`level` tiles of a tree of `size` leaves: (number of full tiles, width of the
/// partial tile after them or 0).
pub fn tiles_at_level(size: TreeSize, level: u8) -> (u64, u16) {
    let shift = TILE_HEIGHT as u32 * level as u32;
    if shift >= 64 {
        return (0, 0);
    }
    let nodes = size.0 >> shift;
    (nodes / TILE_WIDTH, (nodes % TILE_WIDTH) as u16)
}

/// The highest level that has any tile in a tree of `size` leaves.
pub fn top_level(size: TreeSize) -> u8 {
    let mut level = 0;
    while level < TILE_LEVEL_MAX && tiles_at_level(size, level + 1) != (0, 0) {
        level += 1;
    }
    level
}

/// The tile at `level` with index `index` as it exists in a tree of `size` leaves (full, or
/// partial with its width), or `None` if the tree does not reach it.
pub fn tile_at_size(kind: TileKind, index: u64, size: TreeSize) -> Option<TileRef> {
    let level = match kind {
        TileKind::Hash(l) => l,
        TileKind::Entries => 0,
    };
    let (full, partial) = tiles_at_level(size, level);
    if index < full {
        Some(TileRef {
            kind,
            index,
            width: 256,
        })
    } else if index == full && partial > 0 {
        Some(TileRef {
            kind,
            index,
            width: partial,
        })
    } else {
        None
    }
}

/// The partial tile at each level of a tree of `size` leaves: together they determine the root.
pub fn edge_tiles(size: TreeSize) -> Vec<TileRef> {
    (0..=TILE_LEVEL_MAX)
        .filter_map(|level| {
            let (full, partial) = tiles_at_level(size, level);
            (partial > 0).then(|| TileRef::hash(level, full, partial))
        })
        .collect()
}

/// Splits a hash tile into its hashes, checking its length against its width.
pub fn parse_hash_tile(tile: &TileRef, bytes: &[u8]) -> Result<Vec<Hash>, TileError> {
    let expected = tile.width as usize * HASH_BYTES;
    if bytes.len() != expected {
        return Err(TileError::BadTileLength {
            path: tile.path(),
            got: bytes.len(),
            expected,
        });
    }
    Ok(bytes
        .chunks_exact(HASH_BYTES)
        .map(|c| Hash(c.try_into().expect("32-byte chunk")))
        .collect())
}

/// The hash of the perfect subtree formed by a full tile's 256 hashes: the entry for this tile
/// in the tile one level up.
pub fn full_tile_root(hashes: &[Hash]) -> Hash {
    assert_eq!(
        hashes.len(),
        TILE_WIDTH as usize,
        "only full tiles hash upward"
    );
    subtree_of(hashes)
}

/// RFC 6962 hash of a power-of-two run of hashes.
fn subtree_of(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        for i in 0..level.len() / 2 {
            level[i] = node_hash(&level[2 * i], &level[2 * i + 1]);
        }
        level.truncate(level.len() / 2);
    }
    level[0]
}

/// Appends one entry, with its big-endian uint16 length prefix, to an entry bundle.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), TileError> {
    let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLarge(entry.len()))?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// Splits an entry bundle into exactly `tile.width` entries; nothing may follow the last one.
pub fn parse_bundle<'a>(tile: &TileRef, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>, TileError> {
    let bad = |reason| TileError::BadBundle {
        path: tile.path(),
        reason,
    };
    let mut entries = Vec::with_capacity(tile.width as usize);
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(bad("truncated length prefix"));
        }
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        rest = &rest[2..];
        if rest.len() < len {
            return Err(bad("truncated entry"));
        }
        entries.push(&rest[..len]);
        rest = &rest[len..];
        if entries.len() > tile.width as usize {
            return Err(bad("more entries than the bundle's width"));
        }
    }
    if entries.len() != tile.width as usize {
        return Err(bad("fewer entries than the bundle's width"));
    }
    Ok(entries)
}

/// The first `width` entries of a (larger) bundle, as bytes: how a partial bundle is served
/// from the stored full one.
pub fn bundle_prefix(bytes: &[u8], width: u16) -> Option<&[u8]> {
    let mut at = 0usize;
    for _ in 0..width {
        let len = u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]) as usize;
        at = at.checked_add(2 + len)?;
        if at > bytes.len() {
            return None;
        }
    }
    Some(&bytes[..at])
}

/// Tiles checked against one checkpoint: the edge tiles are checked against its root, and every
/// other tile against its already-checked parent. It then answers any subtree hash inside the
/// tree from checked tiles only, so proofs built from it are as good as the checkpoint.
#[derive(Debug, Clone)]
pub struct VerifiedTiles {
    size: TreeSize,
    root: Hash,
    tiles: BTreeMap<(u8, u64), Vec<Hash>>,
}

impl VerifiedTiles {
    /// Starts from a checkpoint's size and root; [`edge_tiles`] must be added first.
    pub fn new(size: TreeSize, root: Hash) -> VerifiedTiles {
        VerifiedTiles {
            size,
            root,
            tiles: BTreeMap::new(),
        }
    }

    /// The tree size these tiles are checked against.
    pub fn size(&self) -> TreeSize {
        self.size
    }

    /// Checks the edge tiles (`(tile, bytes)` for every tile of [`edge_tiles`]) against the root.
    pub fn add_edge(&mut self, edge: &[(TileRef, Vec<u8>)]) -> Result<(), TileError> {
        let wanted = edge_tiles(self.size);
        let mut candidate = self.tiles.clone();
        for want in &wanted {
            let Some((_, bytes)) = edge.iter().find(|(t, _)| t == want) else {
                return Err(TileError::Missing(want.path()));
            };
            let TileKind::Hash(level) = want.kind else {
                unreachable!("edge tiles are hash tiles")
            };
            candidate.insert((level, want.index), parse_hash_tile(want, bytes)?);
        }
        let view = VerifiedTiles {
            size: self.size,
            root: self.root,
            tiles: candidate,
        };
        let root = merkle::root(&view, self.size)?;
        if root != self.root {
            // The root cannot tell which edge tile (or the checkpoint itself) is wrong: name all.
            let paths: Vec<String> = wanted.iter().map(|t| t.path()).collect();
            let what = if paths.is_empty() {
                "the empty tree".to_string()
            } else {
                format!("the edge tiles {}", paths.join(", "))
            };
            return Err(TileError::RootMismatch(what));
        }
        self.tiles = view.tiles;
        Ok(())
    }

    /// The tile one level up that commits to this full hash tile.
    pub fn parent(&self, tile: &TileRef) -> Option<TileRef> {
        let TileKind::Hash(level) = tile.kind else {
            return Some(tile.as_hash_tile());
        };
        if !tile.is_full() {
            return None;
        }
        tile_at_size(
            TileKind::Hash(level + 1),
            tile.index / TILE_WIDTH,
            self.size,
        )
    }

    /// Whether a tile's hashes are already checked.
    pub fn has(&self, level: u8, index: u64) -> bool {
        self.tiles.contains_key(&(level, index))
    }

    /// Checks a full hash tile against its parent, which must already be checked.
    pub fn add_full(&mut self, tile: &TileRef, bytes: &[u8]) -> Result<(), TileError> {
        let TileKind::Hash(level) = tile.kind else {
            return Err(TileError::BadPath(
                "entry bundles are checked with check_bundle",
            ));
        };
        if !tile.is_full() {
            return Err(TileError::BadPath(
                "only the edge tile may be partial at this size",
            ));
        }
        let hashes = parse_hash_tile(tile, bytes)?;
        let parent = self
            .parent(tile)
            .ok_or_else(|| TileError::Inconsistent(tile.path()))?;
        let parent_hashes = self
            .tiles
            .get(&(level + 1, parent.index))
            .ok_or_else(|| TileError::Missing(parent.path()))?;
        let slot = (tile.index % TILE_WIDTH) as usize;
        if parent_hashes.get(slot) != Some(&full_tile_root(&hashes)) {
            return Err(TileError::Inconsistent(tile.path()));
        }
        self.tiles.insert((level, tile.index), hashes);
        Ok(())
    }

    /// Checks an entry bundle against the checked level-0 tile at the same index and returns
    /// its entries.
    pub fn check_bundle<'a>(
        &self,
        bundle: &TileRef,
        bytes: &'a [u8],
    ) -> Result<Vec<&'a [u8]>, TileError> {
        let entries = parse_bundle(bundle, bytes)?;
        let hashes = self
            .tiles
            .get(&(0, bundle.index))
            .ok_or_else(|| TileError::Missing(bundle.as_hash_tile().path()))?;
        if hashes.len() != entries.len() {
            return Err(TileError::Inconsistent(bundle.path()));
        }
        for (entry, hash) in entries.iter().zip(hashes) {
            if leaf_hash(entry) != *hash {
                return Err(TileError::Inconsistent(bundle.path()));
            }
        }
        Ok(entries)
    }

    /// Number of checked tiles held.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether no tile is held.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }

    /// Drops checked full tiles at `level` to bound memory (edge tiles are kept).
    pub fn forget_level(&mut self, level: u8) {
        let (full, _) = tiles_at_level(self.size, level);
        self.tiles.retain(|&(l, i), _| l != level || i >= full);
    }
}

impl SubtreeHashes for VerifiedTiles {
    type Error = TileError;
    fn perfect(&self, height: u8, index: u64) -> Result<Hash, TileError> {
        let level = height / TILE_HEIGHT;
        let k = height % TILE_HEIGHT;
        // The subtree spans 2^k consecutive hashes of its level-`level` tile.
        let first = index << k;
        let tile_index = first / TILE_WIDTH;
        let offset = (first % TILE_WIDTH) as usize;
        let hashes = self.tiles.get(&(level, tile_index)).ok_or_else(|| {
            let t = tile_at_size(TileKind::Hash(level), tile_index, self.size)
                .unwrap_or(TileRef::hash(level, tile_index, 256));
            TileError::Missing(t.path())
        })?;
        let run = hashes.get(offset..offset + (1usize << k)).ok_or_else(|| {
            TileError::Inconsistent(
                TileRef::hash(level, tile_index, hashes.len().clamp(1, 256) as u16).path(),
            )
        })?;
        Ok(subtree_of(run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec_examples() {
        let cases = [
            (TileRef::hash(0, 0, 256), "tile/0/000"),
            (TileRef::hash(0, 7, 256), "tile/0/007"),
            (TileRef::hash(1, 999, 256), "tile/1/999"),
            (TileRef::hash(0, 1000, 256), "tile/0/x001/000"),
            (TileRef::hash(2, 1_234_067, 17), "tile/2/x001/x234/067.p/17"),
            (TileRef::hash(63, 1_000_000, 256), "tile/63/x001/x000/000"),
            (TileRef::entries(273, 112), "tile/entries/273.p/112"),
            (
                TileRef::entries(u64::MAX, 255),
                "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255",
            ),
        ];
        for (tile, path) in cases {
            assert_eq!(tile.path(), path);
            assert_eq!(TileRef::parse(path), Ok(tile), "{path}");
            assert_eq!(TileRef::parse(&format!("/{path}")), Ok(tile), "{path}");
        }
    }

    #[test]
    fn non_canonical_paths_are_refused() {
        for bad in [
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/007",
            "tile/00/000",
            "tile/64/000",
            "tile/0/x000/001",
            "tile/0/001/000",
            "tile/0/x001/00",
            "tile/0/1",
            "tile/data/000",
            "tile/8/0/000",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x001/x001/x001/x001/x001/x001/x001/001",
            "tile/entries/000.p/",
            "tile/0/",
            "tiles/0/000",
            "",
        ] {
            assert!(TileRef::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn spec_tiles_for_70000() {
        let size = TreeSize(70_000);
        assert_eq!(tiles_at_level(size, 0), (273, 112));
        assert_eq!(tiles_at_level(size, 1), (1, 17));
        assert_eq!(tiles_at_level(size, 2), (0, 1));
        assert_eq!(tiles_at_level(size, 3), (0, 0));
        let edge: Vec<String> = edge_tiles(size).iter().map(|t| t.path()).collect();
        assert_eq!(
            edge,
            ["tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"]
        );
        let edge: Vec<String> = edge_tiles(TreeSize(256)).iter().map(|t| t.path()).collect();
        assert_eq!(edge, ["tile/1/000.p/1"]);
    }

    #[test]
    fn bundles_round_trip_and_reject_garbage() {
        let entries: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; i as usize * 3]).collect();
        let mut bundle = Vec::new();
        for e in &entries {
            push_bundle_entry(&mut bundle, e).unwrap();
        }
        let tile = TileRef::entries(0, 5);
        let parsed = parse_bundle(&tile, &bundle).unwrap();
        assert_eq!(
            parsed,
            entries.iter().map(|e| e.as_slice()).collect::<Vec<_>>()
        );
        assert!(parse_bundle(&TileRef::entries(0, 4), &bundle).is_err());
        assert!(parse_bundle(&TileRef::entries(0, 6), &bundle).is_err());
        assert!(parse_bundle(&tile, &bundle[..bundle.len() - 1]).is_err());
        let prefix = bundle_prefix(&bundle, 3).unwrap();
        assert_eq!(
            parse_bundle(&TileRef::entries(0, 3), prefix).unwrap().len(),
            3
        );
        assert!(push_bundle_entry(&mut Vec::new(), &vec![0; 65_536]).is_err());
    }
}
