//! The storage-backed log against two independent references: the recursive RFC 6962
//! definition and the `rs_merkle` crate (bottom-up tree with the RFC 6962 node hash).

use bansos_ledger::MemoryStore;
use bansos_ledger::conformance::{Xorshift, naive_root};
use bansos_ledger::log::{LogReader, LogWriter};
use bansos_ledger::store::{LedgerStore, StateDelta};
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize, leaf_hash, node_hash};
use bansos_verifier::merkle::{verify_consistency, verify_inclusion};
use proptest::prelude::*;

#[derive(Clone)]
struct Rfc6962;

impl rs_merkle::Hasher for Rfc6962 {
    type Hash = [u8; 32];
    fn hash(data: &[u8]) -> [u8; 32] {
        Hash::digest(data).0
    }
    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(r) => node_hash(&Hash(*left), &Hash(*r)).0,
            None => *left,
        }
    }
}

/// Builds a memory-backed log of `n` entries appended in batches of `batch`.
fn build(n: u64, batch: usize) -> (MemoryStore, Vec<Hash>) {
    let mut store = MemoryStore::new();
    let mut writer = LogWriter::empty();
    let entries: Vec<Vec<u8>> = (0..n).map(|i| format!("entry {i}").into_bytes()).collect();
    for chunk in entries.chunks(batch.max(1)) {
        let (b, next) = writer.append::<std::convert::Infallible>(chunk).unwrap();
        store.commit(&b, &StateDelta::default()).unwrap();
        writer = next;
    }
    (store, entries.iter().map(|e| leaf_hash(e)).collect())
}

#[test]
fn roots_and_proofs_match_both_references_for_sizes_up_to_2000() {
    let (store, leaves) = build(2000, 37);
    let reader = LogReader::new(&store).unwrap();
    let mut rng = Xorshift(42);
    for n in 0..=2000usize {
        let ours = reader.root_at(TreeSize(n as u64)).unwrap();
        assert_eq!(
            ours,
            naive_root(&leaves[..n]),
            "root at {n} vs recursive definition"
        );
        if n == 0 {
            continue;
        }
        let raw: Vec<[u8; 32]> = leaves[..n].iter().map(|h| h.0).collect();
        let tree = rs_merkle::MerkleTree::<Rfc6962>::from_leaves(&raw);
        assert_eq!(tree.root(), Some(ours.0), "root at {n} vs rs_merkle");
        let mut indexes = vec![0, n - 1];
        indexes.extend((0..3).map(|_| rng.below(n as u64) as usize));
        for i in indexes {
            let proof = reader
                .inclusion_proof(LeafIndex(i as u64), TreeSize(n as u64))
                .unwrap();
            verify_inclusion(
                &leaves[i],
                LeafIndex(i as u64),
                TreeSize(n as u64),
                &proof,
                &ours,
            )
            .unwrap();
            let theirs: Vec<Hash> = tree
                .proof(&[i])
                .proof_hashes()
                .iter()
                .map(|h| Hash(*h))
                .collect();
            assert_eq!(proof, theirs, "inclusion proof of {i} in {n} vs rs_merkle");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn larger_random_logs(n in 2_001u64..40_000, batch in 1usize..3_000, seed in any::<u64>()) {
        let (store, leaves) = build(n, batch);
        let reader = LogReader::new(&store).unwrap();
        let root = reader.root_at(TreeSize(n)).unwrap();
        prop_assert_eq!(root, naive_root(&leaves));
        let raw: Vec<[u8; 32]> = leaves.iter().map(|h| h.0).collect();
        let tree = rs_merkle::MerkleTree::<Rfc6962>::from_leaves(&raw);
        prop_assert_eq!(tree.root(), Some(root.0));
        let mut rng = Xorshift(seed | 1);
        for _ in 0..20 {
            let i = rng.below(n) as usize;
            let proof = reader.inclusion_proof(LeafIndex(i as u64), TreeSize(n)).unwrap();
            prop_assert!(verify_inclusion(&leaves[i], LeafIndex(i as u64), TreeSize(n), &proof, &root).is_ok());
            let theirs: Vec<Hash> = tree.proof(&[i]).proof_hashes().iter().map(|h| Hash(*h)).collect();
            prop_assert_eq!(proof, theirs);
        }
        // Consistency between random pairs of past sizes.
        for _ in 0..20 {
            let new = 1 + rng.below(n);
            let old = rng.below(new + 1);
            let proof = reader.consistency_proof(TreeSize(old), TreeSize(new)).unwrap();
            let (r1, r2) = (naive_root(&leaves[..old as usize]), naive_root(&leaves[..new as usize]));
            prop_assert!(verify_consistency(TreeSize(old), TreeSize(new), &r1, &r2, &proof).is_ok());
            // A proof against a wrong old root fails.
            if old > 0 && old < new {
                let wrong = Hash::digest(b"wrong");
                prop_assert!(verify_consistency(TreeSize(old), TreeSize(new), &wrong, &r2, &proof).is_err());
            }
        }
    }
}

#[test]
fn memory_use_does_not_grow_with_the_log() {
    // The writer keeps one partial tile per level (with its interior nodes) and the partial
    // bundle, never anything proportional to the log.
    let bound =
        |entries_in_partial_bundle: usize| 9 * 511 * 32 + entries_in_partial_bundle * (2 + 16);
    for (n, batch) in [
        (300u64, 300usize),
        (70_000, 5_000),
        (65_536, 4_096),
        (131_071, 10_000),
    ] {
        let (store, _) = build(n, batch);
        let writer = LogWriter::open(&store).unwrap();
        let used = writer.memory_bytes();
        assert!(
            used <= bound((n % 256) as usize),
            "{n} entries: {used} bytes held"
        );
    }
    // A full last tile leaves an empty edge at level 0.
    let (store, _) = build(65_536, 4_096);
    assert_eq!(
        LogWriter::open(&store).unwrap().memory_bytes(),
        32,
        "65,536 entries: only the level-2 partial tile's one hash"
    );
}
