//! Group commit of the mempool journal: one thread owns the [`Journal`] and writes whatever
//! admissions and block commits handed it since its last write in one redb transaction, so many
//! concurrent `POST /v1/txs` share one `fsync` instead of paying one each.
//!
//! [`JournalHandle::append`] blocks until its transactions are durable: the API answers `202`
//! only after that. [`JournalHandle::forget`] does not wait (docs/API.md, "What a 202
//! promises").

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use bansos_store::journal::{Journal, JournalOp};
use bansos_verifier::hash::Hash;

/// Most requests folded into one write: bounds the time the first waiter waits for the others.
const REQUESTS_PER_WRITE_MAX: usize = 1024;

enum Request {
    Append(Vec<(Hash, Vec<u8>)>, SyncSender<Result<(), String>>),
    Forget(Vec<Hash>),
}

/// The journal thread's mailbox; cloning it is cheap. The thread ends when every handle is
/// dropped.
#[derive(Clone)]
pub struct JournalHandle {
    requests: Sender<Request>,
}

/// Why an append did not become durable.
#[derive(Debug, thiserror::Error)]
#[error("the mempool journal could not be written: {0}")]
pub struct JournalError(String);

impl JournalHandle {
    /// Starts the journal thread.
    pub fn start(journal: Journal) -> std::io::Result<JournalHandle> {
        let (requests, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("mempool journal".into())
            .spawn(move || run(journal, rx))?;
        Ok(JournalHandle { requests })
    }

    /// Journals `txs` (hash and canonical bytes) and returns once they are on disk.
    pub fn append(&self, txs: Vec<(Hash, Vec<u8>)>) -> Result<(), JournalError> {
        if txs.is_empty() {
            return Ok(());
        }
        let (done, wait) = mpsc::sync_channel(1);
        self.requests
            .send(Request::Append(txs, done))
            .map_err(|_| JournalError("the journal thread has stopped".into()))?;
        wait.recv()
            .map_err(|_| JournalError("the journal thread has stopped".into()))?
            .map_err(JournalError)
    }

    /// Forgets transactions a block committed or rejected; does not wait for the disk.
    pub fn forget(&self, hashes: Vec<Hash>) {
        if !hashes.is_empty() {
            // A stopped thread means the node is shutting down; the next start-up drops what
            // the log already holds.
            let _ = self.requests.send(Request::Forget(hashes));
        }
    }
}

fn run(mut journal: Journal, rx: Receiver<Request>) {
    while let Ok(first) = rx.recv() {
        let mut requests = vec![first];
        while requests.len() < REQUESTS_PER_WRITE_MAX {
            match rx.try_recv() {
                Ok(r) => requests.push(r),
                Err(_) => break,
            }
        }
        let mut ops = Vec::new();
        let mut waiters = Vec::new();
        for r in requests {
            match r {
                Request::Append(txs, done) => {
                    ops.extend(txs.into_iter().map(|(h, b)| JournalOp::Add(h, b)));
                    waiters.push(done);
                }
                Request::Forget(hashes) => ops.extend(hashes.into_iter().map(JournalOp::Remove)),
            }
        }
        let result = journal
            .write(&ops, !waiters.is_empty())
            .map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, "writing the mempool journal failed");
        }
        for w in waiters {
            let _ = w.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bansos_store::journal::JOURNAL_FILE;

    #[test]
    fn appends_from_many_threads_are_all_durable_when_answered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let handle = JournalHandle::start(Journal::open(&path).unwrap()).unwrap();
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    for i in 0..25u8 {
                        let mut h = [0u8; 32];
                        h[..2].copy_from_slice(&[t, i]);
                        let h = Hash(h);
                        handle.append(vec![(h, vec![t, i])]).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        handle.forget(vec![Hash([0; 32])]);
        // Wait for the forget to be written: an append behind it in the same queue.
        handle.append(vec![(Hash([255; 32]), vec![255])]).unwrap();
        drop(handle);
        let mut reopened = None;
        for _ in 0..100 {
            // The thread releases the file when it sees the last handle gone.
            match Journal::open(&path) {
                Ok(j) => {
                    reopened = Some(j);
                    break;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        let journal = reopened.expect("the journal thread released its file");
        let loaded = journal.load().unwrap();
        assert_eq!(loaded.len(), 8 * 25 - 1 + 1);
        assert!(!loaded.iter().any(|(h, _)| *h == Hash([0; 32])));
    }
}
