// End-to-end check of the public dashboard in headless Chromium (playwright-core, the system's
// /usr/bin/chromium): loads `/` from a node and checks that the totals shown are the node's
// `/v1/stats` totals, that the latest checkpoint is shown as verified (with its size), that
// the charts are drawn, that the link to `/verify` is there and leads to it, and that the page
// asks nothing but its node.
//
//   node verifier/web/test/dashboard-e2e.mjs --url http://127.0.0.1:PORT   (a real node)
//   node verifier/web/test/dashboard-e2e.mjs     (self-test: serves fixtures/dashboard-node.mjs
//                                                  and also checks the live refresh, that a
//                                                  checkpoint below the quorum is refused, that
//                                                  a key history is followed and a forged one
//                                                  refused, and the phone layout at national
//                                                  totals)
//   ... --screenshot FILE   also saves the page at 360 px (docs/screenshots/)
//
// Both modes check the page on a 360 px phone: no horizontal overflow, amounts on one line,
// the root hash shortened inside the screen and whole on a tap.
//
// Prints one JSON line per check {"name", "ok", ...} and `N passed, N failed`; exits 1 on a
// failure, and when Chromium is missing (nothing would have been tested).

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Long enough for a few of the page's refreshes (every 5 s). */
const WAIT_MS = 30_000;
/** A cheap phone's screen width, and the weight that makes the fixture's totals national. */
const PHONE_WIDTH = 360;
const NATIONAL_WEIGHT = 70_000;
const TOTALS = ['allocated', 'allocations', 'claimed', 'claims', 'returned', 'returns', 'revoked', 'revocations', 'outstanding'];

const argv = process.argv.slice(2);
const arg = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);

/** The node's totals, with outstanding as the page computes it. */
async function nodeTotals(base) {
  const stats = await (await fetch(`${base}/v1/stats`)).json();
  const t = stats.totals;
  return { ...t, outstanding: Math.max(0, t.allocated - t.claimed - t.returned - t.revoked), rows: stats.rows };
}

/** The size in the node's /checkpoint (second line of the note). */
async function nodeCheckpointSize(base) {
  const r = await fetch(`${base}/checkpoint`);
  return r.ok ? Number((await r.text()).split('\n')[1]) : null;
}

/** The totals the page shows (data-value of each total). */
const pageTotals = (page) => page.evaluate((fields) => Object.fromEntries(fields.map((f) => {
  const v = document.getElementById(`total-${f}`)?.dataset.value;
  return [f, v === undefined || v === '' ? null : Number(v)];
})), TOTALS);

/**
 * Runs in the page: whether it fits its viewport — no horizontal overflow, every amount and
 * count on one line inside its card, the root hash inside the screen. Tables may scroll inside
 * their own boxes (.scroll), which is not overflow of the page.
 */
function phoneLayout() {
  const width = window.innerWidth;
  const overflow = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - width;
  const lines = (e) => {
    const range = document.createRange();
    range.selectNodeContents(e);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  };
  const broken = [...document.querySelectorAll('.card .amount, #checkpoint-size')]
    .filter((e) => lines(e) !== 1 || e.scrollWidth > e.clientWidth)
    .map((e) => `${e.id}: ${e.textContent}`);
  const root = document.getElementById('checkpoint-root-button')?.getBoundingClientRect();
  const rootInside = Boolean(root) && root.left >= 0 && root.right <= width;
  return { ok: overflow <= 0 && broken.length === 0 && rootInside, overflow_px: overflow, broken, root_inside: rootInside };
}

/** Polls until `f` gives a value with ok, or the time is up; returns the last value. */
async function until(f, ms = WAIT_MS) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await f();
    if (last.ok || Date.now() > end) return last;
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

async function main() {
  if (!existsSync(CHROMIUM)) {
    console.error(`dashboard-e2e: ${CHROMIUM} is missing: run scripts/install-web-test-deps.sh`);
    return 1;
  }
  let base = arg('--url')?.replace(/\/+$/, '');
  let fixture = null;
  if (!base) {
    const { serveDashboard } = await import('../fixtures/dashboard-node.mjs');
    fixture = await serveDashboard();
    base = fixture.url;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  let passed = 0;
  let failed = 0;
  const report = (name, ok, detail = {}) => {
    console.log(JSON.stringify({ name, ok, ...detail }));
    if (ok) passed++;
    else failed++;
  };
  try {
    const page = await browser.newPage();
    const elsewhere = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(`${base}/`) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e.message)));
    await page.goto(`${base}/`, { waitUntil: 'load' });

    // The checkpoint, verified in the page against the policy the node wrote in.
    const cp = await until(async () => {
      const state = await page.getAttribute('#checkpoint-status', 'data-state');
      const shown = await page.getAttribute('#checkpoint-size', 'data-value');
      const size = await nodeCheckpointSize(base);
      return { ok: state === 'verified' && shown !== null && Number(shown) === size, state, shown: shown === null ? null : Number(shown), size };
    });
    report('checkpoint verified', cp.ok, { state: cp.state, shown_size: cp.shown, node_size: cp.size,
      status: await page.textContent('#checkpoint-status'), signers: await page.textContent('#checkpoint-signers') });

    // The totals are the node's.
    const totals = await until(async () => {
      const want = await nodeTotals(base);
      const shown = await pageTotals(page);
      return { ok: TOTALS.every((f) => shown[f] === want[f]), shown, want: Object.fromEntries(TOTALS.map((f) => [f, want[f]])), rows: want.rows };
    });
    report('totals equal /v1/stats', totals.ok, { shown: totals.shown, stats: totals.want });

    // Tables and charts: one row per program and period; every chart drawn.
    const programs = new Set(totals.rows.map((r) => `${r.key.program} ${r.key.period}`)).size;
    const tableRows = await page.locator('#table-program tbody tr').count();
    const charts = await page.evaluate(() => ['chart-program', 'chart-channel', 'chart-region']
      .map((id) => document.getElementById(id))
      .filter((c) => c && c.width > 0 && c.height > 0).length);
    report('tables and charts', tableRows === programs && charts === 3 && programs > 0, { program_rows: tableRows, programs, charts });

    // The link to the citizen's page.
    const href = await page.getAttribute('#verify-link', 'href');
    const linkText = (await page.textContent('#verify-link'))?.trim();
    const target = new URL(href ?? '', `${base}/`).href;
    const answer = await fetch(target);
    report('link to /verify', target === `${base}/verify` && answer.ok && Boolean(linkText), { href, text: linkText, status: answer.status });

    // English, then back.
    await page.click('#lang');
    const english = await page.textContent('h1');
    await page.click('#lang');
    const indonesian = await page.textContent('h1');
    report('language toggle', english === 'Social Aid Dashboard' && indonesian === 'Dasbor Bantuan Sosial', { english, indonesian });

    if (fixture) {
      // Live: the node's totals grow and the page follows within a few refreshes.
      fixture.setAllocations(90);
      const grown = await until(async () => {
        const want = await nodeTotals(base);
        const shown = await pageTotals(page);
        return { ok: shown.allocations === 90 && TOTALS.every((f) => shown[f] === want[f]), shown };
      });
      report('live refresh', grown.ok, { shown: grown.shown });
      // A checkpoint with fewer signatures than the quorum is shown as not verified.
      fixture.setSigners(2);
      const refused = await until(async () => ({ ok: (await page.getAttribute('#checkpoint-status', 'data-state')) === 'error' }));
      report('checkpoint below quorum refused', refused.ok, { status: await page.textContent('#checkpoint-status') });
      // The validators changed since genesis: the page follows the node's key history and
      // verifies the checkpoint against the new validators; a forged history is refused.
      fixture.setSigners(4);
      fixture.setKeyHistory('powers');
      fixture.setAllocations(120);
      const followed = await until(async () => {
        const status = await page.textContent('#checkpoint-status');
        const ok = (await page.getAttribute('#checkpoint-status', 'data-state')) === 'verified' && /berubah 4 kali|changed 4 times/.test(status ?? '');
        return { ok, status };
      });
      report('key history followed', followed.ok, { status: followed.status });
      fixture.setKeyHistory('forged');
      fixture.setAllocations(150);
      const forged = await until(async () => {
        const status = await page.textContent('#checkpoint-status');
        const ok = (await page.getAttribute('#checkpoint-status', 'data-state')) === 'error' && (status ?? '').includes('key history');
        return { ok, status };
      });
      report('forged key history refused', forged.ok, { status: forged.status });
      fixture.setKeyHistory(null);
    }

    // On a phone (360 px), at national totals in the self-test (each allocation standing for
    // 70,000 families: ~10¹³ rupiah): nothing runs off the screen, no amount breaks, the root
    // hash fits shortened and shows whole on a tap.
    if (fixture) {
      fixture.setSigners(4);
      fixture.setAllocations(300);
      fixture.setWeight(NATIONAL_WEIGHT);
    }
    const phone = await browser.newPage({ viewport: { width: PHONE_WIDTH, height: 740 } });
    phone.on('pageerror', (e) => errors.push(String(e.message)));
    await phone.goto(`${base}/`, { waitUntil: 'load' });
    const phoneTotals = await until(async () => {
      const want = await nodeTotals(base);
      const shown = await pageTotals(phone);
      const verified = (await phone.getAttribute('#checkpoint-status', 'data-state')) === 'verified';
      return { ok: verified && TOTALS.every((f) => shown[f] === want[f]), shown };
    });
    const layout = await phone.evaluate(phoneLayout);
    const national = !fixture || phoneTotals.shown.allocated >= 1e13;
    report(`phone ${PHONE_WIDTH} px${fixture ? ', national totals' : ''}`, phoneTotals.ok && national && layout.ok,
      { allocated: phoneTotals.shown.allocated, ...layout });
    await phone.click('#checkpoint-root-button', { timeout: 5000 }).catch(() => {});
    const whole = await phone.evaluate(() => {
      const b = document.getElementById('checkpoint-root-button');
      return { text: b.textContent, root: document.getElementById('checkpoint-root').dataset.value, expanded: b.getAttribute('aria-expanded') };
    });
    const afterTap = await phone.evaluate(phoneLayout);
    report('root hash whole on tap', whole.text === whole.root && whole.root.length === 44 && whole.expanded === 'true' && afterTap.ok,
      { ...whole, ...afterTap });
    if (arg('--screenshot')) await phone.screenshot({ path: arg('--screenshot'), fullPage: true });
    await phone.close();

    report('no request elsewhere, no script error', elsewhere.length === 0 && errors.length === 0, { elsewhere, errors });
    // The page is where the citizen goes next.
    await page.click('#verify-link');
    await page.waitForURL(`${base}/verify`, { timeout: WAIT_MS });
    report('link followed', page.url() === `${base}/verify`, { url: page.url() });
  } finally {
    await browser.close();
    if (fixture) await fixture.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
