//! `bansos-genesis new` and `validate` as an operator runs them.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

use bansos_genesis::Network;
use bansos_verifier::note::{SignerKey, VerifierKey};

const GOOD: &str = r#"
network_name = "Bansos Ledger test"
origin = "ledger.bansos.example/test"

[[members]]
name = "kemensos"
display_name = "Kementerian Sosial"
role = "ministry"
voting_power = 1
host = "127.0.0.1"
p2p_port = 27000

[[members]]
name = "kemenkeu"
display_name = "Kementerian Keuangan"
role = "ministry"
voting_power = 1
host = "127.0.0.1"
p2p_port = 27001

[[members]]
name = "bri"
display_name = "Bank Rakyat Indonesia"
role = "bank"
voting_power = 1
host = "bri.example"
p2p_port = 27002

[[members]]
name = "pos"
display_name = "PT Pos Indonesia"
role = "bank"
voting_power = 1
host = "127.0.0.1"
p2p_port = 27003

[[members]]
name = "bpk"
display_name = "Badan Pemeriksa Keuangan"
role = "auditor"
voting_power = 0
host = "127.0.0.1"
p2p_port = 27004

[[programs]]
code = "PKH"
name = "Program Keluarga Harapan"
issuer = "kemensos"
period_kind = "quarterly"
amount_min = 225000
amount_max = 3000000

[[programs]]
code = "SEMBAKO"
name = "Program Sembako"
issuer = "kemensos"
period_kind = "monthly"
amount = 200000
"#;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bansos-genesis"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn new_network(dir: &Path, toml: &str) -> Output {
    let config = dir.join("network.toml");
    std::fs::write(&config, toml).unwrap();
    run(&[
        "new",
        "--config",
        config.to_str().unwrap(),
        "--out",
        dir.join("net").to_str().unwrap(),
    ])
}

#[test]
fn new_writes_keys_genesis_and_vkeys() {
    let tmp = tempfile::tempdir().unwrap();
    let out = new_network(tmp.path(), GOOD);
    assert!(out.status.success(), "{}", text(&out));
    let net = tmp.path().join("net");
    let network = Network::from_bytes(&std::fs::read(net.join("genesis.json")).unwrap()).unwrap();
    assert_eq!(network.genesis.members.len(), 5);
    assert_eq!(
        network.genesis.members[2].p2p_address,
        "/dns4/bri.example/tcp/27002"
    );
    assert_eq!(network.checkpoint_quorum(), 3);
    // vkeys.txt: the four validators, not the auditor.
    let vkeys: Vec<VerifierKey> = std::fs::read_to_string(net.join("vkeys.txt"))
        .unwrap()
        .lines()
        .map(|l| VerifierKey::parse(l).unwrap())
        .collect();
    assert_eq!(
        vkeys.iter().map(|k| k.name()).collect::<Vec<_>>(),
        ["kemensos", "kemenkeu", "bri", "pos"]
    );
    assert_eq!(vkeys, network.validator_vkeys());
    let printed = text(&out);
    assert!(
        printed.contains(&data_encoding::HEXLOWER.encode(&network.id.0)),
        "prints the network id"
    );
    for (i, m) in network.genesis.members.iter().enumerate() {
        let path = net.join("keys").join(format!("{}.key", m.name));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600,
            "{}",
            path.display()
        );
        let secret = std::fs::read_to_string(&path).unwrap();
        let key = SignerKey::parse(&secret).unwrap();
        assert_eq!(
            key.signing_key().verifying_key(),
            *network
                .key(bansos_verifier::entry::MemberId(i as u16))
                .unwrap()
        );
        // Never printed.
        assert!(!printed.contains(secret.trim()));
        let dedup = net.join("keys").join(format!("{}.dedup-key", m.name));
        assert_eq!(
            dedup.exists(),
            m.role == bansos_genesis::Role::Ministry,
            "{}",
            dedup.display()
        );
    }
    // Validate agrees.
    let v = run(&["validate", net.join("genesis.json").to_str().unwrap()]);
    assert!(v.status.success(), "{}", text(&v));
    assert!(text(&v).starts_with("OK "));
    // A second run into the same directory is refused and changes nothing.
    let before = std::fs::read(net.join("genesis.json")).unwrap();
    let again = new_network(tmp.path(), GOOD);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("not empty"));
    assert_eq!(std::fs::read(net.join("genesis.json")).unwrap(), before);
}

#[test]
fn a_bad_description_lists_every_problem_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = GOOD
        .replace("name = \"kemenkeu\"", "name = \"kemensos\"")
        .replace("p2p_port = 27003", "p2p_port = 27002\nhost_unused = 1")
        .replace(
            "issuer = \"kemensos\"\nperiod_kind = \"monthly\"",
            "issuer = \"bri\"\nperiod_kind = \"monthly\"",
        );
    // Unknown fields are refused by the parser first.
    let out = new_network(tmp.path(), &bad);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("host_unused"), "{}", text(&out));
    assert!(!tmp.path().join("net").exists());

    let bad = bad.replace("\nhost_unused = 1", "").replace(
        "host = \"127.0.0.1\"\np2p_port = 27002",
        "host = \"bri.example\"\np2p_port = 27002",
    );
    let out = new_network(tmp.path(), &bad);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    for needle in [
        "name is used by an earlier member",
        "host and p2p_port are those of member 2",
        "issuer bri is not a ministry",
    ] {
        assert!(t.contains(needle), "missing {needle:?} in {t}");
    }
    assert!(
        !tmp.path().join("net").exists(),
        "nothing is written for a bad description"
    );
}

#[test]
fn validate_explains_a_broken_genesis() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(new_network(tmp.path(), GOOD).status.success());
    let path = tmp.path().join("net").join("genesis.json");
    let mut g = Network::from_bytes(&std::fs::read(&path).unwrap())
        .unwrap()
        .genesis;
    g.members[3].public_key = g.members[0].public_key.clone();
    g.members[4].voting_power = 0;
    g.members[1].id = bansos_verifier::entry::MemberId(7);
    g.origin = String::new();
    std::fs::write(&path, Network::to_file_bytes(&g)).unwrap();
    let out = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    for needle in [
        "public_key is used by an earlier member",
        "expected its position 1",
        "origin must be non-empty",
    ] {
        assert!(t.contains(needle), "missing {needle:?} in {t}");
    }
    std::fs::write(&path, b"{ not json").unwrap();
    let out = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("not valid JSON"));
}

#[test]
fn a_member_name_cannot_put_key_files_outside_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let toml = GOOD.replacen(r#"name = "bri""#, r#"name = "../../evil""#, 1);
    assert_ne!(toml, GOOD);
    let out = new_network(tmp.path(), &toml);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("names the member's key files"),
        "{}",
        text(&out)
    );
    assert!(!tmp.path().join("evil.key").exists());
    assert!(!tmp.path().join("net").exists(), "nothing written");
}

#[test]
fn a_network_where_one_member_decides_alone_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let toml = GOOD.replacen("voting_power = 1", "voting_power = 10", 1);
    let out = new_network(tmp.path(), &toml);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("equal voting power"), "{}", text(&out));
    assert!(!tmp.path().join("net").exists(), "nothing written");
}
