//! The governance re-check on constructed logs: members added, keys rotated and members
//! removed are followed entry by entry, every vote the rules refuse is flagged, and a key
//! history the log's votes do not bear out is a violation.

use std::path::Path;

use crate::aggregates::ledger_world::*;
use crate::aggregates::{Aggregates, compute};
use crate::anomalies::Thresholds;
use crate::trust::KEY_HISTORY_FILE;

fn aggregates(
    w: &World,
    dir: &Path,
    checkpoint: Vec<u8>,
    history: Option<&[u8]>,
) -> Result<Aggregates, String> {
    w.write_mirror_with(dir, checkpoint);
    if let Some(h) = history {
        std::fs::write(dir.join(KEY_HISTORY_FILE), h).unwrap();
    }
    compute(dir, Some(&w.network), Thresholds::default(), 1_796_000_000).unwrap()
}

fn found(agg: &Aggregates) -> Vec<(&'static str, Vec<u64>)> {
    agg.rule_violations
        .iter()
        .map(|v| (v.rule, v.entries.clone()))
        .collect()
}

#[test]
fn members_are_followed_epoch_by_epoch_and_refused_votes_flagged() {
    let g = governed_world();
    let dir = tempfile::tempdir().unwrap();
    let agg = aggregates(&g.world, dir.path(), g.checkpoint.clone(), Some(&g.history)).unwrap();
    let mut want = g.flagged.clone();
    for (_, entries) in &mut want {
        entries.sort();
    }
    want.sort();
    assert_eq!(found(&agg), want, "{:#?}", agg.rule_violations);
    for v in &agg.rule_violations {
        assert!(
            !v.entries.iter().any(|e| g.valid.contains(e)),
            "a valid entry is flagged: {v:#?}"
        );
    }
    let rotated = agg
        .rule_violations
        .iter()
        .find(|v| v.rule == "bad_signature" && v.entries.len() == 2)
        .unwrap();
    assert!(
        rotated.detail.contains("key rotated out"),
        "{}",
        rotated.detail
    );
    // The member added by governance pays and is named.
    let bank9 = agg.by_payer.iter().find(|r| r.payer == BANK9).unwrap();
    assert_eq!(bank9.payer_name, "Bank bank9");
    assert_eq!(bank9.counts.claims, 1);
}

#[test]
fn a_later_epochs_checkpoint_needs_the_key_history() {
    let g = governed_world();
    let dir = tempfile::tempdir().unwrap();
    let err = aggregates(&g.world, dir.path(), g.checkpoint.clone(), None).unwrap_err();
    assert!(err.contains("quorum of 3 of its 4 validators"), "{err}");
    assert!(
        err.contains("bank9") && err.contains("key-history"),
        "{err}"
    );
    // A damaged history is refused as such.
    let err = aggregates(&g.world, dir.path(), g.checkpoint.clone(), Some(b"{}")).unwrap_err();
    assert!(err.contains("does not follow from this genesis"), "{err}");
}

#[test]
fn a_key_history_the_votes_do_not_bear_out_is_a_violation() {
    let g = governed_world();
    // Epoch 1 approved by Kemensos, Kemenkeu and PT Pos: PT Pos's vote is real and signed, but
    // the rules refused it (it came after the approval in the same block). The history holds
    // up from the genesis keys; the log's own tally says otherwise.
    let [v0, v1, approving, after] = {
        let l = &g.links[0];
        let idx = |hex: &str| {
            g.world
                .leaves
                .iter()
                .position(|leaf| {
                    let tx = bansos_verifier::entry::Leaf::decode(leaf).map(|l| l.tx.encode());
                    tx.is_ok_and(|t| data_encoding::HEXLOWER.encode(&t) == hex)
                })
                .unwrap() as u64
        };
        let after = g
            .flagged
            .iter()
            .find(|(r, _)| *r == "vote_after_approval")
            .unwrap()
            .1[1];
        [idx(&l.votes[0]), idx(&l.votes[1]), idx(&l.votes[2]), after]
    };
    assert_eq!(approving, g.approving[0]);
    let mut links = g.links.clone();
    let keys: Vec<_> = [KEMENSOS, KEMENKEU, BRI]
        .iter()
        .map(|&m| g.world.key(m).clone())
        .collect();
    let bank9 = extra_key(50);
    let add = bansos_verifier::governance::Change::from_bytes(
        &data_encoding::HEXLOWER
            .decode(links[0].change.as_bytes())
            .unwrap(),
    )
    .unwrap();
    links[0] = g.world.link(
        1,
        &add,
        &[v0, v1, after],
        g.starts[0],
        &[
            ("kemensos", &keys[0]),
            ("kemenkeu", &keys[1]),
            ("bri", &keys[2]),
            ("bank9", &bank9),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let agg = aggregates(
        &g.world,
        dir.path(),
        g.checkpoint.clone(),
        Some(&g.world.history(links)),
    )
    .unwrap();
    let mismatch: Vec<_> = agg
        .rule_violations
        .iter()
        .filter(|v| v.rule == "key_history_mismatch")
        .collect();
    assert_eq!(mismatch.len(), 1, "{:#?}", agg.rule_violations);
    assert_eq!(mismatch[0].entries, [approving]);
    assert!(
        mismatch[0].detail.contains("other votes"),
        "{}",
        mismatch[0].detail
    );
}

#[test]
fn a_vote_by_a_member_that_does_not_validate_is_refused() {
    let mut w = World::new();
    let bpk = extra_key(70);
    let add = add_member("bpk", &bpk, 0);
    let votes = [
        w.push(KEMENSOS, vote(0, &add)),
        w.push(KEMENKEU, vote(0, &add)),
        w.push(BRI, vote(0, &add)),
    ];
    let start = w.leaves.len() as u64;
    let change = bansos_verifier::governance::Change::SetWitnessQuorum { quorum: 0 };
    let by_bpk = w.push_with(4, vote(1, &change), &bpk);
    let keys: Vec<_> = (0..3).map(|m| w.key(m).clone()).collect();
    let signers = [
        ("kemensos", &keys[0]),
        ("kemenkeu", &keys[1]),
        ("bri", &keys[2]),
    ];
    let link = w.link(1, &add, &votes, start, &signers);
    let checkpoint = w.checkpoint_at(w.leaves.len() as u64, &signers);
    let dir = tempfile::tempdir().unwrap();
    let agg = aggregates(
        &w,
        dir.path(),
        checkpoint.clone(),
        Some(&w.history(vec![link])),
    )
    .unwrap();
    assert_eq!(found(&agg), [("vote_not_by_validator", vec![by_bpk])]);

    // The same mirror without its key history: its checkpoint verifies with the genesis keys
    // (the change added no validator), but the history lacks the change the votes approved.
    let dir = tempfile::tempdir().unwrap();
    let agg = aggregates(&w, dir.path(), checkpoint, None).unwrap();
    assert_eq!(
        found(&agg),
        [
            ("key_history_mismatch", vec![votes[2]]),
            ("vote_not_by_validator", vec![by_bpk]),
        ]
    );
}
