/**
 * The data term of the multinomial logistic-regression objective, evaluated by
 * onnxruntime-node (its MLAS SGEMM kernels, multi-threaded by ORT's intra-op
 * thread pool) from a small ONNX graph encoded in memory (see onnx-proto.ts).
 *
 * One session.run computes, for W [dim, k] and b [k]:
 *   Z   = X·W + b                    (Gemm)
 *   LS  = log_softmax(Z)             (row-wise)
 *   G   = exp(LS) − Y                (Y = one-hot labels, [n, k])
 *   gW  = Xᵀ·G                       (Gemm, transA)
 *   gb  = 1ᵀ·G                       (Gemm with a ones row: column sums)
 *   lp  = LS[i, y_i]                 (log p(y_i | x_i), GatherElements, [n, 1])
 * The per-sample log-likelihoods come back in float32 and are summed here in
 * float64 in a fixed order, so the objective value is accurate enough for the
 * line search. X and Y are wrapped once as input tensors and reused by every run
 * (onnxruntime-node does not copy input buffers: a Shape-only graph fed the
 * 100 MB X of the 50000×512 benchmark runs in ~0.1 ms).
 *
 * Determinism: MLAS partitions GEMMs and ORT partitions reductions statically by
 * the thread count, so with a fixed `threads` the results are bit-reproducible
 * (checked in test/eval/logreg.test.ts). Different thread counts may differ in the
 * last bits.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { executionProviders, type DeviceChoice } from '../model/device.js';
import { encodeModel, ONNX_FLOAT, ONNX_INT64 } from '../util/onnx-proto.js';

/** Where the solver's graphs run: the CPU unless --device names an accelerator (opened by openDevice). */
const CPU: DeviceChoice = { ep: 'cpu', deviceId: 0 };

export interface DataTermResult {
  /** Σ_i −log p(y_i|x_i), accumulated in float64. */
  nll: number;
  /** Xᵀ(P − Y), [dim, k] row-major. */
  gW: Float32Array;
  /** Σ_i (P − Y)_i, [k]. */
  gb: Float32Array;
}

export function lossGradModel(dim: number, k: number): Uint8Array {
  return encodeModel({
    name: 'logreg_loss_grad',
    inputs: [
      { name: 'X', elemType: ONNX_FLOAT, shape: ['N', dim] },
      { name: 'Y', elemType: ONNX_FLOAT, shape: ['N', k] },
      { name: 'yi', elemType: ONNX_INT64, shape: ['N', 1] },
      { name: 'one', elemType: ONNX_FLOAT, shape: [1, 'N'] },
      { name: 'W', elemType: ONNX_FLOAT, shape: [dim, k] },
      { name: 'b', elemType: ONNX_FLOAT, shape: [k] },
    ],
    outputs: [
      { name: 'gW', elemType: ONNX_FLOAT, shape: [dim, k] },
      { name: 'gb', elemType: ONNX_FLOAT, shape: [1, k] },
      { name: 'lp', elemType: ONNX_FLOAT, shape: ['N', 1] },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W', 'b'], outputs: ['Z'] },
      { op: 'LogSoftmax', inputs: ['Z'], outputs: ['LS'], attrs: { axis: { i: 1 } } },
      { op: 'Exp', inputs: ['LS'], outputs: ['P'] },
      { op: 'Sub', inputs: ['P', 'Y'], outputs: ['G'] },
      { op: 'Gemm', inputs: ['X', 'G'], outputs: ['gW'], attrs: { transA: { i: 1 } } },
      // column sums as a [1, N]·G GEMM: ~10x faster than ReduceSum over axis 0 in ORT 1.30
      { op: 'Gemm', inputs: ['one', 'G'], outputs: ['gb'] },
      { op: 'GatherElements', inputs: ['LS', 'yi'], outputs: ['lp'], attrs: { axis: { i: 1 } } },
    ],
  });
}

function logitsModel(dim: number, k: number): Uint8Array {
  return encodeModel({
    name: 'logreg_logits',
    inputs: [
      { name: 'X', elemType: ONNX_FLOAT, shape: ['N', dim] },
      { name: 'W', elemType: ONNX_FLOAT, shape: [dim, k] },
      { name: 'b', elemType: ONNX_FLOAT, shape: [k] },
    ],
    outputs: [{ name: 'Z', elemType: ONNX_FLOAT, shape: ['N', k] }],
    nodes: [{ op: 'Gemm', inputs: ['X', 'W', 'b'], outputs: ['Z'] }],
  });
}

function sessionOptions(threads: number, device: DeviceChoice): InferenceSession.SessionOptions {
  return {
    // on an accelerator the CPU EP keeps only the shape nodes
    intraOpNumThreads: device.ep === 'cpu' ? threads : 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: executionProviders(device),
    // an accelerator's EP warns that it leaves shape nodes to the CPU: expected
    ...(device.ep === 'cpu' ? {} : { logSeverityLevel: 3 as const }),
  };
}

/** Holds an ORT session plus the (reused) X and one-hot Y tensors. */
export class OrtDataTerm {
  private constructor(
    private readonly session: InferenceSession,
    private readonly xT: Tensor,
    private readonly yT: Tensor,
    private readonly yiT: Tensor,
    private readonly oneT: Tensor,
    private readonly n: number,
    private readonly dim: number,
    private readonly k: number,
  ) {}

  static async create(
    X: Float32Array,
    y: Int32Array,
    n: number,
    dim: number,
    k: number,
    threads: number,
    device: DeviceChoice = CPU,
  ): Promise<OrtDataTerm> {
    const Y = new Float32Array(n * k);
    const yi = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      Y[i * k + y[i]!] = 1;
      yi[i] = BigInt(y[i]!);
    }
    const session = await InferenceSession.create(lossGradModel(dim, k), sessionOptions(threads, device));
    const xT = new Tensor('float32', X.subarray(0, n * dim), [n, dim]);
    const yT = new Tensor('float32', Y, [n, k]);
    const yiT = new Tensor('int64', yi, [n, 1]);
    const oneT = new Tensor('float32', new Float32Array(n).fill(1), [1, n]);
    return new OrtDataTerm(session, xT, yT, yiT, oneT, n, dim, k);
  }

  async evaluate(W: Float32Array, b: Float32Array): Promise<DataTermResult> {
    const out = await this.session.run({
      X: this.xT,
      Y: this.yT,
      yi: this.yiT,
      one: this.oneT,
      W: new Tensor('float32', W, [this.dim, this.k]),
      b: new Tensor('float32', b, [this.k]),
    });
    const lp = out['lp']!.data as Float32Array;
    let s = 0;
    for (let i = 0; i < this.n; i++) s -= lp[i]!;
    return { nll: s, gW: out['gW']!.data as Float32Array, gb: out['gb']!.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Logits X·W + b via ORT (fast path for large prediction sets). */
export async function ortLogits(
  X: Float32Array,
  n: number,
  dim: number,
  k: number,
  W: Float32Array,
  b: Float32Array,
  threads: number,
  device: DeviceChoice = CPU,
): Promise<Float32Array> {
  const session = await InferenceSession.create(logitsModel(dim, k), sessionOptions(threads, device));
  try {
    const out = await session.run({
      X: new Tensor('float32', X.subarray(0, n * dim), [n, dim]),
      W: new Tensor('float32', W, [dim, k]),
      b: new Tensor('float32', b, [k]),
    });
    return out['Z']!.data as Float32Array;
  } finally {
    await session.release();
  }
}
