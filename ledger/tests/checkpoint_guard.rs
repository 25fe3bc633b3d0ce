//! A validator never signs two inconsistent checkpoints: the last one it signed is recorded in
//! its store, and in a mark kept outside the store, before the signature leaves, and a store
//! whose log does not extend either is refused.

use bansos_genesis::{ConsensusTimeouts, Genesis, Member, Network, Role};
use bansos_ledger::rules::Block;
use bansos_ledger::store::{LedgerStore, StateDelta, StateRead};
use bansos_ledger::{Ledger, LedgerError, MemoryStore, SigningMark};
use bansos_verifier::entry::*;
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::note::{KeyKind, Policy, SignerKey, VerifierKey};
use ed25519_dalek::SigningKey;
use std::sync::{Arc, Mutex};

fn network() -> Network {
    let g = Genesis {
        format: 1,
        network_name: "guard".into(),
        origin: "ledger.bansos.example/guard".into(),
        // Four validators (a genesis needs them); only kemensos signs here.
        members: [
            ("kemensos", Role::Ministry),
            ("bpk", Role::Auditor),
            ("ojk", Role::Auditor),
            ("bi", Role::Auditor),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (name, role))| Member {
            id: MemberId(i as u16),
            name: name.into(),
            display_name: name.into(),
            role,
            public_key: SigningKey::from_bytes(&[i as u8 + 1; 32])
                .verifying_key()
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            p2p_address: format!("/ip4/127.0.0.1/tcp/{}", i + 1),
            voting_power: 1,
        })
        .collect(),
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
    Network::from_bytes(&bansos_genesis::Network::to_file_bytes(&g)).unwrap()
}

/// A ledger with `n` program registrations, codes derived from `tag` so two tags differ.
fn ledger_with(n: usize, tag: &str) -> Ledger<MemoryStore> {
    let net = network();
    let mut ledger = Ledger::open(net.clone(), MemoryStore::new()).unwrap();
    let key = SigningKey::from_bytes(&[1; 32]);
    for i in 0..n {
        let body = TxBody::ProgramRegistered(ProgramRegistered {
            code: ProgramCode::new(&format!("{tag}{i}")).unwrap(),
            name: "Program".into(),
            period_kind: PeriodKind::Monthly,
            amount: AmountRule::Flat(Rupiah(1)),
        });
        let tx = SignedTx::sign(&net.id, MemberId(0), body, &key).unwrap();
        let applied = ledger
            .apply(&Block {
                height: i as u64 + 1,
                time: 1_800_000_000,
                txs: vec![tx],
            })
            .unwrap();
        assert!(applied.outcome.rejected.is_empty());
    }
    ledger
}

fn signer() -> SignerKey {
    SignerKey::new("kemensos", SigningKey::from_bytes(&[1; 32]))
}

#[test]
fn signatures_verify_and_extend_what_was_signed() {
    let mut ledger = ledger_with(5, "A");
    let sig = ledger.sign_checkpoint(&signer()).unwrap();
    assert_eq!(
        ledger.store().signed_checkpoint().unwrap(),
        Some((ledger.size(), ledger.root()))
    );
    let note = ledger.checkpoint().to_note([sig]);
    let policy = Policy::all(vec![VerifierKey::new(
        "kemensos",
        KeyKind::Ed25519,
        SigningKey::from_bytes(&[1; 32]).verifying_key(),
    )])
    .unwrap();
    policy.verify(&note).unwrap();
    // Signing the same checkpoint again, or a later one of the same log, is fine.
    ledger.sign_checkpoint(&signer()).unwrap();
}

#[test]
fn a_rolled_back_or_replaced_store_is_refused() {
    let mut signed = ledger_with(8, "A");
    signed.sign_checkpoint(&signer()).unwrap();
    let record = signed.store().signed_checkpoint().unwrap();

    // The same validator's store restored from an older backup (fewer entries).
    let mut older = ledger_with(5, "A");
    let size = older.size();
    older
        .store_mut_for_tests()
        .commit(
            &bansos_ledger::log::LogBatch {
                new_size: size,
                ..Default::default()
            },
            &StateDelta {
                signed_checkpoint: record,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(matches!(
        older.sign_checkpoint(&signer()),
        Err(LedgerError::WouldSignInconsistent {
            signed_size: 8,
            size: 5
        })
    ));

    // A store with another history of the same length or longer.
    let mut forked = ledger_with(9, "B");
    let size = forked.size();
    forked
        .store_mut_for_tests()
        .commit(
            &bansos_ledger::log::LogBatch {
                new_size: size,
                ..Default::default()
            },
            &StateDelta {
                signed_checkpoint: record,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(matches!(
        forked.sign_checkpoint(&signer()),
        Err(LedgerError::WouldSignInconsistent {
            signed_size: 8,
            size: 9
        })
    ));
}

/// A mark shared by every ledger made with it: one validator's file beside its key.
#[derive(Clone, Default)]
struct SharedMark(Arc<Mutex<Option<(TreeSize, Hash)>>>);

impl SigningMark for SharedMark {
    fn last(&self) -> std::io::Result<Option<(TreeSize, Hash)>> {
        Ok(*self.0.lock().unwrap())
    }
    fn record(&mut self, size: TreeSize, root: Hash) -> std::io::Result<()> {
        *self.0.lock().unwrap() = Some((size, root));
        Ok(())
    }
}

#[test]
fn a_store_restored_whole_with_its_own_record_is_refused_by_the_mark_outside_it() {
    let mark = SharedMark::default();
    let mut signed = ledger_with(8, "A").with_signing_mark(Box::new(mark.clone()));
    signed.sign_checkpoint(&signer()).unwrap();
    assert_eq!(
        *mark.0.lock().unwrap(),
        Some((signed.size(), signed.root()))
    );

    // The whole store file restored from a backup taken at 5 entries: its own record of the
    // last signature went back with it (it says nothing was signed), so only the mark
    // remembers size 8.
    let mut restored = ledger_with(5, "A").with_signing_mark(Box::new(mark.clone()));
    assert_eq!(restored.store().signed_checkpoint().unwrap(), None);
    assert!(matches!(
        restored.sign_checkpoint(&signer()),
        Err(LedgerError::WouldSignInconsistent {
            signed_size: 8,
            size: 5
        })
    ));
    // A longer other history is refused too; the same history grown past 8 is signed.
    let mut forked = ledger_with(9, "B").with_signing_mark(Box::new(mark.clone()));
    assert!(forked.sign_checkpoint(&signer()).is_err());
    let mut grown = ledger_with(10, "A").with_signing_mark(Box::new(mark.clone()));
    grown.sign_checkpoint(&signer()).unwrap();
    assert_eq!(mark.0.lock().unwrap().unwrap().0, TreeSize(10));
}
