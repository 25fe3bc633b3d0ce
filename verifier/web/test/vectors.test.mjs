// Every golden vector of testdata/vectors/ checked the way verifier/tests/golden.rs checks it,
// with the same error JSON, so the browser verifier and the Rust one agree byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { concat, hex, toBase64, toHex, utf8 } from '../src/bytes.js';
import { hashFromBase64, leafHash } from '../src/hash.js';
import * as merkle from '../src/merkle.js';
import { formatVerifierKey, makePolicy, parseVerifierKey, keyIdHex, SIG_TYPE_ED25519 } from '../src/note.js';
import { checkpointBody, parseCheckpointBody, verifyCheckpoint } from '../src/checkpoint.js';
import { decodeLeaf, decodeSignedTx, encodeLeaf, encodeSignedTx, signingMessage, txHash, verifySignedTx, publicKeyOf, TX_SIGNING_DOMAIN } from '../src/entry.js';
import { beneficiaryCommitment, claimLock, dedupTag, parseNik, COMMITMENT_DOMAIN, CLAIM_LOCK_DOMAIN, DEDUP_DOMAIN } from '../src/commitment.js';
import { parseReceipt, receiptToCompact, receiptToText, RECEIPT_CHECK_DOMAIN } from '../src/receipt.js';
import { edgeTiles, entriesTile, hashTile, parseBundle, parseTilePath, tilePath, VerifiedTiles } from '../src/tile.js';
import { formatTlogProof, parseTlogProof, verifyTlogProof } from '../src/tlog_proof.js';
import { digest } from '../src/hash.js';
import { verifyStrict } from '../src/ed25519.js';
import { checkBundle, writeBundle } from '../src/citizen.js';
import { parsePolicy } from '../src/policy.js';
import { changeHash, decodeChange, encodeChange, ROTATION_DOMAIN, rotationStatement } from '../src/change.js';
import { applyChange, ChangeError, HistoryError, rosterFromJson, rosterView } from '../src/governance.js';

const here = dirname(fileURLToPath(import.meta.url));
export const VECTORS = join(here, '../../../testdata/vectors');
const load = (name) => JSON.parse(readFileSync(join(VECTORS, name), 'utf8'));

/** The library's error JSON, or fail: each case states what must be thrown. */
function errorOf(f) {
  try {
    f();
  } catch (e) {
    if (!e.json) throw e;
    return e.json;
  }
  assert.fail('expected an error');
}

test('entries decode, encode and verify', () => {
  const v = load('entries.json');
  for (const m of v.members) assert.equal(toHex(publicKeyOf(hex(m.test_private_key_seed))), m.public_key);
  const kinds = new Set();
  for (const e of v.entries) {
    const encoded = hex(e.signed_tx_hex);
    const tx = decodeSignedTx(encoded);
    assert.deepEqual(tx, e.json, `${e.name}: the JSON view`);
    assert.deepEqual(encodeSignedTx(tx), encoded, `${e.name}: encode(decode(b))`);
    assert.equal(tx.body.kind, e.kind);
    assert.equal(tx.signer, e.signer);
    kinds.add(e.kind_tag);
    assert.deepEqual(concat(...e.layout.map((f) => hex(f.hex))), encoded, `${e.name}: layout`);
    const net = hex(e.network_id);
    const key = hex(e.signer_public_key);
    assert.ok(verifySignedTx(tx, net, key), `${e.name}: signature`);
    const message = hex(e.signing_message_hex);
    assert.deepEqual(message, concat(TX_SIGNING_DOMAIN, net, encoded.subarray(0, encoded.length - 64)));
    assert.deepEqual(signingMessage(tx, net), message);
    assert.ok(verifyStrict(key, message, hex(tx.signature)));
    assert.equal(txHash(tx), e.tx_hash);
    const leafBytes = hex(e.leaf_hex);
    const leaf = decodeLeaf(leafBytes);
    assert.deepEqual(encodeLeaf(leaf), leafBytes);
    assert.deepEqual(leaf.tx, tx);
    assert.equal(leaf.height, e.leaf.height);
    assert.equal(leaf.block_time, e.leaf.block_time);
    assert.deepEqual(concat(...e.leaf_layout.map((f) => hex(f.hex))), leafBytes);
    assert.equal(toHex(leafHash(leafBytes)), e.leaf_hash);
  }
  assert.deepEqual([...kinds].sort(), [1, 2, 3, 4, 5]);
});

test('allocations carry the commitments of commitments.json', () => {
  const entries = load('entries.json');
  const c = load('commitments.json');
  const allocations = entries.entries.map((e) => decodeSignedTx(hex(e.signed_tx_hex))).filter((t) => t.body.kind === 'allocation');
  assert.equal(allocations.length, 3);
  allocations.forEach((tx, i) => {
    const label = 'ABC'[i];
    const find = (list, name) => c[list].find((x) => x.name === name);
    assert.equal(tx.body.beneficiary_commitment, find('beneficiary_commitments', `beneficiary_${label}`).commitment);
    assert.equal(tx.body.claim_lock, find('claim_locks', `claim_lock_${label}`).claim_lock);
    assert.equal(tx.body.dedup_tag, find('dedup_tags', `allocation_${label}`).dedup_tag);
  });
});

test('negative entries are refused for the stated reason', () => {
  const v = load('negative_entries.json');
  assert.ok(v.refused.length >= 30);
  for (const c of v.refused) {
    const input = hex(c.hex);
    const decode = { signed_tx: decodeSignedTx, leaf: decodeLeaf }[c.input];
    assert.ok(decode, `${c.name}: input type ${c.input}`);
    assert.deepEqual(errorOf(() => decode(input)), c.error, c.name);
  }
  assert.ok(v.decodes_but_signature_fails.length >= 3);
  for (const c of v.decodes_but_signature_fails) {
    const input = hex(c.hex);
    const tx = decodeSignedTx(input);
    assert.deepEqual(encodeSignedTx(tx), input);
    assert.equal(verifySignedTx(tx, hex(c.network_id), hex(c.signer_public_key)), false, c.name);
  }
});

test('commitments recompute', () => {
  const v = load('commitments.json');
  assert.deepEqual(hex(v.domains.beneficiary_commitment_hex), COMMITMENT_DOMAIN);
  assert.deepEqual(hex(v.domains.dedup_tag_hex), DEDUP_DOMAIN);
  assert.deepEqual(hex(v.domains.claim_lock_hex), CLAIM_LOCK_DOMAIN);
  for (const c of v.beneficiary_commitments) {
    const nik = parseNik(c.nik);
    assert.deepEqual(hex(c.hash_input_hex), concat(COMMITMENT_DOMAIN, hex(c.salt), utf8(c.nik)));
    assert.equal(toHex(beneficiaryCommitment(hex(c.salt), nik)), c.commitment, c.name);
  }
  const tags = new Set();
  for (const c of v.dedup_tags) {
    const p = utf8(c.program);
    const q = utf8(c.period);
    assert.deepEqual(hex(c.hmac_message_hex), concat(DEDUP_DOMAIN, Uint8Array.of(p.length), p, Uint8Array.of(q.length), q, utf8(c.nik)));
    const tag = toHex(dedupTag(hex(c.key), c.program, c.period, parseNik(c.nik)));
    assert.equal(tag, c.dedup_tag, c.name);
    tags.add(tag);
  }
  assert.equal(tags.size, v.dedup_tags.length, 'every dedup case differs');
  for (const c of v.claim_locks) {
    assert.deepEqual(hex(c.hash_input_hex), concat(CLAIM_LOCK_DOMAIN, hex(c.claim_secret)));
    assert.equal(toHex(claimLock(hex(c.claim_secret))), c.claim_lock, c.name);
  }
  for (const n of v.nik_parse.valid) assert.ok(parseNik(n), n);
  for (const n of v.nik_parse.invalid) assert.equal(parseNik(n), null, n);
});

/** Crockford base32 symbols to bytes, written independently of the library. */
function base32Bytes(alphabet, code) {
  const bits = [];
  for (const c of code) {
    const v = alphabet.indexOf(c);
    for (let i = 4; i >= 0; i--) bits.push((v >> i) & 1);
  }
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  return Uint8Array.from(out);
}

test('receipts parse, print and refuse', () => {
  const v = load('receipts.json');
  const byName = new Map();
  for (const r of v.valid) {
    const receipt = parseReceipt(r.text);
    assert.deepEqual(parseReceipt(r.compact), receipt);
    assert.equal(receiptToText(receipt), r.text);
    assert.equal(receiptToCompact(receipt), r.compact);
    assert.equal(toHex(receipt.networkTag), r.network_tag);
    assert.equal(receipt.leafIndex, r.leaf_index);
    assert.equal(receipt.allocation, r.allocation);
    assert.equal(toHex(receipt.salt), r.salt);
    assert.equal(toHex(receipt.claimSecret), r.claim_secret);
    const payload = hex(r.payload_hex);
    assert.deepEqual(hex(r.check_hex), digest(RECEIPT_CHECK_DOMAIN, payload).subarray(0, 4));
    assert.deepEqual(base32Bytes(v.alphabet, r.compact.slice(0, 125)), concat(payload, hex(r.check_hex)), r.name);
    byName.set(r.name, receipt);
  }
  for (const l of v.lenient_inputs) assert.deepEqual(parseReceipt(l.input), byName.get(l.equals), l.name);
  for (const bad of v.invalid) assert.deepEqual(errorOf(() => parseReceipt(bad.input)), bad.error, bad.name);
});

export function policyOf(p) {
  return makePolicy(p.vkeys.map(parseVerifierKey), p.quorum);
}

test('checkpoint notes verify with the expected outcome', () => {
  const v = load('checkpoints.json');
  for (const k of [...v.validators, v.witness]) {
    const vkey = parseVerifierKey(k.vkey);
    assert.equal(formatVerifierKey(vkey), k.vkey);
    assert.equal(vkey.name, k.name);
    assert.equal(keyIdHex(vkey.keyId), k.key_id);
    assert.equal(toHex(vkey.publicKey), k.public_key);
    const id = digest(utf8(k.name), Uint8Array.of(10, vkey.type === SIG_TYPE_ED25519 ? 1 : 4), hex(k.public_key));
    assert.equal(toHex(id.subarray(0, 4)), k.key_id);
  }
  for (const bad of v.invalid_vkeys) assert.deepEqual(errorOf(() => parseVerifierKey(bad.vkey)), { kind: 'bad_key' }, bad.name);
  const cp = parseCheckpointBody(v.checkpoint.body);
  assert.equal(cp.origin, v.origin);
  assert.equal(cp.size, BigInt(v.checkpoint.size));
  assert.equal(toHex(cp.root), v.checkpoint.root);
  assert.equal(toBase64(cp.root), v.checkpoint.root_base64);
  assert.equal(checkpointBody(cp), v.checkpoint.body);
  const leaves = load('entries.json').entries.map((e) => hex(e.leaf_hash));
  assert.equal(toHex(merkle.root(merkle.memorySource(leaves), cp.size)), v.checkpoint.root);
  let outcomes = 0;
  for (const n of v.notes) {
    for (const [pname, p] of Object.entries(v.policies)) {
      let got;
      try {
        const ok = verifyCheckpoint(n.note, v.origin, policyOf(p));
        got = {
          ok: true,
          signers: ok.verified.signers,
          cosigned_at: ok.verified.cosignedAt.map((c) => ({ name: c.name, time: Number(c.time) })),
        };
      } catch (e) {
        if (!e.json) throw e;
        got = { ok: false, error: e.json };
      }
      assert.deepEqual(got, n.expect[pname], `${n.name} under ${pname}`);
      outcomes++;
    }
  }
  assert.ok(outcomes >= 40);
});

/** RFC 6962 §2.1 Merkle tree hash by the definition: an independent model. */
function mth(leaves) {
  if (leaves.length === 0) return digest(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return digest(Uint8Array.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

test('merkle roots and proofs', () => {
  const v = load('merkle.json');
  const leaves = v.leaves.map((l) => {
    const h = digest(Uint8Array.of(0), hex(l.input_hex));
    assert.equal(toHex(h), l.leaf_hash);
    return h;
  });
  const src = merkle.memorySource(leaves);
  for (const r of v.roots) {
    assert.equal(toHex(mth(leaves.slice(0, r.size))), r.root, `model root ${r.size}`);
    assert.equal(toHex(merkle.root(src, r.size)), r.root, `library root ${r.size}`);
  }
  for (const p of v.inclusion) {
    const proof = p.proof.map(hex);
    merkle.verifyInclusion(hex(p.leaf_hash), p.leaf_index, p.tree_size, proof, hex(p.root));
    assert.deepEqual(merkle.inclusionProof(src, p.leaf_index, p.tree_size).map(toHex), p.proof);
  }
  for (const p of v.consistency) {
    const proof = p.proof.map(hex);
    merkle.verifyConsistency(p.size1, p.size2, hex(p.root1), hex(p.root2), proof);
    assert.deepEqual(merkle.consistencyProof(src, p.size1, p.size2).map(toHex), p.proof);
  }
  for (const p of v.invalid_inclusion) {
    const err = errorOf(() => merkle.verifyInclusion(hex(p.leaf_hash), p.leaf_index, p.tree_size, p.proof.map(hex), hex(p.root)));
    assert.equal(err.kind, p.error.kind, p.name);
    for (const [k, val] of Object.entries(p.error)) assert.equal(err[k], val, `${p.name}: ${k}`);
  }
  for (const p of v.invalid_consistency) {
    const err = errorOf(() => merkle.verifyConsistency(p.size1, p.size2, hex(p.root1), hex(p.root2), p.proof.map(hex)));
    assert.equal(err.kind, p.error.kind, p.name);
    for (const [k, val] of Object.entries(p.error)) assert.equal(err[k], val, `${p.name}: ${k}`);
  }
});

test('merkle proofs round-trip on small trees', () => {
  for (let n = 1; n < 40; n++) {
    const leaves = Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(i)));
    const src = merkle.memorySource(leaves);
    const r = merkle.root(src, n);
    for (let i = 0; i < n; i++) {
      const p = merkle.inclusionProof(src, i, n);
      assert.equal(p.length, merkle.inclusionProofLen(i, n));
      merkle.verifyInclusion(leaves[i], i, n, p, r);
    }
    for (let m = 1; m < n; m++) {
      const p = merkle.consistencyProof(src, m, n);
      assert.equal(p.length, merkle.consistencyProofLen(m, n));
      merkle.verifyConsistency(m, n, merkle.root(src, m), r, p);
    }
  }
});

test('tile paths, edges and bundles', () => {
  const v = load('tiles.json');
  for (const t of v.paths) {
    const want = t.kind === 'hash' ? hashTile(t.level, BigInt(t.index), t.width) : entriesTile(BigInt(t.index), t.width);
    assert.equal(tilePath(want), t.path);
    assert.deepEqual(parseTilePath(t.path), want, t.path);
    assert.deepEqual(parseTilePath(`/${t.path}`), want, `/${t.path}`);
  }
  for (const t of v.invalid_paths) assert.throws(() => parseTilePath(t.path), undefined, `${t.path}: ${t.reason}`);
  for (const e of v.edge_tiles) assert.deepEqual(edgeTiles(BigInt(e.size)).map(tilePath), e.edge_tiles, `size ${e.size}`);
  const g = v.golden_log;
  const entries = load('entries.json').entries;
  assert.deepEqual(hex(g.hash_tile_hex), concat(...entries.map((e) => hex(e.leaf_hash))));
  const hashT = parseTilePath(g.hash_tile_path);
  const bundleT = parseTilePath(g.entry_bundle_path);
  assert.equal(bundleT.kind, 'entries');
  const checked = new VerifiedTiles(BigInt(g.size), hex(g.root));
  checked.addEdge([[hashT, hex(g.hash_tile_hex)]]);
  const leaves = checked.checkBundle(bundleT, hex(g.entry_bundle_hex));
  leaves.forEach((leaf, i) => assert.equal(toHex(leaf), entries[i].leaf_hex));
  // A tampered edge tile no longer leads to the root.
  const bad = hex(g.hash_tile_hex);
  bad[0] ^= 1;
  assert.equal(errorOf(() => new VerifiedTiles(BigInt(g.size), hex(g.root)).addEdge([[hashT, bad]])).kind, 'root_mismatch');
  for (const b of v.bundles) {
    let got;
    try {
      got = parseBundle(entriesTile(0n, b.width), hex(b.hex));
    } catch (e) {
      if (!e.json) throw e;
      got = null;
    }
    assert.equal(got !== null, b.ok, b.name);
    if (got) assert.deepEqual(got.map(toHex), b.entries);
  }
});

test('tlog proofs parse and verify', () => {
  const v = load('tlog_proof.json');
  const policy = policyOf(v.policy);
  const entries = load('entries.json').entries;
  for (const p of v.valid) {
    const proof = parseTlogProof(p.text);
    assert.equal(formatTlogProof(proof), p.text);
    assert.equal(proof.index, BigInt(p.index));
    assert.deepEqual(proof.proof.map(toHex), p.proof);
    if (p.extra_hex) {
      assert.equal(toHex(proof.extra), p.extra_hex);
      assert.equal(toHex(leafHash(proof.extra)), p.leaf_hash);
      assert.deepEqual(encodeLeaf(decodeLeaf(proof.extra)), hex(entries[p.index].leaf_hex));
    } else {
      assert.equal(proof.extra, null);
    }
    const cp = verifyTlogProof(proof, hex(p.leaf_hash), v.origin, policy);
    assert.equal(cp.checkpoint.origin, v.origin);
  }
  for (const p of v.unparseable) assert.deepEqual(errorOf(() => parseTlogProof(p.text)), p.error, p.name);
  for (const p of v.failing) {
    const proof = parseTlogProof(p.text);
    assert.equal(formatTlogProof(proof), p.text);
    assert.deepEqual(errorOf(() => verifyTlogProof(proof, hex(p.leaf_hash), v.origin, policy)), p.error, p.name);
  }
});

test('base64 is strict', () => {
  const h = digest(utf8('x'));
  const s = toBase64(h);
  assert.deepEqual(hashFromBase64(s), h);
  assert.equal(hashFromBase64(s.replace(/=+$/, '')), null);
});

const CITIZEN = join(VECTORS, 'citizen.json');
test('citizen verdicts equal the Rust ones (citizen.json)', (t) => {
  if (!existsSync(CITIZEN)) {
    t.diagnostic('testdata/vectors/citizen.json does not exist yet: skipped');
    t.skip('testdata/vectors/citizen.json does not exist yet');
    return;
  }
  const v = JSON.parse(readFileSync(CITIZEN, 'utf8'));
  const policies = Object.fromEntries(Object.entries(v.policies).map(([k, p]) => [k, parsePolicy(p)]));
  assert.ok(v.cases.length > 0);
  for (const c of v.cases) {
    const policy = policies[c.policy];
    assert.ok(policy, `${c.name}: policy ${c.policy}`);
    const receipt = parseReceipt(c.receipt);
    const nik = parseNik(c.nik);
    const got = checkBundle(policy, receipt, nik, c.bundle, c.now);
    assert.deepEqual(JSON.parse(JSON.stringify(got.verdict)), c.expect, c.name);
  }
});

// ---- governance.json ----

const GOVERNANCE = load('governance.json');

/** A parsed policy with its genesis roster (policy.js), as the Rust TrustPolicy builds it. */
const governancePolicy = () => parsePolicy(GOVERNANCE.policy);

/** The error and the reason of a history vector: the reason's tail is the parser's own words for malformed and undecodable. */
function assertHistoryError(e, want, name) {
  assert.ok(e instanceof HistoryError, `${name}: ${e}`);
  assert.deepEqual(e.json, want.error, name);
  if (want.error.kind !== 'malformed' && want.error.kind !== 'undecodable') assert.equal(e.message, want.reason, name);
  else assert.ok(e.message.startsWith(want.reason.split(':')[0]), `${name}: ${e.message}`);
}

test('governance: changes and votes decode, encode and verify', () => {
  const v = GOVERNANCE;
  const net = hex(v.network_id);
  assert.deepEqual(hex(v.rotation_domain_hex), ROTATION_DOMAIN);
  for (const m of v.new_members) assert.equal(toHex(publicKeyOf(hex(m.test_private_key_seed))), m.public_key);
  const tags = new Set();
  for (const c of v.changes) {
    const bytes = hex(c.hex);
    const change = decodeChange(bytes);
    assert.deepEqual(change, c.json, `${c.name}: the JSON view`);
    assert.deepEqual(encodeChange(change), bytes, `${c.name}: encode(decode(b))`);
    assert.equal(change.change, c.change);
    assert.equal(bytes[0], c.tag);
    assert.deepEqual(concat(...c.layout.map((f) => hex(f.hex))), bytes, `${c.name}: layout`);
    assert.equal(toHex(digest(bytes)), c.hash);
    assert.equal(changeHash(change), c.hash);
    if (change.change === 'rotate_key') {
      const statement = rotationStatement(net, change.member, hex(change.new_key));
      assert.equal(toHex(statement), c.rotation.statement_hex);
      assert.ok(verifyStrict(hex(change.new_key), statement, hex(change.new_key_signature)), c.name);
    }
    tags.add(c.tag);
  }
  assert.deepEqual([...tags].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(v.votes.length >= 5);
  for (const e of v.votes) {
    const encoded = hex(e.signed_tx_hex);
    const tx = decodeSignedTx(encoded);
    assert.deepEqual(tx, e.json, `${e.name}: the JSON view`);
    assert.deepEqual(encodeSignedTx(tx), encoded, e.name);
    assert.equal(tx.body.kind, 'vote');
    assert.equal(tx.body.epoch, e.epoch);
    assert.equal(e.kind_tag, 6);
    assert.deepEqual(concat(...e.layout.map((f) => hex(f.hex))), encoded, `${e.name}: layout`);
    assert.deepEqual(signingMessage(tx, net), hex(e.signing_message_hex));
    assert.ok(verifySignedTx(tx, net, hex(e.signer_public_key)), `${e.name}: signature`);
    assert.equal(txHash(tx), e.tx_hash);
    const leaf = decodeLeaf(hex(e.leaf_hex));
    assert.deepEqual(leaf.tx, tx);
    assert.deepEqual(encodeLeaf(leaf), hex(e.leaf_hex));
    assert.equal(toHex(leafHash(hex(e.leaf_hex))), e.leaf_hash);
  }
  assert.ok(v.refused_changes.length >= 25);
  for (const c of v.refused_changes) {
    const decode = { change: decodeChange, signed_tx: decodeSignedTx }[c.input];
    assert.ok(decode, `${c.name}: input ${c.input}`);
    assert.deepEqual(errorOf(() => decode(hex(c.hex))), c.error, c.name);
  }
});

test('governance: Roster::apply accepts and refuses as the vectors say', () => {
  const v = GOVERNANCE;
  const net = hex(v.network_id);
  const rosters = v.apply.rosters;
  // The genesis roster is the one the policy builds.
  assert.deepEqual(governancePolicy().history.current(), rosters.genesis.roster);
  const refused = new Set();
  let accepted = 0;
  for (const c of v.apply.cases) {
    const roster = rosterFromJson(rosters[c.roster].roster);
    const change = decodeChange(hex(c.change_hex));
    let got;
    try {
      got = applyChange(roster, net, change);
    } catch (e) {
      if (!(e instanceof ChangeError)) throw e;
      assert.equal(c.expect.ok, false, `${c.name}: refused with ${e.message}`);
      assert.deepEqual(e.json, c.expect.error, c.name);
      assert.equal(e.message, c.expect.reason, c.name);
      refused.add(e.json.kind);
      continue;
    }
    assert.equal(c.expect.ok, true, `${c.name}: accepted`);
    assert.deepEqual(rosterView(got), c.expect.roster, c.name);
    accepted++;
  }
  assert.ok(accepted >= 8);
  assert.equal(refused.size, 14, [...refused].join());
});

test('governance: key histories follow or are refused, checkpoints verify by epoch', () => {
  const v = GOVERNANCE;
  let checkpoints = 0;
  for (const chain of v.histories.valid) {
    const policy = governancePolicy();
    const history = policy.history.clone();
    history.follow(policy.networkId, policy.origin, JSON.stringify(chain.document));
    assert.equal(history.current().epoch, chain.expect.epoch, chain.name);
    assert.deepEqual(history.rosters.map(rosterView), chain.expect.rosters, chain.name);
    // The policy's own history is untouched; following the same document again changes nothing.
    assert.equal(policy.history.current().epoch, 0);
    const again = history.clone();
    again.follow(policy.networkId, policy.origin, chain.document);
    assert.deepEqual(again.rosters, history.rosters);
    for (const cp of chain.checkpoints) {
      const name = `${chain.name}/${cp.name}`;
      assert.equal(history.rosterFor(BigInt(cp.size)).epoch, cp.expect.epoch, name);
      let got;
      try {
        const ok = history.verifyCheckpoint(cp.note, policy.origin, true);
        got = {
          epoch: ok.roster.epoch,
          ok: true,
          signers: ok.verified.signers,
          cosigned_at: ok.verified.cosignedAt.map((c) => ({ name: c.name, time: Number(c.time) })),
        };
      } catch (e) {
        if (!e.json) throw e;
        got = { epoch: cp.expect.epoch, ok: false, error: e.json };
      }
      assert.deepEqual(got, cp.expect, name);
      checkpoints++;
    }
  }
  assert.ok(checkpoints >= 15);
  const kinds = new Set();
  for (const c of v.histories.invalid) {
    const policy = governancePolicy();
    const history = policy.history.clone();
    let err = null;
    try {
      history.follow(policy.networkId, policy.origin, JSON.stringify(c.document));
    } catch (e) {
      err = e;
    }
    assert.ok(err, `${c.name} must be refused`);
    assertHistoryError(err, c.expect, c.name);
    assert.equal(history.current().epoch, 0, `${c.name}: a refused history changes nothing`);
    kinds.add(err.json.kind);
  }
  assert.equal(kinds.size, 12, [...kinds].join());
  // One verifier following documents in turn: it goes on, keeps what it knows, refuses a conflict.
  let conflicts = 0;
  for (const c of v.histories.sequences) {
    const policy = governancePolicy();
    const history = policy.history.clone();
    c.documents.forEach((doc, i) => {
      const want = c.expect[i];
      let err = null;
      try {
        history.follow(policy.networkId, policy.origin, JSON.stringify(doc));
      } catch (e) {
        err = e;
      }
      assert.equal(history.current().epoch, want.epoch, `${c.name} ${i}`);
      if (want.ok) assert.equal(err, null, `${c.name} ${i}`);
      else {
        assertHistoryError(err, want, `${c.name} ${i}`);
        if (err.json.kind === 'conflict') conflicts++;
      }
    });
  }
  assert.ok(conflicts >= 1);
});

test('governance: citizen verdicts follow the bundle\'s key history', () => {
  const policy = governancePolicy();
  assert.deepEqual(GOVERNANCE.policy, load('citizen.json').policies.validators_quorum_3);
  const outcomes = new Set();
  for (const c of GOVERNANCE.citizen.cases) {
    const got = checkBundle(policy, parseReceipt(c.receipt), parseNik(c.nik), c.bundle, c.now);
    assert.deepEqual(JSON.parse(JSON.stringify(got.verdict)), c.expect, c.name);
    outcomes.add(`${got.verdict.outcome}/${got.verdict.error?.kind ?? ''}`);
    // A bundle written from the same evidence gives the same verdict.
    if (got.evidence) {
      const again = checkBundle(policy, parseReceipt(c.receipt), parseNik(c.nik), writeBundle(got.evidence), c.now);
      assert.deepEqual(again.verdict, got.verdict, `${c.name}: rewritten bundle`);
    }
  }
  assert.ok(outcomes.has('claimed/'));
  assert.ok(outcomes.has('invalid_checkpoint/key_history'));
  assert.equal(policy.history.current().epoch, 0, 'checking a bundle does not change the policy');
});
