//! Splits the time of a durable append of 1,000 entries into Merkle work and redb commit.
//! `cargo run --release -p bansos-store --example append_profile`

use std::time::{Duration, Instant};

use bansos_ledger::log::LogWriter;
use bansos_ledger::store::{LedgerStore, StateDelta};
use bansos_store::RedbStore;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RedbStore::open(&dir.path().join("p.redb")).unwrap();
    let mut writer = LogWriter::empty();
    let (mut t_append, mut t_commit) = (Duration::ZERO, Duration::ZERO);
    let mut commits: Vec<Duration> = Vec::new();
    let rounds: u64 = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(300);
    for r in 0..rounds {
        let entries: Vec<Vec<u8>> = (0..1000u64)
            .map(|i| {
                let mut e = vec![0u8; 230];
                e[..8].copy_from_slice(&(r * 1000 + i).to_be_bytes());
                e
            })
            .collect();
        let t = Instant::now();
        let (batch, next) = writer.append::<bansos_store::StoreError>(&entries).unwrap();
        t_append += t.elapsed();
        let t = Instant::now();
        store.commit(&batch, &StateDelta::default()).unwrap();
        t_commit += t.elapsed();
        commits.push(t.elapsed());
        writer = next;
    }
    commits.sort();
    let q = |p: f64| commits[((commits.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    println!(
        "commit latency: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
    let per = |d: Duration| d.as_secs_f64() * 1e3 / rounds as f64;
    println!(
        "per batch of 1000: append {:.3} ms, commit {:.3} ms => {:.0} entries/s",
        per(t_append),
        per(t_commit),
        1000.0 / ((per(t_append) + per(t_commit)) / 1e3)
    );
}
