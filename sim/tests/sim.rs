//! The simulator's own guarantees: a seed fixes the run, the invariants hold on honest runs,
//! and each injected bug is caught (the checks can fail).

use bansos_sim::{Bug, Config, run};

fn config() -> Config {
    Config {
        chaos_ms: 4_000,
        ..Config::default()
    }
}

#[test]
fn one_seed_gives_one_run() {
    for byzantine in [0, 1] {
        let c = Config {
            byzantine,
            ..config()
        };
        let a = run(&c, 7);
        let b = run(&c, 7);
        assert_eq!(a.trace_hash, b.trace_hash, "byzantine {byzantine}");
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

#[test]
fn every_injected_bug_is_caught() {
    for (name, bug) in Bug::ALL {
        let c = Config {
            bug: Some(bug),
            ..Config::default()
        };
        let caught = (1..=30).find_map(|seed| run(&c, seed).violations.into_iter().next());
        let v = caught.unwrap_or_else(|| panic!("{name} was not caught in 30 seeds"));
        let expected = match bug {
            Bug::SignForkedCheckpoint => "checkpoints",
            Bug::CommitWithoutQuorum => "quorum",
            Bug::ForgetWal => "votes",
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
}
