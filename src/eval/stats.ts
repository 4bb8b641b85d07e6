/**
 * How sure a number is: exact binomial intervals and tests, seeded percentile bootstraps over images, and Holm's
 * correction. Pure functions over typed arrays; proportions are fractions in [0, 1] (callers scale to percent).
 * Every random choice comes from the seeded generator in data/subset.ts, so each interval is reproducible.
 */
import { makeRng } from '../data/subset.js';
import { binomCdf, ibetaInv, studentTQuantile } from './special.js';

export interface Interval {
  lo: number;
  hi: number;
}

/**
 * The Clopper-Pearson ("exact", beta) interval of k successes in n trials at level 1 - alpha, as
 * statsmodels' proportion_confint(k, n, alpha, method='beta'). n = 0 says nothing: [0, 1].
 */
export function clopperPearson(k: number, n: number, alpha = 0.05): Interval {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(`clopperPearson: need integers 0 <= k <= n, got k=${k}, n=${n}`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`clopperPearson: alpha must be in (0, 1), got ${alpha}`);
  if (n === 0) return { lo: 0, hi: 1 };
  const lo = k === 0 ? 0 : ibetaInv(alpha / 2, k, n - k + 1);
  const hi = k === n ? 1 : ibetaInv(1 - alpha / 2, k + 1, n - k);
  return { lo, hi };
}

/** Images one classifier got right and the other wrong, for two outcome vectors over the same images. */
export interface Discordant {
  /** right in a, wrong in b */
  onlyA: number;
  /** wrong in a, right in b */
  onlyB: number;
}

export function discordant(a: Uint8Array, b: Uint8Array): Discordant {
  if (a.length !== b.length) throw new RangeError(`discordant: ${a.length} vs ${b.length} images`);
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !b[i]) onlyA++;
    else if (!a[i] && b[i]) onlyB++;
  }
  return { onlyA, onlyB };
}

/**
 * The exact McNemar test: two-sided binomial test of the discordant counts against p = 1/2, as statsmodels'
 * mcnemar(table, exact=True): min(1, 2 * P(X <= min(b, c))), X ~ Binomial(b + c, 1/2). No discordant images: 1.
 */
export function mcnemarExact(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) {
    throw new RangeError(`mcnemarExact: counts must be non-negative integers, got ${b}, ${c}`);
  }
  return Math.min(1, 2 * binomCdf(Math.min(b, c), b + c, 0.5));
}

/**
 * Holm's step-down adjusted p-values (statsmodels' multipletests(p, method='holm')[1]): a hypothesis is rejected at
 * family-wise level alpha when its adjusted p-value is <= alpha. Order of the input is kept.
 */
export function holm(pvalues: readonly number[]): number[] {
  const m = pvalues.length;
  for (const p of pvalues) if (!(p >= 0 && p <= 1)) throw new RangeError(`holm: p-value ${p} outside [0, 1]`);
  const order = pvalues.map((_, i) => i).sort((i, j) => pvalues[i]! - pvalues[j]! || i - j);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pvalues[idx]!));
    out[idx] = running;
  });
  return out;
}

/** A statistic of a resample: `idx` holds n image indices drawn with replacement (the identity for the estimate). */
export type ResampleStatistic = (idx: Int32Array) => number;

export interface BootstrapOptions {
  /** resamples drawn (default 2000) */
  resamples?: number;
  /** generator seed (default 0) */
  seed?: number;
  /** interval level (default 0.95) */
  confidence?: number;
}

export interface BootstrapInterval extends Interval {
  /** the statistic on the images themselves */
  estimate: number;
  /** the standard deviation of the bootstrap distribution */
  se: number;
  resamples: number;
}

export const BOOTSTRAP_RESAMPLES = 2000;

/** numpy.percentile's default (linear) interpolation on a sorted array, q in [0, 1]. */
function percentileSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const frac = pos - i;
  if (i + 1 >= sorted.length) return sorted[sorted.length - 1]!;
  return sorted[i]! + frac * (sorted[i + 1]! - sorted[i]!);
}

function checkOptions(n: number, opts: BootstrapOptions): Required<BootstrapOptions> {
  const resamples = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const seed = opts.seed ?? 0;
  const confidence = opts.confidence ?? 0.95;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bootstrap: need at least one image, got ${n}`);
  if (!Number.isInteger(resamples) || resamples < 2) throw new RangeError(`bootstrap: bad resamples ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`bootstrap: bad confidence ${confidence}`);
  return { resamples, seed, confidence };
}

/** The most resample indices kept between bootstraps (64 MB). */
const MAX_KEPT_DRAWS = 1 << 24;
let kept: { n: number; resamples: number; seed: number; draws: Int32Array } | null = null;

/**
 * Every resample's indices of (n, resamples, seed), drawn once and kept for the next bootstrap with the same three:
 * the rows of one table resample the same test images with the same seed (a zero-shot run's three prompt modes,
 * a few-shot run's shot counts), and drawing the indices was most of a bootstrap's time. Null when they would
 * take more than MAX_KEPT_DRAWS (then each bootstrap draws its own, the same numbers).
 */
function resampleDraws(n: number, resamples: number, seed: number): Int32Array | null {
  if (n * resamples > MAX_KEPT_DRAWS) return null;
  if (!kept || kept.n !== n || kept.resamples !== resamples || kept.seed !== seed) {
    const draws = new Int32Array(n * resamples);
    const rng = makeRng(seed);
    for (let r = 0; r < resamples; r++) rng.fillInt(draws.subarray(r * n, (r + 1) * n), n);
    kept = { n, resamples, seed, draws };
  }
  return kept.draws;
}

/**
 * Runs `stats` (one or more statistics of the same resample) on `resamples` seeded resamples of n images and
 * returns each statistic's bootstrap distribution. Resamples where a statistic is not finite (e.g. a class missing)
 * are dropped from that statistic's distribution.
 */
function resampleDistributions(n: number, stats: ResampleStatistic[], resamples: number, seed: number): Float64Array[] {
  const draws = resampleDraws(n, resamples, seed);
  const rng = draws ? null : makeRng(seed);
  let idx: Int32Array = new Int32Array(n);
  const dists = stats.map(() => new Float64Array(resamples));
  const counts = stats.map(() => 0);
  for (let r = 0; r < resamples; r++) {
    if (draws) idx = draws.subarray(r * n, (r + 1) * n);
    else rng!.fillInt(idx, n);
    stats.forEach((s, k) => {
      const v = s(idx);
      if (Number.isFinite(v)) dists[k]![counts[k]!++] = v;
    });
  }
  return dists.map((d, k) => d.slice(0, counts[k]).sort());
}

function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

function summarise(estimate: number, dist: Float64Array, confidence: number): BootstrapInterval {
  if (dist.length < 2) throw new RangeError('bootstrap: the statistic was not finite on enough resamples');
  const a = (1 - confidence) / 2;
  let mean = 0;
  for (const v of dist) mean += v;
  mean /= dist.length;
  let ss = 0;
  for (const v of dist) ss += (v - mean) ** 2;
  return {
    estimate,
    lo: percentileSorted(dist, a),
    hi: percentileSorted(dist, 1 - a),
    se: Math.sqrt(ss / (dist.length - 1)),
    resamples: dist.length,
  };
}

/** The seeded percentile bootstrap interval of a statistic over n images (scipy.stats.bootstrap, method='percentile'). */
export function bootstrapPercentile(n: number, statistic: ResampleStatistic, opts: BootstrapOptions = {}): BootstrapInterval {
  const o = checkOptions(n, opts);
  const [dist] = resampleDistributions(n, [statistic], o.resamples, o.seed);
  return summarise(statistic(identity(n)), dist!, o.confidence);
}

/**
 * The paired bootstrap of a difference: both statistics see the same resampled images, so what the two have in
 * common cancels. Returns the interval of statA - statB and the bootstrap test's two-sided p-value of "no
 * difference": 2 (1 + the resamples on the far side of 0) / (resamples + 1), at most 1.
 */
export function pairedBootstrapDiff(
  n: number,
  statA: ResampleStatistic,
  statB: ResampleStatistic,
  opts: BootstrapOptions = {},
): BootstrapInterval & { p: number } {
  const o = checkOptions(n, opts);
  const diff: ResampleStatistic = (idx) => statA(idx) - statB(idx);
  const [dist] = resampleDistributions(n, [diff], o.resamples, o.seed);
  let atOrBelow = 0;
  let atOrAbove = 0;
  for (const v of dist!) {
    if (v <= 0) atOrBelow++;
    if (v >= 0) atOrAbove++;
  }
  const p = Math.min(1, (2 * (1 + Math.min(atOrBelow, atOrAbove))) / (dist!.length + 1));
  return { ...summarise(diff(identity(n)), dist!, o.confidence), p };
}

/** Fraction of images right, from 0/1 outcomes. */
export function accuracyStatistic(correct: Uint8Array): ResampleStatistic {
  return (idx) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += correct[idx[i]!]!;
    return s / idx.length;
  };
}

/** Mean per-class recall over the classes present in the resample (as metrics.ts counts it), from 0/1 outcomes. */
export function meanPerClassStatistic(correct: Uint8Array, labels: Int32Array, nClasses: number): ResampleStatistic {
  if (correct.length !== labels.length) throw new RangeError(`meanPerClassStatistic: ${correct.length} outcomes vs ${labels.length} labels`);
  // one read per drawn image: (label, correct) as label * 2 + correct, tallied in integers
  const code = new Int32Array(labels.length);
  for (let j = 0; j < labels.length; j++) code[j] = labels[j]! * 2 + (correct[j]! ? 1 : 0);
  const tally = new Int32Array(2 * nClasses);
  return (idx) => {
    tally.fill(0);
    for (let i = 0; i < idx.length; i++) tally[code[idx[i]!]!]!++;
    let sum = 0;
    let present = 0;
    for (let c = 0; c < nClasses; c++) {
      const cnt = tally[2 * c]! + tally[2 * c + 1]!;
      if (cnt > 0) {
        sum += tally[2 * c + 1]! / cnt;
        present++;
      }
    }
    return present ? sum / present : NaN;
  };
}

/**
 * The interval of a mean over seeds (few-shot draws): mean +- t_{s-1} * sqrt(sd^2 / s + extraVariance), where
 * extraVariance adds what the seeds cannot see (the test set they all share; 0 for none). Null for fewer than 2 seeds.
 */
export function seedMeanInterval(values: readonly number[], confidence = 0.95, extraVariance = 0): (Interval & { mean: number; sd: number }) | null {
  const s = values.length;
  if (s < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / s;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (s - 1));
  const half = studentTQuantile(1 - (1 - confidence) / 2, s - 1) * Math.sqrt((sd * sd) / s + extraVariance);
  return { mean, sd, lo: mean - half, hi: mean + half };
}
