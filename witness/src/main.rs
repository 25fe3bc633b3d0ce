//! `bansos-witness`: `keygen` makes a cosigner key; `init` starts a new state; `serve` runs a
//! C2SP tlog-witness for one network's log (docs/OPERATIONS.md, "Witnesses").

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use bansos_genesis::Network;
use bansos_verifier::note::{SignerKey, is_key_name_valid};
use bansos_witness::key_history::HttpKeyHistory;
use bansos_witness::{Witness, cosigner_vkey};
use clap::{Parser, Subcommand};
use ed25519_dalek::SigningKey;

#[derive(Parser)]
#[command(
    name = "bansos-witness",
    version,
    about = "A C2SP tlog-witness for one Bansos Ledger network",
    long_about = "A C2SP tlog-witness (v1.0.0) for one Bansos Ledger network.\n\n\
        `keygen` writes a fresh Ed25519 cosigner key (mode 0600) and prints its verifier key \
        (type 0x04, tlog-cosignature v1), the line validators list in node.toml [[witnesses]] \
        and citizens in their trust policy's `witnesses`.\n\n\
        `serve` answers POST /add-checkpoint: it cosigns a checkpoint of the genesis's log \
        signed by a quorum of the genesis validators, and only if it is consistent with the \
        latest checkpoint it cosigned (kept in --state, written durably before answering). \
        GET /checkpoint returns that checkpoint with its cosignature.\n\n\
        Validators changed by governance are followed: with --log, a checkpoint that does not \
        verify with the validators the witness knows (or is signed by keys they lack) makes \
        it fetch GET <log>/key-history, follow the changes from the genesis keys, keep them in \
        --state (key-history) and check the checkpoint again.\n\n\
        `init` starts a new, empty state once; `serve` refuses a state directory that holds \
        no cosigned checkpoint and was not made by `init`, so a lost state is never silently \
        replaced by a fresh one."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a fresh cosigner key and print its verifier key.
    Keygen {
        /// The key's name, e.g. witness.ngo.example (no spaces or `+`).
        #[arg(long)]
        name: String,
        /// The private key file to create (refused if it exists; mode 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Start a new state directory for a witness that has cosigned nothing yet.
    ///
    /// Run once, before the first `serve`. Refused if the directory already holds a cosigned
    /// checkpoint. Never run it to recover from a lost state: restore the state from a backup.
    Init {
        /// State directory (created if missing).
        #[arg(long)]
        state: PathBuf,
    },
    /// Run the witness.
    Serve {
        /// The network's genesis.json: the log's origin and the validators' keys.
        #[arg(long)]
        genesis: PathBuf,
        /// The private key file from `keygen`.
        #[arg(long)]
        key: PathBuf,
        /// State directory: the latest cosigned checkpoint; made by `init` before the first
        /// run.
        #[arg(long)]
        state: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8900")]
        listen: SocketAddr,
        /// Write the URL actually listened on to this file (useful with port 0).
        #[arg(long)]
        url_file: Option<PathBuf>,
        /// A node of the log (base URL) to ask for its key history when the validators
        /// changed (GET <URL>/key-history). Repeat for several nodes, asked in order. Without
        /// it, only the genesis validators and the key history in --state are trusted.
        #[arg(long = "log", value_name = "URL")]
        logs: Vec<String>,
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
    match Cli::parse().command {
        Command::Keygen { name, out } => keygen(&name, &out),
        Command::Init { state } => {
            Witness::init(&state)?;
            println!(
                "a new witness state in {}: start it with `bansos-witness serve --state {}`",
                state.display(),
                state.display()
            );
            Ok(())
        }
        Command::Serve {
            genesis,
            key,
            state,
            listen,
            url_file,
            logs,
        } => serve(&genesis, &key, &state, listen, url_file, logs).await,
    }
}

fn keygen(name: &str, out: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    anyhow::ensure!(
        is_key_name_valid(name),
        "{name:?} is not a valid key name (no spaces, `+` or control characters)"
    );
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let key = SignerKey::new(name, SigningKey::from_bytes(&seed));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .with_context(|| format!("creating {}", out.display()))?;
    f.write_all(format!("{}\n", key.to_secret_string()).as_bytes())?;
    f.sync_all()?;
    println!("{}", cosigner_vkey(&key));
    Ok(())
}

async fn serve(
    genesis: &Path,
    key: &Path,
    state: &Path,
    listen: SocketAddr,
    url_file: Option<PathBuf>,
    logs: Vec<String>,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(genesis).with_context(|| format!("reading {}", genesis.display()))?;
    let network = Network::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid genesis", genesis.display()))?;
    let text = bansos_store::private::read_secret(key)
        .with_context(|| format!("reading {}", key.display()))?;
    let key = SignerKey::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("{} is not a witness key file: {e}", key.display()))?;
    let mut witness = Witness::open(&network, key, state)?;
    if !logs.is_empty() {
        witness = witness.with_key_history_source(Box::new(HttpKeyHistory::new(logs)));
    }
    let witness = Arc::new(witness);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    if let Some(f) = url_file {
        std::fs::write(&f, format!("{url}\n"))
            .with_context(|| format!("writing {}", f.display()))?;
    }
    tracing::info!(
        %url,
        vkey = %witness.vkey(),
        origin = %network.genesis.origin,
        latest = witness.latest_size().0,
        epoch = witness.epoch(),
        "witness started"
    );
    println!("bansos-witness {} {url}", witness.vkey());
    axum::serve(listener, bansos_witness::server::router(witness))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")
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
