//! End-to-end tests of the `bansos-verify` binary: it audits logs served from 127.0.0.1 and
//! checks tlog-proof files, and must fail, naming the culprit, on every kind of tampering.

mod governance;
mod log;
mod proof;
mod support;

use std::path::Path;

/// Every Rust file of the crate says what it is for in a `//!` first line.
#[test]
fn every_file_starts_with_a_module_doc() {
    fn walk(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    walk(&root.join("tests"), &mut files);
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//! "),
            "{} does not start with a //! line",
            file.display()
        );
    }
}
