//! The public dashboard every node serves at `GET /` (issue #6), against a real 4-validator
//! testnet with demo data: the page carries the network's trust policy, and in headless
//! Chromium (verifier/web/test/dashboard-e2e.mjs) it shows the node's `/v1/stats` totals, the
//! latest checkpoint verified against the policy, drawn charts, and a link to `/verify`.

use std::path::{Path, PathBuf};
use std::process::Command;

use bansos_tests::{Testnet, agent, get, wait_for};

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join("verifier/web")
}

/// The totals the dashboard shows, in the order of its cards.
const TOTALS: [&str; 8] = [
    "allocations",
    "allocated",
    "claims",
    "claimed",
    "returns",
    "returned",
    "revocations",
    "revoked",
];

#[test]
fn the_dashboard_shows_the_nodes_totals_and_a_verified_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Testnet::up(&tmp.path().join("net"), 18_000, 300);
    let urls = net.urls();

    // The demo data is committed and every node publishes a checkpoint covering all of it, with
    // the same totals.
    wait_for(
        "the same totals and a checkpoint of the whole log on every node",
        120,
        || {
            let stats: Vec<_> = urls
                .iter()
                .map(|u| get(&format!("{u}/v1/stats")).1["totals"].clone())
                .collect();
            let claims = stats[0]["claims"].as_u64().unwrap_or(0);
            claims > 0
                && stats.iter().all(|s| *s == stats[0])
                && urls.iter().all(|u| {
                    let s = get(&format!("{u}/v1/status")).1;
                    s["log_size"].as_u64().is_some() && s["checkpoint_size"] == s["log_size"]
                })
        },
    );
    let (status, stats) = get(&format!("{}/v1/stats", urls[1]));
    assert_eq!(status, 200);
    let totals = &stats["totals"];
    assert!(totals["allocations"].as_u64().unwrap() > 0, "{totals}");

    // The page at / carries this network's policy, like /verify.
    let mut page = agent().get(&format!("{}/", urls[1])).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let content_type = page
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(content_type, "text/html; charset=utf-8");
    let html = page.body_mut().read_to_string().unwrap();
    let id_hex: String = net
        .network_id()
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(html.contains(&id_hex) && !html.contains("__BANSOS_TRUST_POLICY__"));
    assert!(html.contains(r#"href="/verify""#));

    // The browser. A missing Chromium fails the test: nothing would have been checked.
    assert!(
        web_dir().join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and the page's npm packages: run scripts/install-web-test-deps.sh"
    );
    let out = Command::new("node")
        .arg(web_dir().join("test/dashboard-e2e.mjs"))
        .arg("--url")
        .arg(&urls[1])
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = |name: &str| {
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no result for {name} in {stdout}"))
    };
    for name in [
        "checkpoint verified",
        "totals equal /v1/stats",
        "tables and charts",
        "link to /verify",
        "link followed",
        "no request elsewhere, no script error",
    ] {
        assert_eq!(result(name)["ok"], true, "{name}: {stdout}");
    }
    // The totals shown are the ones this test read (the demo data was committed before).
    let shown = &result("totals equal /v1/stats")["shown"];
    for field in TOTALS {
        assert_eq!(shown[field], totals[field], "{field}: {stdout}");
    }
    // At least a quorum of validators signed the checkpoint shown, and the page names them.
    let signers = result("checkpoint verified")["signers"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(signers.split(", ").count() >= 3, "{signers}");
}
