//! The golden vectors of every byte format (docs/FORMAT.md), built from fixed seeds so the same
//! bytes come out on every machine and every run.
//!
//! Shared by the `golden_vectors` example, which writes the files into `testdata/vectors/`, and
//! by `tests/golden.rs`, which checks that the committed files equal what this builds. Files
//! are self-describing JSON (hex for bytes, strings for text, integers below 2^53 only) so the
//! browser verifier can consume them too.
//!
//! Byte layouts are spelled out here field by field, on purpose: they are the specification as
//! data, and each one is asserted to equal what the library encodes. Every negative case names
//! the refusal it expects, and generation stops if the library disagrees, so regenerating can
//! never quietly bless a behaviour change.

use bansos_verifier::checkpoint::{self, Checkpoint, CheckpointError};
use bansos_verifier::commitment::{self, CLAIM_LOCK_DOMAIN, COMMITMENT_DOMAIN, DEDUP_DOMAIN, Nik};
use bansos_verifier::entry::{
    Allocation, AllocationId, AmountRule, Channel, Claim, DecodeError, FORMAT_VERSION, Leaf,
    MemberId, NetworkId, Period, PeriodKind, ProgramCode, ProgramRegistered, RegionCode, Return,
    ReturnReason, Revocation, RevocationReason, Rupiah, SignedTx, TX_BYTES_MAX, TX_SIGNING_DOMAIN,
    TxBody,
};
use bansos_verifier::hash::{EMPTY_ROOT, Hash, LeafIndex, TreeSize, leaf_hash};
use bansos_verifier::merkle::{self, ProofError};
use bansos_verifier::note::{KeyKind, Note, NoteError, NoteSignature, Policy, VerifierKey};
use bansos_verifier::receipt::{
    RECEIPT_CHECK_DOMAIN, RECEIPT_LEAF_INDEX_MAX, Receipt, ReceiptError,
};
use bansos_verifier::tile::{self, TileKind, TileRef};
use bansos_verifier::tlog_proof::{TlogProof, TlogProofError};
use ed25519_dalek::SigningKey;

/// Every vector file: (file name, contents).
pub fn all() -> Vec<(&'static str, String)> {
    let w = World::new();
    vec![
        ("entries.json", render(&entries(&w))),
        ("negative_entries.json", render(&negative_entries(&w))),
        ("commitments.json", render(&commitments(&w))),
        ("receipts.json", render(&receipts(&w))),
        ("checkpoints.json", render(&checkpoints(&w))),
        ("merkle.json", render(&merkle_vectors())),
        ("tiles.json", render(&tiles(&w))),
        ("tlog_proof.json", render(&tlog_proofs(&w))),
        ("citizen.json", render(&citizen(&w))),
        ("governance.json", render(&governance::governance(&w))),
    ]
}

// ---------------------------------------------------------------------------------------------
// An ordered JSON value: keys stay in the order written whatever serde_json features are on.

/// Largest integer a JavaScript number holds exactly; larger ones are written as strings.
const JS_SAFE_INTEGER_MAX: u64 = (1 << 53) - 1;

enum J {
    Null,
    Bool(bool),
    Num(u64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl serde::Serialize for J {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            J::Null => s.serialize_unit(),
            J::Bool(b) => s.serialize_bool(*b),
            J::Num(n) => {
                assert!(
                    *n <= JS_SAFE_INTEGER_MAX,
                    "{n} is not exact in JavaScript; write it as a string"
                );
                s.serialize_u64(*n)
            }
            J::Str(v) => s.serialize_str(v),
            J::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            J::Obj(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl From<&str> for J {
    fn from(v: &str) -> J {
        J::Str(v.to_owned())
    }
}
impl From<String> for J {
    fn from(v: String) -> J {
        J::Str(v)
    }
}
impl From<&String> for J {
    fn from(v: &String) -> J {
        J::Str(v.clone())
    }
}
impl From<bool> for J {
    fn from(v: bool) -> J {
        J::Bool(v)
    }
}
impl From<u64> for J {
    fn from(v: u64) -> J {
        J::Num(v)
    }
}
impl From<u16> for J {
    fn from(v: u16) -> J {
        J::Num(v.into())
    }
}
impl From<u8> for J {
    fn from(v: u8) -> J {
        J::Num(v.into())
    }
}
impl From<usize> for J {
    fn from(v: usize) -> J {
        J::Num(v as u64)
    }
}
impl<T: Into<J>> From<Vec<T>> for J {
    fn from(v: Vec<T>) -> J {
        J::Arr(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<J>> From<Option<T>> for J {
    fn from(v: Option<T>) -> J {
        v.map_or(J::Null, Into::into)
    }
}

macro_rules! obj {
    ($($k:literal => $v:expr),* $(,)?) => { J::Obj(vec![$(($k.to_string(), J::from($v))),*]) };
}

/// The serde JSON view of a value, keys sorted (stable with or without `preserve_order`).
fn view<T: serde::Serialize>(v: &T) -> J {
    fn conv(v: serde_json::Value) -> J {
        match v {
            serde_json::Value::Null => J::Null,
            serde_json::Value::Bool(b) => J::Bool(b),
            serde_json::Value::Number(n) => {
                J::Num(n.as_u64().expect("views hold unsigned integers only"))
            }
            serde_json::Value::String(s) => J::Str(s),
            serde_json::Value::Array(a) => J::Arr(a.into_iter().map(conv).collect()),
            serde_json::Value::Object(m) => {
                let mut fields: Vec<(String, J)> =
                    m.into_iter().map(|(k, v)| (k, conv(v))).collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                J::Obj(fields)
            }
        }
    }
    conv(serde_json::to_value(v).expect("serde view"))
}

fn render(j: &J) -> String {
    let mut s = serde_json::to_string_pretty(j).expect("JSON");
    s.push('\n');
    s
}

fn hex(b: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(b)
}

// ---------------------------------------------------------------------------------------------
// The fixed world every file draws from.

const SYNTHETIC_NOTE: &str = "All data here is synthetic: the NIKs 3171014101900001..3 (Jakarta Selatan, born 1990-01-01) \
belong to no one, keys come from the seeds [n; 32], and the network id is not that of any real genesis file.";
const ORIGIN: &str = "bansos.example/ledger/golden-vectors";
const GENESIS_TEXT: &str = "bansos-ledger golden vectors: synthetic genesis";
/// Block time of height 1: 2026-11-01T00:00:00Z. One block a day keeps the dates readable.
const BLOCK_TIME_BASE: u64 = 1_793_491_200;
/// Allocations expire at 2027-01-01T00:00:00Z.
const EXPIRES_AT: u64 = 1_798_761_600;
/// The witness cosigned at 2026-11-05T00:00:00Z.
const COSIGNED_AT: u64 = 1_793_836_800;
const WITNESS_NAME: &str = "witness.audit.example";
const WITNESS_SEED: u8 = 21;
const STRANGER_SEED: u8 = 99;

/// 32 (or fewer) deterministic bytes for `label`: the first `N` bytes of
/// SHA-256("bansos-ledger/golden-vectors/" ‖ label).
fn fixed<const N: usize>(label: &str) -> [u8; N] {
    let h = Hash::digest_parts(&[b"bansos-ledger/golden-vectors/", label.as_bytes()]);
    h.0[..N].try_into().expect("N <= 32")
}

fn block_time(height: u64) -> u64 {
    BLOCK_TIME_BASE + (height - 1) * 86_400
}

struct Member {
    id: MemberId,
    name: &'static str,
    role: &'static str,
    seed: u8,
    key: SigningKey,
}

struct Beneficiary {
    label: &'static str,
    nik: &'static str,
    salt: [u8; 32],
    claim_secret: [u8; 16],
}

struct Example {
    name: &'static str,
    signer: usize,
    tx: SignedTx,
    leaf: Leaf,
}

struct World {
    network: NetworkId,
    members: Vec<Member>,
    witness: SigningKey,
    dedup_key: [u8; 32],
    beneficiaries: Vec<Beneficiary>,
    examples: Vec<Example>,
    leaf_hashes: Vec<Hash>,
    checkpoint: Checkpoint,
}

impl World {
    fn new() -> World {
        let network = NetworkId(Hash::digest(GENESIS_TEXT.as_bytes()).0);
        let members: Vec<Member> = [
            (0u16, "kemensos.bansos.example", "ministry"),
            (1, "kemenkeu.bansos.example", "ministry"),
            (2, "bri.bansos.example", "bank"),
            (3, "pos.bansos.example", "bank"),
        ]
        .into_iter()
        .map(|(id, name, role)| {
            let seed = id as u8 + 1;
            Member {
                id: MemberId(id),
                name,
                role,
                seed,
                key: SigningKey::from_bytes(&[seed; 32]),
            }
        })
        .collect();
        let dedup_key = fixed("dedup-key/kemensos");
        let beneficiaries: Vec<Beneficiary> = [
            ("A", "3171014101900001"),
            ("B", "3171014101900002"),
            ("C", "3171014101900003"),
        ]
        .into_iter()
        .map(|(label, nik)| Beneficiary {
            label,
            nik,
            salt: fixed(&format!("salt/{label}")),
            claim_secret: fixed(&format!("claim-secret/{label}")),
        })
        .collect();
        let allocation = |b: &Beneficiary, program: &str, period: &str, amount: u64, payer: u16| {
            let nik = Nik::parse(b.nik).expect("synthetic NIK");
            TxBody::Allocation(Allocation {
                id: AllocationId(fixed(&format!("allocation-id/{}", b.label))),
                program: ProgramCode::new(program).expect("code"),
                period: Period::new(period).expect("period"),
                region: RegionCode::new(3171).expect("region"),
                amount: Rupiah(amount),
                payer: MemberId(payer),
                beneficiary_commitment: commitment::beneficiary_commitment(&b.salt, &nik),
                dedup_tag: commitment::dedup_tag(&dedup_key, program, period, &nik),
                claim_lock: commitment::claim_lock(&b.claim_secret),
                expires_at: EXPIRES_AT,
            })
        };
        let alloc_id = |label: &str| AllocationId(fixed(&format!("allocation-id/{label}")));
        let bodies: Vec<(&'static str, usize, u64, TxBody)> = vec![
            (
                "program_registered_flat",
                0,
                1,
                TxBody::ProgramRegistered(ProgramRegistered {
                    code: ProgramCode::new("SEMBAKO").expect("code"),
                    name: "Program Sembako".into(),
                    period_kind: PeriodKind::Monthly,
                    amount: AmountRule::Flat(Rupiah(200_000)),
                }),
            ),
            (
                "program_registered_range",
                0,
                1,
                TxBody::ProgramRegistered(ProgramRegistered {
                    code: ProgramCode::new("PKH").expect("code"),
                    name: "Program Keluarga Harapan".into(),
                    period_kind: PeriodKind::Quarterly,
                    amount: AmountRule::Range {
                        min: Rupiah(225_000),
                        max: Rupiah(3_000_000),
                    },
                }),
            ),
            (
                "allocation",
                0,
                2,
                allocation(&beneficiaries[0], "PKH", "2026Q4", 750_000, 3),
            ),
            (
                "allocation_b",
                0,
                2,
                allocation(&beneficiaries[1], "SEMBAKO", "2026-11", 200_000, 2),
            ),
            (
                "allocation_c",
                0,
                2,
                allocation(&beneficiaries[2], "SEMBAKO", "2026-11", 200_000, 2),
            ),
            (
                "claim",
                3,
                3,
                TxBody::Claim(Claim {
                    allocation: alloc_id("A"),
                    amount: Rupiah(750_000),
                    channel: Channel::PosOutlet,
                    region: RegionCode::new(3171).expect("region"),
                    outlet: fixed("outlet/pos-3171-0042"),
                    claim_secret: beneficiaries[0].claim_secret,
                    // Paid offline ten minutes before the block that recorded it.
                    claimed_at: block_time(3) - 600,
                }),
            ),
            (
                "return",
                2,
                4,
                TxBody::Return(Return {
                    allocation: alloc_id("B"),
                    reason: ReturnReason::Moved,
                }),
            ),
            (
                "revocation",
                0,
                4,
                TxBody::Revocation(Revocation {
                    allocation: alloc_id("C"),
                    reason: RevocationReason::Duplicate,
                }),
            ),
        ];
        let examples: Vec<Example> = bodies
            .into_iter()
            .map(|(name, signer, height, body)| {
                let m = &members[signer];
                let tx = SignedTx::sign(&network, m.id, body, &m.key).expect("valid body");
                let leaf = Leaf {
                    height,
                    block_time: block_time(height),
                    tx: tx.clone(),
                };
                Example {
                    name,
                    signer,
                    tx,
                    leaf,
                }
            })
            .collect();
        let leaf_hashes: Vec<Hash> = examples
            .iter()
            .map(|e| leaf_hash(&e.leaf.encode()))
            .collect();
        let size = TreeSize(leaf_hashes.len() as u64);
        let root = merkle::root(&leaf_hashes[..], size).expect("in memory");
        World {
            network,
            members,
            witness: SigningKey::from_bytes(&[WITNESS_SEED; 32]),
            dedup_key,
            beneficiaries,
            examples,
            leaf_hashes,
            checkpoint: Checkpoint::new(ORIGIN, size, root),
        }
    }

    fn example(&self, name: &str) -> &Example {
        self.examples
            .iter()
            .find(|e| e.name == name)
            .expect("example exists")
    }

    fn vkey(&self, i: usize) -> VerifierKey {
        let m = &self.members[i];
        VerifierKey::new(m.name, KeyKind::Ed25519, m.key.verifying_key())
    }

    fn witness_vkey(&self) -> VerifierKey {
        VerifierKey::new(
            WITNESS_NAME,
            KeyKind::Cosignature,
            self.witness.verifying_key(),
        )
    }

    /// (name, vkeys, quorum) of the policies the checkpoint vectors are checked under.
    fn policies(&self) -> Vec<(&'static str, Vec<VerifierKey>, usize)> {
        let validators: Vec<VerifierKey> = (0..4).map(|i| self.vkey(i)).collect();
        let mut with_witness = validators.clone();
        with_witness.push(self.witness_vkey());
        vec![
            ("validators_quorum_3", validators.clone(), 3),
            ("validators_quorum_4", validators, 4),
            ("validators_and_witness_quorum_5", with_witness, 5),
        ]
    }

    /// The golden checkpoint signed by the validators `signers`.
    fn signed_note(&self, body: &str, signers: &[usize]) -> Note {
        let mut note = Note::new(body).expect("note text");
        for &i in signers {
            let m = &self.members[i];
            note.add_signature(NoteSignature::sign(m.name, &m.key, body));
        }
        note
    }
}

// ---------------------------------------------------------------------------------------------
// Byte layouts, written out field by field (the specification as data).

type Layout = Vec<(String, Vec<u8>)>;

fn push(l: &mut Layout, field: &str, bytes: &[u8]) {
    l.push((field.to_owned(), bytes.to_vec()));
}

fn push_str(l: &mut Layout, field: &str, s: &str) {
    push(l, &format!("{field}_len"), &[s.len() as u8]);
    push(l, field, s.as_bytes());
}

fn body_layout(body: &TxBody) -> Layout {
    let mut l = Layout::new();
    push(&mut l, "kind", &[body.tag()]);
    match body {
        TxBody::ProgramRegistered(p) => {
            push_str(&mut l, "code", p.code.as_str());
            push_str(&mut l, "name", &p.name);
            let period_kind = match p.period_kind {
                PeriodKind::Monthly => 1u8,
                PeriodKind::Quarterly => 2,
                PeriodKind::Yearly => 3,
            };
            push(&mut l, "period_kind", &[period_kind]);
            match p.amount {
                AmountRule::Flat(a) => {
                    push(&mut l, "amount_rule", &[1]);
                    push(&mut l, "amount", &a.0.to_be_bytes());
                }
                AmountRule::Range { min, max } => {
                    push(&mut l, "amount_rule", &[2]);
                    push(&mut l, "min", &min.0.to_be_bytes());
                    push(&mut l, "max", &max.0.to_be_bytes());
                }
            }
        }
        TxBody::Allocation(a) => {
            push(&mut l, "id", &a.id.0);
            push_str(&mut l, "program", a.program.as_str());
            push_str(&mut l, "period", a.period.as_str());
            push(&mut l, "region", &a.region.get().to_be_bytes());
            push(&mut l, "amount", &a.amount.0.to_be_bytes());
            push(&mut l, "payer", &a.payer.0.to_be_bytes());
            push(
                &mut l,
                "beneficiary_commitment",
                &a.beneficiary_commitment.0,
            );
            push(&mut l, "dedup_tag", &a.dedup_tag.0);
            push(&mut l, "claim_lock", &a.claim_lock.0);
            push(&mut l, "expires_at", &a.expires_at.to_be_bytes());
        }
        TxBody::Claim(c) => {
            push(&mut l, "allocation", &c.allocation.0);
            push(&mut l, "amount", &c.amount.0.to_be_bytes());
            push(&mut l, "channel", &[c.channel.tag()]);
            push(&mut l, "region", &c.region.get().to_be_bytes());
            push(&mut l, "outlet", &c.outlet);
            push(&mut l, "claim_secret", &c.claim_secret);
            push(&mut l, "claimed_at", &c.claimed_at.to_be_bytes());
        }
        TxBody::Return(r) => {
            push(&mut l, "allocation", &r.allocation.0);
            push(&mut l, "reason", &[r.reason.tag()]);
        }
        TxBody::Revocation(r) => {
            push(&mut l, "allocation", &r.allocation.0);
            push(&mut l, "reason", &[r.reason.tag()]);
        }
        TxBody::Vote(v) => {
            push(&mut l, "epoch", &v.epoch.to_be_bytes());
            push(&mut l, "change", &v.change.to_bytes());
        }
    }
    l
}

fn tx_layout(tx: &SignedTx) -> Layout {
    let mut l = Layout::new();
    push(&mut l, "version", &[FORMAT_VERSION]);
    push(&mut l, "signer", &tx.signer.0.to_be_bytes());
    l.extend(body_layout(&tx.body));
    push(&mut l, "signature", &tx.signature);
    l
}

fn leaf_layout(leaf: &Leaf) -> Layout {
    let mut l = Layout::new();
    push(&mut l, "leaf_version", &[FORMAT_VERSION]);
    push(&mut l, "height", &leaf.height.to_be_bytes());
    push(&mut l, "block_time", &leaf.block_time.to_be_bytes());
    push(&mut l, "signed_tx", &leaf.tx.encode());
    l
}

fn concat(l: &Layout) -> Vec<u8> {
    l.iter().flat_map(|(_, b)| b.iter().copied()).collect()
}

fn layout_json(l: &Layout) -> J {
    J::Arr(
        l.iter()
            .map(|(f, b)| obj! { "field" => f, "hex" => hex(b) })
            .collect(),
    )
}

/// `l` with `field` replaced by `bytes`.
fn set(l: &Layout, field: &str, bytes: &[u8]) -> Layout {
    let mut out = l.clone();
    let slot = out
        .iter_mut()
        .find(|(f, _)| f == field)
        .unwrap_or_else(|| panic!("no field {field}"));
    slot.1 = bytes.to_vec();
    out
}

/// `l` with the string `field` (and its length byte) replaced by `bytes`.
fn set_str(l: &Layout, field: &str, bytes: &[u8]) -> Layout {
    let len = u8::try_from(bytes.len()).expect("short");
    set(&set(l, field, bytes), &format!("{field}_len"), &[len])
}

/// The bytes of `l` up to (not including) `field`.
fn before(l: &Layout, field: &str) -> Vec<u8> {
    let at = l
        .iter()
        .position(|(f, _)| f == field)
        .unwrap_or_else(|| panic!("no field {field}"));
    concat(&l[..at].to_vec())
}

// ---------------------------------------------------------------------------------------------
// entries.json

fn entries(w: &World) -> J {
    let members = J::Arr(
        w.members
            .iter()
            .map(|m| {
                obj! {
                    "id" => m.id.0,
                    "name" => m.name,
                    "role" => m.role,
                    "test_private_key_seed" => hex(&[m.seed; 32]),
                    "public_key" => hex(m.key.verifying_key().as_bytes()),
                }
            })
            .collect(),
    );
    let items = w
        .examples
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let signer = &w.members[e.signer];
            let encoded = e.tx.encode();
            let layout = tx_layout(&e.tx);
            assert_eq!(
                concat(&layout),
                encoded,
                "{}: the layout and the encoder disagree",
                e.name
            );
            let leaf_bytes = e.leaf.encode();
            let leaf_layout = leaf_layout(&e.leaf);
            assert_eq!(
                concat(&leaf_layout),
                leaf_bytes,
                "{}: the leaf layout and the encoder disagree",
                e.name
            );
            assert!(e.tx.verify(&w.network, &signer.key.verifying_key()));
            assert_eq!(SignedTx::decode(&encoded).as_ref(), Ok(&e.tx));
            assert_eq!(Leaf::decode(&leaf_bytes).as_ref(), Ok(&e.leaf));
            let mut message = TX_SIGNING_DOMAIN.to_vec();
            message.extend_from_slice(&w.network.0);
            message.extend_from_slice(&encoded[..encoded.len() - 64]);
            assert_eq!(e.tx.signing_message(&w.network), message);
            obj! {
                "name" => e.name,
                "kind" => e.tx.body.kind_name(),
                "kind_tag" => e.tx.body.tag(),
                "leaf_index" => index,
                "signer" => signer.id.0,
                "signer_name" => signer.name,
                "signer_public_key" => hex(signer.key.verifying_key().as_bytes()),
                "network_id" => hex(&w.network.0),
                "json" => view(&e.tx),
                "layout" => layout_json(&layout),
                "signing_message_hex" => hex(&message),
                "signed_tx_hex" => hex(&encoded),
                "tx_hash" => e.tx.hash().to_hex(),
                "leaf" => obj! { "height" => e.leaf.height, "block_time" => e.leaf.block_time },
                "leaf_layout" => layout_json(&leaf_layout),
                "leaf_hex" => hex(&leaf_bytes),
                "leaf_hash" => leaf_hash(&leaf_bytes).to_hex(),
            }
        })
        .collect::<Vec<J>>();
    obj! {
        "description" => "Canonical binary encoding v1 of signed transactions (SignedTx) and log leaves (Leaf), one or more per kind, \
    with the JSON view, the field-by-field layout, the signing message, the transaction hash (SHA-256 of signed_tx) and the \
    RFC 6962 leaf hash (SHA-256(0x00 || leaf)). The entries form the golden log of checkpoints.json, in this order. \
    They illustrate the format, not a history the ledger rules would accept in full. See docs/FORMAT.md.",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "synthetic_data" => SYNTHETIC_NOTE,
        "format_version" => FORMAT_VERSION,
        "network_id" => hex(&w.network.0),
        "network_id_derivation" => format!("SHA-256 of the ASCII text {GENESIS_TEXT:?} (stands in for the SHA-256 of a genesis file)"),
        "tx_signing_domain_hex" => hex(TX_SIGNING_DOMAIN),
        "members" => members,
        "entries" => items,
    }
}

// ---------------------------------------------------------------------------------------------
// negative_entries.json

/// The refusal a negative vector expects: error kind, field, and tag/limit/count where one applies.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Refusal {
    kind: &'static str,
    field: Option<&'static str>,
    value: Option<u64>,
}

fn refusal_of(e: &DecodeError) -> Refusal {
    match e {
        DecodeError::Truncated(f) => Refusal {
            kind: "truncated",
            field: Some(f),
            value: None,
        },
        DecodeError::TrailingBytes(n) => Refusal {
            kind: "trailing_bytes",
            field: None,
            value: Some(*n as u64),
        },
        DecodeError::UnknownVersion(v) => Refusal {
            kind: "unknown_version",
            field: None,
            value: Some((*v).into()),
        },
        DecodeError::UnknownTag { field, tag } => Refusal {
            kind: "unknown_tag",
            field: Some(field),
            value: Some((*tag).into()),
        },
        DecodeError::Oversize { field, max } => Refusal {
            kind: "oversize",
            field: Some(field),
            value: Some(*max as u64),
        },
        DecodeError::Invalid { field, .. } => Refusal {
            kind: "invalid",
            field: Some(field),
            value: None,
        },
    }
}

fn truncated(field: &'static str) -> Refusal {
    Refusal {
        kind: "truncated",
        field: Some(field),
        value: None,
    }
}
fn trailing(n: u64) -> Refusal {
    Refusal {
        kind: "trailing_bytes",
        field: None,
        value: Some(n),
    }
}
fn unknown_version(v: u64) -> Refusal {
    Refusal {
        kind: "unknown_version",
        field: None,
        value: Some(v),
    }
}
fn unknown_tag(field: &'static str, tag: u64) -> Refusal {
    Refusal {
        kind: "unknown_tag",
        field: Some(field),
        value: Some(tag),
    }
}
fn oversize(field: &'static str, max: u64) -> Refusal {
    Refusal {
        kind: "oversize",
        field: Some(field),
        value: Some(max),
    }
}
fn invalid(field: &'static str) -> Refusal {
    Refusal {
        kind: "invalid",
        field: Some(field),
        value: None,
    }
}

fn negative_entries(w: &World) -> J {
    let layout = |name: &str| tx_layout(&w.example(name).tx);
    let alloc = layout("allocation");
    let claim = layout("claim");
    let flat = layout("program_registered_flat");
    let range = layout("program_registered_range");
    let ret = layout("return");
    let rev = layout("revocation");
    let leaf = leaf_layout(&w.example("allocation").leaf);
    let alloc_bytes = concat(&alloc);

    let tx_cases: Vec<(&str, &str, Vec<u8>, Refusal)> = vec![
        ("empty", "no bytes at all", vec![], truncated("version")),
        (
            "version_only",
            "input ends after the version byte",
            vec![1],
            truncated("signer"),
        ),
        (
            "truncated_in_body",
            "allocation cut inside its claim_lock",
            {
                let mut b = before(&alloc, "claim_lock");
                b.extend_from_slice(&[0xab; 10]);
                b
            },
            truncated("claim_lock"),
        ),
        (
            "truncated_signature",
            "allocation without the last signature byte",
            alloc_bytes[..alloc_bytes.len() - 1].to_vec(),
            truncated("signature"),
        ),
        (
            "trailing_byte",
            "a valid allocation followed by one 0x00 byte",
            [alloc_bytes.as_slice(), &[0]].concat(),
            trailing(1),
        ),
        (
            "version_0",
            "format version 0",
            concat(&set(&alloc, "version", &[0])),
            unknown_version(0),
        ),
        (
            "version_2",
            "unknown format version 2",
            concat(&set(&alloc, "version", &[2])),
            unknown_version(2),
        ),
        (
            "kind_0",
            "kind tag 0 is not assigned",
            concat(&set(&alloc, "kind", &[0])),
            unknown_tag("kind", 0),
        ),
        (
            "kind_7",
            "unknown kind tag 7 (6 is a governance vote since key history v1)",
            concat(&set(&ret, "kind", &[7])),
            unknown_tag("kind", 7),
        ),
        (
            "channel_0",
            "channel tag 0 is not assigned",
            concat(&set(&claim, "channel", &[0])),
            unknown_tag("channel", 0),
        ),
        (
            "channel_8",
            "unknown channel tag 8",
            concat(&set(&claim, "channel", &[8])),
            unknown_tag("channel", 8),
        ),
        (
            "return_reason_6",
            "unknown return reason 6",
            concat(&set(&ret, "reason", &[6])),
            unknown_tag("return reason", 6),
        ),
        (
            "revocation_reason_0",
            "revocation reason 0 is not assigned",
            concat(&set(&rev, "reason", &[0])),
            unknown_tag("revocation reason", 0),
        ),
        (
            "period_kind_4",
            "unknown period kind 4",
            concat(&set(&flat, "period_kind", &[4])),
            unknown_tag("period kind", 4),
        ),
        (
            "amount_rule_3",
            "unknown amount rule 3",
            concat(&set(&flat, "amount_rule", &[3])),
            unknown_tag("amount rule", 3),
        ),
        (
            "program_code_17_bytes",
            "program code longer than 16 bytes (length byte 17)",
            concat(&set_str(&alloc, "program", b"ABCDEFGHIJKLMNOPQ")),
            oversize("program", 16),
        ),
        (
            "program_name_101_bytes",
            "program name longer than 100 bytes",
            concat(&set_str(&flat, "name", &[b'A'; 101])),
            oversize("name", 100),
        ),
        (
            "period_8_bytes",
            "period longer than 7 bytes",
            concat(&set_str(&alloc, "period", b"2026-110")),
            oversize("period", 7),
        ),
        (
            "string_past_end",
            "program name length byte 99 but the input ends after 15 bytes of name",
            {
                let l = set_str(&flat, "name", b"Program Sembako");
                let l = set(&l, "name_len", &[99]);
                before(&l, "period_kind")
            },
            truncated("name"),
        ),
        (
            "name_not_utf8",
            "program name holds the byte 0xff",
            concat(&set_str(&flat, "name", b"Program \xff")),
            invalid("name"),
        ),
        (
            "name_empty",
            "empty program name",
            concat(&set_str(&flat, "name", b"")),
            invalid("name"),
        ),
        (
            "name_outer_space",
            "program name with a leading space",
            concat(&set_str(&flat, "name", b" Program Sembako")),
            invalid("name"),
        ),
        (
            "name_control_char",
            "program name with a newline",
            concat(&set_str(&flat, "name", b"Program\nSembako")),
            invalid("name"),
        ),
        (
            "period_month_13",
            "month 13",
            concat(&set_str(&alloc, "period", b"2026-13")),
            invalid("period"),
        ),
        (
            "period_quarter_5",
            "quarter 5",
            concat(&set_str(&alloc, "period", b"2026Q5")),
            invalid("period"),
        ),
        (
            "period_lowercase_q",
            "lowercase q in a quarter",
            concat(&set_str(&alloc, "period", b"2026q4")),
            invalid("period"),
        ),
        (
            "period_year_1999",
            "years are 2000-2999",
            concat(&set_str(&alloc, "period", b"1999")),
            invalid("period"),
        ),
        (
            "region_province_9",
            "region 0999: province below 11",
            concat(&set(&alloc, "region", &999u16.to_be_bytes())),
            invalid("region"),
        ),
        (
            "region_city_00",
            "region 3100: kabupaten/kota 00",
            concat(&set(&alloc, "region", &3100u16.to_be_bytes())),
            invalid("region"),
        ),
        (
            "region_5_digits",
            "region 10001 in a claim",
            concat(&set(&claim, "region", &10_001u16.to_be_bytes())),
            invalid("region"),
        ),
        (
            "allocation_amount_zero",
            "allocation of 0 rupiah",
            concat(&set(&alloc, "amount", &0u64.to_be_bytes())),
            invalid("amount"),
        ),
        (
            "claim_amount_zero",
            "claim of 0 rupiah",
            concat(&set(&claim, "amount", &0u64.to_be_bytes())),
            invalid("amount"),
        ),
        (
            "flat_amount_zero",
            "flat amount rule of 0 rupiah",
            concat(&set(&flat, "amount", &0u64.to_be_bytes())),
            invalid("amount"),
        ),
        (
            "range_min_zero",
            "range amount rule with min 0",
            concat(&set(&range, "min", &0u64.to_be_bytes())),
            invalid("min"),
        ),
        (
            "range_min_above_max",
            "range amount rule with min 3,000,001 > max 3,000,000",
            concat(&set(&range, "min", &3_000_001u64.to_be_bytes())),
            invalid("max"),
        ),
        (
            "program_code_lowercase",
            "program code \"pkh\"",
            concat(&set_str(&alloc, "program", b"pkh")),
            invalid("program"),
        ),
        (
            "program_code_one_char",
            "program code \"P\"",
            concat(&set_str(&alloc, "program", b"P")),
            invalid("program"),
        ),
        (
            "program_code_dash",
            "program code \"PKH-1\"",
            concat(&set_str(&alloc, "program", b"PKH-1")),
            invalid("program"),
        ),
        (
            "program_code_empty",
            "empty program code",
            concat(&set_str(&flat, "code", b"")),
            invalid("program"),
        ),
        (
            "oversize_transaction",
            "1025 bytes: longer than any transaction (checked before anything else)",
            {
                let mut b = alloc_bytes.clone();
                b.resize(TX_BYTES_MAX + 1, 0);
                b
            },
            oversize("transaction", TX_BYTES_MAX as u64),
        ),
    ];
    let leaf_bytes = concat(&leaf);
    let leaf_cases: Vec<(&str, &str, Vec<u8>, Refusal)> = vec![
        (
            "leaf_version_2",
            "leaf with format version 2",
            concat(&set(&leaf, "leaf_version", &[2])),
            unknown_version(2),
        ),
        (
            "leaf_truncated_header",
            "leaf cut inside block_time",
            leaf_bytes[..10].to_vec(),
            truncated("block_time"),
        ),
        (
            "leaf_without_tx",
            "leaf header and no transaction",
            leaf_bytes[..17].to_vec(),
            truncated("version"),
        ),
        (
            "leaf_trailing_byte",
            "leaf followed by one 0x00 byte",
            [leaf_bytes.as_slice(), &[0]].concat(),
            trailing(1),
        ),
        (
            "leaf_with_bad_tx",
            "leaf whose transaction has version 2",
            concat(&set(
                &leaf,
                "signed_tx",
                &concat(&set(&alloc, "version", &[2])),
            )),
            unknown_version(2),
        ),
    ];
    let mut refused = Vec::new();
    for (input, cases) in [("signed_tx", &tx_cases), ("leaf", &leaf_cases)] {
        for (name, reason, bytes, want) in cases.iter() {
            let got = if input == "leaf" {
                Leaf::decode(bytes).map(|_| ())
            } else {
                SignedTx::decode(bytes).map(|_| ())
            };
            let got = refusal_of(&got.expect_err(name));
            assert_eq!(&got, want, "{name}: the decoder refused for another reason");
            refused.push(obj! {
                "name" => *name,
                "input" => input,
                "reason" => *reason,
                "hex" => hex(bytes),
                "error" => obj! { "kind" => want.kind, "field" => want.field, "value" => want.value },
            });
        }
    }

    // Well-formed bytes whose signature must not verify.
    let a = w.example("allocation");
    let ministry = &w.members[0];
    let mut bad_sig = a.tx.clone();
    bad_sig.signature[10] ^= 0x01;
    let amount_changed = {
        let l = set(&alloc, "amount", &750_001u64.to_be_bytes());
        SignedTx::decode(&concat(&l)).expect("decodes")
    };
    let signer_changed = {
        let l = set(&alloc, "signer", &1u16.to_be_bytes());
        SignedTx::decode(&concat(&l)).expect("decodes")
    };
    let other_network = {
        let other = NetworkId(Hash::digest(b"another network").0);
        SignedTx::sign(&other, ministry.id, a.tx.body.clone(), &ministry.key).expect("signs")
    };
    let non_canonical_s = {
        // S + ℓ, little-endian: the same signature in a malleable form strict verification refuses.
        const ELL: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut tx = a.tx.clone();
        let mut carry = 0u16;
        for (s, l) in tx.signature[32..].iter_mut().zip(ELL) {
            let sum = u16::from(*s) + u16::from(l) + carry;
            *s = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        tx
    };
    let fails = [
        (
            "corrupted_signature",
            "one bit of the signature's R flipped",
            &bad_sig,
            0usize,
        ),
        (
            "amount_changed_after_signing",
            "amount 750000 rewritten to 750001 under the original signature",
            &amount_changed,
            0,
        ),
        (
            "signer_changed",
            "signer field 0 rewritten to 1; checked against member 1's key",
            &signer_changed,
            1,
        ),
        (
            "signed_for_another_network",
            "signed with another network id in the signing message",
            &other_network,
            0,
        ),
        (
            "non_canonical_s",
            "signature S replaced by S + l (a malleable form)",
            &non_canonical_s,
            0,
        ),
    ];
    let mut signature_fails = Vec::new();
    for (name, reason, tx, member) in fails {
        let key = w.members[member].key.verifying_key();
        let bytes = tx.encode();
        assert_eq!(
            SignedTx::decode(&bytes).as_ref(),
            Ok(tx),
            "{name} must decode"
        );
        assert!(!tx.verify(&w.network, &key), "{name} must not verify");
        signature_fails.push(obj! {
            "name" => name,
            "reason" => reason,
            "hex" => hex(&bytes),
            "signer_public_key" => hex(key.as_bytes()),
            "network_id" => hex(&w.network.0),
            "decodes" => true,
            "signature_valid" => false,
        });
    }
    obj! {
        "description" => "Inputs the decoder must refuse (each mutates one field of a vector of entries.json), with the \
    error it refuses them with: kind is truncated | trailing_bytes | unknown_version | unknown_tag | oversize | invalid; \
    field names the field; value is the unknown tag or version, the size limit, or the count of trailing bytes. Then \
    well-formed transactions that decode but whose signature must fail under the given key and network id.",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "refused" => refused,
        "decodes_but_signature_fails" => signature_fails,
    }
}

// ---------------------------------------------------------------------------------------------
// commitments.json

fn commitments(w: &World) -> J {
    let mut beneficiary = Vec::new();
    let mut dedup = Vec::new();
    let mut locks = Vec::new();
    for b in &w.beneficiaries {
        let nik = Nik::parse(b.nik).expect("NIK");
        let input = [COMMITMENT_DOMAIN, &b.salt, b.nik.as_bytes()].concat();
        let c = commitment::beneficiary_commitment(&b.salt, &nik);
        assert_eq!(c, Hash::digest(&input));
        beneficiary.push(obj! {
            "name" => format!("beneficiary_{}", b.label),
            "nik" => b.nik,
            "salt" => hex(&b.salt),
            "hash_input_hex" => hex(&input),
            "commitment" => c.to_hex(),
        });
        let lock_input = [CLAIM_LOCK_DOMAIN, &b.claim_secret].concat();
        let lock = commitment::claim_lock(&b.claim_secret);
        assert_eq!(lock, Hash::digest(&lock_input));
        locks.push(obj! {
            "name" => format!("claim_lock_{}", b.label),
            "claim_secret" => hex(&b.claim_secret),
            "hash_input_hex" => hex(&lock_input),
            "claim_lock" => lock.to_hex(),
        });
    }
    let nik_a = w.beneficiaries[0].nik;
    let dedup_cases = [
        ("allocation_A", nik_a, "PKH", "2026Q4"),
        ("allocation_B", w.beneficiaries[1].nik, "SEMBAKO", "2026-11"),
        ("allocation_C", w.beneficiaries[2].nik, "SEMBAKO", "2026-11"),
        ("same_person_next_quarter", nik_a, "PKH", "2027Q1"),
        // The length prefixes keep these two apart although program ‖ period is "PKH2026" in both.
        ("length_prefix_1", nik_a, "PKH2", "026"),
        ("length_prefix_2", nik_a, "PKH", "2026"),
    ];
    for (name, nik, program, period) in dedup_cases {
        let message = [
            DEDUP_DOMAIN,
            &[program.len() as u8],
            program.as_bytes(),
            &[period.len() as u8],
            period.as_bytes(),
            nik.as_bytes(),
        ]
        .concat();
        let tag = commitment::dedup_tag(
            &w.dedup_key,
            program,
            period,
            &Nik::parse(nik).expect("NIK"),
        );
        dedup.push(obj! {
            "name" => name,
            "key" => hex(&w.dedup_key),
            "program" => program,
            "period" => period,
            "nik" => nik,
            "hmac_message_hex" => hex(&message),
            "dedup_tag" => tag.to_hex(),
        });
    }
    let valid_niks = ["3171014101900001", " 3171014101900001 ", "0000000000000000"];
    let invalid_niks = [
        "317101410190000",
        "31710141019000012",
        "317101410190000x",
        "3171 0141 0190 0001",
        "",
        "３１７１０１４１０１９００００１",
    ];
    for n in valid_niks {
        assert!(Nik::parse(n).is_some(), "{n:?}");
    }
    for n in invalid_niks {
        assert!(Nik::parse(n).is_none(), "{n:?}");
    }
    obj! {
        "description" => "What the log holds instead of personal data. beneficiary_commitment = SHA-256(domain || 32-byte salt || \
    16 ASCII NIK digits); dedup_tag = HMAC-SHA-256(key, domain || u8 len || program || u8 len || period || 16 NIK digits); \
    claim_lock = SHA-256(domain || 16-byte claim secret). Domains end in a 0x00 byte. nik_parse: Nik::parse accepts exactly \
    16 ASCII digits after trimming surrounding whitespace.",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "synthetic_data" => SYNTHETIC_NOTE,
        "domains" => obj! {
            "beneficiary_commitment_hex" => hex(COMMITMENT_DOMAIN),
            "dedup_tag_hex" => hex(DEDUP_DOMAIN),
            "claim_lock_hex" => hex(CLAIM_LOCK_DOMAIN),
        },
        "beneficiary_commitments" => beneficiary,
        "dedup_tags" => dedup,
        "claim_locks" => locks,
        "nik_parse" => obj! { "valid" => valid_niks.to_vec(), "invalid" => invalid_niks.to_vec() },
    }
}

// ---------------------------------------------------------------------------------------------
// receipts.json

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn luhn32(symbols: &[u8]) -> u8 {
    let mut factor = 2u32;
    let mut sum = 0u32;
    for &s in symbols.iter().rev() {
        let addend = factor * s as u32;
        factor = 3 - factor;
        sum += addend / 32 + addend % 32;
    }
    ((32 - sum % 32) % 32) as u8
}

/// 78 bytes → 125 base32 symbols (low bits zero) + Luhn mod 32, written independently of the library.
fn symbols_of(bytes: &[u8]) -> Vec<u8> {
    let bits: Vec<u8> = bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1))
        .collect();
    let mut symbols: Vec<u8> = bits
        .chunks(5)
        .map(|c| {
            c.iter()
                .chain(std::iter::repeat(&0))
                .take(5)
                .fold(0, |a, &b| a << 1 | b)
        })
        .collect();
    symbols.push(luhn32(&symbols));
    symbols
}

fn text_of(symbols: &[u8]) -> String {
    symbols
        .iter()
        .map(|&s| ALPHABET[s as usize] as char)
        .collect()
}

/// Payload ‖ check for any version byte.
fn receipt_bytes(version: u8, r: &Receipt) -> Vec<u8> {
    let mut b = vec![version];
    b.extend_from_slice(&r.network_tag);
    b.extend_from_slice(&r.leaf_index.0.to_be_bytes()[3..]);
    b.extend_from_slice(&r.allocation.0);
    b.extend_from_slice(&r.salt);
    b.extend_from_slice(&r.claim_secret);
    let check = Hash::digest_parts(&[RECEIPT_CHECK_DOMAIN, &b]);
    b.extend_from_slice(&check.0[..4]);
    b
}

fn receipt_error_json(e: &ReceiptError) -> J {
    match e {
        ReceiptError::BadCharacter {
            position,
            character,
        } => {
            obj! { "kind" => "bad_character", "position" => *position, "character" => character.to_string() }
        }
        ReceiptError::WrongLength(n) => obj! { "kind" => "wrong_length", "length" => *n },
        ReceiptError::Checksum => obj! { "kind" => "checksum" },
        ReceiptError::UnknownVersion(v) => obj! { "kind" => "unknown_version", "version" => *v },
    }
}

fn receipts(w: &World) -> J {
    let a = &w.beneficiaries[0];
    let tag = bansos_verifier::receipt::network_tag(&w.network);
    let recipient = Receipt {
        network_tag: tag,
        leaf_index: LeafIndex(2),
        allocation: AllocationId(fixed("allocation-id/A")),
        salt: a.salt,
        claim_secret: a.claim_secret,
    };
    let max_index = Receipt {
        leaf_index: LeafIndex(RECEIPT_LEAF_INDEX_MAX),
        ..recipient.clone()
    };
    let zeros = Receipt {
        network_tag: [0; 4],
        leaf_index: LeafIndex(0),
        allocation: AllocationId([0; 16]),
        salt: [0; 32],
        claim_secret: [0; 16],
    };
    // A receipt whose code has a 0 next to a Z: the one adjacent swap Luhn mod 32 cannot see.
    let (zero_z, zero_z_at) = (0u64..)
        .find_map(|i| {
            let r = Receipt {
                leaf_index: LeafIndex(1000 + i),
                ..recipient.clone()
            };
            let c = r.to_compact().into_bytes();
            (0..124)
                .find(|&p| (c[p], c[p + 1]) == (b'0', b'Z') || (c[p], c[p + 1]) == (b'Z', b'0'))
                .map(|p| (r, p))
        })
        .expect("some index gives a 0 next to a Z");
    let valid = [
        (
            "recipient_A",
            "the receipt printed for allocation A (leaf 2 of the golden log)",
            &recipient,
        ),
        (
            "leaf_index_max",
            "the largest leaf index a receipt holds, 2^40 - 1",
            &max_index,
        ),
        ("all_zero", "every field zero", &zeros),
        (
            "zero_next_to_z",
            "a code with 0 next to Z (see swapped_0_and_z)",
            &zero_z,
        ),
    ];
    let mut valid_json = Vec::new();
    for (name, about, r) in valid {
        let bytes = receipt_bytes(1, r);
        let compact = text_of(&symbols_of(&bytes));
        assert_eq!(
            r.to_compact(),
            compact,
            "{name}: library and model disagree"
        );
        assert_eq!(Receipt::parse(&r.to_text()).as_ref(), Ok(r));
        valid_json.push(obj! {
            "name" => name,
            "about" => about,
            "network_tag" => hex(&r.network_tag),
            "leaf_index" => r.leaf_index.0,
            "allocation" => r.allocation.to_hex(),
            "salt" => hex(&r.salt),
            "claim_secret" => hex(&r.claim_secret),
            "payload_hex" => hex(&bytes[..74]),
            "check_hex" => hex(&bytes[74..]),
            "compact" => compact,
            "text" => r.to_text(),
        });
    }

    let text = recipient.to_text();
    let compact = recipient.to_compact();
    let lenient = vec![
        (
            "lowercase_with_spaces",
            text.to_lowercase().replace('-', " "),
        ),
        ("no_separators", compact.clone()),
        ("o_for_zero_and_i_l_for_one", {
            let mut ones = 0;
            compact
                .chars()
                .map(|c| match c {
                    '0' => 'O',
                    '1' => {
                        ones += 1;
                        if ones % 2 == 0 { 'I' } else { 'l' }
                    }
                    c => c,
                })
                .collect::<String>()
        }),
        (
            "line_breaks_and_tabs",
            format!("{}\n{}\t{}\r\n", &text[..41], &text[41..83], &text[83..]),
        ),
    ];
    assert!(
        compact.contains('0') && compact.contains('1'),
        "the substitution case needs a 0 and a 1"
    );
    let mut lenient_json = Vec::new();
    for (name, input) in lenient {
        assert_eq!(Receipt::parse(&input).as_ref(), Ok(&recipient), "{name}");
        lenient_json.push(obj! { "name" => name, "input" => input, "equals" => "recipient_A" });
    }

    let sym = |c: u8| ALPHABET.iter().position(|&a| a == c).expect("alphabet") as u8;
    let mut invalid_cases: Vec<(&str, &str, String)> = Vec::new();
    let mistyped = {
        let mut c = compact.clone().into_bytes();
        c[10] = ALPHABET[(sym(c[10]) as usize + 1) % 32];
        String::from_utf8(c).expect("ASCII")
    };
    invalid_cases.push((
        "mistyped_character",
        "character 11 replaced by the next symbol",
        mistyped,
    ));
    let swap_at = (20..124)
        .find(|&p| compact.as_bytes()[p] != compact.as_bytes()[p + 1])
        .expect("two different neighbours");
    let swapped = {
        let mut c = compact.clone().into_bytes();
        c.swap(swap_at, swap_at + 1);
        String::from_utf8(c).expect("ASCII")
    };
    invalid_cases.push((
        "swapped_adjacent",
        "two adjacent different characters swapped",
        swapped,
    ));
    let zero_z_swapped = {
        let mut c = zero_z.to_compact().into_bytes();
        c.swap(zero_z_at, zero_z_at + 1);
        let symbols: Vec<u8> = c.iter().map(|&x| sym(x)).collect();
        assert_eq!(
            luhn32(&symbols[..125]),
            symbols[125],
            "Luhn mod 32 is blind to a 0/Z swap"
        );
        String::from_utf8(c).expect("ASCII")
    };
    invalid_cases.push((
        "swapped_0_and_z",
        "0 and Z swapped in zero_next_to_z: the Luhn character still matches, the 4 check bytes do not",
        zero_z_swapped,
    ));
    invalid_cases.push((
        "one_character_missing",
        "the first character left out",
        compact[1..].to_string(),
    ));
    invalid_cases.push(("one_character_extra", "a 0 appended", format!("{compact}0")));
    invalid_cases.push((
        "bad_character_u",
        "U is not in Crockford base32",
        format!("U{}", &compact[1..]),
    ));
    invalid_cases.push((
        "bad_character_non_ascii",
        "a non-ASCII letter",
        format!("{}É{}", &compact[..5], &compact[6..]),
    ));
    invalid_cases.push((
        "bad_character_plus",
        "a + sign",
        format!("{}+{}", &compact[..60], &compact[61..]),
    ));
    invalid_cases.push(("empty", "no characters", String::new()));
    invalid_cases.push((
        "text_over_512_bytes",
        "513 characters: refused before decoding",
        "A".repeat(513),
    ));
    let padding_bit = {
        let bytes = receipt_bytes(1, &recipient);
        let mut symbols = symbols_of(&bytes);
        symbols[124] ^= 1;
        symbols[125] = luhn32(&symbols[..125]);
        text_of(&symbols)
    };
    invalid_cases.push((
        "padding_bit_set",
        "the unused low bit of the last data symbol set, Luhn recomputed",
        padding_bit,
    ));
    let version_2 = text_of(&symbols_of(&receipt_bytes(2, &recipient)));
    invalid_cases.push((
        "unknown_version_2",
        "version byte 2 with valid check bytes and check character",
        version_2,
    ));
    let expected: Vec<ReceiptError> = vec![
        ReceiptError::Checksum,
        ReceiptError::Checksum,
        ReceiptError::Checksum,
        ReceiptError::WrongLength(125),
        ReceiptError::WrongLength(127),
        ReceiptError::BadCharacter {
            position: 1,
            character: 'U',
        },
        ReceiptError::BadCharacter {
            position: 6,
            character: 'É',
        },
        ReceiptError::BadCharacter {
            position: 61,
            character: '+',
        },
        ReceiptError::WrongLength(0),
        ReceiptError::WrongLength(513),
        ReceiptError::Checksum,
        ReceiptError::UnknownVersion(2),
    ];
    assert_eq!(invalid_cases.len(), expected.len());
    let mut invalid_json = Vec::new();
    for ((name, about, input), want) in invalid_cases.into_iter().zip(expected) {
        assert_eq!(Receipt::parse(&input).as_ref(), Err(&want), "{name}");
        invalid_json.push(obj! { "name" => name, "about" => about, "input" => input, "error" => receipt_error_json(&want) });
    }
    obj! {
        "description" => "The recipient's receipt. payload (74 bytes) = version 0x01 || network tag (first 4 bytes of the network id) \
    || leaf index (5 bytes, big-endian) || allocation id (16) || salt (32) || claim secret (16); check = first 4 bytes of \
    SHA-256(\"bansos-ledger/receipt/v1\\0\" || payload). The 78 bytes are written as 125 Crockford base32 symbols (alphabet \
    below, the 1 unused low bit zero) and one Luhn mod 32 check symbol; text groups the 126 characters in sixes with '-'. \
    Parsing ignores case, '-', space, tab, CR and LF, and reads O as 0 and I, L as 1.",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "alphabet" => std::str::from_utf8(ALPHABET).expect("ASCII"),
        "check_domain_hex" => hex(RECEIPT_CHECK_DOMAIN),
        "network_id" => hex(&w.network.0),
        "valid" => valid_json,
        "lenient_inputs" => lenient_json,
        "invalid" => invalid_json,
    }
}

// ---------------------------------------------------------------------------------------------
// checkpoints.json

/// The outcome of `verify_checkpoint(note, Some(ORIGIN), policy)` as JSON.
fn checkpoint_outcome(note: &[u8], policy: &Policy) -> J {
    match checkpoint::verify_checkpoint(note, Some(ORIGIN), policy) {
        Ok(v) => obj! {
            "ok" => true,
            "signers" => v.verified.signers.clone(),
            "cosigned_at" => J::Arr(v.verified.cosigned_at.iter().map(|(n, t)| obj! { "name" => n, "time" => *t }).collect()),
        },
        Err(e) => obj! { "ok" => false, "error" => checkpoint_error_json(&e) },
    }
}

fn checkpoint_error_json(e: &CheckpointError) -> J {
    match e {
        CheckpointError::Malformed(_) => obj! { "kind" => "malformed_checkpoint" },
        CheckpointError::WrongOrigin { got, .. } => {
            obj! { "kind" => "wrong_origin", "origin" => got }
        }
        CheckpointError::Note(n) => note_error_json(n),
        CheckpointError::TooFewWitnesses { verified, quorum } => {
            obj! { "kind" => "too_few_witnesses", "verified" => *verified, "quorum" => *quorum }
        }
    }
}

fn note_error_json(e: &NoteError) -> J {
    match e {
        NoteError::Malformed(_) => obj! { "kind" => "malformed_note" },
        NoteError::BadKey(_) => obj! { "kind" => "bad_key" },
        NoteError::InvalidSignature { name, key_id } => {
            obj! { "kind" => "invalid_signature", "name" => name, "key_id" => format!("{key_id:08x}") }
        }
        NoteError::TooFewSignatures { verified, quorum } => {
            obj! { "kind" => "too_few_signatures", "verified" => *verified, "quorum" => *quorum }
        }
    }
}

/// The kind an outcome must have, per policy, as the generator's author expects it.
fn expect_outcomes(name: &str, outcomes: &[(&str, J)], want: &[&str]) {
    assert_eq!(outcomes.len(), want.len());
    for ((policy, got), want) in outcomes.iter().zip(want) {
        let kind = match got {
            J::Obj(fields) => match (&fields[0].1, fields.get(1)) {
                (J::Bool(true), _) => "ok".to_string(),
                (J::Bool(false), Some((_, J::Obj(err)))) => match &err[0].1 {
                    J::Str(k) => k.clone(),
                    _ => unreachable!(),
                },
                _ => unreachable!(),
            },
            _ => unreachable!(),
        };
        assert_eq!(&kind, want, "{name} under {policy}");
    }
}

fn checkpoints(w: &World) -> J {
    let body = w.checkpoint.body();
    let policies = w.policies();
    let policy_objs: Vec<Policy> = policies
        .iter()
        .map(|(_, k, q)| Policy::new(k.clone(), *q).expect("policy"))
        .collect();

    let all4 = w.signed_note(&body, &[0, 1, 2, 3]);
    let mut with_witness = all4.clone();
    with_witness.add_signature(NoteSignature::cosign(
        WITNESS_NAME,
        &w.witness,
        COSIGNED_AT,
        &body,
    ));
    let three = w.signed_note(&body, &[0, 1, 2]);
    let mut two_and_stranger = w.signed_note(&body, &[0, 1]);
    two_and_stranger.add_signature(NoteSignature::sign(
        "stranger.example",
        &SigningKey::from_bytes(&[STRANGER_SEED; 32]),
        &body,
    ));
    let duplicate_lines = {
        let two = w.signed_note(&body, &[0, 1]);
        let first = two.signatures()[0].to_line();
        format!("{body}\n{first}{first}{}", two.signatures()[1].to_line())
    };
    let tampered = {
        let text = String::from_utf8(all4.to_bytes()).expect("UTF-8");
        text.replacen(
            &format!("\n{}\n", w.checkpoint.size),
            &format!("\n{}\n", w.checkpoint.size.0 + 1),
            1,
        )
    };
    let one_bad = {
        let mut sigs = all4.signatures().to_vec();
        sigs[3].signature[0] ^= 0x01;
        let mut n = Note::new(&body).expect("text");
        for s in sigs {
            n.add_signature(s);
        }
        n
    };
    let witness_time_changed = {
        let mut sigs = with_witness.signatures().to_vec();
        sigs[4].signature[7] ^= 0x01;
        let mut n = Note::new(&body).expect("text");
        for s in sigs {
            n.add_signature(s);
        }
        n
    };
    let other_origin = {
        let cp = Checkpoint::new(
            "bansos.example/ledger/another-log",
            w.checkpoint.size,
            w.checkpoint.root,
        );
        w.signed_note(&cp.body(), &[0, 1, 2, 3])
    };
    let not_a_checkpoint = w.signed_note("Selamat pagi.\n", &[0, 1, 2, 3]);
    let leading_zero_size = {
        let b = format!(
            "{ORIGIN}\n0{}\n{}\n",
            w.checkpoint.size,
            w.checkpoint.root.to_base64()
        );
        w.signed_note(&b, &[0, 1, 2, 3])
    };
    let all4_text = String::from_utf8(all4.to_bytes()).expect("UTF-8");
    let first_line = all4.signatures()[0].to_line();
    let b64_of_first = first_line
        .rsplit(' ')
        .next()
        .expect("base64")
        .trim_end()
        .to_string();

    let notes: Vec<(&str, &str, String, [&str; 3])> = vec![
        (
            "signed_by_4",
            "all four validators",
            all4_text.clone(),
            ["ok", "ok", "too_few_signatures"],
        ),
        (
            "signed_by_4_and_witness",
            "all four validators and a timestamped witness cosignature (type 0x04)",
            String::from_utf8(with_witness.to_bytes()).expect("UTF-8"),
            ["ok", "ok", "ok"],
        ),
        (
            "signed_by_3",
            "three of four validators",
            String::from_utf8(three.to_bytes()).expect("UTF-8"),
            ["ok", "too_few_signatures", "too_few_signatures"],
        ),
        (
            "signed_by_2_and_a_stranger",
            "two validators and a key no policy knows (ignored)",
            String::from_utf8(two_and_stranger.to_bytes()).expect("UTF-8"),
            [
                "too_few_signatures",
                "too_few_signatures",
                "too_few_signatures",
            ],
        ),
        (
            "duplicate_signature_line",
            "one validator's line twice and a second validator: counts as two",
            duplicate_lines,
            [
                "too_few_signatures",
                "too_few_signatures",
                "too_few_signatures",
            ],
        ),
        (
            "tampered_size",
            "signed_by_4 with the size line changed: every known key fails",
            tampered,
            [
                "invalid_signature",
                "invalid_signature",
                "invalid_signature",
            ],
        ),
        (
            "one_bad_signature_among_4",
            "the fourth validator's signature corrupted: a failing known key rejects the note even with a quorum",
            String::from_utf8(one_bad.to_bytes()).expect("UTF-8"),
            [
                "invalid_signature",
                "invalid_signature",
                "invalid_signature",
            ],
        ),
        (
            "witness_timestamp_changed",
            "the witness cosignature's timestamp changed: fails only where the witness key is trusted",
            String::from_utf8(witness_time_changed.to_bytes()).expect("UTF-8"),
            ["ok", "ok", "invalid_signature"],
        ),
        (
            "wrong_origin",
            "a validly signed checkpoint of another log",
            String::from_utf8(other_origin.to_bytes()).expect("UTF-8"),
            ["wrong_origin", "wrong_origin", "wrong_origin"],
        ),
        (
            "not_a_checkpoint",
            "a signed note whose text is not a checkpoint body",
            String::from_utf8(not_a_checkpoint.to_bytes()).expect("UTF-8"),
            [
                "malformed_checkpoint",
                "malformed_checkpoint",
                "malformed_checkpoint",
            ],
        ),
        (
            "size_with_leading_zero",
            "the size line 08",
            String::from_utf8(leading_zero_size.to_bytes()).expect("UTF-8"),
            [
                "malformed_checkpoint",
                "malformed_checkpoint",
                "malformed_checkpoint",
            ],
        ),
        (
            "no_blank_line",
            "no empty line between text and signatures",
            all4_text.replacen("\n\n", "\n", 1),
            ["malformed_note"; 3],
        ),
        (
            "no_final_newline",
            "the last signature line lacks its newline",
            all4_text.trim_end_matches('\n').to_string(),
            ["malformed_note"; 3],
        ),
        (
            "no_signatures",
            "text and blank line only",
            format!("{body}\n"),
            ["malformed_note"; 3],
        ),
        (
            "hyphen_instead_of_em_dash",
            "signature lines start with '- '",
            all4_text.replace('\u{2014}', "-"),
            ["malformed_note"; 3],
        ),
        (
            "signature_not_base64",
            "a signature with a character outside standard base64",
            all4_text.replacen(
                &b64_of_first,
                &b64_of_first.replacen(|c: char| c.is_ascii_alphanumeric(), "_", 1),
                1,
            ),
            ["malformed_note"; 3],
        ),
        (
            "signature_unpadded",
            "a signature without its base64 padding",
            all4_text.replacen(&b64_of_first, b64_of_first.trim_end_matches('='), 1),
            ["malformed_note"; 3],
        ),
        (
            "carriage_return",
            "CRLF line endings",
            all4_text.replace('\n', "\r\n"),
            ["malformed_note"; 3],
        ),
        (
            "signature_too_short",
            "a signature line with a 4-byte key ID and nothing else",
            format!("{body}\n\u{2014} {} AAAAAA==\n", w.members[0].name),
            ["malformed_note"; 3],
        ),
        (
            "key_name_with_plus",
            "a key name containing '+'",
            format!("{body}\n\u{2014} a+b {b64_of_first}\n"),
            ["malformed_note"; 3],
        ),
    ];
    assert!(
        b64_of_first.ends_with('='),
        "an Ed25519 line is 68 bytes, so its base64 is padded"
    );

    let mut notes_json = Vec::new();
    for (name, about, text, want) in notes {
        let outcomes: Vec<(&str, J)> = policies
            .iter()
            .zip(&policy_objs)
            .map(|((pname, _, _), p)| (*pname, checkpoint_outcome(text.as_bytes(), p)))
            .collect();
        expect_outcomes(name, &outcomes, &want);
        let expect = J::Obj(
            outcomes
                .into_iter()
                .map(|(p, o)| (p.to_string(), o))
                .collect(),
        );
        notes_json
            .push(obj! { "name" => name, "about" => about, "note" => text, "expect" => expect });
    }

    let vkey_strings: Vec<String> = (0..4).map(|i| w.vkey(i).to_string()).collect();
    let witness_vkey = w.witness_vkey().to_string();
    let mut bad_vkeys: Vec<(&str, String)> = Vec::new();
    let v0 = &vkey_strings[0];
    let (name0, rest0) = v0.split_once('+').expect("vkey");
    let (id0, key0) = rest0.split_once('+').expect("vkey");
    let wrong_id = format!("{:08x}", u32::from_str_radix(id0, 16).expect("hex") ^ 1);
    bad_vkeys.push(("key_id_mismatch", format!("{name0}+{wrong_id}+{key0}")));
    bad_vkeys.push((
        "uppercase_key_id",
        format!("{name0}+{}+{key0}", id0.to_uppercase()),
    ));
    bad_vkeys.push((
        "name_with_space",
        format!("kemensos bansos.example+{id0}+{key0}"),
    ));
    bad_vkeys.push(("missing_key", format!("{name0}+{id0}")));
    bad_vkeys.push(("unsupported_type_0x02", {
        let mut raw = vec![0x02];
        raw.extend_from_slice(w.members[0].key.verifying_key().as_bytes());
        use base64::Engine as _;
        format!(
            "{name0}+{id0}+{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }));
    bad_vkeys.push(("short_key", format!("{name0}+{id0}+{}", &key0[..40])));
    assert!(
        id0.chars().any(|c| c.is_ascii_alphabetic()),
        "the uppercase case needs a hex letter"
    );
    for (name, s) in &bad_vkeys {
        assert!(VerifierKey::parse(s).is_err(), "{name}");
    }
    for s in vkey_strings.iter().chain([&witness_vkey]) {
        assert_eq!(&VerifierKey::parse(s).expect("vkey").to_string(), s);
    }

    let validators = J::Arr(
        (0..4)
            .map(|i| {
                let m = &w.members[i];
                let v = w.vkey(i);
                obj! {
                    "name" => m.name,
                    "test_private_key_seed" => hex(&[m.seed; 32]),
                    "public_key" => hex(m.key.verifying_key().as_bytes()),
                    "key_id" => format!("{:08x}", v.key_id()),
                    "vkey" => v.to_string(),
                }
            })
            .collect(),
    );
    let wv = w.witness_vkey();
    obj! {
        "description" => "C2SP tlog-checkpoint bodies in C2SP signed notes. Validators sign with Ed25519 (type 0x01); the \
    witness cosigns with a tlog-cosignature/v1 (type 0x04: 8-byte big-endian timestamp || Ed25519 over \
    \"cosignature/v1\\ntime <t>\\n\" || body). key_id = first 4 bytes of SHA-256(name || 0x0A || type || public key). Each \
    note is checked with verify_checkpoint(note, origin, policy) under every policy; expect gives the outcome: ok with the \
    trusted signers, or an error kind (malformed_note | malformed_checkpoint | wrong_origin | invalid_signature | \
    too_few_signatures). Signatures by unknown keys are ignored; a failing signature by a trusted key rejects the note.",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "origin" => ORIGIN,
        "validators" => validators,
        "witness" => obj! {
            "name" => WITNESS_NAME,
            "test_private_key_seed" => hex(&[WITNESS_SEED; 32]),
            "public_key" => hex(w.witness.verifying_key().as_bytes()),
            "key_id" => format!("{:08x}", wv.key_id()),
            "vkey" => witness_vkey.clone(),
            "cosigned_at" => COSIGNED_AT,
        },
        "policies" => J::Obj(policies.iter().map(|(n, keys, q)| {
            (n.to_string(), obj! { "vkeys" => keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(), "quorum" => *q })
        }).collect()),
        "checkpoint" => obj! {
            "origin" => &w.checkpoint.origin,
            "size" => w.checkpoint.size.0,
            "root" => w.checkpoint.root.to_hex(),
            "root_base64" => w.checkpoint.root.to_base64(),
            "body" => body.clone(),
            "about" => "the golden log: the leaves of entries.json in order",
        },
        "notes" => notes_json,
        "invalid_vkeys" => J::Arr(bad_vkeys.into_iter().map(|(n, s)| obj! { "name" => n, "vkey" => s }).collect()),
    }
}

// ---------------------------------------------------------------------------------------------
// merkle.json

/// The leaf inputs: the eight of transparency-dev/merkle's test data, then nine more.
fn merkle_inputs() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| data_encoding::HEXLOWER.decode(h.as_bytes()).expect("hex"))
    .collect();
    v.extend((8..17).map(|i| format!("bansos leaf {i}").into_bytes()));
    v
}

fn proof_error_json(e: &ProofError) -> J {
    match e {
        ProofError::IndexOutOfRange { .. } => obj! { "kind" => "index_out_of_range" },
        ProofError::SizesOutOfOrder { .. } => obj! { "kind" => "sizes_out_of_order" },
        ProofError::WrongLength { got, expected } => {
            obj! { "kind" => "wrong_length", "got" => *got, "expected" => *expected }
        }
        ProofError::RootMismatch => obj! { "kind" => "root_mismatch" },
    }
}

/// (name, leaf index, tree size, leaf hash, proof, root, expected error kind).
type InclusionCase = (&'static str, u64, u64, Hash, Vec<Hash>, Hash, &'static str);
/// (name, old size, new size, old root, new root, proof, expected error kind).
type ConsistencyCase = (&'static str, u64, u64, Hash, Hash, Vec<Hash>, &'static str);

fn merkle_vectors() -> J {
    let inputs = merkle_inputs();
    let hashes: Vec<Hash> = inputs.iter().map(|d| leaf_hash(d)).collect();
    let root = |n: u64| merkle::root(&hashes[..], TreeSize(n)).expect("in memory");
    let roots: Vec<J> = (0..=17u64)
        .map(|n| obj! { "size" => n, "root" => root(n).to_hex() })
        .collect();
    assert_eq!(root(0), EMPTY_ROOT);
    let inclusion_cases = [
        (0u64, 1u64),
        (2, 3),
        (5, 8),
        (7, 13),
        (10, 16),
        (0, 17),
        (16, 17),
    ];
    let inclusion: Vec<J> = inclusion_cases
        .iter()
        .map(|&(i, n)| {
            let proof = merkle::inclusion_proof(&hashes[..], LeafIndex(i), TreeSize(n))
                .expect("mem")
                .expect("in range");
            merkle::verify_inclusion(
                &hashes[i as usize],
                LeafIndex(i),
                TreeSize(n),
                &proof,
                &root(n),
            )
            .expect("verifies");
            obj! {
                "leaf_index" => i,
                "tree_size" => n,
                "leaf_hash" => hashes[i as usize].to_hex(),
                "root" => root(n).to_hex(),
                "proof" => proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
            }
        })
        .collect();
    let consistency_cases = [
        (1u64, 1u64),
        (1, 8),
        (6, 8),
        (2, 5),
        (3, 7),
        (4, 16),
        (7, 17),
        (16, 17),
    ];
    let consistency: Vec<J> = consistency_cases
        .iter()
        .map(|&(m, n)| {
            let proof = merkle::consistency_proof(&hashes[..], TreeSize(m), TreeSize(n))
                .expect("mem")
                .expect("ordered");
            merkle::verify_consistency(TreeSize(m), TreeSize(n), &root(m), &root(n), &proof)
                .expect("verifies");
            obj! {
                "size1" => m,
                "size2" => n,
                "root1" => root(m).to_hex(),
                "root2" => root(n).to_hex(),
                "proof" => proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
            }
        })
        .collect();

    // Negatives, each one change from a valid proof.
    let p58 = merkle::inclusion_proof(&hashes[..], LeafIndex(5), TreeSize(8))
        .expect("mem")
        .expect("ok");
    let mut flipped = p58.clone();
    flipped[1].0[0] ^= 1;
    let bad_inclusion: Vec<InclusionCase> = vec![
        (
            "bit_flipped_in_proof",
            5,
            8,
            hashes[5],
            flipped,
            root(8),
            "root_mismatch",
        ),
        (
            "wrong_leaf",
            5,
            8,
            hashes[4],
            p58.clone(),
            root(8),
            "root_mismatch",
        ),
        (
            "wrong_index",
            4,
            8,
            hashes[5],
            p58.clone(),
            root(8),
            "root_mismatch",
        ),
        (
            "proof_too_short",
            5,
            8,
            hashes[5],
            p58[..2].to_vec(),
            root(8),
            "wrong_length",
        ),
        (
            "proof_too_long",
            5,
            8,
            hashes[5],
            [p58.clone(), vec![hashes[0]]].concat(),
            root(8),
            "wrong_length",
        ),
        (
            "index_equals_size",
            8,
            8,
            hashes[5],
            p58.clone(),
            root(8),
            "index_out_of_range",
        ),
        (
            "size_zero",
            0,
            0,
            hashes[0],
            vec![],
            EMPTY_ROOT,
            "index_out_of_range",
        ),
    ];
    let bad_inclusion: Vec<J> = bad_inclusion
        .into_iter()
        .map(|(name, i, n, leaf, proof, r, want)| {
            let err = merkle::verify_inclusion(&leaf, LeafIndex(i), TreeSize(n), &proof, &r)
                .expect_err(name);
            let err = proof_error_json(&err);
            assert!(
                matches!(&err, J::Obj(f) if matches!(&f[0].1, J::Str(k) if k == want)),
                "{name}"
            );
            obj! {
                "name" => name,
                "leaf_index" => i,
                "tree_size" => n,
                "leaf_hash" => leaf.to_hex(),
                "root" => r.to_hex(),
                "proof" => proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
                "error" => err,
            }
        })
        .collect();
    let c68 = merkle::consistency_proof(&hashes[..], TreeSize(6), TreeSize(8))
        .expect("mem")
        .expect("ok");
    let mut cflip = c68.clone();
    cflip[0].0[31] ^= 0x80;
    let bad_consistency: Vec<ConsistencyCase> = vec![
        (
            "bit_flipped_in_proof",
            6,
            8,
            root(6),
            root(8),
            cflip,
            "root_mismatch",
        ),
        (
            "swapped_roots",
            6,
            8,
            root(8),
            root(6),
            c68.clone(),
            "root_mismatch",
        ),
        (
            "wrong_old_size",
            1,
            8,
            root(6),
            root(8),
            c68.clone(),
            "root_mismatch",
        ),
        (
            "proof_too_short",
            6,
            8,
            root(6),
            root(8),
            c68[1..].to_vec(),
            "wrong_length",
        ),
        (
            "sizes_out_of_order",
            8,
            6,
            root(8),
            root(6),
            c68.clone(),
            "sizes_out_of_order",
        ),
        (
            "equal_sizes_different_roots",
            8,
            8,
            root(8),
            root(7),
            vec![],
            "root_mismatch",
        ),
    ];
    let bad_consistency: Vec<J> = bad_consistency
        .into_iter()
        .map(|(name, m, n, r1, r2, proof, want)| {
            let err = merkle::verify_consistency(TreeSize(m), TreeSize(n), &r1, &r2, &proof)
                .expect_err(name);
            let err = proof_error_json(&err);
            assert!(
                matches!(&err, J::Obj(f) if matches!(&f[0].1, J::Str(k) if k == want)),
                "{name}"
            );
            obj! {
                "name" => name,
                "size1" => m,
                "size2" => n,
                "root1" => r1.to_hex(),
                "root2" => r2.to_hex(),
                "proof" => proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
                "error" => err,
            }
        })
        .collect();
    obj! {
        "description" => "RFC 6962 Merkle tree over 17 leaves: leaf hash = SHA-256(0x00 || input), node hash = \
    SHA-256(0x01 || left || right), the empty tree's root = SHA-256(\"\"). roots for sizes 0..=17; inclusion proofs (audit \
    paths, leaf's sibling first) and consistency proofs (RFC 9162 section 2.1.4) that verify; then single changes that \
    must not, with the error kind (root_mismatch | wrong_length | index_out_of_range | sizes_out_of_order). The first \
    eight inputs are those of transparency-dev/merkle's test data, so roots 1..=8 match its vectors.",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "leaves" => J::Arr(inputs.iter().zip(&hashes).map(|(d, h)| obj! { "input_hex" => hex(d), "leaf_hash" => h.to_hex() }).collect()),
        "roots" => roots,
        "inclusion" => inclusion,
        "consistency" => consistency,
        "invalid_inclusion" => bad_inclusion,
        "invalid_consistency" => bad_consistency,
    }
}

// ---------------------------------------------------------------------------------------------
// tiles.json

fn tile_json(t: &TileRef) -> J {
    let (kind, level) = match t.kind {
        TileKind::Hash(l) => ("hash", Some(l)),
        TileKind::Entries => ("entries", None),
    };
    // Tile indexes reach 2^64 - 1, beyond exact JavaScript numbers: written as decimal strings.
    obj! { "kind" => kind, "level" => level, "index" => t.index.to_string(), "width" => t.width, "path" => t.path() }
}

fn tiles(w: &World) -> J {
    let refs = [
        TileRef::hash(0, 0, 256),
        TileRef::hash(0, 7, 256),
        TileRef::hash(0, 0, 8),
        TileRef::hash(1, 999, 256),
        TileRef::hash(0, 1000, 256),
        TileRef::hash(0, 1001, 1),
        TileRef::hash(2, 1_234_067, 17),
        TileRef::hash(0, 273, 112),
        TileRef::hash(63, 1_000_000, 256),
        TileRef::entries(0, 8),
        TileRef::entries(273, 112),
        TileRef::entries(1_000_000_000, 255),
        TileRef::entries(u64::MAX, 255),
    ];
    for t in &refs {
        assert_eq!(TileRef::parse(&t.path()).as_ref(), Ok(t));
    }
    let bad_paths = [
        ("tile/0/000.p/0", "partial width 0"),
        (
            "tile/0/000.p/256",
            "partial width 256 (a full tile has no .p/)",
        ),
        ("tile/0/000.p/007", "leading zeros in the width"),
        ("tile/00/000", "leading zero in the level"),
        ("tile/64/000", "level above 63"),
        ("tile/0/x000/001", "a leading all-zero index group"),
        ("tile/0/001/000", "x missing on a non-final index group"),
        ("tile/0/x001/00", "an index group of two digits"),
        ("tile/0/1", "an index group of one digit"),
        ("tile/0/x001/x234/067/", "a trailing slash"),
        ("tile/data/000", "unknown tile kind"),
        ("tile/8/0/000", "extra path element"),
        (
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "index 2^64: does not fit 64 bits",
        ),
        (
            "tile/0/x001/x001/x001/x001/x001/x001/x001/001",
            "more than 7 index groups",
        ),
        ("tile/entries/000.p/", "empty width"),
        ("tile/0/", "no index"),
        ("tiles/0/000", "wrong first element"),
        ("TILE/0/000", "uppercase"),
        ("tile/0/-01", "a sign"),
        ("tile/ 0/000", "a space"),
        ("", "empty"),
    ];
    for (p, why) in bad_paths {
        assert!(TileRef::parse(p).is_err(), "{p}: {why}");
    }
    let edge_sizes = [1u64, 8, 255, 256, 257, 65_536, 70_000];
    let edges: Vec<J> = edge_sizes
        .iter()
        .map(|&n| obj! { "size" => n, "edge_tiles" => tile::edge_tiles(TreeSize(n)).iter().map(|t| t.path()).collect::<Vec<_>>() })
        .collect();

    // The golden log as tiles.
    let size = w.leaf_hashes.len() as u16;
    let hash_tile = TileRef::hash(0, 0, size);
    let hash_tile_bytes: Vec<u8> = w.leaf_hashes.iter().flat_map(|h| h.0).collect();
    let bundle_tile = TileRef::entries(0, size);
    let mut bundle = Vec::new();
    for e in &w.examples {
        tile::push_bundle_entry(&mut bundle, &e.leaf.encode()).expect("small entry");
    }
    let mut tiles = tile::VerifiedTiles::new(w.checkpoint.size, w.checkpoint.root);
    tiles
        .add_edge(&[(hash_tile, hash_tile_bytes.clone())])
        .expect("edge tile matches the root");
    assert_eq!(
        tiles
            .check_bundle(&bundle_tile, &bundle)
            .expect("bundle")
            .len(),
        w.examples.len()
    );

    let two = {
        let mut b = Vec::new();
        tile::push_bundle_entry(&mut b, b"ab").expect("small");
        tile::push_bundle_entry(&mut b, b"").expect("small");
        b
    };
    let bundles: Vec<(&str, u16, Vec<u8>, bool)> = vec![
        ("two_entries", 2, two.clone(), true),
        ("two_entries_read_as_one", 1, two.clone(), false),
        ("two_entries_read_as_three", 3, two.clone(), false),
        (
            "truncated_length_prefix",
            2,
            [two.as_slice(), &[0]].concat(),
            false,
        ),
        ("truncated_entry", 2, two[..3].to_vec(), false),
        ("empty_bytes", 1, vec![], false),
        ("one_empty_entry", 1, vec![0, 0], true),
    ];
    let bundles_json: Vec<J> = bundles
        .into_iter()
        .map(|(name, width, bytes, ok)| {
            let parsed = tile::parse_bundle(&TileRef::entries(0, width), &bytes);
            assert_eq!(parsed.is_ok(), ok, "{name}");
            obj! {
                "name" => name,
                "width" => width,
                "hex" => hex(&bytes),
                "ok" => ok,
                "entries" => parsed.ok().map(|e| e.iter().map(|x| hex(x)).collect::<Vec<_>>()),
            }
        })
        .collect();
    obj! {
        "description" => "C2SP tlog-tiles paths (height 8, width 256): tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>], \
    N in groups of three digits, x before all but the last, W in 1..=255 for a partial tile. Only the canonical form \
    parses; a leading '/' is accepted. index is a decimal string because it may exceed 2^53. edge_tiles: the partial \
    tiles that, with the full tiles below them, determine a tree's root. golden_log: the log of entries.json as its \
    level-0 hash tile and entry bundle (uint16 big-endian length || entry, per entry). bundles: parse_bundle at the \
    given width.",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "paths" => refs.iter().map(tile_json).collect::<Vec<_>>(),
        "invalid_paths" => J::Arr(bad_paths.iter().map(|(p, why)| obj! { "path" => *p, "reason" => *why }).collect()),
        "edge_tiles" => edges,
        "golden_log" => obj! {
            "size" => w.checkpoint.size.0,
            "root" => w.checkpoint.root.to_hex(),
            "hash_tile_path" => hash_tile.path(),
            "hash_tile_hex" => hex(&hash_tile_bytes),
            "entry_bundle_path" => bundle_tile.path(),
            "entry_bundle_hex" => hex(&bundle),
        },
        "bundles" => bundles_json,
    }
}

// ---------------------------------------------------------------------------------------------
// tlog_proof.json

fn tlog_proof_error_json(e: &TlogProofError) -> J {
    match e {
        TlogProofError::Malformed(_) => obj! { "stage" => "parse", "kind" => "malformed_proof" },
        TlogProofError::Checkpoint(c) => {
            obj! { "stage" => "checkpoint", "error" => checkpoint_error_json(c) }
        }
        TlogProofError::Proof(p) => obj! { "stage" => "inclusion", "error" => proof_error_json(p) },
    }
}

fn tlog_proofs(w: &World) -> J {
    let (pname, keys, quorum) = w.policies().remove(0);
    let policy = Policy::new(keys.clone(), quorum).expect("policy");
    let body = w.checkpoint.body();
    let note = w.signed_note(&body, &[0, 1, 2, 3]).to_bytes();
    let weak_note = w.signed_note(&body, &[0, 1]).to_bytes();
    let bundle = |index: usize, extra: bool, note: &[u8]| {
        let proof = merkle::inclusion_proof(
            &w.leaf_hashes[..],
            LeafIndex(index as u64),
            w.checkpoint.size,
        )
        .expect("mem")
        .expect("ok");
        TlogProof {
            extra: extra.then(|| w.examples[index].leaf.encode()),
            index: LeafIndex(index as u64),
            proof,
            checkpoint: note.to_vec(),
        }
    };
    let text = |p: &TlogProof| String::from_utf8(p.to_bytes()).expect("UTF-8");
    let alloc = bundle(2, true, &note);
    let no_extra = bundle(7, false, &note);
    let valid = [
        (
            "allocation_with_entry",
            "allocation A (leaf 2) with its leaf bytes in extra",
            &alloc,
        ),
        (
            "revocation_without_extra",
            "leaf 7 without extra: the leaf hash comes from elsewhere",
            &no_extra,
        ),
    ];
    let mut valid_json = Vec::new();
    for (name, about, p) in valid {
        let t = text(p);
        let parsed = TlogProof::parse(t.as_bytes()).expect("parses");
        assert_eq!(&parsed, p);
        let lh = w.leaf_hashes[p.index.0 as usize];
        if let Some(extra) = &p.extra {
            assert_eq!(leaf_hash(extra), lh);
        }
        parsed.verify(&lh, Some(ORIGIN), &policy).expect("verifies");
        valid_json.push(obj! {
            "name" => name,
            "about" => about,
            "text" => t,
            "index" => p.index.0,
            "extra_hex" => p.extra.as_ref().map(|e| hex(e)),
            "leaf_hash" => lh.to_hex(),
            "proof" => p.proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
        });
    }

    let at = text(&alloc);
    let header_end = at.find('\n').expect("header");
    let first_hash = alloc.proof[0].to_base64();
    let unparseable: Vec<(&str, String)> = vec![
        (
            "header_v2",
            at.replacen("tlog-proof@v1", "tlog-proof@v2", 1),
        ),
        (
            "index_leading_zero",
            at.replacen("\nindex 2\n", "\nindex 02\n", 1),
        ),
        (
            "index_negative",
            at.replacen("\nindex 2\n", "\nindex -2\n", 1),
        ),
        (
            "index_over_64_bits",
            at.replacen("\nindex 2\n", "\nindex 18446744073709551616\n", 1),
        ),
        ("index_missing", {
            let start = at.find("\nindex ").expect("index");
            let end = at[start + 1..].find('\n').expect("eol") + start + 1;
            format!("{}{}", &at[..start], &at[end..])
        }),
        ("extra_not_base64", at.replacen("\nextra ", "\nextra !", 1)),
        ("extra_after_index", {
            let p = TlogProof {
                extra: None,
                ..alloc.clone()
            };
            let t = text(&p);
            let extra_line = format!("extra {}\n", {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .encode(alloc.extra.as_ref().expect("extra"))
            });
            let after_index = t.find("\nindex 2\n").expect("index") + "\nindex 2\n".len();
            format!("{}{}{}", &t[..after_index], extra_line, &t[after_index..])
        }),
        (
            "proof_hash_unpadded",
            at.replacen(&first_hash, first_hash.trim_end_matches('='), 1),
        ),
        (
            "proof_hash_hex",
            at.replacen(&first_hash, &alloc.proof[0].to_hex(), 1),
        ),
        ("no_blank_line", at.replacen("\n\n", "\n", 1)),
        (
            "crlf",
            format!("{}\r{}", &at[..header_end], &at[header_end..]),
        ),
        ("too_many_hashes", {
            let p = TlogProof {
                proof: vec![alloc.proof[0]; 66],
                ..alloc.clone()
            };
            text(&p)
        }),
    ];
    let mut unparseable_json = Vec::new();
    for (name, t) in unparseable {
        let err = TlogProof::parse(t.as_bytes()).expect_err(name);
        unparseable_json
            .push(obj! { "name" => name, "text" => t, "error" => tlog_proof_error_json(&err) });
    }

    let wrong_index = TlogProof {
        index: LeafIndex(3),
        ..alloc.clone()
    };
    let tampered_extra = {
        let mut leaf = w.examples[2].leaf.clone();
        if let TxBody::Allocation(a) = &mut leaf.tx.body {
            a.amount = Rupiah(7_500_000);
        }
        TlogProof {
            extra: Some(leaf.encode()),
            ..alloc.clone()
        }
    };
    let short_proof = TlogProof {
        proof: alloc.proof[1..].to_vec(),
        ..alloc.clone()
    };
    let weak = TlogProof {
        checkpoint: weak_note,
        ..alloc.clone()
    };
    let other_log = {
        let cp = Checkpoint::new(
            "bansos.example/ledger/another-log",
            w.checkpoint.size,
            w.checkpoint.root,
        );
        TlogProof {
            checkpoint: w.signed_note(&cp.body(), &[0, 1, 2, 3]).to_bytes(),
            ..alloc.clone()
        }
    };
    let failing = [
        (
            "wrong_index",
            "index 3 with the proof of leaf 2",
            &wrong_index,
            "inclusion",
        ),
        (
            "tampered_extra",
            "extra with the amount raised to 7,500,000: its leaf hash is not in the log",
            &tampered_extra,
            "inclusion",
        ),
        (
            "proof_missing_a_hash",
            "the first proof hash removed",
            &short_proof,
            "inclusion",
        ),
        (
            "checkpoint_with_2_signatures",
            "the checkpoint carries 2 of the 3 required signatures",
            &weak,
            "checkpoint",
        ),
        (
            "checkpoint_of_another_log",
            "a valid checkpoint of another origin",
            &other_log,
            "checkpoint",
        ),
    ];
    let mut failing_json = Vec::new();
    for (name, about, p, stage) in failing {
        let t = text(p);
        let parsed = TlogProof::parse(t.as_bytes()).expect("parses");
        let lh = parsed
            .extra
            .as_ref()
            .map_or(w.leaf_hashes[2], |e| leaf_hash(e));
        let err = parsed.verify(&lh, Some(ORIGIN), &policy).expect_err(name);
        let err = tlog_proof_error_json(&err);
        assert!(
            matches!(&err, J::Obj(f) if matches!(&f[0].1, J::Str(s) if s == stage)),
            "{name}"
        );
        failing_json.push(obj! { "name" => name, "about" => about, "text" => t, "leaf_hash" => lh.to_hex(), "error" => err });
    }
    obj! {
        "description" => "C2SP tlog-proof@v1 bundles: header line, optional 'extra <base64>' (we carry the Leaf bytes, \
    unauthenticated until their leaf hash is proven), 'index <n>', one base64 proof hash per line, a blank line, then the \
    signed checkpoint verbatim. Verify with TlogProof::verify(leaf_hash, origin, policy), leaf_hash = SHA-256(0x00 || \
    extra) when extra is present. unparseable: TlogProof::parse refuses them. failing: they parse, and verification \
    fails at the stage named (checkpoint | inclusion).",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "origin" => ORIGIN,
        "policy" => obj! { "name" => pname, "vkeys" => keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(), "quorum" => quorum },
        "valid" => valid_json,
        "unparseable" => unparseable_json,
        "failing" => failing_json,
    }
}

/// The trust policy of the golden network: the four validators, quorum 3, no witnesses, the
/// members and programs named (citizen.json's `validators_quorum_3`, governance.json's genesis).
fn golden_policy_file(w: &World) -> bansos_verifier::policy::PolicyFile {
    use bansos_verifier::policy::{PolicyFile, PolicyMember, PolicyProgram};
    PolicyFile {
        format: bansos_verifier::policy::POLICY_FORMAT.into(),
        network_name: "golden-vectors".into(),
        network_id: w.network,
        origin: ORIGIN.into(),
        quorum: 3,
        verifier_keys: (0..4).map(|i| w.vkey(i).to_string()).collect(),
        witnesses: Vec::new(),
        witness_quorum: 0,
        members: w
            .members
            .iter()
            .map(|m| PolicyMember {
                id: m.id,
                name: m.name.into(),
                display_name: m.name.split('.').next().expect("name").to_uppercase(),
                role: m.role.into(),
            })
            .collect(),
        programs: vec![
            PolicyProgram {
                code: "PKH".into(),
                name: "Program Keluarga Harapan".into(),
            },
            PolicyProgram {
                code: "SEMBAKO".into(),
                name: "Program Sembako".into(),
            },
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// The citizen's check (docs/VERIFY.md): receipts, NIKs and receipt bundles with their verdicts.

fn citizen(w: &World) -> J {
    use bansos_verifier::citizen::{self, Evidence, Outcome, Proven};
    use bansos_verifier::policy::{PolicyFile, TrustPolicy};

    // The golden log, then allocation D (never claimed) and E (600,000 of which 400,000 paid).
    let extra = [
        ("D", "3171014101900004", 600_000),
        ("E", "3171014101900005", 600_000),
    ];
    let mut leaves: Vec<Vec<u8>> = w.examples.iter().map(|e| e.leaf.encode()).collect();
    let mut extra_secrets = Vec::new();
    for (label, nik, amount) in extra {
        let nik = Nik::parse(nik).expect("synthetic NIK");
        let salt: [u8; 32] = fixed(&format!("salt/{label}"));
        let secret: [u8; 16] = fixed(&format!("claim-secret/{label}"));
        let body = TxBody::Allocation(Allocation {
            id: AllocationId(fixed(&format!("allocation-id/{label}"))),
            program: ProgramCode::new("PKH").expect("code"),
            period: Period::new("2026Q4").expect("period"),
            region: RegionCode::new(3273).expect("region"),
            amount: Rupiah(amount),
            payer: MemberId(2),
            beneficiary_commitment: commitment::beneficiary_commitment(&salt, &nik),
            dedup_tag: commitment::dedup_tag(&w.dedup_key, "PKH", "2026Q4", &nik),
            claim_lock: commitment::claim_lock(&secret),
            expires_at: EXPIRES_AT,
        });
        let tx = SignedTx::sign(&w.network, MemberId(0), body, &w.members[0].key).expect("tx");
        let leaf = Leaf {
            height: 5,
            block_time: block_time(5),
            tx,
        };
        leaves.push(leaf.encode());
        extra_secrets.push((label, salt, secret, leaves.len() as u64 - 1));
    }
    let claim_e = TxBody::Claim(Claim {
        allocation: AllocationId(fixed("allocation-id/E")),
        amount: Rupiah(400_000),
        channel: Channel::Agent,
        region: RegionCode::new(3273).expect("region"),
        outlet: fixed("outlet/bri-agent-3273-0007"),
        claim_secret: extra_secrets[1].2,
        claimed_at: block_time(6) - 3_600,
    });
    let tx = SignedTx::sign(&w.network, MemberId(2), claim_e, &w.members[2].key).expect("tx");
    leaves.push(
        Leaf {
            height: 6,
            block_time: block_time(6),
            tx,
        }
        .encode(),
    );

    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let size = TreeSize(hashes.len() as u64);
    let root = merkle::root(&hashes[..], size).expect("in memory");
    let body = Checkpoint::new(ORIGIN, size, root).body();
    let note = w.signed_note(&body, &[0, 1, 2]).to_bytes();
    let proven = |i: u64| Proven {
        index: LeafIndex(i),
        leaf: leaves[i as usize].clone(),
        proof: merkle::inclusion_proof(&hashes[..], LeafIndex(i), size)
            .expect("mem")
            .expect("ok"),
    };
    let evidence = |alloc: u64, events: &[u64]| Evidence {
        key_history: None,
        checkpoint: note.clone(),
        allocation: Some(proven(alloc)),
        events: events.iter().map(|&i| proven(i)).collect(),
    };

    let policy_file = golden_policy_file(w);
    let policy = TrustPolicy::new(policy_file.clone()).expect("policy");
    let tag = bansos_verifier::receipt::network_tag(&w.network);

    let receipt_of = |label: &str, salt: [u8; 32], secret: [u8; 16], index: u64| Receipt {
        network_tag: tag,
        leaf_index: LeafIndex(index),
        allocation: AllocationId(fixed(&format!("allocation-id/{label}"))),
        salt,
        claim_secret: secret,
    };
    let golden = |i: usize| {
        let b = &w.beneficiaries[i];
        receipt_of(b.label, b.salt, b.claim_secret, 2 + i as u64)
    };
    let (a, b, c) = (golden(0), golden(1), golden(2));
    let d = receipt_of(
        "D",
        extra_secrets[0].1,
        extra_secrets[0].2,
        extra_secrets[0].3,
    );
    let e = receipt_of(
        "E",
        extra_secrets[1].1,
        extra_secrets[1].2,
        extra_secrets[1].3,
    );
    let nik_of = |i: usize| w.beneficiaries[i].nik;
    let (nik_d, nik_e) = (extra[0].1, extra[1].1);

    let flip = |mut bytes: Vec<u8>, at: usize| {
        bytes[at] ^= 1;
        bytes
    };
    let mut tampered_entry = evidence(2, &[5]);
    let n = tampered_entry.allocation.as_ref().expect("set").leaf.len();
    tampered_entry.allocation.as_mut().expect("set").leaf =
        flip(tampered_entry.allocation.clone().expect("set").leaf, n - 80);
    let mut tampered_proof = evidence(2, &[5]);
    tampered_proof.allocation.as_mut().expect("set").proof[0].0[0] ^= 1;
    let mut tampered_claim = evidence(2, &[5]);
    let n = tampered_claim.events[0].leaf.len();
    tampered_claim.events[0].leaf = flip(tampered_claim.events[0].leaf.clone(), n - 70);
    let mut too_few = evidence(2, &[5]);
    too_few.checkpoint = w.signed_note(&body, &[0, 3]).to_bytes();
    let mut tampered_checkpoint = evidence(2, &[5]);
    let forged_root = Hash::digest(b"a forged root");
    tampered_checkpoint.checkpoint = {
        let good = w.signed_note(&body, &[0, 1, 2]).to_bytes();
        let text = String::from_utf8(good).expect("UTF-8");
        text.replacen(&root.to_base64(), &forged_root.to_base64(), 1)
            .into_bytes()
    };
    let not_yet = Evidence {
        key_history: None,
        checkpoint: note.clone(),
        allocation: None,
        events: Vec::new(),
    };
    let mut wrong_network = a.clone();
    wrong_network.network_tag[0] ^= 0xff;
    let mut claim_as_allocation = a.clone();
    claim_as_allocation.leaf_index = LeafIndex(5);
    let mut other_id = a.clone();
    other_id.allocation.0[0] ^= 1;
    let mut beyond = d.clone();
    beyond.leaf_index = LeafIndex(size.0);
    let mixed = {
        let other_note = w.signed_note(&body, &[1, 2, 3]).to_bytes();
        let one = evidence(2, &[]).to_bundle();
        let two = Evidence {
            checkpoint: other_note,
            ..evidence(2, &[5])
        }
        .to_bundle();
        let one: serde_json::Value = serde_json::from_str(&one).expect("json");
        let mut two: serde_json::Value = serde_json::from_str(&two).expect("json");
        two["allocation"] = one["allocation"].clone();
        serde_json::to_string_pretty(&two).expect("json") + "\n"
    };
    let before = EXPIRES_AT - 86_400 * 30;

    type Case = (
        &'static str,
        &'static str,
        Receipt,
        &'static str,
        u64,
        String,
        Outcome,
    );
    let cases: Vec<Case> = vec![
        (
            "claimed",
            "A: allocated 750,000 and paid 750,000 at a post office",
            a.clone(),
            nik_of(0),
            before,
            evidence(2, &[5]).to_bundle(),
            Outcome::Claimed,
        ),
        (
            "not_claimed",
            "D: allocated, no claim yet",
            d.clone(),
            nik_d,
            before,
            evidence(d.leaf_index.0, &[]).to_bundle(),
            Outcome::NotClaimed,
        ),
        (
            "not_claimed_expired",
            "D after its expiry: expired is true",
            d.clone(),
            nik_d,
            EXPIRES_AT,
            evidence(d.leaf_index.0, &[]).to_bundle(),
            Outcome::NotClaimed,
        ),
        (
            "paid_less",
            "E: allocated 600,000, paid 400,000 by an agent",
            e.clone(),
            nik_e,
            before,
            evidence(e.leaf_index.0, &[10]).to_bundle(),
            Outcome::PaidLess,
        ),
        (
            "returned",
            "B: returned by its payer (MOVED)",
            b.clone(),
            nik_of(1),
            before,
            evidence(3, &[6]).to_bundle(),
            Outcome::Returned,
        ),
        (
            "revoked",
            "C: revoked by the ministry (DUPLICATE)",
            c.clone(),
            nik_of(2),
            before,
            evidence(4, &[7]).to_bundle(),
            Outcome::Revoked,
        ),
        (
            "nik_mismatch",
            "A's receipt with B's NIK",
            a.clone(),
            nik_of(1),
            before,
            evidence(2, &[5]).to_bundle(),
            Outcome::NikMismatch,
        ),
        (
            "wrong_network",
            "a receipt whose network tag is not the policy's",
            wrong_network,
            nik_of(0),
            before,
            evidence(2, &[5]).to_bundle(),
            Outcome::WrongNetwork,
        ),
        (
            "leaf_is_a_claim",
            "the receipt points at a claim's leaf",
            claim_as_allocation,
            nik_of(0),
            before,
            evidence(5, &[]).to_bundle(),
            Outcome::NotAnAllocation,
        ),
        (
            "other_allocation_id",
            "the leaf is an allocation with another id",
            other_id,
            nik_of(0),
            before,
            evidence(2, &[]).to_bundle(),
            Outcome::NotAnAllocation,
        ),
        (
            "not_in_log",
            "the receipt's leaf index is the checkpoint's size",
            beyond,
            nik_d,
            before,
            not_yet.to_bundle(),
            Outcome::NotInLog,
        ),
        (
            "too_few_signatures",
            "the checkpoint has 2 trusted signatures, the policy wants 3",
            a.clone(),
            nik_of(0),
            before,
            too_few.to_bundle(),
            Outcome::InvalidCheckpoint,
        ),
        (
            "tampered_checkpoint",
            "the checkpoint's root was replaced: the first signature fails",
            a.clone(),
            nik_of(0),
            before,
            tampered_checkpoint.to_bundle(),
            Outcome::InvalidCheckpoint,
        ),
        (
            "tampered_entry",
            "one bit of the allocation's leaf flipped",
            a.clone(),
            nik_of(0),
            before,
            tampered_entry.to_bundle(),
            Outcome::InvalidEvidence,
        ),
        (
            "tampered_proof",
            "one bit of the allocation's proof flipped",
            a.clone(),
            nik_of(0),
            before,
            tampered_proof.to_bundle(),
            Outcome::InvalidEvidence,
        ),
        (
            "tampered_claim",
            "one bit of the claim's leaf flipped",
            a.clone(),
            nik_of(0),
            before,
            tampered_claim.to_bundle(),
            Outcome::InvalidEvidence,
        ),
        (
            "unrelated_event",
            "A's bundle carries E's claim",
            a.clone(),
            nik_of(0),
            before,
            evidence(2, &[5, 10]).to_bundle(),
            Outcome::InvalidEvidence,
        ),
        (
            "missing_allocation",
            "no allocation although its index is inside the tree",
            a.clone(),
            nik_of(0),
            before,
            not_yet.to_bundle(),
            Outcome::InvalidEvidence,
        ),
        (
            "wrong_index",
            "the allocation's proof is for leaf 3",
            a.clone(),
            nik_of(0),
            before,
            evidence(3, &[]).to_bundle(),
            Outcome::InvalidEvidence,
        ),
        (
            "mixed_checkpoints",
            "the claim's tlog-proof carries another checkpoint",
            a.clone(),
            nik_of(0),
            before,
            mixed,
            Outcome::InvalidEvidence,
        ),
        (
            "malformed_bundle",
            "not a receipt bundle",
            a.clone(),
            nik_of(0),
            before,
            "{\"format\": \"bansos-ledger/receipt-bundle@v2\"}\n".to_string(),
            Outcome::InvalidEvidence,
        ),
    ];
    let mut out = Vec::new();
    for (name, about, receipt, nik, now, bundle, want) in cases {
        let nik_parsed = Nik::parse(nik).expect("synthetic NIK");
        let verdict = citizen::check_bundle(&policy, &receipt, &nik_parsed, bundle.as_bytes(), now);
        assert_eq!(verdict.outcome, want, "case {name}: {verdict:?}");
        out.push(obj! {
            "name" => name,
            "about" => about,
            "policy" => "validators_quorum_3",
            "receipt" => receipt.to_text(),
            "nik" => nik,
            "now" => now,
            "bundle" => bundle,
            "expect" => view(&verdict),
        });
    }

    // A policy that also requires the golden witness's cosignature (tlog-cosignature, 0x04).
    let witnessed_policy = TrustPolicy::new(PolicyFile {
        witnesses: vec![w.witness_vkey().to_string()],
        witness_quorum: 1,
        ..policy_file.clone()
    })
    .expect("policy");
    let cosigned = |sigs: &[usize]| {
        let mut n = w.signed_note(&body, sigs);
        n.add_signature(NoteSignature::cosign(
            WITNESS_NAME,
            &w.witness,
            COSIGNED_AT,
            &body,
        ));
        n
    };
    let with_checkpoint = |note: Vec<u8>| {
        Evidence {
            checkpoint: note,
            ..evidence(2, &[5])
        }
        .to_bundle()
    };
    let cosignature_fails = {
        let mut sigs = cosigned(&[0, 1, 2]).signatures().to_vec();
        sigs[3].signature[7] ^= 0x01; // the timestamp: the cosigned message changes
        let mut n = Note::new(&body).expect("text");
        for s in sigs {
            n.add_signature(s);
        }
        n
    };
    let witness_cases = [
        (
            "witness_cosigned",
            "A's bundle; the checkpoint carries 3 validator signatures and the witness's cosignature",
            with_checkpoint(cosigned(&[0, 1, 2]).to_bytes()),
            Outcome::Claimed,
        ),
        (
            "witness_missing",
            "A's bundle; the checkpoint has no witness cosignature",
            evidence(2, &[5]).to_bundle(),
            Outcome::InvalidCheckpoint,
        ),
        (
            "witness_but_too_few_validators",
            "the witness cosigned, but only 2 validators signed",
            with_checkpoint(cosigned(&[0, 3]).to_bytes()),
            Outcome::InvalidCheckpoint,
        ),
        (
            "witness_cosignature_fails",
            "the witness's cosignature timestamp was changed: its signature fails",
            with_checkpoint(cosignature_fails.to_bytes()),
            Outcome::InvalidCheckpoint,
        ),
    ];
    for (name, about, bundle, want) in witness_cases {
        let nik = nik_of(0);
        let nik_parsed = Nik::parse(nik).expect("synthetic NIK");
        let verdict = citizen::check_bundle(
            &witnessed_policy,
            &a,
            &nik_parsed,
            bundle.as_bytes(),
            before,
        );
        assert_eq!(verdict.outcome, want, "case {name}: {verdict:?}");
        out.push(obj! {
            "name" => name,
            "about" => about,
            "policy" => "validators_quorum_3_witness_1",
            "receipt" => a.to_text(),
            "nik" => nik,
            "now" => before,
            "bundle" => bundle,
            "expect" => view(&verdict),
        });
    }
    obj! {
        "description" => "The citizen's check of a receipt (docs/VERIFY.md): for each case a trust policy, a receipt code, a NIK, the time, and a receipt bundle (as the file's text), with the verdict both verifiers must produce.",
        "regenerate" => "cargo run -p bansos-verifier --example golden_vectors -- testdata/vectors",
        "synthetic_data" => SYNTHETIC_NOTE,
        "policies" => J::Obj(vec![
            ("validators_quorum_3".into(), view(&policy.file)),
            ("validators_quorum_3_witness_1".into(), view(&witnessed_policy.file)),
        ]),
        "cases" => out,
    }
}

// ---------------------------------------------------------------------------------------------
// governance.json

#[path = "governance.rs"]
mod governance;
