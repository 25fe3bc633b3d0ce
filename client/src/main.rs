//! `bansos-client`: what ministries and banks run day to day (issue #4, in progress: `allocate`
//! and `status` today).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use bansos_client::api::Nodes;
use bansos_client::import::{Importer, write_rejects};
use bansos_client::store::ReceiptStore;
use bansos_genesis::{Network, Role};
use bansos_verifier::entry::{Period, ProgramCode};
use bansos_verifier::note::SignerKey;
use clap::{Parser, Subcommand};
use serde::Deserialize;

#[derive(Parser)]
#[command(
    name = "bansos-client",
    version,
    about = "Bansos Ledger operator client: registry import into allocations, allocation status",
    long_about = "Bansos Ledger operator client, for ministries and banks.\n\n\
        client.toml (relative paths are relative to its folder):\n  \
        genesis = \"genesis.json\"              # the network's genesis\n  \
        key = \"keys/kemensos.key\"              # your member key file from bansos-genesis\n  \
        dedup_key = \"keys/kemensos.dedup-key\"  # ministries: the secret HMAC key for dedup tags\n  \
        nodes = [\"http://127.0.0.1:8700\", \"http://127.0.0.1:8701\"]  # tried in order, with failover\n  \
        store = \"receipts.jsonl\"               # the local receipts store (personal data, mode 0600)"
)]
struct Cli {
    /// The client configuration.
    #[arg(long, default_value = "client.toml")]
    config: PathBuf,
    /// A validator's API base URL (repeat for failover); overrides `nodes` of the config.
    #[arg(long = "node", value_name = "URL")]
    nodes: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Allocate a program's aid for one period from a registry export (ministries).
    ///
    /// The CSV has a header row and at least the columns nik (16 digits), name, family_card
    /// (16-digit Kartu Keluarga number), region_code (10-digit Kemendagri desa/kelurahan code;
    /// its first 4 digits, the kabupaten/kota, are public), amount (rupiah; empty: the
    /// program's flat amount) and channel (who pays out: a bank member of the network, e.g. bri
    /// or pos). Every row is checked first: the NIK (province, kabupaten/kota number, birth
    /// date with day + 40 for women, serial; an unknown kecamatan only warns), the desa code,
    /// the amount against the program's rule, the channel, and repeats of a NIK in the file.
    /// Refused rows go to the rejects file with one reason each and are never submitted; so do
    /// rows the validators refuse (e.g. a person already allocated in this program and period).
    ///
    /// Personal data (NIK, name, family card, the salt and the claim secret) stays in the local
    /// receipts store; only commitments reach the log. Re-running an interrupted import with the
    /// same command finishes it without allocating anyone twice.
    Allocate {
        /// Program code, e.g. SEMBAKO.
        #[arg(long)]
        program: String,
        /// Period: YYYY-MM (monthly), YYYYQn (quarterly) or YYYY (yearly).
        #[arg(long)]
        period: String,
        /// The registry export.
        #[arg(long)]
        csv: PathBuf,
        /// Where refused rows are written [default: <csv>.rejects.csv].
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Days from now after which the allocations can no longer be claimed.
        #[arg(long, default_value_t = 180)]
        expires_days: u64,
        /// Seconds to wait for the validators' verdicts before stopping (a re-run collects the rest).
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// Show an allocation's public record and claim status, by its id (32 hex digits).
    Status {
        /// Allocation id.
        allocation: String,
    },
}

/// `client.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientConfig {
    genesis: PathBuf,
    key: PathBuf,
    #[serde(default)]
    dedup_key: Option<PathBuf>,
    #[serde(default)]
    nodes: Vec<String>,
    store: PathBuf,
}

fn load_config(path: &Path) -> anyhow::Result<ClientConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the client configuration {}", path.display()))?;
    let mut c: ClientConfig = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid client configuration", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for p in [&mut c.genesis, &mut c.key, &mut c.store] {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    if let Some(p) = &mut c.dedup_key
        && p.is_relative()
    {
        *p = base.join(&*p);
    }
    Ok(c)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli.config)?;
    let urls = if cli.nodes.is_empty() {
        config.nodes.clone()
    } else {
        cli.nodes.clone()
    };
    if urls.is_empty() {
        bail!("no validator to talk to: give --node URL or `nodes` in the configuration");
    }
    let mut nodes = Nodes::new(urls);
    match cli.command {
        Command::Status { allocation } => {
            match nodes.get_json(&format!("/v1/allocations/{allocation}"))? {
                Some(v) => {
                    println!("{}", serde_json::to_string_pretty(&v)?);
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    println!("no committed allocation has this id");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Allocate {
            program,
            period,
            csv,
            rejects,
            expires_days,
            wait,
        } => {
            let genesis = std::fs::read(&config.genesis)
                .with_context(|| format!("reading {}", config.genesis.display()))?;
            let network = Network::from_bytes(&genesis).context("the genesis")?;
            let key_text = std::fs::read_to_string(&config.key)
                .with_context(|| format!("reading {}", config.key.display()))?;
            let key = SignerKey::parse(key_text.trim())
                .map_err(|e| anyhow::anyhow!("{} is not a key file: {e}", config.key.display()))?;
            let public = key.signing_key().verifying_key();
            let member = network
                .genesis
                .members
                .iter()
                .find(|m| network.key(m.id) == Some(&public))
                .context("this key is not a member of the network")?;
            if member.role != Role::Ministry {
                bail!("only a ministry allocates; {} is not one", member.name);
            }
            let dedup_path = config
                .dedup_key
                .as_ref()
                .context("a ministry needs `dedup_key` in its configuration")?;
            let dedup_text = std::fs::read_to_string(dedup_path)
                .with_context(|| format!("reading {}", dedup_path.display()))?;
            let dedup_key: [u8; 32] = data_encoding::HEXLOWER_PERMISSIVE
                .decode(dedup_text.trim().as_bytes())
                .ok()
                .and_then(|v| v.try_into().ok())
                .context("the dedup key file is not 64 hex digits")?;
            let code = ProgramCode::new(&program).context("not a program code")?;
            let amount = match network.genesis.programs.iter().find(|p| p.code == code) {
                Some(p) => p.amount,
                None => {
                    let v = nodes
                        .get_json(&format!("/v1/programs/{program}"))?
                        .with_context(|| format!("the network has no program {program}"))?;
                    serde_json::from_value(v["amount"].clone())
                        .context("the node's program record")?
                }
            };
            let period = Period::new(&period).context("not a period (YYYY-MM, YYYYQn, YYYY)")?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            let csv_bytes =
                std::fs::read(&csv).with_context(|| format!("reading {}", csv.display()))?;
            let mut store = ReceiptStore::open(&config.store)?;
            let importer = Importer {
                network: &network,
                member: member.id,
                key: key.signing_key(),
                dedup_key: &dedup_key,
                program: code,
                amount,
                period,
                expires_at: now + expires_days * 86_400,
            };
            let report = importer.run(
                &csv_bytes,
                &mut store,
                &mut nodes,
                Duration::from_secs(wait),
                &mut |line| eprintln!("{line}"),
            )?;
            let rejects_path =
                rejects.unwrap_or_else(|| PathBuf::from(format!("{}.rejects.csv", csv.display())));
            write_rejects(&rejects_path, &report.rejected)
                .with_context(|| format!("writing {}", rejects_path.display()))?;
            println!(
                "{} rows valid ({} new, {} from an earlier run); {} committed, {} still pending; {} refused (see {})",
                report.valid,
                report.new,
                report.resumed,
                report.committed,
                report.pending,
                report.rejected.len(),
                rejects_path.display()
            );
            Ok(if report.pending > 0 {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
