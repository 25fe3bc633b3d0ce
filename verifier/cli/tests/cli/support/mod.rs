//! Test support: a local HTTP server, test-log builders, and a runner for the real binary.

pub mod builder;
pub mod governance;
pub mod gzip;
pub mod server;

use std::process::Command;

/// What one run of `bansos-verify` did.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the binary with `args`. Proxy settings are removed so that nothing leaves 127.0.0.1.
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bansos-verify"));
    cmd.args(args);
    for var in [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("run bansos-verify");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

impl Run {
    /// Asserts success and that the last stdout line is `expected`.
    pub fn assert_ok(&self, expected: &str) {
        assert_eq!(self.code, 0, "expected success; stderr:\n{}", self.stderr);
        assert_eq!(
            self.stdout.lines().last(),
            Some(expected),
            "stdout:\n{}",
            self.stdout
        );
    }

    /// Asserts exit code `code`, nothing on stdout, and a last stderr line containing every
    /// one of `needles`.
    pub fn assert_fails(&self, code: i32, needles: &[&str]) {
        let last = self.stderr.lines().last().unwrap_or("");
        assert_eq!(self.code, code, "exit code; stderr:\n{}", self.stderr);
        assert!(self.stdout.is_empty(), "stdout on failure: {}", self.stdout);
        for needle in needles {
            assert!(
                last.contains(needle),
                "{needle:?} not in the last stderr line {last:?}; stderr:\n{}",
                self.stderr
            );
        }
    }
}

/// `--key` arguments for `signers`.
pub fn key_args(signers: &[builder::Signer]) -> Vec<String> {
    signers
        .iter()
        .flat_map(|s| ["--key".to_string(), s.vkey()])
        .collect()
}
