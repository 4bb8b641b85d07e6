/**
 * Two classifiers on the same images, compared image by image: the difference of a metric, its paired-bootstrap
 * interval, and a test of "no difference" as the metric's descriptor says (exact McNemar on the discordant images
 * for top-1/top-5 of a single run; the paired bootstrap's own test for the others and for few-shot means over
 * seeds, where the images' outcomes are not one binary pair).
 */
import { correctAt, type ImageOutcomes } from './metrics.js';
import { METRICS, type ImageEvidence, type MetricName } from './metric-descriptors.js';
import { discordant, mcnemarExact, pairedBootstrapDiff, type BootstrapOptions, type ResampleStatistic } from './stats.js';

export type PairedMetric = MetricName;

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
  /** images right (top-1, or top-k for top-k) in A only / in B only (summed over seeds) */
  onlyA: number;
  onlyB: number;
  test: 'mcnemar' | 'bootstrap';
  p: number;
}

type Side = readonly (ImageOutcomes | ImageEvidence)[];
const evidenceOf = (x: ImageOutcomes | ImageEvidence): ImageEvidence => ('outcomes' in x ? x : { outcomes: x });

/** Why two sets of outcomes are not the same images, or null when they are. */
export function sameImages(a: Side, b: Side): string | null {
  if (a.length !== b.length) return `${a.length} vs ${b.length} seeds`;
  for (let s = 0; s < a.length; s++) {
    const x = evidenceOf(a[s]!).outcomes;
    const y = evidenceOf(b[s]!).outcomes;
    if (x.n !== y.n) return `${x.n} vs ${y.n} images`;
    for (let i = 0; i < x.n; i++) if (x.labels[i] !== y.labels[i]) return `labels differ at image ${i}`;
  }
  return null;
}

function statisticOf(sets: readonly ImageEvidence[], metric: PairedMetric): ResampleStatistic {
  const nClasses = Math.max(...sets.map((s) => s.outcomes.nClasses));
  const per = sets.map((e) => {
    const s = METRICS[metric].fromOutcomes({ ...e, outcomes: { ...e.outcomes, nClasses } });
    if (!s.statistic) throw new RangeError(`${METRICS[metric].label} is undefined on these images`);
    return s.statistic;
  });
  if (per.length === 1) return per[0]!;
  return (idx) => {
    let s = 0;
    for (const f of per) s += f(idx);
    return s / per.length;
  };
}

/**
 * Compare a (reference) and b (candidate) on the same images (one set per few-shot seed, seed s of a paired with
 * seed s of b). Throws RangeError when they are not the same images or the metric is undefined on them.
 */
export function pairedComparison(a: Side, b: Side, metric: PairedMetric, opts: BootstrapOptions = {}): PairedComparison {
  const why = sameImages(a, b);
  if (why) throw new RangeError(`not the same images: ${why}`);
  if (!a.length) throw new RangeError('pairedComparison: no outcomes');
  const ea = a.map(evidenceOf);
  const eb = b.map(evidenceOf);
  const n = ea[0]!.outcomes.n;
  const statA = statisticOf(ea, metric);
  const statB = statisticOf(eb, metric);
  const boot = pairedBootstrapDiff(n, statB, statA, opts);
  const pt = METRICS[metric].pairedTest;
  const k = pt.kind === 'mcnemar' ? pt.k : 1;
  let onlyA = 0;
  let onlyB = 0;
  for (let s = 0; s < ea.length; s++) {
    const d = discordant(correctAt(ea[s]!.outcomes, k), correctAt(eb[s]!.outcomes, k));
    onlyA += d.onlyA;
    onlyB += d.onlyB;
  }
  const exact = ea.length === 1 && pt.kind === 'mcnemar';
  const all = Int32Array.from({ length: n }, (_, i) => i);
  return {
    metric,
    n,
    seeds: ea.length,
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
