// --device: parsing, the errors when an accelerator cannot start, `auto`'s fallback, and the WebGPU execution
// provider against the CPU on Mesa's software Vulkan driver (lavapipe) where the machine has it (CI installs it:
// CLIP_BENCH_REQUIRE_WEBGPU=1 there turns a missing adapter into a failure instead of a skip). lavapipe is a CPU
// emulating a GPU: the WebGPU cases are kept small (20 images, 10 prompts, one 120 x 16 probe).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listEntries } from '../../src/cache/manage.js';
import { argmaxRows, fitLogReg, predictScores } from '../../src/eval/logreg.js';
import { CPU_DEVICE, explainFailure, hasCudaProvider, openDevice, parseDevice, probeDevice } from '../../src/model/device.js';
import { parseNpyHeader } from '../../src/util/npy.js';
import { runCli } from '../support/cli.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-device-'));
/** a Vulkan loader that finds no driver: the WebGPU EP gets no adapter */
const NO_ADAPTER = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };

const webgpu = await probeDevice({ ep: 'webgpu', deviceId: 0 });
const required = process.env.CLIP_BENCH_REQUIRE_WEBGPU === '1';
const skipWebGpu = webgpu.ok || required ? false : `no WebGPU adapter on this machine (${webgpu.ok ? '' : webgpu.reason})`;

test('--device parses auto, cpu, webgpu, cuda[:N]; anything else names the flag', () => {
  assert.equal(parseDevice('auto'), 'auto');
  assert.deepEqual(parseDevice('cpu'), { ep: 'cpu', deviceId: 0 });
  assert.deepEqual(parseDevice('webgpu'), { ep: 'webgpu', deviceId: 0 });
  assert.deepEqual(parseDevice('cuda'), { ep: 'cuda', deviceId: 0 });
  assert.deepEqual(parseDevice('cuda:1'), { ep: 'cuda', deviceId: 1 });
  for (const bad of ['gpu', 'webgpu:1', 'cuda:x', 'cpu:0', ...(process.platform === 'darwin' ? ['dml'] : ['coreml'])]) {
    assert.throws(() => parseDevice(bad), (e: Error) => e.name === 'UserError' && e.message.startsWith(`--device ${bad}: expected auto, cpu, webgpu, cuda or cuda:N`), bad);
  }
});

test('an EP that cannot start is explained: what is missing and how to get it', () => {
  // the messages onnxruntime 1.30 and Dawn print in each case (reference/webgpu.md)
  assert.match(explainFailure('webgpu', "Warning: Couldn't load Vulkan: libvulkan.so.1\nFailed to get a WebGPU adapter"), /^no Vulkan loader \(libvulkan\.so\.1\): install it .*apt-get install libvulkan1/);
  assert.match(explainFailure('webgpu', 'Warning: vkCreateInstance: Found no drivers!\nFailed to get a WebGPU adapter: No supported adapters'), /^no GPU adapter: .*mesa-vulkan-drivers 24 or later/);
  assert.match(explainFailure('webgpu', 'Vulkan shaderUniformBufferArrayDynamicIndexing required\nFailed to get a WebGPU adapter'), /Mesa older than 24; .*bookworm-backports/);
  assert.match(
    explainFailure('cuda', 'Failed to load library libonnxruntime_providers_shared.so with error: libonnxruntime_providers_shared.so: cannot open shared object file'),
    /^this onnxruntime-node has no CUDA execution provider: .*ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install/,
  );
  assert.match(
    explainFailure('cuda', 'Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file'),
    /^the CUDA 12 runtime, cuBLAS or cuDNN 9 libraries were not found/,
  );
  assert.equal(explainFailure('cuda', 'something else\nmore'), 'the cuda execution provider failed to start: something else');
});

// (where onnxruntime's CUDA provider is installed, --device cuda:1 is tried instead: that case is for a GPU machine)
test('--device cuda without the CUDA provider, and webgpu without an adapter: one line, exit 2', { skip: hasCudaProvider() && 'the CUDA provider is installed here' }, async () => {
  const out = tmp();
  const cuda = await runCli(['zeroshot', '--device', 'cuda:1', '--limit', '10', '--prompts', 'contextless', '--out', out]);
  assert.equal(cuda.status, 2, cuda.stderr);
  assert.match(cuda.stderr, /^clip-bench: --device cuda:1: this onnxruntime-node has no CUDA execution provider: .*\n$/);
  const gpu = await runCli(['zeroshot', '--device', 'webgpu', '--limit', '10', '--prompts', 'contextless', '--out', out], NO_ADAPTER);
  assert.equal(gpu.status, 2, gpu.stderr);
  // the Vulkan loader's and Dawn's warnings stay in the probe's child process
  assert.match(gpu.stderr, /^clip-bench: --device webgpu: no (GPU adapter|Vulkan loader)[^\n]*\n$/);
});

test('--device auto with no accelerator runs on the CPU, says so, and records it', async () => {
  const out = tmp();
  const r = await runCli(['zeroshot', '--device', 'auto', '--limit', '10', '--prompts', 'contextless', '--out', out, '--cache-dir', tmp()], NO_ADAPTER);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /--device auto: no accelerator works, running on the CPU \(webgpu: no (GPU adapter|Vulkan loader)/);
  const run = JSON.parse(readFileSync(path.join(out, 'zeroshot.json'), 'utf8')).runs[0];
  assert.equal(run.execution_provider, 'cpu');
  assert.equal(run.adapter, null);
});

test('--device auto passes a software Vulkan device (lavapipe) by: the CPU EP is faster', { skip: !(webgpu.ok && webgpu.adapter?.type === 'CPU') && 'the WebGPU adapter here is not a software one' }, async () => {
  const out = tmp();
  const r = await runCli(['zeroshot', '--device', 'auto', '--limit', '10', '--prompts', 'contextless', '--out', out, '--cache-dir', tmp()]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /--device auto: no accelerator works, running on the CPU \(webgpu: only a software Vulkan device \(.+\), slower than the CPU EP; --device webgpu uses it\)/);
  assert.equal(JSON.parse(readFileSync(path.join(out, 'zeroshot.json'), 'utf8')).runs[0].execution_provider, 'cpu');
});

test('CLIP_BENCH_REQUIRE_WEBGPU: the WebGPU adapter is there', { skip: !required }, () => {
  assert.ok(webgpu.ok, webgpu.ok ? '' : webgpu.reason);
});

/** The image embeddings a run left in the cache for an execution provider. */
async function imageEntry(cacheDir: string, provider: string): Promise<{ dir: string; data: Float32Array; shape: number[] }> {
  const entries = (await listEntries(cacheDir)).filter((e) => e.kind === 'image' && e.key?.provider === provider);
  assert.equal(entries.length, 1, `one image entry for ${provider}`);
  const buf = readFileSync(path.join(entries[0]!.dir, 'embeddings.npy'));
  const h = parseNpyHeader(buf);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + h.dataOffset, buf.byteOffset + buf.length));
  return { dir: entries[0]!.dir, data, shape: h.shape };
}

test('webgpu: zero-shot rows equal the CPU\'s, image embeddings within 1e-4; the run records the adapter', { skip: skipWebGpu }, async () => {
  // 20 Fashion-MNIST test images (one batch) and 10 prompts, both towers on each device, into one cache
  const cacheDir = tmp();
  const rows: Record<string, unknown>[][] = [];
  const runs: Record<string, unknown>[] = [];
  for (const device of ['cpu', 'webgpu']) {
    const out = tmp();
    const r = await runCli(['zeroshot', '--device', device, '--limit', '20', '--prompts', 'single', '--cache-dir', cacheDir, '--out', out, '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(readFileSync(path.join(out, 'zeroshot.json'), 'utf8'));
    rows.push(json.rows);
    runs.push(json.runs[0]);
  }
  // the rows say which execution provider made them; everything else is equal
  assert.deepEqual(rows.map((r) => r.map((x) => x.provider)), [['cpu'], ['webgpu']]);
  const withoutProvider = (r: Record<string, unknown>[]) => r.map(({ provider: _, ...rest }) => rest);
  assert.deepEqual(withoutProvider(rows[1]!), withoutProvider(rows[0]!));
  assert.equal(runs[0]!.execution_provider, 'cpu');
  assert.equal(runs[1]!.execution_provider, 'webgpu');
  const adapter = runs[1]!.adapter as { name: string; driver: string; type: string } | null;
  assert.ok(adapter && adapter.name.length > 0 && adapter.driver.length > 0, JSON.stringify(adapter));
  assert.notEqual(runs[1]!.model_identity, runs[0]!.model_identity, 'the model identity separates execution providers');
  // the cache keeps each execution provider's embeddings apart
  const cpu = await imageEntry(cacheDir, 'cpu');
  const gpu = await imageEntry(cacheDir, 'webgpu');
  assert.deepEqual(gpu.shape, [20, cpu.shape[1]]);
  assert.deepEqual(gpu.shape, cpu.shape);
  let worst = 0;
  for (let i = 0; i < cpu.data.length; i++) worst = Math.max(worst, Math.abs(gpu.data[i]! - cpu.data[i]!));
  assert.ok(worst <= 1e-4, `max |webgpu - cpu| = ${worst}`);
});

test('webgpu: a probe fitted through the solver graph on the device equals the CPU fit within tolerance', { skip: skipWebGpu }, async () => {
  const device = await openDevice({ ep: 'webgpu', deviceId: 0 });
  assert.equal(device.ep, 'webgpu');
  // a seeded 4-class problem, 120 x 16, large enough that the classes overlap
  let s = 7;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const [n, dim, k] = [120, 16, 4];
  const X = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % k;
    for (let j = 0; j < dim; j++) X[i * dim + j] = rnd() - 0.5 + (j % k === y[i] ? 0.3 : 0);
  }
  const fit = (d: typeof device) => fitLogReg(X, y, n, dim, k, { C: 1, threads: 1, backend: 'ort', device: d });
  const cpu = await fit(CPU_DEVICE);
  const gpu = await fit(device);
  // both stop at the optimum as far as float32 gradients resolve it (scipy's ftol, or a line search that can no
  // longer descend): the same objective, weights and predictions
  assert.ok(Math.abs(gpu.objective! - cpu.objective!) <= 1e-6 * Math.abs(cpu.objective!), `objective ${gpu.objective} vs ${cpu.objective}`);
  let worst = 0;
  for (let i = 0; i < cpu.W.length; i++) worst = Math.max(worst, Math.abs(gpu.W[i]! - cpu.W[i]!));
  assert.ok(worst <= 1e-3, `max |W_webgpu - W_cpu| = ${worst}`);
  const predict = (m: typeof cpu) => argmaxRows(predictScores(m, X, n), n, k);
  assert.deepEqual(predict(gpu), predict(cpu));
});
