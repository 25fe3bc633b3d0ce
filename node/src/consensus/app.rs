//! The shell around the consensus [`Core`]: it receives the Malachite engine's messages, hands
//! each to the core with the time, and carries out the effects: replies to the engine, proposal
//! parts to the network, transactions fetched from the mempool when the core asks for them,
//! and, for a committed block, the mempool cleared of its transactions, the counters and the
//! published checkpoint. Everything it decides is in [`super::core`].

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bansos_store::RedbStore;
use bansos_verifier::hash::Hash;
use malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::core::{LinearTimeouts, VoteExtensionPolicy};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use tokio::sync::RwLock;

pub use super::core::BlockPolicy;
use super::core::{Committed, Core, Effect, Faults, Input, Reply};
use super::ctx::{BansosContext, ProposalPart};
use crate::http::Published;
use crate::live::{Counters, Live};

/// How often the shell looks at the mempool while the core waits for transactions.
const MEMPOOL_POLL: Duration = Duration::from_millis(5);

/// The consensus application of one validator: the core and what it acts on.
pub struct App {
    core: Core<RedbStore>,
    timeouts: LinearTimeouts,
    live: Arc<Live>,
    published: Arc<RwLock<Published>>,
    /// Parts to publish once the engine has its answer.
    outbox: Vec<StreamMessage<ProposalPart>>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The engine's answer to a message, for the arm that waits for it.
fn unexpected(reply: &Reply) -> anyhow::Error {
    anyhow::anyhow!("the consensus core answered out of turn: {reply:?}")
}

impl App {
    /// An application over its core.
    pub fn new(
        core: Core<RedbStore>,
        live: Arc<Live>,
        published: Arc<RwLock<Published>>,
        faults: Faults,
    ) -> App {
        let mut core = core;
        core.set_faults(faults);
        App {
            timeouts: core.timeouts(),
            core,
            live,
            published,
            outbox: Vec::new(),
        }
    }

    fn params(&self) -> HeightParams<BansosContext> {
        HeightParams::new(self.core.validator_set().clone(), self.timeouts, None)
            .with_vote_extension_policy(VoteExtensionPolicy::Required)
    }

    /// Answers the engine until it stops.
    pub async fn run(mut self, mut channels: Channels<BansosContext>) -> anyhow::Result<()> {
        while let Some(msg) = channels.consensus.recv().await {
            self.handle(msg).await?;
            for part in std::mem::take(&mut self.outbox) {
                if channels
                    .network
                    .send(NetworkMsg::PublishProposalPart(part))
                    .await
                    .is_err()
                {
                    // The engine is stopping.
                    break;
                }
            }
        }
        anyhow::bail!("the consensus engine stopped")
    }

    /// Hands one input to the core and carries out its effects (parts wait in the outbox until
    /// the engine has its answer); returns the core's reply.
    async fn step(&mut self, input: Input) -> anyhow::Result<Option<Reply>> {
        let live = self.live.clone();
        let admitted = |h: &Hash| live.mempool.lock().expect("mempool lock").contains(h);
        let mut effects = self.core.on(input, unix_ms(), &admitted)?;
        let mut reply = None;
        while !effects.is_empty() {
            let mut next = Vec::new();
            for effect in effects {
                match effect {
                    Effect::Reply(r) => reply = Some(r),
                    Effect::Publish(part) => self.outbox.push(part),
                    Effect::CollectTxs {
                        height,
                        round,
                        earliest_ms,
                        deadline_ms,
                        max_txs,
                        max_bytes,
                    } => {
                        let txs = self
                            .collect_txs(earliest_ms, deadline_ms, max_txs, max_bytes)
                            .await;
                        next.extend(self.core.on(
                            Input::Txs { height, round, txs },
                            unix_ms(),
                            &admitted,
                        )?);
                    }
                    Effect::Committed(c) => self.committed(c).await,
                    Effect::InvalidProposal { .. } => {
                        Counters::add(&self.live.counters.invalid_proposals, 1);
                    }
                    Effect::RefusedCheckpointVote { validator, why } => {
                        tracing::warn!(%validator, %why, "refused a checkpoint vote");
                        Counters::add(&self.live.counters.refused_checkpoint_votes, 1);
                    }
                }
            }
            effects = next;
        }
        Ok(reply)
    }

    /// [`App::step`] for an input the engine waits an answer to.
    async fn ask(&mut self, input: Input) -> anyhow::Result<Reply> {
        self.step(input)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the consensus core did not answer"))
    }

    /// Waits until the mempool holds a full block, or holds anything and `earliest_ms` has
    /// passed, or `deadline_ms` has passed; then takes a batch (encoded).
    async fn collect_txs(
        &self,
        earliest_ms: u64,
        deadline_ms: u64,
        max_txs: usize,
        max_bytes: usize,
    ) -> Vec<bytes::Bytes> {
        loop {
            let pending = self.live.mempool.lock().expect("mempool lock").len();
            let now = unix_ms();
            if pending >= max_txs || (pending > 0 && now >= earliest_ms) || now >= deadline_ms {
                break;
            }
            tokio::time::sleep(MEMPOOL_POLL).await;
        }
        self.live
            .mempool
            .lock()
            .expect("mempool lock")
            .peek_batch(max_txs, max_bytes)
            .iter()
            .map(|t| bytes::Bytes::from(t.encode()))
            .collect()
    }

    /// Clears the mempool of a committed block's transactions, remembers the refused ones,
    /// updates the counters and publishes the quorum-signed checkpoint.
    async fn committed(&self, c: Committed) {
        let mut rejected_now = c.rejected.clone();
        {
            let mut pool = self.live.mempool.lock().expect("mempool lock");
            pool.remove(c.accepted.iter());
            pool.remove(c.rejected.iter().map(|(h, _)| h));
            // A change took effect: pending transactions of a removed member or signed by a
            // rotated-out key are refused now, not proposed.
            if let Some(roster) = c.roster.clone() {
                rejected_now.extend(
                    pool.set_roster(roster)
                        .into_iter()
                        .map(|(h, r)| (h, r.to_string())),
                );
            }
        }
        let c = Committed {
            rejected: rejected_now,
            ..c
        };
        self.live.journal.forget(
            c.accepted
                .iter()
                .chain(c.rejected.iter().map(|(h, _)| h))
                .copied()
                .collect(),
        );
        if !c.rejected.is_empty() {
            let mut rejected = self.live.rejected.lock().expect("rejected lock");
            for (hash, why) in &c.rejected {
                rejected.insert(*hash, why.clone());
            }
        }
        let counters = &self.live.counters;
        Counters::set(&counters.height, c.height.0);
        Counters::set(&counters.last_commit_unix, unix_ms() / 1000);
        Counters::set(&counters.log_size, c.size.0);
        Counters::add(&counters.committed_txs, c.accepted.len() as u64);
        Counters::add(&counters.rejected_in_blocks, c.rejected.len() as u64);
        if let Some((note, size)) = c.checkpoint {
            Counters::set(&counters.checkpoint_size, size.0);
            *self.published.write().await = Published { note, size };
        }
    }

    async fn handle(&mut self, msg: AppMsg<BansosContext>) -> anyhow::Result<()> {
        match msg {
            AppMsg::ConsensusReady { reply } => match self.ask(Input::ConsensusReady).await? {
                Reply::Start(h) => {
                    let _ = reply.send((h, self.params()));
                }
                r => return Err(unexpected(&r)),
            },
            AppMsg::StartedRound {
                height,
                round,
                reply_value,
                ..
            } => {
                if round.as_i64() > 0 {
                    Counters::add(&self.live.counters.round_changes, 1);
                }
                match self.ask(Input::StartedRound { height, round }).await? {
                    Reply::Values(v) => {
                        let _ = reply_value.send(v);
                    }
                    r => return Err(unexpected(&r)),
                }
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                // The value is answered before its parts are sent: the engine needs it first.
                let input = Input::GetValue {
                    height,
                    round,
                    timeout,
                };
                match self.ask(input).await? {
                    Reply::Value(v) => {
                        let _ = reply.send(v);
                    }
                    r => return Err(unexpected(&r)),
                }
            }
            AppMsg::RestreamProposal {
                height,
                round,
                value_id,
                ..
            } => {
                let input = Input::RestreamProposal {
                    height,
                    round,
                    value_id,
                };
                self.step(input).await?;
            }
            AppMsg::ReceivedProposalPart {
                from,
                published_by,
                part,
                reply,
            } => {
                let input = Input::ReceivedProposalPart {
                    from: published_by.unwrap_or(from),
                    part,
                };
                match self.ask(input).await? {
                    Reply::Part(v) => {
                        let _ = reply.send(v);
                    }
                    r => return Err(unexpected(&r)),
                }
            }
            AppMsg::ExtendVote { reply, .. } => match self.ask(Input::ExtendVote).await? {
                Reply::Extension(e) => {
                    let _ = reply.send(Some(e));
                }
                r => return Err(unexpected(&r)),
            },
            AppMsg::VerifyVoteExtensions {
                height,
                extensions,
                reply,
                ..
            } => {
                let input = Input::VerifyVoteExtensions { height, extensions };
                match self.ask(input).await? {
                    Reply::Verdicts(v) => {
                        let _ = reply.send(v.into_iter().collect());
                    }
                    r => return Err(unexpected(&r)),
                }
            }
            AppMsg::Decided {
                certificate,
                extensions,
                reply,
            } => {
                let input = Input::Decided {
                    certificate,
                    extensions,
                };
                match self.ask(input).await? {
                    Reply::Committed => {
                        let _ = reply.send(());
                    }
                    r => return Err(unexpected(&r)),
                }
            }
            AppMsg::Finalized {
                certificate,
                extensions,
                reply,
                ..
            } => {
                let input = Input::Finalized {
                    certificate,
                    extensions,
                };
                match self.ask(input).await? {
                    Reply::Next(h) => {
                        let _ = reply.send(Next::Start(h, self.params()));
                    }
                    r => return Err(unexpected(&r)),
                }
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                match self.ask(Input::GetHistoryMinHeight).await? {
                    Reply::MinHeight(h) => {
                        let _ = reply.send(h);
                    }
                    r => return Err(unexpected(&r)),
                }
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let input = Input::GetDecidedValues {
                    from: *range.start(),
                    to: *range.end(),
                };
                match self.ask(input).await? {
                    Reply::DecidedValues(v) => {
                        let values = v
                            .into_iter()
                            .map(|(bytes, cert)| RawDecidedValue::new(bytes, cert))
                            .collect();
                        let _ = reply.send(values);
                    }
                    r => return Err(unexpected(&r)),
                }
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let input = Input::ProcessSyncedValue {
                    height,
                    round,
                    proposer,
                    bytes: value_bytes,
                };
                match self.ask(input).await? {
                    Reply::Synced(Some(v)) => {
                        let _ = reply.send(SyncedValueOutcome::Verdict(v));
                    }
                    Reply::Synced(None) => {
                        let _ = reply.send(SyncedValueOutcome::PeerFault);
                    }
                    r => return Err(unexpected(&r)),
                }
            }
        }
        Ok(())
    }
}
