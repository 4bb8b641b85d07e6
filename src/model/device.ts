/**
 * `--device`: which onnxruntime execution provider (EP) runs the towers and the probe solver, and on which GPU.
 * An accelerator is tried in a child process first (device-probe.ts): an EP that cannot start prints native
 * warnings (Dawn, the Vulkan loader) and may abort the process, and neither should reach the user. The child's
 * failure becomes a one-line error naming what is missing and how to get it; `auto` takes the first EP that works,
 * else the CPU, and says which.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type ort from 'onnxruntime-node';
import { DEFAULTS } from '../defaults.js';
import { UserError } from '../errors.js';
import type { GpuAdapter } from './vulkan-adapter.js';

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda' | 'coreml' | 'dml';
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda', 'coreml', 'dml'];

/** What `--device` names: an EP and, for CUDA and DirectML, the GPU's index. */
export interface DeviceChoice {
  ep: ExecutionProvider;
  deviceId: number;
}

/** A device that worked: the choice and the GPU it runs on (null: the CPU, or not known on this platform). */
export interface Device extends DeviceChoice {
  adapter: GpuAdapter | null;
}

export const CPU_DEVICE: Device = { ep: 'cpu', deviceId: 0, adapter: null };

/** The platform's own EP, where onnxruntime-node ships one. */
function platformEp(): ExecutionProvider | null {
  return process.platform === 'darwin' ? 'coreml' : process.platform === 'win32' ? 'dml' : null;
}

export function deviceFlagHelp(): string {
  const own = platformEp();
  return `auto, cpu, webgpu, cuda or cuda:N${own ? `, ${own}${own === 'dml' ? ' or dml:N' : ''}` : ''}`;
}

/** Parse `--device`: 'auto' or an EP (with `:N` for cuda and dml). */
export function parseDevice(value: string): DeviceChoice | 'auto' {
  const v = value.trim().toLowerCase();
  if (v === 'auto') return 'auto';
  const m = /^(cpu|webgpu|cuda|coreml|dml)(?::(\d+))?$/.exec(v);
  const ep = m?.[1] as ExecutionProvider | undefined;
  const indexed = ep === 'cuda' || ep === 'dml';
  if (!m || !ep || (m[2] !== undefined && !indexed) || ((ep === 'coreml' || ep === 'dml') && ep !== platformEp())) {
    throw new UserError(`--device ${value}: expected ${deviceFlagHelp()}`);
  }
  return { ep, deviceId: m[2] === undefined ? 0 : Number(m[2]) };
}

/** The device as the flag spells it: cpu, webgpu, cuda:1 */
export function deviceLabel(d: DeviceChoice): string {
  return d.ep === 'cuda' || d.ep === 'dml' ? (d.deviceId === 0 ? d.ep : `${d.ep}:${d.deviceId}`) : d.ep;
}

/** The device for a log line: "webgpu on llvmpipe (LLVM 15.0.6, 256 bits) (CPU; llvmpipe Mesa 25.0.7)" */
export function describeDevice(d: Device): string {
  const a = d.adapter;
  return a ? `${deviceLabel(d)} on ${a.name} (${[a.type, a.driver].filter(Boolean).join('; ')})` : deviceLabel(d);
}

/** onnxruntime's executionProviders for a device (the CPU EP is always there behind it, for the nodes it keeps). */
export function executionProviders(d: DeviceChoice): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (d.ep) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return [{ name: 'cuda', deviceId: d.deviceId }];
    case 'dml':
      return [{ name: 'dml', deviceId: d.deviceId }];
    default:
      return [d.ep];
  }
}

/**
 * Mesa's Vulkan drivers warn on every start when XDG_RUNTIME_DIR is unset (containers, CI): point it at the temp
 * folder for this process and its children. Called before any WebGPU session exists.
 */
export function prepareWebGpuEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.XDG_RUNTIME_DIR) env.XDG_RUNTIME_DIR = os.tmpdir();
}

const probes = new Map<string, Promise<ProbeResult>>();

export type ProbeResult = { ok: true; adapter: GpuAdapter | null } | { ok: false; reason: string };

/**
 * Open the device `--device` asks for: the CPU as is; an accelerator after a child process has run a small graph
 * on it (a UserError saying what is missing when it cannot); `auto` the first accelerator that works, else the
 * CPU, with a line on `log` saying which and why.
 */
export function openDevice(request: DeviceChoice | 'auto', log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<Device> {
  // once per process: every --model of a run opens the same device, and auto says which once
  const key = JSON.stringify(request);
  let p = opened.get(key);
  if (!p) {
    p = chooseDevice(request, log);
    opened.set(key, p);
    p.catch(() => opened.delete(key));
  }
  return p;
}

const opened = new Map<string, Promise<Device>>();

async function chooseDevice(request: DeviceChoice | 'auto', log: (line: string) => void): Promise<Device> {
  if (request !== 'auto') {
    if (request.ep === 'cpu') return CPU_DEVICE;
    const r = await probeDevice(request);
    if (!r.ok) throw new UserError(`--device ${deviceLabel(request)}: ${r.reason}`);
    if (request.ep === 'webgpu') prepareWebGpuEnv();
    return { ...request, adapter: r.adapter };
  }
  const tried: string[] = [];
  for (const choice of autoCandidates()) {
    const r = await probeDevice(choice);
    // a software Vulkan driver (Mesa's lavapipe) works but is far slower than the CPU EP: auto passes it by
    if (r.ok && r.adapter?.type === 'CPU') {
      tried.push(`${deviceLabel(choice)}: only a software Vulkan device (${r.adapter.name}), slower than the CPU EP; --device webgpu uses it`);
      continue;
    }
    if (r.ok) {
      if (choice.ep === 'webgpu') prepareWebGpuEnv();
      const device = { ...choice, adapter: r.adapter };
      log(`--device auto: using ${describeDevice(device)}`);
      return device;
    }
    tried.push(`${deviceLabel(choice)}: ${r.reason}`);
  }
  log(`--device auto: no accelerator works, running on the CPU (${tried.join('; ')})`);
  return CPU_DEVICE;
}

/** What `auto` tries, in order: CUDA where its provider is installed, the platform's EP, then WebGPU. */
function autoCandidates(): DeviceChoice[] {
  const own = platformEp();
  return [
    ...(hasCudaProvider() ? [{ ep: 'cuda' as const, deviceId: 0 }] : []),
    ...(own ? [{ ep: own, deviceId: 0 }] : []),
    { ep: 'webgpu', deviceId: 0 },
  ];
}

/** Run device-probe.js in a child process (once per device per process). */
export function probeDevice(choice: DeviceChoice, env: NodeJS.ProcessEnv = process.env): Promise<ProbeResult> {
  const key = JSON.stringify([choice, env === process.env ? null : env]);
  let p = probes.get(key);
  if (!p) {
    p = runProbe(choice, env);
    probes.set(key, p);
  }
  return p;
}

async function runProbe(choice: DeviceChoice, parentEnv: NodeJS.ProcessEnv): Promise<ProbeResult> {
  if (choice.ep === 'cuda' && !hasCudaProvider()) return { ok: false, reason: MISSING.cudaProvider };
  const script = fileURLToPath(new URL('./device-probe.js', import.meta.url));
  const env = { ...parentEnv };
  if (choice.ep === 'webgpu') prepareWebGpuEnv(env);
  const { stdout, stderr, error } = await new Promise<{ stdout: string; stderr: string; error: Error | null }>((resolve) => {
    execFile(process.execPath, [script, choice.ep, String(choice.deviceId)], { env, timeout: 120_000, maxBuffer: 4 << 20 }, (error, stdout, stderr) =>
      resolve({ stdout: String(stdout), stderr: String(stderr), error }),
    );
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    const r = JSON.parse(last) as { ok: boolean; adapter?: GpuAdapter | null; error?: string };
    if (r.ok) return { ok: true, adapter: r.adapter ?? null };
    return { ok: false, reason: explainFailure(choice.ep, `${r.error ?? ''}\n${stderr}`) };
  } catch {
    // no JSON line: the child died natively (an abort inside the EP) or timed out
    const how = error && 'signal' in error && error.signal ? `the test process was killed by ${String(error.signal)}` : 'the test process failed';
    return { ok: false, reason: explainFailure(choice.ep, `${stderr}\n${how}`) };
  }
}

const MISSING = {
  vulkanLoader: 'no Vulkan loader (libvulkan.so.1): install it (Debian/Ubuntu: apt-get install libvulkan1) and a Vulkan driver for the GPU',
  adapter:
    "no GPU adapter: the Vulkan loader found no usable driver. Install the GPU's Vulkan driver (NVIDIA: the driver's Vulkan ICD, nvidia_icd.json, which a container gets with NVIDIA_DRIVER_CAPABILITIES=all or graphics; AMD/Intel: mesa-vulkan-drivers 24 or later; no GPU: mesa-vulkan-drivers 24 or later from bookworm-backports gives the software driver lavapipe)",
  oldMesa: 'the Vulkan driver lacks a feature WebGPU requires (shaderUniformBufferArrayDynamicIndexing): Mesa older than 24; install mesa-vulkan-drivers 24 or later (Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers)',
  cudaProvider:
    "this onnxruntime-node has no CUDA execution provider: after npm ci run `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install` (downloads onnxruntime's CUDA 12 provider from nuget.org; README, GPU)",
  cudaLibs: 'the CUDA 12 runtime, cuBLAS or cuDNN 9 libraries were not found: install CUDA 12.x and cuDNN 9.x and put their lib folders on LD_LIBRARY_PATH (README, GPU)',
  noCudaGpu: 'no CUDA GPU with that index (or no NVIDIA driver): check nvidia-smi',
} as const;

/** Turn an EP's failure (its error and native stderr) into what is missing and how to get it. */
export function explainFailure(ep: ExecutionProvider, text: string): string {
  const first = (text.split('\n').map((l) => l.trim()).find((l) => l && !/^Warning:/.test(l)) ?? '').slice(0, 300);
  if (ep === 'webgpu') {
    if (/Couldn't load Vulkan|libvulkan\.so/i.test(text)) return MISSING.vulkanLoader;
    if (/ArrayDynamicIndexing/i.test(text)) return MISSING.oldMesa;
    if (/adapter/i.test(text)) return MISSING.adapter;
  }
  if (ep === 'cuda') {
    // "Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open ...":
    // the provider is there, the CUDA libraries it links are not
    if (/lib(cudart|cublas|cublasLt|cudnn|cufft|curand)[^ ]*\.so/i.test(text)) return MISSING.cudaLibs;
    if (/libonnxruntime_providers_(cuda|shared)|Failed to load shared library/.test(text)) return MISSING.cudaProvider;
    if (/invalid device ordinal|no CUDA-capable device|CUDA driver version/i.test(text)) return MISSING.noCudaGpu;
  }
  return `the ${ep} execution provider failed to start: ${first || 'no message'}`;
}

/**
 * Whether onnxruntime-node's CUDA provider library is installed: the binding lists 'cuda' as supported on Linux
 * either way, but the provider's shared library only exists after a CUDA install (ONNXRUNTIME_NODE_INSTALL=cuda12).
 */
export function hasCudaProvider(): boolean {
  if (process.platform !== 'linux' && process.platform !== 'win32') return false;
  const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch, lib));
}

/** Images per inference batch when --batch-size is not given: a GPU wants larger batches than the CPU. */
export function defaultBatchSize(ep: ExecutionProvider): number {
  return ep === 'cpu' ? DEFAULTS.batchSize : DEFAULTS.deviceBatchSize;
}
