// The online evidence gathering of citizen.js against a synthetic node (fixture-log.mjs),
// through a fetch function: whole tiles, several nodes united, bundles written and read back,
// what the requests reveal, and a node whose validators changed since genesis (its key history).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { hex } from '../src/bytes.js';
import { check, checkBundle, FetchError, gatherOnline, readBundle, TileEvidenceError, writeBundle } from '../src/citizen.js';
import { parseNik } from '../src/commitment.js';
import { formatNote, parseNote, signNote } from '../src/note.js';
import { parsePolicy } from '../src/policy.js';
import { parseReceipt } from '../src/receipt.js';
import { buildLog, fetchFor, handle } from '../fixtures/fixture-log.mjs';

const log = buildLog();
const policy = parsePolicy(log.policyJson);
const NODE = 'http://node-a.test';
const OTHER = 'http://node-b.test';

/** A fetch over several fixture nodes by host, recording the URLs asked. */
function network(nodes) {
  const asked = [];
  const fetchFn = async (url) => {
    asked.push(url);
    const host = new URL(url).origin;
    const opts = nodes[host];
    if (opts === undefined) throw new TypeError('fetch failed');
    return fetchFor(log, opts)(url);
  };
  return { fetchFn, asked };
}

async function verdictOf(c, nodes = { [NODE]: {} }, order = Object.keys(nodes)) {
  const receipt = parseReceipt(c.receipt);
  const { fetchFn, asked } = network(nodes);
  const got = await gatherOnline({ policy, receipt, nodes: order, fetchFn });
  const result = check(policy, receipt, parseNik(c.nik), got.evidence, log.now);
  return { ...result, asked, got };
}

for (const c of log.cases) {
  test(`online: ${c.name}`, async () => {
    const r = await verdictOf(c);
    assert.equal(r.verdict.outcome, c.expect_outcome);
    if (r.verdict.checkpoint) assert.equal(r.signers.length, 4);
    // The bundle of the same evidence gives the same verdict offline.
    const bundle = writeBundle(r.evidence);
    const offline = checkBundle(policy, parseReceipt(c.receipt), parseNik(c.nik), bundle, log.now);
    assert.deepEqual(offline.verdict, r.verdict);
    assert.deepEqual(readBundle(bundle), readBundle(JSON.parse(bundle)));
    // The requests carry neither the NIK nor the allocation id.
    const a = r.verdict.allocation?.id ?? parseReceipt(c.receipt).allocation;
    for (const u of r.asked) {
      assert.ok(!u.includes(c.nik), u);
      assert.ok(!u.includes(a), u);
    }
  });
}

test('online: the claimed verdict in full', async () => {
  const c = log.cases.find((x) => x.name === 'paid_less');
  const r = await verdictOf(c);
  assert.equal(r.verdict.claims.length, 2);
  assert.equal(r.verdict.claimed_total, 350000);
  assert.deepEqual(r.verdict.claims.map((x) => x.leaf_index), [40000, 66200]);
  assert.equal(r.verdict.allocation.leaf_index, 301);
  // The key history (none here: a 404), then whole tiles only: edge tiles, full tiles on the
  // path, the entry bundle, the events.
  const paths = r.asked.map((u) => new URL(u).pathname + new URL(u).search);
  assert.deepEqual(paths, [
    '/checkpoint',
    '/key-history',
    '/tile/0/259.p/232',
    '/tile/1/001.p/3',
    '/tile/2/000.p/1',
    '/tile/1/000',
    '/tile/0/001',
    '/tile/entries/001',
    `/v1/allocation-events?tile=1&size=${66536}`,
  ]);
});

test('online: one honest node is enough to reveal a claim another hides', async () => {
  const c = log.cases.find((x) => x.name === 'claimed');
  const hiding = await verdictOf(c, { [NODE]: { hideEvents: true } });
  assert.equal(hiding.verdict.outcome, 'not_claimed');
  const united = await verdictOf(c, { [NODE]: { hideEvents: true }, [OTHER]: {} });
  assert.equal(united.verdict.outcome, 'claimed');
});

test('online: an unreachable node is reported, the others still answer', async () => {
  const c = log.cases.find((x) => x.name === 'claimed');
  const r = await verdictOf(c, { [OTHER]: {} }, [NODE, OTHER]);
  assert.equal(r.verdict.outcome, 'claimed');
  assert.deepEqual(r.got.unreachable.map((u) => u.node), [NODE]);
  await assert.rejects(verdictOf(c, {}, [NODE]), FetchError);
});

test('online: a tile that does not match the checkpoint is refused', async () => {
  const c = log.cases.find((x) => x.name === 'claimed');
  await assert.rejects(verdictOf(c, { [NODE]: { badTile: true } }), TileEvidenceError);
});

test('online: a checkpoint that does not verify gives invalid_checkpoint', async () => {
  const c = log.cases.find((x) => x.name === 'claimed');
  const receipt = parseReceipt(c.receipt);
  const bad = { ...log, checkpoint: log.checkpoint.replace(/\n— [^\n]*\n— [^\n]*\n/, '\n') };
  const fetchFn = async (url) => {
    const r = handle(bad, url);
    return new Response(r.body, { status: r.status });
  };
  const got = await gatherOnline({ policy, receipt, nodes: [NODE], fetchFn });
  const v = check(policy, receipt, parseNik(c.nik), got.evidence, log.now).verdict;
  assert.equal(v.outcome, 'invalid_checkpoint');
  assert.deepEqual(v.error, { kind: 'too_few_signatures', verified: 2, quorum: 3 });
});

// ---- A network whose validators changed since genesis (docs/VERIFY.md, "Key history") ----

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), '../../../testdata/vectors');
const governance = JSON.parse(readFileSync(join(VECTORS, 'governance.json'), 'utf8'));
/** The powers chain: BNI and BSI joined, Kemensos holds 2 of 7, Pos rotated its lost key. */
const powers = governance.histories.valid.find((c) => c.name === 'powers').document;
const seedOf = (name) => hex(governance.new_members.find((m) => m.name === name).test_private_key_seed);
const entriesJson = JSON.parse(readFileSync(join(VECTORS, 'entries.json'), 'utf8'));
const genesisSeed = (i) => hex(entriesJson.members[i].test_private_key_seed);

/** The fixture's checkpoint signed by the validators of the powers chain's last epoch. */
function newRosterCheckpoint() {
  const text = parseNote(log.checkpoint).text;
  const signers = [
    ['kemensos.bansos.example', genesisSeed(0)],
    ['bri.bansos.example', genesisSeed(2)],
    ['pos.bansos.example', seedOf('pos.bansos.example (rotated)')],
    ['bni.bansos.example', seedOf('bni.bansos.example')],
  ];
  return formatNote({ text, signatures: signers.map(([n, s]) => signNote(n, s, text)) });
}

/** A node of the changed network: its checkpoint, and its key history (or none). */
function changedNode(keyHistory) {
  const changed = { ...log, checkpoint: newRosterCheckpoint(), keyHistory };
  return async (url) => {
    const r = handle(changed, url);
    return new Response(r.body, { status: r.status });
  };
}

test('online: a node whose validators changed is followed through its key history', async () => {
  const c = log.cases.find((x) => x.name === 'claimed');
  const receipt = parseReceipt(c.receipt);
  const got = await gatherOnline({ policy, receipt, nodes: [NODE], fetchFn: changedNode(powers) });
  assert.equal(got.evidence.key_history.links.length, 4);
  const r = check(policy, receipt, parseNik(c.nik), got.evidence, log.now);
  assert.equal(r.verdict.outcome, 'claimed');
  assert.equal(r.epoch, 4);
  assert.equal(r.keys, 6);
  assert.deepEqual(r.signers, ['kemensos.bansos.example', 'bri.bansos.example', 'pos.bansos.example', 'bni.bansos.example']);
  // The saved bundle carries the key history, and gives the same verdict offline.
  const bundle = writeBundle(r.evidence);
  assert.deepEqual(JSON.parse(bundle).key_history, powers);
  assert.deepEqual(checkBundle(policy, receipt, parseNik(c.nik), bundle, log.now).verdict, r.verdict);
  // Without it the same checkpoint is not signed by a quorum of the genesis keys.
  const { key_history: _, ...bare } = JSON.parse(bundle);
  const v = checkBundle(policy, receipt, parseNik(c.nik), JSON.stringify(bare), log.now).verdict;
  assert.deepEqual([v.outcome, v.error], ['invalid_checkpoint', { kind: 'too_few_signatures', verified: 2, quorum: 3 }]);
});

test('online: a key history that does not follow from the policy gives invalid_checkpoint', async () => {
  const c = log.cases.find((x) => x.name === 'claimed');
  const receipt = parseReceipt(c.receipt);
  const forged = structuredClone(powers);
  forged.links[2].votes[0] = forged.links[2].votes[1]; // Kemenkeu's vote twice
  const got = await gatherOnline({ policy, receipt, nodes: [NODE], fetchFn: changedNode(forged) });
  const v = check(policy, receipt, parseNik(c.nik), got.evidence, log.now).verdict;
  assert.equal(v.outcome, 'invalid_checkpoint');
  assert.deepEqual(v.error, { kind: 'key_history', reason: 'epoch 3: member 1 voted twice' });
  // A node that serves no key history (404) is checked against the genesis keys.
  const none = await gatherOnline({ policy, receipt, nodes: [NODE], fetchFn: changedNode(undefined) });
  assert.equal(none.evidence.key_history, null);
  assert.equal(check(policy, receipt, parseNik(c.nik), none.evidence, log.now).verdict.error.kind, 'too_few_signatures');
  // With two nodes, the one whose history follows is chosen.
  const two = async (url) => (url.startsWith(NODE) ? changedNode(forged) : changedNode(powers))(url);
  const both = await gatherOnline({ policy, receipt, nodes: [NODE, OTHER], fetchFn: two });
  assert.equal(both.node, OTHER);
  assert.equal(check(policy, receipt, parseNik(c.nik), both.evidence, log.now).verdict.outcome, 'claimed');
});
