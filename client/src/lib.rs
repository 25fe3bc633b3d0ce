//! The operator client of Bansos Ledger: how ministries and banks use the network every day
//! (keys, registry import, allocations, QR receipts and letters, claims, offline outlets).
//!
//! Being built (issue #4), on top of the validator network's write API (docs/API.md). Today:
//! [`regions`] (the embedded Kemendagri region codes and the NIK checks), [`registry`] (a
//! registry export checked row by row), [`store`] (the local receipts store), [`api`] (the
//! validators' API with failover) and [`import`] (`allocate`: a registry export becomes
//! allocations, resumably). Every byte format it produces (signed transactions,
//! commitments, receipts) is defined in `bansos-verifier`; this crate defines no other.

pub mod api;
pub mod claim;
pub mod import;
pub mod letters;
pub mod pdf;
pub mod proof;
pub mod qr;
pub mod regions;
pub mod registry;
pub mod store;
