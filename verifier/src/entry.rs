//! The ledger's entries and their canonical binary encoding, version 1 (docs/FORMAT.md).
//!
//! A log leaf is a [`Leaf`]: the block that committed it and a [`SignedTx`], which is a member's
//! Ed25519 signature over one [`TxBody`] (program registration, allocation, claim, return,
//! revocation). Encoding is a pure function of the value and decoding accepts exactly the bytes
//! encoding produces: unknown versions and tags, out-of-range values, oversize strings and
//! trailing bytes are refused, so `encode(decode(b)) == b` for every accepted `b`.
//! The JSON forms (serde) are views for people and APIs; the bytes are what is signed and logged.

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::codec::{Reader, Writer};
use crate::governance::Vote;
use crate::hash::Hash;

/// Version byte of [`SignedTx`] and [`Leaf`] encodings.
pub const FORMAT_VERSION: u8 = 1;
/// Largest encoded signed transaction accepted anywhere.
pub const TX_BYTES_MAX: usize = 1024;
/// Longest program code.
pub const PROGRAM_CODE_BYTES_MAX: usize = 16;
/// Longest program name.
pub const PROGRAM_NAME_BYTES_MAX: usize = 100;
/// Longest period string (`2026-11`, `2026Q4`, `2026`).
pub const PERIOD_BYTES_MAX: usize = 7;
/// Domain separator of the transaction signature (followed by the network id).
pub const TX_SIGNING_DOMAIN: &[u8] = b"bansos-ledger/tx/v1\0";

/// Why bytes were refused as an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Input ended inside a field.
    #[error("truncated in field {0}")]
    Truncated(&'static str),
    /// Bytes remain after the value.
    #[error("{0} unexpected bytes after the end")]
    TrailingBytes(usize),
    /// Unknown format version.
    #[error("unknown format version {0}")]
    UnknownVersion(u8),
    /// Unknown tag of an enumeration.
    #[error("unknown {field} tag {tag}")]
    UnknownTag {
        /// Which enumeration.
        field: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A field is larger than its limit.
    #[error("field {field} is longer than {max} bytes")]
    Oversize {
        /// Which field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// A field's value is out of its domain.
    #[error("field {field} is invalid: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Hex in JSON for fixed-size byte arrays.
pub(crate) mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::HEXLOWER.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let v = data_encoding::HEXLOWER_PERMISSIVE
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom(format!("expected {N} bytes of hex")))
    }
}

/// The network a transaction belongs to: SHA-256 of its genesis file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NetworkId(#[serde(with = "hex_array")] pub [u8; 32]);

/// A genesis member's number (its position in the genesis member list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemberId(pub u16);

/// A random 128-bit allocation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AllocationId(#[serde(with = "hex_array")] pub [u8; 16]);

impl AllocationId {
    /// Lowercase hex, as in URLs.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }
    /// Parses 32 hex digits.
    pub fn from_hex(s: &str) -> Option<AllocationId> {
        let v = data_encoding::HEXLOWER_PERMISSIVE
            .decode(s.as_bytes())
            .ok()?;
        Some(AllocationId(v.try_into().ok()?))
    }
}

/// An amount in whole rupiah.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Rupiah(pub u64);

impl Rupiah {
    /// The amount with dots between thousands, as Indonesians write it: `1.250.000`.
    pub fn dotted(self) -> String {
        let digits = self.0.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(c);
        }
        out
    }
}

/// A Kemendagri kabupaten/kota code: 2-digit province (11–99) and 2-digit kabupaten/kota
/// (01–99), e.g. 3171 (Kota Administrasi Jakarta Pusat). Finer codes never enter the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct RegionCode(u16);

impl RegionCode {
    /// Checks the shape of the code (not that it exists today: regions split).
    pub fn new(code: u16) -> Option<RegionCode> {
        let (province, city) = (code / 100, code % 100);
        ((11..=99).contains(&province) && city >= 1).then_some(RegionCode(code))
    }
    /// The 4-digit number.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for RegionCode {
    type Error = &'static str;
    fn try_from(v: u16) -> Result<Self, Self::Error> {
        RegionCode::new(v).ok_or("not a 4-digit kabupaten/kota code")
    }
}

impl From<RegionCode> for u16 {
    fn from(r: RegionCode) -> u16 {
        r.0
    }
}

/// A program code such as `PKH`, `SEMBAKO`, `BLT`, `PIP`: 2–16 of `A-Z`, `0-9`, `_`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProgramCode(String);

impl ProgramCode {
    /// Validates a code.
    pub fn new(code: &str) -> Option<ProgramCode> {
        let ok = (2..=PROGRAM_CODE_BYTES_MAX).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        ok.then(|| ProgramCode(code.to_owned()))
    }
    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProgramCode {
    type Error = &'static str;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        ProgramCode::new(&v).ok_or("a program code is 2-16 of A-Z, 0-9, _")
    }
}

impl From<ProgramCode> for String {
    fn from(p: ProgramCode) -> String {
        p.0
    }
}

/// How often a program pays, which fixes the shape of its periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// `YYYY-MM`.
    Monthly = 1,
    /// `YYYYQn`.
    Quarterly = 2,
    /// `YYYY`.
    Yearly = 3,
}

/// A payment period: `2026-11`, `2026Q4` or `2026` (years 2000–2999).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period(String);

impl Period {
    /// Validates a period string.
    pub fn new(s: &str) -> Option<Period> {
        Period::kind_of(s).map(|_| Period(s.to_owned()))
    }
    /// The period's kind.
    pub fn kind(&self) -> PeriodKind {
        Period::kind_of(&self.0).expect("validated at construction")
    }
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn kind_of(s: &str) -> Option<PeriodKind> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            b.get(r.clone())
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        };
        if !digits(0..4) || b[0] != b'2' {
            return None;
        }
        match b.len() {
            4 => Some(PeriodKind::Yearly),
            6 if b[4] == b'Q' && (b'1'..=b'4').contains(&b[5]) => Some(PeriodKind::Quarterly),
            7 if b[4] == b'-' && digits(5..7) => {
                let month = (b[5] - b'0') * 10 + (b[6] - b'0');
                (1..=12).contains(&month).then_some(PeriodKind::Monthly)
            }
            _ => None,
        }
    }
}

impl TryFrom<String> for Period {
    type Error = &'static str;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Period::new(&v).ok_or("a period is YYYY-MM, YYYYQn or YYYY")
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.0
    }
}

/// What a program pays per allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountRule {
    /// Exactly this amount.
    Flat(Rupiah),
    /// Any amount in `min..=max`.
    Range {
        /// Smallest allowed.
        min: Rupiah,
        /// Largest allowed.
        max: Rupiah,
    },
}

impl AmountRule {
    /// Whether an allocation of `amount` fits.
    pub fn allows(&self, amount: Rupiah) -> bool {
        match *self {
            AmountRule::Flat(a) => amount == a,
            AmountRule::Range { min, max } => (min..=max).contains(&amount),
        }
    }
}

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($(#[$vm:meta])* $variant:ident = $tag:literal => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant = $tag),+
        }
        impl $name {
            /// Every value, in tag order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The one-byte tag.
            pub fn tag(self) -> u8 { self as u8 }
            /// From the one-byte tag.
            pub fn from_tag(tag: u8) -> Result<$name, DecodeError> {
                match tag { $($tag => Ok($name::$variant),)+ _ => Err(DecodeError::UnknownTag { field: $field, tag }) }
            }
            /// The public name, as written in JSON, CSV and letters.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// From the public name.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

code_enum!(
    /// Where a recipient collected their aid.
    Channel, "channel" {
        /// Bank teller with the family welfare card (Kartu Keluarga Sejahtera).
        Kks = 1 => "KKS",
        /// A post office counter.
        PosOutlet = 2 => "POS_OUTLET",
        /// Delivered to the door by PT Pos.
        PosDoor = 3 => "POS_DOOR",
        /// A bank agent (agen laku pandai).
        Agent = 4 => "AGENT",
        /// An e-warong partner shop.
        Ewarong = 5 => "EWARONG",
        /// An e-wallet transfer.
        Ewallet = 6 => "EWALLET",
        /// A bank branch counter.
        BankTeller = 7 => "BANK_TELLER",
    }
);

code_enum!(
    /// Why a payer returned an allocation's funds unpaid.
    ReturnReason, "return reason" {
        /// The recipient has died.
        Deceased = 1 => "DECEASED",
        /// The recipient could not be found at the address.
        NotFound = 2 => "NOT_FOUND",
        /// The recipient has moved away.
        Moved = 3 => "MOVED",
        /// The recipient declined the aid.
        Declined = 4 => "DECLINED",
        /// Not collected before the deadline.
        Unclaimed = 5 => "UNCLAIMED",
    }
);

code_enum!(
    /// Why a ministry revoked an allocation.
    RevocationReason, "revocation reason" {
        /// The recipient is not eligible after verification.
        Ineligible = 1 => "INELIGIBLE",
        /// A duplicate of another allocation.
        Duplicate = 2 => "DUPLICATE",
        /// A data-entry error (wrong amount, region or program).
        DataError = 3 => "DATA_ERROR",
        /// The recipient has died.
        Deceased = 4 => "DECEASED",
        /// The program round was cancelled.
        ProgramCancelled = 5 => "PROGRAM_CANCELLED",
    }
);

/// A ministry registers a program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramRegistered {
    /// Program code.
    pub code: ProgramCode,
    /// Human name, e.g. "Program Keluarga Harapan".
    pub name: String,
    /// Shape of its periods.
    pub period_kind: PeriodKind,
    /// Amount per allocation.
    pub amount: AmountRule,
}

/// A ministry allocates aid to one (hidden) beneficiary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// Random 128-bit id.
    pub id: AllocationId,
    /// Program code.
    pub program: ProgramCode,
    /// Payment period.
    pub period: Period,
    /// Kabupaten/kota of the beneficiary.
    pub region: RegionCode,
    /// Amount allocated.
    pub amount: Rupiah,
    /// The bank or Pos member that pays it out.
    pub payer: MemberId,
    /// SHA-256(domain ‖ salt ‖ NIK), see [`crate::commitment`].
    pub beneficiary_commitment: Hash,
    /// HMAC under the ministry's key over (program, period, NIK).
    pub dedup_tag: Hash,
    /// SHA-256(domain ‖ claim secret).
    pub claim_lock: Hash,
    /// Unix seconds after which it can no longer be claimed (block time).
    pub expires_at: u64,
}

/// A payer records that a recipient collected (part of) an allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The allocation claimed.
    pub allocation: AllocationId,
    /// Amount paid out now.
    pub amount: Rupiah,
    /// How it was paid.
    pub channel: Channel,
    /// Kabupaten/kota where it was paid.
    pub region: RegionCode,
    /// Pseudonym of the outlet (teller, agent, shop), opaque bytes chosen by the payer.
    #[serde(with = "hex_array")]
    pub outlet: [u8; 16],
    /// The secret from the receipt that opens the allocation's claim lock.
    #[serde(with = "hex_array")]
    pub claim_secret: [u8; 16],
    /// Unix seconds when the recipient was paid (may precede the block for offline outlets).
    pub claimed_at: u64,
}

/// A payer returns an allocation's unpaid funds; it closes the allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    /// The allocation.
    pub allocation: AllocationId,
    /// Public reason.
    pub reason: ReturnReason,
}

/// The issuing ministry revokes an allocation; it closes the allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// The allocation.
    pub allocation: AllocationId,
    /// Public reason.
    pub reason: RevocationReason,
}

/// The body of a transaction, by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TxBody {
    /// Tag 1.
    ProgramRegistered(ProgramRegistered),
    /// Tag 2.
    Allocation(Allocation),
    /// Tag 3.
    Claim(Claim),
    /// Tag 4.
    Return(Return),
    /// Tag 5.
    Revocation(Revocation),
    /// Tag 6: a validator's vote for a change of the members or witnesses ([`crate::governance`]).
    Vote(Vote),
}

impl TxBody {
    /// The kind's tag byte.
    pub fn tag(&self) -> u8 {
        match self {
            TxBody::ProgramRegistered(_) => 1,
            TxBody::Allocation(_) => 2,
            TxBody::Claim(_) => 3,
            TxBody::Return(_) => 4,
            TxBody::Revocation(_) => 5,
            TxBody::Vote(_) => 6,
        }
    }

    /// The kind's name, as in JSON.
    pub fn kind_name(&self) -> &'static str {
        match self {
            TxBody::ProgramRegistered(_) => "program_registered",
            TxBody::Allocation(_) => "allocation",
            TxBody::Claim(_) => "claim",
            TxBody::Return(_) => "return",
            TxBody::Revocation(_) => "revocation",
            TxBody::Vote(_) => "vote",
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.u8(self.tag());
        match self {
            TxBody::ProgramRegistered(p) => {
                w.str8(p.code.as_str());
                w.str8(&p.name);
                w.u8(p.period_kind as u8);
                match p.amount {
                    AmountRule::Flat(a) => {
                        w.u8(1);
                        w.u64(a.0);
                    }
                    AmountRule::Range { min, max } => {
                        w.u8(2);
                        w.u64(min.0);
                        w.u64(max.0);
                    }
                }
            }
            TxBody::Allocation(a) => {
                w.bytes(&a.id.0);
                w.str8(a.program.as_str());
                w.str8(a.period.as_str());
                w.u16(a.region.get());
                w.u64(a.amount.0);
                w.u16(a.payer.0);
                w.bytes(&a.beneficiary_commitment.0);
                w.bytes(&a.dedup_tag.0);
                w.bytes(&a.claim_lock.0);
                w.u64(a.expires_at);
            }
            TxBody::Claim(c) => {
                w.bytes(&c.allocation.0);
                w.u64(c.amount.0);
                w.u8(c.channel.tag());
                w.u16(c.region.get());
                w.bytes(&c.outlet);
                w.bytes(&c.claim_secret);
                w.u64(c.claimed_at);
            }
            TxBody::Return(r) => {
                w.bytes(&r.allocation.0);
                w.u8(r.reason.tag());
            }
            TxBody::Revocation(r) => {
                w.bytes(&r.allocation.0);
                w.u8(r.reason.tag());
            }
            TxBody::Vote(v) => v.encode(w),
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<TxBody, DecodeError> {
        let invalid = |field, reason| DecodeError::Invalid { field, reason };
        let program = |r: &mut Reader<'_>| -> Result<ProgramCode, DecodeError> {
            ProgramCode::new(r.str8("program", PROGRAM_CODE_BYTES_MAX)?)
                .ok_or(invalid("program", "2-16 of A-Z, 0-9, _"))
        };
        let region = |r: &mut Reader<'_>| -> Result<RegionCode, DecodeError> {
            RegionCode::new(r.u16("region")?).ok_or(invalid("region", "not a kabupaten/kota code"))
        };
        let amount = |r: &mut Reader<'_>, field| -> Result<Rupiah, DecodeError> {
            let a = r.u64(field)?;
            if a == 0 {
                Err(invalid(field, "must be positive"))
            } else {
                Ok(Rupiah(a))
            }
        };
        Ok(match r.u8("kind")? {
            1 => {
                let code = program(r)?;
                let name = r.str8("name", PROGRAM_NAME_BYTES_MAX)?;
                if name.is_empty() || name.chars().any(char::is_control) || name.trim() != name {
                    return Err(invalid(
                        "name",
                        "must be non-empty printable text without outer spaces",
                    ));
                }
                let period_kind = match r.u8("period_kind")? {
                    1 => PeriodKind::Monthly,
                    2 => PeriodKind::Quarterly,
                    3 => PeriodKind::Yearly,
                    tag => {
                        return Err(DecodeError::UnknownTag {
                            field: "period kind",
                            tag,
                        });
                    }
                };
                let amount = match r.u8("amount rule")? {
                    1 => AmountRule::Flat(amount(r, "amount")?),
                    2 => {
                        let (min, max) = (amount(r, "min")?, amount(r, "max")?);
                        if min > max {
                            return Err(invalid("max", "smaller than min"));
                        }
                        AmountRule::Range { min, max }
                    }
                    tag => {
                        return Err(DecodeError::UnknownTag {
                            field: "amount rule",
                            tag,
                        });
                    }
                };
                TxBody::ProgramRegistered(ProgramRegistered {
                    code,
                    name: name.to_owned(),
                    period_kind,
                    amount,
                })
            }
            2 => TxBody::Allocation(Allocation {
                id: AllocationId(r.array("id")?),
                program: program(r)?,
                period: Period::new(r.str8("period", PERIOD_BYTES_MAX)?)
                    .ok_or(invalid("period", "YYYY-MM, YYYYQn or YYYY"))?,
                region: region(r)?,
                amount: amount(r, "amount")?,
                payer: MemberId(r.u16("payer")?),
                beneficiary_commitment: Hash(r.array("beneficiary_commitment")?),
                dedup_tag: Hash(r.array("dedup_tag")?),
                claim_lock: Hash(r.array("claim_lock")?),
                expires_at: r.u64("expires_at")?,
            }),
            3 => TxBody::Claim(Claim {
                allocation: AllocationId(r.array("allocation")?),
                amount: amount(r, "amount")?,
                channel: Channel::from_tag(r.u8("channel")?)?,
                region: region(r)?,
                outlet: r.array("outlet")?,
                claim_secret: r.array("claim_secret")?,
                claimed_at: r.u64("claimed_at")?,
            }),
            4 => TxBody::Return(Return {
                allocation: AllocationId(r.array("allocation")?),
                reason: ReturnReason::from_tag(r.u8("reason")?)?,
            }),
            5 => TxBody::Revocation(Revocation {
                allocation: AllocationId(r.array("allocation")?),
                reason: RevocationReason::from_tag(r.u8("reason")?)?,
            }),
            6 => TxBody::Vote(Vote::decode(r)?),
            tag => return Err(DecodeError::UnknownTag { field: "kind", tag }),
        })
    }

    /// Checks the fields that encoding cannot check by type (string lengths), so a value built
    /// in code encodes to bytes that decode back to it.
    pub fn validate(&self) -> Result<(), DecodeError> {
        if let TxBody::ProgramRegistered(p) = self
            && p.name.len() > PROGRAM_NAME_BYTES_MAX
        {
            return Err(DecodeError::Oversize {
                field: "name",
                max: PROGRAM_NAME_BYTES_MAX,
            });
        }
        let mut w = Writer::with_capacity(256);
        self.encode(&mut w);
        let mut r = Reader::new(&w.0);
        let back = TxBody::decode(&mut r)?;
        r.finish()?;
        debug_assert_eq!(&back, self);
        Ok(())
    }
}

/// A member's signed transaction: the unit submitted to the network and written to the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    /// Who signed.
    pub signer: MemberId,
    /// What they signed.
    pub body: TxBody,
    /// Ed25519 over [`SignedTx::signing_message`].
    #[serde(with = "hex_array")]
    pub signature: [u8; 64],
}

impl SignedTx {
    /// Signs `body` as `signer` for `network`. Fails only if `body` is invalid.
    pub fn sign(
        network: &NetworkId,
        signer: MemberId,
        body: TxBody,
        key: &SigningKey,
    ) -> Result<SignedTx, DecodeError> {
        body.validate()?;
        let unsigned = Self::unsigned_bytes(signer, &body);
        let signature = key.sign(&Self::message(network, &unsigned)).to_bytes();
        Ok(SignedTx {
            signer,
            body,
            signature,
        })
    }

    fn unsigned_bytes(signer: MemberId, body: &TxBody) -> Vec<u8> {
        let mut w = Writer::with_capacity(256);
        w.u8(FORMAT_VERSION);
        w.u16(signer.0);
        body.encode(&mut w);
        w.0
    }

    fn message(network: &NetworkId, unsigned: &[u8]) -> Vec<u8> {
        let mut m = Vec::with_capacity(TX_SIGNING_DOMAIN.len() + 32 + unsigned.len());
        m.extend_from_slice(TX_SIGNING_DOMAIN);
        m.extend_from_slice(&network.0);
        m.extend_from_slice(unsigned);
        m
    }

    /// The bytes the signature covers: domain ‖ network id ‖ version ‖ signer ‖ body.
    pub fn signing_message(&self, network: &NetworkId) -> Vec<u8> {
        Self::message(network, &Self::unsigned_bytes(self.signer, &self.body))
    }

    /// Whether `key` signed this transaction for `network` (strict Ed25519: no malleable forms).
    pub fn verify(&self, network: &NetworkId, key: &VerifyingKey) -> bool {
        let sig = ed25519_dalek::Signature::from_bytes(&self.signature);
        key.verify_strict(&self.signing_message(network), &sig)
            .is_ok()
    }

    /// Canonical bytes: version ‖ signer ‖ body ‖ signature.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Self::unsigned_bytes(self.signer, &self.body);
        b.extend_from_slice(&self.signature);
        b
    }

    /// Decodes canonical bytes; anything else is refused.
    pub fn decode(bytes: &[u8]) -> Result<SignedTx, DecodeError> {
        if bytes.len() > TX_BYTES_MAX {
            return Err(DecodeError::Oversize {
                field: "transaction",
                max: TX_BYTES_MAX,
            });
        }
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != FORMAT_VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        let signer = MemberId(r.u16("signer")?);
        let body = TxBody::decode(&mut r)?;
        let signature = r.array("signature")?;
        r.finish()?;
        Ok(SignedTx {
            signer,
            body,
            signature,
        })
    }

    /// SHA-256 of the canonical bytes: the transaction's name in the API and the dedup key.
    pub fn hash(&self) -> Hash {
        Hash::digest(&self.encode())
    }
}

/// One log entry: a transaction and the block that committed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaf {
    /// Block height.
    pub height: u64,
    /// Block time, Unix seconds, chosen by the proposer and bounded by the validators.
    pub block_time: u64,
    /// The transaction.
    pub tx: SignedTx,
}

impl Leaf {
    /// Canonical bytes: version ‖ height ‖ block time ‖ signed transaction.
    pub fn encode(&self) -> Vec<u8> {
        let tx = self.tx.encode();
        let mut w = Writer::with_capacity(17 + tx.len());
        w.u8(FORMAT_VERSION);
        w.u64(self.height);
        w.u64(self.block_time);
        w.bytes(&tx);
        w.0
    }

    /// Decodes canonical bytes; anything else is refused.
    pub fn decode(bytes: &[u8]) -> Result<Leaf, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("leaf version")?;
        if version != FORMAT_VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        let height = r.u64("height")?;
        let block_time = r.u64("block_time")?;
        let tx = SignedTx::decode(r.rest())?;
        Ok(Leaf {
            height,
            block_time,
            tx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        for (s, k) in [
            ("2026-11", PeriodKind::Monthly),
            ("2026Q4", PeriodKind::Quarterly),
            ("2026", PeriodKind::Yearly),
        ] {
            assert_eq!(Period::new(s).unwrap().kind(), k);
        }
        for bad in [
            "2026-13",
            "2026-00",
            "2026Q5",
            "2026Q0",
            "1999",
            "26-11",
            "2026-1",
            "2026 ",
            "",
            "२०२६",
        ] {
            assert!(Period::new(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn region_codes() {
        assert!(RegionCode::new(3171).is_some());
        assert!(RegionCode::new(1101).is_some());
        for bad in [0, 999, 1000, 3100, 10_001] {
            assert!(RegionCode::new(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn program_codes() {
        assert!(ProgramCode::new("PKH").is_some());
        assert!(ProgramCode::new("SEMBAKO_2").is_some());
        for bad in ["", "P", "pkh", "PKH-1", "ABCDEFGHIJKLMNOPQ"] {
            assert!(ProgramCode::new(bad).is_none(), "{bad}");
        }
    }
}
