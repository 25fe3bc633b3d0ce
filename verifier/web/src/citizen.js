// The citizen verifier of docs/VERIFY.md: from a trust policy, a receipt, a NIK, the evidence
// and the time, the verdict JSON that `bansos-verify receipt` gives too (golden vectors
// testdata/vectors/citizen.json). `check` and `checkBundle` are pure (ports of
// verifier/src/citizen.rs); `gatherOnline` is the only I/O:
// it fetches whole tiles through the fetch function it is given, never the leaf index, the
// allocation id or the NIK. When the evidence carries a key history (a node's `/key-history`,
// a bundle's `key_history`), it is followed from the policy's genesis keys before the
// checkpoint is verified against the epoch of its size (docs/VERIFY.md, "Key history").
//
// The NIK is an argument of `check` only, hashed with the receipt's salt and compared
// with the allocation's commitment; it is never put in a verdict, a bundle, a URL or an error.

import { equalBytes, fromBase64, toHex, utf8 } from './bytes.js';
import { beneficiaryCommitment } from './commitment.js';
import { decodeLeaf } from './entry.js';
import { VerifierError } from './errors.js';
import { fetchKeyHistory, HistoryError, keyHistoryJson, readKeyHistoryFile, validators } from './governance.js';
import { hashFromBase64, leafHash } from './hash.js';
import { inclusionProof, verifyInclusion } from './merkle.js';
import { edgeTiles, tileAtSize, tilePath, topLevel, VerifiedTiles } from './tile.js';
import { formatTlogProof, parseTlogProof } from './tlog_proof.js';

export const BUNDLE_FORMAT = 'bansos-ledger/receipt-bundle@v1';
/** Most events a bundle or an online answer may carry for one check (EVENTS_MAX). */
export const EVENTS_MAX = 4096;
/** Largest receipt bundle parsed. */
export const BUNDLE_BYTES_MAX = 1024 * 1024;
/** Most nodes asked in one check. */
export const NODES_MAX = 16;

/** Outcomes of docs/VERIFY.md with the exit codes of `bansos-verify receipt`. */
export const EXIT_CODES = {
  claimed: 0,
  not_claimed: 10,
  returned: 11,
  revoked: 12,
  not_in_log: 13,
  paid_less: 20,
  nik_mismatch: 21,
  not_an_allocation: 22,
  wrong_network: 23,
  invalid_checkpoint: 1,
  invalid_evidence: 1,
};

/** Outcomes that warn the citizen in red (something may have been done without them). */
export const WARNINGS = new Set(['paid_less', 'nik_mismatch', 'not_an_allocation']);

/**
 * One leaf with its inclusion proof at the evidence's checkpoint.
 * @typedef {{ index: bigint, leaf: Uint8Array, proof: Uint8Array[] }} Proven
 */

/**
 * What a verdict rests on: one signed checkpoint (text) and leaves proven against it, and the
 * network's key history when its validators changed since genesis (as readKeyHistoryFile gives
 * it; null for a network on its genesis keys).
 * @typedef {{ checkpoint: string, allocation: Proven|null, events: Proven[], key_history?: object|null }} Evidence
 */

/**
 * The verdict of docs/VERIFY.md, field for field.
 * @typedef {{ outcome: string, checkpoint: {origin: string, size: number, root: string}|null,
 *             allocation: object|null, claims: object[], claimed_total: number, closure: object|null,
 *             expired: boolean, error: object|null }} Verdict
 */

/** Why a receipt bundle was refused: `json` is the verdict's error. */
export class BundleError extends Error {
  /** @param {'malformed_bundle'|'mixed_checkpoints'} kind */
  constructor(kind) {
    super(kind === 'mixed_checkpoints' ? 'the proof file mixes checkpoints' : 'the proof file is not a receipt bundle');
    this.json = { kind };
  }
}

const BUNDLE_FIELDS = new Set(['format', 'allocation', 'checkpoint', 'events', 'key_history']);

/** A tlog-proof text of a bundle as Proven and its checkpoint. */
function provenOf(text) {
  let p;
  try {
    p = parseTlogProof(text);
  } catch (e) {
    if (e instanceof VerifierError) throw new BundleError('malformed_bundle');
    throw e;
  }
  if (p.extra === null) throw new BundleError('malformed_bundle');
  return [{ index: p.index, leaf: p.extra, proof: p.proof }, p.checkpoint];
}

/**
 * Reads a receipt bundle (JSON text or the parsed object) as Evidence::from_bundle does; throws
 * BundleError malformed_bundle or mixed_checkpoints.
 * @param {string|object} input @returns {Evidence}
 */
export function readBundle(input) {
  let b = input;
  if (typeof input === 'string') {
    if (utf8(input).length > BUNDLE_BYTES_MAX) throw new BundleError('malformed_bundle');
    try {
      b = JSON.parse(input);
    } catch {
      throw new BundleError('malformed_bundle');
    }
  }
  const isStr = (x) => typeof x === 'string';
  if (!b || typeof b !== 'object' || Array.isArray(b) || Object.keys(b).some((k) => !BUNDLE_FIELDS.has(k)) ||
    !isStr(b.format) || !(b.allocation === null || isStr(b.allocation)) ||
    !(b.checkpoint === undefined || b.checkpoint === null || isStr(b.checkpoint)) ||
    !Array.isArray(b.events) || !b.events.every(isStr)) {
    throw new BundleError('malformed_bundle');
  }
  if (b.format !== BUNDLE_FORMAT || b.events.length > EVENTS_MAX) throw new BundleError('malformed_bundle');
  // key_history: absent (or null) for a network on its genesis keys; else a key history document.
  let keyHistory = null;
  if (b.key_history !== undefined && b.key_history !== null) {
    keyHistory = readKeyHistoryFile(b.key_history).file;
    if (!keyHistory) throw new BundleError('malformed_bundle');
  }
  let checkpoint = null;
  const same = (cp) => {
    if (checkpoint === null) checkpoint = cp;
    else if (checkpoint !== cp) throw new BundleError('mixed_checkpoints');
  };
  let allocation = null;
  const cpField = b.checkpoint ?? null;
  if (b.allocation !== null && cpField === null) {
    const [p, cp] = provenOf(b.allocation);
    same(cp);
    allocation = p;
  } else if (b.allocation === null && cpField !== null) {
    same(cpField);
  } else {
    throw new BundleError('malformed_bundle');
  }
  const events = [];
  for (const text of b.events) {
    const [p, cp] = provenOf(text);
    same(cp);
    events.push(p);
  }
  return { checkpoint, allocation, events, key_history: keyHistory };
}

/** The tlog-proof text of a proven leaf. @param {Proven} p @param {string} checkpoint */
function tlogProofOf(p, checkpoint) {
  return formatTlogProof({ extra: p.leaf, index: p.index, proof: p.proof, checkpoint });
}

/**
 * The receipt bundle of some evidence (docs/VERIFY.md, "Offline"), as JSON text: what "Simpan
 * bukti" saves. It holds no personal data.
 * @param {Evidence} evidence @returns {string}
 */
export function writeBundle(evidence) {
  const file = { format: BUNDLE_FORMAT, allocation: null };
  if (evidence.allocation) file.allocation = tlogProofOf(evidence.allocation, evidence.checkpoint);
  else file.checkpoint = evidence.checkpoint;
  file.events = evidence.events.map((e) => tlogProofOf(e, evidence.checkpoint));
  if (evidence.key_history) file.key_history = keyHistoryJson(evidence.key_history);
  return `${JSON.stringify(file, null, 2)}\n`;
}

const num = (v) => (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

/** A verdict with nothing established yet. @returns {Verdict} */
function newVerdict(outcome) {
  return {
    outcome,
    checkpoint: null,
    allocation: null,
    claims: [],
    claimed_total: 0,
    closure: null,
    expired: false,
    error: null,
  };
}

/** Why evidence does not hold, as the verdict's error. */
class EvidenceFailure extends Error {
  constructor(json) {
    super(json.kind);
    this.json = json;
  }
}

/** Proves a leaf into (size, root) and decodes it; throws EvidenceFailure. @param {Proven} p */
function prove(p, size, root) {
  try {
    verifyInclusion(leafHash(p.leaf), p.index, size, p.proof, root);
  } catch (e) {
    if (e instanceof VerifierError) throw new EvidenceFailure({ kind: 'inclusion', index: num(p.index), proof: e.json });
    throw e;
  }
  try {
    return decodeLeaf(p.leaf);
  } catch (e) {
    if (e instanceof VerifierError) throw new EvidenceFailure({ kind: 'undecodable_leaf', index: num(p.index) });
    throw e;
  }
}

/**
 * Checks a receipt bundle (check_bundle): the network first, then the bundle, then check.
 * @returns {{ verdict: Verdict, signers: string[], evidence: Evidence|null }}
 */
export function checkBundle(policy, receipt, nik, bundle, now) {
  if (!equalBytes(receipt.networkTag, policy.networkId.subarray(0, 4))) {
    return { verdict: newVerdict('wrong_network'), signers: [], evidence: null };
  }
  let evidence;
  try {
    evidence = readBundle(bundle);
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    const verdict = newVerdict('invalid_evidence');
    verdict.error = e.json;
    return { verdict, signers: [], evidence: null };
  }
  return check(policy, receipt, nik, evidence, now);
}

/**
 * The policy's key history after following a key history document (a copy: the policy's own
 * stays at what it knew). Throws HistoryError.
 * @param {import('./policy.js').TrustPolicy} policy @param {object|null|undefined} file
 */
export function followedHistory(policy, file) {
  if (!file) return policy.history;
  const history = policy.history.clone();
  history.followFile(policy.networkId, policy.origin, file);
  return history;
}

/**
 * The steps of docs/VERIFY.md, "Verification", on gathered evidence (citizen.rs `check`).
 * Pure: the same inputs give the same verdict. `signers` are the trusted keys whose signatures
 * on the checkpoint verified and `keys` the validators of its epoch (for display; not part of
 * the verdict).
 * @param {import('./policy.js').TrustPolicy} policy @param {import('./receipt.js').Receipt} receipt
 * @param {Uint8Array} nik @param {Evidence} evidence @param {number} now Unix seconds
 * @returns {{ verdict: Verdict, signers: string[], keys: number, epoch: number, evidence: Evidence }}
 */
export function check(policy, receipt, nik, evidence, now) {
  let keys = policy.keyCount;
  let epoch = 0;
  const out = (verdict, signers = []) => ({ verdict, signers, keys, epoch, evidence });
  if (!equalBytes(receipt.networkTag, policy.networkId.subarray(0, 4))) return out(newVerdict('wrong_network'));
  let history;
  try {
    history = followedHistory(policy, evidence.key_history);
  } catch (e) {
    if (!(e instanceof HistoryError)) throw e;
    const v = newVerdict('invalid_checkpoint');
    v.error = { kind: 'key_history', reason: e.message };
    return out(v);
  }
  let cp;
  try {
    cp = history.verifyCheckpoint(evidence.checkpoint, policy.origin, true);
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    const v = newVerdict('invalid_checkpoint');
    v.error = e.json;
    return out(v);
  }
  keys = validators(cp.roster).length;
  epoch = cp.roster.epoch;
  const { size, root } = cp.checkpoint;
  const signers = cp.verified.signers;
  const v = newVerdict('not_in_log');
  v.checkpoint = { origin: cp.checkpoint.origin, size: num(size), root: toHex(root) };
  const failed = (json) => {
    v.outcome = 'invalid_evidence';
    v.error = json;
    return out(v, signers);
  };
  const index = BigInt(receipt.leafIndex);
  if (index >= size) return out(v, signers);
  const proven = evidence.allocation;
  if (!proven) return failed({ kind: 'missing_allocation' });
  if (proven.index !== index) return failed({ kind: 'wrong_index' });
  let leaf;
  try {
    leaf = prove(proven, size, root);
  } catch (e) {
    if (e instanceof EvidenceFailure) return failed(e.json);
    throw e;
  }
  const a = leaf.tx.body;
  if (a.kind !== 'allocation' || a.id !== receipt.allocation) {
    v.outcome = 'not_an_allocation';
    return out(v, signers);
  }
  if (toHex(beneficiaryCommitment(receipt.salt, nik)) !== a.beneficiary_commitment) {
    v.outcome = 'nik_mismatch';
    return out(v, signers);
  }
  v.allocation = {
    id: a.id,
    leaf_index: num(proven.index),
    height: leaf.height,
    recorded_at: leaf.block_time,
    issuer: leaf.tx.signer,
    program: a.program,
    period: a.period,
    region: a.region,
    amount: a.amount,
    payer: a.payer,
    expires_at: a.expires_at,
  };
  v.expired = now >= a.expires_at;
  try {
    const { claims, closure } = events(evidence.events, a.id, size, root);
    let total = 0n;
    for (const c of claims) total += BigInt(c.amount);
    v.claimed_total = num(total);
    v.claims = claims;
    v.closure = closure;
  } catch (e) {
    if (e instanceof EvidenceFailure) return failed(e.json);
    throw e;
  }
  if (v.closure) v.outcome = v.closure.kind === 'revocation' ? 'revoked' : 'returned';
  else if (v.claims.length === 0) v.outcome = 'not_claimed';
  else if (BigInt(v.claimed_total) < BigInt(a.amount)) v.outcome = 'paid_less';
  else v.outcome = 'claimed';
  return out(v, signers);
}

/** The claims and the first closure among an allocation's events, in index order. */
function events(proven, id, size, root) {
  if (proven.length > EVENTS_MAX) throw new EvidenceFailure({ kind: 'malformed_bundle' });
  const sorted = [...proven].sort((x, y) => (x.index < y.index ? -1 : x.index > y.index ? 1 : 0));
  const unique = sorted.filter((p, i) => i === 0 || p.index !== sorted[i - 1].index);
  const claims = [];
  let closure = null;
  for (const p of unique) {
    const leaf = prove(p, size, root);
    const t = leaf.tx.body;
    const unrelated = new EvidenceFailure({ kind: 'unrelated_event', index: num(p.index) });
    if (t.kind === 'claim') {
      if (t.allocation !== id) throw unrelated;
      claims.push({
        leaf_index: num(p.index),
        height: leaf.height,
        recorded_at: leaf.block_time,
        payer: leaf.tx.signer,
        amount: t.amount,
        channel: t.channel,
        region: t.region,
        claimed_at: t.claimed_at,
      });
      continue;
    }
    if ((t.kind !== 'return' && t.kind !== 'revocation') || t.allocation !== id) throw unrelated;
    // The ledger rules allow one closure; should a log hold two, the first one counts.
    closure ??= {
      kind: t.kind,
      reason: t.reason,
      leaf_index: num(p.index),
      height: leaf.height,
      recorded_at: leaf.block_time,
      by: leaf.tx.signer,
    };
  }
  return { claims, closure };
}

/**
 * Whether an online answer's event concerns this allocation (events of the other allocations
 * of the same tile are dropped before `check`, which refuses them). An undecodable leaf or
 * another kind is kept, so that `check` reports it.
 * @param {Uint8Array} leaf @param {string} allocationHex
 */
export function eventConcerns(leaf, allocationHex) {
  let t;
  try {
    t = decodeLeaf(leaf).tx.body;
  } catch (e) {
    if (e instanceof VerifierError) return true;
    throw e;
  }
  if (t.kind === 'claim' || t.kind === 'return' || t.kind === 'revocation') return t.allocation === allocationHex;
  return true;
}

/** A node could not be asked (network, HTTP status, a body that is not what the API says). */
export class FetchError extends Error {
  /** @param {string} url @param {string} reason */
  constructor(url, reason) {
    super(`${url}: ${reason}`);
    this.url = url;
    this.reason = reason;
  }
}

/** A node gave tiles that do not verify against its own signed checkpoint. */
export class TileEvidenceError extends Error {
  /** @param {string} url @param {object} json */
  constructor(url, json) {
    super(`${url}: ${json.kind}`);
    this.url = url;
    this.json = json;
  }
}

/** Normalises a node address: no trailing slash. @param {string} u */
export function nodeBase(u) {
  return u.trim().replace(/\/+$/, '');
}

/**
 * Gathers the evidence of one receipt from one or more nodes over `fetchFn`
 * (docs/VERIFY.md, "Online"): the first node whose checkpoint verifies (after following its
 * key history) gives the checkpoint, the key history and the tiles; every node is asked for the
 * tile's events, which are united.
 *
 * Throws FetchError when no node could be asked, TileEvidenceError when the chosen node's
 * tiles do not match its checkpoint. A checkpoint that does not verify on every node that
 * answered is returned as evidence (verifyReceipt then says invalid_checkpoint).
 *
 * @param {{ policy: import('./policy.js').TrustPolicy, receipt: import('./receipt.js').Receipt,
 *           nodes: string[], fetchFn: typeof fetch, onProgress?: (what: string) => void }} input
 * @returns {Promise<{ evidence: Evidence, node: string|null, unreachable: {node: string, reason: string}[] }>}
 */
export async function gatherOnline({ policy, receipt, nodes, fetchFn, onProgress = () => {} }) {
  const bases = nodes.map(nodeBase).filter((n) => n !== '').slice(0, NODES_MAX);
  if (bases.length === 0) throw new FetchError('', 'no node address');
  const unreachable = [];
  const get = async (url, kind) => {
    let res;
    try {
      res = await fetchFn(url, { cache: 'no-store', credentials: 'omit', redirect: 'follow' });
    } catch (e) {
      throw new FetchError(url, String(e?.message ?? e));
    }
    if (!res.ok) throw new FetchError(url, `HTTP ${res.status}`);
    if (kind === 'text') return res.text();
    if (kind === 'json') {
      try {
        return await res.json();
      } catch {
        throw new FetchError(url, 'the answer is not JSON');
      }
    }
    return new Uint8Array(await res.arrayBuffer());
  };

  // 1. The first checkpoint that verifies.
  let chosen = null;
  let failing = null;
  for (const base of bases) {
    onProgress(`${base}/checkpoint`);
    let text;
    try {
      text = await get(`${base}/checkpoint`, 'text');
    } catch (e) {
      if (!(e instanceof FetchError)) throw e;
      unreachable.push({ node: base, reason: e.reason });
      continue;
    }
    // The validators may have changed since genesis: follow the node's key history.
    onProgress(`${base}/key-history`);
    const keyHistory = await fetchKeyHistory(base, fetchFn);
    try {
      const cp = followedHistory(policy, keyHistory).verifyCheckpoint(text, policy.origin, false);
      chosen = { base, text, cp, keyHistory };
      break;
    } catch (e) {
      if (!(e instanceof VerifierError)) throw e;
      failing ??= { base, text, keyHistory };
    }
  }
  if (!chosen) {
    if (failing) {
      const evidence = { checkpoint: failing.text, allocation: null, events: [], key_history: failing.keyHistory };
      return { evidence, node: failing.base, unreachable };
    }
    throw new FetchError(bases[0], unreachable.map((u) => u.reason).join('; ') || 'no answer');
  }
  const { base, text, keyHistory } = chosen;
  const { size, root } = chosen.cp.checkpoint;
  const index = BigInt(receipt.leafIndex);

  // 2. Not in the log at this size.
  if (index >= size) return { evidence: { checkpoint: text, allocation: null, events: [], key_history: keyHistory }, node: base, unreachable };

  // 3. Edge tiles, the path's full tiles top-down, the entry bundle.
  const tiles = new VerifiedTiles(size, root);
  const tileError = (e) => {
    if (e instanceof VerifierError) return new TileEvidenceError(base, e.json);
    return e;
  };
  const edge = [];
  for (const t of edgeTiles(size)) {
    onProgress(tilePath(t));
    edge.push([t, await get(`${base}/${tilePath(t)}`, 'bytes')]);
  }
  try {
    tiles.addEdge(edge);
  } catch (e) {
    throw tileError(e);
  }
  for (let level = topLevel(size); level >= 0; level--) {
    const t = tileAtSize('hash', level, index >> BigInt(8 * (level + 1)), size);
    if (!t || t.width !== 256 || tiles.has(level, t.index)) continue;
    onProgress(tilePath(t));
    const bytes = await get(`${base}/${tilePath(t)}`, 'bytes');
    try {
      tiles.addFull(t, bytes);
    } catch (e) {
      throw tileError(e);
    }
  }
  const bundleRef = tileAtSize('entries', 0, index >> 8n, size);
  onProgress(tilePath(bundleRef));
  const bundleBytes = await get(`${base}/${tilePath(bundleRef)}`, 'bytes');
  let leafBytes;
  let proof;
  try {
    const entries = tiles.checkBundle(bundleRef, bundleBytes);
    leafBytes = entries[Number(index % 256n)].slice();
    proof = inclusionProof(tiles, index, size);
  } catch (e) {
    throw tileError(e);
  }
  const allocation = { index, leaf: leafBytes, proof };

  // 4. The events of the whole entry tile, from every node, united.
  const tileN = index >> 8n;
  /** @type {Map<bigint, Proven>} */
  const events = new Map();
  let answered = 0;
  for (const node of bases) {
    const url = `${node}/v1/allocation-events?tile=${tileN}&size=${size}`;
    onProgress(url);
    let answer;
    try {
      answer = await get(url, 'json');
      for (const e of readEventsAnswer(url, answer, receipt.allocation)) {
        if (!events.has(e.index)) events.set(e.index, e);
      }
      answered++;
    } catch (e) {
      if (!(e instanceof FetchError)) throw e;
      if (node === base) throw e;
      if (!unreachable.some((u) => u.node === node)) unreachable.push({ node, reason: e.reason });
    }
  }
  if (answered === 0) throw new FetchError(base, 'no node answered allocation-events');
  const sorted = [...events.values()].sort((x, y) => (x.index < y.index ? -1 : 1));
  return { evidence: { checkpoint: text, allocation, events: sorted, key_history: keyHistory }, node: base, unreachable };
}

/**
 * The events of an allocation-events answer that concern this allocation (eventConcerns on the
 * leaf itself, not the answer's label), as proven leaves; their proofs are checked by `check`.
 * Throws FetchError when the answer is not what docs/VERIFY.md describes.
 * @returns {Proven[]}
 */
export function readEventsAnswer(url, answer, allocationHex) {
  const bad = (why) => new FetchError(url, why);
  if (!answer || typeof answer !== 'object' || !Array.isArray(answer.events)) throw bad('no events list');
  if (answer.events.length > EVENTS_MAX) throw bad('too many events');
  const out = [];
  for (const e of answer.events) {
    if (!e || !Number.isSafeInteger(e.index) || e.index < 0) throw bad('an event without an index');
    const leaf = typeof e.leaf === 'string' ? fromBase64(e.leaf) : null;
    if (!leaf) throw bad('an event whose leaf is not base64');
    if (!Array.isArray(e.proof)) throw bad('an event without a proof');
    const proof = e.proof.map((h) => (typeof h === 'string' ? hashFromBase64(h) : null));
    if (proof.some((h) => h === null)) throw bad('a proof hash that is not base64');
    if (!eventConcerns(leaf, allocationHex)) continue;
    out.push({ index: BigInt(e.index), leaf, proof });
  }
  return out;
}
