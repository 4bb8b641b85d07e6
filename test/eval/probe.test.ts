import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { parametricSearch, C_RESOLUTION_LOG10 } from '../../src/eval/probe.js';
import { sampleShots, meanStd } from '../../src/eval/fewshot.js';
import { holdOut } from '../../src/eval/linear-probe.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-probe-'));

test("the paper's C search: grid, then halving to 8 steps per decade", async () => {
  // a smooth score peaking at log10 C = 1.3
  const calls: number[] = [];
  const r = await parametricSearch(async (C) => {
    calls.push(Math.log10(C));
    return -Math.abs(Math.log10(C) - 1.3);
  });
  assert.deepEqual(calls.slice(0, 7).map(Math.round), [-6, -4, -2, 0, 2, 4, 6]);
  assert.ok(Math.abs(Math.log10(r.C) - 1.25) < 1e-9, `chose 10^${Math.log10(r.C)}`);
  // every C tried lies on the 1/8-decade grid, and each one was fitted once
  for (const l of calls) assert.ok(Math.abs(l / C_RESOLUTION_LOG10 - Math.round(l / C_RESOLUTION_LOG10)) < 1e-9);
  assert.equal(new Set(calls.map((l) => l.toFixed(6))).size, calls.length);
  assert.equal(calls.length, 7 + 2 * 4);
  // ties go to the smaller C
  const flat = await parametricSearch(async () => 50);
  assert.equal(flat.C, 1e-6);
});

test('few-shot samples are seeded, class-major, and refuse classes with too few images', () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => i % 4);
  const a = sampleShots(labels, 4, 5, 42, ['a', 'b', 'c', 'd']);
  assert.deepEqual(a, sampleShots(labels, 4, 5, 42, ['a', 'b', 'c', 'd']));
  assert.notDeepEqual(a, sampleShots(labels, 4, 5, 43, ['a', 'b', 'c', 'd']));
  for (let i = 0; i < a.length; i++) assert.equal(labels[a[i]], Math.floor(i / 5));
  assert.equal(new Set(a).size, 20);
  const few = Int32Array.from([0, 0, 0, 1, 1, 2]);
  assert.throws(() => sampleShots(few, 3, 2, 0, ['x', 'y', 'zebra']), /class 2 "zebra" has 1 training images, fewer than 2 shots/);
  assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1 });
  assert.equal(meanStd([4]).std, null);
});

test('validation is held out of train, stratified and seeded', () => {
  const n = 200;
  const X = Float32Array.from({ length: n * 2 }, (_, i) => i);
  const y = Int32Array.from({ length: n }, (_, i) => (i < 150 ? 0 : 1));
  const [train, val] = holdOut({ X, y, n, dim: 2 }, 2, 0.2, 0);
  assert.equal(val.n, 40);
  assert.equal(train.n, 160);
  assert.equal(val.y.filter((c) => c === 1).length, 10, 'class proportions kept');
  const [, again] = holdOut({ X, y, n, dim: 2 }, 2, 0.2, 0);
  assert.deepEqual(again.X, val.X);
});

test('linear-probe and fewshot write their tables; the zero-shot equivalent uses both', async () => {
  const out = tmp();
  const cache = tmp();
  const common = ['--model', tiny, '--limit', '400', '--out', out, '--cache-dir', cache, '--threads', '1'];
  const zs = await runCli(['zeroshot', ...common]);
  assert.equal(zs.status, 0, zs.stderr);
  const lp = await runCli(['linear-probe', ...common, '--json']);
  assert.equal(lp.status, 0, lp.stderr);
  const [row] = JSON.parse(lp.stdout);
  assert.equal(row.n_train + row.n_val, 400);
  assert.equal(row.n_val, 80);
  assert.equal(row.n_test, 400);
  assert.ok(Math.abs(Math.log10(row.C) * 8 - Math.round(Math.log10(row.C) * 8)) < 1e-6, `C ${row.C} on the search grid`);
  assert.ok(row.top1 > 15, `linear probe beats chance: ${row.top1}`);
  const header = readFileSync(path.join(out, 'linear_probe.csv'), 'utf8').split('\n')[0];
  assert.equal(header, 'model,dataset,n_train,n_val,n_test,C,top1,top5,mean_per_class,primary_metric,solver,seconds,limit,subset_seed,skipped_images,top1_lo,top1_hi,top5_lo,top5_hi,mean_per_class_lo,mean_per_class_hi,primary,primary_lo,primary_hi,features,intervals,dtype,preprocess,model_digest,provider');
  assert.ok(row.top1_lo < row.top1 && row.top1 < row.top1_hi, `95% interval around top-1: ${row.top1_lo} .. ${row.top1_hi}`);

  const fs = await runCli(['fewshot', ...common, '--shots', '1,2,4', '--seeds', '3', '--json']);
  assert.equal(fs.status, 0, fs.stderr);
  const rows = JSON.parse(fs.stdout);
  assert.deepEqual(rows.map((r: { shots: number }) => r.shots), [1, 2, 4]);
  const zsRows = JSON.parse(readFileSync(path.join(out, 'zeroshot.json'), 'utf8')).rows;
  const ensemble = zsRows.find((r: { prompts: string }) => r.prompts === 'ensemble');
  for (const r of rows) {
    assert.equal(r.seeds, 3);
    assert.ok(r.top1_std !== null && r.top1_std >= 0);
    assert.ok(r.top1_mean_lo < r.top1_mean && r.top1_mean < r.top1_mean_hi, `interval of the mean over seeds: ${r.top1_mean_lo} .. ${r.top1_mean_hi}`);
    assert.equal(r.zeroshot_top1, ensemble.top1);
    assert.ok(r.zeroshot_equivalent_shots !== null, 'a data-efficiency figure');
  }
  const again = await runCli(['fewshot', ...common, '--shots', '1,2,4', '--seeds', '3', '--json']);
  assert.deepEqual(JSON.parse(again.stdout), rows, 'seeded: the same numbers on a rerun');

  const mljs = await runCli(['linear-probe', ...common, '--solver', 'mljs', '--json']);
  assert.equal(mljs.status, 0, mljs.stderr);
  assert.equal(JSON.parse(mljs.stdout)[0].C, null);
});

test('fewshot names a class with too few training images', async () => {
  const root = tmp();
  const sizes = { ant: 3, bee: 1 };
  for (const split of ['train', 'test']) {
    for (const [cls, count] of Object.entries(sizes)) {
      mkdirSync(path.join(root, split, cls), { recursive: true });
      for (let i = 0; i < count; i++) {
        await sharp({ create: { width: 16, height: 16, channels: 3, background: cls === 'ant' ? '#a00' : '#0a0' } }).png().toFile(path.join(root, split, cls, `${i}.png`));
      }
    }
  }
  const r = await runCli(['fewshot', '--model', tiny, '--dataset', 'imagefolder', '--dataset-root', root, '--shots', '2', '--out', tmp(), '--cache-dir', tmp()]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /class 1 "bee" has 1 training images, fewer than 2 shots/);
});

test('a single .onnx image model (preprocessing from flags) serves as the linear-probe baseline of the report', async () => {
  const out = tmp();
  const cache = tmp();
  const baseline = path.join(tiny, 'onnx', 'vision_model.onnx');
  const common = ['--limit', '300', '--out', out, '--cache-dir', cache, '--threads', '1'];
  const zs = await runCli(['zeroshot', '--model', tiny, ...common]);
  assert.equal(zs.status, 0, zs.stderr);
  const lp = await runCli(['linear-probe', '--model', baseline, '--image-size', '16', '--image-mean', '0.5,0.5,0.5', '--image-std', '0.25,0.25,0.25', ...common, '--json']);
  assert.equal(lp.status, 0, lp.stderr);
  const probe = JSON.parse(lp.stdout)[0];
  assert.equal(probe.model, baseline);
  const noZeroshot = await runCli(['zeroshot', '--model', baseline, ...common]);
  assert.equal(noZeroshot.status, 2);
  assert.match(noZeroshot.stderr, /a single \.onnx file is an image model/);

  const report = await runCli(['report', '--results', out, '--baseline-model', baseline]);
  assert.equal(report.status, 0, report.stderr);
  const gap = readFileSync(path.join(out, 'report', 'zeroshot_vs_baseline_probe.csv'), 'utf8'); // Figure 5: the baseline backbone's probe
  const ensemble = JSON.parse(readFileSync(path.join(out, 'zeroshot.json'), 'utf8')).rows.find((r: { prompts: string }) => r.prompts === 'ensemble');
  assert.ok(gap.includes((ensemble.top1 - probe.top1).toFixed(2)), `zero-shot minus baseline probe in:\n${gap}`);
});
