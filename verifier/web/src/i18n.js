// Texts for people, shared with `bansos-verify receipt` (verifier/data/messages.json and
// kabupaten_kota.csv), and the way the CLI writes dates (Asia/Jakarta, WIB) and rupiah.
// Pure: the data is passed in, so the page bundles it and the tests read the files.

/** Asia/Jakarta is UTC+7 all year (no daylight saving). */
export const WIB_OFFSET_SECS = 7 * 3600;
export const LANGUAGES = ['id', 'en'];

const MONTHS = {
  id: ['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September', 'Oktober', 'November', 'Desember'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

/** kabupaten_kota.csv (`code,name` with a header line) as a map. @param {string} csv */
export function parseRegions(csv) {
  const regions = new Map();
  for (const line of csv.split(/\r?\n/).slice(1)) {
    const comma = line.indexOf(',');
    if (comma < 0) continue;
    let name = line.slice(comma + 1).trim();
    if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/""/g, '"');
    const code = Number(line.slice(0, comma));
    if (Number.isInteger(code)) regions.set(code, name);
  }
  return regions;
}

/** Unix seconds as a UTC civil date and time (port of verifier::time::Utc::from_unix). */
export function utcFromUnix(secs) {
  const days = Math.floor(secs / 86400);
  const rem = secs - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day, hour: Math.floor(rem / 3600), minute: Math.floor((rem % 3600) / 60), second: rem % 60 };
}

/** Rupiah as Indonesians write it: `Rp750.000`. @param {number|bigint} amount */
export function rupiah(amount) {
  return `Rp${BigInt(amount).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.')}`;
}

/**
 * The texts of one language.
 * @param {{id: Record<string,string>, en: Record<string,string>}} messages messages.json
 * @param {Map<number,string>} regions @param {'id'|'en'} lang
 */
export function makeTexts(messages, regions, lang) {
  const table = messages[lang];
  if (!table) throw new Error(`unknown language ${lang}`);
  return {
    lang,
    /** The text of `key` with `{name}` placeholders filled (the key itself if unknown). */
    t(key, args = {}) {
      let s = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
      for (const [name, value] of Object.entries(args)) s = s.split(`{${name}}`).join(String(value));
      return s;
    },
    /** Whether a key exists. */
    has(key) {
      return Object.prototype.hasOwnProperty.call(table, key);
    },
    /** `Kota Administrasi Jakarta Pusat (3171)`, or the code alone. */
    region(code) {
      const name = regions.get(Number(code));
      return name ? `${name} (${code})` : String(code);
    },
    /** `1 November 2026 07.00 WIB` (id) or `1 November 2026 07:00 WIB` (en). */
    date(unix) {
      const t = utcFromUnix(Number(unix) + WIB_OFFSET_SECS);
      const sep = lang === 'id' ? '.' : ':';
      const two = (n) => String(n).padStart(2, '0');
      return `${t.day} ${MONTHS[lang][t.month - 1]} ${t.year} ${two(t.hour)}${sep}${two(t.minute)} WIB`;
    },
    rupiah,
  };
}
