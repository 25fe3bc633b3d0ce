// The trust policy (docs/VERIFY.md, "Trust policy"): which network, which log origin, which
// validator keys and how many of them must sign; members and programs only turn numbers into
// names for display.

import { fromHex } from './bytes.js';
import { VerifierError } from './errors.js';
import { makePolicy, parseVerifierKey } from './note.js';

export const POLICY_FORMAT = 'bansos-ledger/trust-policy@v1';

/** A trust policy that does not parse. */
export class PolicyError extends VerifierError {}

/**
 * A parsed trust policy.
 * @typedef {{
 *   networkName: string, networkId: Uint8Array, origin: string, quorum: number,
 *   notePolicy: import('./note.js').Policy, keyCount: number,
 *   members: Map<number, {id: number, name: string, display_name?: string, role?: string}>,
 *   programs: Map<string, {code: string, name: string}>, json: object
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
  if (p.format !== POLICY_FORMAT) throw bad(`format must be ${POLICY_FORMAT}`);
  const networkId = typeof p.network_id === 'string' && p.network_id.length === 64 ? fromHex(p.network_id) : null;
  if (!networkId) throw bad('network_id must be 64 hex digits');
  if (typeof p.origin !== 'string' || p.origin === '') throw bad('origin must be a non-empty string');
  if (!Array.isArray(p.verifier_keys) || !p.verifier_keys.every((k) => typeof k === 'string')) {
    throw bad('verifier_keys must be a list of vkey strings');
  }
  let notePolicy;
  try {
    notePolicy = makePolicy(p.verifier_keys.map(parseVerifierKey), p.quorum);
  } catch (e) {
    if (e instanceof VerifierError) throw bad(e.message);
    throw e;
  }
  const members = new Map();
  for (const m of Array.isArray(p.members) ? p.members : []) {
    if (m && Number.isInteger(m.id)) members.set(m.id, m);
  }
  const programs = new Map();
  for (const pr of Array.isArray(p.programs) ? p.programs : []) {
    if (pr && typeof pr.code === 'string') programs.set(pr.code, pr);
  }
  return {
    networkName: typeof p.network_name === 'string' ? p.network_name : '',
    networkId,
    origin: p.origin,
    quorum: p.quorum,
    notePolicy,
    keyCount: p.verifier_keys.length,
    members,
    programs,
    json: p,
  };
}
