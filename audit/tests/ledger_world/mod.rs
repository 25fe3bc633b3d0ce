//! A small synthetic Bansos Ledger for the audit tests: a genesis with four validators (two
//! ministries, BRI and PT Pos), signed transactions made into leaves in log order, and a mirror
//! directory in the layout of docs/AUDIT.md with a checkpoint signed by chosen validators.
//! Keys come from fixed seeds and every NIK is synthetic, as in the golden vectors.
//!
//! Shared by the unit tests (`src/aggregates.rs` includes it with `#[path]`) and the
//! command-line tests in `tests/`.
#![allow(dead_code)]

use std::path::Path;

use bansos_genesis::{ConsensusTimeouts, Genesis, GenesisProgram, Member, Network, Role};
use bansos_verifier::checkpoint::Checkpoint;
use bansos_verifier::commitment::{self, Nik};
use bansos_verifier::entry::{Allocation, Period, RegionCode};
use bansos_verifier::entry::{
    AllocationId, AmountRule, Channel, Claim, Leaf, MemberId, PeriodKind, ProgramCode,
    ProgramRegistered, Return, ReturnReason, Revocation, RevocationReason, Rupiah, SignedTx,
    TxBody,
};
use bansos_verifier::hash::{Hash, TreeSize, leaf_hash};
use bansos_verifier::merkle;
use bansos_verifier::note::NoteSignature;
use bansos_verifier::tile::{TILE_WIDTH, TileKind, push_bundle_entry, tile_at_size};
use ed25519_dalek::SigningKey;

/// Kementerian Sosial: issues PKH and SEMBAKO.
pub const KEMENSOS: u16 = 0;
/// Kementerian Keuangan: a second ministry.
pub const KEMENKEU: u16 = 1;
/// Bank Rakyat Indonesia: pays SEMBAKO.
pub const BRI: u16 = 2;
/// PT Pos Indonesia: pays PKH.
pub const POS: u16 = 3;

/// The log origin of the test network.
pub const ORIGIN: &str = "ledger.bansos.example/audit-test";
/// 2026-11-02T00:00:00Z (07:00 WIB): the world's clock starts here.
pub const DAY0: u64 = 1_793_577_600;
/// Seconds in an hour.
pub const HOUR: u64 = 3_600;
/// Seconds in a day.
pub const DAY: u64 = 86_400;
/// Expiry of every allocation unless said otherwise.
pub const EXPIRES_AT: u64 = DAY0 + 90 * DAY;

/// SHA-256("bansos-audit/test/" ‖ label), truncated.
pub fn fixed<const N: usize>(label: &str) -> [u8; N] {
    let h = Hash::digest_parts(&[b"bansos-audit/test/", label.as_bytes()]);
    h.0[..N].try_into().expect("N <= 32")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A genesis whose member `i` has the key of seed `seed_base + i`.
pub fn genesis(seed_base: u8) -> (Vec<u8>, Vec<SigningKey>) {
    let members = [
        ("kemensos", "Kementerian Sosial", Role::Ministry),
        ("kemenkeu", "Kementerian Keuangan", Role::Ministry),
        ("bri", "Bank Rakyat Indonesia", Role::Bank),
        ("pos", "PT Pos Indonesia", Role::Bank),
    ];
    let keys: Vec<SigningKey> = (0..members.len())
        .map(|i| SigningKey::from_bytes(&[seed_base + i as u8; 32]))
        .collect();
    let genesis = Genesis {
        format: 1,
        network_name: "audit test".into(),
        origin: ORIGIN.into(),
        members: members
            .iter()
            .zip(&keys)
            .enumerate()
            .map(|(i, ((name, display, role), key))| Member {
                id: MemberId(i as u16),
                name: (*name).into(),
                display_name: (*display).into(),
                role: *role,
                public_key: hex(key.verifying_key().as_bytes()),
                p2p_address: format!("/ip4/127.0.0.1/tcp/{}", 27000 + i),
                voting_power: 1,
            })
            .collect(),
        programs: vec![
            GenesisProgram {
                code: ProgramCode::new("PKH").unwrap(),
                name: "Program Keluarga Harapan".into(),
                issuer: MemberId(KEMENSOS),
                period_kind: PeriodKind::Quarterly,
                amount: AmountRule::Range {
                    min: Rupiah(225_000),
                    max: Rupiah(3_000_000),
                },
            },
            GenesisProgram {
                code: ProgramCode::new("SEMBAKO").unwrap(),
                name: "Program Sembako".into(),
                issuer: MemberId(KEMENSOS),
                period_kind: PeriodKind::Monthly,
                amount: AmountRule::Flat(Rupiah(200_000)),
            },
        ],
        witnesses: Vec::new(),
        witness_quorum: 0,
        consensus: ConsensusTimeouts {
            propose_ms: 1000,
            prevote_ms: 500,
            precommit_ms: 500,
            block_time_drift_ms: 5000,
        },
    };
    (Network::to_file_bytes(&genesis), keys)
}

/// What an allocation is made of; `..AllocSpec::pkh(region)` fills the rest.
#[derive(Clone, Debug)]
pub struct AllocSpec {
    /// Program code.
    pub program: &'static str,
    /// Period.
    pub period: &'static str,
    /// Kabupaten/kota.
    pub region: u16,
    /// Rupiah.
    pub amount: u64,
    /// Paying member.
    pub payer: u16,
    /// Signing ministry.
    pub signer: u16,
    /// The synthetic person (same person, program and period: same dedup tag); default a new one.
    pub person: Option<u64>,
    /// Expiry.
    pub expires_at: u64,
}

impl AllocSpec {
    /// PKH 2026Q4, 750,000 rupiah, paid by Pos.
    pub fn pkh(region: u16) -> AllocSpec {
        AllocSpec {
            program: "PKH",
            period: "2026Q4",
            region,
            amount: 750_000,
            payer: POS,
            signer: KEMENSOS,
            person: None,
            expires_at: EXPIRES_AT,
        }
    }

    /// SEMBAKO 2026-11, 200,000 rupiah, paid by BRI.
    pub fn sembako(region: u16) -> AllocSpec {
        AllocSpec {
            program: "SEMBAKO",
            period: "2026-11",
            amount: 200_000,
            payer: BRI,
            ..AllocSpec::pkh(region)
        }
    }
}

/// An allocation in the log, with what its receipt would carry.
#[derive(Clone, Debug)]
pub struct Alloc {
    /// Its id.
    pub id: AllocationId,
    /// The receipt's claim secret.
    pub secret: [u8; 16],
    /// Its leaf index.
    pub leaf: u64,
    /// How it was made.
    pub spec: AllocSpec,
}

/// A claim's details; [`ClaimSpec::full`] pays the whole allocation where it was allocated.
#[derive(Clone, Debug)]
pub struct ClaimSpec {
    /// Rupiah.
    pub amount: u64,
    /// Unix seconds.
    pub claimed_at: u64,
    /// Where paid.
    pub region: u16,
    /// Outlet pseudonym.
    pub outlet: [u8; 16],
    /// Channel.
    pub channel: Channel,
    /// Recording member.
    pub signer: u16,
    /// The secret presented.
    pub secret: [u8; 16],
}

impl ClaimSpec {
    /// The full amount, in the allocation's region, by its payer, with the right secret, at
    /// `claimed_at` at outlet `outlet`.
    pub fn full(a: &Alloc, claimed_at: u64, outlet: &str) -> ClaimSpec {
        ClaimSpec {
            amount: a.spec.amount,
            claimed_at,
            region: a.spec.region,
            outlet: fixed(&format!("outlet/{outlet}")),
            channel: if a.spec.payer == POS {
                Channel::PosOutlet
            } else {
                Channel::Kks
            },
            signer: a.spec.payer,
            secret: a.secret,
        }
    }
}

/// A log being written.
pub struct World {
    /// The genesis file's bytes.
    pub genesis_bytes: Vec<u8>,
    /// The parsed genesis.
    pub network: Network,
    keys: Vec<SigningKey>,
    /// Leaf bytes in log order.
    pub leaves: Vec<Vec<u8>>,
    /// Block time of the next leaf.
    pub now: u64,
    counter: u64,
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

impl World {
    /// An empty log of the test network, its clock at [`DAY0`].
    pub fn new() -> World {
        let (genesis_bytes, keys) = genesis(1);
        World {
            network: Network::from_bytes(&genesis_bytes).expect("valid test genesis"),
            genesis_bytes,
            keys,
            leaves: Vec::new(),
            now: DAY0,
            counter: 0,
        }
    }

    /// Appends a transaction signed by `signer`; its leaf index.
    pub fn push(&mut self, signer: u16, body: TxBody) -> u64 {
        let tx = SignedTx::sign(
            &self.network.id,
            MemberId(signer),
            body,
            &self.keys[signer as usize],
        )
        .expect("valid body");
        let leaf = Leaf {
            height: self.leaves.len() as u64 + 1,
            block_time: self.now,
            tx,
        };
        self.push_raw(leaf.encode())
    }

    /// Appends leaf bytes as they are (valid or not); its leaf index.
    pub fn push_raw(&mut self, bytes: Vec<u8>) -> u64 {
        self.leaves.push(bytes);
        self.leaves.len() as u64 - 1
    }

    /// Registers a program (the auditor ignores these; they make the log realistic).
    pub fn register(&mut self, code: &str) -> u64 {
        self.push(
            KEMENSOS,
            TxBody::ProgramRegistered(ProgramRegistered {
                code: ProgramCode::new(code).unwrap(),
                name: format!("Program {code}"),
                period_kind: PeriodKind::Monthly,
                amount: AmountRule::Flat(Rupiah(100_000)),
            }),
        )
    }

    /// The allocation body of `spec` with a fresh id, salt and secret.
    pub fn allocation(&mut self, spec: &AllocSpec) -> (Allocation, [u8; 16]) {
        self.counter += 1;
        let n = self.counter;
        let person = spec.person.unwrap_or(n);
        let nik = Nik::parse(&format!("3171014101{person:06}")).expect("synthetic NIK");
        let secret: [u8; 16] = fixed(&format!("claim-secret/{n}"));
        let alloc = Allocation {
            id: AllocationId(fixed(&format!("allocation-id/{n}"))),
            program: ProgramCode::new(spec.program).unwrap(),
            period: Period::new(spec.period).unwrap(),
            region: RegionCode::new(spec.region).unwrap(),
            amount: Rupiah(spec.amount),
            payer: MemberId(spec.payer),
            beneficiary_commitment: commitment::beneficiary_commitment(
                &fixed(&format!("salt/{n}")),
                &nik,
            ),
            dedup_tag: commitment::dedup_tag(
                &fixed("dedup-key/kemensos"),
                spec.program,
                spec.period,
                &nik,
            ),
            claim_lock: commitment::claim_lock(&secret),
            expires_at: spec.expires_at,
        };
        (alloc, secret)
    }

    /// Appends an allocation.
    pub fn allocate(&mut self, spec: AllocSpec) -> Alloc {
        let (body, secret) = self.allocation(&spec);
        let id = body.id;
        let leaf = self.push(spec.signer, TxBody::Allocation(body));
        Alloc {
            id,
            secret,
            leaf,
            spec,
        }
    }

    /// Appends a claim of `id` (recorded in a block a minute after it was paid).
    pub fn claim_id(&mut self, id: AllocationId, c: ClaimSpec) -> u64 {
        self.now = self.now.max(c.claimed_at + 60);
        self.push(
            c.signer,
            TxBody::Claim(Claim {
                allocation: id,
                amount: Rupiah(c.amount),
                channel: c.channel,
                region: RegionCode::new(c.region).unwrap(),
                outlet: c.outlet,
                claim_secret: c.secret,
                claimed_at: c.claimed_at,
            }),
        )
    }

    /// Appends a claim of `a`.
    pub fn claim(&mut self, a: &Alloc, c: ClaimSpec) -> u64 {
        self.claim_id(a.id, c)
    }

    /// Appends a full claim of `a` at `claimed_at` at `outlet`.
    pub fn claim_full(&mut self, a: &Alloc, claimed_at: u64, outlet: &str) -> u64 {
        self.claim(a, ClaimSpec::full(a, claimed_at, outlet))
    }

    /// Appends a return of `a` by `signer`.
    pub fn return_by(&mut self, a: &Alloc, signer: u16) -> u64 {
        self.push(
            signer,
            TxBody::Return(Return {
                allocation: a.id,
                reason: ReturnReason::NotFound,
            }),
        )
    }

    /// Appends a revocation of `a` by `signer`.
    pub fn revoke_by(&mut self, a: &Alloc, signer: u16) -> u64 {
        self.push(
            signer,
            TxBody::Revocation(Revocation {
                allocation: a.id,
                reason: RevocationReason::Ineligible,
            }),
        )
    }

    /// The RFC 6962 root of the log.
    pub fn root(&self) -> Hash {
        let hashes: Vec<Hash> = self.leaves.iter().map(|l| leaf_hash(l)).collect();
        merkle::root(&hashes[..], TreeSize(hashes.len() as u64)).unwrap()
    }

    /// The checkpoint of the log signed by the validators `signers` (their keys of `keys`).
    pub fn checkpoint_note(&self, signers: &[u16], keys: &[SigningKey]) -> Vec<u8> {
        let cp = Checkpoint::new(ORIGIN, TreeSize(self.leaves.len() as u64), self.root());
        let body = cp.body();
        let names = ["kemensos", "kemenkeu", "bri", "pos"];
        cp.to_note(
            signers
                .iter()
                .map(|&i| NoteSignature::sign(names[i as usize], &keys[i as usize], &body)),
        )
        .to_bytes()
    }

    /// Writes the mirror layout's checkpoint (signed by `signers`) and entry bundles to `dir`.
    /// (Hash tiles are left out: the aggregates never read them.)
    pub fn write_mirror(&self, dir: &Path, signers: &[u16]) {
        let size = TreeSize(self.leaves.len() as u64);
        for n in 0..size.0.div_ceil(TILE_WIDTH) {
            let tile = tile_at_size(TileKind::Entries, n, size).unwrap();
            let mut bundle = Vec::new();
            let start = (n * TILE_WIDTH) as usize;
            for leaf in &self.leaves[start..start + tile.width as usize] {
                push_bundle_entry(&mut bundle, leaf).unwrap();
            }
            let path = dir.join(tile.path());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bundle).unwrap();
        }
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("checkpoint"),
            self.checkpoint_note(signers, &self.keys),
        )
        .unwrap();
    }
}

/// Unix seconds of `hour`:`minute` local time on day `day` after [`DAY0`] in a zone `offset_hours`
/// ahead of UTC.
pub fn local(day: u64, hour: u64, minute: u64, offset_hours: u64) -> u64 {
    DAY0 + day * DAY + hour * HOUR + minute * 60 - offset_hours * HOUR
}

/// Expected totals of a log, tallied as it is built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Allocations.
    pub allocations: u64,
    /// Rupiah allocated.
    pub allocated: u64,
    /// Claims.
    pub claims: u64,
    /// Rupiah claimed.
    pub claimed: u64,
    /// Returns.
    pub returns: u64,
    /// Rupiah returned.
    pub returned: u64,
    /// Revocations.
    pub revocations: u64,
    /// Rupiah revoked.
    pub revoked: u64,
}

/// Regions of the clean world, one per time zone: Jakarta Selatan (WIB), Denpasar (WITA),
/// Jayapura (WIT), with their UTC offsets.
pub const CLEAN_REGIONS: [(u16, u64); 3] = [(3174, 7), (5171, 8), (9171, 9)];
/// Allocations per (program, region) in the clean world.
pub const CLEAN_PER_GROUP: u64 = 25;

/// A log with nothing to flag: in each of [`CLEAN_REGIONS`], 25 PKH and 25 SEMBAKO
/// allocations; 20 of each claimed in full, one an hour from 08:00 to 16:00 local time over
/// three days, at one outlet per (program, region); 3 returned, 2 revoked. Over 256 entries, so
/// the mirror has a full and a partial bundle.
pub fn clean_world() -> (World, Tally) {
    let mut w = World::new();
    let mut t = Tally::default();
    w.register("BLT");
    let mut allocs = Vec::new();
    for (region, offset) in CLEAN_REGIONS {
        for spec in [AllocSpec::pkh(region), AllocSpec::sembako(region)] {
            for _ in 0..CLEAN_PER_GROUP {
                let a = w.allocate(spec.clone());
                t.allocations += 1;
                t.allocated += a.spec.amount;
                allocs.push((a, offset));
            }
        }
    }
    w.now = DAY0 + HOUR;
    for (k, (a, offset)) in allocs.iter().enumerate() {
        let k = k as u64 % CLEAN_PER_GROUP;
        let outlet = format!("{}-{}", a.spec.program, a.spec.region);
        if k < 20 {
            w.claim_full(a, local(1 + k / 9, 8 + k % 9, 5, *offset), &outlet);
            t.claims += 1;
            t.claimed += a.spec.amount;
        } else if k < 23 {
            w.return_by(a, a.spec.payer);
            t.returns += 1;
            t.returned += a.spec.amount;
        } else {
            w.revoke_by(a, KEMENSOS);
            t.revocations += 1;
            t.revoked += a.spec.amount;
        }
    }
    (w, t)
}
