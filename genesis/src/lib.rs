//! The genesis of a Bansos Ledger network: its members (name, role, Ed25519 key, address,
//! voting power), its initial programs, the log origin and the consensus timeouts, with a
//! validation that explains every problem it finds.
//!
//! The network id is the SHA-256 of the genesis file's exact bytes, so every signature and
//! receipt is bound to one network. This crate only parses, maps and checks: it does no I/O and
//! draws no keys (the `bansos-genesis` tool in `genesis/tool/` does).

pub mod card;
pub mod config;

use bansos_verifier::entry::{AmountRule, MemberId, NetworkId, PeriodKind, ProgramCode};
use bansos_verifier::hash::Hash;
use bansos_verifier::note::{KeyKind, VerifierKey, is_key_name_valid};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

/// Version of the genesis format.
pub const GENESIS_FORMAT: u32 = 1;
/// Most programs a genesis may list.
pub const GENESIS_PROGRAMS_MAX: usize = 256;
/// Largest genesis file accepted.
pub const GENESIS_BYTES_MAX: usize = 1024 * 1024;
pub use bansos_verifier::governance::{
    MEMBER_NAME_MAX, MEMBERS_MAX, Role, VALIDATORS_MIN, VOTING_POWER_MAX, is_member_name_valid,
};

/// One network member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its position in the member list.
    pub id: MemberId,
    /// Short name, used as its checkpoint key name (no spaces, no `+`), e.g. `kemensos`.
    pub name: String,
    /// Full name for people, e.g. "Kementerian Sosial".
    pub display_name: String,
    /// What it may submit.
    pub role: Role,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Peer-to-peer address, e.g. `/ip4/127.0.0.1/tcp/27000`.
    pub p2p_address: String,
    /// Consensus voting power; 0 for a member that does not validate.
    pub voting_power: u64,
}

/// A program known from the start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisProgram {
    /// Program code.
    pub code: ProgramCode,
    /// Name for people.
    pub name: String,
    /// The ministry that issues it.
    pub issuer: MemberId,
    /// Shape of its periods.
    pub period_kind: PeriodKind,
    /// Amount per allocation.
    pub amount: AmountRule,
}

/// Consensus timeouts, milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusTimeouts {
    /// Propose step.
    pub propose_ms: u64,
    /// Prevote step.
    pub prevote_ms: u64,
    /// Precommit step.
    pub precommit_ms: u64,
    /// Largest accepted difference between a proposed block time and a validator's clock.
    pub block_time_drift_ms: u64,
}

/// An outside witness whose cosignature every checkpoint needs (C2SP tlog-witness).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisWitness {
    /// Its name, the name in its verifier key, e.g. `witness.ngo.example`.
    pub name: String,
    /// Its cosignature verifier key (type 0x04), as `bansos-witness keygen` prints it.
    pub vkey: String,
    /// Where validators send checkpoints for it to cosign (`<url>/add-checkpoint`).
    pub url: String,
}

/// Most witnesses a genesis may name.
pub const WITNESSES_MAX: usize = 16;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The genesis document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// [`GENESIS_FORMAT`].
    pub format: u32,
    /// Network name for people, e.g. "Bansos Ledger testnet".
    pub network_name: String,
    /// The log's checkpoint origin line, e.g. `ledger.bansos.example/testnet`.
    pub origin: String,
    /// Members, `id` equal to position.
    pub members: Vec<Member>,
    /// Programs registered from the start.
    pub programs: Vec<GenesisProgram>,
    /// Outside witnesses the trust policy requires (none: the field is left out, and a genesis
    /// written before witnesses existed keeps its bytes and its network id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<GenesisWitness>,
    /// How many of the witnesses must cosign a checkpoint: 1 to their number, 0 with none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub witness_quorum: usize,
    /// Consensus timeouts.
    pub consensus: ConsensusTimeouts,
}

/// Why a genesis file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// Not JSON of the genesis shape.
    #[error("genesis is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// Too large.
    #[error("genesis file is larger than {GENESIS_BYTES_MAX} bytes")]
    TooLarge,
    /// Parsed, but invalid; each line is one problem.
    #[error("genesis is invalid:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// A validated genesis with its network id and members' parsed keys.
#[derive(Clone, Debug)]
pub struct Network {
    /// The document.
    pub genesis: Genesis,
    /// SHA-256 of the file bytes.
    pub id: NetworkId,
    keys: Vec<VerifyingKey>,
}

impl Network {
    /// Parses and validates genesis file bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Network, GenesisError> {
        if bytes.len() > GENESIS_BYTES_MAX {
            return Err(GenesisError::TooLarge);
        }
        let genesis: Genesis = serde_json::from_slice(bytes)?;
        let problems = genesis.problems();
        if !problems.is_empty() {
            return Err(GenesisError::Invalid(problems));
        }
        let keys = genesis
            .members
            .iter()
            .map(|m| parse_key(&m.public_key).expect("validated"))
            .collect();
        Ok(Network {
            id: NetworkId(Hash::digest(bytes).0),
            genesis,
            keys,
        })
    }

    /// The canonical file bytes of a genesis (pretty JSON with a final newline), as the
    /// genesis tool writes them.
    pub fn to_file_bytes(genesis: &Genesis) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(genesis).expect("genesis serializes");
        v.push(b'\n');
        v
    }

    /// A member by id.
    pub fn member(&self, id: MemberId) -> Option<&Member> {
        self.genesis.members.get(id.0 as usize)
    }

    /// A member's public key.
    pub fn key(&self, id: MemberId) -> Option<&VerifyingKey> {
        self.keys.get(id.0 as usize)
    }

    /// The checkpoint verifier keys of the validators (members with voting power).
    pub fn validator_vkeys(&self) -> Vec<VerifierKey> {
        self.genesis
            .members
            .iter()
            .zip(&self.keys)
            .filter(|(m, _)| m.voting_power > 0)
            .map(|(m, k)| VerifierKey::new(&m.name, KeyKind::Ed25519, *k))
            .collect()
    }

    /// Smallest number of validator signatures that is more than two thirds of the voting
    /// power, every validator having equal power (a valid genesis has): ⌊2n/3⌋ + 1.
    pub fn checkpoint_quorum(&self) -> usize {
        let n = self
            .genesis
            .members
            .iter()
            .filter(|m| m.voting_power > 0)
            .count();
        2 * n / 3 + 1
    }
}

impl Network {
    /// The members and witnesses of epoch 0 (governance changes them: docs/FORMAT.md,
    /// "Governance"). Every validator holds voting power 1: a valid genesis gives them equal
    /// power, and governance counts in these units.
    pub fn genesis_roster(&self) -> bansos_verifier::governance::Roster {
        use bansos_verifier::governance::{Roster, RosterMember, RosterWitness};
        Roster::genesis(
            self.genesis
                .members
                .iter()
                .zip(&self.keys)
                .map(|(m, k)| RosterMember {
                    id: m.id,
                    name: m.name.clone(),
                    display_name: m.display_name.clone(),
                    role: m.role,
                    key: Some(k.to_bytes()),
                    p2p_address: m.p2p_address.clone(),
                    power: u64::from(m.voting_power > 0),
                    active: true,
                })
                .collect(),
            self.genesis
                .witnesses
                .iter()
                .map(|w| RosterWitness {
                    vkey: w.vkey.clone(),
                    url: w.url.clone(),
                })
                .collect(),
            u8::try_from(self.genesis.witness_quorum).unwrap_or(u8::MAX),
            Some(self.checkpoint_quorum() as u64),
        )
    }

    /// The citizen's trust policy of this network (docs/VERIFY.md): its id and origin, the
    /// validators' checkpoint keys and quorum, and member and program names for display.
    pub fn trust_policy(&self) -> bansos_verifier::policy::TrustPolicy {
        use bansos_verifier::policy::{POLICY_FORMAT, PolicyFile, PolicyMember, PolicyProgram};
        let file = PolicyFile {
            format: POLICY_FORMAT.into(),
            network_name: self.genesis.network_name.clone(),
            network_id: self.id,
            origin: self.genesis.origin.clone(),
            quorum: self.checkpoint_quorum(),
            verifier_keys: self
                .validator_vkeys()
                .iter()
                .map(|k| k.to_string())
                .collect(),
            witnesses: self
                .genesis
                .witnesses
                .iter()
                .map(|w| w.vkey.clone())
                .collect(),
            witness_quorum: self.genesis.witness_quorum,
            members: self
                .genesis
                .members
                .iter()
                .map(|m| PolicyMember {
                    id: m.id,
                    name: m.name.clone(),
                    display_name: m.display_name.clone(),
                    role: serde_json::to_value(m.role)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                })
                .collect(),
            programs: self
                .genesis
                .programs
                .iter()
                .map(|p| PolicyProgram {
                    code: p.code.as_str().into(),
                    name: p.name.clone(),
                })
                .collect(),
        };
        bansos_verifier::policy::TrustPolicy::new(file)
            .expect("a validated genesis has valid keys and a quorum within them")
    }
}

fn parse_key(hex: &str) -> Option<VerifyingKey> {
    let bytes = data_encoding::HEXLOWER_PERMISSIVE
        .decode(hex.as_bytes())
        .ok()?;
    VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()
}

impl Genesis {
    /// Every problem found, each as a sentence naming the member or program concerned.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.format != GENESIS_FORMAT {
            p.push(format!(
                "format is {}, this software reads format {GENESIS_FORMAT}",
                self.format
            ));
        }
        if self.origin.is_empty()
            || self
                .origin
                .chars()
                .any(|c| c.is_whitespace() || c == '+' || c.is_control())
        {
            p.push("origin must be non-empty, without spaces or '+' (e.g. ledger.bansos.example/testnet)".into());
        }
        if self.members.is_empty() || self.members.len() > MEMBERS_MAX {
            p.push(format!(
                "a network has 1 to {MEMBERS_MAX} members, this one has {}",
                self.members.len()
            ));
        }
        let mut keys = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            let who = format!("member {i} ({})", m.name);
            if m.id.0 as usize != i {
                p.push(format!(
                    "{who}: id is {}, expected its position {i}",
                    m.id.0
                ));
            }
            if !is_member_name_valid(&m.name) || !is_key_name_valid(&m.name) {
                p.push(format!(
                    "{who}: name must be 1 to {MEMBER_NAME_MAX} ASCII letters, digits, '-', '_' \
                     or '.', starting with a letter or digit (it names the member's key files)"
                ));
            }
            if m.voting_power > VOTING_POWER_MAX {
                p.push(format!(
                    "{who}: voting_power is at most {VOTING_POWER_MAX}, not {}",
                    m.voting_power
                ));
            }
            if self.members[..i].iter().any(|o| o.name == m.name) {
                p.push(format!("{who}: name is used by an earlier member"));
            }
            match parse_key(&m.public_key) {
                None => p.push(format!(
                    "{who}: public_key must be 64 hex digits of a valid Ed25519 key"
                )),
                Some(k) => {
                    if keys.contains(&k) {
                        p.push(format!("{who}: public_key is used by an earlier member"));
                    }
                    keys.push(k);
                }
            }
            if m.p2p_address.is_empty() {
                p.push(format!("{who}: p2p_address is empty"));
            }
        }
        let powers: Vec<u64> = self
            .members
            .iter()
            .map(|m| m.voting_power)
            .filter(|&v| v > 0)
            .collect();
        if powers.is_empty() {
            p.push("no member has voting power: nobody can commit blocks".into());
        } else if powers.len() < VALIDATORS_MIN {
            p.push(format!(
                "{} validators: at least {VALIDATORS_MIN} are needed, or one member alone holds a \
                 third of the voting power and can stop every block (half or more: decide them)",
                powers.len()
            ));
        }
        if powers.windows(2).any(|w| w[0] != w[1]) {
            p.push(format!(
                "validators must have equal voting power (here {powers:?}): consensus decides \
                 by power but a checkpoint counts signatures, and only equal powers make the two \
                 agree (with [10, 1, 1, 1] the first validator alone would decide every block)"
            ));
        }
        if self.programs.len() > GENESIS_PROGRAMS_MAX {
            p.push(format!(
                "at most {GENESIS_PROGRAMS_MAX} programs may be listed"
            ));
        }
        for (i, prog) in self.programs.iter().enumerate() {
            let what = format!("program {}", prog.code.as_str());
            if self.programs[..i].iter().any(|o| o.code == prog.code) {
                p.push(format!("{what}: listed twice"));
            }
            match self.members.get(prog.issuer.0 as usize) {
                Some(m) if m.role == Role::Ministry => {}
                Some(m) => p.push(format!("{what}: issuer {} is not a ministry", m.name)),
                None => p.push(format!("{what}: issuer {} is not a member", prog.issuer.0)),
            }
            match prog.amount {
                AmountRule::Range { min, max } if min > max || min.0 == 0 => {
                    p.push(format!("{what}: amount range must have 0 < min <= max"))
                }
                AmountRule::Flat(a) if a.0 == 0 => {
                    p.push(format!("{what}: flat amount must be positive"))
                }
                _ => {}
            }
            if prog.name.is_empty()
                || prog.name.len() > bansos_verifier::entry::PROGRAM_NAME_BYTES_MAX
            {
                p.push(format!("{what}: name must be 1 to 100 bytes"));
            }
        }
        p.extend(self.witness_problems());
        let c = &self.consensus;
        if c.propose_ms == 0 || c.prevote_ms == 0 || c.precommit_ms == 0 {
            p.push("consensus timeouts must be positive".into());
        }
        p
    }
}

impl Genesis {
    fn witness_problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let n = self.witnesses.len();
        if n > WITNESSES_MAX {
            p.push(format!(
                "at most {WITNESSES_MAX} witnesses may be named, not {n}"
            ));
        }
        if n == 0 && self.witness_quorum != 0 {
            p.push("witness_quorum is set but no witness is named".into());
        }
        if n > 0 && !(1..=n).contains(&self.witness_quorum) {
            p.push(format!(
                "witness_quorum must be 1 to {n} (the witnesses named), not {}",
                self.witness_quorum
            ));
        }
        for (i, w) in self.witnesses.iter().enumerate() {
            let who = format!("witness {i} ({})", w.name);
            match VerifierKey::parse(&w.vkey) {
                Err(e) => p.push(format!("{who}: vkey: {e}")),
                Ok(k) if k.kind() != KeyKind::Cosignature => p.push(format!(
                    "{who}: vkey must be a cosignature key (type 0x04, `bansos-witness keygen`)"
                )),
                Ok(k) if k.name() != w.name => {
                    p.push(format!("{who}: its vkey names {}", k.name()))
                }
                Ok(_) => {}
            }
            if self.witnesses[..i]
                .iter()
                .any(|o| o.name == w.name || o.vkey == w.vkey)
            {
                p.push(format!("{who}: named twice"));
            }
            if !(w.url.starts_with("https://") || w.url.starts_with("http://"))
                || w.url.contains(char::is_whitespace)
            {
                p.push(format!("{who}: url must start with https:// (or http://)"));
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bansos_verifier::entry::Rupiah;

    fn sample() -> Genesis {
        let key = |n: u8| {
            let k = ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key();
            k.as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        Genesis {
            format: 1,
            network_name: "test".into(),
            origin: "ledger.bansos.example/test".into(),
            members: [
                ("kemensos", Role::Ministry),
                ("bri", Role::Bank),
                ("pos", Role::Bank),
                ("bpk", Role::Auditor),
            ]
            .into_iter()
            .enumerate()
            .map(|(i, (name, role))| Member {
                id: MemberId(i as u16),
                name: name.into(),
                display_name: name.to_uppercase(),
                role,
                public_key: key(i as u8 + 1),
                p2p_address: format!("/ip4/127.0.0.1/tcp/{}", i + 1),
                voting_power: 1,
            })
            .collect(),
            programs: vec![GenesisProgram {
                code: ProgramCode::new("PKH").unwrap(),
                name: "Program Keluarga Harapan".into(),
                issuer: MemberId(0),
                period_kind: PeriodKind::Quarterly,
                amount: AmountRule::Range {
                    min: Rupiah(1),
                    max: Rupiah(10),
                },
            }],
            witnesses: Vec::new(),
            witness_quorum: 0,
            consensus: ConsensusTimeouts {
                propose_ms: 1000,
                prevote_ms: 500,
                precommit_ms: 500,
                block_time_drift_ms: 5000,
            },
        }
    }

    #[test]
    fn a_good_genesis_parses_and_has_an_id() {
        let bytes = Network::to_file_bytes(&sample());
        let n = Network::from_bytes(&bytes).unwrap();
        assert_eq!(n.id.0, Hash::digest(&bytes).0);
        assert_eq!(n.validator_vkeys().len(), 4);
        assert_eq!(n.checkpoint_quorum(), 3);
    }

    fn problems_with(change: impl FnOnce(&mut Genesis)) -> Vec<String> {
        let mut g = sample();
        change(&mut g);
        g.problems()
    }

    #[test]
    fn one_member_can_neither_decide_nor_block_alone() {
        // Consensus counts power, a checkpoint counts signatures: unequal powers are refused.
        let p = problems_with(|g| g.members[0].voting_power = 10);
        assert!(p.iter().any(|p| p.contains("equal voting power")), "{p:?}");
        // Three validators: each holds a third, enough to stop every block alone.
        let p = problems_with(|g| g.members[3].voting_power = 0);
        assert!(p.iter().any(|p| p.contains("at least 4")), "{p:?}");
        let p = problems_with(|g| g.members[1].voting_power = VOTING_POWER_MAX + 1);
        assert!(p.iter().any(|p| p.contains("at most")), "{p:?}");
        // Equal powers other than 1 are fine, and non-validating members are not counted.
        assert!(
            problems_with(|g| g.members.iter_mut().for_each(|m| m.voting_power = 7)).is_empty()
        );
    }

    fn witness(name: &str, seed: u8, kind: KeyKind) -> GenesisWitness {
        let k = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key();
        GenesisWitness {
            name: name.into(),
            vkey: VerifierKey::new(name, kind, k).to_string(),
            url: format!("https://{name}"),
        }
    }

    #[test]
    fn witnesses_named_in_the_genesis_are_required_by_its_policy() {
        // None named: the fields are left out, so older genesis files keep their bytes.
        let plain = Network::to_file_bytes(&sample());
        assert!(!String::from_utf8_lossy(&plain).contains("witness"));

        let mut g = sample();
        g.witnesses = vec![
            witness("witness.ngo.example", 40, KeyKind::Cosignature),
            witness("witness.univ.example", 41, KeyKind::Cosignature),
        ];
        g.witness_quorum = 2;
        let n = Network::from_bytes(&Network::to_file_bytes(&g)).unwrap();
        let policy = n.trust_policy();
        let w = policy.witness_policy().expect("witnesses required");
        assert_eq!(w.quorum(), 2);
        assert_eq!(w.keys().len(), 2);

        for (change, needle) in [
            (
                Box::new(|g: &mut Genesis| g.witness_quorum = 3) as Box<dyn Fn(&mut Genesis)>,
                "witness_quorum must be 1 to 2",
            ),
            (
                Box::new(|g| g.witness_quorum = 0),
                "witness_quorum must be 1 to 2",
            ),
            (
                Box::new(|g| g.witnesses[1] = witness("w.example", 42, KeyKind::Ed25519)),
                "must be a cosignature key",
            ),
            (
                Box::new(|g| g.witnesses[1].name = "other.example".into()),
                "its vkey names",
            ),
            (
                Box::new(|g| g.witnesses[1] = g.witnesses[0].clone()),
                "named twice",
            ),
            (
                Box::new(|g| g.witnesses[0].url = "ftp://x".into()),
                "url must start with https://",
            ),
            (
                Box::new(|g| {
                    g.witnesses.clear();
                    g.witness_quorum = 1;
                }),
                "no witness is named",
            ),
        ] {
            let mut bad = g.clone();
            change(&mut bad);
            let p = bad.problems();
            assert!(p.iter().any(|p| p.contains(needle)), "{needle}: {p:?}");
        }
    }

    #[test]
    fn member_names_cannot_leave_the_keys_folder() {
        for bad in [
            "../evil",
            "a/b",
            ".hidden",
            "",
            "semi;colon",
            "x".repeat(33).as_str(),
        ] {
            let p = problems_with(|g| g.members[1].name = bad.into());
            assert!(
                p.iter().any(|p| p.contains("names the member's key files")),
                "{bad:?} accepted: {p:?}"
            );
        }
        for good in ["bri", "bpd-jatim", "bank_9", "ojk.go.id"] {
            assert!(
                problems_with(|g| g.members[1].name = good.into()).is_empty(),
                "{good}"
            );
        }
    }

    #[test]
    fn every_problem_is_explained() {
        let mut g = sample();
        g.members[1].id = MemberId(5);
        g.members[1].name = "kemensos".into();
        g.members[1].public_key = g.members[0].public_key.clone();
        g.programs[0].issuer = MemberId(1);
        g.origin = "has space".into();
        let problems = g.problems();
        for needle in [
            "expected its position 1",
            "used by an earlier member",
            "public_key is used",
            "is not a ministry",
            "origin",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "missing {needle:?} in {problems:?}"
            );
        }
        assert!(matches!(
            Network::from_bytes(&Network::to_file_bytes(&g)),
            Err(GenesisError::Invalid(_))
        ));
        assert!(matches!(
            Network::from_bytes(b"{}"),
            Err(GenesisError::Json(_))
        ));
    }
}
