import type { DeviceChoice } from '../model/device.js';
import { UserError } from '../errors.js';
import { makeRng } from '../data/subset.js';
import type { PrimaryMetric } from '../data/types.js';
import type { ImageOutcomes } from './metrics.js';
import type { PrimaryScore } from './primary.js';
import { fitPoolFor, mapWindow, type FitPool } from './fit-pool.js';
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
  /** where the solver's onnxruntime graphs run (--device); default the CPU */
  device?: DeviceChoice;
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
export async function crossValidatedC(sample: Features, k: number, opts: FewshotOptions, pool: FitPool | null = null): Promise<number> {
  const folds = Math.min(k, 4);
  const splits = Array.from({ length: folds }, (_, f) => {
    const tr: number[] = [];
    const va: number[] = [];
    for (let i = 0; i < sample.n; i++) ((i % k) % folds === f ? va : tr).push(i);
    const t = fitTransform(opts.transform, selectRows(sample, tr));
    return [t(selectRows(sample, tr)), t(selectRows(sample, va))] as const;
  });
  const probe = { solver: opts.solver, nClasses: opts.nClasses, primaryMetric: opts.primaryMetric, threads: opts.threads, device: opts.device, pool };
  // with a pool that takes these fits, every fold of every C of a batch is fitted side by side
  const concurrent = !!pool?.takes(splits[0]![0].n, sample.dim, opts.nClasses);
  const { C } = await parametricSearch(async (C) => {
    const foldScore = async ([tr, va]: (typeof splits)[number]) => primaryOf(await evaluate(await fitClassifier(tr, C, probe), va, probe));
    const scores = concurrent ? await Promise.all(splits.map(foldScore)) : await mapWindow(splits, 1, foldScore);
    // summed in fold order, as one after another
    let sum = 0;
    for (const s of scores) sum += s;
    return sum / folds;
  }, concurrent);
  return C;
}

/**
 * Few-shot linear probes: for each k and repetition, sample, choose C without touching test, fit, score on test.
 * With more than one thread, the small fits run on a pool of worker threads and as many samples as there are
 * threads are worked on at once; every fit is a pure function of its inputs and everything is put together in
 * the sequential order, so the results are the same bits as on one thread.
 */
export async function fewshot(train: Features, test: Features, opts: FewshotOptions): Promise<FewshotPoint[]> {
  const pool = opts.solver === 'lbfgs' ? fitPoolFor(opts.threads) : null;
  try {
    const units = opts.shots.flatMap((k) => Array.from({ length: opts.seeds }, (_, rep) => ({ k, rep })));
    // samples side by side only where all their fits go to the pool (large fits use every core themselves)
    const maxShots = Math.max(...opts.shots);
    const width = pool?.takes(opts.nClasses * maxShots, train.dim, opts.nClasses) ? pool.size : 1;
    // every draw first (in order, so a class short of k images is the same error as on one thread)
    const draws = units.map(({ k, rep }) => sampleShots(train.y, opts.nClasses, k, sampleSeed(opts.baseSeed, k, rep), opts.classNames));
    // one test evaluation at a time (its scores are the largest buffer)
    let evaluated: Promise<unknown> = Promise.resolve();
    const probe = { solver: opts.solver, nClasses: opts.nClasses, primaryMetric: opts.primaryMetric, threads: opts.threads, device: opts.device, pool };
    let reported = 0;
    const done: ({ C: number | null; m: Awaited<ReturnType<typeof evaluate>> } | undefined)[] = [];
    const results = await mapWindow(units, width, async ({ k }, i) => {
      const sample = selectRows(train, draws[i]!);
      const C = opts.solver === 'mljs' ? null : k >= 2 ? await crossValidatedC(sample, k, opts, pool) : opts.oneShotC;
      const t = fitTransform(opts.transform, sample);
      const model = await fitClassifier(t(sample), C ?? 1, probe);
      const turn = evaluated.then(() => evaluate(model, t(test), probe));
      evaluated = turn.catch(() => {});
      const m = await turn;
      done[i] = { C, m };
      // progress in the sequential order
      while (reported < units.length && done[reported]) {
        const u = units[reported]!;
        opts.onSample?.(u.k, u.rep, done[reported]!.C, done[reported]!.m.top1);
        reported++;
      }
      return { C, m };
    });
    return opts.shots.map((k, j) => {
      const point: FewshotPoint = { shots: k, top1: [], meanPerClass: [], primary: [], C: [], outcomes: [] };
      results.slice(j * opts.seeds, (j + 1) * opts.seeds).forEach(({ C, m }) => {
        point.top1.push(m.top1);
        point.meanPerClass.push(m.meanPerClass);
        point.primary.push(m.primary!);
        point.C.push(C);
        point.outcomes.push(m.outcomes!);
      });
      return point;
    });
  } finally {
    await pool?.close();
  }
}

/** Mean and sample standard deviation (null for a single value). */
export function meanStd(v: number[]): { mean: number; std: number | null } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return { mean, std: null };
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return { mean, std: Math.sqrt(variance) };
}
