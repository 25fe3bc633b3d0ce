//! The node's fuzz properties (`fuzz/src/node.rs`, docs/FUZZING.md) under proptest, so they
//! run in ordinary CI without libFuzzer: random bytes, valid values built at random, and the
//! seeds (every example consensus message, genuine checkpoint votes, batches of the golden
//! transactions) with bytes changed, cut or extended are fed to the consensus wire codec, the
//! checkpoint-vote decoder and check, and the `/v1/txs` batch format, with the same assertions
//! as the fuzz targets.

#[path = "../../fuzz/src/node.rs"]
mod properties;

use std::path::PathBuf;
use std::sync::LazyLock;

use bansos_ledger::MemoryStore;
use bansos_node::consensus::ctx::{Address, CONSENSUS_FORMAT};
use bansos_node::write::{join_batch, split_batch};
use proptest::collection::vec;
use proptest::prelude::*;

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

/// A seed of `target` with one to five bytes changed, then perhaps cut short, then extended by
/// up to 8 bytes.
fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds(target);
    (
        any::<prop::sample::Index>(),
        vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        prop::option::of(any::<prop::sample::Index>()),
        vec(any::<u8>(), 0..8),
    )
        .prop_map(move |(seed, edits, cut, tail)| {
            let mut b = seeds[seed.index(seeds.len())].clone();
            for (at, value) in edits {
                if !b.is_empty() {
                    let i = at.index(b.len());
                    b[i] = value;
                }
            }
            if let Some(c) = cut {
                b.truncate(c.index(b.len() + 1));
            }
            b.extend(tail);
            b
        })
}

#[test]
fn every_target_has_seeds_and_every_seed_passes() {
    for target in properties::TARGETS {
        let seeds = seeds(target);
        assert!(seeds.len() >= 5, "{target}: {} seeds", seeds.len());
        let run: fn(&[u8]) = match target {
            "consensus_codec" => properties::consensus_codec,
            "checkpoint_vote" => properties::checkpoint_vote,
            "txs_batch" => properties::txs_batch,
            other => panic!("unknown target {other}"),
        };
        for seed in seeds {
            run(seed);
        }
    }
    // The seeds reach the interesting branches: every example message decodes (as its own type
    // at least), every validator's genuine vote is accepted, the whole batches split.
    for seed in seeds("consensus_codec") {
        assert!(properties::codec_round_trips(seed) >= 1, "{seed:?}");
    }
    let core = properties::network().core(0, MemoryStore::new());
    for v in 0..properties::VALIDATORS {
        let vote = properties::genuine_checkpoint_vote(v);
        assert!(core.checkpoint_vote(Address(v), &vote).is_ok(), "v{v}");
    }
    let batches = seeds("txs_batch");
    assert!(
        batches
            .iter()
            .filter(|s| split_batch(&s[2..]).is_ok())
            .count()
            >= 9
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes, with the version byte most of the time so the decoders get past it.
    #[test]
    fn consensus_codec_arbitrary_bytes(
        versioned in prop::bool::weighted(0.9),
        body in vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = if versioned { vec![CONSENSUS_FORMAT] } else { Vec::new() };
        bytes.extend(body);
        properties::consensus_codec(&bytes);
    }

    /// Real messages of every kind with a few bytes changed, cut short or extended.
    #[test]
    fn consensus_codec_mutated_messages(data in mutated("consensus_codec")) {
        properties::consensus_codec(&data);
    }

    /// Arbitrary bytes, half of them around the vote's length.
    #[test]
    fn checkpoint_vote_arbitrary_bytes(
        data in prop_oneof![vec(any::<u8>(), 0..256), vec(any::<u8>(), 102..=106)],
    ) {
        properties::checkpoint_vote(&data);
    }

    /// Genuine votes with a few bytes changed (another size or root, a broken signature), cut
    /// short or extended.
    #[test]
    fn checkpoint_vote_mutated_votes(data in mutated("checkpoint_vote")) {
        properties::checkpoint_vote(&data);
    }

    #[test]
    fn txs_batch_arbitrary_bytes(data in vec(any::<u8>(), 0..4096)) {
        properties::txs_batch(&data);
    }

    /// Any list of transaction-sized items, joined, with any cut.
    #[test]
    fn txs_batch_joined_items(
        items in vec(vec(any::<u8>(), 0..64), 1..20),
        cut in any::<u16>(),
    ) {
        let body = join_batch(&items);
        prop_assert!(split_batch(&body).is_ok());
        properties::txs_batch(&[&cut.to_be_bytes()[..], &body].concat());
    }

    #[test]
    fn txs_batch_mutated_batches(data in mutated("txs_batch")) {
        properties::txs_batch(&data);
    }
}
