import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { correctAt } from '../../src/eval/metrics.js';
import { discordant, mcnemarExact } from '../../src/eval/stats.js';
import { listedPredictionsPath, readPredictions } from '../../src/results/predictions.js';
import { readResults } from '../../src/results/index.js';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/helpers.js';

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-compare-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
const cache = path.join(tmpRoot, 'cache');
const fp32 = path.join(tmpRoot, 'fp32');
const q8 = path.join(tmpRoot, 'q8');
const both = path.join(tmpRoot, 'both');
const common = ['--prompts', 'single', '--limit', '500', '--cache-dir', cache, '--no-progress'];

describe('clip-bench compare: the built-in model, fp32 against its int8 export (models/mini/onnx/*_quantized.onnx)', () => {
  it('evaluates both, keeping per-image predictions', async () => {
    for (const [dtype, out] of [['fp32', fp32], ['q8', q8]] as const) {
      const r = await runCli(['zeroshot', '--dtype', dtype, '--out', out, ...common]);
      assert.equal(r.status, 0, r.stderr);
    }
    const rows = readResults(fp32, 'zeroshot')!.rows;
    assert.equal(rows.length, 1);
    const preds = readPredictions(fp32, listedPredictionsPath(fp32, 'zeroshot', rows[0]!))!;
    assert.equal(preds.length, 1);
    assert.equal(preds[0]!.n, 500);
    const right = correctAt(preds[0]!, 1).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs((100 * right) / 500 - rows[0]!.top1!) < 1e-9, 'the predictions give the row its top-1');
    assert.ok(rows[0]!.top1_lo! < rows[0]!.top1! && rows[0]!.top1! < rows[0]!.top1_hi!);
  });

  it('two folders: the difference, its paired interval and the exact McNemar p-value', async () => {
    const r = await runCli(['compare', fp32, q8, '--wide']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /zeroshot\s+fashion-mnist\/test\/single\s+mini\[fp32\]\s+mini\[q8\]\s+500\s+top1\s+\d+\.\d\d\s+\d+\.\d\d\s+[-+]?\d+\.\d\d\s+\[[-+]?\d+\.\d\d, [-+]?\d+\.\d\d\]\s+[\d.e-]+\s+McNemar \d+\/\d+/);
    // the default view says what every row shares once and fits 100 columns
    const compact = await runCli(['compare', fp32, q8]);
    assert.match(compact.stdout, /^A mini\[fp32\], B mini\[q8\], table zeroshot, metric top1\n/);
    assert.match(compact.stdout, /\nfashion-mnist\/test\/single\s+500\s+\d+\.\d\d\s+\d+\.\d\d\s+[-+]?\d+\.\d\d\s+\[/);
    for (const line of compact.stdout.split('\n')) assert.ok(line.length <= 100, line);
    const j = await runCli(['compare', fp32, q8, '--json']);
    assert.equal(j.status, 0, j.stderr);
    const [c] = JSON.parse(j.stdout);
    assert.ok(Math.abs(c.diff - (c.b - c.a)) < 1e-9);
    assert.ok(c.lo <= c.diff && c.diff <= c.hi);
    // the p-value is McNemar's on the images only one of the two got right
    const pa = readPredictions(fp32, listedPredictionsPath(fp32, 'zeroshot', readResults(fp32, 'zeroshot')!.rows[0]!))![0]!;
    const pb = readPredictions(q8, listedPredictionsPath(q8, 'zeroshot', readResults(q8, 'zeroshot')!.rows[0]!))![0]!;
    const d = discordant(correctAt(pa, 1), correctAt(pb, 1));
    assert.deepEqual([c.onlyA, c.onlyB], [d.onlyA, d.onlyB]);
    assert.equal(c.p, mcnemarExact(d.onlyA, d.onlyB));
    assert.equal(c.test, 'mcnemar');
  });

  it('two models of one folder, and clear errors', async () => {
    // the same model directory under another name (its path), int8, beside the built-in fp32 rows
    const modelDir = path.join(repoRoot, 'models', 'mini');
    for (const args of [['--model', 'mini'], ['--model', modelDir, '--dtype', 'q8']]) {
      const r = await runCli(['zeroshot', ...args, '--out', both, ...common]);
      assert.equal(r.status, 0, r.stderr);
    }
    const r = await runCli(['compare', 'mini', modelDir, '--results', both, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const [fromFolders] = JSON.parse((await runCli(['compare', fp32, q8, '--json'])).stdout);
    const [c] = JSON.parse(r.stdout);
    assert.equal(c.model_b, `${modelDir}[q8]`);
    assert.deepEqual([c.a, c.b, c.p], [fromFolders.a, fromFolders.b, fromFolders.p]);
    // a folder of two models must be narrowed to one
    const many = await runCli(['compare', both, q8]);
    assert.equal(many.status, 2);
    assert.match(many.stderr, /holds zeroshot rows of several models .*name one model/);
    assert.equal((await runCli(['compare', both, q8, '--model-a', 'mini'])).status, 0);
    const none = await runCli(['compare', path.join(tmpRoot, 'nope'), q8, '--results', path.join(tmpRoot, 'nope')]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /neither a results folder nor a model/);
    const bad = await runCli(['compare', fp32, q8, '--resamples', '1']);
    assert.equal(bad.status, 2);
  });
});
