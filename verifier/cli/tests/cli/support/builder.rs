//! Test logs built without the ledger: leaf hashes, hash tiles at every level and entry bundles
//! for any tree size, and checkpoints signed by four test keys. A second builder takes the hash
//! tiles from the independent `tlog_tiles` crate, to show the verifier reads other logs too.

use std::collections::BTreeMap;

use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::merkle;
use bansos_verifier::note::{KeyKind, NoteSignature, VerifierKey};
use bansos_verifier::tile::{self, TILE_WIDTH, TileRef};
use bansos_verifier::tlog_proof::TlogProof;
use ed25519_dalek::SigningKey;

/// The origin line of every test log.
pub const ORIGIN: &str = "bansos.example/ledger";

/// A checkpoint signer: a note key name and its Ed25519 key.
pub struct Signer {
    /// Note key name.
    pub name: &'static str,
    /// Signing key.
    pub key: SigningKey,
}

impl Signer {
    /// A signer with a key derived from `seed`.
    pub fn new(name: &'static str, seed: u8) -> Signer {
        Signer {
            name,
            key: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    /// The verifier key string for `--key`.
    pub fn vkey(&self) -> String {
        VerifierKey::new(self.name, KeyKind::Ed25519, self.key.verifying_key()).to_string()
    }

    /// This signer's signature over a note text.
    pub fn sign(&self, text: &str) -> NoteSignature {
        NoteSignature::sign(self.name, &self.key, text)
    }
}

/// The four validators that sign test checkpoints.
pub fn validators() -> [Signer; 4] {
    [
        Signer::new("kemensos.example", 1),
        Signer::new("kemenkeu.example", 2),
        Signer::new("bri.example", 3),
        Signer::new("pos.example", 4),
    ]
}

/// A key nobody trusts.
pub fn stranger() -> Signer {
    Signer::new("stranger.example", 99)
}

/// A log's entries and leaf hashes; any prefix of it is a tree that can be served.
pub struct TestLog {
    /// The entries, opaque bytes of varying length.
    pub entries: Vec<Vec<u8>>,
    /// RFC 6962 leaf hashes of the entries.
    pub leaves: Vec<Hash>,
}

impl TestLog {
    /// A log of `size` entries.
    pub fn new(size: u64) -> TestLog {
        let entries: Vec<Vec<u8>> = (0..size).map(entry).collect();
        let leaves = entries.iter().map(|e| leaf_hash(e)).collect();
        TestLog { entries, leaves }
    }

    /// The root of the first `size` entries.
    pub fn root(&self, size: u64) -> Hash {
        merkle::root(&self.leaves[..size as usize], TreeSize(size)).unwrap()
    }

    /// Every hash tile and entry bundle of the tree of the first `size` entries, by C2SP path:
    /// the full tiles and the partial one at each level.
    pub fn tiles(&self, size: u64) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut hashes: Vec<Hash> = self.leaves[..size as usize].to_vec();
        let mut level = 0u8;
        while !hashes.is_empty() {
            for (n, chunk) in hashes.chunks(TILE_WIDTH as usize).enumerate() {
                let bytes: Vec<u8> = chunk.iter().flat_map(|h| h.0).collect();
                files.insert(
                    TileRef::hash(level, n as u64, chunk.len() as u16).path(),
                    bytes,
                );
            }
            // Only full tiles hash upward.
            hashes = hashes
                .chunks_exact(TILE_WIDTH as usize)
                .map(tile::full_tile_root)
                .collect();
            level += 1;
        }
        files.extend(bundles(&self.entries[..size as usize]));
        files
    }

    /// The checkpoint for the first `size` entries, signed by `signers`.
    pub fn checkpoint(&self, size: u64, signers: &[&Signer]) -> Vec<u8> {
        signed_checkpoint(size, self.root(size), signers)
    }

    /// A tlog-proof of entry `index` in the tree of `size` entries with the entry as `extra`.
    pub fn proof(&self, index: u64, size: u64, checkpoint: Vec<u8>) -> TlogProof {
        let proof = merkle::inclusion_proof(
            &self.leaves[..size as usize],
            LeafIndex(index),
            TreeSize(size),
        )
        .unwrap()
        .unwrap();
        TlogProof {
            extra: Some(self.entries[index as usize].clone()),
            index: LeafIndex(index),
            proof,
            checkpoint,
        }
    }
}

/// Entry `i` of every test log: some text, of a length that varies with `i`.
pub fn entry(i: u64) -> Vec<u8> {
    format!("entry {i};")
        .repeat(1 + (i % 7) as usize)
        .into_bytes()
}

/// A checkpoint for `size` and `root` (right or wrong) signed by `signers`.
pub fn signed_checkpoint(size: u64, root: Hash, signers: &[&Signer]) -> Vec<u8> {
    let body = Checkpoint::new(ORIGIN, TreeSize(size), root).body();
    Checkpoint::new(ORIGIN, TreeSize(size), root)
        .to_note(signers.iter().map(|s| s.sign(&body)))
        .to_bytes()
}

/// The entry bundles of `entries`: full ones and the partial last one.
fn bundles(entries: &[Vec<u8>]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (n, chunk) in entries.chunks(TILE_WIDTH as usize).enumerate() {
        let mut bundle = Vec::new();
        for e in chunk {
            tile::push_bundle_entry(&mut bundle, e).unwrap();
        }
        files.insert(
            TileRef::entries(n as u64, chunk.len() as u16).path(),
            bundle,
        );
    }
    files
}

/// What a log that grew from `old` to `new` entries serves: every tile of both trees, less the
/// partial tiles whose full tile now exists (tlog-tiles lets a log delete those).
pub fn grown(log: &TestLog, old: u64, new: u64) -> BTreeMap<String, Vec<u8>> {
    let mut files = log.tiles(old);
    files.extend(log.tiles(new));
    let superseded: Vec<String> = files
        .keys()
        .filter(|p| p.contains(".p/"))
        .filter(|p| files.contains_key(&TileRef::parse(p).unwrap().full().path()))
        .cloned()
        .collect();
    for p in superseded {
        files.remove(&p);
    }
    files
}

/// The same log written by `tlog_tiles` 0.2.0 (Cloudflare azul): its stored hashes, its tree
/// hash, its hash tiles (renamed from Go sumdb paths to C2SP paths). Returns the files and the
/// root. Entry bundles are built here: `tlog_tiles` has no C2SP bundle format.
pub fn tlog_tiles_log(entries: &[Vec<u8>]) -> (BTreeMap<String, Vec<u8>>, Hash) {
    use tlog_tiles::{HashReader, Tile};

    struct Stored(Vec<tlog_tiles::Hash>);
    impl HashReader for Stored {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
            Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
        }
    }

    let size = entries.len() as u64;
    let mut stored = Stored(Vec::new());
    for (n, e) in entries.iter().enumerate() {
        let new = tlog_tiles::stored_hashes(n as u64, e, &stored).unwrap();
        stored.0.extend(new);
    }
    let root = Hash(tlog_tiles::tree_hash(size, &stored).unwrap().0);
    let mut files = BTreeMap::new();
    for t in Tile::new_tiles(8, 0, size) {
        let path = c2sp_path(&t.path());
        files.insert(path, t.read_data(&stored).unwrap());
        if t.level() == 0 {
            // Its "data tile" is not an entry bundle: read_data gives the leaf hashes again.
            let mut data = t;
            data.set_is_data();
            assert_eq!(
                data.read_data(&stored).unwrap(),
                t.read_data(&stored).unwrap()
            );
        }
    }
    files.extend(bundles(entries));
    (files, root)
}

/// `tile/8/<L>/<N>` → `tile/<L>/<N>` and `tile/8/data/<N>` → `tile/entries/<N>`.
fn c2sp_path(go_path: &str) -> String {
    let rest = go_path.strip_prefix("tile/8/").expect("a height-8 tile");
    let path = match rest.strip_prefix("data/") {
        Some(n) => format!("tile/entries/{n}"),
        None => format!("tile/{rest}"),
    };
    assert_eq!(
        TileRef::parse(&path).unwrap().path(),
        path,
        "{go_path} maps to a canonical C2SP path"
    );
    path
}

#[test]
fn go_paths_map_to_c2sp_paths() {
    assert_eq!(
        c2sp_path("tile/8/0/x001/x234/067.p/17"),
        "tile/0/x001/x234/067.p/17"
    );
    assert_eq!(c2sp_path("tile/8/2/000.p/1"), "tile/2/000.p/1");
    assert_eq!(c2sp_path("tile/8/data/273.p/112"), "tile/entries/273.p/112");
}

#[test]
fn both_builders_write_the_same_hash_tiles() {
    let log = TestLog::new(70_000);
    let (theirs, root) = tlog_tiles_log(&log.entries);
    assert_eq!(root, log.root(70_000));
    assert_eq!(theirs, log.tiles(70_000));
}
