//! The trust base of Bansos Ledger: every byte format defined once, and the checks a citizen,
//! a journalist or a validator runs on them.
//!
//! It owns the RFC 6962 Merkle math (hashes, inclusion and consistency proofs, proofs built
//! from any source of subtree hashes), the C2SP formats (signed notes with Ed25519 signatures and
//! timestamped cosignatures, tlog-checkpoint bodies, tlog-tiles paths, hash tiles and entry
//! bundles, tlog-proof bundles, tlog-witness requests), the ledger's canonical binary encoding of entries and
//! signed transactions, the beneficiary commitment, the keyed dedup tag, the claim lock, the
//! recipient's receipt, the citizen's trust policy and check of their own receipt (`citizen`), and
//! calendar dates for people.
//!
//! It does no I/O: no files, sockets, clock or random source. Time, keys and randomness are
//! parameters, so the same code runs in a validator, in the CLI, and under a fuzzer.

pub mod checkpoint;
pub mod citizen;
pub mod commitment;
pub mod entry;
pub mod governance;
pub mod hash;
pub mod merkle;
pub mod note;
pub mod policy;
#[cfg(feature = "qr-image")]
pub mod qr_image;
pub mod receipt;
pub mod tile;
pub mod time;
pub mod tlog_proof;
pub mod tlog_witness;

mod codec;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use hash::{Hash, LeafIndex, TreeSize};
pub use merkle::ProofError;
pub use note::{NoteError, Policy, VerifierKey};
