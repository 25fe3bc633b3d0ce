// The texts: both languages complete (as the CLI's test demands), and dates, rupiah and region
// names written as `bansos-verify receipt` writes them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTexts, parseRegions, rupiah } from '../src/i18n.js';
import { EXIT_CODES } from '../src/citizen.js';

const here = dirname(fileURLToPath(import.meta.url));
const data = join(here, '../../data');
const messages = JSON.parse(readFileSync(join(data, 'messages.json'), 'utf8'));
const regions = parseRegions(readFileSync(join(data, 'kabupaten_kota.csv'), 'utf8'));

test('every key exists in both languages, and every outcome has its texts', () => {
  assert.deepEqual(Object.keys(messages.id).sort(), Object.keys(messages.en).sort());
  for (const lang of ['id', 'en']) {
    for (const [k, v] of Object.entries(messages[lang])) assert.ok(typeof v === 'string' && v.length > 0, `${lang} ${k}`);
    for (const o of [...Object.keys(EXIT_CODES), 'not_claimed_expired']) {
      for (const prefix of ['outcome', 'advice']) assert.ok(messages[lang][`${prefix}.${o}`], `${lang} ${prefix}.${o}`);
    }
  }
  // The placeholders of a text are the same in both languages.
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(messages.id)) assert.deepEqual(holes(messages.id[k]), holes(messages.en[k]), k);
});

test('dates in WIB, rupiah and regions read as in Indonesia', () => {
  const id = makeTexts(messages, regions, 'id');
  const en = makeTexts(messages, regions, 'en');
  assert.equal(id.date(1_793_491_200), '1 November 2026 07.00 WIB');
  assert.equal(en.date(1_793_491_200), '1 November 2026 07:00 WIB');
  assert.equal(id.date(1_798_736_400), '1 Januari 2027 00.00 WIB');
  assert.equal(rupiah(750_000), 'Rp750.000');
  assert.equal(rupiah(1_000), 'Rp1.000');
  assert.equal(rupiah(999), 'Rp999');
  assert.equal(rupiah(12_345_678), 'Rp12.345.678');
  assert.equal(id.region(3171), 'Kota Administrasi Jakarta Pusat (3171)');
  assert.equal(id.region(9999), '9999');
  assert.ok(regions.size >= 500);
  assert.equal(id.t('label.claim', { date: 'd', channel: 'c', region: 'r', payer: 'p', amount: 'a' }), 'Diambil d lewat c di r, dibayar p: a');
});
