//! Log benchmarks on redb: durable appends in batches of 1,000 entries, and inclusion proof
//! generation from logs of 10^6 and 10^7 entries. Results: docs/BENCHMARKS.md.

use std::hint::black_box;
use std::path::Path;

use bansos_ledger::conformance::Xorshift;
use bansos_ledger::log::{LogReader, LogWriter};
use bansos_ledger::store::{LedgerStore, LogRead, StateDelta};
use bansos_store::RedbStore;
use bansos_verifier::hash::{LeafIndex, TreeSize};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// Size of an encoded allocation leaf (see docs/FORMAT.md): the realistic entry.
const ENTRY_BYTES: usize = 230;
const BATCH: usize = 1_000;

fn entries(start: u64, n: usize, len: usize) -> Vec<Vec<u8>> {
    (0..n as u64)
        .map(|i| {
            let mut e = vec![0u8; len];
            e[..8].copy_from_slice(&(start + i).to_be_bytes());
            e
        })
        .collect()
}

fn append_durable(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RedbStore::open(&dir.path().join("bench.redb")).unwrap();
    let mut writer = LogWriter::empty();
    let mut g = c.benchmark_group("log_append_redb");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(30);
    let next_entry = std::cell::Cell::new(0u64);
    g.bench_function("durable_batch_1000x230B", |b| {
        b.iter_batched(
            || {
                let start = next_entry.get();
                next_entry.set(start + BATCH as u64);
                entries(start, BATCH, ENTRY_BYTES)
            },
            |batch| {
                let (log_batch, next) = writer.append::<bansos_store::StoreError>(&batch).unwrap();
                store.commit(&log_batch, &StateDelta::default()).unwrap();
                writer = next;
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// Builds (once, cached under target/) a redb log of `n` small entries.
fn prepared_log(n: u64, cache_bytes: usize) -> RedbStore {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-logs");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("log-{n}.redb"));
    let mut store = RedbStore::open_with_cache(&path, cache_bytes).unwrap();
    let mut writer = LogWriter::open(&store).unwrap();
    while writer.size().0 < n {
        let k = (n - writer.size().0).min(100_000) as usize;
        let (batch, next) = writer
            .append::<bansos_store::StoreError>(&entries(writer.size().0, k, 32))
            .unwrap();
        store.commit(&batch, &StateDelta::default()).unwrap();
        writer = next;
    }
    store
}

fn inclusion_proofs(c: &mut Criterion) {
    let mut g = c.benchmark_group("inclusion_proof_redb");
    // redb's default 1 GiB page cache, and 4 GiB: the 10^7 log's file is 1.3 GB (tiles are
    // 64 bytes an entry, the 32-byte test entries 34), so only the second holds it all.
    for (n, cache_gib) in [(1_000_000u64, 1usize), (10_000_000, 1), (10_000_000, 4)] {
        let store = prepared_log(n, cache_gib << 30);
        let snapshot = store.snapshot().unwrap();
        let reader = LogReader::new(&snapshot).unwrap();
        assert_eq!(reader.size(), TreeSize(n));
        // Warm the cache: read every level-0 tile once, as a serving node soon would.
        for t in 0..n / 256 {
            black_box(snapshot.tile(0, t).unwrap());
        }
        let mut rng = Xorshift(7);
        g.bench_function(format!("random_leaf_of_{n}_cache_{cache_gib}GiB"), |b| {
            b.iter(|| {
                let i = rng.below(n);
                black_box(reader.inclusion_proof(LeafIndex(i), TreeSize(n)).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, append_durable, inclusion_proofs);
criterion_main!(benches);
