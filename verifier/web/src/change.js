// Governance changes and votes, their canonical bytes (port of the codec half of
// verifier/src/governance.rs; docs/FORMAT.md, "Governance"). Decoding yields the Rust JSON view
// ({change: 'add_member', ...}) and accepts exactly the bytes encoding produces, with the
// refusals of governance.json's refused_changes.

import { concat, hex, toHex, u64Value, utf8 } from './bytes.js';
import { CONTROL, invalid, OUTER_SPACE, Reader, str8b, u16b, u64b, u8b, unknownTag } from './codec.js';
import { decodePoint } from './ed25519.js';
import { formatVerifierKey, isKeyNameValid, parseVerifierKey, SIG_TYPE_COSIGNATURE } from './note.js';
import { digest } from './hash.js';

/** Longest member name. */
export const MEMBER_NAME_MAX = 32;
/** Longest display name, peer-to-peer address, witness key or URL in a change. */
export const TEXT_BYTES_MAX = 200;
/** Largest voting power of one validator. */
export const VOTING_POWER_MAX = 1_000_000;
/** The version of the ledger rules this verifier knows. */
export const RULES_VERSION = 1;
/** "bansos-ledger/key-rotation/v1\0": the domain of the statement a key rotation signs. */
export const ROTATION_DOMAIN = utf8('bansos-ledger/key-rotation/v1\0');

/** Change names by tag (1-8). */
export const CHANGES = [
  'add_member', 'remove_member', 'set_voting_power', 'rotate_key',
  'add_witness', 'retire_witness', 'set_witness_quorum', 'schedule_upgrade',
];
/** Role names by tag (1-3). */
export const ROLES = ['ministry', 'bank', 'auditor'];

/** Whether `name` may name a member: 1-32 of A-Z a-z 0-9 . _ -, a letter or digit first. */
export const isMemberNameValid = (name) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(name);

/** domain ‖ network id ‖ member (u16 BE) ‖ new key: what a rotation's keys sign. */
export function rotationStatement(networkId, member, newKey) {
  return concat(ROTATION_DOMAIN, networkId, u16b(member), newKey);
}

/** Decodes one change from a reader (its tag first). @param {Reader} r */
export function readChange(r) {
  const text = (field) => {
    const s = r.str8(field, TEXT_BYTES_MAX);
    if (CONTROL.test(s) || OUTER_SPACE.test(s)) throw invalid(field, 'printable text without outer spaces');
    return s;
  };
  const tag = r.u8('change');
  switch (tag) {
    case 1: {
      const name = r.str8('name', MEMBER_NAME_MAX);
      if (!isMemberNameValid(name)) throw invalid('name', '1-32 of A-Z a-z 0-9 . _ -, alphanumeric first');
      const displayName = text('display_name');
      if (displayName === '') throw invalid('display_name', 'must not be empty');
      const role = r.u8('role');
      if (role < 1 || role > ROLES.length) throw unknownTag('role', role);
      const publicKey = r.take(32, 'public_key');
      if (!decodePoint(publicKey)) throw invalid('public_key', 'not an Ed25519 public key');
      const p2p = text('p2p_address');
      const power = r.u64('voting_power');
      if (power > BigInt(VOTING_POWER_MAX)) throw invalid('voting_power', 'at most 1,000,000');
      return {
        change: 'add_member', name, display_name: displayName, role: ROLES[role - 1],
        public_key: toHex(publicKey), p2p_address: p2p, voting_power: Number(power),
      };
    }
    case 2:
      return { change: 'remove_member', member: r.u16('member') };
    case 3: {
      const member = r.u16('member');
      const power = r.u64('power');
      if (power === 0n || power > BigInt(VOTING_POWER_MAX)) throw invalid('power', '1 to 1,000,000 (remove a member instead)');
      return { change: 'set_voting_power', member, power: Number(power) };
    }
    case 4: {
      const member = r.u16('member');
      const newKey = r.take(32, 'new_key');
      if (!decodePoint(newKey)) throw invalid('new_key', 'not an Ed25519 public key');
      const c = { change: 'rotate_key', member, new_key: toHex(newKey), new_key_signature: r.hex(64, 'new_key_signature') };
      const flag = r.u8('old key signed');
      if (flag === 1) c.old_key_signature = r.hex(64, 'old_key_signature');
      else if (flag !== 0) throw unknownTag('old key signed', flag);
      return c;
    }
    case 5: {
      const vkey = r.str8('vkey', TEXT_BYTES_MAX);
      let ok = false;
      try {
        const k = parseVerifierKey(vkey);
        ok = k.type === SIG_TYPE_COSIGNATURE && formatVerifierKey(k) === vkey;
      } catch {
        ok = false;
      }
      if (!ok) throw invalid('vkey', 'a C2SP cosignature (0x04) verifier key');
      return { change: 'add_witness', vkey, url: text('url') };
    }
    case 6: {
      const name = r.str8('name', TEXT_BYTES_MAX);
      if (!isKeyNameValid(name)) throw invalid('name', 'a note key name');
      return { change: 'retire_witness', name };
    }
    case 7:
      return { change: 'set_witness_quorum', quorum: r.u8('quorum') };
    case 8:
      return { change: 'schedule_upgrade', height: u64Value(r.u64('height')), rules_version: r.u16('rules_version') };
    default:
      throw unknownTag('change', tag);
  }
}

/** Decodes canonical change bytes; throws DecodeError for anything else. @param {Uint8Array} bytes */
export function decodeChange(bytes) {
  const r = new Reader(bytes);
  const c = readChange(r);
  r.finish();
  return c;
}

/** Decodes a vote body after its kind byte: epoch (u64 BE), then the change. @param {Reader} r */
export function readVote(r) {
  const epoch = u64Value(r.u64('epoch'));
  return { kind: 'vote', epoch, change: readChange(r) };
}

/** The canonical bytes of a change's JSON view. @param {Record<string, any>} c */
export function encodeChange(c) {
  const tag = CHANGES.indexOf(c.change) + 1;
  if (tag === 0) throw new Error(`unknown change ${c.change}`);
  switch (c.change) {
    case 'add_member':
      return concat(u8b(tag), str8b(c.name), str8b(c.display_name), u8b(ROLES.indexOf(c.role) + 1), hex(c.public_key),
        str8b(c.p2p_address), u64b(c.voting_power));
    case 'remove_member':
      return concat(u8b(tag), u16b(c.member));
    case 'set_voting_power':
      return concat(u8b(tag), u16b(c.member), u64b(c.power));
    case 'rotate_key':
      return concat(u8b(tag), u16b(c.member), hex(c.new_key), hex(c.new_key_signature),
        c.old_key_signature === undefined ? u8b(0) : concat(u8b(1), hex(c.old_key_signature)));
    case 'add_witness':
      return concat(u8b(tag), str8b(c.vkey), str8b(c.url));
    case 'retire_witness':
      return concat(u8b(tag), str8b(c.name));
    case 'set_witness_quorum':
      return concat(u8b(tag), u8b(c.quorum));
    default:
      return concat(u8b(tag), u64b(c.height), u16b(c.rules_version));
  }
}

/** A vote body's bytes after its kind byte. @param {{epoch: number|bigint, change: object}} v */
export function encodeVote(v) {
  return concat(u64b(v.epoch), encodeChange(v.change));
}

/** SHA-256 of a change's canonical bytes, hex: its name in tallies and the API. */
export function changeHash(c) {
  return toHex(digest(encodeChange(c)));
}
