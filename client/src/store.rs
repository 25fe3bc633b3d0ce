//! The local receipts store: one file of JSON lines, mode 0600, appended and fsynced before
//! anything it records is submitted. It holds what must never reach the log — each recipient's
//! NIK, name and family card, the salt that opens the commitment and the claim secret — next to
//! the signed transaction, so an interrupted import re-run with the same command resubmits the
//! same bytes (idempotent at the validators) instead of allocating anyone twice.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One allocation prepared by this client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationRecord {
    /// Program code.
    pub program: String,
    /// Period.
    pub period: String,
    /// The recipient's NIK.
    pub nik: String,
    /// The recipient's name.
    pub name: String,
    /// Family card number.
    pub family_card: String,
    /// Desa/kelurahan code.
    pub desa: String,
    /// Allocation id, hex.
    pub allocation: String,
    /// Commitment salt, hex.
    pub salt: String,
    /// Claim secret, hex.
    pub claim_secret: String,
    /// The signed transaction, hex.
    pub tx: String,
    /// Its hash, hex.
    pub tx_hash: String,
}

impl AllocationRecord {
    /// The recipient's receipt, once the allocation is committed at `leaf`.
    pub fn receipt(
        &self,
        network: &bansos_verifier::entry::NetworkId,
        leaf: u64,
    ) -> Option<bansos_verifier::receipt::Receipt> {
        fn bytes<const N: usize>(hex: &str) -> Option<[u8; N]> {
            data_encoding::HEXLOWER
                .decode(hex.as_bytes())
                .ok()?
                .try_into()
                .ok()
        }
        Some(bansos_verifier::receipt::Receipt {
            network_tag: bansos_verifier::receipt::network_tag(network),
            leaf_index: bansos_verifier::hash::LeafIndex(leaf),
            allocation: bansos_verifier::entry::AllocationId(bytes(&self.allocation)?),
            salt: bytes(&self.salt)?,
            claim_secret: bytes(&self.claim_secret)?,
        })
    }
}

impl ReceiptStore {
    /// The committed allocations of a program and period with their receipts, in import order.
    pub fn committed(
        &self,
        network: &bansos_verifier::entry::NetworkId,
        program: &str,
        period: &str,
    ) -> Vec<(&AllocationRecord, bansos_verifier::receipt::Receipt)> {
        self.allocations
            .iter()
            .filter(|a| a.program == program && a.period == period)
            .filter_map(|a| match self.outcome(&a.tx_hash) {
                Some(Outcome::Committed { leaf, .. }) => Some((a, a.receipt(network, *leaf)?)),
                _ => None,
            })
            .collect()
    }
}

/// What became of a submitted transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// In the log.
    Committed {
        /// Block height.
        height: u64,
        /// Leaf index.
        leaf: u64,
    },
    /// Refused, with the validators' reason.
    Rejected {
        /// Why.
        message: String,
    },
}

/// A claim signed by an offline outlet, waiting for `sync`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedClaim {
    /// The allocation claimed, hex.
    pub allocation: String,
    /// The signed claim, hex.
    pub claim: String,
    /// Its hash, hex.
    pub claim_hash: String,
    /// When it was queued (unix seconds).
    pub queued_at: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Allocation(Box<AllocationRecord>),
    Queued(QueuedClaim),
    Outcome { tx_hash: String, outcome: Outcome },
}

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// I/O.
    #[error("receipts store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A damaged line (the file was edited or cut): refuse rather than lose receipts.
    #[error("receipts store {path}, line {line}: not a record ({why}); restore it from backup")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
}

/// The store, loaded.
pub struct ReceiptStore {
    path: PathBuf,
    allocations: Vec<AllocationRecord>,
    by_person: HashMap<(String, String, String), usize>,
    queued: Vec<QueuedClaim>,
    outcomes: HashMap<String, Outcome>,
}

impl ReceiptStore {
    /// Opens (or creates, mode 0600) the store at `path`; an existing one others could read is
    /// made the owner's only. A final line cut short by a crash is ignored (it was never
    /// fsynced, so nothing was submitted from it).
    pub fn open(path: &Path) -> Result<ReceiptStore, StoreError> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(e)),
        };
        // Created 0600; one copied or made by hand with a wider mode is narrowed.
        bansos_store::private::tighten(path).map_err(io)?;
        let mut store = ReceiptStore {
            path: path.to_path_buf(),
            allocations: Vec::new(),
            by_person: HashMap::new(),
            queued: Vec::new(),
            outcomes: HashMap::new(),
        };
        let complete = text.is_empty() || text.ends_with('\n');
        if !complete {
            // Cut the torn tail off so that later appends start on a line of their own.
            let keep = text.rfind('\n').map(|i| i + 1).unwrap_or(0) as u64;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io)?;
            f.set_len(keep).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<Line>(line) {
                Ok(Line::Allocation(a)) => store.remember(*a),
                Ok(Line::Queued(q)) => store.queued.push(q),
                Ok(Line::Outcome { tx_hash, outcome }) => {
                    store.outcomes.insert(tx_hash, outcome);
                }
                Err(_) if i + 1 == lines.len() && !complete => {}
                Err(e) => {
                    return Err(StoreError::Corrupt {
                        path: path.to_path_buf(),
                        line: i + 1,
                        why: e.to_string(),
                    });
                }
            }
        }
        Ok(store)
    }

    fn remember(&mut self, a: AllocationRecord) {
        let key = (a.program.clone(), a.period.clone(), a.nik.clone());
        self.by_person.insert(key, self.allocations.len());
        self.allocations.push(a);
    }

    /// The allocation prepared for this person in this program and period, if any.
    pub fn find(&self, program: &str, period: &str, nik: &str) -> Option<&AllocationRecord> {
        self.by_person
            .get(&(program.to_string(), period.to_string(), nik.to_string()))
            .map(|&i| &self.allocations[i])
    }

    /// Every allocation record.
    pub fn allocations(&self) -> &[AllocationRecord] {
        &self.allocations
    }

    /// Claims queued offline, oldest first.
    pub fn queued(&self) -> &[QueuedClaim] {
        &self.queued
    }

    /// Queues an offline claim durably.
    pub fn queue_claim(&mut self, q: QueuedClaim) -> Result<(), StoreError> {
        let line = serde_json::to_string(&Line::Queued(q.clone())).expect("claims serialize");
        self.append(&[line])?;
        self.queued.push(q);
        Ok(())
    }

    /// The known outcome of a transaction.
    pub fn outcome(&self, tx_hash: &str) -> Option<&Outcome> {
        self.outcomes.get(tx_hash)
    }

    /// Appends allocation records and makes them durable (fsync) before returning.
    pub fn add_allocations(&mut self, records: Vec<AllocationRecord>) -> Result<(), StoreError> {
        let lines = records
            .iter()
            .map(|r| serde_json::to_string(&Line::Allocation(Box::new(r.clone()))))
            .collect::<Result<Vec<_>, _>>()
            .expect("records serialize");
        self.append(&lines)?;
        for r in records {
            self.remember(r);
        }
        Ok(())
    }

    /// Appends outcomes durably.
    pub fn add_outcomes(&mut self, outcomes: Vec<(String, Outcome)>) -> Result<(), StoreError> {
        let lines = outcomes
            .iter()
            .map(|(h, o)| {
                serde_json::to_string(&Line::Outcome {
                    tx_hash: h.clone(),
                    outcome: o.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .expect("outcomes serialize");
        self.append(&lines)?;
        self.outcomes.extend(outcomes);
        Ok(())
    }

    fn append(&self, lines: &[String]) -> Result<(), StoreError> {
        use std::os::unix::fs::OpenOptionsExt as _;
        if lines.is_empty() {
            return Ok(());
        }
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(io)?;
        let mut buf = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for l in lines {
            buf.push_str(l);
            buf.push('\n');
        }
        f.write_all(buf.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(nik: &str) -> AllocationRecord {
        AllocationRecord {
            program: "SEMBAKO".into(),
            period: "2026-11".into(),
            nik: nik.into(),
            name: "Siti".into(),
            family_card: "1101010101010001".into(),
            desa: "1101012001".into(),
            allocation: "00".repeat(16),
            salt: "11".repeat(32),
            claim_secret: "22".repeat(16),
            tx: "abcd".into(),
            tx_hash: format!("{nik}-hash"),
        }
    }

    #[test]
    fn a_store_others_could_read_is_made_the_owners_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipts.jsonl");
        ReceiptStore::open(&path)
            .unwrap()
            .add_allocations(vec![record("1")])
            .unwrap();
        // Copied by hand, say, with the default mode.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = ReceiptStore::open(&path).unwrap();
        assert_eq!(s.allocations().len(), 1);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn records_survive_reopening_and_a_torn_tail_is_ignored() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipts.jsonl");
        let mut s = ReceiptStore::open(&path).unwrap();
        s.add_allocations(vec![record("1"), record("2")]).unwrap();
        s.add_outcomes(vec![(
            "1-hash".into(),
            Outcome::Committed { height: 3, leaf: 9 },
        )])
        .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A crash mid-write leaves a cut line.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"program\":\"SEM").unwrap();
        let mut s = ReceiptStore::open(&path).unwrap();
        assert_eq!(s.allocations().len(), 2);
        s.add_allocations(vec![record("3")]).unwrap();
        let s = ReceiptStore::open(&path).unwrap();
        assert_eq!(s.allocations().len(), 3);
        assert_eq!(s.find("SEMBAKO", "2026-11", "2").unwrap().nik, "2");
        assert!(s.find("SEMBAKO", "2026-12", "2").is_none());
        assert_eq!(
            s.outcome("1-hash"),
            Some(&Outcome::Committed { height: 3, leaf: 9 })
        );
        // Damage in the middle is refused.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("garbage\n{text}")).unwrap();
        assert!(matches!(
            ReceiptStore::open(&path),
            Err(StoreError::Corrupt { line: 1, .. })
        ));
    }
}
