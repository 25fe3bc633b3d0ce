//! End-to-end tests of Bansos Ledger: they run the real binaries (`bansos-testnet`,
//! `bansos-node`, `bansos-verify`) as separate processes on 127.0.0.1 and stop every process
//! they start. This library holds the shared process helpers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use bansos_verifier::hash::Hash;
use bansos_verifier::note::SignerKey;
use serde_json::Value;

/// Path of a workspace binary. `scripts/test.sh` builds every binary first; when one is missing,
/// or a test runs alone (`cargo test -p bansos-tests`) and a source file is newer than it, the
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
        // Every target, as `cargo test --workspace` builds them: with `--bins` alone, cargo
        // would resolve the dependencies' features without the dev-dependencies and compile
        // them all again, and the next `cargo test` would compile them back.
        build.args([
            "build",
            "--quiet",
            "--profile",
            "test",
            "--workspace",
            "--all-targets",
        ]);
        // Cargo gives a test process variables of its own (CARGO_PKG_*, LD_LIBRARY_PATH, ...);
        // build scripts that watch the environment would see a change and rebuild, and the next
        // `cargo test` would rebuild back. Build with the environment the test was started from.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().to_string();
            let from_cargo = (key.starts_with("CARGO_")
                && !matches!(
                    key.as_str(),
                    "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_INCREMENTAL"
                ))
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

/// Stops the testnet when dropped, so a failing test leaves nothing running.
pub struct Testnet {
    /// Its directory.
    pub dir: PathBuf,
    /// testnet.json.
    pub info: Value,
}

impl Drop for Testnet {
    fn drop(&mut self) {
        let _ = Command::new(binary("bansos-testnet"))
            .args(["down", "--grace", "3", "--dir"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Testnet {
    /// Runs `bansos-testnet up --detach` with 4 validators in `dir`, HTTP ports from `base_port`, `demo` demo transactions.
    pub fn up(dir: &Path, base_port: u16, demo: usize) -> Testnet {
        Testnet::up_with(dir, base_port, demo, &[])
    }

    /// [`Testnet::up`] with more arguments of `up` (`--netns`).
    pub fn up_with(dir: &Path, base_port: u16, demo: usize, more: &[&str]) -> Testnet {
        let out = Command::new(binary("bansos-testnet"))
            .args(["up", "--validators", "4", "--detach", "--seed", "7"])
            .args(more)
            .args(["--base-port", &base_port.to_string()])
            .args(["--demo", &demo.to_string()])
            .arg("--dir")
            .arg(dir)
            .env("BANSOS_NODE_BIN", binary("bansos-node"))
            .output()
            .expect("running bansos-testnet up");
        let mut t = Testnet {
            dir: dir.to_path_buf(),
            info: Value::Null,
        };
        assert!(
            out.status.success(),
            "bansos-testnet up failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        t.reload();
        t
    }

    /// Reads testnet.json again (after `start` changed a pid).
    pub fn reload(&mut self) {
        let text = std::fs::read_to_string(self.dir.join("testnet.json")).expect("testnet.json");
        self.info = serde_json::from_str(&text).expect("testnet.json is JSON");
    }

    /// Every validator's HTTP base URL.
    pub fn urls(&self) -> Vec<String> {
        self.info["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["http"].as_str().expect("http").to_string())
            .collect()
    }

    /// A validator's HTTP base URL by member name.
    pub fn url(&self, name: &str) -> String {
        self.info["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|n| n["name"] == name)
            .map(|n| n["http"].as_str().expect("http").to_string())
            .expect("node by name")
    }

    /// Runs `bansos-testnet <args> --dir <dir>`, asserts it succeeded and returns its stdout.
    pub fn testnet(&self, args: &[&str]) -> String {
        let out = Command::new(binary("bansos-testnet"))
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .output()
            .expect("running bansos-testnet");
        assert!(
            out.status.success(),
            "bansos-testnet {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A member's private key from the testnet's keys/.
    pub fn key(&self, name: &str) -> SignerKey {
        let text =
            std::fs::read_to_string(self.dir.join("keys").join(format!("{name}.key"))).unwrap();
        SignerKey::parse(text.trim()).expect("key file")
    }

    /// The network id (SHA-256 of genesis.json).
    pub fn network_id(&self) -> bansos_verifier::entry::NetworkId {
        let bytes = std::fs::read(self.dir.join("genesis.json")).unwrap();
        bansos_verifier::entry::NetworkId(Hash::digest(&bytes).0)
    }
}

/// An HTTP agent that returns error statuses as responses.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// A counter or gauge of a validator's `/metrics`.
pub fn metric(url: &str, name: &str) -> u64 {
    let text = agent()
        .get(&format!("{url}/metrics"))
        .call()
        .expect("GET /metrics")
        .body_mut()
        .read_to_string()
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// GETs JSON; a node that does not answer gives status 0.
pub fn get(url: &str) -> (u16, Value) {
    let Ok(mut r) = agent().get(url).call() else {
        return (0, Value::Null);
    };
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// POSTs bytes; returns the status, the JSON body and Retry-After.
pub fn post(url: &str, body: &[u8]) -> (u16, Value, Option<String>) {
    let mut r = agent()
        .post(url)
        .header("content-type", "application/octet-stream")
        .send(body)
        .expect("POST");
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or("").to_string());
    let body = r.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::Null),
        retry,
    )
}

/// POSTs bytes with exactly the given headers (no Content-Type unless given); returns the
/// status and the JSON body.
pub fn post_with_headers(url: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut r = req.send(body).expect("POST");
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A validator's /v1/status.
pub fn status(url: &str) -> Value {
    get(&format!("{url}/v1/status")).1
}

/// A validator's log size (0 if it does not answer).
pub fn log_size(url: &str) -> u64 {
    status(url)["log_size"].as_u64().unwrap_or(0)
}

/// A validator's height (0 if it does not answer).
pub fn height(url: &str) -> u64 {
    status(url)["height"].as_u64().unwrap_or(0)
}
/// Waits until `f` holds, or fails with `what`.
pub fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out after {secs} s waiting for: {what}");
}

/// Runs `bansos-client --config <config> <args>`.
pub fn client(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(binary("bansos-client"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("running bansos-client")
}

/// Writes a `bansos-client` configuration for `member` of `net` (dedup key of Kemensos, the
/// first two nodes, receipts in `store`).
pub fn write_client_config(net: &Testnet, path: &Path, store: &str, member: &str) {
    let urls = net.urls();
    std::fs::write(
        path,
        format!(
            "genesis = {:?}\nkey = {:?}\ndedup_key = {:?}\nnodes = [{:?}, {:?}]\nstore = {:?}\n",
            net.dir.join("genesis.json"),
            net.dir.join(format!("keys/{member}.key")),
            net.dir.join("keys/kemensos.dedup-key"),
            urls[1],
            urls[0],
            store
        ),
    )
    .expect("writing a client configuration");
}

/// `bansos-client receipts` of `program` and `period` into `out`: (allocation id, receipt code)
/// of each committed allocation, in the order they were allocated.
pub fn receipt_codes(
    config: &Path,
    program: &str,
    period: &str,
    out: &Path,
) -> Vec<(String, String)> {
    let run = client(
        config,
        &[
            "receipts",
            "--program",
            program,
            "--period",
            period,
            "--out",
            out.to_str().expect("UTF-8 path"),
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(out)
        .expect("the receipts file")
        .lines()
        .map(|l| {
            let (id, code) = l.split_once(' ').expect("id and code");
            (id.to_string(), code.to_string())
        })
        .collect()
}

/// What an [`HttpStub`] answers for a request path (with its query): status and body.
pub type Handler = dyn Fn(&str) -> (u16, Vec<u8>) + Send + Sync;

/// A minimal HTTP/1.1 server on 127.0.0.1 for tests: a fake node, a static mirror, a proxy.
/// GET only, one request per connection. Stopped (its thread joined) when dropped.
pub struct HttpStub {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpStub {
    /// Serves `handler` until dropped.
    pub fn start(handler: std::sync::Arc<Handler>) -> HttpStub {
        use std::io::{BufRead as _, Write as _};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut reader = std::io::BufReader::new(conn.try_clone().expect("clone"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("/");
                let (status, body) = handler(path);
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(&body);
            }
        });
        HttpStub {
            url,
            stop,
            thread: Some(thread),
        }
    }

    /// Serves the files of `dir` (404 for anything else), as any static web server would.
    pub fn files(dir: &Path) -> HttpStub {
        let dir = dir.to_path_buf();
        HttpStub::start(std::sync::Arc::new(move |path: &str| {
            let rel = path.trim_start_matches('/');
            if rel.split('/').any(|c| c == "..") {
                return (400, Vec::new());
            }
            match std::fs::read(dir.join(rel)) {
                Ok(b) => (200, b),
                Err(_) => (404, Vec::new()),
            }
        }))
    }
}

impl Drop for HttpStub {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = std::net::TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
