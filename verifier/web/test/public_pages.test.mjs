// The dashboard's and the report's pure parts: texts complete in both languages, /v1/stats
// summed as the dashboard shows it, amounts written short for chart axes, and the built pages
// carrying their placeholder once where the node and bansos-audit write their data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactRupiah, groupInt, summarizeStats, StatsError } from '../src/stats.js';
import { statsOf } from '../fixtures/dashboard-node.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const texts = JSON.parse(readFileSync(join(here, '../src/public_texts.json'), 'utf8'));
const messages = JSON.parse(readFileSync(join(here, '../../data/messages.json'), 'utf8'));

test('the public texts exist in both languages, with the same placeholders', () => {
  assert.deepEqual(Object.keys(texts.id).sort(), Object.keys(texts.en).sort());
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(texts.id)) {
    assert.ok(texts.id[k] && texts.en[k], k);
    assert.deepEqual(holes(texts.id[k]), holes(texts.en[k]), k);
    assert.ok(!(k in messages.id), `${k} would hide the citizen page's text`);
  }
});

test('/v1/stats summed per program and period, channel, region and payer', () => {
  const stats = statsOf(100);
  const s = summarizeStats(stats, { topRegions: 5 });
  assert.deepEqual(s.totals, { ...stats.totals, outstanding: stats.totals.allocated - stats.totals.claimed - stats.totals.returned - stats.totals.revoked });
  const sum = (rows, f) => rows.reduce((a, r) => a + r[f], 0);
  for (const f of ['allocations', 'allocated', 'claims', 'claimed', 'returned', 'outstanding']) {
    assert.equal(sum(s.byProgramPeriod, f), s.totals[f], `program/period ${f}`);
    assert.equal(sum(s.byPayer, f), s.totals[f], `payer ${f}`);
  }
  assert.equal(sum(s.byChannel, 'claims'), s.totals.claims);
  assert.equal(sum(s.byChannel, 'claimed'), s.totals.claimed);
  assert.deepEqual(s.byProgramPeriod.map((r) => `${r.program} ${r.period}`), ['BLT 2026-11', 'PKH 2026Q4', 'SEMBAKO 2026-11']);
  assert.equal(s.topRegions.length, 5);
  assert.equal(s.regionCount, 12);
  for (let i = 1; i < s.topRegions.length; i++) assert.ok(s.topRegions[i - 1].allocated >= s.topRegions[i].allocated);
  // An empty ledger is no error.
  assert.equal(summarizeStats({ totals: stats.totals, rows: [] }).byChannel.length, 0);
});

test('answers that are not /v1/stats are refused', () => {
  const good = statsOf(3);
  for (const bad of [null, {}, { rows: [] }, { ...good, totals: { ...good.totals, claimed: -1 } },
    { ...good, rows: [{ key: { program: 'PKH' }, totals: good.totals }] },
    { ...good, rows: [{ ...good.rows[0], totals: { ...good.rows[0].totals, allocated: 1.5 } }] }]) {
    assert.throws(() => summarizeStats(bad), StatsError);
  }
});

test('numbers as people write them', () => {
  assert.equal(groupInt(1234567, 'id'), '1.234.567');
  assert.equal(groupInt(1234567, 'en'), '1,234,567');
  assert.equal(groupInt(999), '999');
  assert.equal(compactRupiah(1_500_000_000, 'id'), 'Rp1,5 M');
  assert.equal(compactRupiah(1_500_000_000, 'en'), 'Rp1.5B');
  assert.equal(compactRupiah(250_000_000, 'id'), 'Rp250 jt');
  assert.equal(compactRupiah(2_000_000_000_000, 'en'), 'Rp2T');
  assert.equal(compactRupiah(0), 'Rp0');
});

test('each built page has its placeholder once, inside its JSON script element', () => {
  for (const [file, placeholder, slot] of [
    ['verify.html', '__BANSOS_TRUST_POLICY__', 'trust-policy'],
    ['dashboard.html', '__BANSOS_TRUST_POLICY__', 'trust-policy'],
    ['report.html', '__BANSOS_REPORT_DATA__', 'report-data'],
  ]) {
    const page = readFileSync(join(here, '../dist', file), 'utf8');
    assert.equal(page.split(placeholder).length, 2, file);
    assert.ok(page.includes(`<script type="application/json" id="${slot}">${placeholder}</script>`), file);
    assert.equal(page.split('</script>').length - 1, 2, file);
  }
});
