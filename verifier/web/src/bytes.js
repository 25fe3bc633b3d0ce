// Byte helpers shared by every module: hex, strict standard base64, UTF-8, concatenation and
// the 64-bit integers of the formats (BigInt where a value can pass 2^53). Pure; no I/O.

const HEX = '0123456789abcdef';

/** Lowercase hex of bytes. @param {Uint8Array} b @returns {string} */
export function toHex(b) {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15];
  return s;
}

/**
 * Parses hex (either case). Returns null on an odd length or a non-hex digit.
 * @param {string} s @returns {Uint8Array|null}
 */
export function fromHex(s) {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

/** Hex that must parse (test data, constants). @param {string} s @returns {Uint8Array} */
export function hex(s) {
  const b = fromHex(s);
  if (!b) throw new Error(`not hex: ${s}`);
  return b;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/** Standard padded base64 (RFC 4648 §4). @param {Uint8Array} b @returns {string} */
export function toBase64(b) {
  let s = '';
  let i = 0;
  for (; i + 3 <= b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i] << 16;
    s += B64[n >> 18] + B64[(n >> 12) & 63] + '==';
  } else if (rest === 2) {
    const n = (b[i] << 16) | (b[i + 1] << 8);
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + '=';
  }
  return s;
}

/**
 * Decodes standard padded base64 as the Rust `base64` STANDARD engine does: padding required,
 * no whitespace, no URL-safe alphabet, and non-zero trailing bits refused. Returns null on any
 * error.
 * @param {string} s @returns {Uint8Array|null}
 */
export function fromBase64(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0) return null;
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const body = s.length - pad;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const v = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const k = i + j;
      if (k >= body) {
        v[j] = 0;
        continue;
      }
      const c = s.charCodeAt(k);
      const x = c < 128 ? B64_VALUE[c] : -1;
      if (x < 0) return null;
      v[j] = x;
    }
    const n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
    if (i + 4 === s.length) {
      // Canonical: the bits below the last byte must be zero.
      if (pad === 2 && (v[1] & 15) !== 0) return null;
      if (pad === 1 && (v[2] & 3) !== 0) return null;
    }
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. @param {string} s @returns {Uint8Array} */
export function utf8(s) {
  return encoder.encode(s);
}

/** Strict UTF-8 decoding; null when the bytes are not UTF-8. @param {Uint8Array} b @returns {string|null} */
export function fromUtf8(b) {
  try {
    return strictDecoder.decode(b);
  } catch {
    return null;
  }
}

/** @param {...Uint8Array} parts @returns {Uint8Array} */
export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** @param {Uint8Array} a @param {Uint8Array} b @returns {boolean} */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Big-endian unsigned integer of bytes. @param {Uint8Array} b @returns {bigint} */
export function beToBigInt(b) {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/** `width` big-endian bytes of n. @param {bigint|number} n @param {number} width @returns {Uint8Array} */
export function bigIntToBe(n, width) {
  let v = BigInt(n);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 255n);
    v >>= 8n;
  }
  return out;
}

/**
 * A u64 as a JS value: a number when it is exact (below 2^53), a BigInt beyond. The JSON views
 * of the formats only hold integers below 2^53 (docs/FORMAT.md), so a BigInt shows up only
 * for hostile input, where it keeps comparisons exact.
 * @param {bigint} n @returns {number|bigint}
 */
export function u64Value(n) {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/**
 * Parses a decimal without sign or leading zeros ("0" allowed) that fits in 64 bits, as the
 * checkpoint, tlog-proof and API formats write sizes and indexes. Null otherwise.
 * @param {string} s @returns {bigint|null}
 */
export function parseU64Decimal(s) {
  if (typeof s !== 'string' || !/^(0|[1-9][0-9]*)$/.test(s) || s.length > 20) return null;
  const n = BigInt(s);
  return n <= 0xffffffffffffffffn ? n : null;
}

/** JSON.stringify that writes BigInts as plain JSON numbers. @param {unknown} v @returns {string} */
export function jsonStringify(v) {
  const marks = [];
  const text = JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') {
      marks.push(x.toString());
      return `\u0000bigint${marks.length - 1}\u0000`;
    }
    return x;
  });
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i) => marks[Number(i)]);
}
