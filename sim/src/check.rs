//! The invariants, checked as the run goes: each method is called at the step that could
//! break its invariant, so a violation is found at the step that caused it.
//!
//! - **agreement**: no two honest validators commit different blocks at one height;
//! - **prefix**: every honest log is a prefix of the longest (the same size and root after
//!   every height);
//! - **rules**: every committed block, run again through the ledger rules by an independent
//!   reference ledger, gives the same entries, rejections, size and root;
//! - **quorum**: every block an honest validator commits carries a certificate of more than
//!   two thirds of the voting power, checked with Malachite's own certificate verifier;
//! - **durability**: a committed entry is never lost across a crash and restart;
//! - **checkpoints**: no honest validator signs a checkpoint that is not of the one log
//!   (two inconsistent checkpoints);
//! - **votes**: no honest validator publishes two different votes of one kind in one round
//!   with one key (a vote signed with a rotated-out key counts for no one);
//! - **progress**: with at most f faulty validators and a healed network, every honest
//!   validator commits again within the bound (and, with governance, every planned change is
//!   approved and in force: a new or rotated validator signs blocks);
//!
//! and, as governance changes the validators (all checked in every run):
//!
//! - **governance**: the rules approve at most one change per epoch, epoch after epoch, each by
//!   votes of more than two thirds of the epoch before (checked again by [`KeyHistory`]);
//! - **rosters**: after every height, every honest validator's roster (epoch, members, keys,
//!   powers) and governance state are the reference ledger's, and its core reports the change
//!   (`Committed::roster`) exactly when one takes effect;
//! - **validator-set**: the validators an honest validator gives Malachite for height h are
//!   those of the roster of h;
//! - **certificates**: every commit certificate an honest validator stores (and serves to
//!   sync) verifies against the roster of its height: no signature or vote extension of a
//!   removed member or of a rotated-out key, the quorum of that roster; and the block's proposer
//!   signed it with its key of that height;
//! - **key-history**: every checkpoint an honest validator publishes verifies with the
//!   [`KeyHistory`] built from its own store (the approved changes, their votes and each epoch's
//!   first checkpoint, as `/key-history` serves them), under the epoch its size falls in;
//! - **stale-keys**: no such checkpoint carries a signature by a key that no longer validates
//!   (a removed member's, a rotated-out key).

use std::collections::{BTreeMap, BTreeSet};

use bansos_genesis::Network;
use bansos_ledger::rules::{Block, Rejection, governance};
use bansos_ledger::store::{ConsensusStore, GovernanceState, StateRead};
use bansos_ledger::{Ledger, MemoryStore};
use bansos_node::consensus::block::StoredBlock;
use bansos_node::consensus::codec::decode_extended_certificate;
use bansos_node::consensus::core::{CheckpointVote, Committed, Core};
use bansos_node::consensus::ctx::{BansosContext, Height, ValidatorSet, ValueId, parts_sign_bytes};
use bansos_node::consensus::signing::ConsensusVerifier;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::entry::{SignedTx, TxBody};
use bansos_verifier::governance::{KeyHistory, Link, Roster};
use bansos_verifier::hash::{Hash, TreeSize};
use bansos_verifier::note::Note;
use malachitebft_app_channel::app::types::core::{
    CertificateError, SigningScheme, ThresholdParams, Value as _, VoteExtensionPolicy,
};
use malachitebft_signing::VerifierExt as _;

use crate::block_on;

type Ctx = BansosContext;
/// The consensus signature type (Ed25519), named through the context.
type Signature = <<Ctx as malachitebft_app_channel::app::types::core::Context>::SigningScheme as SigningScheme>::Signature;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant.
    pub invariant: &'static str,
    /// What happened.
    pub detail: String,
    /// Simulated time, milliseconds.
    pub at_ms: u64,
    /// The last steps before it.
    pub trace: Vec<String>,
}

/// Vote kinds, for the votes invariant: (validator, height, round, precommit?, which of its
/// keys: 0, then one more per rotation).
pub type VoteKey = (usize, u64, u32, bool, u8);

/// What the honest validators did, and the reference it is checked against.
pub struct Checker {
    /// Per validator: counted as honest?
    honest: Vec<bool>,
    /// Height → the first honest decision.
    decided: BTreeMap<u64, (ValueId, usize)>,
    /// Log size → root, of the one log.
    roots: BTreeMap<u64, Hash>,
    /// The reference ledger, replaying every decided block once.
    reference: Ledger<MemoryStore>,
    /// Votes published by honest validators, by [`VoteKey`] → value.
    votes: BTreeMap<VoteKey, Option<[u8; 32]>>,
    /// Found so far (only the first is kept: later ones may be its consequences).
    pub violations: Vec<(&'static str, String)>,
    network: Network,
    ctx: BansosContext,
    verifier: ConsensusVerifier,
    /// The reference's governance state after each height where it changed (0: genesis).
    governance: BTreeMap<u64, GovernanceState>,
    /// The reference's roster of each epoch, epoch 0 first.
    epochs: Vec<Roster>,
    /// Heights the reference replayed.
    replayed: u64,
    /// Stored certificates and blocks already checked (hashes of their bytes).
    certified: BTreeSet<Hash>,
    /// Per member: the highest height whose stored certificate carries its signature.
    signed: BTreeMap<u16, u64>,
    /// Per validator: its key history as last built from its store.
    histories: BTreeMap<usize, KeyHistory>,
    /// Count stale keys instead of failing on them.
    allow_stale_keys: bool,
    /// Checkpoints published with a stale key, when allowed.
    pub stale_keys: u64,
    /// Vote transactions the reference accepted, and those it refused by reason.
    pub vote_fates: BTreeMap<&'static str, u64>,
}

impl Checker {
    /// A checker over the network's empty reference ledger; `ctx` is the consensus context;
    /// `allow_stale_keys` counts the stale-keys invariant's breaches instead.
    pub fn new(
        honest: Vec<bool>,
        reference: Ledger<MemoryStore>,
        ctx: BansosContext,
        allow_stale_keys: bool,
    ) -> Checker {
        let mut roots = BTreeMap::new();
        roots.insert(0, reference.root());
        let network = reference.network().clone();
        let genesis = GovernanceState::genesis(network.genesis_roster());
        Checker {
            honest,
            decided: BTreeMap::new(),
            roots,
            reference,
            votes: BTreeMap::new(),
            violations: Vec::new(),
            epochs: vec![genesis.roster.clone()],
            governance: BTreeMap::from([(0, genesis)]),
            network,
            verifier: ConsensusVerifier::new(ctx.clone()),
            ctx,
            replayed: 0,
            certified: BTreeSet::new(),
            signed: BTreeMap::new(),
            histories: BTreeMap::new(),
            allow_stale_keys,
            stale_keys: 0,
            vote_fates: BTreeMap::new(),
        }
    }

    fn fail(&mut self, invariant: &'static str, detail: String) {
        self.violations.push((invariant, detail));
    }

    /// Is validator `i` counted as honest?
    pub fn is_honest(&self, i: usize) -> bool {
        self.honest[i]
    }

    /// Validator `i` committed `c`, the block `block` (its stored encoding).
    pub fn committed(&mut self, i: usize, c: &Committed, value: ValueId, block: &[u8]) {
        if !self.honest[i] {
            return;
        }
        let h = c.height.0;
        match self.decided.get(&h) {
            Some((v, first)) if *v != value => {
                let first = *first;
                self.fail(
                    "agreement",
                    format!("v{i} committed {value} at height {h}, v{first} committed {v}"),
                );
                return;
            }
            Some(_) => {}
            None => {
                self.decided.insert(h, (value, i));
                self.replay(h, c, block);
            }
        }
        match self.roots.get(&c.size.0) {
            Some(root) if *root != c.root => {
                self.fail(
                    "prefix",
                    format!(
                        "v{i}'s log at size {} after height {h} has another root than the others'",
                        c.size.0
                    ),
                );
            }
            Some(_) => {}
            None => self.fail(
                "prefix",
                format!(
                    "v{i}'s log after height {h} has size {}, which no replay of the decided \
                     blocks reached",
                    c.size.0
                ),
            ),
        }
    }

    /// Runs the first honest commit of height `h` through the reference ledger.
    fn replay(&mut self, h: u64, c: &Committed, block: &[u8]) {
        let b = match StoredBlock::decode(block) {
            Ok(b) => b,
            Err(e) => return self.fail("rules", format!("height {h}: undecodable block: {e}")),
        };
        let mut txs = Vec::with_capacity(b.txs.len());
        for t in &b.txs {
            match SignedTx::decode(t) {
                Ok(tx) => txs.push(tx),
                Err(e) => {
                    return self.fail(
                        "rules",
                        format!("height {h}: a committed transaction does not decode: {e}"),
                    );
                }
            }
        }
        let block = Block {
            height: h,
            time: b.header.time,
            txs,
        };
        let votes: BTreeSet<Hash> = block
            .txs
            .iter()
            .filter(|t| matches!(t.body, TxBody::Vote(_)))
            .map(|t| t.hash())
            .collect();
        match self.reference.apply(&block) {
            Ok(applied) => {
                for a in &applied.outcome.accepted {
                    if votes.contains(&a.hash) {
                        *self.vote_fates.entry("accepted").or_default() += 1;
                    }
                }
                for (hash, r) in &applied.outcome.rejected {
                    if votes.contains(hash) {
                        *self.vote_fates.entry(rejection_name(r)).or_default() += 1;
                    }
                }
                let (size, root) = (applied.size, applied.root);
                let accepted: Vec<Hash> = applied.outcome.accepted.iter().map(|a| a.hash).collect();
                if accepted != c.accepted || size != c.size || root != c.root {
                    self.fail(
                        "rules",
                        format!(
                            "height {h}: the reference ledger accepted {} entries (size {}), \
                             the validator {} (size {})",
                            accepted.len(),
                            size.0,
                            c.accepted.len(),
                            c.size.0
                        ),
                    );
                }
                self.roots.insert(size.0, root);
                self.replayed = h;
                self.replayed_governance(h);
            }
            Err(e) => self.fail("rules", format!("height {h}: the reference ledger: {e}")),
        }
    }

    /// After the reference replayed height `h`: at most one change approved, in its epoch
    /// order, and nothing approved before rewritten.
    fn replayed_governance(&mut self, h: u64) {
        let g = match governance(&self.network, self.reference.store()) {
            Ok(g) => g,
            Err(e) => return self.fail("rules", format!("height {h}: the reference's state: {e}")),
        };
        let before = self.state_after(h - 1).clone();
        if g == before {
            return;
        }
        let (from, to) = (before.roster.epoch, g.roster.epoch);
        let kept = g.approved.len() >= before.approved.len()
            && g.approved[..before.approved.len()] == before.approved[..];
        let numbered =
            g.approved.len() as u64 == to && g.approved.iter().zip(1..).all(|(a, e)| a.epoch == e);
        if !(to == from || to == from + 1) {
            self.fail(
                "governance",
                format!("height {h} took the roster from epoch {from} to epoch {to}"),
            );
        } else if !kept || !numbered {
            self.fail(
                "governance",
                format!(
                    "height {h}: the approved changes are not epochs 1 to {to} in order, each \
                     kept as approved"
                ),
            );
        } else if to == from + 1 {
            if g.approved.last().map(|a| a.height) != Some(h) {
                self.fail(
                    "governance",
                    format!("height {h} started epoch {to} but its approval names another height"),
                );
            }
            if !g.pending.is_empty() {
                self.fail(
                    "governance",
                    format!("height {h} started epoch {to} with votes of the epoch before pending"),
                );
            }
            self.epochs.push(g.roster.clone());
        }
        self.governance.insert(h, g);
    }

    /// The reference's governance state after height `h` (which it must have replayed).
    fn state_after(&self, h: u64) -> &GovernanceState {
        self.governance
            .range(..=h)
            .next_back()
            .map(|(_, g)| g)
            .expect("the genesis state is recorded")
    }

    /// The roster in force at height `h`, once the reference replayed the height before.
    pub fn roster_at(&self, h: u64) -> Option<&Roster> {
        (h >= 1 && h - 1 <= self.replayed).then(|| &self.state_after(h - 1).roster)
    }

    /// The validator set of height `h` (see [`Checker::roster_at`]).
    pub fn validator_set_at(&self, h: u64) -> Option<ValidatorSet> {
        self.roster_at(h).map(ValidatorSet::from_roster)
    }

    /// The reference's governance state after the last height it replayed.
    pub fn current_governance(&self) -> &GovernanceState {
        self.state_after(self.replayed)
    }

    /// The highest height whose stored certificate carries member `m`'s signature.
    pub fn signed(&self, m: u16) -> Option<u64> {
        self.signed.get(&m).copied()
    }

    /// Honest validator `i` gives Malachite `vs` for height `h`.
    pub fn started_height(&mut self, i: usize, h: u64, vs: &ValidatorSet) {
        if !self.honest[i] {
            return;
        }
        let Some(roster) = self.roster_at(h) else {
            return self.fail(
                "validator-set",
                format!(
                    "v{i} starts height {h} before any honest validator committed the one before"
                ),
            );
        };
        let expected = ValidatorSet::from_roster(roster);
        if *vs != expected {
            let epoch = roster.epoch;
            self.fail(
                "validator-set",
                format!(
                    "v{i} gives Malachite the validators {} for height {h}; the roster of that \
                     height (epoch {epoch}) has {}",
                    describe_set(vs),
                    describe_set(&expected)
                ),
            );
        }
    }

    /// Honest validator `i` committed `c`; `core` is its core after the commit. Its roster and
    /// governance state, its stored certificate and block, and the checkpoint it publishes.
    pub fn committed_governance(&mut self, i: usize, c: &Committed, core: &Core<MemoryStore>) {
        if !self.honest[i] || !self.violations.is_empty() {
            return;
        }
        let h = c.height.0;
        if h > self.replayed {
            return;
        }
        let after = self.state_after(h).clone();
        let epoch_before = self.roster_at(h).map_or(0, |r| r.epoch);
        if *core.roster() != after.roster {
            return self.fail(
                "rosters",
                format!(
                    "after height {h}, v{i}'s roster is {}; the reference's is {}",
                    describe(core.roster()),
                    describe(&after.roster)
                ),
            );
        }
        let changed = after.roster.epoch != epoch_before;
        match &c.roster {
            Some(r) if changed && *r == after.roster => {}
            None if !changed => {}
            Some(r) => {
                return self.fail(
                    "rosters",
                    format!(
                        "v{i}'s core reports {} taking effect after height {h}; the reference: {}",
                        describe(r),
                        if changed {
                            describe(&after.roster)
                        } else {
                            "no change".into()
                        }
                    ),
                );
            }
            None => {
                return self.fail(
                    "rosters",
                    format!(
                        "v{i}'s core does not report the change approved at height {h} (epoch {})",
                        after.roster.epoch
                    ),
                );
            }
        }
        let store = core.ledger().store();
        match governance(&self.network, store) {
            Ok(g) if g == after => {}
            Ok(g) => {
                return self.fail(
                    "rosters",
                    format!(
                        "v{i}'s governance state after height {h} is not the reference's: {} \
                         changes pending and {} approved, against {} and {}",
                        g.pending.len(),
                        g.approved.len(),
                        after.pending.len(),
                        after.approved.len()
                    ),
                );
            }
            Err(e) => return self.fail("rosters", format!("v{i}'s governance state: {e}")),
        }
        self.certificate(i, h, store);
        if let Some((note, size)) = &c.checkpoint {
            self.published(i, note, *size, store);
        }
    }

    /// The block and certificate validator `i` stores for height `h`, checked against the
    /// roster of `h` (once per distinct pair).
    fn certificate(&mut self, i: usize, h: u64, store: &MemoryStore) {
        let (block, cert) = match store.decided(h) {
            Ok(Some(d)) => d,
            _ => {
                return self.fail(
                    "certificates",
                    format!("v{i} committed height {h} but stores no certificate for it"),
                );
            }
        };
        if !self
            .certified
            .insert(Hash::digest(&[&block[..], &cert[..]].concat()))
        {
            return;
        }
        let Some(roster) = self.roster_at(h).cloned() else {
            return;
        };
        let vs = ValidatorSet::from_roster(&roster);
        let cert = match decode_extended_certificate(&cert) {
            Ok(c) => c,
            Err(e) => {
                return self.fail(
                    "certificates",
                    format!("v{i}'s certificate of height {h} does not decode: {e}"),
                );
            }
        };
        let checked = block_on(self.verifier.verify_extended_commit_certificate(
            &self.ctx,
            &cert,
            &vs,
            ThresholdParams::default(),
            VoteExtensionPolicy::Required,
        ));
        if let Err(e) = checked {
            let why = match &e {
                CertificateError::UnknownValidator(a) => format!(
                    "it carries a signature of v{}, not a validator at that height{}",
                    a.0,
                    if roster
                        .member(bansos_verifier::entry::MemberId(a.0))
                        .is_some()
                    {
                        " (removed)"
                    } else {
                        ""
                    }
                ),
                CertificateError::InvalidCommitSignature(s) => format!(
                    "v{}'s signature does not verify with its key of that height (a rotated-out \
                     key?)",
                    s.address.0
                ),
                e => e.to_string(),
            };
            return self.fail(
                "certificates",
                format!(
                    "v{i}'s certificate of height {h} does not verify against the roster of \
                     that height (epoch {}): {why}",
                    roster.epoch
                ),
            );
        }
        // Each precommit's extension: a checkpoint vote signed with the member's key of that
        // height (Malachite checked only the extension's own signature).
        let origin = self.network.genesis.origin.clone();
        let vkeys = roster.validator_vkeys();
        for s in &cert.commit_signatures {
            let e = self.signed.entry(s.address.0).or_default();
            *e = (*e).max(h);
            let Some(ext) = &s.extension else { continue };
            let member = roster.member(bansos_verifier::entry::MemberId(s.address.0));
            let key = member.and_then(|m| vkeys.iter().find(|(k, _)| k.name() == m.name));
            let signed = CheckpointVote::decode(&ext.message).is_some_and(|v| {
                let body = Checkpoint::new(&origin, v.size, v.root).body();
                key.is_some_and(|(k, _)| k.verify(&body, &v.signature).is_some())
            });
            if !signed {
                return self.fail(
                    "certificates",
                    format!(
                        "v{i}'s certificate of height {h} carries a checkpoint vote of v{} not \
                         signed with its key of that height (epoch {})",
                        s.address.0, roster.epoch
                    ),
                );
            }
        }
        let b = match StoredBlock::decode(&block) {
            Ok(b) => b,
            Err(e) => {
                return self.fail(
                    "certificates",
                    format!("v{i}'s block of height {h} does not decode: {e}"),
                );
            }
        };
        let signs = parts_sign_bytes(
            &self.ctx,
            Height(h),
            b.round,
            b.pol_round,
            b.proposer,
            &b.header.id(),
        );
        let proposer = vs.validators.iter().find(|v| v.address == b.proposer);
        let valid = proposer.is_some_and(|v| {
            v.public_key
                .verify(&signs, &Signature::from_bytes(b.fin_signature))
                .is_ok()
        });
        if !valid {
            self.fail(
                "certificates",
                format!(
                    "block {h} (committed by v{i}) names v{} as its proposer, {} at that height",
                    b.proposer.0,
                    if proposer.is_some() {
                        "whose signature does not verify with its key"
                    } else {
                        "not a validator"
                    }
                ),
            );
        }
    }

    /// Validator `i` publishes the checkpoint `note` of log size `size`: it verifies with the
    /// key history from `i`'s store, under the epoch of `size`, and carries no stale key.
    fn published(&mut self, i: usize, note: &[u8], size: TreeSize, store: &MemoryStore) {
        let origin = self.network.genesis.origin.clone();
        let epoch = self
            .current_governance()
            .approved
            .iter()
            .filter(|a| a.start_size <= size.0)
            .count();
        let history = match self.history(i, store) {
            Ok(h) => h,
            Err(why) => return self.fail("key-history", why),
        };
        let known = history.rosters().len() - 1;
        if known < epoch {
            return self.fail(
                "key-history",
                format!(
                    "v{i} publishes the checkpoint of size {} (epoch {epoch}) but the key \
                     history from its store ends at epoch {known}: the first checkpoint of \
                     epoch {} is not stored",
                    size.0,
                    known + 1
                ),
            );
        }
        if let Err(e) = history.verify_checkpoint(note, Some(&origin), false) {
            return self.fail(
                "key-history",
                format!(
                    "v{i}'s checkpoint of size {} (epoch {epoch}) does not verify with the key \
                     history from its store: {e}",
                    size.0
                ),
            );
        }
        let Ok(parsed) = Note::parse(note) else {
            return self.fail("key-history", format!("v{i} publishes an unparsable note"));
        };
        let vkeys = |r: &Roster| -> Vec<(String, u32)> {
            r.validator_vkeys()
                .iter()
                .map(|(k, _)| (k.name().to_string(), k.key_id()))
                .collect()
        };
        let now = vkeys(&self.epochs[epoch]);
        for sig in parsed.signatures() {
            let key = (sig.name.clone(), sig.key_id);
            if now.contains(&key) {
                continue;
            }
            // A key of an earlier epoch only: a validator not admitted yet may sign the
            // checkpoints its own node publishes (no verifier counts a key it does not know).
            if let Some(e) = self.epochs[..epoch]
                .iter()
                .position(|r| vkeys(r).contains(&key))
            {
                if self.allow_stale_keys {
                    self.stale_keys += 1;
                    return;
                }
                let removed = self.epochs[epoch]
                    .members
                    .iter()
                    .any(|m| m.name == sig.name && !m.active);
                return self.fail(
                    "stale-keys",
                    format!(
                        "v{i} publishes the checkpoint of size {} (epoch {epoch}) with a \
                         signature by {}'s key {:08x} of epoch {e}, {} by then",
                        size.0,
                        sig.name,
                        sig.key_id,
                        if removed { "removed" } else { "rotated out" }
                    ),
                );
            }
        }
    }

    /// Validator `i`'s key history, built from its store as `/key-history` serves it (the
    /// approved changes up to the first whose epoch checkpoint is not stored), each link checked.
    fn history(&mut self, i: usize, store: &MemoryStore) -> Result<&KeyHistory, String> {
        let g = governance(&self.network, store).map_err(|e| e.to_string())?;
        let mut links = Vec::new();
        for a in &g.approved {
            let Some(cp) = store.epoch_checkpoint(a.epoch).map_err(|e| e.to_string())? else {
                break;
            };
            links.push(Link {
                epoch: a.epoch,
                change: hex(&a.change.to_bytes()),
                votes: a.votes.clone(),
                checkpoint: String::from_utf8_lossy(&cp).into_owned(),
            });
        }
        let cached = self
            .histories
            .get(&i)
            .is_some_and(|h| h.links() == &links[..]);
        if !cached {
            let origin = &self.network.genesis.origin;
            let mut history = KeyHistory::new(self.network.genesis_roster());
            for link in links {
                let epoch = link.epoch;
                history.push(&self.network.id, origin, link).map_err(|e| {
                    format!("v{i}'s key history (from its store) breaks at epoch {epoch}: {e}")
                })?;
            }
            self.histories.insert(i, history);
        }
        Ok(&self.histories[&i])
    }

    /// Validator `i` signed `ext` as its checkpoint vote.
    pub fn signed_checkpoint(&mut self, i: usize, ext: &[u8]) {
        if !self.honest[i] || ext.is_empty() {
            return;
        }
        let Some(vote) = CheckpointVote::decode(ext) else {
            return self.fail(
                "checkpoints",
                format!("v{i} signed an undecodable checkpoint"),
            );
        };
        match self.roots.get(&vote.size.0) {
            Some(root) if *root == vote.root => {}
            Some(_) => self.fail(
                "checkpoints",
                format!(
                    "v{i} signed a checkpoint of size {} whose root is not the log's",
                    vote.size.0
                ),
            ),
            None => self.fail(
                "checkpoints",
                format!(
                    "v{i} signed a checkpoint of size {}, a size the log never had",
                    vote.size.0
                ),
            ),
        }
    }

    /// Validator `i` published a vote.
    pub fn published_vote(&mut self, key: VoteKey, value: Option<[u8; 32]>) {
        if !self.honest[key.0] {
            return;
        }
        match self.votes.get(&key) {
            Some(v) if *v != value => {
                let (i, h, r, pc, _) = key;
                let kind = if pc { "precommits" } else { "prevotes" };
                self.fail(
                    "votes",
                    format!("v{i} published two different {kind} at height {h}, round {r}"),
                );
            }
            Some(_) => {}
            None => {
                self.votes.insert(key, value);
            }
        }
    }

    /// An honest validator committed a block whose certificate failed the check.
    pub fn no_quorum(&mut self, i: usize, h: u64, why: String) {
        if self.honest[i] {
            self.fail(
                "quorum",
                format!("v{i} committed height {h} on a certificate without a quorum: {why}"),
            );
        }
    }

    /// Validator `i` restarted with `now` what it had committed before the crash.
    pub fn restarted(&mut self, i: usize, before: (u64, TreeSize), now: (u64, TreeSize)) {
        if self.honest[i] && (now.0 < before.0 || now.1 < before.1) {
            self.fail(
                "durability",
                format!(
                    "v{i} had committed height {} (size {}) before its crash, {} (size {}) after",
                    before.0, before.1.0, now.0, now.1.0
                ),
            );
        }
    }

    /// Honest validators did not progress within the bound after the network healed.
    pub fn stalled(&mut self, detail: String) {
        self.fail("progress", detail);
    }

    /// Prunes votes of heights below `h` (they cannot conflict any more).
    pub fn prune_votes(&mut self, h: u64) {
        self.votes.retain(|k, _| k.1 >= h);
    }
}

/// The name of a rejection's kind.
fn rejection_name(r: &Rejection) -> &'static str {
    match r {
        Rejection::Duplicate(_) => "duplicate",
        Rejection::DuplicateInBlock => "duplicate_in_block",
        Rejection::WrongEpoch { .. } => "wrong_epoch",
        Rejection::DuplicateVote(_) => "duplicate_vote",
        Rejection::BadChange(_) => "bad_change",
        Rejection::ChangeApprovedInBlock => "change_approved_in_block",
        Rejection::FormerMember(_) => "former_member",
        Rejection::NotAVoter(_) => "not_a_voter",
        Rejection::BadSignature => "bad_signature",
        Rejection::UnknownSigner(_) => "unknown_signer",
        _ => "other",
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A roster for a violation's report: epoch, validators with power and key, removed members.
fn describe(r: &Roster) -> String {
    let validators: Vec<String> = r
        .validators()
        .map(|m| {
            let key = m.key.map(|k| hex(&k[..4])).unwrap_or_else(|| "none".into());
            format!("{} (power {}, key {key})", m.name, m.power)
        })
        .collect();
    let removed: Vec<&str> = r
        .members
        .iter()
        .filter(|m| !m.active)
        .map(|m| m.name.as_str())
        .collect();
    format!(
        "epoch {}: {}{}",
        r.epoch,
        validators.join(", "),
        if removed.is_empty() {
            String::new()
        } else {
            format!("; removed {}", removed.join(", "))
        }
    )
}

/// A validator set for a violation's report.
fn describe_set(vs: &ValidatorSet) -> String {
    let v: Vec<String> = vs
        .validators
        .iter()
        .map(|v| {
            let key = hex(&v.public_key.as_bytes()[..4]);
            format!("v{} (power {}, key {key})", v.address.0, v.voting_power)
        })
        .collect();
    format!("[{}]", v.join(", "))
}
