//! The trust policy from the command line: verifier keys given with `--key` or read from
//! `--keys-file`, and how many of them must sign (`--quorum`).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use bansos_verifier::note::{Policy, VerifierKey};

use crate::failure::{Classify as _, Outcome, unchecked};

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
            "no trusted keys: give at least one --key or --keys-file",
        ));
    }
    let n = parsed.len();
    let quorum = quorum.unwrap_or(n);
    Policy::new(parsed, quorum).unchecked(format!("--quorum {quorum} with {n} trusted keys"))
}

/// One verifier key per line; blank lines and lines starting with `#` are skipped.
fn read_keys_file(path: &Path) -> Outcome<Vec<VerifierKey>> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).unchecked(format!("cannot open keys file {shown}"))?;
    let mut text = String::new();
    file.take(KEYS_FILE_BYTES_MAX + 1)
        .read_to_string(&mut text)
        .unchecked(format!("cannot read keys file {shown} as UTF-8 text"))?;
    if text.len() as u64 > KEYS_FILE_BYTES_MAX {
        return Err(unchecked(format!(
            "keys file {shown} is larger than {KEYS_FILE_BYTES_MAX} bytes"
        )));
    }
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
