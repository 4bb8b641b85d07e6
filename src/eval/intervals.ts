/**
 * The 95% intervals that go beside every accuracy-like figure (in percent): Clopper-Pearson for top-1/top-5 of one
 * run, a seeded percentile bootstrap over images for mean per-class recall, and for few-shot means an interval over
 * seeds that also carries the test set's own sampling spread. Plus the paper's Table 10 bolding rule.
 */
import { correctAt, type ImageOutcomes } from './metrics.js';
import type { PrimaryScore } from './primary.js';
import { bootstrapPercentile, clopperPearson, meanPerClassStatistic, seedMeanInterval, type ResampleStatistic } from './stats.js';

/** Level of every interval column. */
export const INTERVAL_CONFIDENCE = 0.95;
/** Seed of the bootstraps behind the interval columns (fixed: the same outcomes give the same columns). */
export const INTERVAL_SEED = 0;
/** Resamples for the interval columns: enough for the second decimal of a percentile at typical test sizes. */
export const INTERVAL_RESAMPLES = 1000;

export interface RunIntervals {
  top1_lo: number;
  top1_hi: number;
  top5_lo: number | null;
  top5_hi: number | null;
  mean_per_class_lo: number;
  mean_per_class_hi: number;
}

function count(c: Uint8Array): number {
  let s = 0;
  for (const v of c) s += v;
  return s;
}

/** Intervals of one run's top-1, top-5 (null with fewer than 5 classes) and mean per-class recall. */
export function runIntervals(o: ImageOutcomes, hasTop5: boolean): RunIntervals {
  const alpha = 1 - INTERVAL_CONFIDENCE;
  const t1 = clopperPearson(count(correctAt(o, 1)), o.n, alpha);
  const t5 = hasTop5 ? clopperPearson(count(correctAt(o, 5)), o.n, alpha) : null;
  const mpc = o.n
    ? bootstrapPercentile(o.n, meanPerClassStatistic(correctAt(o, 1), o.labels, o.nClasses), {
        seed: INTERVAL_SEED,
        resamples: INTERVAL_RESAMPLES,
        confidence: INTERVAL_CONFIDENCE,
      })
    : { lo: 0, hi: 1 };
  return {
    top1_lo: 100 * t1.lo,
    top1_hi: 100 * t1.hi,
    top5_lo: t5 ? 100 * t5.lo : null,
    top5_hi: t5 ? 100 * t5.hi : null,
    mean_per_class_lo: 100 * mpc.lo,
    mean_per_class_hi: 100 * mpc.hi,
  };
}

export interface SeedIntervals {
  top1_mean_lo: number | null;
  top1_mean_hi: number | null;
  mean_per_class_mean_lo: number | null;
  mean_per_class_mean_hi: number | null;
}

/** The statistic "mean over seeds of `per`", on a resample of the images all seeds share. */
function seedMean(per: ResampleStatistic[]): ResampleStatistic {
  return (idx) => per.reduce((a, f) => a + f(idx), 0) / per.length;
}

/**
 * Few-shot means over seeds: mean +- t_{s-1} sqrt(sd^2 / s + v), where sd is the spread of the seeds' scores (the
 * k-shot draw) and v the variance of the seed mean over resamples of the test images (shared by every seed, so the
 * seeds alone cannot show it). Null columns for a single seed.
 */
export function seedIntervals(seeds: readonly ImageOutcomes[]): SeedIntervals {
  const none: SeedIntervals = { top1_mean_lo: null, top1_mean_hi: null, mean_per_class_mean_lo: null, mean_per_class_mean_hi: null };
  if (seeds.length < 2 || !seeds[0]!.n) return none;
  const n = seeds[0]!.n;
  const correct = seeds.map((o) => correctAt(o, 1));
  // top-1: the variance of a mean over images is exact, no resampling needed (the bootstrap's plug-in value)
  const x = new Float64Array(n);
  for (const c of correct) for (let i = 0; i < n; i++) x[i] += c[i]! / seeds.length;
  const xbar = x.reduce((a, b) => a + b, 0) / n;
  const vTop1 = x.reduce((a, v) => a + (v - xbar) ** 2, 0) / n / n;
  const top1 = seedMeanInterval(correct.map((c) => count(c) / n), INTERVAL_CONFIDENCE, vTop1)!;
  const mpcStats = seeds.map((o, k) => meanPerClassStatistic(correct[k]!, o.labels, Math.max(...seeds.map((s) => s.nClasses))));
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const boot = bootstrapPercentile(n, seedMean(mpcStats), { seed: INTERVAL_SEED, resamples: INTERVAL_RESAMPLES });
  const mpc = seedMeanInterval(mpcStats.map((f) => f(all)), INTERVAL_CONFIDENCE, boot.se ** 2)!;
  return {
    top1_mean_lo: 100 * top1.lo,
    top1_mean_hi: 100 * top1.hi,
    mean_per_class_mean_lo: 100 * mpc.lo,
    mean_per_class_mean_hi: 100 * mpc.hi,
  };
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

export interface PrimaryIntervals {
  primary_lo: number | null;
  primary_hi: number | null;
}

/**
 * The interval of one run's primary metric where its own columns have none (ROC AUC, mAP, mean of top-1 and
 * top-5): the seeded percentile bootstrap over images. Accuracy and mean per class take their columns' intervals
 * (primaryColumnsOf in src/report/tables/common.ts). Null (blank) where the metric is undefined.
 */
export function primaryIntervals(p: PrimaryScore): PrimaryIntervals {
  const none = { primary_lo: null, primary_hi: null };
  if (p.value === null || !p.statistic || p.n === 0) return none;
  const iv = bootstrapOrNull(p.n, p.statistic);
  return iv ? { primary_lo: 100 * iv.lo, primary_hi: 100 * iv.hi } : none;
}

export interface PrimarySeedIntervals {
  primary_mean_lo: number | null;
  primary_mean_hi: number | null;
}

/**
 * Few-shot means of the primary metric over seeds, as seedIntervals does for top-1 and mean per class: the seeds'
 * spread plus the bootstrap variance of the seed mean over resamples of the shared test images. Null for a single
 * seed, or where a seed's metric is undefined.
 */
export function primarySeedIntervals(seeds: readonly PrimaryScore[]): PrimarySeedIntervals {
  const none = { primary_mean_lo: null, primary_mean_hi: null };
  if (seeds.length < 2 || !seeds[0]!.n || seeds.some((p) => p.value === null || !p.statistic || p.n !== seeds[0]!.n)) return none;
  const boot = bootstrapOrNull(seeds[0]!.n, seedMean(seeds.map((p) => p.statistic!)));
  if (!boot) return none;
  const iv = seedMeanInterval(seeds.map((p) => p.value! / 100), INTERVAL_CONFIDENCE, boot.se ** 2)!;
  return { primary_mean_lo: 100 * iv.lo, primary_mean_hi: 100 * iv.hi };
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
