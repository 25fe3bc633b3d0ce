//! The consensus application as a pure state machine: [`Core::on`] takes one input (a message
//! of the engine, transactions from the mempool) and the time, and returns the effects (a reply
//! to the engine, proposal parts to publish, transactions to fetch, a block committed).
//!
//! It reads no clock, spawns nothing, takes no lock and knows no database: time comes with each
//! input, the mempool is asked through a function for what it already admitted, and storage is
//! any [`ConsensusStore`] (redb in the node, memory in the simulator). The shell in
//! [`super::app`] carries the effects out against Malachite, the mempool and the HTTP API;
//! `bansos-sim` drives the same core in a simulated network.
//!
//! What it decides, and where:
//! - a proposal is built from transactions it fetched, stored before it is answered, and
//!   proposed again unchanged after a crash ([`Core::on`] with [`Input::GetValue`], then
//!   [`Input::Txs`]);
//! - a received proposal is assembled from its parts, its proposer's signature checked, the
//!   block run through the ledger rules without writing ([`Core::execute`]) and stored before
//!   the answer; a block with a transaction an honest proposer would have refused, or with a
//!   time out of bounds, is invalid;
//! - a precommit carries this validator's signature on the checkpoint of its log so far, behind
//!   the ledger's guard against signing two inconsistent checkpoints ([`Core::extend_vote`]);
//! - another validator's checkpoint signature is checked once, in [`Core::checkpoint_vote`],
//!   both when its precommit arrives and when the quorum-signed checkpoint is collected;
//! - a decided block is committed with its certificate and the collected checkpoint in one
//!   atomic write.

use std::collections::BTreeMap;
use std::time::Duration;

use bansos_genesis::Network;
use bansos_ledger::ledger::{Executed, Ledger};
use bansos_ledger::rules::governance;
use bansos_ledger::rules::{BLOCK_TXS_MAX, Block, Rejection};
use bansos_ledger::store::{ConsensusStore, DecidedRecord};
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::entry::SignedTx;
use bansos_verifier::governance::{RULES_VERSION, Roster};
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::note::{KeyKind, NoteSignature, SignerKey, VerifierKey};
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::VoteExtensionError;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, Context as _, ExtendedCommitCertificate, LinearTimeouts, Round, Validity,
    Value as _, VoteExtensions,
};
use malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId, ProposedValue};
use malachitebft_signing_ed25519::Signature;

use super::block::StoredBlock;
use super::codec::{decode_extended_certificate, encode_extended_certificate};
use super::ctx::{
    Address, BansosContext, BlockHeader, Height, ProposalPart, ValidatorSet, ValueId, body_hash,
    parts_sign_bytes,
};

/// How blocks are cut from the mempool.
#[derive(Clone, Debug)]
pub struct BlockPolicy {
    /// Most transactions in a block.
    pub max_txs: usize,
    /// Most encoded bytes of transactions in a block.
    pub max_bytes: usize,
    /// A proposer waits this long after the previous decision for transactions to gather.
    pub min_interval: Duration,
    /// With an empty mempool a proposer waits at most this long (capped at half the propose
    /// timeout) for a transaction, then proposes an empty block so the checkpoint signatures of
    /// the last block are collected.
    pub idle_wait: Duration,
}

impl Default for BlockPolicy {
    fn default() -> Self {
        BlockPolicy {
            max_txs: BLOCK_TXS_MAX,
            max_bytes: 4 * 1024 * 1024,
            min_interval: Duration::from_millis(100),
            idle_wait: Duration::from_millis(1000),
        }
    }
}

/// Deliberate misbehaviour, for tests only: a Byzantine validator in the network tests and the
/// simulator, and the simulator's injected bugs. All off in a real validator; `[byzantine.app]`
/// in `node.toml` with the feature `byzantine` ([`super::byzantine`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "byzantine",
    derive(serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct Faults {
    /// Put a checkpoint signature with a flipped bit in the vote extension.
    pub forge_checkpoint_signature: bool,
    /// Sign, validly, a checkpoint of a forked log (another root at the same size), past the
    /// ledger's guard.
    pub sign_forked_checkpoint: bool,
    /// Add a transaction with a broken signature to every own proposal.
    pub invalid_tx_in_proposal: bool,
    /// Stamp own proposals this many seconds away from the clock.
    pub block_time_offset_s: i64,
}

/// Transactions per proposal part.
pub const TXS_PER_PART: usize = 500;
/// Most proposal streams buffered at once, from all peers.
const STREAMS_MAX: usize = 64;
/// Most proposal streams buffered from one peer: a peer flooding streams evicts only its own.
const PEER_STREAMS_MAX: usize = 4;
/// A stream not complete this long after its first part is dropped.
const STREAM_TTL_MS: u64 = 60_000;
/// Most bytes buffered per stream; every part counts at least [`PART_OVERHEAD`].
const STREAM_BYTES_MAX: usize = 24 * 1024 * 1024;
/// What a part costs at least, whatever it carries.
const PART_OVERHEAD: usize = 64;
/// Complete proposals are kept for at most this many heights beyond the current one.
const FUTURE_HEIGHTS: u64 = 2;
/// Most complete proposals kept for future heights (the lowest heights and rounds are kept).
const FUTURE_MAX: usize = 16;
/// Most synced blocks held until their height is decided.
const SYNCED_MAX: usize = 16;
/// Most decided blocks served in one sync response.
pub const SYNC_BATCH_MAX: u64 = 16;
/// Undecided blocks are pruned every this many heights.
const PRUNE_EVERY: u64 = 16;

/// A vote extension: the checkpoint a validator signs in its precommit (the log as it had
/// committed it before this height) and its C2SP note signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointVote {
    /// Tree size.
    pub size: TreeSize,
    /// Root at that size.
    pub root: Hash,
    /// Ed25519 signature over the checkpoint note text.
    pub signature: [u8; 64],
}

/// The encoded length of a [`CheckpointVote`].
pub const CHECKPOINT_VOTE_LEN: usize = 104;

impl CheckpointVote {
    /// 8-byte size, 32-byte root, 64-byte signature.
    pub fn encode(&self) -> Bytes {
        let mut v = Vec::with_capacity(CHECKPOINT_VOTE_LEN);
        v.extend_from_slice(&self.size.0.to_be_bytes());
        v.extend_from_slice(&self.root.0);
        v.extend_from_slice(&self.signature);
        Bytes::from(v)
    }

    /// Decodes [`CheckpointVote::encode`].
    pub fn decode(b: &[u8]) -> Option<CheckpointVote> {
        if b.len() != CHECKPOINT_VOTE_LEN {
            return None;
        }
        Some(CheckpointVote {
            size: TreeSize(u64::from_be_bytes(b[..8].try_into().ok()?)),
            root: Hash(b[8..40].try_into().ok()?),
            signature: b[40..].try_into().ok()?,
        })
    }
}

/// Why another validator's checkpoint vote is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointVoteError {
    /// Not the 104-byte encoding.
    #[error("not a checkpoint vote")]
    Malformed,
    /// The address is not a validator's.
    #[error("not a validator")]
    UnknownValidator,
    /// It signs another checkpoint than this validator's log before this height: a validator on
    /// a forked log, or one that lies.
    #[error("checkpoint of size {size} is not this log's (size {local})")]
    OtherCheckpoint {
        /// Size voted.
        size: u64,
        /// This validator's size.
        local: u64,
    },
    /// The signature does not verify.
    #[error("bad checkpoint signature")]
    BadSignature,
}

/// What the core is asked. The engine's messages keep their names (`AppMsg` in Malachite).
#[derive(Clone, Debug)]
pub enum Input {
    /// The engine is ready: at which height does consensus start?
    ConsensusReady,
    /// A round started: the values this validator holds for the height.
    StartedRound {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
    },
    /// This validator proposes: the value for (height, round).
    GetValue {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
        /// The engine's propose timeout.
        timeout: Duration,
    },
    /// The transactions the core asked for with [`Effect::CollectTxs`], encoded.
    Txs {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
        /// Encoded transactions, in mempool order.
        txs: Vec<Bytes>,
    },
    /// Stream a stored proposal again.
    RestreamProposal {
        /// Height.
        height: Height,
        /// Round to stream it for.
        round: Round,
        /// The block.
        value_id: ValueId,
    },
    /// A proposal part from the network.
    ReceivedProposalPart {
        /// The peer that published it.
        from: PeerId,
        /// The part.
        part: StreamMessage<ProposalPart>,
    },
    /// Sign the checkpoint for this validator's precommit.
    ExtendVote,
    /// Check other validators' vote extensions.
    VerifyVoteExtensions {
        /// The height of the precommits that carry them.
        height: Height,
        /// Each validator's extension.
        extensions: Vec<(Address, Bytes)>,
    },
    /// A block was decided: commit it.
    Decided {
        /// Its certificate.
        certificate: CommitCertificate<BansosContext>,
        /// The precommits' extensions.
        extensions: VoteExtensions<BansosContext>,
    },
    /// A height is final: commit it if not yet, and start the next.
    Finalized {
        /// Its certificate.
        certificate: CommitCertificate<BansosContext>,
        /// The precommits' extensions.
        extensions: VoteExtensions<BansosContext>,
    },
    /// The lowest height this validator can serve.
    GetHistoryMinHeight,
    /// Decided blocks for a validator catching up.
    GetDecidedValues {
        /// First height.
        from: Height,
        /// Last height (inclusive).
        to: Height,
    },
    /// A decided block received by sync, its certificate already checked by the engine.
    ProcessSyncedValue {
        /// Height.
        height: Height,
        /// Round it was decided in.
        round: Round,
        /// Its proposer.
        proposer: Address,
        /// The block as carried.
        bytes: Bytes,
    },
}

/// The core's answer to the engine, one per [`Input`] (none for [`Input::GetValue`] until the
/// transactions come).
#[derive(Clone, Debug)]
pub enum Reply {
    /// To [`Input::ConsensusReady`]: start at this height.
    Start(Height),
    /// To [`Input::StartedRound`]: values held for the height.
    Values(Vec<ProposedValue<BansosContext>>),
    /// To [`Input::GetValue`] (after [`Input::Txs`]): this validator's proposal.
    Value(LocallyProposedValue<BansosContext>),
    /// To [`Input::ReceivedProposalPart`]: a complete value for the current height, if any.
    Part(Option<ProposedValue<BansosContext>>),
    /// To [`Input::ExtendVote`]: the extension (empty if this validator refuses to sign).
    Extension(Bytes),
    /// To [`Input::VerifyVoteExtensions`].
    Verdicts(Vec<(Address, Result<(), VoteExtensionError>)>),
    /// To [`Input::Decided`].
    Committed,
    /// To [`Input::Finalized`]: start this height next.
    Next(Height),
    /// To [`Input::GetHistoryMinHeight`].
    MinHeight(Height),
    /// To [`Input::GetDecidedValues`].
    DecidedValues(Vec<(Bytes, ExtendedCommitCertificate<BansosContext>)>),
    /// To [`Input::ProcessSyncedValue`]: the value, or `None` if the peer sent a bad one.
    Synced(Option<ProposedValue<BansosContext>>),
}

/// What the shell must do.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Answer the engine.
    Reply(Reply),
    /// Fetch transactions for a proposal and come back with [`Input::Txs`]: as soon as the
    /// mempool holds `max_txs`, or holds any and the time is `earliest_ms` or later, or at
    /// `deadline_ms` with whatever it holds.
    CollectTxs {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
        /// Not before (unless the mempool holds a full block).
        earliest_ms: u64,
        /// Not after.
        deadline_ms: u64,
        /// Most transactions.
        max_txs: usize,
        /// Most encoded bytes.
        max_bytes: usize,
    },
    /// Publish a proposal part.
    Publish(StreamMessage<ProposalPart>),
    /// A block was committed.
    Committed(Committed),
    /// A peer's proposal was invalid (for metrics and logs).
    InvalidProposal {
        /// Height.
        height: Height,
        /// Its proposer.
        proposer: Address,
        /// Why.
        why: String,
    },
    /// A validator's checkpoint vote was refused (for metrics and logs).
    RefusedCheckpointVote {
        /// The validator.
        validator: Address,
        /// Why.
        why: CheckpointVoteError,
    },
}

/// A committed block, for the shell's mempool, counters and published checkpoint.
#[derive(Clone, Debug)]
pub struct Committed {
    /// Height.
    pub height: Height,
    /// The block's time.
    pub time: u64,
    /// Hashes of the transactions appended to the log.
    pub accepted: Vec<Hash>,
    /// Transactions the rules refused, and why.
    pub rejected: Vec<(Hash, String)>,
    /// Log size after the block.
    pub size: TreeSize,
    /// Root after the block.
    pub root: Hash,
    /// The quorum-signed checkpoint (of the log before this block) to publish, and its size.
    pub checkpoint: Option<(Vec<u8>, TreeSize)>,
    /// The members in force from the next height, when this block approved a change.
    pub roster: Option<Roster>,
}

/// The validator set of a roster and its validators' checkpoint keys by member id.
fn validators_of(roster: &Roster) -> (ValidatorSet, BTreeMap<u16, VerifierKey>) {
    let vkeys = roster
        .validators()
        .filter_map(|m| {
            Some((
                m.id.0,
                VerifierKey::new(&m.name, KeyKind::Ed25519, m.verifying_key()?),
            ))
        })
        .collect();
    (ValidatorSet::from_roster(roster), vkeys)
}

/// Parts of one proposal stream received so far.
struct Parts {
    msgs: BTreeMap<u64, StreamContent<ProposalPart>>,
    fin: Option<u64>,
    bytes: usize,
    opened_ms: u64,
    /// Arrival order, to evict the oldest without ties.
    serial: u64,
}

/// A block checked for the current height: its validity and, if valid, the rules' result.
type Checked = (Validity, Option<Executed>);

/// The consensus application of one validator, as a state machine.
pub struct Core<S: ConsensusStore> {
    ctx: BansosContext,
    network: Network,
    vs: ValidatorSet,
    /// The members in force at [`Core::height`] (the validator set is theirs).
    roster: Roster,
    timeouts: LinearTimeouts,
    me: Address,
    key: SignerKey,
    vkeys: BTreeMap<u16, VerifierKey>,
    ledger: Ledger<S>,
    policy: BlockPolicy,
    faults: Faults,
    drift_s: u64,
    height: Height,
    streams: BTreeMap<(PeerId, StreamId), Parts>,
    serial: u64,
    future: BTreeMap<(u64, u32, [u8; 32]), StoredBlock>,
    synced: BTreeMap<(u64, [u8; 32]), Bytes>,
    checked: BTreeMap<ValueId, Checked>,
    last_time: u64,
    last_decided_ms: u64,
    restreams: u8,
    /// The round this validator is in (from [`Input::StartedRound`]).
    round: u32,
    /// The last height committed and the checkpoint before it (what its precommits signed).
    previous: Option<(u64, Checkpoint)>,
}

/// A rejection that only a faulty proposer causes: an honest one checks these at admission.
fn proposer_fault(r: &Rejection) -> bool {
    matches!(
        r,
        Rejection::UnknownSigner(_)
            | Rejection::BadSignature
            | Rejection::RoleNotAllowed { .. }
            | Rejection::Malformed(_)
    )
}

fn round_u32(r: Round) -> u32 {
    r.as_u32().unwrap_or(0)
}

impl<S: ConsensusStore> Core<S>
where
    S::Error: std::error::Error + Send + Sync + 'static,
{
    /// A core over an opened ledger, at the height after the ledger's last block.
    pub fn new(
        ctx: BansosContext,
        me: Address,
        key: SignerKey,
        ledger: Ledger<S>,
        policy: BlockPolicy,
    ) -> anyhow::Result<Core<S>> {
        let network = ledger.network().clone();
        let roster = governance(&network, ledger.store())?.roster;
        let (vs, vkeys) = validators_of(&roster);
        let height = ledger.store().height()?;
        let last_time = match ledger.store().decided(height)? {
            Some((b, _)) => StoredBlock::decode(&b)?.header.time,
            None => 0,
        };
        Ok(Core {
            timeouts: super::ctx::timeouts(&network),
            drift_s: (network.genesis.consensus.block_time_drift_ms / 1000).max(1),
            ctx,
            vs,
            roster,
            me,
            key,
            vkeys,
            network,
            ledger,
            policy,
            faults: Faults::default(),
            height: Height(height + 1),
            streams: BTreeMap::new(),
            serial: 0,
            future: BTreeMap::new(),
            synced: BTreeMap::new(),
            checked: BTreeMap::new(),
            last_time,
            last_decided_ms: 0,
            restreams: 0,
            round: 0,
            previous: None,
        })
    }

    /// Switches on deliberate misbehaviour (tests only).
    pub fn set_faults(&mut self, faults: Faults) {
        if faults != Faults::default() {
            tracing::warn!(?faults, "THIS VALIDATOR MISBEHAVES ON PURPOSE (test only)");
        }
        self.faults = faults;
    }

    /// The validator set of the height being decided.
    pub fn validator_set(&self) -> &ValidatorSet {
        &self.vs
    }

    /// This validator's member id.
    fn me_id(&self) -> bansos_verifier::entry::MemberId {
        bansos_verifier::entry::MemberId(self.me.0)
    }

    /// The members in force at the height being decided.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The current epoch and where its checkpoints start, if a change approved before `height`
    /// started it and its first checkpoint is not stored yet.
    fn epoch_without_checkpoint(&self, height: u64) -> anyhow::Result<Option<(u64, u64)>> {
        let Some(last) = self
            .ledger
            .store()
            .governance()?
            .and_then(|g| g.approved.last().cloned())
        else {
            return Ok(None);
        };
        if last.height >= height || self.ledger.store().epoch_checkpoint(last.epoch)?.is_some() {
            return Ok(None);
        }
        Ok(Some((last.epoch, last.start_size)))
    }

    /// Refuses to go on at a height from which the network runs rules this software does not
    /// implement: the node stops with the reason instead of forking.
    fn ensure_rules(&self, height: Height) -> anyhow::Result<()> {
        if let Some((from, version)) = self.roster.upgrade
            && height.0 >= from
            && version > RULES_VERSION
        {
            anyhow::bail!(
                "{}",
                bansos_ledger::rules::BlockError::<std::convert::Infallible>::UpgradeRequired {
                    height: from,
                    version
                }
            );
        }
        Ok(())
    }

    /// The consensus timeouts of the genesis.
    pub fn timeouts(&self) -> LinearTimeouts {
        self.timeouts
    }

    /// The ledger (reads).
    pub fn ledger(&self) -> &Ledger<S> {
        &self.ledger
    }

    /// Gives the ledger back (a simulated crash keeps only what the store holds).
    pub fn into_ledger(self) -> Ledger<S> {
        self.ledger
    }

    /// The height being decided.
    pub fn height(&self) -> Height {
        self.height
    }

    /// Handles one input at time `now_ms` (Unix milliseconds). `admitted` says whether the
    /// mempool admitted a transaction (its stateless checks passed): the rules skip them again.
    pub fn on(
        &mut self,
        input: Input,
        now_ms: u64,
        admitted: &dyn Fn(&Hash) -> bool,
    ) -> anyhow::Result<Vec<Effect>> {
        let mut out = Vec::new();
        match input {
            Input::ConsensusReady => {
                let start = Height(self.ledger.store().height()? + 1);
                self.ensure_rules(start)?;
                tracing::info!(height = start.0, "consensus ready");
                out.push(Effect::Reply(Reply::Start(start)));
            }
            Input::StartedRound { height, round } => {
                let values = self.started_round(height, round, now_ms, admitted, &mut out)?;
                out.push(Effect::Reply(Reply::Values(values)));
            }
            Input::GetValue {
                height,
                round,
                timeout,
            } => self.get_value(height, round, timeout, now_ms, &mut out)?,
            Input::Txs { height, round, txs } => {
                let b = self.build(height, round, txs, now_ms)?;
                out.push(Effect::Reply(Reply::Value(LocallyProposedValue::new(
                    height, round, b.header,
                ))));
                self.stream(&b, height, round, &mut out);
            }
            Input::RestreamProposal {
                height,
                round,
                value_id,
            } => {
                if let Some(bytes) = self.ledger.store().undecided(height.0, value_id.0)?
                    && let Ok(b) = StoredBlock::decode(&bytes)
                {
                    self.stream(&b, height, round, &mut out);
                }
            }
            Input::ReceivedProposalPart { from, part } => {
                let value = self.receive_part(from, part, now_ms, admitted, &mut out)?;
                out.push(Effect::Reply(Reply::Part(value)));
            }
            Input::ExtendVote => {
                out.push(Effect::Reply(Reply::Extension(self.extend_vote())));
            }
            Input::VerifyVoteExtensions { height, extensions } => {
                let verdicts = extensions
                    .into_iter()
                    .map(
                        |(addr, ext)| match self.checkpoint_vote_at(height, addr, &ext) {
                            Ok(_) => (addr, Ok(())),
                            Err(why) => {
                                out.push(Effect::RefusedCheckpointVote {
                                    validator: addr,
                                    why,
                                });
                                (addr, Err(VoteExtensionError::InvalidVoteExtension))
                            }
                        },
                    )
                    .collect();
                out.push(Effect::Reply(Reply::Verdicts(verdicts)));
            }
            Input::Decided {
                certificate,
                extensions,
            } => {
                self.commit(certificate, extensions, now_ms, admitted, &mut out)?;
                out.push(Effect::Reply(Reply::Committed));
            }
            Input::Finalized {
                certificate,
                extensions,
            } => {
                let h = certificate.height;
                if h.0 > self.ledger.store().height()? {
                    self.commit(certificate, extensions, now_ms, admitted, &mut out)?;
                }
                out.push(Effect::Reply(Reply::Next(Height(h.0 + 1))));
            }
            Input::GetHistoryMinHeight => {
                let min = self.ledger.store().decided_min_height()?;
                out.push(Effect::Reply(Reply::MinHeight(Height(min))));
            }
            Input::GetDecidedValues { from, to } => {
                let values = self.decided_values(from, to)?;
                out.push(Effect::Reply(Reply::DecidedValues(values)));
            }
            Input::ProcessSyncedValue {
                height,
                round,
                proposer,
                bytes,
            } => {
                let value = self.synced_value(height, round, proposer, bytes);
                out.push(Effect::Reply(Reply::Synced(value)));
            }
        }
        Ok(out)
    }

    fn started_round(
        &mut self,
        height: Height,
        round: Round,
        now_ms: u64,
        admitted: &dyn Fn(&Hash) -> bool,
        out: &mut Vec<Effect>,
    ) -> anyhow::Result<Vec<ProposedValue<BansosContext>>> {
        if height != self.height {
            self.height = height;
            self.checked.clear();
        }
        self.ensure_rules(height)?;
        let mut values = Vec::new();
        for bytes in self.ledger.store().undecided_at(height.0)? {
            let Ok(b) = StoredBlock::decode(&bytes) else {
                continue;
            };
            let validity = self.check(&b, None, admitted, out);
            values.push(proposed(height, &b, validity));
        }
        self.round = round_u32(round);
        let future = std::mem::take(&mut self.future);
        for ((h, _, _), b) in future {
            if h == height.0 {
                let validity = self.check(&b, Some(now_ms), admitted, out);
                self.ledger
                    .consensus_records()
                    .put_undecided(h, b.header.id().0, &b.encode())?;
                values.push(proposed(height, &b, validity));
            } else if h > height.0 {
                self.future
                    .insert((h, round_u32(b.round), b.header.id().0), b);
            }
        }
        Ok(values)
    }

    fn get_value(
        &mut self,
        height: Height,
        round: Round,
        timeout: Duration,
        now_ms: u64,
        out: &mut Vec<Effect>,
    ) -> anyhow::Result<()> {
        let r = round_u32(round);
        if let Some(id) = self.ledger.store().own_proposal(height.0, r)?
            && let Some(bytes) = self.ledger.store().undecided(height.0, id)?
        {
            tracing::info!(
                height = height.0,
                round = r,
                "proposing the stored block again"
            );
            let b = StoredBlock::decode(&bytes)?;
            out.push(Effect::Reply(Reply::Value(LocallyProposedValue::new(
                height, round, b.header,
            ))));
            self.stream(&b, height, round, out);
            return Ok(());
        }
        let idle = self.policy.idle_wait.min(timeout / 2);
        out.push(Effect::CollectTxs {
            height,
            round,
            earliest_ms: self.last_decided_ms + self.policy.min_interval.as_millis() as u64,
            deadline_ms: now_ms + idle.as_millis() as u64,
            max_txs: self.policy.max_txs,
            max_bytes: self.policy.max_bytes,
        });
        Ok(())
    }

    /// This validator's block for (height, round) from the fetched transactions, stored (with
    /// the record that it is this validator's proposal) before it is returned.
    fn build(
        &mut self,
        height: Height,
        round: Round,
        mut txs: Vec<Bytes>,
        now_ms: u64,
    ) -> anyhow::Result<StoredBlock> {
        let r = round_u32(round);
        if let Some(id) = self.ledger.store().own_proposal(height.0, r)?
            && let Some(bytes) = self.ledger.store().undecided(height.0, id)?
        {
            return Ok(StoredBlock::decode(&bytes)?);
        }
        if self.faults.invalid_tx_in_proposal {
            let mut bad = txs
                .first()
                .map(|t| t.to_vec())
                .unwrap_or_else(|| vec![0; 8]);
            if let Some(last) = bad.last_mut() {
                *last ^= 1;
            }
            txs.push(Bytes::from(bad));
        }
        let mut time = (now_ms / 1000).max(self.last_time);
        if self.faults.block_time_offset_s != 0 {
            time = time.saturating_add_signed(self.faults.block_time_offset_s);
        }
        let header = BlockHeader {
            height: height.0,
            time,
            tx_count: txs.len() as u32,
            body_hash: body_hash(&txs),
        };
        let id = header.id();
        let signature = ed25519_dalek::Signer::sign(
            self.key.signing_key(),
            &parts_sign_bytes(&self.ctx, height, round, Round::Nil, self.me, &id),
        )
        .to_bytes();
        let b = StoredBlock {
            round,
            pol_round: Round::Nil,
            proposer: self.me,
            fin_signature: signature,
            header,
            txs,
        };
        // The own block is not run through the rules here: that would delay the proposal; its
        // transactions passed the stateless checks at admission, and the rules run at commit.
        let records = self.ledger.consensus_records();
        records.put_undecided(height.0, id.0, &b.encode())?;
        records.put_own_proposal(height.0, r, id.0)?;
        tracing::debug!(height = height.0, round = r, txs = b.txs.len(), "proposing");
        Ok(b)
    }

    /// A block's parts: Init, the transactions in chunks, the signed Fin, end of stream.
    fn stream(&mut self, b: &StoredBlock, height: Height, round: Round, out: &mut Vec<Effect>) {
        self.restreams = self.restreams.wrapping_add(1);
        let mut id = Vec::with_capacity(13);
        id.extend_from_slice(&height.0.to_be_bytes());
        id.extend_from_slice(&round_u32(round).to_be_bytes());
        id.push(self.restreams);
        let stream_id = StreamId::new(Bytes::from(id));
        let mut parts = vec![ProposalPart::Init {
            height,
            round: b.round,
            pol_round: b.pol_round,
            proposer: b.proposer,
            header: b.header,
        }];
        for chunk in b.txs.chunks(TXS_PER_PART) {
            parts.push(ProposalPart::Data {
                txs: chunk.to_vec(),
            });
        }
        parts.push(ProposalPart::Fin {
            signature: b.fin_signature,
        });
        let mut seq = 0u64;
        for p in parts {
            out.push(Effect::Publish(StreamMessage::new(
                stream_id.clone(),
                seq,
                StreamContent::Data(p),
            )));
            seq += 1;
        }
        out.push(Effect::Publish(StreamMessage::new(
            stream_id,
            seq,
            StreamContent::Fin,
        )));
    }

    /// Whether an Init part names a height this validator could use and that height and
    /// round's proposer: parts of any other stream are not buffered.
    fn plausible_init(&self, part: &StreamContent<ProposalPart>) -> bool {
        match part {
            StreamContent::Data(ProposalPart::Init {
                height,
                round,
                proposer,
                ..
            }) => {
                *height >= self.height
                    && height.0 <= self.height.0 + FUTURE_HEIGHTS
                    && round.as_u32().is_some()
                    && self.ctx.select_proposer(&self.vs, *height, *round).address == *proposer
            }
            _ => true,
        }
    }

    /// Buffers a part; when its stream is complete, checks and stores the block and returns it
    /// for consensus (if it is for the current height).
    fn receive_part(
        &mut self,
        publisher: PeerId,
        part: StreamMessage<ProposalPart>,
        now_ms: u64,
        admitted: &dyn Fn(&Hash) -> bool,
        out: &mut Vec<Effect>,
    ) -> anyhow::Result<Option<ProposedValue<BansosContext>>> {
        self.streams
            .retain(|_, p| now_ms.saturating_sub(p.opened_ms) <= STREAM_TTL_MS);
        let key = (publisher, part.stream_id.clone());
        if !self.plausible_init(&part.content) {
            self.streams.remove(&key);
            return Ok(None);
        }
        if !self.streams.contains_key(&key) {
            self.make_room(publisher);
            self.serial += 1;
            self.streams.insert(
                key.clone(),
                Parts {
                    msgs: BTreeMap::new(),
                    fin: None,
                    bytes: 0,
                    opened_ms: now_ms,
                    serial: self.serial,
                },
            );
        }
        let parts = self.streams.get_mut(&key).expect("inserted above");
        let size = PART_OVERHEAD
            + match &part.content {
                StreamContent::Data(ProposalPart::Data { txs }) => {
                    txs.iter().map(|t| t.len() + 4).sum::<usize>()
                }
                _ => 0,
            };
        parts.bytes += size;
        if parts.bytes > STREAM_BYTES_MAX {
            self.streams.remove(&key);
            return Ok(None);
        }
        if part.content.is_fin() {
            parts.fin = Some(part.sequence);
        }
        parts.msgs.entry(part.sequence).or_insert(part.content);
        let complete = parts.fin.is_some_and(|f| parts.msgs.len() as u64 == f + 1);
        if !complete {
            return Ok(None);
        }
        let parts = self.streams.remove(&key).expect("present");
        let Some(b) = self.assemble(parts) else {
            return Ok(None);
        };
        let h = Height(b.header.height);
        if h < self.height {
            return Ok(None);
        }
        if h > self.height {
            self.keep_future(b);
            return Ok(None);
        }
        let validity = self.check(&b, Some(now_ms), admitted, out);
        self.ledger
            .consensus_records()
            .put_undecided(h.0, b.header.id().0, &b.encode())?;
        Ok(Some(proposed(h, &b, validity)))
    }

    /// Makes room for a new stream of `publisher`: its own oldest stream goes if it holds
    /// [`PEER_STREAMS_MAX`]. If all peers together hold [`STREAMS_MAX`], a stream goes that has
    /// not shown a plausible Init part (the oldest), or else the oldest of the peer holding the
    /// most: a stranger opening streams, from one peer id or many, evicts its own first.
    fn make_room(&mut self, publisher: PeerId) {
        let mut count: BTreeMap<PeerId, usize> = BTreeMap::new();
        for (peer, _) in self.streams.keys() {
            *count.entry(*peer).or_default() += 1;
        }
        let own_oldest = |streams: &BTreeMap<(PeerId, StreamId), Parts>| {
            streams
                .iter()
                .filter(|((peer, _), _)| *peer == publisher)
                .min_by_key(|(_, p)| p.serial)
                .map(|(k, _)| k.clone())
        };
        if count.get(&publisher).copied().unwrap_or(0) >= PEER_STREAMS_MAX {
            if let Some(k) = own_oldest(&self.streams) {
                self.streams.remove(&k);
            }
            return;
        }
        if self.streams.len() >= STREAMS_MAX
            && let Some(k) = self
                .streams
                .iter()
                .min_by_key(|((peer, _), p)| {
                    (
                        p.msgs.contains_key(&0),
                        std::cmp::Reverse(count.get(peer).copied().unwrap_or(0)),
                        p.serial,
                    )
                })
                .map(|(k, _)| k.clone())
        {
            self.streams.remove(&k);
        }
    }

    /// Keeps a complete proposal for a later height: at most [`FUTURE_HEIGHTS`] ahead, at most
    /// [`FUTURE_MAX`] in all, the lowest (height, round) first: far-future blocks cannot push
    /// out the next height's proposal.
    fn keep_future(&mut self, b: StoredBlock) {
        let h = b.header.height;
        if h > self.height.0 + FUTURE_HEIGHTS {
            return;
        }
        let key = (h, round_u32(b.round), b.header.id().0);
        self.future.insert(key, b);
        while self.future.len() > FUTURE_MAX {
            self.future.pop_last();
        }
    }

    /// Puts a complete stream together and checks its shape and the proposer's signature.
    fn assemble(&self, parts: Parts) -> Option<StoredBlock> {
        let mut it = parts.msgs.into_values();
        let StreamContent::Data(ProposalPart::Init {
            height,
            round,
            pol_round,
            proposer,
            header,
        }) = it.next()?
        else {
            return None;
        };
        let mut txs = Vec::new();
        let mut signature = None;
        for c in it {
            match c {
                StreamContent::Data(ProposalPart::Data { txs: chunk }) if signature.is_none() => {
                    txs.extend(chunk)
                }
                StreamContent::Data(ProposalPart::Fin { signature: s }) if signature.is_none() => {
                    signature = Some(s)
                }
                StreamContent::Fin if signature.is_some() => {}
                _ => return None,
            }
        }
        let signature = signature?;
        if height.0 != header.height
            || txs.len() != header.tx_count as usize
            || body_hash(&txs) != header.body_hash
        {
            return None;
        }
        let expected = self.ctx.select_proposer(&self.vs, height, round);
        if expected.address != proposer {
            return None;
        }
        let msg = parts_sign_bytes(&self.ctx, height, round, pol_round, proposer, &header.id());
        expected
            .public_key
            .verify(&msg, &Signature::from_bytes(signature))
            .ok()?;
        Some(StoredBlock {
            round,
            pol_round,
            proposer,
            fin_signature: signature,
            header,
            txs,
        })
    }

    /// Whether a block for the current height is valid (see [`Core::validate`]); the rules'
    /// result is kept for the commit. `live` is the time to compare the block's with, for a
    /// proposal being voted on now (none for a stored one, already checked before a crash).
    ///
    /// A verdict of the rules is final for the height, and so is Valid; a block refused only for
    /// its time is judged again when it comes back (restreamed in a later round, its time is no
    /// longer checked against this validator's clock): a clock that was off when the block first
    /// arrived must not make the value the others are locked on invalid here for good.
    fn check(
        &mut self,
        b: &StoredBlock,
        live: Option<u64>,
        admitted: &dyn Fn(&Hash) -> bool,
        out: &mut Vec<Effect>,
    ) -> Validity {
        let id = b.header.id();
        if let Some((v, _)) = self.checked.get(&id) {
            return *v;
        }
        if let Err(why) = self.timely(b, live) {
            Self::refused(b, why, out);
            return Validity::Invalid;
        }
        let (validity, executed) = match self.validate(b, None, admitted) {
            Ok(ex) => (Validity::Valid, Some(ex)),
            Err(why) => {
                Self::refused(b, why, out);
                (Validity::Invalid, None)
            }
        };
        self.checked.insert(id, (validity, executed));
        validity
    }

    fn refused(b: &StoredBlock, why: String, out: &mut Vec<Effect>) {
        tracing::warn!(height = b.header.height, proposer = %b.proposer, "invalid block: {why}");
        out.push(Effect::InvalidProposal {
            height: Height(b.header.height),
            proposer: b.proposer,
            why,
        });
    }

    /// For a live proposal (`live` is this validator's clock): a block is never from the
    /// future, and it is from the past only if proposed in an earlier round and received now —
    /// its time was checked by those who voted for it then, and a validator that missed it must
    /// be able to vote for it later (it may be the polka's value others are locked on).
    fn timely(&self, b: &StoredBlock, live: Option<u64>) -> Result<(), String> {
        let Some(now_ms) = live else {
            return Ok(());
        };
        let now = now_ms / 1000;
        let drift = self.drift_s;
        let fresh = round_u32(b.round) >= self.round;
        if b.header.time > now + drift || (fresh && b.header.time + drift < now) {
            return Err(format!(
                "block time {} is more than {drift} s from this validator's clock ({now})",
                b.header.time
            ));
        }
        Ok(())
    }

    /// A block is valid if it is for the next height, its time is not before the last block's
    /// and (for a live proposal) within the drift bound of `now_ms` ([`Core::timely`]), and the
    /// ledger rules accept it without any transaction an honest proposer would have refused at
    /// admission.
    pub fn validate(
        &self,
        b: &StoredBlock,
        live: Option<u64>,
        admitted: &dyn Fn(&Hash) -> bool,
    ) -> Result<Executed, String> {
        if b.header.height != self.ledger.store().height().map_err(|e| e.to_string())? + 1 {
            return Err("not the next height".into());
        }
        if b.header.time < self.last_time {
            return Err("block time before the previous block's".into());
        }
        self.timely(b, live)?;
        let executed = self.execute(b, admitted).map_err(|e| e.to_string())?;
        if let Some((_, r)) = executed
            .outcome
            .rejected
            .iter()
            .find(|(_, r)| proposer_fault(r))
        {
            return Err(format!("carries a transaction refused at admission: {r}"));
        }
        Ok(executed)
    }

    /// Runs the ledger rules on a block against the committed state, writing nothing: the one
    /// place a block is executed, whether checked as a proposal or committed once decided.
    pub fn execute(
        &self,
        b: &StoredBlock,
        admitted: &dyn Fn(&Hash) -> bool,
    ) -> anyhow::Result<Executed> {
        let txs = b
            .txs
            .iter()
            .map(|t| SignedTx::decode(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("a transaction does not decode: {e}"))?;
        let block = Block {
            height: b.header.height,
            time: b.header.time,
            txs,
        };
        Ok(self.ledger.execute_prechecked(&block, admitted)?)
    }

    /// Signs the checkpoint of the log as committed (guarded: never two inconsistent ones).
    fn extend_vote(&mut self) -> Bytes {
        let cp = self.ledger.checkpoint();
        let signed = if self.faults.sign_forked_checkpoint {
            let mut root = cp.root;
            root.0[0] ^= 1;
            let forked = Checkpoint::new(&self.network.genesis.origin, cp.size, root);
            Ok((
                root,
                NoteSignature::sign(self.key.name(), self.key.signing_key(), &forked.body()),
            ))
        } else {
            self.ledger.sign_checkpoint(&self.key).map(|s| (cp.root, s))
        };
        match signed {
            Ok((root, sig)) => {
                let mut signature: [u8; 64] =
                    sig.signature.as_slice().try_into().expect("64 bytes");
                if self.faults.forge_checkpoint_signature {
                    signature[0] ^= 1;
                }
                CheckpointVote {
                    size: cp.size,
                    root,
                    signature,
                }
                .encode()
            }
            Err(e) => {
                // An empty extension makes the others drop this precommit: this validator
                // stops voting rather than sign an inconsistent checkpoint.
                tracing::error!(error = %e, "refusing to sign the checkpoint; not voting");
                Bytes::new()
            }
        }
    }

    /// Another validator's checkpoint vote, checked: its valid signature on exactly the
    /// checkpoint of this validator's log before the current height. An honest validator
    /// deciding this height has committed the same log, so anything else (a forked log, a size
    /// beyond this log) is refused, and a precommit carrying it does not count.
    pub fn checkpoint_vote(
        &self,
        addr: Address,
        ext: &[u8],
    ) -> Result<NoteSignature, CheckpointVoteError> {
        self.check_vote_against(&self.ledger.checkpoint(), addr, ext)
    }

    /// [`Core::checkpoint_vote`] for a precommit of `height`: one of the height just committed
    /// (arriving late, while the engine finalizes it) signs the log before that height, which
    /// this validator kept; an honest late precommit is not refused.
    fn checkpoint_vote_at(
        &self,
        height: Height,
        addr: Address,
        ext: &[u8],
    ) -> Result<NoteSignature, CheckpointVoteError> {
        match &self.previous {
            Some((h, cp)) if *h == height.0 => self.check_vote_against(cp, addr, ext),
            _ => self.checkpoint_vote(addr, ext),
        }
    }

    fn check_vote_against(
        &self,
        cp: &Checkpoint,
        addr: Address,
        ext: &[u8],
    ) -> Result<NoteSignature, CheckpointVoteError> {
        let vote = CheckpointVote::decode(ext).ok_or(CheckpointVoteError::Malformed)?;
        let vkey = self
            .vkeys
            .get(&addr.0)
            .ok_or(CheckpointVoteError::UnknownValidator)?;
        if vote.size != cp.size || vote.root != cp.root {
            return Err(CheckpointVoteError::OtherCheckpoint {
                size: vote.size.0,
                local: cp.size.0,
            });
        }
        let sig = ed25519_dalek::Signature::from_bytes(&vote.signature);
        vkey.public_key()
            .verify_strict(cp.body().as_bytes(), &sig)
            .map_err(|_| CheckpointVoteError::BadSignature)?;
        Ok(NoteSignature {
            name: vkey.name().to_string(),
            key_id: vkey.key_id(),
            signature: vote.signature.to_vec(),
        })
    }

    /// The checkpoint of the log before this block with the signatures of the deciding
    /// validators on it (and this validator's), if they make a quorum.
    fn collect_checkpoint(
        &mut self,
        extensions: &VoteExtensions<BansosContext>,
        out: &mut Vec<Effect>,
    ) -> Option<(Vec<u8>, TreeSize)> {
        let cp = self.ledger.checkpoint();
        let mut sigs: BTreeMap<String, NoteSignature> = BTreeMap::new();
        for (addr, signed) in &extensions.extensions {
            match self.checkpoint_vote(*addr, &signed.message) {
                Ok(sig) => {
                    sigs.insert(sig.name.clone(), sig);
                }
                Err(why) => out.push(Effect::RefusedCheckpointVote {
                    validator: *addr,
                    why,
                }),
            }
        }
        // Only a validator of this height signs, with the key the roster gives it: a removed
        // member's node, or a rotated one not yet restarted with its new key, adds nothing.
        let mine = self.key.signing_key().verifying_key().to_bytes();
        let validates = self
            .roster
            .member(self.me_id())
            .is_some_and(|m| m.is_validator() && m.key == Some(mine));
        if validates
            && !sigs.contains_key(self.key.name())
            && !self.faults.sign_forked_checkpoint
            && let Ok(own) = self.ledger.sign_checkpoint(&self.key)
        {
            sigs.insert(own.name.clone(), own);
        }
        let power: u64 = sigs
            .keys()
            .filter_map(|name| self.roster.validators().find(|m| &m.name == name))
            .map(|m| m.power)
            .sum();
        if power < self.roster.quorum_power() {
            return None;
        }
        Some((cp.to_note(sigs.into_values()).to_bytes(), cp.size))
    }

    /// Commits a decided block: rules (already run when the block was checked), log, state,
    /// block, certificate and the quorum-signed checkpoint of the previous log, in one atomic
    /// write.
    fn commit(
        &mut self,
        certificate: CommitCertificate<BansosContext>,
        extensions: VoteExtensions<BansosContext>,
        now_ms: u64,
        admitted: &dyn Fn(&Hash) -> bool,
        out: &mut Vec<Effect>,
    ) -> anyhow::Result<()> {
        let h = certificate.height;
        let stored = self.ledger.store().height()?;
        if h.0 <= stored {
            return Ok(());
        }
        anyhow::ensure!(
            h.0 == stored + 1,
            "decided height {} but the ledger is at {stored}",
            h.0
        );
        let id = certificate.value_id;
        let bytes = match self.ledger.store().undecided(h.0, id.0)? {
            Some(b) => b,
            None => self
                .synced
                .remove(&(h.0, id.0))
                .map(|b| b.to_vec())
                .ok_or_else(|| {
                    anyhow::anyhow!("height {} was decided but its block is not stored", h.0)
                })?,
        };
        let b = StoredBlock::decode(&bytes)?;
        anyhow::ensure!(
            b.header.id() == id,
            "the block stored for height {} is not the one decided",
            h.0
        );
        let executed = match self.checked.remove(&id) {
            Some((_, Some(ex))) if ex.is_current(&self.ledger) => ex,
            _ => self.execute(&b, admitted)?,
        };
        let published = self.collect_checkpoint(&extensions, out);
        let before = self.ledger.checkpoint();
        let cert = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
            certificate,
            extensions,
        );
        // The first checkpoint of an epoch (of the log after the block that approved its
        // change) is kept for ever: the key history links it (docs/FORMAT.md, "Key history").
        // Normally the one collected at the first height of the epoch; should that height have
        // published none here, the first one after it.
        let epoch_checkpoint = match (&published, self.epoch_without_checkpoint(h.0)?) {
            (Some((note, size)), Some((epoch, start))) if size.0 >= start => {
                Some((epoch, note.clone()))
            }
            _ => None,
        };
        let record = DecidedRecord {
            block: bytes,
            certificate: encode_extended_certificate(&cert),
            published_checkpoint: published.as_ref().map(|(n, _)| n.clone()),
            epoch_checkpoint,
        };
        let applied = self.ledger.commit_executed(executed, Some(record))?;
        let roster = governance(&self.network, self.ledger.store())?.roster;
        let changed = (roster.epoch != self.roster.epoch).then(|| {
            tracing::info!(
                epoch = roster.epoch,
                height = h.0 + 1,
                validators = roster.validators().count(),
                "a governance change takes effect"
            );
            let (vs, vkeys) = validators_of(&roster);
            self.vs = vs;
            self.vkeys = vkeys;
            self.roster = roster.clone();
            roster
        });
        self.previous = Some((h.0, before));
        self.last_time = b.header.time;
        self.last_decided_ms = now_ms;
        self.checked.clear();
        self.synced.retain(|(sh, _), _| *sh > h.0);
        self.height = Height(h.0 + 1);
        if h.0.is_multiple_of(PRUNE_EVERY) {
            self.ledger.consensus_records().prune_undecided(h.0)?;
        }
        tracing::debug!(
            height = h.0,
            txs = applied.outcome.accepted.len(),
            size = applied.size.0,
            "committed"
        );
        out.push(Effect::Committed(Committed {
            height: h,
            time: b.header.time,
            accepted: applied.outcome.accepted.iter().map(|a| a.hash).collect(),
            rejected: applied
                .outcome
                .rejected
                .iter()
                .map(|(h, r)| (*h, r.to_string()))
                .collect(),
            size: applied.size,
            root: applied.root,
            checkpoint: published,
            roster: changed,
        }));
        Ok(())
    }

    fn decided_values(
        &self,
        from: Height,
        to: Height,
    ) -> anyhow::Result<Vec<(Bytes, ExtendedCommitCertificate<BansosContext>)>> {
        let tip = self.ledger.store().height()?;
        let start = from.0.max(1);
        let end = to.0.min(tip).min(start + SYNC_BATCH_MAX - 1);
        let mut values = Vec::new();
        for h in start..=end {
            let Some((block, cert)) = self.ledger.store().decided(h)? else {
                break;
            };
            values.push((Bytes::from(block), decode_extended_certificate(&cert)?));
        }
        Ok(values)
    }

    /// A block received by sync. It is held in memory, not stored: the engine compares its id
    /// with the certificate's after this answer, and only the decided one is committed (with
    /// its bytes, in the commit's own write).
    fn synced_value(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
        bytes: Bytes,
    ) -> Option<ProposedValue<BansosContext>> {
        let b = StoredBlock::decode(&bytes).ok()?;
        if b.header.height != height.0 || height < self.height {
            return None;
        }
        self.synced.insert((height.0, b.header.id().0), bytes);
        while self.synced.len() > SYNCED_MAX {
            self.synced.pop_last();
        }
        Some(ProposedValue {
            height,
            round,
            valid_round: Round::Nil,
            proposer,
            value: b.header,
            validity: Validity::Valid,
        })
    }
}

fn proposed(h: Height, b: &StoredBlock, validity: Validity) -> ProposedValue<BansosContext> {
    ProposedValue {
        height: h,
        round: b.round,
        valid_round: b.pol_round,
        proposer: b.proposer,
        value: b.header,
        validity,
    }
}

#[cfg(test)]
mod tests;
