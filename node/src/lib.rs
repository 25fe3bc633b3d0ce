//! The validator daemon of Bansos Ledger. Consensus, the mempool and the write API arrive with
//! the validator network (issue #3); what exists today is the public read API ([`http`]):
//! `/checkpoint` and the C2SP tlog-tiles paths, served from a redb store.
//!
//! The daemon owns I/O (sockets, files, signals); every rule it applies and every byte format it
//! serves comes from `bansos-ledger` and `bansos-verifier`.

pub mod consensus;
pub mod http;
pub mod live;
pub mod node;
pub mod write;
