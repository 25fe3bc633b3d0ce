//! The validator network end to end: four real `bansos-node` processes started by
//! `bansos-testnet up` on 127.0.0.1, Malachite consensus between them, real redb stores.
//!
//! One test walks through the scenarios in order (a testnet takes seconds to start):
//! every node serves the same roots; bad transactions are refused with a clear error and leave
//! no entry; a validator killed with SIGKILL under load restarts and converges to the identical
//! log; a validator whose data is wiped catches up from genesis; a key outside genesis cannot
//! run a validator and a node of another genesis cannot even talk to this network;
//! `bansos-verify log --quorum 3` passes against every node with every validator key.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use bansos_tests::{
    Running, Testnet, agent, binary, get, height, log_size, metric, post, post_with_headers,
    status, wait_for,
};
use bansos_verifier::entry::{
    Allocation, AllocationId, Channel, Claim, MemberId, Period, ProgramCode, RegionCode, Rupiah,
    SignedTx, TxBody,
};
use bansos_verifier::hash::Hash;
use bansos_verifier::note::SignerKey;
use serde_json::Value;

/// Root of the log at `size` as a node computes it (from its proof endpoint).
fn root_at(url: &str, size: u64) -> String {
    let (code, v) = get(&format!("{url}/v1/proof/inclusion?index=0&size={size}"));
    assert_eq!(code, 200, "{url} root at {size}: {v}");
    v["root"].as_str().expect("root").to_string()
}

/// Waits until every node has the same log size and published checkpoint size, then checks
/// that every node gives the same root at several sizes up to it.
fn assert_converged(net: &Testnet, secs: u64) -> u64 {
    let urls = net.urls();
    let mut size = 0;
    wait_for(
        "every node at the same log and checkpoint size",
        secs,
        || {
            let sizes: Vec<(u64, u64)> = urls
                .iter()
                .map(|u| {
                    let s = status(u);
                    (
                        s["log_size"].as_u64().unwrap_or(u64::MAX),
                        s["checkpoint_size"].as_u64().unwrap_or(u64::MAX),
                    )
                })
                .collect();
            size = sizes[0].0;
            sizes.iter().all(|s| *s == sizes[0]) && sizes[0].0 == sizes[0].1
        },
    );
    if size > 0 {
        for probe in [1, size / 3 + 1, size / 2 + 1, size] {
            let roots: Vec<String> = urls.iter().map(|u| root_at(u, probe)).collect();
            assert!(
                roots.iter().all(|r| r == &roots[0]),
                "nodes disagree on the root at size {probe}: {roots:?}"
            );
        }
    }
    size
}

fn verify_all(net: &Testnet) {
    let vkeys = std::fs::read_to_string(net.dir.join("vkeys.txt")).unwrap();
    let keys: Vec<&str> = vkeys.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(keys.len(), 4);
    for url in net.urls() {
        let mut cmd = Command::new(binary("bansos-verify"));
        cmd.args(["log", "--url", &url, "--quorum", "3"]);
        for k in &keys {
            cmd.args(["--key", k]);
        }
        let out = cmd.output().expect("running bansos-verify");
        assert!(
            out.status.success(),
            "bansos-verify log against {url} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const KEMENSOS: MemberId = MemberId(0);
const BRI: MemberId = MemberId(2);

fn allocation(id: u8, amount: u64) -> Allocation {
    Allocation {
        id: AllocationId([id; 16]),
        program: ProgramCode::new("SEMBAKO").unwrap(),
        period: Period::new("2026-11").unwrap(),
        region: RegionCode::new(3171).unwrap(),
        amount: Rupiah(amount),
        payer: BRI,
        beneficiary_commitment: Hash([id; 32]),
        dedup_tag: Hash([id.wrapping_add(100); 32]),
        claim_lock: bansos_verifier::commitment::claim_lock(&[id; 16]),
        expires_at: 4_000_000_000,
    }
}

fn claim(id: u8, amount: u64, at: u64) -> Claim {
    Claim {
        allocation: AllocationId([id; 16]),
        amount: Rupiah(amount),
        channel: Channel::BankTeller,
        region: RegionCode::new(3171).unwrap(),
        outlet: [1; 16],
        claim_secret: [id; 16],
        claimed_at: at,
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Submits a transaction to `url` and waits until some node reports it committed or rejected.
fn submit_and_settle(url: &str, tx: &SignedTx) -> Value {
    let (code, v, _) = post(&format!("{url}/v1/tx"), &tx.encode());
    assert!(code == 202 || code == 200, "submitting: {code} {v}");
    let hash = tx.hash().to_hex();
    let mut last = Value::Null;
    wait_for("the transaction to be committed or rejected", 30, || {
        last = get(&format!("{url}/v1/tx/{hash}")).1;
        last["status"] == "committed" || last["status"] == "rejected"
    });
    last
}

#[test]
fn four_validators_commit_recover_and_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let net = Testnet::up(&dir, 18_800, 300);
    let urls = net.urls();
    assert_eq!(urls.len(), 4);

    // The demo committed on every node; all serve the same roots.
    let size = assert_converged(&net, 60);
    assert!(size >= 200, "the demo's entries are in the log: {size}");
    let checkpoint = agent()
        .get(&format!("{}/checkpoint", urls[1]))
        .call()
        .unwrap();
    assert_eq!(checkpoint.status().as_u16(), 200);

    // Bad transactions: each refused with a clear error, none leaves an entry.
    let id = net.network_id();
    let kemensos = net.key("kemensos");
    let bri = net.key("bri");
    let pos = net.key("pos");
    let before = log_size(&urls[0]);
    let alloc = SignedTx::sign(
        &id,
        KEMENSOS,
        TxBody::Allocation(allocation(201, 200_000)),
        kemensos.signing_key(),
    )
    .unwrap();
    assert_eq!(submit_and_settle(&urls[0], &alloc)["status"], "committed");
    let first_claim = SignedTx::sign(
        &id,
        BRI,
        TxBody::Claim(claim(201, 200_000, now())),
        bri.signing_key(),
    )
    .unwrap();
    assert_eq!(
        submit_and_settle(&urls[1], &first_claim)["status"],
        "committed"
    );
    // A second claim of the same allocation (a different transaction).
    let double = SignedTx::sign(
        &id,
        BRI,
        TxBody::Claim(claim(201, 200_000, now() + 1)),
        bri.signing_key(),
    )
    .unwrap();
    let v = submit_and_settle(&urls[2], &double);
    assert_eq!(v["status"], "rejected", "double claim: {v}");
    assert!(!v["message"].as_str().unwrap().is_empty());
    // An over-claim: more than allocated.
    let alloc2 = SignedTx::sign(
        &id,
        KEMENSOS,
        TxBody::Allocation(allocation(202, 200_000)),
        kemensos.signing_key(),
    )
    .unwrap();
    assert_eq!(submit_and_settle(&urls[0], &alloc2)["status"], "committed");
    let over = SignedTx::sign(
        &id,
        BRI,
        TxBody::Claim(claim(202, 900_000, now())),
        bri.signing_key(),
    )
    .unwrap();
    let v = submit_and_settle(&urls[3], &over);
    assert_eq!(v["status"], "rejected", "over-claim: {v}");
    // A bank may not allocate.
    let wrong_role = SignedTx::sign(
        &id,
        MemberId(3),
        TxBody::Allocation(allocation(203, 200_000)),
        pos.signing_key(),
    )
    .unwrap();
    let (code, v, _) = post(&format!("{}/v1/tx", urls[0]), &wrong_role.encode());
    assert_eq!(code, 422, "wrong role: {v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("may not"),
        "{v}"
    );
    // A bad signature (one bit of the signature flipped).
    let mut bad = alloc.encode();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let (code, v, _) = post(&format!("{}/v1/tx", urls[1]), &bad);
    assert_eq!(code, 422, "bad signature: {v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("signature"),
        "{v}"
    );
    // Malformed bytes.
    let (code, v, _) = post(&format!("{}/v1/tx", urls[2]), b"not a transaction");
    assert_eq!(code, 400, "malformed: {v}");
    assert_eq!(v["error"]["code"], "malformed_tx");
    // Oversized bodies: beyond a transaction's size, and beyond the endpoint's body limit.
    let (code, v, _) = post(&format!("{}/v1/tx", urls[3]), &vec![0u8; 2000]);
    assert_eq!(code, 413, "oversized: {v}");
    assert_eq!(v["error"]["code"], "tx_too_large");
    let (code, v, _) = post(&format!("{}/v1/tx", urls[3]), &vec![0u8; 100_000]);
    assert_eq!(code, 413, "oversized: {v}");
    assert_eq!(v["error"]["code"], "body_too_large");
    // Far beyond the limit (3 MB, sent whole by a plain client): the client still receives
    // the 413, not a broken pipe.
    let (code, v, _) = post(&format!("{}/v1/tx", urls[3]), &vec![0u8; 3_000_000]);
    assert_eq!(code, 413, "3 MB body: {v}");
    assert_eq!(v["error"]["code"], "body_too_large");
    // An empty batch is refused with a reason.
    let (code, v, _) = post(&format!("{}/v1/txs", urls[0]), b"");
    assert_eq!(code, 400, "empty batch: {v}");
    assert_eq!(v["error"]["code"], "empty_batch");
    // A malformed batch admits nothing of it.
    let mut batch = 4u32.to_be_bytes().to_vec();
    batch.extend_from_slice(b"junk");
    let (code, v, _) = post(&format!("{}/v1/txs", urls[0]), &batch);
    assert_eq!(code, 400, "malformed batch: {v}");
    // An identical resubmission is idempotent.
    let (code, v, _) = post(&format!("{}/v1/tx", urls[2]), &alloc.encode());
    assert_eq!(code, 200, "resubmitting a committed transaction: {v}");
    assert_eq!(v["status"], "committed");
    // A transaction a block rejected is not admitted again (its bytes would be proposed,
    // rejected and forwarded for ever): every validator answers with the block's verdict.
    for url in &urls {
        let (code, v, _) = post(&format!("{url}/v1/tx"), &double.encode());
        assert_eq!(
            code, 422,
            "resubmitting a transaction a block rejected: {v}"
        );
        let (_, v) = get(&format!("{url}/v1/tx/{}", double.hash().to_hex()));
        assert_eq!(v["status"], "rejected", "{v}");
    }
    // Writes come from programs, not from web pages: a body that is not declared binary, or
    // a request a browser made for a page of another origin, is refused before it is read.
    let (code, v) = post_with_headers(
        &format!("{}/v1/tx", urls[0]),
        &alloc.encode(),
        &[("content-type", "text/plain")],
    );
    assert_eq!(code, 415, "a text/plain write: {v}");
    assert_eq!(v["error"]["code"], "unsupported_media_type");
    let (code, v) = post_with_headers(
        &format!("{}/v1/txs", urls[0]),
        &[
            (alloc.encode().len() as u32).to_be_bytes().as_slice(),
            &alloc.encode(),
        ]
        .concat(),
        &[
            ("content-type", "application/octet-stream"),
            ("origin", "https://attacker.example"),
        ],
    );
    assert_eq!(code, 403, "a write from a web page: {v}");
    assert_eq!(v["error"]["code"], "browser_write");
    // An outsider posting junk under real member ids (they are public) is shut out after its
    // first batch: each validator checks at most one batch of its signatures, however fast
    // it sends (without the limits, every batch costs every validator 1,000 checks).
    let bad_before: Vec<u64> = urls
        .iter()
        .map(|u| metric(u, "bansos_bad_signatures_total"))
        .collect();
    let out = net.testnet(&["flood", "--duration", "4", "--batch", "1000"]);
    let refused: u64 = out
        .split(" refused with 429")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of refused batches in: {out}"));
    assert!(refused > 0, "{out}");
    for (u, before) in urls.iter().zip(bad_before) {
        let checked = metric(u, "bansos_bad_signatures_total") - before;
        assert!(
            checked <= 1_000,
            "{u} checked {checked} junk signatures: {out}"
        );
    }
    // Exactly the three good transactions were added, everywhere.
    let after = assert_converged(&net, 30);
    assert_eq!(
        after,
        before + 3,
        "only the valid transactions left entries"
    );
    for tx in [&double, &over, &wrong_role] {
        let (code, v) = get(&format!("{}/v1/tx/{}", urls[0], tx.hash().to_hex()));
        assert!(
            v["status"] != "committed",
            "a refused transaction was committed: {code} {v}"
        );
    }

    // SIGKILL one validator under load: the others keep committing; it converges.
    let mut load = Running(
        Command::new(binary("bansos-testnet"))
            .args(["load", "--rate", "300", "--duration", "12", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_secs(3));
    net.testnet(&["stop", "--kill", "--node", "pos"]);
    let h = height(&urls[0]);
    let s = log_size(&urls[0]);
    wait_for("the three live validators to keep committing", 30, || {
        height(&urls[0]) > h + 3 && log_size(&urls[1]) > s
    });
    net.testnet(&["start", "--node", "pos"]);
    let _ = load.0.wait();
    let mut net = net;
    net.reload();
    assert_converged(&net, 90);

    // A validator whose data is gone catches up from genesis to the identical log.
    net.testnet(&["stop", "--kill", "--node", "bri"]);
    let bri_dir = PathBuf::from(
        net.info["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == "bri")
            .unwrap()["data_dir"]
            .as_str()
            .unwrap(),
    );
    std::fs::remove_dir_all(&bri_dir).unwrap();
    net.testnet(&["start", "--node", "bri"]);
    net.reload();
    let bri_url = net.url("bri");
    wait_for("the wiped validator to answer", 30, || {
        get(&format!("{bri_url}/v1/status")).0 == 200
    });
    assert_converged(&net, 120);

    // A 202 is a promise: a transaction acknowledged by a validator that crashes before any
    // other validator heard of it is committed once the validators are back.
    for name in ["kemenkeu", "bri", "pos"] {
        net.testnet(&["stop", "--kill", "--node", name]);
    }
    let promised = SignedTx::sign(
        &id,
        KEMENSOS,
        TxBody::Allocation(allocation(204, 200_000)),
        kemensos.signing_key(),
    )
    .unwrap();
    let kemensos_url = net.url("kemensos");
    let (code, v, _) = post(&format!("{kemensos_url}/v1/tx"), &promised.encode());
    assert_eq!(code, 202, "acknowledged while alone: {v}");
    net.testnet(&["stop", "--kill", "--node", "kemensos"]);
    for name in ["kemensos", "kemenkeu", "bri", "pos"] {
        net.testnet(&["start", "--node", name]);
    }
    net.reload();
    let kemensos_url = net.url("kemensos");
    let promised_hash = promised.hash().to_hex();
    let mut last = Value::Null;
    wait_for(
        "the acknowledged transaction to be committed after the crash",
        90,
        || {
            last = get(&format!("{kemensos_url}/v1/tx/{promised_hash}")).1;
            last["status"] == "committed"
        },
    );
    assert_converged(&net, 90);

    // A key outside genesis cannot run a validator of this network.
    let outsider_dir = tmp.path().join("outsider");
    std::fs::create_dir_all(&outsider_dir).unwrap();
    let outsider_key = SignerKey::new(
        "outsider",
        ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]),
    );
    std::fs::write(
        outsider_dir.join("outsider.key"),
        outsider_key.to_secret_string(),
    )
    .unwrap();
    std::fs::write(
        outsider_dir.join("node.toml"),
        format!(
            "genesis = {:?}\nkey = \"outsider.key\"\ndata_dir = \"data\"\nhttp_listen = \"127.0.0.1:0\"\np2p_listen = \"/ip4/127.0.0.1/tcp/18899\"\n",
            dir.join("genesis.json")
        ),
    )
    .unwrap();
    let run_outsider = || {
        Command::new(binary("bansos-node"))
            .arg("--config")
            .arg(outsider_dir.join("node.toml"))
            .output()
            .unwrap()
    };
    // Written with the default mode (0644): others could read it, so it is refused first.
    let out = run_outsider();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("others can read or change it (mode 644)"),
        "{err}"
    );
    std::fs::set_permissions(
        outsider_dir.join("outsider.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let out = run_outsider();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not the key of any member"), "{err}");

    // A node of another genesis that lists a validator's address as its peer cannot talk to
    // it: protocol names carry the network id, so the validators disconnect it. (Its genesis
    // names two more validators, as a genesis must have four; nothing listens at theirs.)
    let kemensos_p2p = net.info["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "kemensos")
        .unwrap()["p2p"]
        .as_str()
        .unwrap()
        .to_string();
    let kemensos_port: u16 = kemensos_p2p.rsplit('/').next().unwrap().parse().unwrap();
    let forged = tmp.path().join("forged");
    std::fs::create_dir_all(&forged).unwrap();
    std::fs::write(
        forged.join("network.toml"),
        format!(
            "network_name = \"forged\"\norigin = \"ledger.bansos.example/demo\"\n\
             [[members]]\nname = \"outsider\"\ndisplay_name = \"Outsider\"\nrole = \"ministry\"\n\
             voting_power = 1\nhost = \"127.0.0.1\"\np2p_port = 18898\n\
             [[members]]\nname = \"kemensos\"\ndisplay_name = \"Kementerian Sosial\"\n\
             role = \"ministry\"\nvoting_power = 1\nhost = \"127.0.0.1\"\np2p_port = {kemensos_port}\n\
             [[members]]\nname = \"ghost1\"\ndisplay_name = \"Ghost 1\"\nrole = \"auditor\"\n\
             voting_power = 1\nhost = \"127.0.0.1\"\np2p_port = 18895\n\
             [[members]]\nname = \"ghost2\"\ndisplay_name = \"Ghost 2\"\nrole = \"auditor\"\n\
             voting_power = 1\nhost = \"127.0.0.1\"\np2p_port = 18896\n"
        ),
    )
    .unwrap();
    let made = Command::new(binary("bansos-genesis"))
        .args(["new", "--config"])
        .arg(forged.join("network.toml"))
        .arg("--out")
        .arg(forged.join("net"))
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::write(
        forged.join("net").join("node.toml"),
        "genesis = \"genesis.json\"\nkey = \"keys/outsider.key\"\ndata_dir = \"data\"\nhttp_listen = \"127.0.0.1:18897\"\n",
    )
    .unwrap();
    let before = log_size(&urls[0]);
    let _outsider = Running(
        Command::new(binary("bansos-node"))
            .arg("--config")
            .arg(forged.join("net").join("node.toml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let outsider = "http://127.0.0.1:18897";
    wait_for("the outsider to answer", 30, || {
        status(outsider)["name"] == "outsider"
    });
    std::thread::sleep(Duration::from_secs(6));
    let o = status(outsider);
    assert_eq!(o["peers"], 0, "the outsider has no peers: {o}");
    assert_eq!(o["height"], 0, "the outsider decided nothing: {o}");
    let k = status(&net.url("kemensos"));
    assert_eq!(
        k["peers"], 3,
        "kemensos's peers are the three validators: {k}"
    );
    assert_eq!(log_size(&urls[0]), before, "the outsider changed nothing");
    let log = std::fs::read_to_string(net.dir.join("kemensos").join("node.log")).unwrap();
    assert!(
        log.contains("Incompatible protocol version"),
        "kemensos refused the outsider's protocols"
    );

    // Every node's checkpoint verifies with every validator key and a quorum of 3.
    verify_all(&net);
}
