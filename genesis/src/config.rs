//! The network description an operator writes (`network.toml`), and how it becomes a genesis
//! once each member has a key. Parsing the TOML text and drawing keys happen in the
//! `bansos-genesis` tool; this module only maps and checks.

use bansos_verifier::entry::{AmountRule, MemberId, PeriodKind, ProgramCode, Rupiah};
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;

use crate::{
    ConsensusTimeouts, GENESIS_FORMAT, Genesis, GenesisProgram, GenesisWitness, Member, Role,
};

/// `network.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Name for people.
    pub network_name: String,
    /// The log's checkpoint origin, e.g. `ledger.bansos.example/testnet`.
    pub origin: String,
    /// Consensus timeouts; defaults suit a network on one continent.
    #[serde(default)]
    pub consensus: ConsensusConfig,
    /// The members, in order (their order fixes their member ids).
    pub members: Vec<MemberConfig>,
    /// Programs known from the start.
    #[serde(default)]
    pub programs: Vec<ProgramConfig>,
    /// Outside witnesses every checkpoint must be cosigned by (`[[witnesses]]`: name, vkey, url).
    #[serde(default)]
    pub witnesses: Vec<GenesisWitness>,
    /// How many of them must cosign; default: all.
    pub witness_quorum: Option<usize>,
}

/// Consensus timeouts, milliseconds.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    /// Propose step.
    pub propose_ms: u64,
    /// Prevote step.
    pub prevote_ms: u64,
    /// Precommit step.
    pub precommit_ms: u64,
    /// Largest accepted difference between a proposed block time and a validator's clock.
    pub block_time_drift_ms: u64,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            propose_ms: 3000,
            prevote_ms: 1000,
            precommit_ms: 1000,
            block_time_drift_ms: 5000,
        }
    }
}

/// One member.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberConfig {
    /// Short name, its checkpoint key name: `kemensos`, `bri`.
    pub name: String,
    /// Full name for people.
    pub display_name: String,
    /// `ministry`, `bank` (banks and PT Pos) or `auditor`.
    pub role: Role,
    /// Consensus voting power; 0 for a member that does not validate.
    pub voting_power: u64,
    /// Host name or IPv4 address of its peer-to-peer endpoint.
    pub host: String,
    /// Its peer-to-peer TCP port.
    pub p2p_port: u16,
}

/// One program.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramConfig {
    /// Code, e.g. `PKH`.
    pub code: ProgramCode,
    /// Name for people.
    pub name: String,
    /// Name of the issuing ministry.
    pub issuer: String,
    /// `monthly`, `quarterly` or `yearly`.
    pub period_kind: PeriodKind,
    /// Flat amount in rupiah; give this or `amount_min` and `amount_max`.
    pub amount: Option<u64>,
    /// Smallest amount of a range.
    pub amount_min: Option<u64>,
    /// Largest amount of a range.
    pub amount_max: Option<u64>,
}

/// The multiaddr of a peer-to-peer endpoint: `/ip4/...` for an IPv4 address, `/dns4/...` otherwise.
pub fn p2p_multiaddr(host: &str, port: u16) -> String {
    let is_ipv4 = host.split('.').count() == 4 && host.split('.').all(|p| p.parse::<u8>().is_ok());
    if is_ipv4 {
        format!("/ip4/{host}/tcp/{port}")
    } else {
        format!("/dns4/{host}/tcp/{port}")
    }
}

impl NetworkConfig {
    /// The genesis for these members' public keys (in member order). Every problem found is
    /// returned, each as a sentence; the genesis's own checks ([`Genesis::problems`]) are included.
    pub fn to_genesis(&self, keys: &[VerifyingKey]) -> Result<Genesis, Vec<String>> {
        assert_eq!(keys.len(), self.members.len(), "one key per member");
        let mut problems = Vec::new();
        let members: Vec<Member> = self
            .members
            .iter()
            .zip(keys)
            .enumerate()
            .map(|(i, (m, k))| {
                if m.host.is_empty() || m.host.contains(['/', ' ']) {
                    problems.push(format!(
                        "member {i} ({}): host must be a host name or IPv4 address",
                        m.name
                    ));
                }
                if m.p2p_port == 0 {
                    problems.push(format!("member {i} ({}): p2p_port must not be 0", m.name));
                }
                if let Some(j) = self.members[..i]
                    .iter()
                    .position(|o| o.host == m.host && o.p2p_port == m.p2p_port)
                {
                    problems.push(format!(
                        "member {i} ({}): host and p2p_port are those of member {j}",
                        m.name
                    ));
                }
                Member {
                    id: MemberId(i as u16),
                    name: m.name.clone(),
                    display_name: m.display_name.clone(),
                    role: m.role,
                    public_key: data_encoding::HEXLOWER.encode(k.as_bytes()),
                    p2p_address: p2p_multiaddr(&m.host, m.p2p_port),
                    voting_power: m.voting_power,
                }
            })
            .collect();
        let programs = self
            .programs
            .iter()
            .filter_map(|p| {
                let what = format!("program {}", p.code.as_str());
                let issuer = match self.members.iter().position(|m| m.name == p.issuer) {
                    Some(i) => MemberId(i as u16),
                    None => {
                        problems.push(format!("{what}: issuer {} is not a member", p.issuer));
                        return None;
                    }
                };
                let amount = match (p.amount, p.amount_min, p.amount_max) {
                    (Some(a), None, None) => AmountRule::Flat(Rupiah(a)),
                    (None, Some(min), Some(max)) => AmountRule::Range {
                        min: Rupiah(min),
                        max: Rupiah(max),
                    },
                    _ => {
                        problems.push(format!(
                            "{what}: give either amount, or amount_min and amount_max"
                        ));
                        return None;
                    }
                };
                Some(GenesisProgram {
                    code: p.code.clone(),
                    name: p.name.clone(),
                    issuer,
                    period_kind: p.period_kind,
                    amount,
                })
            })
            .collect();
        let c = &self.consensus;
        let genesis = Genesis {
            format: GENESIS_FORMAT,
            network_name: self.network_name.clone(),
            origin: self.origin.clone(),
            members,
            programs,
            witnesses: self.witnesses.clone(),
            witness_quorum: self.witness_quorum.unwrap_or(self.witnesses.len()),
            consensus: ConsensusTimeouts {
                propose_ms: c.propose_ms,
                prevote_ms: c.prevote_ms,
                precommit_ms: c.precommit_ms,
                block_time_drift_ms: c.block_time_drift_ms,
            },
        };
        problems.extend(genesis.problems());
        if problems.is_empty() {
            Ok(genesis)
        } else {
            Err(problems)
        }
    }
}

/// `network.toml` for `bansos-genesis assemble`: the network as `new` takes it, but each member
/// only named (with its voting power); everything else about it comes from its card.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssembleConfig {
    /// Name for people.
    pub network_name: String,
    /// The log's checkpoint origin.
    pub origin: String,
    /// Consensus timeouts.
    #[serde(default)]
    pub consensus: ConsensusConfig,
    /// The members, in order (their order fixes their member ids).
    pub members: Vec<Seat>,
    /// Programs known from the start.
    #[serde(default)]
    pub programs: Vec<ProgramConfig>,
    /// Outside witnesses every checkpoint must be cosigned by (`[[witnesses]]`: name, vkey, url).
    #[serde(default)]
    pub witnesses: Vec<GenesisWitness>,
    /// How many of them must cosign; default: all.
    pub witness_quorum: Option<usize>,
}

/// A member of an [`AssembleConfig`]: which card, and its voting power.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seat {
    /// The name on its card.
    pub name: String,
    /// Consensus voting power; 0 for a member that does not validate.
    pub voting_power: u64,
}

impl AssembleConfig {
    /// The genesis of these members' `cards` (any order, one per member). Every problem found
    /// is returned, each a sentence, the genesis's own checks included.
    pub fn to_genesis(&self, cards: &[crate::card::MemberCard]) -> Result<Genesis, Vec<String>> {
        let mut problems = Vec::new();
        for (i, c) in cards.iter().enumerate() {
            if cards[..i].iter().any(|o| o.name == c.name) {
                problems.push(format!("two cards name {}", c.name));
            }
            if !self.members.iter().any(|s| s.name == c.name) {
                problems.push(format!(
                    "the card of {} names no member of network.toml",
                    c.name
                ));
            }
        }
        let mut members = Vec::new();
        let mut keys = Vec::new();
        for seat in &self.members {
            match cards.iter().find(|c| c.name == seat.name) {
                None => problems.push(format!("member {}: no card given", seat.name)),
                Some(c) => match crate::parse_key(&c.public_key) {
                    None => problems.push(format!("member {}: its card's key is invalid", c.name)),
                    Some(k) => {
                        members.push(c.member_config(seat.voting_power));
                        keys.push(k);
                    }
                },
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        NetworkConfig {
            network_name: self.network_name.clone(),
            origin: self.origin.clone(),
            consensus: self.consensus.clone(),
            members,
            programs: self.programs.clone(),
            witnesses: self.witnesses.clone(),
            witness_quorum: self.witness_quorum,
        }
        .to_genesis(&keys)
    }
}
