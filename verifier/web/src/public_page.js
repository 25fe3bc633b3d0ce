// What the dashboard and the report share: their texts (src/public_texts.json over the
// citizen's verifier/data/messages.json, whose channel names they reuse), region names, and
// small DOM helpers for text-only elements and tables (no innerHTML anywhere).

import messages from '../../data/messages.json';
import regionsCsv from '../../data/kabupaten_kota.csv';
import publicTexts from './public_texts.json';
import { makeTexts, parseRegions } from './i18n.js';
import { groupInt } from './stats.js';

export const REGIONS = parseRegions(regionsCsv);
export const MESSAGES = {
  id: { ...messages.id, ...publicTexts.id },
  en: { ...messages.en, ...publicTexts.en },
};

/** The texts of one language, with the page's own helpers. @param {'id'|'en'} lang */
export function texts(lang) {
  const t = makeTexts(MESSAGES, REGIONS, lang);
  return {
    ...t,
    /** A count grouped as people write it in this language. */
    int: (n) => groupInt(n, lang),
    /** The region's name alone (charts), or its code. */
    regionName: (code) => REGIONS.get(Number(code)) ?? String(code),
    /** A channel's name, or its code. */
    channel: (c) => (t.has(`channel.${c}`) ? t.t(`channel.${c}`) : c),
  };
}

/** An element with attributes and text. */
export function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Fills every `[data-i18n]` element with its text. */
export function applyI18n(t) {
  document.documentElement.lang = t.lang;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t.t(e.dataset.i18n);
}

/**
 * Replaces `table`'s content: `columns` are [{title, num?}], `rows` are arrays of cells, each a
 * string or {text, value} (value goes to data-value, for tests and copy-paste of exact numbers).
 */
export function fillTable(table, columns, rows) {
  const head = el('thead');
  const tr = el('tr');
  for (const c of columns) tr.append(el('th', c.num ? { class: 'num', scope: 'col' } : { scope: 'col' }, c.title));
  head.append(tr);
  const body = el('tbody');
  for (const row of rows) {
    const r = el('tr');
    row.forEach((cell, i) => {
      const attrs = columns[i].num ? { class: 'num' } : {};
      if (cell && typeof cell === 'object') attrs['data-value'] = cell.value;
      r.append(el('td', attrs, cell && typeof cell === 'object' ? cell.text : cell));
    });
    body.append(r);
  }
  table.replaceChildren(head, body);
}
