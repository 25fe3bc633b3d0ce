//! The properties the fuzz targets check (docs/FUZZING.md), one function per target: the
//! parsers of untrusted bytes in `bansos-verifier` ([`verifier`], re-exported here) and the
//! node's parsers of peer and client input ([`node`]).
//!
//! Each module is also included by its crate's property test (`verifier/tests/` and
//! `node/tests/parsers_never_panic.rs`), which runs the same functions under proptest in
//! ordinary CI; so neither module refers to the other.

pub mod node;
pub mod verifier;

pub use verifier::*;
