//! The ledger core of Bansos Ledger: the rules as a pure state machine ([`rules`]), the
//! storage-backed Merkle log ([`log`]), the narrow storage interface with an in-memory backend
//! ([`store`]), the validator's ledger that ties them together ([`ledger`]), the bounded
//! [`mempool`], and the
//! conformance suite every storage backend must pass ([`conformance`]).
//!
//! It does no I/O of its own: no tokio, sockets, files, clock or randomness. Storage comes in
//! through the [`store::LedgerStore`] trait; time comes in with each block.

pub mod conformance;
pub mod ledger;
pub mod log;
pub mod mempool;
pub mod rules;
pub mod store;

pub use ledger::{Applied, Ledger, LedgerError, SigningMark};
pub use rules::{Block, BlockOutcome, Rejection};
pub use store::{ConsensusStore, LedgerStore, LogRead, MemoryStore, StateRead, Storage};
