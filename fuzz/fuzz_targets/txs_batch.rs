//! libFuzzer target `txs_batch`: see `bansos_fuzz::node::txs_batch` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::node::txs_batch(data));
