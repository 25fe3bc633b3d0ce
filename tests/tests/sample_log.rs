//! The README's main job, end to end with real processes: build a sample log on disk, serve it
//! with `bansos-node serve-log` on 127.0.0.1, audit it with `bansos-verify log`, verify a
//! recipient's offline bundle with `bansos-verify proof`, and check what the server refuses.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bansos_tests::{Running, binary};

fn http_get(url: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let addr = url.trim_start_matches("http://").trim_end();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
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
}
