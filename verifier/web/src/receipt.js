// The recipient's receipt (port of verifier/src/receipt.rs): 74-byte payload and 4-byte check
// in 125 Crockford base32 symbols plus one Luhn mod 32 symbol, printed in groups of 6. Parsing
// is lenient where people are (case, dashes, spaces; O→0, I/L→1) and refuses, in this order:
// over 512 bytes, a bad character, a wrong count, a wrong Luhn symbol, padding bit or check,
// then an unknown version.

import { concat, toHex, utf8 } from './bytes.js';
import { ReceiptError } from './errors.js';
import { digest } from './hash.js';

export const RECEIPT_VERSION = 1;
export const RECEIPT_PAYLOAD_BYTES = 74;
export const RECEIPT_CHARS = 126;
export const RECEIPT_LEAF_INDEX_MAX = 2 ** 40 - 1;
export const RECEIPT_TEXT_BYTES_MAX = 512;
export const RECEIPT_CHECK_DOMAIN = utf8('bansos-ledger/receipt/v1\0');
export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A parsed receipt. Byte fields are Uint8Arrays; the salt and claim secret are secrets of the
 * recipient and are never logged.
 * @typedef {{ networkTag: Uint8Array, leafIndex: number, allocation: string, salt: Uint8Array, claimSecret: Uint8Array }} Receipt
 */

/** Luhn mod 32 over symbol values. @param {number[]} symbols */
export function luhn32(symbols) {
  let factor = 2;
  let sum = 0;
  for (let i = symbols.length - 1; i >= 0; i--) {
    const addend = factor * symbols[i];
    factor = 3 - factor;
    sum += Math.floor(addend / 32) + (addend % 32);
  }
  return (32 - (sum % 32)) % 32;
}

const checkOf = (payload) => digest(RECEIPT_CHECK_DOMAIN, payload).subarray(0, 4);

/** The 78 bytes payload ‖ check. @param {Receipt} r */
function payloadBytes(r) {
  if (!(Number.isInteger(r.leafIndex) && r.leafIndex >= 0 && r.leafIndex <= RECEIPT_LEAF_INDEX_MAX)) {
    throw new Error('leaf index too large for a receipt');
  }
  const b = new Uint8Array(RECEIPT_PAYLOAD_BYTES);
  b[0] = RECEIPT_VERSION;
  b.set(r.networkTag, 1);
  let idx = r.leafIndex;
  for (let i = 9; i >= 5; i--) {
    b[i] = idx % 256;
    idx = Math.floor(idx / 256);
  }
  const id = r.allocation.match(/../g).map((h) => parseInt(h, 16));
  b.set(id, 10);
  b.set(r.salt, 26);
  b.set(r.claimSecret, 58);
  return concat(b, checkOf(b));
}

/** The code without separators: 126 characters. @param {Receipt} r */
export function receiptToCompact(r) {
  const bytes = payloadBytes(r);
  const symbols = [];
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = ((acc << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      symbols.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) symbols.push((acc << (5 - bits)) & 31);
  symbols.push(luhn32(symbols));
  return symbols.map((s) => ALPHABET[s]).join('');
}

/** The code as printed: groups of 6 joined by `-`. @param {Receipt} r */
export function receiptToText(r) {
  return receiptToCompact(r).match(/.{1,6}/g).join('-');
}

/**
 * Parses a typed or scanned code; throws ReceiptError with the JSON of receipts.json.
 * @param {string} text @returns {Receipt}
 */
export function parseReceipt(text) {
  if (utf8(text).length > RECEIPT_TEXT_BYTES_MAX) {
    let n = 0;
    for (const c of text) if (c !== '-' && c !== ' ') n++;
    throw new ReceiptError(`a receipt code has ${RECEIPT_CHARS} characters, this one has ${n}`, {
      kind: 'wrong_length',
      length: n,
    });
  }
  const symbols = [];
  for (const c of text) {
    if (c === '-' || c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    let up = c.length === 1 && c < '\u0080' ? c.toUpperCase() : c;
    if (up === 'O') up = '0';
    else if (up === 'I' || up === 'L') up = '1';
    const v = ALPHABET.indexOf(up);
    if (v < 0 || up.length !== 1) {
      throw new ReceiptError(`character ${symbols.length + 1} (${JSON.stringify(c)}) cannot appear in a receipt code`, {
        kind: 'bad_character',
        position: symbols.length + 1,
        character: c,
      });
    }
    symbols.push(v);
  }
  if (symbols.length !== RECEIPT_CHARS) {
    throw new ReceiptError(`a receipt code has ${RECEIPT_CHARS} characters, this one has ${symbols.length}`, {
      kind: 'wrong_length',
      length: symbols.length,
    });
  }
  const checksum = () =>
    new ReceiptError('the code does not check out: a character is probably mistyped', { kind: 'checksum' });
  const data = symbols.slice(0, RECEIPT_CHARS - 1);
  if (luhn32(data) !== symbols[RECEIPT_CHARS - 1]) throw checksum();
  const bytes = [];
  let acc = 0;
  let bits = 0;
  for (const s of data) {
    acc = ((acc << 5) | s) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 255);
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0 || bytes.length !== RECEIPT_PAYLOAD_BYTES + 4) throw checksum();
  const all = Uint8Array.from(bytes);
  const payload = all.subarray(0, RECEIPT_PAYLOAD_BYTES);
  const check = checkOf(payload);
  for (let i = 0; i < 4; i++) if (all[RECEIPT_PAYLOAD_BYTES + i] !== check[i]) throw checksum();
  if (all[0] !== RECEIPT_VERSION) {
    throw new ReceiptError(`receipt version ${all[0]} is not supported; update the verifier`, {
      kind: 'unknown_version',
      version: all[0],
    });
  }
  let leafIndex = 0;
  for (let i = 5; i < 10; i++) leafIndex = leafIndex * 256 + all[i];
  return {
    networkTag: all.slice(1, 5),
    leafIndex,
    allocation: toHex(all.subarray(10, 26)),
    salt: all.slice(26, 58),
    claimSecret: all.slice(58, 74),
  };
}
