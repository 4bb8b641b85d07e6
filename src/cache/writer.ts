/**
 * The resumable writer of one cache entry: chunks under chunks/, assembled into the entry once all are present.
 * An unsharded writer holds the entry lock while it lives (two plain runs of one entry take turns). A sharded
 * writer (`shard`: shard K of N) takes no entry lock while it computes: it claims the chunks of its block of the
 * chunk grid one by one (claims.ts), so many machines fill one entry at once; the one that finds every chunk present
 * at the end assembles it (assemble.ts). Both kinds respect each other's claims.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { atomicWriteFile, TMP_RE, userFsError } from '../util/fs.js';
import { hostInfo } from '../util/host.js';
import { shardLabel, type Shard } from '../util/shard.js';
import { assembleLocked, finishEntry, missingRows, scanChunks, type FinishResult } from './assemble.js';
import { ChunkClaims, CLAIM_RE, type ClaimOptions } from './claims.js';
import type { EntryLabel } from './key.js';
import type { EntryLock, LockOptions } from '../util/lock.js';
import {
  CHUNK_RE,
  CHUNK_RECORD_RE,
  CHUNKS_DIR,
  chunkName,
  chunkRecordName,
  LAYOUT_FILE,
  mergeRanges,
  type CacheMeta,
  type ChunkRecord,
  type Layout,
  type RowRange,
  type SkippedImage,
  type Targets,
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
  /** the entry's labels, stored with its layout so that whichever process assembles the entry has them */
  labels?: Int32Array;
  /** a multilabel entry's 0/1 targets, stored beside the labels (targets.npy) */
  targets?: Targets;
  /** compute only this shard's block of the chunk grid, without the entry lock */
  shard?: Pick<Shard, 'index' | 'count'>;
  /** per-chunk claims: staleness (default 2 minutes without a heartbeat) */
  claims?: ClaimOptions;
  /** heartbeat interval of the claims and the lock (default 15 s) */
  heartbeatMs?: number;
  /** poll interval while waiting for chunks claimed by other processes (default 1 s) */
  pollMs?: number;
  /** called once when the writer starts waiting for chunks that other live processes are computing */
  onWaitForOthers?: (rows: RowRange[]) => void;
}

export interface FinishMeta {
  skipped?: SkippedImage[];
  [key: string]: unknown;
}

export interface ChunkInfo {
  /** images of this chunk that could not be read (recorded with the chunk, so a resumed or sharded run keeps them) */
  skipped?: SkippedImage[];
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
  /** the rows this writer is responsible for: all of them, or its shard's block of the chunk grid */
  readonly share: RowRange;
  /** are rows [start, end) all in complete chunks? */
  isDone(start: number, end: number): boolean;
  /** maximal row ranges not yet covered */
  missingRanges(): RowRange[];
  /** the missing rows within `r` (the writer's share, say) */
  missingIn(r: RowRange): RowRange[];
  /** the missing rows of the chunks this writer has claimed, cut on the chunk grid: write each with one writeChunk() */
  pendingChunks(): RowRange[];
  /**
   * After the pending chunks are written: picks up chunks written by others, claims chunks of the share that became
   * free (or whose claims went stale) and returns them; while other live processes hold claims in the share, waits
   * for them. Returns [] once every row of the share is present.
   */
  nextWork(): Promise<RowRange[]>;
  /** writes rows [start, start + rows.length / dim) as one chunk (atomic: temp + fsync + rename) */
  writeChunk(start: number, rows: Float32Array, info?: ChunkInfo): Promise<void>;
  /** assembles embeddings.npy (+ labels.npy), writes meta.json last, deletes the chunks, releases the lock */
  finish(labels: Int32Array | null, extraMeta?: FinishMeta): Promise<CacheMeta>;
  /**
   * A sharded writer's end: once its share is written, assembles the entry if every chunk is present (and nobody
   * else is assembling it); otherwise releases its claims and reports what is still missing.
   */
  finishShare(): Promise<FinishResult>;
  /** releases the lock and claims without finishing (chunks stay for a later resume) */
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
  /** the entry's lock, held while writing unsharded; null for a complete entry and for a sharded writer */
  lock: EntryLock | null;
  /** the writer's rows */
  share: RowRange;
  shard: Pick<Shard, 'index' | 'count'> | null;
  claims: ChunkClaims | null;
  toolVersion: string;
  warn: WarnFn;
  pollMs: number;
  onWaitForOthers?: (rows: RowRange[]) => void;
}


export class Writer implements CacheWriter {
  private chunks: RowRange[] = [];
  private finished = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private waited = false;
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
  get share(): RowRange {
    return this.s.share;
  }

  get chunksDir(): string {
    return path.join(this.dir, CHUNKS_DIR);
  }

  startHeartbeat(ms: number): void {
    this.heartbeat = setInterval(() => {
      void this.s.lock?.touch();
      void this.s.claims?.touchAll();
    }, ms);
    this.heartbeat.unref();
  }

  /** the grid chunks (multiples of chunkSize) overlapping rows [start, end) */
  private grid(r: RowRange): RowRange[] {
    const out: RowRange[] = [];
    for (let s = Math.floor(r.start / this.chunkSize) * this.chunkSize; s < r.end; s += this.chunkSize) out.push({ start: s, end: Math.min(this.n, s + this.chunkSize) });
    return out;
  }

  /** the missing rows within `r`; `missing`: this.missingRanges(), when the caller already has it (loops over chunks) */
  missingIn(r: RowRange, missing = this.missingRanges()): RowRange[] {
    const out: RowRange[] = [];
    for (const m of missing) {
      const start = Math.max(m.start, r.start);
      const end = Math.min(m.end, r.end);
      if (start < end) out.push({ start, end });
    }
    return out;
  }

  /** picks up the chunks present in chunks/ (ours and everybody else's) */
  async rescan(): Promise<void> {
    this.chunks = await scanChunks(this.chunksDir, this.n, this.dim);
  }

  /**
   * Claims every grid chunk of the share that still has missing rows and no live claim of another process, and
   * removes what dead writers left of those chunks (temp files, chunks that do not fit the layout).
   */
  async claimFree(): Promise<void> {
    const claims = this.s.claims!;
    const mine: RowRange[] = [];
    const missing = this.missingRanges();
    for (const g of this.grid(this.share)) {
      if (this.missingIn(g, missing).length === 0) {
        await claims.release(g);
        continue;
      }
      if ((await claims.claim(g)) === 'claimed') mine.push(g);
    }
    if (mine.length === 0) return;
    const inMine = (start: number) => mine.some((g) => g.start <= start && start < g.end);
    for (const name of await fsp.readdir(this.chunksDir).catch(() => [] as string[])) {
      if (name === LAYOUT_FILE || CLAIM_RE.test(name) || CHUNK_RECORD_RE.test(name)) continue;
      const m = /^(\d+)-(\d+)\.f32/.exec(name);
      if (!m || !inMine(Number(m[1]))) continue;
      const good = CHUNK_RE.test(name) && this.chunks.some((c) => c.start === Number(m[1]) && c.end === Number(m[2]));
      // temp files of a dead writer, or chunks that do not fit this layout
      if (!good || TMP_RE.test(name)) await fsp.rm(path.join(this.chunksDir, name), { force: true, recursive: true });
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
    return missingRows(this.chunks, this.n);
  }

  pendingChunks(): RowRange[] {
    if (this.complete || this.finished) return [];
    const missing = this.missingRanges();
    return this.s.claims!.ranges().flatMap((g) => this.missingIn(g, missing));
  }

  async nextWork(): Promise<RowRange[]> {
    if (this.complete || this.finished) return [];
    for (;;) {
      await this.rescan();
      await this.claimFree();
      const pending = this.pendingChunks();
      if (pending.length > 0) return pending;
      const left = this.missingIn(this.share);
      if (left.length === 0) return [];
      if (!this.waited) {
        this.waited = true;
        this.s.onWaitForOthers?.(left);
      }
      await sleep(this.s.pollMs);
    }
  }

  async writeChunk(start: number, rows: Float32Array, info: ChunkInfo = {}): Promise<void> {
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
    const h = hostInfo();
    const record: ChunkRecord = {
      ...h,
      pid: process.pid,
      shard: this.s.shard ? shardLabel(this.s.shard) : null,
      written: new Date().toISOString(),
      skipped: info.skipped ?? [],
    };
    // the record first: a present chunk always has its record
    await atomicWriteFile(path.join(this.chunksDir, chunkRecordName(r)), Buffer.from(JSON.stringify(record) + '\n'));
    await atomicWriteFile(path.join(this.chunksDir, chunkName(r)), new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    this.chunks.push(r);
    await this.s.lock?.touch();
    // a grid chunk now complete needs its claim no more
    const missing = this.missingRanges();
    for (const g of this.grid(r)) if (this.missingIn(g, missing).length === 0) await this.s.claims!.release(g);
  }

  async finish(labels: Int32Array | null, extraMeta: FinishMeta = {}): Promise<CacheMeta> {
    if (this.s.completeMeta) return this.s.completeMeta;
    if (this.finished) throw new Error('cache writer: already finished or closed');
    if (this.s.shard) throw new Error('cache writer: a sharded writer ends with finishShare()');
    const layout = this.s.layout!;
    if (labels !== null && labels.length !== this.n) throw new Error(`cache writer: ${labels.length} labels for ${this.n} rows`);
    await this.rescan();
    const missing = this.missingRanges();
    if (missing.length > 0)
      throw new Error(`cache writer: rows not written: ${missing.slice(0, 5).map((r) => `${r.start}-${r.end}`).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    if (this.s.lock && !(await this.s.lock.stillHeld())) {
      // someone judged us stale and took over; if they already completed the entry, theirs stands
      const meta = await checkComplete(this.dir, this.hash).catch(() => undefined);
      if (meta) {
        await this.close();
        return meta;
      }
      this.s.warn(`cache entry ${this.hash.slice(0, 12)}: lost its lock to another process; finishing anyway (writes are atomic)`);
    }
    const { skipped = [], ...extra } = extraMeta;
    const meta = await assembleLocked({ dir: this.dir, hash: this.hash, layout, chunks: this.chunks, labels, skipped, extra, toolVersion: this.s.toolVersion });
    await this.close();
    return meta;
  }

  async finishShare(): Promise<FinishResult> {
    if (this.s.completeMeta) return { status: 'complete', meta: this.s.completeMeta, assembled: false };
    if (this.finished) throw new Error('cache writer: already finished or closed');
    await this.rescan();
    const left = this.missingIn(this.share);
    if (left.length > 0) throw new Error(`cache writer: rows of this shard not written: ${left.map((r) => `${r.start}-${r.end}`).join(', ')}`);
    await this.close();
    return finishEntry(this.dir, this.hash, this.s.toolVersion, Math.max(50, Math.min(this.s.pollMs, 200)));
  }

  async close(): Promise<void> {
    this.finished = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.s.claims?.releaseAll();
    await this.s.lock?.release();
  }
}

/**
 * Opens an entry for (resumable) writing. Returns at once with `complete: true` if the entry is already complete.
 * Unsharded, it then takes the entry's lock (waiting while another live process holds it, stealing a stale one),
 * re-checks, and reports which rows earlier runs already wrote; sharded, it takes no lock. Either way it claims the
 * chunks of its share that nobody else is computing: pendingChunks() lists them.
 */
