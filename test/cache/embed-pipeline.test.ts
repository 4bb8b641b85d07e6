// The embedding pipeline with and without its preprocessing worker pool: the same rows, bad images as NaN rows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { repoRoot } from '../support/helpers.js';
import { embedImages } from '../../src/cache/embed-images.js';
import { defaultPreprocessWorkers } from '../../src/cache/preprocess-pool.js';
import { openModel } from '../../src/model/resolve.js';
import type { ImageSource } from '../../src/data/types.js';
import type { RawImage } from '../../src/image/types.js';
import { CPU_DEVICE } from '../../src/model/device.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');

/** n varied images; every third one a view into a shared buffer (a source may hand out views); image `bad` fails. */
function source(n: number, bad: number): ImageSource {
  const shared = new Uint8Array(1 << 16);
  for (let i = 0; i < shared.length; i++) shared[i] = (i * 7919) & 255;
  const make = (i: number): RawImage => {
    const channels = ([1, 2, 3, 4] as const)[i % 4];
    const width = 9 + ((i * 13) % 40);
    const height = 7 + ((i * 29) % 35);
    const len = width * height * channels;
    const data = i % 3 === 0 ? shared.subarray(i, i + len) : Uint8Array.from({ length: len }, (_, j) => (j * (i + 3) + (j >> 5)) & 255);
    return { data, width, height, channels, ...(i % 10 === 5 ? { palette: true } : {}) };
  };
  return {
    n,
    labels: new Int32Array(n),
    classes: ['x'],
    fingerprint: 'test',
    load: async (i) => {
      if (i === bad) throw new Error('corrupt');
      return make(i);
    },
    describe: (i) => `image ${i}`,
    imageId: (i) => `#${i}`,
  };
}

async function embedAll(workers: number, n: number, bad: number): Promise<Float32Array> {
  const model = await openModel(tiny, { dtype: 'fp32', device: CPU_DEVICE, threads: 1, imageOnly: true });
  try {
    const dim = await model.imageDim();
    const out = new Float32Array(n * dim);
    let next = 0;
    const indices = Int32Array.from({ length: n }, (_, i) => i);
    await embedImages(model, source(n, bad), indices, { batchSize: 8, skipBadImages: true, preprocessWorkers: workers }, async (first, rows, k) => {
      assert.equal(first, next, 'rows arrive in order');
      out.set(rows.subarray(0, k * dim), first * dim);
      next += k;
    });
    assert.equal(next, n);
    return out;
  } finally {
    await model.close();
  }
}

test('preprocessing workers give the rows of the main-thread pipeline, in order, bad images as NaN', async () => {
  const n = 45;
  const bad = 17;
  const main = await embedAll(0, n, bad);
  const pooled = await embedAll(2, n, bad);
  const dim = main.length / n;
  for (let i = 0; i < n; i++) {
    const a = main.subarray(i * dim, (i + 1) * dim);
    const b = pooled.subarray(i * dim, (i + 1) * dim);
    if (i === bad) assert.ok(a.every(Number.isNaN) && b.every(Number.isNaN), 'the bad image is a NaN row');
    else {
      assert.ok(a.every(Number.isFinite), `row ${i} finite`);
      assert.deepEqual(b, a, `row ${i}`);
    }
  }
});

test('the pool gets the cores inference leaves free; CLIP_BENCH_PREPROCESS_WORKERS overrides', () => {
  const saved = process.env.CLIP_BENCH_PREPROCESS_WORKERS;
  try {
    delete process.env.CLIP_BENCH_PREPROCESS_WORKERS;
    assert.equal(defaultPreprocessWorkers(2, 2), 0);
    assert.equal(defaultPreprocessWorkers(4, 2), 0);
    assert.equal(defaultPreprocessWorkers(1, 2), 1);
    assert.equal(defaultPreprocessWorkers(4, 16), 12);
    process.env.CLIP_BENCH_PREPROCESS_WORKERS = '3';
    assert.equal(defaultPreprocessWorkers(2, 2), 3);
  } finally {
    if (saved === undefined) delete process.env.CLIP_BENCH_PREPROCESS_WORKERS;
    else process.env.CLIP_BENCH_PREPROCESS_WORKERS = saved;
  }
});
