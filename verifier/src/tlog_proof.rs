//! C2SP tlog-proof (`c2sp.org/tlog-proof@v1`): an offline inclusion proof of one entry with the
//! checkpoint it leads to, for a citizen who verifies without a network.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::{CheckpointError, VerifiedCheckpoint, verify_checkpoint};
use crate::hash::{Hash, LeafIndex};
use crate::merkle::{PROOF_HASHES_MAX, ProofError, verify_inclusion};
use crate::note::Policy;

/// The exact first line.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Largest bundle we parse (a checkpoint with many cosignatures, 64 hashes, some extra data).
pub const TLOG_PROOF_BYTES_MAX: usize = 128 * 1024;

/// Why a tlog-proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    /// The bundle does not follow the tlog-proof grammar.
    #[error("malformed tlog-proof: {0}")]
    Malformed(&'static str),
    /// Its checkpoint is malformed or not signed as the policy requires.
    #[error("the proof's checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("the inclusion proof fails: {0}")]
    Proof(#[from] ProofError),
}

/// A parsed tlog-proof bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data (we put the entry itself here).
    pub extra: Option<Vec<u8>>,
    /// The entry's index.
    pub index: LeafIndex,
    /// Inclusion proof, leaf sibling first.
    pub proof: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// The text form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index.0));
        for h in &self.proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Parses the text form; the checkpoint is kept verbatim for [`TlogProof::verify`].
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, TlogProofError> {
        let bad = TlogProofError::Malformed;
        if bytes.len() > TLOG_PROOF_BYTES_MAX {
            return Err(bad("too large"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        let split = text
            .find("\n\n")
            .ok_or(bad("no blank line before the checkpoint"))?;
        let (head, checkpoint) = (&text[..split], &text[split + 2..]);
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(bad("the first line must be c2sp.org/tlog-proof@v1"));
        }
        let mut line = lines.next().ok_or(bad("missing index line"))?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(
                STANDARD
                    .decode(b64)
                    .map_err(|_| bad("extra is not standard base64"))?,
            );
            line = lines.next().ok_or(bad("missing index line"))?;
        }
        let idx = line
            .strip_prefix("index ")
            .ok_or(bad("expected an index line"))?;
        if idx.is_empty()
            || !idx.bytes().all(|b| b.is_ascii_digit())
            || (idx.len() > 1 && idx.starts_with('0'))
        {
            return Err(bad("the index must be decimal without leading zeros"));
        }
        let index = LeafIndex(
            idx.parse()
                .map_err(|_| bad("the index does not fit 64 bits"))?,
        );
        let mut proof = Vec::new();
        for l in lines {
            if proof.len() == PROOF_HASHES_MAX {
                return Err(bad("too many proof hashes"));
            }
            proof.push(Hash::from_base64(l).ok_or(bad("a proof line is not a base64 hash"))?);
        }
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// Checks the checkpoint under the policy (and origin) and the inclusion of `leaf_hash`.
    pub fn verify(
        &self,
        leaf_hash: &Hash,
        origin: Option<&str>,
        policy: &Policy,
    ) -> Result<VerifiedCheckpoint, TlogProofError> {
        let cp = verify_checkpoint(&self.checkpoint, origin, policy)?;
        verify_inclusion(
            leaf_hash,
            self.index,
            cp.checkpoint.size,
            &self.proof,
            &cp.checkpoint.root,
        )?;
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example_parses() {
        let text = "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\nindex 73894\ngSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\nB95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\nexample.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n\u{2014} example.com/fancylog hI2DJw==\n";
        let p = TlogProof::parse(text.as_bytes()).unwrap();
        assert_eq!(p.index, LeafIndex(73894));
        assert_eq!(p.proof.len(), 2);
        assert_eq!(
            p.extra.as_deref(),
            Some(&b"age-v1.2.1-darwin-arm64.tar.gz"[..])
        );
        assert_eq!(p.to_bytes(), text.as_bytes());
    }

    #[test]
    fn malformed_bundles_are_refused() {
        for bad in [
            "c2sp.org/tlog-proof@v2\nindex 1\n\nx\n",
            "c2sp.org/tlog-proof@v1\nindex 01\n\nx\n",
            "c2sp.org/tlog-proof@v1\nindex -1\n\nx\n",
            "c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\nx\n",
            "c2sp.org/tlog-proof@v1\nindex 1\nnot-a-hash\n\nx\n",
            "c2sp.org/tlog-proof@v1\nindex 1\n",
        ] {
            assert!(
                TlogProof::parse(bad.as_bytes()).is_err(),
                "accepted {bad:?}"
            );
        }
    }
}
