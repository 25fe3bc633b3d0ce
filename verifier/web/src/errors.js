// Typed errors carrying the machine-readable JSON the golden vectors and the verdict use
// (`json`), with a sentence for people (`message`). Every module throws only these for what
// the world can do wrong; anything else thrown is a bug.

export class VerifierError extends Error {
  /** @param {string} message @param {Record<string, unknown>} json */
  constructor(message, json) {
    super(message);
    /** The error as verifier/tests/golden.rs writes it. */
    this.json = json;
  }
}

/** A Merkle proof did not verify (merkle.rs ProofError). */
export class ProofError extends VerifierError {}
/** A signed note, verifier key or signature was refused (note.rs NoteError). */
export class NoteError extends VerifierError {}
/** A checkpoint body or its origin was refused (checkpoint.rs CheckpointError). */
export class CheckpointError extends VerifierError {}
/** Bytes were refused as an entry (entry.rs DecodeError). */
export class DecodeError extends VerifierError {}
/** A receipt text was refused (receipt.rs ReceiptError). */
export class ReceiptError extends VerifierError {}
/** A tile path, hash tile or entry bundle was refused (tile.rs TileError). */
export class TileError extends VerifierError {}
/** A tlog-proof was refused (tlog_proof.rs TlogProofError). */
export class TlogProofError extends VerifierError {}
