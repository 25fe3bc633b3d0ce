//! libFuzzer target `note`: see `bansos_fuzz::note` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::note(data));
