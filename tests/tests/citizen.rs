//! A citizen checks their own aid against a real 4-validator testnet (docs/VERIFY.md): the
//! ministry allocates to three recipients with `bansos-client`, BRI pays one in full and one
//! in part; then `bansos-verify receipt` and the browser page at `/verify` (in headless
//! Chromium) give each recipient the right verdict, a wrong NIK is caught, the evidence saved
//! for offline use verifies without a network (in the CLI and in the page), the page reads the
//! verdict aloud in Bahasa Indonesia, and the node is never asked about the allocation itself:
//! only about whole tiles.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use bansos_tests::{
    HttpStub, Testnet, agent, binary, client, get, log_size, receipt_codes, wait_for,
    write_client_config,
};

/// A proxy in front of a node that records every path asked for.
struct RecordingProxy {
    stub: HttpStub,
    paths: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    fn new(upstream: &str) -> RecordingProxy {
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (upstream, seen) = (upstream.to_string(), paths.clone());
        let stub = HttpStub::start(Arc::new(move |path: &str| {
            seen.lock().unwrap().push(path.to_string());
            match agent().get(&format!("{upstream}{path}")).call() {
                Ok(mut r) => (
                    r.status().as_u16(),
                    r.body_mut().read_to_vec().unwrap_or_default(),
                ),
                Err(_) => (502, Vec::new()),
            }
        }));
        RecordingProxy { stub, paths }
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

struct Recipient {
    code: String,
    allocation: String,
}

fn verify(policy: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary("bansos-verify"))
        .arg("receipt")
        .arg("--policy")
        .arg(policy)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("running bansos-verify");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("verifier/web")
}

#[test]
fn citizens_check_their_aid_in_the_cli_and_in_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Testnet::up(&tmp.path().join("net"), 18_400, 0);
    let urls = net.urls();
    let policy = net.dir.join("policy.json");
    let kemensos = tmp.path().join("kemensos.toml");
    write_client_config(&net, &kemensos, "receipts.jsonl", "kemensos");
    let bri = tmp.path().join("bri.toml");
    write_client_config(&net, &bri, "bri.jsonl", "bri");

    // Kemensos allocates SEMBAKO (200,000 a month) to three recipients, all paid through BRI.
    let niks = ["1101011203850001", "3171011203850003", "1101015203850002"];
    let csv = tmp.path().join("registry.csv");
    std::fs::write(
        &csv,
        format!(
            "nik,name,family_card,region_code,amount,channel\n\
             {},Siti Aminah,1101010101010001,1101012001,,bri\n\
             {},Budi Santoso,3171010101010003,3171011001,,bri\n\
             {},Ani Lestari,1101010101010002,1101012002,,bri\n",
            niks[0], niks[1], niks[2]
        ),
    )
    .unwrap();
    let out = client(
        &kemensos,
        &[
            "allocate",
            "--program",
            "SEMBAKO",
            "--period",
            "2026-11",
            "--csv",
            csv.to_str().unwrap(),
            "--wait",
            "60",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codes_file = tmp.path().join("codes.txt");
    let people: Vec<Recipient> = receipt_codes(&kemensos, "SEMBAKO", "2026-11", &codes_file)
        .into_iter()
        .map(|(allocation, code)| Recipient { code, allocation })
        .collect();
    assert_eq!(people.len(), 3);

    // BRI pays Siti in full at a teller and Ani only 150,000 through an agent.
    for (who, channel, amount) in [(0, "BANK_TELLER", "200000"), (2, "AGENT", "150000")] {
        let out = client(
            &bri,
            &[
                "claim",
                "--receipt",
                &people[who].code,
                "--channel",
                channel,
                "--outlet",
                "BRI Gambir",
                "--amount",
                amount,
                "--wait",
                "60",
            ],
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("claim committed"),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let size = log_size(&urls[0]);
    wait_for("a checkpoint covering the claims on every node", 60, || {
        urls.iter().all(|u| {
            get(&format!("{u}/v1/status")).1["checkpoint_size"]
                .as_u64()
                .is_some_and(|s| s >= size)
        })
    });

    // The command line, through a proxy that records what node 0 is asked.
    let proxy = RecordingProxy::new(&urls[0]);
    let nodes = [
        "--node",
        proxy.stub.url.as_str(),
        "--node",
        urls[1].as_str(),
    ];
    let check = |who: usize, nik: &str, extra: &[&str]| {
        let mut args = vec![people[who].code.as_str(), "--nik", nik];
        args.extend_from_slice(&nodes);
        args.extend_from_slice(extra);
        verify(&policy, &args)
    };
    let bundle = tmp.path().join("siti.bundle.json");
    let (code, stdout, stderr) = check(0, niks[0], &["--save-bundle", bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for needle in [
        "sudah dibayarkan penuh",
        "Rp200.000",
        "teller bank",
        "Bank Rakyat Indonesia",
        "Program Sembako",
    ] {
        assert!(stdout.contains(needle), "{needle:?} missing in:\n{stdout}");
    }
    let (code, stdout, stderr) = check(1, niks[1], &[]);
    assert_eq!(code, 10, "{stdout}{stderr}");
    assert!(stdout.contains("belum diambil"), "{stdout}");
    let (code, stdout, stderr) = check(2, niks[2], &["--lang", "en"]);
    assert_eq!(code, 20, "{stdout}{stderr}");
    assert!(
        stdout.contains("WARNING: less was paid") && stdout.contains("Rp150.000"),
        "{stdout}"
    );
    let (code, stdout, stderr) = check(0, niks[1], &[]);
    assert_eq!(code, 21, "{stdout}{stderr}");
    assert!(stdout.contains("tidak cocok dengan NIK"), "{stdout}");
    let (code, stdout, _) = check(1, niks[1], &["--json"]);
    assert_eq!(code, 10);
    let verdict: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(verdict["outcome"], "not_claimed");
    assert_eq!(verdict["allocation"]["id"], people[1].allocation.as_str());

    // No request named an allocation, a leaf index or a NIK: only whole tiles were asked for.
    let paths = proxy.paths();
    assert!(
        paths.iter().any(|p| p.starts_with("/tile/entries/")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/v1/allocation-events?tile=")),
        "{paths:?}"
    );
    for p in &paths {
        assert!(
            !p.contains("index=")
                && !p.contains("/v1/allocations/")
                && people.iter().all(|r| !p.contains(&r.allocation))
                && niks.iter().all(|n| !p.contains(n)),
            "{p} tells the node what is checked"
        );
    }
    drop(proxy);

    // Offline, from the saved evidence: no node is needed, and it holds no NIK.
    let saved = std::fs::read_to_string(&bundle).unwrap();
    assert!(niks.iter().all(|n| !saved.contains(n)));
    let (code, stdout, stderr) = verify(
        &policy,
        &[
            &people[0].code,
            "--nik",
            niks[0],
            "--bundle",
            bundle.to_str().unwrap(),
            "--lang",
            "en",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("paid in full"), "{stdout}");

    // The letter's QR code instead of the typed code.
    let qr = tmp.path().join("siti-qr.png");
    std::fs::write(&qr, bansos_client::qr::png(&people[0].code, 4)).unwrap();
    let (code, stdout, stderr) = verify(
        &policy,
        &[
            "--qr",
            qr.to_str().unwrap(),
            "--nik",
            niks[0],
            "--bundle",
            bundle.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Without --nik the NIK is asked for (and read from standard input), never echoed.
    let mut asked = Command::new(binary("bansos-verify"))
        .args(["receipt", &people[1].code, "--bundle"])
        .arg(&bundle)
        .arg("--policy")
        .arg(&policy)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    asked
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", niks[1]).as_bytes())
        .unwrap();
    let out = asked.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stderr.contains("NIK (16 angka"), "{stderr}");
    assert!(!stdout.contains(niks[1]) && !stderr.contains(niks[1]));
    // Siti's bundle is evidence about another entry than Budi's receipt names: refused.
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");

    // A policy for another network refuses the receipt before asking anything.
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&policy).unwrap()).unwrap();
    other["network_id"] = serde_json::Value::String("ab".repeat(32));
    let other_policy = tmp.path().join("other-policy.json");
    std::fs::write(&other_policy, other.to_string()).unwrap();
    let (code, stdout, _) = verify(
        &other_policy,
        &[&people[0].code, "--nik", niks[0], "--node", &urls[0]],
    );
    assert_eq!(code, 23, "{stdout}");

    // The events of a tile are served only at sizes a checkpoint covers.
    let (status, body) = get(&format!(
        "{}/v1/allocation-events?tile=0&size={}",
        urls[0],
        size + 1_000_000
    ));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_size"))
    );
    let (status, body) = get(&format!(
        "{}/v1/allocation-events?tile=0&size={size}",
        urls[0]
    ));
    assert_eq!(status, 200);
    assert_eq!(
        body["events"].as_array().map(Vec::len),
        Some(2),
        "the two claims of this tile's allocations: {body}"
    );

    // The page each node serves at /verify carries the network's policy.
    let mut page = agent().get(&format!("{}/verify", urls[2])).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.body_mut().read_to_string().unwrap();
    let id_hex: String = net
        .network_id()
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(html.contains(&id_hex) && !html.contains("__BANSOS_TRUST_POLICY__"));

    // The browser: headless Chromium loads /verify from node 3, types each receipt and NIK.
    let cases = serde_json::json!([
        {"name": "claimed", "receipt": people[0].code, "nik": niks[0], "expect_outcome": "claimed"},
        {"name": "not_claimed", "receipt": people[1].code, "nik": niks[1], "expect_outcome": "not_claimed"},
        {"name": "paid_less", "receipt": people[2].code, "nik": niks[2], "expect_outcome": "paid_less"},
        {"name": "wrong_nik", "receipt": people[1].code, "nik": niks[0], "expect_outcome": "nik_mismatch"},
        {"name": "qr_photo", "qr_png": qr, "receipt": "", "nik": niks[0], "expect_outcome": "claimed"},
    ]);
    let cases_file = tmp.path().join("cases.json");
    std::fs::write(&cases_file, cases.to_string()).unwrap();
    let e2e = web_dir().join("test/e2e.mjs");
    assert!(
        web_dir().join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and the page's npm packages: run scripts/install-web-test-deps.sh"
    );
    let out = Command::new("node")
        .arg(&e2e)
        .arg("--url")
        .arg(format!("{}/verify", urls[3]))
        .arg("--cases")
        .arg(&cases_file)
        .arg("--bundle-case")
        .arg("claimed")
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "\"claimed (offline bundle)\",\"outcome\":\"claimed\"",
        "(read aloud)\",\"ok\":true",
    ] {
        assert!(stdout.contains(line), "{line} not in {stdout}");
    }
    for name in [
        "claimed",
        "not_claimed",
        "paid_less",
        "wrong_nik",
        "qr_photo",
    ] {
        let line = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no result for {name} in {stdout}"));
        let want = cases
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["expect_outcome"]
            .clone();
        assert_eq!(line["outcome"], want, "{line}");
    }
}
