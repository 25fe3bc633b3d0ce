//! `bansos-testnet chaos` on validators in network namespaces of their own: kills, a minority
//! cut off, 2|2 splits and the proposer isolated while load runs, then the end-state checks
//! (identical roots, consistent checkpoints, no acknowledged transaction lost, nothing twice).
//! The ten-minute runs of docs/RELIABILITY.md use the same command.
//!
//! Needs root (namespaces, veth, a bridge): CI runs as root. The namespaces and the bridge are
//! removed by `down` when the testnet is dropped. Link delay and loss use tc netem, or where the
//! kernel has none (CI's), iptables NFQUEUE and a shaper process: scripts/test.sh installs
//! iptables.

use std::time::{Duration, Instant};

use bansos_tests::Testnet;

/// How long `GET /healthz` takes on a fresh connection (its handshake shaped too), or `None`
/// if it gets no answer within 3 s.
fn healthz_time(url: &str) -> Option<Duration> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(3)))
        .build()
        .into();
    let started = Instant::now();
    let answer = agent.get(&format!("{url}/healthz")).call().ok()?;
    (answer.status() == 200).then(|| started.elapsed())
}

/// The fastest of three answers.
fn fastest_healthz(url: &str) -> Option<Duration> {
    (0..3).filter_map(|_| healthz_time(url)).min()
}

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

    // `link` shapes what a validator sends: all of it lost, then all of it late, then neither.
    let pos = net.url("pos");
    net.testnet(&["link", "--node", "pos", "--loss", "100"]);
    assert_eq!(healthz_time(&pos), None, "pos answered with 100% loss");
    net.testnet(&["link", "--node", "pos", "--delay-ms", "400"]);
    let late = fastest_healthz(&pos).expect("pos answers through a 400-ms delay");
    assert!(
        late >= Duration::from_millis(400),
        "{late:?} with 400 ms delay"
    );
    net.testnet(&["link", "--node", "pos", "--clear"]);
    let restored = fastest_healthz(&pos).expect("pos answers");
    assert!(
        restored < Duration::from_millis(400),
        "{restored:?} after --clear"
    );
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
