// End-to-end check of the page in headless Chromium (playwright-core, the system's
// /usr/bin/chromium): for each case, load the page, type the receipt (or give the photo
// `qr_png` of its QR code) and the NIK, press
// "Periksa" and read the verdict.
//
//   node verifier/web/test/e2e.mjs --url http://127.0.0.1:PORT/verify --cases cases.json
//   node verifier/web/test/e2e.mjs --url … --cases cases.json --bench 20
//   node verifier/web/test/e2e.mjs            (self-test: serves fixtures/ on 127.0.0.1 and
//                                              checks its cases; skipped without Chromium)
//
// cases.json is [{"name", "receipt", "nik", "expect_outcome"}]. Prints one JSON line per case
// {"name", "outcome", "text", "ms"} (ms: from the click to the verdict); exits 1 if an outcome
// differs from expect_outcome. --bench N times N checks of the first case and prints the median.
// --bundle-case NAME: after the online check of that case, saves the bundle and checks it again
// offline (source "Berkas bukti"). The self-test also checks offline bundles that carry a key
// history (governance.json: a receipt made before the validators changed, and a forged
// history). Last, that case (or the first) is checked again on a 360 px phone screen, which the
// page must fit; --screenshot FILE saves that screen (docs/screenshots/).

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VERDICT_TIMEOUT_MS = 30_000;
/** A cheap phone's screen width. */
const PHONE_WIDTH = 360;

const argv = process.argv.slice(2);
const arg = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);

async function main() {
  let url = arg('--url');
  let cases;
  let server = null;
  if (!url) {
    if (!existsSync(CHROMIUM)) {
      // A missing browser is a failure, not a skip: nothing would have been tested.
      console.error(`e2e: ${CHROMIUM} is missing: run scripts/install-web-test-deps.sh`);
      return 1;
    }
    const { serve } = await import('../fixtures/serve.mjs');
    server = await serve();
    url = `${server.url}/verify`;
    cases = server.log.cases;
  } else {
    cases = JSON.parse(readFileSync(arg('--cases') ?? 'cases.json', 'utf8'));
  }
  // chromium.launch gives the browser a fresh temporary profile (--user-data-dir) and removes it.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const context = await browser.newContext({ acceptDownloads: true });
  // Headless Chromium has no voices: record what the page asks the speech synthesizer to say.
  await context.addInitScript(() => {
    window.__spoken = [];
    window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; this.lang = ''; } };
    Object.defineProperty(window, 'speechSynthesis', {
      value: { cancel() {}, getVoices() { return []; }, speak(u) { window.__spoken.push({ lang: u.lang, text: u.text }); } },
    });
  });
  const scratch = mkdtempSync(join(tmpdir(), 'bansos-e2e-'));
  let failures = 0;
  let checks = 0;
  try {
    const page = await context.newPage();
    const run = async (c) => {
      await page.goto(url, { waitUntil: 'load' });
      if (c.qr_png) {
        // A photo of the letter's QR code, decoded in the page (jsQR).
        await page.setInputFiles('#photo', c.qr_png);
        await page.waitForFunction(() => document.querySelector('#receipt').value.length > 100, null, { timeout: VERDICT_TIMEOUT_MS });
      } else {
        await page.fill('#receipt', c.receipt);
      }
      await page.fill('#nik', c.nik);
      const t0 = performance.now();
      await page.click('#check');
      await page.waitForSelector('#verdict[data-outcome]', { timeout: VERDICT_TIMEOUT_MS });
      const ms = Math.round(performance.now() - t0);
      const outcome = await page.getAttribute('#verdict', 'data-outcome');
      const text = (await page.textContent('#outcome-text')) ?? '';
      return { name: c.name, outcome, text, ms };
    };
    const bench = Number(arg('--bench') ?? 0);
    if (bench > 0) {
      const times = [];
      for (let i = 0; i < bench; i++) times.push((await run(cases[0])).ms);
      times.sort((a, b) => a - b);
      console.log(JSON.stringify({ name: cases[0].name, runs: bench, median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], max_ms: times[times.length - 1] }));
      return 0;
    }
    for (const c of cases) {
      let r;
      try {
        r = await run(c);
      } catch (e) {
        const status = await page.textContent('#status').catch(() => '');
        r = { name: c.name, outcome: null, text: `${String(e.message).split('\n')[0]} | ${status}`, ms: null };
      }
      console.log(JSON.stringify(r));
      checks++;
      if (r.outcome !== c.expect_outcome) failures++;
      if (c === cases[0] && r.outcome) {
        // The verdict read aloud, in Bahasa Indonesia.
        await page.click('#speak');
        const spoken = await page.evaluate(() => window.__spoken.at(-1) ?? null);
        const ok = spoken?.lang === 'id-ID' && spoken.text.includes(r.text.trim());
        console.log(JSON.stringify({ name: `${c.name} (read aloud)`, ok, lang: spoken?.lang ?? null }));
        checks++;
        if (!ok) failures++;
      }
    }
    const bundleCase = arg('--bundle-case') ?? (server ? 'claimed' : undefined);
    const c = cases.find((x) => x.name === bundleCase);
    if (c) {
      await run(c);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-bundle')]);
      const file = join(scratch, 'bundle.json');
      await download.saveAs(file);
      await page.goto(url, { waitUntil: 'load' });
      await page.fill('#receipt', c.receipt);
      await page.fill('#nik', c.nik);
      await page.setInputFiles('#bundle-file', file);
      await page.check('#source-bundle');
      await page.route('**/*', (route) => (route.request().url().startsWith(url) ? route.continue() : route.abort()));
      await page.click('#check');
      await page.waitForSelector('#verdict[data-outcome]', { timeout: VERDICT_TIMEOUT_MS });
      const outcome = await page.getAttribute('#verdict', 'data-outcome');
      console.log(JSON.stringify({ name: `${c.name} (offline bundle)`, outcome, text: await page.textContent('#outcome-text'), ms: null }));
      checks++;
      if (outcome !== c.expect_outcome) failures++;
      await page.unroute('**/*');
    }
    if (server) {
      // Bundles with a key_history (the fixture's policy is governance.json's genesis policy).
      const governance = JSON.parse(readFileSync(join(here, '../../../testdata/vectors/governance.json'), 'utf8'));
      for (const g of governance.citizen.cases.filter((x) => ['receipt_before_the_changes', 'forged_key_history'].includes(x.name))) {
        const file = join(scratch, `${g.name}.json`);
        writeFileSync(file, g.bundle);
        await page.goto(url, { waitUntil: 'load' });
        await page.fill('#receipt', g.receipt);
        await page.fill('#nik', g.nik);
        await page.setInputFiles('#bundle-file', file);
        await page.check('#source-bundle');
        await page.click('#check');
        await page.waitForSelector('#verdict[data-outcome]', { timeout: VERDICT_TIMEOUT_MS });
        const outcome = await page.getAttribute('#verdict', 'data-outcome');
        console.log(JSON.stringify({ name: `${g.name} (bundle with key history)`, outcome, text: await page.textContent('#outcome-text'), ms: null }));
        checks++;
        if (outcome !== g.expect.outcome) failures++;
      }
    }
    // On a 360 px phone: the page with a verdict shown fits the screen (no horizontal overflow).
    const phoneCase = c ?? cases[0];
    await page.setViewportSize({ width: PHONE_WIDTH, height: 740 });
    const p = await run(phoneCase).catch((e) => ({ outcome: null, text: String(e.message).split('\n')[0] }));
    const overflow = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
    const phoneOk = p.outcome === phoneCase.expect_outcome && overflow <= 0;
    console.log(JSON.stringify({ name: `${phoneCase.name} (phone ${PHONE_WIDTH} px)`, ok: phoneOk, outcome: p.outcome, overflow_px: overflow }));
    checks++;
    if (!phoneOk) failures++;
    if (arg('--screenshot')) await page.screenshot({ path: arg('--screenshot'), fullPage: true });
  } finally {
    await browser.close();
    rmSync(scratch, { recursive: true, force: true });
    if (server) await server.close();
  }
  console.log(`${checks - failures} passed, ${failures} failed`);
  return failures ? 1 : 0;
}

process.exitCode = await main();
