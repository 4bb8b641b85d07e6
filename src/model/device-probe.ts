// Child process of device.ts: `node device-probe.js <ep> <deviceId>` runs a small graph on the execution provider
// and prints one JSON line: {"ok":true,"adapter":...} or {"ok":false,"error":"..."}. The EP's native output stays
// in this process's stderr, which the parent reads to say what is missing.
import { execFileSync } from 'node:child_process';
import ort from 'onnxruntime-node';
import { encodeModel, ONNX_FLOAT } from '../util/onnx-proto.js';
import { executionProviders, type ExecutionProvider } from './device.js';
import { preferredVulkanAdapter, type GpuAdapter } from './vulkan-adapter.js';

const [ep, id] = [process.argv[2] as ExecutionProvider, Number(process.argv[3] ?? 0)];

/** y = x·W with W all ones: a MatMul, the op every tower and the probe solver are made of. */
function testGraph(): Uint8Array {
  return encodeModel({
    name: 'device_probe',
    inputs: [{ name: 'x', elemType: ONNX_FLOAT, shape: [2, 4] }],
    outputs: [{ name: 'y', elemType: ONNX_FLOAT, shape: [2, 3] }],
    initializers: [{ name: 'W', dataType: ONNX_FLOAT, dims: [4, 3], raw: new Uint8Array(new Float32Array(12).fill(1).buffer) }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
  });
}

/** The NVIDIA GPU with this index and its driver version, from nvidia-smi when there is one. */
function nvidiaAdapter(index: number): GpuAdapter | null {
  try {
    const line = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader', `--id=${index}`], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const [name, driver] = line.trim().split(',').map((s) => s.trim());
    return name ? { name, driver: `NVIDIA ${driver ?? ''}`.trim(), type: 'discrete GPU' } : null;
  } catch {
    return null;
  }
}

try {
  const session = await ort.InferenceSession.create(testGraph(), { executionProviders: executionProviders({ ep, deviceId: id }), logSeverityLevel: 3 });
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 4]) });
  const y = Array.from(out['y']!.data as Float32Array);
  if (y.join(',') !== '10,10,10,26,26,26') throw new Error(`a test MatMul gave ${y.join(',')} instead of 10,10,10,26,26,26`);
  await session.release();
  const adapter = ep === 'webgpu' ? preferredVulkanAdapter() : ep === 'cuda' ? nvidiaAdapter(id) : null;
  process.stdout.write(`${JSON.stringify({ ok: true, adapter })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String((e as Error)?.message ?? e) })}\n`);
}
