//! The conformance suite every [`LedgerStore`] backend must pass: the in-memory store runs it
//! in this crate's tests, the redb store in its own. It appends batches of many shapes,
//! "restarts" the backend between batches, and compares everything it can read — sizes, roots
//! at every past size, C2SP tiles and bundles, inclusion and consistency proofs, state records —
//! with an independent naive RFC 6962 computation held in the suite.
//!
//! Failures panic with a message naming the check, as tests expect.

use bansos_verifier::entry::{AllocationId, AmountRule, MemberId, PeriodKind, ProgramCode, Rupiah};
use bansos_verifier::hash::{EMPTY_ROOT, Hash, LeafIndex, TreeSize, leaf_hash, node_hash};
use bansos_verifier::merkle::{verify_consistency, verify_inclusion};
use bansos_verifier::tile::{self, TILE_WIDTH, TileKind, TileRef};

use crate::log::{LogReader, LogWriter};
use crate::store::{
    DecidedRecord, GovernanceState, LedgerStore, LogRead, ProgramState, StateDelta, StatsKey,
    StatsRow, TxLocation,
};
use bansos_verifier::governance::Roster;

/// RFC 6962 MTH by its recursive definition, for reference.
pub fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// A small deterministic generator, so a failing run can be repeated.
pub struct Xorshift(pub u64);

impl Xorshift {
    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

fn entry(i: u64) -> Vec<u8> {
    // Varying lengths, including empty entries and long ones.
    let len = (i * 7919 % 97) as usize * if i.is_multiple_of(50) { 40 } else { 1 };
    let mut e = i.to_be_bytes().to_vec();
    e.resize(len, (i % 251) as u8);
    e
}

/// Runs the whole suite. `fresh` makes an empty backend; `reopen` simulates a restart (drop the
/// handle, open the same data again).
pub fn run<S: LedgerStore>(fresh: impl FnOnce() -> S, mut reopen: impl FnMut(S) -> S) {
    let mut store = fresh();
    assert_eq!(
        store.log_size().unwrap(),
        TreeSize(0),
        "a fresh store is empty"
    );
    assert_eq!(store.height().unwrap(), 0, "a fresh store is at height 0");
    assert!(
        store.tile(0, 0).unwrap().is_none(),
        "a fresh store has no tiles"
    );
    let writer = LogWriter::open(&store).unwrap();
    assert_eq!(writer.root(), EMPTY_ROOT, "empty root");

    let mut rng = Xorshift(0x5eed_1234_abcd_0001);
    let mut leaves: Vec<Hash> = Vec::new();
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let batch_sizes = [1usize, 1, 254, 1, 256, 1000, 3, 0, 2048, 511, 65, 4000, 1];
    let mut height = 0;
    for (round, &n) in batch_sizes.iter().enumerate() {
        let writer = LogWriter::open(&store).unwrap();
        assert_eq!(
            writer.size().0,
            entries.len() as u64,
            "round {round}: size after reopen"
        );
        let new: Vec<Vec<u8>> = (0..n as u64)
            .map(|i| entry(entries.len() as u64 + i))
            .collect();
        let (batch, next) = writer.append::<S::Error>(&new).unwrap();
        height += 1;
        let mut delta = StateDelta {
            height,
            ..Default::default()
        };
        let code = ProgramCode::new(&format!("P{round}")).unwrap();
        delta.programs.insert(
            code.clone(),
            ProgramState {
                issuer: MemberId(round as u16),
                name: format!("Program {round}"),
                period_kind: PeriodKind::Monthly,
                amount: AmountRule::Flat(Rupiah(100 + round as u64)),
            },
        );
        let dedup = Hash::digest(&[round as u8]);
        delta.dedup.insert(dedup);
        let tx = Hash::digest(&[round as u8, 1]);
        delta.txs.insert(
            tx,
            TxLocation {
                height,
                leaf: LeafIndex(entries.len() as u64),
            },
        );
        let stats_key = StatsKey {
            program: ProgramCode::new("PKH").unwrap(),
            period: "2026Q4".into(),
            region: 3171,
            payer: MemberId(2),
            channel: None,
        };
        delta.count(
            stats_key.clone(),
            StatsRow {
                allocations: 1,
                allocated: round as u64,
                ..Default::default()
            },
        );
        let signed = (
            TreeSize(entries.len() as u64 + n as u64),
            Hash::digest(&[round as u8, 2]),
        );
        delta.signed_checkpoint = Some(signed);
        // Every third block a vote changes the governance state; the others leave it as it is.
        let governance = (round % 3 == 0).then(|| {
            let mut roster = Roster::genesis(Vec::new(), Vec::new(), 0, None);
            roster.epoch = round as u64;
            roster.start_size = entries.len() as u64;
            GovernanceState::genesis(roster)
        });
        delta.governance = governance.clone();
        if round % 4 == 1 {
            delta.decided = Some(DecidedRecord {
                epoch_checkpoint: Some((round as u64, vec![round as u8; 3])),
                ..Default::default()
            });
        }
        let governance_before = store.governance().unwrap();
        store.commit(&batch, &delta).unwrap();
        store = reopen(store);
        assert_eq!(
            store.governance().unwrap(),
            governance.or(governance_before),
            "round {round}: governance state"
        );
        for r in 0..=round {
            assert_eq!(
                store.epoch_checkpoint(r as u64).unwrap(),
                (r % 4 == 1).then(|| vec![r as u8; 3]),
                "round {round}: epoch checkpoint {r}"
            );
        }
        assert_eq!(
            store.signed_checkpoint().unwrap(),
            Some(signed),
            "round {round}: signed checkpoint record"
        );
        let rows = store.stats().unwrap();
        assert_eq!(rows.len(), 1, "round {round}: one stats row");
        let expected_allocated: u64 = (0..=round as u64).sum();
        assert_eq!(
            (
                rows[0].0.clone(),
                rows[0].1.allocations,
                rows[0].1.allocated
            ),
            (stats_key, round as u64 + 1, expected_allocated),
            "round {round}: stats add up across commits"
        );
        assert_eq!(store.height().unwrap(), height, "round {round}: height");
        assert_eq!(
            store.program(&code).unwrap().map(|p| p.issuer),
            Some(MemberId(round as u16)),
            "round {round}: program"
        );
        assert!(
            store.dedup_used(&dedup).unwrap(),
            "round {round}: dedup key"
        );
        assert!(
            !store.dedup_used(&Hash::digest(b"never")).unwrap(),
            "round {round}: unknown dedup key"
        );
        assert_eq!(
            store.tx_location(&tx).unwrap().map(|l| l.height),
            Some(height),
            "round {round}: tx location"
        );
        assert!(
            store.allocation(&AllocationId([9; 16])).unwrap().is_none(),
            "round {round}: unknown allocation"
        );

        leaves.extend(new.iter().map(|e| leaf_hash(e)));
        entries.extend(new);
        let size = TreeSize(entries.len() as u64);
        assert_eq!(
            store.log_size().unwrap(),
            size,
            "round {round}: stored size"
        );
        assert_eq!(
            next.root(),
            naive_root(&leaves),
            "round {round}: writer root"
        );
        assert_eq!(
            LogWriter::open(&store).unwrap().root(),
            next.root(),
            "round {round}: root after reopen"
        );
        check_reads(&store, &entries, &leaves, &mut rng, round);
    }
}

fn check_reads<S: LogRead>(
    store: &S,
    entries: &[Vec<u8>],
    leaves: &[Hash],
    rng: &mut Xorshift,
    round: usize,
) {
    let reader = LogReader::new(store).unwrap();
    let size = reader.size();
    // Roots at a sample of past sizes, and the current one.
    for _ in 0..20 {
        let s = rng.below(size.0 + 1);
        assert_eq!(
            reader.root_at(TreeSize(s)).unwrap(),
            naive_root(&leaves[..s as usize]),
            "round {round}: root at {s}"
        );
    }
    // Every tile and bundle of the current size.
    for level in 0..=tile::top_level(size) {
        let (full, partial) = tile::tiles_at_level(size, level);
        let count = full + u64::from(partial > 0);
        for n in 0..count {
            let t = tile::tile_at_size(TileKind::Hash(level), n, size).unwrap();
            let bytes = reader.read_tile(&t).unwrap().expect("tile exists");
            let hashes = tile::parse_hash_tile(&t, &bytes).unwrap();
            let span = TILE_WIDTH.pow(level as u32);
            for (i, h) in hashes.iter().enumerate() {
                let start = ((n * TILE_WIDTH + i as u64) * span) as usize;
                assert_eq!(
                    *h,
                    naive_root(&leaves[start..start + span as usize]),
                    "round {round}: tile {} hash {i}",
                    t.path()
                );
            }
            // A narrower partial of the same tile is its prefix.
            if t.width > 1 {
                let narrow = TileRef {
                    width: t.width / 2,
                    ..t
                };
                assert_eq!(
                    reader.read_tile(&narrow).unwrap().unwrap(),
                    bytes[..narrow.width as usize * 32],
                    "round {round}: prefix of {}",
                    t.path()
                );
            }
            // Wider than exists: not served.
            if !t.is_full() {
                assert!(
                    reader
                        .read_tile(&TileRef {
                            width: t.width + 1,
                            ..t
                        })
                        .unwrap()
                        .is_none(),
                    "round {round}: {} wider",
                    t.path()
                );
            }
        }
        assert!(
            reader
                .read_tile(&TileRef::hash(level, count + 1, 256))
                .unwrap()
                .is_none(),
            "round {round}: tile beyond the log"
        );
    }
    let bundles = size.0.div_ceil(TILE_WIDTH);
    for b in 0..bundles {
        let got = reader.entries(b).unwrap();
        let start = (b * TILE_WIDTH) as usize;
        let end = (start + TILE_WIDTH as usize).min(entries.len());
        assert_eq!(got, entries[start..end], "round {round}: bundle {b}");
    }
    if size.0 > 0 {
        let i = rng.below(size.0);
        assert_eq!(
            reader.entry(LeafIndex(i)).unwrap().as_ref(),
            Some(&entries[i as usize]),
            "round {round}: entry {i}"
        );
    }
    assert!(
        reader.entry(LeafIndex(size.0)).unwrap().is_none(),
        "round {round}: entry beyond the log"
    );
    // Inclusion and consistency proofs at random past sizes.
    for _ in 0..40.min(size.0 as usize) {
        let n = 1 + rng.below(size.0);
        let i = rng.below(n);
        let proof = reader.inclusion_proof(LeafIndex(i), TreeSize(n)).unwrap();
        let root = naive_root(&leaves[..n as usize]);
        verify_inclusion(
            &leaves[i as usize],
            LeafIndex(i),
            TreeSize(n),
            &proof,
            &root,
        )
        .unwrap_or_else(|e| panic!("round {round}: inclusion {i} in {n}: {e}"));
        let m = rng.below(n + 1);
        let proof = reader.consistency_proof(TreeSize(m), TreeSize(n)).unwrap();
        let old = naive_root(&leaves[..m as usize]);
        verify_consistency(TreeSize(m), TreeSize(n), &old, &root, &proof)
            .unwrap_or_else(|e| panic!("round {round}: consistency {m}->{n}: {e}"));
    }
    assert!(
        reader
            .inclusion_proof(LeafIndex(0), TreeSize(size.0 + 1))
            .is_err(),
        "round {round}: proof beyond the log"
    );
}
