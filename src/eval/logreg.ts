/**
 * Multinomial (softmax) logistic regression with an L2 penalty on the weights
 * and an unpenalised intercept, minimised with L-BFGS — the classifier of the
 * linear-probe and few-shot evaluations. It reproduces scikit-learn's
 * `LogisticRegression(solver='lbfgs', C=C, max_iter=1000, tol=1e-4)` with
 * `multi_class='multinomial'` (sklearn 1.2.x, the version this was checked
 * against):
 *
 *   minimise  F(W, b) = Σ_i −log softmax(x_i·W + b)[y_i] + ½·(1/C)·‖W‖²
 *
 * which is sklearn's internal scaling (`LinearModelLoss.loss_gradient` with
 * unit sample weights and `l2_reg_strength = 1/C`; the same minimiser as
 * C·Σ loss + ½‖W‖²). The optimiser (lbfgs.ts) mirrors scipy's L-BFGS-B without
 * bounds: m = 10, Moré–Thuente line search, stop when max|∇F| <= tol (scipy's
 * `gtol`, applied to this F) or the relative decrease of F is <= 2.22e-9 (scipy's
 * default `ftol`), or after `maxIter` iterations — so `iterations` is comparable
 * with sklearn's `n_iter_`.
 *
 * Layout: `W` is [dim, nClasses] row-major (W[f * nClasses + c]); logits are
 * X·W + b. (sklearn's `coef_` is its transpose, [nClasses, dim].)
 *
 * Backends for the data term (the two GEMMs per evaluation dominate the cost):
 *  - 'ort': onnxruntime-node / MLAS SGEMM on `threads` threads from an in-memory
 *    ONNX graph (logreg-ort.ts). Float32 matrices; the loss is summed in float64.
 *    Measured at 50000×512×100 on the 2-core AMD EPYC dev box (shared, noisy):
 *    ~0.25–0.3 s per evaluation (the two GEMMs ≈ 0.24 s, ≈ 43 GFLOP/s), vs
 *    ≈ 8.6 s per evaluation for the single-threaded JS kernels (≈ 1.2 GFLOP/s;
 *    worker_threads would at best halve that on 2 cores — 15–30× slower, so not
 *    built). scikit-learn (float64 OpenBLAS, 2 threads) ≈ 0.4–0.6 s per evaluation.
 *  - 'js': single-threaded float64-accumulating JS kernels (matmul.ts): exact
 *    enough to converge to sklearn's gtol on small problems, no native code.
 *  - 'auto' (default): 'js' when n·dim·nClasses <= 4e6, else 'ort'.
 *  - `device`: where the 'ort' graph runs (--device: webgpu, cuda, ...). Small
 *    problems stay in JS on every device: below 4e6 multiply-adds a device's
 *    round trip costs more than the arithmetic. A GPU's GEMMs accumulate in a
 *    different order: the fit agrees with the CPU's within the tolerances in
 *    the README (GPU), not bit for bit.
 *
 * Warm start (`warmStart`, an extension — sklearn's lbfgs path always starts
 * from zero in `LogisticRegression.fit` unless warm_start=True): the optimiser
 * starts from the given model's W and b. In a C sweep on the same data, start
 * each fit from the previous C's solution; the minimiser is unchanged (the
 * objective is strictly convex), only the number of iterations drops.
 *
 * Determinism: all optimiser arithmetic is float64 in a fixed order; the ORT
 * backend is bit-reproducible for a fixed thread count (static partitioning),
 * the JS backend always. Same inputs + same `threads` → same bits.
 */
import os from 'node:os';
import { lbfgs } from './lbfgs.js';
import { gemmBias, gemmTNAccumulate } from './matmul.js';
import { WasmGemm } from './gemm-wasm.js';
import type { DeviceChoice } from '../model/device.js';

export interface LogRegModel {
  nClasses: number;
  dim: number;
  /** [dim, nClasses] row-major. */
  W: Float32Array;
  /** [nClasses]. */
  b: Float32Array;
  /** L-BFGS iterations (completed line searches), comparable with sklearn's n_iter_. */
  iterations: number;
  converged: boolean;
  /** Final objective Σ logloss + ½/C·‖W‖² (sklearn's scaling). */
  objective?: number;
  /** Number of objective/gradient evaluations. */
  evaluations?: number;
  /** Stopping reason, in scipy's words. */
  message?: string;
  /** Data-term backend used by the fit. */
  backend?: 'ort' | 'js';
}

export type LogRegBackend = 'auto' | 'ort' | 'js';

export interface LogRegOptions {
  /** Inverse regularisation strength (sklearn's C). */
  C: number;
  /** Default 1000. */
  maxIter?: number;
  /** Default 1e-4: max-abs gradient of the objective above (scipy gtol). */
  tol?: number;
  /** Start from this model instead of zero (not in sklearn's lbfgs path; see above). */
  warmStart?: LogRegModel;
  /** Threads for the ORT backend (default os.availableParallelism()). */
  threads?: number;
  /** Where the ORT backend's graph runs (default the CPU); the JS backend always runs here. */
  device?: DeviceChoice;
  backend?: LogRegBackend;
  /** Progress callback after each iteration. */
  onIter?: (iter: number, objective: number, gradMaxAbs: number) => void;
}

type DataTerm = (W: Float64Array, b: Float64Array, gW: Float64Array, gb: Float64Array) => Promise<number> | number;

function checkInputs(X: Float32Array, y: Int32Array, n: number, dim: number, k: number): void {
  if (!(n > 0 && dim > 0 && k > 0)) throw new RangeError(`fitLogReg: bad shape n=${n} dim=${dim} nClasses=${k}`);
  if (X.length < n * dim) throw new RangeError(`fitLogReg: X has ${X.length} values, need ${n * dim}`);
  if (y.length < n) throw new RangeError(`fitLogReg: y has ${y.length} labels, need ${n}`);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!(c >= 0 && c < k)) throw new RangeError(`fitLogReg: label y[${i}]=${c} outside [0, ${k})`);
  }
}

/** Float64 JS data term: Σ −log p_y, and its gradient wrt W and b; the products in WebAssembly where it loads. */
function jsDataTerm(X: Float32Array, y: Int32Array, n: number, dim: number, k: number, kernels: 'wasm' | 'js' = 'wasm'): DataTerm {
  const wasm = kernels === 'wasm' ? WasmGemm.create(X, n, dim, k) : null;
  const Z = wasm ? wasm.Z : new Float64Array(n * k);
  return (W, b, gW, gb) => {
    if (wasm) {
      wasm.W.set(W);
      wasm.b.set(b);
      wasm.logits();
    } else {
      gemmBias(X, n, dim, W, k, b, Z);
    }
    const nll = softmaxGradient(Z, y, n, k, gb);
    if (wasm) {
      wasm.gradient();
      gW.set(wasm.gW);
    } else {
      gW.fill(0);
      gemmTNAccumulate(X, n, dim, Z, k, gW);
    }
    return nll;
  };
}

/** Logits Z [n, k] in, P − Y out (in place); returns Σ −log p_y and sets gb to the column sums of P − Y. */
function softmaxGradient(Z: Float64Array, y: Int32Array, n: number, k: number, gb: Float64Array): number {
  let nll = 0;
  gb.fill(0);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let mx = -Infinity;
    for (let c = 0; c < k; c++) if (Z[o + c]! > mx) mx = Z[o + c]!;
    let se = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(Z[o + c]! - mx);
      Z[o + c] = e;
      se += e;
    }
    const yi = y[i]!;
    // nll_i = log Σ exp(z) − z_y = log(se) + mx − z_y = log(se) − log(e_y)
    nll += Math.log(se) - Math.log(Z[o + yi]!);
    const inv = 1 / se;
    for (let c = 0; c < k; c++) {
      const p = Z[o + c]! * inv - (c === yi ? 1 : 0);
      Z[o + c] = p;
      gb[c] += p;
    }
  }
  return nll;
}

async function ortDataTerm(
  X: Float32Array,
  y: Int32Array,
  n: number,
  dim: number,
  k: number,
  threads: number,
  device: DeviceChoice | undefined,
): Promise<{ fn: DataTerm; release: () => Promise<void> }> {
  // loaded on first use: small fits (and the fit workers) never load onnxruntime
  const { OrtDataTerm } = await import('./logreg-ort.js');
  const ort = await OrtDataTerm.create(X, y, n, dim, k, threads, device);
  const W32 = new Float32Array(dim * k);
  const b32 = new Float32Array(k);
  return {
    fn: async (W, b, gW, gb) => {
      W32.set(W);
      b32.set(b);
      const r = await ort.evaluate(W32, b32);
      gW.set(r.gW);
      gb.set(r.gb);
      return r.nll;
    },
    release: () => ort.release(),
  };
}

/** The 'auto' backend: float64 kernels (WebAssembly) up to n·dim·classes = 4e6, onnxruntime above. */
export function logRegBackendFor(n: number, dim: number, nClasses: number): 'js' | 'ort' {
  return n * dim * nClasses <= 4e6 ? 'js' : 'ort';
}

export async function fitLogReg(
  X: Float32Array,
  y: Int32Array,
  n: number,
  dim: number,
  nClasses: number,
  opts: LogRegOptions,
): Promise<LogRegModel> {
  const k = nClasses;
  checkInputs(X, y, n, dim, k);
  if (!(opts.C > 0)) throw new RangeError(`fitLogReg: C must be > 0, got ${opts.C}`);
  const lam = 1 / opts.C;
  const maxIter = opts.maxIter ?? 1000;
  const tol = opts.tol ?? 1e-4;
  const threads = Math.max(1, Math.floor(opts.threads ?? os.availableParallelism()));
  let backend = opts.backend ?? 'auto';
  if (backend === 'auto') backend = logRegBackendFor(n, dim, k);

  let data: DataTerm;
  let release: (() => Promise<void>) | undefined;
  if (backend === 'ort') {
    const o = await ortDataTerm(X, y, n, dim, k, threads, opts.device);
    data = o.fn;
    release = o.release;
  } else {
    data = jsDataTerm(X, y, n, dim, k);
  }

  const nw = dim * k;
  const x0 = new Float64Array(nw + k);
  if (opts.warmStart) {
    const ws = opts.warmStart;
    if (ws.dim !== dim || ws.nClasses !== k) {
      throw new RangeError(`fitLogReg: warmStart is ${ws.dim}x${ws.nClasses}, need ${dim}x${k}`);
    }
    x0.set(ws.W, 0);
    x0.set(ws.b, nw);
  }

  const fg = async (x: Float64Array, g: Float64Array): Promise<number> => {
    const W = x.subarray(0, nw);
    const b = x.subarray(nw);
    const gW = g.subarray(0, nw);
    const gb = g.subarray(nw);
    const nll = await data(W, b, gW, gb);
    let sq = 0;
    for (let i = 0; i < nw; i++) {
      const w = W[i]!;
      sq += w * w;
      gW[i] += lam * w;
    }
    return nll + 0.5 * lam * sq;
  };

  try {
    const res = await lbfgs(fg, x0, { maxIter, gtol: tol, onIter: opts.onIter });
    return {
      nClasses: k,
      dim,
      W: Float32Array.from(res.x.subarray(0, nw)),
      b: Float32Array.from(res.x.subarray(nw)),
      iterations: res.iterations,
      converged: res.converged,
      objective: res.f,
      evaluations: res.nfev,
      message: res.message,
      backend,
    };
  } finally {
    await release?.();
  }
}

/** Logits X·W + b, [n, nClasses] row-major (synchronous JS kernel). */
export function predictScores(model: LogRegModel, X: Float32Array, n: number): Float32Array {
  const { dim, nClasses } = model;
  if (X.length < n * dim) throw new RangeError(`predictScores: X has ${X.length} values, need ${n * dim}`);
  const out = new Float32Array(n * nClasses);
  gemmBias(X, n, dim, model.W, nClasses, model.b, out);
  return out;
}

/**
 * Logits X·W + b, [n, nClasses] row-major, computed by onnxruntime (MLAS SGEMM on
 * `threads` threads): ~50x faster than predictScores on large sets; float32
 * accumulation, so logits may differ from predictScores in the last bits.
 */
export async function predictScoresAsync(
  model: LogRegModel,
  X: Float32Array,
  n: number,
  threads: number = os.availableParallelism(),
  device?: DeviceChoice,
): Promise<Float32Array> {
  const { dim, nClasses } = model;
  if (X.length < n * dim) throw new RangeError(`predictScoresAsync: X has ${X.length} values, need ${n * dim}`);
  const { ortLogits } = await import('./logreg-ort.js');
  return ortLogits(X, n, dim, nClasses, model.W, model.b, threads, device);
}

/** Row-wise argmax of [n, k] scores (first maximum on ties). */
export function argmaxRows(scores: Float32Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let best = 0;
    let bv = scores[o]!;
    for (let c = 1; c < k; c++) {
      if (scores[o + c]! > bv) {
        bv = scores[o + c]!;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Predicted labels for X. */
export function predictLabels(model: LogRegModel, X: Float32Array, n: number): Int32Array {
  return argmaxRows(predictScores(model, X, n), n, model.nClasses);
}

/**
 * The objective (sklearn's scaling) and its gradient at a model, in float64 JS
 * arithmetic — for checking solutions. Gradient layout: [W as in the model, b].
 */
export function logRegObjective(
  model: LogRegModel,
  X: Float32Array,
  y: Int32Array,
  n: number,
  C: number,
): { objective: number; grad: Float64Array } {
  const { dim, nClasses: k } = model;
  checkInputs(X, y, n, dim, k);
  const nw = dim * k;
  const W = Float64Array.from(model.W);
  const b = Float64Array.from(model.b);
  const g = new Float64Array(nw + k);
  const nll = jsDataTerm(X, y, n, dim, k, 'js')(W, b, g.subarray(0, nw), g.subarray(nw)) as number;
  let sq = 0;
  for (let i = 0; i < nw; i++) {
    sq += W[i]! * W[i]!;
    g[i] += W[i]! / C;
  }
  return { objective: nll + (0.5 * sq) / C, grad: g };
}
