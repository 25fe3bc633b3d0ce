//! libFuzzer target `tile_path`: see `bansos_fuzz::tile_path` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::tile_path(data));
