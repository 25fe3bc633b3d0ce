// SHA-256 and the RFC 6962 leaf and node hashes (port of verifier/src/hash.rs). Hashes are
// 32-byte Uint8Arrays; JSON views write them as lowercase hex, C2SP texts as padded base64.

import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64, fromHex, toBase64 } from './bytes.js';

/** Bytes in a hash. */
export const HASH_BYTES = 32;

/** The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1). */
export const EMPTY_ROOT = sha256(new Uint8Array(0));

/** SHA-256 of the concatenation of parts. @param {...Uint8Array} parts @returns {Uint8Array} */
export function digest(...parts) {
  if (parts.length === 1) return sha256(parts[0]);
  const h = sha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ entry). @param {Uint8Array} entry */
export function leafHash(entry) {
  return digest(Uint8Array.of(0), entry);
}

const nodeBuf = new Uint8Array(65);
/** RFC 6962 §2.1 interior node hash: SHA-256(0x01 ‖ left ‖ right). @param {Uint8Array} left @param {Uint8Array} right */
export function nodeHash(left, right) {
  nodeBuf[0] = 1;
  nodeBuf.set(left, 1);
  nodeBuf.set(right, 33);
  return sha256(nodeBuf);
}

/**
 * Exactly 44 characters of canonical standard padded base64 encoding 32 bytes, else null
 * (Hash::from_base64).
 * @param {string} s @returns {Uint8Array|null}
 */
export function hashFromBase64(s) {
  if (typeof s !== 'string' || s.length !== 44) return null;
  const b = fromBase64(s);
  if (!b || b.length !== HASH_BYTES) return null;
  return toBase64(b) === s ? b : null;
}

/** 64 hex digits, either case (Hash::from_hex). @param {string} s @returns {Uint8Array|null} */
export function hashFromHex(s) {
  const b = fromHex(s);
  return b && b.length === HASH_BYTES ? b : null;
}

