//! Demo network and data generation. Deterministic for a given seed.

use bansos_genesis::{ConsensusTimeouts, Genesis, GenesisProgram, Member, Network, Role};
use bansos_ledger::rules::Block;
use bansos_verifier::commitment::{Nik, beneficiary_commitment, claim_lock, dedup_tag};
use bansos_verifier::entry::*;
use bansos_verifier::hash::LeafIndex;
use bansos_verifier::receipt::{Receipt, network_tag};
use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Population by kabupaten/kota, embedded so the demo needs no outside file.
const POPULATION_CSV: &str = include_str!("../data/population.csv");
/// Transactions per demo block.
pub const DEMO_BLOCK_TXS: usize = 500;
/// First demo block time: 2026-11-02 08:00 WIB.
pub const DEMO_START_TIME: u64 = 1_794_013_200;

/// The demo members: (name, display name, role).
pub const MEMBERS: [(&str, &str, Role); 4] = [
    ("kemensos", "Kementerian Sosial", Role::Ministry),
    ("kemenkeu", "Kementerian Keuangan", Role::Ministry),
    ("bri", "Bank Rakyat Indonesia", Role::Bank),
    ("pos", "PT Pos Indonesia", Role::Bank),
];
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

/// Makes a demo network with fresh keys drawn from `rng`.
pub fn network(rng: &mut StdRng, base_port: u16) -> DemoNetwork {
    let keys: Vec<SigningKey> = MEMBERS
        .iter()
        .map(|_| SigningKey::from_bytes(&rng.random()))
        .collect();
    let members = MEMBERS
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, ((name, display, role), k))| Member {
            id: MemberId(i as u16),
            name: name.to_string(),
            display_name: display.to_string(),
            role: *role,
            public_key: data_encoding::HEXLOWER.encode(k.verifying_key().as_bytes()),
            p2p_address: format!("/ip4/127.0.0.1/tcp/{}", base_port + i as u16),
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
        consensus: ConsensusTimeouts {
            propose_ms: 1000,
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
    salt: [u8; 32],
    secret: [u8; 16],
    nik: String,
}

/// The demo's blocks and a few receipts, for `allocations` allocations.
pub struct DemoData {
    /// Blocks in order, starting at height 1.
    pub blocks: Vec<Block>,
    /// Receipts of some allocations (leaf indexes filled in by [`DemoData::receipts_for`]).
    secrets: Vec<(AllocationId, [u8; 32], [u8; 16], String)>,
}

fn pick_region(rng: &mut StdRng, regions: &[(RegionCode, u64)], total: u64) -> RegionCode {
    let mut x = rng.random_range(0..total);
    for (r, pop) in regions {
        if x < *pop {
            return *r;
        }
        x -= pop;
    }
    regions.last().expect("regions").0
}

/// Generates the demo's transactions as blocks.
pub fn data(net: &DemoNetwork, rng: &mut StdRng, allocations: usize) -> DemoData {
    let regions = regions();
    let total: u64 = regions.iter().map(|r| r.1).sum();
    let id = &net.network.id;
    let sign = |signer: MemberId, body| {
        SignedTx::sign(id, signer, body, &net.keys[signer.0 as usize])
            .expect("demo transactions are valid")
    };
    let mut txs: Vec<SignedTx> = vec![sign(
        KEMENKEU,
        TxBody::ProgramRegistered(ProgramRegistered {
            code: ProgramCode::new("BLT").expect("valid"),
            name: "Bantuan Langsung Tunai".into(),
            period_kind: PeriodKind::Monthly,
            amount: AmountRule::Flat(Rupiah(600_000)),
        }),
    )];
    let expires_at = DEMO_START_TIME + 90 * 86_400;
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
                "2026Q4",
                [750_000u64, 900_000, 600_000, 2_400_000][rng.random_range(0..4)],
            ),
            4..=7 => ("SEMBAKO", KEMENSOS, "2026-11", 200_000),
            _ => ("BLT", KEMENKEU, "2026-11", 600_000),
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
            expires_at,
        };
        txs.push(sign(issuer, TxBody::Allocation(a.clone())));
        pending.push(Pending {
            allocation: a,
            salt,
            secret,
            nik,
        });
    }
    // Claims (about three in four, a few partial), returns and revocations of the rest.
    let mut later = Vec::new();
    for p in &pending {
        let a = &p.allocation;
        let roll = rng.random_range(0..100u32);
        if roll < 75 {
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
                claimed_at: DEMO_START_TIME + 3_600 + rng.random_range(0..7_200),
            };
            later.push(sign(a.payer, TxBody::Claim(claim)));
        } else if roll < 76 {
            later.push(sign(
                a.payer,
                TxBody::Return(Return {
                    allocation: a.id,
                    reason: ReturnReason::NotFound,
                }),
            ));
        } else if roll < 77 {
            let issuer = if a.program.as_str() == "BLT" {
                KEMENKEU
            } else {
                KEMENSOS
            };
            later.push(sign(
                issuer,
                TxBody::Revocation(Revocation {
                    allocation: a.id,
                    reason: RevocationReason::Ineligible,
                }),
            ));
        }
    }
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
    let secrets = pending
        .into_iter()
        .map(|p| (p.allocation.id, p.salt, p.secret, p.nik))
        .collect();
    DemoData { blocks, secrets }
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
            .filter_map(|(id, salt, secret, nik)| {
                Some(DemoReceipt {
                    receipt: Receipt {
                        network_tag: network_tag(&net.id),
                        leaf_index: leaf_of(id)?,
                        allocation: *id,
                        salt: *salt,
                        claim_secret: *secret,
                    },
                    nik: nik.clone(),
                })
            })
            .take(n)
            .collect()
    }
}

/// A deterministic generator for a seed.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}
