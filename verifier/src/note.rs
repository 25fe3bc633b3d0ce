//! C2SP signed-note v1.0.0: notes, Ed25519 signatures (type `0x01`), timestamped Ed25519
//! cosignatures (tlog-cosignature v1, type `0x04`), verifier-key strings
//! (`name+hex(key ID)+base64(type || public key)`), and a k-of-n trust policy.
//!
//! Verification follows the spec's rules: signatures by unknown keys are ignored; a known key
//! whose signature fails rejects the whole note; a note with fewer than `quorum` distinct known
//! keys verified is rejected.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use crate::hash::Hash;

/// Signature type byte of a plain Ed25519 note signature.
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signature type byte of a tlog-cosignature/v1 timestamped Ed25519 cosignature.
pub const SIG_TYPE_COSIGNATURE: u8 = 0x04;
/// Largest note we parse. Our checkpoints are a few hundred bytes plus ~110 bytes a signature.
pub const NOTE_BYTES_MAX: usize = 64 * 1024;
/// Most signature lines a note may carry (the spec asks for at least 16; Go allows 100).
pub const NOTE_SIGNATURES_MAX: usize = 100;
/// Largest cosignature timestamp the spec allows.
pub const COSIGNATURE_TIME_MAX: u64 = (1 << 63) - 1;

const EM_DASH_PREFIX: &str = "\u{2014} ";

/// Why a note, a key string or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note does not follow the signed-note grammar.
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    /// A verifier key string could not be parsed.
    #[error("malformed verifier key: {0}")]
    BadKey(&'static str),
    /// A known key's signature failed: the whole note is rejected.
    #[error("the signature by {name} (key ID {key_id:08x}) does not verify")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// Fewer known keys signed than the policy requires.
    #[error("only {verified} of the required {quorum} trusted signatures are present and valid")]
    TooFewSignatures {
        /// Distinct trusted keys that verified.
        verified: usize,
        /// Keys the policy requires.
        quorum: usize,
    },
}

/// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let h = Hash::digest_parts(&[name.as_bytes(), b"\n", &[sig_type], public_key]);
    u32::from_be_bytes([h.0[0], h.0[1], h.0[2], h.0[3]])
}

/// A key name: non-empty, no Unicode space, no `+`.
pub fn is_key_name_valid(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// What a verifier key checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Plain Ed25519 note signature (a log's or a validator's signature).
    Ed25519,
    /// tlog-cosignature/v1 timestamped Ed25519 cosignature (a witness).
    Cosignature,
}

impl KeyKind {
    fn type_byte(self) -> u8 {
        match self {
            KeyKind::Ed25519 => SIG_TYPE_ED25519,
            KeyKind::Cosignature => SIG_TYPE_COSIGNATURE,
        }
    }
}

/// A trusted public key with its note name and key ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    kind: KeyKind,
    key: VerifyingKey,
}

impl VerifierKey {
    /// The verifier key for `key` under `name`. Panics on an invalid name (a programmer error:
    /// names come from genesis, which is validated).
    pub fn new(name: &str, kind: KeyKind, key: VerifyingKey) -> VerifierKey {
        assert!(is_key_name_valid(name), "invalid note key name {name:?}");
        let key_id = key_id(name, kind.type_byte(), key.as_bytes());
        VerifierKey {
            name: name.to_owned(),
            key_id,
            kind,
            key,
        }
    }

    /// Parses `name+hex8+base64(type || key)`; the key ID must match the name and key.
    pub fn parse(s: &str) -> Result<VerifierKey, NoteError> {
        let s = s.trim_end_matches(['\n', '\r']);
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadKey("expected name+keyid+key"));
        };
        if !is_key_name_valid(name) {
            return Err(NoteError::BadKey("invalid key name"));
        }
        if id_hex.len() != 8
            || !id_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(NoteError::BadKey("key ID must be 8 lowercase hex digits"));
        }
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| NoteError::BadKey("bad key ID"))?;
        let raw = STANDARD
            .decode(key_b64)
            .map_err(|_| NoteError::BadKey("key is not standard base64"))?;
        let (kind, key_bytes) = match raw.split_first() {
            Some((&SIG_TYPE_ED25519, rest)) => (KeyKind::Ed25519, rest),
            Some((&SIG_TYPE_COSIGNATURE, rest)) => (KeyKind::Cosignature, rest),
            _ => {
                return Err(NoteError::BadKey(
                    "unsupported signature type (only 0x01 and 0x04)",
                ));
            }
        };
        let key_bytes: [u8; 32] = key_bytes
            .try_into()
            .map_err(|_| NoteError::BadKey("Ed25519 key must be 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| NoteError::BadKey("not an Ed25519 point"))?;
        let vkey = VerifierKey::new(name, kind, key);
        if vkey.key_id != id {
            return Err(NoteError::BadKey("key ID does not match the name and key"));
        }
        Ok(vkey)
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }
    /// Plain signature or cosignature.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }
    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks one signature (the bytes after the key ID) over a note's text. For a cosignature
    /// returns its timestamp.
    pub fn verify(&self, text: &str, sig: &[u8]) -> Option<Option<u64>> {
        match self.kind {
            KeyKind::Ed25519 => {
                let sig: [u8; 64] = sig.try_into().ok()?;
                let sig = ed25519_dalek::Signature::from_bytes(&sig);
                self.key
                    .verify_strict(text.as_bytes(), &sig)
                    .ok()
                    .map(|_| None)
            }
            KeyKind::Cosignature => {
                if sig.len() != 72 {
                    return None;
                }
                let ts = u64::from_be_bytes(sig[..8].try_into().ok()?);
                if ts > COSIGNATURE_TIME_MAX {
                    return None;
                }
                let sig = ed25519_dalek::Signature::from_bytes(&sig[8..].try_into().ok()?);
                let msg = cosignature_message(ts, text);
                self.key
                    .verify_strict(msg.as_bytes(), &sig)
                    .ok()
                    .map(|_| Some(ts))
            }
        }
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.kind.type_byte());
        raw.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(raw)
        )
    }
}

fn cosignature_message(ts: u64, text: &str) -> String {
    format!("cosignature/v1\ntime {ts}\n{text}")
}

/// A member's private signing key in the Go `note` text form
/// `PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || 32-byte Ed25519 seed)`, as written to key files.
/// Its `Debug` hides the seed.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignerKey({}, <redacted>)", self.name)
    }
}

impl SignerKey {
    /// A key under `name` (panics on an invalid name: names come from validated config).
    pub fn new(name: &str, key: SigningKey) -> SignerKey {
        assert!(is_key_name_valid(name), "invalid note key name {name:?}");
        SignerKey {
            name: name.to_owned(),
            key,
        }
    }

    /// Parses the text form; the key ID must match the name and the derived public key.
    pub fn parse(s: &str) -> Result<SignerKey, NoteError> {
        let s = s.trim_end_matches(['\n', '\r']);
        let rest = s
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::BadKey("a private key starts with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadKey("expected PRIVATE+KEY+name+keyid+key"));
        };
        if !is_key_name_valid(name) {
            return Err(NoteError::BadKey("invalid key name"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::BadKey("key is not standard base64"))?;
        let seed: [u8; 32] = match raw.split_first() {
            Some((&SIG_TYPE_ED25519, seed)) => seed
                .try_into()
                .map_err(|_| NoteError::BadKey("Ed25519 seed must be 32 bytes"))?,
            _ => {
                return Err(NoteError::BadKey(
                    "only Ed25519 (0x01) private keys are supported",
                ));
            }
        };
        let key = SignerKey::new(name, SigningKey::from_bytes(&seed));
        if format!("{:08x}", key.verifier_key().key_id()) != id_hex {
            return Err(NoteError::BadKey("key ID does not match the name and key"));
        }
        Ok(key)
    }

    /// The text form. Secret: write it only to a file readable by its owner.
    pub fn to_secret_string(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(SIG_TYPE_ED25519);
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.verifier_key().key_id(),
            STANDARD.encode(raw)
        )
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Ed25519 key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The matching verifier key.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey::new(&self.name, KeyKind::Ed25519, self.key.verifying_key())
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// Signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Signs `text` with an Ed25519 key under `name` (type `0x01`).
    pub fn sign(name: &str, key: &SigningKey, text: &str) -> NoteSignature {
        let vkey = VerifierKey::new(name, KeyKind::Ed25519, key.verifying_key());
        NoteSignature {
            name: name.into(),
            key_id: vkey.key_id,
            signature: key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }

    /// A tlog-cosignature/v1 over `text` at `timestamp` (POSIX seconds, ≤ 2^63−1).
    pub fn cosign(name: &str, key: &SigningKey, timestamp: u64, text: &str) -> NoteSignature {
        assert!(
            timestamp <= COSIGNATURE_TIME_MAX,
            "cosignature timestamp out of range"
        );
        let vkey = VerifierKey::new(name, KeyKind::Cosignature, key.verifying_key());
        let sig = key.sign(cosignature_message(timestamp, text).as_bytes());
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig.to_bytes());
        NoteSignature {
            name: name.into(),
            key_id: vkey.key_id,
            signature: bytes,
        }
    }

    /// The signature line, `— name base64(keyID || sig)\n`.
    pub fn to_line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.signature);
        format!("{EM_DASH_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }

    fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        let rest = line
            .strip_prefix(EM_DASH_PREFIX)
            .ok_or(NoteError::Malformed(
                "signature line must start with an em dash and a space",
            ))?;
        let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed(
            "signature line needs a name and a signature",
        ))?;
        if !is_key_name_valid(name) {
            return Err(NoteError::Malformed("invalid key name in a signature line"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature is not standard base64"))?;
        if raw.len() < 5 {
            return Err(NoteError::Malformed("signature too short"));
        }
        let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        Ok(NoteSignature {
            name: name.into(),
            key_id,
            signature: raw[4..].to_vec(),
        })
    }
}

/// A signed note: its text (ending in a newline) and its signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("note text must end with a newline"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters other than newline are not allowed",
        ));
    }
    Ok(())
}

impl Note {
    /// A note with `text` (must end in `\n`, no control characters but `\n`) and no signatures.
    pub fn new(text: &str) -> Result<Note, NoteError> {
        check_text(text)?;
        Ok(Note {
            text: text.to_owned(),
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note. Only the grammar is checked here; see [`Policy::verify`].
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > NOTE_BYTES_MAX {
            return Err(NoteError::Malformed("note too large"));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| NoteError::Malformed("not UTF-8"))?;
        check_text(s)?;
        let split = s
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&s[..split + 1], &s[split + 2..]);
        let mut signatures = Vec::new();
        for line in sigs.split_terminator('\n') {
            if signatures.len() == NOTE_SIGNATURES_MAX {
                return Err(NoteError::Malformed("too many signatures"));
            }
            signatures.push(NoteSignature::parse_line(line)?);
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed(
                "a signed note needs at least one signature",
            ));
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature, replacing one with the same (name, key ID).
    pub fn add_signature(&mut self, sig: NoteSignature) {
        if let Some(old) = self
            .signatures
            .iter_mut()
            .find(|s| s.name == sig.name && s.key_id == sig.key_id)
        {
            *old = sig;
        } else {
            self.signatures.push(sig);
        }
    }

    /// Text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out.into_bytes()
    }
}

/// Which keys are trusted and how many of them must sign.
#[derive(Clone, Debug)]
pub struct Policy {
    keys: Vec<VerifierKey>,
    quorum: usize,
}

/// What verified under a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Names of the trusted keys whose signatures verified, in note order.
    pub signers: Vec<String>,
    /// Cosignature timestamps of the trusted cosigners that verified, by name.
    pub cosigned_at: Vec<(String, u64)>,
}

impl Policy {
    /// `quorum` of `keys` must sign. A quorum of 0 or above the number of keys is refused.
    pub fn new(keys: Vec<VerifierKey>, quorum: usize) -> Result<Policy, NoteError> {
        if quorum == 0 || quorum > keys.len() {
            return Err(NoteError::BadKey(
                "the quorum must be between 1 and the number of keys",
            ));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i]
                .iter()
                .any(|o| o.name == k.name && o.key_id == k.key_id)
            {
                return Err(NoteError::BadKey(
                    "two trusted keys share a name and key ID",
                ));
            }
        }
        Ok(Policy { keys, quorum })
    }

    /// Every key must sign.
    pub fn all(keys: Vec<VerifierKey>) -> Result<Policy, NoteError> {
        let n = keys.len();
        Policy::new(keys, n)
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[VerifierKey] {
        &self.keys
    }

    /// Signatures required.
    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Applies the signed-note rules and the quorum to a parsed note.
    pub fn verify(&self, note: &Note) -> Result<Verified, NoteError> {
        let mut verified = Verified {
            signers: Vec::new(),
            cosigned_at: Vec::new(),
        };
        for sig in &note.signatures {
            let Some(key) = self
                .keys
                .iter()
                .find(|k| k.name == sig.name && k.key_id == sig.key_id)
            else {
                continue; // unknown keys are ignored
            };
            match key.verify(&note.text, &sig.signature) {
                None => {
                    return Err(NoteError::InvalidSignature {
                        name: sig.name.clone(),
                        key_id: sig.key_id,
                    });
                }
                Some(ts) => {
                    if verified.signers.contains(&sig.name) {
                        continue;
                    }
                    verified.signers.push(sig.name.clone());
                    if let Some(ts) = ts {
                        verified.cosigned_at.push((sig.name.clone(), ts));
                    }
                }
            }
        }
        if verified.signers.len() < self.quorum {
            return Err(NoteError::TooFewSignatures {
                verified: verified.signers.len(),
                quorum: self.quorum,
            });
        }
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn the_spec_example_verifies() {
        let vkey = VerifierKey::parse(SPEC_VKEY).unwrap();
        assert_eq!(vkey.to_string(), SPEC_VKEY);
        let note = Note::parse(SPEC_NOTE.as_bytes()).unwrap();
        assert_eq!(note.text(), "This is an example message.\n");
        assert_eq!(note.to_bytes(), SPEC_NOTE.as_bytes());
        let policy = Policy::all(vec![vkey]).unwrap();
        assert_eq!(policy.verify(&note).unwrap().signers, ["example.com/foo"]);
        // One changed byte of text: the known key fails and the note is rejected.
        let tampered = SPEC_NOTE.replace("example message", "example massage");
        let err = policy
            .verify(&Note::parse(tampered.as_bytes()).unwrap())
            .unwrap_err();
        assert!(matches!(err, NoteError::InvalidSignature { .. }));
    }

    #[test]
    fn the_go_package_skey_parses_to_its_vkey() {
        let skey = SignerKey::parse(
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        )
        .unwrap();
        assert_eq!(
            skey.verifier_key().to_string(),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        assert_eq!(
            SignerKey::parse(&skey.to_secret_string())
                .unwrap()
                .verifier_key(),
            skey.verifier_key()
        );
        assert!(!format!("{skey:?}").contains("AYEK"));
        assert!(
            SignerKey::parse(
                "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
            )
            .is_err()
        );
        assert!(
            SignerKey::parse("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr").is_err()
        );
        assert!(
            SignerKey::parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                .is_err()
        );
    }

    #[test]
    fn the_go_package_vkey_parses() {
        let v = VerifierKey::parse(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        )
        .unwrap();
        assert_eq!(v.key_id(), 0xc74f20a3);
        assert!(
            VerifierKey::parse(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
        assert!(
            VerifierKey::parse(
                "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
        assert!(
            VerifierKey::parse(
                "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
    }

    #[test]
    fn quorum_counts_distinct_trusted_keys() {
        let keys: Vec<SigningKey> = (1..=4).map(key).collect();
        let names = ["a.example", "b.example", "c.example", "d.example"];
        let vkeys: Vec<VerifierKey> = keys
            .iter()
            .zip(names)
            .map(|(k, n)| VerifierKey::new(n, KeyKind::Ed25519, k.verifying_key()))
            .collect();
        let text = "log.example\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
        let mut note = Note::new(text).unwrap();
        for (k, n) in keys.iter().zip(names).take(3) {
            note.add_signature(NoteSignature::sign(n, k, text));
        }
        // An unknown key is ignored, a duplicate line counts once.
        note.add_signature(NoteSignature::sign("stranger.example", &key(9), text));
        let note = Note::parse(&note.to_bytes()).unwrap();
        assert_eq!(
            Policy::new(vkeys.clone(), 3)
                .unwrap()
                .verify(&note)
                .unwrap()
                .signers
                .len(),
            3
        );
        assert_eq!(
            Policy::new(vkeys.clone(), 4)
                .unwrap()
                .verify(&note)
                .unwrap_err(),
            NoteError::TooFewSignatures {
                verified: 3,
                quorum: 4
            }
        );
        // A listed key with a bad signature rejects the note even when the quorum is met.
        let mut bad = note.clone();
        bad.signatures[0].signature[0] ^= 1;
        assert!(matches!(
            Policy::new(vkeys, 2).unwrap().verify(&bad),
            Err(NoteError::InvalidSignature { .. })
        ));
    }

    #[test]
    fn cosignatures_verify_with_their_timestamp() {
        let log = key(1);
        let witness = key(2);
        let text = "log.example\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
        let mut note = Note::new(text).unwrap();
        note.add_signature(NoteSignature::sign("log.example", &log, text));
        note.add_signature(NoteSignature::cosign(
            "witness.example",
            &witness,
            1_679_315_147,
            text,
        ));
        let line = note.signatures()[1].to_line();
        assert_eq!(line.len(), "\u{2014} witness.example ".len() + 104 + 1);
        let policy = Policy::all(vec![
            VerifierKey::new("log.example", KeyKind::Ed25519, log.verifying_key()),
            VerifierKey::new(
                "witness.example",
                KeyKind::Cosignature,
                witness.verifying_key(),
            ),
        ])
        .unwrap();
        let v = policy
            .verify(&Note::parse(&note.to_bytes()).unwrap())
            .unwrap();
        assert_eq!(
            v.cosigned_at,
            [("witness.example".to_string(), 1_679_315_147)]
        );
        // The same key as a plain Ed25519 key has another key ID: the cosignature is unknown.
        let plain = VerifierKey::new("witness.example", KeyKind::Ed25519, witness.verifying_key());
        assert_ne!(plain.key_id(), policy.keys()[1].key_id());
    }

    #[test]
    fn malformed_notes_are_refused() {
        for bad in [
            "no signatures\n\n",
            "no blank line\n\u{2014} a AAAAAAA=\n",
            "text\n\n- a Uw2QOkn8=\n",
            "text\r\n\n\u{2014} a Uw2QOkn8srV1\n",
            "text\n\n\u{2014} a Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=",
            "text\n\n\u{2014} a+b Uw2QOkn8srV1yJGh\n",
            "text\n\n\u{2014} a Uw2QOk\n",
        ] {
            assert!(Note::parse(bad.as_bytes()).is_err(), "accepted {bad:?}");
        }
    }
}
