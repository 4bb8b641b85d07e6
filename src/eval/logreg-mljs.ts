/**
 * `--solver mljs`: the npm package ml-logistic-regression (v2) behind the same
 * shape as fitLogReg/predictScores.
 *
 * How it differs from the L-BFGS solver in logreg.ts (and from the CLIP paper's
 * scikit-learn protocol) — it is NOT the same estimator:
 *  - one-vs-rest: one binary logistic model per class, trained independently
 *    (not a softmax over classes). Internally the package labels the class as 0
 *    and the rest as 1 and predicts the class with the *smallest* sigmoid score;
 *    we expose logits s_c = −x·w_c, whose argmax is the same class;
 *  - no penalty: C is ignored (no L2 term), so a C sweep is meaningless;
 *  - no intercept: the models are x·w only (b is returned as zeros); add a
 *    constant feature to X yourself if you want one;
 *  - optimiser: fixed-step batch gradient ascent, w += learningRate · Xᵀ(t − σ(Xw))
 *    (the gradient is a *sum* over samples, so the useful learning rate scales
 *    like 1/n), for exactly `numSteps` steps (default 50000), no convergence test;
 *  - dense ml-matrix arithmetic in float64, single-threaded: very slow
 *    (numSteps × nClasses × 2 matrix-vector products);
 *  - the package numbers classes as 0..(number of distinct labels − 1), so every
 *    class 0..nClasses−1 must occur in y (checked here).
 */
import { createRequire } from 'node:module';
import type { LogRegModel } from './logreg.js';

interface MlMatrix {
  rows: number;
  columns: number;
  to1DArray(): number[];
}
interface MlMatrixStatic {
  new (rows: number, columns: number): MlMatrix & { set(i: number, j: number, v: number): MlMatrix };
  columnVector(v: ArrayLike<number>): MlMatrix;
}
interface MlTwoClass {
  weights: MlMatrix | null;
}
interface MlLogReg {
  classifiers: MlTwoClass[];
  numberClasses: number;
  train(X: MlMatrix, Y: MlMatrix): void;
}
type MlLogRegCtor = new (o: { numSteps: number; learningRate: number }) => MlLogReg;

// Load through CommonJS so that ml-matrix is the very module instance the
// package itself requires (ml-matrix is its dependency, hoisted by npm).
const require = createRequire(import.meta.url);
const LogisticRegression = require('ml-logistic-regression') as MlLogRegCtor;
const mlMatrixModule = require('ml-matrix') as { Matrix?: MlMatrixStatic; default?: MlMatrixStatic };
const Matrix = (mlMatrixModule.Matrix ?? mlMatrixModule.default) as MlMatrixStatic;

export interface MljsOptions {
  /** Gradient-ascent steps per class (package default 50000). */
  numSteps?: number;
  /** Step size (package default 5e-4). */
  learningRate?: number;
}

function toMatrix(X: Float32Array, n: number, dim: number): MlMatrix {
  const m = new Matrix(n, dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) m.set(i, j, X[i * dim + j]!);
  return m;
}

/** Fit ml-logistic-regression (one-vs-rest, no penalty, no intercept). Synchronous. */
export function fitMljs(
  X: Float32Array,
  y: Int32Array,
  n: number,
  dim: number,
  nClasses: number,
  opts: MljsOptions = {},
): LogRegModel {
  if (X.length < n * dim || y.length < n) throw new RangeError('fitMljs: X or y too short');
  const seen = new Uint8Array(nClasses);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!(c >= 0 && c < nClasses)) throw new RangeError(`fitMljs: label y[${i}]=${c} outside [0, ${nClasses})`);
    seen[c] = 1;
  }
  if (seen.includes(0)) throw new RangeError('fitMljs: ml-logistic-regression needs every class 0..nClasses-1 in y');

  const lr = new LogisticRegression({ numSteps: opts.numSteps ?? 50000, learningRate: opts.learningRate ?? 5e-4 });
  lr.train(toMatrix(X, n, dim), Matrix.columnVector(Array.from(y.subarray(0, n))));

  // Pack as logits s_c = −x·w_c into the [dim, nClasses] layout of LogRegModel.
  const W = new Float32Array(dim * nClasses);
  for (let c = 0; c < nClasses; c++) {
    const w = lr.classifiers[c]!.weights!.to1DArray();
    for (let j = 0; j < dim; j++) W[j * nClasses + c] = -w[j]!;
  }
  return {
    nClasses,
    dim,
    W,
    b: new Float32Array(nClasses),
    iterations: opts.numSteps ?? 50000,
    converged: false,
    message: 'fixed number of gradient-ascent steps (ml-logistic-regression)',
  };
}

export { predictScores as predict, predictLabels } from './logreg.js';
