//! C2SP tlog-witness v1.0.0 wire format: the body of `POST <prefix>/add-checkpoint` (old size,
//! consistency proof, signed checkpoint) and of its `409 Conflict` answer (the witness's latest
//! size). One definition, shared by the witness (`bansos-witness`), which parses requests, and
//! by the validators, which write them.
//!
//! The witness's answer on success is one or more cosignature lines; a client appends them to
//! the checkpoint's note text and verifies them with [`crate::note::Policy`] holding the
//! witness's cosignature key ([`cosigned_note`]).

use crate::hash::{Hash, TreeSize};
use crate::note::{NOTE_BYTES_MAX, Note, NoteError};

/// Most consistency-proof lines a request may carry (spec: "MUST NOT send more than 63").
pub const ADD_CHECKPOINT_PROOF_HASHES_MAX: usize = 63;
/// Largest request body: the old-size line, 63 proof lines and a note of at most
/// [`NOTE_BYTES_MAX`].
pub const ADD_CHECKPOINT_BYTES_MAX: usize = NOTE_BYTES_MAX + 64 * 64;
/// `Content-Type` of the 409 answer, whose body is `<latest size>\n`.
pub const TLOG_SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Why a request or answer body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessFormatError {
    /// The body does not follow the tlog-witness grammar.
    #[error("malformed add-checkpoint body: {0}")]
    Malformed(&'static str),
}

/// An add-checkpoint request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the latest checkpoint the client believes the witness cosigned (0 if none).
    pub old: TreeSize,
    /// RFC 6962 consistency proof from `old` to the checkpoint's size (empty when `old` is 0).
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

/// A decimal without leading zeros (`0` alone allowed), fitting 64 bits.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl AddCheckpoint {
    /// The request body: `old <size>\n`, one base64 hash a line, an empty line, the checkpoint.
    pub fn to_bytes(&self) -> Vec<u8> {
        assert!(
            self.proof.len() <= ADD_CHECKPOINT_PROOF_HASHES_MAX,
            "a consistency proof has at most 63 hashes"
        );
        let mut s = format!("old {}\n", self.old.0);
        for h in &self.proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Parses a request body. The checkpoint is kept verbatim; it is parsed and verified by
    /// [`crate::checkpoint::verify_checkpoint`].
    pub fn parse(bytes: &[u8]) -> Result<AddCheckpoint, WitnessFormatError> {
        let bad = WitnessFormatError::Malformed;
        if bytes.len() > ADD_CHECKPOINT_BYTES_MAX {
            return Err(bad("too large"));
        }
        let split = bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .ok_or(bad("no empty line before the checkpoint"))?;
        let head =
            std::str::from_utf8(&bytes[..split]).map_err(|_| bad("the header is not UTF-8"))?;
        let checkpoint = bytes[split + 2..].to_vec();
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(parse_decimal)
            .ok_or(bad(
                "the first line must be `old <size>`, decimal without leading zeros",
            ))?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == ADD_CHECKPOINT_PROOF_HASHES_MAX {
                return Err(bad("more than 63 consistency proof lines"));
            }
            proof.push(
                Hash::from_base64(line).ok_or(bad("a proof line is not a base64 SHA-256 hash"))?,
            );
        }
        if checkpoint.is_empty() {
            return Err(bad("no checkpoint after the empty line"));
        }
        Ok(AddCheckpoint {
            old: TreeSize(old),
            proof,
            checkpoint,
        })
    }
}

/// The body of a `409 Conflict` answer: `<size>\n`.
pub fn size_body(size: TreeSize) -> String {
    format!("{}\n", size.0)
}

/// Parses the body of a `409 Conflict` answer.
pub fn parse_size_body(bytes: &[u8]) -> Result<TreeSize, WitnessFormatError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .and_then(parse_decimal)
        .map(TreeSize)
        .ok_or(WitnessFormatError::Malformed(
            "a size answer is one decimal line",
        ))
}

/// The note made of a checkpoint's text and a witness's answer (its cosignature lines), ready
/// for [`crate::note::Policy::verify`] with the witness's cosignature key.
pub fn cosigned_note(checkpoint_text: &str, answer: &[u8]) -> Result<Note, NoteError> {
    let mut bytes = Vec::with_capacity(checkpoint_text.len() + 1 + answer.len());
    bytes.extend_from_slice(checkpoint_text.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(answer);
    let note = Note::parse(&bytes)?;
    if note.text() != checkpoint_text {
        return Err(NoteError::Malformed(
            "the answer holds more than signature lines",
        ));
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn requests_round_trip() {
        let cp = b"o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\xe2\x80\x94 a AAAA\n";
        for proof in [vec![], vec![leaf_hash(b"a"), leaf_hash(b"b")]] {
            let r = AddCheckpoint {
                old: TreeSize(if proof.is_empty() { 0 } else { 20_852_014 }),
                proof,
                checkpoint: cp.to_vec(),
            };
            assert_eq!(AddCheckpoint::parse(&r.to_bytes()).unwrap(), r);
        }
        assert!(
            AddCheckpoint::parse(b"old 0\n\n")
                .unwrap_err()
                .to_string()
                .contains("no checkpoint")
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        let h = leaf_hash(b"a").to_base64();
        for bad in [
            "old 01\n\nx".to_string(),
            "old -1\n\nx".to_string(),
            "old\n\nx".to_string(),
            "Old 1\n\nx".to_string(),
            "old 1 \n\nx".to_string(),
            "old 18446744073709551616\n\nx".to_string(),
            format!("old 1\n{}\n\nx", &h[..43]),
            format!("old 1\n{h}"),
            format!("old 1\n{}\nx", format!("{h}\n").repeat(64)),
        ] {
            assert!(AddCheckpoint::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let sixty_three = format!("old 1\n{}\nx", format!("{h}\n").repeat(63));
        assert_eq!(
            AddCheckpoint::parse(sixty_three.as_bytes())
                .unwrap()
                .proof
                .len(),
            63
        );
    }

    #[test]
    fn size_bodies() {
        assert_eq!(size_body(TreeSize(42)), "42\n");
        assert_eq!(parse_size_body(b"42\n").unwrap(), TreeSize(42));
        assert_eq!(parse_size_body(b"0\n").unwrap(), TreeSize(0));
        for bad in [&b"42"[..], b"042\n", b"\n", b"4 2\n", b"42\n\n"] {
            assert!(parse_size_body(bad).is_err(), "{bad:?}");
        }
    }
}
