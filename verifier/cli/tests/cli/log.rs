//! `bansos-verify log` against logs served from 127.0.0.1: complete and sampled audits pass on
//! honest logs (ours and one written by `tlog_tiles`), and every tampering fails, named.

use std::collections::{BTreeMap, BTreeSet};

use bansos_verifier::hash::{EMPTY_ROOT, leaf_hash};

use crate::support::builder::{
    ORIGIN, TestLog, grown, signed_checkpoint, stranger, tlog_tiles_log, validators,
};
use crate::support::server::TestServer;
use crate::support::{Run, key_args, run};

/// Serves the tiles and bundles in `files` and `checkpoint` at `/checkpoint`.
fn serve(mut files: BTreeMap<String, Vec<u8>>, checkpoint: Vec<u8>) -> TestServer {
    files.insert("checkpoint".into(), checkpoint);
    TestServer::start(files)
}

/// Serves the first `size` entries of `log` with a checkpoint signed by all four validators.
fn serve_log(log: &TestLog, size: u64) -> TestServer {
    let all = validators();
    serve(
        log.tiles(size),
        log.checkpoint(size, &all.iter().collect::<Vec<_>>()),
    )
}

/// Audits the served log trusting the four validators (quorum: all four, unless `extra` says
/// otherwise), with a fixed sample seed unless `extra` gives one.
fn audit(server: &TestServer, extra: &[&str]) -> Run {
    let mut args: Vec<String> = ["log", "--url", &server.url(true), "--origin", ORIGIN]
        .map(String::from)
        .to_vec();
    if !extra.contains(&"--seed") {
        args.extend(["--seed".to_string(), "1".to_string()]);
    }
    args.extend(key_args(&validators()));
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args)
}

fn ok_line(log: &TestLog, size: u64) -> String {
    format!("OK size={size} root={}", log.root(size))
}

#[test]
fn complete_audits_pass_at_tile_boundaries() {
    let log = TestLog::new(70_000);
    for size in [0, 1, 255, 256, 257, 70_000] {
        let server = serve_log(&log, size);
        // The prefix is accepted with and without a trailing slash.
        let url = server.url(size % 2 == 0);
        let mut args: Vec<String> = vec!["log".into(), "--url".into(), url];
        args.extend(key_args(&validators()));
        let out = run(&args);
        out.assert_ok(&ok_line(&log, size));
        assert!(
            out.stderr.contains("complete audit passed"),
            "size {size}: {}",
            out.stderr
        );

        // Everything the log serves was fetched, each resource once.
        let seen = server.seen();
        let fetched: BTreeSet<&str> = seen.iter().map(|s| s.path.as_str()).collect();
        let served: BTreeSet<String> = server.files().keys().cloned().collect();
        assert_eq!(
            fetched,
            served.iter().map(String::as_str).collect(),
            "size {size}"
        );
        assert_eq!(
            seen.len(),
            served.len(),
            "size {size}: a resource was fetched twice"
        );
        for s in &seen {
            let accept = s.accept_encoding.as_deref().unwrap_or("");
            assert!(
                accept.contains("gzip") && accept.contains("identity"),
                "Accept-Encoding {accept:?}"
            );
        }
    }
    assert_eq!(log.root(0), EMPTY_ROOT);
}

#[test]
fn the_counts_of_a_complete_audit_follow_the_spec_example() {
    // tlog-tiles: size 70,000 has 273 full level-0 tiles, 0/273.p/112, 1/000, 1/001.p/17, 2/000.p/1.
    let log = TestLog::new(70_000);
    let server = serve_log(&log, 70_000);
    let out = audit(&server, &[]);
    out.assert_ok(&ok_line(&log, 70_000));
    assert!(
        out.stderr
            .contains("277 hash tiles, 274 entry bundles, 70000 entries, 32 inclusion proofs"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_large_log_is_sampled_and_the_last_bundle_is_always_checked() {
    let size = 140_000; // 546 full bundles and entries/546.p/224
    let log = TestLog::new(size);
    let server = serve_log(&log, size);
    for (sample, seed) in [(64, "7"), (3, "8")] {
        let before = server.seen().len();
        let out = audit(&server, &["--sample", &sample.to_string(), "--seed", seed]);
        out.assert_ok(&ok_line(&log, size));
        assert!(
            out.stderr.contains("sampled audit passed"),
            "{}",
            out.stderr
        );
        let bundles: BTreeSet<String> = server.seen()[before..]
            .iter()
            .map(|s| s.path.clone())
            .filter(|p| p.starts_with("tile/entries/"))
            .collect();
        assert_eq!(bundles.len(), sample, "{bundles:?}");
        assert!(bundles.contains("tile/entries/546.p/224"), "{bundles:?}");
        assert!(out.stderr.contains(&format!(
            "{sample} entry bundles, {} entries",
            (sample as u64 - 1) * 256 + 224
        )));
    }
}

#[test]
fn a_log_written_by_tlog_tiles_is_audited() {
    let entries: Vec<Vec<u8>> = (0..66_000).map(crate::support::builder::entry).collect();
    let (files, root) = tlog_tiles_log(&entries);
    let all = validators();
    let server = serve(
        files,
        signed_checkpoint(66_000, root, &all.iter().collect::<Vec<_>>()),
    );
    audit(&server, &[]).assert_ok(&format!("OK size=66000 root={root}"));
}

#[test]
fn tampered_tiles_and_bundles_are_named() {
    let log = TestLog::new(70_000);
    let server = serve_log(&log, 70_000);
    let flip = |offset: usize| move |bytes: &mut Vec<u8>| bytes[offset] ^= 0x01;
    type Tamper = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Tamper, &[&str])> = vec![
        (
            "tile/entries/100",
            Box::new(flip(2)),
            &["tile/entries/100", "does not match"],
        ),
        (
            "tile/entries/005",
            Box::new(|b: &mut Vec<u8>| b.truncate(b.len() - 1)),
            &["tile/entries/005", "malformed"],
        ),
        (
            "tile/entries/273.p/112",
            Box::new(flip(7)),
            &["tile/entries/273.p/112", "does not match"],
        ),
        (
            "tile/0/100",
            Box::new(flip(100)),
            &["tile/0/100", "does not match"],
        ),
        (
            "tile/0/007",
            Box::new(|b: &mut Vec<u8>| b.truncate(8160)),
            &["tile/0/007", "8160 bytes"],
        ),
        (
            "tile/1/000",
            Box::new(flip(8191)),
            &["tile/1/000", "does not match"],
        ),
        (
            "tile/0/273.p/112",
            Box::new(flip(0)),
            &["tile/0/273.p/112", "checkpoint's root"],
        ),
        (
            "tile/1/001.p/17",
            Box::new(flip(33)),
            &["tile/1/001.p/17", "checkpoint's root"],
        ),
        (
            "tile/2/000.p/1",
            Box::new(flip(31)),
            &["tile/2/000.p/1", "checkpoint's root"],
        ),
    ];
    for (path, tamper, needles) in cases {
        let original = server
            .files()
            .get(path)
            .cloned()
            .unwrap_or_else(|| panic!("{path} is served"));
        let mut bad = original.clone();
        tamper(&mut bad);
        server.files().insert(path.into(), bad);
        audit(&server, &[]).assert_fails(1, needles);
        server.files().insert(path.into(), original);
    }
    audit(&server, &[]).assert_ok(&ok_line(&log, 70_000));
}

#[test]
fn a_validly_signed_wrong_root_fails() {
    let log = TestLog::new(257);
    let all = validators();
    let signers: Vec<_> = all.iter().collect();
    let wrong = leaf_hash(b"not the root");
    let server = serve(log.tiles(257), signed_checkpoint(257, wrong, &signers));
    audit(&server, &[]).assert_fails(1, &["edge tiles", "tile/0/001.p/1", "checkpoint's root"]);

    let server = serve(BTreeMap::new(), signed_checkpoint(0, wrong, &signers));
    audit(&server, &[]).assert_fails(1, &["empty"]);
}

#[test]
fn the_signature_policy_is_enforced() {
    let log = TestLog::new(1000);
    let v = validators();
    let outsider = stranger();
    let check = |checkpoint: Vec<u8>, extra: &[&str]| {
        let server = serve(log.tiles(1000), checkpoint);
        audit(&server, extra)
    };
    // Two valid signers (and an unknown one, ignored) do not make a quorum of three.
    check(
        log.checkpoint(1000, &[&v[0], &v[1], &outsider]),
        &["--quorum", "3"],
    )
    .assert_fails(1, &["checkpoint", "only 2 of the required 3"]);
    // Three do.
    check(
        log.checkpoint(1000, &[&v[0], &v[1], &v[3]]),
        &["--quorum", "3"],
    )
    .assert_ok(&ok_line(&log, 1000));
    // By default every listed key must sign.
    check(log.checkpoint(1000, &[&v[0], &v[1], &v[3]]), &[])
        .assert_fails(1, &["only 3 of the required 4"]);
    // A listed key's bad signature rejects the checkpoint, even though three others are good.
    let cp = log.checkpoint(1000, &[&v[0], &v[1], &v[2], &v[3]]);
    check(tamper_signature(&cp, "bri.example"), &["--quorum", "3"])
        .assert_fails(1, &["bri.example", "does not verify"]);
    // Another log's checkpoint.
    let server = serve(log.tiles(1000), cp);
    let mut args: Vec<String> = [
        "log",
        "--url",
        &server.url(true),
        "--origin",
        "other.example/log",
    ]
    .map(String::from)
    .to_vec();
    args.extend(key_args(&v));
    run(&args).assert_fails(1, &["checkpoint", "other.example/log"]);
}

/// The signed note with one byte of `name`'s signature changed.
fn tamper_signature(note: &[u8], name: &str) -> Vec<u8> {
    let mut note = bansos_verifier::note::Note::parse(note).unwrap();
    let mut sig = note
        .signatures()
        .iter()
        .find(|s| s.name == name)
        .unwrap()
        .clone();
    sig.signature[10] ^= 0x40;
    note.add_signature(sig);
    note.to_bytes()
}

#[test]
fn keys_can_come_from_a_file() {
    let log = TestLog::new(300);
    let server = serve_log(&log, 300);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.txt");
    let v = validators();
    let text = format!(
        "# Bansos Ledger validators\n\n{}\n  {}\n# banks\n{}\n{}\n",
        v[0].vkey(),
        v[1].vkey(),
        v[2].vkey(),
        v[3].vkey()
    );
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    run(&["log", "--url", &server.url(false), "--keys-file", path]).assert_ok(&ok_line(&log, 300));
    run(&[
        "log",
        "--url",
        &server.url(false),
        "--keys-file",
        path,
        "--key",
        &stranger().vkey(),
        "--quorum",
        "4",
    ])
    .assert_ok(&ok_line(&log, 300));
    run(&[
        "log",
        "--url",
        &server.url(false),
        "--keys-file",
        path,
        "--key",
        &stranger().vkey(),
    ])
    .assert_fails(1, &["only 4 of the required 5"]);
}

#[test]
fn a_partial_tile_that_is_gone_is_read_from_its_full_tile() {
    // The log published a checkpoint at 300, then grew to 512 and deleted the partial tiles
    // 0/001.p/44 and entries/001.p/44, whose full tiles now exist.
    let log = TestLog::new(512);
    let files = grown(&log, 300, 512);
    for gone in ["tile/0/001.p/44", "tile/entries/001.p/44"] {
        assert!(!files.contains_key(gone));
    }
    assert!(
        files.contains_key("tile/1/000.p/1"),
        "no full tile replaces it yet"
    );
    let all = validators();
    let server = serve(files, log.checkpoint(300, &all.iter().collect::<Vec<_>>()));
    let out = audit(&server, &[]);
    out.assert_ok(&ok_line(&log, 300));
    assert!(
        out.stderr.contains("tile/0/001.p/44 is gone"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("tile/entries/001.p/44 is gone"),
        "{}",
        out.stderr
    );

    // The fallback is checked like anything else.
    let full = server.files().get("tile/entries/001").cloned().unwrap();
    let mut bad = full.clone();
    bad[2] ^= 1;
    server.files().insert("tile/entries/001".into(), bad);
    audit(&server, &[]).assert_fails(1, &["tile/entries/001.p/44", "does not match"]);
    server.files().insert("tile/entries/001".into(), full);

    server.files().remove("tile/0/001");
    audit(&server, &[]).assert_fails(2, &["tile/0/001.p/44", "tile/0/001 "]);
}

#[test]
fn what_cannot_be_checked_exits_with_2() {
    let log = TestLog::new(1000);
    let server = serve_log(&log, 1000);
    server.files().remove("tile/0/002");
    audit(&server, &[]).assert_fails(2, &["tile/0/002", "404"]);

    let empty = TestServer::start(BTreeMap::new());
    audit(&empty, &[]).assert_fails(2, &["no checkpoint"]);

    // Nothing listens on a port that was just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/log");
    run(&["log", "--url", &url, "--key", &validators()[0].vkey()])
        .assert_fails(2, &["GET http://127.0.0.1", "/log/checkpoint"]);

    let key = validators()[0].vkey();
    run(&["log", "--url", "https://127.0.0.1:1/log", "--key", &key]).assert_fails(2, &["https"]);
    run(&["log", "--url", &server.url(true), "--key", "not-a-key"])
        .assert_fails(2, &["--key number 1"]);
    run(&[
        "log",
        "--url",
        &server.url(true),
        "--key",
        &key,
        "--quorum",
        "2",
    ])
    .assert_fails(2, &["--quorum 2"]);
    run(&["log", "--url", &server.url(true)]).assert_fails(2, &["no trusted keys"]);
}

#[test]
fn an_oversized_response_is_refused() {
    let log = TestLog::new(1000);
    let server = serve_log(&log, 1000);
    server
        .files()
        .get_mut("tile/0/000")
        .unwrap()
        .extend_from_slice(&[0; 8192]);
    audit(&server, &[]).assert_fails(1, &["tile/0/000", "larger than 8192 bytes"]);
}
