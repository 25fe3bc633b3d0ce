//! The Malachite `Context` of Bansos Ledger: heights, validator addresses, the block header
//! that consensus agrees on, proposals, proposal parts and votes, and the bytes each consensus
//! signature covers.
//!
//! Consensus agrees on a [`BlockHeader`] (height, block time, transaction count and the hash of
//! the body); the body travels once, in proposal parts, and is kept in the node's store keyed
//! by the header's id. Every signature here covers a domain string that starts with byte 0xFF
//! (never valid UTF-8, so never a C2SP note text) and the network id, so a consensus signature
//! can never be replayed on another network or read as a checkpoint or transaction signature.

use std::fmt;

use bansos_genesis::Network;
use bansos_verifier::governance::Roster;
use bansos_verifier::hash::Hash;
use bytes::Bytes;
use malachitebft_app_channel::app::types::core::{
    self, LinearTimeouts, NilOrVal, Round, SignedExtension, VoteType, VotingPower,
};
use malachitebft_signing_ed25519::{Ed25519, PublicKey};
use sha2::{Digest, Sha256};

/// Version of the consensus byte formats (sign bytes and wire codec).
pub const CONSENSUS_FORMAT: u8 = 1;

/// A block height; the first block is height 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl core::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0 + n)
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: its genesis member id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub u16);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "member-{}", self.0)
    }
}

impl core::Address for Address {}

/// What consensus agrees on: the header of a block. The body (the transactions) is bound by
/// `body_hash` and travels in proposal parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockHeader {
    /// Height.
    pub height: u64,
    /// Unix seconds chosen by the proposer, checked by the others within a bound.
    pub time: u64,
    /// Number of transactions in the body.
    pub tx_count: u32,
    /// [`body_hash`] of the transactions.
    pub body_hash: Hash,
}

/// The id of a [`BlockHeader`]: SHA-256 of its encoding, unique across heights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValueId(pub [u8; 32]);

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl BlockHeader {
    /// Fixed-length encoding: height, time, count (big-endian) and the body hash.
    pub fn encode(&self) -> [u8; 52] {
        let mut out = [0u8; 52];
        out[..8].copy_from_slice(&self.height.to_be_bytes());
        out[8..16].copy_from_slice(&self.time.to_be_bytes());
        out[16..20].copy_from_slice(&self.tx_count.to_be_bytes());
        out[20..].copy_from_slice(&self.body_hash.0);
        out
    }

    /// Decodes [`BlockHeader::encode`].
    pub fn decode(b: &[u8]) -> Option<BlockHeader> {
        if b.len() != 52 {
            return None;
        }
        Some(BlockHeader {
            height: u64::from_be_bytes(b[..8].try_into().ok()?),
            time: u64::from_be_bytes(b[8..16].try_into().ok()?),
            tx_count: u32::from_be_bytes(b[16..20].try_into().ok()?),
            body_hash: Hash(b[20..].try_into().ok()?),
        })
    }
}

impl core::Value for BlockHeader {
    type Id = ValueId;

    fn id(&self) -> ValueId {
        let mut h = Sha256::new();
        h.update(b"\xffbansos-consensus/v1/header\x00");
        h.update(self.encode());
        ValueId(h.finalize().into())
    }
}

/// Hash binding a block's transactions in order: SHA-256 over each encoded transaction, length
/// prefixed.
pub fn body_hash<T: AsRef<[u8]>>(txs: &[T]) -> Hash {
    let mut h = Sha256::new();
    h.update(b"\xffbansos-consensus/v1/body\x00");
    for tx in txs {
        h.update((tx.as_ref().len() as u32).to_be_bytes());
        h.update(tx.as_ref());
    }
    Hash(h.finalize().into())
}

/// A proposal: this header at this height and round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The proposed header.
    pub value: BlockHeader,
    /// Round of an earlier polka for this value, or nil.
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
}

impl core::Proposal<BansosContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &BlockHeader {
        &self.value
    }
    fn take_value(self) -> BlockHeader {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// One part of a streamed proposal: the header first, then the transactions in chunks, then
/// the proposer's signature over the header id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalPart {
    /// First part.
    Init {
        /// Height.
        height: Height,
        /// Round the value was first proposed in.
        round: Round,
        /// Polka round, or nil.
        pol_round: Round,
        /// The proposer.
        proposer: Address,
        /// The header.
        header: BlockHeader,
    },
    /// A chunk of encoded transactions.
    Data {
        /// Encoded signed transactions.
        txs: Vec<Bytes>,
    },
    /// Last part: the proposer's signature over [`parts_sign_bytes`].
    Fin {
        /// Ed25519 signature.
        signature: [u8; 64],
    },
}

impl core::ProposalPart<BansosContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, ProposalPart::Init { .. })
    }
    fn is_last(&self) -> bool {
        matches!(self, ProposalPart::Fin { .. })
    }
}

/// A prevote or precommit. Equality ignores the vote extension, as the engine's replay
/// contract requires (the extension is neither re-derived nor signed with the vote).
#[derive(Clone, Debug)]
pub struct Vote {
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The value voted for, or nil.
    pub value: NilOrVal<ValueId>,
    /// The voter.
    pub validator: Address,
    /// The signed extension (precommits for a value only).
    pub extension: Option<SignedExtension<BansosContext>>,
}

impl Vote {
    /// A vote without extension (the engine signs it and adds the extension).
    pub fn new(
        vote_type: VoteType,
        height: Height,
        round: Round,
        value: NilOrVal<ValueId>,
        validator: Address,
    ) -> Vote {
        Vote {
            vote_type,
            height,
            round,
            value,
            validator,
            extension: None,
        }
    }
}

impl PartialEq for Vote {
    fn eq(&self, o: &Vote) -> bool {
        self.vote_type == o.vote_type
            && self.height == o.height
            && self.round == o.round
            && self.value == o.value
            && self.validator == o.validator
    }
}

impl Eq for Vote {}

impl core::Vote<BansosContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<ValueId> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<ValueId> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.vote_type
    }
    fn validator_address(&self) -> &Address {
        &self.validator
    }
    fn extension(&self) -> Option<&SignedExtension<BansosContext>> {
        self.extension.as_ref()
    }
    fn take_extension(&mut self) -> Option<SignedExtension<BansosContext>> {
        self.extension.take()
    }
    fn extend(self, extension: SignedExtension<BansosContext>) -> Self {
        Vote {
            extension: Some(extension),
            ..self
        }
    }
}

/// A validator: a genesis member with voting power.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    /// Its address (member id).
    pub address: Address,
    /// Its Ed25519 key from genesis.
    pub public_key: PublicKey,
    /// Its voting power.
    pub voting_power: VotingPower,
}

impl core::Validator<BansosContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }
    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }
    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// The validators of one height: the roster's active members with voting power (governance
/// changes them from a height on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    /// Validators, by power descending then address ascending.
    pub validators: Vec<Validator>,
}

impl ValidatorSet {
    /// The validators of a genesis: members with voting power (1 each: see
    /// [`Network::genesis_roster`]).
    pub fn from_network(network: &Network) -> ValidatorSet {
        ValidatorSet::from_roster(&network.genesis_roster())
    }

    /// The validators of a roster: its active members with voting power.
    pub fn from_roster(roster: &Roster) -> ValidatorSet {
        let mut validators: Vec<Validator> = roster
            .validators()
            .filter_map(|m| {
                Some(Validator {
                    address: Address(m.id.0),
                    public_key: PublicKey::from_bytes(m.key?).ok()?,
                    voting_power: m.power,
                })
            })
            .collect();
        validators.sort_by(|a, b| {
            b.voting_power
                .cmp(&a.voting_power)
                .then(a.address.cmp(&b.address))
        });
        ValidatorSet { validators }
    }
}

impl core::ValidatorSet<BansosContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }
    fn total_voting_power(&self) -> VotingPower {
        self.validators.iter().map(|v| v.voting_power).sum()
    }
    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }
    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// The context: which network, for the signature domains.
#[derive(Clone, Debug)]
pub struct BansosContext {
    /// The network id (SHA-256 of genesis.json).
    pub network_id: [u8; 32],
}

impl core::Context for BansosContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = BlockHeader;
    type Vote = Vote;
    type Extension = Bytes;
    type SigningScheme = Ed25519;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        let n = validator_set.validators.len() as u64;
        let r = round.as_u32().unwrap_or(0) as u64;
        let i = (height.0.saturating_sub(1) + r) % n;
        &validator_set.validators[i as usize]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockHeader,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<ValueId>,
        address: Address,
    ) -> Vote {
        Vote::new(VoteType::Prevote, height, round, value_id, address)
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<ValueId>,
        address: Address,
    ) -> Vote {
        Vote::new(VoteType::Precommit, height, round, value_id, address)
    }
}

/// Encodes a round: -1 for nil.
pub fn round_i64(r: Round) -> i64 {
    r.as_i64()
}

fn preimage(ctx: &BansosContext, what: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(128);
    v.extend_from_slice(b"\xffbansos-consensus/v1/");
    v.extend_from_slice(what.as_bytes());
    v.push(0);
    v.extend_from_slice(&ctx.network_id);
    v
}

/// What a vote signature covers (never the extension).
pub fn vote_sign_bytes(ctx: &BansosContext, v: &Vote) -> Vec<u8> {
    let mut b = preimage(ctx, "vote");
    b.push(match v.vote_type {
        VoteType::Prevote => 1,
        VoteType::Precommit => 2,
    });
    b.extend_from_slice(&v.height.0.to_be_bytes());
    b.extend_from_slice(&round_i64(v.round).to_be_bytes());
    match &v.value {
        NilOrVal::Nil => b.push(0),
        NilOrVal::Val(id) => {
            b.push(1);
            b.extend_from_slice(&id.0);
        }
    }
    b.extend_from_slice(&v.validator.0.to_be_bytes());
    b
}

/// What a proposal signature covers.
pub fn proposal_sign_bytes(ctx: &BansosContext, p: &Proposal) -> Vec<u8> {
    use malachitebft_app_channel::app::types::core::Value as _;
    let mut b = preimage(ctx, "proposal");
    b.extend_from_slice(&p.height.0.to_be_bytes());
    b.extend_from_slice(&round_i64(p.round).to_be_bytes());
    b.extend_from_slice(&p.value.id().0);
    b.extend_from_slice(&round_i64(p.pol_round).to_be_bytes());
    b.extend_from_slice(&p.proposer.0.to_be_bytes());
    b
}

/// What a vote-extension signature covers: the scope and the extension bytes.
pub fn extension_sign_bytes(
    ctx: &BansosContext,
    scope: &core::VoteExtensionScope<BansosContext>,
    ext: &[u8],
) -> Vec<u8> {
    let mut b = preimage(ctx, "vote-extension");
    b.extend_from_slice(&scope.height.0.to_be_bytes());
    b.extend_from_slice(&round_i64(scope.round).to_be_bytes());
    b.extend_from_slice(&scope.value_id.0);
    b.extend_from_slice(&scope.validator_address.0.to_be_bytes());
    b.extend_from_slice(&(ext.len() as u32).to_be_bytes());
    b.extend_from_slice(ext);
    b
}

/// What the proposer's `Fin` part signature covers: the stream's height, round, polka round,
/// proposer and header id (the header binds the transactions through its body hash).
pub fn parts_sign_bytes(
    ctx: &BansosContext,
    height: Height,
    round: Round,
    pol_round: Round,
    proposer: Address,
    id: &ValueId,
) -> Vec<u8> {
    let mut b = preimage(ctx, "proposal-parts");
    b.extend_from_slice(&height.0.to_be_bytes());
    b.extend_from_slice(&round_i64(round).to_be_bytes());
    b.extend_from_slice(&round_i64(pol_round).to_be_bytes());
    b.extend_from_slice(&proposer.0.to_be_bytes());
    b.extend_from_slice(&id.0);
    b
}

/// Consensus timeouts from genesis.
pub fn timeouts(network: &Network) -> LinearTimeouts {
    use std::time::Duration;
    let c = &network.genesis.consensus;
    LinearTimeouts {
        propose: Duration::from_millis(c.propose_ms),
        prevote: Duration::from_millis(c.prevote_ms),
        precommit: Duration::from_millis(c.precommit_ms),
        ..LinearTimeouts::default()
    }
}
