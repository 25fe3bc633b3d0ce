//! libFuzzer target `witness`: see `bansos_fuzz::witness` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::witness(data));
