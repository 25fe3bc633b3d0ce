//! Local networks and demo data for Bansos Ledger.
//!
//! [`demo`] makes a demo genesis (Kemensos, Kemenkeu, BRI, PT Pos) and a realistic stream of
//! blocks: programs, allocations over the real kabupaten/kota codes in proportion to their
//! population (`data/population.csv`, from Kemendagri via cahyadsn/wilayah, MIT), claims,
//! returns and revocations. All people in it are synthetic.

pub mod demo;
