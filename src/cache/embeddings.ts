import { plural } from '../util/text-table.js';
import { startBar, type Bar } from '../util/bars.js';
import { countProgress, LOG_PROGRESS_SECONDS } from '../util/progress.js';
import type { ImageSource } from '../data/types.js';
import type { ClipModel } from '../model/types.js';
import { embedImages } from './embed-images.js';
import { hashTexts, type CacheKey } from './key.js';
import { shardLabel, type Shard } from '../util/shard.js';
import { UserError } from '../errors.js';
import { isEntryComplete, loadEntry, openWriter, removeEntries, type CacheWriter, type LoadedEntry, type RowRange, type SkippedImage } from './store.js';
import type { Targets } from './entry-format.js';

/** Image embeddings of one split (or subset), rows aligned with labels; images skipped as unreadable are left out. */
export interface ImageEmbeddings {
  embeddings: Float32Array;
  labels: Int32Array;
  /** a multilabel split's 0/1 targets [n, nClasses], rows aligned with the embeddings */
  targets?: Uint8Array;
  n: number;
  dim: number;
  /** images left out because they could not be read (--skip-bad-images) */
  skipped: number;
  /** the source's index of each row (the --limit subset without the skipped images): its image is source.imageId(rows[k]) */
  rows: Int32Array;
  /** the cache entry's directory */
  dir: string;
  /** true when nothing had to be computed */
  hit: boolean;
}

export interface ImageEmbeddingRequest {
  model: ClipModel;
  dataset: string;
  split: string;
  source: ImageSource;
  /** rows of the source to embed, ascending (a --limit subset), or null for all */
  subset: { indices: Int32Array; limit: number; seed: number } | null;
  cacheDir: string;
  batchSize: number;
  skipBadImages: boolean;
  /** show a progress bar on stderr */
  progress: boolean;
}

function imageKey(req: ImageEmbeddingRequest): CacheKey {
  return {
    tool: 'clip-bench',
    modelIdentity: req.model.identity,
    dtype: req.model.dtype,
    provider: req.model.provider,
    preprocess: { ...req.model.preprocess },
    dataset: req.source.cacheDataset ?? req.dataset,
    datasetFingerprint: req.source.fingerprint,
    split: req.split,
    subset: req.subset ? { limit: req.subset.limit, seed: req.subset.seed } : null,
    kind: 'image',
  };
}

/** Load a split's image embeddings from the cache, computing (and caching, resumably) whatever is missing. */
export async function imageEmbeddings(req: ImageEmbeddingRequest): Promise<ImageEmbeddings> {
  const key = imageKey(req);
  const label = { modelName: req.model.name };
  const hit = await loadEntry(req.cacheDir, { key, label }, { warn });
  if (hit) return usable(req, hit, true);

  const { indices, labels, targets } = rowsOf(req);
  const dim = await req.model.imageDim();
  const writer = await openWriter(req.cacheDir, { key, label }, { n: indices.length, dim, labels, targets, warn, onWaitForOthers: waitingNote(req) });
  try {
    if (!writer.complete) {
      await fillShare(req, writer, indices, dim, null);
      await writer.finish(labels);
      await pruneSuperseded(req, key);
    }
  } finally {
    await writer.close();
  }
  const done = await loadEntry(req.cacheDir, { key, label }, { warn });
  if (!done) throw new Error(`embedding cache entry ${writer.dir} vanished after it was written`);
  return usable(req, done, false);
}

/** What one shard did to an entry. */
export interface ShardOutcome {
  dir: string;
  /** the entry is complete (assembled by this shard, or by another one before) */
  complete: boolean;
  /** this shard assembled it */
  assembled: boolean;
  /** it was complete before this shard did anything */
  alreadyComplete: boolean;
  /** rows this shard computed now */
  computed: number;
  /** the shard's rows */
  share: RowRange;
  /** rows of the entry still missing (other shards' chunks) */
  missing: number;
  n: number;
}

/**
 * Shard K of N of a split's image embeddings: computes the rows of its block of the entry's chunk grid (claiming
 * each chunk, so a resubmitted or concurrent duplicate of this shard shares the work), then assembles the entry if
 * every chunk is present. Never waits for other shards' blocks.
 */
export async function embedShare(req: ImageEmbeddingRequest, shard: Shard): Promise<ShardOutcome> {
  const key = imageKey(req);
  const label = { modelName: req.model.name };
  const { indices, labels, targets } = rowsOf(req);
  const dim = await req.model.imageDim();
  const writer = await openWriter(req.cacheDir, { key, label }, { n: indices.length, dim, labels, targets, shard, warn, onWaitForOthers: waitingNote(req) });
  const base = { dir: writer.dir, share: writer.share, n: writer.n };
  try {
    if (writer.complete) return { ...base, complete: true, assembled: false, alreadyComplete: true, computed: 0, missing: 0 };
    const computed = await fillShare(req, writer, indices, dim, shard);
    const r = await writer.finishShare();
    if (r.status === 'complete') return { ...base, complete: true, assembled: r.assembled, alreadyComplete: false, computed, missing: 0 };
    const missing = r.status === 'incomplete' ? r.missing.reduce((a, m) => a + m.end - m.start, 0) : 0;
    return { ...base, complete: false, assembled: false, alreadyComplete: false, computed, missing };
  } finally {
    await writer.close();
  }
}

/** Is the split's entry complete in the cache? */
export function imageEntryComplete(req: ImageEmbeddingRequest): Promise<boolean> {
  return isEntryComplete(req.cacheDir, imageKey(req));
}

/** A failed run's chunks for an older version of these files can never be resumed: they go once the entry is complete. */
async function pruneSuperseded(req: ImageEmbeddingRequest, key: CacheKey): Promise<void> {
  // entries kept under a name the data chose (every WebDataset package) may be other data, not an earlier version
  if (req.source.cacheDataset) return;
  const pruned = await removeEntries(req.cacheDir, { otherFingerprintOf: key, incomplete: true });
  if (pruned.removed > 0) warn(`removed ${pruned.removed} incomplete cache entr${pruned.removed === 1 ? 'y' : 'ies'} of ${req.dataset}/${req.split} made from earlier versions of its files`);
}

function rowsOf(req: ImageEmbeddingRequest): { indices: Int32Array; labels: Int32Array; targets?: Targets } {
  const indices = req.subset?.indices ?? Int32Array.from({ length: req.source.n }, (_, i) => i);
  const labels = Int32Array.from(indices, (i) => req.source.labels[i]);
  const t = req.source.targets;
  if (!t) return { indices, labels };
  const k = t.nClasses;
  const data = new Uint8Array(indices.length * k);
  indices.forEach((i, r) => data.set(t.data.subarray(i * k, (i + 1) * k), r * k));
  return { indices, labels, targets: { data, nClasses: k } };
}

/**
 * The entry's targets, checked against the source's (the key's fingerprint covers them, so a difference is a
 * damaged entry); an entry written before targets were kept gets the source's rows.
 */
function entryTargets(req: ImageEmbeddingRequest, entry: LoadedEntry): Uint8Array | undefined {
  const want = rowsOf(req).targets;
  if (!want) return undefined;
  if (!entry.targets) return want.data;
  const same = entry.targets.length === want.data.length && entry.targets.every((v, i) => v === want.data[i]);
  if (!same) throw new UserError(`cache entry ${entry.dir}: targets.npy differs from the dataset's labels; remove the entry (clip-bench cache rm) and run again`);
  return entry.targets;
}

function waitingNote(req: ImageEmbeddingRequest): (rows: RowRange[]) => void {
  return (rows) => {
    if (req.progress) process.stderr.write(`waiting for ${plural(rows.reduce((a, r) => a + r.end - r.start, 0), 'row')} that other processes are computing\n`);
  };
}

/** Computes every missing row of the writer's share (its claimed chunks, then any it takes over); returns the rows computed. */
async function fillShare(req: ImageEmbeddingRequest, writer: CacheWriter, indices: Int32Array, dim: number, shard: Shard | null): Promise<number> {
  const { share } = writer;
  const shareRows = share.end - share.start;
  const cachedRows = shareRows - writer.missingIn(share).reduce((a, m) => a + m.end - m.start, 0);
  // a bar on a terminal; in logs a start line, a line every LOG_PROGRESS_SECONDS with rate and ETA, an end line
  const tty = !!req.progress && !!process.stderr.isTTY;
  const bar = !req.progress ? null : tty ? embeddingBar(shareRows, cachedRows) : logLines(`embedding ${req.dataset}/${req.split}`, shareRows, cachedRows);
  const started = performance.now();
  if (req.progress && !tty) {
    const resume = cachedRows > 0 ? ` (resuming: ${cachedRows} cached)` : '';
    const what = shard ? `rows ${share.start}-${share.end} (shard ${shardLabel(shard)}) of ${indices.length}` : `${indices.length}`;
    process.stderr.write(`embedding ${what} images of ${req.dataset}/${req.split} with ${req.model.name}${resume}\n`);
  }
  let computed = 0;
  let skipped = 0;
  try {
    for (let chunks = writer.pendingChunks(); chunks.length > 0; chunks = await writer.nextWork()) {
      const r = await computeChunks(req, writer, indices, dim, chunks, bar);
      computed += r.rows;
      skipped += r.skipped.length;
    }
  } finally {
    bar?.stop();
  }
  if (req.progress && !tty) {
    const secs = (performance.now() - started) / 1000;
    process.stderr.write(`embedded ${computed} images in ${secs.toFixed(1)} s (${(computed / secs).toFixed(1)} img/s)${skipped ? `, ${skipped} unreadable` : ''}\n`);
  }
  return computed;
}

/** One pipeline over the given chunks, so batches stay in flight across chunk boundaries; each chunk records its skipped images. */
async function computeChunks(
  req: ImageEmbeddingRequest,
  writer: CacheWriter,
  indices: Int32Array,
  dim: number,
  chunks: RowRange[],
  bar: Bar | null,
): Promise<{ rows: number; skipped: SkippedImage[] }> {
  const rows = Int32Array.from(chunks.flatMap((c) => Array.from(indices.subarray(c.start, c.end))));
  const skipped: SkippedImage[] = [];
  let chunkSkipped: SkippedImage[] = [];
  let chunkIndex = 0;
  let filled = 0;
  let buffer = new Float32Array((chunks[0]?.end - chunks[0]?.start || 0) * dim);
  await embedImages(req.model, req.source, rows, { batchSize: req.batchSize, skipBadImages: req.skipBadImages }, async (first, emb, n, bad) => {
    const reasons = new Map(bad.map((b) => [b.position, b.reason]));
    for (let r = 0; r < n; r++) {
      const row = emb.subarray(r * dim, (r + 1) * dim);
      const reason = reasons.get(r);
      if (reason !== undefined) chunkSkipped.push({ index: rows[first + r], source: req.source.describe(rows[first + r]), reason });
      buffer.set(row, filled * dim);
      if (++filled * dim === buffer.length) {
        await writer.writeChunk(chunks[chunkIndex].start, buffer, { skipped: chunkSkipped });
        skipped.push(...chunkSkipped);
        chunkSkipped = [];
        chunkIndex++;
        filled = 0;
        const next = chunks[chunkIndex];
        buffer = new Float32Array(next ? (next.end - next.start) * dim : 0);
      }
    }
    bar?.increment(n);
  });
  return { rows: rows.length, skipped };
}

/**
 * The entry's rows without those of unreadable images. Whether images were skipped is checked against
 * --skip-bad-images on every use, hit or not: without the flag such an entry is refused as the images
 * themselves would be; with it, every run says how many were left out.
 */
function usable(req: ImageEmbeddingRequest, entry: LoadedEntry, hit: boolean): ImageEmbeddings {
  const out = withoutSkipped(entry.embeddings, entry.labels!, entryTargets(req, entry), rowsOf(req).indices, entry.n, entry.dim, entry.dir, hit);
  if (out.skipped === 0) return out;
  const first = firstSkipped(req, entry);
  if (!req.skipBadImages) {
    throw new UserError(
      `${first}; ${out.skipped} image(s) of ${req.dataset}/${req.split} are unreadable (recorded in the cache by a run with --skip-bad-images; --skip-bad-images skips them)`,
    );
  }
  warn(`skipped ${out.skipped} unreadable image(s) of ${req.dataset}/${req.split}${hit ? ' (as recorded in the cache)' : ''}, e.g. ${first}`);
  return out;
}

/** "<file>: <why>" of the first skipped image: from meta.json, else (rows of a resumed run) from the source. */
function firstSkipped(req: ImageEmbeddingRequest, entry: LoadedEntry): string {
  const item = entry.meta.skipped?.items?.[0];
  if (item?.reason) return item.reason;
  if (item?.source) return `${item.source}: unreadable`;
  for (let i = 0; i < entry.n; i++) {
    if (Number.isNaN(entry.embeddings[i * entry.dim])) return `${req.source.describe(req.subset ? req.subset.indices[i] : i)}: unreadable`;
  }
  return 'an image is unreadable';
}

/** Rows of unreadable images are stored as NaN (so a resumed run knows them); evaluators never see them. */
function withoutSkipped(emb: Float32Array, labels: Int32Array, targets: Uint8Array | undefined, indices: Int32Array, n: number, dim: number, dir: string, hit: boolean): ImageEmbeddings {
  let bad = 0;
  for (let i = 0; i < n; i++) if (Number.isNaN(emb[i * dim])) bad++;
  if (bad === 0) return { embeddings: emb, labels, ...(targets ? { targets } : {}), n, dim, skipped: 0, rows: indices, dir, hit };
  const keep = n - bad;
  const e = new Float32Array(keep * dim);
  const l = new Int32Array(keep);
  const rows = new Int32Array(keep);
  const c = targets ? targets.length / n : 0;
  const t = targets ? new Uint8Array(keep * c) : undefined;
  for (let i = 0, k = 0; i < n; i++) {
    if (Number.isNaN(emb[i * dim])) continue;
    e.set(emb.subarray(i * dim, (i + 1) * dim), k * dim);
    t?.set(targets!.subarray(i * c, (i + 1) * c), k * c);
    rows[k] = indices[i];
    l[k++] = labels[i];
  }
  return { embeddings: e, labels: l, ...(t ? { targets: t } : {}), n: keep, dim, skipped: bad, rows, dir, hit };
}

function warn(message: string): void {
  process.stderr.write(`clip-bench: warning: ${message}\n`);
}

/** The bar's calls as log lines (countProgress without a terminal): rows of this run only, so the rate is honest. */
function logLines(what: string, total: number, cached: number): Bar {
  const lines = countProgress(what, 'images', total - cached, { afterSeconds: LOG_PROGRESS_SECONDS, finalLine: false });
  let done = 0;
  return {
    increment: (step?: number) => lines.update((done += step ?? 1)),
    getProgress: () => (cached + done) / total,
    stop: () => lines.stop(),
  };
}

function embeddingBar(total: number, done: number): Bar {
  const started = Date.now();
  const bar = startBar('embedding {bar} {value}/{total} images | {speed} img/s | ETA {eta_formatted}', total, done, { speed: '-' });
  const base = done;
  return {
    getProgress: () => bar.getProgress(),
    increment: (step?: number) => {
      const secs = (Date.now() - started) / 1000;
      bar.increment(step ?? 1, { speed: secs > 0 ? ((bar.getProgress() * total - base) / secs).toFixed(1) : '-' });
    },
    stop: () => bar.stop(),
  };
}

/** Text embeddings of `texts` (prompts), cached per model and exact text list. */
export async function textEmbeddings(model: ClipModel, texts: string[], cacheDir: string, opts: { progress?: boolean } = {}): Promise<{ embeddings: Float32Array; dim: number }> {
  const key: CacheKey = {
    tool: 'clip-bench',
    modelIdentity: model.identity,
    dtype: model.dtype,
    provider: model.provider,
    preprocess: {},
    dataset: 'prompts',
    datasetFingerprint: 'texts',
    split: 'text',
    subset: null,
    kind: 'text',
    textsHash: hashTexts(texts),
  };
  const label = { modelName: model.name };
  const hit = await loadEntry(cacheDir, { key, label }, { warn });
  if (hit) return { embeddings: hit.embeddings, dim: hit.dim };
  // ImageNet's ensemble is 80,000 prompts: minutes on a CPU, so say how far it is
  const progress = countProgress(`encoding ${texts.length} prompts with ${model.name}`, 'prompts', texts.length, { enabled: opts.progress !== false });
  const { embeddings, dim } = await model.encodeTexts(texts, (done) => progress.update(done)).finally(() => progress.stop());
  const writer = await openWriter(cacheDir, { key, label }, { n: texts.length, dim, chunkSize: texts.length, warn });
  try {
    if (!writer.complete) {
      await writer.writeChunk(0, embeddings);
      await writer.finish(null, { texts: texts.length <= 100 ? texts : undefined });
    }
  } finally {
    await writer.close();
  }
  return { embeddings, dim };
}
