//! The mempool journal: transactions a validator answered `202` for, kept in their own redb file
//! until a block commits or rejects them, so that an acknowledged transaction survives a crash
//! of the validator that acknowledged it (docs/API.md, "What a 202 promises").
//!
//! A separate file from the ledger's: the journal is written by every admission and the ledger
//! by every block, and redb has one writer per file; neither waits for the other. Appends are
//! durable (`fsync`) before they return; removals are not (a later durable append carries them,
//! and a removal lost in a crash only leaves a transaction that the node drops at start-up
//! because the log already holds it, or proposes again and sees rejected again).

use std::path::Path;

use bansos_verifier::hash::Hash;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};

use crate::{StoreError, redb_err};

/// Pending transactions: hash → (arrival number, canonical signed bytes).
const PENDING: TableDefinition<[u8; 32], (u64, &[u8])> = TableDefinition::new("pending");

/// The journal's file inside a validator's data directory.
pub const JOURNAL_FILE: &str = "mempool.redb";

/// A validator's mempool journal (one writer; the node serialises calls through one thread).
pub struct Journal {
    db: Database,
    next: u64,
}

impl Journal {
    /// Opens (or creates) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, StoreError> {
        let db = Database::create(path).map_err(redb_err)?;
        let tx = db.begin_write().map_err(redb_err)?;
        tx.open_table(PENDING).map_err(redb_err)?;
        tx.commit().map_err(redb_err)?;
        let mut journal = Journal { db, next: 0 };
        journal.next = journal
            .pending()?
            .iter()
            .map(|(n, _, _)| n + 1)
            .max()
            .unwrap_or(0);
        Ok(journal)
    }

    /// Every journalled transaction as `(arrival number, hash, bytes)`, oldest first.
    fn pending(&self) -> Result<Vec<(u64, Hash, Vec<u8>)>, StoreError> {
        let tx = self.db.begin_read().map_err(redb_err)?;
        let table = tx.open_table(PENDING).map_err(redb_err)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(redb_err)? {
            let (k, v) = row.map_err(redb_err)?;
            let (n, bytes) = v.value();
            out.push((n, Hash(k.value()), bytes.to_vec()));
        }
        out.sort_by_key(|(n, _, _)| *n);
        Ok(out)
    }

    /// Every journalled transaction as `(hash, bytes)`, in the order they were admitted.
    pub fn load(&self) -> Result<Vec<(Hash, Vec<u8>)>, StoreError> {
        Ok(self
            .pending()?
            .into_iter()
            .map(|(_, h, b)| (h, b))
            .collect())
    }

    /// Number of journalled transactions.
    pub fn len(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(redb_err)?;
        let table = tx.open_table(PENDING).map_err(redb_err)?;
        table.len().map_err(redb_err)
    }

    /// Whether the journal is empty.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Applies `ops` in order in one transaction. With `durable`, they are on disk (fsync)
    /// when this returns; without, they reach the disk with the next durable write. A hash
    /// already journalled keeps its first arrival number.
    pub fn write(&mut self, ops: &[JournalOp], durable: bool) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write().map_err(redb_err)?;
        if !durable {
            tx.set_durability(Durability::None).map_err(redb_err)?;
        }
        let mut next = self.next;
        {
            let mut table = tx.open_table(PENDING).map_err(redb_err)?;
            for op in ops {
                match op {
                    JournalOp::Remove(h) => {
                        table.remove(h.0).map_err(redb_err)?;
                    }
                    JournalOp::Add(h, bytes) => {
                        if table.get(h.0).map_err(redb_err)?.is_some() {
                            continue;
                        }
                        table
                            .insert(h.0, (next, bytes.as_slice()))
                            .map_err(redb_err)?;
                        next += 1;
                    }
                }
            }
        }
        tx.commit().map_err(redb_err)?;
        self.next = next;
        Ok(())
    }
}

/// One change to the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalOp {
    /// Keep a transaction: its hash and canonical signed bytes.
    Add(Hash, Vec<u8>),
    /// Forget a transaction (committed or rejected by a block).
    Remove(Hash),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u8) -> Hash {
        Hash([i; 32])
    }

    fn add(i: u8) -> JournalOp {
        JournalOp::Add(h(i), vec![i])
    }

    #[test]
    fn journalled_transactions_come_back_in_arrival_order_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        {
            let mut j = Journal::open(&path).unwrap();
            j.write(&[add(3), add(1)], true).unwrap();
            j.write(
                &[
                    add(2),
                    JournalOp::Add(h(3), vec![9]),
                    JournalOp::Remove(h(1)),
                ],
                true,
            )
            .unwrap();
        }
        let mut j = Journal::open(&path).unwrap();
        assert_eq!(j.load().unwrap(), vec![(h(3), vec![3]), (h(2), vec![2])]);
        // Arrival numbers continue after a reopen: a later one sorts last.
        j.write(&[add(0)], true).unwrap();
        let order: Vec<Hash> = j.load().unwrap().into_iter().map(|(h, _)| h).collect();
        assert_eq!(order, vec![h(3), h(2), h(0)]);
        assert_eq!(j.len().unwrap(), 3);
    }

    #[test]
    fn a_removal_that_was_not_durable_is_carried_by_the_next_durable_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        {
            let mut j = Journal::open(&path).unwrap();
            j.write(&[add(1), add(2)], true).unwrap();
            j.write(&[JournalOp::Remove(h(1))], false).unwrap();
            j.write(&[add(4)], true).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let left: Vec<Hash> = j.load().unwrap().into_iter().map(|(h, _)| h).collect();
        assert_eq!(left, vec![h(2), h(4)]);
    }

    #[test]
    fn operations_apply_in_order_so_a_removal_after_an_addition_wins() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join(JOURNAL_FILE)).unwrap();
        j.write(
            &[
                add(1),
                JournalOp::Remove(h(1)),
                JournalOp::Remove(h(2)),
                add(2),
            ],
            true,
        )
        .unwrap();
        assert_eq!(j.load().unwrap(), vec![(h(2), vec![2])]);
    }
}
