//! libFuzzer target `merkle_verify`: see `bansos_fuzz::merkle_verify` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::merkle_verify(data));
