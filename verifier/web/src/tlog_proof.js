// C2SP tlog-proof@v1 (port of verifier/src/tlog_proof.rs): an offline inclusion proof of one
// entry with the checkpoint it leads to. We always carry the entry (the Leaf bytes) in `extra`.

import { fromBase64, fromUtf8, parseU64Decimal, toBase64, utf8 } from './bytes.js';
import { TlogProofError, VerifierError } from './errors.js';
import { hashFromBase64 } from './hash.js';
import { verifyCheckpoint } from './checkpoint.js';
import { PROOF_HASHES_MAX, verifyInclusion } from './merkle.js';

export const HEADER = 'c2sp.org/tlog-proof@v1';
export const TLOG_PROOF_BYTES_MAX = 128 * 1024;

/**
 * A parsed tlog-proof: extra (Uint8Array or null), index (BigInt), proof hashes, and the
 * signed checkpoint verbatim (text).
 * @typedef {{ extra: Uint8Array|null, index: bigint, proof: Uint8Array[], checkpoint: string }} TlogProof
 */

const malformed = (why) => new TlogProofError(`malformed tlog-proof: ${why}`, { stage: 'parse', kind: 'malformed_proof' });

/** Parses the text form (string or bytes); throws TlogProofError stage parse. @returns {TlogProof} */
export function parseTlogProof(input) {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  if (bytes.length > TLOG_PROOF_BYTES_MAX) throw malformed('too large');
  const text = typeof input === 'string' ? input : fromUtf8(bytes);
  if (text === null) throw malformed('not UTF-8');
  const split = text.indexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the checkpoint');
  const lines = text.slice(0, split).split('\n');
  const checkpoint = text.slice(split + 2);
  if (lines[0] !== HEADER) throw malformed('the first line must be c2sp.org/tlog-proof@v1');
  let i = 1;
  if (i >= lines.length) throw malformed('missing index line');
  let line = lines[i++];
  let extra = null;
  if (line.startsWith('extra ')) {
    extra = fromBase64(line.slice(6));
    if (!extra) throw malformed('extra is not standard base64');
    if (i >= lines.length) throw malformed('missing index line');
    line = lines[i++];
  }
  if (!line.startsWith('index ')) throw malformed('expected an index line');
  const idx = line.slice(6);
  if (!/^(0|[1-9][0-9]*)$/.test(idx)) throw malformed('the index must be decimal without leading zeros');
  const index = parseU64Decimal(idx);
  if (index === null) throw malformed('the index does not fit 64 bits');
  const proof = [];
  for (; i < lines.length; i++) {
    if (proof.length === PROOF_HASHES_MAX) throw malformed('too many proof hashes');
    const h = hashFromBase64(lines[i]);
    if (!h) throw malformed('a proof line is not a base64 hash');
    proof.push(h);
  }
  return { extra, index, proof, checkpoint };
}

/** The text form. @param {TlogProof} p @returns {string} */
export function formatTlogProof(p) {
  let s = `${HEADER}\n`;
  if (p.extra) s += `extra ${toBase64(p.extra)}\n`;
  s += `index ${p.index}\n`;
  for (const h of p.proof) s += `${toBase64(h)}\n`;
  return `${s}\n${p.checkpoint}`;
}

/**
 * Checks the checkpoint under the policy and origin, then the inclusion of `leafHash`.
 * Throws TlogProofError with {stage: 'checkpoint'|'inclusion', error} as tlog_proof.json.
 * @param {TlogProof} p @param {Uint8Array} leafHash @param {string|null} origin
 * @param {import('./note.js').Policy} policy
 */
export function verifyTlogProof(p, leafHash, origin, policy) {
  let cp;
  try {
    cp = verifyCheckpoint(p.checkpoint, origin, policy);
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    throw new TlogProofError(`the proof's checkpoint: ${e.message}`, { stage: 'checkpoint', error: e.json });
  }
  try {
    verifyInclusion(leafHash, p.index, cp.checkpoint.size, p.proof, cp.checkpoint.root);
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    throw new TlogProofError(`the inclusion proof fails: ${e.message}`, { stage: 'inclusion', error: e.json });
  }
  return cp;
}
