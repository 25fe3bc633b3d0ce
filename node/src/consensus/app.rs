//! The application side of consensus: answers every message of the Malachite engine.
//!
//! - It proposes blocks from the mempool, streams them as parts, and stores its own proposal per
//!   (height, round) before answering, so it proposes the same block again after a crash.
//! - It assembles received parts, checks the proposer's signature, runs the ledger rules on the
//!   block (without writing) and stores the block before answering: a block whose transactions
//!   a proposer should never have included (bad signature, wrong role, malformed) or whose time
//!   is out of bounds is invalid, and this validator votes against it.
//! - In its precommit it signs the checkpoint of the log as committed so far (vote extension);
//!   when a block is decided, it commits the block, its certificate, the state and the log in
//!   one redb transaction together with the checkpoint signed by the deciding quorum, which the
//!   API then publishes.
//! - It serves decided blocks to validators catching up and accepts synced ones.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bansos_genesis::Network;
use bansos_ledger::ledger::{Executed, Ledger};
use bansos_ledger::rules::{BLOCK_TXS_MAX, Block, Rejection};
use bansos_ledger::store::{DecidedRecord, StateRead};
use bansos_store::RedbStore;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::entry::SignedTx;
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::note::{NoteSignature, SignerKey, VerifierKey};
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::VoteExtensionError;
use malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, Context as _, ExtendedCommitCertificate, LinearTimeouts, Round, Validity,
    Value as _, VoteExtensionPolicy, VoteExtensions,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId, ProposedValue};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use malachitebft_signing_ed25519::Signature;
use tokio::sync::RwLock;

use super::block::StoredBlock;
use super::codec::{decode_extended_certificate, encode_extended_certificate};
use super::ctx::{
    Address, BansosContext, Height, ProposalPart, ValidatorSet, ValueId, body_hash,
    parts_sign_bytes,
};
use crate::http::Published;
use crate::live::{Counters, Live};

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

/// Transactions per proposal part.
const TXS_PER_PART: usize = 500;
/// Most proposal streams buffered at once (untrusted peers may open many).
const STREAMS_MAX: usize = 64;
/// Most bytes buffered per stream.
const STREAM_BYTES_MAX: usize = 24 * 1024 * 1024;
/// Most complete proposals kept for future heights.
const FUTURE_MAX: usize = 16;
/// Most decided blocks served in one sync response.
const SYNC_BATCH_MAX: u64 = 16;
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

impl CheckpointVote {
    /// 8-byte size, 32-byte root, 64-byte signature.
    pub fn encode(&self) -> Bytes {
        let mut v = Vec::with_capacity(104);
        v.extend_from_slice(&self.size.0.to_be_bytes());
        v.extend_from_slice(&self.root.0);
        v.extend_from_slice(&self.signature);
        Bytes::from(v)
    }

    /// Decodes [`CheckpointVote::encode`].
    pub fn decode(b: &[u8]) -> Option<CheckpointVote> {
        if b.len() != 104 {
            return None;
        }
        Some(CheckpointVote {
            size: TreeSize(u64::from_be_bytes(b[..8].try_into().ok()?)),
            root: Hash(b[8..40].try_into().ok()?),
            signature: b[40..].try_into().ok()?,
        })
    }
}

/// Parts of one proposal stream received so far.
struct Parts {
    msgs: BTreeMap<u64, StreamContent<ProposalPart>>,
    fin: Option<u64>,
    bytes: usize,
    opened: Instant,
}

/// The consensus application of one validator.
pub struct App {
    ctx: BansosContext,
    network: Network,
    vs: ValidatorSet,
    timeouts: LinearTimeouts,
    me: Address,
    key: SignerKey,
    vkeys: HashMap<u16, VerifierKey>,
    ledger: Ledger<RedbStore>,
    store: RedbStore,
    live: Arc<Live>,
    published: Arc<RwLock<Published>>,
    policy: BlockPolicy,
    drift: Duration,
    height: Height,
    streams: HashMap<(PeerId, StreamId), Parts>,
    future: Vec<StoredBlock>,
    checked: HashMap<ValueId, (Validity, Option<Executed>)>,
    last_time: u64,
    last_decided: Instant,
    restreams: u8,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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

impl App {
    /// An application over an opened ledger.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ctx: BansosContext,
        me: Address,
        key: SignerKey,
        ledger: Ledger<RedbStore>,
        store: RedbStore,
        live: Arc<Live>,
        published: Arc<RwLock<Published>>,
        policy: BlockPolicy,
    ) -> anyhow::Result<App> {
        let network = ledger.network().clone();
        let vs = ValidatorSet::from_network(&network);
        let vkeys = network
            .genesis
            .members
            .iter()
            .filter(|m| m.voting_power > 0)
            .zip(network.validator_vkeys())
            .map(|(m, k)| (m.id.0, k))
            .collect();
        let height = store.height()?;
        let last_time = match store.decided(height)? {
            Some((b, _)) => StoredBlock::decode(&b)?.header.time,
            None => 0,
        };
        Ok(App {
            timeouts: super::ctx::timeouts(&network),
            drift: Duration::from_millis(network.genesis.consensus.block_time_drift_ms),
            ctx,
            vs,
            me,
            key,
            vkeys,
            network,
            ledger,
            store,
            live,
            published,
            policy,
            height: Height(height + 1),
            streams: HashMap::new(),
            future: Vec::new(),
            checked: HashMap::new(),
            last_time,
            last_decided: Instant::now(),
            restreams: 0,
        })
    }

    fn params(&self) -> HeightParams<BansosContext> {
        HeightParams::new(self.vs.clone(), self.timeouts, None)
            .with_vote_extension_policy(VoteExtensionPolicy::Required)
    }

    /// Answers the engine until it stops.
    pub async fn run(mut self, mut channels: Channels<BansosContext>) -> anyhow::Result<()> {
        while let Some(msg) = channels.consensus.recv().await {
            self.handle(msg, &channels).await?;
        }
        anyhow::bail!("the consensus engine stopped")
    }

    async fn handle(
        &mut self,
        msg: AppMsg<BansosContext>,
        channels: &Channels<BansosContext>,
    ) -> anyhow::Result<()> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let start = Height(self.ledger.store().height()? + 1);
                tracing::info!(height = start.0, "consensus ready");
                let _ = reply.send((start, self.params()));
            }
            AppMsg::StartedRound {
                height,
                round,
                reply_value,
                ..
            } => {
                if height != self.height {
                    self.height = height;
                    self.checked.clear();
                }
                if round.as_i64() > 0 {
                    Counters::add(&self.live.counters.round_changes, 1);
                }
                let mut values = Vec::new();
                for bytes in self.store.undecided_at(height.0)? {
                    let Ok(b) = StoredBlock::decode(&bytes) else {
                        continue;
                    };
                    let validity = self.check(&b, false);
                    values.push(proposed(height, &b, validity));
                }
                let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.future)
                    .into_iter()
                    .partition(|b| b.header.height == height.0);
                self.future = later
                    .into_iter()
                    .filter(|b| b.header.height > height.0)
                    .collect();
                for b in now {
                    let validity = self.check(&b, true);
                    self.store
                        .put_undecided(height.0, b.header.id().0, &b.encode())?;
                    values.push(proposed(height, &b, validity));
                }
                let _ = reply_value.send(values);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                let b = self.propose(height, round, timeout).await?;
                let _ = reply.send(LocallyProposedValue::new(height, round, b.header));
                self.stream(&channels.network, &b, height, round).await;
            }
            AppMsg::RestreamProposal {
                height,
                round,
                value_id,
                ..
            } => {
                if let Some(bytes) = self.store.undecided(height.0, value_id.0)?
                    && let Ok(b) = StoredBlock::decode(&bytes)
                {
                    self.stream(&channels.network, &b, height, round).await;
                }
            }
            AppMsg::ReceivedProposalPart {
                from,
                published_by,
                part,
                reply,
            } => {
                let value = self.receive_part(published_by.unwrap_or(from), part)?;
                let _ = reply.send(value);
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(Some(self.extend_vote()));
            }
            AppMsg::VerifyVoteExtensions {
                extensions, reply, ..
            } => {
                let verdicts = extensions
                    .into_iter()
                    .map(|(addr, ext)| {
                        let ok = self.verify_extension(addr, &ext);
                        (
                            addr,
                            if ok {
                                Ok(())
                            } else {
                                Err(VoteExtensionError::InvalidVoteExtension)
                            },
                        )
                    })
                    .collect();
                let _ = reply.send(verdicts);
            }
            AppMsg::Decided {
                certificate,
                extensions,
                reply,
            } => {
                self.commit(certificate, extensions).await?;
                let _ = reply.send(());
            }
            AppMsg::Finalized {
                certificate,
                extensions,
                reply,
                ..
            } => {
                let h = certificate.height;
                if h.0 > self.ledger.store().height()? {
                    self.commit(certificate, extensions).await?;
                }
                let _ = reply.send(Next::Start(Height(h.0 + 1), self.params()));
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(self.store.decided_min_height()?));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let tip = self.ledger.store().height()?;
                let start = range.start().0.max(1);
                let end = range.end().0.min(tip).min(start + SYNC_BATCH_MAX - 1);
                let mut values = Vec::new();
                for h in start..=end {
                    let Some((block, cert)) = self.store.decided(h)? else {
                        break;
                    };
                    let cert = decode_extended_certificate(&cert)?;
                    values.push(RawDecidedValue::new(Bytes::from(block), cert));
                }
                let _ = reply.send(values);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = match StoredBlock::decode(&value_bytes) {
                    Ok(b) if b.header.height == height.0 => {
                        match self
                            .store
                            .put_undecided(height.0, b.header.id().0, &value_bytes)
                        {
                            Ok(()) => SyncedValueOutcome::Verdict(ProposedValue {
                                height,
                                round,
                                valid_round: Round::Nil,
                                proposer,
                                value: b.header,
                                validity: Validity::Valid,
                            }),
                            Err(e) => {
                                tracing::error!(error = %e, "storing a synced block failed");
                                SyncedValueOutcome::LocalTransientError
                            }
                        }
                    }
                    _ => SyncedValueOutcome::PeerFault,
                };
                let _ = reply.send(outcome);
            }
        }
        Ok(())
    }

    /// This validator's block for (height, round): the one it stored before, or a new one cut
    /// from the mempool, stored before it is returned.
    async fn propose(
        &mut self,
        height: Height,
        round: Round,
        timeout: Duration,
    ) -> anyhow::Result<StoredBlock> {
        let r = round.as_u32().unwrap_or(0);
        if let Some(id) = self.store.own_proposal(height.0, r)?
            && let Some(bytes) = self.store.undecided(height.0, id)?
        {
            tracing::info!(
                height = height.0,
                round = r,
                "proposing the stored block again"
            );
            return Ok(StoredBlock::decode(&bytes)?);
        }
        let idle_deadline = Instant::now() + self.policy.idle_wait.min(timeout / 2);
        let earliest = self.last_decided + self.policy.min_interval;
        loop {
            let pending = self.live.mempool.lock().expect("mempool lock").len();
            let now = Instant::now();
            if pending >= self.policy.max_txs
                || (pending > 0 && now >= earliest)
                || now >= idle_deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let txs: Vec<Bytes> = self
            .live
            .mempool
            .lock()
            .expect("mempool lock")
            .peek_batch(self.policy.max_txs, self.policy.max_bytes)
            .iter()
            .map(|t| Bytes::from(t.encode()))
            .collect();
        let header = super::ctx::BlockHeader {
            height: height.0,
            time: unix_now().max(self.last_time),
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
        self.store.put_undecided(height.0, id.0, &b.encode())?;
        self.store.put_own_proposal(height.0, r, id.0)?;
        tracing::debug!(height = height.0, round = r, txs = b.txs.len(), "proposing");
        Ok(b)
    }

    /// Streams a block's parts: Init, the transactions in chunks, the signed Fin, end of stream.
    async fn stream(
        &mut self,
        network: &tokio::sync::mpsc::Sender<NetworkMsg<BansosContext>>,
        b: &StoredBlock,
        height: Height,
        round: Round,
    ) {
        self.restreams = self.restreams.wrapping_add(1);
        let mut id = Vec::with_capacity(13);
        id.extend_from_slice(&height.0.to_be_bytes());
        id.extend_from_slice(&round.as_u32().unwrap_or(0).to_be_bytes());
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
            let msg = StreamMessage::new(stream_id.clone(), seq, StreamContent::Data(p));
            if network
                .send(NetworkMsg::PublishProposalPart(msg))
                .await
                .is_err()
            {
                return;
            }
            seq += 1;
        }
        let fin = StreamMessage::new(stream_id, seq, StreamContent::Fin);
        let _ = network.send(NetworkMsg::PublishProposalPart(fin)).await;
    }

    /// Buffers a part; when its stream is complete, checks and stores the block and returns it
    /// for consensus (if it is for the current height).
    fn receive_part(
        &mut self,
        publisher: PeerId,
        part: StreamMessage<ProposalPart>,
    ) -> anyhow::Result<Option<ProposedValue<BansosContext>>> {
        let key = (publisher, part.stream_id.clone());
        if !self.streams.contains_key(&key) && self.streams.len() >= STREAMS_MAX {
            // Drop the oldest stream: a peer flooding streams cannot grow memory.
            if let Some(oldest) = self
                .streams
                .iter()
                .min_by_key(|(_, p)| p.opened)
                .map(|(k, _)| k.clone())
            {
                self.streams.remove(&oldest);
            }
        }
        let parts = self.streams.entry(key.clone()).or_insert_with(|| Parts {
            msgs: BTreeMap::new(),
            fin: None,
            bytes: 0,
            opened: Instant::now(),
        });
        let size = match &part.content {
            StreamContent::Data(ProposalPart::Data { txs }) => {
                txs.iter().map(|t| t.len() + 4).sum::<usize>()
            }
            _ => 128,
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
            if self.future.len() < FUTURE_MAX {
                self.future.push(b);
            }
            return Ok(None);
        }
        let validity = self.check(&b, true);
        self.store
            .put_undecided(h.0, b.header.id().0, &b.encode())?;
        Ok(Some(proposed(h, &b, validity)))
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

    /// Whether a block for the current height is valid: its time is not before the last
    /// block's (and, for a live proposal, within the drift bound of this validator's clock), its
    /// transactions decode, and the ledger rules accept the block without any transaction an
    /// honest proposer would have refused. The rules' result is kept for the commit.
    fn check(&mut self, b: &StoredBlock, live: bool) -> Validity {
        let id = b.header.id();
        if let Some((v, _)) = self.checked.get(&id) {
            return *v;
        }
        let started = Instant::now();
        let validity = self.check_uncached(b, live);
        tracing::debug!(
            height = b.header.height,
            txs = b.txs.len(),
            ms = started.elapsed().as_millis() as u64,
            "checked a block"
        );
        let (validity, executed) = match validity {
            Ok(ex) => (Validity::Valid, Some(ex)),
            Err(why) => {
                tracing::warn!(height = b.header.height, proposer = %b.proposer, "invalid block: {why}");
                (Validity::Invalid, None)
            }
        };
        self.checked.insert(id, (validity, executed));
        validity
    }

    fn check_uncached(&self, b: &StoredBlock, live: bool) -> Result<Executed, String> {
        if b.header.height != self.ledger.store().height().map_err(|e| e.to_string())? + 1 {
            return Err("not the next height".into());
        }
        if b.header.time < self.last_time {
            return Err("block time before the previous block's".into());
        }
        if live {
            let now = unix_now();
            let drift = self.drift.as_secs().max(1);
            if b.header.time > now + drift || b.header.time + drift < now {
                return Err(format!(
                    "block time {} is more than {drift} s from this validator's clock ({now})",
                    b.header.time
                ));
            }
        }
        let txs = b
            .txs
            .iter()
            .map(|t| SignedTx::decode(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("a transaction does not decode: {e}"))?;
        let block = Block {
            height: b.header.height,
            time: b.header.time,
            txs,
        };
        let pool = &self.live.mempool;
        let admitted = |h: &Hash| pool.lock().expect("mempool lock").contains(h);
        let executed = self
            .ledger
            .execute_prechecked(&block, &admitted)
            .map_err(|e| e.to_string())?;
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

    /// Signs the checkpoint of the log as committed (guarded: never two inconsistent ones).
    fn extend_vote(&mut self) -> Bytes {
        let cp = self.ledger.checkpoint();
        match self.ledger.sign_checkpoint(&self.key) {
            Ok(sig) => CheckpointVote {
                size: cp.size,
                root: cp.root,
                signature: sig.signature.as_slice().try_into().expect("64 bytes"),
            }
            .encode(),
            Err(e) => {
                // An empty extension makes the others drop this precommit: this validator
                // stops voting rather than sign an inconsistent checkpoint.
                tracing::error!(error = %e, "refusing to sign the checkpoint; not voting");
                Bytes::new()
            }
        }
    }

    /// Whether another validator's extension is its valid signature on a checkpoint consistent
    /// with this validator's log (a checkpoint beyond this log is checked by signature only).
    fn verify_extension(&self, addr: Address, ext: &[u8]) -> bool {
        let Some(vote) = CheckpointVote::decode(ext) else {
            return false;
        };
        let Some(vkey) = self.vkeys.get(&addr.0) else {
            return false;
        };
        let body = Checkpoint::new(&self.network.genesis.origin, vote.size, vote.root).body();
        let sig = ed25519_dalek::Signature::from_bytes(&vote.signature);
        if vkey
            .public_key()
            .verify_strict(body.as_bytes(), &sig)
            .is_err()
        {
            return false;
        }
        if vote.size <= self.ledger.size() {
            return match self.ledger.reader().and_then(|r| r.root_at(vote.size)) {
                Ok(root) => root == vote.root,
                Err(_) => false,
            };
        }
        true
    }

    /// The checkpoint of the log before this block with the signatures of the deciding
    /// validators on it (and this validator's), if they make a quorum.
    fn collect_checkpoint(
        &mut self,
        extensions: &VoteExtensions<BansosContext>,
    ) -> Option<(Vec<u8>, TreeSize)> {
        let cp = self.ledger.checkpoint();
        let body = cp.body();
        let mut sigs: BTreeMap<String, NoteSignature> = BTreeMap::new();
        for (addr, signed) in &extensions.extensions {
            let Some(vote) = CheckpointVote::decode(&signed.message) else {
                continue;
            };
            let Some(vkey) = self.vkeys.get(&addr.0) else {
                continue;
            };
            if vote.size != cp.size || vote.root != cp.root {
                tracing::warn!(
                    validator = vkey.name(),
                    size = vote.size.0,
                    "a validator signed another checkpoint"
                );
                continue;
            }
            let sig = ed25519_dalek::Signature::from_bytes(&vote.signature);
            if vkey
                .public_key()
                .verify_strict(body.as_bytes(), &sig)
                .is_ok()
            {
                sigs.insert(
                    vkey.name().to_string(),
                    NoteSignature {
                        name: vkey.name().to_string(),
                        key_id: vkey.key_id(),
                        signature: vote.signature.to_vec(),
                    },
                );
            }
        }
        if !sigs.contains_key(self.key.name())
            && let Ok(own) = self.ledger.sign_checkpoint(&self.key)
        {
            sigs.insert(own.name.clone(), own);
        }
        if sigs.len() < self.network.checkpoint_quorum() {
            return None;
        }
        Some((cp.to_note(sigs.into_values()).to_bytes(), cp.size))
    }

    /// Commits a decided block: rules (already run when the block was checked), log, state,
    /// block, certificate and the quorum-signed checkpoint of the previous log, in one redb
    /// transaction; then publishes the checkpoint and clears the mempool of the block's
    /// transactions.
    async fn commit(
        &mut self,
        certificate: CommitCertificate<BansosContext>,
        extensions: VoteExtensions<BansosContext>,
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
        let bytes = self.store.undecided(h.0, id.0)?.ok_or_else(|| {
            anyhow::anyhow!("height {} was decided but its block is not stored", h.0)
        })?;
        let b = StoredBlock::decode(&bytes)?;
        let executed = match self.checked.remove(&id) {
            Some((_, Some(ex))) if ex.is_current(&self.ledger) => ex,
            _ => {
                let txs = b
                    .txs
                    .iter()
                    .map(|t| SignedTx::decode(t))
                    .collect::<Result<Vec<_>, _>>()?;
                let started = Instant::now();
                let pool = &self.live.mempool;
                let admitted = |h: &Hash| pool.lock().expect("mempool lock").contains(h);
                let executed = self.ledger.execute_prechecked(
                    &Block {
                        height: h.0,
                        time: b.header.time,
                        txs,
                    },
                    &admitted,
                )?;
                tracing::debug!(
                    height = h.0,
                    ms = started.elapsed().as_millis() as u64,
                    "executed the decided block"
                );
                executed
            }
        };
        let published = self.collect_checkpoint(&extensions);
        let cert = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
            certificate,
            extensions,
        );
        let record = DecidedRecord {
            block: bytes,
            certificate: encode_extended_certificate(&cert),
            published_checkpoint: published.as_ref().map(|(n, _)| n.clone()),
        };
        let started = Instant::now();
        let applied = self.ledger.commit_executed(executed, Some(record))?;
        let commit_ms = started.elapsed().as_millis() as u64;
        {
            let mut pool = self.live.mempool.lock().expect("mempool lock");
            pool.remove(applied.outcome.accepted.iter().map(|a| &a.hash));
            pool.remove(applied.outcome.rejected.iter().map(|(h, _)| h));
        }
        if !applied.outcome.rejected.is_empty() {
            let mut rejected = self.live.rejected.lock().expect("rejected lock");
            for (hash, why) in &applied.outcome.rejected {
                rejected.insert(*hash, why.to_string());
            }
        }
        let c = &self.live.counters;
        Counters::set(&c.height, h.0);
        Counters::set(&c.last_commit_unix, unix_now());
        Counters::set(&c.log_size, applied.size.0);
        Counters::add(&c.committed_txs, applied.outcome.accepted.len() as u64);
        Counters::add(&c.rejected_in_blocks, applied.outcome.rejected.len() as u64);
        if let Some((note, size)) = published {
            Counters::set(&c.checkpoint_size, size.0);
            *self.published.write().await = Published { note, size };
        }
        self.last_time = b.header.time;
        self.last_decided = Instant::now();
        self.checked.clear();
        self.height = Height(h.0 + 1);
        if h.0.is_multiple_of(PRUNE_EVERY) {
            self.store.prune_undecided(h.0)?;
        }
        tracing::debug!(
            height = h.0,
            txs = applied.outcome.accepted.len(),
            size = applied.size.0,
            commit_ms,
            "committed"
        );
        Ok(())
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
mod tests {
    use super::*;

    proptest::proptest! {
        /// The vote-extension decoder: exactly 104 bytes decode, and back to the same bytes;
        /// anything else is refused; nothing panics.
        #[test]
        fn checkpoint_votes_decode_only_their_own_encoding(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
        ) {
            match CheckpointVote::decode(&bytes) {
                Some(v) => proptest::prop_assert_eq!(v.encode().to_vec(), bytes),
                None => proptest::prop_assert_ne!(bytes.len(), 104),
            }
        }
    }
}
