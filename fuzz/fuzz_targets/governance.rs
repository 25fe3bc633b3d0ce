//! libFuzzer target `governance`: see `bansos_fuzz::governance` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::governance(data));
