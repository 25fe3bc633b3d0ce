//! One validator's ledger: applies decided blocks with the rules, appends the accepted
//! entries to the log, and commits both through one storage transaction. Also rebuilds the
//! state by replaying the log (an `fsck`).

use bansos_genesis::Network;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::entry::Leaf;
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize};
use bansos_verifier::note::{NoteSignature, SignerKey};
use bansos_verifier::tile::TILE_WIDTH;

use crate::log::{LogBatch, LogError, LogReader, LogWriter};
use crate::rules::{Block, BlockError, BlockOutcome, apply_block_prechecked};
use crate::store::{DecidedRecord, LedgerStore, LogRead, StateDelta};

/// Why a block could not be applied or the log replayed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError<E: std::error::Error + 'static> {
    /// The block itself is unacceptable or storage failed while checking it.
    #[error(transparent)]
    Block(#[from] BlockError<E>),
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError<E>),
    /// Storage failed while committing; nothing of the block was written.
    #[error("storage failed while committing the block: {0}")]
    Commit(#[source] E),
    /// Signing the current checkpoint would contradict one this validator signed before (its
    /// store was rolled back or replaced): refused, because a validator must never sign two
    /// inconsistent checkpoints. Stop and investigate.
    #[error(
        "refusing to sign size {size}: this validator already signed size {signed_size} with a root the current log does not have at that size"
    )]
    WouldSignInconsistent {
        /// Size signed before.
        signed_size: u64,
        /// Size now.
        size: u64,
    },
    /// The record of the last signed checkpoint kept outside the store ([`SigningMark`])
    /// could not be read or written: nothing was signed.
    #[error("the record of the last signed checkpoint (outside the store) failed: {0}")]
    Mark(#[source] std::io::Error),
    /// Replaying the log did not reproduce it (a bug or a tampered log).
    #[error("replay diverges at leaf {leaf}: {reason}")]
    Replay {
        /// First leaf that differs.
        leaf: u64,
        /// What differs.
        reason: String,
    },
}

/// A block run through the rules and the log append but not committed: see
/// [`Ledger::execute`].
#[derive(Debug, Clone)]
pub struct Executed {
    height: u64,
    base_size: u64,
    /// What the rules decided.
    pub outcome: BlockOutcome,
    batch: LogBatch,
    next: LogWriter,
}

impl Executed {
    /// Log size after the block.
    pub fn size(&self) -> TreeSize {
        self.next.size()
    }

    /// Root after the block.
    pub fn root(&self) -> Hash {
        self.next.root()
    }

    /// Whether it was executed against the ledger's current state (the block before it is the
    /// last one committed), so it can be committed as is.
    pub fn is_current<S: LedgerStore>(&self, ledger: &Ledger<S>) -> bool {
        ledger.writer.size().0 == self.base_size
            && ledger.store.height().ok() == Some(self.height - 1)
    }
}

/// The last checkpoint this validator signed, kept where a rollback of the store cannot take
/// it (a file beside the validator's key, not in its data directory). The store keeps the same
/// record; [`Ledger::sign_checkpoint`] refuses to sign anything inconsistent with either, so a
/// store restored from an old backup cannot make the validator sign a fork.
pub trait SigningMark: Send + Sync {
    /// The last (size, root) recorded, if any.
    fn last(&self) -> std::io::Result<Option<(TreeSize, Hash)>>;
    /// Records (size, root) durably before returning.
    fn record(&mut self, size: TreeSize, root: Hash) -> std::io::Result<()>;
}

/// A ledger over a storage backend.
pub struct Ledger<S: LedgerStore> {
    network: Network,
    store: S,
    writer: LogWriter,
    mark: Option<Box<dyn SigningMark>>,
}

/// The result of one applied block.
#[derive(Debug, Clone)]
pub struct Applied {
    /// What the rules decided.
    pub outcome: BlockOutcome,
    /// Log size after the block.
    pub size: TreeSize,
    /// Root after the block.
    pub root: Hash,
}

impl<S: LedgerStore> Ledger<S> {
    /// Opens a ledger on a (possibly empty) store.
    pub fn open(network: Network, store: S) -> Result<Ledger<S>, LedgerError<S::Error>> {
        let writer = LogWriter::open(&store)?;
        Ok(Ledger {
            network,
            store,
            writer,
            mark: None,
        })
    }

    /// The same ledger, also keeping the last signed checkpoint in `mark`, outside the store.
    pub fn with_signing_mark(mut self, mark: Box<dyn SigningMark>) -> Ledger<S> {
        self.mark = Some(mark);
        self
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The store, for reads.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, writable: for tests that simulate a damaged or replaced store. A ledger's
    /// own writes go through [`Ledger::apply`] and [`Ledger::sign_checkpoint`].
    #[doc(hidden)]
    pub fn store_mut_for_tests(&mut self) -> &mut S {
        &mut self.store
    }

    /// The store, writable, for the consensus records kept beside the ledger (undecided blocks,
    /// own proposals: [`crate::store::ConsensusStore`]). The log and the state are written only
    /// through [`Ledger::commit_executed`] and [`Ledger::sign_checkpoint`].
    pub fn consensus_records(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Log size.
    pub fn size(&self) -> TreeSize {
        self.writer.size()
    }

    /// Current root.
    pub fn root(&self) -> Hash {
        self.writer.root()
    }

    /// The unsigned checkpoint of the current log.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint::new(&self.network.genesis.origin, self.size(), self.root())
    }

    /// Signs the current checkpoint as this validator, after checking that it extends the last
    /// checkpoint this validator signed (same root at that size) as recorded in the store and,
    /// if the ledger has one, in its [`SigningMark`]; and recording it in both: the records are
    /// written durably before the signature is returned, so a crash cannot lose them.
    pub fn sign_checkpoint(
        &mut self,
        key: &SignerKey,
    ) -> Result<NoteSignature, LedgerError<S::Error>> {
        let cp = self.checkpoint();
        let in_store = self
            .store
            .signed_checkpoint()
            .map_err(LedgerError::Commit)?;
        let outside = match &self.mark {
            Some(m) => m.last().map_err(LedgerError::Mark)?,
            None => None,
        };
        for (signed_size, signed_root) in [in_store, outside].into_iter().flatten() {
            let refuse = LedgerError::WouldSignInconsistent {
                signed_size: signed_size.0,
                size: cp.size.0,
            };
            if cp.size < signed_size {
                return Err(refuse);
            }
            if self.reader()?.root_at(signed_size)? != signed_root {
                return Err(refuse);
            }
        }
        if in_store != Some((cp.size, cp.root)) {
            let keep_log = LogBatch {
                new_size: cp.size,
                ..Default::default()
            };
            let record = StateDelta {
                signed_checkpoint: Some((cp.size, cp.root)),
                ..Default::default()
            };
            self.store
                .commit(&keep_log, &record)
                .map_err(LedgerError::Commit)?;
        }
        if let Some(m) = &mut self.mark
            && outside != Some((cp.size, cp.root))
        {
            m.record(cp.size, cp.root).map_err(LedgerError::Mark)?;
        }
        Ok(NoteSignature::sign(
            key.name(),
            key.signing_key(),
            &cp.body(),
        ))
    }

    /// Reads of the stored log.
    pub fn reader(&self) -> Result<LogReader<'_, S>, LogError<S::Error>> {
        LogReader::new(&self.store)
    }

    /// Applies a decided block: rules, log append, one atomic commit.
    pub fn apply(&mut self, block: &Block) -> Result<Applied, LedgerError<S::Error>> {
        self.apply_decided(block, None)
    }

    /// Applies a decided block and commits the node's consensus record (the block as carried,
    /// its certificate, a checkpoint to publish) in the same atomic commit.
    pub fn apply_decided(
        &mut self,
        block: &Block,
        record: Option<DecidedRecord>,
    ) -> Result<Applied, LedgerError<S::Error>> {
        let executed = self.execute(block)?;
        self.commit_executed(executed, record)
    }

    /// Runs the rules and the log append on a block against the current state, writing
    /// nothing: exactly what [`Ledger::apply`] would commit. A validator checks a proposal
    /// this way before voting, and commits it once decided with [`Ledger::commit_executed`]
    /// without running the rules (and their signature checks) a second time.
    pub fn execute(&self, block: &Block) -> Result<Executed, LedgerError<S::Error>> {
        self.execute_prechecked(block, &|_| false)
    }

    /// [`Ledger::execute`], skipping the stateless checks of the transactions `prechecked` names
    /// (see [`crate::rules::apply_block_prechecked`]).
    pub fn execute_prechecked(
        &self,
        block: &Block,
        prechecked: &dyn Fn(&Hash) -> bool,
    ) -> Result<Executed, LedgerError<S::Error>> {
        let first_leaf = LeafIndex(self.writer.size().0);
        let view = self
            .store
            .view()
            .map_err(|e| LedgerError::Block(BlockError::Storage(e)))?;
        let outcome = apply_block_prechecked(&self.network, &view, first_leaf, block, prechecked)?;
        drop(view);
        let leaves: Vec<Vec<u8>> = outcome
            .accepted
            .iter()
            .map(|a| {
                Leaf {
                    height: block.height,
                    block_time: block.time,
                    tx: a.tx.clone(),
                }
                .encode()
            })
            .collect();
        let (batch, next) = self.writer.append::<S::Error>(&leaves)?;
        Ok(Executed {
            height: block.height,
            base_size: first_leaf.0,
            outcome,
            batch,
            next,
        })
    }

    /// Commits a block executed by [`Ledger::execute`] against the current state, with the
    /// node's consensus record, in one atomic commit.
    ///
    /// # Panics
    /// If the ledger moved since the block was executed (a caller bug: the outcome would be
    /// computed against another state).
    pub fn commit_executed(
        &mut self,
        executed: Executed,
        record: Option<DecidedRecord>,
    ) -> Result<Applied, LedgerError<S::Error>> {
        assert!(
            executed.is_current(self),
            "a block executed against another state"
        );
        let Executed {
            base_size,
            mut outcome,
            batch,
            next,
            ..
        } = executed;
        outcome.delta.decided = record;
        self.store
            .commit(&batch, &outcome.delta)
            .map_err(LedgerError::Commit)?;
        outcome.delta.decided = None;
        self.writer = next;
        assert_eq!(
            self.writer.size().0,
            base_size + outcome.accepted.len() as u64,
            "log size after a block"
        );
        Ok(Applied {
            outcome,
            size: self.writer.size(),
            root: self.writer.root(),
        })
    }

    /// Rebuilds a ledger into `target` (an empty store) by replaying every leaf of `source`
    /// block by block through the rules. Every logged transaction must be accepted again, at
    /// the same leaf, and the final root must match: otherwise the log or the rules changed.
    pub fn rebuild<R: LogRead>(
        network: Network,
        source: &R,
        target: S,
    ) -> Result<Ledger<S>, LedgerError<S::Error>> {
        let reader = LogReader::new(source).map_err(|e| LedgerError::Replay {
            leaf: 0,
            reason: e.to_string(),
        })?;
        let size = reader.size();
        let mut ledger = Ledger::open(network, target)?;
        let mut pending: Option<Block> = None;
        let mut expected_leaf = 0u64;
        let bundles = size.0.div_ceil(TILE_WIDTH);
        let flush = |ledger: &mut Ledger<S>,
                     block: Block,
                     start: u64|
         -> Result<(), LedgerError<S::Error>> {
            let n = block.txs.len() as u64;
            let applied = ledger.apply(&block)?;
            if let Some((_, why)) = applied.outcome.rejected.first() {
                return Err(LedgerError::Replay {
                    leaf: start,
                    reason: format!("a logged transaction is rejected on replay: {why}"),
                });
            }
            assert_eq!(applied.outcome.accepted.len() as u64, n);
            Ok(())
        };
        let mut block_start = 0u64;
        for b in 0..bundles {
            let entries = reader.entries(b).map_err(|e| LedgerError::Replay {
                leaf: b * TILE_WIDTH,
                reason: e.to_string(),
            })?;
            for entry in entries {
                let leaf = Leaf::decode(&entry).map_err(|e| LedgerError::Replay {
                    leaf: expected_leaf,
                    reason: format!("undecodable entry: {e}"),
                })?;
                match &mut pending {
                    Some(block) if block.height == leaf.height && block.time == leaf.block_time => {
                        block.txs.push(leaf.tx)
                    }
                    _ => {
                        if let Some(block) = pending.take() {
                            flush(&mut ledger, block, block_start)?;
                        }
                        // Heights of blocks that committed nothing leave gaps: fill them.
                        let stored = ledger
                            .store
                            .height()
                            .map_err(|e| LedgerError::Block(BlockError::Storage(e)))?;
                        for h in stored + 1..leaf.height {
                            flush(
                                &mut ledger,
                                Block {
                                    height: h,
                                    time: leaf.block_time,
                                    txs: Vec::new(),
                                },
                                expected_leaf,
                            )?;
                        }
                        block_start = expected_leaf;
                        pending = Some(Block {
                            height: leaf.height,
                            time: leaf.block_time,
                            txs: vec![leaf.tx],
                        });
                    }
                }
                expected_leaf += 1;
            }
        }
        if let Some(block) = pending.take() {
            flush(&mut ledger, block, block_start)?;
        }
        let root = reader.root_at(size).map_err(|e| LedgerError::Replay {
            leaf: size.0,
            reason: e.to_string(),
        })?;
        if ledger.size() != size || ledger.root() != root {
            return Err(LedgerError::Replay {
                leaf: size.0,
                reason: "the rebuilt root differs".into(),
            });
        }
        Ok(ledger)
    }
}
