//! End-to-end tests of Bansos Ledger: they run the real binaries (`bansos-testnet`,
//! `bansos-node`, `bansos-verify`) as separate processes on 127.0.0.1 and stop every process
//! they start. This library holds the shared process helpers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::SystemTime;

/// Path of a workspace binary. `cargo test --workspace` builds every binary first; when a test
/// runs alone (`cargo test -p bansos-tests`) and a source file is newer than the binary, the
/// workspace's binaries are rebuilt here, so a test never runs a stale binary of another package.
pub fn binary(name: &str) -> PathBuf {
    // Test executables live in target/<profile>/deps; binaries in target/<profile>.
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile directory")
        .to_path_buf();
    let path = dir.join(name);
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    if built.is_none_or(|b| newest_source(root).is_some_and(|s| s > b)) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args([
            "build",
            "--quiet",
            "--profile",
            "test",
            "--workspace",
            "--bins",
        ]);
        // Cargo gives a test process variables of its own (CARGO_PKG_*, LD_LIBRARY_PATH, ...);
        // build scripts that watch the environment would see a change and rebuild, and the next
        // `cargo test` would rebuild back. Build with the environment the test was started from.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().to_string();
            let from_cargo =
                (key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR")
                    || matches!(
                        key.as_str(),
                        "LD_LIBRARY_PATH" | "OUT_DIR" | "RUST_TEST_THREADS"
                    );
            if from_cargo {
                build.env_remove(&key);
            }
        }
        let status = build.status().expect("running cargo build");
        assert!(
            status.success(),
            "building the workspace's binaries for {name}"
        );
    }
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Modification time of the newest Rust source or manifest of the workspace.
fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        let t = if path.is_dir() {
            if name == "target" || name.starts_with('.') || name == "fuzz" || name == "node_modules"
            {
                continue;
            }
            newest_source(&path)
        } else if name.ends_with(".rs") || name == "Cargo.toml" {
            entry.metadata().ok().and_then(|m| m.modified().ok())
        } else {
            None
        };
        newest = newest.max(t);
    }
    newest
}

/// A child process that is killed when dropped, so a failing test leaves nothing running.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
