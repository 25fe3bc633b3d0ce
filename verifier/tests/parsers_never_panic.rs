//! The fuzz properties (`fuzz/src/verifier.rs`, docs/FUZZING.md) under proptest, so they run in
//! ordinary CI without libFuzzer: random bytes, random text shaped like each format, valid
//! values built at random, and random mutations of the golden vectors are fed to every parser of
//! untrusted bytes, with the same no-panic and round-trip assertions as the fuzz targets.

#[path = "../../fuzz/src/verifier.rs"]
mod properties;

use std::path::PathBuf;
use std::sync::LazyLock;

use bansos_verifier::entry::AllocationId;
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize};
use bansos_verifier::merkle;
use bansos_verifier::receipt::{RECEIPT_LEAF_INDEX_MAX, Receipt};
use bansos_verifier::tile;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

static SEEDS: LazyLock<properties::Seeds> = LazyLock::new(|| {
    properties::seeds(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors"))
});

fn seeds(target: &str) -> &'static [Vec<u8>] {
    &SEEDS
        .iter()
        .find(|(t, _)| *t == target)
        .unwrap_or_else(|| panic!("no seeds for {target}"))
        .1
}

/// Byte strings that sit on the formats' boundaries: separators, the em dash of note
/// signatures, tile path pieces, extreme bytes.
const TOKENS: &[&[u8]] = &[
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\n",
    b"\n\n",
    b" ",
    b"-",
    b"+",
    b"=",
    "\u{2014} ".as_bytes(),
    b"0",
    b"x",
    b".p/",
    b"/",
    b"\r",
];

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    Insert(Index, u8),
    Remove(Index),
    Truncate(Index),
    Duplicate(Index, Index),
    Token(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, bit)| Mutation::FlipBit(i, bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::SetByte(i, v)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::Insert(i, v)),
        any::<Index>().prop_map(Mutation::Remove),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<Index>()).prop_map(|(at, len)| Mutation::Duplicate(at, len)),
        (any::<Index>(), any::<Index>()).prop_map(|(at, t)| Mutation::Token(at, t)),
    ]
}

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in mutations {
        match m {
            Mutation::FlipBit(i, bit) if !b.is_empty() => {
                let at = i.index(b.len());
                b[at] ^= 1 << bit;
            }
            Mutation::SetByte(i, v) if !b.is_empty() => {
                let at = i.index(b.len());
                b[at] = *v;
            }
            Mutation::Insert(i, v) => {
                let at = i.index(b.len() + 1);
                b.insert(at, *v);
            }
            Mutation::Remove(i) if !b.is_empty() => {
                let at = i.index(b.len());
                b.remove(at);
            }
            Mutation::Truncate(i) => {
                let at = i.index(b.len() + 1);
                b.truncate(at);
            }
            Mutation::Duplicate(at, len) if !b.is_empty() => {
                let at = at.index(b.len());
                let len = len.index(b.len() - at) + 1;
                let copy = b[at..at + len].to_vec();
                b.splice(at..at, copy);
            }
            Mutation::Token(at, t) => {
                let at = at.index(b.len() + 1);
                let token = TOKENS[t.index(TOKENS.len())];
                b.splice(at..at, token.iter().copied());
            }
            _ => {}
        }
    }
    b
}

/// A golden seed of `target` with zero to four random mutations.
fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds(target);
    (any::<Index>(), vec(mutation(), 0..5))
        .prop_map(move |(i, ms)| apply(&seeds[i.index(seeds.len())], &ms))
}

fn merkle_input(index: u64, size: u64, old: u64, proof: &[[u8; 32]]) -> Vec<u8> {
    let mut data = [index.to_be_bytes(), size.to_be_bytes(), old.to_be_bytes()].concat();
    for h in proof {
        data.extend_from_slice(h);
    }
    data
}

#[test]
fn every_target_has_seeds_and_every_golden_seed_passes() {
    for target in properties::TARGETS {
        let seeds = seeds(target);
        assert!(seeds.len() >= 5, "{target}: {} seeds", seeds.len());
        let run: fn(&[u8]) = match target {
            "entry" => properties::entry,
            "envelope" => properties::envelope,
            "note" => properties::note,
            "receipt" => properties::receipt,
            "tile_path" => properties::tile_path,
            "tlog_proof" => properties::tlog_proof,
            "bundle" => properties::bundle,
            "merkle_verify" => properties::merkle_verify,
            "citizen" => properties::citizen,
            "witness" => properties::witness,
            "governance" => properties::governance,
            other => panic!("unknown target {other}"),
        };
        for seed in seeds {
            run(seed);
        }
    }
}

/// Regression test for a panic the `merkle_verify` fuzz target found at once: the expected proof
/// length shifted a u64 right by 64 for trees of more than 2^63 leaves. Such trees must be handled
/// like any other: wrong proofs refused, right ones accepted.
#[test]
fn merkle_sizes_above_2_63() {
    let h = Hash::default();
    let size = TreeSize((1 << 63) + 1);
    assert!(merkle::verify_inclusion(&h, LeafIndex(0), size, &[], &h).is_err());
    assert!(merkle::verify_inclusion(&h, LeafIndex(5), TreeSize(u64::MAX), &[], &h).is_err());
    assert!(merkle::verify_consistency(TreeSize(1), size, &h, &h, &[]).is_err());
    properties::merkle_verify(&merkle_input(0, (1 << 63) + 1, 1, &[]));
    // The last leaf of a 2^63 + 1 tree: its proof is the root of the first 2^63 leaves.
    let (left, leaf) = (Hash::digest(b"left"), Hash::digest(b"leaf"));
    let root = bansos_verifier::hash::node_hash(&left, &leaf);
    assert!(merkle::verify_inclusion(&leaf, LeafIndex(1 << 63), size, &[left], &root).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn entry_random_bytes(data in vec(any::<u8>(), 0..400)) {
        properties::entry(&data);
    }

    #[test]
    fn entry_mutated_golden(data in mutated("entry")) {
        properties::entry(&data);
    }

    #[test]
    fn envelope_mutated_golden(data in mutated("envelope")) {
        properties::envelope(&data);
    }

    #[test]
    fn note_random_bytes(data in vec(any::<u8>(), 0..300)) {
        properties::note(&data);
    }

    #[test]
    fn note_mutated_golden(data in mutated("note")) {
        properties::note(&data);
    }

    #[test]
    fn note_shaped_text(text in "[a-z./]{1,12}\n(0|[1-9][0-9]{0,3})\n[A-Za-z0-9+/]{43}=\n(ext\n)?\n(\u{2014} [a-z.]{1,8} [A-Za-z0-9+/]{8,96}={0,2}\n){1,3}") {
        properties::note(text.as_bytes());
    }

    #[test]
    fn receipt_random_text(text in "[0-9A-Za-z \\-]{100,150}") {
        properties::receipt(text.as_bytes());
    }

    #[test]
    fn receipt_any_string(text in any::<String>()) {
        properties::receipt(text.as_bytes());
    }

    #[test]
    fn receipt_mutated_golden(data in mutated("receipt")) {
        properties::receipt(&data);
    }

    #[test]
    fn receipt_valid_values_round_trip(
        tag in any::<[u8; 4]>(),
        index in 0..=RECEIPT_LEAF_INDEX_MAX,
        allocation in any::<[u8; 16]>(),
        salt in any::<[u8; 32]>(),
        secret in any::<[u8; 16]>(),
    ) {
        let r = Receipt { network_tag: tag, leaf_index: LeafIndex(index), allocation: AllocationId(allocation), salt, claim_secret: secret };
        prop_assert_eq!(Receipt::parse(&r.to_text()), Ok(r.clone()));
        properties::receipt(r.to_text().as_bytes());
        properties::receipt(r.to_compact().to_lowercase().as_bytes());
    }

    #[test]
    fn tile_path_shaped_text(path in "/?tile/(entries|[0-9]{1,3})/(x[0-9]{3}/){0,7}[0-9]{1,4}(\\.p/[0-9]{1,4})?") {
        properties::tile_path(path.as_bytes());
    }

    #[test]
    fn tile_path_any_string(text in any::<String>()) {
        properties::tile_path(text.as_bytes());
    }

    #[test]
    fn tile_path_mutated_golden(data in mutated("tile_path")) {
        properties::tile_path(&data);
    }

    #[test]
    fn tile_path_valid_values_round_trip(level in 0u8..=63, index in any::<u64>(), width in 1u16..=256, entries in any::<bool>()) {
        let t = if entries { tile::TileRef::entries(index, width) } else { tile::TileRef::hash(level, index, width) };
        prop_assert_eq!(tile::TileRef::parse(&t.path()), Ok(t));
        properties::tile_path(t.path().as_bytes());
        properties::tile_path(format!("/{}", t.path()).as_bytes());
    }

    #[test]
    fn tlog_proof_random_bytes(data in vec(any::<u8>(), 0..300)) {
        properties::tlog_proof(&data);
    }

    #[test]
    fn tlog_proof_mutated_golden(data in mutated("tlog_proof")) {
        properties::tlog_proof(&data);
    }

    #[test]
    fn witness_mutated_golden(data in mutated("witness")) {
        properties::witness(&data);
    }

    #[test]
    fn governance_mutated_golden(data in mutated("governance")) {
        properties::governance(&data);
    }

    #[test]
    fn governance_random_bytes(data in vec(any::<u8>(), 0..300)) {
        properties::governance(&data);
    }

    #[test]
    fn witness_random_bytes(data in vec(any::<u8>(), 0..300)) {
        properties::witness(&data);
    }

    #[test]
    fn citizen_mutated_golden(data in mutated("citizen")) {
        properties::citizen(&data);
    }

    #[test]
    fn bundle_random_bytes(data in vec(any::<u8>(), 0..600)) {
        properties::bundle(&data);
    }

    #[test]
    fn bundle_mutated_golden(data in mutated("bundle")) {
        properties::bundle(&data);
    }

    #[test]
    fn bundle_valid_values_round_trip(entries in vec(vec(any::<u8>(), 0..40), 1..=20)) {
        let mut bytes = Vec::new();
        for e in &entries {
            tile::push_bundle_entry(&mut bytes, e).expect("small entry");
        }
        let width = entries.len() as u16;
        let parsed = tile::parse_bundle(&tile::TileRef::entries(0, width), &bytes).expect("a bundle of its width");
        prop_assert_eq!(parsed, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        properties::bundle(&[vec![(width - 1) as u8], bytes].concat());
    }

    #[test]
    fn merkle_verify_arbitrary(
        index in any::<u64>(),
        size in prop_oneof![0u64..100, any::<u64>()],
        old in prop_oneof![0u64..100, any::<u64>()],
        proof in vec(any::<[u8; 32]>(), 0..70),
    ) {
        properties::merkle_verify(&merkle_input(index, size, old, &proof));
    }

    #[test]
    fn merkle_verify_mutated_golden(data in mutated("merkle_verify")) {
        properties::merkle_verify(&data);
    }
}
