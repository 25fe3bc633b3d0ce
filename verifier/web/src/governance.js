// Who the validators are at each point of the log, and the key history that lets a verifier
// holding only the genesis trust policy follow them (port of verifier/src/governance.rs;
// docs/VERIFY.md, "Key history"; vectors: testdata/vectors/governance.json).
//
// A roster is a plain object with the fields of the Rust `Roster` as JSON (epoch, start_size,
// members [{id, name, display_name, role, key (hex or null), p2p_address, power, active}],
// witnesses [{vkey, url}], witness_quorum, genesis_quorum (the policy's signature quorum in
// epoch 0, else null), upgrade ([height, version] or null)). `applyChange` is the one
// definition of what a change does and may not do; `KeyHistory` checks a key history link by
// link and picks the roster of a checkpoint by its size. The only I/O is `fetchKeyHistory`,
// through the fetch function it is given.

import { equalBytes, fromHex, hex, toHex, u64Value } from './bytes.js';
import { decodeChange, encodeChange, RULES_VERSION, rotationStatement } from './change.js';
import { parseCheckpointBody, parseSignedCheckpoint } from './checkpoint.js';
import { decodePoint, verifyStrict } from './ed25519.js';
import { decodeSignedTx, verifySignedTx } from './entry.js';
import { CheckpointError, NoteError, VerifierError } from './errors.js';
import { keyId, keyIdHex, makePolicy, parseNote, parseVerifierKey, SIG_TYPE_ED25519, verifyNote, verifyWithKey } from './note.js';

/** Most members a network may have. */
export const MEMBERS_MAX = 64;
/** Fewest validators. */
export const VALIDATORS_MIN = 4;
/** Most witnesses at once. */
export const WITNESSES_MAX = 16;
/** The format name of a key history document. */
export const KEY_HISTORY_FORMAT = 'bansos-ledger/key-history@v1';
/** Most links a key history may hold. */
export const LINKS_MAX = 4096;
/** Largest key history document read. */
export const KEY_HISTORY_BYTES_MAX = 4 * 1024 * 1024;

/** Why a change cannot apply to a roster (ChangeError): `json` as governance.json writes it. */
export class ChangeError extends VerifierError {}
/** Why a key history was refused (HistoryError): `json` as governance.json writes it. */
export class HistoryError extends VerifierError {}

const changeError = {
  unknownMember: (member) => new ChangeError(`member ${member} is not an active member`, { kind: 'unknown_member', member }),
  notAValidator: (member) => new ChangeError(`member ${member} is not a validator`, { kind: 'not_a_validator', member }),
  nameTaken: (name) => new ChangeError(`the name ${name} is already used by a member or witness`, { kind: 'name_taken', name }),
  keyTaken: (member) => new ChangeError(`that public key is already used by member ${member}`, { kind: 'key_taken', member }),
  tooManyMembers: () => new ChangeError(`a network has at most ${MEMBERS_MAX} members`, { kind: 'too_many_members' }),
  tooFewValidators: (validators) => new ChangeError(
    `the change would leave ${validators} validators; at least ${VALIDATORS_MIN} are needed`, { kind: 'too_few_validators', validators }),
  blockingShare: (member, power, total) => new ChangeError(
    `member ${member} would hold ${power} of ${total} voting power: a third or more, enough to stop every block alone`,
    { kind: 'blocking_share', member, power, total }),
  badNewKeySignature: () => new ChangeError("the new key's signature on the rotation does not verify", { kind: 'bad_new_key_signature' }),
  badOldKeySignature: (member) => new ChangeError(
    `the rotation's old-key signature was not made by member ${member}'s current key`, { kind: 'bad_old_key_signature', member }),
  sameKey: () => new ChangeError("the new key is the member's current key", { kind: 'same_key' }),
  unknownWitness: (name) => new ChangeError(`no witness named ${name}`, { kind: 'unknown_witness', name }),
  tooManyWitnesses: () => new ChangeError(`at most ${WITNESSES_MAX} witnesses`, { kind: 'too_many_witnesses' }),
  witnessQuorumTooHigh: (quorum, witnesses) => new ChangeError(
    `a witness quorum of ${quorum} with ${witnesses} witnesses could never be met`, { kind: 'witness_quorum_too_high', quorum, witnesses }),
  rulesVersionNotHigher: (current) => new ChangeError(`the rules version must rise above ${current}`, { kind: 'rules_version_not_higher', current }),
};

const historyError = (message, json) => new HistoryError(message, json);

// ---- Rosters ----

/** Whether a member validates (signs checkpoints, votes on changes). */
export const isValidator = (m) => m.active && m.power > 0;
/** The active validators. */
export const validators = (r) => r.members.filter(isValidator);
/** Total voting power. */
export const totalPower = (r) => validators(r).reduce((sum, m) => sum + m.power, 0);
/** Power a checkpoint needs: the policy's quorum in epoch 0, else more than two thirds. */
export const quorumPower = (r) => (r.genesis_quorum ?? Math.floor((2 * totalPower(r)) / 3) + 1);
/** Whether `power` is more than two thirds of the total. */
export const isQuorum = (r, power) => 3 * power > 2 * totalPower(r);

/** A member's public key as bytes when known and a valid point. */
function memberKey(m) {
  const key = m.key === null ? null : fromHex(m.key);
  return key && decodePoint(key) ? key : null;
}

/** The validators' checkpoint keys with their power. */
function validatorKeys(r) {
  const out = [];
  for (const m of validators(r)) {
    const publicKey = memberKey(m);
    if (!publicKey) continue;
    out.push({ key: { name: m.name, keyId: keyId(m.name, SIG_TYPE_ED25519, publicKey), type: SIG_TYPE_ED25519, publicKey }, power: m.power });
  }
  return out;
}

/** The witnesses' cosignature policy when a quorum is required (null when none, or none possible). */
export function witnessPolicy(r) {
  if (r.witness_quorum === 0) return null;
  const keys = [];
  for (const w of r.witnesses) {
    try {
      keys.push(parseVerifierKey(w.vkey));
    } catch (e) {
      if (!(e instanceof VerifierError)) throw e;
    }
  }
  try {
    return makePolicy(keys, r.witness_quorum);
  } catch (e) {
    if (e instanceof VerifierError) return null;
    throw e;
  }
}

const witnessName = (w) => w.vkey.split('+')[0];

/** A deep copy of a roster. */
const copyRoster = (r) => ({
  ...r,
  members: r.members.map((m) => ({ ...m })),
  witnesses: r.witnesses.map((w) => ({ ...w })),
  upgrade: r.upgrade ? [...r.upgrade] : null,
});

/**
 * The roster after `change` (a change's JSON view), or a thrown ChangeError (Roster::apply).
 * @param {object} r @param {Uint8Array} networkId @param {Record<string, any>} change
 */
export function applyChange(r, networkId, change) {
  const next = copyRoster(r);
  next.epoch = r.epoch + 1;
  next.genesis_quorum = null;
  const active = (id) => {
    const m = r.members[id];
    if (!m || !m.active) throw changeError.unknownMember(id);
    return id;
  };
  const nameTaken = (name) => r.members.some((m) => m.name === name) || r.witnesses.some((w) => witnessName(w) === name);
  const keyOwner = (key) => r.members.find((m) => m.key === key)?.id ?? null;
  switch (change.change) {
    case 'add_member': {
      if (nameTaken(change.name)) throw changeError.nameTaken(change.name);
      const owner = keyOwner(change.public_key);
      if (owner !== null) throw changeError.keyTaken(owner);
      if (r.members.length >= MEMBERS_MAX) throw changeError.tooManyMembers();
      next.members.push({
        id: r.members.length,
        name: change.name,
        display_name: change.display_name,
        role: change.role,
        key: change.public_key,
        p2p_address: change.p2p_address,
        power: change.voting_power,
        active: true,
      });
      break;
    }
    case 'remove_member': {
      const i = active(change.member);
      next.members[i].active = false;
      next.members[i].power = 0;
      break;
    }
    case 'set_voting_power': {
      const i = active(change.member);
      if (!isValidator(r.members[i])) throw changeError.notAValidator(change.member);
      next.members[i].power = change.power;
      break;
    }
    case 'rotate_key': {
      const i = active(change.member);
      if (r.members[i].key === change.new_key) throw changeError.sameKey();
      const owner = keyOwner(change.new_key);
      if (owner !== null) throw changeError.keyTaken(owner);
      const statement = rotationStatement(networkId, change.member, hex(change.new_key));
      const verifies = (key, sig) => verifyStrict(key, statement, hex(sig));
      const newKey = hex(change.new_key);
      if (!decodePoint(newKey) || !verifies(newKey, change.new_key_signature)) throw changeError.badNewKeySignature();
      if (change.old_key_signature !== undefined) {
        const old = memberKey(r.members[i]);
        // A verifier that never knew the old key (a member that did not validate) cannot
        // check it; the validators did, when they voted.
        const known = old !== null || r.members[i].key !== null;
        if (known && !(old && verifies(old, change.old_key_signature))) throw changeError.badOldKeySignature(change.member);
      }
      next.members[i].key = change.new_key;
      break;
    }
    case 'add_witness': {
      const name = witnessName(change);
      if (nameTaken(name)) throw changeError.nameTaken(name);
      if (r.witnesses.length >= WITNESSES_MAX) throw changeError.tooManyWitnesses();
      next.witnesses.push({ vkey: change.vkey, url: change.url });
      break;
    }
    case 'retire_witness': {
      const i = r.witnesses.findIndex((w) => witnessName(w) === change.name);
      if (i < 0) throw changeError.unknownWitness(change.name);
      next.witnesses.splice(i, 1);
      break;
    }
    case 'set_witness_quorum':
      next.witness_quorum = change.quorum;
      break;
    case 'schedule_upgrade': {
      const current = r.upgrade ? r.upgrade[1] : RULES_VERSION;
      if (change.rules_version <= current) throw changeError.rulesVersionNotHigher(current);
      next.upgrade = [change.height, change.rules_version];
      break;
    }
    default:
      throw new Error(`unknown change ${change.change}`);
  }
  if (next.witness_quorum > next.witnesses.length) {
    throw changeError.witnessQuorumTooHigh(next.witness_quorum, next.witnesses.length);
  }
  const count = validators(next).length;
  if (count < VALIDATORS_MIN) throw changeError.tooFewValidators(count);
  const total = totalPower(next);
  const heavy = validators(next).find((m) => 3 * m.power >= total);
  if (heavy) throw changeError.blockingShare(heavy.name, heavy.power, total);
  return next;
}

/**
 * Checks a checkpoint note against one roster (Roster::verify_checkpoint): the origin (unless
 * null), validator signatures holding quorumPower, and the witnesses' cosignatures when a quorum
 * is set and `withWitnesses`. Throws NoteError or CheckpointError with the JSON of
 * checkpoints.json; `verified.signers` are the validators whose signatures verified.
 * @returns {import('./checkpoint.js').VerifiedCheckpoint}
 */
export function verifyRosterCheckpoint(r, bytes, origin, withWitnesses) {
  const { note, checkpoint } = parseSignedCheckpoint(bytes, origin);
  const keys = validatorKeys(r);
  const verified = { signers: [], cosignedAt: [] };
  let power = 0;
  for (const sig of note.signatures) {
    const k = keys.find((x) => x.key.name === sig.name && x.key.keyId === sig.keyId);
    if (!k) continue;
    if (!verifyWithKey(k.key, note.text, sig.signature)) {
      throw new NoteError(
        `the signature by ${sig.name} (key ID ${keyIdHex(sig.keyId)}) does not verify`,
        { kind: 'invalid_signature', name: sig.name, key_id: keyIdHex(sig.keyId) },
      );
    }
    if (!verified.signers.includes(sig.name)) {
      verified.signers.push(sig.name);
      power += k.power;
    }
  }
  const needed = quorumPower(r);
  if (power < needed) {
    throw new NoteError(
      `only ${power} of the required ${needed} trusted signatures are present and valid`,
      { kind: 'too_few_signatures', verified: power, quorum: needed },
    );
  }
  const wp = withWitnesses ? witnessPolicy(r) : null;
  if (wp) {
    try {
      verified.cosignedAt = verifyNote(wp, note).cosignedAt;
    } catch (e) {
      if (e instanceof NoteError && e.json.kind === 'too_few_signatures') {
        const { verified: got, quorum } = e.json;
        throw new CheckpointError(`${got} witness cosignatures verified, ${quorum} required`, { kind: 'too_few_witnesses', verified: got, quorum });
      }
      throw e;
    }
  }
  return { checkpoint, verified, note };
}

/** A roster as governance.json writes it: the roster, its total and its quorum power. */
export function rosterView(r) {
  return { roster: r, total_power: totalPower(r), quorum_power: quorumPower(r) };
}

/** A roster from its Rust JSON (the vectors' named rosters). */
export function rosterFromJson(j) {
  return copyRoster({
    ...j,
    members: j.members.map((m) => ({ ...m, key: m.key === null ? null : m.key.toLowerCase() })),
  });
}

// ---- Key histories ----

/** The fields of a key history document and of a link (serde deny_unknown_fields). */
const FILE_FIELDS = new Set(['format', 'network_id', 'links']);
const LINK_FIELDS = ['epoch', 'change', 'votes', 'checkpoint'];

/**
 * Reads a key history document's shape (KeyHistoryFile as serde reads it); null when it is
 * not one, with the reason in `why`.
 * @param {unknown} doc @returns {{ file: object|null, why: string }}
 */
export function readKeyHistoryFile(doc) {
  const no = (why) => ({ file: null, why });
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return no('not a JSON object');
  for (const k of Object.keys(doc)) if (!FILE_FIELDS.has(k)) return no(`unknown field \`${k}\``);
  if (typeof doc.format !== 'string') return no('missing field `format`');
  let networkId = null;
  if (doc.network_id !== undefined && doc.network_id !== null) {
    networkId = typeof doc.network_id === 'string' && doc.network_id.length === 64 ? fromHex(doc.network_id) : null;
    if (!networkId) return no('network_id: expected 32 bytes of hex');
  }
  if (!Array.isArray(doc.links)) return no('missing field `links`');
  const links = [];
  for (const l of doc.links) {
    if (!l || typeof l !== 'object' || Array.isArray(l)) return no('a link is not an object');
    for (const k of Object.keys(l)) if (!LINK_FIELDS.includes(k)) return no(`unknown field \`${k}\``);
    if (!Number.isSafeInteger(l.epoch) || l.epoch < 0) return no('a link needs an epoch');
    if (typeof l.change !== 'string' || typeof l.checkpoint !== 'string') return no('a link needs a change and a checkpoint');
    if (!Array.isArray(l.votes) || !l.votes.every((x) => typeof x === 'string')) return no('a link needs a list of votes');
    links.push({ epoch: l.epoch, change: l.change, votes: [...l.votes], checkpoint: l.checkpoint });
  }
  return { file: { format: doc.format, network_id: networkId, links }, why: '' };
}

/** Lowercase hex only, as the Rust side reads a link's fields (HEXLOWER). */
function linkHex(epoch, what, s) {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) {
    throw historyError(`epoch ${epoch}: ${what} does not decode: not lowercase hex`, { kind: 'undecodable', epoch, what });
  }
  return hex(s);
}

const sameLink = (a, b) => a.epoch === b.epoch && a.change === b.change && a.checkpoint === b.checkpoint &&
  a.votes.length === b.votes.length && a.votes.every((v, i) => v === b.votes[i]);

/** The roster a link leads to from `previous`, or a thrown HistoryError (check_link). */
function checkLink(previous, networkId, origin, index, link) {
  const epoch = previous.epoch + 1;
  if (link.epoch !== epoch) {
    throw historyError(`link ${index} starts epoch ${link.epoch}, expected ${epoch}`, { kind: 'out_of_order', index, got: link.epoch, expected: epoch });
  }
  const undecodable = (what, e) => {
    if (!(e instanceof VerifierError)) return e;
    return historyError(`epoch ${epoch}: ${what} does not decode: ${e.message}`, { kind: 'undecodable', epoch, what });
  };
  const changeBytes = linkHex(epoch, 'the change', link.change);
  let change;
  try {
    change = decodeChange(changeBytes);
  } catch (e) {
    throw undecodable('the change', e);
  }
  const voters = new Set();
  let power = 0;
  link.votes.forEach((vote, i) => {
    let tx;
    try {
      tx = decodeSignedTx(linkHex(epoch, 'a vote', vote));
    } catch (e) {
      if (e instanceof HistoryError) throw e;
      throw undecodable('a vote', e);
    }
    const body = tx.body;
    if (body.kind !== 'vote' || body.epoch !== previous.epoch || !equalBytes(encodeChange(body.change), changeBytes)) {
      throw historyError(`epoch ${epoch}: vote ${i} is not a vote for this change in epoch ${previous.epoch}`,
        { kind: 'not_this_vote', epoch, index: i, previous: previous.epoch });
    }
    const signer = tx.signer;
    const member = previous.members[signer];
    if (!member || !isValidator(member)) {
      throw historyError(`epoch ${epoch}: vote ${i} is signed by member ${signer}, not a validator of the epoch before`,
        { kind: 'not_a_voter', epoch, index: i, signer });
    }
    const key = memberKey(member);
    if (!key || !verifySignedTx(tx, networkId, key)) {
      throw historyError(`epoch ${epoch}: vote ${i}'s signature does not verify with member ${signer}'s key`,
        { kind: 'bad_vote_signature', epoch, index: i, signer });
    }
    if (voters.has(signer)) {
      throw historyError(`epoch ${epoch}: member ${signer} voted twice`, { kind: 'duplicate_vote', epoch, signer });
    }
    voters.add(signer);
    power += member.power;
  });
  if (!isQuorum(previous, power)) {
    const total = totalPower(previous);
    throw historyError(
      `epoch ${epoch}: the votes hold ${power} of ${total} voting power of the epoch before, not more than two thirds: the change was not approved by its predecessors`,
      { kind: 'not_approved', epoch, power, total },
    );
  }
  let roster;
  try {
    roster = applyChange(previous, networkId, change);
  } catch (e) {
    if (!(e instanceof ChangeError)) throw e;
    throw historyError(`epoch ${epoch}: the change may not apply: ${e.message}`, { kind: 'bad_change', epoch, why: e.json });
  }
  let cp;
  try {
    cp = verifyRosterCheckpoint(roster, link.checkpoint, origin, false);
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    throw historyError(`epoch ${epoch}: its first checkpoint is not signed by its validators: ${e.message}`,
      { kind: 'bad_checkpoint', epoch, why: e.json });
  }
  const size = u64Value(cp.checkpoint.size);
  if (size <= previous.start_size) {
    throw historyError(
      `epoch ${epoch}: starts at log size ${size}, not after epoch ${previous.epoch}'s start ${previous.start_size}`,
      { kind: 'not_increasing', epoch, size, previous: previous.epoch, previous_size: previous.start_size },
    );
  }
  roster.start_size = size;
  return roster;
}

/** Every roster from genesis to the latest approved change, each checked against the one before. */
export class KeyHistory {
  /** @param {object} genesis the epoch-0 roster */
  constructor(genesis) {
    this.rosters = [genesis];
    this.links = [];
  }

  /** A copy that following does not share. */
  clone() {
    const h = new KeyHistory(this.rosters[0]);
    h.rosters = [...this.rosters];
    h.links = [...this.links];
    return h;
  }

  /** The latest roster. */
  current() {
    return this.rosters[this.rosters.length - 1];
  }

  /** The roster whose epoch signs checkpoints of `size`: the latest starting at or before it. */
  rosterFor(size) {
    for (let i = this.rosters.length - 1; i >= 0; i--) if (this.rosters[i].start_size <= size) return this.rosters[i];
    return this.rosters[0];
  }

  /**
   * Checks a checkpoint against the epoch its size falls in (KeyHistory::verify_checkpoint);
   * the result also names that roster.
   */
  verifyCheckpoint(bytes, origin, withWitnesses) {
    const note = parseNote(bytes);
    const { size } = parseCheckpointBody(note.text);
    const roster = this.rosterFor(size);
    return { ...verifyRosterCheckpoint(roster, bytes, origin, withWitnesses), roster };
  }

  /**
   * Follows a key history document (text, or the parsed JSON): every link after the ones known
   * must be approved by the validators of the epoch before; links known must be repeated
   * unchanged (another link for a known epoch is a conflict). Throws HistoryError and keeps what
   * was known.
   * @param {Uint8Array} networkId @param {string} origin @param {string|object} input
   */
  follow(networkId, origin, input) {
    let doc = input;
    if (typeof input === 'string') {
      if (input.length > KEY_HISTORY_BYTES_MAX) throw historyError('not a key history: larger than 4 MiB', { kind: 'malformed' });
      try {
        doc = JSON.parse(input);
      } catch {
        throw historyError('not a key history: not JSON', { kind: 'malformed' });
      }
    }
    const { file, why } = readKeyHistoryFile(doc);
    if (!file) throw historyError(`not a key history: ${why}`, { kind: 'malformed' });
    this.followFile(networkId, origin, file);
  }

  /** follow on a document read by readKeyHistoryFile (network_id as bytes or null). */
  followFile(networkId, origin, file) {
    if (file.links.length > LINKS_MAX) throw historyError(`not a key history: more than ${LINKS_MAX} links`, { kind: 'malformed' });
    if (file.format !== KEY_HISTORY_FORMAT) {
      throw historyError(`not a key history: format ${JSON.stringify(file.format)}, expected ${JSON.stringify(KEY_HISTORY_FORMAT)}`, { kind: 'malformed' });
    }
    if (file.network_id && !equalBytes(file.network_id, networkId)) {
      throw historyError('the key history is of another network', { kind: 'other_network' });
    }
    const next = new KeyHistory(this.rosters[0]);
    file.links.forEach((link, index) => {
      const known = this.links[index];
      if (known && sameLink(known, link)) {
        next.rosters.push(this.rosters[index + 1]);
        next.links.push(known);
        return;
      }
      // The same change with other votes or another quorum of signatures on the epoch's first
      // checkpoint (another node recorded another one): it must hold as well; the link already
      // known is kept.
      if (known && known.change === link.change) {
        checkLink(next.current(), networkId, origin, index, link);
        next.rosters.push(this.rosters[index + 1]);
        next.links.push(known);
        return;
      }
      // Two different changes approved for one epoch: one of the two histories is forged. Keep
      // the one known; the caller reports the other.
      if (known) {
        const epoch = index + 1;
        throw historyError(`epoch ${epoch}: the key history approves another change than the one already known; one of the two is forged`,
          { kind: 'conflict', epoch });
      }
      next.rosters.push(checkLink(next.current(), networkId, origin, index, link));
      next.links.push(link);
    });
    if (next.links.length >= this.links.length) {
      this.rosters = next.rosters;
      this.links = next.links;
    }
  }
}

/** The JSON of a key history document as a bundle or a node writes it (network_id hex). */
export function keyHistoryJson(file) {
  return {
    format: file.format,
    network_id: file.network_id ? toHex(file.network_id) : null,
    links: file.links.map((l) => ({ epoch: l.epoch, change: l.change, votes: [...l.votes], checkpoint: l.checkpoint })),
  };
}

/**
 * A node's key history (`/key-history`) when it has changes since genesis: a node that does not
 * serve one (404), cannot be asked, or serves an unreadable or empty one is taken as having none
 * (its checkpoint must then verify with the genesis keys), as `bansos-verify receipt` does.
 * @param {string} base the node's address ('' for the page's own node) @param {typeof fetch} fetchFn @returns {Promise<object|null>}
 */
export async function fetchKeyHistory(base, fetchFn) {
  try {
    const res = await fetchFn(`${base}/key-history`, { cache: 'no-store', credentials: 'omit', redirect: 'follow' });
    if (!res.ok) return null;
    const text = await res.text();
    if (text.length > KEY_HISTORY_BYTES_MAX) return null;
    const { file } = readKeyHistoryFile(JSON.parse(text));
    return file && file.links.length > 0 ? file : null;
  } catch {
    return null;
  }
}
