/**
 * Two classifiers on the same images, compared image by image: the difference of a metric, its paired-bootstrap
 * interval, and a test of "no difference" (exact McNemar on the discordant images for top-1/top-5 of a single run;
 * the paired bootstrap's own test for mean per-class recall and for few-shot means over seeds, where the images'
 * outcomes are not one binary pair).
 */
import { correctAt, type ImageOutcomes } from './metrics.js';
import {
  accuracyStatistic,
  discordant,
  mcnemarExact,
  meanPerClassStatistic,
  pairedBootstrapDiff,
  type BootstrapOptions,
  type ResampleStatistic,
} from './stats.js';

export type PairedMetric = 'top1' | 'top5' | 'mean_per_class';

export interface PairedComparison {
  metric: PairedMetric;
  n: number;
  seeds: number;
  /** the metric of A and of B in percent (few-shot: the mean over seeds) */
  a: number;
  b: number;
  /** b - a in points, with its 95% paired-bootstrap interval */
  diff: number;
  lo: number;
  hi: number;
  /** images right in A only / in B only (summed over seeds) */
  onlyA: number;
  onlyB: number;
  test: 'mcnemar' | 'bootstrap';
  p: number;
}

/** Why two sets of outcomes are not the same images, or null when they are. */
export function sameImages(a: readonly ImageOutcomes[], b: readonly ImageOutcomes[]): string | null {
  if (a.length !== b.length) return `${a.length} vs ${b.length} seeds`;
  for (let s = 0; s < a.length; s++) {
    const x = a[s]!;
    const y = b[s]!;
    if (x.n !== y.n) return `${x.n} vs ${y.n} images`;
    for (let i = 0; i < x.n; i++) if (x.labels[i] !== y.labels[i]) return `labels differ at image ${i}`;
  }
  return null;
}

function statisticOf(sets: readonly ImageOutcomes[], metric: PairedMetric): ResampleStatistic {
  const nClasses = Math.max(...sets.map((s) => s.nClasses));
  const per = sets.map((o) =>
    metric === 'mean_per_class' ? meanPerClassStatistic(correctAt(o, 1), o.labels, nClasses) : accuracyStatistic(correctAt(o, metric === 'top5' ? 5 : 1)),
  );
  if (per.length === 1) return per[0]!;
  return (idx) => {
    let s = 0;
    for (const f of per) s += f(idx);
    return s / per.length;
  };
}

/**
 * Compare outcomes a (reference) and b (candidate) on the same images (one set per few-shot seed, seed s of a
 * paired with seed s of b). Throws RangeError when they are not the same images.
 */
export function pairedComparison(
  a: readonly ImageOutcomes[],
  b: readonly ImageOutcomes[],
  metric: PairedMetric,
  opts: BootstrapOptions = {},
): PairedComparison {
  const why = sameImages(a, b);
  if (why) throw new RangeError(`not the same images: ${why}`);
  if (!a.length) throw new RangeError('pairedComparison: no outcomes');
  const n = a[0]!.n;
  const statA = statisticOf(a, metric);
  const statB = statisticOf(b, metric);
  const boot = pairedBootstrapDiff(n, statB, statA, opts);
  const k = metric === 'top5' ? 5 : 1;
  let onlyA = 0;
  let onlyB = 0;
  for (let s = 0; s < a.length; s++) {
    const d = discordant(correctAt(a[s]!, k), correctAt(b[s]!, k));
    onlyA += d.onlyA;
    onlyB += d.onlyB;
  }
  const exact = a.length === 1 && metric !== 'mean_per_class';
  const all = Int32Array.from({ length: n }, (_, i) => i);
  return {
    metric,
    n,
    seeds: a.length,
    a: 100 * statA(all),
    b: 100 * statB(all),
    diff: 100 * boot.estimate,
    lo: 100 * boot.lo,
    hi: 100 * boot.hi,
    onlyA,
    onlyB,
    test: exact ? 'mcnemar' : 'bootstrap',
    p: exact ? mcnemarExact(onlyA, onlyB) : boot.p,
  };
}
