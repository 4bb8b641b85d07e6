import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../src/errors.js';
import { getDataset } from '../../src/data/registry.js';
import { extractTarGz } from '../../src/data/download.js';
import { cifarRecords, makeTarGz, rgbPixel, stlImages, tmpDir } from '../support/data-files.js';

/** Check RGB HWC pixel (y, x) of record i against the generator. */
function assertPixel(data: Uint8Array, side: number, i: number, y: number, x: number): void {
  for (let ch = 0; ch < 3; ch++) assert.equal(data[(y * side + x) * 3 + ch], rgbPixel(i, ch, y, x), `record ${i} (${y},${x}) ch ${ch}`);
}

test('cifar10: tar.gz in the canonical layout, 5 train batches + test batch, planar -> HWC', async () => {
  const root = tmpDir('cifar10');
  const archive = path.join(root, 'cifar-10-binary.tar.gz');
  const dir = 'cifar-10-batches-bin';
  // train batch k holds records with labels [k, k+1]; record index inside each file restarts at 0
  const entries = [1, 2, 3, 4, 5].map((k) => ({ name: `${dir}/data_batch_${k}.bin`, data: cifarRecords([[k], [k + 1]]) }));
  entries.push({ name: `${dir}/test_batch.bin`, data: cifarRecords([[3], [9], [0]]) });
  fs.writeFileSync(archive, makeTarGz([{ name: `${dir}/`, type: '5' as const }, ...entries, { name: `${dir}/batches.meta.txt`, data: 'airplane\n' }]));
  const spec = getDataset('cifar10');
  assert.equal(spec.isPresent(root), false);
  await extractTarGz(archive, root);
  assert.equal(spec.isPresent(root), true);
  const train = await spec.open(root, 'train');
  assert.equal(train.n, 10);
  assert.deepEqual([...train.labels], [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
  const img = await train.load(7); // data_batch_4.bin record 1
  assert.deepEqual([img.width, img.height, img.channels], [32, 32, 3]);
  assertPixel(img.data, 32, 1, 0, 0);
  assertPixel(img.data, 32, 1, 5, 17);
  assertPixel(img.data, 32, 1, 31, 31);
  assert.match(train.describe(7), /data_batch_4\.bin#1$/);
  const t = await spec.open(root, 'test');
  assert.deepEqual([...t.labels], [3, 9, 0]);
  assert.equal(t.classes[3], 'cat');
  assertPixel((await t.load(2)).data, 32, 2, 20, 4);
});

test('cifar100: fine labels, 3074-byte records', async () => {
  const root = tmpDir('cifar100');
  const archive = path.join(root, 'cifar-100-binary.tar.gz');
  fs.writeFileSync(
    archive,
    makeTarGz([
      { name: 'cifar-100-binary/train.bin', data: cifarRecords([[4, 30], [1, 99]]) },
      { name: 'cifar-100-binary/test.bin', data: cifarRecords([[19, 0], [7, 55], [2, 72]]) },
    ]),
  );
  await extractTarGz(archive, root);
  const spec = getDataset('cifar100');
  const test10k = await spec.open(root, 'test');
  assert.deepEqual([...test10k.labels], [0, 55, 72]);
  assert.equal(test10k.classes.length, 100);
  assertPixel((await test10k.load(1)).data, 32, 1, 9, 30);
  const train = await spec.open(root, 'train');
  assert.deepEqual([...train.labels], [30, 99]);
});

test('stl10: column-major planes -> row-major HWC, labels 1..10 -> 0..9, unlabeled not extracted', async () => {
  const root = tmpDir('stl10');
  const archive = path.join(root, 'stl10_binary.tar.gz');
  fs.writeFileSync(
    archive,
    makeTarGz([
      { name: 'stl10_binary/train_X.bin', data: stlImages(2) },
      { name: 'stl10_binary/train_y.bin', data: Buffer.from([1, 10]) },
      { name: 'stl10_binary/test_X.bin', data: stlImages(3) },
      { name: 'stl10_binary/test_y.bin', data: Buffer.from([3, 5, 7]) },
      { name: 'stl10_binary/unlabeled_X.bin', data: Buffer.alloc(1000) },
    ]),
  );
  const spec = getDataset('stl10');
  assert.equal(spec.source.kind, 'download');
  const extract = spec.source.kind === 'download' ? spec.source.download.extract : undefined;
  await extractTarGz(archive, root, { filter: extract!.filter });
  assert.equal(fs.existsSync(path.join(root, 'stl10_binary/unlabeled_X.bin')), false);
  const train = await spec.open(root, 'train');
  assert.deepEqual([...train.labels], [0, 9]);
  const t = await spec.open(root, 'test');
  assert.deepEqual([...t.labels], [2, 4, 6]);
  const img = await t.load(2);
  assert.deepEqual([img.width, img.height, img.channels], [96, 96, 3]);
  assertPixel(img.data, 96, 2, 0, 1); // x != y: catches a missed transpose
  assertPixel(img.data, 96, 2, 1, 0);
  assertPixel(img.data, 96, 2, 70, 13);
  assertPixel(img.data, 96, 2, 95, 95);
});

test('truncated or corrupt CIFAR/STL files -> UserError naming the file', async () => {
  const root = tmpDir('cifar-trunc');
  fs.mkdirSync(path.join(root, 'cifar-10-batches-bin'));
  const f = path.join(root, 'cifar-10-batches-bin', 'test_batch.bin');
  fs.writeFileSync(f, cifarRecords([[1], [2]]).subarray(0, 3073 + 100));
  const c10 = getDataset('cifar10');
  await assert.rejects(c10.open(root, 'test'), (e: unknown) => e instanceof UserError && e.message.includes(f) && /truncated/.test(e.message));
  fs.writeFileSync(f, cifarRecords([[1], [12]]));
  await assert.rejects(c10.open(root, 'test'), (e: unknown) => e instanceof UserError && e.message.includes(f) && /label 12/.test(e.message));
  // train needs all five batches
  await assert.rejects(c10.open(root, 'train'), (e: unknown) => e instanceof UserError && e.message.includes('data_batch_1.bin'));

  const sroot = tmpDir('stl-trunc');
  fs.mkdirSync(path.join(sroot, 'stl10_binary'));
  const x = path.join(sroot, 'stl10_binary', 'test_X.bin');
  fs.writeFileSync(x, stlImages(2).subarray(0, 27648 + 5));
  fs.writeFileSync(path.join(sroot, 'stl10_binary', 'test_y.bin'), Buffer.from([1, 2]));
  await assert.rejects(getDataset('stl10').open(sroot, 'test'), (e: unknown) => e instanceof UserError && e.message.includes(x));
  fs.writeFileSync(x, stlImages(2));
  fs.writeFileSync(path.join(sroot, 'stl10_binary', 'test_y.bin'), Buffer.from([0, 2]));
  await assert.rejects(getDataset('stl10').open(sroot, 'test'), (e: unknown) => e instanceof UserError && /label 0/.test(e.message));
});

test('cifar/stl: missing root and unknown split -> UserError', async () => {
  const nowhere = path.join(tmpDir('cifar-missing'), 'absent');
  for (const name of ['cifar10', 'cifar100', 'stl10']) {
    const spec = getDataset(name);
    await assert.rejects(spec.open(nowhere, 'test'), (e: unknown) => e instanceof UserError && e.message.includes(nowhere));
    await assert.rejects(spec.open(path.dirname(nowhere), 'unlabeled'), (e: unknown) => e instanceof UserError && /unknown split/.test(e.message));
  }
});
