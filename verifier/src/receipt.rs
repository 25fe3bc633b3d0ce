//! The recipient's receipt: what the invitation letter carries (as a QR code and as typed text)
//! so the recipient can prove their allocation and the payer can record the claim.
//!
//! Binary payload (74 bytes): version `1` ‖ network tag (first 4 bytes of the network id) ‖
//! leaf index (5 bytes, big-endian) ‖ allocation id (16) ‖ salt (32) ‖ claim secret (16), then a
//! 4-byte check `SHA-256("bansos-ledger/receipt/v1\0" ‖ payload)[..4]`. The 78 bytes are written
//! in Crockford base32 (125 characters, the unused low bits zero) followed by one Luhn mod 32
//! character, which catches every single mistyped character and almost every swap of two adjacent
//! characters (not `0`↔`Z`, like Luhn's `09`↔`90`); the 4 check bytes catch those and any other
//! error with probability 1 − 2⁻³². The text is
//! shown in 21 groups of 6 separated by `-`. Only `0-9`, `A-Z` and `-` occur, so a QR code holds
//! it in alphanumeric mode. Parsing ignores case, spaces and dashes and reads `O` as `0`, `I` and
//! `L` as `1`, the letters Crockford base32 leaves out for that reason.

use crate::entry::{AllocationId, NetworkId};
use crate::hash::{Hash, LeafIndex};

/// Receipt format version.
pub const RECEIPT_VERSION: u8 = 1;
/// Bytes before the check.
pub const RECEIPT_PAYLOAD_BYTES: usize = 74;
/// Characters of the text form without separators.
pub const RECEIPT_CHARS: usize = 126;
/// Largest leaf index a receipt can carry (2^40 − 1).
pub const RECEIPT_LEAF_INDEX_MAX: u64 = (1 << 40) - 1;
/// Domain of the 4-byte check.
pub const RECEIPT_CHECK_DOMAIN: &[u8] = b"bansos-ledger/receipt/v1\0";
const GROUP_CHARS: usize = 6;
/// Longest text accepted by the parser (with generous separators).
pub const RECEIPT_TEXT_BYTES_MAX: usize = 512;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Why a receipt text was refused. Messages are for the person typing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// A character that cannot be in a receipt.
    #[error("character {position} ({character:?}) cannot appear in a receipt code")]
    BadCharacter {
        /// 1-based position among the code's characters.
        position: usize,
        /// The character.
        character: char,
    },
    /// Too few or too many characters.
    #[error("a receipt code has {RECEIPT_CHARS} characters, this one has {0}")]
    WrongLength(usize),
    /// The check character or check bytes do not match: something was mistyped.
    #[error("the code does not check out: a character is probably mistyped")]
    Checksum,
    /// A receipt version this verifier does not know.
    #[error("receipt version {0} is not supported; update the verifier")]
    UnknownVersion(u8),
}

/// The secrets and pointers printed on an invitation letter. Its `Debug` hides the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Receipt {
    /// First 4 bytes of the network id: tells a receipt for another network apart.
    pub network_tag: [u8; 4],
    /// Where the allocation sits in the log.
    pub leaf_index: LeafIndex,
    /// The allocation.
    pub allocation: AllocationId,
    /// The salt of the beneficiary commitment.
    pub salt: [u8; 32],
    /// Opens the allocation's claim lock.
    pub claim_secret: [u8; 16],
}

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receipt")
            .field(
                "network_tag",
                &data_encoding::HEXLOWER.encode(&self.network_tag),
            )
            .field("leaf_index", &self.leaf_index.0)
            .field("allocation", &self.allocation.to_hex())
            .field("salt", &"<redacted>")
            .field("claim_secret", &"<redacted>")
            .finish()
    }
}

/// The tag of a network id as carried in receipts.
pub fn network_tag(network: &NetworkId) -> [u8; 4] {
    [network.0[0], network.0[1], network.0[2], network.0[3]]
}

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

impl Receipt {
    /// Panics if the leaf index exceeds [`RECEIPT_LEAF_INDEX_MAX`] (10^12 entries: a bug, not
    /// an input).
    fn payload(&self) -> [u8; RECEIPT_PAYLOAD_BYTES + 4] {
        assert!(
            self.leaf_index.0 <= RECEIPT_LEAF_INDEX_MAX,
            "leaf index too large for a receipt"
        );
        let mut b = [0u8; RECEIPT_PAYLOAD_BYTES + 4];
        b[0] = RECEIPT_VERSION;
        b[1..5].copy_from_slice(&self.network_tag);
        b[5..10].copy_from_slice(&self.leaf_index.0.to_be_bytes()[3..]);
        b[10..26].copy_from_slice(&self.allocation.0);
        b[26..58].copy_from_slice(&self.salt);
        b[58..74].copy_from_slice(&self.claim_secret);
        let check = Hash::digest_parts(&[RECEIPT_CHECK_DOMAIN, &b[..RECEIPT_PAYLOAD_BYTES]]);
        b[74..].copy_from_slice(&check.0[..4]);
        b
    }

    /// The code without separators: 126 characters of `0-9A-Z`.
    pub fn to_compact(&self) -> String {
        let bytes = self.payload();
        let mut symbols = Vec::with_capacity(RECEIPT_CHARS);
        let (mut acc, mut bits) = (0u32, 0u32);
        for &byte in &bytes {
            acc = (acc << 8) | byte as u32;
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                symbols.push(((acc >> bits) & 31) as u8);
            }
        }
        if bits > 0 {
            symbols.push(((acc << (5 - bits)) & 31) as u8);
        }
        symbols.push(luhn32(&symbols));
        debug_assert_eq!(symbols.len(), RECEIPT_CHARS);
        symbols
            .iter()
            .map(|&s| ALPHABET[s as usize] as char)
            .collect()
    }

    /// The code as printed: groups of 6 separated by `-`.
    pub fn to_text(&self) -> String {
        let compact = self.to_compact();
        let groups: Vec<&str> = compact
            .as_bytes()
            .chunks(GROUP_CHARS)
            .map(|c| std::str::from_utf8(c).expect("ASCII"))
            .collect();
        groups.join("-")
    }

    /// Parses a typed or scanned code.
    pub fn parse(text: &str) -> Result<Receipt, ReceiptError> {
        if text.len() > RECEIPT_TEXT_BYTES_MAX {
            return Err(ReceiptError::WrongLength(
                text.chars().filter(|c| !matches!(c, '-' | ' ')).count(),
            ));
        }
        let mut symbols = Vec::with_capacity(RECEIPT_CHARS);
        for c in text.chars() {
            if matches!(c, '-' | ' ' | '\t' | '\n' | '\r') {
                continue;
            }
            let up = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                u => u,
            };
            let Some(v) = ALPHABET.iter().position(|&a| a as char == up) else {
                return Err(ReceiptError::BadCharacter {
                    position: symbols.len() + 1,
                    character: c,
                });
            };
            symbols.push(v as u8);
        }
        if symbols.len() != RECEIPT_CHARS {
            return Err(ReceiptError::WrongLength(symbols.len()));
        }
        let (data, check) = symbols.split_at(RECEIPT_CHARS - 1);
        if luhn32(data) != check[0] {
            return Err(ReceiptError::Checksum);
        }
        let mut bytes = Vec::with_capacity(RECEIPT_PAYLOAD_BYTES + 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for &s in data {
            acc = (acc << 5) | s as u32;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
            }
        }
        // 125 symbols carry 625 bits: the last bit is padding and must be zero.
        if acc & ((1 << bits) - 1) != 0 || bytes.len() != RECEIPT_PAYLOAD_BYTES + 4 {
            return Err(ReceiptError::Checksum);
        }
        let check = Hash::digest_parts(&[RECEIPT_CHECK_DOMAIN, &bytes[..RECEIPT_PAYLOAD_BYTES]]);
        if bytes[RECEIPT_PAYLOAD_BYTES..] != check.0[..4] {
            return Err(ReceiptError::Checksum);
        }
        if bytes[0] != RECEIPT_VERSION {
            return Err(ReceiptError::UnknownVersion(bytes[0]));
        }
        let mut index = [0u8; 8];
        index[3..].copy_from_slice(&bytes[5..10]);
        Ok(Receipt {
            network_tag: bytes[1..5].try_into().expect("4 bytes"),
            leaf_index: LeafIndex(u64::from_be_bytes(index)),
            allocation: AllocationId(bytes[10..26].try_into().expect("16 bytes")),
            salt: bytes[26..58].try_into().expect("32 bytes"),
            claim_secret: bytes[58..74].try_into().expect("16 bytes"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Receipt {
        Receipt {
            network_tag: [0xde, 0xad, 0xbe, 0xef],
            leaf_index: LeafIndex(123_456_789),
            allocation: AllocationId([0x11; 16]),
            salt: [0x22; 32],
            claim_secret: [0x33; 16],
        }
    }

    #[test]
    fn round_trips_through_text() {
        let r = sample();
        let text = r.to_text();
        assert_eq!(text.len(), RECEIPT_CHARS + RECEIPT_CHARS / GROUP_CHARS - 1);
        assert_eq!(Receipt::parse(&text).unwrap(), r);
        assert_eq!(
            Receipt::parse(&text.to_lowercase().replace('-', " ")).unwrap(),
            r
        );
        assert!(!format!("{r:?}").contains("2222"));
    }

    #[test]
    fn every_single_substitution_is_caught() {
        let compact = sample().to_compact();
        for pos in 0..RECEIPT_CHARS {
            for &a in ALPHABET {
                if compact.as_bytes()[pos] == a {
                    continue;
                }
                let mut typo = compact.clone().into_bytes();
                typo[pos] = a;
                let typo = String::from_utf8(typo).unwrap();
                assert!(Receipt::parse(&typo).is_err(), "missed a typo at {pos}");
            }
        }
    }

    #[test]
    fn adjacent_swaps_are_caught() {
        let compact = sample().to_compact().into_bytes();
        for pos in 0..RECEIPT_CHARS - 1 {
            if compact[pos] == compact[pos + 1] {
                continue;
            }
            let mut swapped = compact.clone();
            swapped.swap(pos, pos + 1);
            assert!(
                Receipt::parse(std::str::from_utf8(&swapped).unwrap()).is_err(),
                "missed a swap at {pos}"
            );
        }
    }

    #[test]
    fn wrong_lengths_and_characters() {
        let compact = sample().to_compact();
        assert_eq!(
            Receipt::parse(&compact[1..]),
            Err(ReceiptError::WrongLength(125))
        );
        assert!(matches!(
            Receipt::parse(&format!("U{}", &compact[1..])),
            Err(ReceiptError::BadCharacter { position: 1, .. })
        ));
    }
}
