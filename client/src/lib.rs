//! The operator client of Bansos Ledger: how ministries and banks use the network every day
//! (keys, registry import, allocations, QR receipts and letters, claims, offline outlets).
//!
//! Nothing is implemented yet: this crate arrives with issue #4, on top of the validator
//! network's write API (issue #3). Every byte format it will produce (signed transactions,
//! commitments, receipts) is already defined in `bansos-verifier`; this crate must not define
//! another.
