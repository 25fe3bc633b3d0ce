//! The citizen's check of their own receipt (docs/VERIFY.md): from a trust policy, the receipt,
//! the NIK and the evidence (a signed checkpoint, the allocation's leaf and its events, each with
//! an inclusion proof), one [`Verdict`]. The browser page implements the same steps in
//! JavaScript; the golden vectors `citizen.json` hold both to the same verdicts.
//!
//! Gathering the evidence (over HTTP, from whole tiles) is the caller's job; this module only
//! checks it, so it runs the same online, offline and under test.

use serde::{Deserialize, Serialize};

use crate::checkpoint::CheckpointError;
use crate::commitment::{Nik, beneficiary_commitment};
use crate::entry::{AllocationId, Leaf, MemberId, TxBody};
use crate::governance::KeyHistoryFile;
use crate::hash::{Hash, LeafIndex, leaf_hash};
use crate::merkle::{ProofError, verify_inclusion};
use crate::note::NoteError;
use crate::policy::TrustPolicy;
use crate::receipt::{Receipt, network_tag};
use crate::tlog_proof::{TLOG_PROOF_BYTES_MAX, TlogProof};

/// The `format` field of a receipt bundle.
pub const BUNDLE_FORMAT: &str = "bansos-ledger/receipt-bundle@v1";
/// Most events a bundle or an online answer may carry for one check.
pub const EVENTS_MAX: usize = 4096;
/// Largest receipt bundle parsed (an allocation and a handful of events fit in a few KiB).
pub const BUNDLE_BYTES_MAX: usize = 1024 * 1024;

/// One leaf with its inclusion proof at the evidence's checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    /// Where it is.
    pub index: LeafIndex,
    /// The `Leaf` bytes.
    pub leaf: Vec<u8>,
    /// Its inclusion proof, leaf sibling first.
    pub proof: Vec<Hash>,
}

/// What a verdict rests on: one signed checkpoint and leaves proven against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
    /// The allocation's leaf; `None` when its index is not below the checkpoint's size.
    pub allocation: Option<Proven>,
    /// The allocation's claims, return or revocation.
    pub events: Vec<Proven>,
    /// The network's key history (a node's `/key-history`) when the checkpoint may be signed by
    /// validators that governance admitted after genesis; `None` for a network still on its
    /// genesis keys.
    pub key_history: Option<KeyHistoryFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleFile {
    format: String,
    allocation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkpoint: Option<String>,
    events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_history: Option<KeyHistoryFile>,
}

fn tlog_proof_of(p: &Proven, checkpoint: &[u8]) -> String {
    let bytes = TlogProof {
        extra: Some(p.leaf.clone()),
        index: p.index,
        proof: p.proof.clone(),
        checkpoint: checkpoint.to_vec(),
    }
    .to_bytes();
    String::from_utf8(bytes).expect("tlog-proofs are text")
}

fn proven_of(text: &str) -> Result<(Proven, Vec<u8>), EvidenceError> {
    if text.len() > TLOG_PROOF_BYTES_MAX {
        return Err(EvidenceError::MalformedBundle);
    }
    let p = TlogProof::parse(text.as_bytes()).map_err(|_| EvidenceError::MalformedBundle)?;
    let leaf = p.extra.ok_or(EvidenceError::MalformedBundle)?;
    Ok((
        Proven {
            index: p.index,
            leaf,
            proof: p.proof,
        },
        p.checkpoint,
    ))
}

impl Evidence {
    /// The receipt bundle (docs/VERIFY.md, "Offline: the receipt bundle"), as JSON text.
    pub fn to_bundle(&self) -> String {
        let file = BundleFile {
            format: BUNDLE_FORMAT.into(),
            allocation: self
                .allocation
                .as_ref()
                .map(|a| tlog_proof_of(a, &self.checkpoint)),
            checkpoint: self
                .allocation
                .is_none()
                .then(|| String::from_utf8_lossy(&self.checkpoint).into_owned()),
            events: self
                .events
                .iter()
                .map(|e| tlog_proof_of(e, &self.checkpoint))
                .collect(),
            key_history: self.key_history.clone(),
        };
        serde_json::to_string_pretty(&file).expect("a bundle serializes") + "\n"
    }

    /// Reads a receipt bundle. Its tlog-proofs must all carry the same checkpoint.
    pub fn from_bundle(bytes: &[u8]) -> Result<Evidence, EvidenceError> {
        if bytes.len() > BUNDLE_BYTES_MAX {
            return Err(EvidenceError::MalformedBundle);
        }
        let file: BundleFile =
            serde_json::from_slice(bytes).map_err(|_| EvidenceError::MalformedBundle)?;
        if file.format != BUNDLE_FORMAT || file.events.len() > EVENTS_MAX {
            return Err(EvidenceError::MalformedBundle);
        }
        let mut checkpoint = None;
        let mut same = |cp: Vec<u8>| match &checkpoint {
            None => {
                checkpoint = Some(cp);
                Ok(())
            }
            Some(first) if *first == cp => Ok(()),
            Some(_) => Err(EvidenceError::MixedCheckpoints),
        };
        let allocation = match (&file.allocation, &file.checkpoint) {
            (Some(text), None) => {
                let (p, cp) = proven_of(text)?;
                same(cp)?;
                Some(p)
            }
            (None, Some(cp)) => {
                same(cp.as_bytes().to_vec())?;
                None
            }
            _ => return Err(EvidenceError::MalformedBundle),
        };
        let mut events = Vec::with_capacity(file.events.len());
        for text in &file.events {
            let (p, cp) = proven_of(text)?;
            same(cp)?;
            events.push(p);
        }
        Ok(Evidence {
            checkpoint: checkpoint.expect("set by the allocation or the checkpoint field"),
            allocation,
            events,
            key_history: file.key_history,
        })
    }
}

/// What the check concluded (docs/VERIFY.md, "Outcomes and exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Recorded and paid in full.
    Claimed,
    /// Recorded, not paid yet.
    NotClaimed,
    /// The payer returned the funds.
    Returned,
    /// The ministry revoked it.
    Revoked,
    /// Not in the log the checkpoint covers.
    NotInLog,
    /// Warning: less was paid than allocated.
    PaidLess,
    /// Warning: the receipt does not open with this NIK.
    NikMismatch,
    /// Warning: the log holds something else at the receipt's place.
    NotAnAllocation,
    /// The receipt is for another network.
    WrongNetwork,
    /// The checkpoint does not verify under the policy.
    InvalidCheckpoint,
    /// A proof, leaf or bundle does not verify.
    InvalidEvidence,
}

impl Outcome {
    /// The process exit code of `bansos-verify receipt` for this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Claimed => 0,
            Outcome::NotClaimed => 10,
            Outcome::Returned => 11,
            Outcome::Revoked => 12,
            Outcome::NotInLog => 13,
            Outcome::PaidLess => 20,
            Outcome::NikMismatch => 21,
            Outcome::NotAnAllocation => 22,
            Outcome::WrongNetwork => 23,
            Outcome::InvalidCheckpoint | Outcome::InvalidEvidence => 1,
        }
    }

    /// The name used in JSON and in the texts' keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Claimed => "claimed",
            Outcome::NotClaimed => "not_claimed",
            Outcome::Returned => "returned",
            Outcome::Revoked => "revoked",
            Outcome::NotInLog => "not_in_log",
            Outcome::PaidLess => "paid_less",
            Outcome::NikMismatch => "nik_mismatch",
            Outcome::NotAnAllocation => "not_an_allocation",
            Outcome::WrongNetwork => "wrong_network",
            Outcome::InvalidCheckpoint => "invalid_checkpoint",
            Outcome::InvalidEvidence => "invalid_evidence",
        }
    }

    /// Whether the citizen must be warned in red (something may have been done without them).
    pub fn is_warning(self) -> bool {
        matches!(
            self,
            Outcome::PaidLess | Outcome::NikMismatch | Outcome::NotAnAllocation
        )
    }
}

/// A proof error as the golden vectors write it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProofErrorView {
    /// The index is outside the tree.
    IndexOutOfRange,
    /// Consistency sizes reversed.
    SizesOutOfOrder,
    /// Wrong number of hashes.
    WrongLength {
        /// Hashes given.
        got: usize,
        /// Hashes needed.
        expected: usize,
    },
    /// The proof leads elsewhere.
    RootMismatch,
}

impl From<&ProofError> for ProofErrorView {
    fn from(e: &ProofError) -> Self {
        match *e {
            ProofError::IndexOutOfRange { .. } => ProofErrorView::IndexOutOfRange,
            ProofError::SizesOutOfOrder { .. } => ProofErrorView::SizesOutOfOrder,
            ProofError::WrongLength { got, expected } => {
                ProofErrorView::WrongLength { got, expected }
            }
            ProofError::RootMismatch => ProofErrorView::RootMismatch,
        }
    }
}

/// A checkpoint error as the golden vectors write it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckpointErrorView {
    /// The signed note is malformed.
    MalformedNote,
    /// A key is malformed.
    BadKey,
    /// A trusted key's signature fails.
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key id, 8 hex digits.
        key_id: String,
    },
    /// Not enough trusted signatures.
    TooFewSignatures {
        /// Trusted signatures that verified.
        verified: usize,
        /// Required.
        quorum: usize,
    },
    /// The body is not a tlog-checkpoint.
    MalformedCheckpoint,
    /// Another log's checkpoint.
    WrongOrigin {
        /// Its origin.
        origin: String,
    },
    /// Not enough trusted witness cosignatures (the policy's `witness_quorum`).
    TooFewWitnesses {
        /// Trusted witness cosignatures that verified.
        verified: usize,
        /// Required.
        quorum: usize,
    },
    /// The key history given with the evidence does not follow from the trust policy: a
    /// change not approved by the validators before it (docs/VERIFY.md, "Key history").
    KeyHistory {
        /// Why, in English.
        reason: String,
    },
}

impl From<&CheckpointError> for CheckpointErrorView {
    fn from(e: &CheckpointError) -> Self {
        match e {
            CheckpointError::Malformed(_) => CheckpointErrorView::MalformedCheckpoint,
            CheckpointError::WrongOrigin { got, .. } => CheckpointErrorView::WrongOrigin {
                origin: got.clone(),
            },
            CheckpointError::Note(NoteError::Malformed(_)) => CheckpointErrorView::MalformedNote,
            CheckpointError::Note(NoteError::BadKey(_)) => CheckpointErrorView::BadKey,
            CheckpointError::Note(NoteError::InvalidSignature { name, key_id }) => {
                CheckpointErrorView::InvalidSignature {
                    name: name.clone(),
                    key_id: format!("{key_id:08x}"),
                }
            }
            CheckpointError::Note(NoteError::TooFewSignatures { verified, quorum }) => {
                CheckpointErrorView::TooFewSignatures {
                    verified: *verified,
                    quorum: *quorum,
                }
            }
            CheckpointError::TooFewWitnesses { verified, quorum } => {
                CheckpointErrorView::TooFewWitnesses {
                    verified: *verified,
                    quorum: *quorum,
                }
            }
        }
    }
}

/// Why the evidence does not hold (outcome `invalid_evidence`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceError {
    /// The bundle is not a receipt bundle.
    #[error("the proof file is not a receipt bundle")]
    MalformedBundle,
    /// Its tlog-proofs carry different checkpoints.
    #[error("the proof file mixes checkpoints")]
    MixedCheckpoints,
    /// The allocation's leaf is missing though its index is inside the tree.
    #[error("the allocation's entry is missing from the evidence")]
    MissingAllocation,
    /// The allocation's proof is for another index than the receipt's.
    #[error("the allocation's proof is for another entry than the receipt's")]
    WrongIndex,
    /// An inclusion proof fails.
    #[error("the inclusion proof of entry {index} fails")]
    Inclusion {
        /// The entry.
        index: u64,
        /// How.
        proof: ProofErrorView,
    },
    /// A proven leaf does not decode.
    #[error("entry {index} does not decode")]
    UndecodableLeaf {
        /// The entry.
        index: u64,
    },
    /// An event that is not a claim, return or revocation of this allocation.
    #[error("entry {index} is not an event of this allocation")]
    UnrelatedEvent {
        /// The entry.
        index: u64,
    },
}

/// The verdict's error detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VerdictError {
    /// Why the checkpoint failed.
    Checkpoint(CheckpointErrorView),
    /// Why the evidence failed.
    Evidence(EvidenceError),
}

/// The checkpoint the verdict rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointView {
    /// Its origin.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root, hex.
    pub root: String,
    /// Trusted keys whose signatures verified (for display; not part of the golden verdict).
    #[serde(skip)]
    pub signers: Vec<String>,
}

/// The allocation, as logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationView {
    /// Allocation id, hex.
    pub id: String,
    /// Its leaf.
    pub leaf_index: u64,
    /// Block that committed it.
    pub height: u64,
    /// That block's time.
    pub recorded_at: u64,
    /// Ministry that allocated it.
    pub issuer: MemberId,
    /// Program code.
    pub program: String,
    /// Period.
    pub period: String,
    /// Kabupaten/kota code.
    pub region: u16,
    /// Rupiah.
    pub amount: u64,
    /// Bank or Pos that pays it.
    pub payer: MemberId,
    /// Unix seconds after which it cannot be claimed.
    pub expires_at: u64,
}

/// One claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimView {
    /// Its leaf.
    pub leaf_index: u64,
    /// Block that committed it.
    pub height: u64,
    /// That block's time.
    pub recorded_at: u64,
    /// Who recorded it.
    pub payer: MemberId,
    /// Rupiah paid.
    pub amount: u64,
    /// Channel name.
    pub channel: String,
    /// Kabupaten/kota where paid.
    pub region: u16,
    /// When paid (the outlet's clock).
    pub claimed_at: u64,
}

/// A return or revocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureView {
    /// `return` or `revocation`.
    pub kind: String,
    /// Reason name.
    pub reason: String,
    /// Its leaf.
    pub leaf_index: u64,
    /// Block that committed it.
    pub height: u64,
    /// That block's time.
    pub recorded_at: u64,
    /// Who recorded it.
    pub by: MemberId,
}

/// The answer to "is my aid recorded, and what happened to it?" (docs/VERIFY.md, "The verdict").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The conclusion.
    pub outcome: Outcome,
    /// The checkpoint, once verified.
    pub checkpoint: Option<CheckpointView>,
    /// The allocation, once it is known to be the receipt's.
    pub allocation: Option<AllocationView>,
    /// Its claims, in log order.
    pub claims: Vec<ClaimView>,
    /// Sum of the claims.
    pub claimed_total: u64,
    /// Its return or revocation.
    pub closure: Option<ClosureView>,
    /// Whether `now` is past the allocation's expiry.
    pub expired: bool,
    /// Why the evidence or checkpoint failed.
    pub error: Option<VerdictError>,
}

impl Verdict {
    fn new(outcome: Outcome) -> Verdict {
        Verdict {
            outcome,
            checkpoint: None,
            allocation: None,
            claims: Vec::new(),
            claimed_total: 0,
            closure: None,
            expired: false,
            error: None,
        }
    }

    fn evidence(mut self, e: EvidenceError) -> Verdict {
        self.outcome = Outcome::InvalidEvidence;
        self.error = Some(VerdictError::Evidence(e));
        self
    }
}

/// Checks a receipt bundle's bytes: the network first, then the bundle, then [`check`].
pub fn check_bundle(
    policy: &TrustPolicy,
    receipt: &Receipt,
    nik: &Nik,
    bundle: &[u8],
    now: u64,
) -> Verdict {
    if receipt.network_tag != network_tag(policy.network_id()) {
        return Verdict::new(Outcome::WrongNetwork);
    }
    match Evidence::from_bundle(bundle) {
        Ok(evidence) => check(policy, receipt, nik, &evidence, now),
        Err(e) => Verdict::new(Outcome::InvalidEvidence).evidence(e),
    }
}

fn prove(p: &Proven, size: u64, root: &Hash) -> Result<Leaf, EvidenceError> {
    verify_inclusion(
        &leaf_hash(&p.leaf),
        p.index,
        crate::TreeSize(size),
        &p.proof,
        root,
    )
    .map_err(|e| EvidenceError::Inclusion {
        index: p.index.0,
        proof: (&e).into(),
    })?;
    Leaf::decode(&p.leaf).map_err(|_| EvidenceError::UndecodableLeaf { index: p.index.0 })
}

/// The steps of docs/VERIFY.md, "Verification", on gathered evidence.
pub fn check(
    policy: &TrustPolicy,
    receipt: &Receipt,
    nik: &Nik,
    evidence: &Evidence,
    now: u64,
) -> Verdict {
    if receipt.network_tag != network_tag(policy.network_id()) {
        return Verdict::new(Outcome::WrongNetwork);
    }
    let followed;
    let policy = match &evidence.key_history {
        None => policy,
        Some(history) => {
            let mut p = policy.clone();
            if let Err(e) = p.follow_file(history) {
                let mut v = Verdict::new(Outcome::InvalidCheckpoint);
                v.error = Some(VerdictError::Checkpoint(CheckpointErrorView::KeyHistory {
                    reason: e.to_string(),
                }));
                return v;
            }
            followed = p;
            &followed
        }
    };
    let cp = match policy.verify_checkpoint(&evidence.checkpoint) {
        Ok(cp) => cp,
        Err(e) => {
            let mut v = Verdict::new(Outcome::InvalidCheckpoint);
            v.error = Some(VerdictError::Checkpoint((&e).into()));
            return v;
        }
    };
    let (size, root) = (cp.checkpoint.size.0, cp.checkpoint.root);
    let mut v = Verdict::new(Outcome::NotInLog);
    v.checkpoint = Some(CheckpointView {
        origin: cp.checkpoint.origin.clone(),
        size,
        root: root.to_hex(),
        signers: cp.verified.signers.clone(),
    });
    if receipt.leaf_index.0 >= size {
        return v;
    }
    let Some(proven) = &evidence.allocation else {
        return v.evidence(EvidenceError::MissingAllocation);
    };
    if proven.index != receipt.leaf_index {
        return v.evidence(EvidenceError::WrongIndex);
    }
    let leaf = match prove(proven, size, &root) {
        Ok(leaf) => leaf,
        Err(e) => return v.evidence(e),
    };
    let allocation = match &leaf.tx.body {
        TxBody::Allocation(a) if a.id == receipt.allocation => a,
        _ => {
            v.outcome = Outcome::NotAnAllocation;
            return v;
        }
    };
    if beneficiary_commitment(&receipt.salt, nik) != allocation.beneficiary_commitment {
        v.outcome = Outcome::NikMismatch;
        return v;
    }
    v.allocation = Some(AllocationView {
        id: allocation.id.to_hex(),
        leaf_index: proven.index.0,
        height: leaf.height,
        recorded_at: leaf.block_time,
        issuer: leaf.tx.signer,
        program: allocation.program.as_str().into(),
        period: allocation.period.as_str().into(),
        region: allocation.region.get(),
        amount: allocation.amount.0,
        payer: allocation.payer,
        expires_at: allocation.expires_at,
    });
    v.expired = now >= allocation.expires_at;
    match events(&evidence.events, &allocation.id, size, &root) {
        Ok((claims, closure)) => {
            v.claimed_total = claims.iter().map(|c| c.amount).sum();
            v.claims = claims;
            v.closure = closure;
        }
        Err(e) => return v.evidence(e),
    }
    v.outcome = match &v.closure {
        Some(c) if c.kind == "revocation" => Outcome::Revoked,
        Some(_) => Outcome::Returned,
        None if v.claims.is_empty() => Outcome::NotClaimed,
        None if v.claimed_total < allocation.amount.0 => Outcome::PaidLess,
        None => Outcome::Claimed,
    };
    v
}

type Events = (Vec<ClaimView>, Option<ClosureView>);

fn events(
    proven: &[Proven],
    id: &AllocationId,
    size: u64,
    root: &Hash,
) -> Result<Events, EvidenceError> {
    if proven.len() > EVENTS_MAX {
        return Err(EvidenceError::MalformedBundle);
    }
    let mut sorted: Vec<&Proven> = proven.iter().collect();
    sorted.sort_by_key(|p| p.index);
    sorted.dedup_by_key(|p| p.index);
    let (mut claims, mut closure) = (Vec::new(), None);
    for p in sorted {
        let leaf = prove(p, size, root)?;
        let unrelated = EvidenceError::UnrelatedEvent { index: p.index.0 };
        let (kind, reason, allocation) = match &leaf.tx.body {
            TxBody::Claim(c) => {
                if c.allocation != *id {
                    return Err(unrelated);
                }
                claims.push(ClaimView {
                    leaf_index: p.index.0,
                    height: leaf.height,
                    recorded_at: leaf.block_time,
                    payer: leaf.tx.signer,
                    amount: c.amount.0,
                    channel: c.channel.as_str().into(),
                    region: c.region.get(),
                    claimed_at: c.claimed_at,
                });
                continue;
            }
            TxBody::Return(r) => ("return", r.reason.as_str(), r.allocation),
            TxBody::Revocation(r) => ("revocation", r.reason.as_str(), r.allocation),
            _ => return Err(unrelated),
        };
        if allocation != *id {
            return Err(unrelated);
        }
        // The ledger rules allow one closure; should a log hold two, the first one counts.
        closure.get_or_insert(ClosureView {
            kind: kind.into(),
            reason: reason.into(),
            leaf_index: p.index.0,
            height: leaf.height,
            recorded_at: leaf.block_time,
            by: leaf.tx.signer,
        });
    }
    Ok((claims, closure))
}

/// Whether an online answer's event concerns this allocation (events of the other allocations
/// of the same tile are dropped before [`check`], which refuses them).
pub fn event_concerns(leaf: &[u8], id: &AllocationId) -> bool {
    match Leaf::decode(leaf).map(|l| l.tx.body) {
        Ok(TxBody::Claim(c)) => c.allocation == *id,
        Ok(TxBody::Return(r)) => r.allocation == *id,
        Ok(TxBody::Revocation(r)) => r.allocation == *id,
        // Undecodable or another kind: keep it, so that `check` reports it.
        _ => true,
    }
}
