//! A journalist's tools against a real 4-validator testnet: `bansos-audit mirror` copies and
//! verifies the whole log into a static directory that `bansos-verify log` accepts when a plain
//! file server serves it, a tampered mirror fails its check; `aggregates` recomputes from the
//! mirror the same totals the validators publish, and `report` renders them; `bansos-audit monitor` follows
//! every node across runs and, when a node presents a checkpoint forged with the validators'
//! own keys (same size, other root; or a larger tree that does not extend the log), writes the
//! evidence and exits 1.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use bansos_tests::{HttpStub, Testnet, binary, get, log_size, wait_for};
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::note::{Note, NoteSignature};

fn audit(args: &[&str]) -> Output {
    Command::new(binary("bansos-audit"))
        .args(args)
        .output()
        .expect("running bansos-audit")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A checkpoint of `size` and `root` for the testnet's log, signed by three of its validators
/// with their real keys: what a colluding quorum (or a thief of their keys) could publish.
fn forged(net: &Testnet, origin: &str, size: u64, root: Hash) -> Vec<u8> {
    let body = Checkpoint::new(origin, TreeSize(size), root).body();
    let mut note = Note::new(&body).unwrap();
    for name in ["kemensos", "kemenkeu", "bri"] {
        let key = net.key(name);
        note.add_signature(NoteSignature::sign(name, key.signing_key(), &body));
    }
    note.to_bytes()
}

/// A forked node: serves `checkpoint`, answers every consistency question with a proof of its
/// own making (which cannot verify), and forwards everything else to a real node.
fn fake_node(checkpoint: Vec<u8>, real: &str) -> HttpStub {
    let real = real.to_string();
    HttpStub::start(Arc::new(move |path: &str| {
        if path == "/checkpoint" {
            return (200, checkpoint.clone());
        }
        if path.starts_with("/v1/proof/consistency") {
            let proof: Vec<String> = (0..3u8).map(|i| Hash::digest(&[i]).to_base64()).collect();
            return (
                200,
                serde_json::json!({ "proof": proof })
                    .to_string()
                    .into_bytes(),
            );
        }
        match bansos_tests::agent().get(&format!("{real}{path}")).call() {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_vec().unwrap_or_default(),
            ),
            Err(_) => (502, Vec::new()),
        }
    }))
}

#[test]
fn mirror_and_monitor_catch_tampering_and_forks() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Testnet::up(&tmp.path().join("net"), 19_000, 300);
    let urls = net.urls();
    let genesis = net.dir.join("genesis.json");
    let g = genesis.to_str().unwrap();
    let size = log_size(&urls[0]);
    wait_for("a checkpoint of the whole demo on node 0", 60, || {
        get(&format!("{}/v1/status", urls[0])).1["checkpoint_size"]
            .as_u64()
            .is_some_and(|s| s >= size)
    });

    // Mirror node 1 into a directory; check it offline; serve it with a plain file server and
    // audit it like any C2SP log.
    let dir = tmp.path().join("mirror");
    let d = dir.to_str().unwrap();
    let out = audit(&["mirror", "--genesis", g, "--node", &urls[1], "--out", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK size="));
    assert!(dir.join("checkpoint").exists() && dir.join("mirror.json").exists());
    let again = audit(&["mirror", "--genesis", g, "--node", &urls[1], "--out", d]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("replaced=0"),
        "a second run only verifies: {}",
        text(&again)
    );
    let out = audit(&["mirror", "--genesis", g, "--check", "--out", d]);
    assert!(out.status.success(), "{}", text(&out));
    {
        let server = HttpStub::files(&dir);
        let out = Command::new(binary("bansos-verify"))
            .args(["log", "--url", &server.url, "--keys-file"])
            .arg(net.dir.join("vkeys.txt"))
            .args(["--quorum", "3"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    // The public totals recomputed from the mirror alone equal the validators' own.
    let out_dir = tmp.path().join("aggregates");
    let out = audit(&[
        "aggregates",
        "--mirror",
        d,
        "--genesis",
        g,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let agg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("aggregates.json")).unwrap()).unwrap();
    let stats = get(&format!("{}/v1/stats", urls[1])).1;
    for field in [
        "allocations",
        "allocated",
        "claims",
        "claimed",
        "returns",
        "returned",
        "revocations",
        "revoked",
    ] {
        assert_eq!(
            agg["totals"][field], stats["totals"][field],
            "{field}: aggregates {} vs /v1/stats {}",
            agg["totals"], stats["totals"]
        );
    }
    assert!(agg["totals"]["allocations"].as_u64().unwrap() > 0);
    assert_eq!(agg["rule_violations"].as_array().map(Vec::len), Some(0));
    let report = tmp.path().join("report.html");
    let out = audit(&[
        "report",
        "--aggregates",
        out_dir.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains("__BANSOS_REPORT_DATA__") && html.contains("by_program_period"));

    // One flipped bit in an entry bundle: the check names it and fails; a resumed mirror
    // replaces it with the node's copy.
    let bundle = files_under(&dir.join("tile/entries"))[0].clone();
    let shown = bundle
        .strip_prefix(&dir)
        .unwrap()
        .to_string_lossy()
        .to_string();
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[40] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    let out = audit(&["mirror", "--genesis", g, "--check", "--out", d]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&shown), "{shown}: {}", text(&out));
    let out = audit(&["mirror", "--genesis", g, "--node", &urls[1], "--out", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("replaced=1"), "{}", text(&out));
    // A mirror of another network is refused.
    let other = tmp.path().join("other-genesis.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&genesis).unwrap()).unwrap();
    v["origin"] = serde_json::Value::String("another.example/log".into());
    std::fs::write(&other, v.to_string()).unwrap();
    let out = audit(&[
        "mirror",
        "--genesis",
        other.to_str().unwrap(),
        "--check",
        "--out",
        d,
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));

    // The monitor follows every node, keeping its state between runs.
    let state = tmp.path().join("monitor");
    let s = state.to_str().unwrap();
    let mut args = vec!["monitor", "--genesis", g, "--state", s, "--once"];
    for u in &urls {
        args.extend(["--node", u.as_str()]);
    }
    let out = audit(&args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK consistent"));
    let kept = std::fs::read(state.join("latest-checkpoint")).unwrap();
    let origin = v_origin(&genesis);
    let kept_size = Checkpoint::parse_body(Note::parse(&kept).unwrap().text())
        .unwrap()
        .size
        .0;
    assert!(kept_size >= size);

    // A node presents a checkpoint of the kept size with another root, signed by a quorum.
    let fork = forged(&net, &origin, kept_size, Hash::digest(b"another history"));
    let fake = fake_node(fork.clone(), &urls[0]);
    let out = audit(&[
        "monitor",
        "--genesis",
        g,
        "--state",
        s,
        "--once",
        "--node",
        &urls[0],
        "--node",
        &fake.url,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("SPLIT VIEW"), "{}", text(&out));
    let evidence = evidence_files(&state);
    assert_eq!(evidence.len(), 1);
    let e = std::fs::read_to_string(&evidence[0]).unwrap();
    assert!(e.contains(&String::from_utf8_lossy(&fork).to_string()));
    assert!(e.contains(&String::from_utf8_lossy(&kept).to_string()));
    assert!(e.contains("same size but different roots"));
    drop(fake);
    std::fs::remove_file(&evidence[0]).unwrap();

    // A larger tree that does not extend the log: no consistency proof verifies.
    let fork = forged(&net, &origin, kept_size + 7, Hash::digest(b"rewritten"));
    let fake = fake_node(fork.clone(), &urls[0]);
    let out = audit(&[
        "monitor",
        "--genesis",
        g,
        "--state",
        s,
        "--once",
        "--node",
        &fake.url,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let evidence = evidence_files(&state);
    assert_eq!(evidence.len(), 1);
    let e = std::fs::read_to_string(&evidence[0]).unwrap();
    assert!(e.contains("--- consistency proof old="), "{e}");
    assert!(e.contains(&String::from_utf8_lossy(&fork).to_string()));
    drop(fake);

    // A checkpoint signed by too few validators is not a fork, only a node to distrust.
    let body = Checkpoint::new(&origin, TreeSize(kept_size), Hash::digest(b"x")).body();
    let mut weak = Note::new(&body).unwrap();
    weak.add_signature(NoteSignature::sign(
        "kemensos",
        net.key("kemensos").signing_key(),
        &body,
    ));
    let fake = fake_node(weak.to_bytes(), &urls[0]);
    let out = audit(&[
        "monitor",
        "--genesis",
        g,
        "--state",
        s,
        "--once",
        "--node",
        &urls[2],
        "--node",
        &fake.url,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("does not verify"), "{}", text(&out));
}

fn v_origin(genesis: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(genesis).unwrap()).unwrap();
    v["origin"].as_str().unwrap().to_string()
}

fn evidence_files(state: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("evidence-"))
        })
        .collect()
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
