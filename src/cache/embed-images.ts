import { UserError } from '../errors.js';
import type { ImageSource } from '../data/types.js';
import { preprocess } from '../model/preprocess.js';
import type { ClipModel } from '../model/types.js';

export interface EmbedImagesOptions {
  batchSize: number;
  /** a bad image becomes a row of NaN (counted, excluded later) instead of failing the run */
  skipBadImages: boolean;
  /** batches queued at the inference worker while the next one is prepared */
  inFlight?: number;
}

/**
 * Embed the images `indices` of `source` (rows in that order), handing each finished row range to `sink` in order.
 * Decoding and preprocessing of the next batches overlap inference, which runs in the model's worker thread.
 */
export async function embedImages(
  model: ClipModel,
  source: ImageSource,
  indices: ArrayLike<number>,
  opts: EmbedImagesOptions,
  sink: (firstRow: number, rows: Float32Array, n: number) => Promise<void>,
): Promise<void> {
  const size = model.preprocess.cropSize || model.preprocess.shortestEdge;
  const pixelsPerImage = 3 * size * size;
  const inFlight = Math.max(1, opts.inFlight ?? 2);
  const queue: Promise<void>[] = [];
  let delivered = Promise.resolve();

  for (let start = 0; start < indices.length; start += opts.batchSize) {
    const n = Math.min(opts.batchSize, indices.length - start);
    // each batch owns its buffer: it is transferred to the worker
    const pixels = new Float32Array(n * pixelsPerImage);
    const bad = await prepareBatch(source, indices, start, n, model, pixels, pixelsPerImage, opts.skipBadImages);
    const inference = model.encodeImages(pixels, n);
    const batchStart = start;
    const finished = inference.then(async (emb) => {
      const dim = emb.length / n;
      for (const b of bad) emb.fill(Number.NaN, b * dim, (b + 1) * dim);
      // rows reach the sink in order, whatever order the batches finish in
      await (delivered = delivered.then(() => sink(batchStart, emb, n)));
    });
    // mark as handled now; the rejection still surfaces where the batch is awaited below
    finished.catch(() => {});
    queue.push(finished);
    if (queue.length >= inFlight) await queue.shift();
  }
  await Promise.all(queue);
  await delivered;
}

/** Decode and preprocess one batch into `pixels`; returns the batch positions of images that failed (when skipping). */
async function prepareBatch(
  source: ImageSource,
  indices: ArrayLike<number>,
  start: number,
  n: number,
  model: ClipModel,
  pixels: Float32Array,
  pixelsPerImage: number,
  skipBadImages: boolean,
): Promise<number[]> {
  const bad: number[] = [];
  // decoding is asynchronous (sharp works off the main thread): start the whole batch at once
  const images = await Promise.all(
    Array.from({ length: n }, (_, b) =>
      source.load(indices[start + b]).catch((e: unknown) => {
        if (!skipBadImages) {
          const what = e instanceof UserError ? e.message : `cannot read image ${source.describe(indices[start + b])}: ${(e as Error).message}`;
          throw new UserError(`${what} (--skip-bad-images skips unreadable images)`);
        }
        bad.push(b);
        return null;
      }),
    ),
  );
  for (let b = 0; b < n; b++) {
    const img = images[b];
    if (img) preprocess(img, model.preprocess, pixels, b * pixelsPerImage);
  }
  return bad;
}
