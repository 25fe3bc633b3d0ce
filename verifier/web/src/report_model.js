// The auditor's report data: `aggregates.json` of `bansos-audit aggregates` (docs/AUDIT.md,
// format bansos-ledger/aggregates@v1), checked field by field and shaped for tables and charts.
// Pure: report.js draws, this module only reads, so the tests run it on the sample file.

export const REPORT_FORMAT = 'bansos-ledger/aggregates@v1';
/** `<counts>` of docs/AUDIT.md. */
export const COUNTS = ['allocations', 'allocated', 'claims', 'claimed', 'returns', 'returned', 'revocations', 'revoked', 'outstanding'];
/** The time-to-claim buckets, shortest first. */
export const BUCKETS = ['<1h', '1-24h', '1-7d', '7-30d', '>30d'];
/** Rules the ledger itself enforces, re-checked from public data. */
export const VIOLATION_RULES = ['undecodable_entry', 'bad_signature', 'role_not_allowed', 'program_exists', 'unknown_program',
  'allocation_not_by_issuer', 'period_mismatch', 'amount_outside_rule', 'payer_not_bank', 'expires_in_past', 'duplicate_allocation_id', 'duplicate_dedup_tag', 'claim_without_allocation', 'claim_by_other_payer',
  'claim_lock_mismatch', 'claim_after_close', 'over_claim', 'close_without_allocation', 'close_not_allowed'];
/** Patterns worth a look that no rule forbids. */
export const ANOMALY_RULES = ['claim_outside_region', 'outlet_spike', 'outside_service_hours', 'partial_payment', 'region_claimed_in_first_hour'];

/** aggregates.json that does not follow the schema. */
export class ReportError extends Error {}

const isCount = (v) => Number.isSafeInteger(v) && v >= 0;

/**
 * Parses and checks aggregates.json (text or object); throws ReportError naming the first
 * field that is wrong. Unknown rules are kept (a newer bansos-audit may add some).
 */
export function parseAggregates(input) {
  let a = input;
  if (typeof input === 'string') {
    try {
      a = JSON.parse(input);
    } catch {
      throw new ReportError('not JSON');
    }
  }
  const need = (ok, what) => {
    if (!ok) throw new ReportError(what);
  };
  need(a && typeof a === 'object' && !Array.isArray(a), 'not a JSON object');
  need(a.format === REPORT_FORMAT, `format must be ${REPORT_FORMAT}`);
  const cp = a.checkpoint;
  need(cp && typeof cp.origin === 'string' && isCount(cp.size) && typeof cp.root === 'string', 'checkpoint must be {origin, size, root}');
  need(isCount(a.generated_at), 'generated_at must be unix seconds');
  const counts = (row, where) => {
    for (const f of COUNTS) need(isCount(row?.[f]), `${where}: ${f} must be a count`);
  };
  counts(a.totals, 'totals');
  const list = (name, check) => {
    need(Array.isArray(a[name]), `${name} must be a list`);
    a[name].forEach((row, i) => {
      need(row && typeof row === 'object', `${name}[${i}] must be an object`);
      check(row, `${name}[${i}]`);
    });
  };
  const str = (row, f, where) => need(typeof row[f] === 'string', `${where}: ${f} must be a string`);
  list('by_program_period', (r, w) => {
    str(r, 'program', w);
    str(r, 'period', w);
    counts(r, w);
  });
  list('by_region', (r, w) => {
    need(isCount(r.region), `${w}: region must be a kabupaten/kota code`);
    need(r.region_name === undefined || r.region_name === null || typeof r.region_name === 'string', `${w}: region_name must be a string`);
    counts(r, w);
  });
  list('by_channel', (r, w) => {
    str(r, 'channel', w);
    need(isCount(r.claims) && isCount(r.claimed), `${w}: claims and claimed must be counts`);
  });
  list('by_payer', (r, w) => {
    need(isCount(r.payer), `${w}: payer must be a member number`);
    need(r.payer_name === undefined || r.payer_name === null || typeof r.payer_name === 'string', `${w}: payer_name must be a string`);
    counts(r, w);
  });
  list('time_to_claim', (r, w) => {
    str(r, 'program', w);
    need(BUCKETS.includes(r.bucket), `${w}: bucket must be one of ${BUCKETS.join(' ')}`);
    need(isCount(r.claims), `${w}: claims must be a count`);
  });
  const flag = (r, w) => {
    str(r, 'rule', w);
    need(Array.isArray(r.entries) && r.entries.every(isCount), `${w}: entries must be leaf indexes`);
    need(r.detail === undefined || typeof r.detail === 'string', `${w}: detail must be a string`);
  };
  list('rule_violations', flag);
  list('anomalies', (r, w) => {
    flag(r, w);
    need(r.key === undefined || (r.key !== null && typeof r.key === 'object' && !Array.isArray(r.key)), `${w}: key must be an object`);
  });
  return a;
}

/** Regions by allocated rupiah, largest first (ties by code), the first `n`. */
export function topRegions(a, n = 20) {
  return [...a.by_region].sort((x, y) => y.allocated - x.allocated || x.region - y.region).slice(0, n);
}

/** Time to claim as a table: programs × BUCKETS → claims. */
export function timeToClaimTable(a) {
  const programs = [...new Set(a.time_to_claim.map((r) => r.program))].sort();
  const cells = programs.map((p) => BUCKETS.map((b) => a.time_to_claim
    .filter((r) => r.program === p && r.bucket === b)
    .reduce((s, r) => s + r.claims, 0)));
  return { programs, buckets: BUCKETS, cells };
}

/**
 * Flags counted per rule: [{rule, flags, entries}] in the order of `known`, then unknown rules
 * by name; a known rule with no flag is listed with 0, so the report shows it was checked.
 */
export function flagsByRule(flags, known) {
  const rules = [...known, ...[...new Set(flags.map((f) => f.rule))].filter((r) => !known.includes(r)).sort()];
  return rules.map((rule) => {
    const mine = flags.filter((f) => f.rule === rule);
    return { rule, flags: mine.length, entries: mine.reduce((s, f) => s + f.entries.length, 0) };
  });
}
