import type { DeviceChoice } from '../model/device.js';
import { UserError } from '../errors.js';
import { stratifiedSubset } from '../data/subset.js';
import type { PrimaryMetric } from '../data/types.js';
import type { Metrics } from './metrics.js';
import { fitPoolFor } from './fit-pool.js';
import {
  concatFeatures,
  evaluate,
  fitClassifier,
  fitTransform,
  searchCOnValidation,
  selectRows,
  type FeatureTransform,
  type Features,
  type Solver,
} from './probe.js';

export interface LinearProbeOptions {
  solver: Solver;
  nClasses: number;
  primaryMetric: PrimaryMetric;
  transform: FeatureTransform;
  /** fraction of train held out (class-stratified, seeded) when the dataset has no validation split */
  valFraction: number;
  seed: number;
  threads?: number;
  /** where the solver's onnxruntime graphs run (--device); default the CPU */
  device?: DeviceChoice;
  onFit?: (C: number, score: number) => void;
  /** before the final fit on train + validation (`n` images) at the chosen C (null: the mljs solver's none) */
  onRefit?: (C: number | null, n: number) => void;
}

export interface LinearProbeResult {
  /** null for the mljs solver, which has no penalty */
  C: number | null;
  nTrain: number;
  nVal: number;
  nTest: number;
  metrics: Metrics;
  tried: { C: number; score: number }[];
}

/** Split off a class-stratified, seeded validation part of train: returns [train rows, validation rows]. */
export function holdOut(train: Features, nClasses: number, fraction: number, seed: number): [Features, Features] {
  const nVal = Math.max(nClasses, Math.round(train.n * fraction));
  if (nVal >= train.n) throw new UserError(`training split too small (${train.n} images) to hold out a validation part`);
  const valIdx = stratifiedSubset(train.y, nClasses, nVal, seed);
  const isVal = new Uint8Array(train.n);
  for (const i of valIdx) isVal[i] = 1;
  const trainIdx: number[] = [];
  for (let i = 0; i < train.n; i++) if (!isVal[i]) trainIdx.push(i);
  return [selectRows(train, trainIdx), selectRows(train, valIdx)];
}

/**
 * The paper's linear-probe protocol: choose C on validation (the dataset's own, else held out of train), refit on
 * train + validation with that C, report on test. The test split influences nothing before the final score.
 */
export async function linearProbe(trainAll: Features, ownVal: Features | null, test: Features, opts: LinearProbeOptions): Promise<LinearProbeResult> {
  const [train, val] = ownVal ? [trainAll, ownVal] : holdOut(trainAll, opts.nClasses, opts.valFraction, opts.seed);
  const probeOpts = { solver: opts.solver, nClasses: opts.nClasses, primaryMetric: opts.primaryMetric, threads: opts.threads, device: opts.device, onFit: opts.onFit };
  let C: number | null = null;
  let tried: { C: number; score: number }[] = [];
  if (opts.solver === 'lbfgs') {
    // a refinement pair's two fits side by side (small problems; the same models as one after another)
    const pool = fitPoolFor(opts.threads);
    try {
      const t = fitTransform(opts.transform, train);
      const search = await searchCOnValidation(t(train), t(val), { ...probeOpts, pool });
      C = search.C;
      tried = search.tried;
    } finally {
      await pool?.close();
    }
  }
  const full = concatFeatures(train, val);
  const t = fitTransform(opts.transform, full);
  opts.onRefit?.(C, full.n);
  const model = await fitClassifier(t(full), C ?? 1, probeOpts);
  return { C, nTrain: train.n, nVal: val.n, nTest: test.n, metrics: await evaluate(model, t(test), probeOpts), tried };
}
