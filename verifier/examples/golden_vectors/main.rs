//! Writes the golden test vectors of every byte format (docs/FORMAT.md) into a directory:
//!
//! ```text
//! cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors
//! ```
//!
//! Everything comes from fixed seeds, so the files are the same on every machine; the test
//! `verifier/tests/golden.rs` fails when the committed files and this generator disagree.

mod generate;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "testdata/vectors".into()));
    if args.next().is_some() {
        eprintln!("usage: golden_vectors [DIR]   (default: testdata/vectors)");
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (name, text) in generate::all() {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
