//! The properties of the fuzz targets of `bansos-verifier`: one function per parser of untrusted
//! bytes in it (docs/FUZZING.md). Each takes arbitrary bytes, must not panic, and asserts
//! the canonical round trip: what a parser accepts prints back to exactly the input (or, for the
//! lenient receipt parser, to a text that parses to the same value).
//!
//! Shared by the libFuzzer targets in `fuzz_targets/` and by
//! `verifier/tests/parsers_never_panic.rs`, which runs the same functions under proptest in
//! ordinary CI. Only the public API is used; nothing is kept between calls.

use std::path::Path;

use bansos_verifier::checkpoint::{self, Checkpoint};
use bansos_verifier::entry::{Leaf, NetworkId, SignedTx};
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::merkle;
use bansos_verifier::note::{Note, Policy, VerifierKey};
use bansos_verifier::receipt::Receipt;
use bansos_verifier::tile::{self, TileRef};
use bansos_verifier::tlog_proof::TlogProof;
use serde_json::Value;

/// The network id of the golden vectors (testdata/vectors/entries.json), so that mutated golden
/// transactions are checked against the network they were signed for.
pub const NETWORK_ID: [u8; 32] = [
    0xfb, 0x63, 0xa7, 0xb5, 0x97, 0xf4, 0x06, 0x98, 0xea, 0x2e, 0x57, 0x05, 0x4e, 0xc9, 0x7d, 0x61,
    0x22, 0xe5, 0x50, 0x3d, 0x22, 0xb5, 0x57, 0x9e, 0x1b, 0xec, 0x4e, 0x8a, 0xa6, 0x5f, 0x40, 0x48,
];
/// Two validators and the witness of the golden vectors (testdata/vectors/checkpoints.json).
/// The first is also the key of golden member 0, which signs most golden transactions.
pub const VKEYS: [&str; 3] = [
    "kemensos.bansos.example+e4a7036f+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c",
    "kemenkeu.bansos.example+3b38d670+AYE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU",
    "witness.audit.example+016abaf9+BNVCB9oZSXfc9Grb/sK8LnW1LVqKQhhP7f3AACTw4+ja",
];
/// The golden log's origin.
pub const ORIGIN: &str = "bansos.example/ledger/golden-vectors";

fn policy() -> Policy {
    let keys = VKEYS
        .iter()
        .map(|k| VerifierKey::parse(k).expect("a golden vkey"))
        .collect();
    // Quorum 1, so one valid signature by a golden key takes verification all the way through.
    Policy::new(keys, 1).expect("a valid policy")
}

/// `SignedTx::decode` and `Leaf::decode`: what decodes re-encodes to the same bytes and is a
/// valid body.
pub fn entry(data: &[u8]) {
    if let Ok(tx) = SignedTx::decode(data) {
        assert_eq!(tx.encode(), data, "SignedTx: encode(decode(b)) != b");
        assert_eq!(tx.body.validate(), Ok(()), "a decoded body must validate");
        assert_eq!(tx.hash(), Hash::digest(data));
    }
    if let Ok(leaf) = Leaf::decode(data) {
        assert_eq!(leaf.encode(), data, "Leaf: encode(decode(b)) != b");
    }
}

/// `SignedTx::decode` then signature verification against a fixed key and network: never
/// panics, and a verdict survives a round trip of the bytes.
pub fn envelope(data: &[u8]) {
    let Ok(tx) = SignedTx::decode(data) else {
        return;
    };
    let network = NetworkId(NETWORK_ID);
    let key = VerifierKey::parse(VKEYS[0]).expect("a golden vkey");
    let verdict = tx.verify(&network, key.public_key());
    let again = SignedTx::decode(&tx.encode()).expect("re-encoded bytes decode");
    assert_eq!(again.verify(&network, key.public_key()), verdict);
    let message = tx.signing_message(&network);
    assert!(
        message.ends_with(&data[..data.len() - 64]),
        "the signature covers every byte before it"
    );
}

/// `Note::parse` (and the checkpoint body and vkey parsers on the same text): accepted notes
/// print back to the input, accepted bodies and keys too; verification never panics.
pub fn note(data: &[u8]) {
    let policy = policy();
    if let Ok(note) = Note::parse(data) {
        assert_eq!(note.to_bytes(), data, "Note: to_bytes(parse(b)) != b");
        let _ = policy.verify(&note);
        if let Ok(cp) = Checkpoint::parse_body(note.text()) {
            assert_eq!(
                cp.body(),
                note.text(),
                "Checkpoint: body(parse_body(t)) != t"
            );
        }
    }
    let _ = checkpoint::verify_checkpoint(data, Some(ORIGIN), &policy);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse_body(text) {
            assert_eq!(cp.body(), text, "Checkpoint: body(parse_body(t)) != t");
        }
        if let Ok(key) = VerifierKey::parse(text) {
            assert_eq!(
                key.to_string(),
                text.trim_end_matches(['\n', '\r']),
                "VerifierKey round trip"
            );
        }
    }
}

/// `Receipt::parse` on UTF-8 input: an accepted receipt prints (compact and grouped) to texts
/// that parse back to the same receipt.
pub fn receipt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Receipt::parse(text) {
        assert_eq!(
            Receipt::parse(&r.to_compact()).as_ref(),
            Ok(&r),
            "compact form round trip"
        );
        assert_eq!(
            Receipt::parse(&r.to_text()).as_ref(),
            Ok(&r),
            "text form round trip"
        );
    }
}

/// `TileRef::parse`: only canonical paths parse, so `path()` gives back the input less a
/// leading `/`.
pub fn tile_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tile) = TileRef::parse(text) {
        assert_eq!(
            tile.path(),
            text.strip_prefix('/').unwrap_or(text),
            "TileRef round trip"
        );
        assert!((1..=256).contains(&tile.width));
    }
}

/// `TlogProof::parse`: an accepted bundle prints back to the input; verifying it never panics.
pub fn tlog_proof(data: &[u8]) {
    if let Ok(p) = TlogProof::parse(data) {
        assert_eq!(p.to_bytes(), data, "TlogProof: to_bytes(parse(b)) != b");
        let leaf = p.extra.as_deref().map_or(Hash::default(), leaf_hash);
        let _ = p.verify(&leaf, Some(ORIGIN), &policy());
    }
}

/// `tile::parse_bundle` at width `data[0] + 1` on the rest (and `parse_hash_tile`,
/// `bundle_prefix`): accepted bundles re-encode to the input.
pub fn bundle(data: &[u8]) {
    let Some((&w, rest)) = data.split_first() else {
        return;
    };
    let width = u16::from(w) + 1;
    let tile = TileRef::entries(0, width);
    if let Ok(entries) = tile::parse_bundle(&tile, rest) {
        assert_eq!(entries.len(), usize::from(width));
        let mut again = Vec::with_capacity(rest.len());
        for e in &entries {
            tile::push_bundle_entry(&mut again, e).expect("a parsed entry fits a bundle");
        }
        assert_eq!(again, rest, "bundle round trip");
        assert_eq!(tile::bundle_prefix(rest, width), Some(rest));
    }
    if let Some(prefix) = tile::bundle_prefix(rest, width) {
        assert!(rest.starts_with(prefix));
    }
    if let Ok(hashes) = tile::parse_hash_tile(&TileRef::hash(0, 0, width), rest) {
        assert_eq!(hashes.iter().flat_map(|h| h.0).collect::<Vec<u8>>(), rest);
    }
}

/// `merkle::verify_inclusion` and `merkle::verify_consistency` on arbitrary sizes, indexes and
/// proofs (as a tlog-proof or a JSON proof would carry them): they answer, never panic.
/// Layout: index, size, old size (8 bytes each, big-endian), then 32-byte hashes.
pub fn merkle_verify(data: &[u8]) {
    if data.len() < 24 {
        return;
    }
    let word = |i: usize| u64::from_be_bytes(data[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    let (index, size, old) = (word(0), word(1), word(2));
    let proof: Vec<Hash> = data[24..]
        .chunks_exact(32)
        .take(merkle::PROOF_HASHES_MAX + 2)
        .map(|c| Hash(c.try_into().expect("32 bytes")))
        .collect();
    let first = proof.first().copied().unwrap_or_default();
    let last = proof.last().copied().unwrap_or_default();
    if merkle::verify_inclusion(&first, LeafIndex(index), TreeSize(size), &proof, &last).is_ok() {
        assert!(index < size);
    }
    if merkle::verify_consistency(TreeSize(old), TreeSize(size), &first, &last, &proof).is_ok() {
        assert!(old <= size);
    }
}

/// `Evidence::from_bundle` and `TrustPolicy::parse`, then the citizen's whole check with the
/// golden citizen policy: an accepted bundle writes back to a bundle that reads to the same
/// evidence; the check never panics and a verdict with an allocation verified a checkpoint.
pub fn citizen(data: &[u8]) {
    use bansos_verifier::citizen::{Evidence, check};
    use bansos_verifier::commitment::Nik;
    use bansos_verifier::policy::TrustPolicy;
    let _ = TrustPolicy::parse(data);
    if let Ok(evidence) = Evidence::from_bundle(data) {
        let again = Evidence::from_bundle(evidence.to_bundle().as_bytes())
            .expect("a written bundle reads back");
        assert_eq!(again, evidence, "bundle round trip");
        let policy = citizen_policy();
        let receipt = Receipt::parse(CITIZEN_RECEIPT).expect("golden receipt");
        let nik = Nik::parse(CITIZEN_NIK).expect("golden NIK");
        let verdict = check(&policy, &receipt, &nik, &evidence, 0);
        if verdict.allocation.is_some() {
            assert!(verdict.checkpoint.is_some());
        }
    }
}

/// The receipt and NIK of the golden citizen case `claimed` (testdata/vectors/citizen.json).
const CITIZEN_RECEIPT: &str = include_str!("citizen_receipt.txt");
const CITIZEN_NIK: &str = "3171014101900001";

fn citizen_policy() -> bansos_verifier::policy::TrustPolicy {
    let v: Value = serde_json::from_str(include_str!("../../testdata/vectors/citizen.json"))
        .expect("citizen.json");
    bansos_verifier::policy::TrustPolicy::parse(
        v["policies"]["validators_quorum_3"].to_string().as_bytes(),
    )
    .expect("golden policy")
}

/// `AddCheckpoint::parse` (a witness's request body) and `parse_size_body` (its 409 answer):
/// an accepted request prints back to exactly the input; an accepted size prints back too.
pub fn witness(data: &[u8]) {
    use bansos_verifier::tlog_witness::{AddCheckpoint, parse_size_body, size_body};
    if let Ok(r) = AddCheckpoint::parse(data) {
        assert_eq!(r.to_bytes(), data, "AddCheckpoint: to_bytes(parse(b)) != b");
        let _ = checkpoint::verify_checkpoint(&r.checkpoint, Some(ORIGIN), &policy());
    }
    if let Ok(size) = parse_size_body(data) {
        assert_eq!(size_body(size).as_bytes(), data, "size body round trip");
    }
}

fn governance_policy() -> bansos_verifier::policy::TrustPolicy {
    let v: Value = serde_json::from_str(include_str!("../../testdata/vectors/governance.json"))
        .expect("governance.json");
    bansos_verifier::policy::TrustPolicy::parse(v["policy"].to_string().as_bytes())
        .expect("golden policy")
}

/// `Change::from_bytes` and `TrustPolicy::follow` (a node's `/key-history`, untrusted): a
/// change that decodes re-encodes to the same bytes; following any bytes never panics, and
/// after a history that follows, checking a checkpoint against it never panics either.
pub fn governance(data: &[u8]) {
    use bansos_verifier::governance::Change;
    if let Ok(c) = Change::from_bytes(data) {
        assert_eq!(c.to_bytes(), data, "Change: to_bytes(from_bytes(b)) != b");
    }
    let mut policy = governance_policy();
    if policy.follow(data).is_ok() {
        let _ = policy.verify_checkpoint(data);
    }
}

/// The fuzz targets, by name.
pub const TARGETS: [&str; 11] = [
    "entry",
    "envelope",
    "note",
    "receipt",
    "tile_path",
    "tlog_proof",
    "bundle",
    "merkle_verify",
    "citizen",
    "witness",
    "governance",
];

/// Seed inputs by target name.
pub type Seeds = Vec<(&'static str, Vec<Vec<u8>>)>;

/// Seed inputs for each target, taken from the golden vectors in `dir` (testdata/vectors):
/// valid encodings and the negative cases next to them, so mutations start at the interesting
/// boundaries. Panics if a vector file is missing or malformed.
pub fn seeds(dir: &Path) -> Seeds {
    let load = |name: &str| -> Value {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let hex = |v: &Value| {
        data_encoding::HEXLOWER
            .decode(v.as_str().expect("hex string").as_bytes())
            .expect("lowercase hex")
    };
    let text = |v: &Value| v.as_str().expect("string").as_bytes().to_vec();

    let entries = load("entries.json");
    let negative = load("negative_entries.json");
    let mut entry = Vec::new();
    for e in list(&entries["entries"]) {
        entry.push(hex(&e["signed_tx_hex"]));
        entry.push(hex(&e["leaf_hex"]));
    }
    for e in list(&negative["refused"])
        .iter()
        .chain(&list(&negative["decodes_but_signature_fails"]))
    {
        entry.push(hex(&e["hex"]));
    }

    let checkpoints = load("checkpoints.json");
    let mut note = vec![text(&checkpoints["checkpoint"]["body"])];
    for n in list(&checkpoints["notes"]) {
        note.push(text(&n["note"]));
    }
    for k in list(&checkpoints["validators"])
        .iter()
        .chain([&checkpoints["witness"]])
    {
        note.push(text(&k["vkey"]));
    }
    for k in list(&checkpoints["invalid_vkeys"]) {
        note.push(text(&k["vkey"]));
    }

    let receipts = load("receipts.json");
    let mut receipt = Vec::new();
    for r in list(&receipts["valid"]) {
        receipt.push(text(&r["text"]));
        receipt.push(text(&r["compact"]));
    }
    for r in list(&receipts["lenient_inputs"])
        .iter()
        .chain(&list(&receipts["invalid"]))
    {
        receipt.push(text(&r["input"]));
    }

    let tiles = load("tiles.json");
    let mut tile_path = Vec::new();
    for t in list(&tiles["paths"])
        .iter()
        .chain(&list(&tiles["invalid_paths"]))
    {
        tile_path.push(text(&t["path"]));
    }
    let mut bundle = Vec::new();
    let golden_width = tiles["golden_log"]["size"].as_u64().expect("size") as u8;
    bundle.push(
        [
            vec![golden_width - 1],
            hex(&tiles["golden_log"]["entry_bundle_hex"]),
        ]
        .concat(),
    );
    bundle.push(
        [
            vec![golden_width - 1],
            hex(&tiles["golden_log"]["hash_tile_hex"]),
        ]
        .concat(),
    );
    for b in list(&tiles["bundles"]) {
        let width = b["width"].as_u64().expect("width") as u8;
        bundle.push([vec![width - 1], hex(&b["hex"])].concat());
    }

    let proofs = load("tlog_proof.json");
    let mut tlog_proof = Vec::new();
    for group in ["valid", "unparseable", "failing"] {
        for p in list(&proofs[group]) {
            tlog_proof.push(text(&p["text"]));
        }
    }

    let citizen_cases = load("citizen.json");
    let mut citizen = vec![
        citizen_cases["policies"]["validators_quorum_3"]
            .to_string()
            .into_bytes(),
    ];
    for c in list(&citizen_cases["cases"]) {
        citizen.push(text(&c["bundle"]));
    }

    // Witness requests: `old 0` and no proof, then the golden checkpoint notes.
    let mut witness = vec![b"7\n".to_vec(), b"0\n".to_vec()];
    for n in list(&checkpoints["notes"]) {
        witness.push([b"old 0\n\n".to_vec(), text(&n["note"])].concat());
    }

    let merkle = load("merkle.json");
    let mut merkle_verify = Vec::new();
    let word = |v: &Value| v.as_u64().expect("integer").to_be_bytes();
    for p in list(&merkle["inclusion"])
        .iter()
        .chain(&list(&merkle["invalid_inclusion"]))
    {
        let mut b = [word(&p["leaf_index"]), word(&p["tree_size"]), [0; 8]].concat();
        for h in list(&p["proof"]) {
            b.extend(hex(&h));
        }
        merkle_verify.push(b);
    }
    for p in list(&merkle["consistency"])
        .iter()
        .chain(&list(&merkle["invalid_consistency"]))
    {
        let mut b = [[0; 8], word(&p["size2"]), word(&p["size1"])].concat();
        for h in list(&p["proof"]) {
            b.extend(hex(&h));
        }
        merkle_verify.push(b);
    }

    let gov = load("governance.json");
    let mut governance = Vec::new();
    for c in list(&gov["changes"])
        .iter()
        .chain(&list(&gov["refused_changes"]))
    {
        governance.push(hex(&c["hex"]));
    }
    for h in list(&gov["histories"]["valid"])
        .iter()
        .chain(&list(&gov["histories"]["invalid"]))
    {
        governance.push(h["document"].to_string().into_bytes());
    }

    vec![
        ("entry", entry.clone()),
        ("envelope", entry),
        ("note", note),
        ("receipt", receipt),
        ("tile_path", tile_path),
        ("tlog_proof", tlog_proof),
        ("bundle", bundle),
        ("merkle_verify", merkle_verify),
        ("citizen", citizen),
        ("witness", witness),
        ("governance", governance),
    ]
}
