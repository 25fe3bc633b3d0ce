// Ed25519 verification with the rules of ed25519-dalek's `verify_strict`, which the Rust side
// uses for transactions and notes: S < ℓ, neither the key A nor the commitment R of small
// order, and the cofactorless equation [S]B = R + [k]A. Built on @noble/curves' point
// arithmetic. Point encodings are decoded canonically (y < p, RFC 8032), one notch stricter
// than dalek's decompression, which takes the few non-canonical encodings of y as well.

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concat } from './bytes.js';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

/** @param {Uint8Array} b @returns {bigint} */
function leToBigInt(b) {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

/**
 * Decodes a public key as a point; null if it is not a (canonical) curve point.
 * @param {Uint8Array} bytes @returns {object|null}
 */
export function decodePoint(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) return null;
  try {
    return Point.fromBytes(bytes, false);
  } catch {
    return null;
  }
}

/**
 * Strict Ed25519 verification (RFC 8032 pure Ed25519, dalek `verify_strict`).
 * @param {Uint8Array} publicKey 32 bytes @param {Uint8Array} message @param {Uint8Array} signature 64 bytes
 * @returns {boolean}
 */
export function verifyStrict(publicKey, message, signature) {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const rBytes = signature.subarray(0, 32);
  const s = leToBigInt(signature.subarray(32));
  if (s >= L) return false;
  const A = decodePoint(publicKey);
  const R = decodePoint(rBytes);
  if (!A || !R || A.isSmallOrder() || R.isSmallOrder()) return false;
  const k = leToBigInt(sha512(concat(rBytes, publicKey, message))) % L;
  // Cofactorless: R' = [S]B - [k]A must be R itself.
  const expected = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
  return expected.equals(R);
}

/** The public key of a 32-byte seed (tests and fixtures only). @param {Uint8Array} seed */
export function publicKeyOf(seed) {
  return ed25519.getPublicKey(seed);
}

/** Signs with a 32-byte seed (tests and fixtures only; the verifier never signs). */
export function sign(seed, message) {
  return ed25519.sign(message, seed);
}
