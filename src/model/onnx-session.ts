import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { UserError } from '../errors.js';

export type Device = 'cpu' | 'cuda';

export interface SessionOptions {
  device: Device;
  /** intra-op threads (0 = onnxruntime's default: one per core) */
  threads?: number;
}

export function parseDevice(value: string): Device {
  if (value === 'cpu' || value === 'cuda') return value;
  throw new UserError(`--device ${value}: expected cpu or cuda`);
}

/** Open an ONNX file; a missing or corrupt file, or a missing CUDA provider, is a UserError naming it. */
export async function createSession(file: string, opts: SessionOptions): Promise<ort.InferenceSession> {
  if (!existsSync(file)) throw new UserError(`model file missing: ${file}`);
  if (opts.device === 'cuda' && !hasCudaProvider()) {
    throw new UserError(
      '--device cuda: this onnxruntime-node build has no CUDA execution provider; reinstall it with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` (see README)',
    );
  }
  try {
    return await ort.InferenceSession.create(file, {
      executionProviders: opts.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      intraOpNumThreads: opts.threads ?? 0,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    const msg = String((e as Error).message ?? e).split('\n')[0];
    throw new UserError(`cannot load ONNX model ${file}: ${msg}`);
  }
}

/**
 * Whether onnxruntime-node's CUDA provider library is installed: the binding lists 'cuda' as supported on Linux
 * either way, but the provider's shared library only exists after a CUDA install (ONNXRUNTIME_NODE_INSTALL=cuda12).
 */
function hasCudaProvider(): boolean {
  if (!ort.listSupportedBackends().some((b) => b.name === 'cuda')) return false;
  const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch, lib));
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
