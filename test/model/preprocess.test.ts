import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/helpers.js';
import { decodeImage } from '../../src/image/decode.js';
import { preprocess } from '../../src/model/preprocess.js';
import { parsePreprocessorConfig, preprocessConfigForSize } from '../../src/model/preprocess-config.js';
import { UserError } from '../../src/errors.js';
import type { RawImage } from '../../src/image/types.js';

const dir = path.join(repoRoot, 'test/fixtures/preprocess');

interface Case {
  image: string;
  mode: string;
  size: [number, number];
  n: number;
  file: string;
}
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
  std: [number, number, number];
  cases: Case[];
};

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(path.join(dir, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** max / mean |ours - ref| in pre-normalisation units (0..1 pixel scale). */
function diff(ours: Float32Array, ref: Float32Array, n: number): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  const plane = n * n;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - ref[i]) * expected.std[Math.floor(i / plane)];
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / ours.length };
}

for (const c of expected.cases) {
  test(`preprocess matches torchvision/PIL: ${c.image} @ ${c.n}`, async (t) => {
    const img = await decodeImage(path.join(dir, c.image));
    assert.deepEqual([img.width, img.height], c.size);
    assert.equal(img.channels, { L: 1, LA: 2, RGB: 3, RGBA: 4 }[c.mode]);
    const ref = readF32(c.file);
    const ours = preprocess(img, preprocessConfigForSize(c.n));
    assert.equal(ours.length, 3 * c.n * c.n);
    const { max, mean } = diff(ours, ref, c.n);
    t.diagnostic(`max ${(max * 255).toFixed(4)}/255, mean ${(mean * 255).toFixed(4)}/255`);
    if (c.image.endsWith('.png')) assert.ok(max <= 1 / 255 + 1e-6, `max diff ${max * 255}/255 > 1/255`);
    else assert.ok(mean <= 0.5 / 255, `mean diff ${mean * 255}/255 > 0.5/255`);
  });
}

test('preprocess writes at an offset into a shared batch buffer, reusing state across sizes', async () => {
  const img = await decodeImage(path.join(dir, 'noise_rgb_180x500.png'));
  const cfg = preprocessConfigForSize(32);
  const single = preprocess(img, cfg);
  preprocess(await decodeImage(path.join(dir, 'china.jpg')), cfg); // different sizes in between
  const batch = new Float32Array(2 * single.length + 5).fill(NaN);
  preprocess(img, cfg, batch, 5 + single.length);
  assert.deepEqual(batch.subarray(5 + single.length), single);
  assert.ok(Number.isNaN(batch[5 + single.length - 1]));
  assert.throws(() => preprocess(img, cfg, new Float32Array(10)), RangeError);
});

test('LA is resized premultiplied like PIL and greyscale is replicated to RGB', () => {
  // 4x1 LA: a transparent white pixel must not bleed into its opaque black neighbours
  const img: RawImage = { data: Uint8Array.from([0, 255, 255, 0, 0, 255, 0, 255]), width: 4, height: 1, channels: 2 };
  const out = preprocess(img, { shortestEdge: 2, cropSize: 0, resample: 3, rescaleFactor: 1, mean: [0, 0, 0], std: [1, 1, 1] });
  assert.equal(out.length, 3 * 2 * 8);
  for (let i = 0; i < 8; i++) assert.equal(out[i], out[16 + i]); // R == G
  assert.ok(out.every((v) => v === 0), `premultiplied resize keeps black: ${out}`);
});

test('palette images are resized with NEAREST', () => {
  const img: RawImage = { data: Uint8Array.from([0, 0, 0, 255, 255, 255]), width: 2, height: 1, channels: 3, palette: true };
  const out = preprocess(img, { shortestEdge: 2, cropSize: 0, resample: 3, rescaleFactor: 1, mean: [0, 0, 0], std: [1, 1, 1] });
  assert.deepEqual(Array.from(out.subarray(0, 8)), [0, 0, 255, 255, 0, 0, 255, 255]);
});

test('parsePreprocessorConfig reads a typical HF CLIP config', () => {
  const cfg = parsePreprocessorConfig(
    {
      crop_size: { height: 224, width: 224 },
      do_center_crop: true,
      do_normalize: true,
      do_rescale: true,
      do_resize: true,
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_processor_type: 'CLIPImageProcessor',
      image_std: [0.26862954, 0.26130258, 0.27577711],
      resample: 3,
      rescale_factor: 0.00392156862745098,
      size: { shortest_edge: 224 },
    },
    'preprocessor_config.json',
  );
  assert.deepEqual(cfg, preprocessConfigForSize(224));
  // old CLIPFeatureExtractor style, numbers for sizes
  const old = parsePreprocessorConfig({ size: 336, crop_size: 336, feature_extractor_type: 'CLIPFeatureExtractor' }, 'x.json');
  assert.deepEqual(old, preprocessConfigForSize(336));
  const off = parsePreprocessorConfig({ do_resize: false, do_center_crop: false, do_rescale: false, do_normalize: false }, 'x.json');
  assert.deepEqual(off, { shortestEdge: 0, cropSize: 0, resample: 3, rescaleFactor: 1, mean: [0, 0, 0], std: [1, 1, 1] });
});

test('parsePreprocessorConfig rejects nonsense with a message naming the file', () => {
  const bad: unknown[] = [
    null,
    [1, 2],
    { size: -3 },
    { size: { height: 224, width: 300 } },
    { crop_size: { height: 224, width: 200 } },
    { image_mean: [0.5, 0.5] },
    { image_std: [0.5, 0, 0.5] },
    { resample: 9 },
    { do_resize: 'yes' },
    { rescale_factor: 'x' },
  ];
  for (const json of bad) {
    assert.throws(
      () => parsePreprocessorConfig(json, 'models/m/preprocessor_config.json'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('models/m/preprocessor_config.json: ') && !e.message.includes('\n'),
      JSON.stringify(json),
    );
  }
  assert.throws(() => preprocessConfigForSize(0), UserError);
});

test('decodeImage: corrupt or missing file -> UserError naming it', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-'));
  try {
    const file = path.join(tmp, 'broken.jpg');
    const jpg = fs.readFileSync(path.join(dir, 'china.jpg'));
    fs.writeFileSync(file, Buffer.concat([Buffer.from('not an image'), jpg.subarray(0, 100)]));
    for (const f of [file, path.join(tmp, 'missing.png')]) {
      await assert.rejects(decodeImage(f), (e: unknown) => e instanceof UserError && e.message.includes(f) && !e.message.includes('\n'));
    }
    // a truncated JPEG is rejected too (PIL refuses it by default)
    const trunc = path.join(tmp, 'trunc.jpg');
    fs.writeFileSync(trunc, jpg.subarray(0, jpg.length >> 1));
    await assert.rejects(decodeImage(trunc), UserError);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
