//! Writes seed corpora for every fuzz target from the golden vectors (and, for the node's
//! targets, from its example consensus messages and test validators):
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seed_corpus
//! ```
//!
//! Files go to `fuzz/corpus/<target>/golden-<n>` (git-ignored), where `cargo fuzz run <target>`
//! picks them up.

use std::path::Path;

fn main() {
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vectors = fuzz_dir.join("../testdata/vectors");
    let mut all = bansos_fuzz::seeds(&vectors);
    all.extend(bansos_fuzz::node::seeds(&vectors));
    for (target, seeds) in all {
        let dir = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        for (n, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("golden-{n:03}")), seed).expect("write a seed");
        }
        println!("{target}: {} seeds in {}", seeds.len(), dir.display());
    }
}
