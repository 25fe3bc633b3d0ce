//! The validator daemon of Bansos Ledger: Malachite consensus behind one module
//! ([`consensus`]), the node's start-up and configuration ([`node`]), the public read API
//! ([`http`]: `/checkpoint`, the C2SP tlog-tiles paths, proofs, allocations, stats) and the
//! write API ([`write`]: transactions, status, metrics; bodies read within a bound by [`body`])
//! over a redb store, and the state the consensus loop and the API share ([`live`]); witnesses'
//! cosignatures on the served checkpoint ([`witness`]).
//!
//! The daemon owns I/O (sockets, files, signals); every rule it applies and every byte format it
//! serves comes from `bansos-ledger` and `bansos-verifier`.

pub mod body;
pub mod consensus;
pub mod dashboard_page;
pub mod http;
pub mod journal;
pub mod limits;
pub mod live;
pub mod node;
pub mod verify_page;
pub mod witness;
pub mod write;
