//! The body of `POST /v1/txs`: a sequence of `[u32 big-endian length][signed transaction bytes]`
//! (see the node's HTTP interface), with the node's bounds.

/// Most transactions one `POST /v1/txs` may carry.
pub const BATCH_TXS_MAX: usize = 10_000;
/// Largest `POST /v1/txs` body, bytes.
pub const BATCH_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Encodes canonical signed transactions as one batch body. Panics past the node's bounds,
/// which callers respect by construction (a bug, not an input).
pub fn encode<'a>(txs: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    let mut n = 0usize;
    for tx in txs {
        let len = u32::try_from(tx.len()).expect("a transaction is far below 4 GiB");
        body.extend_from_slice(&len.to_be_bytes());
        body.extend_from_slice(tx);
        n += 1;
    }
    assert!(n <= BATCH_TXS_MAX, "batch of {n} transactions");
    assert!(
        body.len() <= BATCH_BYTES_MAX,
        "batch of {} bytes",
        body.len()
    );
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_transaction_is_length_prefixed() {
        let body = encode([&b"abc"[..], &b""[..], &[9u8; 300][..]]);
        assert_eq!(&body[..7], &[0, 0, 0, 3, b'a', b'b', b'c']);
        assert_eq!(&body[7..11], &[0, 0, 0, 0]);
        assert_eq!(&body[11..15], &[0, 0, 1, 44]);
        assert_eq!(body.len(), 15 + 300);
        assert!(encode(std::iter::empty()).is_empty());
    }
}
