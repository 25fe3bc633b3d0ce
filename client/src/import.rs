//! `allocate`: a registry export becomes allocations. Rows are checked ([`crate::registry`]);
//! each valid row gets a fresh allocation id, salt and claim secret, the commitment and the
//! ministry's dedup tag, and a signed transaction, all recorded durably in the receipts store
//! before anything is submitted. A re-run of the same import finds its rows in the store and
//! resubmits the same transactions (idempotent), so nobody is allocated twice.

use std::collections::HashMap;

use bansos_genesis::{Network, Role};
use bansos_verifier::commitment::{Nik, beneficiary_commitment, claim_lock, dedup_tag};
use bansos_verifier::entry::{
    Allocation, AllocationId, AmountRule, MemberId, Period, ProgramCode, SignedTx, TxBody,
};
use ed25519_dalek::SigningKey;

use crate::api::{ApiError, Nodes, TxState};
use crate::regions::Regions;
use crate::registry::{self, Rejected};
use crate::store::{AllocationRecord, Outcome, ReceiptStore, StoreError};

/// Transactions per submitted batch.
pub const BATCH: usize = 1000;

/// How far an import got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Transactions submitted so far, of all to submit.
    Submitted {
        /// Submitted.
        done: usize,
        /// To submit.
        total: usize,
    },
    /// Submitted transactions not yet decided.
    Waiting {
        /// How many.
        pending: usize,
    },
}

impl Progress {
    /// A progress bar 30 characters wide, e.g. `[#########.....] 12000/50000 submitted`.
    pub fn bar(&self) -> String {
        match *self {
            Progress::Submitted { done, total } => {
                let filled = (done * 30).checked_div(total).unwrap_or(30);
                format!(
                    "[{}{}] {done}/{total} submitted",
                    "#".repeat(filled),
                    ".".repeat(30 - filled)
                )
            }
            Progress::Waiting { pending } => format!("waiting for {pending} to be committed"),
        }
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Rows that passed the checks.
    pub valid: usize,
    /// Allocations prepared in this run.
    pub new: usize,
    /// Rows found in the receipts store from an earlier run.
    pub resumed: usize,
    /// Allocations committed (in this run or before).
    pub committed: usize,
    /// Rows still pending when the import stopped waiting.
    pub pending: usize,
    /// Refused rows: by the checks, or by the validators (e.g. already allocated).
    pub rejected: Vec<Rejected>,
    /// Accepted rows that deserve a second look: (line, what).
    pub warnings: Vec<(u64, &'static str)>,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file.
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    /// The receipts store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The validators.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The system's randomness.
    #[error("no system randomness: {0}")]
    Random(String),
}

/// What an import needs to know and sign with.
pub struct Importer<'a> {
    /// The network.
    pub network: &'a Network,
    /// This ministry's member id.
    pub member: MemberId,
    /// Its key.
    pub key: &'a SigningKey,
    /// Its secret dedup key.
    pub dedup_key: &'a [u8; 32],
    /// The program.
    pub program: ProgramCode,
    /// Its amount rule.
    pub amount: AmountRule,
    /// The period.
    pub period: Period,
    /// Unix time after which the allocations cannot be claimed.
    pub expires_at: u64,
}

fn random<const N: usize>() -> Result<[u8; N], ImportError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| ImportError::Random(e.to_string()))?;
    Ok(b)
}

fn hex(b: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(b)
}

impl Importer<'_> {
    /// Runs the import of `csv` against `nodes`; `progress` hears how far it got.
    pub fn run(
        &self,
        csv: &[u8],
        store: &mut ReceiptStore,
        nodes: &mut Nodes,
        wait: std::time::Duration,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport, ImportError> {
        let payers: HashMap<String, MemberId> = self
            .network
            .genesis
            .members
            .iter()
            .filter(|m| m.role == Role::Bank)
            .map(|m| (m.name.clone(), m.id))
            .collect();
        let checked = registry::check(csv, &Regions::embedded(), &self.amount, &payers)?;
        let mut report = ImportReport {
            valid: checked.valid.len(),
            rejected: checked.rejected,
            warnings: checked
                .valid
                .iter()
                .flat_map(|r| r.warnings.iter().map(move |w| (r.line, *w)))
                .collect(),
            ..ImportReport::default()
        };
        let (program, period) = (self.program.as_str(), self.period.as_str());
        // Prepare and record every new allocation before submitting anything.
        let mut new = Vec::new();
        for row in &checked.valid {
            if store.find(program, period, &row.nik).is_some() {
                report.resumed += 1;
                continue;
            }
            let nik = Nik::parse(&row.nik).expect("checked: 16 digits");
            let salt: [u8; 32] = random()?;
            let secret: [u8; 16] = random()?;
            let id: [u8; 16] = random()?;
            let allocation = Allocation {
                id: AllocationId(id),
                program: self.program.clone(),
                period: self.period.clone(),
                region: row.region,
                amount: row.amount,
                payer: row.payer,
                beneficiary_commitment: beneficiary_commitment(&salt, &nik),
                dedup_tag: dedup_tag(self.dedup_key, program, period, &nik),
                claim_lock: claim_lock(&secret),
                expires_at: self.expires_at,
            };
            let tx = SignedTx::sign(
                &self.network.id,
                self.member,
                TxBody::Allocation(allocation),
                self.key,
            )
            .expect("checked rows make valid allocations");
            new.push(AllocationRecord {
                program: program.into(),
                period: period.into(),
                nik: row.nik.clone(),
                name: row.name.clone(),
                family_card: row.family_card.clone(),
                desa: row.desa.clone(),
                allocation: hex(&id),
                salt: hex(&salt),
                claim_secret: hex(&secret),
                tx: hex(&tx.encode()),
                tx_hash: tx.hash().to_hex(),
            });
        }
        report.new = new.len();
        store.add_allocations(new)?;
        // Submit every row of this file not known to be settled.
        let rows: Vec<(&registry::ValidRow, AllocationRecord)> = checked
            .valid
            .iter()
            .map(|r| {
                (
                    r,
                    store
                        .find(program, period, &r.nik)
                        .expect("recorded")
                        .clone(),
                )
            })
            .collect();
        let unsettled: Vec<&(&registry::ValidRow, AllocationRecord)> = rows
            .iter()
            .filter(|(_, rec)| store.outcome(&rec.tx_hash).is_none())
            .collect();
        let mut pending: Vec<String> = Vec::new();
        let mut settled: Vec<(String, Outcome)> = Vec::new();
        for (n, chunk) in unsettled.chunks(BATCH).enumerate() {
            let txs: Vec<Vec<u8>> = chunk
                .iter()
                .map(|(_, rec)| {
                    data_encoding::HEXLOWER
                        .decode(rec.tx.as_bytes())
                        .expect("the store holds hex")
                })
                .collect();
            let states = nodes.submit(&txs)?;
            for ((_, rec), state) in chunk.iter().zip(states) {
                match state {
                    TxState::Committed { height, leaf } => {
                        settled.push((rec.tx_hash.clone(), Outcome::Committed { height, leaf }))
                    }
                    TxState::Rejected(message) => {
                        settled.push((rec.tx_hash.clone(), Outcome::Rejected { message }))
                    }
                    _ => pending.push(rec.tx_hash.clone()),
                }
            }
            progress(Progress::Submitted {
                done: ((n + 1) * BATCH).min(unsettled.len()),
                total: unsettled.len(),
            });
        }
        // Wait for the validators' verdicts.
        let deadline = std::time::Instant::now() + wait;
        while !pending.is_empty() && std::time::Instant::now() < deadline {
            let mut still = Vec::new();
            let states = nodes.statuses(&pending)?;
            for (hash, state) in pending.into_iter().zip(states) {
                match state {
                    TxState::Committed { height, leaf } => {
                        settled.push((hash, Outcome::Committed { height, leaf }))
                    }
                    TxState::Rejected(message) => {
                        settled.push((hash, Outcome::Rejected { message }))
                    }
                    _ => still.push(hash),
                }
            }
            pending = still;
            if !pending.is_empty() {
                progress(Progress::Waiting {
                    pending: pending.len(),
                });
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
        }
        store.add_outcomes(settled)?;
        report.pending = pending.len();
        for (row, rec) in &rows {
            match store.outcome(&rec.tx_hash) {
                Some(Outcome::Committed { .. }) => report.committed += 1,
                Some(Outcome::Rejected { message }) => report.rejected.push(Rejected {
                    line: row.line,
                    reason: format!("refused by the validators: {message}"),
                    fields: vec![
                        row.nik.clone(),
                        row.name.clone(),
                        row.family_card.clone(),
                        row.desa.clone(),
                        row.amount.0.to_string(),
                    ],
                }),
                None => {}
            }
        }
        report.rejected.sort_by_key(|r| r.line);
        Ok(report)
    }
}

/// Writes refused rows as CSV (line, reason, the row's fields), mode 0600: it holds personal
/// data.
pub fn write_rejects(path: &std::path::Path, rejects: &[Rejected]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record(["line", "reason", "fields"])
        .map_err(std::io::Error::other)?;
    for r in rejects {
        let mut rec = vec![r.line.to_string(), r.reason.clone()];
        rec.extend(r.fields.iter().cloned());
        w.write_record(&rec).map_err(std::io::Error::other)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    f.write_all(&bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn the_bar_fills_with_progress() {
        assert_eq!(
            Progress::Submitted { done: 0, total: 10 }.bar(),
            format!("[{}] 0/10 submitted", ".".repeat(30))
        );
        assert_eq!(
            Progress::Submitted { done: 5, total: 10 }.bar(),
            format!("[{}{}] 5/10 submitted", "#".repeat(15), ".".repeat(15))
        );
        assert!(
            Progress::Submitted { done: 0, total: 0 }
                .bar()
                .starts_with("[####")
        );
    }
}
