//! The simulator's own guarantees: a seed fixes the run, the invariants hold on honest runs
//! and through governance changes, and each injected bug is caught (the checks can fail).

use bansos_sim::{Bug, Config, Named, Scenario, run};

fn config() -> Config {
    Config {
        chaos_ms: 4_000,
        ..Config::default()
    }
}

/// A governance scenario's configuration (4 validators, 5 to remove one, 6 to double one's
/// power, a Byzantine one to vote twice). Stale keys are counted, not failed on: see
/// `a_removed_or_rotated_out_key_still_signs_the_checkpoints_its_node_publishes`.
fn governance(scenario: Scenario) -> Config {
    Config {
        validators: match scenario {
            Scenario::Remove => 5,
            Scenario::Power => 6,
            _ => 4,
        },
        byzantine: usize::from(scenario == Scenario::DoubleVote),
        governance: Some(scenario),
        allow_stale_keys: true,
        ..config()
    }
}

#[test]
fn one_seed_gives_one_run() {
    for c in [
        config(),
        Config {
            byzantine: 1,
            ..config()
        },
        governance(Scenario::Chain),
        governance(Scenario::DoubleVote),
    ] {
        let a = run(&c, 7);
        let b = run(&c, 7);
        assert_eq!(a.trace_hash, b.trace_hash, "{c:?}");
        assert_eq!((a.steps, a.sim_ms, a.stats), (b.steps, b.sim_ms, b.stats));
        assert_ne!(
            a.trace_hash,
            run(&c, 8).trace_hash,
            "another seed, another run"
        );
    }
}

#[test]
fn honest_and_byzantine_runs_keep_the_invariants_and_progress() {
    for (validators, byzantine, seeds) in [(4, 0, 1..6), (4, 1, 1..6), (7, 2, 1..3)] {
        let c = Config {
            validators,
            byzantine,
            ..config()
        };
        for seed in seeds {
            let o = run(&c, seed);
            assert_eq!(o.violations, vec![], "seed {seed}, {validators} validators");
            assert!(o.min_height >= 5, "seed {seed}: {} heights", o.min_height);
        }
    }
}

/// Seed 656 with one Byzantine validator of four: an honest precommit of round 0 is lost, its
/// sender moves to round 1, and the two others wait in round 0 for it — Malachite 0.8.2
/// rebroadcasts only the current round's votes, and a round certificate's precommits carry no
/// vote extension. With the shell sending earlier rounds' precommits again
/// (`consensus::liveness`), the height decides.
#[test]
fn a_lost_precommit_of_an_earlier_round_does_not_stall_the_height() {
    let c = Config {
        byzantine: 1,
        ..Config::default()
    };
    let with = run(&c, 656);
    assert_eq!(with.violations, vec![]);
    assert!(with.stats.republished >= 1);
    let without = run(
        &Config {
            republish_precommits: false,
            ..c
        },
        656,
    );
    assert_eq!(without.min_height, 0, "the engine alone stalls at height 1");
    assert_eq!(without.violations[0].invariant, "progress");
}

/// Every scenario approves its changes, each validator following the roster of each height,
/// with the invariants kept; the checks of governance run (an epoch started, a joining or
/// rotated validator signed blocks, a removed one retired or kept following).
#[test]
fn validator_set_changes_keep_the_invariants() {
    for &(name, scenario) in Scenario::ALL {
        let c = governance(scenario);
        let planned = match scenario {
            Scenario::Chain => 3,
            Scenario::DoubleVote => 2,
            _ => 1,
        };
        for seed in 1..4 {
            let o = run(&c, seed);
            assert_eq!(o.violations, vec![], "{name}, seed {seed}");
            assert_eq!(o.epoch, planned, "{name}, seed {seed}: changes approved");
            assert!(
                o.min_height >= 5,
                "{name}, seed {seed}: {} heights",
                o.min_height
            );
            assert!(o.stats.votes >= 3, "{name}, seed {seed}: votes submitted");
        }
    }
}

/// A Byzantine validator that votes for two changes in one epoch and puts its votes in its
/// blocks again: one change per epoch is approved, the other refused in the block or in the
/// next ones, and the resubmitted votes are refused as duplicates.
#[test]
fn a_double_vote_approves_one_change_per_epoch() {
    let c = governance(Scenario::DoubleVote);
    let mut fates = std::collections::BTreeMap::new();
    for seed in 1..11 {
        let o = run(&c, seed);
        assert_eq!(o.violations, vec![], "seed {seed}");
        assert_eq!(o.epoch, 2, "seed {seed}");
        for (k, v) in o.stats.vote_fates {
            *fates.entry(k).or_insert(0) += v;
        }
    }
    for fate in ["accepted", "change_approved_in_block", "duplicate_in_block"] {
        assert!(
            fates.get(fate).copied().unwrap_or(0) > 0,
            "{fate}: {fates:?}"
        );
    }
}

/// A defect of the consensus core this simulator found (issue #14), now fixed: a validator
/// whose key was rotated out (until its operator switches keys) or that was removed added its
/// own signature, made with that key, to the checkpoint its node published. No key that no
/// longer validates signs anything: the stale-keys invariant holds without exception.
#[test]
fn a_removed_or_rotated_out_key_signs_no_checkpoint() {
    for scenario in [Scenario::Rotate, Scenario::Remove] {
        let c = Config {
            allow_stale_keys: false,
            ..governance(scenario)
        };
        for seed in 1..=10 {
            let violations = run(&c, seed).violations;
            assert!(
                violations.is_empty(),
                "{scenario:?} seed {seed}: {violations:?}"
            );
        }
    }
}

#[test]
fn every_injected_bug_is_caught() {
    for &(name, bug) in Bug::ALL {
        // A fixed validator set shows only once governance changes the validators.
        let c = Config {
            bug: Some(bug),
            ..match bug {
                Bug::FixedValidatorSet => governance(Scenario::Add),
                _ => Config::default(),
            }
        };
        let caught = (1..=30).find_map(|seed| run(&c, seed).violations.into_iter().next());
        let v = caught.unwrap_or_else(|| panic!("{name} was not caught in 30 seeds"));
        let expected = match bug {
            Bug::SignForkedCheckpoint => "checkpoints",
            Bug::CommitWithoutQuorum => "quorum",
            Bug::ForgetWal => "votes",
            Bug::FixedValidatorSet => "validator-set",
        };
        assert_eq!(v.invariant, expected, "{name}: {}", v.detail);
        assert!(!v.trace.is_empty(), "a violation carries its trace");
    }
}

#[test]
fn bounds_are_checked() {
    let bad = |validators, byzantine| {
        Config {
            validators,
            byzantine,
            ..Config::default()
        }
        .check()
    };
    assert!(bad(3, 0).is_err());
    assert!(bad(8, 0).is_err());
    assert!(bad(4, 2).unwrap_err().contains("at most f = 1"));
    assert!(bad(7, 2).is_ok());
    let scenario = |scenario, validators, byzantine| {
        Config {
            validators,
            byzantine,
            governance: Some(scenario),
            ..Config::default()
        }
        .check()
    };
    assert!(
        scenario(Scenario::Remove, 4, 0).is_err(),
        "4 validators must stay"
    );
    assert!(scenario(Scenario::Remove, 5, 0).is_ok());
    assert!(
        scenario(Scenario::DoubleVote, 4, 0).is_err(),
        "needs a Byzantine voter"
    );
    assert!(scenario(Scenario::Add, 7, 0).is_err());
    let unshown = Config {
        bug: Some(Bug::FixedValidatorSet),
        ..Config::default()
    };
    assert!(unshown.check().is_err());
}
