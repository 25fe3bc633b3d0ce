//! The golden vectors in `testdata/vectors/` (docs/FORMAT.md):
//! (a) the committed files are byte for byte what the generator builds, so they cannot drift
//! from the code; (b) every vector, read back from the files alone, checks out through the
//! public API, with independent recomputations (hashes, HMAC, base32, Merkle roots) where the
//! library could otherwise only agree with itself.

#[path = "../examples/golden_vectors/generate.rs"]
mod generate;

use std::path::PathBuf;

use bansos_verifier::checkpoint::{self, Checkpoint, CheckpointError};
use bansos_verifier::commitment::{self, CLAIM_LOCK_DOMAIN, COMMITMENT_DOMAIN, DEDUP_DOMAIN, Nik};
use bansos_verifier::entry::{DecodeError, Leaf, NetworkId, SignedTx, TX_SIGNING_DOMAIN, TxBody};
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize};
use bansos_verifier::merkle::{self, ProofError};
use bansos_verifier::note::{KeyKind, NoteError, Policy, VerifierKey};
use bansos_verifier::receipt::{RECEIPT_CHECK_DOMAIN, Receipt, ReceiptError};
use bansos_verifier::tile::{self, TileKind, TileRef};
use bansos_verifier::tlog_proof::{TlogProof, TlogProofError};
use ed25519_dalek::{SigningKey, VerifyingKey};
use hmac::{KeyInit, Mac};
use serde_json::Value;

const REGENERATE: &str =
    "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors";

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors")
}

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run {REGENERATE}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected an unsigned integer, got {v}"))
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
}

fn bytes(v: &Value) -> Vec<u8> {
    data_encoding::HEXLOWER
        .decode(s(v).as_bytes())
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn hash(v: &Value) -> Hash {
    Hash::from_hex(s(v)).unwrap_or_else(|| panic!("{v} is not a 32-byte hex hash"))
}

fn hashes(v: &Value) -> Vec<Hash> {
    arr(v).iter().map(hash).collect()
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn public_key(v: &Value) -> VerifyingKey {
    VerifyingKey::from_bytes(&bytes(v).try_into().expect("32 bytes")).expect("an Ed25519 point")
}

fn network(v: &Value) -> NetworkId {
    NetworkId(bytes(v).try_into().expect("32 bytes"))
}

// ---------------------------------------------------------------------------------------------
// (a) No drift.

#[test]
fn committed_vectors_equal_the_generator_output() {
    let generated = generate::all();
    let mut stale = Vec::new();
    for (name, text) in &generated {
        match std::fs::read_to_string(vectors_dir().join(name)) {
            Ok(committed) if committed == *text => {}
            Ok(_) => stale.push(format!("{name} differs")),
            Err(e) => stale.push(format!("{name}: {e}")),
        }
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(vectors_dir())
        .expect("testdata/vectors exists")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = generated.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    if on_disk != names {
        stale.push(format!("files on disk {on_disk:?}, generated {names:?}"));
    }
    assert!(
        stale.is_empty(),
        "golden vectors are out of date: {stale:?}. If the format change is intended, run `{REGENERATE}` and review the diff."
    );
}

#[test]
fn the_generator_is_deterministic() {
    assert!(generate::all() == generate::all());
}

// ---------------------------------------------------------------------------------------------
// (b) Every vector on its own.

#[test]
fn entries_decode_encode_and_verify() {
    let v = load("entries.json");
    let entries = arr(&v["entries"]);
    assert!(entries.len() >= 5);
    let mut kinds = std::collections::BTreeSet::new();
    for m in arr(&v["members"]) {
        let seed: [u8; 32] = bytes(&m["test_private_key_seed"])
            .try_into()
            .expect("32 bytes");
        assert_eq!(
            SigningKey::from_bytes(&seed).verifying_key(),
            public_key(&m["public_key"])
        );
    }
    for e in entries {
        let name = s(&e["name"]);
        let encoded = bytes(&e["signed_tx_hex"]);
        let tx = SignedTx::decode(&encoded).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(tx.encode(), encoded, "{name}: encode(decode(b)) != b");
        let from_json: SignedTx =
            serde_json::from_value(e["json"].clone()).expect("the JSON view deserializes");
        assert_eq!(from_json, tx, "{name}: JSON view and bytes disagree");
        assert_eq!(from_json.encode(), encoded, "{name}");
        assert_eq!(tx.body.kind_name(), s(&e["kind"]));
        assert_eq!(u64::from(tx.body.tag()), u(&e["kind_tag"]));
        assert_eq!(u64::from(tx.signer.0), u(&e["signer"]));
        kinds.insert(tx.body.tag());

        let layout: Vec<u8> = arr(&e["layout"])
            .iter()
            .flat_map(|f| bytes(&f["hex"]))
            .collect();
        assert_eq!(
            layout, encoded,
            "{name}: the field layout does not add up to the bytes"
        );

        let net = network(&e["network_id"]);
        let key = public_key(&e["signer_public_key"]);
        assert!(tx.verify(&net, &key), "{name}: signature");
        let message = bytes(&e["signing_message_hex"]);
        assert_eq!(
            message,
            [TX_SIGNING_DOMAIN, &net.0, &encoded[..encoded.len() - 64]].concat()
        );
        assert_eq!(tx.signing_message(&net), message);
        let sig = ed25519_dalek::Signature::from_bytes(&tx.signature);
        assert!(
            key.verify_strict(&message, &sig).is_ok(),
            "{name}: raw Ed25519 over the signing message"
        );
        assert_eq!(tx.hash(), hash(&e["tx_hash"]));
        assert_eq!(sha256(&[&encoded]), hash(&e["tx_hash"]).0);

        let leaf_bytes = bytes(&e["leaf_hex"]);
        let leaf = Leaf::decode(&leaf_bytes).unwrap_or_else(|err| panic!("{name} leaf: {err}"));
        assert_eq!(leaf.encode(), leaf_bytes);
        assert_eq!(leaf.tx, tx);
        assert_eq!(leaf.height, u(&e["leaf"]["height"]));
        assert_eq!(leaf.block_time, u(&e["leaf"]["block_time"]));
        let leaf_layout: Vec<u8> = arr(&e["leaf_layout"])
            .iter()
            .flat_map(|f| bytes(&f["hex"]))
            .collect();
        assert_eq!(leaf_layout, leaf_bytes);
        assert_eq!(sha256(&[&[0], &leaf_bytes]), hash(&e["leaf_hash"]).0);
        assert_eq!(
            bansos_verifier::hash::leaf_hash(&leaf_bytes),
            hash(&e["leaf_hash"])
        );
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5],
        "one vector per kind at least"
    );
}

#[test]
fn allocations_carry_the_commitments_of_commitments_json() {
    let entries = load("entries.json");
    let c = load("commitments.json");
    let allocations: Vec<SignedTx> = arr(&entries["entries"])
        .iter()
        .map(|e| SignedTx::decode(&bytes(&e["signed_tx_hex"])).expect("decodes"))
        .filter(|tx| matches!(tx.body, TxBody::Allocation(_)))
        .collect();
    assert_eq!(allocations.len(), 3);
    for (tx, label) in allocations.iter().zip(["A", "B", "C"]) {
        let TxBody::Allocation(a) = &tx.body else {
            unreachable!()
        };
        let find = |list: &str, name: String| {
            arr(&c[list])
                .iter()
                .find(|x| s(&x["name"]) == name)
                .unwrap_or_else(|| panic!("{name}"))
                .clone()
        };
        assert_eq!(
            a.beneficiary_commitment,
            hash(&find("beneficiary_commitments", format!("beneficiary_{label}"))["commitment"])
        );
        assert_eq!(
            a.claim_lock,
            hash(&find("claim_locks", format!("claim_lock_{label}"))["claim_lock"])
        );
        assert_eq!(
            a.dedup_tag,
            hash(&find("dedup_tags", format!("allocation_{label}"))["dedup_tag"])
        );
    }
}

/// Why the `hex` of a refused-input vector does not decode as its `input` (a signed
/// transaction, a leaf or a governance change); the vector must be refused.
fn refused_input(case: &Value) -> DecodeError {
    let name = s(&case["name"]);
    let input = bytes(&case["hex"]);
    match s(&case["input"]) {
        "signed_tx" => SignedTx::decode(&input).map(|_| ()),
        "leaf" => Leaf::decode(&input).map(|_| ()),
        "change" => bansos_verifier::governance::Change::from_bytes(&input).map(|_| ()),
        other => panic!("{name}: unknown input type {other}"),
    }
    .expect_err(name)
}

/// (kind, field, value) of a decode error, as negative_entries.json writes it.
fn refusal(e: &DecodeError) -> (&'static str, Option<&'static str>, Option<u64>) {
    match e {
        DecodeError::Truncated(f) => ("truncated", Some(f), None),
        DecodeError::TrailingBytes(n) => ("trailing_bytes", None, Some(*n as u64)),
        DecodeError::UnknownVersion(v) => ("unknown_version", None, Some((*v).into())),
        DecodeError::UnknownTag { field, tag } => ("unknown_tag", Some(field), Some((*tag).into())),
        DecodeError::Oversize { field, max } => ("oversize", Some(field), Some(*max as u64)),
        DecodeError::Invalid { field, .. } => ("invalid", Some(field), None),
    }
}

#[test]
fn negative_entries_are_refused_for_the_stated_reason() {
    let v = load("negative_entries.json");
    let refused = arr(&v["refused"]);
    assert!(refused.len() >= 30);
    for case in refused {
        let name = s(&case["name"]);
        let err = refused_input(case);
        let want = &case["error"];
        let (kind, field, value) = refusal(&err);
        assert_eq!(kind, s(&want["kind"]), "{name}: {err}");
        assert_eq!(field, want["field"].as_str(), "{name}: {err}");
        assert_eq!(value, want["value"].as_u64(), "{name}: {err}");
    }
    let fails = arr(&v["decodes_but_signature_fails"]);
    assert!(fails.len() >= 3);
    for case in fails {
        let name = s(&case["name"]);
        let input = bytes(&case["hex"]);
        let tx = SignedTx::decode(&input).unwrap_or_else(|e| panic!("{name} must decode: {e}"));
        assert_eq!(tx.encode(), input);
        assert!(
            !tx.verify(
                &network(&case["network_id"]),
                &public_key(&case["signer_public_key"])
            ),
            "{name} verified"
        );
    }
}

#[test]
fn commitments_recompute() {
    let v = load("commitments.json");
    assert_eq!(
        bytes(&v["domains"]["beneficiary_commitment_hex"]),
        COMMITMENT_DOMAIN
    );
    assert_eq!(bytes(&v["domains"]["dedup_tag_hex"]), DEDUP_DOMAIN);
    assert_eq!(bytes(&v["domains"]["claim_lock_hex"]), CLAIM_LOCK_DOMAIN);
    for c in arr(&v["beneficiary_commitments"]) {
        let salt: [u8; 32] = bytes(&c["salt"]).try_into().expect("32-byte salt");
        let nik = Nik::parse(s(&c["nik"])).expect("NIK");
        let input = bytes(&c["hash_input_hex"]);
        assert_eq!(
            input,
            [COMMITMENT_DOMAIN, &salt, s(&c["nik"]).as_bytes()].concat()
        );
        assert_eq!(sha256(&[&input]), hash(&c["commitment"]).0);
        assert_eq!(
            commitment::beneficiary_commitment(&salt, &nik),
            hash(&c["commitment"])
        );
    }
    let mut tags = Vec::new();
    for c in arr(&v["dedup_tags"]) {
        let key: [u8; 32] = bytes(&c["key"]).try_into().expect("32-byte key");
        let (program, period, nik) = (s(&c["program"]), s(&c["period"]), s(&c["nik"]));
        let message = bytes(&c["hmac_message_hex"]);
        let expected_message = [
            DEDUP_DOMAIN,
            &[program.len() as u8],
            program.as_bytes(),
            &[period.len() as u8],
            period.as_bytes(),
            nik.as_bytes(),
        ]
        .concat();
        assert_eq!(message, expected_message);
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).expect("any key length");
        mac.update(&message);
        let independent: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(independent, hash(&c["dedup_tag"]).0);
        let tag = commitment::dedup_tag(&key, program, period, &Nik::parse(nik).expect("NIK"));
        assert_eq!(tag, hash(&c["dedup_tag"]));
        tags.push(tag);
    }
    let mut distinct = tags.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        tags.len(),
        "every dedup case differs (the length prefixes matter)"
    );
    for c in arr(&v["claim_locks"]) {
        let secret: [u8; 16] = bytes(&c["claim_secret"])
            .try_into()
            .expect("16-byte secret");
        assert_eq!(
            bytes(&c["hash_input_hex"]),
            [CLAIM_LOCK_DOMAIN, &secret].concat()
        );
        assert_eq!(
            sha256(&[CLAIM_LOCK_DOMAIN, &secret]),
            hash(&c["claim_lock"]).0
        );
        assert_eq!(commitment::claim_lock(&secret), hash(&c["claim_lock"]));
    }
    for n in arr(&v["nik_parse"]["valid"]) {
        assert!(Nik::parse(s(n)).is_some(), "{n}");
    }
    for n in arr(&v["nik_parse"]["invalid"]) {
        assert!(Nik::parse(s(n)).is_none(), "{n}");
    }
}

/// Crockford base32 symbols → bytes, written independently of the library.
fn base32_bytes(alphabet: &str, code: &str) -> Vec<u8> {
    let mut bits = Vec::new();
    for c in code.chars() {
        let v = alphabet.find(c).expect("alphabet symbol") as u8;
        bits.extend((0..5).rev().map(|i| (v >> i) & 1));
    }
    bits.chunks_exact(8)
        .map(|byte| byte.iter().fold(0u8, |a, &b| a << 1 | b))
        .collect()
}

fn receipt_error(e: &ReceiptError) -> Value {
    match e {
        ReceiptError::BadCharacter {
            position,
            character,
        } => {
            serde_json::json!({ "kind": "bad_character", "position": position, "character": character.to_string() })
        }
        ReceiptError::WrongLength(n) => serde_json::json!({ "kind": "wrong_length", "length": n }),
        ReceiptError::Checksum => serde_json::json!({ "kind": "checksum" }),
        ReceiptError::UnknownVersion(v) => {
            serde_json::json!({ "kind": "unknown_version", "version": v })
        }
    }
}

#[test]
fn receipts_parse_print_and_refuse() {
    let v = load("receipts.json");
    let alphabet = s(&v["alphabet"]);
    let mut by_name = std::collections::HashMap::new();
    for r in arr(&v["valid"]) {
        let name = s(&r["name"]);
        let receipt = Receipt::parse(s(&r["text"])).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Receipt::parse(s(&r["compact"])).as_ref(), Ok(&receipt));
        assert_eq!(receipt.to_text(), s(&r["text"]));
        assert_eq!(receipt.to_compact(), s(&r["compact"]));
        assert_eq!(receipt.network_tag.to_vec(), bytes(&r["network_tag"]));
        assert_eq!(receipt.leaf_index, LeafIndex(u(&r["leaf_index"])));
        assert_eq!(receipt.allocation.to_hex(), s(&r["allocation"]));
        assert_eq!(receipt.salt.to_vec(), bytes(&r["salt"]));
        assert_eq!(receipt.claim_secret.to_vec(), bytes(&r["claim_secret"]));
        let payload = bytes(&r["payload_hex"]);
        let expected_payload = [
            &[1u8][..],
            &receipt.network_tag,
            &receipt.leaf_index.0.to_be_bytes()[3..],
            &receipt.allocation.0,
            &receipt.salt,
            &receipt.claim_secret,
        ]
        .concat();
        assert_eq!(payload, expected_payload, "{name}: payload layout");
        let check = bytes(&r["check_hex"]);
        assert_eq!(check, sha256(&[RECEIPT_CHECK_DOMAIN, &payload])[..4]);
        let compact = s(&r["compact"]);
        assert_eq!(compact.len(), 126);
        assert_eq!(
            base32_bytes(alphabet, &compact[..125]),
            [payload, check].concat(),
            "{name}: base32"
        );
        by_name.insert(name.to_string(), receipt);
    }
    for l in arr(&v["lenient_inputs"]) {
        let parsed =
            Receipt::parse(s(&l["input"])).unwrap_or_else(|e| panic!("{}: {e}", s(&l["name"])));
        assert_eq!(
            Some(&parsed),
            by_name.get(s(&l["equals"])),
            "{}",
            s(&l["name"])
        );
    }
    for bad in arr(&v["invalid"]) {
        let err = Receipt::parse(s(&bad["input"])).expect_err(s(&bad["name"]));
        assert_eq!(receipt_error(&err), bad["error"], "{}", s(&bad["name"]));
    }
}

fn policy_of(p: &Value) -> Policy {
    let keys = arr(&p["vkeys"])
        .iter()
        .map(|k| VerifierKey::parse(s(k)).expect("vkey"))
        .collect();
    Policy::new(keys, u(&p["quorum"]) as usize).expect("policy")
}

fn note_error(e: &NoteError) -> Value {
    match e {
        NoteError::Malformed(_) => serde_json::json!({ "kind": "malformed_note" }),
        NoteError::BadKey(_) => serde_json::json!({ "kind": "bad_key" }),
        NoteError::InvalidSignature { name, key_id } => {
            serde_json::json!({ "kind": "invalid_signature", "name": name, "key_id": format!("{key_id:08x}") })
        }
        NoteError::TooFewSignatures { verified, quorum } => {
            serde_json::json!({ "kind": "too_few_signatures", "verified": verified, "quorum": quorum })
        }
    }
}

fn checkpoint_error(e: &CheckpointError) -> Value {
    match e {
        CheckpointError::Malformed(_) => serde_json::json!({ "kind": "malformed_checkpoint" }),
        CheckpointError::WrongOrigin { got, .. } => {
            serde_json::json!({ "kind": "wrong_origin", "origin": got })
        }
        CheckpointError::Note(n) => note_error(n),
        CheckpointError::TooFewWitnesses { verified, quorum } => {
            serde_json::json!({ "kind": "too_few_witnesses", "verified": verified, "quorum": quorum })
        }
    }
}

#[test]
fn checkpoint_notes_verify_with_the_expected_outcome() {
    let v = load("checkpoints.json");
    let origin = s(&v["origin"]);
    for k in arr(&v["validators"]).iter().chain([&v["witness"]]) {
        let vkey = VerifierKey::parse(s(&k["vkey"])).expect("vkey");
        assert_eq!(vkey.to_string(), s(&k["vkey"]));
        assert_eq!(vkey.name(), s(&k["name"]));
        assert_eq!(format!("{:08x}", vkey.key_id()), s(&k["key_id"]));
        assert_eq!(vkey.public_key(), &public_key(&k["public_key"]));
        let type_byte = if vkey.kind() == KeyKind::Ed25519 {
            0x01
        } else {
            0x04
        };
        let id = sha256(&[
            s(&k["name"]).as_bytes(),
            b"\n",
            &[type_byte],
            &bytes(&k["public_key"]),
        ]);
        assert_eq!(
            format!("{:08x}", u32::from_be_bytes(id[..4].try_into().expect("4"))),
            s(&k["key_id"])
        );
    }
    for bad in arr(&v["invalid_vkeys"]) {
        assert!(
            VerifierKey::parse(s(&bad["vkey"])).is_err(),
            "{}",
            s(&bad["name"])
        );
    }
    let cp = Checkpoint::parse_body(s(&v["checkpoint"]["body"])).expect("body");
    assert_eq!(cp.origin, origin);
    assert_eq!(cp.size, TreeSize(u(&v["checkpoint"]["size"])));
    assert_eq!(cp.root, hash(&v["checkpoint"]["root"]));
    assert_eq!(cp.root.to_base64(), s(&v["checkpoint"]["root_base64"]));
    assert_eq!(cp.body(), s(&v["checkpoint"]["body"]));

    // The checkpoint commits to the log of entries.json.
    let entries = load("entries.json");
    let leaves: Vec<Hash> = arr(&entries["entries"])
        .iter()
        .map(|e| hash(&e["leaf_hash"]))
        .collect();
    assert_eq!(cp.size.0, leaves.len() as u64);
    assert_eq!(
        merkle::root(&leaves[..], cp.size).expect("in memory"),
        cp.root
    );

    let policies = v["policies"].as_object().expect("policies");
    let mut outcomes = 0;
    for n in arr(&v["notes"]) {
        let name = s(&n["name"]);
        let text = s(&n["note"]);
        for (pname, p) in policies {
            let want = &n["expect"][pname];
            let got = match checkpoint::verify_checkpoint(
                text.as_bytes(),
                Some(origin),
                &policy_of(p),
            ) {
                Ok(ok) => {
                    let cosigned: Vec<Value> = ok
                        .verified
                        .cosigned_at
                        .iter()
                        .map(|(n, t)| serde_json::json!({ "name": n, "time": t }))
                        .collect();
                    serde_json::json!({ "ok": true, "signers": ok.verified.signers, "cosigned_at": cosigned })
                }
                Err(e) => serde_json::json!({ "ok": false, "error": checkpoint_error(&e) }),
            };
            assert_eq!(&got, want, "{name} under {pname}");
            outcomes += 1;
        }
    }
    assert!(outcomes >= 40);
}

/// RFC 6962 §2.1 Merkle tree hash, by the definition (recursion on the largest power of two
/// smaller than n): an independent model for the library's subtree-based root.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash(sha256(&[b""])),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            Hash(sha256(&[&[1], &mth(&leaves[..k]).0, &mth(&leaves[k..]).0]))
        }
    }
}

#[test]
fn merkle_roots_and_proofs() {
    let v = load("merkle.json");
    let leaves: Vec<Hash> = arr(&v["leaves"])
        .iter()
        .map(|l| {
            let h = Hash(sha256(&[&[0], &bytes(&l["input_hex"])]));
            assert_eq!(h, hash(&l["leaf_hash"]));
            h
        })
        .collect();
    for r in arr(&v["roots"]) {
        let n = u(&r["size"]);
        assert_eq!(
            mth(&leaves[..n as usize]),
            hash(&r["root"]),
            "model root {n}"
        );
        assert_eq!(
            merkle::root(&leaves[..], TreeSize(n)).expect("mem"),
            hash(&r["root"]),
            "library root {n}"
        );
    }
    for p in arr(&v["inclusion"]) {
        let (i, n) = (LeafIndex(u(&p["leaf_index"])), TreeSize(u(&p["tree_size"])));
        let proof = hashes(&p["proof"]);
        merkle::verify_inclusion(&hash(&p["leaf_hash"]), i, n, &proof, &hash(&p["root"]))
            .expect("inclusion verifies");
        assert_eq!(
            merkle::inclusion_proof(&leaves[..], i, n)
                .expect("mem")
                .expect("ok"),
            proof
        );
    }
    for p in arr(&v["consistency"]) {
        let (m, n) = (TreeSize(u(&p["size1"])), TreeSize(u(&p["size2"])));
        let proof = hashes(&p["proof"]);
        merkle::verify_consistency(m, n, &hash(&p["root1"]), &hash(&p["root2"]), &proof)
            .expect("consistency verifies");
        assert_eq!(
            merkle::consistency_proof(&leaves[..], m, n)
                .expect("mem")
                .expect("ok"),
            proof
        );
    }
    let kind = |e: &ProofError| match e {
        ProofError::IndexOutOfRange { .. } => "index_out_of_range",
        ProofError::SizesOutOfOrder { .. } => "sizes_out_of_order",
        ProofError::WrongLength { .. } => "wrong_length",
        ProofError::RootMismatch => "root_mismatch",
    };
    for p in arr(&v["invalid_inclusion"]) {
        let err = merkle::verify_inclusion(
            &hash(&p["leaf_hash"]),
            LeafIndex(u(&p["leaf_index"])),
            TreeSize(u(&p["tree_size"])),
            &hashes(&p["proof"]),
            &hash(&p["root"]),
        )
        .expect_err(s(&p["name"]));
        assert_eq!(kind(&err), s(&p["error"]["kind"]), "{}", s(&p["name"]));
    }
    for p in arr(&v["invalid_consistency"]) {
        let err = merkle::verify_consistency(
            TreeSize(u(&p["size1"])),
            TreeSize(u(&p["size2"])),
            &hash(&p["root1"]),
            &hash(&p["root2"]),
            &hashes(&p["proof"]),
        )
        .expect_err(s(&p["name"]));
        assert_eq!(kind(&err), s(&p["error"]["kind"]), "{}", s(&p["name"]));
    }
}

#[test]
fn tile_paths_edges_and_bundles() {
    let v = load("tiles.json");
    for t in arr(&v["paths"]) {
        let path = s(&t["path"]);
        let index: u64 = s(&t["index"]).parse().expect("decimal index");
        let width = u(&t["width"]) as u16;
        let want = match s(&t["kind"]) {
            "hash" => TileRef::hash(u(&t["level"]) as u8, index, width),
            "entries" => TileRef::entries(index, width),
            other => panic!("unknown tile kind {other}"),
        };
        assert_eq!(want.path(), path);
        assert_eq!(TileRef::parse(path).as_ref(), Ok(&want), "{path}");
        assert_eq!(
            TileRef::parse(&format!("/{path}")).as_ref(),
            Ok(&want),
            "/{path}"
        );
    }
    for t in arr(&v["invalid_paths"]) {
        assert!(
            TileRef::parse(s(&t["path"])).is_err(),
            "{}: {}",
            s(&t["path"]),
            s(&t["reason"])
        );
    }
    for e in arr(&v["edge_tiles"]) {
        let got: Vec<String> = tile::edge_tiles(TreeSize(u(&e["size"])))
            .iter()
            .map(TileRef::path)
            .collect();
        let want: Vec<&str> = arr(&e["edge_tiles"]).iter().map(s).collect();
        assert_eq!(got, want, "size {}", u(&e["size"]));
    }

    let g = &v["golden_log"];
    let entries = load("entries.json");
    let leaf_hashes: Vec<u8> = arr(&entries["entries"])
        .iter()
        .flat_map(|e| bytes(&e["leaf_hash"]))
        .collect();
    assert_eq!(bytes(&g["hash_tile_hex"]), leaf_hashes);
    let hash_tile = TileRef::parse(s(&g["hash_tile_path"])).expect("path");
    let bundle_tile = TileRef::parse(s(&g["entry_bundle_path"])).expect("path");
    assert_eq!(bundle_tile.kind, TileKind::Entries);
    let mut checked = tile::VerifiedTiles::new(TreeSize(u(&g["size"])), hash(&g["root"]));
    checked
        .add_edge(&[(hash_tile, bytes(&g["hash_tile_hex"]))])
        .expect("the edge tile leads to the root");
    let bundle = bytes(&g["entry_bundle_hex"]);
    let leaves = checked
        .check_bundle(&bundle_tile, &bundle)
        .expect("the bundle matches the hash tile");
    for (leaf, e) in leaves.iter().zip(arr(&entries["entries"])) {
        assert_eq!(leaf.to_vec(), bytes(&e["leaf_hex"]));
    }

    for b in arr(&v["bundles"]) {
        let tile = TileRef::entries(0, u(&b["width"]) as u16);
        let raw = bytes(&b["hex"]);
        let got = tile::parse_bundle(&tile, &raw);
        assert_eq!(
            got.is_ok(),
            b["ok"].as_bool().expect("bool"),
            "{}",
            s(&b["name"])
        );
        if let Ok(entries) = got {
            let want: Vec<Vec<u8>> = arr(&b["entries"]).iter().map(bytes).collect();
            assert_eq!(entries, want.iter().map(Vec::as_slice).collect::<Vec<_>>());
        }
    }
}

fn proof_error(e: &ProofError) -> Value {
    match e {
        ProofError::IndexOutOfRange { .. } => serde_json::json!({ "kind": "index_out_of_range" }),
        ProofError::SizesOutOfOrder { .. } => serde_json::json!({ "kind": "sizes_out_of_order" }),
        ProofError::WrongLength { got, expected } => {
            serde_json::json!({ "kind": "wrong_length", "got": got, "expected": expected })
        }
        ProofError::RootMismatch => serde_json::json!({ "kind": "root_mismatch" }),
    }
}

fn tlog_proof_error(e: &TlogProofError) -> Value {
    match e {
        TlogProofError::Malformed(_) => {
            serde_json::json!({ "stage": "parse", "kind": "malformed_proof" })
        }
        TlogProofError::Checkpoint(c) => {
            serde_json::json!({ "stage": "checkpoint", "error": checkpoint_error(c) })
        }
        TlogProofError::Proof(p) => {
            serde_json::json!({ "stage": "inclusion", "error": proof_error(p) })
        }
    }
}

#[test]
fn tlog_proofs_parse_and_verify() {
    let v = load("tlog_proof.json");
    let origin = s(&v["origin"]);
    let policy = policy_of(&v["policy"]);
    let entries = load("entries.json");
    for p in arr(&v["valid"]) {
        let name = s(&p["name"]);
        let text = s(&p["text"]);
        let proof = TlogProof::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(proof.to_bytes(), text.as_bytes());
        assert_eq!(proof.index, LeafIndex(u(&p["index"])));
        assert_eq!(proof.proof, hashes(&p["proof"]));
        let leaf_hash = hash(&p["leaf_hash"]);
        if let Some(extra) = p["extra_hex"].as_str() {
            let extra = data_encoding::HEXLOWER
                .decode(extra.as_bytes())
                .expect("hex");
            assert_eq!(proof.extra.as_deref(), Some(extra.as_slice()));
            assert_eq!(bansos_verifier::hash::leaf_hash(&extra), leaf_hash);
            let leaf = Leaf::decode(&extra).expect("extra holds a leaf");
            let entry = &arr(&entries["entries"])[proof.index.0 as usize];
            assert_eq!(
                leaf.encode(),
                bytes(&entry["leaf_hex"]),
                "{name}: extra is the entry at that index"
            );
        } else {
            assert_eq!(proof.extra, None);
        }
        let verified = proof
            .verify(&leaf_hash, Some(origin), &policy)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.checkpoint.origin, origin);
    }
    for p in arr(&v["unparseable"]) {
        let err = TlogProof::parse(s(&p["text"]).as_bytes()).expect_err(s(&p["name"]));
        assert_eq!(tlog_proof_error(&err), p["error"], "{}", s(&p["name"]));
    }
    for p in arr(&v["failing"]) {
        let name = s(&p["name"]);
        let proof =
            TlogProof::parse(s(&p["text"]).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(proof.to_bytes(), s(&p["text"]).as_bytes());
        let err = proof
            .verify(&hash(&p["leaf_hash"]), Some(origin), &policy)
            .expect_err(name);
        assert_eq!(tlog_proof_error(&err), p["error"], "{name}");
    }
}

#[test]
fn citizen_verdicts_match_the_vectors() {
    use bansos_verifier::citizen::check_bundle;
    use bansos_verifier::commitment::Nik;
    use bansos_verifier::policy::TrustPolicy;
    let v = load("citizen.json");
    let cases = arr(&v["cases"]);
    assert!(cases.len() >= 20);
    for case in cases {
        let name = s(&case["name"]);
        let policy = &v["policies"][s(&case["policy"])];
        let policy = TrustPolicy::parse(policy.to_string().as_bytes()).expect("policy");
        let receipt = Receipt::parse(s(&case["receipt"])).expect("receipt");
        let nik = Nik::parse(s(&case["nik"])).expect("nik");
        let verdict = check_bundle(
            &policy,
            &receipt,
            &nik,
            s(&case["bundle"]).as_bytes(),
            u(&case["now"]),
        );
        assert_eq!(
            serde_json::to_value(&verdict).expect("json"),
            case["expect"],
            "case {name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// governance.json

/// (kind, field, value) of a refused change as governance.json writes it.
fn refusal_json(e: &DecodeError) -> Value {
    let (kind, field, value) = refusal(e);
    serde_json::json!({ "kind": kind, "field": field, "value": value })
}

fn change_error(e: &bansos_verifier::governance::ChangeError) -> Value {
    use bansos_verifier::governance::ChangeError as E;
    match e {
        E::UnknownMember(m) => serde_json::json!({ "kind": "unknown_member", "member": m }),
        E::NotAValidator(m) => serde_json::json!({ "kind": "not_a_validator", "member": m }),
        E::NameTaken(n) => serde_json::json!({ "kind": "name_taken", "name": n }),
        E::KeyTaken(m) => serde_json::json!({ "kind": "key_taken", "member": m }),
        E::TooManyMembers => serde_json::json!({ "kind": "too_many_members" }),
        E::TooFewValidators(n) => {
            serde_json::json!({ "kind": "too_few_validators", "validators": n })
        }
        E::BlockingShare {
            member,
            power,
            total,
        } => {
            serde_json::json!({ "kind": "blocking_share", "member": member, "power": power, "total": total })
        }
        E::BadNewKeySignature => serde_json::json!({ "kind": "bad_new_key_signature" }),
        E::BadOldKeySignature(m) => {
            serde_json::json!({ "kind": "bad_old_key_signature", "member": m })
        }
        E::SameKey => serde_json::json!({ "kind": "same_key" }),
        E::UnknownWitness(n) => serde_json::json!({ "kind": "unknown_witness", "name": n }),
        E::TooManyWitnesses => serde_json::json!({ "kind": "too_many_witnesses" }),
        E::WitnessQuorumTooHigh { quorum, witnesses } => {
            serde_json::json!({ "kind": "witness_quorum_too_high", "quorum": quorum, "witnesses": witnesses })
        }
        E::RulesVersionNotHigher(v) => {
            serde_json::json!({ "kind": "rules_version_not_higher", "current": v })
        }
    }
}

fn history_error(e: &bansos_verifier::governance::HistoryError) -> Value {
    use bansos_verifier::governance::HistoryError as E;
    match e {
        E::Malformed(_) => serde_json::json!({ "kind": "malformed" }),
        E::OtherNetwork => serde_json::json!({ "kind": "other_network" }),
        E::Conflict { epoch } => serde_json::json!({ "kind": "conflict", "epoch": epoch }),
        E::OutOfOrder {
            index,
            got,
            expected,
        } => {
            serde_json::json!({ "kind": "out_of_order", "index": index, "got": got, "expected": expected })
        }
        E::Undecodable { epoch, what, .. } => {
            serde_json::json!({ "kind": "undecodable", "epoch": epoch, "what": what })
        }
        E::NotThisVote {
            epoch,
            index,
            previous,
        } => {
            serde_json::json!({ "kind": "not_this_vote", "epoch": epoch, "index": index, "previous": previous })
        }
        E::NotAVoter {
            epoch,
            index,
            signer,
        } => {
            serde_json::json!({ "kind": "not_a_voter", "epoch": epoch, "index": index, "signer": signer })
        }
        E::BadVoteSignature {
            epoch,
            index,
            signer,
        } => {
            serde_json::json!({ "kind": "bad_vote_signature", "epoch": epoch, "index": index, "signer": signer })
        }
        E::DuplicateVote { epoch, signer } => {
            serde_json::json!({ "kind": "duplicate_vote", "epoch": epoch, "signer": signer })
        }
        E::NotApproved {
            epoch,
            power,
            total,
        } => {
            serde_json::json!({ "kind": "not_approved", "epoch": epoch, "power": power, "total": total })
        }
        E::BadChange { epoch, why } => {
            serde_json::json!({ "kind": "bad_change", "epoch": epoch, "why": change_error(why) })
        }
        E::BadCheckpoint { epoch, why } => {
            serde_json::json!({ "kind": "bad_checkpoint", "epoch": epoch, "why": checkpoint_error(why) })
        }
        E::NotIncreasing {
            epoch,
            size,
            previous,
            previous_size,
        } => serde_json::json!({
            "kind": "not_increasing", "epoch": epoch, "size": size,
            "previous": previous, "previous_size": previous_size,
        }),
    }
}

fn roster_view(r: &bansos_verifier::governance::Roster) -> Value {
    serde_json::json!({
        "roster": r,
        "total_power": r.total_power(),
        "quorum_power": r.quorum_power(),
    })
}

/// The fields of a layout, concatenated.
fn layout_bytes(layout: &Value) -> Vec<u8> {
    arr(layout).iter().flat_map(|f| bytes(&f["hex"])).collect()
}

#[test]
fn governance_changes_and_votes_decode_encode_and_verify() {
    use bansos_verifier::governance::{Change, ROTATION_DOMAIN};
    let v = load("governance.json");
    let net = network(&v["network_id"]);
    assert_eq!(bytes(&v["rotation_domain_hex"]), ROTATION_DOMAIN);
    for m in arr(&v["new_members"]) {
        let seed: [u8; 32] = bytes(&m["test_private_key_seed"])
            .try_into()
            .expect("32 bytes");
        assert_eq!(
            SigningKey::from_bytes(&seed).verifying_key(),
            public_key(&m["public_key"])
        );
    }
    let mut tags = std::collections::BTreeSet::new();
    for c in arr(&v["changes"]) {
        let name = s(&c["name"]);
        let encoded = bytes(&c["hex"]);
        let change = Change::from_bytes(&encoded).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(change.to_bytes(), encoded, "{name}: encode(decode(b)) != b");
        let from_json: Change = serde_json::from_value(c["json"].clone()).expect("JSON view");
        assert_eq!(from_json, change, "{name}: JSON view and bytes disagree");
        assert_eq!(serde_json::to_value(&change).expect("json"), c["json"]);
        assert_eq!(u64::from(change.tag()), u(&c["tag"]), "{name}");
        assert_eq!(encoded[0], change.tag());
        assert_eq!(change.name(), s(&c["change"]));
        assert_eq!(layout_bytes(&c["layout"]), encoded, "{name}: layout");
        assert_eq!(sha256(&[&encoded]), hash(&c["hash"]).0, "{name}: hash");
        assert_eq!(change.hash(), hash(&c["hash"]));
        tags.insert(change.tag());
        if let bansos_verifier::governance::Change::RotateKey(r) = &change {
            let statement = bytes(&c["rotation"]["statement_hex"]);
            assert_eq!(
                statement,
                [
                    ROTATION_DOMAIN,
                    &net.0,
                    &r.member.0.to_be_bytes(),
                    &r.new_key
                ]
                .concat()
            );
            let new = VerifyingKey::from_bytes(&r.new_key).expect("key");
            let sig = ed25519_dalek::Signature::from_bytes(&r.new_key_signature);
            assert!(
                new.verify_strict(&statement, &sig).is_ok(),
                "{name}: new key"
            );
        }
    }
    assert_eq!(
        tags.into_iter().collect::<Vec<_>>(),
        (1..=8).collect::<Vec<u8>>()
    );

    let votes = arr(&v["votes"]);
    assert!(votes.len() >= 5);
    for e in votes {
        let name = s(&e["name"]);
        let encoded = bytes(&e["signed_tx_hex"]);
        let tx = SignedTx::decode(&encoded).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(tx.encode(), encoded, "{name}");
        let TxBody::Vote(vote) = &tx.body else {
            panic!("{name} is not a vote")
        };
        assert_eq!(vote.epoch, u(&e["epoch"]));
        assert_eq!(tx.body.tag(), 6);
        assert_eq!(u(&e["kind_tag"]), 6);
        assert_eq!(s(&e["kind"]), "vote");
        let from_json: SignedTx = serde_json::from_value(e["json"].clone()).expect("JSON view");
        assert_eq!(from_json, tx, "{name}: JSON view");
        assert_eq!(layout_bytes(&e["layout"]), encoded, "{name}: layout");
        let key = public_key(&e["signer_public_key"]);
        assert!(tx.verify(&net, &key), "{name}: signature");
        let message = bytes(&e["signing_message_hex"]);
        assert_eq!(
            message,
            [TX_SIGNING_DOMAIN, &net.0, &encoded[..encoded.len() - 64]].concat()
        );
        assert_eq!(sha256(&[&encoded]), hash(&e["tx_hash"]).0);
        let leaf_bytes = bytes(&e["leaf_hex"]);
        let leaf = Leaf::decode(&leaf_bytes).expect("leaf");
        assert_eq!(leaf.tx, tx);
        assert_eq!(leaf.encode(), leaf_bytes);
        assert_eq!(sha256(&[&[0], &leaf_bytes]), hash(&e["leaf_hash"]).0);
    }

    let refused = arr(&v["refused_changes"]);
    assert!(refused.len() >= 25);
    for case in refused {
        let err = refused_input(case);
        assert_eq!(
            refusal_json(&err),
            case["error"],
            "{}: {err}",
            s(&case["name"])
        );
    }
}

#[test]
fn governance_apply_accepts_and_refuses_as_stated() {
    use bansos_verifier::governance::{Change, Roster};
    let v = load("governance.json");
    let net = network(&v["network_id"]);
    let rosters = &v["apply"]["rosters"];
    // The genesis roster is the one the trust policy builds.
    let policy = bansos_verifier::policy::TrustPolicy::parse(v["policy"].to_string().as_bytes())
        .expect("policy");
    assert_eq!(
        serde_json::to_value(policy.history().current()).expect("json"),
        rosters["genesis"]["roster"]
    );
    let cases = arr(&v["apply"]["cases"]);
    let (mut accepted, mut refused) = (0, std::collections::BTreeSet::new());
    for case in cases {
        let name = s(&case["name"]);
        let roster: Roster = serde_json::from_value(rosters[s(&case["roster"])]["roster"].clone())
            .unwrap_or_else(|e| panic!("{name}: roster: {e}"));
        let change = Change::from_bytes(&bytes(&case["change_hex"])).expect("change decodes");
        let want = &case["expect"];
        match roster.apply(&net, &change) {
            Ok(next) => {
                assert_eq!(want["ok"], true, "{name}: accepted");
                assert_eq!(roster_view(&next), want["roster"], "{name}");
                assert_eq!(next.epoch, roster.epoch + 1);
                accepted += 1;
            }
            Err(e) => {
                assert_eq!(want["ok"], false, "{name}: refused with {e}");
                assert_eq!(change_error(&e), want["error"], "{name}");
                assert_eq!(e.to_string(), s(&want["reason"]), "{name}");
                refused.insert(s(&want["error"]["kind"]).to_string());
            }
        }
    }
    assert!(accepted >= 8);
    assert_eq!(refused.len(), 14, "every ChangeError kind: {refused:?}");
}

#[test]
fn governance_key_histories_follow_or_refuse_and_checkpoints_verify_by_epoch() {
    use bansos_verifier::policy::TrustPolicy;
    let v = load("governance.json");
    let genesis = TrustPolicy::parse(v["policy"].to_string().as_bytes()).expect("policy");
    let follow = |doc: &Value| {
        let mut p = genesis.clone();
        let r = p.follow(doc.to_string().as_bytes());
        (r, p)
    };
    let valid = arr(&v["histories"]["valid"]);
    assert!(valid.len() >= 2);
    let mut checkpoints = 0;
    for chain in valid {
        let name = s(&chain["name"]);
        let (r, p) = follow(&chain["document"]);
        r.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = &chain["expect"];
        assert_eq!(want["ok"], true);
        assert_eq!(p.history().current().epoch, u(&want["epoch"]), "{name}");
        let rosters: Vec<Value> = p.history().rosters().iter().map(roster_view).collect();
        assert_eq!(Value::from(rosters), want["rosters"], "{name}");
        // Following the same document again changes nothing.
        let mut again = p.clone();
        again
            .follow(chain["document"].to_string().as_bytes())
            .expect("again");
        assert_eq!(again.history().rosters(), p.history().rosters());
        for cp in arr(&chain["checkpoints"]) {
            let cname = format!("{name}/{}", s(&cp["name"]));
            let note = s(&cp["note"]).as_bytes();
            let want = &cp["expect"];
            let size = u(&cp["size"]);
            assert_eq!(
                p.history().roster_for(size).epoch,
                u(&want["epoch"]),
                "{cname}"
            );
            let got = match p.verify_checkpoint(note) {
                Ok(ok) => serde_json::json!({
                    "epoch": p.history().roster_for(ok.checkpoint.size.0).epoch,
                    "ok": true,
                    "signers": ok.verified.signers,
                    "cosigned_at": ok.verified.cosigned_at.iter().map(|(n, t)| serde_json::json!({"name": n, "time": t})).collect::<Vec<_>>(),
                }),
                Err(e) => {
                    serde_json::json!({ "epoch": u(&want["epoch"]), "ok": false, "error": checkpoint_error(&e) })
                }
            };
            assert_eq!(&got, want, "{cname}");
            checkpoints += 1;
        }
    }
    assert!(checkpoints >= 15);
    let invalid = arr(&v["histories"]["invalid"]);
    let mut kinds = std::collections::BTreeSet::new();
    for case in invalid {
        let name = s(&case["name"]);
        let (r, p) = follow(&case["document"]);
        let e = r.expect_err(name);
        let want = &case["expect"];
        assert_eq!(want["ok"], false);
        assert_eq!(history_error(&e), want["error"], "{name}: {e}");
        assert_eq!(e.to_string(), s(&want["reason"]), "{name}");
        assert_eq!(
            p.history().current().epoch,
            0,
            "{name}: a refused history changes nothing"
        );
        kinds.insert(s(&want["error"]["kind"]).to_string());
    }
    assert_eq!(kinds.len(), 12, "every HistoryError kind: {kinds:?}");
    // One verifier following documents in turn: it goes on, keeps what it knows, refuses a
    // conflict.
    let sequences = arr(&v["histories"]["sequences"]);
    let mut conflicts = 0;
    for case in sequences {
        let name = s(&case["name"]);
        let mut p = genesis.clone();
        for (doc, want) in arr(&case["documents"]).iter().zip(arr(&case["expect"])) {
            let r = p.follow(doc.to_string().as_bytes());
            assert_eq!(p.history().current().epoch, u(&want["epoch"]), "{name}");
            match r {
                Ok(()) => assert_eq!(want["ok"], true, "{name}"),
                Err(e) => {
                    assert_eq!(history_error(&e), want["error"], "{name}: {e}");
                    assert_eq!(e.to_string(), s(&want["reason"]), "{name}");
                    conflicts += usize::from(want["error"]["kind"] == "conflict");
                }
            }
        }
    }
    assert!(conflicts >= 1, "a conflicting history is refused");
}

#[test]
fn governance_citizen_verdicts_follow_the_bundles_key_history() {
    use bansos_verifier::citizen::check_bundle;
    use bansos_verifier::commitment::Nik;
    use bansos_verifier::policy::TrustPolicy;
    let v = load("governance.json");
    let policy = TrustPolicy::parse(v["policy"].to_string().as_bytes()).expect("policy");
    // The genesis policy is citizen.json's: old bundles and new ones are checked alike.
    assert_eq!(
        v["policy"],
        load("citizen.json")["policies"]["validators_quorum_3"]
    );
    let cases = arr(&v["citizen"]["cases"]);
    assert!(cases.len() >= 6);
    let mut outcomes = std::collections::BTreeSet::new();
    for case in cases {
        let name = s(&case["name"]);
        let receipt = Receipt::parse(s(&case["receipt"])).expect("receipt");
        let nik = Nik::parse(s(&case["nik"])).expect("nik");
        let verdict = check_bundle(
            &policy,
            &receipt,
            &nik,
            s(&case["bundle"]).as_bytes(),
            u(&case["now"]),
        );
        let got = serde_json::to_value(&verdict).expect("json");
        assert_eq!(got, case["expect"], "case {name}");
        outcomes.insert(format!(
            "{}/{}",
            got["outcome"].as_str().unwrap_or(""),
            got["error"]["kind"].as_str().unwrap_or("")
        ));
    }
    assert!(outcomes.contains("claimed/"), "{outcomes:?}");
    assert!(
        outcomes.contains("invalid_checkpoint/key_history"),
        "{outcomes:?}"
    );
}
