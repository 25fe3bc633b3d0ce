//! Offline check of a C2SP tlog-proof bundle: the entry's leaf hash, the inclusion proof, and
//! the checkpoint's signatures under the trust policy. No network.

use std::io::Read as _;
use std::path::Path;

use bansos_verifier::hash::{Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::note::Policy;
use bansos_verifier::tile::ENTRY_BYTES_MAX;
use bansos_verifier::tlog_proof::{TLOG_PROOF_BYTES_MAX, TlogProof};

use crate::failure::{Classify as _, Outcome, unchecked};

/// Largest entry file read. Log entries fit a uint16 length (tlog-tiles entry bundles).
pub const ENTRY_FILE_BYTES_MAX: u64 = ENTRY_BYTES_MAX as u64;

/// What a proof that verified shows.
#[derive(Clone, Debug)]
pub struct ProofReport {
    /// The entry's index in the log.
    pub index: LeafIndex,
    /// The checkpoint's tree size.
    pub size: TreeSize,
    /// The checkpoint's root.
    pub root: Hash,
}

/// Verifies the tlog-proof in `proof_file`. The entry comes from `entry_file` if given, else
/// from the bundle's `extra` line. `extra` is unauthenticated, but that is harmless here: it is
/// hashed and the hash must be proven into the signed root.
pub fn verify(
    proof_file: &Path,
    entry_file: Option<&Path>,
    origin: Option<&str>,
    policy: &Policy,
) -> Outcome<ProofReport> {
    let shown = proof_file.display().to_string();
    let bytes = read_bounded(proof_file, TLOG_PROOF_BYTES_MAX as u64)?;
    let proof = TlogProof::parse(&bytes).invalid(format!("proof file {shown}"))?;
    let entry = match (entry_file, &proof.extra) {
        (Some(path), extra) => {
            let entry = read_bounded(path, ENTRY_FILE_BYTES_MAX)?;
            if extra.as_ref().is_some_and(|e| *e != entry) {
                eprintln!(
                    "note: the proof's extra data differs from {}; checking the file's entry",
                    path.display()
                );
            }
            entry
        }
        (None, Some(extra)) => extra.clone(),
        (None, None) => {
            return Err(unchecked(format!(
                "proof file {shown} carries no entry (no `extra` line): give the entry with --entry-file"
            )));
        }
    };
    let leaf = leaf_hash(&entry);
    let cp = proof
        .verify(&leaf, origin, policy)
        .invalid(format!("proof file {shown}, entry {}", proof.index))?;
    eprintln!(
        "checkpoint: origin {}, size {}, signed by {} of the {} trusted keys ({})",
        cp.checkpoint.origin,
        cp.checkpoint.size,
        cp.verified.signers.len(),
        policy.keys().len(),
        cp.verified.signers.join(", ")
    );
    eprintln!(
        "entry {} (leaf hash {leaf}) is included in the log at that checkpoint",
        proof.index
    );
    Ok(ProofReport {
        index: proof.index,
        size: cp.checkpoint.size,
        root: cp.checkpoint.root,
    })
}

/// Reads a whole file of at most `bytes_max` bytes.
fn read_bounded(path: &Path, bytes_max: u64) -> Outcome<Vec<u8>> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).unchecked(format!("cannot open {shown}"))?;
    let mut bytes = Vec::new();
    file.take(bytes_max + 1)
        .read_to_end(&mut bytes)
        .unchecked(format!("cannot read {shown}"))?;
    if bytes.len() as u64 > bytes_max {
        return Err(unchecked(format!(
            "{shown} is larger than {bytes_max} bytes"
        )));
    }
    Ok(bytes)
}
