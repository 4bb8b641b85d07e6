import assert from 'node:assert/strict';
import test from 'node:test';
import { runIntervals, seedIntervals, withinBestInterval } from '../src/eval/intervals.js';
import type { ImageOutcomes } from '../src/eval/metrics.js';
import { clopperPearson, seedMeanInterval } from '../src/eval/stats.js';

function outcomes(n: number, nClasses: number, rank: (i: number) => number): ImageOutcomes {
  const labels = Int32Array.from({ length: n }, (_, i) => i % nClasses);
  const trueRank = Int32Array.from({ length: n }, (_, i) => rank(i));
  const predicted = labels.map((y, i) => (trueRank[i] === 0 ? y : (y + 1) % nClasses));
  return { n, nClasses, labels, predicted, trueRank };
}

test('run intervals: Clopper-Pearson for top-1/top-5, a bootstrap around mean per class', () => {
  // 1000 images, 10 classes: 700 right, 900 in the top 5; class c right on images with i % 13 < 9.1
  const o = outcomes(1000, 10, (i) => (i % 10 < 7 ? 0 : i % 10 < 9 ? 3 : 7));
  const r = runIntervals(o, true);
  const t1 = clopperPearson(700, 1000);
  const t5 = clopperPearson(900, 1000);
  assert.deepEqual([r.top1_lo, r.top1_hi], [100 * t1.lo, 100 * t1.hi]);
  assert.deepEqual([r.top5_lo, r.top5_hi], [100 * t5.lo, 100 * t5.hi]);
  // classes 0-6 all right, 7-9 all wrong: per-class recall is 70% whatever the resample
  assert.ok(Math.abs(r.mean_per_class_lo - 70) < 1e-9 && Math.abs(r.mean_per_class_hi - 70) < 1e-9);
  const mixed = outcomes(1000, 10, (i) => ((i * 7) % 11 < 8 ? 0 : 2));
  const m = runIntervals(mixed, false);
  assert.equal(m.top5_lo, null);
  assert.ok(m.mean_per_class_lo < m.mean_per_class_hi && m.mean_per_class_hi - m.mean_per_class_lo < 8);
  assert.deepEqual(runIntervals(mixed, false), m, 'seeded: the same columns every time');
});

test('few-shot intervals: the seeds spread plus the shared test set', () => {
  // five draws that agree on almost every image: the seeds alone would claim +-0.1 points
  const seeds = [0, 1, 2, 3, 4].map((s) => outcomes(2000, 10, (i) => ((i * 7) % 100 < 60 || i < s * 2 ? 0 : 1)));
  const r = seedIntervals(seeds);
  const tops = seeds.map((o) => o.trueRank.filter((v) => v === 0).length / o.n);
  const plain = seedMeanInterval(tops)!;
  const mean = (100 * tops.reduce((a, b) => a + b, 0)) / tops.length;
  assert.ok(r.top1_mean_lo! < mean && mean < r.top1_mean_hi!);
  // wider than the seeds alone: the test images are shared by every seed
  assert.ok(100 * (plain.hi - plain.lo) < 0.3, `${plain.lo} .. ${plain.hi}`);
  // +- t_4 * sqrt(0.6 * 0.4 / 2000) = +-3.0 points
  assert.ok(Math.abs(r.top1_mean_hi! - r.top1_mean_lo! - 6.1) < 0.3, `${r.top1_mean_lo} .. ${r.top1_mean_hi}`);
  assert.ok(r.mean_per_class_mean_lo! < r.mean_per_class_mean_hi!);
  assert.deepEqual(seedIntervals(seeds.slice(0, 1)), { top1_mean_lo: null, top1_mean_hi: null, mean_per_class_mean_lo: null, mean_per_class_mean_hi: null });
});

test('Table 10 bolding: within the 99.5% Clopper-Pearson interval of the best', () => {
  // best 80.00% of 10,000: the interval's lower end is 78.88%
  const lo = 100 * clopperPearson(8000, 10000, 0.005).lo;
  assert.ok(lo > 78.8 && lo < 79, `${lo}`);
  assert.deepEqual(
    withinBestInterval([
      { score: 79.0, n: 10000 },
      { score: 80.0, n: 10000 },
      { score: 78.5, n: 10000 },
    ]),
    [true, true, false],
  );
  // on 100 images the interval is wide: 68% is still among the best
  assert.deepEqual(withinBestInterval([{ score: 80, n: 100 }, { score: 68, n: 100 }, { score: 60, n: 100 }]), [true, true, false]);
  assert.deepEqual(withinBestInterval([]), []);
});
