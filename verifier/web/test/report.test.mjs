// The report template (dist/report.html) with fixtures/aggregates-sample.json: the sample follows
// docs/AUDIT.md's schema and adds up; the model functions read it; and the page, with the
// sample written in as `bansos-audit report` writes it (`<` as \u003c), renders every table,
// chart and flag in headless Chromium and prints. Chromium missing is a failure.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { BUCKETS, COUNTS, REPORT_FORMAT, ReportError, flagsByRule, parseAggregates, timeToClaimTable, topRegions, VIOLATION_RULES, ANOMALY_RULES } from '../src/report_model.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const PLACEHOLDER = '__BANSOS_REPORT_DATA__';
const sampleText = readFileSync(join(here, '../fixtures/aggregates-sample.json'), 'utf8');
const sample = JSON.parse(sampleText);

/** The report as `bansos-audit report` writes it. */
const reportWith = (data) => readFileSync(join(here, '../dist/report.html'), 'utf8')
  .replace(PLACEHOLDER, () => JSON.stringify(data).replace(/</g, '\\u003c'));

test('the sample follows the aggregates.json schema and adds up', () => {
  const a = parseAggregates(sampleText);
  assert.equal(a.format, REPORT_FORMAT);
  const sum = (rows, f) => rows.reduce((s, r) => s + r[f], 0);
  for (const f of COUNTS) {
    assert.equal(sum(a.by_program_period, f), a.totals[f], `by_program_period ${f}`);
    assert.equal(sum(a.by_region, f), a.totals[f], `by_region ${f}`);
    assert.equal(sum(a.by_payer, f), a.totals[f], `by_payer ${f}`);
  }
  for (const r of [a.totals, ...a.by_program_period, ...a.by_region, ...a.by_payer]) {
    assert.equal(r.outstanding, r.allocated - r.claimed - r.returned - r.revoked);
  }
  assert.equal(sum(a.by_channel, 'claims'), a.totals.claims);
  assert.equal(sum(a.by_channel, 'claimed'), a.totals.claimed);
  assert.equal(sum(a.time_to_claim, 'claims'), a.totals.claims);
  // Rows sorted by their key; entries are leaf indexes of the checkpoint's log.
  const sorted = (rows, key) => rows.every((r, i) => i === 0 || key(rows[i - 1]) <= key(r));
  assert.ok(sorted(a.by_program_period, (r) => `${r.program}\u0000${r.period}`));
  assert.ok(sorted(a.by_region, (r) => r.region));
  assert.ok(sorted(a.by_channel, (r) => r.channel));
  assert.ok(sorted(a.by_payer, (r) => r.payer));
  assert.ok(sorted(a.time_to_claim, (r) => `${r.program}\u0000${BUCKETS.indexOf(r.bucket)}`));
  for (const f of [...a.rule_violations, ...a.anomalies]) {
    assert.ok(f.entries.length > 0 && f.entries.every((e) => e < a.checkpoint.size), f.rule);
  }
  assert.ok(a.rule_violations.every((f) => VIOLATION_RULES.includes(f.rule)));
  assert.deepEqual(new Set(a.anomalies.map((f) => f.rule)), new Set(ANOMALY_RULES), 'every anomaly rule has an example');
});

test('the model shapes the sample for tables and charts', () => {
  const a = parseAggregates(sample);
  const top = topRegions(a, 5);
  assert.equal(top.length, 5);
  assert.ok(top.every((r, i) => i === 0 || top[i - 1].allocated >= r.allocated));
  const ttc = timeToClaimTable(a);
  assert.deepEqual(ttc.programs, ['BLT', 'PKH', 'SEMBAKO']);
  assert.equal(ttc.cells.flat().reduce((s, n) => s + n, 0), a.totals.claims);
  const v = flagsByRule(a.rule_violations, VIOLATION_RULES);
  assert.deepEqual(v.map((r) => r.rule), VIOLATION_RULES);
  assert.equal(v.reduce((s, r) => s + r.flags, 0), a.rule_violations.length);
  const unknown = flagsByRule([{ rule: 'zz_new_rule', entries: [1, 2] }], ANOMALY_RULES);
  assert.deepEqual(unknown.at(-1), { rule: 'zz_new_rule', flags: 1, entries: 2 });
});

test('aggregates that break the schema are refused with the field named', () => {
  const broken = [
    ['not json', 'not JSON'],
    [{ ...sample, format: 'other@v1' }, 'format'],
    [{ ...sample, totals: { ...sample.totals, claimed: -5 } }, 'totals: claimed'],
    [{ ...sample, by_region: [{ region: 3171 }] }, 'by_region[0]'],
    [{ ...sample, time_to_claim: [{ program: 'PKH', bucket: '2h', claims: 1 }] }, 'bucket'],
    [{ ...sample, anomalies: [{ rule: 'outlet_spike', entries: ['x'] }] }, 'entries'],
    [{ ...sample, checkpoint: { origin: 'o', size: 1 } }, 'checkpoint'],
  ];
  for (const [input, field] of broken) {
    assert.throws(() => parseAggregates(typeof input === 'string' ? input : JSON.stringify(input)), (e) => e instanceof ReportError && e.message.includes(field), field);
  }
});

test('the report renders the sample in headless Chromium, and prints', async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-web-test-deps.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'bansos-report-'));
  // A detail that tries to close the script element stays text.
  const data = structuredClone(sample);
  data.anomalies[0].detail = '</script><script>window.__pwned = 1</script> <!-- x';
  const file = join(dir, 'report.html');
  writeFileSync(file, reportWith(data));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const requests = [];
    const errors = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForSelector('body[data-rendered="yes"]');
    const value = (sel) => page.getAttribute(sel, 'data-value').then(Number);
    for (const f of ['allocated', 'allocations', 'claimed', 'claims', 'outstanding', 'returned', 'returns', 'revoked', 'revocations']) {
      assert.equal(await value(`#total-${f}`), sample.totals[f], f);
    }
    assert.equal(await page.textContent('#checkpoint-root'), sample.checkpoint.root);
    const rows = (id) => page.locator(`#${id} tbody tr`).count();
    assert.equal(await rows('table-program-period'), sample.by_program_period.length);
    assert.equal(await rows('table-region'), Math.min(20, sample.by_region.length));
    assert.equal(await rows('table-channel'), sample.by_channel.length);
    assert.equal(await rows('table-payer'), sample.by_payer.length);
    assert.equal(await rows('table-time-to-claim'), 3);
    assert.equal(await rows('table-violations'), VIOLATION_RULES.length);
    assert.equal(await rows('table-anomalies'), ANOMALY_RULES.length);
    // The footer of program/period is the totals.
    assert.equal(await page.getAttribute('#table-program-period tfoot td:nth-child(4)', 'data-value'), String(sample.totals.allocated));
    // Every flag is listed with its entries.
    assert.equal(await page.locator('#list-violations li').count(), sample.rule_violations.length);
    assert.equal(await page.locator('#list-anomalies li').count(), sample.anomalies.length);
    const first = sample.rule_violations[0];
    assert.equal(await page.getAttribute(`#list-violations li[data-rule="${first.rule}"]`, 'data-entries'), first.entries.join(' '));
    assert.ok((await page.textContent('#list-anomalies')).includes('</script><script>window.__pwned = 1</script>'));
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    // Charts: program/period, regions, channels, payers, time to claim, and one per kind of flag.
    const drawn = await page.evaluate(() => [...document.querySelectorAll('canvas')].filter((c) => c.width > 0 && c.height > 0).length);
    assert.equal(drawn, 7);
    // English.
    await page.click('#lang');
    assert.equal(await page.textContent('h1'), 'Audit Report of the Social Aid Ledger');
    assert.equal(await page.locator('#list-anomalies li').count(), sample.anomalies.length);
    // Printable: the buttons are not printed, and the PDF has pages.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.isVisible('#print'), false);
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    assert.ok(pages >= 3, `${pages} pages`);
    assert.deepEqual(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')), []);
    assert.deepEqual(errors, []);

    // The page as built carries no data and offers to load a file.
    const empty = join(dir, 'empty.html');
    writeFileSync(empty, readFileSync(join(here, '../dist/report.html')));
    await page.emulateMedia({ media: 'screen' });
    await page.goto(pathToFileURL(empty).href, { waitUntil: 'load' });
    await page.waitForSelector('body[data-rendered="no"]');
    assert.equal(await page.isVisible('#load-box'), true);
    await page.setInputFiles('#load-file', join(here, '../fixtures/aggregates-sample.json'));
    await page.waitForSelector('#total-allocated');
    assert.equal(await value('#total-allocated'), sample.totals.allocated);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
