//! Local networks and demo data for Bansos Ledger.
//!
//! [`demo`] makes a demo genesis (Kemensos, Kemenkeu, BRI, PT Pos) and a realistic stream of
//! transactions: programs, allocations over the real kabupaten/kota codes in proportion to their
//! population (`data/population.csv`, from Kemendagri via cahyadsn/wilayah, MIT), claims,
//! returns and revocations. All people in it are synthetic. [`layout`] fixes how a local testnet
//! sits on disk and on 127.0.0.1 (`testnet.json`, `node.toml`, ports); [`batch`] and [`stats`]
//! are the pure parts of submitting and measuring.
//!
//! This library reads no clock and opens no file or socket: times and randomness are
//! parameters. Starting processes, HTTP and signals live in the `bansos-testnet` binary.

pub mod batch;
pub mod calendar;
pub mod demo;
pub mod layout;
pub mod stats;
