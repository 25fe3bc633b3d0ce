// The primitive reader and writer of the canonical binary encoding (port of
// verifier/src/codec.rs; docs/FORMAT.md): fixed-width big-endian integers, fixed-size byte
// arrays and strings with a one-byte length, and the refusals of negative_entries.json
// ({kind, field, value}) shared by entries and governance changes.

import { bigIntToBe, concat, fromUtf8, toHex, utf8 } from './bytes.js';
import { DecodeError } from './errors.js';

// The error JSON of negative_entries.json: {kind, field, value}.
export const truncated = (field) =>
  new DecodeError(`truncated in field ${field}`, { kind: 'truncated', field, value: null });
export const trailing = (n) =>
  new DecodeError(`${n} unexpected bytes after the end`, { kind: 'trailing_bytes', field: null, value: n });
export const unknownVersion = (v) =>
  new DecodeError(`unknown format version ${v}`, { kind: 'unknown_version', field: null, value: v });
export const unknownTag = (field, tag) =>
  new DecodeError(`unknown ${field} tag ${tag}`, { kind: 'unknown_tag', field, value: tag });
export const oversize = (field, max) =>
  new DecodeError(`field ${field} is longer than ${max} bytes`, { kind: 'oversize', field, value: max });
export const invalid = (field, reason) =>
  new DecodeError(`field ${field} is invalid: ${reason}`, { kind: 'invalid', field, value: null });

export class Reader {
  /** @param {Uint8Array} buf */
  constructor(buf) {
    this.buf = buf;
    this.at = 0;
  }
  take(n, field) {
    if (this.buf.length - this.at < n) throw truncated(field);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8(field) {
    return this.take(1, field)[0];
  }
  u16(field) {
    const b = this.take(2, field);
    return (b[0] << 8) | b[1];
  }
  /** @returns {bigint} */
  u64(field) {
    const b = this.take(8, field);
    let n = 0n;
    for (const x of b) n = (n << 8n) | BigInt(x);
    return n;
  }
  hex(n, field) {
    return toHex(this.take(n, field));
  }
  str8(field, max) {
    const len = this.u8(field);
    if (len > max) throw oversize(field, max);
    const s = fromUtf8(this.take(len, field));
    if (s === null) throw invalid(field, 'not UTF-8');
    return s;
  }
  rest() {
    const out = this.buf.subarray(this.at);
    this.at = this.buf.length;
    return out;
  }
  finish() {
    if (this.at !== this.buf.length) throw trailing(this.buf.length - this.at);
  }
}

// Rust's char::is_control (Cc) and str::trim (White_Space).
export const CONTROL = /\p{Cc}/u;
export const OUTER_SPACE = /^[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

// The writer's pieces.
export const u8b = (v) => Uint8Array.of(v);
export const u16b = (v) => Uint8Array.of((v >> 8) & 255, v & 255);
export const u64b = (v) => bigIntToBe(BigInt(v), 8);
export const str8b = (s) => {
  const b = utf8(s);
  if (b.length > 255) throw new Error('string too long for str8');
  return concat(u8b(b.length), b);
};
