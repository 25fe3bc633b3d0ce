//! A ledger on redb keeps everything committed across a restart, and its state can be rebuilt
//! from its log into a fresh file.

use bansos_genesis::{ConsensusTimeouts, Genesis, GenesisProgram, Member, Network, Role};
use bansos_ledger::Ledger;
use bansos_ledger::rules::Block;
use bansos_ledger::store::{AllocationStatus, StateRead};
use bansos_store::RedbStore;
use bansos_verifier::commitment::{Nik, beneficiary_commitment, claim_lock, dedup_tag};
use bansos_verifier::entry::*;
use ed25519_dalek::SigningKey;

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn network() -> Network {
    let member = |i: u16, name: &str, role| Member {
        id: MemberId(i),
        name: name.into(),
        display_name: name.into(),
        role,
        public_key: key(i as u8 + 1)
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
        network_name: "redb test".into(),
        origin: "ledger.bansos.example/redb-test".into(),
        members: vec![
            member(0, "kemensos", Role::Ministry),
            member(1, "bri", Role::Bank),
            // A genesis needs four validators.
            member(2, "bpk", Role::Auditor),
            member(3, "ojk", Role::Auditor),
        ],
        programs: vec![GenesisProgram {
            code: ProgramCode::new("BLT").unwrap(),
            name: "Bantuan Langsung Tunai".into(),
            issuer: MemberId(0),
            period_kind: PeriodKind::Monthly,
            amount: AmountRule::Flat(Rupiah(600_000)),
        }],
        witnesses: Vec::new(),
        witness_quorum: 0,
        consensus: ConsensusTimeouts {
            propose_ms: 1000,
            prevote_ms: 500,
            precommit_ms: 500,
            block_time_drift_ms: 5000,
        },
    };
    Network::from_bytes(&Network::to_file_bytes(&g)).unwrap()
}

#[test]
fn committed_blocks_survive_a_restart_and_replay_to_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.redb");
    let net = network();
    let t0 = 1_790_000_000;
    let mut ids = Vec::new();
    {
        let mut ledger = Ledger::open(net.clone(), RedbStore::open(&path).unwrap()).unwrap();
        for h in 1..=20u64 {
            let mut txs = Vec::new();
            for i in 0..50u64 {
                let n = h * 100 + i;
                let nik = Nik::parse(&format!("{:016}", 3171014101000000 + n)).unwrap();
                let secret = [(n % 251) as u8; 16];
                let a = Allocation {
                    id: AllocationId((n as u128).to_be_bytes()),
                    program: ProgramCode::new("BLT").unwrap(),
                    period: Period::new("2026-11").unwrap(),
                    region: RegionCode::new(3171).unwrap(),
                    amount: Rupiah(600_000),
                    payer: MemberId(1),
                    beneficiary_commitment: beneficiary_commitment(&[1; 32], &nik),
                    dedup_tag: dedup_tag(&[2; 32], "BLT", "2026-11", &nik),
                    claim_lock: claim_lock(&secret),
                    expires_at: t0 + 1_000_000,
                };
                ids.push(a.id);
                txs.push(
                    SignedTx::sign(&net.id, MemberId(0), TxBody::Allocation(a.clone()), &key(1))
                        .unwrap(),
                );
                if i % 2 == 0 {
                    let c = Claim {
                        allocation: a.id,
                        amount: Rupiah(600_000),
                        channel: Channel::Kks,
                        region: a.region,
                        outlet: [0; 16],
                        claim_secret: secret,
                        claimed_at: t0,
                    };
                    txs.push(
                        SignedTx::sign(&net.id, MemberId(1), TxBody::Claim(c), &key(2)).unwrap(),
                    );
                }
            }
            let applied = ledger
                .apply(&Block {
                    height: h,
                    time: t0 + h * 5,
                    txs,
                })
                .unwrap();
            assert!(
                applied.outcome.rejected.is_empty(),
                "{:?}",
                applied.outcome.rejected.first()
            );
        }
        assert_eq!(ledger.size().0, 20 * 75);
    }
    // Restart: everything is there.
    let ledger = Ledger::open(net.clone(), RedbStore::open(&path).unwrap()).unwrap();
    assert_eq!(ledger.size().0, 1500);
    assert_eq!(ledger.store().height().unwrap(), 20);
    let first = ledger.store().allocation(&ids[0]).unwrap().unwrap();
    assert_eq!(
        (first.status, first.claimed.0),
        (AllocationStatus::Open, 600_000)
    );
    let second = ledger.store().allocation(&ids[1]).unwrap().unwrap();
    assert_eq!(second.claimed.0, 0);
    // Rebuild from the log alone into a new file.
    let fresh = RedbStore::open(&dir.path().join("rebuilt.redb")).unwrap();
    let rebuilt = Ledger::rebuild(net, &ledger.store().snapshot().unwrap(), fresh).unwrap();
    assert_eq!(rebuilt.root(), ledger.root());
    for id in &ids {
        assert_eq!(
            rebuilt.store().allocation(id).unwrap(),
            ledger.store().allocation(id).unwrap()
        );
    }
}
