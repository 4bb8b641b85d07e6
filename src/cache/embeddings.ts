import cliProgress from 'cli-progress';
import type { ImageSource } from '../data/types.js';
import type { ClipModel } from '../model/types.js';
import { embedImages } from './embed-images.js';
import { hashTexts, type CacheKey } from './key.js';
import { UserError } from '../errors.js';
import { loadEntry, openWriter, removeEntries, type LoadedEntry, type SkippedImage } from './store.js';

/** Image embeddings of one split (or subset), rows aligned with labels; images skipped as unreadable are left out. */
export interface ImageEmbeddings {
  embeddings: Float32Array;
  labels: Int32Array;
  n: number;
  dim: number;
  /** images left out because they could not be read (--skip-bad-images) */
  skipped: number;
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
    dataset: req.dataset,
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

  const indices = req.subset?.indices ?? Int32Array.from({ length: req.source.n }, (_, i) => i);
  const labels = Int32Array.from(indices, (i) => req.source.labels[i]);
  const dim = await req.model.imageDim();
  const writer = await openWriter(req.cacheDir, { key, label }, { n: indices.length, dim, warn });
  const skipped: SkippedImage[] = [];
  try {
    if (!writer.complete) {
      // a bar on a terminal; start and end lines in logs
      const bar = req.progress && process.stderr.isTTY ? startBar(indices.length, writer.doneRows) : null;
      const started = performance.now();
      const cachedRows = writer.doneRows;
      if (req.progress && !bar) {
        const resume = cachedRows > 0 ? ` (resuming: ${cachedRows} cached)` : '';
        process.stderr.write(`embedding ${indices.length} images of ${req.dataset}/${req.split} with ${req.model.name}${resume}\n`);
      }
      try {
        // one pipeline over every pending chunk, so batches stay in flight across chunk boundaries
        const chunks = writer.pendingChunks();
        const rows = Int32Array.from(chunks.flatMap((c) => Array.from(indices.subarray(c.start, c.end))));
        let chunkIndex = 0;
        let filled = 0;
        let buffer = new Float32Array((chunks[0]?.end - chunks[0]?.start || 0) * dim);
        await embedImages(
          req.model,
          req.source,
          rows,
          { batchSize: req.batchSize, skipBadImages: req.skipBadImages },
          async (first, emb, n, bad) => {
            for (const b of bad) skipped.push({ index: rows[first + b.position], source: req.source.describe(rows[first + b.position]), reason: b.reason });
            for (let r = 0; r < n; r++) {
              const row = emb.subarray(r * dim, (r + 1) * dim);
              buffer.set(row, filled * dim);
              if (++filled * dim === buffer.length) {
                await writer.writeChunk(chunks[chunkIndex].start, buffer);
                chunkIndex++;
                filled = 0;
                const next = chunks[chunkIndex];
                buffer = new Float32Array(next ? (next.end - next.start) * dim : 0);
              }
            }
            bar?.increment(n);
          },
        );
      } finally {
        bar?.stop();
      }
      if (req.progress && !bar) {
        const secs = (performance.now() - started) / 1000;
        const computed = indices.length - cachedRows;
        process.stderr.write(`embedded ${computed} images in ${secs.toFixed(1)} s (${(computed / secs).toFixed(1)} img/s)\n`);
      }
      await writer.finish(labels, { skipped });
      // a failed run's chunks for an older version of these files can never be resumed: they go now
      const pruned = await removeEntries(req.cacheDir, { otherFingerprintOf: key, incomplete: true });
      if (pruned.removed > 0) warn(`removed ${pruned.removed} incomplete cache entr${pruned.removed === 1 ? 'y' : 'ies'} of ${req.dataset}/${req.split} made from earlier versions of its files`);
    }
  } finally {
    await writer.close();
  }
  const done = await loadEntry(req.cacheDir, { key, label }, { warn });
  if (!done) throw new Error(`embedding cache entry ${writer.dir} vanished after it was written`);
  return usable(req, done, false);
}

/**
 * The entry's rows without those of unreadable images. Whether images were skipped is checked against
 * --skip-bad-images on every use, hit or not: without the flag such an entry is refused as the images
 * themselves would be; with it, every run says how many were left out.
 */
function usable(req: ImageEmbeddingRequest, entry: LoadedEntry, hit: boolean): ImageEmbeddings {
  const out = withoutSkipped(entry.embeddings, entry.labels!, entry.n, entry.dim, entry.dir, hit);
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
function withoutSkipped(emb: Float32Array, labels: Int32Array, n: number, dim: number, dir: string, hit: boolean): ImageEmbeddings {
  let bad = 0;
  for (let i = 0; i < n; i++) if (Number.isNaN(emb[i * dim])) bad++;
  if (bad === 0) return { embeddings: emb, labels, n, dim, skipped: 0, dir, hit };
  const keep = n - bad;
  const e = new Float32Array(keep * dim);
  const l = new Int32Array(keep);
  for (let i = 0, k = 0; i < n; i++) {
    if (Number.isNaN(emb[i * dim])) continue;
    e.set(emb.subarray(i * dim, (i + 1) * dim), k * dim);
    l[k++] = labels[i];
  }
  return { embeddings: e, labels: l, n: keep, dim, skipped: bad, dir, hit };
}

function warn(message: string): void {
  process.stderr.write(`clip-bench: warning: ${message}\n`);
}

function startBar(total: number, done: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      format: 'embedding {bar} {value}/{total} images | {speed} img/s | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, done, { speed: '-' });
  const base = done;
  const orig = bar.increment.bind(bar);
  bar.increment = ((step?: number) => {
    const secs = (Date.now() - started) / 1000;
    orig(step ?? 1, { speed: secs > 0 ? ((bar.getProgress() * total - base) / secs).toFixed(1) : '-' });
  }) as typeof bar.increment;
  return bar;
}

/** Text embeddings of `texts` (prompts), cached per model and exact text list. */
export async function textEmbeddings(model: ClipModel, texts: string[], cacheDir: string): Promise<{ embeddings: Float32Array; dim: number }> {
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
  const { embeddings, dim } = await model.encodeTexts(texts);
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
