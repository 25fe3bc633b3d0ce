//! Our C2SP code against the independent `signed_note` and `tlog_tiles` 0.2.0 crates (Cloudflare
//! azul), which we do not link into the product (see ARCHITECTURE.md, "Decisions"): notes signed by
//! either verify with the other and are byte-identical; tile paths agree once the Go-style
//! `tile/8/` prefix is mapped to C2SP; proofs made by `tlog_tiles` verify with ours.

use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::merkle::{self, verify_consistency, verify_inclusion};
use bansos_verifier::note::{KeyKind, Note, NoteSignature, Policy, VerifierKey};
use bansos_verifier::tile::TileRef;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use signed_note::Verifiers as _;

fn their_skey(name: &str, seed: [u8; 32], ours: &VerifierKey) -> String {
    let mut raw = vec![0x01];
    raw.extend_from_slice(&seed);
    format!(
        "PRIVATE+KEY+{name}+{:08x}+{}",
        ours.key_id(),
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[test]
fn notes_interoperate_with_signed_note() {
    let names = ["kemensos", "bri", "pos"];
    let seeds: Vec<[u8; 32]> = (1..=3u8).map(|i| [i; 32]).collect();
    let ours: Vec<VerifierKey> = names
        .iter()
        .zip(&seeds)
        .map(|(n, s)| {
            VerifierKey::new(
                n,
                KeyKind::Ed25519,
                SigningKey::from_bytes(s).verifying_key(),
            )
        })
        .collect();
    let text = Checkpoint::new(
        "ledger.bansos.example/interop",
        TreeSize(12345),
        Hash::digest(b"root"),
    )
    .body();

    // Signed by us, verified by signed_note.
    let mut note = Note::new(&text).unwrap();
    for ((n, s), _) in names.iter().zip(&seeds).zip(&ours) {
        note.add_signature(NoteSignature::sign(n, &SigningKey::from_bytes(s), &text));
    }
    let ours_bytes = note.to_bytes();
    let verifiers = signed_note::VerifierList::new(
        ours.iter()
            .map(|k| {
                Box::new(signed_note::StandardVerifier::new(&k.to_string()).unwrap())
                    as Box<dyn signed_note::Verifier>
            })
            .collect(),
    );
    let parsed = signed_note::Note::from_bytes(&ours_bytes).unwrap();
    let (verified, unverified) = parsed.verify(&verifiers).unwrap();
    assert_eq!((verified.len(), unverified.len()), (3, 0));

    // Signed by signed_note, verified by us; Ed25519 is deterministic, so the bytes are equal.
    let signers: Vec<signed_note::StandardSigner> = names
        .iter()
        .zip(&seeds)
        .zip(&ours)
        .map(|((n, s), k)| signed_note::StandardSigner::new(&their_skey(n, *s, k)).unwrap())
        .collect();
    let mut theirs = signed_note::Note::new(text.as_bytes(), &[]).unwrap();
    let refs: Vec<&dyn signed_note::Signer> = signers
        .iter()
        .map(|s| s as &dyn signed_note::Signer)
        .collect();
    theirs.add_sigs(&refs).unwrap();
    let theirs_bytes = theirs.to_bytes();
    assert_eq!(theirs_bytes, ours_bytes);
    let policy = Policy::new(ours.clone(), 3).unwrap();
    assert_eq!(
        policy
            .verify(&Note::parse(&theirs_bytes).unwrap())
            .unwrap()
            .signers,
        names
    );

    // Both reject the same tampered note.
    let tampered = String::from_utf8(ours_bytes)
        .unwrap()
        .replace("12345", "12346")
        .into_bytes();
    assert!(
        signed_note::Note::from_bytes(&tampered)
            .unwrap()
            .verify(&verifiers)
            .is_err()
    );
    assert!(policy.verify(&Note::parse(&tampered).unwrap()).is_err());
    // Key IDs agree.
    for k in &ours {
        let mut raw = vec![0x01];
        raw.extend_from_slice(k.public_key().as_bytes());
        assert_eq!(signed_note::key_id(k.name(), &raw), k.key_id());
        assert!(verifiers.verifier(k.name(), k.key_id()).is_ok());
    }
}

#[test]
fn tile_paths_agree_with_tlog_tiles() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..5000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let level = (x % 6) as u8;
        let index = (x >> 8) % 10_000_000_000;
        let width = 1 + (x >> 40) % 256;
        let theirs = tlog_tiles::Tile::new(8, level, index, width as u32, false).path();
        let ours = TileRef::hash(level, index, width as u16).path();
        assert_eq!(theirs.replacen("tile/8/", "tile/", 1), ours);
        let theirs = tlog_tiles::Tile::new(8, 0, index, width as u32, true).path();
        let ours = TileRef::entries(index, width as u16).path();
        assert_eq!(theirs.replacen("tile/8/data/", "tile/entries/", 1), ours);
    }
}

struct Stored(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for Stored {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
    }
}

#[test]
fn proofs_from_tlog_tiles_verify_with_ours() {
    let n = 3000u64;
    let mut stored = Stored(Vec::new());
    let mut leaves = Vec::new();
    for i in 0..n {
        let data = format!("record {i}");
        let hashes = tlog_tiles::stored_hashes(i, data.as_bytes(), &stored).unwrap();
        stored.0.extend(hashes);
        leaves.push(leaf_hash(data.as_bytes()));
    }
    for t in [1u64, 2, 3, 255, 256, 257, 1000, 2999, 3000] {
        let root = merkle::root(&leaves[..], TreeSize(t)).unwrap();
        assert_eq!(
            tlog_tiles::tree_hash(t, &stored).unwrap().0,
            root.0,
            "root at {t}"
        );
        for i in [0, t / 2, t - 1] {
            let proof: Vec<Hash> = tlog_tiles::prove_record(t, i, &stored)
                .unwrap()
                .iter()
                .map(|h| Hash(h.0))
                .collect();
            verify_inclusion(
                &leaves[i as usize],
                LeafIndex(i),
                TreeSize(t),
                &proof,
                &root,
            )
            .unwrap();
            assert_eq!(
                proof,
                merkle::inclusion_proof(&leaves[..], LeafIndex(i), TreeSize(t))
                    .unwrap()
                    .unwrap()
            );
        }
        for m in [1, t / 3, t - 1].into_iter().filter(|&m| m >= 1 && m < t) {
            let proof: Vec<Hash> = tlog_tiles::prove_tree(t, m, &stored)
                .unwrap()
                .iter()
                .map(|h| Hash(h.0))
                .collect();
            let old = merkle::root(&leaves[..], TreeSize(m)).unwrap();
            verify_consistency(TreeSize(m), TreeSize(t), &old, &root, &proof).unwrap();
            assert_eq!(
                proof,
                merkle::consistency_proof(&leaves[..], TreeSize(m), TreeSize(t))
                    .unwrap()
                    .unwrap()
            );
        }
    }
}
