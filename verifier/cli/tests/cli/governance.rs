//! `bansos-verify log` and `proof` after governance changes: with the network's trust policy
//! and the key history (served by the log, given as a file, or fetched from a node) a
//! checkpoint signed by the validators of a later epoch verifies; with the genesis keys alone
//! it fails and says what to do; a key history that the log's votes do not bear out fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::builder::{Signer, TestLog, entry};
use crate::support::governance::{Governed, START_1, START_2, VOTES_1, member, policy_json};
use crate::support::server::TestServer;
use crate::support::{Run, key_args, run};

/// Serves the governed log at size `size` with its checkpoint, and its key history if `history`.
fn serve(g: &Governed, size: u64, history: Option<Vec<u8>>) -> TestServer {
    let mut files: BTreeMap<String, Vec<u8>> = g.log.tiles(size);
    files.insert("checkpoint".into(), g.checkpoint.clone());
    if let Some(h) = history {
        files.insert("key-history".into(), h);
    }
    TestServer::start(files)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn log_with_policy(server: &TestServer, policy: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "log".to_string(),
        "--url".into(),
        server.url(false),
        "--policy".into(),
        policy.display().to_string(),
        "--seed".into(),
        "3".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args)
}

fn genesis_keys() -> Vec<Signer> {
    (0..4).map(member).collect()
}

#[test]
fn a_log_audit_follows_the_key_history_and_finds_its_votes() {
    let g = Governed::new(1200);
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.json", policy_json().as_bytes());
    let server = serve(&g, 1200, Some(g.history_json()));
    let ok = format!("OK size=1200 root={}", g.log.root(1200));

    let out = log_with_policy(&server, &policy, &[]);
    out.assert_ok(&ok);
    for needle in [
        "signed by 4 of the 5 validators of epoch 2 (v1, v2, v3, v4)",
        "2 approved changes followed from the genesis keys",
        "2 approved changes checked against the log",
        "7 of their 7 votes found",
    ] {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }

    // The genesis keys alone do not make a quorum of epoch 2 (v1 and v2 only), and the error
    // says what to do.
    let mut args = vec!["log".to_string(), "--url".into(), server.url(false)];
    args.extend(key_args(&genesis_keys()));
    args.extend(["--quorum".into(), "3".into()]);
    run(&args).assert_fails(
        1,
        &[
            "only 2 of the required 3",
            "v3, v4",
            "--policy",
            "key history",
        ],
    );

    // Without the served history the trust policy knows only the genesis keys.
    server.files().remove("key-history");
    log_with_policy(&server, &policy, &[]).assert_fails(
        1,
        &[
            "only 2 of the required 3",
            "newer key history",
            "--key-history",
        ],
    );
}

#[test]
fn a_log_without_changes_audits_with_the_policy_as_with_the_keys() {
    let log = TestLog::new(300);
    let v: Vec<Signer> = genesis_keys();
    let refs: Vec<&Signer> = v.iter().collect();
    let mut files = log.tiles(300);
    files.insert("checkpoint".into(), log.checkpoint(300, &refs[..3]));
    let server = TestServer::start(files);
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.json", policy_json().as_bytes());
    let out = log_with_policy(&server, &policy, &[]);
    out.assert_ok(&format!("OK size=300 root={}", log.root(300)));
    assert!(
        out.stderr
            .contains("signed by 3 of the 4 validators of epoch 0 (v0, v1, v2)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("governance"), "{}", out.stderr);
}

#[test]
fn a_sampled_audit_reads_the_approving_votes() {
    let size = 100_300; // above the complete-audit bound: sampled
    let g = Governed::new(size);
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.json", policy_json().as_bytes());
    let server = serve(&g, size, Some(g.history_json()));
    let out = log_with_policy(&server, &policy, &["--sample", "2"]);
    out.assert_ok(&format!("OK size={size} root={}", g.log.root(size)));
    assert!(
        out.stderr.contains("sampled audit passed"),
        "{}",
        out.stderr
    );
    // Bundles 1 and 3 hold entries 299 and 799, the approving votes.
    let bundles: Vec<String> = server
        .seen()
        .into_iter()
        .map(|s| s.path)
        .filter(|p| p.starts_with("tile/entries/"))
        .collect();
    for b in ["tile/entries/001", "tile/entries/003"] {
        assert!(bundles.iter().any(|p| p == b), "{b}: {bundles:?}");
    }
    assert!(
        out.stderr
            .contains("2 approved changes checked against the log"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_key_history_the_log_does_not_bear_out_fails() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.json", policy_json().as_bytes());

    // The approving vote is not the entry before the epoch's start.
    let moved = Governed::with(1200, |e| e.swap(299, 298));
    let server = serve(&moved, 1200, Some(moved.history_json()));
    log_with_policy(&server, &policy, &[]).assert_fails(
        1,
        &[
            "epoch 1 starts at log size 300",
            "entry 299",
            "not one of the votes",
        ],
    );

    // A vote the history cites is not in the log.
    let dropped = Governed::with(1200, |e| e[VOTES_1[0].0 as usize] = entry(VOTES_1[0].0));
    let server = serve(&dropped, 1200, Some(dropped.history_json()));
    log_with_policy(&server, &policy, &[]).assert_fails(
        1,
        &["vote 0 of the key history's epoch 1 is not in the log"],
    );

    // A vote of epoch 0 logged in epoch 1.
    let late = Governed::with(1200, |e| e.swap(VOTES_1[0].0 as usize, 400));
    let server = serve(&late, 1200, Some(late.history_json()));
    log_with_policy(&server, &policy, &[]).assert_fails(
        1,
        &[
            "vote 0 of the key history's epoch 1 is entry 400",
            "outside the epoch",
        ],
    );

    // The first checkpoint of epoch 2 is of another log than the one audited.
    let g = Governed::new(1200);
    let other = Governed::with(1200, |e| e[START_2 as usize - 10] = b"another".to_vec());
    let mut history = other.history.clone();
    history.links[0] = g.history.links[0].clone();
    let server = serve(&g, 1200, Some(serde_json::to_vec(&history).unwrap()));
    log_with_policy(&server, &policy, &[]).assert_fails(
        1,
        &[
            "first checkpoint of the key history's epoch 2",
            "is not of this log",
        ],
    );

    // A change with too few votes does not follow from the policy at all.
    let mut weak = g.history.clone();
    weak.links[0].votes.pop();
    let server = serve(&g, 1200, Some(serde_json::to_vec(&weak).unwrap()));
    log_with_policy(&server, &policy, &[]).assert_fails(
        1,
        &[
            "key history the log serves",
            "does not follow from the trust policy",
            "epoch 1",
        ],
    );
}

/// A proof of entry 1000 of the governed log, under its checkpoint signed by epoch 2.
fn later_proof(g: &Governed, dir: &Path) -> PathBuf {
    let p = g.log.proof(1000, 1200, g.checkpoint.clone());
    write(dir, "later.tlog-proof", &p.to_bytes())
}

fn proof(file: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["proof".to_string(), file.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args)
}

#[test]
fn a_proof_of_a_later_epoch_verifies_with_the_key_history() {
    let g = Governed::new(1200);
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.json", policy_json().as_bytes());
    let history = write(dir.path(), "key-history.json", &g.history_json());
    let file = later_proof(&g, dir.path());
    let (p, h) = (policy.to_str().unwrap(), history.to_str().unwrap());
    let ok = format!("OK index=1000 size=1200 root={}", g.log.root(1200));

    let out = proof(&file, &["--policy", p, "--key-history", h]);
    out.assert_ok(&ok);
    assert!(
        out.stderr.contains("validators of epoch 2"),
        "{}",
        out.stderr
    );

    // From a node instead of a file.
    let server = serve(&g, 1200, Some(g.history_json()));
    proof(&file, &["--policy", p, "--node", &server.url(true)]).assert_ok(&ok);
    assert_eq!(
        server
            .seen()
            .iter()
            .map(|s| s.path.as_str())
            .collect::<Vec<_>>(),
        ["key-history"],
        "only the key history is fetched"
    );

    // The genesis keys alone, or the policy without the history: refused, saying what to do.
    let mut args = vec!["--quorum".to_string(), "3".into()];
    args.extend(key_args(&genesis_keys()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    proof(&file, &args).assert_fails(
        1,
        &[
            "later.tlog-proof",
            "only 2 of the required 3",
            "--policy",
            "--key-history",
        ],
    );
    proof(&file, &["--policy", p]).assert_fails(1, &["newer key history", "--node URL"]);

    // A history that does not follow is proven wrong; a key history needs a policy.
    let mut weak = g.history.clone();
    weak.links[1].votes.truncate(2);
    let weak = write(dir.path(), "weak.json", &serde_json::to_vec(&weak).unwrap());
    proof(
        &file,
        &["--policy", p, "--key-history", weak.to_str().unwrap()],
    )
    .assert_fails(1, &["does not follow from the trust policy", "epoch 2"]);
    let out = proof(&file, &["--key-history", h]);
    assert_eq!(out.code, 2, "{}", out.stderr);

    // A proof from before the changes still verifies, with or without the history.
    let v = genesis_keys();
    let old_cp = crate::support::builder::signed_checkpoint(
        START_1 - 1,
        g.log.root(START_1 - 1),
        &[&v[0], &v[1], &v[3]],
    );
    let old = write(
        dir.path(),
        "old.tlog-proof",
        &g.log.proof(5, START_1 - 1, old_cp).to_bytes(),
    );
    let ok_old = format!(
        "OK index=5 size={} root={}",
        START_1 - 1,
        g.log.root(START_1 - 1)
    );
    proof(&old, &["--policy", p, "--key-history", h]).assert_ok(&ok_old);
    proof(&old, &["--policy", p]).assert_ok(&ok_old);
}
