//! A tiny HTTP/1.1 server on 127.0.0.1 for the CLI tests: serves a shared map of paths to bytes
//! under one URL prefix, answers 404 for anything else, closes every connection, and records
//! what was asked. It stops when dropped.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::gzip;

/// The URL path under which the log is served, to show that the client joins prefix and path.
pub const PREFIX: &str = "/logs/bansos";
/// Longest request head read (request line and headers).
const REQUEST_HEAD_BYTES_MAX: usize = 16 * 1024;
/// A stuck client cannot hold the server longer than this.
const READ_TIMEOUT_MS: u64 = 5_000;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The path below [`PREFIX`] (or the whole path if it is not under it).
    pub path: String,
    /// The `Accept-Encoding` header, if any.
    pub accept_encoding: Option<String>,
}

/// A running server; dropping it stops the thread.
pub struct TestServer {
    addr: SocketAddr,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Serves `files` (paths without a leading slash, e.g. `tile/0/000`) under [`PREFIX`].
    pub fn start(files: BTreeMap<String, Vec<u8>>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let files = Arc::new(Mutex::new(files));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (files, seen, stop) = (files.clone(), seen.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        // A broken connection is the client's business; keep serving.
                        let _ = serve(stream, &files, &seen);
                    }
                }
            })
        };
        TestServer {
            addr,
            files,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// The log's URL prefix, with a trailing slash when `slash`.
    pub fn url(&self, slash: bool) -> String {
        format!(
            "http://{}{PREFIX}{}",
            self.addr,
            if slash { "/" } else { "" }
        )
    }

    /// The served files, to change between runs.
    pub fn files(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.files.lock().unwrap()
    }

    /// The requests served so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("test server thread panicked");
        }
    }
}

fn serve(
    stream: TcpStream,
    files: &Mutex<BTreeMap<String, Vec<u8>>>,
    seen: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_millis(READ_TIMEOUT_MS)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut accept_encoding = None;
    let mut head_bytes = request_line.len();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(()); // the client went away (or the stop wake-up connection)
        }
        head_bytes += line.len();
        if head_bytes > REQUEST_HEAD_BYTES_MAX {
            return respond(stream, "431 Request Header Fields Too Large", &[], &[]);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("accept-encoding")
        {
            accept_encoding = Some(value.trim().to_owned());
        }
    }
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return respond(stream, "400 Bad Request", &[], &[]);
    };
    let path = target
        .strip_prefix(PREFIX)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(target)
        .to_owned();
    seen.lock().unwrap().push(Seen {
        path: path.clone(),
        accept_encoding,
    });
    if method != "GET" {
        return respond(stream, "405 Method Not Allowed", &[], &[]);
    }
    let body = files.lock().unwrap().get(&path).cloned();
    match body {
        // tlog-tiles: entry bundles "SHOULD be compressed at the HTTP layer", and a log "MAY use
        // Content-Encoding: gzip with no negotiation". Do so, to show the client copes.
        Some(body) if path.starts_with("tile/entries/") => respond(
            stream,
            "200 OK",
            &[("Content-Encoding", "gzip")],
            &gzip::stored(&body),
        ),
        Some(body) if path == "checkpoint" => respond(
            stream,
            "200 OK",
            &[("Content-Type", "text/plain; charset=utf-8")],
            &body,
        ),
        Some(body) => respond(
            stream,
            "200 OK",
            &[("Content-Type", "application/octet-stream")],
            &body,
        ),
        None => respond(stream, "404 Not Found", &[], b"not found\n"),
    }
}

fn respond(
    mut stream: TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Write)
}
