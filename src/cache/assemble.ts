/**
 * Assembling an entry from its chunks: embeddings.npy streamed from the chunk files, labels.npy, and meta.json
 * last (its presence marks the entry complete), then the chunks are deleted. Only the holder of the entry lock
 * assembles; whoever that is (the last shard to finish, a later run, `clip-bench cache finish`) the result is the
 * same, because everything it needs (labels, skipped images, who computed what) is stored with the chunks.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { atomicWriteFile, fsyncDir, readExactly, TMP_RE, tmpSuffix, userFsError, writeAll } from '../util/fs.js';
import { tryLock, type LockInfo } from '../util/lock.js';
import { encodeNpy, npyHeader } from '../util/npy.js';
import {
  CACHE_FORMAT,
  CHUNK_RE,
  CHUNKS_DIR,
  chunkName,
  chunkRecordName,
  complement,
  CorruptEntry,
  EMBEDDINGS_FILE,
  LABELS_FILE,
  TARGETS_FILE,
  LAYOUT_FILE,
  mergeRanges,
  META_FILE,
  readJson,
  type CacheMeta,
  type ChunkRecord,
  type Layout,
  type Producer,
  type RowRange,
  type SkippedImage,
  type Targets,
} from './entry-format.js';
import { checkComplete } from './read.js';
import { readPendingLabels, readPendingTargets } from './layout.js';

/** The well-formed chunk files of chunks/ (right size for their row range). */
export async function scanChunks(chunksDir: string, n: number, dim: number): Promise<RowRange[]> {
  const out: RowRange[] = [];
  for (const name of await fsp.readdir(chunksDir).catch(() => [] as string[])) {
    const m = CHUNK_RE.exec(name);
    if (!m) continue;
    const [start, end] = [Number(m[1]), Number(m[2])];
    const size = await fsp.stat(path.join(chunksDir, name)).then((s) => s.size, () => -1);
    if (start < end && end <= n && size === (end - start) * dim * 4) out.push({ start, end });
  }
  return out;
}

/** For each row position, the chunk starting at or before it that reaches furthest: the chunks assembly reads. */
function cover(chunks: RowRange[], n: number): Array<{ chunk: RowRange; from: number; to: number }> {
  const sorted = [...chunks].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Array<{ chunk: RowRange; from: number; to: number }> = [];
  let pos = 0;
  while (pos < n) {
    let best: RowRange | undefined;
    for (const c of sorted) {
      if (c.start > pos) break;
      if (c.end > pos && (!best || c.end > best.end)) best = c;
    }
    if (!best) throw new Error(`cache writer: row ${pos} not covered`);
    out.push({ chunk: best, from: pos, to: best.end });
    pos = best.end;
  }
  return out;
}

/** rows of [0, n) no chunk covers */
export function missingRows(chunks: RowRange[], n: number): RowRange[] {
  return complement(mergeRanges(chunks), n);
}

export interface AssembleInput {
  dir: string;
  hash: string;
  layout: Layout;
  /** the present chunks; together they must cover every row */
  chunks: RowRange[];
  /** the entry's labels; null: the stored chunks/labels.npy, or none for text entries */
  labels: Int32Array | null;
  /** a multilabel entry's targets; undefined: the stored chunks/targets.npy, if any */
  targets?: Targets | null;
  /** skipped images the caller knows of, besides those recorded per chunk */
  skipped: SkippedImage[];
  extra: Record<string, unknown>;
  toolVersion: string;
}

/** Writes the entry's files from its chunks. The caller holds the entry lock and has checked the coverage. */
export async function assembleLocked(a: AssembleInput): Promise<CacheMeta> {
  const { dir, layout } = a;
  const chunksDir = path.join(dir, CHUNKS_DIR);
  const { n, dim } = layout;
  // leftovers of an assembler that died: partial temp files, files of an unfinished assembly
  for (const name of await fsp.readdir(dir)) {
    if (TMP_RE.test(name) || name === EMBEDDINGS_FILE || name === LABELS_FILE || name === TARGETS_FILE) await fsp.rm(path.join(dir, name), { force: true });
  }
  const labels = a.labels ?? (await readPendingLabels(chunksDir, n));
  if (layout.key.kind === 'image' && labels === null) throw new Error('cache writer: image entries need labels');
  const pieces = cover(a.chunks, n);
  await writeEmbeddings(dir, chunksDir, n, dim, pieces);
  if (labels !== null) await atomicWriteFile(path.join(dir, LABELS_FILE), encodeNpy('<i4', [n], labels));
  const targets = a.targets !== undefined ? a.targets : await readPendingTargets(chunksDir, n);
  if (targets) await atomicWriteFile(path.join(dir, TARGETS_FILE), encodeNpy('|u1', [n, targets.nClasses], targets.data));

  const records = await Promise.all(pieces.map((p) => readJson(path.join(chunksDir, chunkRecordName(p.chunk))).catch(() => undefined)));
  const skipped = new Map<number, SkippedImage>();
  for (const s of a.skipped) if (!skipped.has(s.index)) skipped.set(s.index, s);
  for (const r of records as Array<ChunkRecord | undefined>) for (const s of r?.skipped ?? []) if (!skipped.has(s.index)) skipped.set(s.index, s);
  const items = [...skipped.values()].sort((x, y) => x.index - y.index);

  const meta: CacheMeta = {
    format: CACHE_FORMAT,
    hash: a.hash,
    key: layout.key,
    label: layout.label,
    n,
    dim,
    labelsCount: labels === null ? null : labels.length,
    numClasses: labels === null ? null : new Set(labels).size,
    ...(targets ? { targetsShape: [n, targets.nClasses] as [number, number] } : {}),
    toolVersion: a.toolVersion,
    created: new Date().toISOString(),
    started: layout.started,
    chunkSize: layout.chunkSize,
    skipped: { count: items.length, items },
    producers: producersOf(pieces, records as Array<ChunkRecord | undefined>),
    extra: a.extra,
  };
  // meta.json last: its presence marks the entry complete
  await atomicWriteFile(path.join(dir, META_FILE), Buffer.from(JSON.stringify(meta, null, 2) + '\n'));
  await fsp.rm(chunksDir, { recursive: true, force: true });
  return meta;
}

/** Rows grouped by the kind of machine that computed them (host, CPU, instruction set). */
function producersOf(pieces: Array<{ from: number; to: number }>, records: Array<ChunkRecord | undefined>): Producer[] {
  const byMachine = new Map<string, Producer>();
  pieces.forEach((p, i) => {
    const r = records[i];
    const m = { host: r?.host ?? 'unknown', cpu: r?.cpu ?? 'unknown', arch: r?.arch ?? 'unknown', isa: r?.isa ?? [] };
    const k = JSON.stringify(m);
    let prod = byMachine.get(k);
    if (!prod) byMachine.set(k, (prod = { ...m, rows: [] }));
    const last = prod.rows[prod.rows.length - 1];
    if (last && last[1] === p.from) last[1] = p.to;
    else prod.rows.push([p.from, p.to]);
  });
  return [...byMachine.values()];
}

/** Streams the chunks into embeddings.npy: one chunk's worth of memory at a time. */
async function writeEmbeddings(dir: string, chunksDir: string, n: number, dim: number, pieces: Array<{ chunk: RowRange; from: number; to: number }>): Promise<void> {
  const rowBytes = dim * 4;
  const file = path.join(dir, EMBEDDINGS_FILE);
  const tmp = file + tmpSuffix();
  const out = await fsp.open(tmp, 'w');
  try {
    await writeAll(out, npyHeader('<f4', [n, dim]));
    let buf = new Uint8Array(0);
    for (const { chunk, from, to } of pieces) {
      const bytes = (to - from) * rowBytes;
      if (buf.length < bytes) buf = new Uint8Array(bytes);
      const src = await fsp.open(path.join(chunksDir, chunkName(chunk)), 'r');
      try {
        await readExactly(src, buf, 0, bytes, (from - chunk.start) * rowBytes);
      } finally {
        await src.close();
      }
      await writeAll(out, buf.subarray(0, bytes));
    }
    await out.sync();
  } catch (e) {
    await out.close().catch(() => {});
    await fsp.rm(tmp, { force: true });
    throw userFsError(e, file);
  }
  await out.close();
  await fsp.rename(tmp, file);
  await fsyncDir(dir);
}

export type FinishResult =
  | { status: 'complete'; meta: CacheMeta; assembled: boolean }
  | { status: 'incomplete'; missing: RowRange[]; n: number }
  | { status: 'busy'; holder: LockInfo | null }
  | { status: 'absent' };

/**
 * Assembles an entry if every chunk is present and nobody else holds its lock (a stale lock is taken over). Used
 * by the last shard to finish and by `clip-bench cache finish`. Without `waitMs` it never waits. With it (a shard
 * that has just written its share), a held lock is not taken to mean "someone is assembling": the holder may be
 * another shard that checked before our last chunk landed and will find the entry incomplete. So while the lock is
 * held it re-reads the chunks every `waitMs`: some missing, it reports them (their writer comes later and checks
 * again); all present, it waits for the lock and then assembles the entry or finds it complete.
 */
export async function finishEntry(dir: string, hash: string, toolVersion: string, waitMs?: number): Promise<FinishResult> {
  const chunksDir = path.join(dir, CHUNKS_DIR);
  const readLayout = async () => (await readJson(path.join(chunksDir, LAYOUT_FILE)).catch(() => undefined)) as Layout | undefined;
  let layout: Layout | undefined; // fixed once written: read once while waiting
  for (;;) {
    const r = tryLock(path.join(dir, 'lock'), { progressDir: chunksDir, recreateDir: false });
    if ('gone' in r && r.gone) return { status: 'absent' };
    if ('lock' in r) {
      try {
        return await finishLocked(dir, hash, toolVersion);
      } finally {
        await r.lock.release();
      }
    }
    if (waitMs === undefined) return { status: 'busy', holder: r.holder };
    const meta = await checkComplete(dir, hash).catch(() => undefined);
    if (meta) return { status: 'complete', meta, assembled: false };
    layout ??= await readLayout();
    if (layout) {
      const missing = missingRows(await scanChunks(chunksDir, layout.n, layout.dim), layout.n);
      if (missing.length > 0) return { status: 'incomplete', missing, n: layout.n };
    }
    await sleep(waitMs);
  }
}

/** finishEntry's work once it holds the entry's lock. */
async function finishLocked(dir: string, hash: string, toolVersion: string): Promise<FinishResult> {
  try {
    const meta = await checkComplete(dir, hash);
    if (meta) return { status: 'complete', meta, assembled: false };
  } catch (e) {
    if (!(e instanceof CorruptEntry)) throw e;
    await fsp.rm(path.join(dir, META_FILE), { force: true });
  }
  const chunksDir = path.join(dir, CHUNKS_DIR);
  const layout = (await readJson(path.join(chunksDir, LAYOUT_FILE)).catch(() => undefined)) as Layout | undefined;
  if (!layout) return { status: 'absent' };
  const chunks = await scanChunks(chunksDir, layout.n, layout.dim);
  const missing = missingRows(chunks, layout.n);
  if (missing.length > 0) return { status: 'incomplete', missing, n: layout.n };
  const meta = await assembleLocked({ dir, hash, layout, chunks, labels: null, skipped: [], extra: {}, toolVersion });
  return { status: 'complete', meta, assembled: true };
}

