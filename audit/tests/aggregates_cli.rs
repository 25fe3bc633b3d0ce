//! `bansos-audit aggregates` and `report` as a user runs them: exit codes, files written, and
//! nothing written when the mirror is refused.

mod ledger_world;

use std::path::Path;
use std::process::{Command, Output};

use ledger_world::*;

fn bansos_audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bansos-audit"))
        .args(args)
        .output()
        .expect("bansos-audit runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A mirror of `w` signed by three of the four validators, and its genesis file.
fn mirror(w: &World, dir: &Path) -> (String, String) {
    let m = dir.join("mirror");
    w.write_mirror(&m, &[KEMENSOS, BRI, POS]);
    let g = dir.join("genesis.json");
    std::fs::write(&g, &w.genesis_bytes).unwrap();
    (m.display().to_string(), g.display().to_string())
}

fn aggregates(mirror: &str, out: &str, extra: &[&str]) -> Output {
    let mut args = vec!["aggregates", "--mirror", mirror, "--out", out];
    args.extend_from_slice(extra);
    bansos_audit(&args)
}

#[test]
fn aggregates_of_a_clean_log_then_a_report() {
    let (w, tally) = clean_world();
    let tmp = tempfile::tempdir().unwrap();
    let (m, g) = mirror(&w, tmp.path());
    let out = tmp.path().join("out");
    let o = aggregates(&m, out.to_str().unwrap(), &["--genesis", &g]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("OK size="),
        "{}",
        text(&o.stdout)
    );

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("aggregates.json")).unwrap()).unwrap();
    assert_eq!(json["format"], "bansos-ledger/aggregates@v1");
    assert_eq!(json["checkpoint"]["size"], w.leaves.len());
    assert_eq!(json["checkpoint"]["root"], w.root().to_base64());
    let totals = &json["totals"];
    for (field, want) in [
        ("allocations", tally.allocations),
        ("allocated", tally.allocated),
        ("claims", tally.claims),
        ("claimed", tally.claimed),
        ("returns", tally.returns),
        ("returned", tally.returned),
        ("revocations", tally.revocations),
        ("revoked", tally.revoked),
        ("outstanding", 0),
    ] {
        assert_eq!(totals[field], want, "{field}");
    }
    assert_eq!(json["by_payer"][1]["payer_name"], "PT Pos Indonesia");
    assert_eq!(json["anomalies"], serde_json::json!([]));
    assert_eq!(json["rule_violations"], serde_json::json!([]));
    for csv in [
        "by_program_period.csv",
        "by_region.csv",
        "by_channel.csv",
        "by_payer.csv",
        "time_to_claim.csv",
        "anomalies.csv",
        "rule_violations.csv",
    ] {
        let body = std::fs::read_to_string(out.join(csv)).unwrap();
        assert!(body.lines().count() >= 1, "{csv}");
    }
    let by_region = std::fs::read_to_string(out.join("by_region.csv")).unwrap();
    assert_eq!(by_region.lines().count(), 1 + CLEAN_REGIONS.len());
    assert!(by_region.contains("5171,Kota Denpasar,50,"), "{by_region}");

    // The report: the data written in, refused when it is not aggregates.json.
    let html = tmp.path().join("report.html");
    let o = bansos_audit(&[
        "report",
        "--aggregates",
        out.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    let open = r#"<script type="application/json" id="report-data">"#;
    let start = page.find(open).unwrap() + open.len();
    let end = start + page[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
    assert_eq!(data, json);
    assert!(!page[start..end].contains("__BANSOS_REPORT_DATA__"));

    let other = tmp.path().join("other.json");
    std::fs::write(&other, r#"{"format": "something/else@v1"}"#).unwrap();
    let o = bansos_audit(&[
        "report",
        "--aggregates",
        other.to_str().unwrap(),
        "--out",
        tmp.path().join("x.html").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("something/else@v1"),
        "{}",
        text(&o.stderr)
    );
    assert!(!tmp.path().join("x.html").exists());
}

#[test]
fn thresholds_are_flags() {
    let (w, _) = clean_world();
    let tmp = tempfile::tempdir().unwrap();
    let (m, _) = mirror(&w, tmp.path());
    let out = tmp.path().join("out");
    let o = aggregates(
        &m,
        out.to_str().unwrap(),
        &["--service-opens-hour", "9", "--service-closes-hour", "12"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("aggregates.json")).unwrap()).unwrap();
    let rules: Vec<&str> = json["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.is_empty() && rules.iter().all(|r| *r == "outside_service_hours"));
    let o = aggregates(&m, out.to_str().unwrap(), &["--service-opens-hour", "24"]);
    assert_eq!(o.status.code(), Some(2), "hours are 0-23");
}

#[test]
fn rule_violations_exit_3_with_the_files_written() {
    let (mut w, _) = clean_world();
    let a = w.allocate(AllocSpec::pkh(3174));
    let mut c = ClaimSpec::full(&a, local(2, 10, 0, 7), "o");
    c.secret = [0; 16];
    let claim = w.claim(&a, c);
    let tmp = tempfile::tempdir().unwrap();
    let (m, g) = mirror(&w, tmp.path());
    let out = tmp.path().join("out");
    let o = aggregates(&m, out.to_str().unwrap(), &["--genesis", &g]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("breaks the ledger rules"));
    let csv = std::fs::read_to_string(out.join("rule_violations.csv")).unwrap();
    assert!(
        csv.contains(&format!("claim_lock_mismatch,{} {claim},", a.leaf)),
        "{csv}"
    );
}

#[test]
fn a_refused_mirror_writes_nothing_and_exits_1() {
    let (w, _) = clean_world();
    let tmp = tempfile::tempdir().unwrap();
    let (m, _) = mirror(&w, tmp.path());
    let out = tmp.path().join("out");

    // Checked against another network's genesis: its keys did not sign.
    let (other, _) = genesis(50);
    let other_path = tmp.path().join("other-genesis.json");
    std::fs::write(&other_path, other).unwrap();
    let o = aggregates(
        &m,
        out.to_str().unwrap(),
        &["--genesis", other_path.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("FAILED"), "{}", text(&o.stderr));
    assert!(!out.exists());

    // One entry changed in the partial bundle at the end.
    let tile = std::fs::read_dir(Path::new(&m).join("tile/entries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("the partial bundle's .p directory");
    let partial = std::fs::read_dir(&tile)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&partial).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0x80; // the last entry's signature
    std::fs::write(&partial, bytes).unwrap();
    let o = aggregates(&m, out.to_str().unwrap(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("hash to the root"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());

    // No mirror at all: an error, not a verdict.
    let o = aggregates(
        tmp.path().join("nowhere").to_str().unwrap(),
        out.to_str().unwrap(),
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
}
