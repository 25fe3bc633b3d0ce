//! A block as a validator stores it and as value sync carries it: the header, the encoded
//! transactions, and how it was proposed (round, polka round, proposer and the proposer's
//! signature over the parts), so the same parts can be streamed again.

use bansos_ledger::rules::BLOCK_TXS_MAX;
use bytes::Bytes;
use malachitebft_app_channel::app::types::core::Round;

use super::ctx::{Address, BlockHeader, CONSENSUS_FORMAT, body_hash};

/// Largest encoded block accepted (16 MiB).
pub const BLOCK_BYTES_MAX: usize = 16 * 1024 * 1024;

/// A proposed or decided block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlock {
    /// Round of the original proposal.
    pub round: Round,
    /// Its polka round.
    pub pol_round: Round,
    /// Its proposer.
    pub proposer: Address,
    /// The proposer's signature over the parts (see `ctx::parts_sign_bytes`).
    pub fin_signature: [u8; 64],
    /// The header consensus agrees on.
    pub header: BlockHeader,
    /// Encoded signed transactions, in proposal order.
    pub txs: Vec<Bytes>,
}

/// Why stored or synced block bytes do not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockDecodeError {
    /// Wrong format version.
    #[error("block format version {0} is not supported")]
    Version(u8),
    /// Cut short or inconsistent.
    #[error("block bytes are malformed: {0}")]
    Malformed(&'static str),
    /// The transactions do not match the header.
    #[error("the transactions do not match the header's body hash or count")]
    BodyMismatch,
}

fn round_from(v: i64) -> Option<Round> {
    match v {
        -1 => Some(Round::Nil),
        0..=0xffff_ffff => Some(Round::new(v as u32)),
        _ => None,
    }
}

impl StoredBlock {
    /// Encodes: version, round, polka round, proposer, signature, header, count, then each
    /// transaction with a u32 length.
    pub fn encode(&self) -> Vec<u8> {
        let body: usize = self.txs.iter().map(|t| 4 + t.len()).sum();
        let mut v = Vec::with_capacity(1 + 8 + 8 + 2 + 64 + 52 + 4 + body);
        v.push(CONSENSUS_FORMAT);
        v.extend_from_slice(&self.round.as_i64().to_be_bytes());
        v.extend_from_slice(&self.pol_round.as_i64().to_be_bytes());
        v.extend_from_slice(&self.proposer.0.to_be_bytes());
        v.extend_from_slice(&self.fin_signature);
        v.extend_from_slice(&self.header.encode());
        v.extend_from_slice(&(self.txs.len() as u32).to_be_bytes());
        for t in &self.txs {
            v.extend_from_slice(&(t.len() as u32).to_be_bytes());
            v.extend_from_slice(t);
        }
        v
    }

    /// Decodes [`StoredBlock::encode`] and checks the transactions against the header.
    pub fn decode(b: &[u8]) -> Result<StoredBlock, BlockDecodeError> {
        use BlockDecodeError::Malformed;
        if b.len() > BLOCK_BYTES_MAX {
            return Err(Malformed("too large"));
        }
        let mut r = b;
        let mut take = |n: usize| -> Result<&[u8], BlockDecodeError> {
            if r.len() < n {
                return Err(Malformed("truncated"));
            }
            let (head, rest) = r.split_at(n);
            r = rest;
            Ok(head)
        };
        let version = take(1)?[0];
        if version != CONSENSUS_FORMAT {
            return Err(BlockDecodeError::Version(version));
        }
        let i64_at = |s: &[u8]| i64::from_be_bytes(s.try_into().expect("8 bytes"));
        let round = round_from(i64_at(take(8)?)).ok_or(Malformed("round"))?;
        let pol_round = round_from(i64_at(take(8)?)).ok_or(Malformed("polka round"))?;
        let proposer = Address(u16::from_be_bytes(take(2)?.try_into().expect("2 bytes")));
        let fin_signature: [u8; 64] = take(64)?.try_into().expect("64 bytes");
        let header = BlockHeader::decode(take(52)?).ok_or(Malformed("header"))?;
        let count = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        if count > BLOCK_TXS_MAX || count != header.tx_count as usize {
            return Err(BlockDecodeError::BodyMismatch);
        }
        let mut txs = Vec::with_capacity(count);
        for _ in 0..count {
            let len = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
            txs.push(Bytes::copy_from_slice(take(len)?));
        }
        if !r.is_empty() {
            return Err(Malformed("trailing bytes"));
        }
        if body_hash(&txs) != header.body_hash {
            return Err(BlockDecodeError::BodyMismatch);
        }
        Ok(StoredBlock {
            round,
            pol_round,
            proposer,
            fin_signature,
            header,
            txs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bansos_verifier::hash::Hash;

    fn block() -> StoredBlock {
        let txs = vec![Bytes::from_static(b"one"), Bytes::from_static(b"two!")];
        StoredBlock {
            round: Round::new(2),
            pol_round: Round::Nil,
            proposer: Address(3),
            fin_signature: [7; 64],
            header: BlockHeader {
                height: 9,
                time: 1_790_000_000,
                tx_count: 2,
                body_hash: body_hash(&txs),
            },
            txs,
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let b = block();
        let bytes = b.encode();
        assert_eq!(StoredBlock::decode(&bytes).unwrap(), b);
        for cut in 0..bytes.len() {
            assert!(StoredBlock::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(StoredBlock::decode(&extra).is_err());
        let mut other = b.clone();
        other.txs[0] = Bytes::from_static(b"ONE");
        assert_eq!(
            StoredBlock::decode(&other.encode()),
            Err(BlockDecodeError::BodyMismatch)
        );
        let mut wrong_hash = b;
        wrong_hash.header.body_hash = Hash([0; 32]);
        assert_eq!(
            StoredBlock::decode(&wrong_hash.encode()),
            Err(BlockDecodeError::BodyMismatch)
        );
        let mut v2 = bytes;
        v2[0] = 2;
        assert_eq!(StoredBlock::decode(&v2), Err(BlockDecodeError::Version(2)));
    }
}
