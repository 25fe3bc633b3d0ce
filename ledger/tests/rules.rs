//! Every ledger rule, accepting and rejecting, on a small network of two ministries, two
//! payers and an auditor.

use bansos_genesis::{ConsensusTimeouts, Genesis, GenesisProgram, Member, Network, Role};
use bansos_ledger::rules::{Block, BlockError, Rejection};
use bansos_ledger::store::{AllocationStatus, StateRead};
use bansos_ledger::{Ledger, LedgerError, MemoryStore};
use bansos_verifier::commitment::{Nik, beneficiary_commitment, claim_lock, dedup_tag};
use bansos_verifier::entry::*;
use bansos_verifier::hash::{Hash, LeafIndex};
use ed25519_dalek::SigningKey;

const KEMENSOS: MemberId = MemberId(0);
const KEMENKEU: MemberId = MemberId(1);
const BRI: MemberId = MemberId(2);
const POS: MemberId = MemberId(3);
const BPK: MemberId = MemberId(4);
const T0: u64 = 1_790_000_000; // block time of the first block
const DAY: u64 = 86_400;

fn key(m: MemberId) -> SigningKey {
    SigningKey::from_bytes(&[m.0 as u8 + 1; 32])
}

fn network() -> Network {
    let members = [
        ("kemensos", Role::Ministry),
        ("kemenkeu", Role::Ministry),
        ("bri", Role::Bank),
        ("pos", Role::Bank),
        ("bpk", Role::Auditor),
    ];
    let genesis = Genesis {
        format: 1,
        network_name: "rules test".into(),
        origin: "ledger.bansos.example/rules-test".into(),
        members: members
            .iter()
            .enumerate()
            .map(|(i, (name, role))| Member {
                id: MemberId(i as u16),
                name: name.to_string(),
                display_name: name.to_uppercase(),
                role: *role,
                public_key: key(MemberId(i as u16))
                    .verifying_key()
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
                p2p_address: format!("/ip4/127.0.0.1/tcp/{}", 27000 + i),
                voting_power: 1,
            })
            .collect(),
        programs: vec![GenesisProgram {
            code: ProgramCode::new("PKH").unwrap(),
            name: "Program Keluarga Harapan".into(),
            issuer: KEMENSOS,
            period_kind: PeriodKind::Quarterly,
            amount: AmountRule::Range {
                min: Rupiah(225_000),
                max: Rupiah(3_000_000),
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
    };
    Network::from_bytes(&Network::to_file_bytes(&genesis)).unwrap()
}

struct World {
    ledger: Ledger<MemoryStore>,
    height: u64,
    time: u64,
}

/// A beneficiary's allocation with the receipt secrets.
#[derive(Clone)]
struct Given {
    allocation: Allocation,
    secret: [u8; 16],
}

impl World {
    fn new() -> World {
        World {
            ledger: Ledger::open(network(), MemoryStore::new()).unwrap(),
            height: 0,
            time: T0,
        }
    }

    fn sign(&self, signer: MemberId, body: TxBody) -> SignedTx {
        SignedTx::sign(&self.ledger.network().id, signer, body, &key(signer)).unwrap()
    }

    /// Commits one block; returns each transaction's rejection (None = accepted).
    fn block(&mut self, txs: Vec<SignedTx>) -> Vec<Option<Rejection>> {
        self.height += 1;
        let block = Block {
            height: self.height,
            time: self.time,
            txs: txs.clone(),
        };
        let applied = self.ledger.apply(&block).unwrap();
        txs.iter()
            .map(|tx| {
                let h = tx.hash();
                // The first verdict for this hash in the block (a duplicate appears twice).
                if let Some(pos) = applied.outcome.rejected.iter().position(|(rh, _)| *rh == h)
                    && !applied.outcome.accepted.iter().any(|a| a.hash == h)
                {
                    return Some(applied.outcome.rejected[pos].1.clone());
                }
                None
            })
            .collect()
    }

    fn one(&mut self, tx: SignedTx) -> Option<Rejection> {
        self.block(vec![tx]).pop().unwrap()
    }

    fn allocation(
        &self,
        n: u8,
        program: &str,
        period: &str,
        amount: u64,
        payer: MemberId,
    ) -> Given {
        let nik = Nik::parse(&format!("3171014101900{n:03}")).unwrap();
        let salt = [n; 32];
        let secret = [n ^ 0x5a; 16];
        Given {
            allocation: Allocation {
                id: AllocationId([n; 16]),
                program: ProgramCode::new(program).unwrap(),
                period: Period::new(period).unwrap(),
                region: RegionCode::new(3171).unwrap(),
                amount: Rupiah(amount),
                payer,
                beneficiary_commitment: beneficiary_commitment(&salt, &nik),
                dedup_tag: dedup_tag(&[0x77; 32], program, period, &nik),
                claim_lock: claim_lock(&secret),
                expires_at: T0 + 30 * DAY,
            },
            secret,
        }
    }

    fn allocate(&mut self, g: &Given) -> Option<Rejection> {
        let tx = self.sign(KEMENSOS, TxBody::Allocation(g.allocation.clone()));
        self.one(tx)
    }

    fn claim_tx(&self, g: &Given, amount: u64, by: MemberId) -> SignedTx {
        self.sign(
            by,
            TxBody::Claim(Claim {
                allocation: g.allocation.id,
                amount: Rupiah(amount),
                channel: Channel::PosOutlet,
                region: RegionCode::new(3171).unwrap(),
                outlet: [3; 16],
                claim_secret: g.secret,
                claimed_at: self.time,
            }),
        )
    }

    fn status(&self, g: &Given) -> (AllocationStatus, u64) {
        let s = self
            .ledger
            .store()
            .allocation(&g.allocation.id)
            .unwrap()
            .unwrap();
        (s.status, s.claimed.0)
    }
}

fn program(code: &str, amount: AmountRule) -> TxBody {
    TxBody::ProgramRegistered(ProgramRegistered {
        code: ProgramCode::new(code).unwrap(),
        name: format!("Program {code}"),
        period_kind: PeriodKind::Monthly,
        amount,
    })
}

#[test]
fn programs_are_registered_by_ministries_once() {
    let mut w = World::new();
    let blt = program("BLT", AmountRule::Flat(Rupiah(600_000)));
    assert_eq!(w.one(w.sign(KEMENKEU, blt.clone())), None);
    assert_eq!(
        w.one(w.sign(KEMENSOS, blt)),
        Some(Rejection::ProgramExists("BLT".into()))
    );
    assert_eq!(
        w.one(w.sign(KEMENSOS, program("PKH", AmountRule::Flat(Rupiah(1))))),
        Some(Rejection::ProgramExists("PKH".into()))
    );
    assert_eq!(
        w.one(w.sign(BRI, program("SEMBAKO", AmountRule::Flat(Rupiah(200_000))))),
        Some(Rejection::RoleNotAllowed {
            role: "bank",
            kind: "program_registered"
        })
    );
    // The registered program is usable, by its issuer only.
    let mut g = w.allocation(1, "BLT", "2026-11", 600_000, BRI);
    assert_eq!(
        w.allocate(&g),
        Some(Rejection::NotProgramIssuer("BLT".into()))
    );
    g.allocation.id = AllocationId([99; 16]);
    let tx = w.sign(KEMENKEU, TxBody::Allocation(g.allocation.clone()));
    assert_eq!(w.one(tx), None);
}

#[test]
fn allocation_rules() {
    let mut w = World::new();
    let good = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    assert_eq!(w.allocate(&good), None);

    let mut unknown = w.allocation(2, "PKH", "2026Q4", 750_000, BRI);
    unknown.allocation.program = ProgramCode::new("NOPE").unwrap();
    assert_eq!(
        w.allocate(&unknown),
        Some(Rejection::UnknownProgram("NOPE".into()))
    );

    let monthly = w.allocation(3, "PKH", "2026-11", 750_000, BRI);
    assert!(matches!(
        w.allocate(&monthly),
        Some(Rejection::WrongPeriod { .. })
    ));

    let too_much = w.allocation(4, "PKH", "2026Q4", 3_000_001, BRI);
    assert_eq!(
        w.allocate(&too_much),
        Some(Rejection::AmountOutsideRule {
            amount: 3_000_001,
            program: "PKH".into()
        })
    );
    let too_little = w.allocation(5, "PKH", "2026Q4", 224_999, BRI);
    assert!(matches!(
        w.allocate(&too_little),
        Some(Rejection::AmountOutsideRule { .. })
    ));

    let to_ministry = w.allocation(6, "PKH", "2026Q4", 750_000, KEMENKEU);
    assert_eq!(w.allocate(&to_ministry), Some(Rejection::BadPayer(1)));
    let to_nobody = w.allocation(7, "PKH", "2026Q4", 750_000, MemberId(40));
    assert_eq!(w.allocate(&to_nobody), Some(Rejection::BadPayer(40)));

    let mut stale = w.allocation(8, "PKH", "2026Q4", 750_000, BRI);
    stale.allocation.expires_at = T0;
    assert!(matches!(
        w.allocate(&stale),
        Some(Rejection::ExpiresInPast { .. })
    ));

    let mut same_id = w.allocation(9, "PKH", "2026Q4", 750_000, BRI);
    same_id.allocation.id = good.allocation.id;
    assert_eq!(
        w.allocate(&same_id),
        Some(Rejection::AllocationIdTaken(good.allocation.id.to_hex()))
    );

    // Same person (same dedup tag), same program and period: rejected without saying who.
    let mut twin = w.allocation(10, "PKH", "2026Q4", 750_000, BRI);
    twin.allocation.dedup_tag = good.allocation.dedup_tag;
    assert_eq!(
        w.allocate(&twin),
        Some(Rejection::DuplicateBeneficiary {
            program: "PKH".into(),
            period: "2026Q4".into()
        })
    );
    // Same person in another period is fine.
    let mut next_quarter = w.allocation(11, "PKH", "2027Q1", 750_000, BRI);
    next_quarter.allocation.dedup_tag = good.allocation.dedup_tag;
    assert_eq!(w.allocate(&next_quarter), None);

    let by_bank = w.sign(
        BRI,
        TxBody::Allocation(w.allocation(12, "PKH", "2026Q4", 750_000, BRI).allocation),
    );
    assert_eq!(
        w.one(by_bank),
        Some(Rejection::RoleNotAllowed {
            role: "bank",
            kind: "allocation"
        })
    );
    let by_auditor = w.sign(
        BPK,
        TxBody::Allocation(w.allocation(13, "PKH", "2026Q4", 750_000, BRI).allocation),
    );
    assert_eq!(
        w.one(by_auditor),
        Some(Rejection::RoleNotAllowed {
            role: "auditor",
            kind: "allocation"
        })
    );
}

#[test]
fn claim_rules() {
    let mut w = World::new();
    let g = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    assert_eq!(w.allocate(&g), None);

    let mut wrong_secret = g.clone();
    wrong_secret.secret = [0; 16];
    let tx = w.claim_tx(&wrong_secret, 750_000, BRI);
    assert_eq!(
        w.one(tx),
        Some(Rejection::WrongClaimSecret(g.allocation.id.to_hex()))
    );
    let tx = w.claim_tx(&g, 750_000, POS);
    assert_eq!(
        w.one(tx),
        Some(Rejection::NotPayer(g.allocation.id.to_hex()))
    );
    let tx = w.claim_tx(&g, 750_000, KEMENSOS);
    assert_eq!(
        w.one(tx),
        Some(Rejection::RoleNotAllowed {
            role: "ministry",
            kind: "claim"
        })
    );
    let tx = w.claim_tx(&g, 750_001, BRI);
    assert_eq!(
        w.one(tx),
        Some(Rejection::OverClaim {
            allocated: 750_000,
            claimed: 0,
            requested: 750_001
        })
    );
    let mut future = w.claim_tx(&g, 1, BRI);
    if let TxBody::Claim(c) = &mut future.body {
        c.claimed_at = w.time + 301;
    }
    let future = w.sign(BRI, future.body);
    assert!(matches!(
        w.one(future),
        Some(Rejection::ClaimInFuture { .. })
    ));

    // Partial claims add up to the allocation; one more rupiah is refused.
    let tx = w.claim_tx(&g, 500_000, BRI);
    assert_eq!(w.one(tx), None);
    assert_eq!(w.status(&g), (AllocationStatus::Open, 500_000));
    let tx = w.claim_tx(&g, 250_000, BRI);
    assert_eq!(w.one(tx), None);
    assert_eq!(w.status(&g), (AllocationStatus::Open, 750_000));
    w.time += 1;
    let tx = w.claim_tx(&g, 1, BRI);
    assert_eq!(
        w.one(tx),
        Some(Rejection::OverClaim {
            allocated: 750_000,
            claimed: 750_000,
            requested: 1
        })
    );

    let unknown = w.allocation(2, "PKH", "2026Q4", 750_000, BRI);
    let tx = w.claim_tx(&unknown, 1, BRI);
    assert_eq!(
        w.one(tx),
        Some(Rejection::UnknownAllocation(unknown.allocation.id.to_hex()))
    );
}

#[test]
fn a_second_full_claim_is_rejected_even_in_the_same_block() {
    let mut w = World::new();
    let g = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    assert_eq!(w.allocate(&g), None);
    let first = w.claim_tx(&g, 750_000, BRI);
    let mut second = w.claim_tx(&g, 750_000, BRI);
    if let TxBody::Claim(c) = &mut second.body {
        c.outlet = [4; 16]; // another outlet, so another transaction
    }
    let second = w.sign(BRI, second.body);
    let verdicts = w.block(vec![first, second]);
    // Which one wins is fixed by the block order (a deterministic shuffle); exactly one does.
    assert_eq!(
        verdicts.iter().filter(|v| v.is_none()).count(),
        1,
        "{verdicts:?}"
    );
    assert!(
        verdicts
            .iter()
            .any(|v| matches!(v, Some(Rejection::OverClaim { .. })))
    );
    assert_eq!(w.status(&g), (AllocationStatus::Open, 750_000));
}

#[test]
fn a_block_applies_allocations_before_the_claims_that_need_them() {
    let mut w = World::new();
    let g = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    let claim = w.claim_tx(&g, 750_000, BRI);
    let allocation = w.sign(KEMENSOS, TxBody::Allocation(g.allocation.clone()));
    // Submitted claim first: the block order still applies the allocation first.
    assert_eq!(w.block(vec![claim, allocation]), vec![None, None]);
    assert_eq!(w.status(&g), (AllocationStatus::Open, 750_000));
}

#[test]
fn a_block_sorted_by_village_is_shuffled_in_the_log_deterministically() {
    let run = || {
        let mut w = World::new();
        let gs: Vec<Given> = (0..100u8)
            .map(|i| w.allocation(i, "PKH", "2026Q4", 750_000, BRI))
            .collect();
        let txs: Vec<SignedTx> = gs
            .iter()
            .map(|g| w.sign(KEMENSOS, TxBody::Allocation(g.allocation.clone())))
            .collect();
        assert!(w.block(txs).iter().all(Option::is_none));
        let reader = w.ledger.reader().unwrap();
        (0..100u64)
            .map(|i| {
                match Leaf::decode(&reader.entry(LeafIndex(i)).unwrap().unwrap())
                    .unwrap()
                    .tx
                    .body
                {
                    TxBody::Allocation(a) => a.id.0[0],
                    _ => panic!("only allocations"),
                }
            })
            .collect::<Vec<u8>>()
    };
    let order = run();
    assert_ne!(
        order,
        (0..100u8).collect::<Vec<_>>(),
        "the submission order (by village) is not kept"
    );
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        (0..100u8).collect::<Vec<_>>(),
        "every allocation is logged once"
    );
    // Consecutive submissions kept together would cluster a village in one tile.
    let kept_pairs = order.windows(2).filter(|w| w[1] == w[0] + 1).count();
    assert!(
        kept_pairs < 20,
        "{kept_pairs} adjacent pairs kept their order"
    );
    assert_eq!(run(), order, "every validator computes the same order");
}

#[test]
fn expiry_is_by_block_time() {
    let mut w = World::new();
    let g = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    assert_eq!(w.allocate(&g), None);
    w.time = g.allocation.expires_at - 1;
    let tx = w.claim_tx(&g, 100_000, BRI);
    assert_eq!(w.one(tx), None);
    w.time = g.allocation.expires_at;
    let tx = w.claim_tx(&g, 100_000, BRI);
    assert!(matches!(w.one(tx), Some(Rejection::Expired { .. })));
}

#[test]
fn revocations_and_returns_close_an_allocation() {
    let mut w = World::new();
    let revoked = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    let returned = w.allocation(2, "PKH", "2026Q4", 750_000, BRI);
    let paid = w.allocation(3, "PKH", "2026Q4", 750_000, BRI);
    for g in [&revoked, &returned, &paid] {
        assert_eq!(w.allocate(g), None);
    }
    let revoke = |w: &World, g: &Given, by| {
        w.sign(
            by,
            TxBody::Revocation(Revocation {
                allocation: g.allocation.id,
                reason: RevocationReason::Ineligible,
            }),
        )
    };
    let give_back = |w: &World, g: &Given, by| {
        w.sign(
            by,
            TxBody::Return(Return {
                allocation: g.allocation.id,
                reason: ReturnReason::NotFound,
            }),
        )
    };

    assert_eq!(
        w.one(revoke(&w, &revoked, KEMENKEU)),
        Some(Rejection::NotIssuer(revoked.allocation.id.to_hex()))
    );
    assert_eq!(
        w.one(revoke(&w, &revoked, BRI)),
        Some(Rejection::RoleNotAllowed {
            role: "bank",
            kind: "revocation"
        })
    );
    assert_eq!(w.one(revoke(&w, &revoked, KEMENSOS)), None);
    assert_eq!(w.status(&revoked).0, AllocationStatus::Revoked);
    let tx = w.claim_tx(&revoked, 1, BRI);
    assert_eq!(
        w.one(tx),
        Some(Rejection::Closed {
            id: revoked.allocation.id.to_hex(),
            status: "revoked"
        })
    );

    assert_eq!(
        w.one(give_back(&w, &returned, POS)),
        Some(Rejection::NotPayer(returned.allocation.id.to_hex()))
    );
    assert_eq!(
        w.one(give_back(&w, &returned, KEMENSOS)),
        Some(Rejection::RoleNotAllowed {
            role: "ministry",
            kind: "return"
        })
    );
    assert_eq!(w.one(give_back(&w, &returned, BRI)), None);
    assert_eq!(w.status(&returned).0, AllocationStatus::Returned);
    let tx = w.claim_tx(&returned, 1, BRI);
    assert_eq!(
        w.one(tx),
        Some(Rejection::Closed {
            id: returned.allocation.id.to_hex(),
            status: "returned"
        })
    );
    assert!(matches!(
        w.one(revoke(&w, &returned, KEMENSOS)),
        Some(Rejection::Closed { .. })
    ));

    let tx = w.claim_tx(&paid, 750_000, BRI);
    assert_eq!(w.one(tx), None);
    assert_eq!(
        w.one(give_back(&w, &paid, BRI)),
        Some(Rejection::FullyPaid(paid.allocation.id.to_hex()))
    );
    assert_eq!(
        w.one(revoke(&w, &paid, KEMENSOS)),
        Some(Rejection::FullyPaid(paid.allocation.id.to_hex()))
    );
}

#[test]
fn signatures_and_membership() {
    let mut w = World::new();
    let g = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    let mut forged = w.sign(KEMENSOS, TxBody::Allocation(g.allocation.clone()));
    forged.signature[5] ^= 1;
    assert_eq!(w.one(forged), Some(Rejection::BadSignature));
    // Signed by Kemensos' key but claiming to be Kemenkeu.
    let mut impostor = w.sign(KEMENSOS, TxBody::Allocation(g.allocation.clone()));
    impostor.signer = KEMENKEU;
    assert_eq!(w.one(impostor), Some(Rejection::BadSignature));
    // A valid signature for another network.
    let other = SignedTx::sign(
        &NetworkId([9; 32]),
        KEMENSOS,
        TxBody::Allocation(g.allocation.clone()),
        &key(KEMENSOS),
    )
    .unwrap();
    assert_eq!(w.one(other), Some(Rejection::BadSignature));
    let stranger = SignedTx::sign(
        &w.ledger.network().id,
        MemberId(7),
        TxBody::Allocation(g.allocation.clone()),
        &key(MemberId(7)),
    )
    .unwrap();
    assert_eq!(w.one(stranger), Some(Rejection::UnknownSigner(7)));
    assert_eq!(w.ledger.size().0, 0, "nothing rejected reaches the log");
    assert_eq!(w.allocate(&g), None);
    assert_eq!(w.ledger.size().0, 1);
}

#[test]
fn identical_resubmissions_are_duplicates_and_applied_once() {
    let mut w = World::new();
    let g = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    assert_eq!(w.allocate(&g), None);
    let claim = w.claim_tx(&g, 100_000, BRI);
    let verdicts = w.block(vec![claim.clone(), claim.clone()]);
    assert_eq!(verdicts[0], None);
    assert_eq!(w.status(&g).1, 100_000);
    assert_eq!(w.ledger.size().0, 2);
    match w.one(claim) {
        Some(Rejection::Duplicate(loc)) => assert_eq!((loc.height, loc.leaf), (2, LeafIndex(1))),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(w.status(&g).1, 100_000, "applied once");
    assert_eq!(w.ledger.size().0, 2);
}

#[test]
fn blocks_must_follow_each_other() {
    let mut w = World::new();
    let err = w
        .ledger
        .apply(&Block {
            height: 2,
            time: T0,
            txs: vec![],
        })
        .unwrap_err();
    assert!(matches!(
        err,
        LedgerError::Block(BlockError::WrongHeight { stored: 0, got: 2 })
    ));
}

/// A day of activity used by the determinism and replay tests.
fn busy_world() -> World {
    let mut w = World::new();
    let blt = w.sign(KEMENKEU, program("BLT", AmountRule::Flat(Rupiah(600_000))));
    assert_eq!(w.one(blt), None);
    for round in 0..5u8 {
        let gs: Vec<Given> = (0..40u8)
            .map(|i| {
                w.allocation(
                    round * 40 + i,
                    "PKH",
                    "2026Q4",
                    300_000 + i as u64 * 1000,
                    if i % 2 == 0 { BRI } else { POS },
                )
            })
            .collect();
        let txs = gs
            .iter()
            .map(|g| w.sign(KEMENSOS, TxBody::Allocation(g.allocation.clone())))
            .collect();
        assert!(w.block(txs).iter().all(Option::is_none));
        w.time += 600;
        let claims = gs
            .iter()
            .filter(|g| g.allocation.id.0[0] % 3 != 0)
            .map(|g| w.claim_tx(g, g.allocation.amount.0, g.allocation.payer))
            .collect();
        assert!(w.block(claims).iter().all(Option::is_none));
        w.block(vec![]); // an empty block
        w.time += 600;
    }
    w
}

#[test]
fn the_same_blocks_give_the_same_root() {
    let a = busy_world();
    let b = busy_world();
    assert!(a.ledger.size().0 > 300);
    assert_eq!(a.ledger.root(), b.ledger.root());
    assert_eq!(a.ledger.checkpoint(), b.ledger.checkpoint());
}

#[test]
fn public_totals_add_up_to_what_was_committed() {
    let w = busy_world();
    let rows = w.ledger.store().stats().unwrap();
    let mut alloc = bansos_ledger::store::StatsRow::default();
    let mut claims = bansos_ledger::store::StatsRow::default();
    for (k, v) in &rows {
        if k.channel.is_some() {
            claims.add(v);
        } else {
            alloc.add(v);
        }
    }
    // busy_world: 5 rounds of 40 PKH allocations of 300,000 + i·1,000; those whose id byte is not
    // a multiple of 3 are claimed in full.
    let ids: Vec<u64> = (0..5u64)
        .flat_map(|r| (0..40u64).map(move |i| (r, i)))
        .map(|(r, i)| r * 40 + i)
        .collect();
    let amount = |n: u64| 300_000 + (n % 40) * 1000;
    assert_eq!(alloc.allocations, 200);
    assert_eq!(alloc.allocated, ids.iter().map(|&n| amount(n)).sum::<u64>());
    let claimed: Vec<u64> = ids.iter().copied().filter(|n| n % 3 != 0).collect();
    assert_eq!(claims.claims, claimed.len() as u64);
    assert_eq!(
        claims.claimed,
        claimed.iter().map(|&n| amount(n)).sum::<u64>()
    );
    assert_eq!(
        (alloc.claims, claims.allocations),
        (0, 0),
        "allocation rows and claim rows stay apart"
    );
    // And the same after replaying the log.
    let rebuilt = Ledger::rebuild(network(), w.ledger.store(), MemoryStore::new()).unwrap();
    assert_eq!(rebuilt.store().stats().unwrap(), rows);
}

#[test]
fn returns_and_revocations_count_what_was_left_unpaid() {
    let mut w = World::new();
    let returned = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    let revoked = w.allocation(2, "PKH", "2026Q4", 600_000, BRI);
    assert_eq!(w.allocate(&returned), None);
    assert_eq!(w.allocate(&revoked), None);
    let tx = w.claim_tx(&returned, 250_000, BRI);
    assert_eq!(w.one(tx), None);
    let r = w.sign(
        BRI,
        TxBody::Return(Return {
            allocation: returned.allocation.id,
            reason: ReturnReason::Moved,
        }),
    );
    assert_eq!(w.one(r), None);
    let v = w.sign(
        KEMENSOS,
        TxBody::Revocation(Revocation {
            allocation: revoked.allocation.id,
            reason: RevocationReason::Duplicate,
        }),
    );
    assert_eq!(w.one(v), None);
    let mut total = bansos_ledger::store::StatsRow::default();
    for (_, row) in w.ledger.store().stats().unwrap() {
        total.add(&row);
    }
    assert_eq!(
        (
            total.allocated,
            total.claimed,
            total.returned,
            total.revoked
        ),
        (1_350_000, 250_000, 500_000, 600_000)
    );
    assert_eq!((total.returns, total.revocations), (1, 1));
}

#[test]
fn the_state_is_rebuilt_by_replaying_the_log() {
    let w = busy_world();
    let rebuilt = Ledger::rebuild(network(), w.ledger.store(), MemoryStore::new()).unwrap();
    assert_eq!(rebuilt.root(), w.ledger.root());
    // Empty blocks leave no leaf: the rebuilt height is that of the last block with entries.
    let reader = w.ledger.reader().unwrap();
    let last = Leaf::decode(
        &reader
            .entry(LeafIndex(w.ledger.size().0 - 1))
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(rebuilt.store().height().unwrap(), last.height);
    assert_eq!(w.ledger.store().height().unwrap(), last.height + 1);
    for n in 0..200u8 {
        let id = AllocationId([n; 16]);
        assert_eq!(
            rebuilt.store().allocation(&id).unwrap(),
            w.ledger.store().allocation(&id).unwrap(),
            "allocation {n}"
        );
    }
    // Replaying under another genesis (other keys) fails loudly instead of diverging quietly.
    let mut g = network().genesis;
    g.members.swap(0, 1);
    g.members[0].id = MemberId(0);
    g.members[1].id = MemberId(1);
    g.programs[0].issuer = MemberId(1);
    let other = Network::from_bytes(&Network::to_file_bytes(&g)).unwrap();
    assert!(matches!(
        Ledger::rebuild(other, w.ledger.store(), MemoryStore::new()),
        Err(LedgerError::Replay { .. })
    ));
}

#[test]
fn rejections_say_what_is_wrong_without_personal_data() {
    let mut w = World::new();
    let g = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    assert_eq!(w.allocate(&g), None);
    let mut twin = w.allocation(2, "PKH", "2026Q4", 750_000, BRI);
    twin.allocation.dedup_tag = g.allocation.dedup_tag;
    let msg = w.allocate(&twin).unwrap().to_string();
    assert!(
        msg.contains("already has an allocation in PKH for 2026Q4"),
        "{msg}"
    );
    assert!(
        !msg.contains("3171014101900001")
            && !msg.contains(&Hash(g.allocation.dedup_tag.0).to_hex()),
        "{msg}"
    );
}

#[test]
fn prechecked_transactions_skip_only_the_stateless_checks() {
    let mut w = World::new();
    let g = w.allocation(1, "PKH", "2026Q4", 750_000, BRI);
    let good = w.sign(KEMENSOS, TxBody::Allocation(g.allocation.clone()));
    let g2 = w.allocation(2, "PKH", "2026Q4", 750_000, BRI);
    let mut forged = w.sign(KEMENSOS, TxBody::Allocation(g2.allocation.clone()));
    forged.signature[5] ^= 1;
    let block = Block {
        height: 1,
        time: T0,
        txs: vec![good.clone(), forged.clone()],
    };
    // Naming every transaction as prechecked gives the outcome of the full checks for the
    // honestly prechecked one, and skips the signature check of the one it names wrongly: the
    // caller's promise is what makes it safe.
    let full = w.ledger.execute(&block).unwrap();
    let good_hash = good.hash();
    let only_good = w
        .ledger
        .execute_prechecked(&block, &|h| *h == good_hash)
        .unwrap();
    assert_eq!(full.outcome.accepted, only_good.outcome.accepted);
    assert_eq!(full.outcome.rejected, only_good.outcome.rejected);
    assert_eq!(full.root(), only_good.root());
    assert_eq!(full.outcome.rejected.len(), 1);
    let all = w.ledger.execute_prechecked(&block, &|_| true).unwrap();
    assert_eq!(all.outcome.accepted.len(), 2, "the check was skipped");
    // Nothing was written by executing.
    assert_eq!(w.ledger.size().0, 0);
    // Committing the executed block writes exactly what apply would.
    let applied = w.ledger.commit_executed(full, None).unwrap();
    assert_eq!(applied.size.0, 1);
}
