// What the log holds instead of personal data (port of verifier/src/commitment.rs): the salted
// beneficiary commitment, the keyed dedup tag and the claim lock. The verifier only needs the
// commitment; the other two are here so the vectors check both implementations alike. A NIK
// is personal data: nothing here logs, stores or sends it.

import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, utf8 } from './bytes.js';
import { digest } from './hash.js';

export const COMMITMENT_DOMAIN = utf8('bansos-ledger/beneficiary/v1\0');
export const DEDUP_DOMAIN = utf8('bansos-ledger/dedup/v1\0');
export const CLAIM_LOCK_DOMAIN = utf8('bansos-ledger/claim-lock/v1\0');

/**
 * Exactly 16 ASCII digits after trimming surrounding whitespace (Nik::parse): the 16 bytes, or
 * null.
 * @param {string} s @returns {Uint8Array|null}
 */
export function parseNik(s) {
  if (typeof s !== 'string') return null;
  const t = s.replace(/^[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g, '');
  return /^[0-9]{16}$/.test(t) ? utf8(t) : null;
}

/** SHA-256(domain ‖ 32-byte salt ‖ 16 NIK digits). @param {Uint8Array} salt @param {Uint8Array} nik */
export function beneficiaryCommitment(salt, nik) {
  return digest(COMMITMENT_DOMAIN, salt, nik);
}

/** HMAC-SHA-256(key, domain ‖ len ‖ program ‖ len ‖ period ‖ NIK). */
export function dedupTag(key, program, period, nik) {
  const p = utf8(program);
  const q = utf8(period);
  return hmac(sha256, key, concat(DEDUP_DOMAIN, Uint8Array.of(p.length), p, Uint8Array.of(q.length), q, nik));
}

/** SHA-256(domain ‖ 16-byte claim secret). @param {Uint8Array} secret */
export function claimLock(secret) {
  return digest(CLAIM_LOCK_DOMAIN, secret);
}
