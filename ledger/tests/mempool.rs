//! The mempool admits only transactions that pass the stateless checks, is idempotent, keeps
//! arrival order, and refuses with `Full` at its bounds instead of growing, and with `SignerFull`
//! when one signer holds its share.

use bansos_genesis::{ConsensusTimeouts, Genesis, Member, Network, Role};
use bansos_ledger::mempool::{Admission, Mempool};
use bansos_ledger::rules::Rejection;
use bansos_verifier::entry::*;
use ed25519_dalek::SigningKey;

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 1; 32])
}

fn network() -> Network {
    let member = |i: u16, name: &str, role| Member {
        id: MemberId(i),
        name: name.into(),
        display_name: name.into(),
        role,
        public_key: key(i as u8)
            .verifying_key()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        p2p_address: "/ip4/127.0.0.1/tcp/1".into(),
        voting_power: 1,
    };
    let g = Genesis {
        format: 1,
        network_name: "mempool".into(),
        origin: "ledger.bansos.example/mempool".into(),
        members: vec![
            member(0, "kemensos", Role::Ministry),
            member(1, "bri", Role::Bank),
            member(2, "kemenkeu", Role::Ministry),
            // A genesis needs four validators.
            member(3, "bpk", Role::Auditor),
        ],
        programs: vec![],
        witnesses: Vec::new(),
        witness_quorum: 0,
        consensus: ConsensusTimeouts {
            propose_ms: 1,
            prevote_ms: 1,
            precommit_ms: 1,
            block_time_drift_ms: 1,
        },
    };
    Network::from_bytes(&Network::to_file_bytes(&g)).unwrap()
}

fn program(net: &Network, i: usize, signer: u16) -> SignedTx {
    let body = TxBody::ProgramRegistered(ProgramRegistered {
        code: ProgramCode::new(&format!("P{i}")).unwrap(),
        name: "Program".into(),
        period_kind: PeriodKind::Monthly,
        amount: AmountRule::Flat(Rupiah(1)),
    });
    SignedTx::sign(&net.id, MemberId(signer), body, &key(signer as u8)).unwrap()
}

#[test]
fn admission_is_checked_idempotent_and_ordered() {
    let net = network();
    let mut pool = Mempool::new(net.clone(), 100, 1 << 20);
    let txs: Vec<SignedTx> = (0..10).map(|i| program(&net, i, 0)).collect();
    for tx in &txs {
        assert_eq!(pool.submit(tx.clone()), Admission::Added(tx.hash()));
    }
    assert_eq!(
        pool.submit(txs[3].clone()),
        Admission::AlreadyPending(txs[3].hash())
    );
    assert_eq!(pool.len(), 10);

    let by_bank = program(&net, 99, 1);
    assert_eq!(
        pool.submit(by_bank.clone()),
        Admission::Rejected(
            by_bank.hash(),
            Rejection::RoleNotAllowed {
                role: "bank",
                kind: "program_registered"
            }
        )
    );
    let mut forged = program(&net, 98, 0);
    forged.signature[0] ^= 1;
    assert_eq!(
        pool.submit(forged.clone()),
        Admission::Rejected(forged.hash(), Rejection::BadSignature)
    );
    assert_eq!(pool.len(), 10, "rejected transactions leave nothing behind");

    let batch = pool.peek_batch(4, usize::MAX);
    assert_eq!(batch, txs[..4]);
    let one_size = txs[0].encode().len();
    assert_eq!(
        pool.peek_batch(100, 2 * one_size + 1).len(),
        2,
        "the byte bound holds"
    );
    pool.remove(batch.iter().map(|t| t.hash()).collect::<Vec<_>>().iter());
    assert_eq!(pool.peek_batch(100, usize::MAX), txs[4..]);
    assert_eq!(pool.bytes(), 6 * one_size);
    assert!(!pool.contains(&txs[0].hash()));
}

#[test]
fn a_full_pool_refuses_instead_of_growing() {
    let net = network();
    let txs: Vec<SignedTx> = (0..5).map(|i| program(&net, i, 0)).collect();
    let mut by_count = Mempool::new(net.clone(), 3, usize::MAX);
    for tx in &txs[..3] {
        assert!(matches!(by_count.submit(tx.clone()), Admission::Added(_)));
    }
    assert_eq!(by_count.submit(txs[3].clone()), Admission::Full);
    by_count.remove([txs[0].hash()].iter());
    assert!(
        matches!(by_count.submit(txs[3].clone()), Admission::Added(_)),
        "room again after removal"
    );

    let size = txs[0].encode().len();
    let mut by_bytes = Mempool::new(net, usize::MAX, 2 * size);
    assert!(matches!(
        by_bytes.submit(txs[0].clone()),
        Admission::Added(_)
    ));
    assert!(matches!(
        by_bytes.submit(txs[1].clone()),
        Admission::Added(_)
    ));
    assert_eq!(by_bytes.submit(txs[2].clone()), Admission::Full);
    assert_eq!(by_bytes.len(), 2);
}

#[test]
fn one_signer_cannot_take_the_whole_pool() {
    let net = network();
    let mine: Vec<SignedTx> = (0..4).map(|i| program(&net, i, 0)).collect();
    let theirs = program(&net, 9, 2);
    let mut pool = Mempool::new(net.clone(), 4, usize::MAX).with_signer_limits(2, usize::MAX);
    for tx in &mine[..2] {
        assert!(matches!(pool.submit(tx.clone()), Admission::Added(_)));
    }
    assert!(pool.is_signer_full(mine[0].signer));
    assert_eq!(pool.submit(mine[2].clone()), Admission::SignerFull);
    assert!(!pool.is_full(), "the pool itself has room");
    assert!(
        matches!(pool.submit(theirs.clone()), Admission::Added(_)),
        "another member still gets in"
    );
    pool.remove([mine[0].hash()].iter());
    assert!(!pool.is_signer_full(mine[0].signer));
    assert!(matches!(pool.submit(mine[2].clone()), Admission::Added(_)));

    let size = mine[0].encode().len();
    let mut by_bytes =
        Mempool::new(net, usize::MAX, usize::MAX).with_signer_limits(usize::MAX, size);
    assert!(matches!(
        by_bytes.submit(mine[0].clone()),
        Admission::Added(_)
    ));
    assert_eq!(by_bytes.submit(mine[1].clone()), Admission::SignerFull);
}
