import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { toolVersion as packageToolVersion } from '../version.js';
import { atomicWriteFile, duBytes, fsyncDir, isErrno, readExactly, TMP_RE, tmpSuffix, writeAll } from '../util/fs.js';
import { cacheKeyHash, entryDirForHash, toEntryRef, type CacheKey, type EntryLabel, type EntryRef } from './key.js';
import { acquireLock, lockStatus, type EntryLock, type LockOptions } from './lock.js';
import { encodeNpy, LITTLE_ENDIAN, npyHeader, parseNpyHeader } from './npy.js';

export const META_FILE = 'meta.json';
export const EMBEDDINGS_FILE = 'embeddings.npy';
export const LABELS_FILE = 'labels.npy';
export const CHUNKS_DIR = 'chunks';
export const LAYOUT_FILE = 'layout.json';
export const CACHE_FORMAT = 1;
const CHUNK_RE = /^(\d+)-(\d+)\.f32$/;

/** An image the pipeline could not decode (its row is whatever the pipeline wrote, typically zeros). */
export interface SkippedImage {
  index: number;
  source?: string;
  reason?: string;
}

/** meta.json of a complete entry. */
export interface CacheMeta {
  format: number;
  hash: string;
  key: CacheKey;
  label: EntryLabel;
  /** rows of embeddings.npy */
  n: number;
  dim: number;
  /** rows of labels.npy, null when there is no labels.npy */
  labelsCount: number | null;
  /** distinct label values, null when there is no labels.npy */
  numClasses: number | null;
  toolVersion: string;
  /** ISO time the entry was completed */
  created: string;
  /** when the first chunk was started (ISO) */
  started: string;
  chunkSize: number;
  skipped: { count: number; items: SkippedImage[] };
  /** whatever else the caller passed to finish() */
  extra: Record<string, unknown>;
}

/** chunks/layout.json: what an incomplete entry is (for resume and `cache ls`): the shape part of its future meta. */
type Layout = Pick<CacheMeta, 'format' | 'hash' | 'key' | 'label' | 'n' | 'dim' | 'chunkSize' | 'started'>;

export interface LoadedEntry {
  /** row-major n x dim */
  embeddings: Float32Array;
  labels: Int32Array | null;
  n: number;
  dim: number;
  meta: CacheMeta;
  dir: string;
}

export type WarnFn = (message: string) => void;
const defaultWarn: WarnFn = (m) => {
  process.stderr.write(`clip-bench: warning: ${m}\n`);
};

export interface LoadOptions {
  /** where "corrupt entry, treated as a miss" warnings go; default stderr */
  warn?: WarnFn;
}

export interface WriterOptions {
  n: number;
  dim: number;
  /** rows per chunk; only used when the entry has no chunks yet (a resumed entry keeps its recorded size) */
  chunkSize?: number;
  /** the human-readable label (alternative to passing { key, label }) */
  label?: EntryLabel;
  /** defaults to package.json's version */
  toolVersion?: string;
  lock?: LockOptions;
  warn?: WarnFn;
}

export interface RowRange {
  /** first row */
  start: number;
  /** one past the last row */
  end: number;
}

export interface FinishMeta {
  skipped?: SkippedImage[];
  [key: string]: unknown;
}

export interface CacheWriter {
  readonly dir: string;
  readonly hash: string;
  readonly n: number;
  readonly dim: number;
  /** the entry's chunk size (the recorded one when resuming) */
  readonly chunkSize: number;
  /** true when the entry was already complete: nothing to write, finish() returns its meta */
  readonly complete: boolean;
  /** rows covered by complete chunks */
  readonly doneRows: number;
  /** are rows [start, end) all in complete chunks? */
  isDone(start: number, end: number): boolean;
  /** maximal row ranges not yet covered */
  missingRanges(): RowRange[];
  /** the missing rows cut on the chunk grid (multiples of chunkSize): write each with one writeChunk() */
  pendingChunks(): RowRange[];
  /** writes rows [start, start + rows.length / dim) as one chunk (atomic: temp + fsync + rename) */
  writeChunk(start: number, rows: Float32Array): Promise<void>;
  /** assembles embeddings.npy (+ labels.npy), writes meta.json last, deletes the chunks, releases the lock */
  finish(labels: Int32Array | null, extraMeta?: FinishMeta): Promise<CacheMeta>;
  /** releases the lock without finishing (chunks stay for a later resume) */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------- reading

class CorruptEntry extends Error {}

async function readJson(file: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptEntry(`${path.basename(file)} is not valid JSON`);
  }
}

function checkMeta(m: unknown, hash: string): CacheMeta {
  const meta = m as CacheMeta;
  if (!meta || typeof meta !== 'object') throw new CorruptEntry('meta.json is not an object');
  if (meta.format !== CACHE_FORMAT) throw new CorruptEntry(`meta.json has format ${String(meta.format)}, expected ${CACHE_FORMAT}`);
  if (meta.hash !== hash) throw new CorruptEntry('meta.json belongs to another key');
  if (!Number.isSafeInteger(meta.n) || meta.n < 0 || !Number.isSafeInteger(meta.dim) || meta.dim <= 0)
    throw new CorruptEntry('meta.json has a bad n or dim');
  if (meta.labelsCount !== null && meta.labelsCount !== meta.n) throw new CorruptEntry('meta.json labelsCount != n');
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
async function checkComplete(dir: string, hash: string): Promise<CacheMeta | undefined> {
  const raw = await readJson(path.join(dir, META_FILE));
  if (raw === undefined) return undefined;
  const meta = checkMeta(raw, hash);
  await checkNpyCheap(path.join(dir, EMBEDDINGS_FILE), '<f4', [meta.n, meta.dim], 4);
  if (meta.labelsCount !== null) await checkNpyCheap(path.join(dir, LABELS_FILE), '<i4', [meta.n], 4);
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
    return { embeddings, labels, n: meta.n, dim: meta.dim, meta, dir };
  } catch (e) {
    if (!(e instanceof CorruptEntry)) throw e;
    (opts.warn ?? defaultWarn)(`cache entry ${hash.slice(0, 12)} (${dir}) is corrupt: ${e.message}; treating it as a miss`);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------- writing

function mergeRanges(ranges: RowRange[]): RowRange[] {
  const s = [...ranges].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: RowRange[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

function complement(merged: RowRange[], n: number): RowRange[] {
  const out: RowRange[] = [];
  let pos = 0;
  for (const r of merged) {
    if (r.start > pos) out.push({ start: pos, end: r.start });
    pos = Math.max(pos, r.end);
  }
  if (pos < n) out.push({ start: pos, end: n });
  return out;
}

const chunkName = (r: RowRange) => `${r.start}-${r.end}.f32`;

class Writer implements CacheWriter {
  private chunks: RowRange[] = [];
  private finished = false;
  constructor(
    readonly dir: string,
    readonly hash: string,
    readonly n: number,
    readonly dim: number,
    readonly chunkSize: number,
    readonly complete: boolean,
    private readonly layout: Layout | null,
    private readonly lock: EntryLock | null,
    private readonly completeMeta: CacheMeta | null,
    private readonly toolVersion: string,
    private readonly warn: WarnFn,
  ) {}

  get chunksDir(): string {
    return path.join(this.dir, CHUNKS_DIR);
  }

  /** scan chunks/: keep the well-formed complete chunks, delete the rest (we hold the lock) */
  async scan(): Promise<void> {
    let names: string[] = [];
    try {
      names = await fsp.readdir(this.chunksDir);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    for (const name of names) {
      const p = path.join(this.chunksDir, name);
      if (name === LAYOUT_FILE) continue;
      const m = CHUNK_RE.exec(name);
      if (m) {
        const start = Number(m[1]);
        const end = Number(m[2]);
        const size = await fsp.stat(p).then((s) => s.size, () => -1);
        if (start < end && end <= this.n && size === (end - start) * this.dim * 4) {
          this.chunks.push({ start, end });
          continue;
        }
      }
      // temp files of a dead writer, or chunks that do not fit this layout
      await fsp.rm(p, { force: true, recursive: true });
    }
  }

  get doneRows(): number {
    if (this.complete) return this.n;
    return mergeRanges(this.chunks).reduce((a, r) => a + (r.end - r.start), 0);
  }

  isDone(start: number, end: number): boolean {
    if (this.complete || start >= end) return true;
    return mergeRanges(this.chunks).some((r) => r.start <= start && end <= r.end);
  }

  missingRanges(): RowRange[] {
    if (this.complete) return [];
    return complement(mergeRanges(this.chunks), this.n);
  }

  pendingChunks(): RowRange[] {
    const out: RowRange[] = [];
    for (const r of this.missingRanges()) {
      for (let s = r.start; s < r.end; ) {
        const e = Math.min(r.end, (Math.floor(s / this.chunkSize) + 1) * this.chunkSize);
        out.push({ start: s, end: e });
        s = e;
      }
    }
    return out;
  }

  async writeChunk(start: number, rows: Float32Array): Promise<void> {
    if (this.complete) throw new Error('cache writer: the entry is already complete');
    if (this.finished) throw new Error('cache writer: already finished or closed');
    if (!(rows instanceof Float32Array)) throw new Error('cache writer: rows must be a Float32Array');
    if (rows.length === 0 || rows.length % this.dim !== 0) throw new Error(`cache writer: chunk of ${rows.length} floats is not a whole number of ${this.dim}-d rows`);
    const end = start + rows.length / this.dim;
    if (!Number.isSafeInteger(start) || start < 0 || end > this.n) throw new Error(`cache writer: rows ${start}-${end} out of range 0-${this.n}`);
    const r = { start, end };
    await fsp.mkdir(this.chunksDir, { recursive: true });
    await atomicWriteFile(path.join(this.chunksDir, chunkName(r)), new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    this.chunks.push(r);
    await this.lock?.touch();
  }

  async finish(labels: Int32Array | null, extraMeta: FinishMeta = {}): Promise<CacheMeta> {
    if (this.complete) return this.completeMeta!;
    if (this.finished) throw new Error('cache writer: already finished or closed');
    const layout = this.layout!;
    if (layout.key.kind === 'image' && labels === null) throw new Error('cache writer: image entries need labels');
    if (labels !== null && labels.length !== this.n) throw new Error(`cache writer: ${labels.length} labels for ${this.n} rows`);
    const missing = this.missingRanges();
    if (missing.length > 0)
      throw new Error(`cache writer: rows not written: ${missing.slice(0, 5).map((r) => `${r.start}-${r.end}`).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    if (this.lock && !(await this.lock.stillHeld())) {
      // someone judged us stale and took over; if they already completed the entry, theirs stands
      const meta = await checkComplete(this.dir, this.hash).catch(() => undefined);
      if (meta) {
        this.finished = true;
        return meta;
      }
      this.warn(`cache entry ${this.hash.slice(0, 12)}: lost its lock to another process; finishing anyway (writes are atomic)`);
    }

    await this.assembleEmbeddings();
    if (labels !== null) await atomicWriteFile(path.join(this.dir, LABELS_FILE), encodeNpy('<i4', [this.n], labels));

    const { skipped = [], ...extra } = extraMeta;
    const meta: CacheMeta = {
      format: CACHE_FORMAT,
      hash: this.hash,
      key: layout.key,
      label: layout.label,
      n: this.n,
      dim: this.dim,
      labelsCount: labels === null ? null : labels.length,
      numClasses: labels === null ? null : new Set(labels).size,
      toolVersion: this.toolVersion,
      created: new Date().toISOString(),
      started: layout.started,
      chunkSize: this.chunkSize,
      skipped: { count: skipped.length, items: skipped },
      extra,
    };
    // meta.json last: its presence marks the entry complete
    await atomicWriteFile(path.join(this.dir, META_FILE), Buffer.from(JSON.stringify(meta, null, 2) + '\n'));
    await fsp.rm(this.chunksDir, { recursive: true, force: true });
    this.finished = true;
    await this.lock?.release();
    return meta;
  }

  /** Streams the chunks into embeddings.npy: one chunk's worth of memory at a time. */
  private async assembleEmbeddings(): Promise<void> {
    const rowBytes = this.dim * 4;
    const file = path.join(this.dir, EMBEDDINGS_FILE);
    const tmp = file + tmpSuffix();
    const out = await fsp.open(tmp, 'w');
    try {
      await writeAll(out, npyHeader('<f4', [this.n, this.dim]));
      const sorted = [...this.chunks].sort((a, b) => a.start - b.start || b.end - a.end);
      let buf = new Uint8Array(0);
      let pos = 0;
      while (pos < this.n) {
        // the chunk starting at or before pos that reaches furthest
        let best: RowRange | undefined;
        for (const c of sorted) {
          if (c.start > pos) break;
          if (c.end > pos && (!best || c.end > best.end)) best = c;
        }
        if (!best) throw new Error(`cache writer: row ${pos} not covered`);
        const bytes = (best.end - pos) * rowBytes;
        if (buf.length < bytes) buf = new Uint8Array(bytes);
        const src = await fsp.open(path.join(this.chunksDir, chunkName(best)), 'r');
        try {
          await readExactly(src, buf, 0, bytes, (pos - best.start) * rowBytes);
        } finally {
          await src.close();
        }
        await writeAll(out, buf.subarray(0, bytes));
        pos = best.end;
      }
      await out.sync();
    } catch (e) {
      await out.close().catch(() => {});
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    await out.close();
    await fsp.rename(tmp, file);
    await fsyncDir(this.dir);
  }

  async close(): Promise<void> {
    this.finished = true;
    await this.lock?.release();
  }
}

/**
 * Opens an entry for (resumable) writing. Returns at once with `complete: true` if the entry is already complete;
 * otherwise takes the entry's lock (waiting while another live process holds it, stealing a stale one), then
 * re-checks, and reports which rows earlier runs already wrote.
 */
export async function openWriter(cacheDir: string, entry: CacheKey | EntryRef, opts: WriterOptions): Promise<CacheWriter> {
  const ref = toEntryRef(entry);
  const label: EntryLabel = { ...(ref.label ?? {}), ...(opts.label ?? {}) };
  const hash = cacheKeyHash(ref.key);
  const dir = entryDirForHash(cacheDir, hash);
  const warn = opts.warn ?? defaultWarn;
  const { n, dim } = opts;
  const chunkSize = opts.chunkSize ?? 1024;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cache writer: bad n ${n}`);
  if (!Number.isSafeInteger(dim) || dim <= 0) throw new Error(`cache writer: bad dim ${dim}`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new Error(`cache writer: bad chunkSize ${chunkSize}`);
  const version = opts.toolVersion ?? packageToolVersion();

  const completed = (meta: CacheMeta) => {
    if (meta.n !== n || meta.dim !== dim)
      warn(`cache entry ${hash.slice(0, 12)} holds ${meta.n} x ${meta.dim}, the caller expected ${n} x ${dim}; keeping the cached entry`);
    return new Writer(dir, hash, meta.n, meta.dim, meta.chunkSize, true, null, null, meta, version, warn);
  };
  const existing = async (): Promise<CacheMeta | undefined> => {
    try {
      return await checkComplete(dir, hash);
    } catch (e) {
      if (e instanceof CorruptEntry) return undefined;
      throw e;
    }
  };

  let meta = await existing();
  if (meta) return completed(meta);

  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create cache directory ${dir}: ${(e as Error).message}`);
  }
  const lock = await acquireLock(dir, path.join(dir, CHUNKS_DIR), opts.lock);
  try {
    try {
      meta = await checkComplete(dir, hash);
    } catch (e) {
      if (!(e instanceof CorruptEntry)) throw e;
      warn(`cache entry ${hash.slice(0, 12)} (${dir}) is corrupt: ${e.message}; rewriting it`);
      await fsp.rm(path.join(dir, META_FILE), { force: true });
      meta = undefined;
    }
    if (meta) {
      await lock.release();
      return completed(meta);
    }
    // leftovers of a writer that died: partial temp files, files of an unfinished finish()
    for (const name of await fsp.readdir(dir)) {
      if (TMP_RE.test(name) || name === EMBEDDINGS_FILE || name === LABELS_FILE) await fsp.rm(path.join(dir, name), { force: true });
    }
    const chunksDir = path.join(dir, CHUNKS_DIR);
    const layoutFile = path.join(chunksDir, LAYOUT_FILE);
    let layout: Layout | undefined;
    try {
      const raw = (await readJson(layoutFile)) as Layout | undefined;
      if (raw && (raw.format !== CACHE_FORMAT || raw.hash !== hash || raw.n !== n || raw.dim !== dim || !Number.isSafeInteger(raw.chunkSize))) {
        warn(`cache entry ${hash.slice(0, 12)}: discarding partial chunks written for ${raw.n} x ${raw.dim} (now ${n} x ${dim})`);
        await fsp.rm(chunksDir, { recursive: true, force: true });
      } else layout = raw;
    } catch (e) {
      if (!(e instanceof CorruptEntry)) throw e;
      await fsp.rm(chunksDir, { recursive: true, force: true });
    }
    if (!layout) {
      await fsp.rm(chunksDir, { recursive: true, force: true }); // chunks without a layout cannot be trusted
      layout = { format: CACHE_FORMAT, hash, key: ref.key, label, n, dim, chunkSize, started: new Date().toISOString() };
      await fsp.mkdir(chunksDir, { recursive: true });
      await atomicWriteFile(layoutFile, Buffer.from(JSON.stringify(layout, null, 2) + '\n'));
    } else if (label.modelName && label.modelName !== layout.label?.modelName) {
      layout = { ...layout, label };
      await atomicWriteFile(layoutFile, Buffer.from(JSON.stringify(layout, null, 2) + '\n'));
    }
    const w = new Writer(dir, hash, n, dim, layout.chunkSize, false, layout, lock, null, version, warn);
    await w.scan();
    return w;
  } catch (e) {
    await lock.release();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------- management

export interface CacheEntryRow {
  hash: string;
  dir: string;
  dataset: string | null;
  split: string | null;
  kind: 'image' | 'text' | null;
  modelName: string | null;
  modelIdentity: string | null;
  n: number | null;
  dim: number | null;
  /** size of all files of the entry */
  bytes: number;
  /** ISO time: completion for complete entries, start for incomplete ones */
  created: string | null;
  /** meta.json present */
  complete: boolean;
  /** rows in complete chunks (incomplete entries), n for complete ones */
  rowsDone: number | null;
  /** a live process holds the entry's lock */
  writing: boolean;
}

const HEX2 = /^[0-9a-f]{2}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Every entry under cacheDir, complete (meta.json present) or not (chunks without meta.json), sorted by dataset. */
export async function listEntries(cacheDir: string): Promise<CacheEntryRow[]> {
  const rows: CacheEntryRow[] = [];
  let tops: string[];
  try {
    tops = await fsp.readdir(cacheDir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw new UserError(`cannot read cache directory ${cacheDir}: ${(e as Error).message}`);
  }
  for (const top of tops.filter((t) => HEX2.test(t)).sort()) {
    let hashes: string[];
    try {
      hashes = await fsp.readdir(path.join(cacheDir, top));
    } catch {
      continue;
    }
    for (const hash of hashes.filter((h) => HEX64.test(h) && h.startsWith(top)).sort()) {
      const dir = path.join(cacheDir, top, hash);
      const row: CacheEntryRow = {
        hash,
        dir,
        dataset: null,
        split: null,
        kind: null,
        modelName: null,
        modelIdentity: null,
        n: null,
        dim: null,
        bytes: await duBytes(dir),
        created: null,
        complete: false,
        rowsDone: null,
        writing: (await lockStatus(dir, path.join(dir, CHUNKS_DIR))) === 'live',
      };
      const meta = (await readJson(path.join(dir, META_FILE)).catch(() => undefined)) as CacheMeta | undefined;
      const info = meta ?? ((await readJson(path.join(dir, CHUNKS_DIR, LAYOUT_FILE)).catch(() => undefined)) as Layout | undefined);
      if (info && typeof info === 'object') {
        row.dataset = info.key?.dataset ?? null;
        row.split = info.key?.split ?? null;
        row.kind = info.key?.kind ?? null;
        row.modelIdentity = info.key?.modelIdentity ?? null;
        row.modelName = info.label?.modelName ?? null;
        row.n = info.n ?? null;
        row.dim = info.dim ?? null;
      }
      if (meta) {
        row.complete = true;
        row.created = meta.created ?? null;
        row.rowsDone = meta.n ?? null;
      } else {
        row.created = (info as Layout | undefined)?.started ?? null;
        const ranges: RowRange[] = [];
        for (const name of await fsp.readdir(path.join(dir, CHUNKS_DIR)).catch(() => [] as string[])) {
          const m = CHUNK_RE.exec(name);
          if (m) ranges.push({ start: Number(m[1]), end: Number(m[2]) });
        }
        row.rowsDone = mergeRanges(ranges).reduce((a, r) => a + r.end - r.start, 0);
      }
      if (!row.created) row.created = await fsp.stat(dir).then((s) => s.mtime.toISOString(), () => null);
      rows.push(row);
    }
  }
  return rows;
}

export interface RemoveFilter {
  dataset?: string;
  /** the model's display name, or a prefix (>= 6 hex digits) of its identity */
  model?: string;
  split?: string;
  kind?: 'image' | 'text';
  /** a prefix of the entry hash */
  hash?: string;
  /** true: only incomplete entries; false: only complete ones; absent: both */
  incomplete?: boolean;
  /** required when no other criterion is given */
  all?: boolean;
}

export interface RemoveResult {
  removed: number;
  bytes: number;
  /** matching entries left alone because a live process is writing them */
  busy: number;
}

export function matchesFilter(row: CacheEntryRow, f: RemoveFilter): boolean {
  if (f.dataset !== undefined && row.dataset !== f.dataset) return false;
  if (f.split !== undefined && row.split !== f.split) return false;
  if (f.kind !== undefined && row.kind !== f.kind) return false;
  if (f.hash !== undefined && !row.hash.startsWith(f.hash.toLowerCase())) return false;
  if (f.model !== undefined) {
    const byName = row.modelName === f.model;
    const byId = f.model.length >= 6 && row.modelIdentity !== null && row.modelIdentity.startsWith(f.model);
    if (!byName && !byId) return false;
  }
  if (f.incomplete !== undefined && row.complete === f.incomplete) return false;
  return true;
}

/** Removes the matching entries (each disappears atomically: renamed aside, then deleted). */
export async function removeEntries(cacheDir: string, filter: RemoveFilter): Promise<RemoveResult> {
  const criteria = ['dataset', 'model', 'split', 'kind', 'hash', 'incomplete'] as const;
  if (!filter.all && !criteria.some((c) => filter[c] !== undefined))
    throw new UserError('cache rm: give a filter (--dataset, --model, --split, --kind, --incomplete, a hash) or --all');
  const res: RemoveResult = { removed: 0, bytes: 0, busy: 0 };
  for (const row of await listEntries(cacheDir)) {
    if (!matchesFilter(row, filter)) continue;
    if (row.writing) {
      res.busy++;
      continue;
    }
    const trash = path.join(cacheDir, `.trash-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await fsp.rename(row.dir, trash);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) continue;
      throw e;
    }
    await fsp.rm(trash, { recursive: true, force: true });
    await fsp.rmdir(path.dirname(row.dir)).catch(() => {}); // the 2-hex directory, if now empty
    res.removed++;
    res.bytes += row.bytes;
  }
  return res;
}
