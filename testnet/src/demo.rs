//! Demo network and data generation. Deterministic for a given seed.
//!
//! Two shapes of the same data: [`data`] makes numbered blocks for the rules to apply directly
//! (`sample`), [`live`] makes submission stages for a running network (`up --demo`), where the
//! block times are the validators' clocks and so the times in the transactions follow `now`.

use bansos_genesis::{
    ConsensusTimeouts, Genesis, GenesisProgram, GenesisWitness, Member, Network, Role,
};
use bansos_ledger::rules::Block;
use bansos_verifier::commitment::{Nik, beneficiary_commitment, claim_lock, dedup_tag};
use bansos_verifier::entry::*;
use bansos_verifier::hash::{Hash, LeafIndex};
use bansos_verifier::receipt::{Receipt, network_tag};
use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Population by kabupaten/kota, embedded so the demo needs no outside file.
const POPULATION_CSV: &str = include_str!("../data/population.csv");
/// Transactions per demo block.
pub const DEMO_BLOCK_TXS: usize = 500;
/// First demo block time: 2026-11-07 08:00 WIB (01:00 UTC).
pub const DEMO_START_TIME: u64 = 1_794_013_200;

/// The demo members: (name, display name, role).
pub const MEMBERS: [(&str, &str, Role); 4] = [
    ("kemensos", "Kementerian Sosial", Role::Ministry),
    ("kemenkeu", "Kementerian Keuangan", Role::Ministry),
    ("bri", "Bank Rakyat Indonesia", Role::Bank),
    ("pos", "PT Pos Indonesia", Role::Bank),
];
/// Members added after [`MEMBERS`] when a testnet has more than four validators: banks, so the
/// demo data (which uses only the first four) stays the same.
pub const EXTRA_MEMBERS: [(&str, &str, Role); 4] = [
    ("bni", "Bank Negara Indonesia", Role::Bank),
    ("mandiri", "Bank Mandiri", Role::Bank),
    ("btn", "Bank Tabungan Negara", Role::Bank),
    ("bsi", "Bank Syariah Indonesia", Role::Bank),
];
/// Fewest validators a demo network has: the demo data needs both ministries and both payers.
pub const VALIDATORS_MIN: usize = MEMBERS.len();
/// Most validators a demo network has ([`MEMBERS`] then [`EXTRA_MEMBERS`]).
pub const VALIDATORS_MAX: usize = MEMBERS.len() + EXTRA_MEMBERS.len();
/// How long a demo allocation stays claimable.
pub const ALLOCATION_LIFETIME_SECS: u64 = 90 * 86_400;
const KEMENSOS: MemberId = MemberId(0);
const KEMENKEU: MemberId = MemberId(1);
const BRI: MemberId = MemberId(2);
const POS: MemberId = MemberId(3);

/// Kabupaten/kota codes with their population.
pub fn regions() -> Vec<(RegionCode, u64)> {
    POPULATION_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let code = f.first()?;
            let (p, k) = code.split_once('.')?;
            let region = RegionCode::new(format!("{p}{k}").parse().ok()?)?;
            Some((region, f.last()?.trim().parse().ok()?))
        })
        .collect()
}

/// A demo network: members' signing keys, the genesis file bytes and the parsed network.
pub struct DemoNetwork {
    /// Signing keys, by member id.
    pub keys: Vec<SigningKey>,
    /// Kemensos' secret dedup key.
    pub dedup_key: [u8; 32],
    /// genesis.json bytes.
    pub genesis_bytes: Vec<u8>,
    /// The network.
    pub network: Network,
}

/// Makes the four-member demo network with fresh keys drawn from `rng`; member `i` has the
/// peer-to-peer address `/ip4/127.0.0.1/tcp/<p2p_base_port + i>`.
pub fn network(rng: &mut StdRng, p2p_base_port: u16) -> DemoNetwork {
    network_of(rng, p2p_base_port, VALIDATORS_MIN, &[], &[])
}

/// Makes a demo network of `validators` members, all validating: [`MEMBERS`] then as many of
/// [`EXTRA_MEMBERS`] as needed. Member i's peer-to-peer address is on `hosts[i]` (IPv4;
/// 127.0.0.1 for any not given). The genesis names `witnesses`, all required. Panics outside
/// `VALIDATORS_MIN..=VALIDATORS_MAX`, if the ports would pass 65535 or if a witness is not
/// valid (callers check all three first).
pub fn network_of(
    rng: &mut StdRng,
    p2p_base_port: u16,
    validators: usize,
    hosts: &[String],
    witnesses: &[GenesisWitness],
) -> DemoNetwork {
    assert!(
        (VALIDATORS_MIN..=VALIDATORS_MAX).contains(&validators),
        "validators out of range"
    );
    assert!(
        usize::from(p2p_base_port) + validators <= usize::from(u16::MAX) + 1,
        "p2p ports out of range"
    );
    let chosen: Vec<&(&str, &str, Role)> = MEMBERS
        .iter()
        .chain(&EXTRA_MEMBERS)
        .take(validators)
        .collect();
    let keys: Vec<SigningKey> = chosen
        .iter()
        .map(|_| SigningKey::from_bytes(&rng.random()))
        .collect();
    let members = chosen
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, ((name, display, role), k))| Member {
            id: MemberId(i as u16),
            name: name.to_string(),
            display_name: display.to_string(),
            role: *role,
            public_key: data_encoding::HEXLOWER.encode(k.verifying_key().as_bytes()),
            p2p_address: format!(
                "/ip4/{}/tcp/{}",
                hosts.get(i).map_or("127.0.0.1", String::as_str),
                p2p_base_port + i as u16
            ),
            voting_power: 1,
        })
        .collect();
    let program = |code: &str, name: &str, issuer, period_kind, amount| GenesisProgram {
        code: ProgramCode::new(code).expect("demo codes are valid"),
        name: name.into(),
        issuer,
        period_kind,
        amount,
    };
    let genesis = Genesis {
        format: bansos_genesis::GENESIS_FORMAT,
        network_name: "Bansos Ledger demo".into(),
        origin: "ledger.bansos.example/demo".into(),
        members,
        programs: vec![
            program(
                "PKH",
                "Program Keluarga Harapan",
                KEMENSOS,
                PeriodKind::Quarterly,
                AmountRule::Range {
                    min: Rupiah(225_000),
                    max: Rupiah(3_000_000),
                },
            ),
            program(
                "SEMBAKO",
                "Program Sembako (BPNT)",
                KEMENSOS,
                PeriodKind::Monthly,
                AmountRule::Flat(Rupiah(200_000)),
            ),
        ],
        witnesses: witnesses.to_vec(),
        witness_quorum: witnesses.len(),
        consensus: ConsensusTimeouts {
            propose_ms: 2000,
            prevote_ms: 500,
            precommit_ms: 500,
            block_time_drift_ms: 5000,
        },
    };
    let genesis_bytes = Network::to_file_bytes(&genesis);
    let network = Network::from_bytes(&genesis_bytes).expect("the demo genesis is valid");
    DemoNetwork {
        keys,
        dedup_key: rng.random(),
        genesis_bytes,
        network,
    }
}

/// A demo recipient's receipt with the synthetic NIK it opens with.
pub struct DemoReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// The synthetic NIK (16 digits).
    pub nik: String,
}

/// An allocation waiting for its leaf index, with the secrets of its receipt.
struct Pending {
    allocation: Allocation,
    tx_hash: Hash,
    salt: [u8; 32],
    secret: [u8; 16],
    nik: String,
}

/// The secrets of an allocation's receipt, waiting for its leaf index.
struct ReceiptSecrets {
    allocation: AllocationId,
    tx_hash: Hash,
    salt: [u8; 32],
    secret: [u8; 16],
    nik: String,
}

impl ReceiptSecrets {
    fn receipt(&self, net: &Network, leaf_index: LeafIndex) -> DemoReceipt {
        DemoReceipt {
            receipt: Receipt {
                network_tag: network_tag(&net.id),
                leaf_index,
                allocation: self.allocation,
                salt: self.salt,
                claim_secret: self.secret,
            },
            nik: self.nik.clone(),
        }
    }
}

/// The demo's blocks and a few receipts, for `allocations` allocations.
pub struct DemoData {
    /// Blocks in order, starting at height 1.
    pub blocks: Vec<Block>,
    /// Receipts of some allocations (leaf indexes filled in by [`DemoData::receipts_for`]).
    secrets: Vec<ReceiptSecrets>,
}

/// A kabupaten/kota drawn in proportion to population; `total` is the sum of `regions`' counts.
pub fn pick_region(rng: &mut StdRng, regions: &[(RegionCode, u64)], total: u64) -> RegionCode {
    let mut x = rng.random_range(0..total);
    for (r, pop) in regions {
        if x < *pop {
            return *r;
        }
        x -= pop;
    }
    regions.last().expect("regions").0
}

/// The times and periods written into demo transactions.
struct Times {
    /// Every allocation's expiry.
    expires_at: u64,
    /// Claims are dated `claims_from + [0, claims_spread_secs)`.
    claims_from: u64,
    claims_spread_secs: u64,
    /// Period of the monthly programs (SEMBAKO, BLT).
    monthly: String,
    /// Period of the quarterly program (PKH).
    quarterly: String,
}

/// Demo transactions before they are arranged into blocks or stages.
struct Generated {
    /// Program registrations (programs not in the genesis).
    programs: Vec<SignedTx>,
    /// One transaction per allocation.
    allocations: Vec<SignedTx>,
    /// What later happens to each allocation: a claim, a return, a revocation, or nothing yet.
    later: Vec<Option<SignedTx>>,
    pending: Vec<Pending>,
}

fn generate(net: &DemoNetwork, rng: &mut StdRng, allocations: usize, times: &Times) -> Generated {
    let regions = regions();
    let total: u64 = regions.iter().map(|r| r.1).sum();
    let id = &net.network.id;
    let sign = |signer: MemberId, body| {
        SignedTx::sign(id, signer, body, &net.keys[signer.0 as usize])
            .expect("demo transactions are valid")
    };
    let programs = vec![sign(
        KEMENKEU,
        TxBody::ProgramRegistered(ProgramRegistered {
            code: ProgramCode::new("BLT").expect("valid"),
            name: "Bantuan Langsung Tunai".into(),
            period_kind: PeriodKind::Monthly,
            amount: AmountRule::Flat(Rupiah(600_000)),
        }),
    )];
    let mut txs = Vec::with_capacity(allocations);
    let mut pending = Vec::with_capacity(allocations);
    for n in 0..allocations {
        let region = pick_region(rng, &regions, total);
        // Synthetic NIK: kecamatan of the region, a birth date, a serial. Not a real person.
        let day = rng.random_range(1..=28u32) + if rng.random_bool(0.5) { 40 } else { 0 };
        let nik = format!(
            "{:04}{:02}{:02}{:02}{:02}{:04}",
            region.get(),
            rng.random_range(1..=20u32),
            day,
            rng.random_range(1..=12u32),
            rng.random_range(40..=99u32),
            n % 10_000
        );
        let parsed = Nik::parse(&nik).expect("16 digits");
        let (program, issuer, period, amount) = match rng.random_range(0..10u32) {
            0..=3 => (
                "PKH",
                KEMENSOS,
                times.quarterly.as_str(),
                [750_000u64, 900_000, 600_000, 2_400_000][rng.random_range(0..4)],
            ),
            4..=7 => ("SEMBAKO", KEMENSOS, times.monthly.as_str(), 200_000),
            _ => ("BLT", KEMENKEU, times.monthly.as_str(), 600_000),
        };
        let salt: [u8; 32] = rng.random();
        let secret: [u8; 16] = rng.random();
        let a = Allocation {
            id: AllocationId(rng.random()),
            program: ProgramCode::new(program).expect("valid"),
            period: Period::new(period).expect("valid"),
            region,
            amount: Rupiah(amount),
            payer: if rng.random_bool(0.6) { BRI } else { POS },
            beneficiary_commitment: beneficiary_commitment(&salt, &parsed),
            dedup_tag: dedup_tag(&net.dedup_key, program, period, &parsed),
            claim_lock: claim_lock(&secret),
            expires_at: times.expires_at,
        };
        let tx = sign(issuer, TxBody::Allocation(a.clone()));
        pending.push(Pending {
            allocation: a,
            tx_hash: tx.hash(),
            salt,
            secret,
            nik,
        });
        txs.push(tx);
    }
    // Claims (about three in four, a few partial), returns and revocations of the rest.
    let mut later = Vec::with_capacity(pending.len());
    for p in &pending {
        let a = &p.allocation;
        let roll = rng.random_range(0..100u32);
        later.push(if roll < 75 {
            let channel = if a.payer == BRI {
                [
                    Channel::Kks,
                    Channel::Agent,
                    Channel::Ewarong,
                    Channel::BankTeller,
                ][rng.random_range(0..4)]
            } else {
                [Channel::PosOutlet, Channel::PosDoor][rng.random_range(0..2)]
            };
            let partial = roll < 2;
            let amount = if partial { a.amount.0 / 2 } else { a.amount.0 };
            let claim = Claim {
                allocation: a.id,
                amount: Rupiah(amount),
                channel,
                region: a.region,
                outlet: rng.random(),
                claim_secret: p.secret,
                claimed_at: times.claims_from + rng.random_range(0..times.claims_spread_secs),
            };
            Some(sign(a.payer, TxBody::Claim(claim)))
        } else if roll < 76 {
            Some(sign(
                a.payer,
                TxBody::Return(Return {
                    allocation: a.id,
                    reason: ReturnReason::NotFound,
                }),
            ))
        } else if roll < 77 {
            let issuer = if a.program.as_str() == "BLT" {
                KEMENKEU
            } else {
                KEMENSOS
            };
            Some(sign(
                issuer,
                TxBody::Revocation(Revocation {
                    allocation: a.id,
                    reason: RevocationReason::Ineligible,
                }),
            ))
        } else {
            None
        });
    }
    Generated {
        programs,
        allocations: txs,
        later,
        pending,
    }
}

fn secrets(pending: Vec<Pending>) -> Vec<ReceiptSecrets> {
    pending
        .into_iter()
        .map(|p| ReceiptSecrets {
            allocation: p.allocation.id,
            tx_hash: p.tx_hash,
            salt: p.salt,
            secret: p.secret,
            nik: p.nik,
        })
        .collect()
}

/// Generates the demo's transactions as blocks, dated from [`DEMO_START_TIME`].
pub fn data(net: &DemoNetwork, rng: &mut StdRng, allocations: usize) -> DemoData {
    let times = Times {
        expires_at: DEMO_START_TIME + ALLOCATION_LIFETIME_SECS,
        // Claims are paid one to three hours after the allocations were published.
        claims_from: DEMO_START_TIME + 3_600,
        claims_spread_secs: 7_200,
        monthly: "2026-11".into(),
        quarterly: "2026Q4".into(),
    };
    let g = generate(net, rng, allocations, &times);
    let txs: Vec<SignedTx> = g.programs.into_iter().chain(g.allocations).collect();
    let later: Vec<SignedTx> = g.later.into_iter().flatten().collect();
    let mut blocks = Vec::new();
    let mut time = DEMO_START_TIME;
    for chunk in txs.chunks(DEMO_BLOCK_TXS) {
        blocks.push(Block {
            height: blocks.len() as u64 + 1,
            time,
            txs: chunk.to_vec(),
        });
        time += 5;
    }
    // Claims start an hour after the allocations were published.
    time = time.max(DEMO_START_TIME + 3_600) + 7_200;
    for chunk in later.chunks(DEMO_BLOCK_TXS) {
        blocks.push(Block {
            height: blocks.len() as u64 + 1,
            time,
            txs: chunk.to_vec(),
        });
        time += 5;
    }
    DemoData {
        blocks,
        secrets: secrets(g.pending),
    }
}

impl DemoData {
    /// Receipts for the first `n` allocations, given a way to find each one's leaf.
    pub fn receipts_for(
        &self,
        net: &Network,
        n: usize,
        leaf_of: impl Fn(&AllocationId) -> Option<LeafIndex>,
    ) -> Vec<DemoReceipt> {
        self.secrets
            .iter()
            .filter_map(|s| Some(s.receipt(net, leaf_of(&s.allocation)?)))
            .take(n)
            .collect()
    }
}

/// One step of [`LiveDemo`]: transactions that may be submitted together once every earlier
/// stage is committed (a claim needs its allocation, an allocation its program).
pub struct Stage {
    /// What the stage holds, for people: "programs", "allocations", ...
    pub name: &'static str,
    /// Its transactions.
    pub txs: Vec<SignedTx>,
}

/// Demo transactions for a running network, in dependency order.
pub struct LiveDemo {
    /// Programs, then allocations, then claims, returns and revocations; empty stages left out.
    pub stages: Vec<Stage>,
    secrets: Vec<ReceiptSecrets>,
}

/// Exactly `transactions` demo transactions for a running network whose clocks read about
/// `now` (Unix seconds): the BLT program registration (the genesis has PKH and SEMBAKO), then
/// allocations each followed, when the count allows, by its claim, return or revocation.
/// Periods are those of `now`; allocations expire [`ALLOCATION_LIFETIME_SECS`] later; claims are
/// dated within a minute after `now`, well inside the rules' bound on claims ahead of block time.
pub fn live(net: &DemoNetwork, rng: &mut StdRng, transactions: usize, now: u64) -> LiveDemo {
    let times = Times {
        expires_at: now + ALLOCATION_LIFETIME_SECS,
        claims_from: now,
        claims_spread_secs: 60,
        monthly: crate::calendar::period(PeriodKind::Monthly, now)
            .as_str()
            .into(),
        quarterly: crate::calendar::period(PeriodKind::Quarterly, now)
            .as_str()
            .into(),
    };
    // One allocation per remaining transaction is always enough.
    let g = generate(net, rng, transactions.saturating_sub(1), &times);
    let mut budget = transactions;
    let mut take = |n: usize| {
        let ok = budget >= n;
        if ok {
            budget -= n;
        }
        ok
    };
    let programs: Vec<SignedTx> = g.programs.into_iter().take_while(|_| take(1)).collect();
    let (mut allocations, mut later) = (Vec::new(), Vec::new());
    for (a, l) in g.allocations.into_iter().zip(g.later) {
        if !take(1) {
            break;
        }
        allocations.push(a);
        if let Some(l) = l
            && take(1)
        {
            later.push(l);
        }
    }
    let mut secrets = secrets(g.pending);
    secrets.truncate(allocations.len());
    let stages = [
        ("programs", programs),
        ("allocations", allocations),
        ("claims, returns and revocations", later),
    ]
    .into_iter()
    .filter(|(_, txs)| !txs.is_empty())
    .map(|(name, txs)| Stage { name, txs })
    .collect();
    LiveDemo { stages, secrets }
}

impl LiveDemo {
    /// Every transaction, stage after stage.
    pub fn len(&self) -> usize {
        self.stages.iter().map(|s| s.txs.len()).sum()
    }

    /// Whether there is nothing to submit.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Receipts of the first `n` committed allocations, given a way to find the leaf index of
    /// an allocation's transaction by its hash.
    pub fn receipts_for(
        &self,
        net: &Network,
        n: usize,
        leaf_of: impl Fn(&Hash) -> Option<LeafIndex>,
    ) -> Vec<DemoReceipt> {
        self.secrets
            .iter()
            .filter_map(|s| Some(s.receipt(net, leaf_of(&s.tx_hash)?)))
            .take(n)
            .collect()
    }
}

/// A deterministic generator for a seed.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bansos_ledger::store::StateRead as _;
    use bansos_ledger::{Ledger, MemoryStore};

    /// Applies blocks through the real rules; every transaction must be accepted.
    fn apply_all(net: &DemoNetwork, blocks: &[Block]) -> Ledger<MemoryStore> {
        let mut ledger = Ledger::open(net.network.clone(), MemoryStore::new()).unwrap();
        for b in blocks {
            let applied = ledger.apply(b).unwrap();
            assert!(
                applied.outcome.rejected.is_empty(),
                "block {}: {:?}",
                b.height,
                applied.outcome.rejected.first()
            );
        }
        ledger
    }

    #[test]
    fn live_demo_has_exactly_n_transactions_that_the_rules_accept_stage_by_stage() {
        let now = 1_798_761_000; // 2026-12-31, late evening UTC
        for n in [0usize, 1, 2, 3, 57, 400] {
            let mut rng = rng(7);
            let net = network(&mut rng, 27_000);
            let live = live(&net, &mut rng, n, now);
            assert_eq!(live.len(), n, "n = {n}");
            assert_eq!(live.is_empty(), n == 0);
            // Each stage in its own block, a few seconds apart, as a running network would.
            let blocks: Vec<Block> = live
                .stages
                .iter()
                .enumerate()
                .map(|(i, s)| Block {
                    height: i as u64 + 1,
                    time: now + 5 + 3 * i as u64,
                    txs: s.txs.clone(),
                })
                .collect();
            let ledger = apply_all(&net, &blocks);
            if n >= 3 {
                assert_eq!(live.stages[0].name, "programs");
                assert_eq!(live.stages[1].name, "allocations");
                let receipts = live.receipts_for(&net.network, 3, |h| {
                    ledger.store().tx_location(h).ok().flatten().map(|l| l.leaf)
                });
                assert!(!receipts.is_empty());
                for r in &receipts {
                    assert_eq!(r.nik.len(), 16);
                    assert!(r.receipt.leaf_index.0 >= 1, "leaf 0 is the program");
                }
            }
        }
    }

    #[test]
    fn larger_networks_add_banks_and_keep_the_first_four() {
        let net = network_of(&mut rng(1), 9_000, VALIDATORS_MAX, &[], &[]);
        let names: Vec<&str> = net
            .network
            .genesis
            .members
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "kemensos", "kemenkeu", "bri", "pos", "bni", "mandiri", "btn", "bsi"
            ]
        );
        assert_eq!(net.network.checkpoint_quorum(), 6);
        assert_eq!(
            net.network.genesis.members[7].p2p_address,
            "/ip4/127.0.0.1/tcp/9007"
        );
        // The four-member network is the same whichever function makes it.
        let a = network(&mut rng(3), 27_000);
        let b = network_of(&mut rng(3), 27_000, VALIDATORS_MIN, &[], &[]);
        assert_eq!(a.genesis_bytes, b.genesis_bytes);
    }
}
