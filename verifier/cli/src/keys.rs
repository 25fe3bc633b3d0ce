//! Trust from the command line: verifier keys given with `--key` or read from `--keys-file`
//! and how many of them must sign (`--quorum`), or a network's trust policy (`--policy`) with
//! the key history that follows its validators through governance changes (`--key-history`,
//! or a node's `/key-history`).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use bansos_verifier::governance::KEY_HISTORY_BYTES_MAX;
use bansos_verifier::note::{Note, Policy, VerifierKey};
use bansos_verifier::policy::{POLICY_BYTES_MAX, TrustPolicy};

use crate::audit::Fetch;
use crate::failure::{Classify as _, Outcome, invalid, unchecked};

/// Largest keys file read: ample for hundreds of keys of ~60 bytes.
pub const KEYS_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// Builds the policy: every key from `keys` and `keys_files`, `quorum` of them (all if `None`).
pub fn policy(keys: &[String], keys_files: &[PathBuf], quorum: Option<usize>) -> Outcome<Policy> {
    let mut parsed = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let vkey = VerifierKey::parse(key.trim())
            .unchecked(format!("--key number {} ({key:?})", i + 1))?;
        parsed.push(vkey);
    }
    for path in keys_files {
        parsed.extend(read_keys_file(path)?);
    }
    if parsed.is_empty() {
        return Err(unchecked(
            "no trusted keys: give at least one --key or --keys-file, or the network's --policy",
        ));
    }
    let n = parsed.len();
    let quorum = quorum.unwrap_or(n);
    Policy::new(parsed, quorum).unchecked(format!("--quorum {quorum} with {n} trusted keys"))
}

/// One verifier key per line; blank lines and lines starting with `#` are skipped.
fn read_keys_file(path: &Path) -> Outcome<Vec<VerifierKey>> {
    let shown = path.display().to_string();
    let bytes = read_bounded(path, KEYS_FILE_BYTES_MAX, "keys file")?;
    let text = String::from_utf8(bytes)
        .unchecked(format!("cannot read keys file {shown} as UTF-8 text"))?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let vkey =
            VerifierKey::parse(line).unchecked(format!("keys file {shown}, line {}", n + 1))?;
        keys.push(vkey);
    }
    Ok(keys)
}

/// Reads and checks a trust policy file (`bansos-genesis policy` makes it from the genesis):
/// the network, the origin, the genesis validators and their quorum, the members by number.
pub fn trust_policy(path: &Path) -> Outcome<TrustPolicy> {
    let bytes = read_bounded(path, POLICY_BYTES_MAX as u64, "trust policy")?;
    TrustPolicy::parse(&bytes).unchecked(format!("trust policy {}", path.display()))
}

/// Reads a key history document saved from a node's `/key-history` (not yet checked).
pub fn read_key_history(path: &Path) -> Outcome<Vec<u8>> {
    read_bounded(path, KEY_HISTORY_BYTES_MAX as u64, "key history")
}

/// The key history the log serves at `key-history` (docs/VERIFY.md, "Key history"), not yet
/// checked; `None` when it serves none (HTTP 404: a log whose validators never changed, or a
/// node older than governance).
pub fn fetch_key_history(log: &dyn Fetch) -> Outcome<Option<Vec<u8>>> {
    log.get("key-history", KEY_HISTORY_BYTES_MAX as u64)
}

/// Names on the Ed25519 signatures of a signed note that none of `known` made: after a
/// governance change, the keys of added members and rotated keys. Cosignatures and unparsable
/// notes give none.
pub fn unknown_signers(note: &[u8], known: &[VerifierKey]) -> Vec<String> {
    let Ok(note) = Note::parse(note) else {
        return Vec::new();
    };
    let mut names: Vec<String> = note
        .signatures()
        .iter()
        // An Ed25519 note signature is 64 bytes; a cosignature carries 8 more (its time).
        .filter(|s| s.signature.len() == ED25519_SIGNATURE_BYTES)
        .filter(|s| {
            !known
                .iter()
                .any(|k| k.name() == s.name && k.key_id() == s.key_id)
        })
        .map(|s| s.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Bytes of an Ed25519 signature.
const ED25519_SIGNATURE_BYTES: usize = 64;

/// What to do when a checkpoint is signed by keys the trust policy does not list, for a
/// command line that trusts only `--key`/`--keys-file`.
pub const ADVICE_KEYS: &str = "the validators may have changed since genesis: give the \
     network's trust policy (--policy policy.json) and its key history (--key-history FILE saved \
     from a node's /key-history, or --node URL), which is checked change by change from the \
     genesis keys";

/// The same, for a command line that has a trust policy but no key history that reaches the
/// checkpoint's epoch.
pub const ADVICE_HISTORY: &str = "the validators changed after the epochs this key history \
     reaches: give a newer key history (--key-history FILE saved from a node's /key-history, \
     or --node URL)";

/// `" (it is signed by … with keys this trust does not know: <advice>)"`, or empty when every
/// Ed25519 signer of `note` is in `known`: appended to the error of a checkpoint that did not
/// verify.
pub fn unknown_signers_hint(note: &[u8], known: &[VerifierKey], advice: &str) -> String {
    let unknown = unknown_signers(note, known);
    if unknown.is_empty() {
        return String::new();
    }
    format!(
        " (it is signed by {} with keys this trust does not know: {advice})",
        unknown.join(", ")
    )
}

/// Follows a key history document from `policy`, each change checked against the validators
/// of the epoch before; `source` names where it came from. A history that does not follow is
/// proven wrong: its signatures or its arithmetic fail.
pub fn follow(policy: &mut TrustPolicy, key_history: &[u8], source: &str) -> Outcome<()> {
    policy.follow(key_history).map_err(|e| {
        invalid(format!(
            "the key history {source} does not follow from the trust policy: {e}"
        ))
    })?;
    let epoch = policy.history().current().epoch;
    if epoch > 0 {
        eprintln!("key history {source}: {epoch} approved changes followed from the genesis keys");
    }
    Ok(())
}

/// Reads a whole file of at most `bytes_max` bytes; `what` names it in errors.
pub(crate) fn read_bounded(path: &Path, bytes_max: u64, what: &str) -> Outcome<Vec<u8>> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).unchecked(format!("cannot open {what} {shown}"))?;
    let mut bytes = Vec::new();
    file.take(bytes_max + 1)
        .read_to_end(&mut bytes)
        .unchecked(format!("cannot read {what} {shown}"))?;
    if bytes.len() as u64 > bytes_max {
        return Err(unchecked(format!(
            "{what} {shown} is larger than {bytes_max} bytes"
        )));
    }
    Ok(bytes)
}
