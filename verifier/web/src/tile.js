// C2SP tlog-tiles (port of verifier/src/tile.rs): tile paths, hash tiles, entry bundles, and
// VerifiedTiles, a set of tiles authenticated against a checkpoint that answers any subtree
// hash a proof needs. Height 8 (256 hashes per full tile). Tile indexes are BigInts.

import { equalBytes } from './bytes.js';
import { TileError } from './errors.js';
import { HASH_BYTES, leafHash, nodeHash } from './hash.js';
import { root as merkleRoot } from './merkle.js';

export const TILE_WIDTH = 256;
export const TILE_HEIGHT = 8;
export const TILE_LEVEL_MAX = 63;
export const TILE_PATH_BYTES_MAX = 64;

/**
 * A tile or entry bundle: kind, level (hash tiles), index N, width (256 when full).
 * @typedef {{ kind: 'hash'|'entries', level: number, index: bigint, width: number }} TileRef
 */

/** @returns {TileRef} */
export function hashTile(level, index, width = 256) {
  if (!(level >= 0 && level <= TILE_LEVEL_MAX && width >= 1 && width <= 256)) {
    throw new Error(`hashTile: level ${level} width ${width}`);
  }
  return { kind: 'hash', level, index: BigInt(index), width };
}

/** @returns {TileRef} */
export function entriesTile(index, width = 256) {
  if (!(width >= 1 && width <= 256)) throw new Error(`entriesTile: width ${width}`);
  return { kind: 'entries', level: 0, index: BigInt(index), width };
}

/** @param {bigint} n */
function encodeIndex(n) {
  const groups = [];
  do {
    groups.push(n % 1000n);
    n /= 1000n;
  } while (n !== 0n);
  groups.reverse();
  return groups
    .map((g, i) => (i + 1 < groups.length ? 'x' : '') + g.toString().padStart(3, '0'))
    .join('/');
}

/** @param {string} s @returns {bigint|null} */
function decodeIndex(s) {
  const parts = s.split('/');
  if (parts.length > 7) return null;
  let n = 0n;
  for (let i = 0; i < parts.length; i++) {
    let digits = parts[i];
    if (i + 1 < parts.length) {
      if (!digits.startsWith('x')) return null;
      digits = digits.slice(1);
    }
    if (!/^[0-9]{3}$/.test(digits)) return null;
    n = n * 1000n + BigInt(digits);
  }
  if (n > 0xffffffffffffffffn) return null;
  return encodeIndex(n) === s ? n : null;
}

/** @param {string} s */
function parseSmallDecimal(s, min, max) {
  if (!/^[0-9]{1,3}$/.test(s) || (s.length > 1 && s.startsWith('0'))) return null;
  const v = Number(s);
  return v >= min && v <= max ? v : null;
}

/** The C2SP path without a leading slash. @param {TileRef} t */
export function tilePath(t) {
  const head = t.kind === 'entries' ? 'tile/entries/' : `tile/${t.level}/`;
  return head + encodeIndex(t.index) + (t.width === 256 ? '' : `.p/${t.width}`);
}

const badPath = (why) => new TileError(`not a C2SP tile path: ${why}`, { kind: 'bad_path' });

/**
 * Parses a canonical C2SP tile path (with or without a leading `/`); throws TileError.
 * @param {string} path @returns {TileRef}
 */
export function parseTilePath(path) {
  if (new TextEncoder().encode(path).length > TILE_PATH_BYTES_MAX) throw badPath('too long');
  if (path.startsWith('/')) path = path.slice(1);
  if (!path.startsWith('tile/')) throw badPath('must start with tile/');
  const rest = path.slice(5);
  const slash = rest.indexOf('/');
  if (slash < 0) throw badPath('missing index');
  const levelText = rest.slice(0, slash);
  let after = rest.slice(slash + 1);
  let kind = 'hash';
  let level = 0;
  if (levelText === 'entries') kind = 'entries';
  else {
    const l = parseSmallDecimal(levelText, 0, TILE_LEVEL_MAX);
    if (l === null) throw badPath('bad level');
    level = l;
  }
  let width = 256;
  const p = after.indexOf('.p/');
  if (p >= 0) {
    const w = parseSmallDecimal(after.slice(p + 3), 1, 255);
    if (w === null) throw badPath('bad partial width');
    width = w;
    after = after.slice(0, p);
  }
  const index = decodeIndex(after);
  if (index === null) throw badPath('bad tile index');
  return { kind, level, index, width };
}

/** The tiles at `level` of a tree of `size`: [full tiles, width of the partial one or 0]. */
export function tilesAtLevel(size, level) {
  const shift = BigInt(TILE_HEIGHT * level);
  if (shift >= 64n) return [0n, 0];
  const nodes = BigInt(size) >> shift;
  return [nodes / 256n, Number(nodes % 256n)];
}

/** The highest level with any tile in a tree of `size`. */
export function topLevel(size) {
  let level = 0;
  while (level < TILE_LEVEL_MAX) {
    const [f, p] = tilesAtLevel(size, level + 1);
    if (f === 0n && p === 0) break;
    level++;
  }
  return level;
}

/**
 * The tile at a level and index as it exists at `size` (full or partial), or null.
 * @param {'hash'|'entries'} kind @param {number} level @param {bigint} index @param {bigint} size
 * @returns {TileRef|null}
 */
export function tileAtSize(kind, level, index, size) {
  const lvl = kind === 'entries' ? 0 : level;
  const [full, partial] = tilesAtLevel(size, lvl);
  index = BigInt(index);
  if (index < full) return { kind, level: lvl, index, width: 256 };
  if (index === full && partial > 0) return { kind, level: lvl, index, width: partial };
  return null;
}

/** The partial tile of each level of a tree of `size`: they fold into the root. @returns {TileRef[]} */
export function edgeTiles(size) {
  const out = [];
  for (let level = 0; level <= TILE_LEVEL_MAX; level++) {
    const [full, partial] = tilesAtLevel(size, level);
    if (partial > 0) out.push(hashTile(level, full, partial));
  }
  return out;
}

/** Splits a hash tile into hashes, checking its length. @param {TileRef} tile @param {Uint8Array} bytes */
export function parseHashTile(tile, bytes) {
  const expected = tile.width * HASH_BYTES;
  if (bytes.length !== expected) {
    throw new TileError(`tile ${tilePath(tile)} has ${bytes.length} bytes, expected ${expected}`, {
      kind: 'bad_tile_length',
      path: tilePath(tile),
      got: bytes.length,
      expected,
    });
  }
  const out = [];
  for (let i = 0; i < bytes.length; i += HASH_BYTES) out.push(bytes.slice(i, i + HASH_BYTES));
  return out;
}

/** RFC 6962 hash of a power-of-two run of hashes. @param {Uint8Array[]} hashes */
function subtreeOf(hashes) {
  let level = hashes;
  while (level.length > 1) {
    const next = new Array(level.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = nodeHash(level[2 * i], level[2 * i + 1]);
    level = next;
  }
  return level[0];
}

/** The hash a full tile's 256 hashes fold into (its slot in the parent tile). */
export function fullTileRoot(hashes) {
  if (hashes.length !== TILE_WIDTH) throw new Error('only full tiles hash upward');
  return subtreeOf(hashes);
}

/**
 * Splits an entry bundle into exactly tile.width entries; throws TileError bad_bundle.
 * @param {TileRef} tile @param {Uint8Array} bytes @returns {Uint8Array[]}
 */
export function parseBundle(tile, bytes) {
  const bad = (reason) =>
    new TileError(`entry bundle ${tilePath(tile)} is malformed: ${reason}`, {
      kind: 'bad_bundle',
      path: tilePath(tile),
    });
  const entries = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 2) throw bad('truncated length prefix');
    const len = (bytes[at] << 8) | bytes[at + 1];
    at += 2;
    if (bytes.length - at < len) throw bad('truncated entry');
    entries.push(bytes.subarray(at, at + len));
    at += len;
    if (entries.length > tile.width) throw bad("more entries than the bundle's width");
  }
  if (entries.length !== tile.width) throw bad("fewer entries than the bundle's width");
  return entries;
}

/** Appends entries, each with its u16 length, into a bundle (tests and fixtures). @param {Uint8Array[]} entries */
export function makeBundle(entries) {
  const parts = [];
  for (const e of entries) {
    if (e.length > 0xffff) throw new TileError('entry too large', { kind: 'entry_too_large' });
    parts.push(Uint8Array.of(e.length >> 8, e.length & 255), e);
  }
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const missing = (path) => new TileError(`tile ${path} is needed and was not supplied`, { kind: 'missing', path });
const inconsistent = (path) =>
  new TileError(`tile ${path} does not match the checkpoint's root`, { kind: 'inconsistent', path });

/**
 * Tiles checked against one checkpoint: the edge tiles against its root, every other tile
 * against its already-checked parent. As a SubtreeHashes source it answers from checked tiles
 * only, so proofs built from it are as good as the checkpoint.
 */
export class VerifiedTiles {
  /** @param {bigint|number} size @param {Uint8Array} root */
  constructor(size, root) {
    this.size = BigInt(size);
    this.root = root;
    /** @type {Map<string, Uint8Array[]>} */
    this.tiles = new Map();
  }

  /** Checks the edge tiles ([tile, bytes] pairs for every tile of edgeTiles) against the root. */
  addEdge(edge) {
    const wanted = edgeTiles(this.size);
    const candidate = new Map(this.tiles);
    for (const want of wanted) {
      const found = edge.find(([t]) => sameTile(t, want));
      if (!found) throw missing(tilePath(want));
      candidate.set(key(want.level, want.index), parseHashTile(want, found[1]));
    }
    const view = Object.create(VerifiedTiles.prototype);
    Object.assign(view, { size: this.size, root: this.root, tiles: candidate });
    const got = merkleRoot(view, this.size);
    if (!equalBytes(got, this.root)) {
      const paths = wanted.map(tilePath);
      const what = paths.length === 0 ? 'the empty tree' : `the edge tiles ${paths.join(', ')}`;
      throw new TileError(`the checkpoint's root does not match ${what}`, { kind: 'root_mismatch' });
    }
    this.tiles = candidate;
  }

  /** The tile one level up that commits to this tile (entry bundle → its level-0 tile). @param {TileRef} tile */
  parent(tile) {
    if (tile.kind === 'entries') return { ...tile, kind: 'hash', level: 0 };
    if (tile.width !== 256) return null;
    return tileAtSize('hash', tile.level + 1, tile.index / 256n, this.size);
  }

  has(level, index) {
    return this.tiles.has(key(level, BigInt(index)));
  }

  /** Checks a full hash tile against its (already checked) parent. @param {TileRef} tile @param {Uint8Array} bytes */
  addFull(tile, bytes) {
    if (tile.kind !== 'hash') {
      throw new TileError('entry bundles are checked with checkBundle', { kind: 'bad_path' });
    }
    if (tile.width !== 256) {
      throw new TileError('only the edge tile may be partial at this size', { kind: 'bad_path' });
    }
    const hashes = parseHashTile(tile, bytes);
    const parent = this.parent(tile);
    if (!parent) throw inconsistent(tilePath(tile));
    const parentHashes = this.tiles.get(key(tile.level + 1, parent.index));
    if (!parentHashes) throw missing(tilePath(parent));
    const slot = Number(tile.index % 256n);
    const want = parentHashes[slot];
    if (!want || !equalBytes(want, fullTileRoot(hashes))) throw inconsistent(tilePath(tile));
    this.tiles.set(key(tile.level, tile.index), hashes);
  }

  /** Checks an entry bundle against the checked level-0 tile at its index; returns its entries. */
  checkBundle(bundle, bytes) {
    const entries = parseBundle(bundle, bytes);
    const hashes = this.tiles.get(key(0, bundle.index));
    if (!hashes) throw missing(tilePath({ ...bundle, kind: 'hash', level: 0 }));
    if (hashes.length !== entries.length) throw inconsistent(tilePath(bundle));
    for (let i = 0; i < entries.length; i++) {
      if (!equalBytes(leafHash(entries[i]), hashes[i])) throw inconsistent(tilePath(bundle));
    }
    return entries;
  }

  /** SubtreeHashes: the hash of 2^height leaves from index << height, from checked tiles only. */
  perfect(height, index) {
    const level = Math.floor(height / TILE_HEIGHT);
    const k = height % TILE_HEIGHT;
    const first = BigInt(index) << BigInt(k);
    const tileIndex = first / 256n;
    const offset = Number(first % 256n);
    const hashes = this.tiles.get(key(level, tileIndex));
    if (!hashes) {
      const t = tileAtSize('hash', level, tileIndex, this.size) ?? hashTile(level, tileIndex, 256);
      throw missing(tilePath(t));
    }
    const run = hashes.slice(offset, offset + 2 ** k);
    if (run.length !== 2 ** k) {
      throw inconsistent(tilePath(hashTile(level, tileIndex, Math.min(Math.max(hashes.length, 1), 256))));
    }
    return subtreeOf(run);
  }
}

const key = (level, index) => `${level}/${index}`;
const sameTile = (a, b) =>
  a.kind === b.kind && a.level === b.level && a.index === b.index && a.width === b.width;
