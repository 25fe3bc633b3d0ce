//! The operator client of Bansos Ledger: how ministries and banks use the network every day
//! (keys, registry import, allocations, QR receipts and letters, claims, offline outlets).
//!
//! Built on the validator network's write API (docs/API.md): [`regions`] (the embedded
//! Kemendagri region codes and the NIK checks), [`registry`] (a registry export checked row by
//! row), [`store`] (the local receipts store), [`api`] (the validators' API with failover),
//! [`import`] (`allocate`: a registry export becomes allocations, resumably), [`letters`] and
//! [`pdf`] (invitation letters), [`qr`] (receipts as QR images and back), [`claim`] (payouts,
//! online or queued offline) and [`proof`] (offline tlog-proof bundles). Every byte format it
//! produces (signed transactions, commitments, receipts) is defined in `bansos-verifier`; this
//! crate defines no other.

pub mod api;
pub mod claim;
pub mod governance;
pub mod import;
pub mod letters;
pub mod pdf;
pub mod proof;
pub mod qr;
pub mod regions;
pub mod registry;
pub mod store;
