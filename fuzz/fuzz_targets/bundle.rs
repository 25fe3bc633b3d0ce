//! libFuzzer target `bundle`: see `bansos_fuzz::bundle` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::bundle(data));
