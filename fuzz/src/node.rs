//! The properties of the fuzz targets of `bansos-node`'s parsers of peer and client input
//! (docs/FUZZING.md): the consensus wire codec, the checkpoint vote carried in a precommit's
//! vote extension, and the `POST /v1/txs` batch format. Each takes arbitrary bytes, must not
//! panic, and asserts what the format promises.
//!
//! Shared by the libFuzzer targets in `fuzz_targets/` and by
//! `node/tests/parsers_never_panic.rs`, which runs the same functions under proptest in
//! ordinary CI. Only the node's public API is used (and its `testkit`, whose keys are public
//! knowledge); nothing is kept between calls but one read-only validator core per thread.

use std::fmt::Debug;
use std::path::Path;

use bansos_genesis::ConsensusTimeouts;
use bansos_ledger::MemoryStore;
use bansos_node::consensus::codec::{
    CodecError, WireCodec, decode_extended_certificate, encode_extended_certificate,
};
use bansos_node::consensus::core::{
    CHECKPOINT_VOTE_LEN, CheckpointVote, CheckpointVoteError, Core, Effect, Input, Reply,
};
use bansos_node::consensus::ctx::{Address, BansosContext as Ctx, CONSENSUS_FORMAT, ProposalPart};
use bansos_node::consensus::testkit::{TestNetwork, wire};
use bansos_node::write::{BATCH_TXS_MAX, join_batch, split_batch};
use bansos_verifier::entry::TX_BYTES_MAX;
use bansos_verifier::hash::{Hash, TreeSize};
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::LivenessMsg;
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::codec::{Codec, HasEncodedLen};
use malachitebft_app_channel::app::types::core::{PolkaCertificate, ValidatorProof};
use malachitebft_app_channel::app::types::sync::{Request, Response, Status};
use malachitebft_app_channel::app::types::{ProposedValue, SignedConsensusMsg};
use serde_json::Value;

/// `WireCodec` (every type the engine, its sync and its WAL decode) and the stored certificate:
/// what decodes encodes again, within the limits, to bytes that decode to the same value and
/// encode to the same bytes once more (a WAL entry rewritten reads back the same). The format
/// need not be canonical, so the first re-encoding may differ from the input.
pub fn consensus_codec(data: &[u8]) {
    codec_round_trips(data);
}

/// [`consensus_codec`]'s checks; returns as how many of the 11 formats (the 10 codec types and
/// the stored certificate) `data` decodes.
pub fn codec_round_trips(data: &[u8]) -> usize {
    let mut decoded = [
        stable::<ProposalPart>(data).is_some(),
        stable::<SignedConsensusMsg<Ctx>>(data).is_some(),
        stable::<LivenessMsg<Ctx>>(data).is_some(),
        stable::<StreamMessage<ProposalPart>>(data).is_some(),
        stable::<ValidatorProof<Ctx>>(data).is_some(),
        stable::<Status<Ctx>>(data).is_some(),
        stable::<Request<Ctx>>(data).is_some(),
        stable::<ProposedValue<Ctx>>(data).is_some(),
        stable::<PolkaCertificate<Ctx>>(data).is_some(),
    ]
    .into_iter()
    .filter(|&d| d)
    .count();
    if let Some(response) = stable::<Response<Ctx>>(data) {
        let len = WireCodec
            .encoded_len(&response)
            .expect("a decoded response encodes");
        assert_eq!(len, WireCodec.encode(&response).expect("encodes").len());
        decoded += 1;
    }
    if let Ok(cert) = decode_extended_certificate(data) {
        let again = encode_extended_certificate(&cert);
        let back = decode_extended_certificate(&again).expect("a re-encoded certificate decodes");
        assert_eq!(back, cert, "certificate: decode(encode(c)) != c");
        assert_eq!(
            encode_extended_certificate(&back),
            again,
            "certificate re-encoding"
        );
        decoded += 1;
    }
    decoded
}

/// Decodes `data` as a `T`; if that works, checks the round trip and returns the value.
fn stable<T>(data: &[u8]) -> Option<T>
where
    WireCodec: Codec<T, Error = CodecError>,
    T: PartialEq + Debug,
{
    let value: T = WireCodec.decode(Bytes::copy_from_slice(data)).ok()?;
    assert_eq!(
        data[0], CONSENSUS_FORMAT,
        "decoded without the version byte"
    );
    let again = WireCodec
        .encode(&value)
        .unwrap_or_else(|e| panic!("a decoded {value:?} does not encode: {e}"));
    let back: T = WireCodec
        .decode(again.clone())
        .unwrap_or_else(|e| panic!("the re-encoding of {value:?} does not decode: {e}"));
    assert_eq!(back, value, "decode(encode(v)) != v");
    // Byte equality also covers what `PartialEq` skips (a vote's extension).
    let twice = WireCodec.encode(&back).expect("encodes");
    assert_eq!(twice, again, "encode(decode(encode(v))) != encode(v)");
    Some(value)
}

/// The validators of the `checkpoint_vote` target: 4, keys from `testkit`.
pub const VALIDATORS: u16 = 4;

/// The network of the `checkpoint_vote` target.
pub fn network() -> TestNetwork {
    let timeouts = ConsensusTimeouts {
        propose_ms: 3000,
        prevote_ms: 1000,
        precommit_ms: 1000,
        block_time_drift_ms: 5000,
    };
    TestNetwork::new(usize::from(VALIDATORS), timeouts)
}

thread_local! {
    /// Validator 0's core at genesis (an empty log), which checks the others' votes.
    static CORE: (TestNetwork, Core<MemoryStore>) = {
        let network = network();
        let core = network.core(0, MemoryStore::new());
        (network, core)
    };
}

/// `CheckpointVote::decode`, then validator 0's check of the vote as each validator's (and as
/// an unknown validator's) vote extension: exactly `CHECKPOINT_VOTE_LEN` bytes decode, to the
/// fields at their offsets, and encode back to the input; the check accepts a vote exactly when
/// it is this log's checkpoint with a valid signature by the validator named (checked here with
/// the validator's key, independently of the core), and each refusal gives its true reason.
pub fn checkpoint_vote(data: &[u8]) {
    let vote = CheckpointVote::decode(data);
    assert_eq!(vote.is_some(), data.len() == CHECKPOINT_VOTE_LEN);
    if let Some(v) = &vote {
        assert_eq!(v.encode(), data, "CheckpointVote: encode(decode(b)) != b");
        assert_eq!(v.size.0.to_be_bytes(), data[..8]);
        assert_eq!(v.root.0, data[8..40]);
        assert_eq!(v.signature, data[40..]);
    }
    CORE.with(|(network, core)| {
        let cp = core.ledger().checkpoint();
        let mut accepted = 0;
        for addr in 0..=VALIDATORS {
            let verdict = core.checkpoint_vote(Address(addr), data);
            let Some(v) = &vote else {
                assert_eq!(verdict, Err(CheckpointVoteError::Malformed));
                continue;
            };
            let Some(key) = network.keys.get(usize::from(addr)) else {
                assert_eq!(verdict, Err(CheckpointVoteError::UnknownValidator));
                continue;
            };
            if (v.size, v.root) != (cp.size, cp.root) {
                let other = CheckpointVoteError::OtherCheckpoint {
                    size: v.size.0,
                    local: cp.size.0,
                };
                assert_eq!(verdict, Err(other));
                continue;
            }
            let signed = key
                .verifying_key()
                .verify_strict(cp.body().as_bytes(), &v.signature.into())
                .is_ok();
            match verdict {
                Ok(sig) => {
                    assert!(signed, "accepted a signature the key refuses");
                    assert_eq!(sig.signature, v.signature);
                    assert_eq!(sig.name, format!("v{addr}"));
                    accepted += 1;
                }
                Err(why) => {
                    assert!(!signed, "refused a valid vote: {why}");
                    assert_eq!(why, CheckpointVoteError::BadSignature);
                }
            }
        }
        assert!(accepted <= 1, "one signature accepted for two validators");
    });
}

/// The genuine checkpoint vote of `validator` (`0..VALIDATORS`) at genesis, as its core
/// extends a precommit.
pub fn genuine_checkpoint_vote(validator: u16) -> Vec<u8> {
    let mut core = network().core(usize::from(validator), MemoryStore::new());
    let effects = core
        .on(Input::ExtendVote, 0, &|_: &Hash| false)
        .expect("extending a vote");
    match &effects[..] {
        [Effect::Reply(Reply::Extension(ext))] => ext.to_vec(),
        other => panic!("expected one extension, got {other:?}"),
    }
}

/// The `POST /v1/txs` batch format (`write::split_batch`, `write::join_batch`). Bytes 0–1 pick a
/// cut (big-endian), the rest is a body. What splits is within the batch limits and joins back
/// to exactly the body; the body's pieces between `0xFF` bytes, joined as a batch, split back
/// to the same pieces (or are refused, exactly when over the limits). For both batches, the
/// body cut at the picked point is refused as cut short, unless the cut falls between two
/// items, where it is exactly the batch of the items before it.
pub fn txs_batch(data: &[u8]) {
    let Some((cut, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let cut = usize::from(u16::from_be_bytes(*cut));
    if let Ok(items) = split_batch(body) {
        assert!(items.len() <= BATCH_TXS_MAX);
        assert!(items.iter().all(|t| t.len() <= TX_BYTES_MAX));
        assert_eq!(join_batch(&items), body, "join(split(b)) != b");
        cut_batch(body, &items, cut);
    }
    let pieces: Vec<&[u8]> = body.split(|&b| b == 0xFF).collect();
    let joined = join_batch(&pieces);
    let within = pieces.len() <= BATCH_TXS_MAX && pieces.iter().all(|t| t.len() <= TX_BYTES_MAX);
    match split_batch(&joined) {
        Ok(back) => {
            assert!(within, "split a batch over the limits");
            assert_eq!(back, pieces, "split(join(items)) != items");
            cut_batch(&joined, &pieces, cut);
        }
        Err(e) => assert!(!within, "refused a batch within the limits: {e}"),
    }
}

/// `body` is the batch of `items`; its prefix of `cut % (len + 1)` bytes splits to the items
/// wholly before the cut if it ends between two items, and is refused as cut short otherwise.
fn cut_batch(body: &[u8], items: &[&[u8]], cut: usize) {
    let n = cut % (body.len() + 1);
    let mut end = 0;
    let mut whole = 0;
    for item in items {
        if end + 4 + item.len() > n {
            break;
        }
        end += 4 + item.len();
        whole += 1;
    }
    match split_batch(&body[..n]) {
        Ok(fewer) => {
            assert_eq!(end, n, "a batch cut inside item {whole} was accepted");
            assert_eq!(fewer, items[..whole], "a cut batch split to other items");
        }
        Err(e) => {
            assert_ne!(end, n, "a batch cut between items was refused: {e}");
            assert!(e.contains("cut short"), "a cut batch refused as {e:?}");
        }
    }
}

/// The fuzz targets, by name.
pub const TARGETS: [&str; 3] = ["consensus_codec", "checkpoint_vote", "txs_batch"];

/// Seed inputs by target name.
pub type Seeds = Vec<(&'static str, Vec<Vec<u8>>)>;

/// Seed inputs for each target: every example message of `testkit::wire`, encoded; the
/// genuine checkpoint votes of the target's validators, one for another checkpoint and cut or
/// extended ones; batches of the golden signed transactions in `dir` (testdata/vectors), whole
/// and cut. Panics if a vector file is missing or malformed.
pub fn seeds(dir: &Path) -> Seeds {
    let path = dir.join("entries.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let entries: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let txs: Vec<Vec<u8>> = entries["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let hex = e["signed_tx_hex"].as_str().expect("hex string");
            data_encoding::HEXLOWER
                .decode(hex.as_bytes())
                .expect("lowercase hex")
        })
        .collect();

    let mut checkpoint_vote: Vec<Vec<u8>> = (0..VALIDATORS).map(genuine_checkpoint_vote).collect();
    let mut other = CheckpointVote::decode(&checkpoint_vote[1]).expect("a genuine vote decodes");
    other.size = TreeSize(other.size.0 + 1);
    checkpoint_vote.push(other.encode().to_vec());
    let genuine = checkpoint_vote[0].clone();
    checkpoint_vote.push(genuine[..CHECKPOINT_VOTE_LEN - 1].to_vec());
    checkpoint_vote.push([&genuine[..], &[0]].concat());
    checkpoint_vote.push(Vec::new());

    // Cut points (bytes 0–1) at the start, in the first item, and past the end.
    let mut txs_batch = Vec::new();
    for cut in [0u16, 7, u16::MAX] {
        for batch in [&txs[..1], &txs[..2], &txs[..]] {
            txs_batch.push([&cut.to_be_bytes()[..], &join_batch(batch)].concat());
        }
    }
    let mut pieces = cut_free(&txs[0]).to_vec();
    pieces.push(0xFF);
    pieces.extend(cut_free(&txs[1]));
    txs_batch.push([&[0, 9][..], &pieces].concat());

    vec![
        ("consensus_codec", wire::encodings()),
        ("checkpoint_vote", checkpoint_vote),
        ("txs_batch", txs_batch),
    ]
}

/// `tx` less its `0xFF` bytes, so that it stays one piece in the `txs_batch` target.
fn cut_free(tx: &[u8]) -> Vec<u8> {
    tx.iter().copied().filter(|&b| b != 0xFF).collect()
}
