/** The resumable writer of one cache entry: chunks under chunks/, assembled into the entry by finish(). */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { toolVersion as packageToolVersion } from '../version.js';
import { atomicWriteFile, fsyncDir, isErrno, readExactly, TMP_RE, tmpSuffix, userFsError, writeAll } from '../util/fs.js';
import { cacheKeyHash, entryDirForHash, toEntryRef, type CacheKey, type EntryLabel, type EntryRef } from './key.js';
import { acquireLock, type EntryLock, type LockOptions } from './lock.js';
import { encodeNpy, npyHeader } from './npy.js';
import { DEFAULTS } from '../defaults.js';
import {
  CACHE_FORMAT,
  CHUNK_RE,
  CHUNKS_DIR,
  chunkName,
  complement,
  CorruptEntry,
  defaultWarn,
  EMBEDDINGS_FILE,
  LABELS_FILE,
  LAYOUT_FILE,
  mergeRanges,
  META_FILE,
  readJson,
  type CacheMeta,
  type Layout,
  type RowRange,
  type SkippedImage,
  type WarnFn,
} from './entry-format.js';
import { checkComplete } from './read.js';

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

/** Everything a writer knows about its entry, fixed when it is opened. */
interface WriterState {
  dir: string;
  hash: string;
  n: number;
  dim: number;
  /** the entry's chunk size (the recorded one when resuming) */
  chunkSize: number;
  /** the meta of an entry that was already complete when opened; null while it is being written */
  completeMeta: CacheMeta | null;
  /** the layout of an entry being written; null for a complete one */
  layout: Layout | null;
  /** the entry's lock, held while writing; null for a complete entry */
  lock: EntryLock | null;
  toolVersion: string;
  warn: WarnFn;
}

class Writer implements CacheWriter {
  private chunks: RowRange[] = [];
  private finished = false;
  constructor(private readonly s: WriterState) {}

  get dir(): string {
    return this.s.dir;
  }
  get hash(): string {
    return this.s.hash;
  }
  get n(): number {
    return this.s.n;
  }
  get dim(): number {
    return this.s.dim;
  }
  get chunkSize(): number {
    return this.s.chunkSize;
  }
  get complete(): boolean {
    return this.s.completeMeta !== null;
  }

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
    await fsp.mkdir(this.chunksDir, { recursive: true }).catch((e: unknown) => {
      throw userFsError(e, this.chunksDir, 'cannot create');
    });
    await atomicWriteFile(path.join(this.chunksDir, chunkName(r)), new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    this.chunks.push(r);
    await this.s.lock?.touch();
  }

  async finish(labels: Int32Array | null, extraMeta: FinishMeta = {}): Promise<CacheMeta> {
    if (this.s.completeMeta) return this.s.completeMeta;
    if (this.finished) throw new Error('cache writer: already finished or closed');
    const layout = this.s.layout!;
    if (layout.key.kind === 'image' && labels === null) throw new Error('cache writer: image entries need labels');
    if (labels !== null && labels.length !== this.n) throw new Error(`cache writer: ${labels.length} labels for ${this.n} rows`);
    const missing = this.missingRanges();
    if (missing.length > 0)
      throw new Error(`cache writer: rows not written: ${missing.slice(0, 5).map((r) => `${r.start}-${r.end}`).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    if (this.s.lock && !(await this.s.lock.stillHeld())) {
      // someone judged us stale and took over; if they already completed the entry, theirs stands
      const meta = await checkComplete(this.dir, this.hash).catch(() => undefined);
      if (meta) {
        this.finished = true;
        return meta;
      }
      this.s.warn(`cache entry ${this.hash.slice(0, 12)}: lost its lock to another process; finishing anyway (writes are atomic)`);
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
      toolVersion: this.s.toolVersion,
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
    await this.s.lock?.release();
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
      throw userFsError(e, file);
    }
    await out.close();
    await fsp.rename(tmp, file);
    await fsyncDir(this.dir);
  }

  async close(): Promise<void> {
    this.finished = true;
    await this.s.lock?.release();
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
  const chunkSize = opts.chunkSize ?? DEFAULTS.cacheChunkSize;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cache writer: bad n ${n}`);
  if (!Number.isSafeInteger(dim) || dim <= 0) throw new Error(`cache writer: bad dim ${dim}`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new Error(`cache writer: bad chunkSize ${chunkSize}`);
  const version = opts.toolVersion ?? packageToolVersion();

  const completed = (meta: CacheMeta) => {
    if (meta.n !== n || meta.dim !== dim)
      warn(`cache entry ${hash.slice(0, 12)} holds ${meta.n} x ${meta.dim}, the caller expected ${n} x ${dim}; keeping the cached entry`);
    return new Writer({ dir, hash, n: meta.n, dim: meta.dim, chunkSize: meta.chunkSize, completeMeta: meta, layout: null, lock: null, toolVersion: version, warn });
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
    const w = new Writer({ dir, hash, n, dim, chunkSize: layout.chunkSize, completeMeta: null, layout, lock, toolVersion: version, warn });
    await w.scan();
    return w;
  } catch (e) {
    await lock.release();
    throw e;
  }
}
