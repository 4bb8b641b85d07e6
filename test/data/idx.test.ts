import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { repoRoot } from '../support/helpers.js';
import { UserError } from '../../src/errors.js';
import { defaultDatasetRoot, getDataset } from '../../src/data/registry.js';
import { fingerprintFiles } from '../../src/util/fingerprint.js';
import { idx, idxPixel, tmpDir, writeIdxSplit } from '../support/data-files.js';

test('bundled Fashion-MNIST: 60000/10000 images, 10 classes, first test label 9 (ankle boot)', async () => {
  const spec = getDataset('fashion-mnist');
  const root = defaultDatasetRoot('fashion-mnist');
  assert.equal(root, path.join(repoRoot, 'datasets', 'fashion-mnist'));
  assert.equal(spec.classes.length, 10);
  assert.equal(spec.templates.length, 80, "falls back to ImageNet's 80 templates");
  assert.ok(spec.isPresent(root));
  const test10k = await spec.open(root, 'test');
  assert.equal(test10k.n, 10000);
  assert.equal(test10k.labels[0], 9);
  assert.equal(test10k.classes[9], 'ankle boot');
  const img = await test10k.load(0);
  assert.deepEqual([img.width, img.height, img.channels, img.data.length], [28, 28, 1, 784]);
  assert.ok(img.data.some((v) => v > 0));
  const counts = new Array(10).fill(0);
  for (const y of test10k.labels) counts[y]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
  const train = await spec.open(root, 'train');
  assert.equal(train.n, 60000);
  assert.notEqual(train.fingerprint, test10k.fingerprint);
  assert.match(test10k.describe(3), /t10k-images-idx3-ubyte\.gz#3$/);
});

test('bundled Fashion-MNIST: fingerprint is stable and cheap', () => {
  const root = defaultDatasetRoot('fashion-mnist');
  const files = fs.readdirSync(root).filter((f) => f.endsWith('.gz')).sort();
  const t0 = performance.now();
  const a = fingerprintFiles(root, files);
  const ms = performance.now() - t0;
  assert.equal(fingerprintFiles(root, files), a);
  // target < 50 ms; allow slack for a loaded CI machine
  assert.ok(ms < 500, `fingerprint took ${ms.toFixed(1)} ms`);
});

test('mnist loader: labels and pixel values of generated gzip IDX files', async () => {
  const root = tmpDir('mnist');
  writeIdxSplit(root, 'train', [5, 0, 4, 1, 9]);
  writeIdxSplit(root, 't10k', [7, 2]);
  const spec = getDataset('mnist');
  const src = await spec.open(root, 'train');
  assert.equal(src.n, 5);
  assert.deepEqual([...src.labels], [5, 0, 4, 1, 9]);
  assert.deepEqual(src.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  const img = await src.load(3);
  assert.equal(img.channels, 1);
  assert.equal(img.data[10 * 28 + 17], idxPixel(3, 10, 17));
  assert.equal(img.data[0], idxPixel(3, 0, 0));
  const t = await spec.open(root, 'test');
  assert.deepEqual([...t.labels], [7, 2]);
  await assert.rejects(src.load(5), RangeError);
});

test('mnist loader: uncompressed IDX files are accepted too', async () => {
  const root = tmpDir('mnist-plain');
  writeIdxSplit(root, 't10k', [1, 2, 3]);
  for (const f of fs.readdirSync(root)) {
    fs.writeFileSync(path.join(root, f.replace(/\.gz$/, '')), zlib.gunzipSync(fs.readFileSync(path.join(root, f))));
    fs.rmSync(path.join(root, f));
  }
  const src = await getDataset('mnist').open(root, 'test');
  assert.deepEqual([...src.labels], [1, 2, 3]);
  assert.equal((await src.load(2)).data[5], idxPixel(2, 0, 5));
});

test('truncated or corrupt IDX files -> UserError naming the file', async () => {
  const spec = getDataset('mnist');
  // gzip cut short
  const r1 = tmpDir('idx-trunc');
  writeIdxSplit(r1, 't10k', [1, 2, 3, 4]);
  const img1 = path.join(r1, 't10k-images-idx3-ubyte.gz');
  const whole = fs.readFileSync(img1);
  fs.writeFileSync(img1, whole.subarray(0, whole.length - 100));
  await assert.rejects(spec.open(r1, 'test'), (e: unknown) => e instanceof UserError && e.message.includes(img1));
  // valid gzip of an IDX whose data is shorter than its header says
  const r2 = tmpDir('idx-short');
  writeIdxSplit(r2, 't10k', [1, 2, 3, 4]);
  const img2 = path.join(r2, 't10k-images-idx3-ubyte.gz');
  fs.writeFileSync(img2, zlib.gzipSync(idx([4, 28, 28], new Uint8Array(3 * 784))));
  await assert.rejects(spec.open(r2, 'test'), (e: unknown) => e instanceof UserError && e.message.includes(img2) && /truncated/.test(e.message));
  // wrong magic (labels file given as images)
  const r3 = tmpDir('idx-magic');
  writeIdxSplit(r3, 't10k', [1, 2]);
  const lbl = path.join(r3, 't10k-labels-idx1-ubyte.gz');
  fs.copyFileSync(lbl, path.join(r3, 't10k-images-idx3-ubyte.gz'));
  await assert.rejects(spec.open(r3, 'test'), (e: unknown) => e instanceof UserError && /magic/.test(e.message));
  // label count differs from image count
  const r4 = tmpDir('idx-count');
  writeIdxSplit(r4, 't10k', [1, 2, 3]);
  fs.writeFileSync(lbl.replace(r3, r4), zlib.gzipSync(idx([2], Uint8Array.from([1, 2]))));
  await assert.rejects(spec.open(r4, 'test'), UserError);
  // not gzip at all
  const r5 = tmpDir('idx-notgz');
  writeIdxSplit(r5, 't10k', [1]);
  fs.writeFileSync(path.join(r5, 't10k-labels-idx1-ubyte.gz'), 'hello, this is not gzip data at all....');
  await assert.rejects(spec.open(r5, 'test'), (e: unknown) => e instanceof UserError && e.message.includes('t10k-labels-idx1-ubyte.gz'));
  // a label beyond the class list
  const r6 = tmpDir('idx-label');
  writeIdxSplit(r6, 't10k', [1, 12]);
  await assert.rejects(spec.open(r6, 'test'), (e: unknown) => e instanceof UserError && /label 12/.test(e.message));
});

test('missing root, unknown split, missing split files -> UserError', async () => {
  const spec = getDataset('mnist');
  const nowhere = path.join(tmpDir('idx-missing'), 'nope');
  await assert.rejects(spec.open(nowhere, 'test'), (e: unknown) => e instanceof UserError && e.message.includes(nowhere) && /does not exist/.test(e.message));
  const root = tmpDir('idx-split');
  writeIdxSplit(root, 'train', [1]);
  await assert.rejects(spec.open(root, 'validation'), (e: unknown) => e instanceof UserError && /unknown split 'validation'/.test(e.message));
  await assert.rejects(spec.open(root, 'test'), (e: unknown) => e instanceof UserError && e.message.includes('t10k-images-idx3-ubyte.gz'));
  assert.equal(spec.isPresent(root, 'train'), true);
  assert.equal(spec.isPresent(root, 'test'), false);
  assert.equal(spec.isPresent(root), false);
});

test('fingerprint: equal for equal files wherever they are, changes when a file changes', async () => {
  const spec = getDataset('mnist');
  const a = tmpDir('fp-a');
  const b = tmpDir('fp-b');
  writeIdxSplit(a, 't10k', [1, 2, 3]);
  writeIdxSplit(b, 't10k', [1, 2, 3]);
  const fa = (await spec.open(a, 'test')).fingerprint;
  assert.equal((await spec.open(b, 'test')).fingerprint, fa);
  assert.equal((await spec.open(a, 'test')).fingerprint, fa);
  writeIdxSplit(b, 't10k', [1, 2, 4]);
  assert.notEqual((await spec.open(b, 'test')).fingerprint, fa);
  // a same-size change in the middle of a large file (test/cache/reliability.test.ts: with size and mtime kept)
  const big = tmpDir('fp-big');
  const buf = Buffer.alloc(3 << 20, 1);
  fs.writeFileSync(path.join(big, 'x.bin'), buf);
  const f1 = fingerprintFiles(big, ['x.bin']);
  buf[buf.length >> 1] = 2;
  fs.writeFileSync(path.join(big, 'x.bin'), buf);
  assert.notEqual(fingerprintFiles(big, ['x.bin']), f1);
});
