// The page: reads the receipt (typed, scanned or photographed) and the NIK, gathers evidence
// from a node or a receipt bundle, runs the checks of citizen.js and shows the verdict in
// Bahasa Indonesia or English. Everything the page needs is inside the one HTML file. When the
// network's validators changed since genesis, the checkpoint is checked against the key history
// the node serves (`/key-history`) or the bundle carries (`key_history`), followed from the
// genesis keys of the policy (citizen.js, governance.js).
//
// Privacy: the NIK is read from its input only when "Periksa" is pressed, passed to `check`
// and dropped. It is not sent (requests carry only tile numbers and the checkpoint size), not
// stored (no localStorage, no cookies, autocomplete off), not logged (no console output) and
// not put in a URL (the form never submits).

import jsQR from 'jsqr';
import messages from '../../data/messages.json';
import regionsCsv from '../../data/kabupaten_kota.csv';
import { check, checkBundle, FetchError, gatherOnline, TileEvidenceError, WARNINGS, writeBundle } from './citizen.js';
import { makeTexts, parseRegions } from './i18n.js';
import { parseNik } from './commitment.js';
import { parsePolicy } from './policy.js';
import { parseReceipt } from './receipt.js';
import { equalBytes } from './bytes.js';

const IMAGE_PIXELS_MAX = 1600;

const regions = parseRegions(regionsCsv);
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  lang: 'id',
  /** @type {import('./policy.js').TrustPolicy|null} */
  policy: null,
  policyError: '',
  /** The last result shown: {verdict, signers, unreachable} or {message, bad}. */
  result: null,
  /** Evidence of the last online check, for "Simpan bukti". */
  evidence: null,
  scanning: null,
};

const texts = () => makeTexts(messages, regions, state.lang);

function applyTexts() {
  const t = texts();
  document.documentElement.lang = state.lang;
  document.title = t.t('title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t.t(el.dataset.i18n);
  $('lang').textContent = t.t('ui.language');
  if (state.scanning) $('scan').textContent = t.t('ui.stop_scan');
  $('network').textContent = state.policy ? t.t('ui.network', { network: state.policy.networkName }) : '';
  const perr = $('policy-error');
  perr.hidden = !state.policyError;
  perr.textContent = state.policyError ? t.t('ui.bad_policy', { reason: state.policyError }) : '';
  $('policy-box').hidden = state.policy !== null;
  render();
}

function loadEmbeddedPolicy() {
  const text = ($('trust-policy').textContent ?? '').trim();
  // As built, the element holds the node's placeholder (deliberately not spelled out here, so
  // that the node's one replacement cannot hit this script): anything but a JSON object.
  if (!text.startsWith('{')) return;
  try {
    state.policy = parsePolicy(text);
  } catch (e) {
    state.policyError = e.message;
  }
}

function setStatus(text, bad = false) {
  const s = $('status');
  s.textContent = text;
  s.className = bad ? 'message bad' : 'message';
}

/** The verdict's key in messages.json: not_claimed past expiry has its own text. */
function outcomeKey(v) {
  return v.outcome === 'not_claimed' && v.expired ? 'not_claimed_expired' : v.outcome;
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Member names from the policy; unknown ones by number. */
function memberName(id) {
  const m = state.policy?.members.get(Number(id));
  return m ? m.display_name : `#${id}`;
}

function render() {
  const box = $('verdict');
  box.replaceChildren();
  box.removeAttribute('data-outcome');
  box.className = '';
  $('speak').hidden = true;
  $('save-bundle').hidden = true;
  const r = state.result;
  if (!r) return;
  const t = texts();
  if (r.message) {
    setStatus(r.message(t), r.bad);
    return;
  }
  setStatus('');
  const v = r.verdict;
  const key = outcomeKey(v);
  const invalid = v.outcome.startsWith('invalid_');
  const warning = WARNINGS.has(v.outcome);
  const good = v.outcome === 'claimed' || v.outcome === 'not_claimed';
  const [icon, tone] = invalid ? ['✖', 'bad'] : warning ? ['⚠', 'bad'] : good ? ['✔', 'ok'] : ['•', 'info'];
  box.className = tone;
  const head = el('div', { class: 'head' });
  head.append(el('span', { class: 'icon', 'aria-hidden': 'true' }, icon), el('p', { class: 'outcome', id: 'outcome-text' }, t.t(`outcome.${key}`)));
  box.append(head, el('p', { class: 'advice', id: 'advice-text' }, t.t(`advice.${key}`)));
  if (warning || v.outcome === 'claimed') box.append(el('p', { class: 'complaint', id: 'complaint-text' }, t.t('complaint')));

  const dl = el('dl');
  const row = (label, value) => dl.append(el('dt', {}, t.t(label)), el('dd', {}, value));
  const a = v.allocation;
  if (a) {
    const program = state.policy?.programs.get(a.program);
    row('label.program', program ? `${program.name} (${a.program})` : a.program);
    row('label.period', a.period);
    row('label.amount', t.rupiah(a.amount));
    row('label.region', t.region(a.region));
    row('label.payer', memberName(a.payer));
    row('label.recorded_at', t.date(a.recorded_at));
    row('label.expires_at', t.date(a.expires_at));
    if (v.claims.length > 0) row('label.claimed_total', t.rupiah(v.claimed_total));
  }
  if (dl.childElementCount) box.append(dl);
  const lines = el('ul', { class: 'events' });
  for (const c of v.claims) {
    lines.append(el('li', {}, t.t('label.claim', {
      date: t.date(c.claimed_at),
      channel: t.t(`channel.${c.channel}`),
      region: t.region(c.region),
      payer: memberName(c.payer),
      amount: t.rupiah(c.amount),
    })));
  }
  if (v.closure) {
    const reasonKey = `reason.${v.closure.kind}.${v.closure.reason}`;
    lines.append(el('li', {}, t.t('label.closure', {
      kind: t.t(`label.kind.${v.closure.kind}`),
      date: t.date(v.closure.recorded_at),
      reason: t.has(reasonKey) ? t.t(reasonKey) : v.closure.reason,
    })));
  }
  if (lines.childElementCount) box.append(lines);
  if (v.error) box.append(el('p', { class: 'small' }, `${t.t('ui.error_detail')}: ${JSON.stringify(v.error)}`));
  if (v.checkpoint) {
    box.append(el('p', { class: 'note', id: 'checkpoint-text' }, t.t('label.checkpoint', {
      size: v.checkpoint.size,
      signers: r.signers.length,
      // The validators of the checkpoint's epoch (after the key history, if any).
      keys: r.keys ?? (state.policy ? state.policy.keyCount : 0),
    })));
  }
  if (r.unreachable?.length) {
    box.append(el('p', { class: 'note' }, t.t('ui.unreachable', { nodes: r.unreachable.map((u) => u.node).join(', ') })));
  }
  box.setAttribute('data-outcome', v.outcome);
  $('speak').hidden = typeof speechSynthesis === 'undefined';
  $('save-bundle').hidden = !state.evidence;
}

/** The text of a receipt error in the current language. */
function receiptReason(e, t) {
  const j = e.json ?? {};
  const key = `receipt.${j.kind}`;
  return t.has(key) ? t.t(key, j) : e.message;
}

function source() {
  return /** @type {HTMLInputElement} */ ($('source-bundle')).checked ? 'bundle' : 'node';
}

async function runCheck() {
  const policy = state.policy;
  state.result = null;
  state.evidence = null;
  render();
  if (!policy) {
    state.result = { message: (t) => t.t('ui.no_policy'), bad: true };
    return render();
  }
  let receipt;
  try {
    receipt = parseReceipt(/** @type {HTMLTextAreaElement} */ ($('receipt')).value);
  } catch (e) {
    if (!e.json) throw e;
    state.result = { message: (t) => t.t('ui.bad_receipt', { reason: receiptReason(e, t) }), bad: true };
    return render();
  }
  const nik = parseNik(/** @type {HTMLInputElement} */ ($('nik')).value);
  if (!nik) {
    state.result = { message: (t) => t.t('ui.bad_nik'), bad: true };
    return render();
  }
  const now = Math.floor(Date.now() / 1000);
  setStatus(texts().t('ui.checking'));
  $('check').setAttribute('disabled', '');
  try {
    if (source() === 'bundle') {
      const file = /** @type {HTMLInputElement} */ ($('bundle-file')).files?.[0];
      if (!file) {
        state.result = { message: (t) => t.t('ui.no_bundle'), bad: true };
        return;
      }
      const text = await file.text();
      state.result = checkBundle(policy, receipt, nik, text, now);
      return;
    }
    // A receipt of another network is answered before asking any server.
    if (!equalBytes(receipt.networkTag, policy.networkId.subarray(0, 4))) {
      state.result = checkBundle(policy, receipt, nik, '', now);
      return;
    }
    const nodes = /** @type {HTMLInputElement} */ ($('node')).value.split(/[\s,]+/).filter(Boolean);
    const got = await gatherOnline({ policy, receipt, nodes, fetchFn: (u, o) => fetch(u, o) });
    const result = check(policy, receipt, nik, got.evidence, now);
    state.result = { ...result, unreachable: got.unreachable };
    if (result.verdict.checkpoint) state.evidence = got.evidence;
  } catch (e) {
    if (e instanceof FetchError) {
      state.result = { message: (t) => t.t('ui.fetch_failed', { reason: e.message }), bad: true };
    } else if (e instanceof TileEvidenceError) {
      state.result = {
        verdict: { outcome: 'invalid_evidence', checkpoint: null, allocation: null, claims: [], claimed_total: 0, closure: null, expired: false, error: { kind: 'tiles', node: e.url, tile: e.json } },
        signers: [],
      };
    } else {
      state.result = { message: () => String(e?.message ?? e), bad: true };
    }
  } finally {
    $('check').removeAttribute('disabled');
    render();
  }
}

function speak() {
  const r = state.result;
  if (!r?.verdict || typeof speechSynthesis === 'undefined') return;
  const t = texts();
  const key = outcomeKey(r.verdict);
  let text = `${t.t(`outcome.${key}`)} ${t.t(`advice.${key}`)}`;
  if (WARNINGS.has(r.verdict.outcome) || r.verdict.outcome === 'claimed') text += ` ${t.t('complaint')}`;
  speechSynthesis.cancel();
  const u = new SpeechSynthesisUtterance(text);
  u.lang = state.lang === 'id' ? 'id-ID' : 'en-US';
  u.rate = 0.9;
  speechSynthesis.speak(u);
}

function saveBundle() {
  if (!state.evidence) return;
  const blob = new Blob([writeBundle(state.evidence)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  const alloc = state.result?.verdict?.allocation?.id?.slice(0, 8) ?? 'bukti';
  a.download = `bukti-bansos-${alloc}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// ---- QR codes: camera (BarcodeDetector or jsQR on frames) and photos (jsQR) ----

function scanMessage(text, bad = false) {
  const m = $('scan-message');
  m.hidden = !text;
  m.textContent = text;
  m.className = bad ? 'message bad' : 'message';
}

function gotCode(text) {
  /** @type {HTMLTextAreaElement} */ ($('receipt')).value = text.trim();
  scanMessage(texts().t('ui.scanned'));
}

/** Decodes the QR code in a canvas-drawable image with jsQR; null if none. */
function decodeImage(source, width, height) {
  const scale = Math.min(1, IMAGE_PIXELS_MAX / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, w, h);
  const img = ctx.getImageData(0, 0, w, h);
  const code = jsQR(img.data, w, h, { inversionAttempts: 'attemptBoth' });
  return code ? code.data : null;
}

function stopScan() {
  const s = state.scanning;
  if (!s) return;
  state.scanning = null;
  cancelAnimationFrame(s.frame);
  for (const track of s.stream.getTracks()) track.stop();
  const video = /** @type {HTMLVideoElement} */ ($('video'));
  video.srcObject = null;
  video.hidden = true;
  $('scan').textContent = texts().t('ui.scan');
}

async function startScan() {
  if (state.scanning) return stopScan();
  scanMessage('');
  if (!navigator.mediaDevices?.getUserMedia) {
    return scanMessage(texts().t('ui.camera_failed', { reason: 'no camera API (https needed)' }), true);
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch (e) {
    return scanMessage(texts().t('ui.camera_failed', { reason: e?.name ?? String(e) }), true);
  }
  const video = /** @type {HTMLVideoElement} */ ($('video'));
  video.srcObject = stream;
  video.hidden = false;
  await video.play().catch(() => {});
  const detector = 'BarcodeDetector' in window ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
  state.scanning = { stream, frame: 0 };
  $('scan').textContent = texts().t('ui.stop_scan');
  let busy = false;
  const tick = async () => {
    if (!state.scanning) return;
    if (!busy && video.readyState >= 2 && video.videoWidth > 0) {
      busy = true;
      let text = null;
      try {
        if (detector) {
          const found = await detector.detect(video);
          text = found[0]?.rawValue ?? null;
        } else {
          text = decodeImage(video, video.videoWidth, video.videoHeight);
        }
      } catch {
        text = null;
      }
      busy = false;
      if (text) {
        gotCode(text);
        return stopScan();
      }
    }
    if (state.scanning) state.scanning.frame = requestAnimationFrame(tick);
  };
  state.scanning.frame = requestAnimationFrame(tick);
}

async function photo(event) {
  const input = /** @type {HTMLInputElement} */ (event.target);
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  scanMessage('');
  let text = null;
  try {
    const bitmap = await createImageBitmap(file);
    text = decodeImage(bitmap, bitmap.width, bitmap.height);
    bitmap.close?.();
  } catch {
    text = null;
  }
  if (text) gotCode(text);
  else scanMessage(texts().t('ui.no_qr'), true);
}

async function loadPolicyFile(event) {
  const file = /** @type {HTMLInputElement} */ (event.target).files?.[0];
  if (!file) return;
  try {
    state.policy = parsePolicy(await file.text());
    state.policyError = '';
  } catch (e) {
    state.policy = null;
    state.policyError = e.message;
  }
  applyTexts();
}

function init() {
  loadEmbeddedPolicy();
  if (location.protocol === 'http:' || location.protocol === 'https:') {
    /** @type {HTMLInputElement} */ ($('node')).value = location.origin;
  } else {
    /** @type {HTMLInputElement} */ ($('source-bundle')).checked = true;
  }
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'id' ? 'en' : 'id';
    applyTexts();
  });
  $('form').addEventListener('submit', (e) => {
    e.preventDefault();
    runCheck();
  });
  $('speak').addEventListener('click', speak);
  $('save-bundle').addEventListener('click', saveBundle);
  $('scan').addEventListener('click', startScan);
  $('photo').addEventListener('change', photo);
  $('policy-file').addEventListener('change', loadPolicyFile);
  $('bundle-file').addEventListener('change', () => {
    /** @type {HTMLInputElement} */ ($('source-bundle')).checked = true;
  });
  $('node').addEventListener('input', () => {
    /** @type {HTMLInputElement} */ ($('source-node')).checked = true;
  });
  applyTexts();
}

init();
