//! C2SP tlog-checkpoint v1.0.0 bodies (origin, tree size, root hash, optional extension lines)
//! and their verification as signed notes under a [`Policy`].

use crate::hash::{Hash, TreeSize};
use crate::note::{Note, NoteError, NoteSignature, Policy, Verified};

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The body does not follow the tlog-checkpoint grammar.
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    /// The signed note around it is malformed or its signatures fail the policy.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The checkpoint is for another log.
    #[error("the checkpoint is for log {got:?}, expected {expected:?}")]
    WrongOrigin {
        /// Origin line found.
        got: String,
        /// Origin line expected.
        expected: String,
    },
    /// Too few of the witnesses the trust policy requires cosigned it.
    #[error("{verified} witness cosignatures verified, {quorum} required")]
    TooFewWitnesses {
        /// Cosignatures that verified.
        verified: usize,
        /// Cosignatures required.
        quorum: usize,
    },
}

/// A checkpoint body: what a log commits to at one size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Number of leaves.
    pub size: TreeSize,
    /// RFC 6962 root of those leaves.
    pub root: Hash,
    /// Extension lines, without their newlines (we write none; others may).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines. Panics if the origin is empty or holds a newline
    /// (origins come from genesis, which is validated).
    pub fn new(origin: &str, size: TreeSize, root: Hash) -> Checkpoint {
        assert!(
            !origin.is_empty() && !origin.chars().any(char::is_control),
            "invalid origin"
        );
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text: each line followed by `\n`.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size.0,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a note text as a checkpoint body.
    pub fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed(
                "the body must end with a newline",
            ))?
            .split('\n')
            .collect();
        if lines.len() < 3 {
            return Err(CheckpointError::Malformed(
                "a checkpoint has at least three lines",
            ));
        }
        if lines.iter().any(|l| l.is_empty()) {
            return Err(CheckpointError::Malformed(
                "checkpoint lines must not be empty",
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(CheckpointError::Malformed(
                "control characters other than newline are not allowed",
            ));
        }
        let size = lines[1];
        if !size.bytes().all(|b| b.is_ascii_digit()) || (size.len() > 1 && size.starts_with('0')) {
            return Err(CheckpointError::Malformed(
                "the size must be decimal without leading zeros",
            ));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| CheckpointError::Malformed("the size does not fit 64 bits"))?;
        let root = Hash::from_base64(lines[2]).ok_or(CheckpointError::Malformed(
            "the root must be 32 bytes of padded base64",
        ))?;
        Ok(Checkpoint {
            origin: lines[0].into(),
            size: TreeSize(size),
            root,
            extensions: lines[3..].iter().map(|s| s.to_string()).collect(),
        })
    }

    /// A note over this body signed by `signatures`.
    pub fn to_note(&self, signatures: impl IntoIterator<Item = NoteSignature>) -> Note {
        let mut note = Note::new(&self.body()).expect("checkpoint bodies are valid note text");
        for s in signatures {
            note.add_signature(s);
        }
        note
    }
}

/// A checkpoint whose signatures met a policy.
#[derive(Clone, Debug)]
pub struct VerifiedCheckpoint {
    /// The body.
    pub checkpoint: Checkpoint,
    /// Who signed it.
    pub verified: Verified,
    /// The note as received.
    pub note: Note,
}

/// Parses a signed checkpoint, checks its origin (if given) and applies the policy.
pub fn verify_checkpoint(
    bytes: &[u8],
    origin: Option<&str>,
    policy: &Policy,
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let note = Note::parse(bytes)?;
    let checkpoint = Checkpoint::parse_body(note.text())?;
    if let Some(expected) = origin
        && checkpoint.origin != expected
    {
        return Err(CheckpointError::WrongOrigin {
            got: checkpoint.origin,
            expected: expected.into(),
        });
    }
    let verified = policy.verify(&note)?;
    Ok(VerifiedCheckpoint {
        checkpoint,
        verified,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example_body_parses() {
        let body =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let c = Checkpoint::parse_body(body).unwrap();
        assert_eq!(c.size, TreeSize(20_852_163));
        assert_eq!(c.body(), body);
        let with_ext = format!("{body}ext one\n");
        assert_eq!(
            Checkpoint::parse_body(&with_ext).unwrap().extensions,
            ["ext one"]
        );
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        for bad in [
            format!("o\n012\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n1\n{}\n", root.trim_end_matches('=')),
            format!("o\n1\n{root}"),
            format!("o\n1\n{root}\n\n"),
            format!("o\r\n1\n{root}\n"),
            format!("\n1\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n1\n".to_string(),
        ] {
            assert!(Checkpoint::parse_body(&bad).is_err(), "accepted {bad:?}");
        }
    }
}
