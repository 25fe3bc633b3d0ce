//! The README's main job, end to end with real processes: build a sample log on disk, serve it
//! with `bansos-node serve-log` on 127.0.0.1, audit it with `bansos-verify log`, verify a
//! recipient's offline bundle with `bansos-verify proof`, and check what the server refuses.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bansos_tests::{Running, binary};
use bansos_verifier::entry::{Leaf, TxBody};
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::merkle::{self, verify_consistency, verify_inclusion};
use bansos_verifier::tile::{TileRef, parse_bundle};

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

fn hashes(v: &serde_json::Value) -> Vec<Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

fn http_get(url: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http_get_with(url, path, "")
}

/// A GET with extra header lines (each ending in `\r\n`).
fn http_get_with(url: &str, path: &str, headers: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let addr = url.trim_start_matches("http://").trim_end();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

#[test]
fn sample_log_is_served_and_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = Command::new(binary("bansos-testnet"))
        .args([
            "sample",
            "--dir",
            dir.to_str().unwrap(),
            "--allocations",
            "1200",
            "--proofs",
            "3",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sample failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A second sample into the same directory is refused and leaves the first intact.
    let again = Command::new(binary("bansos-testnet"))
        .args(["sample", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    assert!(dir.join("ledger.redb").exists());

    let url_file = dir.join("url");
    let _node = Running(
        Command::new(binary("bansos-node"))
            .args([
                "serve-log",
                "--dir",
                dir.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--url-file",
                url_file.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !url_file.exists()
        || std::fs::read_to_string(&url_file)
            .unwrap()
            .trim()
            .is_empty()
    {
        assert!(Instant::now() < deadline, "the node did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = std::fs::read_to_string(&url_file)
        .unwrap()
        .trim()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let vkeys = dir.join("vkeys.txt");
    let audit = Command::new(binary("bansos-verify"))
        .args([
            "log",
            "--url",
            &url,
            "--keys-file",
            vkeys.to_str().unwrap(),
            "--quorum",
            "3",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&audit.stdout);
    assert!(
        audit.status.success(),
        "audit failed: {}{}",
        stdout,
        String::from_utf8_lossy(&audit.stderr)
    );
    let checkpoint = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    let mut lines = checkpoint.lines().skip(1);
    let (size, root) = (lines.next().unwrap(), lines.next().unwrap());
    assert_eq!(
        stdout.lines().last().unwrap(),
        format!("OK size={size} root={root}")
    );

    let proof = std::fs::read_dir(dir.join("proofs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let offline = Command::new(binary("bansos-verify"))
        .args([
            "proof",
            proof.to_str().unwrap(),
            "--keys-file",
            vkeys.to_str().unwrap(),
            "--quorum",
            "3",
        ])
        .output()
        .unwrap();
    assert!(
        offline.status.success(),
        "proof failed: {}",
        String::from_utf8_lossy(&offline.stderr)
    );

    // The server: checkpoint not cached for long, tiles immutable, bad paths a clear 400.
    let (status, headers, body) = http_get(&url, "/checkpoint");
    assert_eq!(status, 200);
    assert_eq!(body, checkpoint.as_bytes());
    assert!(
        headers.contains(&("cache-control".into(), "public, max-age=2".into())),
        "{headers:?}"
    );
    assert!(headers.contains(&("content-type".into(), "text/plain; charset=utf-8".into())));
    let (status, headers, body) = http_get(&url, "/tile/0/000");
    assert_eq!((status, body.len()), (200, 8192));
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "cache-control" && v.contains("immutable"))
    );
    let (status, _, body) = http_get(&url, "/tile/0/000.p/0");
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("bad_tile_path"));
    let (status, _, _) = http_get(&url, "/tile/0/999");
    assert_eq!(status, 404);

    // JSON conveniences: their answers are checked with the verifier library, not trusted.
    let size: u64 = size.parse().unwrap();
    let root = Hash::from_base64(root).unwrap();
    let (_, _, bundle) = http_get(&url, "/tile/entries/000");
    let entries = parse_bundle(&TileRef::entries(0, 256), &bundle).unwrap();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let (status, _, body) = http_get(&url, "/v1/proof/inclusion?index=7");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v = json(&body);
    assert_eq!(v["size"], size);
    verify_inclusion(
        &leaves[7],
        LeafIndex(7),
        TreeSize(size),
        &hashes(&v["proof"]),
        &root,
    )
    .unwrap();
    let (status, _, body) = http_get(&url, "/v1/proof/consistency?old=100");
    assert_eq!(status, 200);
    let v = json(&body);
    let old_root = merkle::root(&leaves[..100], TreeSize(100)).unwrap();
    verify_consistency(
        TreeSize(100),
        TreeSize(size),
        &old_root,
        &root,
        &hashes(&v["proof"]),
    )
    .unwrap();

    let leaf7 = Leaf::decode(entries[7]).unwrap();
    let (status, _, body) = http_get(&url, &format!("/v1/tx/{}", leaf7.tx.hash().to_hex()));
    assert_eq!(status, 200);
    assert_eq!(
        (json(&body)["status"].as_str(), json(&body)["leaf"].as_u64()),
        (Some("committed"), Some(7))
    );
    let (index, allocation) = entries
        .iter()
        .enumerate()
        .find_map(|(i, e)| match Leaf::decode(e).unwrap().tx.body {
            TxBody::Allocation(a) => Some((i, a)),
            _ => None,
        })
        .unwrap();
    let (status, _, body) = http_get(&url, &format!("/v1/allocations/{}", allocation.id.to_hex()));
    assert_eq!(status, 200);
    let v = json(&body);
    assert_eq!(v["leaf"].as_u64(), Some(index as u64));
    assert_eq!(
        v["allocation"]["amount"].as_u64(),
        Some(allocation.amount.0)
    );

    for (path, status, code) in [
        ("/v1/proof/inclusion?index=abc", 400, "bad_query"),
        (
            &format!("/v1/proof/inclusion?index={size}") as &str,
            400,
            "out_of_range",
        ),
        (
            &format!("/v1/proof/consistency?old=1&new={}", size + 1),
            400,
            "out_of_range",
        ),
        ("/v1/allocations/zz", 400, "bad_allocation_id"),
        (
            "/v1/allocations/00000000000000000000000000000000",
            404,
            "allocation_not_found",
        ),
        ("/v1/tx/00", 400, "bad_tx_hash"),
        (
            &format!("/v1/tx/{}", Hash::digest(b"never").to_hex()),
            404,
            "tx_not_found",
        ),
    ] {
        let (got, _, body) = http_get(&url, path);
        assert_eq!(got, status, "{path}");
        assert_eq!(json(&body)["error"]["code"], code, "{path}");
    }

    // Entry bundles are gzipped for clients that accept it; hash tiles (random bytes) are not.
    let gzip = "Accept-Encoding: gzip\r\n";
    let (status, headers, _) = http_get_with(&url, "/tile/entries/000", gzip);
    assert_eq!(status, 200);
    assert!(
        headers.contains(&("content-encoding".into(), "gzip".into())),
        "{headers:?}"
    );
    let (status, headers, body) = http_get_with(&url, "/tile/0/000", gzip);
    assert_eq!((status, body.len()), (200, 8192));
    assert!(
        !headers.iter().any(|(k, _)| k == "content-encoding"),
        "{headers:?}"
    );

    // Public totals equal what the log's entries add up to, recomputed here from every bundle.
    let (status, _, body) = http_get(&url, "/v1/stats");
    assert_eq!(status, 200);
    let totals = json(&body)["totals"].clone();
    let (mut allocated, mut claimed, mut allocations, mut claims) = (0u64, 0u64, 0u64, 0u64);
    for b in 0..size.div_ceil(256) {
        let width = (size - b * 256).min(256) as u16;
        let path = TileRef::entries(b, width).path();
        let (_, _, bundle) = http_get(&url, &format!("/{path}"));
        for entry in parse_bundle(&TileRef::entries(b, width), &bundle).unwrap() {
            match Leaf::decode(entry).unwrap().tx.body {
                TxBody::Allocation(a) => {
                    allocations += 1;
                    allocated += a.amount.0;
                }
                TxBody::Claim(c) => {
                    claims += 1;
                    claimed += c.amount.0;
                }
                _ => {}
            }
        }
    }
    assert!(
        allocations > 1000 && claims > 500,
        "{allocations} allocations, {claims} claims"
    );
    assert_eq!(totals["allocations"].as_u64(), Some(allocations));
    assert_eq!(totals["allocated"].as_u64(), Some(allocated));
    assert_eq!(totals["claims"].as_u64(), Some(claims));
    assert_eq!(totals["claimed"].as_u64(), Some(claimed));
}
