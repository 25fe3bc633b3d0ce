//! libFuzzer target `citizen`: see `bansos_fuzz::citizen` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::citizen(data));
