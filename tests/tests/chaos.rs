//! `bansos-testnet chaos` on validators in network namespaces of their own: kills, a minority
//! cut off, 2|2 splits and the proposer isolated while load runs, then the end-state checks
//! (identical roots, consistent checkpoints, no acknowledged transaction lost, nothing twice).
//! The ten-minute runs of docs/RELIABILITY.md use the same command.
//!
//! Needs root (namespaces, veth, a bridge): CI runs as root. The namespaces and the bridge are
//! removed by `down` when the testnet is dropped.

use bansos_tests::Testnet;

fn summary(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("chaos summary:"))
        .unwrap_or_else(|| panic!("no summary line in:\n{out}"))
}

/// Runs `bansos-testnet chaos` with `args` and returns its summary line, which must say OK.
fn chaos(net: &Testnet, args: &[&str]) -> String {
    let mut all = vec!["chaos", "--duration", "40", "--rate", "200"];
    all.extend_from_slice(args);
    let out = net.testnet(&all);
    let line = summary(&out).to_string();
    assert!(line.ends_with("| OK"), "{out}");
    assert!(line.contains(" lost 0 twice 0 "), "{out}");
    line
}

#[test]
fn chaos_in_namespaces_loses_nothing_acknowledged_even_with_a_byzantine_validator() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Testnet::up_with(&tmp.path().join("net"), 18_400, 0, &["--netns"]);
    let line = chaos(&net, &["--seed", "5"]);
    // The schedule of seed 5 cuts links, not only kills.
    assert!(
        !line.contains("minority 0 splits 0 (committed during 0) proposer-isolations 0"),
        "{line}"
    );
    // One after the other on the same network: the second run with pos Byzantine throughout.
    let line = chaos(&net, &["--seed", "6", "--byzantine", "pos"]);
    assert!(line.contains("byzantine pos"), "{line}");
}
