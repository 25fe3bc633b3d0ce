//! `bansos-testnet flood`: an outsider posting junk to the write API — allocations that name
//! real members (their ids are public) under signatures nobody made — as fast as the
//! validators answer, from a source address of its own (127.0.0.2 by default, so that the
//! validators' per-address limits see it apart from the load tool on 127.0.0.1).
//!
//! Plain HTTP/1.1 on a socket bound to the source address before it connects (ureq cannot
//! choose its source address); one keep-alive connection per validator.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use socket2::{Domain, Socket, Type};

use crate::files::read_testnet;
use crate::load::junk;

/// What `flood` was asked for.
pub struct FloodArgs {
    /// The testnet directory.
    pub dir: PathBuf,
    /// The address the junk comes from.
    pub source: IpAddr,
    /// How long to flood.
    pub duration: Duration,
    /// Transactions per batch.
    pub batch: usize,
}

/// One validator's connection.
struct Target {
    addr: SocketAddr,
    host: String,
    conn: Option<BufReader<TcpStream>>,
}

fn connect(source: IpAddr, addr: SocketAddr) -> std::io::Result<BufReader<TcpStream>> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.bind(&SocketAddr::new(source, 0).into())?;
    socket.connect_timeout(&addr.into(), Duration::from_secs(2))?;
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok(BufReader::new(stream))
}

/// Posts `body` to `/v1/txs`; the answer's status code.
fn post(source: IpAddr, t: &mut Target, body: &[u8]) -> std::io::Result<u16> {
    if t.conn.is_none() {
        t.conn = Some(connect(source, t.addr)?);
    }
    let conn = t.conn.as_mut().expect("connected");
    let head = format!(
        "POST /v1/txs HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        t.host,
        body.len()
    );
    let stream = conn.get_mut();
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut line = String::new();
    conn.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {line:?}")))?;
    let mut length = 0usize;
    let mut close = false;
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("the answer is cut short"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "connection" => close = v.trim().eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    let mut skip = vec![0; length];
    conn.read_exact(&mut skip)?;
    if close {
        t.conn = None;
    }
    Ok(status)
}

/// `bansos-testnet flood`.
pub fn flood(args: FloodArgs) -> anyhow::Result<()> {
    let t = read_testnet(&args.dir)?;
    let txs = junk(&args.dir, &t.genesis, args.batch)?;
    let body = bansos_testnet::batch::encode(txs.iter().map(Vec::as_slice));
    let mut targets = Vec::new();
    for n in &t.nodes {
        let host = n.http.trim_start_matches("http://").trim_end_matches('/');
        let addr = host
            .to_socket_addrs()
            .with_context(|| format!("{}: {host} is not an address", n.name))?
            .next()
            .with_context(|| format!("{}: {host} has no address", n.name))?;
        targets.push(Target {
            addr,
            host: host.to_string(),
            conn: None,
        });
    }
    // Refuse a source this machine cannot send from before flooding anything.
    connect(args.source, targets[0].addr)
        .with_context(|| format!("sending from {} to {}", args.source, targets[0].addr))?;
    println!(
        "flood: batches of {} junk transactions from {} to {} validators for {} s",
        args.batch,
        args.source,
        targets.len(),
        args.duration.as_secs()
    );
    let (mut sent, mut refused, mut answered, mut failed) = (0u64, 0u64, 0u64, 0u64);
    let end = Instant::now() + args.duration;
    let mut i = 0;
    while Instant::now() < end {
        let target = &mut targets[i % t.nodes.len()];
        i += 1;
        match post(args.source, target, &body) {
            Ok(429) => refused += 1,
            Ok(_) => answered += 1,
            Err(_) => {
                target.conn = None;
                failed += 1;
            }
        }
        sent += 1;
    }
    println!(
        "flood: {sent} batches ({} transactions): {answered} looked at, {refused} refused with \
         429, {failed} failed",
        sent * args.batch as u64
    );
    Ok(())
}
