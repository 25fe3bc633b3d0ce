// The trust policy (docs/VERIFY.md, "Trust policy"): which network, which log origin, which
// validator keys and how many of them must sign, optionally which witnesses' cosignature keys
// and how many cosignatures are required; members and programs only turn numbers into names
// for display. The members and verifier keys also make the genesis roster (epoch 0) from which a
// key history is followed (governance.js; docs/VERIFY.md, "Key history").

import { fromHex, toHex } from './bytes.js';
import { ROLES } from './change.js';
import { VerifierError } from './errors.js';
import { KeyHistory } from './governance.js';
import { makePolicy, parseVerifierKey, SIG_TYPE_COSIGNATURE } from './note.js';

export const POLICY_FORMAT = 'bansos-ledger/trust-policy@v1';
const POLICY_FIELDS = new Set([
  'format', 'network_name', 'network_id', 'origin', 'quorum', 'verifier_keys', 'witnesses', 'witness_quorum', 'members', 'programs',
]);

/** A trust policy that does not parse. */
export class PolicyError extends VerifierError {}

/**
 * A parsed trust policy.
 * @typedef {{
 *   networkName: string, networkId: Uint8Array, origin: string, quorum: number,
 *   notePolicy: import('./note.js').Policy, keyCount: number,
 *   witnessPolicy: import('./note.js').Policy|null,
 *   members: Map<number, {id: number, name: string, display_name?: string, role?: string}>,
 *   programs: Map<string, {code: string, name: string}>, json: object,
 *   history: import('./governance.js').KeyHistory
 * }} TrustPolicy
 */

/**
 * Parses the policy JSON (text or object); throws PolicyError with a reason.
 * @param {string|object} input @returns {TrustPolicy}
 */
export function parsePolicy(input) {
  const bad = (why) => new PolicyError(`not a trust policy: ${why}`, { kind: 'bad_policy', reason: why });
  let p = input;
  if (typeof input === 'string') {
    try {
      p = JSON.parse(input);
    } catch {
      throw bad('not JSON');
    }
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw bad('not a JSON object');
  for (const k of Object.keys(p)) if (!POLICY_FIELDS.has(k)) throw bad(`unknown field ${k}`);
  if (p.format !== POLICY_FORMAT) throw bad(`format must be ${POLICY_FORMAT}`);
  if (typeof p.network_name !== 'string') throw bad('network_name must be a string');
  const networkId = typeof p.network_id === 'string' && p.network_id.length === 64 ? fromHex(p.network_id) : null;
  if (!networkId) throw bad('network_id must be 64 hex digits');
  if (typeof p.origin !== 'string') throw bad('origin must be a string');
  if (!Number.isSafeInteger(p.quorum) || p.quorum < 0) throw bad('quorum must be a number');
  if (!Array.isArray(p.verifier_keys) || !p.verifier_keys.every((k) => typeof k === 'string')) {
    throw bad('verifier_keys must be a list of vkey strings');
  }
  const witnesses = p.witnesses ?? [];
  if (!Array.isArray(witnesses) || !witnesses.every((k) => typeof k === 'string')) {
    throw bad('witnesses must be a list of vkey strings');
  }
  const witnessQuorum = p.witness_quorum ?? 0;
  if (!Number.isSafeInteger(witnessQuorum) || witnessQuorum < 0) throw bad('witness_quorum must be a number');
  let notePolicy;
  let witnessPolicy = null;
  try {
    notePolicy = makePolicy(p.verifier_keys.map(parseVerifierKey), p.quorum);
    const witnessKeys = witnesses.map(parseVerifierKey);
    if (witnessKeys.some((k) => k.type !== SIG_TYPE_COSIGNATURE)) {
      throw bad('a witness key must be a cosignature key (type 0x04)');
    }
    if (witnessQuorum > 0) witnessPolicy = makePolicy(witnessKeys, witnessQuorum);
  } catch (e) {
    if (e instanceof PolicyError) throw e;
    if (e instanceof VerifierError) throw bad(e.message);
    throw e;
  }
  const isStr = (x) => typeof x === 'string';
  const members = new Map();
  if (p.members !== undefined && !Array.isArray(p.members)) throw bad('members must be a list');
  // The genesis roster: members in id order; a member whose name has a verifier key validates
  // with power 1 (policy.rs, TrustPolicy::new).
  const rosterMembers = [];
  for (const [i, m] of (p.members ?? []).entries()) {
    if (!m || !Number.isInteger(m.id) || m.id < 0 || m.id > 0xffff || !isStr(m.name) || !isStr(m.display_name) || !isStr(m.role)) {
      throw bad('a member needs id, name, display_name and role');
    }
    if (m.id !== i) throw bad(`member ${m.id} is listed at position ${i}`);
    if (!ROLES.includes(m.role)) throw bad(`member ${m.name}: unknown role ${JSON.stringify(m.role)}`);
    members.set(m.id, m);
    const key = notePolicy.keys.find((k) => k.name === m.name);
    rosterMembers.push({
      id: m.id,
      name: m.name,
      display_name: m.display_name,
      role: m.role,
      key: key ? toHex(key.publicKey) : null,
      p2p_address: '',
      power: key ? 1 : 0,
      active: true,
    });
  }
  // A verifier key that names no member (a policy written by hand, without members) still
  // validates: it joins the roster after the members, with power 1.
  for (const key of notePolicy.keys) {
    if (rosterMembers.some((m) => m.name === key.name)) continue;
    rosterMembers.push({
      id: rosterMembers.length,
      name: key.name,
      display_name: key.name,
      role: 'auditor',
      key: toHex(key.publicKey),
      p2p_address: '',
      power: 1,
      active: true,
    });
  }
  const genesis = {
    epoch: 0,
    start_size: 0,
    members: rosterMembers,
    witnesses: witnesses.map((vkey) => ({ vkey, url: '' })),
    witness_quorum: Math.min(witnessQuorum, 255),
    genesis_quorum: p.quorum,
    upgrade: null,
  };
  const programs = new Map();
  if (p.programs !== undefined && !Array.isArray(p.programs)) throw bad('programs must be a list');
  for (const pr of p.programs ?? []) {
    if (!pr || !isStr(pr.code) || !isStr(pr.name)) throw bad('a program needs code and name');
    programs.set(pr.code, pr);
  }
  return {
    networkName: p.network_name,
    networkId,
    origin: p.origin,
    quorum: p.quorum,
    notePolicy,
    witnessPolicy,
    keyCount: p.verifier_keys.length,
    members,
    programs,
    json: p,
    history: new KeyHistory(genesis),
  };
}
