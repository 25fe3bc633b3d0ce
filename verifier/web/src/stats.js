// The public totals of `GET /v1/stats` (docs/API.md) summed the ways the dashboard shows them:
// per program and period, per channel, per kabupaten/kota, per payer. Pure: the page fetches,
// this module only adds up, so the tests run it on plain objects.
//
// A row of /v1/stats is {key: {program, period, region, payer, channel}, totals: <counts>};
// allocation, return and revocation rows have channel null, claim rows name the channel.

/** The counts of a stats row, in the order of `bansos_ledger::store::StatsRow`. */
export const COUNT_FIELDS = ['allocations', 'allocated', 'claims', 'claimed', 'returns', 'returned', 'revocations', 'revoked'];

/** An answer of /v1/stats that does not have the documented shape. */
export class StatsError extends Error {}

const zero = () => Object.fromEntries(COUNT_FIELDS.map((f) => [f, 0]));

/** Counts of one row, checked: non-negative safe integers. */
function countsOf(totals, where) {
  if (!totals || typeof totals !== 'object') throw new StatsError(`${where}: totals missing`);
  const c = {};
  for (const f of COUNT_FIELDS) {
    const v = totals[f];
    if (!Number.isSafeInteger(v) || v < 0) throw new StatsError(`${where}: ${f} is not a count`);
    c[f] = v;
  }
  return c;
}

function add(into, c) {
  for (const f of COUNT_FIELDS) into[f] += c[f];
  return into;
}

/** What is still to be paid out: allocated − claimed − returned − revoked (never below 0). */
export function outstanding(c) {
  return Math.max(0, c.allocated - c.claimed - c.returned - c.revoked);
}

const withOutstanding = (c) => ({ ...c, outstanding: outstanding(c) });

/** Groups rows by a key function into [{...key, ...counts, outstanding}]. */
function groupBy(rows, keyOf) {
  const groups = new Map();
  for (const r of rows) {
    const k = keyOf(r.key);
    const id = JSON.stringify(k);
    if (!groups.has(id)) groups.set(id, { key: k, counts: zero() });
    add(groups.get(id).counts, r.counts);
  }
  return [...groups.values()].map((g) => ({ ...g.key, ...withOutstanding(g.counts) }));
}

/**
 * Sums an answer of /v1/stats for the dashboard. Throws StatsError if it is not one.
 * `totals` are the node's own totals (what the page shows as "Total"); every table sums to them.
 * @param {any} stats the parsed JSON @param {{topRegions?: number}} [options]
 */
export function summarizeStats(stats, { topRegions = 10 } = {}) {
  if (!stats || typeof stats !== 'object' || !Array.isArray(stats.rows)) throw new StatsError('rows missing');
  const totals = withOutstanding(countsOf(stats.totals, 'totals'));
  const rows = stats.rows.map((r, i) => {
    const k = r?.key;
    if (!k || typeof k.program !== 'string' || typeof k.period !== 'string' || !Number.isInteger(k.region)
      || !Number.isInteger(k.payer) || !(k.channel === null || typeof k.channel === 'string')) {
      throw new StatsError(`row ${i}: key is not {program, period, region, payer, channel}`);
    }
    return { key: k, counts: countsOf(r.totals, `row ${i}`) };
  });
  const byProgramPeriod = groupBy(rows, (k) => ({ program: k.program, period: k.period }))
    .sort((a, b) => a.program.localeCompare(b.program) || a.period.localeCompare(b.period));
  const byChannel = groupBy(rows.filter((r) => r.key.channel !== null), (k) => ({ channel: k.channel }))
    .map(({ channel, claims, claimed }) => ({ channel, claims, claimed }))
    .sort((a, b) => b.claimed - a.claimed || a.channel.localeCompare(b.channel));
  const regions = groupBy(rows, (k) => ({ region: k.region }))
    .sort((a, b) => b.allocated - a.allocated || a.region - b.region);
  const byPayer = groupBy(rows, (k) => ({ payer: k.payer })).sort((a, b) => a.payer - b.payer);
  return { totals, byProgramPeriod, byChannel, topRegions: regions.slice(0, topRegions), regionCount: regions.length, byPayer };
}

/** A whole number grouped as people write it: 12.345 (id) or 12,345 (en). */
export function groupInt(n, lang = 'id') {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'id' ? '.' : ',');
}

const SCALES = {
  id: [[1e12, 'T'], [1e9, 'M'], [1e6, 'jt'], [1e3, 'rb']],
  en: [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']],
};

/** A short amount for chart axes: Rp1,5 M (id: miliar) or Rp1.5B (en). */
export function compactRupiah(n, lang = 'id') {
  for (const [size, unit] of SCALES[lang] ?? SCALES.id) {
    if (Math.abs(n) >= size) {
      const v = Math.round((n / size) * 10) / 10;
      const s = lang === 'id' ? String(v).replace('.', ',') : String(v);
      return lang === 'id' ? `Rp${s} ${unit}` : `Rp${s}${unit}`;
    }
  }
  return `Rp${n}`;
}
