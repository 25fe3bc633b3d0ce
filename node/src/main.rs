//! `bansos-node`: the validator daemon (`bansos-node --config node.toml`), and a read-only
//! server for a stored log (`bansos-node serve-log`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use bansos_ledger::log::LogWriter;
use bansos_node::http::{Published, ReadState, router};
use bansos_store::RedbStore;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::note::Note;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bansos-node",
    version,
    about = "Bansos Ledger validator daemon",
    args_conflicts_with_subcommands = true,
    long_about = "Bansos Ledger validator daemon.\n\n\
        `bansos-node --config node.toml` runs a validator: Malachite BFT consensus with the other \
        genesis validators over libp2p, the redb store (data_dir/ledger.redb, \
        data_dir/wal/consensus.wal) and the HTTP API (GET /checkpoint, /tile/..., /v1/tx/<hash>, \
        /v1/allocations/<id>, /v1/proof/..., /v1/stats, /v1/status, /metrics, /healthz; \
        POST /v1/tx and /v1/txs). It stops cleanly on SIGINT or SIGTERM.\n\n\
        node.toml (relative paths are relative to its folder):\n  \
        genesis = \"genesis.json\"\n  \
        key = \"keys/kemensos.key\"          # this member's key file from bansos-genesis\n  \
        data_dir = \"data\"                      # ledger.redb, mempool.redb (acknowledged \
        transactions), wal/\n  \
        # signing_record = \"keys/kemensos.signed\"  the last checkpoint signed, kept out of \
        data_dir (default: <name>.signed beside the key)\n  \
        http_listen = \"127.0.0.1:8700\"\n  \
        # p2p_listen = \"/ip4/0.0.0.0/tcp/27000\"  (default: the member's genesis p2p_address)\n  \
        peer_http = [\"http://127.0.0.1:8701\"]  # other validators' APIs, to forward transactions\n  \
        # block_max_txs = 10000, block_interval_ms = 100, mempool_max_txs = 40000 (one member \
        may hold half)\n  \
        # write_listen = \"10.0.0.5:8710\"  serve the write API (POST /v1/tx, /v1/txs, \
        /v1/tx-status) here and only reads on http_listen\n  \
        # [write_limits]  trusted_sources = [\"10.0.0.6\"] (other validators, members' \
        systems: not limited per address), per_source_txs_per_s = 1000, per_source_burst = \
        10000, bad_signature_penalty_ms = 10, per_signer_txs_per_s = 5000, per_signer_burst = \
        20000, max_concurrent = 64, timeout_s = 30 (docs/API.md, \"Write limits\")\n  \
        # [[witnesses]]  url = \"http://...\"  vkey = \"<bansos-witness keygen's vkey>\"  \
        (their cosignatures are added to /checkpoint; docs/OPERATIONS.md)\n  \
        # [byzantine]  a validator that misbehaves on purpose, for the network tests only; \
        refused unless built with --features byzantine (docs/OPERATIONS.md)"
)]
struct Cli {
    /// Run a validator with this node.toml.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a stored log read-only over HTTP: GET /checkpoint, the C2SP tile paths
    /// (/tile/<L>/<N>[.p/<W>], /tile/entries/<N>[.p/<W>]), the JSON conveniences of
    /// docs/API.md, the citizen's page /verify and the dashboard / (with DIR/policy.json when
    /// it exists), and /healthz.
    ///
    /// The directory must hold `ledger.redb` and `checkpoint` (a signed note whose size and
    /// root match the store), as written by `bansos-testnet sample`.
    ServeLog {
        /// Directory with ledger.redb and checkpoint.
        #[arg(long)]
        dir: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        /// Write the URL actually listened on to this file (useful with port 0).
        #[arg(long)]
        url_file: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match (cli.config, cli.command) {
        (Some(config), None) => {
            let config = bansos_node::node::NodeConfig::load(&config)?;
            bansos_node::node::run(config).await
        }
        (
            None,
            Some(Command::ServeLog {
                dir,
                listen,
                url_file,
            }),
        ) => serve_log(dir, listen, url_file).await,
        _ => bail!("give --config <node.toml> to run a validator, or a subcommand (see --help)"),
    }
}

/// `DIR/policy.json` when there is one (`bansos-testnet sample` writes it), for the `/verify`
/// page and the dashboard; without it the pages carry no policy (`/verify` then asks for one).
fn policy_of(
    dir: &std::path::Path,
) -> anyhow::Result<Option<bansos_verifier::policy::TrustPolicy>> {
    let path = dir.join("policy.json");
    let policy = match std::fs::read(&path) {
        Ok(bytes) => Some(
            bansos_verifier::policy::TrustPolicy::parse(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(policy)
}

async fn serve_log(
    dir: PathBuf,
    listen: SocketAddr,
    url_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let store = RedbStore::open(&dir.join("ledger.redb"))
        .with_context(|| format!("opening {}", dir.join("ledger.redb").display()))?;
    let note_bytes = std::fs::read(dir.join("checkpoint"))
        .with_context(|| format!("reading {}", dir.join("checkpoint").display()))?;
    let note = Note::parse(&note_bytes).context("the checkpoint file is not a signed note")?;
    let cp =
        Checkpoint::parse_body(note.text()).context("the checkpoint file is not a checkpoint")?;
    let writer = LogWriter::open(&store).context("reading the log")?;
    if cp.size != writer.size() || cp.root != writer.root() {
        bail!(
            "the checkpoint (size {}) does not match the stored log (size {}): refusing to serve",
            cp.size,
            writer.size()
        );
    }
    let policy = policy_of(&dir)?;
    let state = Arc::new(ReadState {
        store,
        checkpoint: Arc::new(tokio::sync::RwLock::new(Published {
            note: note_bytes,
            size: cp.size,
        })),
        live: None,
        verify_page: bansos_node::verify_page::render(policy.as_ref()),
        dashboard_page: bansos_node::dashboard_page::render(policy.as_ref()),
        network_id: policy.as_ref().map(|p| *p.network_id()),
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    if let Some(f) = url_file {
        std::fs::write(&f, format!("{url}\n"))
            .with_context(|| format!("writing {}", f.display()))?;
    }
    tracing::info!(%url, size = cp.size.0, "serving the log read-only");
    println!("serving {} entries at {url}", cp.size.0);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
