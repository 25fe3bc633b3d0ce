//! Offline check of a C2SP tlog-proof bundle: the entry's leaf hash, the inclusion proof, and
//! the checkpoint's signatures, by trusted keys or by the validators of the epoch of a trust
//! policy followed through a key history (the caller reads or fetches the history). No network.

use std::path::Path;

use bansos_verifier::hash::{Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::merkle::verify_inclusion;
use bansos_verifier::tile::ENTRY_BYTES_MAX;
use bansos_verifier::tlog_proof::{TLOG_PROOF_BYTES_MAX, TlogProof, TlogProofError};

use crate::audit::Trust;
use crate::failure::{Classify as _, Outcome, unchecked};
use crate::keys::read_bounded;

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
    /// With a trust policy: the epoch whose validators signed the checkpoint.
    pub epoch: Option<u64>,
}

/// Verifies the tlog-proof in `proof_file` under `trust`. The entry comes from `entry_file` if
/// given, else from the bundle's `extra` line. `extra` is unauthenticated, but that is harmless
/// here: it is hashed and the hash must be proven into the signed root.
pub fn verify(
    proof_file: &Path,
    entry_file: Option<&Path>,
    origin: Option<&str>,
    trust: Trust<'_>,
) -> Outcome<ProofReport> {
    let shown = proof_file.display().to_string();
    let bytes = read_bounded(proof_file, TLOG_PROOF_BYTES_MAX as u64, "proof file")?;
    let proof = TlogProof::parse(&bytes).invalid(format!("proof file {shown}"))?;
    let entry = match (entry_file, &proof.extra) {
        (Some(path), extra) => {
            let entry = read_bounded(path, ENTRY_FILE_BYTES_MAX, "entry file")?;
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
    let what = format!("proof file {shown}, entry {}", proof.index);
    let cp = trust.verify_checkpoint(
        &proof.checkpoint,
        origin,
        &format!("{what}: the proof's checkpoint"),
    )?;
    verify_inclusion(
        &leaf,
        proof.index,
        cp.checkpoint.size,
        &proof.proof,
        &cp.checkpoint.root,
    )
    .map_err(TlogProofError::Proof)
    .invalid(what)?;
    let (signers, epoch) = match trust {
        Trust::Keys(policy) => (format!("{} trusted keys", policy.keys().len()), None),
        Trust::Network(policy) => {
            let roster = policy.history().roster_for(cp.checkpoint.size.0);
            (
                format!(
                    "{} validators of epoch {}",
                    roster.validators().count(),
                    roster.epoch
                ),
                Some(roster.epoch),
            )
        }
    };
    eprintln!(
        "checkpoint: origin {}, size {}, signed by {} of the {signers} ({})",
        cp.checkpoint.origin,
        cp.checkpoint.size,
        cp.verified.signers.len(),
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
        epoch,
    })
}
