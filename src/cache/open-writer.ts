/**
 * Opening an entry's writer: a complete entry (nothing to compute), a shard's share (its claims, no lock), or the
 * entry lock's holder resuming the chunks already written. The layout on disk is checked by one rule (layoutFits).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { toolVersion as packageToolVersion } from '../version.js';
import { atomicWriteFile, ensureDir, TMP_RE } from '../util/fs.js';
import { DEFAULTS } from '../defaults.js';
import { acquireLock, type EntryLock } from '../util/lock.js';
import { shardRange, type Shard } from '../util/shard.js';
import { ChunkClaims, CLAIM_HEARTBEAT_MS } from './claims.js';
import { cacheKeyHash, entryDirForHash, toEntryRef, type CacheKey, type EntryLabel, type EntryRef } from './key.js';
import { createLayoutOnce, layoutJson, writePendingLabels, writePendingTargets } from './layout.js';
import { CACHE_FORMAT, CHUNK_RE, CHUNK_RECORD_RE, CHUNKS_DIR, CorruptEntry, defaultWarn, LAYOUT_FILE, META_FILE, readJson, type CacheMeta, type Layout, type WarnFn } from './entry-format.js';
import { checkComplete } from './read.js';
import { Writer, type CacheWriter, type WriterOptions } from './writer.js';

/** What one openWriter call knows about its entry (options checked). */
interface Opening {
  opts: WriterOptions;
  key: CacheKey;
  label: EntryLabel;
  hash: string;
  dir: string;
  chunksDir: string;
  n: number;
  dim: number;
  chunkSize: number;
  version: string;
  shard: Pick<Shard, 'index' | 'count'> | null;
  warn: WarnFn;
}

/**
 * The writer of an entry: a complete entry's writer (nothing to compute) if it is complete, else a sharded writer
 * (no lock: its claims) or the entry lock's holder, resuming the chunks already written.
 */
export async function openWriter(cacheDir: string, entry: CacheKey | EntryRef, opts: WriterOptions): Promise<CacheWriter> {
  const o = opening(cacheDir, entry, opts);
  const meta = await completeMeta(o);
  if (meta) return completedWriter(o, meta);
  ensureDir(o.dir); // a UserError naming the directory (and no endless recursive mkdir under /proc)
  return o.shard ? openSharded(o) : openLocked(o);
}

function opening(cacheDir: string, entry: CacheKey | EntryRef, opts: WriterOptions): Opening {
  const ref = toEntryRef(entry);
  const hash = cacheKeyHash(ref.key);
  const dir = entryDirForHash(cacheDir, hash);
  const { n, dim } = opts;
  const chunkSize = opts.chunkSize ?? DEFAULTS.cacheChunkSize;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cache writer: bad n ${n}`);
  if (!Number.isSafeInteger(dim) || dim <= 0) throw new Error(`cache writer: bad dim ${dim}`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new Error(`cache writer: bad chunkSize ${chunkSize}`);
  if (opts.labels && opts.labels.length !== n) throw new Error(`cache writer: ${opts.labels.length} labels for ${n} rows`);
  if (opts.targets && opts.targets.data.length !== n * opts.targets.nClasses) throw new Error(`cache writer: ${opts.targets.data.length} targets for ${n} rows of ${opts.targets.nClasses}`);
  return {
    opts,
    key: ref.key,
    label: { ...(ref.label ?? {}), ...(opts.label ?? {}) },
    hash,
    dir,
    chunksDir: path.join(dir, CHUNKS_DIR),
    n,
    dim,
    chunkSize,
    version: opts.toolVersion ?? packageToolVersion(),
    shard: opts.shard ?? null,
    warn: opts.warn ?? defaultWarn,
  };
}

/** The entry's meta if it is complete; a corrupt one counts as incomplete (the lock holder rewrites it). */
async function completeMeta(o: Opening): Promise<CacheMeta | undefined> {
  try {
    return await checkComplete(o.dir, o.hash);
  } catch (e) {
    if (e instanceof CorruptEntry) return undefined;
    throw e;
  }
}

function completedWriter(o: Opening, meta: CacheMeta): Writer {
  if (meta.n !== o.n || meta.dim !== o.dim)
    o.warn(`cache entry ${o.hash.slice(0, 12)} holds ${meta.n} x ${meta.dim}, the caller expected ${o.n} x ${o.dim}; keeping the cached entry`);
  const all = { start: 0, end: meta.n };
  return new Writer({ dir: o.dir, hash: o.hash, n: meta.n, dim: meta.dim, chunkSize: meta.chunkSize, completeMeta: meta, layout: null, lock: null, share: all, shard: o.shard, claims: null, toolVersion: o.version, warn: o.warn, pollMs: 0 });
}

/** The layout check, the one rule for both kinds of writer: does a layout found on disk describe these rows? */
function layoutFits(layout: Layout, o: Opening): boolean {
  return layout.format === CACHE_FORMAT && layout.hash === o.hash && layout.n === o.n && layout.dim === o.dim && Number.isSafeInteger(layout.chunkSize);
}

function createLayout(o: Opening): Promise<Layout> {
  const fresh: Layout = { format: CACHE_FORMAT, hash: o.hash, key: o.key, label: o.label, n: o.n, dim: o.dim, chunkSize: o.chunkSize, started: new Date().toISOString() };
  return createLayoutOnce(o.chunksDir, fresh, o.opts.labels ?? null, o.opts.targets ?? null);
}

/** A shard's writer: its block of the chunk grid, claimed chunk by chunk, no entry lock. */
async function openSharded(o: Opening): Promise<Writer> {
  const layout = await createLayout(o);
  if (!layoutFits(layout, o))
    throw new Error(`cache entry ${o.dir} has partial chunks of ${layout.n} x ${layout.dim} (now ${o.n} x ${o.dim}); remove it with \`clip-bench cache rm --hash ${o.hash.slice(0, 12)}\``);
  return startWriter(o, layout, null);
}

/** An unsharded writer: holds the entry lock; a complete entry found under the lock is returned as it is. */
async function openLocked(o: Opening): Promise<Writer> {
  const lock = await acquireLock(o.dir, o.chunksDir, o.opts.lock);
  try {
    let meta: CacheMeta | undefined;
    try {
      meta = await checkComplete(o.dir, o.hash);
    } catch (e) {
      if (!(e instanceof CorruptEntry)) throw e;
      o.warn(`cache entry ${o.hash.slice(0, 12)} (${o.dir}) is corrupt: ${e.message}; rewriting it`);
      await fsp.rm(path.join(o.dir, META_FILE), { force: true });
    }
    if (meta) {
      await lock.release();
      return completedWriter(o, meta);
    }
    return await startWriter(o, await resumeLayout(o), lock);
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/**
 * Under the entry lock: the layout of the chunks already written if it fits (its label and the pending labels
 * refreshed), else a new one, after removing chunks that cannot be trusted.
 */
async function resumeLayout(o: Opening): Promise<Layout> {
  const layoutFile = path.join(o.chunksDir, LAYOUT_FILE);
  let layout: Layout | undefined;
  try {
    const raw = (await readJson(layoutFile)) as Layout | undefined;
    if (raw && !layoutFits(raw, o)) {
      o.warn(`cache entry ${o.hash.slice(0, 12)}: discarding partial chunks written for ${raw.n} x ${raw.dim} (now ${o.n} x ${o.dim})`);
      await fsp.rm(o.chunksDir, { recursive: true, force: true });
    } else layout = raw;
  } catch (e) {
    if (!(e instanceof CorruptEntry)) throw e;
    await fsp.rm(o.chunksDir, { recursive: true, force: true });
  }
  if (!layout) {
    // chunks without a layout cannot be trusted (the folder stays: a shard may be creating its layout right now)
    for (const name of await fsp.readdir(o.chunksDir).catch(() => [] as string[]))
      if (CHUNK_RE.test(name) || CHUNK_RECORD_RE.test(name) || TMP_RE.test(name)) await fsp.rm(path.join(o.chunksDir, name), { force: true });
    return createLayout(o);
  }
  if (o.label.modelName && o.label.modelName !== layout.label?.modelName) {
    layout = { ...layout, label: o.label };
    await atomicWriteFile(layoutFile, layoutJson(layout));
  }
  if (o.opts.labels) await writePendingLabels(o.chunksDir, o.opts.labels);
  if (o.opts.targets) await writePendingTargets(o.chunksDir, o.opts.targets);
  return layout;
}

/** A writer of this entry's share of rows (all of them, or the shard's block), its free chunks claimed. */
async function startWriter(o: Opening, layout: Layout, lock: EntryLock | null): Promise<Writer> {
  const { n, shard } = o;
  const grid = Math.ceil(n / layout.chunkSize);
  const block = shard ? shardRange(grid, shard) : { start: 0, end: grid };
  const share = { start: Math.min(n, block.start * layout.chunkSize), end: Math.min(n, block.end * layout.chunkSize) };
  const claims = new ChunkClaims(o.chunksDir, o.opts.claims);
  const w = new Writer({
    dir: o.dir, hash: o.hash, n, dim: o.dim, chunkSize: layout.chunkSize, completeMeta: null, layout, lock, share, shard, claims,
    toolVersion: o.version, warn: o.warn, pollMs: o.opts.pollMs ?? 1000, onWaitForOthers: o.opts.onWaitForOthers,
  });
  w.startHeartbeat(o.opts.heartbeatMs ?? CLAIM_HEARTBEAT_MS);
  try {
    await w.rescan();
    await w.claimFree();
  } catch (e) {
    await w.close();
    throw e;
  }
  return w;
}
