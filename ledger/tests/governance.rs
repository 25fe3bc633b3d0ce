//! Governance on the log: votes tallied by the rules, changes taking effect at the next height,
//! and every refusal the issue lists (a vote by a non-validator, a duplicate vote, a change that
//! leaves too few validators, a rotation signed by the wrong key, a removed or rotated-out key).

use bansos_genesis::{ConsensusTimeouts, Genesis, Member, Network, Role};
use bansos_ledger::rules::{Block, Rejection};
use bansos_ledger::store::StateRead;
use bansos_ledger::{Ledger, MemoryStore};
use bansos_verifier::entry::*;
use bansos_verifier::governance::{Change, KeyRotation, NewMember, Vote};
use bansos_verifier::hash::Hash;
use ed25519_dalek::SigningKey;

const KEMENSOS: MemberId = MemberId(0);
const BRI: MemberId = MemberId(2);
const POS: MemberId = MemberId(3);
const BPK: MemberId = MemberId(4);

fn key(m: MemberId) -> SigningKey {
    SigningKey::from_bytes(&[m.0 as u8 + 1; 32])
}

/// Four validators (two ministries, two banks) and an auditor without voting power.
fn network() -> Network {
    let members = [
        ("kemensos", Role::Ministry, 1),
        ("kemenkeu", Role::Ministry, 1),
        ("bri", Role::Bank, 1),
        ("pos", Role::Bank, 1),
        ("bpk", Role::Auditor, 0),
    ];
    let genesis = Genesis {
        format: 1,
        network_name: "governance test".into(),
        origin: "ledger.bansos.example/governance-test".into(),
        members: members
            .iter()
            .enumerate()
            .map(|(i, (name, role, power))| Member {
                id: MemberId(i as u16),
                name: name.to_string(),
                display_name: name.to_uppercase(),
                role: *role,
                public_key: data_encoding::HEXLOWER
                    .encode(key(MemberId(i as u16)).verifying_key().as_bytes()),
                p2p_address: format!("/ip4/127.0.0.1/tcp/{}", 27000 + i),
                voting_power: *power,
            })
            .collect(),
        programs: Vec::new(),
        witnesses: Vec::new(),
        witness_quorum: 0,
        consensus: ConsensusTimeouts {
            propose_ms: 1000,
            prevote_ms: 500,
            precommit_ms: 500,
            block_time_drift_ms: 5000,
        },
    };
    Network::from_bytes(&Network::to_file_bytes(&genesis)).unwrap()
}

struct World {
    ledger: Ledger<MemoryStore>,
    height: u64,
}

impl World {
    fn new() -> World {
        World {
            ledger: Ledger::open(network(), MemoryStore::new()).unwrap(),
            height: 0,
        }
    }
    fn id(&self) -> NetworkId {
        self.ledger.network().id
    }
    fn epoch(&self) -> u64 {
        self.ledger
            .store()
            .governance()
            .unwrap()
            .map_or(0, |g| g.roster.epoch)
    }
    fn vote_by(
        &self,
        signer: MemberId,
        with: &SigningKey,
        epoch: u64,
        change: &Change,
    ) -> SignedTx {
        let body = TxBody::Vote(Vote {
            epoch,
            change: change.clone(),
        });
        SignedTx::sign(&self.id(), signer, body, with).unwrap()
    }
    fn vote(&self, signer: MemberId, change: &Change) -> SignedTx {
        self.vote_by(signer, &key(signer), self.epoch(), change)
    }
    fn try_block(&mut self, txs: Vec<SignedTx>) -> Result<Vec<Option<Rejection>>, String> {
        let block = Block {
            height: self.height + 1,
            time: 1_790_000_000 + self.height,
            txs: txs.clone(),
        };
        let applied = self.ledger.apply(&block).map_err(|e| e.to_string())?;
        self.height += 1;
        Ok(txs
            .iter()
            .map(|tx| {
                let h = tx.hash();
                applied
                    .outcome
                    .rejected
                    .iter()
                    .find(|(rh, _)| *rh == h)
                    .filter(|_| !applied.outcome.accepted.iter().any(|a| a.hash == h))
                    .map(|(_, r)| r.clone())
            })
            .collect())
    }
    fn block(&mut self, txs: Vec<SignedTx>) -> Vec<Option<Rejection>> {
        self.try_block(txs).unwrap()
    }
    fn one(&mut self, tx: SignedTx) -> Option<Rejection> {
        self.block(vec![tx]).pop().unwrap()
    }
}

fn new_member(i: u8, name: &str) -> Change {
    Change::AddMember(NewMember {
        name: name.into(),
        display_name: name.to_uppercase(),
        role: Role::Bank,
        public_key: SigningKey::from_bytes(&[i; 32]).verifying_key().to_bytes(),
        p2p_address: "/ip4/127.0.0.1/tcp/27010".into(),
        voting_power: 1,
    })
}

fn program(code: &str) -> TxBody {
    TxBody::ProgramRegistered(ProgramRegistered {
        code: ProgramCode::new(code).unwrap(),
        name: format!("Program {code}"),
        period_kind: PeriodKind::Monthly,
        amount: AmountRule::Flat(Rupiah(100_000)),
    })
}

#[test]
fn a_change_takes_effect_at_the_next_height_once_more_than_two_thirds_voted() {
    let mut w = World::new();
    let ojk = new_member(50, "ojk");
    assert_eq!(w.one(w.vote(KEMENSOS, &ojk)), None);
    assert_eq!(w.one(w.vote(BRI, &ojk)), None);
    assert_eq!(w.epoch(), 0, "2 of 4 is not more than two thirds");
    let g = w.ledger.store().governance().unwrap().unwrap();
    assert_eq!(g.pending.len(), 1);
    let size_before = w.ledger.size().0;
    assert_eq!(w.block(vec![w.vote(POS, &ojk)]), [None]);
    let g = w.ledger.store().governance().unwrap().unwrap();
    assert_eq!(g.roster.epoch, 1);
    assert!(g.pending.is_empty());
    let joined = g.roster.member(MemberId(5)).unwrap();
    assert_eq!((joined.name.as_str(), joined.power), ("ojk", 1));
    assert_eq!(g.roster.validators().count(), 5);
    let approved = &g.approved[0];
    assert_eq!(
        (approved.epoch, approved.height, approved.votes.len()),
        (1, w.height, 3)
    );
    assert_eq!(
        approved.start_size,
        size_before + 1,
        "the log size after the approving block"
    );
    // A late vote for the approved change names the old epoch.
    assert_eq!(
        w.one(w.vote_by(BRI, &key(BRI), 0, &new_member(51, "bsi"))),
        Some(Rejection::WrongEpoch {
            voted: 0,
            current: 1
        })
    );
    // The new member signs with its own key from the next height on.
    let ojk_key = SigningKey::from_bytes(&[50; 32]);
    let by_ojk = SignedTx::sign(
        &w.id(),
        MemberId(5),
        new_member(52, "bjb_vote").clone_vote(1),
        &ojk_key,
    )
    .unwrap();
    assert_eq!(w.one(by_ojk), None);
}

trait CloneVote {
    fn clone_vote(self, epoch: u64) -> TxBody;
}

impl CloneVote for Change {
    fn clone_vote(self, epoch: u64) -> TxBody {
        TxBody::Vote(Vote {
            epoch,
            change: self,
        })
    }
}

#[test]
fn bad_votes_and_bad_changes_are_refused_with_a_reason() {
    let mut w = World::new();
    let ojk = new_member(50, "ojk");
    assert_eq!(w.one(w.vote(BPK, &ojk)), Some(Rejection::NotAVoter(4)));
    assert_eq!(w.one(w.vote(KEMENSOS, &ojk)), None);
    // The same vote again is the same transaction (Ed25519 signatures are deterministic).
    assert!(matches!(
        w.one(w.vote(KEMENSOS, &ojk)),
        Some(Rejection::Duplicate(_))
    ));
    let leave = Change::RemoveMember { member: POS };
    assert!(
        matches!(w.one(w.vote(BRI, &leave)), Some(Rejection::BadChange(why)) if why.contains("3 validators"))
    );
    let heavy = Change::SetVotingPower {
        member: BRI,
        power: 2,
    };
    assert!(
        matches!(w.one(w.vote(BRI, &heavy)), Some(Rejection::BadChange(why)) if why.contains("stop every block"))
    );
    let forged = w.vote_by(BRI, &key(POS), 0, &ojk);
    assert_eq!(w.one(forged), Some(Rejection::BadSignature));
    let wrong_old = Change::RotateKey(KeyRotation::sign(
        &w.id(),
        BRI,
        &SigningKey::from_bytes(&[60; 32]),
        Some(&key(POS)),
    ));
    assert!(
        matches!(w.one(w.vote(KEMENSOS, &wrong_old)), Some(Rejection::BadChange(why)) if why.contains("old-key signature"))
    );
    let soon = Change::ScheduleUpgrade {
        height: w.height + 1,
        rules_version: 2,
    };
    assert!(matches!(
        w.one(w.vote(KEMENSOS, &soon)),
        Some(Rejection::UpgradeTooSoon { .. })
    ));
    assert_eq!(w.epoch(), 0, "nothing was applied");
}

#[test]
fn rotated_out_and_removed_keys_sign_nothing_from_the_next_height() {
    let mut w = World::new();
    let new_bri = SigningKey::from_bytes(&[60; 32]);
    let rotate = Change::RotateKey(KeyRotation::sign(&w.id(), BRI, &new_bri, Some(&key(BRI))));
    // The approving vote and a transaction by the old key in the same block: the block is
    // still signed by the old roster.
    w.block(vec![w.vote(KEMENSOS, &rotate), w.vote(BRI, &rotate)]);
    let by_old_key = SignedTx::sign(&w.id(), KEMENSOS, program("PKH"), &key(KEMENSOS)).unwrap();
    assert_eq!(
        w.block(vec![w.vote(POS, &rotate), by_old_key]),
        [None, None]
    );
    assert_eq!(w.epoch(), 1);
    let old = w.vote_by(BRI, &key(BRI), 1, &new_member(50, "ojk"));
    assert_eq!(w.one(old), Some(Rejection::BadSignature));
    let new = w.vote_by(BRI, &new_bri, 1, &new_member(50, "ojk"));
    assert_eq!(w.one(new), None);

    // Remove kemenkeu after adding ojk (5 validators -> 4).
    let ojk = new_member(50, "ojk");
    w.block(vec![w.vote(KEMENSOS, &ojk), w.vote(POS, &ojk)]);
    assert_eq!(w.epoch(), 2);
    let leave = Change::RemoveMember {
        member: MemberId(1),
    };
    let votes: Vec<SignedTx> = [KEMENSOS, POS, MemberId(1)]
        .iter()
        .map(|m| w.vote(*m, &leave))
        .collect();
    let mut votes = votes;
    votes.push(
        SignedTx::sign(
            &w.id(),
            BRI,
            TxBody::Vote(Vote {
                epoch: 2,
                change: leave.clone(),
            }),
            &new_bri,
        )
        .unwrap(),
    );
    let verdicts = w.block(votes);
    assert_eq!(
        verdicts.iter().filter(|v| v.is_none()).count(),
        4,
        "{verdicts:?}"
    );
    assert_eq!(w.epoch(), 3);
    let by_removed =
        SignedTx::sign(&w.id(), MemberId(1), program("BLT"), &key(MemberId(1))).unwrap();
    assert_eq!(w.one(by_removed), Some(Rejection::FormerMember(1)));
}

#[test]
fn a_vote_after_the_approving_one_in_the_same_block_waits_for_the_next_epoch() {
    // Try blocks until the in-block order puts the other vote after the approving one, and
    // once before it: after it, it is refused; before it, it is counted and then void, as the
    // approval starts a new epoch with no pending change.
    let (mut after, mut before) = (false, false);
    for i in 0..40u8 {
        let mut w = World::new();
        let ojk = new_member(50, "ojk");
        let other = new_member(100 + i, &format!("bank{i}"));
        w.block(vec![w.vote(KEMENSOS, &ojk), w.vote(BRI, &ojk)]);
        let approving = w.vote(POS, &ojk);
        let late = w.vote(KEMENSOS, &other);
        let block = Block {
            height: w.height + 1,
            time: 1_790_000_000 + w.height,
            txs: vec![approving.clone(), late.clone()],
        };
        let order: Vec<Hash> = bansos_ledger::rules::block_order(&block)
            .iter()
            .map(|(_, h)| *h)
            .collect();
        let verdicts = w.block(vec![approving, late.clone()]);
        assert_eq!(verdicts[0], None);
        let g = w.ledger.store().governance().unwrap().unwrap();
        assert_eq!((g.roster.epoch, g.pending.len()), (1, 0));
        if order[0] == late.hash() {
            before = true;
            assert_eq!(verdicts[1], None);
        } else {
            after = true;
            assert_eq!(verdicts[1], Some(Rejection::ChangeApprovedInBlock));
        }
        if after && before {
            return;
        }
    }
    panic!("40 blocks all ordered the two votes the same way");
}

#[test]
fn software_older_than_a_scheduled_upgrade_stops_at_its_height() {
    let mut w = World::new();
    let upgrade = Change::ScheduleUpgrade {
        height: 5,
        rules_version: 2,
    };
    w.block(vec![
        w.vote(KEMENSOS, &upgrade),
        w.vote(BRI, &upgrade),
        w.vote(POS, &upgrade),
    ]);
    assert_eq!(w.height, 1);
    w.block(vec![]);
    w.block(vec![]);
    w.block(vec![]);
    let stopped = w.try_block(vec![]).unwrap_err();
    assert!(stopped.contains("rules version 2 at height 5"), "{stopped}");
    assert_eq!(w.height, 4, "nothing applied at the upgrade height");
}
