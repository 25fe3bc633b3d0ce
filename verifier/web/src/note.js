// C2SP signed-note v1.0.0 (port of verifier/src/note.rs): notes, Ed25519 signatures (type
// 0x01), timestamped cosignatures (tlog-cosignature v1, type 0x04), verifier-key strings
// `name+hex(key ID)+base64(type ‖ public key)`, and a k-of-n trust policy. Signatures by
// unknown keys are ignored; a known key whose signature fails rejects the whole note; fewer
// than `quorum` distinct known keys is a rejection.

import { fromBase64, fromUtf8, toBase64, toHex, utf8 } from './bytes.js';
import { decodePoint, publicKeyOf, sign, verifyStrict } from './ed25519.js';
import { NoteError } from './errors.js';
import { digest } from './hash.js';

export const SIG_TYPE_ED25519 = 0x01;
export const SIG_TYPE_COSIGNATURE = 0x04;
/** Largest note parsed. */
export const NOTE_BYTES_MAX = 64 * 1024;
/** Most signature lines a note may carry. */
export const NOTE_SIGNATURES_MAX = 100;
/** Largest cosignature timestamp the spec allows (2^63 − 1). */
export const COSIGNATURE_TIME_MAX = (1n << 63n) - 1n;

const EM_DASH_PREFIX = '\u2014 ';

const malformed = (why) => new NoteError(`malformed signed note: ${why}`, { kind: 'malformed_note' });
const badKey = (why) => new NoteError(`malformed verifier key: ${why}`, { kind: 'bad_key' });

// Rust's char::is_control is the Unicode category Cc; char::is_whitespace is White_Space.
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const BAD_NAME_CHAR = /[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000+\p{Cc}]/u;

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[0..4] as an unsigned 32-bit number. */
export function keyId(name, sigType, publicKey) {
  const h = digest(utf8(name), Uint8Array.of(0x0a, sigType), publicKey);
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

/** A key name: non-empty, no Unicode space, no `+`, no control character. @param {string} name */
export function isKeyNameValid(name) {
  return name.length > 0 && !BAD_NAME_CHAR.test(name);
}

/** Key ID as 8 lowercase hex digits. @param {number} id */
export const keyIdHex = (id) => id.toString(16).padStart(8, '0');

/**
 * A trusted public key with its note name and key ID.
 * @typedef {{ name: string, keyId: number, type: number, publicKey: Uint8Array }} VerifierKey
 */

/**
 * Parses `name+hex8+base64(type ‖ key)`; the key ID must match the name and key. Throws NoteError bad_key.
 * @param {string} s @returns {VerifierKey}
 */
export function parseVerifierKey(s) {
  if (typeof s !== 'string') throw badKey('not a string');
  s = s.replace(/[\n\r]+$/, '');
  const first = s.indexOf('+');
  const second = first < 0 ? -1 : s.indexOf('+', first + 1);
  if (second < 0) throw badKey('expected name+keyid+key');
  const name = s.slice(0, first);
  const idHex = s.slice(first + 1, second);
  const keyB64 = s.slice(second + 1);
  if (!isKeyNameValid(name)) throw badKey('invalid key name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw badKey('key ID must be 8 lowercase hex digits');
  const id = parseInt(idHex, 16) >>> 0;
  const raw = fromBase64(keyB64);
  if (!raw) throw badKey('key is not standard base64');
  const type = raw[0];
  if (raw.length === 0 || (type !== SIG_TYPE_ED25519 && type !== SIG_TYPE_COSIGNATURE)) {
    throw badKey('unsupported signature type (only 0x01 and 0x04)');
  }
  const publicKey = raw.slice(1);
  if (publicKey.length !== 32) throw badKey('Ed25519 key must be 32 bytes');
  if (!decodePoint(publicKey)) throw badKey('not an Ed25519 point');
  const vkey = { name, keyId: keyId(name, type, publicKey), type, publicKey };
  if (vkey.keyId !== id) throw badKey('key ID does not match the name and key');
  return vkey;
}

/** The vkey string of a key. @param {VerifierKey} k */
export function formatVerifierKey(k) {
  const raw = new Uint8Array(33);
  raw[0] = k.type;
  raw.set(k.publicKey, 1);
  return `${k.name}+${keyIdHex(k.keyId)}+${toBase64(raw)}`;
}

/** The message a cosignature signs. @param {bigint} ts @param {string} text */
function cosignatureMessage(ts, text) {
  return `cosignature/v1\ntime ${ts}\n${text}`;
}

/**
 * Checks one signature (the bytes after the key ID) over a note's text: false if it fails,
 * else { ts } (ts null for a plain signature, the timestamp for a cosignature).
 * @param {VerifierKey} key @param {string} text @param {Uint8Array} sig
 */
export function verifyWithKey(key, text, sig) {
  if (key.type === SIG_TYPE_ED25519) {
    if (sig.length !== 64) return false;
    return verifyStrict(key.publicKey, utf8(text), sig) ? { ts: null } : false;
  }
  if (sig.length !== 72) return false;
  let ts = 0n;
  for (let i = 0; i < 8; i++) ts = (ts << 8n) | BigInt(sig[i]);
  if (ts > COSIGNATURE_TIME_MAX) return false;
  return verifyStrict(key.publicKey, utf8(cosignatureMessage(ts, text)), sig.subarray(8))
    ? { ts }
    : false;
}

/**
 * One signature line.
 * @typedef {{ name: string, keyId: number, signature: Uint8Array }} NoteSignature
 */

/** @param {string} line @returns {NoteSignature} */
function parseSignatureLine(line) {
  if (!line.startsWith(EM_DASH_PREFIX)) {
    throw malformed('signature line must start with an em dash and a space');
  }
  const rest = line.slice(EM_DASH_PREFIX.length);
  const sp = rest.indexOf(' ');
  if (sp < 0) throw malformed('signature line needs a name and a signature');
  const name = rest.slice(0, sp);
  if (!isKeyNameValid(name)) throw malformed('invalid key name in a signature line');
  const raw = fromBase64(rest.slice(sp + 1));
  if (!raw) throw malformed('signature is not standard base64');
  if (raw.length < 5) throw malformed('signature too short');
  const id = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;
  return { name, keyId: id, signature: raw.slice(4) };
}

/** @param {string} text */
function checkText(text) {
  if (!text.endsWith('\n')) throw malformed('note text must end with a newline');
  if (CONTROL_BUT_NEWLINE.test(text)) {
    throw malformed('control characters other than newline are not allowed');
  }
}

/**
 * A signed note: its text (ending in a newline) and its signature lines.
 * @typedef {{ text: string, signatures: NoteSignature[] }} Note
 */

/**
 * Parses a signed note (bytes or a string); only the grammar is checked. Throws NoteError.
 * @param {Uint8Array|string} input @returns {Note}
 */
export function parseNote(input) {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  if (bytes.length > NOTE_BYTES_MAX) throw malformed('note too large');
  const s = typeof input === 'string' ? input : fromUtf8(bytes);
  if (s === null) throw malformed('not UTF-8');
  checkText(s);
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signatures');
  const text = s.slice(0, split + 1);
  const lines = s.slice(split + 2).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const signatures = [];
  for (const line of lines) {
    if (signatures.length === NOTE_SIGNATURES_MAX) throw malformed('too many signatures');
    signatures.push(parseSignatureLine(line));
  }
  if (signatures.length === 0) throw malformed('a signed note needs at least one signature');
  return { text, signatures };
}

/** The note's bytes as text: text, blank line, signature lines. @param {Note} note */
export function formatNote(note) {
  let out = `${note.text}\n`;
  for (const sig of note.signatures) {
    const raw = new Uint8Array(4 + sig.signature.length);
    new DataView(raw.buffer).setUint32(0, sig.keyId);
    raw.set(sig.signature, 4);
    out += `${EM_DASH_PREFIX}${sig.name} ${toBase64(raw)}\n`;
  }
  return out;
}

/**
 * Which keys are trusted and how many must sign.
 * @typedef {{ keys: VerifierKey[], quorum: number }} Policy
 */

/**
 * A policy of `quorum` of `keys`; refuses a quorum of 0 or above the number of keys and two
 * keys with the same name and key ID (NoteError bad_key).
 * @param {VerifierKey[]} keys @param {number} quorum @returns {Policy}
 */
export function makePolicy(keys, quorum) {
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > keys.length) {
    throw badKey('the quorum must be between 1 and the number of keys');
  }
  keys.forEach((k, i) => {
    if (keys.slice(0, i).some((o) => o.name === k.name && o.keyId === k.keyId)) {
      throw badKey('two trusted keys share a name and key ID');
    }
  });
  return { keys, quorum };
}

/**
 * What verified: the trusted signers' names in note order, and the cosigners' timestamps.
 * @typedef {{ signers: string[], cosignedAt: {name: string, time: bigint}[] }} Verified
 */

/**
 * Applies the signed-note rules and the quorum to a parsed note. Throws NoteError
 * invalid_signature or too_few_signatures.
 * @param {Policy} policy @param {Note} note @returns {Verified}
 */
export function verifyNote(policy, note) {
  const verified = { signers: [], cosignedAt: [] };
  for (const sig of note.signatures) {
    const key = policy.keys.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!key) continue; // unknown keys are ignored
    const ok = verifyWithKey(key, note.text, sig.signature);
    if (!ok) {
      throw new NoteError(
        `the signature by ${sig.name} (key ID ${keyIdHex(sig.keyId)}) does not verify`,
        { kind: 'invalid_signature', name: sig.name, key_id: keyIdHex(sig.keyId) },
      );
    }
    if (verified.signers.includes(sig.name)) continue;
    verified.signers.push(sig.name);
    if (ok.ts !== null) verified.cosignedAt.push({ name: sig.name, time: ok.ts });
  }
  if (verified.signers.length < policy.quorum) {
    throw new NoteError(
      `only ${verified.signers.length} of the required ${policy.quorum} trusted signatures are present and valid`,
      { kind: 'too_few_signatures', verified: verified.signers.length, quorum: policy.quorum },
    );
  }
  return verified;
}

/**
 * A signature line over `text` by a 32-byte Ed25519 seed (tests and fixtures only).
 * @param {string} name @param {Uint8Array} seed @param {string} text @returns {NoteSignature}
 */
export function signNote(name, seed, text) {
  return {
    name,
    keyId: keyId(name, SIG_TYPE_ED25519, publicKeyOf(seed)),
    signature: sign(seed, utf8(text)),
  };
}

/** The verifier key of a seed under a name (tests and fixtures only). */
export function verifierKeyOf(name, seed, type = SIG_TYPE_ED25519) {
  const publicKey = publicKeyOf(seed);
  return { name, keyId: keyId(name, type, publicKey), type, publicKey };
}

