//! Governance on a live testnet: `add-validator`, `remove-validator` and `rotate-key` drive the
//! whole procedure of docs/OPERATIONS.md ("Joining", "Leaving", "Rotating a key") as the members
//! would: the change is voted by every running validator with its own key, the tool waits until
//! every running validator is in the new epoch, then starts, stops or restarts the validator
//! concerned, and keeps `testnet.json` and `vkeys.txt` true (the trust policy stays the
//! genesis one: verifiers follow the key history from it).
//!
//! LOCAL TESTNETS ONLY: the tool holds every member's private key in `DIR/keys/`, which no real
//! network does; a real member votes with `bansos-client governance`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bansos_genesis::Role;
use bansos_verifier::entry::{MemberId, NetworkId, SignedTx, TxBody};
use bansos_verifier::governance::{Change, KeyRotation, NewMember, Roster, Vote};
use bansos_verifier::note::{KeyKind, SignerKey, VerifierKey};
use ed25519_dalek::SigningKey;

use crate::api::NodeApi;
use crate::files::{read_testnet, write_private, write_testnet};
use crate::process;
use bansos_testnet::layout::{NodeEntry, NodeToml, P2P_PORT_OFFSET, TestnetFile};

/// How often the tool asks the validators whether the change took effect.
const POLL: Duration = Duration::from_millis(200);

/// The governance state of a running validator (`GET /v1/governance`).
fn governance(api: &NodeApi) -> anyhow::Result<(Roster, Vec<String>)> {
    let (status, body) = api.get("/v1/governance")?;
    if status != 200 {
        bail!(
            "GET /v1/governance: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body).context("/v1/governance")?;
    let roster: Roster =
        serde_json::from_value(v["roster"].clone()).context("/v1/governance roster")?;
    let approved = v["approved"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["change_hash"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok((roster, approved))
}

fn key_file(dir: &Path, name: &str) -> PathBuf {
    dir.join("keys").join(format!("{name}.key"))
}

fn read_key(dir: &Path, name: &str) -> anyhow::Result<SigningKey> {
    let path = key_file(dir, name);
    let text = bansos_store::private::read_secret(&path)
        .with_context(|| format!("reading {}", path.display()))?;
    let key = SignerKey::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("{} is not a member key: {e}", path.display()))?;
    Ok(key.signing_key().clone())
}

fn network_id(t: &TestnetFile) -> anyhow::Result<NetworkId> {
    let bytes = data_encoding::HEXLOWER
        .decode(t.network_id.as_bytes())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .context("testnet.json: network_id is not 32 bytes of hex")?;
    Ok(NetworkId(bytes))
}

/// The running validators' APIs (a stopped one is skipped: it neither votes nor is waited for).
fn running(t: &TestnetFile) -> Vec<(NodeEntry, NodeApi)> {
    t.nodes
        .iter()
        .filter(|n| process::is_node_running(n.pid, &n.config))
        .map(|n| (n.clone(), NodeApi::new(&n.name, &n.http)))
        .collect()
}

/// Every running validator votes for `change` with its own key; returns once every running
/// validator has the change approved (in its epoch), with the roster that applies.
pub fn vote(
    dir: &Path,
    t: &TestnetFile,
    change: &Change,
    timeout: Duration,
) -> anyhow::Result<Roster> {
    let id = network_id(t)?;
    let nodes = running(t);
    let Some((_, first)) = nodes.first() else {
        bail!("no validator of {} is running", dir.display());
    };
    let (roster, _) = governance(first)?;
    let hash = change.hash().to_hex();
    let mut votes = 0;
    for (node, api) in &nodes {
        let Some(member) = roster.validators().find(|m| m.name == node.name) else {
            continue;
        };
        let key = read_key(dir, &node.name)?;
        let body = TxBody::Vote(Vote {
            epoch: roster.epoch,
            change: change.clone(),
        });
        let tx = SignedTx::sign(&id, member.id, body, &key)
            .map_err(|e| anyhow::anyhow!("the change does not encode: {e}"))?;
        let (results, _) = api.submit(&[&tx.encode()])?;
        match results.first().map(|r| r.status.as_str()) {
            Some("pending" | "committed") => votes += 1,
            other => bail!(
                "{} refused its vote: {} ({})",
                node.name,
                other.unwrap_or("no answer"),
                results
                    .first()
                    .and_then(|r| r.message.clone())
                    .unwrap_or_default()
            ),
        }
    }
    println!(
        "{votes} validators voted for {} (change {}) in epoch {}",
        change.name(),
        &hash[..16],
        roster.epoch
    );
    let deadline = Instant::now() + timeout;
    let mut waiting: Vec<&(NodeEntry, NodeApi)> = nodes.iter().collect();
    let mut after = None;
    while !waiting.is_empty() {
        let mut still = Vec::new();
        for n in waiting {
            match governance(&n.1) {
                Ok((r, approved)) if approved.contains(&hash) => after = Some(r),
                _ => still.push(n),
            }
        }
        waiting = still;
        if waiting.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let names: Vec<&str> = waiting.iter().map(|n| n.0.name.as_str()).collect();
            bail!(
                "the change was not approved at {} within {} s (were enough validators \
                 running to make more than two thirds of the voting power?)",
                names.join(", "),
                timeout.as_secs()
            );
        }
        std::thread::sleep(POLL);
    }
    let after = after.expect("set once every node answered");
    println!(
        "approved: epoch {} with {} validators",
        after.epoch,
        after.validators().count()
    );
    Ok(after)
}

/// Rewrites `vkeys.txt` and the quorum of `testnet.json` for the roster's validators.
fn record_roster(dir: &Path, t: &mut TestnetFile, roster: &Roster) -> anyhow::Result<()> {
    let text: String = roster
        .validators()
        .filter_map(|m| {
            Some(VerifierKey::new(
                &m.name,
                KeyKind::Ed25519,
                m.verifying_key()?,
            ))
        })
        .map(|k| format!("{k}\n"))
        .collect();
    std::fs::write(&t.vkeys, text).with_context(|| format!("writing {}", t.vkeys.display()))?;
    t.quorum = roster.quorum_power() as usize;
    write_testnet(dir, t)
}

fn refuse_netns(t: &TestnetFile) -> anyhow::Result<()> {
    if t.netns.is_some() {
        bail!(
            "this testnet runs in network namespaces; adding a validator there needs a namespace \
             of its own, which `up --netns` creates only at start: add validators to a testnet \
             on 127.0.0.1, or remove and rotate here"
        );
    }
    Ok(())
}

fn port_of(url: &str) -> Option<u16> {
    url.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

/// `bansos-testnet add-validator`: a new member draws its key, its card is voted in by the
/// running validators, and its validator starts, syncs the log and validates from the epoch
/// that admits it.
pub fn add_validator(
    dir: &Path,
    name: &str,
    display_name: Option<&str>,
    role: Role,
    timeout: Duration,
) -> anyhow::Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}", dir.display()))?;
    let mut t = read_testnet(&dir)?;
    refuse_netns(&t)?;
    if !bansos_genesis::is_member_name_valid(name) {
        bail!("--name {name:?}: 1 to 32 of A-Z a-z 0-9 . _ -, starting with a letter or digit");
    }
    if t.node(name).is_some() || dir.join(name).exists() || key_file(&dir, name).exists() {
        bail!(
            "a member or folder named {name} already exists in {}",
            dir.display()
        );
    }
    let http_port = t
        .nodes
        .iter()
        .filter_map(|n| port_of(&n.http))
        .max()
        .context("testnet.json: no HTTP port")?
        + 1;
    let p2p_port = http_port + P2P_PORT_OFFSET;
    if std::net::TcpListener::bind(("127.0.0.1", http_port)).is_err()
        || std::net::TcpListener::bind(("127.0.0.1", p2p_port)).is_err()
    {
        bail!("ports {http_port} and {p2p_port} must be free for the new validator");
    }
    // A validator that is down stays counted: with the new one the running validators must
    // still hold more than two thirds, or the network would stop.
    let up = running(&t).len();
    if 3 * (up + 1) <= 2 * (t.nodes.len() + 1) {
        bail!(
            "only {up} of {} validators are running: with one more validator the running ones \
             would not make more than two thirds; start the stopped ones first",
            t.nodes.len()
        );
    }
    // The new member's own step: its key (mode 0600) and its public card.
    let key = SigningKey::from_bytes(&rand::random());
    write_private(
        &key_file(&dir, name),
        format!("{}\n", SignerKey::new(name, key.clone()).to_secret_string()).as_bytes(),
    )?;
    let p2p = format!("/ip4/127.0.0.1/tcp/{p2p_port}");
    let change = Change::AddMember(NewMember {
        name: name.to_owned(),
        display_name: display_name.unwrap_or(name).to_owned(),
        role,
        public_key: key.verifying_key().to_bytes(),
        p2p_address: p2p.clone(),
        voting_power: 1,
    });
    let roster = match vote(&dir, &t, &change, timeout) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(key_file(&dir, name));
            return Err(e);
        }
    };
    let member = roster
        .members
        .iter()
        .find(|m| m.name == name)
        .context("the approved roster does not list the new member")?;

    let node_dir = dir.join(name);
    std::fs::create_dir_all(&node_dir)?;
    let peers: Vec<String> = t.nodes.iter().map(|n| n.http.clone()).collect();
    let p2p_peers: Vec<String> = t.nodes.iter().map(|n| n.p2p.clone()).collect();
    let text = NodeToml {
        name,
        genesis: Path::new("../genesis.json"),
        key: &PathBuf::from("..").join("keys").join(format!("{name}.key")),
        data_dir: Path::new("data"),
        host: "127.0.0.1",
        http_port,
        p2p_listen: &p2p,
        peer_http: &peers,
        trusted_sources: &["127.0.0.1".to_string()],
        joining: Some((member.id.0, &p2p_peers)),
    }
    .render();
    let config = node_dir.join("node.toml");
    std::fs::write(&config, text)?;
    t.nodes.push(NodeEntry {
        name: name.to_owned(),
        http: format!("http://127.0.0.1:{http_port}"),
        p2p,
        pid: 0,
        data_dir: node_dir.join("data"),
        config,
        log: node_dir.join("node.log"),
    });
    record_roster(&dir, &mut t, &roster)?;
    crate::network::start(&dir, name, timeout).with_context(|| {
        format!(
            "{name} is a validator of the network from epoch {} but its node did not start: \
             fix it and run `bansos-testnet start --dir {} --node {name}` (until then the \
             network counts it as down)",
            roster.epoch,
            dir.display()
        )
    })?;
    wait_caught_up(&dir, name, timeout)
}

/// Waits until validator `name` has the height of the others.
fn wait_caught_up(dir: &Path, name: &str, timeout: Duration) -> anyhow::Result<()> {
    let t = read_testnet(dir)?;
    let node = t.node(name).context("just written")?;
    let api = NodeApi::new(name, &node.http);
    let others: Vec<NodeApi> = running(&t)
        .into_iter()
        .filter(|(n, _)| n.name != name)
        .map(|(_, a)| a)
        .collect();
    let target = others
        .iter()
        .filter_map(|a| a.status().ok().map(|s| s.height))
        .max()
        .unwrap_or(0);
    let deadline = Instant::now() + timeout;
    loop {
        let h = api.status().map(|s| s.height).unwrap_or(0);
        if h >= target {
            println!("{name} caught up: height {h}");
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{name} is at height {h}, the others at {target}, after {} s",
                timeout.as_secs()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// `bansos-testnet remove-validator`: the running validators vote the member out; once the
/// change applies its validator is stopped (its folder and key stay, as a member's records
/// would) and it leaves `testnet.json`.
pub fn remove_validator(
    dir: &Path,
    name: &str,
    timeout: Duration,
    grace: Duration,
) -> anyhow::Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}", dir.display()))?;
    let mut t = read_testnet(&dir)?;
    let node = t
        .node(name)
        .with_context(|| format!("no validator named {name:?} (validators: {})", t.names()))?
        .clone();
    let api = running(&t)
        .into_iter()
        .next()
        .map(|(_, a)| a)
        .context("no validator is running")?;
    let (roster, _) = governance(&api)?;
    let member = roster
        .members
        .iter()
        .find(|m| m.name == name && m.active)
        .with_context(|| format!("{name} is not an active member"))?;
    let roster = vote(
        &dir,
        &t,
        &Change::RemoveMember { member: member.id },
        timeout,
    )?;
    let how = process::stop_node(node.pid, Some(&node.config), grace, false, &mut || false);
    println!("stopped {name} ({how:?}); it is no longer a validator");
    t.nodes.retain(|n| n.name != name);
    record_roster(&dir, &mut t, &roster)
}

/// `bansos-testnet rotate-key`: the member draws a new key and signs the rotation with the new
/// and the old key; once the running validators have voted it in, its validator restarts with
/// the new key (the old one is kept as `keys/<name>.key.retired-<epoch>`, and its consensus
/// write-ahead log, signed with the old key, is set aside).
pub fn rotate_key(
    dir: &Path,
    name: &str,
    timeout: Duration,
    grace: Duration,
) -> anyhow::Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}", dir.display()))?;
    let t = read_testnet(&dir)?;
    let node = t
        .node(name)
        .with_context(|| format!("no validator named {name:?} (validators: {})", t.names()))?
        .clone();
    let id = network_id(&t)?;
    let api = NodeApi::new(name, &node.http);
    let (roster, _) = governance(&api)?;
    let member_id: MemberId = roster
        .members
        .iter()
        .find(|m| m.name == name && m.active)
        .with_context(|| format!("{name} is not an active member"))?
        .id;
    let old = read_key(&dir, name)?;
    let new = SigningKey::from_bytes(&rand::random());
    let pending = dir.join("keys").join(format!("{name}.key.new"));
    write_private(
        &pending,
        format!("{}\n", SignerKey::new(name, new.clone()).to_secret_string()).as_bytes(),
    )?;
    let change = Change::RotateKey(KeyRotation::sign(&id, member_id, &new, Some(&old)));
    let roster = match vote(&dir, &t, &change, timeout) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&pending);
            return Err(e);
        }
    };
    let how = process::stop_node(node.pid, Some(&node.config), grace, false, &mut || false);
    println!("stopped {name} ({how:?}) to switch to its new key");
    let current = key_file(&dir, name);
    std::fs::rename(
        &current,
        dir.join("keys")
            .join(format!("{name}.key.retired-{}", roster.epoch)),
    )?;
    std::fs::rename(&pending, &current)?;
    let wal = node.data_dir.join("wal");
    if wal.exists() {
        std::fs::rename(
            &wal,
            node.data_dir.join(format!("wal.retired-{}", roster.epoch)),
        )?;
    }
    let mut t = read_testnet(&dir)?;
    record_roster(&dir, &mut t, &roster)?;
    crate::network::start(&dir, name, timeout)?;
    wait_caught_up(&dir, name, timeout)
}
