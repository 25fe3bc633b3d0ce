//! Aggregates, rule re-checks and anomaly rules over mirrors built from constructed entries.

use super::ledger_world::*;
use super::*;
use bansos_verifier::entry::{Channel, MemberId, SignedTx};
use std::path::Path;

/// Writes `w` as a mirror signed by validators 0..=2 and computes its aggregates.
fn audit_with(w: &World, network: Option<&Network>, t: Thresholds) -> Result<Aggregates, String> {
    let dir = tempfile::tempdir().unwrap();
    w.write_mirror(dir.path(), &[KEMENSOS, KEMENKEU, BRI]);
    compute(dir.path(), network, t, 1_796_000_000).unwrap()
}

fn audit(w: &World) -> Aggregates {
    audit_with(w, Some(&w.network), Thresholds::default()).expect("the mirror is accepted")
}

fn rules<T>(rows: &[T], rule: impl Fn(&T) -> &'static str) -> Vec<&'static str> {
    rows.iter().map(rule).collect()
}

fn only_anomaly(agg: &Aggregates, rule: &str) -> Anomaly {
    assert!(agg.rule_violations.is_empty(), "{:#?}", agg.rule_violations);
    assert_eq!(
        rules(&agg.anomalies, |a| a.rule),
        [rule],
        "{:#?}",
        agg.anomalies
    );
    agg.anomalies[0].clone()
}

fn only_violations(agg: &Aggregates, rule: &str) -> Vec<RuleViolation> {
    assert!(agg.anomalies.is_empty(), "{:#?}", agg.anomalies);
    assert!(
        agg.rule_violations.iter().all(|v| v.rule == rule),
        "{:#?}",
        agg.rule_violations
    );
    agg.rule_violations.clone()
}

fn counts_of(t: &Tally) -> Counts {
    let mut c = Counts {
        allocations: t.allocations,
        allocated: t.allocated,
        claims: t.claims,
        claimed: t.claimed,
        returns: t.returns,
        returned: t.returned,
        revocations: t.revocations,
        revoked: t.revoked,
        outstanding: 0,
    };
    c.finish();
    c
}

#[test]
fn clean_data_has_the_constructed_totals_and_nothing_flagged() {
    let (w, tally) = clean_world();
    assert!(w.leaves.len() > 256, "a full and a partial bundle");
    let agg = audit(&w);
    assert_eq!(agg.format, AGGREGATES_FORMAT);
    assert_eq!(agg.checkpoint.size, w.leaves.len() as u64);
    assert_eq!(agg.checkpoint.root, w.root().to_base64());
    assert_eq!(agg.checkpoint.origin, ORIGIN);
    assert_eq!(agg.totals, counts_of(&tally));
    assert_eq!(agg.totals.outstanding, 0);
    assert!(agg.rule_violations.is_empty(), "{:#?}", agg.rule_violations);
    assert!(agg.anomalies.is_empty(), "{:#?}", agg.anomalies);

    // Each table adds up to the totals, and its rows are sorted by key.
    let sum = |rows: Vec<&Counts>| {
        let mut s = Counts::default();
        for c in rows {
            s.allocations += c.allocations;
            s.allocated += c.allocated;
            s.claims += c.claims;
            s.claimed += c.claimed;
            s.returns += c.returns;
            s.returned += c.returned;
            s.revocations += c.revocations;
            s.revoked += c.revoked;
            s.outstanding += c.outstanding;
        }
        s
    };
    assert_eq!(
        sum(agg.by_program_period.iter().map(|r| &r.counts).collect()),
        agg.totals
    );
    assert_eq!(
        sum(agg.by_region.iter().map(|r| &r.counts).collect()),
        agg.totals
    );
    assert_eq!(
        sum(agg.by_payer.iter().map(|r| &r.counts).collect()),
        agg.totals
    );
    let keys: Vec<(&str, &str)> = agg
        .by_program_period
        .iter()
        .map(|r| (r.program.as_str(), r.period.as_str()))
        .collect();
    assert_eq!(keys, [("PKH", "2026Q4"), ("SEMBAKO", "2026-11")]);
    let regions: Vec<(u16, &str)> = agg
        .by_region
        .iter()
        .map(|r| (r.region, r.region_name.as_str()))
        .collect();
    assert_eq!(
        regions,
        [
            (3174, region_name(3174)),
            (5171, "Kota Denpasar"),
            (9171, "Kota Jayapura")
        ]
    );
    assert!(region_name(3174).contains("Jakarta Selatan"));
    let pkh = &agg.by_program_period[0].counts;
    assert_eq!(
        (pkh.allocations, pkh.allocated, pkh.claims, pkh.claimed),
        (75, 75 * 750_000, 60, 60 * 750_000)
    );
    assert_eq!(
        (pkh.returns, pkh.returned, pkh.revocations, pkh.revoked),
        (9, 9 * 750_000, 6, 6 * 750_000)
    );
    let payers: Vec<(u16, &str, u64)> = agg
        .by_payer
        .iter()
        .map(|r| (r.payer, r.payer_name.as_str(), r.counts.claims))
        .collect();
    assert_eq!(
        payers,
        [
            (BRI, "Bank Rakyat Indonesia", 60),
            (POS, "PT Pos Indonesia", 60)
        ]
    );
    assert_eq!(
        agg.by_channel,
        [
            ChannelRow {
                channel: "KKS".into(),
                claims: 60,
                claimed: 60 * 200_000
            },
            ChannelRow {
                channel: "POS_OUTLET".into(),
                claims: 60,
                claimed: 60 * 750_000
            },
        ]
    );
    // Allocated at DAY0, claimed from the next day at 08:05 local: 1-24h for the first day's
    // claims in WIT and WITA (less than 24 hours later in UTC), 1-7d after.
    let ttc: u64 = agg.time_to_claim.iter().map(|r| r.claims).sum();
    assert_eq!(ttc, tally.claims);
    assert!(
        agg.time_to_claim
            .windows(2)
            .all(|p| (&p[0].program, p[0].bucket) != (&p[1].program, p[1].bucket))
    );
}

#[test]
fn time_to_claim_buckets_are_by_program_in_bucket_order() {
    let mut w = World::new();
    let waits = [0, HOUR - 1, HOUR, DAY, 7 * DAY, 30 * DAY, 31 * DAY];
    for (i, wait) in waits.into_iter().enumerate() {
        w.now = DAY0;
        let a = w.allocate(AllocSpec::pkh(3171));
        w.claim_full(&a, DAY0 + wait, &format!("o{i}"));
    }
    w.now = DAY0;
    let s = w.allocate(AllocSpec::sembako(3171));
    // Claimed (offline) before its allocation was logged: counted as no wait.
    w.claim_full(&s, DAY0 - HOUR, "early");
    let agg = audit_with(&w, None, Thresholds::default()).unwrap();
    let rows: Vec<(&str, &str, u64)> = agg
        .time_to_claim
        .iter()
        .map(|r| (r.program.as_str(), r.bucket, r.claims))
        .collect();
    assert_eq!(
        rows,
        [
            ("PKH", "<1h", 2),
            ("PKH", "1-24h", 1),
            ("PKH", "1-7d", 1),
            ("PKH", "7-30d", 1),
            ("PKH", ">30d", 2),
            ("SEMBAKO", "<1h", 1),
        ]
    );
}

#[test]
fn claim_outside_region_fires_on_a_claim_paid_elsewhere() {
    let (mut w, _) = clean_world();
    let a = w.allocate(AllocSpec::pkh(3174));
    let mut c = ClaimSpec::full(&a, local(2, 10, 0, 7), "bandung");
    c.region = 3273;
    let claim = w.claim(&a, c);
    let agg = audit(&w);
    let an = only_anomaly(&agg, "claim_outside_region");
    assert_eq!(an.entries, [a.leaf, claim]);
    assert_eq!(
        an.key,
        serde_json::json!({"region": 3174, "claim_region": 3273})
    );
    assert!(an.detail.contains("Kota Bandung"), "{}", an.detail);
    // Counted in the allocation's region.
    let row = agg.by_region.iter().find(|r| r.region == 3174).unwrap();
    assert_eq!(row.counts.claims, 41);
    assert!(!agg.by_region.iter().any(|r| r.region == 3273));
}

#[test]
fn outlet_spike_fires_above_the_threshold_and_the_flag_overrides_it() {
    let (mut w, _) = clean_world();
    // 61 claims at one outlet within one hour, of allocations in four periods (groups of at
    // most 16, below the first-hour rule's minimum).
    let hour = local(4, 10, 0, 7);
    let mut claims = Vec::new();
    for i in 0..61u64 {
        let period = ["2026-12", "2027-01", "2027-02", "2027-03"][i as usize % 4];
        let a = w.allocate(AllocSpec {
            period,
            ..AllocSpec::sembako(3174)
        });
        claims.push(w.claim_full(&a, hour + i * 50, "busy"));
    }
    let agg = audit(&w);
    let an = only_anomaly(&agg, "outlet_spike");
    assert_eq!(an.entries, claims);
    assert_eq!(an.key["payer"], BRI);
    assert_eq!(an.key["hour_start"], hour);
    assert!(an.detail.contains("61 claims"), "{}", an.detail);

    // 61 is not above 61; and 20 claims in an hour of the clean data are not above 60.
    let t = Thresholds {
        outlet_claims_per_hour_max: 61,
        ..Thresholds::default()
    };
    assert!(audit_with(&w, None, t).unwrap().anomalies.is_empty());
    let (clean, _) = clean_world();
    let t = Thresholds {
        outlet_claims_per_hour_max: 0,
        ..Thresholds::default()
    };
    let agg = audit_with(&clean, None, t).unwrap();
    assert_eq!(
        agg.anomalies.len(),
        120,
        "every clean claim is a spike above 0"
    );
}

#[test]
fn outside_service_hours_uses_the_local_time_of_the_claims_region() {
    let (mut w, _) = clean_world();
    // Denpasar is WITA (UTC+8): 06:59 and 17:00 are outside, 07:00 and 16:59 inside.
    let mut flagged = Vec::new();
    for (hour, minute, outside) in [(6, 59, true), (7, 0, false), (16, 59, false), (17, 0, true)] {
        let a = w.allocate(AllocSpec::pkh(5171));
        let leaf = w.claim_full(&a, local(5, hour, minute, 8), "denpasar-late");
        if outside {
            flagged.push(leaf);
        }
    }
    // 07:30 WITA is 06:30 WIB: outside in Jakarta, where the same instant is read in WIB.
    let a = w.allocate(AllocSpec::pkh(3174));
    let jakarta = w.claim_full(&a, local(5, 7, 30, 8), "jakarta-early");
    let agg = audit(&w);
    assert!(agg.rule_violations.is_empty());
    assert_eq!(
        rules(&agg.anomalies, |a| a.rule),
        ["outside_service_hours", "outside_service_hours"],
        "{:#?}",
        agg.anomalies
    );
    let denpasar = agg
        .anomalies
        .iter()
        .find(|a| a.key["region"] == 5171)
        .unwrap();
    assert_eq!(denpasar.entries, flagged);
    assert_eq!(denpasar.key["zone"], "WITA");
    let wib = agg
        .anomalies
        .iter()
        .find(|a| a.key["region"] == 3174)
        .unwrap();
    assert_eq!(wib.entries, [jakarta]);
    assert_eq!(wib.key["zone"], "WIB");

    // Wider hours silence both.
    let t = Thresholds {
        service_opens_hour: 6,
        service_closes_hour: 18,
        ..Thresholds::default()
    };
    assert!(audit_with(&w, None, t).unwrap().anomalies.is_empty());
}

#[test]
fn partial_payment_fires_on_an_open_allocation_paid_in_part() {
    let (mut w, _) = clean_world();
    let a = w.allocate(AllocSpec::pkh(9171));
    let mut c = ClaimSpec::full(&a, local(2, 9, 0, 9), "jayapura");
    c.amount = 500_000;
    let claim = w.claim(&a, c.clone());
    // Paid in part and then returned: closed, not flagged.
    let b = w.allocate(AllocSpec::pkh(9171));
    c.secret = b.secret;
    w.claim(&b, c.clone());
    w.return_by(&b, POS);
    // Paid in two parts to the full amount: not flagged.
    let d = w.allocate(AllocSpec::pkh(9171));
    c.secret = d.secret;
    w.claim(&d, c.clone());
    c.amount = 250_000;
    w.claim(&d, c);
    let agg = audit(&w);
    let an = only_anomaly(&agg, "partial_payment");
    assert_eq!(an.entries, [a.leaf, claim]);
    assert_eq!(
        an.key,
        serde_json::json!({"program": "PKH", "period": "2026Q4", "region": 9171, "payer": POS})
    );
    assert!(an.detail.contains("500000 of 750000"), "{}", an.detail);
    // b's unpaid 250,000 is counted as returned; a's 250,000 is outstanding.
    let row = agg.by_region.iter().find(|r| r.region == 9171).unwrap();
    assert_eq!(row.counts.outstanding, 250_000);
}

#[test]
fn region_claimed_in_first_hour_fires_at_ninety_percent_of_twenty() {
    let (mut w, _) = clean_world();
    // Medan: 20 allocations, 18 claimed within the hour after the first claim (90%).
    // Bandung: 20 allocations, 17 in the first hour (85%), the rest later: not flagged.
    let mut early = Vec::new();
    for (region, in_hour) in [(1275u16, 18u64), (3273, 17)] {
        let allocs: Vec<Alloc> = (0..20)
            .map(|_| w.allocate(AllocSpec::pkh(region)))
            .collect();
        for (i, a) in allocs.iter().enumerate() {
            let i = i as u64;
            let at = if i < in_hour {
                local(3, 9, 0, 7) + i * 200 // up to 56:40 after the first
            } else {
                local(4, 9, 0, 7) + i * 60
            };
            let leaf = w.claim_full(a, at, &format!("desk-{region}"));
            if region == 1275 && i < in_hour {
                early.push(leaf);
            }
        }
    }
    let agg = audit(&w);
    let an = only_anomaly(&agg, "region_claimed_in_first_hour");
    assert_eq!(an.entries, early);
    assert_eq!(
        an.key,
        serde_json::json!({"program": "PKH", "period": "2026Q4", "region": 1275})
    );
    assert!(an.detail.contains("18 of 20"), "{}", an.detail);
    assert!(an.detail.contains("09:00 WIB"), "{}", an.detail);

    // Judged only from 21 allocations: silent; from 85%: both fire.
    let t = Thresholds {
        first_hour_allocations_min: 21,
        ..Thresholds::default()
    };
    assert!(audit_with(&w, None, t).unwrap().anomalies.is_empty());
    let t = Thresholds {
        first_hour_share_percent: 85,
        ..Thresholds::default()
    };
    assert_eq!(audit_with(&w, None, t).unwrap().anomalies.len(), 2);
}

#[test]
fn claim_without_allocation_is_a_violation_and_not_counted() {
    let (mut w, tally) = clean_world();
    let a = w.allocate(AllocSpec::pkh(3174));
    let mut c = ClaimSpec::full(&a, local(2, 10, 0, 7), "x");
    c.secret = fixed("unknown-secret");
    let unknown = bansos_verifier::entry::AllocationId(fixed("no-such-allocation"));
    let claim = w.claim_id(unknown, c);
    let agg = audit(&w);
    let v = only_violations(&agg, "claim_without_allocation");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].entries, [claim]);
    assert_eq!(agg.totals.claims, tally.claims);
}

#[test]
fn duplicate_dedup_tag_is_per_program_and_period() {
    let (mut w, _) = clean_world();
    let first = w.allocate(AllocSpec {
        person: Some(900_001),
        ..AllocSpec::pkh(3174)
    });
    // The same person in another period and another program: allowed.
    w.allocate(AllocSpec {
        person: Some(900_001),
        period: "2027Q1",
        ..AllocSpec::pkh(3174)
    });
    w.allocate(AllocSpec {
        person: Some(900_001),
        ..AllocSpec::sembako(3174)
    });
    let dup = w.allocate(AllocSpec {
        person: Some(900_001),
        ..AllocSpec::pkh(5171)
    });
    let agg = audit(&w);
    let v = only_violations(&agg, "duplicate_dedup_tag");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].entries, [first.leaf, dup.leaf]);
    assert!(v[0].detail.contains("PKH 2026Q4"), "{}", v[0].detail);
}

#[test]
fn over_claim_is_detected() {
    let (mut w, _) = clean_world();
    let a = w.allocate(AllocSpec::sembako(3174));
    let first = w.claim_full(&a, local(2, 10, 0, 7), "o");
    let mut c = ClaimSpec::full(&a, local(2, 11, 0, 7), "o");
    c.amount = 1;
    let second = w.claim(&a, c);
    let agg = audit(&w);
    let v = only_violations(&agg, "over_claim");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].entries, [a.leaf, first, second]);
    // The log says it was paid: counted (outstanding stops at 0).
    assert_eq!(
        agg.totals.claimed,
        agg.totals.allocated - agg.totals.returned - agg.totals.revoked + 1
    );
    assert_eq!(agg.totals.outstanding, 0);
}

#[test]
fn claim_by_other_payer_is_detected() {
    let (mut w, _) = clean_world();
    let a = w.allocate(AllocSpec::pkh(3174)); // paid by Pos
    let mut c = ClaimSpec::full(&a, local(2, 10, 0, 7), "bri-branch");
    c.signer = BRI;
    c.channel = Channel::BankTeller;
    let claim = w.claim(&a, c);
    let v = only_violations(&audit(&w), "claim_by_other_payer");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].entries, [a.leaf, claim]);
}

#[test]
fn claim_lock_mismatch_is_detected() {
    let (mut w, _) = clean_world();
    let a = w.allocate(AllocSpec::pkh(3174));
    let mut c = ClaimSpec::full(&a, local(2, 10, 0, 7), "o");
    c.secret[0] ^= 1;
    let claim = w.claim(&a, c);
    let v = only_violations(&audit(&w), "claim_lock_mismatch");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].entries, [a.leaf, claim]);
}

#[test]
fn claim_after_close_covers_returned_revoked_and_expired() {
    let (mut w, _) = clean_world();
    let returned = w.allocate(AllocSpec::pkh(3174));
    let ret = w.return_by(&returned, POS);
    let c1 = w.claim_full(&returned, local(2, 10, 0, 7), "o");
    let revoked = w.allocate(AllocSpec::pkh(3174));
    let rev = w.revoke_by(&revoked, KEMENSOS);
    let c2 = w.claim_full(&revoked, local(2, 11, 0, 7), "o");
    // Allocated before its expiry (an allocation that is born expired is its own violation).
    w.now = local(2, 11, 0, 7);
    let expired = w.allocate(AllocSpec {
        expires_at: local(2, 12, 0, 7),
        ..AllocSpec::pkh(3174)
    });
    // Recorded in a block at the expiry: too late.
    w.now = local(2, 12, 0, 7);
    let c3 = w.claim_full(&expired, local(2, 11, 30, 7), "o");
    let v = only_violations(&audit(&w), "claim_after_close");
    let entries: Vec<Vec<u64>> = v.iter().map(|v| v.entries.clone()).collect();
    assert_eq!(
        entries,
        [
            vec![returned.leaf, ret, c1],
            vec![revoked.leaf, rev, c2],
            vec![expired.leaf, c3]
        ]
    );
    assert!(v[2].detail.contains("expired"), "{}", v[2].detail);
}

#[test]
fn bad_returns_revocations_and_entries_are_violations() {
    let (mut w, tally) = clean_world();
    // Return by a member that is not the payer; revocation by another ministry.
    let a = w.allocate(AllocSpec::pkh(3174));
    let wrong_return = w.return_by(&a, BRI);
    let wrong_revoke = w.revoke_by(&a, KEMENKEU);
    // A second close; a close of a fully paid allocation.
    let ret = w.return_by(&a, POS);
    let again = w.revoke_by(&a, KEMENSOS);
    let b = w.allocate(AllocSpec::pkh(3174));
    let paid = w.claim_full(&b, local(2, 10, 0, 7), "o");
    let after_paid = w.return_by(&b, POS);
    // A return of nothing; a reused allocation id; bytes that are not a leaf.
    let ghost = Alloc {
        id: bansos_verifier::entry::AllocationId(fixed("ghost")),
        ..a.clone()
    };
    let no_alloc = w.revoke_by(&ghost, KEMENSOS);
    let (mut body, _) = w.allocation(&AllocSpec::pkh(3174));
    body.id = a.id;
    let reused = w.push(KEMENSOS, bansos_verifier::entry::TxBody::Allocation(body));
    let garbage = w.push_raw(vec![1, 2, 3]);

    let agg = audit(&w);
    assert!(agg.anomalies.is_empty(), "{:#?}", agg.anomalies);
    let got: Vec<(&str, Vec<u64>)> = agg
        .rule_violations
        .iter()
        .map(|v| (v.rule, v.entries.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("close_not_allowed", vec![a.leaf, wrong_return]),
            ("close_not_allowed", vec![a.leaf, wrong_revoke]),
            ("close_not_allowed", vec![a.leaf, ret, again]),
            ("close_not_allowed", vec![b.leaf, paid, after_paid]),
            ("close_without_allocation", vec![no_alloc]),
            ("duplicate_allocation_id", vec![a.leaf, reused]),
            ("undecodable_entry", vec![garbage]),
        ]
    );
    // Only the good return is counted; the reused id is not an allocation.
    assert_eq!(agg.totals.allocations, tally.allocations + 2);
    assert_eq!(agg.totals.returns, tally.returns + 1);
    assert_eq!(agg.totals.revocations, tally.revocations);
}

#[test]
fn a_changed_entry_is_refused() {
    let (w, _) = clean_world();
    let dir = tempfile::tempdir().unwrap();
    w.write_mirror(dir.path(), &[KEMENSOS, KEMENKEU, BRI]);
    // Change the amount byte of an entry in the first (full) bundle, keeping every length.
    let path = dir.path().join("tile/entries/000");
    let mut bundle = std::fs::read(&path).unwrap();
    let at = 2 + w.leaves[0].len() + 2 + 100;
    bundle[at] ^= 1;
    std::fs::write(&path, bundle).unwrap();
    let err = compute(dir.path(), None, Thresholds::default(), 0)
        .unwrap()
        .unwrap_err();
    assert!(err.contains("hash to the root"), "{err}");
    // A bundle that no longer splits is refused too.
    std::fs::write(&path, [0u8, 5, 1]).unwrap();
    let err = compute(dir.path(), None, Thresholds::default(), 0)
        .unwrap()
        .unwrap_err();
    assert!(err.contains("tile/entries/000"), "{err}");
    // A missing bundle is an error (exit 2), not a refusal.
    std::fs::remove_file(&path).unwrap();
    assert!(compute(dir.path(), None, Thresholds::default(), 0).is_err());
}

#[test]
fn the_checkpoint_needs_a_quorum_of_the_genesis_validators() {
    let (w, _) = clean_world();
    // Signed by 3 of 4: accepted with its genesis, refused with another key set.
    assert!(audit_with(&w, Some(&w.network), Thresholds::default()).is_ok());
    let (other, _) = genesis(101);
    let other = Network::from_bytes(&other).unwrap();
    let err = audit_with(&w, Some(&other), Thresholds::default()).unwrap_err();
    assert!(err.contains("quorum"), "{err}");
    // Signed by 2 of 4: below the quorum of 3.
    let dir = tempfile::tempdir().unwrap();
    w.write_mirror(dir.path(), &[KEMENSOS, BRI]);
    let err = compute(dir.path(), Some(&w.network), Thresholds::default(), 0)
        .unwrap()
        .unwrap_err();
    assert!(err.contains("quorum"), "{err}");
    // Without --genesis the signatures are not checked, only the root.
    assert!(
        compute(dir.path(), None, Thresholds::default(), 0)
            .unwrap()
            .is_ok()
    );
}

#[test]
fn an_empty_log_has_empty_tables() {
    let w = World::new();
    let agg = audit(&w);
    assert_eq!(agg.checkpoint.size, 0);
    assert_eq!(agg.totals, Counts::default());
    assert!(agg.by_region.is_empty() && agg.anomalies.is_empty());
}

#[test]
fn outputs_are_json_and_csv() {
    let (mut w, _) = clean_world();
    let a = w.allocate(AllocSpec::pkh(3174));
    let mut c = ClaimSpec::full(&a, local(2, 10, 0, 7), "o");
    c.region = 3273;
    w.claim(&a, c);
    let agg = audit(&w);
    let out = tempfile::tempdir().unwrap();
    write_outputs(out.path(), &agg).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("aggregates.json")).unwrap())
            .unwrap();
    assert_eq!(json["format"], AGGREGATES_FORMAT);
    assert_eq!(json["totals"]["claims"], agg.totals.claims);
    assert_eq!(json["by_region"][0]["region"], 3174);
    assert_eq!(json["anomalies"][0]["rule"], "claim_outside_region");
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    for k in [
        "format",
        "checkpoint",
        "generated_at",
        "totals",
        "by_program_period",
        "by_region",
        "by_channel",
        "by_payer",
        "time_to_claim",
        "rule_violations",
        "anomalies",
    ] {
        assert!(keys.iter().any(|x| *x == k), "{k}");
    }
    let mut r = csv::Reader::from_path(out.path().join("by_region.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "region",
            "region_name",
            "allocations",
            "allocated",
            "claims",
            "claimed",
            "returns",
            "returned",
            "revocations",
            "revoked",
            "outstanding"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), agg.by_region.len());
    assert_eq!(&rows[0][0], "3174");
    assert_eq!(&rows[0][4], agg.by_region[0].counts.claims.to_string());
    let mut r = csv::Reader::from_path(out.path().join("anomalies.csv")).unwrap();
    let row = r.records().next().unwrap().unwrap();
    assert_eq!(&row[0], "claim_outside_region");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&row[1]).unwrap(),
        agg.anomalies[0].key
    );
    assert_eq!(
        &row[2],
        agg.anomalies[0]
            .entries
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for name in [
        "by_program_period.csv",
        "by_channel.csv",
        "by_payer.csv",
        "time_to_claim.csv",
        "rule_violations.csv",
    ] {
        assert!(out.path().join(name).is_file(), "{name}");
    }
    assert!(
        !std::fs::read_dir(out.path())
            .unwrap()
            .any(|e| e.unwrap().path().extension() == Some("tmp".as_ref()))
    );
}

/// A larger mirror for measuring time and memory by hand:
/// `AUDIT_SCALE_DIR=/tmp/m AUDIT_SCALE_ALLOCATIONS=200000 cargo test -p bansos-audit --bin
/// bansos-audit -- --ignored write_a_large_mirror`, then `bansos-audit aggregates --mirror
/// /tmp/m --out /tmp/o` under `/usr/bin/time -v`.
#[test]
#[ignore = "writes a large mirror where AUDIT_SCALE_DIR says"]
fn write_a_large_mirror() {
    let dir = std::env::var("AUDIT_SCALE_DIR").expect("AUDIT_SCALE_DIR");
    let n: u64 = std::env::var("AUDIT_SCALE_ALLOCATIONS").map_or(100_000, |v| v.parse().unwrap());
    let mut w = World::new();
    let mut allocs = Vec::with_capacity(n as usize);
    for i in 0..n {
        let region = CLEAN_REGIONS[(i % 3) as usize].0;
        allocs.push(w.allocate(AllocSpec::pkh(region)));
    }
    for (i, a) in allocs.iter().enumerate() {
        let i = i as u64;
        w.claim_full(
            a,
            local(1 + i / 50_000, 9, 0, 9) + i % 3_600,
            &format!("o{}", i % 1000),
        );
    }
    w.write_mirror(Path::new(&dir), &[KEMENSOS, KEMENKEU, BRI]);
}

#[test]
fn with_the_genesis_every_signature_and_role_is_checked() {
    let (mut w, _) = clean_world();
    // A bank registering a program: signed correctly, but not its role's to submit.
    let bank_program = w.push(
        BRI,
        TxBody::ProgramRegistered(bansos_verifier::entry::ProgramRegistered {
            code: bansos_verifier::entry::ProgramCode::new("BANKPROG").unwrap(),
            name: "not a ministry's".into(),
            period_kind: bansos_verifier::entry::PeriodKind::Monthly,
            amount: bansos_verifier::entry::AmountRule::Flat(bansos_verifier::entry::Rupiah(1)),
        }),
    );
    // A ministry's registration whose signature was changed after signing.
    let forged = w.register("FORGED");
    let mut leaf = Leaf::decode(&w.leaves[forged as usize]).unwrap();
    leaf.tx.signature[0] ^= 1;
    w.leaves[forged as usize] = leaf.encode();
    // A transaction naming a signer that is not a member.
    let stranger_key = ed25519_dalek::SigningKey::from_bytes(&[77; 32]);
    let tx = SignedTx::sign(
        &w.network.id,
        MemberId(9),
        TxBody::ProgramRegistered(bansos_verifier::entry::ProgramRegistered {
            code: bansos_verifier::entry::ProgramCode::new("STRANGER").unwrap(),
            name: "from outside".into(),
            period_kind: bansos_verifier::entry::PeriodKind::Monthly,
            amount: bansos_verifier::entry::AmountRule::Flat(bansos_verifier::entry::Rupiah(1)),
        }),
        &stranger_key,
    )
    .unwrap();
    let stranger = w.push_raw(
        Leaf {
            height: 99,
            block_time: w.now,
            tx,
        }
        .encode(),
    );
    let agg = audit(&w);
    let found: Vec<(&str, Vec<u64>)> = agg
        .rule_violations
        .iter()
        .map(|v| (v.rule, v.entries.clone()))
        .collect();
    assert_eq!(
        found,
        [
            ("bad_signature", vec![forged]),
            ("bad_signature", vec![stranger]),
            ("role_not_allowed", vec![bank_program]),
        ],
        "{:#?}",
        agg.rule_violations
    );
    // Without the genesis there are no keys to check against.
    let agg = audit_with(&w, None, Thresholds::default()).unwrap();
    assert!(agg.rule_violations.is_empty(), "{:#?}", agg.rule_violations);
}

#[test]
fn allocations_are_held_to_their_programs_rules() {
    let (mut w, _) = clean_world();
    let registered = w.register("EXTRA"); // monthly, flat 100,000, Kemensos's
    let again = w.register("EXTRA");
    let unknown = w
        .allocate(AllocSpec {
            program: "NOPE",
            ..AllocSpec::sembako(3174)
        })
        .leaf;
    let by_other_ministry = w
        .allocate(AllocSpec {
            signer: KEMENKEU,
            ..AllocSpec::sembako(3174)
        })
        .leaf;
    let wrong_period = w
        .allocate(AllocSpec {
            period: "2026Q4",
            ..AllocSpec::sembako(3174)
        })
        .leaf;
    let wrong_amount = w
        .allocate(AllocSpec {
            program: "EXTRA",
            period: "2026-11",
            amount: 300_000,
            ..AllocSpec::sembako(3174)
        })
        .leaf;
    let ministry_payer = w
        .allocate(AllocSpec {
            payer: KEMENKEU,
            ..AllocSpec::sembako(3174)
        })
        .leaf;
    let born_expired = w
        .allocate(AllocSpec {
            expires_at: w.now,
            ..AllocSpec::sembako(3174)
        })
        .leaf;
    let agg = audit(&w);
    let found: Vec<(&str, Vec<u64>)> = agg
        .rule_violations
        .iter()
        .map(|v| (v.rule, v.entries.clone()))
        .collect();
    let want: Vec<(&str, Vec<u64>)> = vec![
        ("allocation_not_by_issuer", vec![by_other_ministry]),
        ("amount_outside_rule", vec![registered, wrong_amount]),
        ("expires_in_past", vec![born_expired]),
        ("payer_not_bank", vec![ministry_payer]),
        ("period_mismatch", vec![wrong_period]),
        ("program_exists", vec![registered, again]),
        ("unknown_program", vec![unknown]),
    ];
    assert_eq!(found, want, "{:#?}", agg.rule_violations);
    // Without the genesis its programs are unknown: only what the log itself shows is flagged.
    let agg = audit_with(&w, None, Thresholds::default()).unwrap();
    let rules: Vec<&str> = agg.rule_violations.iter().map(|v| v.rule).collect();
    assert_eq!(
        rules,
        ["amount_outside_rule", "expires_in_past", "program_exists"]
    );
}
