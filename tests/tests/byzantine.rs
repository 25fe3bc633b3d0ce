//! One Byzantine validator of four, as a real process: the fourth `bansos-node` of a testnet is
//! restarted with a `[byzantine]` section in its `node.toml` (the test build of `bansos-node`
//! has the feature `byzantine`, switched on by this crate's dev-dependency), under load, in
//! two phases:
//!
//! 1. Malachite's proxy equivocates its votes (randomly, seeded) and its proposals, and drops
//!    some of the proposals it receives; the application puts an invalid transaction in each
//!    of its proposals and a forged signature in each of its checkpoint votes.
//! 2. The proxy drops some of its votes and proposals, its precommits for a value are turned
//!    nil at random and its nil prevotes would ignore its lock (amnesia; whether that fires
//!    depends on the run, so only the nil precommits are checked); the application stamps its
//!    proposals an hour ahead of the clock.
//!
//! In each phase the three honest validators keep committing (their height grows), the
//! transactions offered are committed, and the misbehaviour shows: in the honest validators'
//! metrics (`bansos_invalid_proposals_total`, `bansos_refused_checkpoint_votes_total`) and
//! logs (each refusal names the Byzantine validator), and in the Byzantine one's own log and
//! metrics. At the end the honest validators hold one identical log, and `bansos-verify log
//! --quorum 3` accepts each one's quorum-signed checkpoint and tiles.

use std::process::{Command, Stdio};

use bansos_tests::{Testnet, agent, binary, get, height, log_size, status, wait_for};

/// Heights each honest validator must commit in each phase.
const PHASE_HEIGHTS_MIN: u64 = 10;

const EQUIVOCATE: &str = "\n[byzantine]\n\
    seed = 41\n\
    equivocate_votes = { mode = \"random\", probability = 0.5 }\n\
    equivocate_proposals = { mode = \"always\" }\n\
    drop_inbound_proposals = { mode = \"random\", probability = 0.2 }\n\
    [byzantine.app]\n\
    forge_checkpoint_signature = true\n\
    invalid_tx_in_proposal = true\n";

const SILENCE_AND_CLOCK: &str = "\n[byzantine]\n\
    seed = 42\n\
    drop_votes = { mode = \"random\", probability = 0.3 }\n\
    drop_proposals = { mode = \"random\", probability = 0.5 }\n\
    force_precommit_nil = { mode = \"random\", probability = 0.5 }\n\
    ignore_locks = { mode = \"always\" }\n\
    [byzantine.app]\n\
    block_time_offset_s = 3600\n";

/// A validator's `/metrics` text.
fn metrics(url: &str) -> String {
    let mut r = agent()
        .get(&format!("{url}/metrics"))
        .call()
        .expect("/metrics answers");
    assert_eq!(r.status().as_u16(), 200);
    r.body_mut().read_to_string().expect("/metrics text")
}

/// One metric's value, if the validator exports it.
fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (n, v) = l.split_once(' ')?;
        (n == name).then(|| v.parse().expect("a number"))
    })
}

/// The two misbehaviour counters of a validator: (invalid proposals, refused checkpoint votes).
fn refusals(url: &str) -> (u64, u64) {
    let m = metrics(url);
    (
        metric(&m, "bansos_invalid_proposals_total").expect("invalid proposals counter"),
        metric(&m, "bansos_refused_checkpoint_votes_total").expect("refused votes counter"),
    )
}

/// A validator's output so far (stdout and stderr, kept by `bansos-testnet`).
fn node_log(net: &Testnet, name: &str) -> String {
    std::fs::read_to_string(net.dir.join(name).join("node.log")).expect("node.log")
}

/// Root of the log at `size` as a node computes it (from its proof endpoint).
fn root_at(url: &str, size: u64) -> String {
    let (code, v) = get(&format!("{url}/v1/proof/inclusion?index=0&size={size}"));
    assert_eq!(code, 200, "{url} root at {size}: {v}");
    v["root"].as_str().expect("root").to_string()
}

/// Offers transactions to every validator for `secs` seconds (`bansos-testnet load`).
fn load(net: &Testnet, secs: u64) {
    let ok = Command::new(binary("bansos-testnet"))
        .args(["load", "--rate", "40", "--drain-secs", "30", "--duration"])
        .arg(secs.to_string())
        .arg("--dir")
        .arg(&net.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("running bansos-testnet load");
    assert!(ok.success(), "bansos-testnet load failed");
}

/// Lines of `log` holding every one of `what`; each must name `address`.
fn lines_naming(log: &str, what: &[&str], address: &str) -> usize {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| what.iter().all(|w| l.contains(w)))
        .collect();
    for l in &lines {
        assert!(l.contains(address), "not about {address}: {l}");
    }
    lines.len()
}

#[test]
fn three_honest_validators_commit_one_log_beside_a_byzantine_one() {
    let tmp = tempfile::tempdir().unwrap();
    let mut net = Testnet::up(&tmp.path().join("net"), 19_400, 30);
    let names: Vec<String> = net.info["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 4);
    let byzantine = names[3].clone();
    let honest: Vec<String> = names[..3].iter().map(|n| net.url(n)).collect();
    let genesis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(net.dir.join("genesis.json")).unwrap()).unwrap();
    let id = genesis["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == byzantine.as_str())
        .expect("the Byzantine validator in genesis")["id"]
        .as_u64()
        .unwrap();
    // How the honest validators' logs name it (`ctx::Address`'s Display).
    let address = format!("member-{id}");
    let toml = net.dir.join(&byzantine).join("node.toml");
    let honest_toml = std::fs::read_to_string(&toml).unwrap();
    assert_eq!(
        metric(&metrics(&net.url(&byzantine)), "bansos_byzantine"),
        None,
        "an honest validator does not export bansos_byzantine"
    );

    for (phase, section) in [
        ("equivocate", EQUIVOCATE),
        ("silence and clock", SILENCE_AND_CLOCK),
    ] {
        std::fs::write(&toml, format!("{honest_toml}{section}")).unwrap();
        net.testnet(&["stop", "--node", &byzantine]);
        net.testnet(&["start", "--node", &byzantine]);
        net.reload();
        let bad = net.url(&byzantine);
        assert_eq!(
            metric(&metrics(&bad), "bansos_byzantine"),
            Some(1),
            "{phase}"
        );
        let before: Vec<(u64, (u64, u64), u64)> = honest
            .iter()
            .map(|u| (height(u), refusals(u), log_size(u)))
            .collect();

        load(&net, 8);
        for (u, (h, _, _)) in honest.iter().zip(&before) {
            wait_for(
                &format!("{phase}: {u} to commit {PHASE_HEIGHTS_MIN} heights"),
                120,
                || height(u) >= h + PHASE_HEIGHTS_MIN,
            );
        }
        for (u, (h, (invalid, refused), size)) in honest.iter().zip(&before) {
            let (invalid_now, refused_now) = refusals(u);
            let (h_now, size_now) = (height(u), log_size(u));
            println!(
                "{phase}: {u} height {h} -> {h_now}, log {size} -> {size_now}, \
                 invalid proposals {invalid} -> {invalid_now}, \
                 refused checkpoint votes {refused} -> {refused_now}"
            );
            assert!(size_now > *size, "{phase}: {u} committed no transaction");
            assert!(
                invalid_now > *invalid,
                "{phase}: {u} refused none of the Byzantine validator's proposals"
            );
            if section.contains("forge_checkpoint_signature") {
                assert!(
                    refused_now > *refused,
                    "{phase}: {u} refused none of its checkpoint votes"
                );
            }
        }
    }

    // What each side logged. The Byzantine validator says so, and what its proxy did.
    let bad_log = node_log(&net, &byzantine);
    for what in [
        "THIS VALIDATOR MISBEHAVES ON PURPOSE",
        "BYZANTINE: Equivocating vote",
        "BYZANTINE: Sending conflicting proposal",
        "BYZANTINE: Dropping vote",
        "BYZANTINE: Dropping proposal",
        "BYZANTINE: Forcing a nil precommit",
    ] {
        assert!(bad_log.contains(what), "the Byzantine log lacks {what:?}");
    }
    println!(
        "amnesia overrides: {}",
        bad_log.matches("BYZANTINE AMNESIA: Overriding").count()
    );
    // Every honest validator refused its blocks for each reason and its forged checkpoint
    // signatures, and nothing of anyone else (late honest precommits are checked against the
    // checkpoint of their own height, so they are not refused).
    for name in &names[..3] {
        let log = node_log(&net, name);
        let bad_tx = lines_naming(&log, &["invalid block:", "transaction"], &address);
        let bad_time = lines_naming(&log, &["invalid block: block time"], &address);
        let refused = lines_naming(&log, &["refused a checkpoint vote"], &address);
        let forged = lines_naming(
            &log,
            &["refused a checkpoint vote", "bad checkpoint signature"],
            &address,
        );
        println!(
            "{name}: refused blocks {bad_tx} (transaction), {bad_time} (time); \
             checkpoint votes {refused}, {forged} of them forged"
        );
        assert!(
            bad_tx > 0 && bad_time > 0 && forged > 0,
            "{name}'s log:\n{log}"
        );
    }

    // Safety: the honest validators hold one log and publish its quorum-signed checkpoint.
    let mut size = 0;
    wait_for(
        "the honest validators at one log and checkpoint size",
        60,
        || {
            let sizes: Vec<(u64, u64)> = honest
                .iter()
                .map(|u| {
                    let s = status(u);
                    (
                        s["log_size"].as_u64().unwrap_or(u64::MAX),
                        s["checkpoint_size"].as_u64().unwrap_or(u64::MAX),
                    )
                })
                .collect();
            size = sizes[0].0;
            sizes.iter().all(|s| *s == sizes[0]) && sizes[0].0 == sizes[0].1
        },
    );
    assert!(size > 30, "the log holds only {size} entries");
    for probe in [1, size / 2, size] {
        let roots: Vec<String> = honest.iter().map(|u| root_at(u, probe)).collect();
        assert!(
            roots.iter().all(|r| r == &roots[0]),
            "honest validators disagree at size {probe}: {roots:?}"
        );
    }
    let vkeys = std::fs::read_to_string(net.dir.join("vkeys.txt")).unwrap();
    for url in &honest {
        let mut cmd = Command::new(binary("bansos-verify"));
        cmd.args(["log", "--url", url, "--quorum", "3"]);
        for k in vkeys.lines().filter(|l| !l.is_empty()) {
            cmd.args(["--key", k]);
        }
        let out = cmd.output().expect("running bansos-verify");
        assert!(
            out.status.success(),
            "bansos-verify log against {url}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    net.testnet(&["down", "--grace", "3"]);
}
