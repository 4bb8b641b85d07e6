import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { UserError } from '../errors.js';
import { deviceLabel, executionProviders, hasCudaProvider, type Device } from './device.js';

export interface SessionOptions {
  /** the execution provider (and GPU) the session runs on; open it with openDevice (device.ts) first */
  device: Device;
  /** intra-op threads (0 = onnxruntime's default: one per core) */
  threads?: number;
}

/**
 * Open an ONNX file (or `bytes`: that file's graph edited in memory, see towers.ts); a missing or corrupt file, or
 * a missing CUDA provider, is a UserError naming it.
 */
export async function createSession(file: string, opts: SessionOptions, bytes?: Uint8Array): Promise<ort.InferenceSession> {
  if (!bytes && !existsSync(file)) throw new UserError(`model file missing: ${file}`);
  if (opts.device.ep === 'cuda' && !hasCudaProvider()) {
    throw new UserError(
      '--device cuda: this onnxruntime-node build has no CUDA execution provider; run `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install` (see README, GPU)',
    );
  }
  try {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: executionProviders(opts.device),
      // on an accelerator the CPU EP runs only the shape nodes: one thread, so its pool leaves the other cores to
      // the preprocessing workers (clip-model.ts counts one inference core there)
      intraOpNumThreads: opts.device.ep === 'cpu' ? (opts.threads ?? 0) : 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // an accelerator's EP warns that it leaves shape nodes to the CPU on every session: expected, not the user's concern
      ...(opts.device.ep === 'cpu' ? {} : { logSeverityLevel: 3 as const }),
    };
    return await (bytes ? ort.InferenceSession.create(bytes, options) : ort.InferenceSession.create(file, options));
  } catch (e) {
    const msg = String((e as Error).message ?? e).split('\n')[0];
    const on = opts.device.ep === 'cpu' ? '' : ` on --device ${deviceLabel(opts.device)}`;
    throw new UserError(`cannot load ONNX model ${file}${on}: ${msg}`);
  }
}

/** The first output among `preferred` that the session declares, else its first output. */
export function pickOutput(session: ort.InferenceSession, preferred: string[]): string {
  return preferred.find((n) => session.outputNames.includes(n)) ?? session.outputNames[0];
}

/** Check an embedding output is [n, dim] float32 and return its data. */
export function embeddingsOf(tensor: ort.Tensor, n: number, what: string): { data: Float32Array; dim: number } {
  // [n, dim, 1, 1] (a pooled CNN feature map) is [n, dim]
  const dims = tensor.dims.length > 2 && tensor.dims.slice(2).every((d) => d === 1) ? tensor.dims.slice(0, 2) : tensor.dims;
  if (tensor.type !== 'float32' || dims.length !== 2 || dims[0] !== n) {
    throw new UserError(
      `${what}: expected a float32 [${n}, dim] embedding output, got ${tensor.type} [${tensor.dims.join(', ')}]`,
    );
  }
  return { data: tensor.data as Float32Array, dim: dims[1] };
}
