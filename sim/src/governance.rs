//! Governance in a simulated run (issue #14): which validator-set changes the validators vote
//! on, when, and how the validators concerned act on them.
//!
//! A [`Plan`] is drawn from the seed for one [`Scenario`]. The validators vote with real vote
//! transactions (kind 6), submitted to their own node's mempool and forwarded to the others over
//! the simulated network; a voter whose vote is not counted yet submits it again every
//! [`RESUBMIT_MS`] (an operator watching `/v1/governance`), with the epoch the network is in.
//! What a change does to a node is the node's business, as in `bansos-node`: a joining validator
//! starts with an empty store and its `member_id`, a removed one stops validating (and is shut
//! down, or keeps following), a rotated one switches to its new key some time after it saw the
//! change (a restart with the new key file) and cannot vote in between.

use bansos_genesis::Network;
use bansos_node::consensus::testkit::test_key;
use bansos_verifier::entry::MemberId;
use bansos_verifier::governance::{Change, KeyRotation, NewMember, Role};
use bansos_verifier::note::SignerKey;

use crate::{Config, Named, Rng};

/// A voter submits its vote again if it is not counted this long after it last did.
pub const RESUBMIT_MS: u64 = 3_000;
/// The seed of a rotated member's new key is this plus the member id (the genesis and joining
/// members' keys use their ids).
const ROTATED_KEY_BASE: usize = 64;

/// What the validators vote on in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// One validator more: its node starts with no store and its member id, syncs, and
    /// validates once the change is in.
    Add,
    /// A validator is removed (of 5 or more, so that 4 remain): it stops validating, and is
    /// shut down or keeps following; the others go on.
    Remove,
    /// A validator's key is replaced: its node switches to the new key some time after the
    /// change took effect and cannot vote in between; the others carry on.
    Rotate,
    /// One of the three above, voted while the network is split (mostly so that no side holds a
    /// quorum: the change is approved after the heal).
    Race,
    /// A Byzantine validator votes for two changes in one epoch and submits its votes again,
    /// to the mempools and in its own proposals; some honest validators vote for both too.
    /// Only one change may be approved per epoch; the other is voted again in the next.
    DoubleVote,
    /// Add, then rotate, then remove: three epochs, the new validator voting in the later ones.
    Chain,
    /// A validator's voting power is doubled (of 6 or more, so that it holds less than a
    /// third): blocks, checkpoints and votes are then counted by power, not by heads.
    Power,
}

impl Named for Scenario {
    const ALL: &'static [(&'static str, Scenario)] = &[
        ("add", Scenario::Add),
        ("remove", Scenario::Remove),
        ("rotate", Scenario::Rotate),
        ("race", Scenario::Race),
        ("double-vote", Scenario::DoubleVote),
        ("chain", Scenario::Chain),
        ("power", Scenario::Power),
    ];
}

impl Scenario {
    /// Whether it can run with `validators` genesis validators, `byzantine` of them Byzantine.
    pub fn check(self, validators: usize, byzantine: usize) -> Result<(), String> {
        match self {
            Scenario::Add | Scenario::Chain if validators > 6 => Err(format!(
                "--governance {} adds a validator: at most 6 genesis validators",
                self.name()
            )),
            Scenario::Power if validators < 6 => Err(
                "--governance power needs at least 6 validators (none may hold a third of the \
                 power)"
                    .into(),
            ),
            Scenario::Remove if validators < 5 => Err(
                "--governance remove needs at least 5 validators (a network keeps at least 4)"
                    .into(),
            ),
            Scenario::DoubleVote if byzantine == 0 || validators > 6 => Err(
                "--governance double-vote needs a Byzantine validator (--byzantine 1) and at most \
                 6 genesis validators"
                    .into(),
            ),
            _ => Ok(()),
        }
    }
}

/// One change of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planned {
    /// Member `member` joins (its node is the one of that index).
    Add {
        /// Its member id, also its node's index.
        member: u16,
    },
    /// Member `member` is removed.
    Remove {
        /// Who.
        member: u16,
    },
    /// Member `member`'s key is replaced by [`Plan::rotated_key`].
    Rotate {
        /// Who.
        member: u16,
    },
    /// Member `member`'s voting power becomes 2.
    Power {
        /// Who.
        member: u16,
    },
}

impl Planned {
    /// The member it is about.
    pub fn member(self) -> u16 {
        match self {
            Planned::Add { member }
            | Planned::Remove { member }
            | Planned::Rotate { member }
            | Planned::Power { member } => member,
        }
    }
}

/// The governance of one run, drawn from its seed.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario.
    pub scenario: Scenario,
    /// The changes, in the order they are voted (with a double vote, the first two together).
    pub changes: Vec<Planned>,
    /// When the validators first vote (simulated ms).
    pub first_vote_ms: u64,
    /// The next change is voted this long after the previous one was approved.
    pub gap_ms: u64,
    /// When a joining validator's node starts (simulated ms).
    pub join_ms: u64,
    /// A rotated validator switches to its new key this long after its node saw the change.
    pub switch_ms: u64,
    /// A removed validator's node is shut down this long after it saw the change; `None`: it
    /// keeps running, following the others as a non-validator.
    pub retire_ms: Option<u64>,
    /// The split the votes race: each node's side, from, to (simulated ms).
    pub split: Option<(Vec<u8>, u64, u64)>,
    /// With a double vote, per genesis validator, which of the two first changes it votes for
    /// (bit 0: the first, bit 1: the second); the Byzantine ones vote for both.
    pub choices: Vec<u8>,
}

impl Plan {
    /// A plan for `scenario` under `config`, drawn from `rng`.
    pub fn draw(scenario: Scenario, config: &Config, rng: &mut Rng) -> Plan {
        let n = config.validators;
        let honest = n - config.byzantine;
        let honest_member = |rng: &mut Rng| rng.range(0, honest as u64 - 1) as u16;
        let joiner = n as u16;
        // Any validator but the ministry (member 0), unless the Byzantine ones would then be
        // more than the validators left tolerate: then one of them.
        let removable = |rng: &mut Rng, validators: usize| {
            if config.byzantine > Config::max_faulty(validators - 1) {
                rng.range(honest as u64, n as u64 - 1) as u16
            } else {
                rng.range(1, validators as u64 - 1) as u16
            }
        };
        let chaos = config.chaos_ms;
        let mut first_vote_ms = rng.range(300, (chaos / 2).max(400));
        let mut split = None;
        let changes = match scenario {
            Scenario::Add => vec![Planned::Add { member: joiner }],
            Scenario::Remove => vec![Planned::Remove {
                member: removable(rng, n),
            }],
            Scenario::Rotate => vec![Planned::Rotate {
                member: honest_member(rng),
            }],
            Scenario::Race => {
                let kinds = if n >= 5 { 3 } else { 2 };
                let change = match rng.range(0, kinds - 1) {
                    0 => Planned::Add { member: joiner },
                    1 => Planned::Rotate {
                        member: honest_member(rng),
                    },
                    _ => Planned::Remove {
                        member: removable(rng, n),
                    },
                };
                let from = rng.range(300, chaos.saturating_sub(3_500).max(400));
                first_vote_ms = from + rng.range(50, 500);
                let to =
                    (first_vote_ms + rng.range(500, 2_500)).min(chaos.max(first_vote_ms + 500));
                let nodes = n + usize::from(matches!(change, Planned::Add { .. }));
                split = Some((Self::sides(rng, n, nodes), from, to));
                vec![change]
            }
            Scenario::DoubleVote => {
                let mut two = [
                    Planned::Add { member: joiner },
                    Planned::Rotate {
                        member: honest_member(rng),
                    },
                ];
                if rng.chance(0.5) {
                    two.swap(0, 1);
                }
                two.to_vec()
            }
            Scenario::Power => vec![Planned::Power {
                member: honest_member(rng),
            }],
            Scenario::Chain => {
                let rotated = honest_member(rng);
                vec![
                    Planned::Add { member: joiner },
                    Planned::Rotate { member: rotated },
                    Planned::Remove {
                        member: removable(rng, n + 1),
                    },
                ]
            }
        };
        let mut choices = vec![3u8; n];
        if scenario == Scenario::DoubleVote {
            // Each honest validator votes for one of the two or both; the honest alone must
            // approve one (the Byzantine votes may never make it into a block), and may be one
            // vote short of approving the other, which the Byzantine double vote completes.
            let quorum = 2 * n / 3 + 1;
            for c in choices.iter_mut().take(honest) {
                *c = match rng.range(0, 3) {
                    0 => 1,
                    1 => 2,
                    _ => 3,
                };
            }
            let count = |choices: &[u8], bit: u8| {
                choices[..honest].iter().filter(|c| *c & bit != 0).count()
            };
            while count(&choices, 1) < quorum && count(&choices, 2) < quorum {
                let i = rng.range(0, honest as u64 - 1) as usize;
                choices[i] = 3;
            }
        }
        Plan {
            scenario,
            changes,
            first_vote_ms,
            gap_ms: rng.range(0, 2_000),
            join_ms: rng.range(0, first_vote_ms + 6_000),
            switch_ms: rng.range(0, 4_000),
            retire_ms: rng.chance(0.5).then(|| rng.range(0, 3_000)),
            split,
            choices,
        }
    }

    /// A split of `nodes` nodes in two sides: mostly so that neither side holds more than two
    /// thirds of the `validators` genesis validators, sometimes with all of them but one on one
    /// side (that side decides; the other catches up after the heal).
    fn sides(rng: &mut Rng, validators: usize, nodes: usize) -> Vec<u8> {
        let mut order: Vec<usize> = (0..validators).collect();
        for i in (1..order.len()).rev() {
            let j = rng.range(0, i as u64) as usize;
            order.swap(i, j);
        }
        let first = if rng.chance(0.3) {
            validators - 1
        } else {
            validators / 2
        };
        let mut sides = vec![0u8; nodes];
        for (k, &i) in order.iter().enumerate() {
            sides[i] = u8::from(k >= first);
        }
        for s in sides.iter_mut().skip(validators) {
            *s = rng.range(0, 1) as u8;
        }
        sides
    }

    /// The nodes a plan adds to the genesis validators' (joining validators).
    pub fn joiners(&self) -> Vec<u16> {
        self.changes
            .iter()
            .filter_map(|c| match c {
                Planned::Add { member } => Some(*member),
                _ => None,
            })
            .collect()
    }

    /// The key of a joining member (its node's key file).
    pub fn joiner_key(member: u16) -> SignerKey {
        SignerKey::new(&format!("v{member}"), test_key(member as usize))
    }

    /// The new key of a rotated member.
    pub fn rotated_key(member: u16) -> SignerKey {
        SignerKey::new(
            &format!("v{member}"),
            test_key(ROTATED_KEY_BASE + member as usize),
        )
    }

    /// The change voted for `planned`; `current` is the member's key now (a rotation is signed
    /// by the new key and the old one).
    pub fn change(network: &Network, planned: Planned, current: Option<&SignerKey>) -> Change {
        match planned {
            Planned::Add { member } => {
                let key = Self::joiner_key(member);
                Change::AddMember(NewMember {
                    name: format!("v{member}"),
                    display_name: format!("Validator {member}"),
                    role: Role::Bank,
                    public_key: key.signing_key().verifying_key().to_bytes(),
                    p2p_address: format!("/ip4/127.0.0.1/tcp/{}", 1000 + member),
                    voting_power: 1,
                })
            }
            Planned::Remove { member } => Change::RemoveMember {
                member: MemberId(member),
            },
            Planned::Power { member } => Change::SetVotingPower {
                member: MemberId(member),
                power: 2,
            },
            Planned::Rotate { member } => {
                let new = Self::rotated_key(member);
                Change::RotateKey(KeyRotation::sign(
                    &network.id,
                    MemberId(member),
                    new.signing_key(),
                    current.map(|k| k.signing_key()),
                ))
            }
        }
    }
}
