import assert from 'node:assert/strict';
import test from 'node:test';
import { runIntervals, seedIntervals, withinBestInterval } from '../../src/eval/intervals.js';
import { metricsOfOutcomes, type ImageOutcomes } from '../../src/eval/metrics.js';
import { scorePrimary } from '../../src/eval/primary.js';
import { fewshotTable, primaryMeanInterval } from '../../src/results/tables/fewshot.js';
import { zeroshotTable } from '../../src/results/tables/zeroshot.js';
import { clopperPearson, seedMeanInterval } from '../../src/eval/stats.js';

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

test('intervals lie inside the metric\'s range and say what they are over; too few seeds give none, with the reason', () => {
  // three draws at 10%, 90% and 50% top-1: mean +- t_2 sd / sqrt(3) would run from about -50 to 150
  const at = (p: number) => outcomes(100, 10, (i) => (i < p ? 0 : 1));
  const wide = seedIntervals([at(10), at(90), at(50)]);
  for (const v of Object.values(wide)) assert.ok(v !== null && v >= 0 && v <= 100, `${JSON.stringify(wide)}`);
  assert.equal(wide.top1_mean_lo, 0);
  assert.equal(wide.top1_mean_hi, 100);
  // two draws: a t_1 interval (12.7 sd) says nothing; blank, and the row says why
  assert.deepEqual(seedIntervals([at(40), at(60)]), { top1_mean_lo: null, top1_mean_hi: null, mean_per_class_mean_lo: null, mean_per_class_mean_hi: null });
  const primary = (o: ImageOutcomes) => scorePrimary('accuracy', new Float32Array(0), metricsOfOutcomes(o), o.nClasses);
  const point = (seeds: ImageOutcomes[]) => ({ shots: 1, top1: seeds.map((o) => metricsOfOutcomes(o).top1), meanPerClass: seeds.map((o) => metricsOfOutcomes(o).meanPerClass), primary: seeds.map(primary), C: seeds.map(() => 1), outcomes: seeds });
  const build = (seeds: ImageOutcomes[]) =>
    fewshotTable.build({ model: 'm', dataset: 'd', features: 'embedding', subset: { limit: null, subset_seed: null, skipped_images: 0 }, primaryMetric: 'accuracy', seeds: seeds.length, points: [point(seeds)], zeroshot: null, equivalentShots: null })[0]!;
  const two = build([at(40), at(60)]);
  assert.equal(two.primary_mean_lo, null);
  assert.equal(two.top1_mean_hi, null);
  assert.equal(two.intervals, 'none: 2 seeds (an interval over seeds needs 3)');
  const three = build([at(10), at(90), at(50)]);
  assert.equal(three.intervals, 'seeds+images');
  assert.deepEqual([three.primary_mean_lo, three.primary_mean_hi], [0, 100]);
  // a file written before the rule: its 2-seed interval is not shown (the report's bands and tables read this)
  assert.deepEqual(primaryMeanInterval({ ...two, primary_mean: 50, primary_mean_lo: -36.5, primary_mean_hi: 176.5 }), [null, null]);
  assert.deepEqual(primaryMeanInterval({ ...three, primary_mean: 50, primary_mean_lo: -3, primary_mean_hi: 103 }), [0, 100]);
  // one run's intervals are over its images
  const run = zeroshotTable.build({ model: 'm', dataset: 'd', split: 'test', subset: { limit: null, subset_seed: null, skipped_images: 0 }, nImages: 100, primaryMetric: 'accuracy', results: [{ mode: 'single', templates: ['{}'], metrics: { ...metricsOfOutcomes(at(50)), primary: primary(at(50)) }, gainVsContextless: null }] as never })[0]!;
  assert.equal(run.intervals, 'images');
});
