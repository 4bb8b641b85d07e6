import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { repoRoot } from '../support/helpers.js';
import { tmpDir } from '../support/data-files.js';
import { decodeImage, viaSharp } from '../../src/image/decode.js';
import { decodeJpegTurbo, turbojpeg } from '../../src/image/decoders/turbojpeg.js';
import { preprocess } from '../../src/model/preprocess.js';
import { preprocessConfigForSize } from '../../src/model/preprocess-config.js';
import { UserError } from '../../src/errors.js';
import { isImageFile } from '../../src/data/loaders/imagefolder.js';

const dir = path.join(repoRoot, 'test/fixtures/decode');

interface Case {
  image: string;
  format: string;
  mode: string;
  size: [number, number];
  what: string;
  refs: { n: number; file: string }[];
  error?: string;
}
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] };
const STD = [0.26862954, 0.26130258, 0.27577711];

/**
 * Where a decoder genuinely cannot give Pillow's pixels: the largest difference allowed, in grey levels (the
 * README's Fidelity table states the same figures). Everything not listed must be bit-exact.
 */
const TOLERANCE: Record<string, number> = {};

function readRef(file: string): Float32Array {
  const b = zlib.gunzipSync(fs.readFileSync(path.join(dir, file)));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** Largest |ours - ref| in grey levels (before normalisation). */
function maxDiff(ours: Float32Array, ref: Float32Array, n: number): number {
  let max = 0;
  for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i] - ref[i]) * STD[Math.floor(i / (n * n))] * 255);
  return Math.round(max * 1000) / 1000;
}

for (const c of manifest.cases) {
  if (c.error) {
    test(`decode ${c.image} (${c.what}): refused as clip.py's transform refuses it`, async () => {
      const file = path.join(dir, c.image);
      await assert.rejects(
        (async () => preprocess(await decodeImage(file), preprocessConfigForSize(32)))(),
        (e: unknown) => e instanceof UserError && e.message.includes(file) && !e.message.includes('\n'),
      );
    });
    continue;
  }
  for (const { n, file } of c.refs) {
    test(`decode ${c.image} @ ${n} (${c.what}) gives Pillow's pixels`, async (t) => {
      const img = await decodeImage(path.join(dir, c.image));
      assert.deepEqual([img.width, img.height], c.size);
      const ours = preprocess(img, preprocessConfigForSize(n));
      const d = maxDiff(ours, readRef(file), n);
      t.diagnostic(`max difference ${d} grey levels`);
      assert.ok(d <= (TOLERANCE[c.image] ?? 0), `${c.image} @ ${n}: max difference ${d} grey levels`);
    });
  }
}

test('decode: a truncated file of every format is a one-line UserError naming it', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-decode-'));
  try {
    const seen = new Set<string>();
    for (const c of manifest.cases) {
      const ext = path.extname(c.image);
      if (seen.has(ext) || c.error) continue;
      seen.add(ext);
      const bytes = fs.readFileSync(path.join(dir, c.image));
      const file = path.join(tmp, `trunc${ext}`);
      fs.writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
      await assert.rejects(decodeImage(file), (e: unknown) => e instanceof UserError && e.message.startsWith(`${file}: `) && !e.message.includes('\n'), c.image);
    }
    assert.ok(seen.size >= 10, `formats covered: ${[...seen].join(' ')}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('decode: formats and variants clip-bench does not read are refused by name', async () => {
  const bmp = Buffer.from(fs.readFileSync(path.join(dir, 'bmp_p8.bmp')));
  bmp.writeUInt32LE(1, 30); // BI_RLE8
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('just some text, not an image'), /not a format clip-bench reads: JPEG, PNG/],
    [Buffer.from('P2\n2 2\n255\n1 2 3 4\n'), /Netpbm P2 is not supported/],
    [bmp, /RLE8-compressed BMP is not supported/],
    [Buffer.alloc(0), /not a format clip-bench reads/],
  ];
  for (const [bytes, re] of cases) {
    await assert.rejects(decodeImage(bytes), (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'), String(re));
  }
  await assert.rejects(decodeImage(path.join(dir, 'no-such-image.png')), (e: unknown) => e instanceof UserError && /no-such-image\.png: cannot read image \(ENOENT\)/.test(e.message));
});

test('decode: bytes and path give the same image; every decoded image has the layout it claims', async () => {
  for (const c of manifest.cases) {
    if (c.error) continue;
    const file = path.join(dir, c.image);
    const a = await decodeImage(file);
    const b = await decodeImage(fs.readFileSync(file));
    assert.deepEqual({ ...a, data: Buffer.from(a.data) }, { ...b, data: Buffer.from(b.data) }, c.image);
    const bytesPerSample = a.mode === 'I' ? 2 : 1;
    assert.equal(a.data.length, a.width * a.height * a.channels * bytesPerSample, c.image);
    const expect = { '1': 1, L: 1, LA: 2, P: 3, RGB: 3, RGBA: 4, CMYK: 4, I: 1 }[c.mode];
    // LA and 16-bit grey + alpha (which PIL opens as RGBA with R = G = B) both come as 2 channels
    if (!(c.mode === 'RGBA' && a.channels === 2 && c.image.includes('la16'))) assert.equal(a.channels, expect, c.image);
  }
});

test('imagefolder lists the formats torchvision lists, which all decode', () => {
  for (const ext of ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp', '.gif']) assert.ok(isImageFile(`x${ext.toUpperCase()}`), ext);
  assert.ok(!isImageFile('x.heic') && !isImageFile('x.txt'));
});

test('JPEG through libjpeg-turbo directly gives the same pixels as through sharp (every subsampling, progressive, grey, odd sizes)', async (t) => {
  if (!turbojpeg()) {
    // .ci/run installs it and sets CLIP_BENCH_REQUIRE_TURBOJPEG, so there this cannot pass by skipping
    assert.ok(!process.env.CLIP_BENCH_REQUIRE_TURBOJPEG, 'libturbojpeg.so.0 did not load');
    t.skip('libturbojpeg is not installed (apt-get install libturbojpeg0): JPEG goes through sharp');
    return;
  }
  const jpegs = [
    ...manifest.cases.filter((c) => c.format === 'JPEG').map((c) => ({ file: path.join(dir, c.image), mode: c.mode })),
    ...['china.jpg', 'flower.jpg'].map((f) => ({ file: path.join(repoRoot, 'test/fixtures/preprocess', f), mode: 'RGB' })),
  ];
  let fast = 0;
  for (const { file, mode } of jpegs) {
    const bytes = fs.readFileSync(file);
    const turbo = await decodeJpegTurbo(bytes);
    if (mode === 'CMYK') {
      assert.equal(turbo, null, `${file}: CMYK is left to sharp`);
      continue;
    }
    assert.ok(turbo, file);
    const old = await viaSharp(bytes, mode as 'RGB' | 'L');
    assert.deepEqual([turbo.width, turbo.height, turbo.channels], [old.width, old.height, old.channels], file);
    assert.ok(Buffer.from(turbo.data).equals(Buffer.from(old.data)), `${file}: pixels differ`);
    fast++;
  }
  assert.ok(fast >= 12, `${fast} JPEGs compared`);
  // a truncated JPEG is not decoded here (libjpeg-turbo warns): sharp gets it and refuses it, as Pillow does
  const whole = fs.readFileSync(path.join(dir, 'jpeg_420_320x240.jpg'));
  assert.equal(await decodeJpegTurbo(whole.subarray(0, whole.length >> 1)), null);
  // many decodes in flight at once (as a batch is decoded) each get their own handle
  const many = await Promise.all(Array.from({ length: 16 }, () => decodeJpegTurbo(whole)));
  for (const m of many) assert.ok(m && Buffer.from(m.data).equals(Buffer.from(many[0]!.data)));
  // a decompression bomb (a header claiming 20000 x 20000) is left to sharp, which refuses it in one line
  const bomb = Buffer.from(whole);
  const sof = bomb.findIndex((v, i) => v === 0xff && (bomb[i + 1] === 0xc0 || bomb[i + 1] === 0xc2));
  bomb.writeUInt16BE(20000, sof + 5);
  bomb.writeUInt16BE(20000, sof + 7);
  assert.equal(await decodeJpegTurbo(bomb), null);
  const file = path.join(tmpDir('bomb'), 'bomb.jpg');
  fs.writeFileSync(file, bomb);
  await assert.rejects(decodeImage(file), (e: unknown) => e instanceof UserError && /bomb\.jpg: cannot decode image \(Input image exceeds pixel limit\)$/.test(e.message));
});
