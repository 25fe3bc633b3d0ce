//! libFuzzer target `receipt`: see `bansos_fuzz::receipt` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::receipt(data));
