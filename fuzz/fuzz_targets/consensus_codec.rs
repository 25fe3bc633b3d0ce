//! libFuzzer target `consensus_codec`: see `bansos_fuzz::node::consensus_codec` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::node::consensus_codec(data));
