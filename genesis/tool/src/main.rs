//! `bansos-genesis`: the genesis ceremony of a network whose members draw their own keys
//! (`keygen` on each member's machine, `assemble` from the public member cards, `approve` by
//! each member, `validate --approvals` to count them), `new` for local testnets (every key on
//! one machine), and validation of genesis files that explains every problem.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use bansos_genesis::config::NetworkConfig;
use bansos_genesis::{GenesisError, Network, Role};
use bansos_verifier::note::SignerKey;
use clap::{Parser, Subcommand};
use ed25519_dalek::SigningKey;

mod ceremony;

#[derive(Parser)]
#[command(
    name = "bansos-genesis",
    version,
    about = "Create and check the genesis of a Bansos Ledger network"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// LOCAL TESTNETS ONLY: create a network with every member's key drawn on this machine
    ///
    /// Whoever runs it holds every key and could sign a quorum checkpoint alone: for a real
    /// network each member runs `keygen` and the genesis is `assemble`d from their cards
    /// (docs/OPERATIONS.md, "The genesis ceremony").
    ///
    /// Writes, into OUT (which must not exist or be empty):
    ///   genesis.json         the genesis; its SHA-256 is the network id
    ///   vkeys.txt            each validator's C2SP note verifier key, one per line
    ///   policy.json          the citizen verifier's trust policy (docs/VERIFY.md)
    ///   keys/<member>.key    each member's private key (PRIVATE+KEY+... form), mode 0600
    ///   keys/<ministry>.dedup-key   each ministry's secret HMAC key for dedup tags, mode 0600
    /// Hand each member its own key files over a secure channel and delete the copies.
    /// Private keys are never printed.
    ///
    /// network.toml:
    ///   network_name = "Bansos Ledger testnet"
    ///   origin = "ledger.bansos.example/testnet"
    ///   [consensus]            # optional: propose_ms, prevote_ms, precommit_ms, block_time_drift_ms
    ///   [[members]]            # in order; the order fixes member ids
    ///   name = "kemensos"      # letters, digits, - _ . (names key files and checkpoint keys)
    ///   display_name = "Kementerian Sosial"
    ///   role = "ministry"      # ministry | bank (banks and PT Pos) | auditor
    ///   voting_power = 1       # 0: not a validator; validators: at least 4, all equal
    ///   host = "127.0.0.1"
    ///   p2p_port = 27000
    ///   [[programs]]
    ///   code = "PKH"
    ///   name = "Program Keluarga Harapan"
    ///   issuer = "kemensos"
    ///   period_kind = "quarterly"   # monthly | quarterly | yearly
    ///   amount_min = 225000         # or: amount = 200000 for a flat amount
    ///   amount_max = 3000000
    #[command(verbatim_doc_comment)]
    New {
        /// The network description.
        #[arg(long)]
        config: PathBuf,
        /// Directory to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Draw this member's key on this machine and write its public member card
    ///
    /// Writes into OUT (created 0700 if missing): <name>.key (the member key, mode 0600),
    /// for a ministry <name>.dedup-key (its secret HMAC key for dedup tags, mode 0600), and
    /// <name>.card.json, the public card to send to the coordinator (name, role, display name,
    /// public key, p2p address, for a ministry a commitment to its dedup key). Private keys are
    /// never printed and never leave OUT.
    Keygen {
        /// Short member name: letters, digits, - _ . (e.g. bri).
        #[arg(long)]
        name: String,
        /// ministry | bank | auditor.
        #[arg(long)]
        role: String,
        /// Full name for people.
        #[arg(long)]
        display_name: String,
        /// Host name or IPv4 address of this member's peer-to-peer endpoint.
        #[arg(long)]
        host: String,
        /// Its peer-to-peer TCP port.
        #[arg(long, default_value_t = 27000)]
        p2p_port: u16,
        /// Directory for the key files and the card.
        #[arg(long)]
        out: PathBuf,
    },
    /// Build genesis.json, vkeys.txt and policy.json from the members' public cards alone
    ///
    /// network.toml names the members in order with their voting power, and the rest of the
    /// network (as for `new`, but without keys or addresses):
    ///   network_name = "Bansos Ledger"
    ///   origin = "ledger.bansos.example/production"
    ///   [[members]]
    ///   name = "kemensos"
    ///   voting_power = 1
    ///   [[programs]] ...
    /// A card that carries anything looking like a private key is refused. OUT must not exist
    /// or be empty; nothing is written if anything is wrong.
    #[command(verbatim_doc_comment)]
    Assemble {
        /// The network description.
        #[arg(long)]
        config: PathBuf,
        /// Directory to create.
        #[arg(long)]
        out: PathBuf,
        /// The members' cards (<name>.card.json).
        #[arg(required = true)]
        cards: Vec<PathBuf>,
    },
    /// Approve a genesis: sign its network id with this member's key (a C2SP signed note)
    Approve {
        /// The genesis.json, after checking it (`validate`).
        #[arg(long)]
        genesis: PathBuf,
        /// This member's key file.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the approval (send it to the coordinator; it is public).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a genesis file and list every problem found. Exit 0 if valid, 1 if not.
    ///
    /// With --approvals, also say which members approved it (their signatures verified against
    /// their keys in the genesis) and which have not yet; an approval of another genesis or with
    /// a bad signature is an error.
    Validate {
        /// The genesis.json to check.
        genesis: PathBuf,
        /// Approval files written by `approve`.
        #[arg(long, num_args = 1..)]
        approvals: Vec<PathBuf>,
    },
    /// Print the citizen verifier's trust policy of a genesis (docs/VERIFY.md): network id,
    /// origin, validator keys and quorum, member and program names. Publish it with the
    /// verifier; `bansos-verify receipt --policy` reads it.
    Policy {
        /// The genesis.json.
        genesis: PathBuf,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::New { config, out } => new(&config, &out),
        Command::Keygen {
            name,
            role,
            display_name,
            host,
            p2p_port,
            out,
        } => ceremony::keygen(&name, &role, &display_name, &host, p2p_port, &out),
        Command::Assemble { config, out, cards } => ceremony::assemble(&config, &out, &cards),
        Command::Approve { genesis, key, out } => ceremony::approve(&genesis, &key, &out),
        Command::Validate { genesis, approvals } => match validate(&genesis) {
            Ok(code) if approvals.is_empty() => Ok(code),
            Ok(_) => ceremony::count_approvals(&genesis, &approvals),
            Err(e) => Err(e),
        },
        Command::Policy { genesis } => policy(&genesis),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

fn new(config_path: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let config: NetworkConfig = toml::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid network description",
            config_path.display()
        )
    })?;
    let keys: Vec<SigningKey> = config
        .members
        .iter()
        .map(|_| {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
            Ok(SigningKey::from_bytes(&seed))
        })
        .collect::<anyhow::Result<_>>()?;
    let public: Vec<_> = keys.iter().map(SigningKey::verifying_key).collect();
    let genesis = match config.to_genesis(&public) {
        Ok(g) => g,
        Err(problems) => {
            return Ok(refuse(&config_path.display().to_string(), &problems));
        }
    };
    let network = write_fresh(out, |out| write_network(out, &genesis, &keys))?;
    println!(
        "network {:?}: {} members, {} validators, checkpoint quorum {}",
        network.genesis.network_name,
        network.genesis.members.len(),
        network.validator_vkeys().len(),
        network.checkpoint_quorum()
    );
    println!(
        "network id {}",
        data_encoding::HEXLOWER.encode(&network.id.0)
    );
    println!(
        "wrote {0}/genesis.json, {0}/vkeys.txt, {0}/policy.json and {0}/keys/ (private: hand each member its own files)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Says that nothing was written, and why; the exit code for it.
fn refuse(what: &str, problems: &[String]) -> ExitCode {
    eprintln!(
        "{what} has {} problem(s); nothing was written:",
        problems.len()
    );
    for p in problems {
        eprintln!("  - {p}");
    }
    ExitCode::from(1)
}

/// Runs `write` into `out`, which must not exist or be empty; if it fails, what it made goes.
fn write_fresh(
    out: &Path,
    write: impl FnOnce(&Path) -> anyhow::Result<Network>,
) -> anyhow::Result<Network> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!(
            "{} exists and is not empty: choose a new directory",
            out.display()
        );
    }
    let created = !out.exists();
    let result = write(out);
    if result.is_err() && created {
        let _ = std::fs::remove_dir_all(out);
    }
    result
}

fn write_network(
    out: &Path,
    genesis: &bansos_genesis::Genesis,
    keys: &[SigningKey],
) -> anyhow::Result<Network> {
    let network = write_public(out, genesis)?;
    let key_dir = out.join("keys");
    std::fs::create_dir_all(&key_dir).with_context(|| format!("creating {}", key_dir.display()))?;
    for (m, k) in genesis.members.iter().zip(keys) {
        write_private(
            &key_dir.join(format!("{}.key", m.name)),
            &format!(
                "{}\n",
                SignerKey::new(&m.name, k.clone()).to_secret_string()
            ),
        )?;
        if m.role == Role::Ministry {
            let mut dedup = [0u8; 32];
            getrandom::fill(&mut dedup)
                .map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
            write_private(
                &key_dir.join(format!("{}.dedup-key", m.name)),
                &format!("{}\n", data_encoding::HEXLOWER.encode(&dedup)),
            )?;
        }
    }
    Ok(network)
}

/// Writes genesis.json, vkeys.txt and policy.json into `out` (created if missing).
fn write_public(out: &Path, genesis: &bansos_genesis::Genesis) -> anyhow::Result<Network> {
    let bytes = Network::to_file_bytes(genesis);
    let network =
        Network::from_bytes(&bytes).context("the generated genesis does not validate (a bug)")?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("genesis.json"), &bytes)?;
    let vkeys: String = network
        .validator_vkeys()
        .iter()
        .map(|k| format!("{k}\n"))
        .collect();
    std::fs::write(out.join("vkeys.txt"), vkeys)?;
    std::fs::write(out.join("policy.json"), network.trust_policy().to_json())?;
    Ok(network)
}

fn policy(path: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let network = Network::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid genesis (see `validate`)", path.display()))?;
    print!("{}", network.trust_policy().to_json());
    Ok(ExitCode::SUCCESS)
}

fn validate(path: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match Network::from_bytes(&bytes) {
        Ok(n) => {
            println!(
                "OK {}: network {:?}, id {}, {} members, {} validators, checkpoint quorum {}, origin {}",
                path.display(),
                n.genesis.network_name,
                data_encoding::HEXLOWER.encode(&n.id.0),
                n.genesis.members.len(),
                n.validator_vkeys().len(),
                n.checkpoint_quorum(),
                n.genesis.origin
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(GenesisError::Invalid(problems)) => {
            eprintln!(
                "{} is invalid; {} problem(s):",
                path.display(),
                problems.len()
            );
            for p in problems {
                eprintln!("  - {p}");
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("{} is invalid: {e}", path.display());
            Ok(ExitCode::from(1))
        }
    }
}
