//! `bansos-verify`: checks a transparency log from the outside, trusting nothing but the
//! verifier keys it is given. `log` audits a whole C2SP tlog-tiles log over HTTP; `proof`
//! checks an offline C2SP tlog-proof bundle. All checking is done by the `bansos-verifier`
//! library; this binary only fetches, reads files, and reports.

use bansos_verify::{audit, failure, http, keys, proof, receipt};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use bansos_verify::failure::Outcome;

const EXIT_CODES_HELP: &str = "\
Output:
  Progress goes to stderr. On success the last line on stdout starts with OK and the exit code is 0.
  On failure stderr ends with one line naming what failed:
    FAILED: ...   something was checked and is wrong          (exit code 1)
    error: ...    the check could not be done: arguments,
                  files, network, HTTP errors, missing tiles  (exit code 2)

Keys:
  A verifier key is a C2SP signed-note key string, name+keyid+base64, for example
    kemensos.example+1a2b3c4d+AU8...=
  Get the keys from the log's operators through a channel you trust (for Bansos Ledger: the
  genesis file). --keys-file takes one key per line; blank lines and lines starting with # are
  skipped. --key and --keys-file may be repeated and combined.

Trust policy:
  For a Bansos Ledger network give its trust policy instead (--policy policy.json, made from the
  genesis by `bansos-genesis policy`). Validators may change by governance (members added or
  removed, keys rotated); with --policy the changes are followed from the genesis keys through
  the network's key history, each one checked against the votes of the validators before it,
  so a checkpoint signed by today's validators verifies. `log` reads the history the log
  serves (GET <URL>/key-history); `proof` takes it from --key-history FILE or --node URL.";

/// Checks a C2SP transparency log, or one entry's offline proof, against trusted keys.
#[derive(Parser, Debug)]
#[command(name = "bansos-verify", version, after_long_help = EXIT_CODES_HELP)]
#[command(long_about = "\
Checks a C2SP transparency log, or one entry's offline proof, against trusted keys.

A log's checkpoint (its size and Merkle root) is trusted only if enough of the keys you give
have signed it. Everything else — tiles, entries, proofs — is checked against that root, so a
log operator, a mirror or the network cannot change a byte unnoticed.

  bansos-verify log --url http://log.example/ledger --keys-file keys.txt --quorum 3
  bansos-verify proof receipt.tlog-proof --keys-file keys.txt --quorum 3
  bansos-verify proof receipt.tlog-proof --policy policy.json --key-history key-history.json")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Audit a whole C2SP tlog-tiles log from its public checkpoint, tiles and entry bundles.
    #[command(after_long_help = EXIT_CODES_HELP)]
    #[command(long_about = "\
Audit a whole C2SP tlog-tiles log from its public checkpoint, tiles and entry bundles.

Steps, each checked before the next is trusted:
  1. GET <URL>/checkpoint; check its signatures (--key, --quorum) and origin (--origin). With
     --policy: GET <URL>/key-history and follow the validators' changes from the genesis keys;
     the checkpoint must be signed by the validators of the epoch its size is in.
  2. GET the edge tiles (the partial tile at each level) and recompute the checkpoint's root.
  3. Logs of up to 100000 entries: GET every hash tile and every entry bundle; check each full
     tile against its parent tile and recompute the hash of every entry.
     Larger logs: the same for a random sample of entry bundles (--sample, always including
     the last one) and the tiles above them.
  4. Build inclusion proofs for up to 32 of the checked entries (always the log's last entry)
     from the checked tiles and verify them against the root.
  5. With --policy, for each change of the key history: the entry just before its epoch's start
     must be one of the votes that approved it (read even in a sampled audit), the epoch's
     first checkpoint must have the root of the log's entries before that start, and every vote
     found in the entries read must lie in the epoch it names; a complete audit must find them
     all.

Entries are treated as opaque bytes (but the governance votes, with --policy), so any C2SP
tlog-tiles log can be audited, not only Bansos Ledger. A partial tile that is gone (HTTP 404)
is replaced by the start of its full tile, as the spec allows. http:// and https:// URLs are
supported (TLS with bundled Mozilla roots).

On success the last stdout line is:  OK size=<tree size> root=<base64 root>
Compare that root with what others see (other nodes, witnesses, journalists): the same size
must always have the same root.")]
    Log(LogArgs),

    /// Verify an offline C2SP tlog-proof file: one entry, its inclusion proof, a signed checkpoint.
    #[command(after_long_help = EXIT_CODES_HELP)]
    #[command(long_about = "\
Verify an offline C2SP tlog-proof file (c2sp.org/tlog-proof@v1): one entry, its inclusion proof
and a signed checkpoint. No network is used (but --node, to fetch a key history).

The entry is hashed (RFC 6962 leaf hash) and the proof must lead from that hash to the root of a
checkpoint signed by enough of the trusted keys. The entry is read from --entry-file, or else from
the proof's `extra` line. `extra` is not trusted by itself, but a changed entry no longer hashes
to the proven leaf, so the check fails.

A checkpoint signed after the validators changed (governance) verifies with the network's trust
policy and a key history that reaches its epoch: --policy policy.json with --key-history FILE
(a node's /key-history, saved) or --node URL (fetched from there).

On success the last stdout line is:  OK index=<entry index> size=<tree size> root=<base64 root>")]
    Proof(ProofArgs),

    /// A citizen's check of their own aid: the receipt on the invitation letter and their NIK.
    #[command(after_long_help = RECEIPT_HELP)]
    #[command(long_about = "\
A citizen's check of their own aid: the receipt on the invitation letter and their NIK.

Proves from the validators' signed checkpoint that the allocation is in the log, that the
receipt belongs to this NIK, and whether, when, where and by whom it was paid out; warns when
less was paid than allocated or the receipt does not match the NIK. Prints in Bahasa Indonesia
(--lang en for English). The NIK is only hashed here with the receipt's salt: it is never sent
to a node, logged or written to a file. Without --nik it is asked for on the terminal (which
keeps it out of the shell history).

Online (--node): the checkpoint, then the whole entry tile of 256 entries holding the
allocation and the hash tiles above it, then the events of every allocation of that tile: no
node learns which allocation you checked. Give several --node to be safe from a node that
hides a claim: events are asked of every node. --save-bundle keeps the evidence for offline use.
Offline (--bundle): a receipt bundle saved before; no network is used.

Trust comes from --policy (policy.json, made from the genesis by `bansos-genesis policy`, or
shipped beside the executable): the network, the validators' keys and how many of them must
sign. See docs/VERIFY.md.

  bansos-verify receipt 08ABCD-... --policy policy.json --node http://127.0.0.1:8700
  bansos-verify receipt --qr letter-qr.png --policy policy.json --bundle my-aid.json --lang en")]
    Receipt(ReceiptArgs),
}

const RECEIPT_HELP: &str = "\
Exit codes:
   0  claimed: recorded and paid in full
  10  not_claimed: recorded, not paid yet (or expired unpaid)
  11  returned: the payer returned the funds      12  revoked: the ministry revoked it
  13  not_in_log: not in the signed log (yet)
  20  paid_less: WARNING, less was paid than allocated
  21  nik_mismatch: WARNING, the receipt does not belong to this NIK
  22  not_an_allocation: WARNING, the log holds something else at the receipt's place
  23  wrong_network: the receipt is for another network than the policy's
   1  a node or file gave a checkpoint, tile or proof that does not verify
   2  the check could not be done: arguments, files, network";

#[derive(Args, Debug)]
struct ReceiptArgs {
    /// The receipt code printed on the letter (dashes and spaces optional).
    #[arg(
        value_name = "CODE",
        required_unless_present = "qr",
        conflicts_with = "qr"
    )]
    code: Option<String>,

    /// A PNG image (scan or photo) of the letter's QR code, instead of the code.
    #[arg(long, value_name = "PNG")]
    qr: Option<PathBuf>,

    /// The recipient's NIK (16 digits) [default: asked for on the terminal].
    #[arg(long, value_name = "NIK")]
    nik: Option<String>,

    /// The trust policy of the network [default: policy.json beside this executable, as a
    /// distribution for one network ships it].
    #[arg(long, value_name = "PATH")]
    policy: Option<PathBuf>,

    /// A node's (or a tile mirror's) URL. Repeat for several nodes.
    #[arg(
        long = "node",
        value_name = "URL",
        required_unless_present = "bundle",
        conflicts_with = "bundle"
    )]
    nodes: Vec<String>,

    /// A receipt bundle saved earlier (offline check).
    #[arg(long, value_name = "PATH")]
    bundle: Option<PathBuf>,

    /// After an online check, save the evidence here as a receipt bundle (no personal data).
    #[arg(long, value_name = "PATH", requires = "nodes")]
    save_bundle: Option<PathBuf>,

    /// Language of the verdict: id (Bahasa Indonesia) or en.
    #[arg(long, default_value = "id", value_parser = ["id", "en"])]
    lang: String,

    /// Print the verdict as JSON (docs/VERIFY.md) instead of text.
    #[arg(long)]
    json: bool,

    /// Seconds allowed for each HTTP request.
    #[arg(long, value_name = "SECONDS", default_value_t = http::REQUEST_TIMEOUT_SECS_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout_secs: u64,
}

/// Who must have signed the checkpoint.
#[derive(Args, Debug)]
struct TrustArgs {
    /// A trusted verifier key (name+keyid+base64). Repeat for each trusted signer.
    #[arg(long = "key", value_name = "VKEY")]
    keys: Vec<String>,

    /// A file of trusted verifier keys, one per line (# comments and blank lines are skipped).
    #[arg(long = "keys-file", value_name = "PATH")]
    keys_files: Vec<PathBuf>,

    /// How many distinct trusted keys must have signed the checkpoint [default: all of them].
    #[arg(long, value_name = "K")]
    quorum: Option<usize>,

    /// The origin (first line) the checkpoint must carry, e.g. bansos.example/ledger.
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<String>,

    /// A Bansos Ledger network's trust policy instead of keys (policy.json from `bansos-genesis
    /// policy`): its origin, its genesis validators and quorum, followed through the network's
    /// key history.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["keys", "keys_files", "quorum", "origin"])]
    policy: Option<PathBuf>,
}

/// What [`TrustArgs`] trust.
enum Trusted {
    Keys(bansos_verifier::note::Policy),
    Network(Box<bansos_verifier::policy::TrustPolicy>),
}

impl TrustArgs {
    fn trusted(&self) -> Outcome<Trusted> {
        match &self.policy {
            Some(path) => Ok(Trusted::Network(Box::new(keys::trust_policy(path)?))),
            None => Ok(Trusted::Keys(keys::policy(
                &self.keys,
                &self.keys_files,
                self.quorum,
            )?)),
        }
    }
}

impl Trusted {
    fn trust(&self) -> audit::Trust<'_> {
        match self {
            Trusted::Keys(policy) => audit::Trust::Keys(policy),
            Trusted::Network(policy) => audit::Trust::Network(policy),
        }
    }
}

#[derive(Args, Debug)]
struct LogArgs {
    /// The log's URL prefix: <URL>/checkpoint and <URL>/tile/... are fetched.
    #[arg(long, value_name = "URL")]
    url: String,

    #[command(flatten)]
    trust: TrustArgs,

    /// Entry bundles to check in a log of more than 100000 entries (the last one always included).
    #[arg(long, value_name = "N", default_value_t = audit::SAMPLE_BUNDLES_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    sample: u64,

    /// Seed for choosing the sample, to repeat an audit exactly [default: random, printed on stderr].
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,

    /// Seconds allowed for each HTTP request.
    #[arg(long, value_name = "SECONDS", default_value_t = http::REQUEST_TIMEOUT_SECS_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout_secs: u64,
}

#[derive(Args, Debug)]
struct ProofArgs {
    /// The tlog-proof file (usually *.tlog-proof).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// The entry's bytes, if the proof file has no `extra` line or you have the entry separately.
    #[arg(long, value_name = "PATH")]
    entry_file: Option<PathBuf>,

    #[command(flatten)]
    trust: TrustArgs,

    /// A key history saved from a node's /key-history: the validators' changes since genesis,
    /// each checked against the trust policy's genesis keys and the votes of the epoch before.
    #[arg(long, value_name = "FILE", requires = "policy")]
    key_history: Option<PathBuf>,

    /// Fetch the key history from this node (GET <URL>/key-history); nothing else is fetched.
    #[arg(long, value_name = "URL", requires = "policy")]
    node: Option<String>,

    /// Seconds allowed for the key history request.
    #[arg(long, value_name = "SECONDS", default_value_t = http::REQUEST_TIMEOUT_SECS_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout_secs: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Log(args) => run_log(args),
        Command::Proof(args) => run_proof(args),
        Command::Receipt(args) => {
            return match run_receipt(args) {
                Ok(code) => ExitCode::from(code),
                Err(failure) => {
                    eprintln!("bansos-verify: {failure}");
                    ExitCode::from(failure.exit_code())
                }
            };
        }
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("bansos-verify: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

fn run_log(args: LogArgs) -> Outcome<String> {
    let trusted = args.trust.trusted()?;
    let log = http::HttpLog::new(&args.url, Duration::from_secs(args.timeout_secs))?;
    // Randomness is an input of the audit; print it so that the same sample can be re-checked.
    let seed = args.seed.unwrap_or_else(rand::random);
    eprintln!("auditing {} (sample seed {seed})", log.url(""));
    let options = audit::AuditOptions {
        origin: args.trust.origin,
        sample_bundles: args.sample,
        seed,
    };
    let report = audit::audit(&log, trusted.trust(), &options)?;
    if let Some(g) = report.governance.as_ref().filter(|g| g.changes > 0) {
        eprintln!(
            "governance: {} approved changes checked against the log (each one's approving vote is the entry before its epoch's start); {} of their {} votes found in the entries read, each in the epoch it names",
            g.changes, g.votes_found, g.votes
        );
    }
    eprintln!(
        "{} audit passed (checkpoint signed by {}): {} hash tiles, {} entry bundles, {} entries, {} inclusion proofs checked",
        if report.complete {
            "complete"
        } else {
            "sampled"
        },
        report.signers.join(", "),
        report.tiles,
        report.bundles,
        report.entries,
        report.inclusion_proofs
    );
    Ok(format!("OK size={} root={}", report.size, report.root))
}

fn run_proof(args: ProofArgs) -> Outcome<String> {
    let mut trusted = args.trust.trusted()?;
    if let Trusted::Network(policy) = &mut trusted {
        if let Some(path) = &args.key_history {
            let history = keys::read_key_history(path)?;
            keys::follow(policy, &history, &format!("in {}", path.display()))?;
        }
        if let Some(url) = &args.node {
            let node = http::HttpLog::new(url, Duration::from_secs(args.timeout_secs))?;
            match keys::fetch_key_history(&node)? {
                Some(history) => {
                    keys::follow(policy, &history, &format!("of {}", node.url("key-history")))?
                }
                None => eprintln!("note: {url} serves no key history (HTTP 404)"),
            }
        }
    }
    let report = proof::verify(
        &args.file,
        args.entry_file.as_deref(),
        args.trust.origin.as_deref(),
        trusted.trust(),
    )?;
    Ok(format!(
        "OK index={} size={} root={}",
        report.index, report.size, report.root
    ))
}

fn run_receipt(args: ReceiptArgs) -> Outcome<u8> {
    let policy_path = match &args.policy {
        Some(p) => p.clone(),
        None => receipt::shipped_policy().ok_or_else(|| {
            failure::unchecked(
                "no trust policy: give --policy policy.json (made by `bansos-genesis policy`), \
                 or put policy.json beside bansos-verify",
            )
        })?,
    };
    let policy =
        bansos_verifier::policy::TrustPolicy::parse(&receipt::read_file(&policy_path, "policy")?)
            .map_err(|e| failure::unchecked(format!("policy {}: {e}", policy_path.display())))?;
    let code = receipt::receipt(args.code.as_deref(), args.qr.as_deref())?;
    let nik = receipt::nik(args.nik.as_deref())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let verdict = match &args.bundle {
        Some(path) => bansos_verifier::citizen::check_bundle(
            &policy,
            &code,
            &nik,
            &receipt::read_file(path, "receipt bundle")?,
            now,
        ),
        None => {
            let timeout = Duration::from_secs(args.timeout_secs);
            let mut nodes: Vec<(String, Box<dyn audit::Fetch>)> = Vec::new();
            for url in &args.nodes {
                nodes.push((url.clone(), Box::new(http::HttpLog::new(url, timeout)?)));
            }
            if code.network_tag != bansos_verifier::receipt::network_tag(policy.network_id()) {
                // Nothing to fetch for a receipt of another network.
                bansos_verifier::citizen::check_bundle(&policy, &code, &nik, b"", now)
            } else {
                let evidence = receipt::gather(&nodes, &policy, &code)?;
                if let Some(path) = &args.save_bundle {
                    std::fs::write(path, evidence.to_bundle()).map_err(|e| {
                        failure::unchecked(format!("writing {}: {e}", path.display()))
                    })?;
                    eprintln!("saved the evidence to {}", path.display());
                }
                bansos_verifier::citizen::check(&policy, &code, &nik, &evidence, now)
            }
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&verdict).expect("a verdict serializes")
        );
    } else {
        let texts = receipt::Texts::new(&args.lang);
        print!(
            "{}",
            receipt::render(&verdict, &policy, &texts, receipt::color_stdout())
        );
    }
    Ok(verdict.outcome.exit_code())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_help_states_the_limits_the_code_uses() {
        let mut cli = Cli::command();
        let help = cli
            .find_subcommand_mut("log")
            .unwrap()
            .render_long_help()
            .to_string();
        for needle in [
            format!("Logs of up to {} entries", audit::AUDIT_FULL_ENTRIES_MAX),
            format!(
                "in a log of more than {} entries",
                audit::AUDIT_FULL_ENTRIES_MAX
            ),
            format!(
                "for up to {} of the checked entries",
                audit::INCLUSION_CHECKS_MAX
            ),
            format!("[default: {}]", audit::SAMPLE_BUNDLES_DEFAULT),
            format!("exit code {}", failure::EXIT_INVALID),
            format!("exit code {}", failure::EXIT_UNCHECKED),
        ] {
            assert!(
                help.contains(&needle),
                "{needle:?} not in the help:\n{help}"
            );
        }
    }
}
