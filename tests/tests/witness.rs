//! A witness beside a live testnet: `bansos-witness keygen` and `serve`, every validator
//! restarted with a `[[witnesses]]` entry, `/checkpoint` carrying the witness's cosignature
//! that verifies under a policy of 3 validators and 1 witness while the log grows, and the
//! witness refusing checkpoints that the testnet's own keys sign on another history.

use std::path::Path;
use std::process::{Command, Stdio};

use bansos_tests::{Running, Testnet, agent, binary, wait_for};
use bansos_verifier::checkpoint::{Checkpoint, verify_checkpoint};
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::note::NoteSignature;
use bansos_verifier::policy::TrustPolicy;
use bansos_verifier::tlog_witness::{AddCheckpoint, parse_size_body};

const WITNESS_NAME: &str = "witness.ngo.example";

/// GETs a URL's body (None when it does not answer 200).
fn fetch(url: &str) -> Option<Vec<u8>> {
    let mut r = agent().get(url).call().ok()?;
    if r.status().as_u16() != 200 {
        return None;
    }
    r.body_mut().read_to_vec().ok()
}

/// POSTs an add-checkpoint body: status and answer.
fn add_checkpoint(witness: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut r = agent()
        .post(&format!("{witness}/add-checkpoint"))
        .send(body)
        .expect("the witness answers");
    (
        r.status().as_u16(),
        r.body_mut().read_to_vec().unwrap_or_default(),
    )
}

/// Runs `cmd` to the end and fails the test with its stderr unless it succeeded.
fn succeed(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `bansos-witness keygen` into `key`: the vkey it prints.
fn keygen(key: &Path) -> String {
    let out = succeed(
        Command::new(binary("bansos-witness"))
            .args(["keygen", "--name", WITNESS_NAME, "--out"])
            .arg(key),
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The testnet's trust policy, also requiring one cosignature by `vkey`.
fn witnessed_policy(dir: &Path, vkey: &str) -> TrustPolicy {
    let mut file = TrustPolicy::parse(&std::fs::read(dir.join("policy.json")).unwrap())
        .unwrap()
        .file;
    assert_eq!(file.quorum, 3);
    file.witnesses = vec![vkey.to_string()];
    file.witness_quorum = 1;
    TrustPolicy::new(file).unwrap()
}

/// The size of a checkpoint that verifies under `policy` with the witness's cosignature.
fn witnessed_size(url: &str, policy: &TrustPolicy) -> Option<u64> {
    let note = fetch(&format!("{url}/checkpoint"))?;
    let cp =
        verify_checkpoint(&note, Some(&policy.file.origin), policy.checkpoint_policy()).ok()?;
    policy.witness_policy()?.verify(&cp.note).ok()?;
    Some(cp.checkpoint.size.0)
}

#[test]
fn validators_serve_the_witness_cosignature_and_the_witness_refuses_forks() {
    let tmp = tempfile::tempdir().unwrap();
    let mut net = Testnet::up(&tmp.path().join("net"), 18_200, 30);

    // keygen: a 0600 key file, the vkey (type 0x04) on stdout and nothing secret.
    let key = tmp.path().join("witness.key");
    let vkey = keygen(&key);
    assert!(vkey.starts_with(&format!("{WITNESS_NAME}+")), "{vkey}");
    assert!(!vkey.contains("PRIVATE"));
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let policy = witnessed_policy(&net.dir, &vkey);

    let url_file = tmp.path().join("witness.url");
    let state = tmp.path().join("witness-state");
    // A witness without a state refuses to start: a lost state is not a fresh start.
    let serve = || {
        let mut cmd = Command::new(binary("bansos-witness"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--genesis"])
            .arg(net.dir.join("genesis.json"))
            .arg("--key")
            .arg(&key)
            .arg("--state")
            .arg(&state);
        cmd
    };
    let refused = serve().output().unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("bansos-witness init"), "{err}");
    succeed(
        Command::new(binary("bansos-witness"))
            .args(["init", "--state"])
            .arg(&state),
    );
    let _witness = Running(
        serve()
            .arg("--url-file")
            .arg(&url_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut witness = String::new();
    wait_for("the witness to listen", 30, || {
        witness = std::fs::read_to_string(&url_file)
            .unwrap_or_default()
            .trim()
            .to_string();
        !witness.is_empty()
    });

    // Without witnesses configured, the served checkpoints carry no cosignature.
    let urls = net.urls();
    assert_eq!(witnessed_size(&urls[0], &policy), None);

    // Every validator gets the witness in its node.toml and is restarted, one at a time.
    let names: Vec<String> = net.info["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect();
    for name in &names {
        let toml = net.dir.join(name).join("node.toml");
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(&format!(
            "\n[[witnesses]]\nurl = {witness:?}\nvkey = {vkey:?}\n"
        ));
        std::fs::write(&toml, text).unwrap();
        net.testnet(&["stop", "--node", name]);
        net.testnet(&["start", "--node", name]);
        net.reload();
    }
    let urls = net.urls();
    for url in &urls {
        wait_for("a witnessed checkpoint on every validator", 60, || {
            witnessed_size(url, &policy).is_some()
        });
    }

    // The log grows; the witness follows it with consistency proofs from the nodes' stores.
    let first = witnessed_size(&urls[0], &policy).unwrap();
    let load = Command::new(binary("bansos-testnet"))
        .args([
            "load",
            "--rate",
            "40",
            "--duration",
            "2",
            "--drain-secs",
            "10",
        ])
        .arg("--dir")
        .arg(&net.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(load.success());
    for url in &urls {
        wait_for(
            "a larger witnessed checkpoint on every validator",
            60,
            || witnessed_size(url, &policy).is_some_and(|s| s > first),
        );
    }
    // Once the log is idle, the witness's own view is the checkpoint every validator serves.
    let witness_view = || {
        let note = fetch(&format!("{witness}/checkpoint")).expect("the witness's checkpoint");
        verify_checkpoint(&note, Some(&policy.file.origin), policy.checkpoint_policy())
            .unwrap()
            .checkpoint
    };
    wait_for(
        "the witness to have cosigned what the validators serve",
        30,
        || {
            let size = witness_view().size.0;
            urls.iter()
                .all(|u| witnessed_size(u, &policy) == Some(size))
        },
    );
    let theirs = witness_view();
    assert!(theirs.size.0 > first);

    // A fork signed with the testnet's own keys: refused, at the witness's size (409) and
    // beyond it (422), whatever the quorum of signatures.
    let keys: Vec<_> = names.iter().take(3).map(|n| net.key(n)).collect();
    let forged = |size: u64, root: Hash| {
        let cp = Checkpoint::new(&policy.file.origin, TreeSize(size), root);
        let body = cp.body();
        cp.to_note(
            keys.iter()
                .map(|k| NoteSignature::sign(k.name(), k.signing_key(), &body)),
        )
        .to_bytes()
    };
    let other_root = Hash::digest(b"another history");
    let (status, answer) = add_checkpoint(
        &witness,
        &AddCheckpoint {
            old: theirs.size,
            proof: vec![],
            checkpoint: forged(theirs.size.0, other_root),
        }
        .to_bytes(),
    );
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(parse_size_body(&answer).unwrap(), theirs.size);
    let larger = theirs.size.0 + 5;
    let len = bansos_verifier::merkle::consistency_proof_len(theirs.size.0, larger);
    let (status, answer) = add_checkpoint(
        &witness,
        &AddCheckpoint {
            old: theirs.size,
            proof: vec![Hash::digest(b"made up"); len],
            checkpoint: forged(larger, other_root),
        }
        .to_bytes(),
    );
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&answer));
    // Nothing moved the witness.
    assert_eq!(witness_view(), theirs);
    net.testnet(&["down", "--grace", "3"]);
}

#[test]
fn a_witness_named_in_the_genesis_is_required_by_its_policy_and_asked_by_every_validator() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("witness.key");
    let vkey = keygen(&key);
    // The genesis names the witness with its address, so that address is fixed beforehand.
    let witness = "http://127.0.0.1:19650";
    let net = Testnet::up_with(
        &tmp.path().join("net"),
        19_600,
        0,
        &["--witness", &format!("{witness},{vkey}")],
    );
    // The testnet's own policy, made from the genesis, requires the witness.
    let policy = TrustPolicy::parse(&std::fs::read(net.dir.join("policy.json")).unwrap()).unwrap();
    assert_eq!(policy.witness_policy().map(|p| p.quorum()), Some(1));
    let urls = net.urls();
    assert_eq!(
        witnessed_size(&urls[0], &policy),
        None,
        "no witness running yet"
    );

    let state = tmp.path().join("witness-state");
    succeed(
        Command::new(binary("bansos-witness"))
            .args(["init", "--state"])
            .arg(&state),
    );
    let _witness = Running(
        Command::new(binary("bansos-witness"))
            .args(["serve", "--listen", "127.0.0.1:19650", "--genesis"])
            .arg(net.dir.join("genesis.json"))
            .arg("--key")
            .arg(&key)
            .arg("--state")
            .arg(&state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // No node.toml names it: the validators ask it because the genesis does.
    for name in ["kemensos", "kemenkeu", "bri", "pos"] {
        let toml = std::fs::read_to_string(net.dir.join(name).join("node.toml")).unwrap();
        assert!(!toml.contains("[[witnesses]]"), "{toml}");
    }
    for url in &urls {
        wait_for(
            "a checkpoint the genesis policy accepts, on every validator",
            60,
            || witnessed_size(url, &policy).is_some(),
        );
    }
}
