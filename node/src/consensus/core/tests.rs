//! Unit tests of the consensus core: every engine message, and the review defects of issue #12
//! (each test below named `defect_*` failed before its fix).

use std::time::Duration;

use bansos_genesis::ConsensusTimeouts;
use bansos_ledger::MemoryStore;
use bansos_ledger::store::{ConsensusStore, StateRead};
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::note::NoteSignature;
use bytes::Bytes;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, CommitSignature, Context as _, Round, SignedExtension, Validity, Value as _,
    VoteExtensions,
};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue};
use malachitebft_signing_ed25519::Signature;

use super::*;
use crate::consensus::testkit::TestNetwork;

const NOW: u64 = 1_800_000_000_000;

fn net() -> TestNetwork {
    TestNetwork::new(
        4,
        ConsensusTimeouts {
            propose_ms: 3000,
            prevote_ms: 1000,
            precommit_ms: 1000,
            block_time_drift_ms: 5000,
        },
    )
}

fn none(_: &Hash) -> bool {
    false
}

fn peer(i: u8) -> PeerId {
    PeerId::from_bytes(&[0, 4, 0xbe, 0xef, 0, i]).expect("an identity peer id")
}

fn replies(effects: &[Effect]) -> Vec<&Reply> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn parts(effects: &[Effect]) -> Vec<StreamMessage<ProposalPart>> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Publish(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// The proposer of (height, round).
/// The block the effects committed.
fn committed_block(effects: &[Effect]) -> Committed {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Committed(c) => Some(c.clone()),
            _ => None,
        })
        .expect("committed")
}

fn proposer(n: &TestNetwork, height: u64, round: u32) -> usize {
    let vs = ValidatorSet::from_network(&n.network);
    n.ctx
        .select_proposer(&vs, Height(height), Round::new(round))
        .address
        .0 as usize
}

/// Feeds `StartedRound` for (height, round) with the clock at `now`; the effects.
fn start_round(core: &mut Core<MemoryStore>, height: u64, round: u32, now: u64) -> Vec<Effect> {
    core.on(
        Input::StartedRound {
            height: Height(height),
            round: Round::new(round),
        },
        now,
        &none,
    )
    .unwrap()
}

/// Feeds `Decided` for (height, value) with these extensions; the effects.
fn decide(
    core: &mut Core<MemoryStore>,
    height: u64,
    value: &BlockHeader,
    extensions: VoteExtensions<BansosContext>,
) -> Vec<Effect> {
    core.on(
        Input::Decided {
            certificate: certificate(height, value),
            extensions,
        },
        NOW,
        &none,
    )
    .unwrap()
}

/// Validator `i` proposes `txs` at (height, round): its value and its parts.
fn propose(
    core: &mut Core<MemoryStore>,
    height: u64,
    round: u32,
    txs: Vec<Bytes>,
) -> (BlockHeader, Vec<StreamMessage<ProposalPart>>) {
    let effects = core
        .on(
            Input::GetValue {
                height: Height(height),
                round: Round::new(round),
                timeout: Duration::from_secs(3),
            },
            NOW,
            &none,
        )
        .unwrap();
    assert!(
        matches!(effects[..], [Effect::CollectTxs { .. }]),
        "a new proposal first collects transactions: {effects:?}"
    );
    let effects = core
        .on(
            Input::Txs {
                height: Height(height),
                round: Round::new(round),
                txs,
            },
            NOW,
            &none,
        )
        .unwrap();
    let value = match replies(&effects)[..] {
        [Reply::Value(v)] => v.value,
        ref r => panic!("expected the value, got {r:?}"),
    };
    (value, parts(&effects))
}

/// Delivers parts; the value they complete, if any.
fn deliver(
    core: &mut Core<MemoryStore>,
    from: PeerId,
    parts: &[StreamMessage<ProposalPart>],
) -> Option<ProposedValue<BansosContext>> {
    deliver_at(core, from, parts, NOW)
}

/// [`deliver`] with this validator's clock at `now`.
fn deliver_at(
    core: &mut Core<MemoryStore>,
    from: PeerId,
    parts: &[StreamMessage<ProposalPart>],
    now: u64,
) -> Option<ProposedValue<BansosContext>> {
    let mut value = None;
    for p in parts {
        let effects = core
            .on(
                Input::ReceivedProposalPart {
                    from,
                    part: p.clone(),
                },
                now,
                &none,
            )
            .unwrap();
        if let [Reply::Part(Some(v))] = replies(&effects)[..] {
            value = Some(v.clone());
        }
    }
    value
}

fn extension(core: &mut Core<MemoryStore>) -> Bytes {
    let effects = core.on(Input::ExtendVote, NOW, &none).unwrap();
    match replies(&effects)[..] {
        [Reply::Extension(e)] => e.clone(),
        ref r => panic!("expected an extension, got {r:?}"),
    }
}

fn extensions(list: Vec<(usize, Bytes)>) -> VoteExtensions<BansosContext> {
    VoteExtensions::new(
        list.into_iter()
            .map(|(i, e)| {
                (
                    Address(i as u16),
                    SignedExtension::<BansosContext>::new(e, Signature::from_bytes([0; 64])),
                )
            })
            .collect(),
    )
}

fn certificate(height: u64, value: &BlockHeader) -> CommitCertificate<BansosContext> {
    CommitCertificate {
        height: Height(height),
        round: Round::new(0),
        value_id: value.id(),
        commit_signatures: (0..4)
            .map(|i| CommitSignature::new(Address(i), Signature::from_bytes([0; 64])))
            .collect(),
    }
}

/// Four cores; the proposer of height 1 proposes `txs`, everyone receives it, and all commit
/// it with every validator's checkpoint vote.
fn four_at_height_2(n: &TestNetwork, txs: Vec<Bytes>) -> Vec<Core<MemoryStore>> {
    let mut cores: Vec<_> = (0..4).map(|i| n.core(i, MemoryStore::new())).collect();
    let p = proposer(n, 1, 0);
    let (value, ps) = propose(&mut cores[p], 1, 0, txs);
    for (i, c) in cores.iter_mut().enumerate() {
        if i != p {
            assert_eq!(
                deliver(c, peer(p as u8), &ps).map(|v| v.validity),
                Some(Validity::Valid)
            );
        }
    }
    let exts: Vec<_> = cores.iter_mut().map(extension).enumerate().collect();
    for c in &mut cores {
        let effects = decide(c, 1, &value, extensions(exts.clone()));
        assert!(matches!(replies(&effects)[..], [Reply::Committed]));
    }
    cores
}

#[test]
fn consensus_ready_starts_after_the_stored_height() {
    let n = net();
    let mut c = n.core(0, MemoryStore::new());
    let effects = c.on(Input::ConsensusReady, NOW, &none).unwrap();
    assert!(matches!(replies(&effects)[..], [Reply::Start(Height(1))]));
    let mut cores = four_at_height_2(&n, vec![]);
    let effects = cores[0].on(Input::ConsensusReady, NOW, &none).unwrap();
    assert!(matches!(replies(&effects)[..], [Reply::Start(Height(2))]));
}

#[test]
fn get_value_collects_transactions_then_proposes_a_stored_block() {
    let n = net();
    let mut c = n.core(0, MemoryStore::new());
    let effects = c
        .on(
            Input::GetValue {
                height: Height(1),
                round: Round::new(0),
                timeout: Duration::from_secs(3),
            },
            NOW,
            &none,
        )
        .unwrap();
    match effects[..] {
        [
            Effect::CollectTxs {
                earliest_ms,
                deadline_ms,
                ..
            },
        ] => {
            assert!(earliest_ms <= NOW, "no decision yet: no minimum interval");
            assert_eq!(
                deadline_ms,
                NOW + 1000,
                "idle wait: 1 s, under half the timeout"
            );
        }
        ref e => panic!("{e:?}"),
    }
    let (value, ps) = propose(&mut c, 1, 0, vec![n.tx(1), n.tx(2)]);
    assert_eq!(value.tx_count, 2);
    assert_eq!(value.time, NOW / 1000);
    // Init, one Data part, Fin, end of stream.
    assert_eq!(ps.len(), 4);
    assert!(matches!(
        ps[0].content,
        StreamContent::Data(ProposalPart::Init { .. })
    ));
    assert!(ps[3].content.is_fin());
    // Stored before it was answered, with the record that it is this validator's.
    let store = c.ledger().store();
    assert_eq!(store.own_proposal(1, 0).unwrap(), Some(value.id().0));
    assert!(store.undecided(1, value.id().0).unwrap().is_some());
}

#[test]
fn after_a_crash_a_validator_proposes_the_same_block_again() {
    let n = net();
    let mut c = n.core(0, MemoryStore::new());
    let (value, _) = propose(&mut c, 1, 0, vec![n.tx(1)]);
    // The crash: only the store survives.
    let store = c.into_ledger().into_store();
    let mut c = n.core(0, store);
    let effects = c
        .on(
            Input::GetValue {
                height: Height(1),
                round: Round::new(0),
                timeout: Duration::from_secs(3),
            },
            NOW + 5000,
            &none,
        )
        .unwrap();
    match replies(&effects)[..] {
        [Reply::Value(v)] => assert_eq!(v.value, value, "the same block, not a new one"),
        ref r => panic!("{r:?}"),
    }
    assert_eq!(parts(&effects).len(), 4, "and streams it again");
}

#[test]
fn a_proposal_from_its_proposer_is_checked_stored_and_returned() {
    let n = net();
    let p = proposer(&n, 1, 0);
    let mut proposer_core = n.core(p, MemoryStore::new());
    let (value, ps) = propose(&mut proposer_core, 1, 0, vec![n.tx(1)]);
    let other = (p + 1) % 4;
    let mut c = n.core(other, MemoryStore::new());
    // Parts out of order still assemble.
    let mut shuffled = ps.clone();
    shuffled.reverse();
    let v = deliver(&mut c, peer(9), &shuffled).expect("a complete value");
    assert_eq!(v.value, value);
    assert_eq!(v.validity, Validity::Valid);
    assert_eq!(v.proposer, Address(p as u16));
    assert!(
        c.ledger()
            .store()
            .undecided(1, value.id().0)
            .unwrap()
            .is_some()
    );
}

#[test]
fn a_proposal_signed_by_another_than_the_proposer_is_dropped() {
    let n = net();
    let p = proposer(&n, 1, 0);
    let impostor = (p + 1) % 4;
    let mut impostor_core = n.core(impostor, MemoryStore::new());
    let (_, ps) = propose(&mut impostor_core, 1, 0, vec![n.tx(1)]);
    let mut c = n.core((p + 2) % 4, MemoryStore::new());
    assert!(deliver(&mut c, peer(1), &ps).is_none());
}

#[test]
fn a_proposal_with_a_forged_transaction_is_invalid() {
    let n = net();
    let p = proposer(&n, 1, 0);
    let mut bad = n.core(p, MemoryStore::new());
    bad.set_faults(Faults {
        invalid_tx_in_proposal: true,
        ..Faults::default()
    });
    let (_, ps) = propose(&mut bad, 1, 0, vec![n.tx(1)]);
    let mut c = n.core((p + 1) % 4, MemoryStore::new());
    let mut invalid_seen = false;
    let mut validity = None;
    for part in &ps {
        let effects = c
            .on(
                Input::ReceivedProposalPart {
                    from: peer(1),
                    part: part.clone(),
                },
                NOW,
                &none,
            )
            .unwrap();
        invalid_seen |= effects
            .iter()
            .any(|e| matches!(e, Effect::InvalidProposal { .. }));
        if let [Reply::Part(Some(v))] = replies(&effects)[..] {
            validity = Some(v.validity);
        }
    }
    assert_eq!(validity, Some(Validity::Invalid));
    assert!(invalid_seen, "reported for metrics");
}

#[test]
fn a_proposal_with_a_block_time_beyond_the_drift_bound_is_invalid() {
    let n = net();
    let p = proposer(&n, 1, 0);
    for (offset, valid) in [
        (4, Validity::Valid),
        (6, Validity::Invalid),
        (-6, Validity::Invalid),
    ] {
        let mut bad = n.core(p, MemoryStore::new());
        bad.set_faults(Faults {
            block_time_offset_s: offset,
            ..Faults::default()
        });
        let (_, ps) = propose(&mut bad, 1, 0, vec![]);
        let mut c = n.core((p + 1) % 4, MemoryStore::new());
        let v = deliver(&mut c, peer(1), &ps).expect("a value");
        assert_eq!(v.validity, valid, "offset {offset} s, bound 5 s");
    }
}

/// Found by the simulator (seed 1, one Byzantine of four): a value that got a polka in round 0
/// while one honest validator missed its parts was, when they reached it rounds later, too old
/// for its clock: invalid for good, while the others were locked on it, and the height stalled.
#[test]
fn defect_a_value_of_an_earlier_round_is_not_refused_for_its_age() {
    let n = net();
    let p = proposer(&n, 1, 0);
    // Proposed in round 0 with a time 10 s before the receiver's clock (bound 5 s).
    let mut old = n.core(p, MemoryStore::new());
    old.set_faults(Faults {
        block_time_offset_s: -10,
        ..Faults::default()
    });
    let (_, ps) = propose(&mut old, 1, 0, vec![]);
    for (round, valid) in [(0, Validity::Invalid), (2, Validity::Valid)] {
        let mut c = n.core((p + 1) % 4, MemoryStore::new());
        start_round(&mut c, 1, round, NOW);
        let v = deliver(&mut c, peer(1), &ps).expect("a value");
        assert_eq!(v.validity, valid, "received in round {round}");
    }
    // A time in the future is refused in any round.
    let mut future = n.core(p, MemoryStore::new());
    future.set_faults(Faults {
        block_time_offset_s: 10,
        ..Faults::default()
    });
    let (_, ps) = propose(&mut future, 1, 0, vec![]);
    let mut c = n.core((p + 1) % 4, MemoryStore::new());
    start_round(&mut c, 1, 2, NOW);
    assert_eq!(
        deliver(&mut c, peer(1), &ps).expect("a value").validity,
        Validity::Invalid
    );
}

/// Found by the simulator (seed 22, one Byzantine of four): an honest validator whose clock was
/// off when a proposal first arrived refused it for its time, and kept that verdict for the
/// height. The value got a polka from the others, who locked on it and proposed it again in
/// every later round; this validator prevoted nil each time, the Byzantine one's precommits did
/// not count, and the height never decided.
#[test]
fn defect_a_value_refused_for_its_time_is_judged_again_in_a_later_round() {
    let n = net();
    let p = proposer(&n, 1, 0);
    let mut pc = n.core(p, MemoryStore::new());
    let (value, ps) = propose(&mut pc, 1, 0, vec![n.tx(1)]);
    let mut c = n.core((p + 1) % 4, MemoryStore::new());
    // Its clock 10 s ahead (bound 5 s): refused in its round.
    let ahead = NOW + 10_000;
    start_round(&mut c, 1, 0, ahead);
    let v = deliver_at(&mut c, peer(1), &ps, ahead).expect("a value");
    assert_eq!(v.validity, Validity::Invalid, "too old for this clock");
    // Restreamed in round 2, the value is judged again: valid.
    start_round(&mut c, 1, 2, ahead);
    let again = pc
        .on(
            Input::RestreamProposal {
                height: Height(1),
                round: Round::new(2),
                value_id: value.id(),
            },
            NOW,
            &none,
        )
        .unwrap();
    let v = deliver_at(&mut c, peer(1), &parts(&again), ahead).expect("a value");
    assert_eq!(v.validity, Validity::Valid);
    // The rules' verdict and a Valid one are kept for the height; the commit uses it.
    assert_eq!(c.checked.len(), 1);
}

#[test]
fn started_round_returns_the_stored_values_of_the_height() {
    let n = net();
    let p = proposer(&n, 1, 0);
    let mut pc = n.core(p, MemoryStore::new());
    let (value, ps) = propose(&mut pc, 1, 0, vec![n.tx(1)]);
    let mut c = n.core((p + 1) % 4, MemoryStore::new());
    deliver(&mut c, peer(1), &ps).expect("a value");
    // After a crash, the stored proposal is offered again at the start of the round.
    let mut c = n.core((p + 1) % 4, c.into_ledger().into_store());
    let effects = start_round(&mut c, 1, 1, NOW);
    match replies(&effects)[..] {
        [Reply::Values(vs)] => {
            assert_eq!(vs.len(), 1);
            assert_eq!(vs[0].value, value);
            assert_eq!(vs[0].validity, Validity::Valid);
        }
        ref r => panic!("{r:?}"),
    }
}

#[test]
fn restream_sends_the_stored_block_again() {
    let n = net();
    let mut c = n.core(0, MemoryStore::new());
    let (value, ps) = propose(&mut c, 1, 0, vec![n.tx(1)]);
    let effects = c
        .on(
            Input::RestreamProposal {
                height: Height(1),
                round: Round::new(0),
                value_id: value.id(),
            },
            NOW,
            &none,
        )
        .unwrap();
    let again = parts(&effects);
    assert_eq!(again.len(), ps.len());
    assert_ne!(again[0].stream_id, ps[0].stream_id, "a new stream");
    assert!(replies(&effects).is_empty());
    let unknown = c
        .on(
            Input::RestreamProposal {
                height: Height(1),
                round: Round::new(0),
                value_id: ValueId([7; 32]),
            },
            NOW,
            &none,
        )
        .unwrap();
    assert!(unknown.is_empty());
}

/// Found by the simulator: a precommit of the height just committed, arriving while the
/// engine finalizes it, signs the log before that height; it was checked against the newer log
/// and counted as a refused (misbehaving) checkpoint vote.
#[test]
fn defect_a_late_precommit_of_the_committed_height_is_not_refused() {
    let n = net();
    let mut cores = four_at_height_2(&n, vec![n.tx(1)]);
    // Validator 3's precommit of height 1 signed the empty log.
    let late = extension(&mut n.core(3, MemoryStore::new()));
    assert_eq!(CheckpointVote::decode(&late).unwrap().size, TreeSize(0));
    for (height, accepted) in [(1, true), (2, false)] {
        let effects = cores[0]
            .on(
                Input::VerifyVoteExtensions {
                    height: Height(height),
                    extensions: vec![(Address(3), late.clone())],
                },
                NOW,
                &none,
            )
            .unwrap();
        let refused = effects
            .iter()
            .any(|e| matches!(e, Effect::RefusedCheckpointVote { .. }));
        assert_eq!(!refused, accepted, "a precommit of height {height}");
        match &replies(&effects)[..] {
            [Reply::Verdicts(v)] => assert_eq!(v[0].1.is_ok(), accepted),
            r => panic!("expected verdicts, got {r:?}"),
        }
    }
}

#[test]
fn extend_vote_signs_the_checkpoint_of_the_log_and_others_accept_it() {
    let n = net();
    let mut cores = four_at_height_2(&n, vec![n.tx(1), n.tx(2)]);
    let ext = extension(&mut cores[1]);
    let vote = CheckpointVote::decode(&ext).expect("a checkpoint vote");
    assert_eq!(vote.size, TreeSize(2));
    assert_eq!(vote.root, cores[1].ledger().root());
    let effects = cores[0]
        .on(
            Input::VerifyVoteExtensions {
                height: Height(2),
                extensions: vec![(Address(1), ext.clone()), (Address(2), Bytes::new())],
            },
            NOW,
            &none,
        )
        .unwrap();
    match replies(&effects)[..] {
        [Reply::Verdicts(v)] => {
            assert_eq!(v[0], (Address(1), Ok(())));
            assert!(v[1].1.is_err(), "an empty extension is refused");
        }
        ref r => panic!("{r:?}"),
    }
}

#[test]
fn a_forged_checkpoint_signature_is_refused_and_reported() {
    let n = net();
    let mut cores = four_at_height_2(&n, vec![n.tx(1)]);
    cores[3].set_faults(Faults {
        forge_checkpoint_signature: true,
        ..Faults::default()
    });
    let forged = extension(&mut cores[3]);
    assert_eq!(
        cores[0].checkpoint_vote(Address(3), &forged).unwrap_err(),
        CheckpointVoteError::BadSignature
    );
    let effects = cores[0]
        .on(
            Input::VerifyVoteExtensions {
                height: Height(2),
                extensions: vec![(Address(3), forged)],
            },
            NOW,
            &none,
        )
        .unwrap();
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::RefusedCheckpointVote {
            validator: Address(3),
            ..
        }
    )));
    // Someone else's valid vote under validator 3's address is refused too.
    let other = extension(&mut cores[1]);
    assert_eq!(
        cores[0].checkpoint_vote(Address(3), &other).unwrap_err(),
        CheckpointVoteError::BadSignature
    );
    assert_eq!(
        cores[0].checkpoint_vote(Address(9), &other).unwrap_err(),
        CheckpointVoteError::UnknownValidator
    );
}

#[test]
fn a_checkpoint_of_a_forked_log_is_refused() {
    let n = net();
    let mut cores = four_at_height_2(&n, vec![n.tx(1)]);
    cores[2].set_faults(Faults {
        sign_forked_checkpoint: true,
        ..Faults::default()
    });
    let forked = extension(&mut cores[2]);
    assert!(matches!(
        cores[0].checkpoint_vote(Address(2), &forked),
        Err(CheckpointVoteError::OtherCheckpoint { .. })
    ));
}

/// Review defect: a validly signed checkpoint for a size beyond this validator's log was
/// accepted with the precommit, then skipped when the quorum was collected, so a Byzantine
/// validator among the deciding votes stopped the checkpoint from being published.
#[test]
fn defect_a_checkpoint_beyond_the_local_log_is_refused_with_the_precommit() {
    let n = net();
    let cores = four_at_height_2(&n, vec![n.tx(1)]);
    let size = cores[0].ledger().size();
    let beyond = TreeSize(size.0 + 5);
    let root = Hash([9; 32]);
    let body = Checkpoint::new(&n.network.genesis.origin, beyond, root).body();
    let sig = NoteSignature::sign("v3", &n.keys[3], &body);
    let vote = CheckpointVote {
        size: beyond,
        root,
        signature: sig.signature.as_slice().try_into().unwrap(),
    }
    .encode();
    assert_eq!(
        cores[0].checkpoint_vote(Address(3), &vote),
        Err(CheckpointVoteError::OtherCheckpoint {
            size: beyond.0,
            local: size.0
        })
    );
}

#[test]
fn decided_commits_with_the_quorum_signed_checkpoint_and_reports_it() {
    let n = net();
    let mut cores: Vec<_> = (0..4).map(|i| n.core(i, MemoryStore::new())).collect();
    let p = proposer(&n, 1, 0);
    let (value, ps) = propose(&mut cores[p], 1, 0, vec![n.tx(1), n.tx(2)]);
    let q = (p + 1) % 4;
    deliver(&mut cores[q], peer(p as u8), &ps).expect("a value");
    // Three votes of four: a quorum, one of them forged (so only two count with the own).
    let exts = vec![
        (p, extension(&mut cores[p])),
        (q, extension(&mut cores[q])),
        ((p + 2) % 4, Bytes::from_static(b"junk")),
    ];
    let effects = decide(&mut cores[q], 1, &value, extensions(exts));
    let committed = committed_block(&effects);
    assert_eq!(committed.height, Height(1));
    assert_eq!(committed.accepted.len(), 2);
    assert_eq!(committed.size, TreeSize(2));
    assert!(
        committed.checkpoint.is_none(),
        "two valid signatures are below the quorum of 3"
    );
    assert_eq!(cores[q].ledger().store().height().unwrap(), 1);
    assert_eq!(cores[q].height(), Height(2));

    // Height 2: all four vote; the checkpoint of the log before it (size 2) is published.
    let cores = {
        let mut all = four_at_height_2(&n, vec![n.tx(1), n.tx(2)]);
        let p2 = proposer(&n, 2, 0);
        let (v2, ps2) = propose(&mut all[p2], 2, 0, vec![]);
        for (i, c) in all.iter_mut().enumerate() {
            if i != p2 {
                deliver(c, peer(p2 as u8), &ps2).expect("a value");
            }
        }
        let exts: Vec<_> = all.iter_mut().map(extension).enumerate().collect();
        let effects = decide(&mut all[0], 2, &v2, extensions(exts));
        let c = committed_block(&effects);
        let (note, size) = c.checkpoint.expect("a quorum-signed checkpoint");
        assert_eq!(size, TreeSize(2));
        let note = bansos_verifier::note::Note::parse(&note).unwrap();
        assert_eq!(note.signatures().len(), 4);
        all
    };
    assert_eq!(cores[0].ledger().store().height().unwrap(), 2);
}

#[test]
fn finalized_commits_if_needed_and_starts_the_next_height() {
    let n = net();
    let p = proposer(&n, 1, 0);
    let mut pc = n.core(p, MemoryStore::new());
    let (value, ps) = propose(&mut pc, 1, 0, vec![n.tx(1)]);
    let mut c = n.core((p + 1) % 4, MemoryStore::new());
    deliver(&mut c, peer(1), &ps).expect("a value");
    for _ in 0..2 {
        // The second time the height is already committed: nothing happens twice.
        let effects = c
            .on(
                Input::Finalized {
                    certificate: certificate(1, &value),
                    extensions: extensions(vec![]),
                },
                NOW,
                &none,
            )
            .unwrap();
        assert!(matches!(replies(&effects)[..], [Reply::Next(Height(2))]));
        assert_eq!(c.ledger().store().height().unwrap(), 1);
        assert_eq!(c.ledger().size(), TreeSize(1));
    }
}

#[test]
fn decided_blocks_are_served_to_validators_catching_up() {
    let n = net();
    let mut cores = four_at_height_2(&n, vec![n.tx(1)]);
    let effects = cores[0].on(Input::GetHistoryMinHeight, NOW, &none).unwrap();
    assert!(matches!(
        replies(&effects)[..],
        [Reply::MinHeight(Height(1))]
    ));
    let effects = cores[0]
        .on(
            Input::GetDecidedValues {
                from: Height(0),
                to: Height(5),
            },
            NOW,
            &none,
        )
        .unwrap();
    let (bytes, cert) = match replies(&effects)[..] {
        [Reply::DecidedValues(v)] => {
            assert_eq!(v.len(), 1, "only what is decided");
            v[0].clone()
        }
        ref r => panic!("{r:?}"),
    };
    assert_eq!(cert.height, Height(1));
    assert_eq!(cert.vote_extensions().extensions.len(), 4);

    // A fresh validator takes it by sync and commits the same log.
    let mut fresh = n.core(3, MemoryStore::new());
    let b = StoredBlock::decode(&bytes).unwrap();
    let effects = fresh
        .on(
            Input::ProcessSyncedValue {
                height: Height(1),
                round: Round::new(0),
                proposer: b.proposer,
                bytes: bytes.clone(),
            },
            NOW,
            &none,
        )
        .unwrap();
    assert!(matches!(replies(&effects)[..], [Reply::Synced(Some(_))]));
    let certificate = cert.trim_vote_extensions();
    fresh
        .on(
            Input::Decided {
                certificate,
                extensions: cert.vote_extensions(),
            },
            NOW,
            &none,
        )
        .unwrap();
    assert_eq!(fresh.ledger().root(), cores[0].ledger().root());
    let junk = fresh
        .on(
            Input::ProcessSyncedValue {
                height: Height(2),
                round: Round::new(0),
                proposer: Address(0),
                bytes: Bytes::from_static(b"not a block"),
            },
            NOW,
            &none,
        )
        .unwrap();
    assert!(matches!(replies(&junk)[..], [Reply::Synced(None)]));
}

/// Review defect: a synced block was stored before its id was compared with the certificate.
#[test]
fn defect_a_synced_block_is_not_stored_before_it_is_decided() {
    let n = net();
    let mut cores = four_at_height_2(&n, vec![n.tx(1)]);
    let p = proposer(&n, 2, 0);
    let (_, ps) = propose(&mut cores[p], 2, 0, vec![n.tx(2)]);
    let mut other = n.core(p, MemoryStore::new());
    let (not_decided, _) = propose(&mut other, 2, 0, vec![n.tx(3)]);
    let bytes = other
        .ledger()
        .store()
        .undecided(2, not_decided.id().0)
        .unwrap()
        .unwrap();
    let q = (p + 1) % 4;
    let effects = cores[q]
        .on(
            Input::ProcessSyncedValue {
                height: Height(2),
                round: Round::new(0),
                proposer: Address(p as u16),
                bytes: Bytes::from(bytes),
            },
            NOW,
            &none,
        )
        .unwrap();
    assert!(matches!(replies(&effects)[..], [Reply::Synced(Some(_))]));
    assert!(
        cores[q]
            .ledger()
            .store()
            .undecided_at(2)
            .unwrap()
            .is_empty(),
        "nothing stored before the decision"
    );
    // The decided block is another: the synced one is never committed.
    let decided = deliver(&mut cores[q], peer(p as u8), &ps).expect("the real proposal");
    decide(&mut cores[q], 2, &decided.value, extensions(vec![]));
    assert_eq!(cores[q].ledger().root(), {
        let mut reference = four_at_height_2(&n, vec![n.tx(1)]);
        let r = (p + 2) % 4;
        deliver(&mut reference[r], peer(p as u8), &ps).unwrap();
        decide(&mut reference[r], 2, &decided.value, extensions(vec![]));
        reference[r].ledger().root()
    });
}

/// Review defect: an outsider on the p2p port opened one-message streams until the honest
/// proposer's stream was evicted, stalling consensus.
#[test]
fn defect_streams_from_a_stranger_do_not_evict_the_proposers() {
    let n = net();
    let p = proposer(&n, 1, 0);
    let mut pc = n.core(p, MemoryStore::new());
    let txs: Vec<Bytes> = (0..600).map(|i| n.tx(i)).collect();
    let (value, ps) = propose(&mut pc, 1, 0, txs);
    assert!(ps.len() > 3);
    let mut c = n.core((p + 1) % 4, MemoryStore::new());
    assert!(deliver(&mut c, peer(p as u8), &ps[..1]).is_none());
    // A stranger opens many streams of one empty part each, from one peer and from many.
    let empty = |i: u64| {
        StreamMessage::new(
            StreamId::new(Bytes::from(i.to_be_bytes().to_vec())),
            1,
            StreamContent::Data(ProposalPart::Data { txs: vec![] }),
        )
    };
    for i in 0..200 {
        deliver(&mut c, peer(200), &[empty(i)]);
    }
    for i in 0..200u64 {
        deliver(&mut c, peer(10 + i as u8), &[empty(1000 + i)]);
    }
    assert!(c.streams.len() <= STREAMS_MAX);
    let v = deliver(&mut c, peer(p as u8), &ps[1..]).expect("the proposer's stream survived");
    assert_eq!(v.value, value);
}

#[test]
fn streams_that_never_complete_time_out_and_implausible_ones_are_not_buffered() {
    let n = net();
    let p = proposer(&n, 1, 0);
    let mut pc = n.core(p, MemoryStore::new());
    let (_, ps) = propose(&mut pc, 1, 0, vec![n.tx(1)]);
    let mut c = n.core((p + 1) % 4, MemoryStore::new());
    deliver(&mut c, peer(p as u8), &ps[..1]);
    // The rest arrives after the stream timed out: nothing assembles.
    let late = c
        .on(
            Input::ReceivedProposalPart {
                from: peer(p as u8),
                part: ps[1].clone(),
            },
            NOW + STREAM_TTL_MS + 1,
            &none,
        )
        .unwrap();
    assert!(matches!(replies(&late)[..], [Reply::Part(None)]));
    assert!(c.streams.len() <= 1, "the old stream is gone");
    // An Init naming someone else than the proposer is not buffered at all.
    let mut forged = ps[0].clone();
    if let StreamContent::Data(ProposalPart::Init { proposer, .. }) = &mut forged.content {
        *proposer = Address(((p + 1) % 4) as u16);
    }
    forged.stream_id = StreamId::new(Bytes::from_static(b"forged"));
    deliver(&mut c, peer(7), &[forged]);
    assert!(
        !c.streams.keys().any(|(peer_id, _)| *peer_id == peer(7)),
        "not buffered"
    );
}

/// Review defect: a Byzantine proposer filled the future-height buffer with far-future blocks,
/// and the next height's valid proposal was dropped.
#[test]
fn defect_far_future_blocks_do_not_push_out_the_next_heights_proposal() {
    let n = net();
    let mut c = n.core(0, MemoryStore::new());
    // Blocks for later heights and rounds, each signed by its proposer.
    let mut cores: Vec<_> = (0..4).map(|i| n.core(i, MemoryStore::new())).collect();
    for h in [3u64, 2] {
        for r in (1..=FUTURE_MAX as u32 + 4).rev() {
            let p = proposer(&n, h, r);
            let (_, ps) = propose(&mut cores[p], h, r, vec![]);
            deliver(&mut c, peer(p as u8), &ps);
        }
    }
    let p = proposer(&n, 2, 0);
    let (next, ps) = propose(&mut cores[p], 2, 0, vec![n.tx(1)]);
    deliver(&mut c, peer(p as u8), &ps);
    // Height 1 is decided (an empty block) and height 2 starts.
    let p1 = proposer(&n, 1, 0);
    let (v1, ps1) = propose(&mut cores[p1], 1, 0, vec![]);
    deliver(&mut c, peer(p1 as u8), &ps1).expect("height 1's proposal");
    decide(&mut c, 1, &v1, extensions(vec![]));
    let effects = start_round(&mut c, 2, 0, NOW);
    match replies(&effects)[..] {
        [Reply::Values(vs)] => assert!(
            vs.iter()
                .any(|v| v.value == next && v.validity == Validity::Valid),
            "the next height's round-0 proposal is kept"
        ),
        ref r => panic!("{r:?}"),
    }
    assert!(c.future.len() <= FUTURE_MAX);
}

#[test]
fn blocks_far_beyond_the_current_height_are_not_kept() {
    let n = net();
    let mut c = n.core(0, MemoryStore::new());
    let h = 1 + FUTURE_HEIGHTS + 1;
    let p = proposer(&n, h, 0);
    let mut pc = n.core(p, MemoryStore::new());
    let (_, ps) = propose(&mut pc, h, 0, vec![]);
    deliver(&mut c, peer(p as u8), &ps);
    assert!(c.future.is_empty());
}
