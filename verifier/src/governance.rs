//! Governance: who the members are at each point of the log, how a change to them is voted, and
//! the key history that lets anyone holding only the genesis trust policy follow them.
//!
//! The members and witnesses in force form a [`Roster`], numbered by its *epoch* (0 at genesis).
//! A [`Change`] (add a member, remove one, change a voting power, rotate a key, add or retire a
//! witness, change the witness quorum, schedule an upgrade of the rules) is proposed and voted by
//! validators in [`Vote`] transactions that name the epoch they apply to. Once the votes of
//! validators holding more than two thirds of the epoch's voting power agree on one change, the
//! change is approved; it takes effect at the next height, so the checkpoints of the new epoch
//! start at the log size after the approving block ([`Roster::start_size`]). [`Roster::apply`]
//! is the one definition of what a change does and what it may not do (fewer than
//! [`VALIDATORS_MIN`] validators, a member holding a third of the power alone, a key used
//! twice); the ledger rules and every verifier call it.
//!
//! A [`KeyHistory`] is the chain of approved changes, each [`Link`] carrying the change, the
//! votes that approved it (signed transactions, checked against the epoch before) and the first
//! checkpoint the new epoch signed (checked against the epoch after, which fixes where it
//! starts). [`Roster::verify_checkpoint`] checks a checkpoint against the epoch its size falls
//! in. Voting power is counted in units where every genesis validator holds 1 (a valid genesis
//! gives them equal power), so a verifier needs no power from the genesis file.

use std::collections::BTreeSet;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError, VerifiedCheckpoint};
use crate::codec::{Reader, Writer};
use crate::entry::{DecodeError, MemberId, NetworkId, SignedTx, TxBody};
use crate::hash::Hash;
use crate::note::{KeyKind, Note, NoteError, Policy, Verified, VerifierKey, is_key_name_valid};

/// Most members a network may have (bounds every per-member table).
pub const MEMBERS_MAX: usize = 64;
/// Fewest validators: with n validators of equal power one holds 1/n of it, and from 1/3 on a
/// single member could block every block alone (from 2/3 on, decide alone).
pub const VALIDATORS_MIN: usize = 4;
/// Largest voting power of one validator (keeps every sum far from overflowing).
pub const VOTING_POWER_MAX: u64 = 1_000_000;
/// Longest member name.
pub const MEMBER_NAME_MAX: usize = 32;
/// Longest display name or peer-to-peer address in a change.
pub const TEXT_BYTES_MAX: usize = 200;
/// Most witnesses at once.
pub const WITNESSES_MAX: usize = 16;
/// The version of the ledger rules this software implements. A network that scheduled a higher
/// version stops this software at the upgrade height ([`Roster::upgrade`]).
pub const RULES_VERSION: u16 = 1;
/// Domain of the key-rotation statement signed by the new key (and, when it is not lost, the
/// old one).
pub const ROTATION_DOMAIN: &[u8] = b"bansos-ledger/key-rotation/v1\0";
/// The format name of a key history document.
pub const KEY_HISTORY_FORMAT: &str = "bansos-ledger/key-history@v1";
/// Most links a key history may hold (a change a day for ten years).
pub const LINKS_MAX: usize = 4096;
/// Largest key history document a verifier reads.
pub const KEY_HISTORY_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Whether `name` may name a member: 1 to [`MEMBER_NAME_MAX`] ASCII letters, digits, `-`, `_`
/// or `.`, starting with a letter or digit. The name is a checkpoint key name and a file name
/// (`keys/<name>.key`): no `/`, no `..`, nothing a shell or a path would read otherwise.
pub fn is_member_name_valid(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= MEMBER_NAME_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// What a member may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers programs, allocates aid, revokes allocations.
    Ministry,
    /// A bank or PT Pos: records claims and returns.
    Bank,
    /// Validates and audits; submits no aid transactions.
    Auditor,
}

impl Role {
    /// The role's name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Role::Ministry => "ministry",
            Role::Bank => "bank",
            Role::Auditor => "auditor",
        }
    }
    fn tag(self) -> u8 {
        match self {
            Role::Ministry => 1,
            Role::Bank => 2,
            Role::Auditor => 3,
        }
    }
    fn from_tag(tag: u8) -> Result<Role, DecodeError> {
        Ok(match tag {
            1 => Role::Ministry,
            2 => Role::Bank,
            3 => Role::Auditor,
            tag => return Err(DecodeError::UnknownTag { field: "role", tag }),
        })
    }
    /// Parses the JSON name.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Ministry, Role::Bank, Role::Auditor]
            .into_iter()
            .find(|r| r.name() == s)
    }
}

/// A member joining the network, as its member card describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMember {
    /// Short name (checkpoint key name), unique in the network.
    pub name: String,
    /// Full name for people.
    pub display_name: String,
    /// What it may submit.
    pub role: Role,
    /// Its Ed25519 public key (transactions, consensus, checkpoints).
    #[serde(with = "crate::entry::hex_array")]
    pub public_key: [u8; 32],
    /// Its peer-to-peer address.
    pub p2p_address: String,
    /// Voting power; 0 for a member that does not validate.
    pub voting_power: u64,
}

/// A member's key replaced by a new one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// Whose key.
    pub member: MemberId,
    /// The new Ed25519 public key.
    #[serde(with = "crate::entry::hex_array")]
    pub new_key: [u8; 32],
    /// The new key's signature over [`rotation_statement`]: its holder asks for it.
    #[serde(with = "crate::entry::hex_array")]
    pub new_key_signature: [u8; 64],
    /// The old key's signature over the same statement; absent when the old key is lost (the
    /// quorum's votes then stand alone, and the absence is on the log for all to see).
    #[serde(default, with = "hex_opt", skip_serializing_if = "Option::is_none")]
    pub old_key_signature: Option<[u8; 64]>,
}

/// A witness in the trust policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterWitness {
    /// Its C2SP cosignature verifier key (`name+id+key`, type 0x04).
    pub vkey: String,
    /// Where validators send checkpoints for it to cosign (empty when unknown to a verifier).
    pub url: String,
}

impl RosterWitness {
    /// The witness's key name.
    pub fn name(&self) -> &str {
        self.vkey.split('+').next().unwrap_or("")
    }
}

/// One change to the members or witnesses, voted by the validators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Tag 1: a new member (a validator when its voting power is positive).
    AddMember(NewMember),
    /// Tag 2: a member leaves; its key signs nothing from the next height on.
    RemoveMember {
        /// Who.
        member: MemberId,
    },
    /// Tag 3: a validator's voting power.
    SetVotingPower {
        /// Who.
        member: MemberId,
        /// The new power (at least 1; removing is [`Change::RemoveMember`]).
        power: u64,
    },
    /// Tag 4: a member's key is replaced.
    RotateKey(KeyRotation),
    /// Tag 5: a witness is added.
    AddWitness(RosterWitness),
    /// Tag 6: a witness is retired.
    RetireWitness {
        /// Its key name.
        name: String,
    },
    /// Tag 7: how many witness cosignatures a checkpoint needs (0: none).
    SetWitnessQuorum {
        /// The quorum.
        quorum: u8,
    },
    /// Tag 8: from `height` on, the rules of `rules_version` apply; older software stops there.
    ScheduleUpgrade {
        /// First height of the new rules.
        height: u64,
        /// The rules version.
        rules_version: u16,
    },
}

/// A validator's vote for a change in an epoch. The first vote proposes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The epoch the change applies to (the number of changes approved before it).
    pub epoch: u64,
    /// The change.
    pub change: Change,
}

/// The statement a rotation's keys sign: domain ‖ network id ‖ member ‖ new key.
pub fn rotation_statement(network: &NetworkId, member: MemberId, new_key: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(ROTATION_DOMAIN.len() + 32 + 2 + 32);
    m.extend_from_slice(ROTATION_DOMAIN);
    m.extend_from_slice(&network.0);
    m.extend_from_slice(&member.0.to_be_bytes());
    m.extend_from_slice(new_key);
    m
}

impl KeyRotation {
    /// A rotation of `member`'s key to `new`, signed by `new` and, unless the old key is lost,
    /// by `old`.
    pub fn sign(
        network: &NetworkId,
        member: MemberId,
        new: &SigningKey,
        old: Option<&SigningKey>,
    ) -> KeyRotation {
        use ed25519_dalek::Signer as _;
        let new_key = new.verifying_key().to_bytes();
        let statement = rotation_statement(network, member, &new_key);
        KeyRotation {
            member,
            new_key,
            new_key_signature: new.sign(&statement).to_bytes(),
            old_key_signature: old.map(|k| k.sign(&statement).to_bytes()),
        }
    }
}

impl Change {
    /// The change's tag byte.
    pub fn tag(&self) -> u8 {
        match self {
            Change::AddMember(_) => 1,
            Change::RemoveMember { .. } => 2,
            Change::SetVotingPower { .. } => 3,
            Change::RotateKey(_) => 4,
            Change::AddWitness(_) => 5,
            Change::RetireWitness { .. } => 6,
            Change::SetWitnessQuorum { .. } => 7,
            Change::ScheduleUpgrade { .. } => 8,
        }
    }

    /// The change's name, as in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Change::AddMember(_) => "add_member",
            Change::RemoveMember { .. } => "remove_member",
            Change::SetVotingPower { .. } => "set_voting_power",
            Change::RotateKey(_) => "rotate_key",
            Change::AddWitness(_) => "add_witness",
            Change::RetireWitness { .. } => "retire_witness",
            Change::SetWitnessQuorum { .. } => "set_witness_quorum",
            Change::ScheduleUpgrade { .. } => "schedule_upgrade",
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u8(self.tag());
        match self {
            Change::AddMember(m) => {
                w.str8(&m.name);
                w.str8(&m.display_name);
                w.u8(m.role.tag());
                w.bytes(&m.public_key);
                w.str8(&m.p2p_address);
                w.u64(m.voting_power);
            }
            Change::RemoveMember { member } => w.u16(member.0),
            Change::SetVotingPower { member, power } => {
                w.u16(member.0);
                w.u64(*power);
            }
            Change::RotateKey(r) => {
                w.u16(r.member.0);
                w.bytes(&r.new_key);
                w.bytes(&r.new_key_signature);
                match &r.old_key_signature {
                    None => w.u8(0),
                    Some(s) => {
                        w.u8(1);
                        w.bytes(s);
                    }
                }
            }
            Change::AddWitness(wi) => {
                w.str8(&wi.vkey);
                w.str8(&wi.url);
            }
            Change::RetireWitness { name } => w.str8(name),
            Change::SetWitnessQuorum { quorum } => w.u8(*quorum),
            Change::ScheduleUpgrade {
                height,
                rules_version,
            } => {
                w.u64(*height);
                w.u16(*rules_version);
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Change, DecodeError> {
        let invalid = |field, reason| DecodeError::Invalid { field, reason };
        let text = |r: &mut Reader<'_>, field| -> Result<String, DecodeError> {
            let s = r.str8(field, TEXT_BYTES_MAX)?;
            if s.chars().any(char::is_control) || s.trim() != s {
                return Err(invalid(field, "printable text without outer spaces"));
            }
            Ok(s.to_owned())
        };
        Ok(match r.u8("change")? {
            1 => {
                let name = r.str8("name", MEMBER_NAME_MAX)?;
                if !is_member_name_valid(name) {
                    return Err(invalid(
                        "name",
                        "1-32 of A-Z a-z 0-9 . _ -, alphanumeric first",
                    ));
                }
                let name = name.to_owned();
                let display_name = text(r, "display_name")?;
                if display_name.is_empty() {
                    return Err(invalid("display_name", "must not be empty"));
                }
                let role = Role::from_tag(r.u8("role")?)?;
                let public_key: [u8; 32] = r.array("public_key")?;
                if VerifyingKey::from_bytes(&public_key).is_err() {
                    return Err(invalid("public_key", "not an Ed25519 public key"));
                }
                let p2p_address = text(r, "p2p_address")?;
                let voting_power = r.u64("voting_power")?;
                if voting_power > VOTING_POWER_MAX {
                    return Err(invalid("voting_power", "at most 1,000,000"));
                }
                Change::AddMember(NewMember {
                    name,
                    display_name,
                    role,
                    public_key,
                    p2p_address,
                    voting_power,
                })
            }
            2 => Change::RemoveMember {
                member: MemberId(r.u16("member")?),
            },
            3 => {
                let member = MemberId(r.u16("member")?);
                let power = r.u64("power")?;
                if power == 0 || power > VOTING_POWER_MAX {
                    return Err(invalid("power", "1 to 1,000,000 (remove a member instead)"));
                }
                Change::SetVotingPower { member, power }
            }
            4 => {
                let member = MemberId(r.u16("member")?);
                let new_key: [u8; 32] = r.array("new_key")?;
                if VerifyingKey::from_bytes(&new_key).is_err() {
                    return Err(invalid("new_key", "not an Ed25519 public key"));
                }
                let new_key_signature = r.array("new_key_signature")?;
                let old_key_signature = match r.u8("old key signed")? {
                    0 => None,
                    1 => Some(r.array("old_key_signature")?),
                    tag => {
                        return Err(DecodeError::UnknownTag {
                            field: "old key signed",
                            tag,
                        });
                    }
                };
                Change::RotateKey(KeyRotation {
                    member,
                    new_key,
                    new_key_signature,
                    old_key_signature,
                })
            }
            5 => {
                let vkey = r.str8("vkey", TEXT_BYTES_MAX)?;
                match VerifierKey::parse(vkey) {
                    Ok(k) if k.kind() == KeyKind::Cosignature && k.to_string() == vkey => {}
                    _ => return Err(invalid("vkey", "a C2SP cosignature (0x04) verifier key")),
                }
                let vkey = vkey.to_owned();
                let url = text(r, "url")?;
                Change::AddWitness(RosterWitness { vkey, url })
            }
            6 => {
                let name = r.str8("name", TEXT_BYTES_MAX)?;
                if !is_key_name_valid(name) {
                    return Err(invalid("name", "a note key name"));
                }
                Change::RetireWitness { name: name.into() }
            }
            7 => Change::SetWitnessQuorum {
                quorum: r.u8("quorum")?,
            },
            8 => Change::ScheduleUpgrade {
                height: r.u64("height")?,
                rules_version: r.u16("rules_version")?,
            },
            tag => {
                return Err(DecodeError::UnknownTag {
                    field: "change",
                    tag,
                });
            }
        })
    }

    /// Canonical bytes (docs/FORMAT.md, "Governance").
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(128);
        self.encode(&mut w);
        w.0
    }

    /// Decodes canonical bytes; anything else is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Change, DecodeError> {
        let mut r = Reader::new(bytes);
        let c = Change::decode(&mut r)?;
        r.finish()?;
        Ok(c)
    }

    /// SHA-256 of the canonical bytes: the change's name in votes' tallies and the API.
    pub fn hash(&self) -> Hash {
        Hash::digest(&self.to_bytes())
    }
}

impl Vote {
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u64(self.epoch);
        self.change.encode(w);
    }
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Vote, DecodeError> {
        Ok(Vote {
            epoch: r.u64("epoch")?,
            change: Change::decode(r)?,
        })
    }
}

/// A member as a roster holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterMember {
    /// Its number (its position in the member list, for ever).
    pub id: MemberId,
    /// Short name (checkpoint key name).
    pub name: String,
    /// Full name for people.
    pub display_name: String,
    /// What it may submit.
    pub role: Role,
    /// Its Ed25519 public key; `None` where a verifier does not know it (a member that never
    /// validated, whose key a trust policy does not list).
    #[serde(with = "hex_opt")]
    pub key: Option<[u8; 32]>,
    /// Its peer-to-peer address (empty where a verifier does not know it).
    pub p2p_address: String,
    /// Voting power (0: not a validator).
    pub power: u64,
    /// False once removed: it signs nothing any more.
    pub active: bool,
}

impl RosterMember {
    /// Whether it validates (signs blocks and checkpoints, votes on changes).
    pub fn is_validator(&self) -> bool {
        self.active && self.power > 0
    }
    /// Its public key, if known and valid.
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(self.key.as_ref()?).ok()
    }
}

/// The members and witnesses in force in one epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// 0 at genesis, one more per approved change.
    pub epoch: u64,
    /// The first log size whose checkpoints this epoch signs (0 at genesis).
    pub start_size: u64,
    /// Every member ever admitted, by id.
    pub members: Vec<RosterMember>,
    /// The witnesses.
    pub witnesses: Vec<RosterWitness>,
    /// Witness cosignatures a checkpoint needs (0: none).
    pub witness_quorum: u8,
    /// Signatures needed on a checkpoint in genesis units when the genesis policy fixed it; `None`
    /// means more than two thirds of the voting power (the rule from epoch 1 on).
    pub genesis_quorum: Option<u64>,
    /// A scheduled upgrade: (first height, rules version).
    pub upgrade: Option<(u64, u16)>,
}

/// Why a change cannot apply to a roster. Sentences are for operators and auditors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The member does not exist or was removed.
    #[error("member {0} is not an active member")]
    UnknownMember(u16),
    /// The member does not validate.
    #[error("member {0} is not a validator")]
    NotAValidator(u16),
    /// The name is taken.
    #[error("the name {0} is already used by a member or witness")]
    NameTaken(String),
    /// The key is used by another member.
    #[error("that public key is already used by member {0}")]
    KeyTaken(u16),
    /// Too many members.
    #[error("a network has at most {MEMBERS_MAX} members")]
    TooManyMembers,
    /// Too few validators would remain.
    #[error("the change would leave {0} validators; at least {VALIDATORS_MIN} are needed")]
    TooFewValidators(usize),
    /// One member would hold a blocking share alone.
    #[error(
        "member {member} would hold {power} of {total} voting power: a third or more, enough to stop every block alone"
    )]
    BlockingShare {
        /// Who.
        member: String,
        /// Its power.
        power: u64,
        /// The total.
        total: u64,
    },
    /// A rotation's new key did not sign it.
    #[error("the new key's signature on the rotation does not verify")]
    BadNewKeySignature,
    /// A rotation's old-key signature was made by another key.
    #[error("the rotation's old-key signature was not made by member {0}'s current key")]
    BadOldKeySignature(u16),
    /// The new key is the old one.
    #[error("the new key is the member's current key")]
    SameKey,
    /// No such witness.
    #[error("no witness named {0}")]
    UnknownWitness(String),
    /// Too many witnesses.
    #[error("at most {WITNESSES_MAX} witnesses")]
    TooManyWitnesses,
    /// The quorum would exceed the witnesses.
    #[error("a witness quorum of {quorum} with {witnesses} witnesses could never be met")]
    WitnessQuorumTooHigh {
        /// The quorum.
        quorum: u8,
        /// The witnesses.
        witnesses: usize,
    },
    /// An upgrade must raise the rules version.
    #[error("the rules version must rise above {0}")]
    RulesVersionNotHigher(u16),
}

impl Roster {
    /// The genesis roster (epoch 0) from the genesis members `(id, name, display name, role,
    /// key, p2p address, validates)`, its witnesses and witness quorum. Every validator holds 1.
    /// `genesis_quorum` is the trust policy's signature quorum (`None`: two thirds and more).
    pub fn genesis(
        members: Vec<RosterMember>,
        witnesses: Vec<RosterWitness>,
        witness_quorum: u8,
        genesis_quorum: Option<u64>,
    ) -> Roster {
        Roster {
            epoch: 0,
            start_size: 0,
            members,
            witnesses,
            witness_quorum,
            genesis_quorum,
            upgrade: None,
        }
    }

    /// A member by id, active or not.
    pub fn member(&self, id: MemberId) -> Option<&RosterMember> {
        self.members.get(id.0 as usize)
    }

    /// The active validators.
    pub fn validators(&self) -> impl Iterator<Item = &RosterMember> {
        self.members.iter().filter(|m| m.is_validator())
    }

    /// Total voting power.
    pub fn total_power(&self) -> u64 {
        self.validators().map(|m| m.power).sum()
    }

    /// Voting power a checkpoint, a block or a change needs: more than two thirds of the total
    /// (the genesis policy's signature count in epoch 0).
    pub fn quorum_power(&self) -> u64 {
        self.genesis_quorum
            .unwrap_or_else(|| 2 * self.total_power() / 3 + 1)
    }

    /// Whether `power` votes are more than two thirds of the total.
    pub fn is_quorum(&self, power: u64) -> bool {
        3 * power > 2 * self.total_power()
    }

    /// The validators' checkpoint verifier keys.
    pub fn validator_vkeys(&self) -> Vec<(VerifierKey, u64)> {
        self.validators()
            .filter_map(|m| {
                Some((
                    VerifierKey::new(&m.name, KeyKind::Ed25519, m.verifying_key()?),
                    m.power,
                ))
            })
            .collect()
    }

    /// The witnesses' cosignature policy, if a quorum is required.
    pub fn witness_policy(&self) -> Option<Policy> {
        if self.witness_quorum == 0 {
            return None;
        }
        let keys = self
            .witnesses
            .iter()
            .filter_map(|w| VerifierKey::parse(&w.vkey).ok())
            .collect();
        Policy::new(keys, self.witness_quorum as usize).ok()
    }

    /// The roster after `change`, or why the change may not apply. `network` is the network id
    /// (rotations are signed for one network). Checks what every change must keep: at least
    /// [`VALIDATORS_MIN`] validators, none holding a third of the power, unique names and keys.
    pub fn apply(&self, network: &NetworkId, change: &Change) -> Result<Roster, ChangeError> {
        let mut next = self.clone();
        next.epoch += 1;
        next.genesis_quorum = None;
        let active = |id: MemberId| match self.member(id) {
            Some(m) if m.active => Ok(id.0 as usize),
            _ => Err(ChangeError::UnknownMember(id.0)),
        };
        let name_taken = |name: &str| {
            self.members.iter().any(|m| m.name == name)
                || self.witnesses.iter().any(|w| w.name() == name)
        };
        let key_owner = |key: &[u8; 32]| {
            self.members
                .iter()
                .find(|m| m.key.as_ref() == Some(key))
                .map(|m| m.id.0)
        };
        match change {
            Change::AddMember(m) => {
                if name_taken(&m.name) {
                    return Err(ChangeError::NameTaken(m.name.clone()));
                }
                if let Some(owner) = key_owner(&m.public_key) {
                    return Err(ChangeError::KeyTaken(owner));
                }
                if self.members.len() >= MEMBERS_MAX {
                    return Err(ChangeError::TooManyMembers);
                }
                next.members.push(RosterMember {
                    id: MemberId(self.members.len() as u16),
                    name: m.name.clone(),
                    display_name: m.display_name.clone(),
                    role: m.role,
                    key: Some(m.public_key),
                    p2p_address: m.p2p_address.clone(),
                    power: m.voting_power,
                    active: true,
                });
            }
            Change::RemoveMember { member } => {
                let i = active(*member)?;
                next.members[i].active = false;
                next.members[i].power = 0;
            }
            Change::SetVotingPower { member, power } => {
                let i = active(*member)?;
                if !self.members[i].is_validator() {
                    return Err(ChangeError::NotAValidator(member.0));
                }
                next.members[i].power = *power;
            }
            Change::RotateKey(r) => {
                let i = active(r.member)?;
                if self.members[i].key.as_ref() == Some(&r.new_key) {
                    return Err(ChangeError::SameKey);
                }
                if let Some(owner) = key_owner(&r.new_key) {
                    return Err(ChangeError::KeyTaken(owner));
                }
                let statement = rotation_statement(network, r.member, &r.new_key);
                let verifies = |key: &VerifyingKey, sig: &[u8; 64]| {
                    key.verify_strict(&statement, &Signature::from_bytes(sig))
                        .is_ok()
                };
                let new = VerifyingKey::from_bytes(&r.new_key)
                    .map_err(|_| ChangeError::BadNewKeySignature)?;
                if !verifies(&new, &r.new_key_signature) {
                    return Err(ChangeError::BadNewKeySignature);
                }
                if let Some(sig) = &r.old_key_signature {
                    match self.members[i].verifying_key() {
                        Some(old) if verifies(&old, sig) => {}
                        // A verifier that never knew the old key (a member that did not
                        // validate) cannot check it; the validators did, when they voted.
                        None if self.members[i].key.is_none() => {}
                        _ => return Err(ChangeError::BadOldKeySignature(r.member.0)),
                    }
                }
                next.members[i].key = Some(r.new_key);
            }
            Change::AddWitness(w) => {
                if name_taken(w.name()) {
                    return Err(ChangeError::NameTaken(w.name().into()));
                }
                if self.witnesses.len() >= WITNESSES_MAX {
                    return Err(ChangeError::TooManyWitnesses);
                }
                next.witnesses.push(w.clone());
            }
            Change::RetireWitness { name } => {
                let Some(i) = self.witnesses.iter().position(|w| w.name() == name) else {
                    return Err(ChangeError::UnknownWitness(name.clone()));
                };
                next.witnesses.remove(i);
            }
            Change::SetWitnessQuorum { quorum } => next.witness_quorum = *quorum,
            Change::ScheduleUpgrade {
                height,
                rules_version,
            } => {
                let current = self.upgrade.map_or(RULES_VERSION, |(_, v)| v);
                if *rules_version <= current {
                    return Err(ChangeError::RulesVersionNotHigher(current));
                }
                next.upgrade = Some((*height, *rules_version));
            }
        }
        if next.witness_quorum as usize > next.witnesses.len() {
            return Err(ChangeError::WitnessQuorumTooHigh {
                quorum: next.witness_quorum,
                witnesses: next.witnesses.len(),
            });
        }
        let validators = next.validators().count();
        if validators < VALIDATORS_MIN {
            return Err(ChangeError::TooFewValidators(validators));
        }
        let total = next.total_power();
        if let Some(m) = next.validators().find(|m| 3 * m.power >= total) {
            return Err(ChangeError::BlockingShare {
                member: m.name.clone(),
                power: m.power,
                total,
            });
        }
        Ok(next)
    }

    /// Checks a checkpoint note against this roster: the origin, validator signatures holding
    /// [`Roster::quorum_power`], and the witnesses' cosignatures when a quorum is set. The
    /// caller picks the roster by the checkpoint's size ([`KeyHistory::roster_for`]).
    pub fn verify_checkpoint(
        &self,
        bytes: &[u8],
        origin: Option<&str>,
        with_witnesses: bool,
    ) -> Result<VerifiedCheckpoint, CheckpointError> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::parse_body(note.text())?;
        if let Some(expected) = origin
            && checkpoint.origin != expected
        {
            return Err(CheckpointError::WrongOrigin {
                got: checkpoint.origin,
                expected: expected.into(),
            });
        }
        let keys = self.validator_vkeys();
        let mut verified = Verified {
            signers: Vec::new(),
            cosigned_at: Vec::new(),
        };
        let mut power = 0u64;
        for sig in note.signatures() {
            let Some((key, p)) = keys
                .iter()
                .find(|(k, _)| k.name() == sig.name && k.key_id() == sig.key_id)
            else {
                continue;
            };
            if key.verify(note.text(), &sig.signature).is_none() {
                return Err(NoteError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                }
                .into());
            }
            if !verified.signers.contains(&sig.name) {
                verified.signers.push(sig.name.clone());
                power += p;
            }
        }
        let needed = self.quorum_power();
        if power < needed {
            return Err(NoteError::TooFewSignatures {
                verified: power as usize,
                quorum: needed as usize,
            }
            .into());
        }
        if with_witnesses && let Some(w) = self.witness_policy() {
            let cos = w.verify(&note).map_err(|e| match e {
                NoteError::TooFewSignatures { verified, quorum } => {
                    CheckpointError::TooFewWitnesses { verified, quorum }
                }
                e => e.into(),
            })?;
            verified.cosigned_at = cos.cosigned_at;
        }
        Ok(VerifiedCheckpoint {
            checkpoint,
            verified,
            note,
        })
    }
}

/// One approved change as the key history carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The epoch this change starts.
    pub epoch: u64,
    /// The change, canonical bytes in hex.
    pub change: String,
    /// The votes that approved it: signed transactions, canonical bytes in hex.
    pub votes: Vec<String>,
    /// The first checkpoint of the new epoch, as a signed note, signed by the new validators.
    pub checkpoint: String,
}

/// The chain of approved changes since genesis, served by every node at `/key-history` and
/// carried in offline bundles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyHistoryFile {
    /// [`KEY_HISTORY_FORMAT`].
    pub format: String,
    /// The network it belongs to.
    pub network_id: Option<NetworkId>,
    /// The changes, epoch 1 first.
    pub links: Vec<Link>,
}

/// Why a key history was refused. Each names the epoch whose link failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// Not a key history document.
    #[error("not a key history: {0}")]
    Malformed(String),
    /// Of another network.
    #[error("the key history is of another network")]
    OtherNetwork,
    /// It approves another change for an epoch than the history already followed.
    #[error(
        "epoch {epoch}: the key history approves another change than the one already known; one of the two is forged"
    )]
    Conflict {
        /// The epoch.
        epoch: u64,
    },
    /// Links out of order.
    #[error("link {index} starts epoch {got}, expected {expected}")]
    OutOfOrder {
        /// Position.
        index: usize,
        /// Epoch found.
        got: u64,
        /// Epoch expected.
        expected: u64,
    },
    /// A link's bytes do not decode.
    #[error("epoch {epoch}: {what} does not decode: {why}")]
    Undecodable {
        /// The epoch.
        epoch: u64,
        /// What.
        what: &'static str,
        /// Why.
        why: String,
    },
    /// A vote is not a vote for this change in the epoch before.
    #[error("epoch {epoch}: vote {index} is not a vote for this change in epoch {previous}")]
    NotThisVote {
        /// The epoch.
        epoch: u64,
        /// Which vote.
        index: usize,
        /// The epoch voted in.
        previous: u64,
    },
    /// A vote by someone who was not a validator of the epoch before.
    #[error(
        "epoch {epoch}: vote {index} is signed by member {signer}, not a validator of the epoch before"
    )]
    NotAVoter {
        /// The epoch.
        epoch: u64,
        /// Which vote.
        index: usize,
        /// Its signer.
        signer: u16,
    },
    /// A vote's signature does not verify with the signer's key of the epoch before.
    #[error("epoch {epoch}: vote {index}'s signature does not verify with member {signer}'s key")]
    BadVoteSignature {
        /// The epoch.
        epoch: u64,
        /// Which vote.
        index: usize,
        /// Its signer.
        signer: u16,
    },
    /// Two votes by one validator.
    #[error("epoch {epoch}: member {signer} voted twice")]
    DuplicateVote {
        /// The epoch.
        epoch: u64,
        /// The signer.
        signer: u16,
    },
    /// The votes do not hold more than two thirds of the power of the epoch before.
    #[error(
        "epoch {epoch}: the votes hold {power} of {total} voting power of the epoch before, not more than two thirds: the change was not approved by its predecessors"
    )]
    NotApproved {
        /// The epoch.
        epoch: u64,
        /// Power of the votes.
        power: u64,
        /// Total power.
        total: u64,
    },
    /// The change breaks a rule.
    #[error("epoch {epoch}: the change may not apply: {why}")]
    BadChange {
        /// The epoch.
        epoch: u64,
        /// Why.
        why: ChangeError,
    },
    /// The new epoch's checkpoint does not verify with its validators.
    #[error("epoch {epoch}: its first checkpoint is not signed by its validators: {why}")]
    BadCheckpoint {
        /// The epoch.
        epoch: u64,
        /// Why.
        why: CheckpointError,
    },
    /// The epoch would start before the previous one.
    #[error(
        "epoch {epoch}: starts at log size {size}, not after epoch {previous}'s start {previous_size}"
    )]
    NotIncreasing {
        /// The epoch.
        epoch: u64,
        /// Its start.
        size: u64,
        /// The previous epoch.
        previous: u64,
        /// Its start.
        previous_size: u64,
    },
}

/// Every roster from genesis to the latest approved change, each checked against the one
/// before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyHistory {
    rosters: Vec<Roster>,
    links: Vec<Link>,
}

impl KeyHistory {
    /// A history that has only the genesis roster.
    pub fn new(genesis: Roster) -> KeyHistory {
        KeyHistory {
            rosters: vec![genesis],
            links: Vec::new(),
        }
    }

    /// Every roster, epoch 0 first.
    pub fn rosters(&self) -> &[Roster] {
        &self.rosters
    }

    /// The latest roster.
    pub fn current(&self) -> &Roster {
        self.rosters.last().expect("a history has a genesis roster")
    }

    /// The links checked so far.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The document of this history.
    pub fn to_file(&self, network: &NetworkId) -> KeyHistoryFile {
        KeyHistoryFile {
            format: KEY_HISTORY_FORMAT.into(),
            network_id: Some(*network),
            links: self.links.clone(),
        }
    }

    /// The roster whose epoch signs checkpoints of `size`: the latest that starts at or before
    /// it.
    pub fn roster_for(&self, size: u64) -> &Roster {
        self.rosters
            .iter()
            .rev()
            .find(|r| r.start_size <= size)
            .unwrap_or(&self.rosters[0])
    }

    /// Checks a checkpoint against the epoch its size falls in (see [`Roster::verify_checkpoint`]).
    pub fn verify_checkpoint(
        &self,
        bytes: &[u8],
        origin: Option<&str>,
        with_witnesses: bool,
    ) -> Result<VerifiedCheckpoint, CheckpointError> {
        let note = Note::parse(bytes)?;
        let size = Checkpoint::parse_body(note.text())?.size.0;
        self.roster_for(size)
            .verify_checkpoint(bytes, origin, with_witnesses)
    }

    /// Parses a key history document and checks every link after the ones already known (links
    /// this history holds must be repeated unchanged). A history whose links are all known
    /// changes nothing.
    pub fn follow(
        &mut self,
        network: &NetworkId,
        origin: &str,
        bytes: &[u8],
    ) -> Result<(), HistoryError> {
        if bytes.len() > KEY_HISTORY_BYTES_MAX {
            return Err(HistoryError::Malformed("larger than 4 MiB".into()));
        }
        let file: KeyHistoryFile =
            serde_json::from_slice(bytes).map_err(|e| HistoryError::Malformed(e.to_string()))?;
        self.follow_file(network, origin, &file)
    }

    /// [`KeyHistory::follow`] on a parsed document.
    pub fn follow_file(
        &mut self,
        network: &NetworkId,
        origin: &str,
        file: &KeyHistoryFile,
    ) -> Result<(), HistoryError> {
        if file.links.len() > LINKS_MAX {
            return Err(HistoryError::Malformed(format!(
                "more than {LINKS_MAX} links"
            )));
        }
        if file.format != KEY_HISTORY_FORMAT {
            return Err(HistoryError::Malformed(format!(
                "format {:?}, expected {KEY_HISTORY_FORMAT:?}",
                file.format
            )));
        }
        if file.network_id.is_some_and(|n| n != *network) {
            return Err(HistoryError::OtherNetwork);
        }
        let mut next = KeyHistory::new(self.rosters[0].clone());
        for (index, link) in file.links.iter().enumerate() {
            match self.links.get(index) {
                Some(known) if known == link => {
                    next.rosters.push(self.rosters[index + 1].clone());
                    next.links.push(known.clone());
                    continue;
                }
                // The same change with other votes or another quorum of signatures on the
                // epoch's first checkpoint (another node recorded another one): it must hold
                // as well; the link already known is kept.
                Some(known) if known.change == link.change => {
                    check_link(next.current(), network, origin, index, link)?;
                    next.rosters.push(self.rosters[index + 1].clone());
                    next.links.push(known.clone());
                    continue;
                }
                // Two different changes approved for one epoch: one of the two histories is
                // forged. Keep the one known; the caller reports the other.
                Some(_) => {
                    return Err(HistoryError::Conflict {
                        epoch: index as u64 + 1,
                    });
                }
                None => {}
            }
            let roster = check_link(next.current(), network, origin, index, link)?;
            next.rosters.push(roster);
            next.links.push(link.clone());
        }
        if next.links.len() >= self.links.len() {
            *self = next;
        }
        Ok(())
    }

    /// Appends a link made by a validator from its own log (checked like any other).
    pub fn push(
        &mut self,
        network: &NetworkId,
        origin: &str,
        link: Link,
    ) -> Result<(), HistoryError> {
        let roster = check_link(self.current(), network, origin, self.links.len(), &link)?;
        self.rosters.push(roster);
        self.links.push(link);
        Ok(())
    }
}

fn hex_bytes(epoch: u64, what: &'static str, s: &str) -> Result<Vec<u8>, HistoryError> {
    data_encoding::HEXLOWER
        .decode(s.as_bytes())
        .map_err(|e| HistoryError::Undecodable {
            epoch,
            what,
            why: e.to_string(),
        })
}

/// The roster a link leads to from `previous`, if its votes, change and checkpoint hold.
fn check_link(
    previous: &Roster,
    network: &NetworkId,
    origin: &str,
    index: usize,
    link: &Link,
) -> Result<Roster, HistoryError> {
    let epoch = previous.epoch + 1;
    if link.epoch != epoch {
        return Err(HistoryError::OutOfOrder {
            index,
            got: link.epoch,
            expected: epoch,
        });
    }
    let change =
        Change::from_bytes(&hex_bytes(epoch, "the change", &link.change)?).map_err(|e| {
            HistoryError::Undecodable {
                epoch,
                what: "the change",
                why: e.to_string(),
            }
        })?;
    let mut voters = BTreeSet::new();
    let mut power = 0u64;
    for (i, vote) in link.votes.iter().enumerate() {
        let tx = SignedTx::decode(&hex_bytes(epoch, "a vote", vote)?).map_err(|e| {
            HistoryError::Undecodable {
                epoch,
                what: "a vote",
                why: e.to_string(),
            }
        })?;
        match &tx.body {
            TxBody::Vote(v) if v.epoch == previous.epoch && v.change == change => {}
            _ => {
                return Err(HistoryError::NotThisVote {
                    epoch,
                    index: i,
                    previous: previous.epoch,
                });
            }
        }
        let signer = tx.signer.0;
        let Some(member) = previous.member(tx.signer).filter(|m| m.is_validator()) else {
            return Err(HistoryError::NotAVoter {
                epoch,
                index: i,
                signer,
            });
        };
        let verifies = member
            .verifying_key()
            .is_some_and(|k| tx.verify(network, &k));
        if !verifies {
            return Err(HistoryError::BadVoteSignature {
                epoch,
                index: i,
                signer,
            });
        }
        if !voters.insert(signer) {
            return Err(HistoryError::DuplicateVote { epoch, signer });
        }
        power += member.power;
    }
    if !previous.is_quorum(power) {
        return Err(HistoryError::NotApproved {
            epoch,
            power,
            total: previous.total_power(),
        });
    }
    let mut roster = previous
        .apply(network, &change)
        .map_err(|why| HistoryError::BadChange { epoch, why })?;
    let cp = roster
        .verify_checkpoint(link.checkpoint.as_bytes(), Some(origin), false)
        .map_err(|why| HistoryError::BadCheckpoint { epoch, why })?;
    let size = cp.checkpoint.size.0;
    if size <= previous.start_size {
        return Err(HistoryError::NotIncreasing {
            epoch,
            size,
            previous: previous.epoch,
            previous_size: previous.start_size,
        });
    }
    roster.start_size = size;
    Ok(roster)
}

/// Hex in JSON for optional fixed-size byte arrays (`null` when absent).
mod hex_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer, const N: usize>(
        v: &Option<[u8; N]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&data_encoding::HEXLOWER.encode(v)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        let Some(s) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let v = data_encoding::HEXLOWER_PERMISSIVE
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)?;
        Ok(Some(v.try_into().map_err(|_| {
            serde::de::Error::custom(format!("expected {N} bytes of hex"))
        })?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::TreeSize;
    use crate::note::NoteSignature;

    const ORIGIN: &str = "test.example/log";
    const NET: NetworkId = NetworkId([9; 32]);

    fn key(i: u8) -> SigningKey {
        SigningKey::from_bytes(&[i + 1; 32])
    }

    fn genesis(n: u8) -> Roster {
        let members = (0..n)
            .map(|i| RosterMember {
                id: MemberId(i as u16),
                name: format!("v{i}"),
                display_name: format!("Validator {i}"),
                role: Role::Bank,
                key: Some(key(i).verifying_key().to_bytes()),
                p2p_address: String::new(),
                power: 1,
                active: true,
            })
            .collect();
        Roster::genesis(members, Vec::new(), 0, Some(2 * n as u64 / 3 + 1))
    }

    fn add(i: u8) -> Change {
        Change::AddMember(NewMember {
            name: format!("v{i}"),
            display_name: format!("Validator {i}"),
            role: Role::Bank,
            public_key: key(i).verifying_key().to_bytes(),
            p2p_address: "/ip4/127.0.0.1/tcp/1".into(),
            voting_power: 1,
        })
    }

    fn vote(epoch: u64, change: &Change, signer: u8, with: &SigningKey) -> String {
        let body = TxBody::Vote(Vote {
            epoch,
            change: change.clone(),
        });
        let tx = SignedTx::sign(&NET, MemberId(signer as u16), body, with).unwrap();
        data_encoding::HEXLOWER.encode(&tx.encode())
    }

    fn checkpoint(size: u64, signers: &[(String, SigningKey)]) -> String {
        let body = Checkpoint::new(ORIGIN, TreeSize(size), Hash([size as u8; 32])).body();
        let mut note = Note::new(&body).unwrap();
        for (name, k) in signers {
            note.add_signature(NoteSignature::sign(name, k, &body));
        }
        String::from_utf8(note.to_bytes()).unwrap()
    }

    fn named(ids: &[u8]) -> Vec<(String, SigningKey)> {
        ids.iter().map(|&i| (format!("v{i}"), key(i))).collect()
    }

    fn link(epoch: u64, change: &Change, voters: &[u8], size: u64, signers: &[u8]) -> Link {
        Link {
            epoch,
            change: data_encoding::HEXLOWER.encode(&change.to_bytes()),
            votes: voters
                .iter()
                .map(|&i| vote(epoch - 1, change, i, &key(i)))
                .collect(),
            checkpoint: checkpoint(size, &named(signers)),
        }
    }

    fn file(links: Vec<Link>) -> Vec<u8> {
        serde_json::to_vec(&KeyHistoryFile {
            format: KEY_HISTORY_FORMAT.into(),
            network_id: Some(NET),
            links,
        })
        .unwrap()
    }

    #[test]
    fn changes_round_trip_canonically() {
        let changes = [
            add(7),
            Change::RemoveMember {
                member: MemberId(2),
            },
            Change::SetVotingPower {
                member: MemberId(1),
                power: 2,
            },
            Change::RotateKey(KeyRotation::sign(&NET, MemberId(1), &key(9), Some(&key(1)))),
            Change::RotateKey(KeyRotation::sign(&NET, MemberId(1), &key(9), None)),
            Change::AddWitness(RosterWitness {
                vkey: VerifierKey::new("w.example", KeyKind::Cosignature, key(20).verifying_key())
                    .to_string(),
                url: "http://127.0.0.1:1".into(),
            }),
            Change::RetireWitness {
                name: "w.example".into(),
            },
            Change::SetWitnessQuorum { quorum: 1 },
            Change::ScheduleUpgrade {
                height: 100,
                rules_version: 2,
            },
        ];
        for c in changes {
            let b = c.to_bytes();
            assert_eq!(Change::from_bytes(&b).unwrap(), c);
            assert!(Change::from_bytes(&[&b[..], &[0]].concat()).is_err());
            assert!(Change::from_bytes(&b[..b.len() - 1]).is_err());
            let tx = SignedTx::sign(
                &NET,
                MemberId(0),
                TxBody::Vote(Vote {
                    epoch: 3,
                    change: c,
                }),
                &key(0),
            )
            .unwrap();
            assert_eq!(SignedTx::decode(&tx.encode()).unwrap(), tx);
        }
        assert!(Change::from_bytes(&[9]).is_err());
        let mut bad_power = Change::SetVotingPower {
            member: MemberId(1),
            power: 1,
        }
        .to_bytes();
        *bad_power.last_mut().unwrap() = 0;
        assert!(Change::from_bytes(&bad_power).is_err(), "power 0");
    }

    #[test]
    fn apply_keeps_the_quorum_arithmetic() {
        let g = genesis(4);
        let five = g.apply(&NET, &add(4)).unwrap();
        assert_eq!((five.epoch, five.validators().count()), (1, 5));
        assert_eq!(five.member(MemberId(4)).unwrap().name, "v4");
        let remove = |r: &Roster, id: u16| {
            r.apply(
                &NET,
                &Change::RemoveMember {
                    member: MemberId(id),
                },
            )
        };
        assert_eq!(remove(&g, 1), Err(ChangeError::TooFewValidators(3)));
        let four = remove(&five, 1).unwrap();
        assert!(!four.member(MemberId(1)).unwrap().is_validator());
        assert_eq!(remove(&four, 1), Err(ChangeError::UnknownMember(1)));
        assert_eq!(
            g.apply(&NET, &add(0)),
            Err(ChangeError::NameTaken("v0".into()))
        );
        let mut same_key = add(5);
        if let Change::AddMember(m) = &mut same_key {
            m.public_key = key(2).verifying_key().to_bytes();
        }
        assert_eq!(g.apply(&NET, &same_key), Err(ChangeError::KeyTaken(2)));
        // 2 of 5 is a blocking share; 2 of 7 is not.
        let heavy = Change::SetVotingPower {
            member: MemberId(0),
            power: 2,
        };
        assert!(matches!(
            g.apply(&NET, &heavy),
            Err(ChangeError::BlockingShare { .. })
        ));
        let six = five
            .apply(&NET, &add(5))
            .unwrap()
            .apply(&NET, &add(6))
            .unwrap();
        assert_eq!(six.apply(&NET, &heavy).unwrap().total_power(), 8);
        assert_eq!(
            g.apply(&NET, &Change::SetWitnessQuorum { quorum: 1 }),
            Err(ChangeError::WitnessQuorumTooHigh {
                quorum: 1,
                witnesses: 0
            })
        );
    }

    #[test]
    fn a_rotation_needs_the_new_key_and_the_right_old_key() {
        let g = genesis(4);
        let good = KeyRotation::sign(&NET, MemberId(1), &key(9), Some(&key(1)));
        let r = g.apply(&NET, &Change::RotateKey(good.clone())).unwrap();
        assert_eq!(
            r.member(MemberId(1)).unwrap().key,
            Some(key(9).verifying_key().to_bytes())
        );
        let lost = KeyRotation::sign(&NET, MemberId(1), &key(9), None);
        assert!(g.apply(&NET, &Change::RotateKey(lost)).is_ok());
        let wrong_old = KeyRotation::sign(&NET, MemberId(1), &key(9), Some(&key(2)));
        assert_eq!(
            g.apply(&NET, &Change::RotateKey(wrong_old)),
            Err(ChangeError::BadOldKeySignature(1))
        );
        let mut stolen = good.clone();
        stolen.new_key = key(10).verifying_key().to_bytes();
        assert_eq!(
            g.apply(&NET, &Change::RotateKey(stolen)),
            Err(ChangeError::BadNewKeySignature)
        );
        let other_network = KeyRotation::sign(&NetworkId([1; 32]), MemberId(1), &key(9), None);
        assert_eq!(
            g.apply(&NET, &Change::RotateKey(other_network)),
            Err(ChangeError::BadNewKeySignature)
        );
        let taken = KeyRotation::sign(&NET, MemberId(1), &key(2), None);
        assert_eq!(
            g.apply(&NET, &Change::RotateKey(taken)),
            Err(ChangeError::KeyTaken(2))
        );
    }

    #[test]
    fn a_history_is_followed_link_by_link() {
        let mut h = KeyHistory::new(genesis(4));
        let rotate = Change::RotateKey(KeyRotation::sign(
            &NET,
            MemberId(3),
            &key(13),
            Some(&key(3)),
        ));
        let l1 = link(1, &add(4), &[0, 1, 2], 10, &[0, 1, 2, 4]);
        // Epoch 2 is signed by v3's new key (named v3, key 13).
        let mut l2 = link(2, &rotate, &[1, 2, 3, 4], 20, &[]);
        let mut signers = named(&[0, 1, 2]);
        signers.push(("v3".into(), key(13)));
        l2.checkpoint = checkpoint(20, &signers);
        h.follow(&NET, ORIGIN, &file(vec![l1.clone(), l2.clone()]))
            .unwrap();
        assert_eq!(h.current().epoch, 2);
        assert_eq!(h.roster_for(9).epoch, 0);
        assert_eq!(h.roster_for(10).epoch, 1);
        assert_eq!(h.roster_for(1_000).epoch, 2);
        // A checkpoint of epoch 2 verifies; the same signed by the rotated-out key does not.
        h.verify_checkpoint(checkpoint(25, &signers).as_bytes(), Some(ORIGIN), true)
            .unwrap();
        let old_keys = checkpoint(25, &named(&[0, 1, 3]));
        assert!(matches!(
            h.verify_checkpoint(old_keys.as_bytes(), Some(ORIGIN), true),
            Err(CheckpointError::Note(NoteError::TooFewSignatures { .. }))
        ));
        // Before the changes the genesis keys still sign: an old receipt's checkpoint verifies.
        h.verify_checkpoint(
            checkpoint(5, &named(&[0, 1, 3])).as_bytes(),
            Some(ORIGIN),
            true,
        )
        .unwrap();
        // A shorter history does not roll back what is known; another one conflicts.
        h.follow(&NET, ORIGIN, &file(vec![l1.clone()])).unwrap();
        assert_eq!(h.current().epoch, 2);
        // The same change with the epoch's checkpoint signed by another quorum is the same link.
        let resigned = link(1, &add(4), &[0, 1, 2], 10, &[1, 2, 3, 4]);
        h.follow(&NET, ORIGIN, &file(vec![resigned, l2.clone()]))
            .unwrap();
        assert_eq!(h.links()[0], l1, "the link checked first is kept");
        let other = link(1, &add(5), &[0, 1, 2], 10, &[0, 1, 2, 5]);
        assert_eq!(
            h.follow(&NET, ORIGIN, &file(vec![other])),
            Err(HistoryError::Conflict { epoch: 1 })
        );
        assert_eq!(h.current().epoch, 2, "the known history is kept");
    }

    #[test]
    fn links_not_approved_by_their_predecessors_are_refused() {
        let follow = |links: Vec<Link>| {
            let mut h = KeyHistory::new(genesis(4));
            let r = h.follow(&NET, ORIGIN, &file(links));
            (r, h.current().epoch)
        };
        let good = link(1, &add(4), &[0, 1, 2], 10, &[0, 1, 2, 4]);
        assert_eq!(follow(vec![good.clone()]), (Ok(()), 1));
        let two_votes = link(1, &add(4), &[0, 1], 10, &[0, 1, 2, 4]);
        assert!(matches!(
            follow(vec![two_votes]).0,
            Err(HistoryError::NotApproved {
                power: 2,
                total: 4,
                ..
            })
        ));
        let mut twice = good.clone();
        twice.votes[2] = twice.votes[1].clone();
        assert!(matches!(
            follow(vec![twice]).0,
            Err(HistoryError::DuplicateVote { signer: 1, .. })
        ));
        let mut outsider = good.clone();
        outsider.votes[2] = vote(0, &add(4), 7, &key(7));
        assert!(matches!(
            follow(vec![outsider]).0,
            Err(HistoryError::NotAVoter { signer: 7, .. })
        ));
        let mut forged = good.clone();
        forged.votes[2] = vote(0, &add(4), 2, &key(3));
        assert!(matches!(
            follow(vec![forged]).0,
            Err(HistoryError::BadVoteSignature { signer: 2, .. })
        ));
        let mut other_change = good.clone();
        other_change.votes[2] = vote(0, &add(5), 2, &key(2));
        assert!(matches!(
            follow(vec![other_change]).0,
            Err(HistoryError::NotThisVote { .. })
        ));
        let mut stale = good.clone();
        stale.votes[2] = vote(1, &add(4), 2, &key(2));
        assert!(matches!(
            follow(vec![stale]).0,
            Err(HistoryError::NotThisVote { .. })
        ));
        let removed = Change::RemoveMember {
            member: MemberId(3),
        };
        let too_few = link(1, &removed, &[0, 1, 2, 3], 10, &[0, 1, 2]);
        assert!(matches!(
            follow(vec![too_few]).0,
            Err(HistoryError::BadChange { .. })
        ));
        let unsigned = link(1, &add(4), &[0, 1, 2], 10, &[0, 1, 2]);
        assert!(matches!(
            follow(vec![unsigned]).0,
            Err(HistoryError::BadCheckpoint { .. })
        ));
        let skipped = link(2, &add(4), &[0, 1, 2], 10, &[0, 1, 2]);
        assert!(matches!(
            follow(vec![skipped]).0,
            Err(HistoryError::OutOfOrder { .. })
        ));
        let l2 = link(2, &add(5), &[0, 1, 2, 4], 10, &[0, 1, 2, 4, 5]);
        assert!(matches!(
            follow(vec![good.clone(), l2]).0,
            Err(HistoryError::NotIncreasing { .. })
        ));
        let mut other = file(vec![good]);
        other = String::from_utf8(other)
            .unwrap()
            .replace(&"09".repeat(32), &"08".repeat(32))
            .into_bytes();
        assert_eq!(
            KeyHistory::new(genesis(4)).follow(&NET, ORIGIN, &other),
            Err(HistoryError::OtherNetwork)
        );
    }
}
