//! The ledger rules: a pure, deterministic function from (genesis, state, block) to the
//! accepted entries, each rejection with its reason, and the state changes.
//!
//! It reads no clock (the block carries its time), draws no randomness, and touches storage
//! only through [`StateRead`]. Transactions are applied in block order; a later transaction
//! sees the effects of earlier ones in the same block.

use std::collections::BTreeMap;

use bansos_genesis::{Network, Role};
use bansos_verifier::commitment::claim_lock;
use bansos_verifier::entry::{AllocationId, ProgramCode, Rupiah, SignedTx, TxBody};
use bansos_verifier::governance::{Change, RULES_VERSION, Roster, Vote};
use bansos_verifier::hash::{Hash, LeafIndex};

use crate::store::{
    AllocationState, AllocationStatus, ApprovedChange, GovernanceState, PendingChange,
    ProgramState, StateDelta, StateRead, StatsKey, StatsRow, TxLocation, dedup_key,
};

/// Most transactions one block may carry.
pub const BLOCK_TXS_MAX: usize = 10_000;
/// How far a claim's own time may be ahead of its block's time (outlet clocks drift).
pub const CLAIM_TIME_AHEAD_MAX_SECS: u64 = 300;

/// A decided block, as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Height, one more than the last applied block.
    pub height: u64,
    /// Unix seconds chosen by the proposer (bounded by the validators).
    pub time: u64,
    /// Transactions in block order.
    pub txs: Vec<SignedTx>,
}

/// Why a transaction was not applied. Sentences are for the submitting operator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The same transaction was already committed (or appears earlier in this block).
    #[error("this exact transaction was already committed at leaf {} (block {})", .0.leaf.0, .0.height)]
    Duplicate(TxLocation),
    /// The same transaction appears twice in one block.
    #[error("this exact transaction appears earlier in the same block")]
    DuplicateInBlock,
    /// Not a genesis member.
    #[error("signer {0} is not a member of this network")]
    UnknownSigner(u16),
    /// The signature does not verify for the signer's key on this network.
    #[error("the signature does not verify for the signer's key on this network")]
    BadSignature,
    /// The signer's role may not submit this kind.
    #[error("a {role} member may not submit a {kind} transaction")]
    RoleNotAllowed {
        /// The signer's role.
        role: &'static str,
        /// The transaction kind.
        kind: &'static str,
    },
    /// A field is invalid (the body could not be encoded canonically).
    #[error("the transaction is malformed: {0}")]
    Malformed(String),
    /// Program code already registered.
    #[error("program {0} is already registered")]
    ProgramExists(String),
    /// Program code unknown.
    #[error("program {0} is not registered")]
    UnknownProgram(String),
    /// Only the issuing ministry allocates a program.
    #[error("program {0} is issued by another ministry")]
    NotProgramIssuer(String),
    /// Period shape does not match the program.
    #[error("period {period} does not fit program {program}, which pays {expected}")]
    WrongPeriod {
        /// Period given.
        period: String,
        /// Program.
        program: String,
        /// Period kind expected.
        expected: &'static str,
    },
    /// Amount outside the program's rule.
    #[error("amount {amount} rupiah is outside the rule of program {program}")]
    AmountOutsideRule {
        /// Amount given.
        amount: u64,
        /// Program.
        program: String,
    },
    /// The payer is not a bank or Pos member.
    #[error("payer {0} is not a bank or Pos member")]
    BadPayer(u16),
    /// The allocation would already be expired.
    #[error("the allocation expires at {expires_at}, not after the block time {block_time}")]
    ExpiresInPast {
        /// Its expiry.
        expires_at: u64,
        /// The block time.
        block_time: u64,
    },
    /// Allocation id already used.
    #[error("allocation id {0} is already used")]
    AllocationIdTaken(String),
    /// Same beneficiary already allocated in this program and period.
    #[error("this beneficiary already has an allocation in {program} for {period}")]
    DuplicateBeneficiary {
        /// Program.
        program: String,
        /// Period.
        period: String,
    },
    /// Allocation id unknown.
    #[error("allocation {0} does not exist")]
    UnknownAllocation(String),
    /// Claims and returns come only from the allocation's payer.
    #[error("allocation {0} is paid out by another member")]
    NotPayer(String),
    /// Revocations come only from the allocating ministry.
    #[error("allocation {0} was made by another ministry")]
    NotIssuer(String),
    /// Returned or revoked.
    #[error("allocation {id} is {status} and can no longer be claimed, returned or revoked")]
    Closed {
        /// Allocation.
        id: String,
        /// `returned` or `revoked`.
        status: &'static str,
    },
    /// Expired by block time.
    #[error("allocation {id} expired at {expires_at}; the block time is {block_time}")]
    Expired {
        /// Allocation.
        id: String,
        /// Its expiry.
        expires_at: u64,
        /// Block time.
        block_time: u64,
    },
    /// The claim secret does not open the claim lock.
    #[error("the claim secret does not match allocation {0}: check the receipt")]
    WrongClaimSecret(String),
    /// More would be paid than allocated.
    #[error(
        "claiming {requested} rupiah would exceed the allocation of {allocated} ({claimed} already paid)"
    )]
    OverClaim {
        /// Allocated.
        allocated: u64,
        /// Already claimed.
        claimed: u64,
        /// This claim.
        requested: u64,
    },
    /// The claim's time is later than the block allows.
    #[error("the claim time {claimed_at} is in the future of the block time {block_time}")]
    ClaimInFuture {
        /// Claim time.
        claimed_at: u64,
        /// Block time.
        block_time: u64,
    },
    /// Nothing left to return or revoke.
    #[error("allocation {0} is fully paid: nothing is left to return or revoke")]
    FullyPaid(String),
    /// The signer was removed from the network.
    #[error("member {0} was removed from the network and may no longer sign")]
    FormerMember(u16),
    /// Only validators vote on changes.
    #[error("member {0} is not a validator and may not vote on changes")]
    NotAVoter(u16),
    /// A vote names another epoch than the current one.
    #[error(
        "the vote is for epoch {voted}, but the network is in epoch {current}: vote again for the current epoch"
    )]
    WrongEpoch {
        /// The epoch voted.
        voted: u64,
        /// The current epoch.
        current: u64,
    },
    /// The signer already voted for this change.
    #[error("member {0} already voted for this change")]
    DuplicateVote(u16),
    /// The change may not apply to the current members.
    #[error("the change may not apply: {0}")]
    BadChange(String),
    /// A change was approved earlier in this block.
    #[error("a change was approved earlier in this block: vote again for the next epoch")]
    ChangeApprovedInBlock,
    /// An upgrade must leave the network time to install it.
    #[error("the upgrade height {height} must be at least {min} (two blocks after this one)")]
    UpgradeTooSoon {
        /// Height asked.
        height: u64,
        /// Earliest allowed.
        min: u64,
    },
}

/// A transaction that the block commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The transaction.
    pub tx: SignedTx,
    /// Its hash.
    pub hash: Hash,
    /// Its leaf in the log.
    pub leaf: LeafIndex,
}

/// What a block does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Accepted transactions in log order.
    pub accepted: Vec<Accepted>,
    /// Rejected transactions with their reasons, in block order.
    pub rejected: Vec<(Hash, Rejection)>,
    /// State changes to store with the log batch.
    pub delta: StateDelta,
}

/// Errors that stop a block from being applied at all.
#[derive(Debug, thiserror::Error)]
pub enum BlockError<E: std::error::Error + 'static> {
    /// Storage failed.
    #[error("state storage failed: {0}")]
    Storage(#[source] E),
    /// The block does not follow the last applied one (a consensus-layer bug).
    #[error("block height {got} does not follow the stored height {stored}")]
    WrongHeight {
        /// Stored height.
        stored: u64,
        /// Block height.
        got: u64,
    },
    /// Too many transactions.
    #[error("a block carries at most {BLOCK_TXS_MAX} transactions")]
    TooManyTxs,
    /// The network moved to rules this software does not implement.
    #[error(
        "the network switched to ledger rules version {version} at height {height}; this software implements version {RULES_VERSION}: install the new release to go on (stopping here instead of forking)"
    )]
    UpgradeRequired {
        /// The first height of the new rules.
        height: u64,
        /// Their version.
        version: u16,
    },
}

/// The state seen by a transaction: this block's changes over the stored state and genesis.
struct View<'a, S: StateRead> {
    network: &'a Network,
    prechecked: &'a dyn Fn(&Hash) -> bool,
    store: &'a S,
    delta: StateDelta,
    in_block: BTreeMap<Hash, ()>,
    /// The governance state at the start of the block (its roster signs the whole block).
    governance: GovernanceState,
}

impl<S: StateRead> View<'_, S> {
    fn program(&self, code: &ProgramCode) -> Result<Option<ProgramState>, S::Error> {
        if let Some(p) = self.delta.programs.get(code) {
            return Ok(Some(p.clone()));
        }
        if let Some(g) = self
            .network
            .genesis
            .programs
            .iter()
            .find(|p| &p.code == code)
        {
            return Ok(Some(ProgramState {
                issuer: g.issuer,
                name: g.name.clone(),
                period_kind: g.period_kind,
                amount: g.amount,
            }));
        }
        self.store.program(code)
    }
    fn allocation(&self, id: &AllocationId) -> Result<Option<AllocationState>, S::Error> {
        if let Some(a) = self.delta.allocations.get(id) {
            return Ok(Some(a.clone()));
        }
        self.store.allocation(id)
    }
    fn dedup_used(&self, key: &Hash) -> Result<bool, S::Error> {
        Ok(self.delta.dedup.contains(key) || self.store.dedup_used(key)?)
    }
    /// The governance state as this block has changed it so far.
    fn governance(&self) -> &GovernanceState {
        self.delta.governance.as_ref().unwrap_or(&self.governance)
    }
}

/// The governance state of a store: the stored one, or the genesis roster before any vote.
pub fn governance<S: StateRead>(network: &Network, state: &S) -> Result<GovernanceState, S::Error> {
    Ok(state
        .governance()?
        .unwrap_or_else(|| GovernanceState::genesis(network.genesis_roster())))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Ministry => "ministry",
        Role::Bank => "bank",
        Role::Auditor => "auditor",
    }
}

fn role_allows(role: Role, body: &TxBody) -> bool {
    matches!(
        (role, body),
        (
            Role::Ministry,
            TxBody::ProgramRegistered(_) | TxBody::Allocation(_) | TxBody::Revocation(_)
        ) | (Role::Bank, TxBody::Claim(_) | TxBody::Return(_))
            | (_, TxBody::Vote(_))
    )
}

/// The order in which a block's transactions are applied and logged: by phase (program
/// registrations, then allocations, then claims, then returns and revocations), so that what a
/// transaction depends on comes first; within a phase by `SHA-256(domain ‖ height ‖ time ‖ tx
/// hash)`, a deterministic shuffle. An import sorted by village is thus spread over the block's
/// tiles instead of filling one 256-entry tile with one village. The order depends only on what
/// the log records (height, time, transactions), so replaying the log reproduces it.
pub fn block_order(block: &Block) -> Vec<(&SignedTx, Hash)> {
    let phase = |tx: &SignedTx| match tx.body {
        TxBody::ProgramRegistered(_) => 0u8,
        TxBody::Allocation(_) => 1,
        TxBody::Claim(_) => 2,
        TxBody::Return(_) | TxBody::Revocation(_) => 3,
        TxBody::Vote(_) => 4,
    };
    let mut keyed: Vec<(u8, Hash, &SignedTx, Hash)> = block
        .txs
        .iter()
        .map(|tx| {
            let hash = tx.hash();
            let key = Hash::digest_parts(&[
                BLOCK_ORDER_DOMAIN,
                &block.height.to_be_bytes(),
                &block.time.to_be_bytes(),
                &hash.0,
            ]);
            (phase(tx), key, tx, hash)
        })
        .collect();
    // Stable: identical transactions stay adjacent, the first is applied, the next is a duplicate.
    keyed.sort_by_key(|k| (k.0, k.1));
    keyed
        .into_iter()
        .map(|(_, _, tx, hash)| (tx, hash))
        .collect()
}

/// Domain of the in-block shuffle key.
pub const BLOCK_ORDER_DOMAIN: &[u8] = b"bansos-ledger/block-order/v1\0";

/// Applies one block to the state, in [`block_order`]. `first_leaf` is the log size before the
/// block.
pub fn apply_block<S: StateRead>(
    network: &Network,
    state: &S,
    first_leaf: LeafIndex,
    block: &Block,
) -> Result<BlockOutcome, BlockError<S::Error>> {
    apply_block_prechecked(network, state, first_leaf, block, &|_| false)
}

/// [`apply_block`], skipping [`precheck`] for the transactions `prechecked` names by hash. A
/// validator passes the transactions its mempool admitted: their bytes (which the hash names)
/// passed `precheck` with this network, and `precheck` depends on nothing else, so the outcome
/// is the same and each signature is verified once per validator instead of twice.
pub fn apply_block_prechecked<S: StateRead>(
    network: &Network,
    state: &S,
    first_leaf: LeafIndex,
    block: &Block,
    prechecked: &dyn Fn(&Hash) -> bool,
) -> Result<BlockOutcome, BlockError<S::Error>> {
    if block.txs.len() > BLOCK_TXS_MAX {
        return Err(BlockError::TooManyTxs);
    }
    let stored = state.height().map_err(BlockError::Storage)?;
    if block.height != stored + 1 {
        return Err(BlockError::WrongHeight {
            stored,
            got: block.height,
        });
    }
    let governance = governance(network, state).map_err(BlockError::Storage)?;
    if let Some((height, version)) = governance.roster.upgrade
        && block.height >= height
        && version > RULES_VERSION
    {
        return Err(BlockError::UpgradeRequired { height, version });
    }
    let mut view = View {
        governance,
        network,
        prechecked,
        store: state,
        delta: StateDelta {
            height: block.height,
            ..Default::default()
        },
        in_block: BTreeMap::new(),
    };
    let mut outcome = BlockOutcome::default();
    for (tx, hash) in block_order(block) {
        let leaf = LeafIndex(first_leaf.0 + outcome.accepted.len() as u64);
        match check(&view, tx, &hash, block, leaf).map_err(BlockError::Storage)? {
            Ok(effect) => {
                effect(&mut view.delta);
                view.delta.txs.insert(
                    hash,
                    TxLocation {
                        height: block.height,
                        leaf,
                    },
                );
                view.in_block.insert(hash, ());
                outcome.accepted.push(Accepted {
                    tx: tx.clone(),
                    hash,
                    leaf,
                });
            }
            Err(r) => {
                view.in_block.entry(hash).or_insert(());
                outcome.rejected.push((hash, r));
            }
        }
    }
    outcome.delta = view.delta;
    if let Some(g) = &mut outcome.delta.governance
        && let Some(last) = g.approved.last_mut()
        && last.height == block.height
    {
        last.start_size = first_leaf.0 + outcome.accepted.len() as u64;
    }
    Ok(outcome)
}

type Effect = Box<dyn FnOnce(&mut StateDelta)>;

/// The checks that need no state but the members in force: a member of `roster` signed this
/// transaction for this network with its current key, its role may submit this kind (only
/// validators vote), and its fields are valid. A validator runs them before admitting a
/// transaction to its mempool, and again when the roster changes; [`apply_block`] runs them
/// again (a proposer may be faulty).
pub fn precheck(network: &Network, roster: &Roster, tx: &SignedTx) -> Result<(), Rejection> {
    let Some(member) = roster.member(tx.signer) else {
        return Err(Rejection::UnknownSigner(tx.signer.0));
    };
    if !member.active {
        return Err(Rejection::FormerMember(tx.signer.0));
    }
    if let Err(e) = tx.body.validate() {
        return Err(Rejection::Malformed(e.to_string()));
    }
    if !member
        .verifying_key()
        .is_some_and(|key| tx.verify(&network.id, &key))
    {
        return Err(Rejection::BadSignature);
    }
    if !role_allows(member.role, &tx.body) {
        return Err(Rejection::RoleNotAllowed {
            role: role_name(member.role),
            kind: tx.body.kind_name(),
        });
    }
    if matches!(tx.body, TxBody::Vote(_)) && !member.is_validator() {
        return Err(Rejection::NotAVoter(tx.signer.0));
    }
    Ok(())
}

fn check<S: StateRead>(
    view: &View<'_, S>,
    tx: &SignedTx,
    hash: &Hash,
    block: &Block,
    leaf: LeafIndex,
) -> Result<Result<Effect, Rejection>, S::Error> {
    use Rejection as R;
    if view.in_block.contains_key(hash) {
        return Ok(Err(R::DuplicateInBlock));
    }
    if let Some(loc) = view.store.tx_location(hash)? {
        return Ok(Err(R::Duplicate(loc)));
    }
    if !(view.prechecked)(hash)
        && let Err(r) = precheck(view.network, &view.governance.roster, tx)
    {
        return Ok(Err(r));
    }
    let signer = tx.signer;
    Ok(match &tx.body {
        TxBody::ProgramRegistered(p) => {
            if view.program(&p.code)?.is_some() {
                return Ok(Err(R::ProgramExists(p.code.as_str().into())));
            }
            let (code, state) = (
                p.code.clone(),
                ProgramState {
                    issuer: signer,
                    name: p.name.clone(),
                    period_kind: p.period_kind,
                    amount: p.amount,
                },
            );
            Ok(Box::new(move |d: &mut StateDelta| {
                d.programs.insert(code, state);
            }))
        }
        TxBody::Allocation(a) => {
            let program = a.program.as_str().to_string();
            let Some(p) = view.program(&a.program)? else {
                return Ok(Err(R::UnknownProgram(program)));
            };
            if p.issuer != signer {
                return Ok(Err(R::NotProgramIssuer(program)));
            }
            if a.period.kind() != p.period_kind {
                let expected = match p.period_kind {
                    bansos_verifier::entry::PeriodKind::Monthly => "monthly (YYYY-MM)",
                    bansos_verifier::entry::PeriodKind::Quarterly => "quarterly (YYYYQn)",
                    bansos_verifier::entry::PeriodKind::Yearly => "yearly (YYYY)",
                };
                return Ok(Err(R::WrongPeriod {
                    period: a.period.as_str().into(),
                    program,
                    expected,
                }));
            }
            if !p.amount.allows(a.amount) {
                return Ok(Err(R::AmountOutsideRule {
                    amount: a.amount.0,
                    program,
                }));
            }
            if !view
                .governance
                .roster
                .member(a.payer)
                .is_some_and(|m| m.active && m.role == Role::Bank)
            {
                return Ok(Err(R::BadPayer(a.payer.0)));
            }
            if a.expires_at <= block.time {
                return Ok(Err(R::ExpiresInPast {
                    expires_at: a.expires_at,
                    block_time: block.time,
                }));
            }
            if view.allocation(&a.id)?.is_some() {
                return Ok(Err(R::AllocationIdTaken(a.id.to_hex())));
            }
            let dk = dedup_key(&a.program, a.period.as_str(), &a.dedup_tag);
            if view.dedup_used(&dk)? {
                return Ok(Err(R::DuplicateBeneficiary {
                    program,
                    period: a.period.as_str().into(),
                }));
            }
            let state = AllocationState {
                allocation: a.clone(),
                issuer: signer,
                leaf,
                claimed: Rupiah(0),
                claims: Vec::new(),
                status: AllocationStatus::Open,
                closed_by: None,
            };
            Ok(Box::new(move |d: &mut StateDelta| {
                d.dedup.insert(dk);
                let a = &state.allocation;
                d.count(
                    stats_key(a, a.region.get(), None),
                    StatsRow {
                        allocations: 1,
                        allocated: a.amount.0,
                        ..Default::default()
                    },
                );
                d.allocations.insert(state.allocation.id, state);
            }))
        }
        TxBody::Claim(c) => {
            let id = c.allocation.to_hex();
            let Some(mut s) = view.allocation(&c.allocation)? else {
                return Ok(Err(R::UnknownAllocation(id)));
            };
            if s.allocation.payer != signer {
                return Ok(Err(R::NotPayer(id)));
            }
            if let Some(status) = closed(s.status) {
                return Ok(Err(R::Closed { id, status }));
            }
            if block.time >= s.allocation.expires_at {
                return Ok(Err(R::Expired {
                    id,
                    expires_at: s.allocation.expires_at,
                    block_time: block.time,
                }));
            }
            if claim_lock(&c.claim_secret) != s.allocation.claim_lock {
                return Ok(Err(R::WrongClaimSecret(id)));
            }
            if c.claimed_at > block.time.saturating_add(CLAIM_TIME_AHEAD_MAX_SECS) {
                return Ok(Err(R::ClaimInFuture {
                    claimed_at: c.claimed_at,
                    block_time: block.time,
                }));
            }
            let total = s.claimed.0.checked_add(c.amount.0);
            if total.is_none_or(|t| t > s.allocation.amount.0) {
                return Ok(Err(R::OverClaim {
                    allocated: s.allocation.amount.0,
                    claimed: s.claimed.0,
                    requested: c.amount.0,
                }));
            }
            s.claimed = Rupiah(total.expect("checked"));
            s.claims.push(leaf);
            let (key, amount) = (
                stats_key(&s.allocation, c.region.get(), Some(c.channel)),
                c.amount.0,
            );
            Ok(Box::new(move |d: &mut StateDelta| {
                d.count(
                    key,
                    StatsRow {
                        claims: 1,
                        claimed: amount,
                        ..Default::default()
                    },
                );
                d.allocations.insert(s.allocation.id, s);
            }))
        }
        TxBody::Return(r) => close(
            view,
            &r.allocation,
            signer,
            leaf,
            AllocationStatus::Returned,
        )?,
        TxBody::Revocation(r) => {
            close(view, &r.allocation, signer, leaf, AllocationStatus::Revoked)?
        }
        TxBody::Vote(v) => vote(view, tx, v, block, leaf),
    })
}

/// A validator's vote: counted for its change in the current epoch; the vote that brings the
/// change's votes above two thirds of the voting power approves it, and the new roster applies
/// from the next height (docs/FORMAT.md, "Governance").
fn vote<S: StateRead>(
    view: &View<'_, S>,
    tx: &SignedTx,
    v: &Vote,
    block: &Block,
    leaf: LeafIndex,
) -> Result<Effect, Rejection> {
    use Rejection as R;
    let g = view.governance();
    if g.roster.epoch != view.governance.roster.epoch {
        return Err(R::ChangeApprovedInBlock);
    }
    let roster = &view.governance.roster;
    if v.epoch != roster.epoch {
        return Err(R::WrongEpoch {
            voted: v.epoch,
            current: roster.epoch,
        });
    }
    if let Change::ScheduleUpgrade { height, .. } = v.change
        && height < block.height + 2
    {
        return Err(R::UpgradeTooSoon {
            height,
            min: block.height + 2,
        });
    }
    let next = roster
        .apply(&view.network.id, &v.change)
        .map_err(|e| R::BadChange(e.to_string()))?;
    let hash = v.change.hash();
    let mut pending = g.pending.get(&hash).cloned().unwrap_or(PendingChange {
        change: v.change.clone(),
        voters: Vec::new(),
        votes: Vec::new(),
    });
    if pending.voters.iter().any(|(m, _)| *m == tx.signer) {
        return Err(R::DuplicateVote(tx.signer.0));
    }
    pending.voters.push((tx.signer, leaf));
    pending
        .votes
        .push(data_encoding::HEXLOWER.encode(&tx.encode()));
    let power: u64 = pending
        .voters
        .iter()
        .filter_map(|(m, _)| roster.member(*m))
        .map(|m| m.power)
        .sum();
    let mut g = g.clone();
    if roster.is_quorum(power) {
        g.pending.clear();
        g.approved.push(ApprovedChange {
            epoch: next.epoch,
            change: pending.change,
            votes: pending.votes,
            height: block.height,
            start_size: 0, // the log size after this block, set when the block is done
        });
        g.roster = next;
    } else {
        g.pending.insert(hash, pending);
    }
    Ok(Box::new(move |d: &mut StateDelta| d.governance = Some(g)))
}

/// A return (by the payer) or a revocation (by the issuing ministry): closes an open allocation
/// that is not fully paid, and counts what was left unpaid.
fn close<S: StateRead>(
    view: &View<'_, S>,
    allocation: &AllocationId,
    signer: bansos_verifier::entry::MemberId,
    leaf: LeafIndex,
    to: AllocationStatus,
) -> Result<Result<Effect, Rejection>, S::Error> {
    use Rejection as R;
    let id = allocation.to_hex();
    let Some(mut s) = view.allocation(allocation)? else {
        return Ok(Err(R::UnknownAllocation(id)));
    };
    match to {
        AllocationStatus::Returned if s.allocation.payer != signer => {
            return Ok(Err(R::NotPayer(id)));
        }
        AllocationStatus::Revoked if s.issuer != signer => return Ok(Err(R::NotIssuer(id))),
        AllocationStatus::Open => unreachable!("closing means returning or revoking"),
        _ => {}
    }
    if let Some(status) = closed(s.status) {
        return Ok(Err(R::Closed { id, status }));
    }
    if s.claimed >= s.allocation.amount {
        return Ok(Err(R::FullyPaid(id)));
    }
    s.status = to;
    s.closed_by = Some(leaf);
    let key = stats_key(&s.allocation, s.allocation.region.get(), None);
    let unpaid = s.allocation.amount.0 - s.claimed.0;
    let row = if to == AllocationStatus::Returned {
        StatsRow {
            returns: 1,
            returned: unpaid,
            ..Default::default()
        }
    } else {
        StatsRow {
            revocations: 1,
            revoked: unpaid,
            ..Default::default()
        }
    };
    Ok(Ok(Box::new(move |d: &mut StateDelta| {
        d.count(key, row);
        d.allocations.insert(s.allocation.id, s);
    })))
}

fn stats_key(
    a: &bansos_verifier::entry::Allocation,
    region: u16,
    channel: Option<bansos_verifier::entry::Channel>,
) -> StatsKey {
    StatsKey {
        program: a.program.clone(),
        period: a.period.as_str().to_string(),
        region,
        payer: a.payer,
        channel,
    }
}

fn closed(status: AllocationStatus) -> Option<&'static str> {
    match status {
        AllocationStatus::Open => None,
        AllocationStatus::Returned => Some("returned"),
        AllocationStatus::Revoked => Some("revoked"),
    }
}
