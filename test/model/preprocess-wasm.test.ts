// The WebAssembly preprocessing path against the JavaScript reference: the same float32 bits on varied images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/helpers.js';
import { activeResampler, preprocess } from '../../src/model/preprocess.js';
import { preprocessConfigForSize } from '../../src/model/preprocess-config.js';
import { WASM_FILE } from '../../src/model/preprocess-wasm.js';
import type { PreprocessConfig } from '../../src/model/types.js';
import type { RawImage } from '../../src/image/types.js';

function rng(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
}

/** Noise over smooth gradients (both extremes of every channel occur); alpha includes 0 and 255 runs. */
function image(w: number, h: number, channels: 1 | 2 | 3 | 4, seed: number, palette = false): RawImage {
  const r = rng(seed);
  const data = new Uint8Array(w * h * channels);
  for (let y = 0, p = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < channels; c++, p++) {
        const base = ((x * (c + 1) * 255) / Math.max(1, w - 1) + (y * 255) / Math.max(1, h - 1)) / 2;
        const v = r() % 4 === 0 ? r() & 255 : base + ((r() & 63) - 32);
        data[p] = Math.max(0, Math.min(255, Math.round(v)));
      }
      if (channels === 2 || channels === 4) {
        const band = (x + y) % 7;
        data[p - 1] = band === 0 ? 0 : band === 1 ? 255 : r() & 255;
      }
    }
  }
  return { data, width: w, height: h, channels, ...(palette ? { palette: true } : {}) };
}

function same(img: RawImage, cfg: PreprocessConfig, what: string): void {
  const js = preprocess(img, cfg, undefined, 0, 'js');
  const wasm = preprocess(img, cfg, undefined, 0, 'wasm');
  assert.equal(wasm.length, js.length, what);
  const a = new Uint32Array(js.buffer);
  const b = new Uint32Array(wasm.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: value ${i} of ${a.length} differs: js ${js[i]}, wasm ${wasm[i]}`);
  }
}

const MODES: [string, 1 | 2 | 3 | 4][] = [['L', 1], ['LA', 2], ['RGB', 3], ['RGBA', 4]];
// width x height: ImageNet-like, portrait, odd, extreme aspect ratios, 1 pixel, upscaled, exact size
const SIZES: [number, number][] = [
  [500, 375], [375, 500], [333, 499], [640, 427], [17, 13], [28, 28], [1, 1], [1, 300], [300, 1], [2, 3],
  [224, 224], [224, 300], [1000, 40], [3, 7],
];

test('the WebAssembly module loads here, so the comparisons below compare two implementations', () => {
  assert.ok(fs.existsSync(WASM_FILE), `${WASM_FILE} is missing (scripts/build_wasm.sh builds it)`);
  assert.equal(activeResampler(), 'wasm');
});

test('WebAssembly == JavaScript: every mode and size at 224 and 32 px (bicubic, CLIP normalisation)', () => {
  let seed = 1;
  for (const [mode, nb] of MODES) {
    for (const [w, h] of SIZES) {
      const img = image(w, h, nb, seed++);
      for (const n of [224, 32]) same(img, preprocessConfigForSize(n), `${mode} ${w}x${h} @ ${n}`);
    }
  }
});

test('WebAssembly == JavaScript: palette images (NEAREST), every mode', () => {
  let seed = 100;
  for (const [mode, nb] of MODES) {
    for (const [w, h] of [[500, 375], [13, 29], [1, 1], [7, 300]] as [number, number][]) {
      same(image(w, h, nb, seed++, true), preprocessConfigForSize(224), `palette ${mode} ${w}x${h}`);
    }
  }
});

test('WebAssembly == JavaScript: every filter, no crop, crops larger than the image, no resize, other rescaling', () => {
  const img3 = image(123, 77, 3, 7);
  const img4 = image(64, 200, 4, 8);
  const img1 = image(90, 45, 1, 9);
  const base: PreprocessConfig = { shortestEdge: 50, cropSize: 50, resample: 3, rescaleFactor: 1 / 255, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };
  const cfgs: [string, PreprocessConfig][] = [
    ...[0, 1, 2, 3, 4, 5].map((resample): [string, PreprocessConfig] => [`filter ${resample}`, { ...base, resample }]),
    ...[0, 1, 2, 4, 5].map((resample): [string, PreprocessConfig] => [`filter ${resample} upscale`, { ...base, shortestEdge: 300, cropSize: 280, resample }]),
    ['no crop', { ...base, cropSize: 0 }],
    ['crop larger than the resized image (zero padding)', { ...base, cropSize: 130 }],
    ['crop between the short and the long side (padding on one axis)', { ...base, cropSize: 60 }],
    ['no resize, crop only', { ...base, shortestEdge: 0, cropSize: 40 }],
    ['no resize, no crop', { ...base, shortestEdge: 0, cropSize: 0 }],
    ['one axis unchanged (shorter side already the size)', { ...base, shortestEdge: 77, cropSize: 60 }],
    ['rescale factor other than 1/255', { ...base, rescaleFactor: 0.5, mean: [0, 0, 0], std: [1, 1, 1] }],
    ['1 px', { ...base, shortestEdge: 1, cropSize: 1 }],
  ];
  for (const [what, cfg] of cfgs) {
    for (const [name, img] of [['RGB', img3], ['RGBA', img4], ['L', img1]] as const) same(img, cfg, `${what}, ${name}`);
  }
});

test('WebAssembly == JavaScript: large downscale (wide kernels) and many images through one instance', () => {
  same(image(4000, 600, 3, 11), preprocessConfigForSize(224), 'RGB 4000x600');
  same(image(2500, 2500, 4, 12), preprocessConfigForSize(64), 'RGBA 2500x2500 @ 64');
  // buffers are reused: a small image after large ones, then batches written at offsets
  const small = image(37, 51, 3, 13);
  const cfg = preprocessConfigForSize(32);
  const single = preprocess(small, cfg, undefined, 0, 'js');
  const batch = new Float32Array(3 * single.length + 1).fill(Number.NaN);
  for (let b = 0; b < 3; b++) preprocess(small, cfg, batch, 1 + b * single.length, 'wasm');
  assert.ok(Number.isNaN(batch[0]));
  for (let b = 0; b < 3; b++) assert.deepEqual(batch.subarray(1 + b * single.length, 1 + (b + 1) * single.length), single);
});

test('WebAssembly path leaves the caller\'s image untouched (RGBA is premultiplied in its own memory)', () => {
  const img = image(40, 30, 4, 14);
  const before = img.data.slice();
  preprocess(img, preprocessConfigForSize(16), undefined, 0, 'wasm');
  assert.deepEqual(img.data, before);
});

test('the committed wasm/resample.wasm is what scripts/build_wasm.sh builds from wasm/resample.c', (t) => {
  const tools = ['clang', 'wasm-ld'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  const version = tools ? spawnSync('clang', ['--version'], { encoding: 'utf8' }).stdout : '';
  if (!/clang version 14\./.test(version)) {
    t.skip('needs clang 14 and lld (wasm-ld), as in Debian 12: other versions emit other bytes');
    return;
  }
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-wasm-')), 'resample.wasm');
  try {
    const r = spawnSync(path.join(repoRoot, 'scripts/build_wasm.sh'), [out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(WASM_FILE)), 'wasm/resample.wasm is stale: run scripts/build_wasm.sh');
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
});

test('wasm horizontal pass: weights too large for the split-weight dot product take the i32 multiply path, same sums', () => {
  // crafted weights beyond +-2^26 (Pillow's normalised filters never get there): int32 sums as Pillow's loop
  const x = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(WASM_FILE)), {}).exports as unknown as {
    memory: WebAssembly.Memory;
    __heap_base: WebAssembly.Global;
    horizontal(...a: number[]): void;
    horizontal_work_size(w: number, rw: number, taps: number): number;
  };
  const w = 9, h = 2, nb = 3, outW = 4, ksize = 3;
  const r = rng(5);
  const src = Uint8Array.from({ length: w * h * nb }, () => r() & 255);
  const bounds = Int32Array.from([0, 3, 2, 3, 4, 3, 6, 3]);
  const k = Int32Array.from({ length: outW * ksize }, (_, i) => ((i % 3) - 1) * (1 << 27) + (i << 22) + (r() & 0xfffff));
  const base = (Number(x.__heap_base.value) + 15) & ~15;
  const pSrc = base, pB = base + 256, pK = base + 512, pDst = base + 1024, pWork = base + 2048;
  x.memory.grow(1);
  new Uint8Array(x.memory.buffer).set(src, pSrc);
  new Int32Array(x.memory.buffer).set(bounds, pB >> 2);
  new Int32Array(x.memory.buffer).set(k, pK >> 2);
  assert.ok(x.horizontal_work_size(w, outW, ksize) < 4096);
  x.horizontal(pSrc, w * nb, pDst, 0, h, 0, outW, nb, pB, pK, ksize, ksize, pWork);
  const got = new Uint8Array(x.memory.buffer, pDst, h * outW * nb);
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < outW; xx++) {
      for (let c = 0; c < nb; c++) {
        let s = 1 << 21;
        for (let i = 0; i < bounds[2 * xx + 1]; i++) s = (s + Math.imul(src[(y * w + bounds[2 * xx] + i) * nb + c], k[xx * ksize + i])) | 0;
        assert.equal(got[(y * outW + xx) * nb + c], Math.max(0, Math.min(255, s >> 22)), `row ${y}, column ${xx}, channel ${c}`);
      }
    }
  }
});
