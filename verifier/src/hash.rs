//! SHA-256 hashes and the RFC 6962 leaf and node hash functions, with the newtypes that keep
//! tree sizes and leaf indexes from being mixed up.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// A SHA-256 value: a Merkle leaf or node hash, a root, a commitment.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

/// Number of bytes in a [`Hash`].
pub const HASH_BYTES: usize = 32;

/// The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

impl Hash {
    /// SHA-256 of `data`.
    pub fn digest(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }

    /// SHA-256 of the concatenation of `parts`.
    pub fn digest_parts(parts: &[&[u8]]) -> Hash {
        let mut h = Sha256::new();
        for part in parts {
            h.update(part);
        }
        Hash(h.finalize().into())
    }

    /// Standard, padded base64 (RFC 4648 §4), as in C2SP checkpoints and proofs.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses exactly 44 characters of standard padded base64 encoding 32 bytes.
    /// Anything else (unpadded, URL-safe, non-canonical trailing bits) is refused.
    pub fn from_base64(s: &str) -> Option<Hash> {
        if s.len() != 44 {
            return None;
        }
        let bytes = STANDARD.decode(s).ok()?;
        let hash = Hash(bytes.try_into().ok()?);
        // The decoder tolerates non-zero trailing bits; a canonical encoding round-trips.
        (hash.to_base64() == s).then_some(hash)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    /// Parses 64 lowercase or uppercase hex digits.
    pub fn from_hex(s: &str) -> Option<Hash> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(s.as_bytes())
            .ok()?;
        Some(Hash(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// RFC 6962 §2.1 leaf hash: `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    Hash::digest_parts(&[&[0x00], entry])
}

/// RFC 6962 §2.1 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash::digest(&buf)
}

/// The number of leaves in a tree (a checkpoint's size).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct TreeSize(pub u64);

/// The zero-based position of a leaf in the log.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct LeafIndex(pub u64);

impl fmt::Display for TreeSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for LeafIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(Hash::digest(b""), EMPTY_ROOT);
        assert_eq!(
            EMPTY_ROOT.to_base64(),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn base64_is_strict() {
        let h = Hash::digest(b"x");
        let s = h.to_base64();
        assert_eq!(Hash::from_base64(&s), Some(h));
        assert_eq!(Hash::from_base64(s.trim_end_matches('=')), None);
        assert_eq!(
            Hash::from_base64(&s.replace('+', "-")),
            if s.contains('+') { None } else { Some(h) }
        );
        // Same bytes, non-zero padding bits: refused.
        let mut bad = s.clone().into_bytes();
        let last = bad[42];
        bad[42] = if last == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        if let Some(other) = Hash::from_base64(&bad) {
            assert_ne!(other, h);
        }
    }
}
