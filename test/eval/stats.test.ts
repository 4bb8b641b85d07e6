import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { classificationMetrics, meanTop1Top5 } from '../../src/eval/metrics.js';
import { rocAuc, vocAp11, vocMeanAp11 } from '../../src/eval/ranking.js';
import { ibeta, ibetaInv, studentTQuantile } from '../../src/eval/special.js';
import {
  accuracyStatistic,
  bootstrapPercentile,
  BOOTSTRAP_RESAMPLES,
  clopperPearson,
  discordant,
  holm,
  mcnemarExact,
  meanPerClassStatistic,
  pairedBootstrapDiff,
  seedMeanInterval,
} from '../../src/eval/stats.js';
import { repoRoot } from '../support/helpers.js';

// reference values from scripts/make_stats_fixture.py (scipy 1.10, statsmodels 0.13, scikit-learn 1.2)
function fixture(name: string): any {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'stats', name), 'utf8'));
}

function close(actual: number, expected: number, rel: number, what: string): void {
  const tol = rel * Math.max(Math.abs(expected), 1e-300);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (|diff| ${Math.abs(actual - expected)} > ${tol})`);
}

test('special functions match scipy: betainc, betaincinv, t.ppf, t.interval', () => {
  const f = fixture('special.json');
  for (const c of f.ibeta) close(ibeta(c.x, c.a, c.b), c.value, 1e-10, `ibeta(${c.x}; ${c.a}, ${c.b})`);
  for (const c of f.ibeta_inv) close(ibetaInv(c.p, c.a, c.b), c.value, 1e-10, `ibetaInv(${c.p}; ${c.a}, ${c.b})`);
  for (const c of f.t_quantile) close(studentTQuantile(c.p, c.df), c.value, 1e-9, `t.ppf(${c.p}, ${c.df})`);
  for (const c of f.seed_mean_interval) {
    const r = seedMeanInterval(c.values)!;
    close(r.lo, c.lo, 1e-10, `t.interval lo ${c.values}`);
    close(r.hi, c.hi, 1e-10, `t.interval hi ${c.values}`);
  }
  assert.equal(seedMeanInterval([71.2]), null);
  // the extra (shared test set) variance widens the interval
  const plain = seedMeanInterval([1, 2, 3])!;
  const wider = seedMeanInterval([1, 2, 3], 0.95, 0.5)!;
  assert.ok(wider.hi - wider.lo > plain.hi - plain.lo);
});

test('Clopper-Pearson matches statsmodels proportion_confint(method="beta") at 95% and 99.5%', () => {
  const f = fixture('clopper_pearson.json');
  assert.ok(f.cases.length >= 20);
  for (const c of f.cases) {
    const r = clopperPearson(c.k, c.n, c.alpha);
    const what = `CP(${c.k}/${c.n}, alpha=${c.alpha})`;
    if (c.lo === 0) assert.equal(r.lo, 0, what);
    else close(r.lo, c.lo, 1e-11, `${what} lo`);
    if (c.hi === 1) assert.equal(r.hi, 1, what);
    else close(r.hi, c.hi, 1e-11, `${what} hi`);
  }
  assert.deepEqual(clopperPearson(0, 0), { lo: 0, hi: 1 });
  assert.throws(() => clopperPearson(5, 4), RangeError);
  assert.throws(() => clopperPearson(1, 4, 0), RangeError);
});

test('exact McNemar matches statsmodels mcnemar(exact=True) and scipy binomtest', () => {
  const f = fixture('mcnemar.json');
  for (const c of f.cases) close(mcnemarExact(c.b, c.c), c.p, 1e-9, `mcnemar(${c.b}, ${c.c})`);
  const a = Uint8Array.from([1, 1, 0, 0, 1, 0, 1]);
  const b = Uint8Array.from([1, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual(discordant(a, b), { onlyA: 2, onlyB: 1 });
  assert.throws(() => discordant(a, b.subarray(1)), RangeError);
  assert.throws(() => mcnemarExact(-1, 2), RangeError);
});

test('Holm correction matches statsmodels multipletests(method="holm")', () => {
  const f = fixture('holm.json');
  for (const c of f.cases) {
    const adj = holm(c.p);
    c.adjusted.forEach((v: number, i: number) => close(adj[i]!, v, 1e-12, `holm(${c.p})[${i}]`));
    assert.deepEqual(
      adj.map((v) => v <= f.alpha),
      c.reject,
    );
  }
  assert.deepEqual(holm([]), []);
  assert.throws(() => holm([0.1, 1.5]), RangeError);
});

test('seeded percentile bootstraps agree with scipy.stats.bootstrap within Monte Carlo error', () => {
  const f = fixture('bootstrap.json');
  const labels = Int32Array.from(f.labels);
  const a = Uint8Array.from(f.a);
  const b = Uint8Array.from(f.b);
  const n = f.n as number;
  // a percentile's Monte Carlo standard error is ~ sqrt(q(1-q)/B) / density = 2.67 se / sqrt(B) at q = 0.025;
  // the two estimates (ours with B_ours, scipy's with B_scipy) may differ by 4 of the combined errors
  const tolerance = (se: number): number => 4 * 2.67 * se * Math.sqrt(1 / BOOTSTRAP_RESAMPLES + 1 / f.scipy_resamples);
  const check = (name: string, r: { estimate: number; lo: number; hi: number; se: number }): void => {
    const ref = f.cases[name];
    close(r.estimate, ref.estimate, 1e-12, `${name} estimate`);
    const tol = tolerance(ref.se);
    assert.ok(Math.abs(r.lo - ref.lo) <= tol, `${name} lo ${r.lo} vs scipy ${ref.lo} (tolerance ${tol})`);
    assert.ok(Math.abs(r.hi - ref.hi) <= tol, `${name} hi ${r.hi} vs scipy ${ref.hi} (tolerance ${tol})`);
    assert.ok(Math.abs(r.se - ref.se) <= 0.1 * ref.se, `${name} se ${r.se} vs scipy ${ref.se}`);
  };
  check('accuracy', bootstrapPercentile(n, accuracyStatistic(a), { seed: 1 }));
  check('mean_per_class', bootstrapPercentile(n, meanPerClassStatistic(a, labels, f.n_classes), { seed: 2 }));
  check('paired_diff', pairedBootstrapDiff(n, accuracyStatistic(a), accuracyStatistic(b), { seed: 3 }));

  // seeded: the same seed gives the same interval, another seed another one
  const one = bootstrapPercentile(n, accuracyStatistic(a), { seed: 7, resamples: 500 });
  assert.deepEqual(bootstrapPercentile(n, accuracyStatistic(a), { seed: 7, resamples: 500 }), one);
  assert.notDeepEqual(bootstrapPercentile(n, accuracyStatistic(a), { seed: 8, resamples: 500 }), one);
  // the paired interval is much narrower than the difference of two independent intervals would suggest
  const pd = pairedBootstrapDiff(n, accuracyStatistic(a), accuracyStatistic(b), { seed: 3 });
  assert.ok(pd.hi - pd.lo < 0.6 * (one.hi - one.lo), `paired width ${pd.hi - pd.lo}`);
  assert.throws(() => bootstrapPercentile(0, accuracyStatistic(a)), RangeError);
});

test('ROC AUC matches scikit-learn roc_auc_score, ties included', () => {
  const f = fixture('ranking.json');
  for (const c of f.binary) {
    close(rocAuc(Float64Array.from(c.scores), Uint8Array.from(c.targets)), c.roc_auc, 1e-12, `auc ${c.name}`);
  }
  // tied scores: the order of the tied samples does not matter
  assert.equal(rocAuc(Float64Array.from([0.5, 0.5]), Uint8Array.from([1, 0])), 0.5);
  assert.equal(rocAuc(Float64Array.from([0.5, 0.5]), Uint8Array.from([0, 1])), 0.5);
  assert.throws(() => rocAuc(Float64Array.from([0.1, 0.2]), Uint8Array.from([1, 1])), /only one class/);
});

test('VOC2007 11-point AP and mAP match the devkit formula over scikit-learn precision_recall_curve', () => {
  const f = fixture('ranking.json');
  for (const c of f.binary) {
    close(vocAp11(Float64Array.from(c.scores), Uint8Array.from(c.targets))!, c.voc_ap11, 1e-12, `ap11 ${c.name}`);
  }
  const m = f.multilabel;
  const r = vocMeanAp11(Float32Array.from(m.scores), Uint8Array.from(m.targets), m.n, m.n_classes);
  m.per_class.forEach((v: number | null, c: number) => {
    if (v === null) assert.equal(r.perClass[c], null, `class ${c} has no positives`);
    else close(r.perClass[c]!, v, 1e-12, `ap11 class ${c}`);
  });
  close(r.mAP, m.mAP, 1e-12, 'mAP');
  // a perfect ranking is 1; all positives ranked last among 2 negatives: precision 1/3 at full recall
  assert.equal(vocAp11(Float64Array.from([3, 2, 1]), Uint8Array.from([1, 1, 0])), 1);
  close(vocAp11(Float64Array.from([3, 2, 1]), Uint8Array.from([0, 0, 1]))!, 1 / 3, 1e-15, 'worst');
});

test('Kinetics metric: the mean of top-1 and top-5', () => {
  // 3 images, 6 classes: true class ranked 0, 2 and 5
  const scores = Float32Array.from([9, 1, 1, 1, 1, 1, 5, 6, 7, 1, 1, 1, 1, 2, 3, 4, 5, 0]);
  const m = classificationMetrics(scores, Int32Array.from([0, 0, 5]), 3, 6);
  close(meanTop1Top5(m)!, (100 / 3 + 200 / 3) / 2, 1e-12, 'mean top1/top5');
  assert.equal(meanTop1Top5({ top1: 50, top5: null }), null);
});
