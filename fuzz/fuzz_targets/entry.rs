//! libFuzzer target `entry`: see `bansos_fuzz::entry` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::entry(data));
