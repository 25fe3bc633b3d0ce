//! Verifier benchmarks: an inclusion proof plus a 3-of-4 signed checkpoint, as a citizen's
//! verifier does it, and the canonical encoding of one entry. Results: docs/BENCHMARKS.md.

use std::hint::black_box;

use bansos_verifier::checkpoint::{Checkpoint, verify_checkpoint};
use bansos_verifier::commitment::{Nik, beneficiary_commitment, claim_lock, dedup_tag};
use bansos_verifier::entry::*;
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::merkle::{self, verify_inclusion};
use bansos_verifier::note::{KeyKind, NoteSignature, Policy, VerifierKey};
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;

fn leaf() -> Leaf {
    let nik = Nik::parse("3171014101900001").unwrap();
    let a = Allocation {
        id: AllocationId([7; 16]),
        program: ProgramCode::new("SEMBAKO").unwrap(),
        period: Period::new("2026-11").unwrap(),
        region: RegionCode::new(3171).unwrap(),
        amount: Rupiah(200_000),
        payer: MemberId(2),
        beneficiary_commitment: beneficiary_commitment(&[1; 32], &nik),
        dedup_tag: dedup_tag(&[2; 32], "SEMBAKO", "2026-11", &nik),
        claim_lock: claim_lock(&[3; 16]),
        expires_at: 1_800_000_000,
    };
    let tx = SignedTx::sign(
        &NetworkId([9; 32]),
        MemberId(0),
        TxBody::Allocation(a),
        &SigningKey::from_bytes(&[1; 32]),
    )
    .unwrap();
    Leaf {
        height: 1234,
        block_time: 1_790_000_000,
        tx,
    }
}

fn proof_and_checkpoint(c: &mut Criterion) {
    // A tree of 2^20 + 12345 leaves: a 21-hash proof, as for a log of ~10^6.
    let n: u64 = (1 << 20) + 12_345;
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let root = merkle::root(&leaves[..], TreeSize(n)).unwrap();
    let index = LeafIndex(777_777);
    let proof = merkle::inclusion_proof(&leaves[..], index, TreeSize(n))
        .unwrap()
        .unwrap();
    let keys: Vec<SigningKey> = (1..=4u8)
        .map(|i| SigningKey::from_bytes(&[i; 32]))
        .collect();
    let names = ["kemensos", "kemenkeu", "bri", "pos"];
    let cp = Checkpoint::new("ledger.bansos.example/bench", TreeSize(n), root);
    let body = cp.body();
    let note = cp.to_note(
        keys.iter()
            .zip(names)
            .map(|(k, name)| NoteSignature::sign(name, k, &body)),
    );
    let bytes = note.to_bytes();
    let policy = Policy::new(
        keys.iter()
            .zip(names)
            .map(|(k, name)| VerifierKey::new(name, KeyKind::Ed25519, k.verifying_key()))
            .collect(),
        3,
    )
    .unwrap();
    let leaf_h = leaves[index.0 as usize];
    c.bench_function("verify_inclusion_plus_3_of_4_checkpoint", |b| {
        b.iter(|| {
            let v = verify_checkpoint(
                black_box(&bytes),
                Some("ledger.bansos.example/bench"),
                &policy,
            )
            .unwrap();
            verify_inclusion(
                &leaf_h,
                index,
                v.checkpoint.size,
                black_box(&proof),
                &v.checkpoint.root,
            )
            .unwrap();
        })
    });
    c.bench_function("verify_inclusion_only", |b| {
        b.iter(|| verify_inclusion(&leaf_h, index, TreeSize(n), black_box(&proof), &root).unwrap())
    });
}

fn codec(c: &mut Criterion) {
    let leaf = leaf();
    let bytes = leaf.encode();
    c.bench_function("encode_allocation_leaf", |b| {
        b.iter(|| black_box(black_box(&leaf).encode()))
    });
    c.bench_function("decode_allocation_leaf", |b| {
        b.iter(|| black_box(Leaf::decode(black_box(&bytes)).unwrap()))
    });
    let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
    c.bench_function("decode_and_verify_signature", |b| {
        b.iter(|| {
            let l = Leaf::decode(black_box(&bytes)).unwrap();
            assert!(l.tx.verify(&NetworkId([9; 32]), &key));
        })
    });
    eprintln!("allocation leaf: {} bytes", bytes.len());
}

criterion_group!(benches, proof_and_checkpoint, codec);
criterion_main!(benches);
