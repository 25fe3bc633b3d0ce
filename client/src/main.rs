//! `bansos-client`: what ministries and banks run day to day: registry import, letters, claims
//! (online, offline, by QR), status and proofs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use bansos_client::api::Nodes;
use bansos_client::api::TxState;
use bansos_client::claim::{self, Payout, parse_receipt};
use bansos_client::import::{Importer, write_rejects};
use bansos_client::store::{Outcome, QueuedClaim, ReceiptStore};
use bansos_genesis::{Network, Role};
use bansos_verifier::entry::{
    AmountRule, Channel, Claim, PeriodKind, ProgramRegistered, RegionCode, Rupiah, SignedTx, TxBody,
};
use bansos_verifier::entry::{Period, ProgramCode};
use bansos_verifier::hash::Hash;
use bansos_verifier::note::SignerKey;
use clap::{Parser, Subcommand};
use serde::Deserialize;

#[derive(Parser)]
#[command(
    name = "bansos-client",
    version,
    about = "Bansos Ledger operator client: registry import, letters, claims, status, proofs",
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
    /// Register aid programs (ministries).
    Program {
        #[command(subcommand)]
        command: ProgramCommand,
    },
    /// Governance: the members in force, proposing a change, voting for one (validators).
    ///
    /// A change (a member joining or leaving, a voting power, a key rotation, a witness, the
    /// witness quorum, an upgrade of the rules) is a vote on the log; the first vote proposes
    /// it. Once the votes of validators holding more than two thirds of the voting power agree,
    /// it applies from the next block (docs/OPERATIONS.md, "Governance").
    Governance {
        #[command(subcommand)]
        command: GovernanceCommand,
        /// Seconds to wait for the vote's verdict.
        #[arg(long, default_value_t = 60, global = true)]
        wait: u64,
    },
    /// Show an allocation's public record and claim status.
    ///
    /// By its id (32 hex digits) or by a recipient's receipt code.
    Status {
        /// Allocation id or receipt code.
        allocation: String,
    },
    /// Write the receipt codes of committed allocations to a private file.
    ///
    /// The codes of this store's committed allocations of a program and period go to a file
    /// (mode 0600: a code lets its holder claim): one line per recipient, `<allocation id>
    /// <receipt code>`, in import order.
    Receipts {
        #[command(flatten)]
        allocations: Allocations,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the invitation letters (HTML, PDF, QR PNG) of committed allocations.
    ///
    /// For each of this store's committed allocations of a program and period, a letter in
    /// Bahasa Indonesia (the QR receipt, the typed code, amount, program, period, where and until
    /// when to collect, how to check it) as printable HTML and as a one-page A4 PDF, and the QR
    /// code alone as PNG, plus index.html. The folder is private (0700): a receipt lets its
    /// holder claim.
    Letters {
        #[command(flatten)]
        allocations: Allocations,
        /// The folder to write (created).
        #[arg(long)]
        out: PathBuf,
        /// Where citizens check their receipt, printed on the letter.
        #[arg(long, default_value = "https://ledger.bansos.example/verify")]
        verify_url: String,
    },
    /// Pay out an allocation to the recipient holding its receipt (banks and PT Pos).
    ///
    /// Online: the allocation's public record is checked first (already claimed, revoked,
    /// returned, expired, paid by another member, another network), then the claim is signed,
    /// submitted and its verdict shown. With --offline the claim is signed and queued in the
    /// local store; `sync` submits the queue when the outlet is online again.
    Claim {
        /// The receipt code typed from the letter.
        #[arg(long, required_unless_present = "qr", conflicts_with = "qr")]
        receipt: Option<String>,
        /// A PNG photo or scan of the letter's QR code.
        #[arg(long)]
        qr: Option<PathBuf>,
        /// How it is paid: KKS, POS_OUTLET, POS_DOOR, AGENT, EWARONG, EWALLET, BANK_TELLER.
        #[arg(long)]
        channel: String,
        /// The outlet (teller, agent, shop); only a pseudonym of it reaches the log.
        #[arg(long)]
        outlet: String,
        /// Kabupaten/kota of the outlet, 4 digits [default: the allocation's].
        #[arg(long)]
        region: Option<u16>,
        /// Rupiah paid [default: what is left; required with --offline].
        #[arg(long)]
        amount: Option<u64>,
        /// Sign and queue without contacting a validator.
        #[arg(long)]
        offline: bool,
        /// Seconds to wait for the verdict.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Write a checked offline proof bundle for a receipt.
    ///
    /// A C2SP tlog-proof bundle: the allocation's entry, its inclusion proof
    /// and the checkpoint signed by a quorum of validators, checked before it is written. The
    /// recipient (or anyone given it) verifies it offline with `bansos-verify proof`.
    Proof {
        /// The receipt code.
        receipt: String,
        /// The bundle file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Submit the claims queued offline and report each outcome.
    ///
    /// Committed, or refused with the reason (e.g. claimed elsewhere first).
    Sync {
        /// Seconds to wait for the verdicts.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
}

#[derive(Subcommand)]
enum ProgramCommand {
    /// Register a new aid program on the log.
    ///
    /// For ministries. Programs known from the start are in genesis.json.
    Register {
        /// Code, 2 to 16 capital letters, digits or underscores, e.g. BLT_DD.
        #[arg(long)]
        code: String,
        /// Name for people.
        #[arg(long)]
        name: String,
        /// monthly, quarterly or yearly.
        #[arg(long)]
        period_kind: String,
        /// A flat amount in rupiah for every allocation...
        #[arg(long, conflicts_with_all = ["min", "max"], required_unless_present_all = ["min", "max"])]
        amount: Option<u64>,
        /// ...or the smallest allowed amount...
        #[arg(long, requires = "max")]
        min: Option<u64>,
        /// ...and the largest.
        #[arg(long, requires = "min")]
        max: Option<u64>,
        /// Seconds to wait for the verdict.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
}

#[derive(Subcommand)]
enum GovernanceCommand {
    /// The members and witnesses in force, the changes being voted and the approved ones.
    Status,
    /// Propose a change: sign the first vote for it.
    Propose {
        #[command(subcommand)]
        change: ProposeCommand,
    },
    /// Vote for a pending change, named by (a prefix of) its hash as `status` shows it.
    Vote {
        /// The change's hash, at least 8 hex digits.
        change_hash: String,
    },
    /// Sign a rotation of your key with the NEW key only, when the old key is lost: give the
    /// file to a validator, who proposes it with `propose rotate-key --rotation FILE`.
    SignRotation {
        /// Your member name.
        #[arg(long)]
        member: String,
        /// The new key file (from `bansos-genesis keygen`).
        #[arg(long)]
        new_key: PathBuf,
        /// Where to write the signed rotation (public: it holds no private key).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ProposeCommand {
    /// Admit a member from its public card (`bansos-genesis keygen` writes it).
    AddMember {
        /// The member card.
        #[arg(long)]
        card: PathBuf,
        /// Its voting power (0: a member that does not validate).
        #[arg(long, default_value_t = 1)]
        voting_power: u64,
    },
    /// Remove a member: its key signs nothing from the next block on.
    RemoveMember {
        /// Its name.
        #[arg(long)]
        member: String,
    },
    /// Change a validator's voting power (no validator may hold a third of the total).
    SetVotingPower {
        /// Its name.
        #[arg(long)]
        member: String,
        /// The new power, at least 1.
        #[arg(long)]
        power: u64,
    },
    /// Rotate a key: your own (`--new-key`, signed by your current key too), or another
    /// member's whose old key is lost (`--rotation` from its `sign-rotation`).
    RotateKey {
        /// Your new key file: rotates your own key.
        #[arg(
            long,
            conflicts_with = "rotation",
            required_unless_present = "rotation"
        )]
        new_key: Option<PathBuf>,
        /// A rotation signed by the member's new key (old key lost).
        #[arg(long)]
        rotation: Option<PathBuf>,
    },
    /// Add a witness whose cosignatures checkpoints may then require.
    AddWitness {
        /// Its cosignature verifier key, as `bansos-witness keygen` prints it.
        #[arg(long)]
        vkey: String,
        /// Where validators send it checkpoints.
        #[arg(long)]
        url: String,
    },
    /// Retire a witness.
    RetireWitness {
        /// Its key name.
        #[arg(long)]
        name: String,
    },
    /// How many witness cosignatures a checkpoint needs (0: none).
    SetWitnessQuorum {
        /// The quorum.
        #[arg(long)]
        quorum: u8,
    },
    /// Schedule new ledger rules from a height: software older than them stops there.
    ScheduleUpgrade {
        /// The first height of the new rules (at least two blocks ahead).
        #[arg(long)]
        height: u64,
        /// The rules version.
        #[arg(long)]
        rules_version: u16,
    },
}

/// Which allocations of the receipts store: one program's, for one period.
#[derive(clap::Args)]
struct Allocations {
    /// Program code.
    #[arg(long)]
    program: String,
    /// Period.
    #[arg(long)]
    period: String,
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

/// Writes a file only its owner can read.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    write_private_bytes(path, text.as_bytes())
}

/// Writes bytes to a file only its owner can read.
fn write_private_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
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

/// The network and this member's key, as the configuration names them.
fn identity(config: &ClientConfig) -> anyhow::Result<(Network, SignerKey, bansos_genesis::Member)> {
    let genesis = std::fs::read(&config.genesis)
        .with_context(|| format!("reading {}", config.genesis.display()))?;
    let network = Network::from_bytes(&genesis).context("the genesis")?;
    let key_text = bansos_store::private::read_secret(&config.key)
        .with_context(|| format!("reading {}", config.key.display()))?;
    let key = SignerKey::parse(key_text.trim())
        .map_err(|e| anyhow::anyhow!("{} is not a key file: {e}", config.key.display()))?;
    let public = key.signing_key().verifying_key();
    if let Some(m) = network
        .genesis
        .members
        .iter()
        .find(|m| network.key(m.id) == Some(&public))
    {
        return Ok((network.clone(), key, m.clone()));
    }
    // Not a genesis key: a member admitted by governance, or a rotated key. Ask the network
    // who holds it now.
    let mut nodes = Nodes::new(config.nodes.clone());
    let roster = bansos_client::governance::state(&mut nodes)
        .context("this key is not a genesis member's, and no validator said whose it is now")?
        .roster;
    let m = roster
        .members
        .iter()
        .find(|m| m.key == Some(public.to_bytes()))
        .context("this key is not the key of any member of the network in force")?;
    if !m.active {
        bail!(
            "member {} was removed from the network: it signs nothing any more",
            m.name
        );
    }
    let member = bansos_genesis::Member {
        id: m.id,
        name: m.name.clone(),
        display_name: m.display_name.clone(),
        role: m.role,
        public_key: data_encoding::HEXLOWER.encode(&public.to_bytes()),
        p2p_address: m.p2p_address.clone(),
        voting_power: m.power,
    };
    Ok((network, key, member))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Prints a claim's verdict; exit 0 when committed.
fn report_claim(state: &TxState) -> ExitCode {
    match state {
        TxState::Committed { height, leaf } => {
            println!("claim committed at leaf {leaf} (block {height})");
            ExitCode::SUCCESS
        }
        TxState::Rejected(why) => {
            println!("claim refused: {why}");
            ExitCode::from(1)
        }
        _ => {
            println!("claim submitted, not yet committed; check it later with `status`");
            ExitCode::from(3)
        }
    }
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
            let id = if allocation.len() == 32 {
                allocation
            } else {
                let (network, _, _) = identity(&config)?;
                parse_receipt(&allocation, &network.id)?.allocation.to_hex()
            };
            match nodes.get_json(&format!("/v1/allocations/{id}"))? {
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
        Command::Receipts {
            allocations: Allocations { program, period },
            out,
        } => {
            let (network, _, _) = identity(&config)?;
            let store = ReceiptStore::open(&config.store)?;
            let mut text = String::new();
            let committed = store.committed(&network.id, &program, &period);
            let n = committed.len();
            for (a, receipt) in committed {
                text.push_str(&format!("{} {}\n", a.allocation, receipt.to_text()));
            }
            write_private(&out, &text)?;
            println!("wrote {n} receipt codes to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Letters {
            allocations: Allocations { program, period },
            out,
            verify_url,
        } => {
            use std::os::unix::fs::DirBuilderExt as _;
            let (network, _, _) = identity(&config)?;
            let store = ReceiptStore::open(&config.store)?;
            let code = ProgramCode::new(&program).context("not a program code")?;
            let program_name = match network.genesis.programs.iter().find(|p| p.code == code) {
                Some(p) => p.name.clone(),
                None => nodes
                    .get_json(&format!("/v1/programs/{program}"))?
                    .and_then(|v| v["name"].as_str().map(str::to_string))
                    .unwrap_or_else(|| program.clone()),
            };
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            // An existing folder keeps its mode on creation: letters name people.
            if bansos_store::private::tighten(&out)
                .with_context(|| format!("restricting {}", out.display()))?
            {
                eprintln!(
                    "{} could be read by others; it is now the owner's only (0700)",
                    out.display()
                );
            }
            let mut index = String::from(
                "<!doctype html><html lang=\"id\"><meta charset=\"utf-8\"><title>Surat undangan</title><ul>\n",
            );
            let committed = store.committed(&network.id, &program, &period);
            for (a, receipt) in &committed {
                let tx = SignedTx::decode(
                    &data_encoding::HEXLOWER
                        .decode(a.tx.as_bytes())
                        .context("the store holds hex")?,
                )
                .context("the store holds a signed allocation")?;
                let TxBody::Allocation(alloc) = &tx.body else {
                    continue;
                };
                let payer = network
                    .member(alloc.payer)
                    .map(|m| m.display_name.clone())
                    .unwrap_or_default();
                let text = receipt.to_text();
                let qr = bansos_client::qr::png(&text, 6);
                let letter = bansos_client::letters::Letter {
                    name: &a.name,
                    program: &program_name,
                    period: &period,
                    amount: alloc.amount.0,
                    payer: &payer,
                    expires_at: alloc.expires_at,
                    code: &text,
                    verify_url: &verify_url,
                };
                write_private(
                    &out.join(format!("{}.html", a.allocation)),
                    &bansos_client::letters::html(&letter, &qr),
                )?;
                write_private_bytes(&out.join(format!("{}.png", a.allocation)), &qr)?;
                let (side, modules) = bansos_client::qr::modules(&text);
                write_private_bytes(
                    &out.join(format!("{}.pdf", a.allocation)),
                    &bansos_client::pdf::letter(&letter, (side, &modules)),
                )?;
                index.push_str(&format!(
                    "<li><a href=\"{0}.html\">{1}</a></li>\n",
                    a.allocation,
                    bansos_client::letters::escape(&a.name)
                ));
            }
            index.push_str("</ul></html>\n");
            write_private(&out.join("index.html"), &index)?;
            println!("wrote {} letters to {}", committed.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Claim {
            receipt,
            qr,
            channel,
            outlet,
            region,
            amount,
            offline,
            wait,
        } => {
            let (network, key, member) = identity(&config)?;
            if member.role != Role::Bank {
                bail!("only a bank or PT Pos pays out; {} is not one", member.name);
            }
            let text = match (receipt, qr) {
                (Some(code), _) => code,
                (None, Some(path)) => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    bansos_client::qr::decode_png(&bytes)?
                }
                (None, None) => bail!("give --receipt CODE or --qr IMAGE"),
            };
            let receipt = parse_receipt(&text, &network.id)?;
            let channel = Channel::parse(&channel.to_uppercase()).context(
                "not a channel (KKS, POS_OUTLET, POS_DOOR, AGENT, EWARONG, EWALLET, BANK_TELLER)",
            )?;
            let region = region
                .map(|r| RegionCode::new(r).context("not a kabupaten/kota code"))
                .transpose()?;
            let mut outlet_id = [0u8; 16];
            outlet_id.copy_from_slice(&Hash::digest(outlet.as_bytes()).0[..16]);
            let payout = Payout {
                channel,
                outlet: outlet_id,
                region,
                amount: amount.map(Rupiah),
                at: unix_now(),
            };
            if offline {
                let (Some(amount), Some(region)) = (payout.amount, payout.region) else {
                    bail!(
                        "an offline claim needs --amount and --region (the record cannot be read)"
                    );
                };
                let claim = Claim {
                    allocation: receipt.allocation,
                    amount,
                    channel,
                    region,
                    outlet: outlet_id,
                    claim_secret: receipt.claim_secret,
                    claimed_at: payout.at,
                };
                let tx = SignedTx::sign(
                    &network.id,
                    member.id,
                    TxBody::Claim(claim),
                    key.signing_key(),
                )
                .map_err(|e| anyhow::anyhow!("the claim is invalid: {e}"))?;
                let mut store = ReceiptStore::open(&config.store)?;
                store.queue_claim(QueuedClaim {
                    allocation: receipt.allocation.to_hex(),
                    claim: data_encoding::HEXLOWER.encode(&tx.encode()),
                    claim_hash: tx.hash().to_hex(),
                    queued_at: payout.at,
                })?;
                println!("claim signed and queued; run `sync` when online");
                return Ok(ExitCode::SUCCESS);
            }
            let tx = claim::prepare(
                &mut nodes,
                &network.id,
                member.id,
                key.signing_key(),
                &receipt,
                &payout,
            )?;
            let state = claim::submit(&mut nodes, &tx, Duration::from_secs(wait))?;
            Ok(report_claim(&state))
        }
        Command::Program {
            command:
                ProgramCommand::Register {
                    code,
                    name,
                    period_kind,
                    amount,
                    min,
                    max,
                    wait,
                },
        } => {
            let (network, key, member) = identity(&config)?;
            if member.role != Role::Ministry {
                bail!(
                    "only a ministry registers programs; {} is not one",
                    member.name
                );
            }
            let period_kind = match period_kind.as_str() {
                "monthly" => PeriodKind::Monthly,
                "quarterly" => PeriodKind::Quarterly,
                "yearly" => PeriodKind::Yearly,
                _ => bail!("--period-kind is monthly, quarterly or yearly"),
            };
            let amount = match (amount, min, max) {
                (Some(a), _, _) => AmountRule::Flat(Rupiah(a)),
                (None, Some(min), Some(max)) => AmountRule::Range {
                    min: Rupiah(min),
                    max: Rupiah(max),
                },
                _ => bail!("give --amount, or --min and --max"),
            };
            let body = TxBody::ProgramRegistered(ProgramRegistered {
                code: ProgramCode::new(&code)
                    .context("a program code is 2 to 16 capital letters, digits or underscores")?,
                name,
                period_kind,
                amount,
            });
            let tx = SignedTx::sign(&network.id, member.id, body, key.signing_key())
                .map_err(|e| anyhow::anyhow!("the program is invalid: {e}"))?;
            let state = claim::submit(&mut nodes, &tx, Duration::from_secs(wait))?;
            Ok(match state {
                TxState::Committed { leaf, .. } => {
                    println!("program {code} registered at leaf {leaf}");
                    ExitCode::SUCCESS
                }
                TxState::Rejected(why) => {
                    println!("program refused: {why}");
                    ExitCode::from(1)
                }
                _ => {
                    println!("submitted, not yet committed");
                    ExitCode::from(3)
                }
            })
        }
        Command::Governance { command, wait } => governance(&config, &mut nodes, command, wait),
        Command::Proof { receipt, out } => {
            let (network, _, _) = identity(&config)?;
            let receipt = parse_receipt(&receipt, &network.id)?;
            let (bundle, history) =
                bansos_client::proof::bundle_and_history(&mut nodes, &network, &receipt)?;
            std::fs::write(&out, bundle.to_bytes())
                .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote a checked tlog-proof bundle to {}", out.display());
            // Signed by validators governance admitted since genesis: whoever checks the bundle
            // with the genesis policy needs the key history too.
            if let Some(history) = history {
                let path = out.with_extension("key-history.json");
                std::fs::write(&path, history)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!(
                    "the validators changed since genesis: give {} with the bundle \
                     (bansos-verify proof --key-history)",
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync { wait } => {
            let mut store = ReceiptStore::open(&config.store)?;
            let todo: Vec<QueuedClaim> = store
                .queued()
                .iter()
                .filter(|q| store.outcome(&q.claim_hash).is_none())
                .cloned()
                .collect();
            let mut outcomes = Vec::new();
            let mut failed = 0;
            for q in &todo {
                let bytes = data_encoding::HEXLOWER
                    .decode(q.claim.as_bytes())
                    .context("the store holds hex")?;
                let tx = SignedTx::decode(&bytes).context("the store holds a signed claim")?;
                let state = claim::submit(&mut nodes, &tx, Duration::from_secs(wait))?;
                let outcome = match &state {
                    TxState::Committed { height, leaf } => {
                        println!("{}: committed at leaf {leaf}", q.allocation);
                        Some(Outcome::Committed {
                            height: *height,
                            leaf: *leaf,
                        })
                    }
                    TxState::Rejected(why) => {
                        failed += 1;
                        println!("{}: refused: {why}", q.allocation);
                        Some(Outcome::Rejected {
                            message: why.clone(),
                        })
                    }
                    _ => {
                        println!("{}: submitted, not yet committed", q.allocation);
                        None
                    }
                };
                if let Some(o) = outcome {
                    outcomes.push((q.claim_hash.clone(), o));
                }
            }
            store.add_outcomes(outcomes)?;
            println!("{} queued claims synced, {failed} refused", todo.len());
            Ok(if failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Allocate {
            program,
            period,
            csv,
            rejects,
            expires_days,
            wait,
        } => {
            let (network, key, member) = identity(&config)?;
            if member.role != Role::Ministry {
                bail!("only a ministry allocates; {} is not one", member.name);
            }
            let dedup_path = config
                .dedup_key
                .as_ref()
                .context("a ministry needs `dedup_key` in its configuration")?;
            let dedup_text = bansos_store::private::read_secret(dedup_path)
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
                &mut |p| {
                    // A bar redrawn in place on a terminal; plain lines in a log file.
                    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                        eprint!("\r{:<60}", p.bar());
                    } else {
                        eprintln!("{}", p.bar());
                    }
                },
            )?;
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                eprintln!();
            }
            for (line, warning) in &report.warnings {
                eprintln!("warning, line {line}: {warning}");
            }
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

/// The network and this member's key, for governance: who the key belongs to is asked of the
/// network (its current roster), not the genesis.
fn network_and_key(config: &ClientConfig) -> anyhow::Result<(Network, SignerKey)> {
    let genesis = std::fs::read(&config.genesis)
        .with_context(|| format!("reading {}", config.genesis.display()))?;
    let network = Network::from_bytes(&genesis).context("the genesis")?;
    Ok((network, read_key(&config.key)?))
}

fn read_key(path: &Path) -> anyhow::Result<SignerKey> {
    let text = bansos_store::private::read_secret(path)
        .with_context(|| format!("reading {}", path.display()))?;
    SignerKey::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("{} is not a key file: {e}", path.display()))
}

fn governance(
    config: &ClientConfig,
    nodes: &mut Nodes,
    command: GovernanceCommand,
    wait: u64,
) -> anyhow::Result<ExitCode> {
    use bansos_client::governance as g;
    use bansos_verifier::governance::{Change, KeyRotation};
    let wait = Duration::from_secs(wait);
    let (network, key) = network_and_key(config)?;
    let change = match command {
        GovernanceCommand::Status => {
            print!("{}", g::describe(&g::state(nodes)?));
            return Ok(ExitCode::SUCCESS);
        }
        GovernanceCommand::SignRotation {
            member,
            new_key,
            out,
        } => {
            let roster = g::state(nodes)?.roster;
            let id = g::member_named(&roster, &member)?;
            let new = read_key(&new_key)?;
            if new.name() != member {
                bail!("the new key file names {:?}, not {member:?}", new.name());
            }
            let rotation = KeyRotation::sign(&network.id, id, new.signing_key(), None);
            std::fs::write(&out, serde_json::to_string_pretty(&rotation)? + "\n")
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "wrote the rotation of {member}'s key, signed by the new key only, to {}",
                out.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        GovernanceCommand::Vote { change_hash } => g::pending(&g::state(nodes)?, &change_hash)?,
        GovernanceCommand::Propose { change } => match change {
            ProposeCommand::AddMember { card, voting_power } => {
                let bytes =
                    std::fs::read(&card).with_context(|| format!("reading {}", card.display()))?;
                let card = bansos_genesis::card::MemberCard::parse(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", card.display()))?;
                Change::AddMember(card.new_member(voting_power))
            }
            ProposeCommand::RemoveMember { member } => Change::RemoveMember {
                member: g::member_named(&g::state(nodes)?.roster, &member)?,
            },
            ProposeCommand::SetVotingPower { member, power } => Change::SetVotingPower {
                member: g::member_named(&g::state(nodes)?.roster, &member)?,
                power,
            },
            ProposeCommand::RotateKey { new_key, rotation } => match (new_key, rotation) {
                (Some(path), _) => {
                    let roster = g::state(nodes)?.roster;
                    let me = g::me(&roster, &key)?;
                    let new = read_key(&path)?;
                    if new.name() != key.name() {
                        bail!(
                            "the new key file names {:?}, not {:?}",
                            new.name(),
                            key.name()
                        );
                    }
                    g::rotation(&network.id, me, &new, Some(&key))
                }
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    if text.contains("PRIVATE+KEY") {
                        bail!(
                            "{} holds a private key: a rotation file is public",
                            path.display()
                        );
                    }
                    Change::RotateKey(
                        serde_json::from_str(&text)
                            .with_context(|| format!("{} is not a rotation", path.display()))?,
                    )
                }
                (None, None) => bail!("give --new-key or --rotation"),
            },
            ProposeCommand::AddWitness { vkey, url } => g::witness(&vkey, &url)?,
            ProposeCommand::RetireWitness { name } => Change::RetireWitness { name },
            ProposeCommand::SetWitnessQuorum { quorum } => Change::SetWitnessQuorum { quorum },
            ProposeCommand::ScheduleUpgrade {
                height,
                rules_version,
            } => Change::ScheduleUpgrade {
                height,
                rules_version,
            },
        },
    };
    let hash = change.hash().to_hex();
    let what = change.name();
    Ok(match g::vote(nodes, &network.id, &key, change, wait)? {
        TxState::Committed { leaf, .. } => {
            let now = g::state(nodes)?;
            let approved = now.json["approved"]
                .as_array()
                .is_some_and(|a| a.iter().any(|c| c["change_hash"] == hash.as_str()));
            println!(
                "vote for {what} {} recorded at leaf {leaf}; {}",
                &hash[..16],
                if approved {
                    format!(
                        "the change is approved: epoch {} from the next block",
                        now.roster.epoch
                    )
                } else {
                    "waiting for more votes (governance status)".to_string()
                }
            );
            ExitCode::SUCCESS
        }
        TxState::Rejected(why) => {
            println!("vote refused: {why}");
            ExitCode::from(1)
        }
        _ => {
            println!("vote submitted, not yet committed");
            ExitCode::from(3)
        }
    })
}
