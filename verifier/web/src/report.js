// The auditor's report: `bansos-audit report` writes aggregates.json (docs/AUDIT.md) into this
// page in place of its placeholder; the page draws its tables and charts, in Bahasa Indonesia
// or English, ready to print. It makes no request at all (CSP: no connect-src). Without data
// (the page as built) it offers to load an aggregates.json file.

import { barChart, fitChartsForPrint } from './charts.js';
import { applyI18n, el, fillTable, texts } from './public_page.js';
import { ANOMALY_RULES, VIOLATION_RULES, flagsByRule, parseAggregates, timeToClaimTable, topRegions } from './report_model.js';
import { compactRupiah } from './stats.js';

/** Regions shown (the CSV has them all). */
const TOP_REGIONS = 20;
/** Entries listed per flag (the CSV has them all). */
const ENTRIES_SHOWN_MAX = 50;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  lang: 'id',
  /** The checked aggregates, or null. */
  data: null,
  /** Why the data was refused. */
  error: '',
  /** @type {import('chart.js').Chart[]} */
  charts: [],
};

function loadEmbedded() {
  const text = ($('report-data').textContent ?? '').trim();
  // As built, the element holds the placeholder: anything but a JSON object.
  if (!text.startsWith('{')) return;
  try {
    state.data = parseAggregates(text);
  } catch (e) {
    state.error = e.message;
  }
}

function section(id, title) {
  const s = el('section', { id });
  s.append(el('h2', {}, title));
  $('report').append(s);
  return s;
}

function chartBox(parent, spec, size = '') {
  const box = el('div', { class: `chart ${size}`.trim() });
  const canvas = el('canvas', { role: 'img', 'aria-label': spec.title ?? '' });
  box.append(canvas);
  parent.append(box);
  state.charts.push(barChart(/** @type {HTMLCanvasElement} */ (canvas), spec));
}

function table(parent, id, columns, rows, foot) {
  const wrap = el('div', { class: 'scroll' });
  const tab = el('table', { id });
  fillTable(tab, columns, rows);
  if (foot) {
    const tf = el('tfoot');
    const tr = el('tr');
    foot.forEach((cell, i) => tr.append(el('td', columns[i].num ? { class: 'num', 'data-value': cell.value ?? '' } : {}, cell.text ?? cell)));
    tf.append(tr);
    tab.append(tf);
  }
  wrap.append(tab);
  parent.append(wrap);
}

function render() {
  for (const c of state.charts) c.destroy();
  state.charts = [];
  const t = texts(state.lang);
  applyI18n(t);
  document.title = t.t('report.title');
  $('lang').textContent = t.t('ui.language');
  $('report').replaceChildren();
  const a = state.data;
  $('load-box').hidden = a !== null;
  $('load-message').textContent = state.error ? t.t('report.bad_data', { reason: state.error }) : t.t('report.no_data');
  if (!a) return;

  const money = (v) => ({ text: t.rupiah(v), value: v });
  const count = (v) => ({ text: t.int(v), value: v });
  const short = (v) => compactRupiah(v, t.lang);
  const int = (v) => t.int(v);
  const countCols = [
    { title: t.t('col.allocations'), num: true }, { title: t.t('col.allocated'), num: true },
    { title: t.t('col.claims'), num: true }, { title: t.t('col.claimed'), num: true },
    { title: t.t('col.returned'), num: true }, { title: t.t('col.revoked'), num: true },
    { title: t.t('col.outstanding'), num: true },
  ];
  const countCells = (r) => [count(r.allocations), money(r.allocated), count(r.claims), money(r.claimed), money(r.returned), money(r.revoked), money(r.outstanding)];

  // The checkpoint the figures are of.
  const cp = section('sec-checkpoint', t.t('report.checkpoint'));
  const dl = el('dl');
  const row = (label, value, id) => dl.append(el('dt', {}, label), el('dd', id ? { id } : {}, value));
  row(t.t('dash.cp.origin'), a.checkpoint.origin, 'checkpoint-origin');
  row(t.t('dash.cp.size'), t.int(a.checkpoint.size), 'checkpoint-size');
  row(t.t('dash.cp.root'), a.checkpoint.root, 'checkpoint-root');
  row(t.t('report.generated_at'), t.date(a.generated_at));
  row(t.t('report.format'), a.format);
  cp.append(dl);

  // Totals.
  const tot = section('sec-totals', t.t('report.totals'));
  const cards = el('div', { class: 'cards' });
  const card = (id, countField) => {
    const box = el('div', { class: 'card' });
    box.append(el('div', { class: 'label' }, t.t(`total.${id}`)));
    box.append(el('div', { class: 'amount', id: `total-${id}`, 'data-value': a.totals[id] }, t.rupiah(a.totals[id])));
    if (countField) box.append(el('div', { class: 'count', id: `total-${countField}`, 'data-value': a.totals[countField] }, t.t(`total.${countField}`, { n: t.int(a.totals[countField]) })));
    cards.append(box);
  };
  card('allocated', 'allocations');
  card('claimed', 'claims');
  card('outstanding');
  card('returned', 'returns');
  card('revoked', 'revocations');
  tot.append(cards);

  // Per program and period.
  const pp = section('sec-program-period', t.t('report.by_program_period'));
  const ppRows = a.by_program_period;
  chartBox(pp, {
    labels: ppRows.map((r) => `${r.program} ${r.period}`),
    series: ['allocated', 'claimed', 'outstanding'].map((f) => ({ label: t.t(`col.${f}`), data: ppRows.map((r) => r[f]) })),
    format: short,
  });
  table(pp, 'table-program-period', [{ title: t.t('col.program') }, { title: t.t('col.period') }, ...countCols],
    ppRows.map((r) => [r.program, r.period, ...countCells(r)]),
    [t.t('col.total'), '', ...countCells(a.totals)]);

  // Regions.
  const regions = topRegions(a, TOP_REGIONS);
  const rg = section('sec-region', t.t('report.by_region', { n: Math.min(TOP_REGIONS, a.by_region.length) }));
  const regionName = (r) => r.region_name || t.regionName(r.region);
  chartBox(rg, {
    labels: regions.map(regionName),
    series: ['allocated', 'claimed'].map((f) => ({ label: t.t(`col.${f}`), data: regions.map((r) => r[f]) })),
    format: short,
    horizontal: true,
  }, 'tall');
  table(rg, 'table-region', [{ title: t.t('col.region') }, ...countCols], regions.map((r) => [`${regionName(r)} (${r.region})`, ...countCells(r)]));
  rg.append(el('p', { class: 'note' }, t.t('report.by_region_all', { n: t.int(a.by_region.length) })));

  // Channels.
  const ch = section('sec-channel', t.t('report.by_channel'));
  chartBox(ch, {
    labels: a.by_channel.map((r) => t.channel(r.channel)),
    series: [{ label: t.t('col.claimed'), data: a.by_channel.map((r) => r.claimed) }],
    format: short,
  }, 'small');
  table(ch, 'table-channel', [{ title: t.t('col.channel') }, { title: t.t('col.claims'), num: true }, { title: t.t('col.claimed'), num: true }],
    a.by_channel.map((r) => [`${t.channel(r.channel)} (${r.channel})`, count(r.claims), money(r.claimed)]));

  // Payers.
  const py = section('sec-payer', t.t('report.by_payer'));
  const payerName = (r) => r.payer_name || `#${r.payer}`;
  chartBox(py, {
    labels: a.by_payer.map(payerName),
    series: ['allocated', 'claimed'].map((f) => ({ label: t.t(`col.${f}`), data: a.by_payer.map((r) => r[f]) })),
    format: short,
  }, 'small');
  table(py, 'table-payer', [{ title: t.t('col.payer') }, ...countCols], a.by_payer.map((r) => [payerName(r), ...countCells(r)]));

  // Time to claim.
  const tc = section('sec-time-to-claim', t.t('report.time_to_claim'));
  const ttc = timeToClaimTable(a);
  chartBox(tc, {
    labels: ttc.buckets.map((b) => t.t(`bucket.${b}`)),
    series: ttc.programs.map((p, i) => ({ label: p, data: ttc.cells[i] })),
    format: int,
  }, 'small');
  table(tc, 'table-time-to-claim', [{ title: t.t('col.program') }, ...ttc.buckets.map((b) => ({ title: t.t(`bucket.${b}`), num: true }))],
    ttc.programs.map((p, i) => [p, ...ttc.cells[i].map(count)]));

  // Rule violations and anomalies.
  flags(t, section('sec-violations', t.t('report.rule_violations')), 'violations', a.rule_violations, VIOLATION_RULES);
  flags(t, section('sec-anomalies', t.t('report.anomalies')), 'anomalies', a.anomalies, ANOMALY_RULES);
}

/** A kind of flags: counts per rule (table and chart), then every flag by rule. */
function flags(t, parent, id, list, known) {
  const rules = flagsByRule(list, known);
  const ruleName = (r) => (t.has(`rule.${r}`) ? t.t(`rule.${r}`) : r);
  table(parent, `table-${id}`, [{ title: t.t('col.rule') }, { title: t.t('col.flags'), num: true }, { title: t.t('col.entries'), num: true }],
    rules.map((r) => [`${ruleName(r.rule)} (${r.rule})`, { text: t.int(r.flags), value: r.flags }, { text: t.int(r.entries), value: r.entries }]));
  if (!list.length) {
    parent.append(el('p', { id: `list-${id}` }, t.t('report.none')));
    return;
  }
  chartBox(parent, {
    labels: rules.map((r) => ruleName(r.rule)),
    series: [{ label: t.t('col.flags'), data: rules.map((r) => r.flags) }],
    format: (v) => t.int(v),
    horizontal: true,
  }, 'small');
  const all = el('div', { id: `list-${id}` });
  for (const r of rules.filter((x) => x.flags > 0)) {
    const box = el('div', { class: id === 'violations' ? 'violation' : 'anomaly' });
    box.append(el('h3', {}, `${ruleName(r.rule)} — ${t.t('report.flag_count', { n: t.int(r.flags) })}`));
    const ol = el('ol', { class: 'flags' });
    for (const f of list.filter((x) => x.rule === r.rule)) {
      const li = el('li', { 'data-rule': f.rule, 'data-entries': f.entries.join(' ') });
      if (f.detail) li.append(el('div', {}, f.detail));
      if (f.key && Object.keys(f.key).length) {
        li.append(el('div', { class: 'note' }, Object.entries(f.key).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ')));
      }
      const shown = f.entries.slice(0, ENTRIES_SHOWN_MAX).join(', ');
      const more = f.entries.length > ENTRIES_SHOWN_MAX ? ` ${t.t('report.more_entries', { n: t.int(f.entries.length - ENTRIES_SHOWN_MAX) })}` : '';
      li.append(el('div', { class: 'entries' }, t.t('report.entries', { list: shown }) + more));
      ol.append(li);
    }
    box.append(ol);
    all.append(box);
  }
  parent.append(all);
}

function start() {
  loadEmbedded();
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'id' ? 'en' : 'id';
    render();
  });
  $('print').addEventListener('click', () => print());
  $('load-file').addEventListener('change', async (ev) => {
    const file = /** @type {HTMLInputElement} */ (ev.target).files?.[0];
    if (!file) return;
    try {
      state.data = parseAggregates(await file.text());
      state.error = '';
    } catch (e) {
      state.data = null;
      state.error = e.message;
    }
    render();
  });
  fitChartsForPrint(() => state.charts);
  render();
  document.body.dataset.rendered = state.data ? 'yes' : 'no';
}

start();
