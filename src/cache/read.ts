/** Reading a complete cache entry: validation of meta.json and the .npy files, and the one-read load. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isErrno, readExactly } from '../util/fs.js';
import { cacheKeyHash, entryDirForHash, toEntryRef, type CacheKey, type EntryRef } from './key.js';
import { CACHE_FORMAT, CorruptEntry, defaultWarn, EMBEDDINGS_FILE, LABELS_FILE, META_FILE, TARGETS_FILE, readJson, type CacheMeta, type LoadedEntry, type LoadOptions } from './entry-format.js';
import { LITTLE_ENDIAN, parseNpyHeader } from '../util/npy.js';

function checkMeta(m: unknown, hash: string): CacheMeta {
  const meta = m as CacheMeta;
  if (!meta || typeof meta !== 'object') throw new CorruptEntry('meta.json is not an object');
  if (meta.format !== CACHE_FORMAT) throw new CorruptEntry(`meta.json has format ${String(meta.format)}, expected ${CACHE_FORMAT}`);
  if (meta.hash !== hash) throw new CorruptEntry('meta.json belongs to another key');
  if (!Number.isSafeInteger(meta.n) || meta.n < 0 || !Number.isSafeInteger(meta.dim) || meta.dim <= 0)
    throw new CorruptEntry('meta.json has a bad n or dim');
  if (meta.labelsCount !== null && meta.labelsCount !== meta.n) throw new CorruptEntry('meta.json labelsCount != n');
  const t = meta.targetsShape;
  if (t != null && !(Array.isArray(t) && t.length === 2 && t[0] === meta.n && Number.isSafeInteger(t[1]) && t[1] > 0)) throw new CorruptEntry('meta.json has a bad targetsShape');
  return meta;
}

/** Opens a file of a complete entry; a missing one makes the entry corrupt. */
async function openEntryFile(file: string): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(file, 'r');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new CorruptEntry(`${path.basename(file)} is missing`);
    throw e;
  }
}

/** Reads a whole .npy file with one read into a fresh (aligned) ArrayBuffer and checks it. */
async function readNpy(file: string, descr: string, shape: number[], itemSize: number): Promise<{ buf: ArrayBuffer; offset: number }> {
  const fh = await openEntryFile(file);
  try {
    const size = (await fh.stat()).size;
    const count = shape.reduce((a, b) => a * b, 1);
    if (size < 10) throw new CorruptEntry(`${path.basename(file)} is truncated`);
    // an unpooled, unzeroed buffer: its own ArrayBuffer at offset 0, so the data (at a multiple of 64) is aligned
    const bytes = Buffer.allocUnsafeSlow(size);
    const buf = bytes.buffer as ArrayBuffer;
    if (bytes.byteOffset !== 0 || buf.byteLength !== size) throw new Error('internal: unaligned buffer');
    await readExactly(fh, bytes, 0, size, 0).catch((e: Error) => {
      throw new CorruptEntry(`${path.basename(file)}: ${e.message}`);
    });
    let h;
    try {
      h = parseNpyHeader(bytes);
    } catch (e) {
      throw new CorruptEntry(`${path.basename(file)}: ${(e as Error).message}`);
    }
    const want = `${descr} (${shape.join(', ')}) C order`;
    const got = `${h.descr} (${h.shape.join(', ')}) ${h.fortranOrder ? 'Fortran' : 'C'} order`;
    if (got !== want) throw new CorruptEntry(`${path.basename(file)} holds ${got}, meta.json says ${want}`);
    if (size !== h.dataOffset + count * itemSize)
      throw new CorruptEntry(`${path.basename(file)} has ${size} bytes, expected ${h.dataOffset + count * itemSize}`);
    if (h.dataOffset % itemSize !== 0) throw new CorruptEntry(`${path.basename(file)}: unaligned data offset`);
    return { buf, offset: h.dataOffset };
  } finally {
    await fh.close();
  }
}

/** Checks the npy header and file size without reading the data. */
async function checkNpyCheap(file: string, descr: string, shape: number[], itemSize: number): Promise<void> {
  const fh = await openEntryFile(file);
  try {
    const size = (await fh.stat()).size;
    const head = new Uint8Array(Math.min(size, 4096));
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    let h;
    try {
      h = parseNpyHeader(head.subarray(0, bytesRead));
    } catch (e) {
      throw new CorruptEntry(`${path.basename(file)}: ${(e as Error).message}`);
    }
    if (h.descr !== descr || h.fortranOrder || h.shape.join(',') !== shape.join(','))
      throw new CorruptEntry(`${path.basename(file)} header does not match meta.json`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (size !== h.dataOffset + count * itemSize) throw new CorruptEntry(`${path.basename(file)} has the wrong size`);
  } finally {
    await fh.close();
  }
}

/** The valid meta of a complete entry, undefined if there is none; throws CorruptEntry if it is damaged. */
export async function checkComplete(dir: string, hash: string): Promise<CacheMeta | undefined> {
  const raw = await readJson(path.join(dir, META_FILE));
  if (raw === undefined) return undefined;
  const meta = checkMeta(raw, hash);
  await checkNpyCheap(path.join(dir, EMBEDDINGS_FILE), '<f4', [meta.n, meta.dim], 4);
  if (meta.labelsCount !== null) await checkNpyCheap(path.join(dir, LABELS_FILE), '<i4', [meta.n], 4);
  if (meta.targetsShape) await checkNpyCheap(path.join(dir, TARGETS_FILE), '|u1', meta.targetsShape, 1);
  return meta;
}

/**
 * A complete entry, or null on a miss. A complete entry that fails validation (bad JSON, header, shape or size)
 * is treated as a miss: a warning names the entry and the reason, and the next writer rewrites it.
 */
export async function loadEntry(cacheDir: string, key: CacheKey | EntryRef, opts: LoadOptions = {}): Promise<LoadedEntry | null> {
  const ref = toEntryRef(key);
  const hash = cacheKeyHash(ref.key);
  const dir = entryDirForHash(cacheDir, hash);
  try {
    const raw = await readJson(path.join(dir, META_FILE));
    if (raw === undefined) return null;
    const meta = checkMeta(raw, hash);
    if (!LITTLE_ENDIAN) throw new Error('the embedding cache needs a little-endian host');
    const e = await readNpy(path.join(dir, EMBEDDINGS_FILE), '<f4', [meta.n, meta.dim], 4);
    const embeddings = new Float32Array(e.buf, e.offset, meta.n * meta.dim);
    let labels: Int32Array | null = null;
    if (meta.labelsCount !== null) {
      const l = await readNpy(path.join(dir, LABELS_FILE), '<i4', [meta.n], 4);
      labels = new Int32Array(l.buf, l.offset, meta.n);
    }
    let targets: Uint8Array | null = null;
    if (meta.targetsShape) {
      const t = await readNpy(path.join(dir, TARGETS_FILE), '|u1', meta.targetsShape, 1);
      targets = new Uint8Array(t.buf, t.offset, meta.targetsShape[0] * meta.targetsShape[1]);
      for (let i = 0; i < targets.length; i++) if (targets[i]! > 1) throw new CorruptEntry(`${TARGETS_FILE} holds ${targets[i]} (not 0 or 1)`);
    }
    return { embeddings, labels, targets, n: meta.n, dim: meta.dim, meta, dir };
  } catch (e) {
    if (!(e instanceof CorruptEntry)) throw e;
    (opts.warn ?? defaultWarn)(`cache entry ${hash.slice(0, 12)} (${dir}) is corrupt: ${e.message}; treating it as a miss`);
    return null;
  }
}

/** Is the entry complete and valid (a cheap check: meta.json and the .npy headers and sizes)? */
export async function isEntryComplete(cacheDir: string, key: CacheKey | EntryRef): Promise<boolean> {
  const hash = cacheKeyHash(toEntryRef(key).key);
  try {
    return (await checkComplete(entryDirForHash(cacheDir, hash), hash)) !== undefined;
  } catch (e) {
    if (e instanceof CorruptEntry) return false;
    throw e;
  }
}
