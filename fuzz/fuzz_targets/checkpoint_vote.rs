//! libFuzzer target `checkpoint_vote`: see `bansos_fuzz::node::checkpoint_vote` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bansos_fuzz::node::checkpoint_vote(data));
