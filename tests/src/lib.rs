//! End-to-end tests of Bansos Ledger: they run the real binaries (`bansos-testnet`,
//! `bansos-node`, `bansos-verify`) as separate processes on 127.0.0.1 and stop every process
//! they start. This library holds the shared process helpers.

use std::path::PathBuf;
use std::process::{Child, Command};

/// Path of a workspace binary, building it first if `cargo test` has not.
pub fn binary(name: &str) -> PathBuf {
    // Test executables live in target/<profile>/deps; binaries in target/<profile>.
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile directory")
        .to_path_buf();
    let path = dir.join(name);
    if !path.exists() {
        let package = match name {
            "bansos-verify" => "bansos-verify",
            "bansos-node" => "bansos-node",
            "bansos-testnet" => "bansos-testnet",
            other => panic!("unknown binary {other}"),
        };
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", package])
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building {package}");
    }
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A child process that is killed when dropped, so a failing test leaves nothing running.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
