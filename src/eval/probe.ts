import type { DeviceChoice } from '../model/device.js';
import type { Metrics } from './metrics.js';
import { fitLogReg, predictScores, predictScoresAsync, type LogRegModel } from './logreg.js';
import { fitMljs } from './logreg-mljs.js';
import type { FitPool } from './fit-pool.js';
import type { PrimaryMetric } from '../data/types.js';
import { l2NormalizeRows } from './normalize.js';
import { primaryForSelection, scoredMetrics } from './primary.js';

/** Labelled features: X [n, dim] row-major, y [n]; a multilabel split also has its 0/1 targets [n, nClasses]. */
export interface Features {
  X: Float32Array;
  y: Int32Array;
  n: number;
  dim: number;
  targets?: Uint8Array;
}

export type Solver = 'lbfgs' | 'mljs';
export type FeatureTransform = 'none' | 'standardize' | 'l2';

export interface ProbeOptions {
  solver: Solver;
  nClasses: number;
  primaryMetric: PrimaryMetric;
  maxIter?: number;
  threads?: number;
  /** worker threads for small fits (none: every fit on this thread, one after another) */
  pool?: FitPool | null;
  /** where the solver's onnxruntime graphs run (--device); default the CPU */
  device?: DeviceChoice;
  onFit?: (C: number, score: number) => void;
}

/** The paper's (Appendix A.3) starting grid: C in {1e-6, 1e-4, ..., 1e6}. */
export const C_GRID_LOG10 = [-6, -4, -2, 0, 2, 4, 6];
/** The search stops at 8 steps per decade. */
export const C_RESOLUTION_LOG10 = 1 / 8;

/** The most fits a C search makes: the grid, then a pair around the best per halving of the step (fewer at the grid's ends). */
export const C_SEARCH_MAX_FITS = ((): number => {
  let fits = C_GRID_LOG10.length;
  for (let step = (C_GRID_LOG10[1]! - C_GRID_LOG10[0]!) / 2; step >= C_RESOLUTION_LOG10; step /= 2) fits += 2;
  return fits;
})();

/** The primary metric (percent) of an evaluation, as the C search compares it (-Infinity where it is undefined). */
export function primaryOf(m: Metrics): number {
  return primaryForSelection(m.primary!);
}

/** Fit one classifier with the chosen solver. */
export async function fitClassifier(train: Features, C: number, opts: ProbeOptions, warmStart?: LogRegModel): Promise<LogRegModel> {
  // ml-logistic-regression's default of 50,000 steps per class takes hours on real sizes
  if (opts.solver === 'mljs') return fitMljs(train.X, train.y, train.n, train.dim, opts.nClasses, { numSteps: MLJS_STEPS, learningRate: MLJS_LEARNING_RATE });
  if (opts.pool?.takes(train.n, train.dim, opts.nClasses)) return opts.pool.fit(train.X, train.y, train.n, train.dim, opts.nClasses, C, opts.maxIter ?? 1000, warmStart);
  return fitLogReg(train.X, train.y, train.n, train.dim, opts.nClasses, { C, maxIter: opts.maxIter ?? 1000, threads: opts.threads, device: opts.device, warmStart });
}

/** Gradient-ascent steps and step size for --solver mljs (measured in the README). */
export const MLJS_STEPS = 300;
export const MLJS_LEARNING_RATE = 1e-4;

/** A classifier's scores [n, nClasses] of labelled features (large sets go through onnxruntime's GEMM). */
export async function classifierScores(model: LogRegModel, test: Features, threads?: number, device?: DeviceChoice): Promise<Float32Array> {
  const big = test.n * test.dim * model.nClasses > 4e6;
  return big ? await predictScoresAsync(model, test.X, test.n, threads, device) : predictScores(model, test.X, test.n);
}

/** Metrics of a classifier on labelled features, with the dataset's primary metric. */
export async function evaluate(model: LogRegModel, test: Features, opts: Pick<ProbeOptions, 'nClasses' | 'primaryMetric' | 'threads' | 'device'>): Promise<Metrics> {
  return scoredMetrics(opts.primaryMetric, await classifierScores(model, test, opts.threads, opts.device), test.y, test.n, opts.nClasses, test.targets);
}

/**
 * The paper's parametric search for C (Appendix A.3): score the starting grid, then repeatedly halve the step
 * (in log10 C) and try both neighbours of the best value, until the step is 1/8 decade. Ties go to the smaller C
 * (stronger regularisation), so the result is deterministic. `score` is called once per distinct C, in the
 * search's order; with `concurrent`, the grid's and then each pair's calls are all made before any is awaited
 * (the choices are made in the same order afterwards, so the result is the same).
 */
export async function parametricSearch(
  score: (C: number) => Promise<number>,
  concurrent = false,
): Promise<{ C: number; score: number; tried: { C: number; score: number }[] }> {
  const scores = new Map<number, Promise<number>>();
  const start = (l: number): Promise<number> => {
    const key = Math.round(l * 1e6) / 1e6;
    let s = scores.get(key);
    if (s === undefined) {
      scores.set(key, (s = score(10 ** key)));
      // a failure is reported once, by whoever awaits it first
      s.catch(() => {});
    }
    return s;
  };
  const batch = async (logs: number[]): Promise<number[]> => {
    if (concurrent) return Promise.all(logs.map(start));
    const out: number[] = [];
    for (const l of logs) out.push(await start(l));
    return out;
  };
  const better = (a: number, sa: number, b: number, sb: number) => sa > sb || (sa === sb && a < b);
  let best = C_GRID_LOG10[0];
  let bestScore = -Infinity;
  const consider = async (logs: number[]): Promise<void> => {
    const s = await batch(logs);
    logs.forEach((l, i) => {
      if (better(l, s[i]!, best, bestScore)) [best, bestScore] = [l, s[i]!];
    });
  };
  await consider(C_GRID_LOG10);
  for (let step = (C_GRID_LOG10[1] - C_GRID_LOG10[0]) / 2; step >= C_RESOLUTION_LOG10; step /= 2) {
    const centre = best;
    // the search stays inside the starting grid's range
    await consider([centre - step, centre + step].filter((x) => x >= C_GRID_LOG10[0] && x <= C_GRID_LOG10[C_GRID_LOG10.length - 1]));
  }
  const settled = await Promise.all([...scores.entries()].map(async ([l, sc]) => [l, await sc] as const));
  const tried = settled.sort((a, b) => a[0] - b[0]).map(([l, sc]) => ({ C: 10 ** l, score: sc }));
  return { C: 10 ** best, score: bestScore, tried };
}

/**
 * Choose C on a validation split; each fit warm-starts from the solution at the nearest C whose fit was started
 * before it (in the search's order). With a pool that takes this size, a batch's fits run side by side: the grid
 * is still a chain (each point's nearest is the one before it), but a refinement pair's two fits both start
 * from their centre (the other one of the pair is twice as far), so they run at once and give the same models.
 */
export async function searchCOnValidation(train: Features, val: Features, opts: ProbeOptions): Promise<{ C: number; score: number; tried: { C: number; score: number }[] }> {
  const started: { log: number; model: Promise<LogRegModel> }[] = [];
  const concurrent = opts.solver === 'lbfgs' && !!opts.pool?.takes(train.n, train.dim, opts.nClasses);
  return parametricSearch(async (C) => {
    const l = Math.log10(C);
    const nearest = [...started].sort((a, b) => Math.abs(a.log - l) - Math.abs(b.log - l) || a.log - b.log)[0];
    const model = (async () => fitClassifier(train, C, opts, nearest && (await nearest.model)))();
    model.catch(() => {});
    started.push({ log: l, model });
    const s = primaryOf(await evaluate(await model, val, opts));
    opts.onFit?.(C, s);
    return s;
  }, concurrent);
}

/** Concatenate two feature sets (train + validation for the final fit). */
export function concatFeatures(a: Features, b: Features): Features {
  const X = new Float32Array((a.n + b.n) * a.dim);
  X.set(a.X.subarray(0, a.n * a.dim));
  X.set(b.X.subarray(0, b.n * b.dim), a.n * a.dim);
  const y = new Int32Array(a.n + b.n);
  y.set(a.y.subarray(0, a.n));
  y.set(b.y.subarray(0, b.n), a.n);
  const out: Features = { X, y, n: a.n + b.n, dim: a.dim };
  if (a.targets && b.targets) {
    const k = a.targets.length / a.n;
    out.targets = new Uint8Array((a.n + b.n) * k);
    out.targets.set(a.targets.subarray(0, a.n * k));
    out.targets.set(b.targets.subarray(0, b.n * k), a.n * k);
  }
  return out;
}

/** Rows `idx` of a feature set. */
export function selectRows(f: Features, idx: ArrayLike<number>): Features {
  const X = new Float32Array(idx.length * f.dim);
  const y = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    X.set(f.X.subarray(i * f.dim, (i + 1) * f.dim), k * f.dim);
    y[k] = f.y[i];
  }
  const out: Features = { X, y, n: idx.length, dim: f.dim };
  if (f.targets) {
    const c = f.targets.length / f.n;
    out.targets = new Uint8Array(idx.length * c);
    for (let k = 0; k < idx.length; k++) out.targets.set(f.targets.subarray(idx[k] * c, (idx[k] + 1) * c), k * c);
  }
  return out;
}

/**
 * A feature transform fitted on training rows only and applied to every split: 'standardize' (per-dimension
 * mean 0, std 1), 'l2' (unit-norm rows), or 'none' (the embeddings as the model outputs them, as the paper did).
 */
export function fitTransform(kind: FeatureTransform, train: Features): (f: Features) => Features {
  if (kind === 'none') return (f) => f;
  if (kind === 'l2') {
    return (f) => ({ ...f, X: l2NormalizeRows(f.X, f.n, f.dim) });
  }
  const mean = new Float64Array(train.dim);
  const sq = new Float64Array(train.dim);
  for (let i = 0; i < train.n; i++) for (let j = 0; j < train.dim; j++) mean[j] += train.X[i * train.dim + j];
  for (let j = 0; j < train.dim; j++) mean[j] /= train.n;
  for (let i = 0; i < train.n; i++) for (let j = 0; j < train.dim; j++) sq[j] += (train.X[i * train.dim + j] - mean[j]) ** 2;
  const inv = Float64Array.from(sq, (s) => (s > 0 ? 1 / Math.sqrt(s / train.n) : 1));
  return (f) => {
    const X = new Float32Array(f.n * f.dim);
    for (let i = 0; i < f.n; i++) for (let j = 0; j < f.dim; j++) X[i * f.dim + j] = (f.X[i * f.dim + j] - mean[j]) * inv[j];
    return { ...f, X };
  };
}
