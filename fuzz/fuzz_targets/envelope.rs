//! libFuzzer target `envelope`: see `bansos_fuzz::envelope` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::envelope(data));
