//! `up`, `down`, `stop` and `start`: a live testnet of `bansos-node` processes on 127.0.0.1
//! (or each in a network namespace of its own, `crate::netns`),
//! described by `DIR/testnet.json` (see `bansos_testnet::layout` for the directory).

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use bansos_genesis::Role;
use bansos_testnet::demo::{self, DemoNetwork, VALIDATORS_MAX, VALIDATORS_MIN};
use bansos_testnet::layout::{NetnsLayout, NodeEntry, NodeToml, PortPlan, TestnetFile};
use bansos_verifier::entry::SignedTx;
use bansos_verifier::hash::LeafIndex;
use bansos_verifier::note::SignerKey;

use crate::api::{NodeApi, Status, TxState};
use crate::files::{read_testnet, write_private, write_testnet};
use crate::process::{self, Interrupts, LOG_TAIL_LINES, Stopped};

/// Transactions per `POST /v1/txs` when submitting the demo.
pub const DEMO_BATCH_TXS: usize = 1_000;
/// Receipts written to `demo-receipts.txt`.
pub const DEMO_RECEIPTS: usize = 5;
/// Stage transactions whose status is fetched to explain a log that stopped growing.
const DIAGNOSE_TXS_MAX: usize = 2_000;
/// How often start-up and commit waits look again.
const WAIT_POLL_MS: u64 = 200;
/// How long `up` waits for a quorum checkpoint to cover the demo before saying so and going on.
const CHECKPOINT_WAIT_SECS: u64 = 15;

/// What `up` was asked for.
pub struct UpArgs {
    /// Number of validators.
    pub validators: usize,
    /// The testnet directory.
    pub dir: PathBuf,
    /// First HTTP port.
    pub base_port: u16,
    /// Demo transactions to submit.
    pub demo: usize,
    /// Return once ready, leaving the nodes running.
    pub detach: bool,
    /// Seed of keys and demo data; random if absent.
    pub seed: Option<u64>,
    /// Longest wait for start-up, and for progress while committing the demo.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL when stopping.
    pub grace: Duration,
    /// Each validator in a network namespace of its own (`crate::netns`).
    pub netns: bool,
    /// Outside witnesses the genesis names (all required).
    pub witnesses: Vec<bansos_genesis::GenesisWitness>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

fn apis(t: &TestnetFile) -> Vec<NodeApi> {
    t.nodes
        .iter()
        .map(|n| NodeApi::new(&n.name, &n.http))
        .collect()
}

/// Refuses a directory that already holds something, saying what to do instead.
fn refuse_existing(dir: &Path) -> anyhow::Result<()> {
    if dir.join(TestnetFile::FILE_NAME).exists() {
        let t = read_testnet(dir)?;
        let running: Vec<String> = t
            .nodes
            .iter()
            .filter(|n| process::is_node_running(n.pid, &n.config))
            .map(|n| format!("{} (pid {})", n.name, n.pid))
            .collect();
        if running.is_empty() {
            bail!(
                "{} holds a stopped testnet: restart its validators with `bansos-testnet start \
                 --dir {0} --node <name>` (validators: {}), or remove the directory to make a \
                 new one",
                dir.display(),
                t.names()
            );
        }
        bail!(
            "{} holds a running testnet ({}): stop it with `bansos-testnet down --dir {0}`, or \
             choose another directory",
            dir.display(),
            running.join(", ")
        );
    }
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} exists and is not empty: choose a new directory",
            dir.display()
        );
    }
    Ok(())
}

fn check_ports_free(plan: &PortPlan, names: &[&str]) -> anyhow::Result<()> {
    for (i, name) in names.iter().enumerate() {
        for (what, port) in [("HTTP", plan.http(i)), ("peer-to-peer", plan.p2p(i))] {
            if let Err(e) = TcpListener::bind(("127.0.0.1", port)) {
                bail!(
                    "port {port} on 127.0.0.1 ({what} of validator {name}) is not free ({e}): \
                     choose other ports with --base-port (HTTP uses base..base+{}, peer-to-peer \
                     base+100..)",
                    names.len() - 1
                );
            }
        }
    }
    Ok(())
}

/// Writes genesis, keys and each validator's `node.toml`; returns the testnet description
/// (pids still 0).
fn write_network(
    dir: &Path,
    net: &DemoNetwork,
    plan: &PortPlan,
    node_bin: &Path,
    netns: Option<&NetnsLayout>,
) -> anyhow::Result<TestnetFile> {
    let keys_dir = dir.join("keys");
    std::fs::create_dir_all(&keys_dir)
        .with_context(|| format!("creating {}", keys_dir.display()))?;
    let members = &net.network.genesis.members;
    for (m, k) in members.iter().zip(&net.keys) {
        let text = format!(
            "{}\n",
            SignerKey::new(&m.name, k.clone()).to_secret_string()
        );
        write_private(&keys_dir.join(format!("{}.key", m.name)), text.as_bytes())?;
        if m.role == Role::Ministry {
            // The demo's ministries share one dedup key (`DemoNetwork::dedup_key`); a real
            // network draws one per ministry (`bansos-genesis new`).
            let text = format!("{}\n", data_encoding::HEXLOWER.encode(&net.dedup_key));
            write_private(
                &keys_dir.join(format!("{}.dedup-key", m.name)),
                text.as_bytes(),
            )?;
        }
    }
    let genesis = dir.join("genesis.json");
    std::fs::write(&genesis, &net.genesis_bytes)?;
    let vkeys = dir.join("vkeys.txt");
    let text: String = net
        .network
        .validator_vkeys()
        .iter()
        .map(|k| format!("{k}\n"))
        .collect();
    std::fs::write(&vkeys, text)?;
    std::fs::write(
        dir.join("policy.json"),
        net.network.trust_policy().to_json(),
    )?;

    let hosts: Vec<String> = match netns {
        None => vec!["127.0.0.1".to_string(); members.len()],
        Some(l) => l.ips.clone(),
    };
    let urls: Vec<String> = (0..members.len())
        .map(|i| format!("http://{}:{}", hosts[i], plan.http(i)))
        .collect();
    // The other validators forward, the load tool submits: neither is limited per address.
    let trusted: Vec<String> = match netns {
        None => vec!["127.0.0.1".to_string()],
        Some(l) => std::iter::once(l.host_ip.clone())
            .chain(l.ips.iter().cloned())
            .collect(),
    };
    let mut nodes = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let node_dir = dir.join(&m.name);
        std::fs::create_dir_all(&node_dir)
            .with_context(|| format!("creating {}", node_dir.display()))?;
        let peers: Vec<String> = urls
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, u)| u.clone())
            .collect();
        let key = PathBuf::from("..")
            .join("keys")
            .join(format!("{}.key", m.name));
        let text = NodeToml {
            name: &m.name,
            genesis: Path::new("../genesis.json"),
            key: &key,
            data_dir: Path::new("data"),
            host: &hosts[i],
            http_port: plan.http(i),
            p2p_listen: &m.p2p_address,
            peer_http: &peers,
            trusted_sources: &trusted,
            joining: None,
        }
        .render();
        let config = node_dir.join("node.toml");
        std::fs::write(&config, text).with_context(|| format!("writing {}", config.display()))?;
        nodes.push(NodeEntry {
            name: m.name.clone(),
            http: urls[i].clone(),
            p2p: m.p2p_address.clone(),
            pid: 0,
            data_dir: node_dir.join("data"),
            config,
            log: node_dir.join("node.log"),
        });
    }
    Ok(TestnetFile {
        quorum: net.network.checkpoint_quorum(),
        vkeys,
        nodes,
        genesis,
        network_id: data_encoding::HEXLOWER.encode(&net.network.id.0),
        node_bin: node_bin.to_path_buf(),
        netns: netns.cloned(),
    })
}

/// `bansos-testnet up`.
pub fn up(args: UpArgs) -> anyhow::Result<()> {
    if !(VALIDATORS_MIN..=VALIDATORS_MAX).contains(&args.validators) {
        bail!(
            "--validators {}: the demo network has {VALIDATORS_MIN} to {VALIDATORS_MAX} \
             validators (Kemensos, Kemenkeu, BRI, PT Pos, then BNI, Mandiri, BTN, BSI)",
            args.validators
        );
    }
    let Some(plan) = PortPlan::new(args.base_port, args.validators) else {
        bail!(
            "--base-port {}: the ports base..base+{} (HTTP) and base+100.. (peer-to-peer) must \
             fit below 65536",
            args.base_port,
            args.validators - 1
        );
    };
    let interrupts = Interrupts::install()?;
    refuse_existing(&args.dir)?;
    let names: Vec<&str> = demo::MEMBERS
        .iter()
        .chain(&demo::EXTRA_MEMBERS)
        .take(args.validators)
        .map(|m| m.0)
        .collect();
    let netns = if args.netns {
        crate::netns::check_can()?;
        Some(crate::netns::layout(args.base_port, &names))
    } else {
        // Fresh namespaces have every port free.
        check_ports_free(&plan, &names)?;
        None
    };
    let node_bin = process::node_bin()?;

    let created = !args.dir.exists();
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    // Absolute paths: testnet.json is read from anywhere, and a node's command line names its
    // config exactly as `is_node_running` looks for it.
    let dir = args.dir.canonicalize()?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let mut rng = demo::rng(seed);
    let hosts = netns.as_ref().map(|l| l.ips.clone()).unwrap_or_default();
    let net = demo::network_of(
        &mut rng,
        plan.p2p_base(),
        args.validators,
        &hosts,
        &args.witnesses,
    );
    let built = write_network(&dir, &net, &plan, &node_bin, netns.as_ref()).and_then(|t| {
        if let Some(l) = &netns {
            crate::netns::create(l)?;
        }
        Ok(t)
    });
    let mut testnet = match built {
        Ok(t) => t,
        Err(e) => {
            // Nothing started yet: leave nothing half-built behind.
            if created {
                let _ = std::fs::remove_dir_all(&dir);
            }
            return Err(e);
        }
    };

    let mut children: Vec<Child> = Vec::new();
    for (i, node) in testnet.nodes.iter_mut().enumerate() {
        let ns = testnet.netns.as_ref().map(|l| l.namespaces[i].as_str());
        match process::spawn_node(&node_bin, &node.config, &node.log, ns) {
            Ok(child) => {
                node.pid = child.id();
                children.push(child);
            }
            Err(e) => {
                let children = Mutex::new(children);
                stop_all(&testnet, args.grace, &children, &|| false);
                return Err(e);
            }
        }
    }
    println!(
        "started {} validators in {} (seed {seed}); waiting until each one has decided a block",
        testnet.nodes.len(),
        dir.display()
    );

    let children = Mutex::new(children);
    let started = Instant::now();
    let result = write_testnet(&dir, &testnet)
        .and_then(|()| wait_ready(&testnet, &children, args.timeout, &interrupts))
        .and_then(|()| {
            println!(
                "all {} validators are up ({:.1} s)",
                testnet.nodes.len(),
                started.elapsed().as_secs_f64()
            );
            if args.demo > 0 {
                submit_demo(
                    &dir,
                    &testnet,
                    &net,
                    &mut rng,
                    args.demo,
                    args.timeout,
                    &interrupts,
                )
            } else {
                Ok(())
            }
        });
    if let Err(e) = result {
        eprintln!("bansos-testnet up failed; stopping the validators");
        stop_all(&testnet, args.grace, &children, &|| interrupts.count() >= 2);
        bail!(
            "{e:#}\nThe validators were stopped; their logs stay in {}/<name>/node.log (remove \
             {0} before trying again).",
            dir.display()
        );
    }
    print_summary(&dir, &testnet);
    if args.detach {
        println!(
            "detached: the validators keep running; stop them with `bansos-testnet down --dir {}`",
            dir.display()
        );
        return Ok(());
    }
    foreground(&dir, testnet, children, args.grace, &interrupts)
}

fn print_summary(dir: &Path, t: &TestnetFile) {
    println!();
    println!(
        "Bansos Ledger testnet: {} validators {}, network id {}, checkpoint quorum {} of {}",
        t.nodes.len(),
        match &t.netns {
            None => "on 127.0.0.1".to_string(),
            Some(l) => format!(
                "in network namespaces bs*-<name> behind the bridge {}",
                l.bridge
            ),
        },
        t.network_id,
        t.quorum,
        t.nodes.len()
    );
    println!(
        "  {:<10} {:<24} {:<26} {:>8}  log",
        "validator", "HTTP API", "peer-to-peer", "pid"
    );
    for n in &t.nodes {
        println!(
            "  {:<10} {:<24} {:<26} {:>8}  {}",
            n.name,
            n.http,
            n.p2p,
            n.pid,
            n.log.display()
        );
    }
    println!(
        "wrote {0}/testnet.json, genesis.json, vkeys.txt, policy.json, keys/ (private keys, 0600), <name>/node.toml",
        dir.display()
    );
    println!("audit a validator's log as a journalist would:");
    println!(
        "  bansos-verify log --url {} --keys-file {} --quorum {}",
        t.nodes[0].http,
        t.vkeys.display(),
        t.quorum
    );
    println!(
        "measure:  bansos-testnet load --dir {} --rate 1000 --duration 30",
        dir.display()
    );
    println!(
        "crash one: bansos-testnet stop --dir {0} --node {1} --kill; then bansos-testnet start --dir {0} --node {1}",
        dir.display(),
        t.nodes[t.nodes.len() - 1].name
    );
}

/// Waits until every validator answers `/healthz` and `/v1/status` shows height >= 1.
fn wait_ready(
    t: &TestnetFile,
    children: &Mutex<Vec<Child>>,
    timeout: Duration,
    interrupts: &Interrupts,
) -> anyhow::Result<()> {
    let apis = apis(t);
    let deadline = Instant::now() + timeout;
    let mut ready = vec![false; apis.len()];
    let mut last = vec![String::from("no answer yet"); apis.len()];
    loop {
        interrupts.check()?;
        for (i, api) in apis.iter().enumerate() {
            if ready[i] {
                continue;
            }
            let node = &t.nodes[i];
            if let Some(status) = children.lock().expect("not poisoned")[i].try_wait()? {
                bail!(
                    "validator {} exited during start-up ({status}); the end of its log {}:\n{}",
                    node.name,
                    node.log.display(),
                    process::log_tail(&node.log, LOG_TAIL_LINES)
                );
            }
            match api.healthz().and_then(|()| api.status()) {
                Ok(s) if s.height >= 1 => ready[i] = true,
                Ok(s) => last[i] = format!("up, at height {}", s.height),
                Err(e) => last[i] = format!("{e:#}"),
            }
        }
        if ready.iter().all(|r| *r) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let i = ready.iter().position(|r| !r).expect("one is not ready");
            let node = &t.nodes[i];
            let others: Vec<&str> = t
                .nodes
                .iter()
                .zip(&ready)
                .skip(i + 1)
                .filter(|(_, r)| !**r)
                .map(|(n, _)| n.name.as_str())
                .collect();
            bail!(
                "validator {} did not decide a first block within {} s (last: {}){}; see its \
                 log {}:\n{}",
                node.name,
                timeout.as_secs(),
                last[i],
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" (not ready either: {})", others.join(", "))
                },
                node.log.display(),
                process::log_tail(&node.log, LOG_TAIL_LINES)
            );
        }
        std::thread::sleep(Duration::from_millis(WAIT_POLL_MS));
    }
}

/// What a submission of many transactions came to.
#[derive(Default)]
pub struct Submitted {
    /// Accepted (pending, or already committed).
    pub accepted: usize,
    /// Refused on submission: (hash, reason).
    pub rejected: Vec<(String, String)>,
    /// Times a transaction was answered "busy" and sent again.
    pub busy: usize,
}

/// Submits `txs` in batches round-robin over `apis`, sending "busy" ones again after the
/// node's `Retry-After`, until every one is accepted or rejected. Gives up when no transaction
/// was accepted for `patience`.
pub fn submit_all(
    apis: &[NodeApi],
    txs: &[SignedTx],
    batch_txs: usize,
    patience: Duration,
    interrupts: &Interrupts,
) -> anyhow::Result<Submitted> {
    let encoded: Vec<Vec<u8>> = txs.iter().map(SignedTx::encode).collect();
    let mut todo: Vec<usize> = (0..encoded.len()).collect();
    let mut out = Submitted::default();
    let mut next_node = 0usize;
    let mut last_progress = Instant::now();
    while !todo.is_empty() {
        let mut again = Vec::new();
        let mut wait_secs = 0u64;
        for chunk in todo.chunks(batch_txs) {
            interrupts.check()?;
            let api = &apis[next_node % apis.len()];
            next_node += 1;
            let bodies: Vec<&[u8]> = chunk.iter().map(|&i| encoded[i].as_slice()).collect();
            let (results, retry_after) = match api.submit(&bodies) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("warning: {e:#}; sending to another validator");
                    again.extend_from_slice(chunk);
                    wait_secs = wait_secs.max(1);
                    continue;
                }
            };
            for (&i, r) in chunk.iter().zip(results) {
                let hash = txs[i].hash().to_hex();
                if !r.hash.is_empty() && r.hash != hash {
                    bail!(
                        "POST {}/v1/txs names transaction {hash} {}: bansos-node and \
                         bansos-testnet were built from different sources",
                        api.url,
                        r.hash
                    );
                }
                match r.status.as_str() {
                    "pending" | "committed" => {
                        out.accepted += 1;
                        last_progress = Instant::now();
                    }
                    "busy" => {
                        out.busy += 1;
                        again.push(i);
                        wait_secs = wait_secs.max(retry_after.unwrap_or(1));
                    }
                    "rejected" => out
                        .rejected
                        .push((hash, r.message.unwrap_or_else(|| "no reason given".into()))),
                    other => bail!(
                        "POST {}/v1/txs answered status {other:?} for a transaction",
                        api.url
                    ),
                }
            }
        }
        if !again.is_empty() {
            if last_progress.elapsed() >= patience {
                bail!(
                    "the validators accepted none of the last {} transactions for {} s: their \
                     mempools stay full or they cannot be reached",
                    again.len(),
                    patience.as_secs()
                );
            }
            std::thread::sleep(Duration::from_secs(wait_secs.clamp(1, 10)));
        }
        todo = again;
    }
    Ok(out)
}

/// Every validator's status (`None` for one that does not answer).
fn statuses(apis: &[NodeApi]) -> Vec<Option<Status>> {
    apis.iter().map(|a| a.status().ok()).collect()
}

/// Waits until every validator's log holds `expected` entries. Fails, saying which
/// transactions were rejected when their block was applied, if no validator's log grows for
/// `patience`.
fn wait_log_size(
    apis: &[NodeApi],
    expected: u64,
    patience: Duration,
    stage_txs: &[SignedTx],
    interrupts: &Interrupts,
) -> anyhow::Result<()> {
    let mut progress = 0u64;
    let mut last_change = Instant::now();
    loop {
        interrupts.check()?;
        let statuses = statuses(apis);
        if statuses
            .iter()
            .all(|s| s.as_ref().is_some_and(|s| s.log_size >= expected))
        {
            return Ok(());
        }
        let p: u64 = statuses
            .iter()
            .map(|s| s.as_ref().map_or(0, |s| s.log_size.min(expected)))
            .sum();
        if p > progress {
            progress = p;
            last_change = Instant::now();
        }
        if last_change.elapsed() >= patience {
            let listing: Vec<String> = apis
                .iter()
                .zip(&statuses)
                .map(|(a, s)| match s {
                    Some(s) => format!("{} {} (mempool {})", a.name, s.log_size, s.mempool),
                    None => format!("{} not answering", a.name),
                })
                .collect();
            let mut rejected = Vec::new();
            for tx in stage_txs.iter().take(DIAGNOSE_TXS_MAX) {
                if let Ok(TxState::Rejected(m)) = apis[0].tx(&tx.hash()) {
                    rejected.push(m);
                }
            }
            bail!(
                "the log stopped growing for {} s short of {expected} entries (log sizes: {}){}",
                patience.as_secs(),
                listing.join(", "),
                match rejected.first() {
                    Some(m) => format!(
                        "; {} transactions were rejected when their block was applied, the \
                         first because: {m}",
                        rejected.len()
                    ),
                    None => String::new(),
                }
            );
        }
        std::thread::sleep(Duration::from_millis(WAIT_POLL_MS));
    }
}

/// Submits `n` demo transactions stage by stage, waits until every validator has committed
/// each stage, and writes receipts of a few allocations.
fn submit_demo(
    dir: &Path,
    t: &TestnetFile,
    net: &DemoNetwork,
    rng: &mut rand::rngs::StdRng,
    n: usize,
    patience: Duration,
    interrupts: &Interrupts,
) -> anyhow::Result<()> {
    let apis = apis(t);
    let live = demo::live(net, rng, n, unix_now());
    let started = Instant::now();
    println!(
        "submitting {} demo transactions over the real kabupaten/kota codes",
        live.len()
    );
    let mut expected = 0u64;
    for stage in &live.stages {
        let base = statuses(&apis)
            .into_iter()
            .flatten()
            .map(|s| s.log_size)
            .max()
            .unwrap_or(0);
        let s = submit_all(&apis, &stage.txs, DEMO_BATCH_TXS, patience, interrupts)?;
        if let Some((hash, why)) = s.rejected.first() {
            bail!(
                "{} of {} demo {} were rejected on submission (the demo generator and the \
                 validators disagree); the first, {hash}: {why}",
                s.rejected.len(),
                stage.txs.len(),
                stage.name
            );
        }
        expected = base + s.accepted as u64;
        wait_log_size(&apis, expected, patience, &stage.txs, interrupts)?;
        println!(
            "  {:>7} {} committed by every validator (log size {expected}{})",
            stage.txs.len(),
            stage.name,
            if s.busy > 0 {
                format!(", {} busy answers retried", s.busy)
            } else {
                String::new()
            }
        );
    }
    println!("demo committed in {:.1} s", started.elapsed().as_secs_f64());

    // Citizens verify against a checkpoint signed by a quorum; let it cover the demo.
    let deadline = Instant::now() + Duration::from_secs(CHECKPOINT_WAIT_SECS);
    loop {
        interrupts.check()?;
        let covered = apis
            .iter()
            .all(|a| a.status().is_ok_and(|s| s.checkpoint_size >= expected));
        if covered {
            break;
        }
        if Instant::now() >= deadline {
            println!("note: not every validator serves a quorum checkpoint of size {expected} yet");
            break;
        }
        std::thread::sleep(Duration::from_millis(WAIT_POLL_MS));
    }

    let receipts = live.receipts_for(&net.network, DEMO_RECEIPTS, |hash| match apis[0].tx(hash) {
        Ok(TxState::Committed { leaf }) => Some(LeafIndex(leaf)),
        _ => None,
    });
    let mut listing = String::from(
        "# Demo receipts: receipt code, then the SYNTHETIC NIK it opens with (not a real person).\n",
    );
    for r in &receipts {
        listing.push_str(&format!("{} {}\n", r.receipt.to_text(), r.nik));
    }
    let path = dir.join("demo-receipts.txt");
    write_private(&path, listing.as_bytes())?;
    println!(
        "wrote {} receipts of demo allocations to {}",
        receipts.len(),
        path.display()
    );
    Ok(())
}

/// Stops every validator of `t` at once (one thread each) and prints how each went.
/// `force` is asked while waiting: when it says so, SIGKILL at once. Children of this process
/// are collected as they exit.
fn stop_all(
    t: &TestnetFile,
    grace: Duration,
    children: &Mutex<Vec<Child>>,
    force: &(dyn Fn() -> bool + Sync),
) {
    std::thread::scope(|s| {
        // A pid of 0: `up` failed before starting that validator.
        for node in t.nodes.iter().filter(|n| n.pid != 0) {
            s.spawn(move || {
                let mut tick = || {
                    for c in children.lock().expect("not poisoned").iter_mut() {
                        let _ = c.try_wait();
                    }
                    force()
                };
                // A child of ours not yet collected is our node whatever its command line
                // says (a wrapper script may have exec'd something else).
                let own = children
                    .lock()
                    .expect("not poisoned")
                    .iter_mut()
                    .any(|c| c.id() == node.pid && matches!(c.try_wait(), Ok(None)));
                let config = (!own).then_some(node.config.as_path());
                let how = process::stop_node(node.pid, config, grace, false, &mut tick);
                report_stop(node, how, grace, false);
            });
        }
    });
    // The whole testnet is down: its namespaces, veth pairs and bridge go too.
    if let Some(l) = &t.netns {
        crate::netns::remove(l);
        println!("removed the namespaces and the bridge {}", l.bridge);
    }
}

fn report_stop(node: &NodeEntry, how: anyhow::Result<Stopped>, grace: Duration, asked_kill: bool) {
    match how {
        Ok(Stopped::NotRunning) => println!("  {} (pid {}): already stopped", node.name, node.pid),
        Ok(Stopped::Terminated) => println!("  {} (pid {}): stopped", node.name, node.pid),
        Ok(Stopped::Killed) if asked_kill => {
            println!("  {} (pid {}): killed (SIGKILL)", node.name, node.pid)
        }
        Ok(Stopped::Killed) => println!(
            "  {} (pid {}): killed (SIGKILL: still running {} s after SIGTERM, or Ctrl-C again)",
            node.name,
            node.pid,
            grace.as_secs()
        ),
        Err(e) => eprintln!("  {} (pid {}): {e:#}", node.name, node.pid),
    }
}

/// Stays until Ctrl-C/SIGTERM (then stops every validator) or until every validator has
/// stopped by other means.
fn foreground(
    dir: &Path,
    mut t: TestnetFile,
    children: Mutex<Vec<Child>>,
    grace: Duration,
    interrupts: &Interrupts,
) -> anyhow::Result<()> {
    println!(
        "running in the foreground: Ctrl-C stops every validator (or `bansos-testnet down --dir {}` from another terminal)",
        dir.display()
    );
    let mut reported = BTreeSet::new();
    while !interrupts.any() {
        for (i, c) in children
            .lock()
            .expect("not poisoned")
            .iter_mut()
            .enumerate()
        {
            if let Ok(Some(status)) = c.try_wait()
                && reported.insert(i)
            {
                let node = &t.nodes[i];
                eprintln!(
                    "validator {} (pid {}) exited: {status}; see {}",
                    node.name,
                    c.id(),
                    node.log.display()
                );
            }
        }
        // `start` may have restarted a validator under a new pid.
        if let Ok(latest) = read_testnet(dir) {
            t = latest;
        }
        if t.nodes
            .iter()
            .all(|n| !process::is_node_running(n.pid, &n.config))
        {
            println!("every validator has stopped; exiting");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    println!("stopping every validator (Ctrl-C again: SIGKILL at once)");
    stop_all(&t, grace, &children, &|| interrupts.count() >= 2);
    Ok(())
}

/// `bansos-testnet down`.
pub fn down(dir: &Path, grace: Duration) -> anyhow::Result<()> {
    let t = read_testnet(dir)?;
    println!(
        "stopping the {} validators of {}",
        t.nodes.len(),
        dir.display()
    );
    stop_all(&t, grace, &Mutex::new(Vec::new()), &|| false);
    Ok(())
}

fn find_node<'a>(dir: &Path, t: &'a TestnetFile, name: &str) -> anyhow::Result<&'a NodeEntry> {
    t.node(name).with_context(|| {
        format!(
            "no validator named {name:?} in {}/testnet.json (validators: {})",
            dir.display(),
            t.names()
        )
    })
}

/// `bansos-testnet stop`.
pub fn stop(dir: &Path, name: &str, kill: bool, grace: Duration) -> anyhow::Result<()> {
    let t = read_testnet(dir)?;
    let node = find_node(dir, &t, name)?;
    let how = process::stop_node(node.pid, Some(&node.config), grace, kill, &mut || false);
    report_stop(node, how, grace, kill);
    Ok(())
}

/// `bansos-testnet start`.
pub fn start(dir: &Path, name: &str, timeout: Duration) -> anyhow::Result<()> {
    let mut t = read_testnet(dir)?;
    let node = find_node(dir, &t, name)?.clone();
    if process::is_node_running(node.pid, &node.config) {
        bail!(
            "validator {name} is already running (pid {}): stop it first with `bansos-testnet \
             stop --dir {} --node {name}`",
            node.pid,
            dir.display()
        );
    }
    let bin = if std::env::var_os(process::NODE_BIN_ENV).is_none() && t.node_bin.is_file() {
        t.node_bin.clone()
    } else {
        process::node_bin()?
    };
    let i = t
        .nodes
        .iter()
        .position(|n| n.name == name)
        .expect("found above");
    let ns = t.netns.as_ref().map(|l| l.namespaces[i].clone());
    let mut child = process::spawn_node(&bin, &node.config, &node.log, ns.as_deref())?;
    let pid = child.id();
    t.nodes
        .iter_mut()
        .find(|n| n.name == name)
        .expect("found above")
        .pid = pid;
    write_testnet(dir, &t)?;
    let api = NodeApi::new(&node.name, &node.http);
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "validator {name} exited right after starting ({status}); the end of its log {}:\n{}",
                node.log.display(),
                process::log_tail(&node.log, LOG_TAIL_LINES)
            );
        }
        match api.status() {
            Ok(s) if api.healthz().is_ok() => {
                println!(
                    "started {name} (pid {pid}) at {}: height {}, log size {} (it catches up \
                     from its peers); log {}",
                    node.http,
                    s.height,
                    s.log_size,
                    node.log.display()
                );
                return Ok(());
            }
            Ok(_) | Err(_) if Instant::now() >= deadline => bail!(
                "validator {name} (pid {pid}) does not answer on {} after {} s; it keeps \
                 running; see its log {}:\n{}",
                node.http,
                timeout.as_secs(),
                node.log.display(),
                process::log_tail(&node.log, LOG_TAIL_LINES)
            ),
            _ => std::thread::sleep(Duration::from_millis(WAIT_POLL_MS)),
        }
    }
}
