//! A validator: its configuration (`node.toml`) and [`run`], which opens the store, starts the
//! consensus engine, the application loop, the forwarding workers and the HTTP API, and stops
//! them on SIGINT or SIGTERM.

use bansos_verifier::entry::MemberId;
use bansos_verifier::governance::{Roster, RosterMember};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use bansos_genesis::Network;
use bansos_ledger::SigningMark as _;
use bansos_ledger::ledger::Ledger;
use bansos_ledger::mempool::{MEMPOOL_BYTES_MAX, MEMPOOL_TXS_MAX, Mempool};
use bansos_ledger::store::StateRead;
use bansos_store::RedbStore;
use bansos_store::journal::{JOURNAL_FILE, Journal};
use bansos_store::mark::FileMark;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::note::{Note, SignerKey};
use malachitebft_app_channel::NetworkRequest;
use malachitebft_app_channel::app::net::Multiaddr;
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::consensus::app::{App, BlockPolicy};
use crate::consensus::byzantine::Byzantine;
use crate::consensus::core::Core;
use crate::consensus::ctx::Address;
use crate::http::{Published, ReadState, Serves, routes};
use crate::journal::JournalHandle;
use crate::live::{Counters, Live, Rejected};

/// `node.toml`. Relative paths are relative to the file's folder.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The network's genesis.json.
    pub genesis: PathBuf,
    /// This member's private key file (from `bansos-genesis new`).
    pub key: PathBuf,
    /// Where the store and the consensus log live (created if missing).
    pub data_dir: PathBuf,
    /// The record of the last checkpoint this validator signed, kept outside `data_dir` so that
    /// restoring an old copy of the store cannot make the validator sign a fork; default
    /// `<member name>.signed` beside the key file.
    #[serde(default)]
    pub signing_record: Option<PathBuf>,
    /// HTTP API address.
    pub http_listen: SocketAddr,
    /// Peer-to-peer listen address; default: this member's address in genesis.
    #[serde(default)]
    pub p2p_listen: Option<String>,
    /// The other validators' HTTP APIs: transactions admitted here are forwarded to them.
    #[serde(default)]
    pub peer_http: Vec<String>,
    /// This member's id, for a validator that joined by governance (its key is in no genesis):
    /// `bansos-client governance status` shows it once the vote is approved. Not needed
    /// otherwise: the key says who it is.
    #[serde(default)]
    pub member_id: Option<u16>,
    /// More peer-to-peer addresses to dial besides the validators the store knows (a joining
    /// validator's store knows only the genesis ones until it has synced).
    #[serde(default)]
    pub p2p_peers: Vec<String>,
    /// Most transactions in a block.
    #[serde(default)]
    pub block_max_txs: Option<usize>,
    /// Milliseconds a proposer lets transactions gather after the previous block.
    #[serde(default)]
    pub block_interval_ms: Option<u64>,
    /// Most transactions waiting in the mempool; beyond it submitters get 503 and retry. One
    /// member may hold at most half of them.
    #[serde(default)]
    pub mempool_max_txs: Option<usize>,
    /// Limits on the write API (`crate::limits`).
    #[serde(default)]
    pub write_limits: crate::limits::WriteLimitsConfig,
    /// A second HTTP address serving only the write API (`POST /v1/tx`, `/v1/txs`,
    /// `/v1/tx-status`), e.g. on the members' private network; when set, `http_listen` serves
    /// reads only.
    #[serde(default)]
    pub write_listen: Option<SocketAddr>,
    /// Witnesses whose cosignatures `/checkpoint` carries (`crate::witness`).
    #[serde(default)]
    pub witnesses: Vec<crate::witness::WitnessConfig>,
    /// Misbehave on purpose, for the network tests only; refused unless built with the
    /// feature `byzantine` (`crate::consensus::byzantine`).
    #[serde(default)]
    pub byzantine: Option<Byzantine>,
}

/// Default bound of the mempool: a few blocks' worth, so an overloaded network pushes back on
/// submitters within seconds instead of queueing minutes of work.
pub const MEMPOOL_TXS_DEFAULT: usize = 40_000;
/// No member may hold more than this fraction (1/N) of the mempool: one member flooding it,
/// with transactions the rules will reject or not, leaves the others room.
pub const SIGNER_SHARE_DIVISOR: usize = 2;

impl NodeConfig {
    /// Reads and checks `node.toml`, resolving relative paths.
    pub fn load(path: &Path) -> anyhow::Result<NodeConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the node configuration {}", path.display()))?;
        let mut c: NodeConfig = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid node configuration", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut c.genesis, &mut c.key, &mut c.data_dir]
            .into_iter()
            .chain(c.signing_record.as_mut())
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        crate::witness::check_config(&c.witnesses)
            .with_context(|| format!("{}: [[witnesses]]", path.display()))?;
        c.write_limits
            .check()
            .with_context(|| format!("{}", path.display()))?;
        Ok(c)
    }
}

/// Runs a validator until SIGINT or SIGTERM.
pub async fn run(config: NodeConfig) -> anyhow::Result<()> {
    let genesis_bytes = std::fs::read(&config.genesis)
        .with_context(|| format!("reading the genesis {}", config.genesis.display()))?;
    let network = Network::from_bytes(&genesis_bytes)
        .with_context(|| format!("{} is not a valid genesis", config.genesis.display()))?;
    let key_text = bansos_store::private::read_secret(&config.key)
        .with_context(|| format!("reading the key file {}", config.key.display()))?;
    let key = SignerKey::parse(key_text.trim())
        .map_err(|e| anyhow::anyhow!("{} is not a member key file: {e}", config.key.display()))?;
    let public = key.signing_key().verifying_key();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let store = RedbStore::open(&config.data_dir.join("ledger.redb"))
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
    let roster = bansos_ledger::rules::governance(&network, &store)
        .context("reading the governance state")?
        .roster;
    let member = whoami(&roster, &public.to_bytes(), key.name(), config.member_id)
        .with_context(|| format!("the key in {}", config.key.display()))?;
    let signing_record = config
        .signing_record
        .clone()
        .unwrap_or_else(|| config.key.with_file_name(format!("{}.signed", member.name)));
    let mark = FileMark::new(&signing_record);
    if let Some((size, _)) = mark
        .last()
        .with_context(|| format!("reading the signing record {}", signing_record.display()))?
    {
        tracing::info!(size = size.0, record = %signing_record.display(), "last checkpoint signed");
    }
    let ledger = Ledger::open(network.clone(), store.clone())
        .context("reading the log")?
        .with_signing_mark(Box::new(mark));

    let published = match store.published_checkpoint()? {
        Some(note) => {
            let n = Note::parse(&note).context("the stored checkpoint is not a signed note")?;
            let cp = Checkpoint::parse_body(n.text())
                .context("the stored checkpoint is not a checkpoint")?;
            Published {
                note,
                size: cp.size,
            }
        }
        None => Published {
            note: Vec::new(),
            size: bansos_verifier::hash::TreeSize(0),
        },
    };
    let mut forward = Vec::new();
    for peer in &config.peer_http {
        let (tx, rx) = std::sync::mpsc::sync_channel(200_000);
        forward.push(tx);
        let peer = peer.clone();
        std::thread::Builder::new()
            .name(format!("forward {peer}"))
            .spawn(move || crate::write::forward_worker(peer, rx))?;
    }
    let journal = Journal::open(&config.data_dir.join(JOURNAL_FILE)).with_context(|| {
        format!(
            "opening the mempool journal in {}",
            config.data_dir.display()
        )
    })?;
    let journalled = journal.load().context("reading the mempool journal")?;
    let mempool_txs = config
        .mempool_max_txs
        .unwrap_or(MEMPOOL_TXS_DEFAULT)
        .clamp(1, MEMPOOL_TXS_MAX);
    let live = Arc::new(Live {
        name: member.name.clone(),
        network: network.clone(),
        mempool: Mutex::new(
            Mempool::new(network.clone(), mempool_txs, MEMPOOL_BYTES_MAX)
                .with_roster(roster.clone())
                .with_signer_limits(
                    mempool_txs / SIGNER_SHARE_DIVISOR,
                    MEMPOOL_BYTES_MAX / SIGNER_SHARE_DIVISOR,
                ),
        ),
        rejected: Mutex::new(Rejected::default()),
        counters: Counters::default(),
        forward,
        journal: JournalHandle::start(journal)?,
        limits: crate::limits::WriteLimits::new(config.write_limits.clone()),
    });
    Counters::set(&live.counters.height, store.height()?);
    Counters::set(
        &live.counters.last_commit_unix,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    Counters::set(&live.counters.log_size, ledger.size().0);
    Counters::set(&live.counters.checkpoint_size, published.size.0);
    let faults = config
        .byzantine
        .as_ref()
        .map(Byzantine::faults)
        .unwrap_or_default();
    Counters::set(
        &live.counters.byzantine,
        u64::from(config.byzantine.is_some()),
    );
    let published = Arc::new(RwLock::new(published));

    let listen: Multiaddr = config
        .p2p_listen
        .clone()
        .unwrap_or_else(|| member.p2p_address.clone())
        .parse()
        .context("the peer-to-peer listen address is not a multiaddr")?;
    let mut peers = roster
        .validators()
        .filter(|m| m.id != member.id)
        .map(|m| {
            m.p2p_address
                .parse::<Multiaddr>()
                .with_context(|| format!("member {}'s p2p address", m.name))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for extra in &config.p2p_peers {
        let a: Multiaddr = extra
            .parse()
            .with_context(|| format!("p2p_peers: {extra} is not a multiaddr"))?;
        if !peers.contains(&a) && a != listen {
            peers.push(a);
        }
    }
    let crate::consensus::Started {
        channels,
        engine,
        ctx,
        network: engine_network,
    } = crate::consensus::start(crate::consensus::Join {
        moniker: member.name.clone(),
        address: Address(member.id.0),
        seed: key.signing_key().to_bytes(),
        network_id: network.id.0,
        listen: listen.clone(),
        peers: peers.clone(),
        wal: config.data_dir.join("wal").join("consensus.wal"),
        byzantine: config.byzantine.clone(),
    })
    .await?;
    let mut policy = BlockPolicy::default();
    if let Some(n) = config.block_max_txs {
        policy.max_txs = n.clamp(1, policy.max_txs);
    }
    if let Some(ms) = config.block_interval_ms {
        policy.min_interval = Duration::from_millis(ms);
    }
    let core = Core::new(ctx, Address(member.id.0), key, ledger, policy)?;
    if let Some(network) = engine_network {
        tokio::spawn(crate::consensus::liveness::republish(
            channels.events.subscribe(),
            network.clone(),
            Address(member.id.0),
        ));
        tokio::spawn(crate::consensus::peers::repair(network, peers));
    }
    let app = App::new(core, live.clone(), published.clone(), faults);
    let net_requests = channels.net_requests.clone();
    // The application loop runs on its own thread: its storage writes and block checks must
    // not hold up the engine's or the API's tasks.
    let app_thread = std::thread::Builder::new()
        .name("consensus-app".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(app.run(channels))
        })?;
    let peers_live = live.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if let Ok(Some(dump)) = NetworkRequest::dump_state(&net_requests).await {
                Counters::set(&peers_live.counters.peers, dump.peers.len() as u64);
            }
        }
    });

    let live_limits = live.clone();
    // The witnesses the members in force name (genesis, then governance) are required by every
    // verifier: ask them as well as any node.toml adds (the witness task follows the roster).
    let roster_witnesses: Vec<crate::witness::WitnessConfig> = roster
        .witnesses
        .iter()
        .map(|w| crate::witness::WitnessConfig {
            url: w.url.clone(),
            vkey: w.vkey.clone(),
        })
        .collect();
    let served = crate::witness::start(
        &config.witnesses,
        &roster_witnesses,
        store.clone(),
        published,
    )
    .await?;
    let state = Arc::new(ReadState {
        store,
        checkpoint: served,
        live: Some(live.clone()),
        verify_page: crate::verify_page::render(Some(&network.trust_policy())),
        dashboard_page: crate::dashboard_page::render(Some(&network.trust_policy())),
        network_id: Some(network.id),
    });
    if !journalled.is_empty() {
        let found = journalled.len();
        let st = state.clone();
        let waiting = tokio::task::spawn_blocking(move || {
            crate::write::restore_journal(&st, &live, journalled)
        })
        .await?;
        tracing::info!(
            found,
            waiting,
            "acknowledged transactions restored from the mempool journal"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("listening on {}", config.http_listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("bansos-node {} http={url} p2p={listen}", member.name);
    tracing::info!(member = %member.name, %url, p2p = %listen, "validator started");
    let (public, writes) = match config.write_listen {
        None => (Serves::All, None),
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening for writes on {addr}"))?;
            let write_url = format!("http://{}", l.local_addr()?);
            println!("bansos-node {} writes={write_url}", member.name);
            tracing::info!(member = %member.name, url = %write_url, "write API on its own address");
            (Serves::Reads, Some(l))
        }
    };
    let idle = live_limits.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            idle.limits.forget_idle();
        }
    });
    let serve = |l: tokio::net::TcpListener, serves| {
        axum::serve(
            l,
            routes(state.clone(), serves)
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .into_future()
    };
    let write_server = writes.map(|l| serve(l, Serves::Writes));
    let server = async move {
        match write_server {
            None => serve(listener, public).await,
            Some(w) => tokio::try_join!(serve(listener, public), w).map(|_| ()),
        }
    };
    let app_done = tokio::task::spawn_blocking(move || app_thread.join());
    tokio::select! {
        r = server => r.context("the HTTP server failed")?,
        r = app_done => {
            let err = match r {
                Ok(Ok(Err(e))) => e,
                _ => anyhow::anyhow!("the consensus application stopped"),
            };
            tracing::error!(error = %err, "consensus stopped; shutting down");
            engine.actor.kill_and_wait(None).await.ok();
            return Err(err);
        }
    }
    tracing::info!("stopping");
    engine.actor.kill_and_wait(None).await.ok();
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Who this validator is: the member of the current roster holding `public`, or, for a validator
/// joining by governance whose change is not yet in this store, the id in `node.toml`.
pub fn whoami(
    roster: &Roster,
    public: &[u8; 32],
    key_name: &str,
    member_id: Option<u16>,
) -> anyhow::Result<RosterMember> {
    let found = roster
        .members
        .iter()
        .find(|m| m.key.as_ref() == Some(public))
        .cloned();
    let member = match (found, member_id) {
        (Some(m), Some(id)) if m.id.0 != id => bail!(
            "belongs to member {} ({}), but node.toml says member_id = {id}",
            m.id.0,
            m.name
        ),
        (Some(m), _) => m,
        (None, Some(id)) => match roster.member(MemberId(id)) {
            Some(m) => bail!(
                "is not the key of member {id} ({}) in the members this store knows: a rotated \
                 key is used once its rotation is approved, and an old key no more",
                m.name
            ),
            None => {
                tracing::warn!(
                    member_id = id,
                    "this key is not yet a member of the network this store knows: syncing \
                     until the governance change that admits it"
                );
                RosterMember {
                    id: MemberId(id),
                    name: key_name.to_owned(),
                    display_name: key_name.to_owned(),
                    role: bansos_verifier::governance::Role::Auditor,
                    key: Some(*public),
                    p2p_address: String::new(),
                    power: 0,
                    active: true,
                }
            }
        },
        (None, None) => bail!(
            "is not the key of any member of this network (genesis and the governance changes \
             this store holds); a validator joining by governance sets member_id in node.toml"
        ),
    };
    if !member.active {
        bail!(
            "member {} was removed from the network by governance: it validates no more",
            member.name
        );
    }
    if key_name != member.name {
        bail!(
            "the key file names {key_name:?} but the network gives this key to {:?}",
            member.name
        );
    }
    Ok(member)
}
