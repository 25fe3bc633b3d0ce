//! libFuzzer target `tlog_proof`: see `bansos_fuzz::tlog_proof` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::tlog_proof(data));
