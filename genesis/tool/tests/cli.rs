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

/// Every file under `dir`, as bytes.
fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

#[test]
fn a_genesis_assembled_from_cards_holds_no_private_key_and_counts_approvals() {
    let tmp = tempfile::tempdir().unwrap();
    let members = [
        ("kemensos", "ministry", "Kementerian Sosial"),
        ("kemenkeu", "ministry", "Kementerian Keuangan"),
        ("bri", "bank", "Bank Rakyat Indonesia"),
        ("pos", "bank", "PT Pos Indonesia"),
    ];
    // Each member on "its own machine": a folder of its own.
    let mut cards = Vec::new();
    let mut secrets = Vec::new();
    for (i, (name, role, display)) in members.iter().enumerate() {
        let own = tmp.path().join(format!("machine-{name}"));
        let port = (27000 + i).to_string();
        let out = run(&[
            "keygen",
            "--name",
            name,
            "--role",
            role,
            "--display-name",
            display,
            "--host",
            "10.0.0.5",
            "--p2p-port",
            &port,
            "--out",
            own.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!text(&out).contains("PRIVATE+KEY"), "no key printed");
        let key = own.join(format!("{name}.key"));
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let k = SignerKey::parse(std::fs::read_to_string(&key).unwrap().trim()).unwrap();
        secrets.push(data_encoding::HEXLOWER.encode(k.signing_key().as_bytes()));
        secrets.push(k.to_secret_string());
        if *role == "ministry" {
            let d = std::fs::read_to_string(own.join(format!("{name}.dedup-key"))).unwrap();
            secrets.push(d.trim().to_string());
        }
        cards.push(own.join(format!("{name}.card.json")));
    }
    // The coordinator's machine gets the cards only.
    let coordinator = tmp.path().join("coordinator");
    std::fs::create_dir(&coordinator).unwrap();
    let mut toml =
        String::from("network_name = \"Bansos Ledger\"\norigin = \"ledger.bansos.example/prod\"\n");
    for (name, _, _) in &members {
        toml.push_str(&format!(
            "[[members]]\nname = \"{name}\"\nvoting_power = 1\n"
        ));
    }
    std::fs::write(coordinator.join("network.toml"), &toml).unwrap();
    let mut copied = Vec::new();
    for c in &cards {
        let to = coordinator.join(c.file_name().unwrap());
        std::fs::copy(c, &to).unwrap();
        copied.push(to.to_str().unwrap().to_string());
    }
    let net = coordinator.join("net");
    let mut args = vec![
        "assemble".to_string(),
        "--config".into(),
        coordinator.join("network.toml").to_str().unwrap().into(),
        "--out".into(),
        net.to_str().unwrap().into(),
    ];
    args.extend(copied.iter().cloned());
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out));
    // No private key anywhere on the coordinator's machine, in any form.
    for (path, bytes) in all_files(&coordinator) {
        let t = String::from_utf8_lossy(&bytes).to_lowercase();
        assert!(!t.contains("private+key"), "{path:?}");
        for s in &secrets {
            assert!(!t.contains(&s.to_lowercase()), "a private key in {path:?}");
        }
    }
    let genesis = net.join("genesis.json");
    let n = Network::from_bytes(&std::fs::read(&genesis).unwrap()).unwrap();
    assert_eq!(n.validator_vkeys().len(), 4);
    assert_eq!(n.genesis.members[2].p2p_address, "/ip4/10.0.0.5/tcp/27002");

    // Three members approve; validate names them and the one missing.
    let mut approvals = Vec::new();
    for name in ["kemensos", "bri", "pos"] {
        let a = tmp.path().join(format!("{name}.approval"));
        let key = tmp.path().join(format!("machine-{name}/{name}.key"));
        let out = run(&[
            "approve",
            "--genesis",
            genesis.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--out",
            a.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        approvals.push(a.to_str().unwrap().to_string());
    }
    let mut args = vec!["validate", genesis.to_str().unwrap(), "--approvals"];
    args.extend(approvals.iter().map(String::as_str));
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("approved by 3 of 4 members: kemensos, bri, pos; not yet: kemenkeu"),
        "{}",
        text(&out)
    );

    // An approval of another genesis, or with its signature damaged, is an error that says so.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    assert!(new_network(&other, GOOD).status.success());
    let stranger = tmp.path().join("stranger.approval");
    let out = run(&[
        "approve",
        "--genesis",
        other.join("net/genesis.json").to_str().unwrap(),
        "--key",
        other.join("net/keys/bri.key").to_str().unwrap(),
        "--out",
        stranger.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let forged = tmp.path().join("forged.approval");
    let mut bytes = std::fs::read(&approvals[0]).unwrap();
    let n = bytes.len();
    bytes[n - 6] ^= 1; // inside the base64 signature
    std::fs::write(&forged, bytes).unwrap();
    let out = run(&[
        "validate",
        genesis.to_str().unwrap(),
        "--approvals",
        stranger.to_str().unwrap(),
        forged.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("approves another genesis"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("forged.approval"), "{}", text(&out));
    assert!(text(&out).contains("approved by 0 of 4"), "{}", text(&out));

    // A card with a private key pasted in (bri's own key file text) is refused, nothing written.
    let leaky = coordinator.join("leaky.card.json");
    let card = std::fs::read_to_string(&cards[2]).unwrap();
    std::fs::write(&leaky, card.replace("Bank Rakyat Indonesia", &secrets[7])).unwrap();
    let mut args = vec![
        "assemble".to_string(),
        "--config".into(),
        coordinator.join("network.toml").to_str().unwrap().into(),
        "--out".into(),
        coordinator.join("net2").to_str().unwrap().into(),
    ];
    args.extend(copied.iter().filter(|c| !c.contains("bri")).cloned());
    args.push(leaky.to_str().unwrap().into());
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("contains a private key"),
        "{}",
        text(&out)
    );
    assert!(!coordinator.join("net2").exists());
}
