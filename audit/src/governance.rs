//! The governance of the log, re-checked from its entries (docs/AUDIT.md, "Governance"): who
//! may sign each entry, epoch by epoch, and the validators' votes tallied again.
//!
//! The tally is the auditor's own, written from docs/FORMAT.md, not the `ledger` crate's; what
//! a change does to the members is [`Roster::apply`] of `bansos-verifier`, the one definition
//! every verifier uses. As the ledger does: a vote counts for its change in the current epoch
//! if it names that epoch and its signer is an active validator who has not voted for it yet;
//! the vote that brings a change's voting power above two thirds of the epoch's total approves
//! it, the other pending changes lapse, and the new roster signs from the next block on (from
//! the entry after the approving block, the epoch's start size); a vote later in the approving
//! block is refused. Votes the rules refuse are flagged and not counted.
//!
//! The approved changes are then held against the key history of the mirror (the one its
//! checkpoint was verified with): the same change, the same votes, the same start size.

use std::collections::{BTreeMap, HashMap};

use bansos_genesis::Network;
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::entry::{Leaf, NetworkId, TxBody};
use bansos_verifier::governance::{Change, KeyHistory, Role, Roster, RosterMember, Vote};
use bansos_verifier::hash::Hash;
use bansos_verifier::note::Note;

use crate::aggregates::{RuleViolation, violation};

/// A change being voted.
struct Pending {
    /// (member, leaf) of each vote so far.
    voters: Vec<(u16, u64)>,
    /// The votes, signed transactions' canonical bytes in hex (as a key history carries them).
    votes: Vec<String>,
}

/// A change the votes on the log approved.
struct Approved {
    /// The epoch it starts.
    epoch: u64,
    /// The change.
    change: Change,
    /// Its votes in log order, hex of the signed transactions.
    votes: Vec<String>,
    /// Their leaves; the last one approved it.
    leaves: Vec<u64>,
    /// The first leaf of a later block (the epoch's start size); `None` while the approving
    /// block is the log's last (then the log's size).
    start: Option<u64>,
}

/// The members in force entry by entry, and the votes tallied.
pub struct Governance {
    network: NetworkId,
    /// The roster that signs the current block.
    roster: Roster,
    /// A change approved in the current block: (its height, the roster from the next block).
    scheduled: Option<(u64, Roster)>,
    /// Changes voted in this epoch, by change hash.
    pending: BTreeMap<Hash, Pending>,
    /// Every change approved, epoch 1 first.
    approved: Vec<Approved>,
    /// Keys replaced by a rotation: member → (the member with its old key, leaf of the
    /// approving vote).
    former_keys: HashMap<u16, Vec<(RosterMember, u64)>>,
    /// Members removed: member → leaf of the approving vote.
    removed: HashMap<u16, u64>,
    violations: Vec<RuleViolation>,
}

impl Governance {
    /// Epoch 0: the genesis members.
    pub fn new(network: &Network) -> Governance {
        Governance {
            network: network.id,
            roster: network.genesis_roster(),
            scheduled: None,
            pending: BTreeMap::new(),
            approved: Vec::new(),
            former_keys: HashMap::new(),
            removed: HashMap::new(),
            violations: Vec::new(),
        }
    }

    /// The roster in force for the entry being read.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Moves to entry `index` of block `height`: a change approved in an earlier block is in
    /// force from this entry on.
    pub fn enter(&mut self, index: u64, height: u64) {
        if self.scheduled.as_ref().is_some_and(|(h, _)| height > *h) {
            let (_, mut next) = self.scheduled.take().expect("checked");
            next.start_size = index;
            self.roster = next;
            if let Some(a) = self.approved.last_mut() {
                a.start = Some(index);
            }
        }
    }

    /// The entry must be signed, for this network, by an active member of the roster in force
    /// with its current key, and that member's role must allow its kind (ministries register
    /// programs, allocate and revoke; banks and PT Pos claim and return; votes by anyone, and
    /// [`Governance::vote`] holds them to validators). The role table is the auditor's own,
    /// written from docs/FORMAT.md, not the ledger crate's.
    pub fn signature_and_role(&self, index: u64, leaf: &Leaf) -> Option<RuleViolation> {
        let signer = leaf.tx.signer;
        let Some(member) = self.roster.member(signer) else {
            return Some(violation(
                "bad_signature",
                vec![index],
                format!("entry {index} names signer {}, not a member", signer.0),
            ));
        };
        let verifies = |m: &RosterMember| {
            m.verifying_key()
                .is_some_and(|k| leaf.tx.verify(&self.network, &k))
        };
        if !member.active {
            let mut entries = vec![index];
            entries.extend(self.removed.get(&signer.0));
            return Some(violation(
                "removed_member_signed",
                entries,
                format!(
                    "entry {index} is signed by {}, a member removed from the network{}",
                    member.name,
                    self.removed
                        .get(&signer.0)
                        .map(|at| format!(" by the change approved at entry {at}"))
                        .unwrap_or_default()
                ),
            ));
        }
        if !verifies(member) {
            let rotated = self
                .former_keys
                .get(&signer.0)
                .and_then(|keys| keys.iter().find(|(k, _)| verifies(k)));
            let (entries, why) = match rotated {
                Some((_, at)) => (
                    vec![index, *at],
                    format!(
                        "it is signed with {}'s key rotated out by the change approved at entry {at}",
                        member.name
                    ),
                ),
                None => (
                    vec![index],
                    format!(
                        "it is not {}'s signature for this network with the key in force",
                        member.name
                    ),
                ),
            };
            return Some(violation(
                "bad_signature",
                entries,
                format!("the signature of entry {index} does not verify: {why}"),
            ));
        }
        let allowed = matches!(
            (member.role, &leaf.tx.body),
            (
                Role::Ministry,
                TxBody::ProgramRegistered(_) | TxBody::Allocation(_) | TxBody::Revocation(_)
            ) | (Role::Bank, TxBody::Claim(_) | TxBody::Return(_))
                | (_, TxBody::Vote(_))
        );
        (!allowed).then(|| {
            violation(
                "role_not_allowed",
                vec![index],
                format!(
                    "entry {index} is a {} signed by {}, whose role may not submit it",
                    leaf.tx.body.kind_name(),
                    member.name
                ),
            )
        })
    }

    /// A vote at entry `index` (its signature already checked): counted, or flagged with the
    /// rule that refuses it.
    pub fn vote(&mut self, index: u64, leaf: &Leaf, vote: &Vote) {
        let signer = leaf.tx.signer.0;
        let mut flag = |rule: &'static str, entries: Vec<u64>, why: String| {
            self.violations.push(violation(
                rule,
                entries,
                format!(
                    "the vote at entry {index} for {} ({}) is refused by the rules: {why}; it is not counted",
                    vote.change.name(),
                    vote.change.hash()
                ),
            ));
        };
        let roster = &self.roster;
        if !roster
            .member(leaf.tx.signer)
            .is_some_and(|m| m.is_validator())
        {
            return flag(
                "vote_not_by_validator",
                vec![index],
                format!(
                    "member {signer} is not a validator of epoch {}",
                    roster.epoch
                ),
            );
        }
        if let Some(a) = self.scheduled.as_ref().and(self.approved.last()) {
            let approving = *a.leaves.last().expect("an approval has votes");
            return flag(
                "vote_after_approval",
                vec![approving, index],
                format!(
                    "a change was approved earlier in the same block (height {}, entry {approving})",
                    leaf.height
                ),
            );
        }
        if vote.epoch != roster.epoch {
            return flag(
                "vote_wrong_epoch",
                vec![index],
                format!(
                    "it names epoch {}, but the network is in epoch {}",
                    vote.epoch, roster.epoch
                ),
            );
        }
        if let Change::ScheduleUpgrade { height, .. } = vote.change
            && height < leaf.height.saturating_add(2)
        {
            return flag(
                "vote_upgrade_too_soon",
                vec![index],
                format!(
                    "the upgrade height {height} is before {}, two blocks after the vote's",
                    leaf.height.saturating_add(2)
                ),
            );
        }
        let next = match roster.apply(&self.network, &vote.change) {
            Ok(next) => next,
            Err(e) => {
                return flag(
                    "vote_bad_change",
                    vec![index],
                    format!("the change may not apply to epoch {}: {e}", roster.epoch),
                );
            }
        };
        let hash = vote.change.hash();
        let pending = self.pending.entry(hash).or_insert_with(|| Pending {
            voters: Vec::new(),
            votes: Vec::new(),
        });
        if let Some(&(_, earlier)) = pending.voters.iter().find(|(m, _)| *m == signer) {
            let entries = vec![earlier, index];
            return self.violations.push(violation(
                "vote_duplicate",
                entries,
                format!(
                    "member {signer} voted at entry {index} for {} ({hash}) again, after entry {earlier}; it is not counted",
                    vote.change.name()
                ),
            ));
        }
        pending.voters.push((signer, index));
        pending
            .votes
            .push(data_encoding::HEXLOWER.encode(&leaf.tx.encode()));
        let power: u64 = pending
            .voters
            .iter()
            .filter_map(|(m, _)| self.roster.member(bansos_verifier::entry::MemberId(*m)))
            .map(|m| m.power)
            .sum();
        if !self.roster.is_quorum(power) {
            return;
        }
        let pending = self.pending.remove(&hash).expect("just counted");
        self.pending.clear();
        match &vote.change {
            Change::RemoveMember { member } => {
                self.removed.insert(member.0, index);
            }
            Change::RotateKey(r) => {
                if let Some(old) = self.roster.member(r.member) {
                    self.former_keys
                        .entry(r.member.0)
                        .or_default()
                        .push((old.clone(), index));
                }
            }
            _ => {}
        }
        self.approved.push(Approved {
            epoch: next.epoch,
            change: vote.change.clone(),
            votes: pending.votes,
            leaves: pending.voters.iter().map(|&(_, leaf)| leaf).collect(),
            start: None,
        });
        self.scheduled = Some((leaf.height, next));
    }

    /// After the last entry (the log has `size`): the violations, with the approved changes
    /// held against `history` (the key history the checkpoint was verified with) and the
    /// checkpoint `note` against the validators the votes put in charge at its size; and the
    /// roster at the end of the log.
    pub fn finish(
        mut self,
        history: &KeyHistory,
        note: &[u8],
        size: u64,
    ) -> (Vec<RuleViolation>, Roster) {
        if let Some((_, mut next)) = self.scheduled.take() {
            next.start_size = size;
            self.roster = next;
            if let Some(a) = self.approved.last_mut() {
                a.start = Some(size);
            }
        }
        let mut violations = self.violations;
        let links = history.links();
        let rosters = history.rosters();
        let mismatch =
            |entries: Vec<u64>, detail: String| violation("key_history_mismatch", entries, detail);
        for (i, link) in links.iter().enumerate() {
            let start = rosters[i + 1].start_size;
            if start > size {
                continue;
            }
            let Some(a) = self.approved.get(i) else {
                violations.push(mismatch(
                    Vec::new(),
                    format!(
                        "the key history's epoch {} starts at log size {start}, but the votes of the log approve no change for it",
                        link.epoch
                    ),
                ));
                continue;
            };
            let approving = *a.leaves.last().expect("an approval has votes");
            let mut theirs = link.votes.clone();
            let mut ours = a.votes.clone();
            theirs.sort();
            ours.sort();
            let problem = if link.change != data_encoding::HEXLOWER.encode(&a.change.to_bytes()) {
                Some("another change".to_string())
            } else if theirs != ours {
                Some(format!(
                    "other votes ({} in the history, {} counted on the log)",
                    link.votes.len(),
                    a.votes.len()
                ))
            } else if Some(start) != a.start {
                Some(format!(
                    "another start: log size {start} in the history, {} by the log's blocks",
                    a.start.unwrap_or(size)
                ))
            } else {
                None
            };
            if let Some(what) = problem {
                violations.push(mismatch(
                    vec![approving],
                    format!(
                        "the key history's epoch {} has {what} than the log, whose votes approved {} at entry {approving}",
                        link.epoch,
                        a.change.name()
                    ),
                ));
            }
        }
        for a in self.approved.iter().skip(links.len()) {
            let start = a.start.unwrap_or(size);
            let approving = *a.leaves.last().expect("an approval has votes");
            violations.push(mismatch(
                vec![approving],
                format!(
                    "the log's votes approved {} at entry {approving}, in force from log size {start} (within the checkpoint), but the key history has no epoch {}",
                    a.change.name(),
                    a.epoch
                ),
            ));
        }
        // The checkpoint against the validators the log's own votes put in charge at its size.
        let roster = self.roster.epoch;
        if let Err(e) = self.roster.verify_checkpoint(note, None, false) {
            let entries = self
                .approved
                .last()
                .map(|a| vec![*a.leaves.last().expect("an approval has votes")])
                .unwrap_or_default();
            let size_of = Note::parse(note)
                .ok()
                .and_then(|n| Checkpoint::parse_body(n.text()).ok())
                .map_or(size, |c| c.size.0);
            violations.push(mismatch(
                entries,
                format!(
                    "the checkpoint (size {size_of}) is not signed by a quorum of the validators of epoch {roster}, which the log's own votes put in charge at that size: {e}"
                ),
            ));
        }
        (violations, self.roster)
    }
}

#[cfg(test)]
mod tests;
