//! The repository stands on its own: no tracked file refers to a path above the repository root
//! (a folder that sits beside a checkout on one machine, such as a folder of notes) or to an
//! absolute path on someone's machine. A clone of the repository alone must build, test, run
//! the demo and read well.
//!
//! Every relative path written with `../` is resolved from the places such paths are relative
//! to in this code base — the file's own folder and its package (the nearest `Cargo.toml` or
//! `package.json`, as `CARGO_MANIFEST_DIR` and npm scripts use) — and must, from one of them,
//! name something that exists inside the repository; a path that exists nowhere inside and
//! climbs out of the root from some base is refused.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The repository's tracked files, relative to `root`; if `root` is not a git checkout (a source
/// tarball), every file under it but build outputs and installed packages.
fn tracked_files(root: &Path) -> Vec<PathBuf> {
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output();
    if let Ok(out) = listed
        && out.status.success()
    {
        return out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect();
    }
    let mut files = Vec::new();
    walk(root, root, &mut files);
    files
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable folder").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | "demo")
                && !name.starts_with('.')
            {
                walk(root, &path, out);
            }
        } else {
            out.push(path.strip_prefix(root).expect("under root").to_path_buf());
        }
    }
}

/// Characters that may continue a path written in source or prose.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-')
}

/// Every relative path in `text` that starts with `../`, up to the first character that cannot
/// be part of a path.
fn parent_relative_paths(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("../") {
        let start = from + at;
        let len = text[start..]
            .find(|c: char| !is_path_char(c))
            .unwrap_or(text.len() - start);
        found.push(&text[start..start + len]);
        from = start + len.max(3);
    }
    found
}

/// `rel` resolved from `base` (both relative to the repository root): `None` when it climbs out
/// of the root.
fn resolve(base: &Path, rel: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> = base
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for c in Path::new(rel).components() {
        match c {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    Some(parts.iter().collect())
}

/// The folders a relative path in `file` can be relative to: its own folder and the package it
/// belongs to (the nearest folder with a `Cargo.toml` or `package.json`; the repository root at
/// the latest).
fn bases(root: &Path, file: &Path) -> Vec<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let package = dir
        .ancestors()
        .find(|a| {
            let at = root.join(a);
            at.join("Cargo.toml").is_file() || at.join("package.json").is_file()
        })
        .unwrap_or(Path::new(""))
        .to_path_buf();
    vec![dir, package]
}

/// Why a path written in `file` leaves the repository, or `None` when it stays inside.
fn escapes(root: &Path, file: &Path, rel: &str) -> Option<String> {
    let resolved: Vec<Option<PathBuf>> =
        bases(root, file).iter().map(|b| resolve(b, rel)).collect();
    let names_something_inside = resolved.iter().flatten().any(|p| root.join(p).exists());
    let climbs_out = resolved.iter().any(Option::is_none);
    (climbs_out && !names_something_inside).then(|| {
        format!(
            "{}: `{rel}` points above the repository root",
            file.display()
        )
    })
}

/// Absolute paths into someone's home or work folder.
fn machine_paths(text: &str) -> Vec<&str> {
    // Written without their slashes, so that this file does not name them.
    const FOLDERS: [&str; 4] = ["work", "home", "root", "Users"];
    let mut found = Vec::new();
    for folder in FOLDERS {
        for (at, _) in text.match_indices(&format!("/{folder}/")) {
            let before = text[..at].chars().next_back();
            if before.is_none_or(|c| !is_path_char(c) && c != ':' && c != '~') {
                let len = text[at..]
                    .find(|c: char| !is_path_char(c))
                    .unwrap_or(text.len() - at);
                found.push(&text[at..at + len]);
            }
        }
    }
    found
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

#[test]
fn no_tracked_file_refers_outside_the_repository() {
    let root = repo_root();
    let files = tracked_files(&root);
    assert!(
        files.len() > 200,
        "found only {} files under {}",
        files.len(),
        root.display()
    );
    let mut problems = Vec::new();
    let mut text_files = 0;
    for file in &files {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue; // binary (PNG, fonts): no paths to follow
        };
        text_files += 1;
        for rel in parent_relative_paths(&text) {
            problems.extend(escapes(&root, file, rel));
        }
        for abs in machine_paths(&text) {
            problems.push(format!(
                "{}: `{abs}` is a path on one machine",
                file.display()
            ));
        }
    }
    assert!(text_files > 200, "read only {text_files} text files");
    assert!(problems.is_empty(), "{problems:#?}");
}

// The checks themselves, on cases that must and must not be refused. The offending paths are
// built at run time so that this file does not trip its own test.

#[test]
fn a_link_beside_the_checkout_is_refused() {
    let root = repo_root();
    let beside = format!("{}/notes-beside/BRIEF.md", "..");
    let text = format!("See [the brief]({beside}).");
    let found = parent_relative_paths(&text);
    assert_eq!(found, [beside.as_str()]);
    assert!(escapes(&root, Path::new("README.md"), found[0]).is_some());
    assert!(escapes(&root, Path::new("docs/FORMAT.md"), &format!("../{beside}")).is_some());
}

#[test]
fn a_crate_relative_path_out_of_the_repository_is_refused() {
    let root = repo_root();
    // Written in verifier/tests/x.rs as CARGO_MANIFEST_DIR.join(...): from the file's folder it
    // lands inside the repository but names nothing there; from the crate it climbs out.
    let rel = format!("{}/../notes-beside/vectors/merkle", "..");
    assert!(escapes(&root, Path::new("verifier/tests/x.rs"), &rel).is_some());
    let abs = format!("{}work/notes-beside/vectors", "/");
    assert_eq!(machine_paths(&format!("(`{abs}`)")), [abs.as_str()]);
}

#[test]
fn paths_inside_the_repository_pass() {
    let root = repo_root();
    // `up(n)` climbs n folders; written so, these paths do not climb out of this file's folder.
    let up = |n: usize| "../".repeat(n);
    for (file, rel) in [
        ("verifier/web/fixtures/x.mjs", up(3) + "testdata/vectors"),
        ("verifier/tests/x.rs", up(1) + "testdata/rfc6962"),
        ("node/src/x.rs", up(2) + "verifier/web/dist/verify.html"),
        ("docs/X.md", up(1) + "ARCHITECTURE.md"),
        ("scripts/x.sh", up(1) + "verifier/web"),
        // A path relative to something at run time (a node's folder) that stays inside.
        ("testnet/src/x.rs", up(1) + "genesis.json"),
        // Not a path at all (a regular expression), and harmless.
        ("verifier/web/src/x.js", up(1) + "g"),
    ] {
        assert_eq!(escapes(&root, Path::new(file), &rel), None, "{file}: {rel}");
    }
    assert!(
        machine_paths("https://example.org/home/x and ~/work/x and /usr/bin/chromium").is_empty()
    );
}
