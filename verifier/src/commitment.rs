//! What the log holds instead of personal data: the salted beneficiary commitment, the keyed
//! dedup tag, and the claim lock (docs/FORMAT.md, "Commitments").
//!
//! A NIK is 16 digits of region, birth date and serial: about 2^32–2^36 realistic values, which a
//! GPU exhausts in seconds. So nothing derived from it is unsalted or unkeyed.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::hash::Hash;

/// Domain of the beneficiary commitment.
pub const COMMITMENT_DOMAIN: &[u8] = b"bansos-ledger/beneficiary/v1\0";
/// Domain of the dedup tag.
pub const DEDUP_DOMAIN: &[u8] = b"bansos-ledger/dedup/v1\0";
/// Domain of the claim lock.
pub const CLAIM_LOCK_DOMAIN: &[u8] = b"bansos-ledger/claim-lock/v1\0";

/// A national identity number (NIK): 16 ASCII digits. Personal data: its `Debug` hides it and it
/// has no `Display`, so it cannot slip into a log line or an error message.
#[derive(Clone, PartialEq, Eq)]
pub struct Nik([u8; 16]);

impl Nik {
    /// Accepts exactly 16 ASCII digits (surrounding spaces trimmed). Deeper checks (province,
    /// birth date) belong to the registry import.
    pub fn parse(s: &str) -> Option<Nik> {
        let s = s.trim();
        let bytes: [u8; 16] = s.as_bytes().try_into().ok()?;
        bytes.iter().all(u8::is_ascii_digit).then_some(Nik(bytes))
    }

    /// The digits, for the few places that must see them (commitment, dedup tag, registry checks).
    pub fn digits(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Debug for Nik {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nik(<redacted>)")
    }
}

/// SHA-256(domain ‖ 32-byte salt ‖ 16 NIK digits).
pub fn beneficiary_commitment(salt: &[u8; 32], nik: &Nik) -> Hash {
    Hash::digest_parts(&[COMMITMENT_DOMAIN, salt, &nik.0])
}

/// HMAC-SHA-256 under the ministry's secret key over domain ‖ len(program) ‖ program ‖
/// len(period) ‖ period ‖ NIK: equal for the same person, program and period, meaningless
/// without the key.
pub fn dedup_tag(key: &[u8; 32], program: &str, period: &str, nik: &Nik) -> Hash {
    assert!(
        program.len() < 256 && period.len() < 256,
        "validated codes are short"
    );
    let mut mac =
        <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(DEDUP_DOMAIN);
    mac.update(&[program.len() as u8]);
    mac.update(program.as_bytes());
    mac.update(&[period.len() as u8]);
    mac.update(period.as_bytes());
    mac.update(&nik.0);
    Hash(mac.finalize().into_bytes().into())
}

/// SHA-256(domain ‖ 16-byte claim secret).
pub fn claim_lock(secret: &[u8; 16]) -> Hash {
    Hash::digest_parts(&[CLAIM_LOCK_DOMAIN, secret])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nik_is_hidden_from_debug() {
        let nik = Nik::parse("3171234567890123").unwrap();
        assert!(!format!("{nik:?}").contains("3171"));
        assert!(Nik::parse("317123456789012").is_none());
        assert!(Nik::parse("317123456789012x").is_none());
    }

    #[test]
    fn commitments_depend_on_every_input() {
        let a = Nik::parse("3171234567890123").unwrap();
        let b = Nik::parse("3171234567890124").unwrap();
        let salt = [7u8; 32];
        assert_ne!(
            beneficiary_commitment(&salt, &a),
            beneficiary_commitment(&salt, &b)
        );
        assert_ne!(
            beneficiary_commitment(&salt, &a),
            beneficiary_commitment(&[8u8; 32], &a)
        );
        let key = [1u8; 32];
        assert_eq!(
            dedup_tag(&key, "PKH", "2026Q4", &a),
            dedup_tag(&key, "PKH", "2026Q4", &a)
        );
        assert_ne!(
            dedup_tag(&key, "PKH", "2026Q4", &a),
            dedup_tag(&key, "PKH", "2026Q3", &a)
        );
        assert_ne!(
            dedup_tag(&key, "PKH", "2026Q4", &a),
            dedup_tag(&[2u8; 32], "PKH", "2026Q4", &a)
        );
        // Length prefixes keep (program, period) pairs apart.
        assert_ne!(
            dedup_tag(&key, "PKH2", "026", &a),
            dedup_tag(&key, "PKH", "2026", &a)
        );
        assert_ne!(claim_lock(&[0; 16]), claim_lock(&[1; 16]));
    }
}
