// Builds the one-file pages: each page's script bundled and minified by esbuild, inlined with
// the CSS of its template into one self-contained file (no request but to the nodes it reads).
// Deterministic: the same sources give the same bytes. Nodes and bansos-audit embed the files
// with include_str! and replace the page's placeholder (inside a JSON script element) when they
// serve or write it.
//
//   dist/verify.html     the citizen's page (src/app.js, src/index.html): GET /verify
//   dist/dashboard.html  the public dashboard (src/dashboard.js, src/dashboard.html): GET /
//   dist/report.html     the auditor's report template (src/report.js, src/report.html)
//
//   node build.mjs          build every page
//   node build.mjs --check  build in memory and fail if a committed page differs

import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const MARK = '/*__APP__*/';
const GZIP_BYTES_TARGET = 300 * 1024;

/** The pages: script, template, output, and the JSON script element that takes the data. */
export const PAGES = [
  { entry: 'src/app.js', template: 'src/index.html', out: 'dist/verify.html', placeholder: '__BANSOS_TRUST_POLICY__', slot: 'trust-policy' },
  { entry: 'src/dashboard.js', template: 'src/dashboard.html', out: 'dist/dashboard.html', placeholder: '__BANSOS_TRUST_POLICY__', slot: 'trust-policy' },
  { entry: 'src/report.js', template: 'src/report.html', out: 'dist/report.html', placeholder: '__BANSOS_REPORT_DATA__', slot: 'report-data' },
];

/** The bytes of one page. */
async function buildPage({ entry, template: templatePath, placeholder, slot }) {
  const result = await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    charset: 'utf8',
    legalComments: 'eof',
    loader: { '.json': 'json', '.csv': 'text' },
    write: false,
    logLevel: 'warning',
  });
  let js = result.outputFiles[0].text;
  // Nothing in the script may end the script element or open an HTML comment inside it.
  js = js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

  const template = readFileSync(join(here, templatePath), 'utf8');
  if (template.split(MARK).length !== 2) throw new Error(`${templatePath} must hold ${MARK} once`);
  const page = template.replace(MARK, () => js.trimEnd());

  const at = page.indexOf(placeholder);
  if (page.split(placeholder).length !== 2 || !page.slice(0, at).endsWith(`<script type="application/json" id="${slot}">`)) {
    throw new Error(`${templatePath}: the placeholder must appear exactly once, inside #${slot}`);
  }
  if (page.split('</script>').length - 1 !== 2) throw new Error(`${templatePath}: the page must close exactly two script elements`);
  if (/\b(src|href)=["']?(https?:)?\/\//i.test(page.replace(/<script>[\s\S]*<\/script>/, ''))) {
    throw new Error(`${templatePath}: the page must not load anything from elsewhere`);
  }
  return page;
}

let stale = false;
for (const p of PAGES) {
  const page = await buildPage(p);
  const out = join(here, p.out);
  const gz = gzipSync(Buffer.from(page), { level: 9 }).length;
  if (process.argv.includes('--check')) {
    const committed = existsSync(out) ? readFileSync(out, 'utf8') : null;
    if (committed !== page) {
      console.error(`${p.out} is stale: run \`npm run build\` in verifier/web and commit it`);
      stale = true;
      continue;
    }
    console.log(`${p.out} is up to date (${page.length} bytes, ${gz} gzipped)`);
  } else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, page);
    console.log(`${p.out}: ${Buffer.byteLength(page)} bytes, ${gz} bytes gzip -9`);
  }
  if (gz > GZIP_BYTES_TARGET) console.warn(`warning: ${p.out}: ${gz} gzipped bytes is above the ${GZIP_BYTES_TARGET} target`);
}
if (stale) process.exit(1);
