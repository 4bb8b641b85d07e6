import { UserError } from '../errors.js';
import { makeRng } from '../data/subset.js';
import type { PrimaryMetric } from '../data/types.js';
import type { ImageOutcomes } from './metrics.js';
import type { PrimaryScore } from './primary.js';
import { evaluate, fitClassifier, fitTransform, parametricSearch, primaryOf, selectRows, type FeatureTransform, type Features, type Solver } from './probe.js';

export interface FewshotOptions {
  shots: number[];
  seeds: number;
  /** seed of the first sample; sample s of k shots uses seed (baseSeed, k, s) */
  baseSeed: number;
  nClasses: number;
  classNames: string[];
  primaryMetric: PrimaryMetric;
  solver: Solver;
  transform: FeatureTransform;
  /** C for k = 1, where there is nothing to cross-validate on */
  oneShotC: number;
  threads?: number;
  onSample?: (k: number, seed: number, C: number | null, top1: number) => void;
}

export interface FewshotPoint {
  shots: number;
  top1: number[];
  meanPerClass: number[];
  /** each seed's primary metric on test (percent; null where undefined), with what its interval resamples */
  primary: PrimaryScore[];
  C: (number | null)[];
  /** each seed's per-image outcomes on test */
  outcomes: ImageOutcomes[];
}

/**
 * k training rows per class, drawn without replacement by a seeded shuffle of each class's rows: class-major
 * (class 0's k rows, then class 1's, ...), so position i % k is the shot number. A class with fewer than k rows is
 * an error naming it.
 */
export function sampleShots(labels: Int32Array, nClasses: number, k: number, seed: number, classNames: string[]): Int32Array {
  const byClass: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const rng = makeRng(seed);
  const out = new Int32Array(nClasses * k);
  for (let c = 0; c < nClasses; c++) {
    const rows = byClass[c];
    if (rows.length < k) {
      throw new UserError(`class ${c} "${classNames[c] ?? c}" has ${rows.length} training images, fewer than ${k} shots`);
    }
    rng.shuffle(rows);
    out.set(rows.slice(0, k), c * k);
  }
  return out;
}

/** A reproducible seed per (base seed, k, repetition): the same draw on every machine and run. */
export function sampleSeed(baseSeed: number, k: number, rep: number): number {
  return baseSeed * 1_000_003 + k * 1009 + rep;
}

/**
 * Cross-validated C on a k-shot sample (k >= 2): min(k, 4) folds, each holding out the same shot positions of
 * every class, scored with the primary metric averaged over folds; C by the paper's parametric search.
 */
export async function crossValidatedC(sample: Features, k: number, opts: FewshotOptions): Promise<number> {
  const folds = Math.min(k, 4);
  const splits = Array.from({ length: folds }, (_, f) => {
    const tr: number[] = [];
    const va: number[] = [];
    for (let i = 0; i < sample.n; i++) ((i % k) % folds === f ? va : tr).push(i);
    return [selectRows(sample, tr), selectRows(sample, va)] as const;
  });
  const probe = { solver: opts.solver, nClasses: opts.nClasses, primaryMetric: opts.primaryMetric, threads: opts.threads };
  const { C } = await parametricSearch(async (C) => {
    let sum = 0;
    for (const [tr, va] of splits) {
      const t = fitTransform(opts.transform, tr);
      sum += primaryOf(await evaluate(await fitClassifier(t(tr), C, probe), t(va), probe));
    }
    return sum / folds;
  });
  return C;
}

/** Few-shot linear probes: for each k and repetition, sample, choose C without touching test, fit, score on test. */
export async function fewshot(train: Features, test: Features, opts: FewshotOptions): Promise<FewshotPoint[]> {
  const points: FewshotPoint[] = [];
  for (const k of opts.shots) {
    const point: FewshotPoint = { shots: k, top1: [], meanPerClass: [], primary: [], C: [], outcomes: [] };
    for (let rep = 0; rep < opts.seeds; rep++) {
      const sample = selectRows(train, sampleShots(train.y, opts.nClasses, k, sampleSeed(opts.baseSeed, k, rep), opts.classNames));
      const probe = { solver: opts.solver, nClasses: opts.nClasses, primaryMetric: opts.primaryMetric, threads: opts.threads };
      const C = opts.solver === 'mljs' ? null : k >= 2 ? await crossValidatedC(sample, k, opts) : opts.oneShotC;
      const t = fitTransform(opts.transform, sample);
      const m = await evaluate(await fitClassifier(t(sample), C ?? 1, probe), t(test), probe);
      point.top1.push(m.top1);
      point.meanPerClass.push(m.meanPerClass);
      point.primary.push(m.primary!);
      point.C.push(C);
      point.outcomes.push(m.outcomes!);
      opts.onSample?.(k, rep, C, m.top1);
    }
    points.push(point);
  }
  return points;
}

/** Mean and sample standard deviation (null for a single value). */
export function meanStd(v: number[]): { mean: number; std: number | null } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return { mean, std: null };
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return { mean, std: Math.sqrt(variance) };
}
