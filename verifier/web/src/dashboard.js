// The public dashboard every node serves at `GET /`: live totals and charts of `/v1/stats`,
// and the latest checkpoint, verified in the page against the trust policy the node wrote in
// (the same code and policy as the citizen's page), refreshed every few seconds; a link to
// the citizen's page `/verify`. It asks nothing but its own node (CSP connect-src 'self').
// When the checkpoint's size changes it also asks for the node's key history (`/key-history`)
// and follows it from the policy's genesis keys, so that a checkpoint of a later epoch is
// checked against the validators of that epoch (docs/VERIFY.md, "Key history").

import { barChart, updateChart } from './charts.js';
import { fetchKeyHistory, quorumPower, validators } from './governance.js';
import { parsePolicy } from './policy.js';
import { applyI18n, el, fillTable, texts } from './public_page.js';
import { compactRupiah, summarizeStats } from './stats.js';

/** How often the page asks its node for the checkpoint. */
const REFRESH_MS = 5000;
/** The longest the page keeps /v1/stats while the checkpoint's size stays the same. */
const STATS_REFRESH_MAX_MS = 60_000;
/** Regions in the chart and table. */
const TOP_REGIONS = 10;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  lang: 'id',
  /** @type {import('./policy.js').TrustPolicy|null} */
  policy: null,
  policyError: '',
  /** The last summary of /v1/stats. */
  summary: null,
  /** The last checkpoint: {checkpoint, signers, witnesses, roster} or {error} or {none}. */
  checkpoint: null,
  /** The validators of every epoch known so far (the policy's, then the node's key history). */
  history: null,
  /** The checkpoint size (text) when /key-history was last read, and why it did not follow. */
  historySize: null,
  historyError: '',
  /** The checkpoint size (text) when /v1/stats was last read, and when (unix ms). */
  statsSize: null,
  statsAt: 0,
  /** Unix ms of the last good refresh, and the last failure's reason. */
  updatedAt: 0,
  failure: '',
  /** Whether the root hash is shown whole (after a tap). */
  rootWhole: false,
  charts: {},
};

function loadPolicy() {
  const text = ($('trust-policy').textContent ?? '').trim();
  // As built, the element holds the node's placeholder: anything but a JSON object.
  if (!text.startsWith('{')) return;
  try {
    state.policy = parsePolicy(text);
    state.history = state.policy.history.clone();
  } catch (e) {
    state.policyError = e.message;
  }
}

/**
 * Follows the node's key history when the log has grown since it was last read: a node without
 * one (404) or with an unreadable one changes nothing; one that does not follow from the known
 * validators is an error, and the validators known so far are kept.
 */
async function followKeyHistory(size) {
  if (!state.history || size === state.historySize) return;
  const file = await fetchKeyHistory('', (u, o) => fetch(u, o));
  state.historySize = size;
  state.historyError = '';
  if (!file) return;
  try {
    state.history.followFile(state.policy.networkId, state.policy.origin, file);
  } catch (e) {
    state.historyError = e.message;
  }
}

/** A payer's name from the policy, or its number. */
function payerName(id) {
  const m = state.policy?.members.get(Number(id));
  return m ? m.display_name : `#${id}`;
}

/** A program's label: its code, and its name from the policy when known. */
function programName(code) {
  const p = state.policy?.programs.get(code);
  return p ? `${p.name} (${code})` : code;
}

async function refresh() {
  const failures = [];
  const fail = (e) => {
    failures.push(e.message);
    return undefined;
  };
  const note = await fetch('/checkpoint', { cache: 'no-store' })
    .then((r) => (r.status === 503 ? null : r.ok ? r.text() : Promise.reject(new Error(`/checkpoint: HTTP ${r.status}`))))
    .catch(fail);
  // /v1/stats is the large answer (a row per program, period, region, payer and channel): ask
  // for it again when the log has grown, and at least every STATS_REFRESH_MAX_MS otherwise.
  const size = typeof note === 'string' ? note.split('\n')[1] ?? null : null;
  if (size !== null) await followKeyHistory(size);
  if (note === null) state.checkpoint = { none: true };
  else if (note !== undefined) state.checkpoint = checkCheckpoint(note);
  const due = state.summary === null || size === null || size !== state.statsSize || Date.now() - state.statsAt >= STATS_REFRESH_MAX_MS;
  if (due) {
    const stats = await fetch('/v1/stats', { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`/v1/stats: HTTP ${r.status}`))))
      .catch(fail);
    if (stats !== undefined) {
      try {
        state.summary = summarizeStats(stats, { topRegions: TOP_REGIONS });
        state.statsSize = size;
        state.statsAt = Date.now();
      } catch (e) {
        failures.push(`/v1/stats: ${e.message}`);
      }
    }
  }
  state.failure = failures.join('; ');
  if (!failures.length) state.updatedAt = Date.now();
  render();
}

/**
 * Verifies the note against the validators of its epoch (as the citizen's page does), with the
 * witnesses' cosignatures where that epoch requires them.
 */
function checkCheckpoint(note) {
  if (!state.policy) return { error: 'no_policy' };
  if (state.historyError) return { error: `key history: ${state.historyError}` };
  try {
    const v = state.history.verifyCheckpoint(note, state.policy.origin, true);
    return { checkpoint: v.checkpoint, signers: v.verified.signers, witnesses: v.verified.cosignedAt.map((c) => c.name), roster: v.roster };
  } catch (e) {
    return { error: e.message };
  }
}

function renderCheckpoint(t) {
  const status = $('checkpoint-status');
  const cp = state.checkpoint;
  $('checkpoint-details').hidden = !cp?.checkpoint;
  if (!cp) {
    status.dataset.state = 'loading';
    status.textContent = t.t('dash.cp.loading');
  } else if (cp.none) {
    status.dataset.state = 'none';
    status.textContent = t.t('dash.cp.none');
  } else if (cp.error) {
    status.dataset.state = cp.error === 'no_policy' ? 'unverified' : 'error';
    status.textContent = cp.error === 'no_policy'
      ? t.t('dash.cp.no_policy') + (state.policyError ? ` (${state.policyError})` : '')
      : t.t('dash.cp.unverified', { reason: cp.error });
  } else {
    status.dataset.state = 'verified';
    const roster = cp.roster;
    status.textContent = `✔ ${t.t('dash.cp.verified', { count: cp.signers.length, keys: validators(roster).length, quorum: quorumPower(roster) })}`
      + (roster.epoch > 0 ? ` ${t.t('dash.cp.epoch', { epoch: roster.epoch })}` : '');
    const size = $('checkpoint-size');
    size.dataset.value = String(cp.checkpoint.size);
    size.textContent = t.int(cp.checkpoint.size);
    renderRoot(t, toBase64(cp.checkpoint.root));
    const names = new Map(roster.members.map((m) => [m.name, m.display_name]));
    $('checkpoint-signers').textContent = cp.signers.map((s) => names.get(s) ?? s).join(', ')
      + (cp.witnesses.length ? `. ${t.t('dash.cp.witnessed', { names: cp.witnesses.join(', ') })}` : '');
    $('checkpoint-origin').textContent = cp.checkpoint.origin;
  }
}

/** Characters of the root shown on each side of the ellipsis until it is tapped. */
const ROOT_HEAD = 10;
const ROOT_TAIL = 6;

/** The root hash as a button: shortened until tapped, then whole; tapped again, short. */
function renderRoot(t, root) {
  const dd = $('checkpoint-root');
  dd.dataset.value = root;
  let button = dd.querySelector('button');
  if (!button) {
    button = el('button', { type: 'button', class: 'hash', id: 'checkpoint-root-button' });
    button.addEventListener('click', () => {
      state.rootWhole = !state.rootWhole;
      render();
    });
    dd.replaceChildren(button);
  }
  const short = root.length > ROOT_HEAD + ROOT_TAIL + 1 ? `${root.slice(0, ROOT_HEAD)}…${root.slice(-ROOT_TAIL)}` : root;
  button.textContent = state.rootWhole ? root : short;
  button.title = root;
  button.setAttribute('aria-expanded', String(state.rootWhole));
  button.setAttribute('aria-label', t.t(state.rootWhole ? 'dash.cp.root_hide' : 'dash.cp.root_show', { root }));
}

function toBase64(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

function renderTotals(t, s) {
  const c = s?.totals;
  const card = (id, label, count) => {
    const box = el('div', { class: 'card', id: `card-${id}` });
    box.append(el('div', { class: 'label' }, t.t(label)));
    const shown = el('div', { class: 'amount', id: `total-${id}`, 'data-value': c ? c[id] : '' }, c ? t.rupiah(c[id]) : '…');
    // The amount's length sets its size (the page's CSS), so it fits its card on one line.
    shown.style.setProperty('--chars', String(Math.max(8, shown.textContent.length)));
    box.append(shown);
    if (count) box.append(el('div', { class: 'count', id: `total-${count}`, 'data-value': c ? c[count] : '' }, c ? t.t(`total.${count}`, { n: t.int(c[count]) }) : ''));
    return box;
  };
  $('cards').replaceChildren(
    card('allocated', 'total.allocated', 'allocations'),
    card('claimed', 'total.claimed', 'claims'),
    card('outstanding', 'total.outstanding'),
    card('returned', 'total.returned', 'returns'),
    card('revoked', 'total.revoked', 'revocations'),
  );
}

/** Draws a chart the first time, updates it after. */
function chart(id, spec) {
  if (state.charts[id]) updateChart(state.charts[id], spec);
  else state.charts[id] = barChart(/** @type {HTMLCanvasElement} */ ($(id)), spec);
}

function renderTables(t, s) {
  const money = (v) => ({ text: t.rupiah(v), value: v });
  const count = (v) => ({ text: t.int(v), value: v });
  const short = (v) => compactRupiah(v, t.lang);
  const rows = s?.byProgramPeriod ?? [];
  chart('chart-program', {
    labels: rows.map((r) => `${r.program} ${r.period}`),
    series: [
      { label: t.t('col.allocated'), data: rows.map((r) => r.allocated) },
      { label: t.t('col.claimed'), data: rows.map((r) => r.claimed) },
    ],
    format: short,
  });
  fillTable($('table-program'),
    [{ title: t.t('col.program') }, { title: t.t('col.period') }, { title: t.t('col.allocations'), num: true }, { title: t.t('col.allocated'), num: true },
      { title: t.t('col.claims'), num: true }, { title: t.t('col.claimed'), num: true }, { title: t.t('col.outstanding'), num: true }],
    rows.map((r) => [programName(r.program), r.period, count(r.allocations), money(r.allocated), count(r.claims), money(r.claimed), money(r.outstanding)]));

  const channels = s?.byChannel ?? [];
  chart('chart-channel', {
    labels: channels.map((r) => t.channel(r.channel)),
    series: [{ label: t.t('col.claimed'), data: channels.map((r) => r.claimed) }],
    format: short,
  });
  fillTable($('table-channel'),
    [{ title: t.t('col.channel') }, { title: t.t('col.claims'), num: true }, { title: t.t('col.claimed'), num: true }],
    channels.map((r) => [t.channel(r.channel), count(r.claims), money(r.claimed)]));

  const regions = s?.topRegions ?? [];
  $('region-title').textContent = t.t('dash.by_region', { n: TOP_REGIONS });
  chart('chart-region', {
    labels: regions.map((r) => t.regionName(r.region)),
    series: [
      { label: t.t('col.allocated'), data: regions.map((r) => r.allocated) },
      { label: t.t('col.claimed'), data: regions.map((r) => r.claimed) },
    ],
    format: short,
    horizontal: true,
  });
  fillTable($('table-region'),
    [{ title: t.t('col.region') }, { title: t.t('col.allocations'), num: true }, { title: t.t('col.allocated'), num: true }, { title: t.t('col.claimed'), num: true }],
    regions.map((r) => [t.region(r.region), count(r.allocations), money(r.allocated), money(r.claimed)]));

  const payers = s?.byPayer ?? [];
  fillTable($('table-payer'),
    [{ title: t.t('col.payer') }, { title: t.t('col.allocations'), num: true }, { title: t.t('col.allocated'), num: true }, { title: t.t('col.claims'), num: true },
      { title: t.t('col.claimed'), num: true }, { title: t.t('col.returned'), num: true }, { title: t.t('col.revoked'), num: true }],
    payers.map((r) => [payerName(r.payer), count(r.allocations), money(r.allocated), count(r.claims), money(r.claimed), money(r.returned), money(r.revoked)]));
}

function render() {
  const t = texts(state.lang);
  applyI18n(t);
  document.title = t.t('dash.title');
  $('lang').textContent = t.t('ui.language');
  $('network').textContent = state.policy ? t.t('ui.network', { network: state.policy.networkName }) : '';
  renderCheckpoint(t);
  renderTotals(t, state.summary);
  renderTables(t, state.summary);
  const fs = $('fetch-status');
  fs.className = state.failure ? 'note bad' : 'note';
  fs.textContent = state.failure
    ? t.t('dash.fetch_failed', { reason: state.failure })
    : state.updatedAt ? t.t('dash.updated', { time: t.date(Math.floor(state.updatedAt / 1000)) }) : t.t('dash.loading');
  document.body.dataset.refreshed = String(state.updatedAt);
}

function start() {
  loadPolicy();
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'id' ? 'en' : 'id';
    render();
  });
  render();
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await refresh();
    } finally {
      busy = false;
    }
  };
  tick();
  setInterval(tick, REFRESH_MS);
}

start();
