//! RFC 6962 Merkle tree math: roots, inclusion proofs and consistency proofs, generated from
//! any source of perfect-subtree hashes and verified with the algorithms of RFC 9162 §2.1.3.2
//! and §2.1.4.2.
//!
//! A *perfect subtree* `(height, index)` covers leaves `index·2^height .. (index+1)·2^height`.
//! Every hash a proof or root needs is either such a subtree or the fold of a few of them, so a
//! storage backend or a set of fetched tiles only has to answer [`SubtreeHashes::perfect`].

use crate::hash::{EMPTY_ROOT, Hash, LeafIndex, TreeSize, node_hash};

/// Longest proof accepted: a tree of 2^64 leaves has 64 levels (and a consistency proof may
/// carry one more hash when the old size is not a power of two).
pub const PROOF_HASHES_MAX: usize = 65;

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked about.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency asked from a larger to a smaller tree.
    #[error("old size {old} is larger than new size {new}")]
    SizesOutOfOrder {
        /// The first size.
        old: u64,
        /// The second size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for these sizes.
    #[error("the proof has {got} hashes, expected {expected}")]
    WrongLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes the sizes call for.
        expected: usize,
    },
    /// The proof does not lead to the expected root.
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// A source of perfect-subtree hashes, such as a log's storage or a set of verified tiles.
pub trait SubtreeHashes {
    /// What the source can fail with (a missing tile, an I/O error).
    type Error;
    /// The hash of the perfect subtree of `2^height` leaves starting at leaf `index << height`.
    /// Callers only ask for subtrees that lie inside the tree the source holds.
    fn perfect(&self, height: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// The RFC 6962 hash of leaves `start..end`, where `start` is a multiple of a power of two not
/// smaller than `end - start` (true of every range a root or proof needs): the right fold of
/// the perfect subtrees given by the binary digits of the length, largest first.
pub fn range_hash<S: SubtreeHashes + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
) -> Result<Hash, S::Error> {
    assert!(start <= end, "range_hash: start {start} > end {end}");
    if start == end {
        return Ok(EMPTY_ROOT);
    }
    let len = end - start;
    let mut parts: Vec<Hash> = Vec::with_capacity(len.count_ones() as usize);
    let mut at = start;
    for height in (0..64u8).rev() {
        if len & (1u64 << height) != 0 {
            debug_assert_eq!(at % (1u64 << height), 0);
            parts.push(src.perfect(height, at >> height)?);
            at += 1u64 << height;
        }
    }
    let mut acc = parts
        .pop()
        .expect("a non-empty range has at least one part");
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// The root of the tree of the first `size` leaves.
pub fn root<S: SubtreeHashes + ?Sized>(src: &S, size: TreeSize) -> Result<Hash, S::Error> {
    range_hash(src, 0, size.0)
}

/// Largest power of two strictly smaller than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The RFC 6962 §2.1.1 audit path for leaf `index` in the tree of `size` leaves, from the
/// leaf's sibling up to the root's child.
pub fn inclusion_proof<S: SubtreeHashes + ?Sized>(
    src: &S,
    index: LeafIndex,
    size: TreeSize,
) -> Result<Result<Vec<Hash>, ProofError>, S::Error> {
    let (m, n) = (index.0, size.0);
    if m >= n {
        return Ok(Err(ProofError::IndexOutOfRange { index: m, size: n }));
    }
    let mut path = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0u64, n);
    // Walk down from the root, remembering the other side at each split; reverse at the end.
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if m < lo + k {
            path.push(range_hash(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(src, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(Ok(path))
}

/// The RFC 6962 §2.1.2 consistency proof from the tree of `old` leaves to the tree of `new`.
pub fn consistency_proof<S: SubtreeHashes + ?Sized>(
    src: &S,
    old: TreeSize,
    new: TreeSize,
) -> Result<Result<Vec<Hash>, ProofError>, S::Error> {
    let (m, n) = (old.0, new.0);
    if m > n {
        return Ok(Err(ProofError::SizesOutOfOrder { old: m, new: n }));
    }
    if m == 0 || m == n {
        return Ok(Ok(Vec::new()));
    }
    let mut path = Vec::with_capacity(64);
    let (mut lo, mut hi, mut m, mut complete) = (0u64, n, m, true);
    loop {
        let len = hi - lo;
        if m == len {
            if !complete {
                path.push(range_hash(src, lo, hi)?);
            }
            break;
        }
        let k = split_point(len);
        if m <= k {
            path.push(range_hash(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(src, lo, lo + k)?);
            lo += k;
            m -= k;
            complete = false;
        }
    }
    path.reverse();
    Ok(Ok(path))
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: LeafIndex,
    size: TreeSize,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let (index, size) = (index.0, size.0);
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            expected,
        });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                expected,
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 || r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Number of hashes in the inclusion proof of `index` in a tree of `size` leaves.
pub fn inclusion_proof_len(index: u64, size: u64) -> usize {
    debug_assert!(index < size);
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    // `inner` is 64 for trees above 2^63 leaves: a shift by 64 yields 0, as in Go.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2) between two roots.
pub fn verify_consistency(
    old: TreeSize,
    new: TreeSize,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    let (m, n) = (old.0, new.0);
    if m > n {
        return Err(ProofError::SizesOutOfOrder { old: m, new: n });
    }
    if m == n {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                expected: 0,
            });
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if m == 0 {
        // Every tree extends the empty one.
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                expected: 0,
            });
        }
        return if *old_root == EMPTY_ROOT {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let expected = consistency_proof_len(m, n);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            expected,
        });
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (m - 1, n - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return Err(ProofError::RootMismatch);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 || fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Number of hashes in the consistency proof from `m` to `n` leaves, `0 < m < n`
/// (the decomposition used by RFC 9162 §2.1.4.2: the inclusion proof of leaf `m - 1`, less
/// the levels below the old tree's lowest perfect subtree, plus that subtree's hash unless it is
/// the whole old tree).
pub fn consistency_proof_len(m: u64, n: u64) -> usize {
    debug_assert!(0 < m && m < n);
    let inner = 64 - ((m - 1) ^ (n - 1)).leading_zeros();
    let border = (m - 1).checked_shr(inner).unwrap_or(0).count_ones();
    let shift = m.trailing_zeros();
    let start = if m.is_power_of_two() { 0 } else { 1 };
    (start + inner - shift + border) as usize
}

/// Leaf hashes held in memory, for tests and small tools.
impl SubtreeHashes for [Hash] {
    type Error = std::convert::Infallible;
    fn perfect(&self, height: u8, index: u64) -> Result<Hash, Self::Error> {
        let width = 1usize << height;
        let start = index as usize * width;
        let leaves = &self[start..start + width];
        let mut level: Vec<Hash> = leaves.to_vec();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        Ok(level[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn proofs_round_trip_on_small_trees() {
        for n in 1..70u64 {
            let l = leaves(n);
            let root = root(&l[..], TreeSize(n)).unwrap();
            for i in 0..n {
                let p = inclusion_proof(&l[..], LeafIndex(i), TreeSize(n))
                    .unwrap()
                    .unwrap();
                assert_eq!(p.len(), inclusion_proof_len(i, n));
                verify_inclusion(&l[i as usize], LeafIndex(i), TreeSize(n), &p, &root).unwrap();
            }
            for m in 1..n {
                let p = consistency_proof(&l[..], TreeSize(m), TreeSize(n))
                    .unwrap()
                    .unwrap();
                assert_eq!(p.len(), consistency_proof_len(m, n), "m={m} n={n}");
                let old = super::root(&l[..], TreeSize(m)).unwrap();
                verify_consistency(TreeSize(m), TreeSize(n), &old, &root, &p).unwrap();
            }
        }
    }
}
