// The ledger's entries and their canonical binary encoding, version 1 (port of
// verifier/src/entry.rs and codec.rs; docs/FORMAT.md). Decoding yields the JSON view of the
// Rust side (hex for byte arrays, names for enumerations) and accepts exactly the bytes that
// encoding produces: every refusal of negative_entries.json, with the same kind, field and value.
// Kind 6 is a governance vote (change.js).

import { concat, hex, toHex, u64Value, utf8 } from './bytes.js';
import { encodeVote, readVote } from './change.js';
import { CONTROL, invalid, OUTER_SPACE, oversize, Reader, str8b, u16b, u64b, u8b, unknownTag, unknownVersion } from './codec.js';
import { publicKeyOf, sign, verifyStrict } from './ed25519.js';
import { digest } from './hash.js';

export const FORMAT_VERSION = 1;
export const TX_BYTES_MAX = 1024;
export const PROGRAM_CODE_BYTES_MAX = 16;
export const PROGRAM_NAME_BYTES_MAX = 100;
export const PERIOD_BYTES_MAX = 7;
/** "bansos-ledger/tx/v1\0" */
export const TX_SIGNING_DOMAIN = utf8('bansos-ledger/tx/v1\0');

export const CHANNELS = ['KKS', 'POS_OUTLET', 'POS_DOOR', 'AGENT', 'EWARONG', 'EWALLET', 'BANK_TELLER'];
export const RETURN_REASONS = ['DECEASED', 'NOT_FOUND', 'MOVED', 'DECLINED', 'UNCLAIMED'];
export const REVOCATION_REASONS = ['INELIGIBLE', 'DUPLICATE', 'DATA_ERROR', 'DECEASED', 'PROGRAM_CANCELLED'];
export const PERIOD_KINDS = ['monthly', 'quarterly', 'yearly'];
export const KINDS = ['program_registered', 'allocation', 'claim', 'return', 'revocation', 'vote'];

/** A program code: 2–16 of A-Z, 0-9, _. @param {string} s */
export const isProgramCode = (s) => /^[A-Z0-9_]{2,16}$/.test(s);

/** A period `YYYY-MM`, `YYYYQn` or `YYYY`, years 2000–2999; its kind or null. @param {string} s */
export function periodKind(s) {
  if (/^2[0-9]{3}$/.test(s)) return 'yearly';
  if (/^2[0-9]{3}Q[1-4]$/.test(s)) return 'quarterly';
  const m = /^2[0-9]{3}-([0-9]{2})$/.exec(s);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 12) return 'monthly';
  return null;
}

/** A kabupaten/kota code PPKK: province 11–99, kabupaten/kota 01–99. @param {number} code */
export const isRegionCode = (code) => Math.floor(code / 100) >= 11 && Math.floor(code / 100) <= 99 && code % 100 >= 1;

/** @param {Reader} r */
function decodeBody(r) {
  const program = () => {
    const code = r.str8('program', PROGRAM_CODE_BYTES_MAX);
    if (!isProgramCode(code)) throw invalid('program', '2-16 of A-Z, 0-9, _');
    return code;
  };
  const region = () => {
    const code = r.u16('region');
    if (!isRegionCode(code)) throw invalid('region', 'not a kabupaten/kota code');
    return code;
  };
  const amount = (field) => {
    const a = r.u64(field);
    if (a === 0n) throw invalid(field, 'must be positive');
    return u64Value(a);
  };
  const tag = r.u8('kind');
  switch (tag) {
    case 1: {
      const code = program();
      const name = r.str8('name', PROGRAM_NAME_BYTES_MAX);
      if (name === '' || CONTROL.test(name) || OUTER_SPACE.test(name)) {
        throw invalid('name', 'must be non-empty printable text without outer spaces');
      }
      const pk = r.u8('period_kind');
      if (pk < 1 || pk > 3) throw unknownTag('period kind', pk);
      const rule = r.u8('amount rule');
      let amountRule;
      if (rule === 1) amountRule = { flat: amount('amount') };
      else if (rule === 2) {
        const min = amount('min');
        const max = amount('max');
        if (min > max) throw invalid('max', 'smaller than min');
        amountRule = { range: { min, max } };
      } else throw unknownTag('amount rule', rule);
      return { kind: 'program_registered', code, name, period_kind: PERIOD_KINDS[pk - 1], amount: amountRule };
    }
    case 2: {
      const id = r.hex(16, 'id');
      const prog = program();
      const period = r.str8('period', PERIOD_BYTES_MAX);
      if (!periodKind(period)) throw invalid('period', 'YYYY-MM, YYYYQn or YYYY');
      return {
        kind: 'allocation',
        id,
        program: prog,
        period,
        region: region(),
        amount: amount('amount'),
        payer: r.u16('payer'),
        beneficiary_commitment: r.hex(32, 'beneficiary_commitment'),
        dedup_tag: r.hex(32, 'dedup_tag'),
        claim_lock: r.hex(32, 'claim_lock'),
        expires_at: u64Value(r.u64('expires_at')),
      };
    }
    case 3: {
      const allocation = r.hex(16, 'allocation');
      const amt = amount('amount');
      const ch = r.u8('channel');
      if (ch < 1 || ch > CHANNELS.length) throw unknownTag('channel', ch);
      return {
        kind: 'claim',
        allocation,
        amount: amt,
        channel: CHANNELS[ch - 1],
        region: region(),
        outlet: r.hex(16, 'outlet'),
        claim_secret: r.hex(16, 'claim_secret'),
        claimed_at: u64Value(r.u64('claimed_at')),
      };
    }
    case 4: {
      const allocation = r.hex(16, 'allocation');
      const reason = r.u8('reason');
      if (reason < 1 || reason > RETURN_REASONS.length) throw unknownTag('return reason', reason);
      return { kind: 'return', allocation, reason: RETURN_REASONS[reason - 1] };
    }
    case 5: {
      const allocation = r.hex(16, 'allocation');
      const reason = r.u8('reason');
      if (reason < 1 || reason > REVOCATION_REASONS.length) throw unknownTag('revocation reason', reason);
      return { kind: 'revocation', allocation, reason: REVOCATION_REASONS[reason - 1] };
    }
    case 6:
      return readVote(r);
    default:
      throw unknownTag('kind', tag);
  }
}

/**
 * A signed transaction in its JSON view: {signer, body: {kind, …fields}, signature (hex)}.
 * @typedef {{ signer: number, body: Record<string, any>, signature: string }} SignedTx
 */

/**
 * Decodes canonical SignedTx bytes; throws DecodeError for anything else.
 * @param {Uint8Array} bytes @returns {SignedTx}
 */
export function decodeSignedTx(bytes) {
  if (bytes.length > TX_BYTES_MAX) throw oversize('transaction', TX_BYTES_MAX);
  const r = new Reader(bytes);
  const version = r.u8('version');
  if (version !== FORMAT_VERSION) throw unknownVersion(version);
  const signer = r.u16('signer');
  const body = decodeBody(r);
  const signature = r.hex(64, 'signature');
  r.finish();
  return { signer, body, signature };
}

/**
 * A log leaf in its JSON view: {height, block_time, tx}.
 * @typedef {{ height: number|bigint, block_time: number|bigint, tx: SignedTx }} Leaf
 */

/** Decodes canonical Leaf bytes; throws DecodeError. @param {Uint8Array} bytes @returns {Leaf} */
export function decodeLeaf(bytes) {
  const r = new Reader(bytes);
  const version = r.u8('leaf version');
  if (version !== FORMAT_VERSION) throw unknownVersion(version);
  const height = u64Value(r.u64('height'));
  const blockTime = u64Value(r.u64('block_time'));
  const tx = decodeSignedTx(r.rest());
  return { height, block_time: blockTime, tx };
}

const tagOf = (list, name) => {
  const i = list.indexOf(name);
  if (i < 0) throw new Error(`unknown name ${name}`);
  return i + 1;
};

/** Encodes a body's JSON view (kind tag first). @param {Record<string, any>} b */
function encodeBody(b) {
  switch (b.kind) {
    case 'program_registered': {
      const rule = 'flat' in b.amount ? concat(u8b(1), u64b(b.amount.flat))
        : concat(u8b(2), u64b(b.amount.range.min), u64b(b.amount.range.max));
      return concat(u8b(1), str8b(b.code), str8b(b.name), u8b(tagOf(PERIOD_KINDS, b.period_kind)), rule);
    }
    case 'allocation':
      return concat(u8b(2), hex(b.id), str8b(b.program), str8b(b.period), u16b(b.region), u64b(b.amount),
        u16b(b.payer), hex(b.beneficiary_commitment), hex(b.dedup_tag), hex(b.claim_lock), u64b(b.expires_at));
    case 'claim':
      return concat(u8b(3), hex(b.allocation), u64b(b.amount), u8b(tagOf(CHANNELS, b.channel)), u16b(b.region),
        hex(b.outlet), hex(b.claim_secret), u64b(b.claimed_at));
    case 'return':
      return concat(u8b(4), hex(b.allocation), u8b(tagOf(RETURN_REASONS, b.reason)));
    case 'revocation':
      return concat(u8b(5), hex(b.allocation), u8b(tagOf(REVOCATION_REASONS, b.reason)));
    case 'vote':
      return concat(u8b(6), encodeVote(b));
    default:
      throw new Error(`unknown kind ${b.kind}`);
  }
}

/** version ‖ signer ‖ body: what the signature covers after the domain and network. */
function unsignedBytes(signer, body) {
  return concat(u8b(FORMAT_VERSION), u16b(signer), encodeBody(body));
}

/** Canonical bytes of a SignedTx view. @param {SignedTx} tx */
export function encodeSignedTx(tx) {
  return concat(unsignedBytes(tx.signer, tx.body), hex(tx.signature));
}

/** Canonical bytes of a Leaf view. @param {Leaf} leaf */
export function encodeLeaf(leaf) {
  return concat(u8b(FORMAT_VERSION), u64b(leaf.height), u64b(leaf.block_time), encodeSignedTx(leaf.tx));
}

/** domain ‖ network id ‖ version ‖ signer ‖ body. @param {SignedTx} tx @param {Uint8Array} networkId */
export function signingMessage(tx, networkId) {
  return concat(TX_SIGNING_DOMAIN, networkId, unsignedBytes(tx.signer, tx.body));
}

/** Whether `publicKey` signed this transaction for the network (strict Ed25519). */
export function verifySignedTx(tx, networkId, publicKey) {
  return verifyStrict(publicKey, signingMessage(tx, networkId), hex(tx.signature));
}

/** SHA-256 of the canonical bytes. @returns {string} hex */
export function txHash(tx) {
  return toHex(digest(encodeSignedTx(tx)));
}

/** Signs a body as `signer` (tests and fixtures only). @returns {SignedTx} */
export function signTx(networkId, signer, body, seed) {
  const unsigned = { signer, body, signature: '' };
  const sig = sign(seed, signingMessage(unsigned, networkId));
  const tx = { signer, body, signature: toHex(sig) };
  decodeSignedTx(encodeSignedTx(tx)); // refuses what the decoder would
  return tx;
}

export { publicKeyOf };
