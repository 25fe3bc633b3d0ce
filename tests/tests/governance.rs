//! Governance on a live 4-validator testnet under load (issue #14's acceptance): a fifth
//! validator joins, a key is rotated and a validator leaves, each by a vote on the log; the log
//! keeps growing throughout, every node ends on the same log, the checkpoint verifies with the
//! then-current keys under the independent `signed_note` crate and `bansos-verify log`, a
//! rotated-out key can sign nothing, and `bansos-verify receipt` with the *genesis* trust policy
//! verifies a receipt made before the changes against a checkpoint signed after them (online,
//! following the node's key history, and offline from the bundle it saved).

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bansos_tests::{
    Running, Testnet, binary, client, get, log_size, post, status, wait_for, write_client_config,
};
use bansos_verifier::entry::{MemberId, SignedTx, TxBody};
use bansos_verifier::governance::{Change, Vote};

/// Every node at the same log and checkpoint size, with the same checkpoint; returns it.
fn converged(net: &Testnet, secs: u64) -> String {
    let urls = net.urls();
    let mut note = String::new();
    wait_for("every node at the same log and checkpoint", secs, || {
        let notes: Vec<(u64, u64, String)> = urls
            .iter()
            .map(|u| {
                let s = status(u);
                let body = bansos_tests::agent()
                    .get(&format!("{u}/checkpoint"))
                    .call()
                    .ok()
                    .and_then(|mut r| r.body_mut().read_to_string().ok())
                    .unwrap_or_default();
                let text = body.split("\n\n").next().unwrap_or("").to_string();
                (
                    s["log_size"].as_u64().unwrap_or(u64::MAX),
                    s["checkpoint_size"].as_u64().unwrap_or(u64::MAX),
                    text,
                )
            })
            .collect();
        note = notes[0].2.clone();
        notes.iter().all(|n| n == &notes[0]) && notes[0].0 == notes[0].1 && !note.is_empty()
    });
    note
}

#[test]
fn validators_join_rotate_and_leave_by_vote_under_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut net = Testnet::up(&dir, 19_800, 40);
    let first = net.url("kemensos");

    // Watch the log: the longest time it did not grow while the changes happened.
    let stop = Arc::new(AtomicBool::new(false));
    let longest = Arc::new(Mutex::new(Duration::ZERO));
    let watcher = {
        let (stop, longest, url) = (stop.clone(), longest.clone(), first.clone());
        std::thread::spawn(move || {
            let (mut last, mut since) = (0, Instant::now());
            while !stop.load(Ordering::Relaxed) {
                let size = log_size(&url);
                if size > last {
                    last = size;
                    since = Instant::now();
                }
                let mut l = longest.lock().unwrap();
                *l = (*l).max(since.elapsed());
                drop(l);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let mut load = Running(
        Command::new(binary("bansos-testnet"))
            .args(["load", "--rate", "150", "--duration", "90", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_secs(3));

    let joined = net.testnet(&["add-validator", "--name", "ojk", "--role", "auditor"]);
    assert!(
        joined.contains("approved: epoch 1 with 5 validators"),
        "{joined}"
    );
    net.reload();
    assert_eq!(net.urls().len(), 5);
    let old_bri = net.key("bri");
    let rotated = net.testnet(&["rotate-key", "--node", "bri"]);
    assert!(rotated.contains("approved: epoch 2"), "{rotated}");
    let left = net.testnet(&["remove-validator", "--node", "pos"]);
    assert!(
        left.contains("approved: epoch 3 with 4 validators"),
        "{left}"
    );
    net.reload();
    assert_eq!(net.urls().len(), 4);
    let _ = load.0.kill();
    let _ = load.0.wait();
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let longest = *longest.lock().unwrap();
    println!(
        "the log grew at least every {:.1} s during the changes",
        longest.as_secs_f64()
    );
    assert!(
        longest < Duration::from_secs(20),
        "the log stopped growing for {longest:?}"
    );

    // Members vote with their own client: kemensos proposes BSI (a member that does not
    // validate) from the card BSI drew itself; kemenkeu and bri, with its rotated key, vote.
    let cards = tmp.path().join("bsi");
    let out = Command::new(binary("bansos-genesis"))
        .args([
            "keygen",
            "--name",
            "bsi",
            "--role",
            "bank",
            "--host",
            "127.0.0.1",
        ])
        .args(["--display-name", "Bank Syariah Indonesia", "--out"])
        .arg(&cards)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = |m: &str| {
        let path = tmp.path().join(format!("{m}.toml"));
        write_client_config(&net, &path, &format!("{m}.jsonl"), m);
        path
    };
    let said = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let card = cards.join("bsi.card.json");
    let proposed = said(client(
        &config("kemensos"),
        &[
            "governance",
            "propose",
            "add-member",
            "--voting-power",
            "0",
            "--card",
            card.to_str().unwrap(),
        ],
    ));
    assert!(proposed.contains("waiting for more votes"), "{proposed}");
    let shown = said(client(&config("kemenkeu"), &["governance", "status"]));
    let hash = shown
        .lines()
        .find_map(|l| l.strip_prefix("pending "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no pending change in {shown}"))
        .to_string();
    let first_vote = said(client(&config("kemenkeu"), &["governance", "vote", &hash]));
    // Voting again is the same transaction: it is not counted twice, only found again.
    let again = said(client(&config("kemenkeu"), &["governance", "vote", &hash]));
    assert_eq!(again, first_vote, "a second vote by kemenkeu");
    let approved = said(client(&config("bri"), &["governance", "vote", &hash]));
    assert!(
        approved.contains("the change is approved: epoch 4"),
        "{approved}"
    );

    // Every node agrees; the roster everywhere is epoch 4 with ojk, bri's new key and bsi.
    let note = converged(&net, 90);
    for url in net.urls() {
        let g = get(&format!("{url}/v1/governance")).1;
        assert_eq!(g["epoch"], 4, "{url}");
        let names: Vec<&str> = g["roster"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["active"] == true && m["power"].as_u64() > Some(0))
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["kemensos", "kemenkeu", "bri", "ojk"], "{url}");
        // Every node serves the whole key history, ojk too, which synced the first block of
        // its own epoch from the others.
        let history = get(&format!("{url}/key-history")).1;
        let epochs: Vec<u64> = history["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["epoch"].as_u64().unwrap())
            .collect();
        assert_eq!(epochs, [1, 2, 3, 4], "{url}");
    }

    // The independent C2SP note implementation verifies the checkpoint with the then-current
    // keys (vkeys.txt, kept true by the testnet), a quorum of them.
    let vkeys = std::fs::read_to_string(dir.join("vkeys.txt")).unwrap();
    let keys: Vec<&str> = vkeys.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(keys.len(), 4);
    assert!(vkeys.contains("ojk+") && !vkeys.contains("pos+"));
    let verifiers = signed_note::VerifierList::new(
        keys.iter()
            .map(|k| {
                Box::new(signed_note::StandardVerifier::new(k).unwrap())
                    as Box<dyn signed_note::Verifier>
            })
            .collect(),
    );
    let served = bansos_tests::agent()
        .get(&format!("{first}/checkpoint"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    let parsed = signed_note::Note::from_bytes(&served).unwrap();
    let (verified, _) = parsed.verify(&verifiers).unwrap();
    assert!(
        verified.len() >= 3,
        "{} current keys signed {note}",
        verified.len()
    );
    let mut cmd = Command::new(binary("bansos-verify"));
    cmd.args(["log", "--url", &first, "--quorum", "3"]);
    for k in &keys {
        cmd.args(["--key", k]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "bansos-verify log with the current keys: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The rotated-out key signs nothing any more.
    let id = net.network_id();
    let vote = SignedTx::sign(
        &id,
        MemberId(2),
        TxBody::Vote(Vote {
            epoch: 4,
            change: Change::SetWitnessQuorum { quorum: 0 },
        }),
        old_bri.signing_key(),
    )
    .unwrap();
    let (code, v, _) = post(&format!("{first}/v1/tx"), &vote.encode());
    assert_eq!(code, 422, "a vote signed by bri's old key: {v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("signature does not verify")),
        "{v}"
    );

    // A receipt made before the changes, checked with the genesis trust policy against a
    // checkpoint signed after them: online, then offline from the saved bundle.
    let receipts = std::fs::read_to_string(dir.join("demo-receipts.txt")).unwrap();
    let line = receipts.lines().find(|l| !l.starts_with('#')).unwrap();
    let (code, nik) = line.split_once(' ').unwrap();
    let bundle = tmp.path().join("bundle.json");
    let policy = dir.join("policy.json");
    let online = Command::new(binary("bansos-verify"))
        .args(["receipt", code, "--nik", nik, "--node", &first, "--policy"])
        .arg(&policy)
        .arg("--save-bundle")
        .arg(&bundle)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&online.stdout);
    assert!(
        matches!(online.status.code(), Some(0 | 10 | 11 | 12)),
        "receipt with the genesis policy: {:?}\n{said}\n{}",
        online.status,
        String::from_utf8_lossy(&online.stderr)
    );
    assert!(said.contains("dari 4 validator"), "{said}");
    let saved = std::fs::read_to_string(&bundle).unwrap();
    assert!(
        saved.contains("\"key_history\""),
        "the bundle carries the key history"
    );
    let offline = Command::new(binary("bansos-verify"))
        .args(["receipt", code, "--nik", nik, "--policy"])
        .arg(&policy)
        .arg("--bundle")
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(
        offline.status.code(),
        online.status.code(),
        "offline, from the bundle"
    );

    // A removed validator's node refuses to start as a validator.
    let pos_config = dir.join("pos").join("node.toml");
    let out = Command::new(binary("bansos-node"))
        .arg("--config")
        .arg(&pos_config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("removed from the network"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    net.reload();
}
