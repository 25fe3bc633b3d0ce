// C2SP tlog-checkpoint v1.0.0 bodies (port of verifier/src/checkpoint.rs): origin, tree size,
// root hash, optional extension lines; verified as signed notes under a policy.

import { toBase64 } from './bytes.js';
import { CheckpointError } from './errors.js';
import { hashFromBase64 } from './hash.js';
import { parseNote, verifyNote } from './note.js';

const malformed = (why) => new CheckpointError(`malformed checkpoint: ${why}`, { kind: 'malformed_checkpoint' });
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/**
 * A checkpoint body. `size` is a BigInt (a log may pass 2^53 leaves).
 * @typedef {{ origin: string, size: bigint, root: Uint8Array, extensions: string[] }} Checkpoint
 */

/** Parses a note text as a checkpoint body; throws CheckpointError malformed_checkpoint. @param {string} text @returns {Checkpoint} */
export function parseCheckpointBody(text) {
  if (!text.endsWith('\n')) throw malformed('the body must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('a checkpoint has at least three lines');
  if (lines.some((l) => l === '')) throw malformed('checkpoint lines must not be empty');
  if (CONTROL_BUT_NEWLINE.test(text)) {
    throw malformed('control characters other than newline are not allowed');
  }
  const sizeText = lines[1];
  if (!/^[0-9]+$/.test(sizeText) || (sizeText.length > 1 && sizeText.startsWith('0'))) {
    throw malformed('the size must be decimal without leading zeros');
  }
  const size = BigInt(sizeText);
  if (size > 0xffffffffffffffffn) throw malformed('the size does not fit 64 bits');
  const root = hashFromBase64(lines[2]);
  if (!root) throw malformed('the root must be 32 bytes of padded base64');
  return { origin: lines[0], size, root, extensions: lines.slice(3) };
}

/** The note text of a body. @param {Checkpoint} c */
export function checkpointBody(c) {
  let s = `${c.origin}\n${c.size}\n${toBase64(c.root)}\n`;
  for (const e of c.extensions ?? []) s += `${e}\n`;
  return s;
}

/**
 * A checkpoint whose signatures met a policy.
 * @typedef {{ checkpoint: Checkpoint, verified: import('./note.js').Verified, note: import('./note.js').Note }} VerifiedCheckpoint
 */

/**
 * Parses a signed checkpoint, checks its origin (unless null) and applies the policy. Throws
 * CheckpointError or NoteError (both carry `json` as in checkpoints.json).
 * @param {Uint8Array|string} bytes @param {string|null} origin @param {import('./note.js').Policy} policy
 * @returns {VerifiedCheckpoint}
 */
export function verifyCheckpoint(bytes, origin, policy) {
  const { note, checkpoint } = parseSignedCheckpoint(bytes, origin);
  const verified = verifyNote(policy, note);
  return { checkpoint, verified, note };
}

/**
 * Parses a signed checkpoint and checks its origin (unless null), its signatures not yet:
 * the first steps of verifyCheckpoint, shared with the roster's check (governance.js).
 * @param {Uint8Array|string} bytes @param {string|null} origin
 * @returns {{ note: import('./note.js').Note, checkpoint: Checkpoint }}
 */
export function parseSignedCheckpoint(bytes, origin) {
  const note = parseNote(bytes);
  const checkpoint = parseCheckpointBody(note.text);
  if (origin !== null && origin !== undefined && checkpoint.origin !== origin) {
    throw new CheckpointError(
      `the checkpoint is for log ${JSON.stringify(checkpoint.origin)}, expected ${JSON.stringify(origin)}`,
      { kind: 'wrong_origin', origin: checkpoint.origin },
    );
  }
  return { note, checkpoint };
}
