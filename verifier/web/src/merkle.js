// RFC 6962 Merkle tree math (port of verifier/src/merkle.rs): roots, inclusion and consistency
// proofs generated from any source of perfect-subtree hashes, and verified with the
// algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2. Sizes and indexes are BigInts inside (a log
// may pass 2^53 leaves); callers may pass numbers.

import { EMPTY_ROOT, nodeHash } from './hash.js';
import { equalBytes } from './bytes.js';
import { ProofError } from './errors.js';

/** Longest proof accepted (64 levels, plus one for a consistency proof). */
export const PROOF_HASHES_MAX = 65;

/**
 * A source of perfect-subtree hashes: `perfect(height, index)` is the hash of the 2^height
 * leaves starting at leaf index << height. It may throw (a missing tile).
 * @typedef {{ perfect(height: number, index: bigint): Uint8Array }} SubtreeHashes
 */

const indexOutOfRange = (index, size) =>
  new ProofError(`leaf index ${index} is not in a tree of size ${size}`, { kind: 'index_out_of_range' });
const sizesOutOfOrder = (old, nu) =>
  new ProofError(`old size ${old} is larger than new size ${nu}`, { kind: 'sizes_out_of_order' });
const wrongLength = (got, expected) =>
  new ProofError(`the proof has ${got} hashes, expected ${expected}`, { kind: 'wrong_length', got, expected });
const rootMismatch = () =>
  new ProofError('the proof does not lead to the expected root', { kind: 'root_mismatch' });

/** Number of significant bits. @param {bigint} n */
function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

/** @param {bigint} n */
function popCount(n) {
  let c = 0;
  for (const ch of n.toString(2)) if (ch === '1') c++;
  return c;
}

/** @param {bigint} n */
function trailingZeros(n) {
  if (n === 0n) return 64;
  let c = 0;
  while ((n & 1n) === 0n) {
    n >>= 1n;
    c++;
  }
  return c;
}

/** @param {bigint} n */
const isPowerOfTwo = (n) => n > 0n && (n & (n - 1n)) === 0n;

/** Largest power of two strictly smaller than n (n ≥ 2). @param {bigint} n */
function splitPoint(n) {
  return 1n << BigInt(bitLength(n - 1n) - 1);
}

/**
 * The RFC 6962 hash of leaves start..end (start aligned to a power of two ≥ end - start):
 * the right fold of the perfect subtrees of the length's binary digits, largest first.
 * @param {SubtreeHashes} src @param {bigint} start @param {bigint} end @returns {Uint8Array}
 */
export function rangeHash(src, start, end) {
  start = BigInt(start);
  end = BigInt(end);
  if (start > end) throw new Error(`rangeHash: start ${start} > end ${end}`);
  if (start === end) return EMPTY_ROOT;
  const len = end - start;
  const parts = [];
  let at = start;
  for (let height = 63; height >= 0; height--) {
    const bit = 1n << BigInt(height);
    if (len & bit) {
      parts.push(src.perfect(height, at >> BigInt(height)));
      at += bit;
    }
  }
  let acc = parts.pop();
  while (parts.length) acc = nodeHash(parts.pop(), acc);
  return acc;
}

/** The root of the first `size` leaves. @param {SubtreeHashes} src @param {bigint|number} size */
export function root(src, size) {
  return rangeHash(src, 0n, BigInt(size));
}

/**
 * The RFC 6962 §2.1.1 audit path of leaf `index` in a tree of `size`, leaf's sibling first.
 * Throws ProofError index_out_of_range, or what the source throws.
 * @param {SubtreeHashes} src @param {bigint|number} index @param {bigint|number} size
 * @returns {Uint8Array[]}
 */
export function inclusionProof(src, index, size) {
  const m = BigInt(index);
  const n = BigInt(size);
  if (m >= n) throw indexOutOfRange(m, n);
  const path = [];
  let lo = 0n;
  let hi = n;
  while (hi - lo > 1n) {
    const k = splitPoint(hi - lo);
    if (m < lo + k) {
      path.push(rangeHash(src, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(rangeHash(src, lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/**
 * The RFC 6962 §2.1.2 consistency proof from `old` leaves to `nu` leaves.
 * @param {SubtreeHashes} src @param {bigint|number} old @param {bigint|number} nu @returns {Uint8Array[]}
 */
export function consistencyProof(src, old, nu) {
  let m = BigInt(old);
  const n = BigInt(nu);
  if (m > n) throw sizesOutOfOrder(m, n);
  if (m === 0n || m === n) return [];
  const path = [];
  let lo = 0n;
  let hi = n;
  let complete = true;
  for (;;) {
    const len = hi - lo;
    if (m === len) {
      if (!complete) path.push(rangeHash(src, lo, hi));
      break;
    }
    const k = splitPoint(len);
    if (m <= k) {
      path.push(rangeHash(src, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(rangeHash(src, lo, lo + k));
      lo += k;
      m -= k;
      complete = false;
    }
  }
  return path.reverse();
}

/** Hashes in the inclusion proof of `index` in a tree of `size` (index < size). */
export function inclusionProofLen(index, size) {
  const i = BigInt(index);
  const inner = bitLength(i ^ (BigInt(size) - 1n));
  return inner + popCount(i >> BigInt(inner));
}

/** Hashes in the consistency proof from m to n leaves, 0 < m < n. */
export function consistencyProofLen(old, nu) {
  const m = BigInt(old);
  const n = BigInt(nu);
  const inner = bitLength((m - 1n) ^ (n - 1n));
  const border = popCount((m - 1n) >> BigInt(inner));
  const shift = trailingZeros(m);
  const start = isPowerOfTwo(m) ? 0 : 1;
  return start + inner - shift + border;
}

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2); throws ProofError.
 * @param {Uint8Array} leaf @param {bigint|number} index @param {bigint|number} size
 * @param {Uint8Array[]} proof @param {Uint8Array} expectedRoot
 */
export function verifyInclusion(leaf, index, size, proof, expectedRoot) {
  const idx = BigInt(index);
  const n = BigInt(size);
  if (idx >= n) throw indexOutOfRange(idx, n);
  const expected = inclusionProofLen(idx, n);
  if (proof.length !== expected) throw wrongLength(proof.length, expected);
  let fnode = idx;
  let snode = n - 1n;
  let r = leaf;
  for (const p of proof) {
    if (snode === 0n) throw wrongLength(proof.length, expected);
    if ((fnode & 1n) === 1n || fnode === snode) {
      r = nodeHash(p, r);
      if ((fnode & 1n) === 0n) {
        while ((fnode & 1n) === 0n && fnode !== 0n) {
          fnode >>= 1n;
          snode >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fnode >>= 1n;
    snode >>= 1n;
  }
  if (snode !== 0n || !equalBytes(r, expectedRoot)) throw rootMismatch();
}

/**
 * Verifies a consistency proof (RFC 9162 §2.1.4.2) between two roots; throws ProofError.
 * @param {bigint|number} old @param {bigint|number} nu @param {Uint8Array} oldRoot
 * @param {Uint8Array} newRoot @param {Uint8Array[]} proof
 */
export function verifyConsistency(old, nu, oldRoot, newRoot, proof) {
  const m = BigInt(old);
  const n = BigInt(nu);
  if (m > n) throw sizesOutOfOrder(m, n);
  if (m === n) {
    if (proof.length !== 0) throw wrongLength(proof.length, 0);
    if (!equalBytes(oldRoot, newRoot)) throw rootMismatch();
    return;
  }
  if (m === 0n) {
    if (proof.length !== 0) throw wrongLength(proof.length, 0);
    if (!equalBytes(oldRoot, EMPTY_ROOT)) throw rootMismatch();
    return;
  }
  const expected = consistencyProofLen(m, n);
  if (proof.length !== expected) throw wrongLength(proof.length, expected);
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : [...proof];
  let fnode = m - 1n;
  let snode = n - 1n;
  while ((fnode & 1n) === 1n) {
    fnode >>= 1n;
    snode >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (snode === 0n) throw rootMismatch();
    if ((fnode & 1n) === 1n || fnode === snode) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fnode & 1n) === 0n) {
        while ((fnode & 1n) === 0n && fnode !== 0n) {
          fnode >>= 1n;
          snode >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fnode >>= 1n;
    snode >>= 1n;
  }
  if (snode !== 0n || !equalBytes(fr, oldRoot) || !equalBytes(sr, newRoot)) throw rootMismatch();
}

/**
 * Leaf hashes held in memory as a subtree source, for tests and small tools.
 * @param {Uint8Array[]} leaves @returns {SubtreeHashes}
 */
export function memorySource(leaves) {
  return {
    perfect(height, index) {
      const width = 2 ** height;
      const start = Number(index) * width;
      let level = leaves.slice(start, start + width);
      if (level.length !== width) throw new Error('memorySource: subtree outside the leaves');
      while (level.length > 1) {
        const next = [];
        for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
        level = next;
      }
      return level[0];
    },
  };
}
