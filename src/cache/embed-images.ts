import { UserError } from '../errors.js';
import type { ImageSource } from '../data/types.js';
import { preprocess } from '../model/preprocess.js';
import { modelInputSize } from '../model/preprocess-config.js';
import type { ClipModel } from '../model/types.js';
import type { RawImage } from '../image/types.js';
import { defaultPreprocessWorkers, PreprocessPool } from './preprocess-pool.js';

export interface EmbedImagesOptions {
  batchSize: number;
  /** a bad image becomes a row of NaN (counted, excluded later) instead of failing the run */
  skipBadImages: boolean;
  /** batches in the pipeline at once (decoded, being preprocessed, queued at or in the inference worker) */
  inFlight?: number;
  /** preprocessing worker threads (0: preprocess on the main thread); default defaultPreprocessWorkers(model's inference cores) */
  preprocessWorkers?: number;
}

/** An image that could not be decoded (--skip-bad-images): its position in the batch and why. */
export interface BadImage {
  position: number;
  reason: string;
}

/**
 * Embed the images `indices` of `source` (rows in that order), handing each finished row range to `sink` in order.
 * A pipeline: the main thread decodes batch k+2 (sharp decodes off-thread), a preprocessing worker turns batch
 * k+1 into pixels, and the model's inference worker embeds batch k.
 */
export async function embedImages(
  model: ClipModel,
  source: ImageSource,
  indices: ArrayLike<number>,
  opts: EmbedImagesOptions,
  sink: (firstRow: number, rows: Float32Array, n: number, bad: BadImage[]) => Promise<void>,
): Promise<void> {
  const size = modelInputSize(model.preprocess);
  const pixelsPerImage = 3 * size * size;
  const batches = Math.ceil(indices.length / opts.batchSize);
  // a worker costs a few tens of ms to start: not worth it for a single batch
  const workers = batches > 1 ? (opts.preprocessWorkers ?? defaultPreprocessWorkers(model.inferenceCores)) : 0;
  const pool = workers > 0 ? new PreprocessPool(workers) : null;
  // enough batches to keep the inference worker busy while the next ones are decoded and preprocessed
  const inFlight = Math.max(1, opts.inFlight ?? workers + 2);
  const queue: Promise<void>[] = [];
  // batches at the preprocessing pool or the inference worker (removed when they settle, so no result is kept)
  const running = new Set<Promise<unknown>>();
  let delivered = Promise.resolve();
  try {
    for (let start = 0; start < indices.length; start += opts.batchSize) {
      const n = Math.min(opts.batchSize, indices.length - start);
      const { images, bad } = await loadBatch(source, indices, start, n, opts.skipBadImages);
      // each batch owns its buffer: it is transferred to the inference worker
      const pixels = pool ? pool.run(images, model.preprocess, pixelsPerImage) : Promise.resolve(preprocessBatch(images, model, pixelsPerImage));
      const embeddings = pixels.then((px) => model.encodeImages(px, n));
      embeddings.catch(() => {}); // handled below, through `delivered`
      running.add(embeddings);
      embeddings.finally(() => running.delete(embeddings)).catch(() => {});
      const batchStart = start;
      // rows reach the sink in order, whatever order the batches finish in
      const finished = (delivered = delivered.then(async () => {
        const emb = await embeddings;
        const dim = emb.length / n;
        checkFinite(emb, n, dim, bad, (b) => source.describe(indices[batchStart + b]));
        for (const b of bad) emb.fill(Number.NaN, b.position * dim, (b.position + 1) * dim);
        await sink(batchStart, emb, n, bad);
      }));
      // mark as handled now; the rejection still surfaces where the batch is awaited below
      finished.catch(() => {});
      queue.push(finished);
      if (queue.length >= inFlight) await queue.shift();
    }
    await Promise.all(queue);
    await delivered;
  } catch (e) {
    // let the batches still in flight finish (their results are dropped) before the caller closes the model:
    // the error reaches the caller only when no worker is running anything
    await Promise.allSettled([...queue, ...running]);
    throw e;
  } finally {
    await pool?.close();
  }
}

/** A NaN or infinite embedding (e.g. from a zero --image-std) would pass for a skipped image: refuse it. */
function checkFinite(emb: Float32Array, n: number, dim: number, bad: BadImage[], describe: (b: number) => string): void {
  for (let b = 0; b < n; b++) {
    if (bad.some((x) => x.position === b)) continue;
    for (let j = b * dim; j < (b + 1) * dim; j++) {
      if (!Number.isFinite(emb[j])) throw new UserError(`${describe(b)}: the model's embedding is not finite (${emb[j]}); check the model and its preprocessing`);
    }
  }
}

/**
 * Decode one batch; unreadable images are null (when skipping) and listed in `bad` by batch position. Every decode
 * of the batch is settled before an error is thrown (none is left running), and the error names the first bad
 * image in dataset order, whatever order the decodes finish in.
 */
async function loadBatch(
  source: ImageSource,
  indices: ArrayLike<number>,
  start: number,
  n: number,
  skipBadImages: boolean,
): Promise<{ images: (RawImage | null)[]; bad: BadImage[] }> {
  // decoding is asynchronous (sharp works off the main thread): start the whole batch at once
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, b) => source.load(indices[start + b])));
  const bad: BadImage[] = [];
  const images = settled.map((r, b) => {
    if (r.status === 'fulfilled') return r.value;
    const e = r.reason as unknown;
    const what = e instanceof UserError ? e.message : `cannot read image ${source.describe(indices[start + b])}: ${(e as Error)?.message ?? String(e)}`;
    if (!skipBadImages) throw new UserError(`${what} (--skip-bad-images skips unreadable images)`);
    bad.push({ position: b, reason: what });
    return null;
  });
  return { images, bad };
}

/** Preprocess a batch on this thread (no worker pool). */
function preprocessBatch(images: (RawImage | null)[], model: ClipModel, pixelsPerImage: number): Float32Array {
  const pixels = new Float32Array(images.length * pixelsPerImage);
  for (let b = 0; b < images.length; b++) {
    const img = images[b];
    if (img) preprocess(img, model.preprocess, pixels, b * pixelsPerImage);
  }
  return pixels;
}
