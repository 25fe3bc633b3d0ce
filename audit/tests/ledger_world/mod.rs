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
use bansos_verifier::governance::{
    Change, KEY_HISTORY_FORMAT, KeyHistoryFile, KeyRotation, Link, NewMember, Role as GovRole, Vote,
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
    /// The block height of the next leaves; `None`: each leaf in a block of its own (height
    /// = index + 1).
    pub block: Option<u64>,
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
            block: None,
            counter: 0,
        }
    }

    /// Genesis member `member`'s key.
    pub fn key(&self, member: u16) -> &SigningKey {
        &self.keys[member as usize]
    }

    /// Appends a transaction signed by `signer`; its leaf index.
    pub fn push(&mut self, signer: u16, body: TxBody) -> u64 {
        let key = self.keys[signer as usize].clone();
        self.push_with(signer, body, &key)
    }

    /// Appends a transaction naming `signer`, signed with `key`; its leaf index.
    pub fn push_with(&mut self, signer: u16, body: TxBody, key: &SigningKey) -> u64 {
        let tx = SignedTx::sign(&self.network.id, MemberId(signer), body, key).expect("valid body");
        self.push_tx(tx)
    }

    /// Appends a signed transaction; its leaf index.
    pub fn push_tx(&mut self, tx: SignedTx) -> u64 {
        let leaf = Leaf {
            height: self.block.unwrap_or(self.leaves.len() as u64 + 1),
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
        self.root_at(self.leaves.len() as u64)
    }

    /// The RFC 6962 root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Hash {
        let hashes: Vec<Hash> = self.leaves[..size as usize]
            .iter()
            .map(|l| leaf_hash(l))
            .collect();
        merkle::root(&hashes[..], TreeSize(size)).unwrap()
    }

    /// The checkpoint of the log signed by the validators `signers` (their keys of `keys`).
    pub fn checkpoint_note(&self, signers: &[u16], keys: &[SigningKey]) -> Vec<u8> {
        let names = ["kemensos", "kemenkeu", "bri", "pos"];
        let named: Vec<(&str, &SigningKey)> = signers
            .iter()
            .map(|&i| (names[i as usize], &keys[i as usize]))
            .collect();
        self.checkpoint_at(self.leaves.len() as u64, &named)
    }

    /// The checkpoint of the first `size` leaves signed by the named keys.
    pub fn checkpoint_at(&self, size: u64, signers: &[(&str, &SigningKey)]) -> Vec<u8> {
        let cp = Checkpoint::new(ORIGIN, TreeSize(size), self.root_at(size));
        let body = cp.body();
        cp.to_note(
            signers
                .iter()
                .map(|(name, key)| NoteSignature::sign(name, key, &body)),
        )
        .to_bytes()
    }

    /// Every hash tile and entry bundle of the log, by C2SP path, and `checkpoint` (as a node
    /// serves them).
    pub fn tiles(&self, checkpoint: Vec<u8>) -> std::collections::BTreeMap<String, Vec<u8>> {
        use bansos_verifier::tile::{TileRef, full_tile_root};
        let mut files = std::collections::BTreeMap::new();
        let mut hashes: Vec<Hash> = self.leaves.iter().map(|l| leaf_hash(l)).collect();
        let mut level = 0u8;
        while !hashes.is_empty() {
            for (n, chunk) in hashes.chunks(TILE_WIDTH as usize).enumerate() {
                let bytes: Vec<u8> = chunk.iter().flat_map(|h| h.0).collect();
                let t = TileRef::hash(level, n as u64, chunk.len() as u16);
                files.insert(t.path(), bytes);
            }
            hashes = hashes
                .chunks_exact(TILE_WIDTH as usize)
                .map(full_tile_root)
                .collect();
            level += 1;
        }
        for (n, chunk) in self.leaves.chunks(TILE_WIDTH as usize).enumerate() {
            let mut bundle = Vec::new();
            for leaf in chunk {
                push_bundle_entry(&mut bundle, leaf).unwrap();
            }
            files.insert(
                TileRef::entries(n as u64, chunk.len() as u16).path(),
                bundle,
            );
        }
        files.insert("checkpoint".into(), checkpoint);
        files
    }

    /// Writes the mirror layout's checkpoint (signed by `signers`) and entry bundles to `dir`.
    /// (Hash tiles are left out: the aggregates never read them.)
    pub fn write_mirror(&self, dir: &Path, signers: &[u16]) {
        self.write_mirror_with(dir, self.checkpoint_note(signers, &self.keys));
    }

    /// The same, with the checkpoint note `checkpoint`.
    pub fn write_mirror_with(&self, dir: &Path, checkpoint: Vec<u8>) {
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
        std::fs::write(dir.join("checkpoint"), checkpoint).unwrap();
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

// ---------------------------------------------------------------------------------------------
// Governance

/// Bank Sembilan, the member epoch 1 adds (id 4).
pub const BANK9: u16 = 4;

/// A key from a fixed seed, for members governance adds or rotates to.
pub fn extra_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Change: a validator joins (a bank, power 1).
pub fn add_member(name: &str, key: &SigningKey, power: u64) -> Change {
    Change::AddMember(NewMember {
        name: name.into(),
        display_name: format!("Bank {name}"),
        role: if power > 0 {
            GovRole::Bank
        } else {
            GovRole::Auditor
        },
        public_key: key.verifying_key().to_bytes(),
        p2p_address: "/ip4/127.0.0.1/tcp/27009".into(),
        voting_power: power,
    })
}

/// A vote's body.
pub fn vote(epoch: u64, change: &Change) -> TxBody {
    TxBody::Vote(Vote {
        epoch,
        change: change.clone(),
    })
}

impl World {
    /// A key history link: `change` starting `epoch`, approved by the votes at `vote_leaves`,
    /// its epoch starting at log size `start`, its first checkpoint signed by `signers`.
    pub fn link(
        &self,
        epoch: u64,
        change: &Change,
        vote_leaves: &[u64],
        start: u64,
        signers: &[(&str, &SigningKey)],
    ) -> Link {
        Link {
            epoch,
            change: hex(&change.to_bytes()),
            votes: vote_leaves
                .iter()
                .map(|&i| hex(&Leaf::decode(&self.leaves[i as usize]).unwrap().tx.encode()))
                .collect(),
            checkpoint: String::from_utf8(self.checkpoint_at(start, signers)).unwrap(),
        }
    }

    /// The key history document of `links`.
    pub fn history(&self, links: Vec<Link>) -> Vec<u8> {
        serde_json::to_vec(&KeyHistoryFile {
            format: KEY_HISTORY_FORMAT.into(),
            network_id: Some(self.network.id),
            links,
        })
        .unwrap()
    }
}

/// A log whose members changed three times, with an entry for every governance rule.
pub struct Governed {
    /// The log.
    pub world: World,
    /// The key history of its three changes.
    pub history: Vec<u8>,
    /// Its links.
    pub links: Vec<Link>,
    /// The checkpoint of the whole log, signed by the validators of epoch 3.
    pub checkpoint: Vec<u8>,
    /// Where each epoch starts (index 0: epoch 1).
    pub starts: [u64; 3],
    /// The approving vote of each change.
    pub approving: [u64; 3],
    /// The entries each rule flags: (rule, entries).
    pub flagged: Vec<(&'static str, Vec<u64>)>,
    /// Entries by members added or with rotated keys that are valid.
    pub valid: Vec<u64>,
}

/// Epoch 1 adds Bank Sembilan (`bank9`, id 4, key seed 50); epoch 2 rotates BRI's key (to
/// seed 60); epoch 3 removes Kemenkeu. Around them: an entry by `bank9` before it joined, an
/// allocation to it as payer before it joined (both flagged) and after (valid, with its claim);
/// BRI signing with its old key after the rotation (flagged) and its new one (valid); Kemenkeu
/// signing after its removal; and one vote for each rule that refuses votes.
pub fn governed_world() -> Governed {
    let mut w = World::new();
    let mut flagged = Vec::new();
    let mut valid = Vec::new();
    let (bank9, bri_new) = (extra_key(50), extra_key(60));
    let add = add_member("bank9", &bank9, 1);
    let rotate = Change::RotateKey(KeyRotation::sign(
        &w.network.id,
        MemberId(BRI),
        &bri_new,
        Some(w.key(BRI)),
    ));
    let remove = Change::RemoveMember {
        member: MemberId(KEMENKEU),
    };
    let by_bri = w.allocate(AllocSpec::sembako(3174));

    // Epoch 0.
    let early = w.push_with(
        BANK9,
        TxBody::ProgramRegistered(ProgramRegistered {
            code: ProgramCode::new("EARLY").unwrap(),
            name: "too early".into(),
            period_kind: PeriodKind::Monthly,
            amount: AmountRule::Flat(Rupiah(100_000)),
        }),
        &bank9,
    );
    flagged.push(("bad_signature", vec![early]));
    let early_payer = w
        .allocate(AllocSpec {
            payer: BANK9,
            ..AllocSpec::sembako(3174)
        })
        .leaf;
    flagged.push(("payer_not_bank", vec![early_payer]));
    let v1 = [
        w.push(KEMENSOS, vote(0, &add)),
        w.push(KEMENKEU, vote(0, &add)),
    ];
    w.block = Some(w.leaves.len() as u64 + 1);
    let approving_1 = w.push(BRI, vote(0, &add));
    let after = w.push(POS, vote(0, &add));
    flagged.push(("vote_after_approval", vec![approving_1, after]));
    w.block = None;
    let start_1 = w.leaves.len() as u64;

    // Epoch 1: five validators.
    let paid_by_9 = w.allocate(AllocSpec {
        payer: BANK9,
        ..AllocSpec::sembako(3174)
    });
    valid.push(paid_by_9.leaf);
    let mut claim = ClaimSpec::full(&paid_by_9, DAY0 + 2 * HOUR, "bank9");
    claim.signer = BANK9;
    w.now = w.now.max(claim.claimed_at + 60);
    let claim_9 = w.push_with(
        BANK9,
        TxBody::Claim(Claim {
            allocation: paid_by_9.id,
            amount: Rupiah(claim.amount),
            channel: claim.channel,
            region: RegionCode::new(claim.region).unwrap(),
            outlet: claim.outlet,
            claim_secret: claim.secret,
            claimed_at: claim.claimed_at,
        }),
        &bank9,
    );
    valid.push(claim_9);
    let stale = w.push(POS, vote(0, &rotate));
    flagged.push(("vote_wrong_epoch", vec![stale]));
    let v2 = [
        w.push(KEMENSOS, vote(1, &rotate)),
        w.push(KEMENKEU, vote(1, &rotate)),
        w.push(POS, vote(1, &rotate)),
    ];
    let approving_2 = w.push_with(BANK9, vote(1, &rotate), &bank9);
    let start_2 = w.leaves.len() as u64;

    // Epoch 2: BRI's new key.
    let old_key = w.register("OLDKEY");
    let mut leaf = Leaf::decode(&w.leaves[old_key as usize]).unwrap();
    leaf.tx = SignedTx::sign(&w.network.id, MemberId(BRI), leaf.tx.body, w.key(BRI)).unwrap();
    w.leaves[old_key as usize] = leaf.encode();
    flagged.push(("bad_signature", vec![old_key, approving_2]));
    let new_key = w.push_with(
        BRI,
        TxBody::Return(Return {
            allocation: by_bri.id,
            reason: ReturnReason::NotFound,
        }),
        &bri_new,
    );
    valid.push(new_key);
    let first = w.push(KEMENSOS, vote(2, &remove));
    let again = w.push(KEMENSOS, vote(2, &remove));
    flagged.push(("vote_duplicate", vec![first, again]));
    let v3 = [
        first,
        w.push_with(BRI, vote(2, &remove), &bri_new),
        w.push(POS, vote(2, &remove)),
    ];
    let approving_3 = w.push_with(BANK9, vote(2, &remove), &bank9);
    let start_3 = w.leaves.len() as u64;

    // Epoch 3: Kemenkeu is gone.
    let late = w.register("LATE");
    let mut leaf = Leaf::decode(&w.leaves[late as usize]).unwrap();
    leaf.tx = SignedTx::sign(
        &w.network.id,
        MemberId(KEMENKEU),
        leaf.tx.body,
        w.key(KEMENKEU),
    )
    .unwrap();
    w.leaves[late as usize] = leaf.encode();
    flagged.push(("removed_member_signed", vec![late, approving_3]));
    let unknown = w.push(
        KEMENSOS,
        vote(
            3,
            &Change::RemoveMember {
                member: MemberId(9),
            },
        ),
    );
    flagged.push(("vote_bad_change", vec![unknown]));
    let height = w.leaves.len() as u64 + 1;
    let soon = w.push(
        KEMENSOS,
        vote(
            3,
            &Change::ScheduleUpgrade {
                height,
                rules_version: 2,
            },
        ),
    );
    flagged.push(("vote_upgrade_too_soon", vec![soon]));

    let (k0, k1, k3) = (
        w.key(KEMENSOS).clone(),
        w.key(KEMENKEU).clone(),
        w.key(POS).clone(),
    );
    let k2 = w.key(BRI).clone();
    let links = vec![
        w.link(
            1,
            &add,
            &[v1[0], v1[1], approving_1],
            start_1,
            &[
                ("kemensos", &k0),
                ("kemenkeu", &k1),
                ("bri", &k2),
                ("bank9", &bank9),
            ],
        ),
        w.link(
            2,
            &rotate,
            &[v2[0], v2[1], v2[2], approving_2],
            start_2,
            &[
                ("kemensos", &k0),
                ("kemenkeu", &k1),
                ("bri", &bri_new),
                ("pos", &k3),
            ],
        ),
        w.link(
            3,
            &remove,
            &[v3[0], v3[1], v3[2], approving_3],
            start_3,
            &[("kemensos", &k0), ("bri", &bri_new), ("pos", &k3)],
        ),
    ];
    let checkpoint = w.checkpoint_at(
        w.leaves.len() as u64,
        &[("kemensos", &k0), ("bri", &bri_new), ("bank9", &bank9)],
    );
    Governed {
        history: w.history(links.clone()),
        links,
        checkpoint,
        starts: [start_1, start_2, start_3],
        approving: [approving_1, approving_2, approving_3],
        flagged,
        valid,
        world: w,
    }
}

/// A node or a mirror serving `files` and answering 404 for anything else.
pub struct Served(pub std::collections::BTreeMap<String, Vec<u8>>);

impl bansos_verify::audit::Fetch for Served {
    fn get(&self, path: &str, _bytes_max: u64) -> bansos_verify::failure::Outcome<Option<Vec<u8>>> {
        Ok(self.0.get(path).cloned())
    }
}

/// Another change for epoch 1 than [`governed_world`]'s, voted by the same three genesis
/// validators and with its own first checkpoint (of size `start`, signed by its new roster):
/// a key history that holds up from the genesis keys and disagrees with the log's.
pub fn conflicting_link(w: &World, start: u64) -> Link {
    let bank8 = extra_key(51);
    let other = add_member("bank8", &bank8, 1);
    let votes = [KEMENSOS, KEMENKEU, BRI]
        .iter()
        .map(|&m| {
            let tx = SignedTx::sign(&w.network.id, MemberId(m), vote(0, &other), w.key(m)).unwrap();
            hex(&tx.encode())
        })
        .collect();
    let k: Vec<SigningKey> = (0..3).map(|m| w.key(m).clone()).collect();
    Link {
        epoch: 1,
        change: hex(&other.to_bytes()),
        votes,
        checkpoint: String::from_utf8(w.checkpoint_at(
            start,
            &[
                ("kemensos", &k[0]),
                ("kemenkeu", &k[1]),
                ("bri", &k[2]),
                ("bank8", &bank8),
            ],
        ))
        .unwrap(),
    }
}
