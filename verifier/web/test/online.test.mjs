// The online evidence gathering of citizen.js against a synthetic node (fixture-log.mjs),
// through a fetch function: whole tiles, several nodes united, bundles written and read back,
// and what the requests reveal.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { check, checkBundle, FetchError, gatherOnline, readBundle, TileEvidenceError, writeBundle } from '../src/citizen.js';
import { parseNik } from '../src/commitment.js';
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
  // Whole tiles only: edge tiles, full tiles on the path, the entry bundle, the events.
  const paths = r.asked.map((u) => new URL(u).pathname + new URL(u).search);
  assert.deepEqual(paths, [
    '/checkpoint',
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
