import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { classificationMetrics, correctAt, imageOutcomes, metricsOfOutcomes, type ImageOutcomes } from '../../src/eval/metrics.js';
import { pairedComparison, sameImages } from '../../src/eval/paired.js';
import { decodePredictions, encodePredictions, predictionsRelPath, readPredictions, writePredictions } from '../../src/results/predictions.js';

/** Outcomes of n images over nClasses where `right[i]` says whether image i is classified right (rank 0 or 3). */
export function outcomesOf(right: ArrayLike<number>, nClasses = 10): ImageOutcomes {
  const n = right.length;
  const labels = Int32Array.from({ length: n }, (_, i) => i % nClasses);
  const predicted = labels.map((y, i) => (right[i] ? y : (y + 1) % nClasses));
  const trueRank = Int32Array.from({ length: n }, (_, i) => (right[i] ? 0 : 3));
  return { n, nClasses, labels, predicted, trueRank };
}

test('per-image outcomes: argmax, rank of the true class, metrics from them', () => {
  // 3 images x 4 classes
  const scores = Float32Array.from([0.1, 0.7, 0.2, 0.0, 0.5, 0.5, 0.1, 0.2, 0.3, 0.2, 0.1, 0.9]);
  const labels = Int32Array.from([1, 1, 0]);
  const o = imageOutcomes(scores, labels, 3, 4);
  assert.deepEqual(Array.from(o.predicted), [1, 0, 3]);
  // image 1: a tie with class 0 goes to the lower index, so class 1 ranks second
  assert.deepEqual(Array.from(o.trueRank), [0, 1, 1]);
  assert.deepEqual(Array.from(correctAt(o, 1)), [1, 0, 0]);
  const m = classificationMetrics(scores, labels, 3, 4);
  assert.equal(m.top1, 100 / 3);
  assert.equal(m.top5, null);
  assert.equal(m.meanPerClass, 25);
  assert.deepEqual(metricsOfOutcomes(o).top1, m.top1);
  assert.equal(m.outcomes!.n, 3);
});

test('predictions .npy: compact dtype, [n, 3] and [seeds, n, 3], round trip, readable by numpy', (t) => {
  // 12 images of 10 classes: decoding recovers the class count from the largest class seen
  const a = outcomesOf([1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1]);
  const b = outcomesOf([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  const one = encodePredictions([a], false);
  assert.ok(one.toString('latin1', 0, 128).includes("'descr': '|u1'"));
  assert.ok(one.toString('latin1', 0, 128).includes("'shape': (12, 3)"));
  assert.deepEqual(decodePredictions(one, 'x.npy'), [a]);
  const stacked = encodePredictions([a, b], true);
  assert.ok(stacked.toString('latin1', 0, 128).includes("'shape': (2, 12, 3)"));
  assert.deepEqual(decodePredictions(stacked, 'x.npy'), [a, b]);
  // 1000 classes do not fit a byte
  const wide: ImageOutcomes = { n: 2, nClasses: 1000, labels: Int32Array.from([999, 3]), predicted: Int32Array.from([999, 998]), trueRank: Int32Array.from([0, 500]) };
  const enc = encodePredictions([wide], false);
  assert.ok(enc.toString('latin1', 0, 128).includes("'descr': '<i2'"));
  assert.deepEqual(Array.from(decodePredictions(enc, 'w.npy')[0]!.trueRank), [0, 500]);
  assert.throws(() => decodePredictions(enc.subarray(0, enc.length - 1), 'w.npy'), /w\.npy: truncated predictions/);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-pred-'));
  try {
    const rel = predictionsRelPath('fewshot', 'mini\u0000fashion-mnist\u00004', 'mini fashion-mnist/4-shot');
    assert.match(rel, /^predictions\/fewshot\/mini_fashion-mnist_4-shot-[0-9a-f]{12}\.npy$/);
    assert.notEqual(rel, predictionsRelPath('fewshot', 'mini\u0000fashion-mnist\u00008', 'mini fashion-mnist/4-shot'));
    writePredictions(dir, rel, [a, b], true);
    assert.deepEqual(readPredictions(dir, rel), [a, b]);
    assert.equal(readPredictions(dir, 'predictions/none.npy'), null);
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.diagnostic('numpy not available: skipped the numpy.load check');
      return;
    }
    const py = 'import numpy as np, sys, json; p = np.load(sys.argv[1]); print(json.dumps({"shape": list(p.shape), "dtype": p.dtype.str, "acc": (p[..., 1] == p[..., 0]).mean(axis=1).tolist()}))';
    const r = spawnSync('/usr/bin/python3', ['-c', py, path.join(dir, rel)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { shape: [2, 12, 3], dtype: '|u1', acc: [9 / 12, 9 / 12] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `base` right on a fraction of n images; the candidate loses `lose` of them and gains `gain` others. */
function pairOf(n: number, rightFraction: number, lose: number, gain: number): [ImageOutcomes, ImageOutcomes] {
  const a = Array.from({ length: n }, (_, i) => ((i * 7919) % n < rightFraction * n ? 1 : 0));
  const b = [...a];
  let l = 0;
  let g = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] && l < lose) {
      b[i] = 0;
      l++;
    } else if (!a[i] && g < gain) {
      b[i] = 1;
      g++;
    }
  }
  return [outcomesOf(a), outcomesOf(b)];
}

test('paired comparison: a small drop on many images is significant, a larger one on few images is not', () => {
  // 20,000 images: -0.6 points (150 lost, 30 gained)
  const [a, b] = pairOf(20000, 0.8, 150, 30);
  const big = pairedComparison([a], [b], 'top1', { seed: 0 });
  assert.equal(big.test, 'mcnemar');
  assert.equal(big.onlyA, 150);
  assert.equal(big.onlyB, 30);
  assert.ok(Math.abs(big.diff + 0.6) < 1e-9, `diff ${big.diff}`);
  assert.ok(big.hi < 0 && big.lo < big.diff && big.diff < big.hi, `interval [${big.lo}, ${big.hi}]`);
  assert.ok(big.p < 1e-15, `p ${big.p}`);
  // 200 images: -1.5 points (4 lost, 1 gained): 2 * P(X <= 1 | 5, 1/2) = 0.375
  const [c, d] = pairOf(200, 0.8, 4, 1);
  const small = pairedComparison([c], [d], 'top1', { seed: 0 });
  assert.ok(Math.abs(small.diff + 1.5) < 1e-9);
  assert.ok(Math.abs(small.p - 0.375) < 1e-12, `p ${small.p}`);
  assert.ok(small.lo < 0 && small.hi >= 0, `interval [${small.lo}, ${small.hi}] contains 0`);
  // mean per class and few-shot seeds use the bootstrap's test
  const mpc = pairedComparison([a], [b], 'mean_per_class', { seed: 0 });
  assert.equal(mpc.test, 'bootstrap');
  assert.ok(mpc.p < 0.01 && mpc.hi < 0);
  const seeds = pairedComparison([c, c], [d, c], 'top1', { seed: 0 });
  assert.equal(seeds.seeds, 2);
  assert.equal(seeds.test, 'bootstrap');
  assert.ok(seeds.p > 0.05);
  // identical outcomes: no difference at all
  const same = pairedComparison([a], [a], 'top1');
  assert.deepEqual([same.diff, same.lo, same.hi, same.p], [0, 0, 0, 1]);
  // other images are refused
  assert.match(sameImages([a], [c])!, /20000 vs 200 images/);
  assert.throws(() => pairedComparison([a], [c], 'top1'), /not the same images/);
});
