/**
 * The 95% intervals that go beside every metric (in percent), as each metric's descriptor says: Clopper-Pearson for
 * a proportion of images (top-1, top-5), a seeded percentile bootstrap over images for the others, and for
 * few-shot means an interval over seeds that also carries the test set's own sampling spread. Every interval lies
 * inside its metric's range. Plus the paper's Table 10 bolding rule.
 */
import { correctAt, type ImageOutcomes, type PrimaryScore } from './metrics.js';
import { METRICS, withinRange, type ImageEvidence, type MetricDescriptor, type MetricScore } from './metric-descriptors.js';
import { bootstrapPercentile, clopperPearson, seedMeanInterval, type Interval, type ResampleStatistic } from './stats.js';

/** Level of every interval column. */
export const INTERVAL_CONFIDENCE = 0.95;
/** Seed of the bootstraps behind the interval columns (fixed: the same outcomes give the same columns). */
export const INTERVAL_SEED = 0;
/** Resamples for the interval columns: enough for the second decimal of a percentile at typical test sizes. */
export const INTERVAL_RESAMPLES = 1000;
/**
 * Seeds an interval over seeds needs: with 2, mean +- t_1 (12.7) sd says nothing but the metric's whole range,
 * so the columns stay blank and the `intervals` column says why.
 */
export const MIN_SEEDS_FOR_INTERVAL = 3;

/** What an interval column is over: the test images (one run), or seeds and images (a few-shot mean); or why there is none. */
export const INTERVAL_OVER_IMAGES = 'images';
export const INTERVAL_OVER_SEEDS = 'seeds+images';
export function intervalBasisOfSeeds(seeds: number): string {
  return seeds >= MIN_SEEDS_FOR_INTERVAL ? INTERVAL_OVER_SEEDS : `none: ${seeds} seed${seeds === 1 ? '' : 's'} (an interval over seeds needs ${MIN_SEEDS_FOR_INTERVAL})`;
}

/** The bootstrap of the interval columns, or null where the statistic is finite on too few resamples (ROC AUC of a tiny test set). */
function bootstrapOrNull(n: number, statistic: ResampleStatistic): { lo: number; hi: number; se: number } | null {
  try {
    return bootstrapPercentile(n, statistic, { seed: INTERVAL_SEED, resamples: INTERVAL_RESAMPLES, confidence: INTERVAL_CONFIDENCE });
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** In percent, clamped into the metric's range. */
function percentIn(d: MetricDescriptor, iv: Interval): Interval {
  const [lo, hi] = withinRange(d, 100 * iv.lo, 100 * iv.hi);
  return { lo, hi };
}

/** The 95% interval of a metric scored on n images (percent), by the metric's interval method; null where undefined. */
export function scoreInterval(d: MetricDescriptor, s: MetricScore, n: number): Interval | null {
  if (s.value === null || !s.statistic || n === 0) return null;
  if (d.interval === 'clopper-pearson') {
    const k = Math.round((s.value / 100) * n);
    return percentIn(d, clopperPearson(k, n, 1 - INTERVAL_CONFIDENCE));
  }
  const iv = bootstrapOrNull(n, s.statistic);
  return iv ? percentIn(d, iv) : null;
}

/** The 95% interval of one run's metric over its test images. */
export function metricInterval(d: MetricDescriptor, e: ImageEvidence): Interval | null {
  return scoreInterval(d, d.fromOutcomes(e), e.outcomes.n);
}

export interface RunIntervals {
  top1_lo: number;
  top1_hi: number;
  top5_lo: number | null;
  top5_hi: number | null;
  mean_per_class_lo: number;
  mean_per_class_hi: number;
}

/** Intervals of one run's top-1, top-5 (null with fewer than 5 classes) and mean per-class recall. */
export function runIntervals(o: ImageOutcomes, hasTop5: boolean): RunIntervals {
  const e = { outcomes: o };
  const t1 = metricInterval(METRICS.top1, e) ?? { lo: 0, hi: 100 };
  const t5 = hasTop5 ? metricInterval(METRICS.top5, e) : null;
  const mpc = metricInterval(METRICS.mean_per_class, e) ?? { lo: 0, hi: 100 };
  return {
    top1_lo: t1.lo,
    top1_hi: t1.hi,
    top5_lo: t5 ? t5.lo : null,
    top5_hi: t5 ? t5.hi : null,
    mean_per_class_lo: mpc.lo,
    mean_per_class_hi: mpc.hi,
  };
}

/**
 * A few-shot mean over seeds of one metric: mean +- t_{s-1} sqrt(sd^2 / s + v), where sd is the spread of the seeds'
 * scores (the k-shot draw) and v the variance of the seed mean over resamples of the test images (shared by every
 * seed, so the seeds alone cannot show it): exact for a proportion of images, else the bootstrap's. Null with fewer
 * than MIN_SEEDS_FOR_INTERVAL seeds or where a seed's metric is undefined; inside the metric's range.
 */
export function seedMetricInterval(d: MetricDescriptor, seeds: readonly ImageEvidence[]): Interval | null {
  if (seeds.length < MIN_SEEDS_FOR_INTERVAL || !seeds[0]!.outcomes.n) return null;
  const n = seeds[0]!.outcomes.n;
  if (seeds.some((e) => e.outcomes.n !== n)) return null;
  const nClasses = Math.max(...seeds.map((e) => e.outcomes.nClasses));
  const scores = seeds.map((e) => d.fromOutcomes({ ...e, outcomes: { ...e.outcomes, nClasses } }));
  return seedScoresInterval(d, scores, n, d.pairedTest.kind === 'mcnemar' ? exactVariance(seeds.map((e) => correctAt(e.outcomes, (d.pairedTest as { k: number }).k)), n) : undefined);
}

/** The variance over images of the seed mean of per-image 0/1 outcomes (the bootstrap's plug-in value, no resampling). */
function exactVariance(correct: readonly Uint8Array[], n: number): number {
  const x = new Float64Array(n);
  for (const c of correct) for (let i = 0; i < n; i++) x[i] += c[i]! / correct.length;
  const xbar = x.reduce((a, b) => a + b, 0) / n;
  return x.reduce((a, v) => a + (v - xbar) ** 2, 0) / n / n;
}

/** The statistic "mean over seeds of `per`", on a resample of the images all seeds share. */
function seedMean(per: ResampleStatistic[]): ResampleStatistic {
  return (idx) => per.reduce((a, f) => a + f(idx), 0) / per.length;
}

function seedScoresInterval(d: MetricDescriptor, scores: readonly MetricScore[], n: number, variance?: number): Interval | null {
  if (scores.length < MIN_SEEDS_FOR_INTERVAL || scores.some((s) => s.value === null || !s.statistic)) return null;
  let v = variance;
  if (v === undefined) {
    const boot = bootstrapOrNull(n, seedMean(scores.map((s) => s.statistic!)));
    if (!boot) return null;
    v = boot.se ** 2;
  }
  const iv = seedMeanInterval(scores.map((s) => s.value! / 100), INTERVAL_CONFIDENCE, v);
  return iv ? percentIn(d, iv) : null;
}

export interface SeedIntervals {
  top1_mean_lo: number | null;
  top1_mean_hi: number | null;
  mean_per_class_mean_lo: number | null;
  mean_per_class_mean_hi: number | null;
}

/** Few-shot means over seeds of top-1 and mean per class (seedMetricInterval); null columns with too few seeds. */
export function seedIntervals(seeds: readonly ImageOutcomes[]): SeedIntervals {
  const e = seeds.map((outcomes) => ({ outcomes }));
  const t1 = seedMetricInterval(METRICS.top1, e);
  const mpc = seedMetricInterval(METRICS.mean_per_class, e);
  return { top1_mean_lo: t1?.lo ?? null, top1_mean_hi: t1?.hi ?? null, mean_per_class_mean_lo: mpc?.lo ?? null, mean_per_class_mean_hi: mpc?.hi ?? null };
}

export interface PrimaryIntervals {
  primary_lo: number | null;
  primary_hi: number | null;
}

/** The interval of one run's primary metric, by its descriptor. Null (blank) where the metric is undefined. */
export function primaryIntervals(p: PrimaryScore): PrimaryIntervals {
  const iv = scoreInterval(METRICS[p.metric], p, p.n);
  return { primary_lo: iv?.lo ?? null, primary_hi: iv?.hi ?? null };
}

export interface PrimarySeedIntervals {
  primary_mean_lo: number | null;
  primary_mean_hi: number | null;
}

/**
 * Few-shot means of the primary metric over seeds (the bootstrap variance of the seed mean over the shared test
 * images). Null with too few seeds, or where a seed's metric is undefined.
 */
export function primarySeedIntervals(seeds: readonly PrimaryScore[]): PrimarySeedIntervals {
  const none = { primary_mean_lo: null, primary_mean_hi: null };
  if (!seeds.length || !seeds[0]!.n || seeds.some((p) => p.n !== seeds[0]!.n)) return none;
  const iv = seedScoresInterval(METRICS[seeds[0]!.metric], seeds, seeds[0]!.n);
  return iv ? { primary_mean_lo: iv.lo, primary_mean_hi: iv.hi } : none;
}

/**
 * The paper's Table 10 bolding: per dataset, the entries whose score lies within the 99.5% Clopper-Pearson
 * interval of the best one (scores in percent over n test images). Returns one flag per entry.
 */
export function withinBestInterval(entries: readonly { score: number; n: number }[], alpha = 0.005): boolean[] {
  if (!entries.length) return [];
  let best = 0;
  entries.forEach((e, i) => {
    if (e.score > entries[best]!.score) best = i;
  });
  const b = entries[best]!;
  const k = Math.min(b.n, Math.max(0, Math.round((b.score / 100) * b.n)));
  const lo = 100 * clopperPearson(k, b.n, alpha).lo;
  return entries.map((e) => e.score >= lo - 1e-9);
}
