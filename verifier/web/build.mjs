// Builds dist/verify.html: src/app.js bundled and minified by esbuild, inlined with the CSS of
// src/index.html into one self-contained file (no request but to the nodes it verifies
// against). Deterministic: the same sources give the same bytes. Nodes embed the file with
// include_str! and replace the policy placeholder at serve time.
//
//   node build.mjs          build
//   node build.mjs --check  build in memory and fail if dist/verify.html differs

import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PLACEHOLDER = '__BANSOS_TRUST_POLICY__';
const MARK = '/*__APP__*/';
const GZIP_BYTES_TARGET = 300 * 1024;

const result = await build({
  entryPoints: [join(here, 'src/app.js')],
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

const template = readFileSync(join(here, 'src/index.html'), 'utf8');
if (template.split(MARK).length !== 2) throw new Error(`src/index.html must hold ${MARK} once`);
const page = template.replace(MARK, () => js.trimEnd());

const at = page.indexOf(PLACEHOLDER);
if (page.split(PLACEHOLDER).length !== 2 || !page.slice(0, at).endsWith('<script type="application/json" id="trust-policy">')) {
  throw new Error('the policy placeholder must appear exactly once, inside #trust-policy');
}
if (page.split('</script>').length - 1 !== 2) throw new Error('the page must close exactly two script elements');
if (/\b(src|href)=["']?(https?:)?\/\//i.test(page.replace(/<script>[\s\S]*<\/script>/, ''))) {
  throw new Error('the page must not load anything from elsewhere');
}

const out = join(here, 'dist/verify.html');
const gz = gzipSync(Buffer.from(page), { level: 9 }).length;
if (process.argv.includes('--check')) {
  const committed = readFileSync(out, 'utf8');
  if (committed !== page) {
    console.error('dist/verify.html is stale: run `npm run build` in verifier/web and commit it');
    process.exit(1);
  }
  console.log(`dist/verify.html is up to date (${page.length} bytes, ${gz} gzipped)`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, page);
  console.log(`dist/verify.html: ${Buffer.byteLength(page)} bytes, ${gz} bytes gzip -9`);
}
if (gz > GZIP_BYTES_TARGET) console.warn(`warning: ${gz} gzipped bytes is above the ${GZIP_BYTES_TARGET} target`);
