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

/// The citizen's whole check (`citizen::check`) of a claimed allocation in a log of
/// 2^20 + 12,345 entries: a 3-of-4 checkpoint, the allocation's and the claim's 21-hash
/// proofs, the NIK commitment, the verdict.
fn citizen_check(c: &mut Criterion) {
    use bansos_verifier::citizen::{Evidence, Outcome, Proven, check};
    use bansos_verifier::policy::{POLICY_FORMAT, PolicyFile, TrustPolicy};
    use bansos_verifier::receipt::{Receipt, network_tag};
    let network = NetworkId([9; 32]);
    let nik = Nik::parse("3171014101900001").unwrap();
    let allocation = leaf();
    let claim = Leaf {
        height: 1300,
        block_time: 1_790_100_000,
        tx: SignedTx::sign(
            &network,
            MemberId(2),
            TxBody::Claim(Claim {
                allocation: AllocationId([7; 16]),
                amount: Rupiah(200_000),
                channel: Channel::PosOutlet,
                region: RegionCode::new(3171).unwrap(),
                outlet: [4; 16],
                claim_secret: [3; 16],
                claimed_at: 1_790_099_000,
            }),
            &SigningKey::from_bytes(&[3; 32]),
        )
        .unwrap(),
    };
    let n: u64 = (1 << 20) + 12_345;
    let (ia, ic) = (777_777u64, 1_000_001u64);
    let mut leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    leaves[ia as usize] = leaf_hash(&allocation.encode());
    leaves[ic as usize] = leaf_hash(&claim.encode());
    let size = TreeSize(n);
    let root = merkle::root(&leaves[..], size).unwrap();
    let proven = |i: u64, leaf: &Leaf| Proven {
        index: LeafIndex(i),
        leaf: leaf.encode(),
        proof: merkle::inclusion_proof(&leaves[..], LeafIndex(i), size)
            .unwrap()
            .unwrap(),
    };
    let keys: Vec<SigningKey> = (1..=4u8)
        .map(|i| SigningKey::from_bytes(&[i; 32]))
        .collect();
    let names = ["kemensos", "kemenkeu", "bri", "pos"];
    let origin = "ledger.bansos.example/bench";
    let cp = Checkpoint::new(origin, size, root);
    let body = cp.body();
    let note = cp.to_note(
        keys.iter()
            .zip(names)
            .take(3)
            .map(|(k, name)| NoteSignature::sign(name, k, &body)),
    );
    let policy = TrustPolicy::new(PolicyFile {
        format: POLICY_FORMAT.into(),
        network_name: "bench".into(),
        network_id: network,
        origin: origin.into(),
        quorum: 3,
        verifier_keys: keys
            .iter()
            .zip(names)
            .map(|(k, name)| {
                VerifierKey::new(name, KeyKind::Ed25519, k.verifying_key()).to_string()
            })
            .collect(),
        witnesses: Vec::new(),
        witness_quorum: 0,
        members: Vec::new(),
        programs: Vec::new(),
    })
    .unwrap();
    let evidence = Evidence {
        key_history: None,
        checkpoint: note.to_bytes(),
        allocation: Some(proven(ia, &allocation)),
        events: vec![proven(ic, &claim)],
    };
    let receipt = Receipt {
        network_tag: network_tag(&network),
        leaf_index: LeafIndex(ia),
        allocation: AllocationId([7; 16]),
        salt: [1; 32],
        claim_secret: [3; 16],
    };
    assert_eq!(
        check(&policy, &receipt, &nik, &evidence, 0).outcome,
        Outcome::Claimed
    );
    c.bench_function("citizen_check_claimed_receipt", |b| {
        b.iter(|| check(&policy, &receipt, &nik, black_box(&evidence), 0))
    });
    let bundle = evidence.to_bundle();
    c.bench_function("citizen_check_bundle_parse_and_check", |b| {
        b.iter(|| {
            bansos_verifier::citizen::check_bundle(
                &policy,
                &receipt,
                &nik,
                black_box(bundle.as_bytes()),
                0,
            )
        })
    });
}

criterion_group!(benches, proof_and_checkpoint, codec, citizen_check);
criterion_main!(benches);
