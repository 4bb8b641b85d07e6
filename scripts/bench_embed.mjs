#!/usr/bin/env node
/**
 * Benchmark: clip-bench's image-embedding pipeline against the raw ONNX runtime and against PyTorch,
 * side by side in one run, on a ViT-B/32-architecture image tower (random weights) and generated JPEGs.
 *
 *   npm run bench                                   # = tsc -p . && node scripts/bench_embed.mjs
 *   node scripts/bench_embed.mjs --images 256 --skip-torch     # quicker
 *
 * Flags: --cores N (run everything on the first N cores, via taskset; default all)  --images N (default 256)
 *        --batch-size B (default: clip-bench's)  --threads T (default: clip-bench's, = the cores)
 *        --torch-workers W (DataLoader workers, default 1)  --repeat R (alternate the (a)/(b)/(c) runs R times,
 *        report medians; default 1)  --work DIR (default .work/bench)  --skip-torch --skip-zeroshot --skip-probe
 *        --skip-peak --skip-preprocess  --pp-images N (default 200)  --python PATH (default /usr/bin/python3)
 *        --probe-n N (default 50000)  --device D (cpu, webgpu, cuda[:N], ...: where (a), (b) and (g) run; default cpu)
 *        --solver-n N (rows of (g), default 20000)  --json
 *
 * What it prints (goals in brackets):
 *  (a) raw runtime: onnxruntime-node on pre-made tensors, clip-bench's batch size and intra-op threads
 *  (b) `clip-bench embed` end to end (cold cache, child process): embedding phase and whole process, ratio to (a) [>= 0.95]
 *  (c) PyTorch peer: same weights, torchvision preprocessing, DataLoader; clip-bench (b) / (c) [>= 1.8]; and
 *      the same PyTorch model alone on pre-made tensors, which bounds what any preprocessing can give (c)
 *  (d) warm cache: `clip-bench zeroshot` (built-in mini, bundled Fashion-MNIST), median of 5 wall times [< 1 s]
 *  (e) peak RSS of (b) and of a linear probe on 50,000 x 512 random features, against what they hold
 *  (f) FLOPs per image against the measured MatMul peak of onnxruntime on the same threads
 *  (g) the probe solver's graph (logreg-ort.ts, N x 512 x 10) on --device against the CPU: seconds per
 *      objective+gradient evaluation, and the largest weight difference after 5 L-BFGS iterations
 *  (p), (q) decode + preprocessing per core against Pillow + torchvision, and the pipelines with a negligible-
 *      inference model at 1 and N cores (scripts/bench_preprocess.mjs)
 * The model (scripts/make_vitb32.py) and images are generated on first use into --work (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag } from './bench_args.mjs';
import { hasTaskset, lastJson, median, runProcess } from './bench_util.mjs';
import { IMAGENET_SIZES, makeJpegs, mulberry32 } from './bench_images.mjs';
import { preprocessBench } from './bench_preprocess.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

// --cores N: re-run this script pinned to the first N cores, so that everything below (the in-process raw
// runtime, the child processes, the default thread counts) sees N cores
{
  const cores = flag('cores', 0);
  if (cores > os.cpus().length) throw new Error(`--cores ${cores}: this machine has ${os.cpus().length}`);
  if (cores > 0 && os.availableParallelism() !== cores) {
    if (!hasTaskset) throw new Error('--cores needs taskset (util-linux)');
    const r = spawnSync('taskset', ['-c', `0-${cores - 1}`, process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
}
const dist = (p) => path.join(root, 'dist/src', p);
const { DEFAULTS } = await import(dist('defaults.js'));
const { createSession } = await import(dist('model/onnx-session.js'));
const { CPU_DEVICE, defaultBatchSize, deviceLabel, describeDevice, openDevice, parseDevice } = await import(dist('model/device.js'));
const { encodeModel, ONNX_FLOAT } = await import(dist('util/onnx-proto.js'));
const ort = (await import('onnxruntime-node')).default;

// ---------------------------------------------------------------- flags
const cfg = {
  images: flag('images', 256),
  batchSize: flag('batch-size', 0),
  threads: flag('threads', DEFAULTS.threads),
  torchWorkers: flag('torch-workers', 1),
  repeat: flag('repeat', 1),
  work: path.resolve(root, flag('work', '.work/bench')),
  python: flag('python', '/usr/bin/python3'),
  probeN: flag('probe-n', 50000),
  device: flag('device', 'cpu'),
  solverN: flag('solver-n', 20000),
  skipTorch: flag('skip-torch', false),
  skipZeroshot: flag('skip-zeroshot', false),
  skipProbe: flag('skip-probe', false),
  skipPeak: flag('skip-peak', false),
  skipPreprocess: flag('skip-preprocess', false),
  ppImages: flag('pp-images', 200),
  json: flag('json', false),
};
const cli = path.join(root, 'bin/clip-bench');
// the same device for the raw runtime (a), clip-bench (b) and the solver (g): a failure is the CLI's one-line error
const device = await openDevice(parseDevice(cfg.device));
// clip-bench's default batch size for the device; the CPU's MatMul peak (f) says nothing about an accelerator
cfg.batchSize ||= defaultBatchSize(device.ep);
if (device.ep !== 'cpu') cfg.skipPeak = true;
const modelDir = path.join(cfg.work, 'vitb32');
const log = (m) => process.stderr.write(`${m}\n`);
const hasTimeV = fs.existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-v', 'true']).status === 0;

log(`bench_embed: ${os.availableParallelism()} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ` +
  `batch ${cfg.batchSize}, threads ${cfg.threads}, ${cfg.images} images, device ${describeDevice(device)}`);

// ---------------------------------------------------------------- model
{
  const r = spawnSync(cfg.python, [path.join(here, 'make_vitb32.py'), '--out', modelDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('make_vitb32.py failed');
}
const modelCfg = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
const flopsPerImage = modelCfg.flops_per_image;
const onnxFile = path.join(modelDir, 'onnx/vision_model.onnx');

// ---------------------------------------------------------------- images
const makeImages = (n) => makeJpegs(path.join(cfg.work, `images-${n}`), n, IMAGENET_SIZES, { log });

// ---------------------------------------------------------------- child processes
/** Run a command, returning stdout, stderr, wall seconds and (with /usr/bin/time -v) peak RSS in bytes. */
async function runChild(cmd, argv, { env, timeRss = true } = {}) {
  const useTime = timeRss && hasTimeV;
  const [c, a] = useTime ? ['/usr/bin/time', ['-v', cmd, ...argv]] : [cmd, argv];
  const r = await runProcess(c, a, { env, what: `${cmd} ${argv.join(' ')}` });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.err);
  return { ...r, rss: m ? Number(m[1]) * 1024 : null };
}

// ---------------------------------------------------------------- (a) raw runtime
async function rawRuntime(nImages) {
  const session = await createSession(onnxFile, { device, threads: cfg.threads });
  const input = session.inputNames[0];
  const bs = cfg.batchSize;
  const rnd = mulberry32(7);
  const make = (n) => {
    const x = new Float32Array(n * 3 * 224 * 224);
    for (let i = 0; i < x.length; i++) x[i] = rnd() * 4 - 2;
    return new ort.Tensor('float32', x, [n, 3, 224, 224]);
  };
  const full = make(bs);
  await session.run({ [input]: make(Math.min(bs, 4)) }); // warm-up
  const batches = Math.max(2, Math.ceil(nImages / bs));
  const started = performance.now();
  for (let b = 0; b < batches; b++) await session.run({ [input]: full });
  const secs = (performance.now() - started) / 1000;
  await session.release();
  return { ips: (batches * bs) / secs, secs, images: batches * bs };
}

// ---------------------------------------------------------------- (b) clip-bench embed
async function clipBenchEmbed(imageRoot, keep) {
  const cacheDir = fs.mkdtempSync(path.join(cfg.work, 'cache-'));
  try {
    const r = await runChild(process.execPath, [
      cli, 'embed', '--model', modelDir, '--dataset', 'imagefolder', '--dataset-root', imageRoot, '--split', 'test',
      '--cache-dir', cacheDir, '--batch-size', String(cfg.batchSize), '--threads', String(cfg.threads),
      '--device', deviceLabel(device),
    ]);
    const m = /embedded (\d+) images in ([\d.]+) s/.exec(r.err);
    const n = m ? Number(m[1]) : cfg.images;
    const phase = m ? Number(m[2]) : null;
    const embFile = path.join(r.out.trim(), 'embeddings.npy');
    if (keep) fs.copyFileSync(embFile, keep);
    return { images: n, phaseSecs: phase, ips: phase ? n / phase : n / r.wall, wall: r.wall, wallIps: n / r.wall, rss: r.rss };
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- (c) PyTorch
async function torchPeer(imageRoot) {
  const r = await runChild(cfg.python, [
    path.join(here, 'bench_embed_torch.py'), '--root', path.join(imageRoot, 'test'), '--model-dir', modelDir,
    '--batch-size', String(cfg.batchSize), '--threads', String(cfg.threads), '--workers', String(cfg.torchWorkers),
    '--compare', compareFile,
  ], { timeRss: true });
  const res = lastJson(r.out);
  return { ...res, wall: r.wall, rss: r.rss };
}

/** The PyTorch model alone on pre-made tensors (same threads and batch size as (c)). */
async function torchRaw(nImages) {
  const r = await runChild(cfg.python, [
    path.join(here, 'bench_embed_torch.py'), '--root', '.', '--model-dir', modelDir, '--batch-size', String(cfg.batchSize),
    '--threads', String(cfg.threads), '--raw', String(nImages),
  ], { timeRss: false });
  return lastJson(r.out);
}

// ---------------------------------------------------------------- (d) warm zeroshot
async function warmZeroshot() {
  const mini = path.join(root, 'models/mini/onnx/vision_model.onnx');
  if (!fs.existsSync(mini)) return { skipped: `models/mini/onnx is missing (built-in mini model not generated yet)` };
  const cacheDir = fs.mkdtempSync(path.join(cfg.work, 'zs-cache-'));
  const outDir = fs.mkdtempSync(path.join(cfg.work, 'zs-out-'));
  try {
    const argv = [cli, 'zeroshot', '--cache-dir', cacheDir, '--out', outDir, '--no-progress'];
    const cold = await runChild(process.execPath, argv, { timeRss: false });
    const walls = [];
    for (let i = 0; i < 5; i++) walls.push((await runChild(process.execPath, argv, { timeRss: false })).wall);
    return { cold: cold.wall, walls, median: median(walls) };
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- (e) linear probe memory
async function probeMemory() {
  const n = cfg.probeN;
  const script = `
    const { fitLogReg } = await import(${JSON.stringify(dist('eval/logreg.js'))});
    const n = ${n}, dim = 512, k = 10;
    const X = new Float32Array(n * dim); const y = new Int32Array(n);
    let s = 1; const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    for (let i = 0; i < X.length; i++) X[i] = r() - 0.5;
    for (let i = 0; i < n; i++) y[i] = i % k;
    const t = performance.now();
    const m = await fitLogReg(X, y, n, dim, k, { C: 1, maxIter: 5, threads: ${cfg.threads} });
    console.log(JSON.stringify({ secs: (performance.now() - t) / 1000, backend: m.backend, iterations: m.iterations }));`;
  const r = await runChild(process.execPath, ['--input-type=module', '-e', script]);
  return { ...JSON.parse(r.out.trim()), rss: r.rss, featureBytes: n * 512 * 4 };
}

// ---------------------------------------------------------------- (g) probe solver on the device
/** The solver's data term on `device` against the CPU: 5 L-BFGS iterations from zero on the same features. */
async function solverOnDevice() {
  const { fitLogReg } = await import(dist('eval/logreg.js'));
  const [n, dim, k] = [cfg.solverN, 512, 10];
  const rnd = mulberry32(11);
  const X = new Float32Array(n * dim).map(() => rnd() - 0.5);
  const y = Int32Array.from({ length: n }, (_, i) => i % k);
  for (let i = 0; i < n; i++) X[i * dim + y[i]] += 0.5;
  const fit = async (d) => {
    const t = performance.now();
    const m = await fitLogReg(X, y, n, dim, k, { C: 1, maxIter: 5, threads: cfg.threads, backend: 'ort', device: d });
    return { m, secs: (performance.now() - t) / 1000 };
  };
  const cpu = await fit(CPU_DEVICE);
  const dev = await fit(device);
  let maxDiff = 0;
  for (let i = 0; i < cpu.m.W.length; i++) maxDiff = Math.max(maxDiff, Math.abs(dev.m.W[i] - cpu.m.W[i]));
  return { n, dim, k, cpuPerEval: cpu.secs / cpu.m.evaluations, devPerEval: dev.secs / dev.m.evaluations, cpuSecs: cpu.secs, devSecs: dev.secs, maxDiff };
}

// ---------------------------------------------------------------- (f) MatMul peak
async function matmulPeak() {
  const [M, K, N] = [2048, 768, 3072]; // the MLP of a ViT-B/32 batch of 32 (50 tokens each) -> 32*50 ~ 1600 rows
  const rnd = mulberry32(3);
  const w = new Float32Array(K * N).map(() => rnd() - 0.5);
  const bytes = encodeModel({
    name: 'matmul',
    inputs: [{ name: 'a', elemType: ONNX_FLOAT, shape: [M, K] }],
    outputs: [{ name: 'c', elemType: ONNX_FLOAT, shape: [M, N] }],
    nodes: [{ op: 'MatMul', inputs: ['a', 'w'], outputs: ['c'] }],
    initializers: [{ name: 'w', dataType: ONNX_FLOAT, dims: [K, N], raw: new Uint8Array(w.buffer) }],
  });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: cfg.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const a = new ort.Tensor('float32', new Float32Array(M * K).map(() => rnd() - 0.5), [M, K]);
  for (let i = 0; i < 2; i++) await session.run({ a });
  const times = [];
  for (let i = 0; i < 9; i++) {
    const t = performance.now();
    await session.run({ a });
    times.push((performance.now() - t) / 1000);
  }
  await session.release();
  const best = Math.min(...times);
  return { gflops: (2 * M * K * N) / best / 1e9, medianGflops: (2 * M * K * N) / median(times) / 1e9 };
}

// ---------------------------------------------------------------- run
const imageRoot = await makeImages(cfg.images);
const runs = { raw: [], embed: [], torch: [], torchRaw: [], peak: [] };
const compareFile = path.join(cfg.work, 'clip-bench-embeddings.npy');
for (let rep = 0; rep < cfg.repeat; rep++) {
  if (!cfg.skipPeak) {
    log(`round ${rep + 1}/${cfg.repeat}: (f) MatMul peak ...`);
    runs.peak.push(await matmulPeak());
  }
  log(`round ${rep + 1}/${cfg.repeat}: (a) raw runtime ...`);
  runs.raw.push(await rawRuntime(cfg.images));
  log(`  ${runs.raw.at(-1).ips.toFixed(2)} img/s; (b) clip-bench embed ...`);
  runs.embed.push(await clipBenchEmbed(imageRoot, compareFile));
  log(`  ${runs.embed.at(-1).ips.toFixed(2)} img/s (embedding phase), ${runs.embed.at(-1).wallIps.toFixed(2)} img/s whole process`);
  if (!cfg.skipTorch) {
    log('  (c) PyTorch ...');
    runs.torch.push(await torchPeer(imageRoot));
    log(`  ${runs.torch.at(-1).ips.toFixed(2)} img/s; PyTorch model alone ...`);
    runs.torchRaw.push(await torchRaw(cfg.images));
    log(`  ${runs.torchRaw.at(-1).ips.toFixed(2)} img/s`);
  }
}
const zs = cfg.skipZeroshot ? { skipped: '--skip-zeroshot' } : (log('(d) warm zeroshot ...'), await warmZeroshot());
const probe = cfg.skipProbe ? null : (log('(e) linear probe memory ...'), await probeMemory());
const solver = device.ep === 'cpu' ? null : (log(`(g) probe solver on ${deviceLabel(device)} and on the CPU ...`), await solverOnDevice());
const pp = cfg.skipPreprocess ? null : await preprocessBench({
  images: cfg.ppImages, cores: os.availableParallelism(), repeat: cfg.repeat, work: cfg.work, python: cfg.python, log,
});
const peak = runs.peak.length ? { gflops: median(runs.peak.map((p) => p.gflops)) } : null;

const raw = median(runs.raw.map((r) => r.ips));
const emb = median(runs.embed.map((r) => r.ips));
const embWall = median(runs.embed.map((r) => r.wallIps));
// ratios per round (each measured side by side, minutes apart at most), then their median: robust to load drift
const ratioRaw = median(runs.embed.map((r, i) => r.ips / runs.raw[i].ips));
const ratioRawWall = median(runs.embed.map((r, i) => r.wallIps / runs.raw[i].ips));
const ratioTorch = runs.torch.length ? median(runs.torch.map((t, i) => runs.embed[i].ips / t.ips)) : null;
const ratioTorchWall = runs.torch.length ? median(runs.torch.map((t, i) => runs.embed[i].wallIps / t.wallIps)) : null;
const fracRaw = peak ? median(runs.peak.map((p, i) => (runs.raw[i].ips * flopsPerImage) / 1e9 / p.gflops)) : null;
const fracEmb = peak ? median(runs.peak.map((p, i) => (runs.embed[i].ips * flopsPerImage) / 1e9 / p.gflops)) : null;
const tor = runs.torch.length ? median(runs.torch.map((r) => r.ips)) : null;
const torWall = runs.torch.length ? median(runs.torch.map((r) => r.wallIps)) : null;
const rss = runs.embed.map((r) => r.rss).filter((x) => x != null);
const embRss = rss.length ? Math.max(...rss) : null;
const MB = (b) => (b == null ? '-' : `${(b / 2 ** 20).toFixed(0)} MB`);
const modelBytes = fs.statSync(onnxFile).size;
const batchBytes = cfg.batchSize * 3 * 224 * 224 * 4;
// model weights twice (onnxruntime holds the parsed protobuf and its own copy of the initializers while the
// session is created) + embeddings + ~4 pixel batches (queued, being filled, in the runtime) + activations of one batch
const embExpected = 2 * modelBytes + cfg.images * 512 * 4 + 4 * batchBytes + cfg.batchSize * 50 * 3072 * 4 * 4;

const rows = [];
const yes = (ok) => (ok == null ? 'n/a' : ok ? 'MET' : 'not met');
rows.push([`(a) raw onnxruntime-node (${deviceLabel(device)}), pre-made tensors`, `${raw.toFixed(2)} img/s`, '', '']);
rows.push(['(b) clip-bench embed, embedding phase', `${emb.toFixed(2)} img/s`, `${ratioRaw.toFixed(3)} of (a)`, `>= 0.95: ${yes(ratioRaw >= 0.95)}`]);
rows.push(['    clip-bench embed, whole process', `${embWall.toFixed(2)} img/s`, `${ratioRawWall.toFixed(3)} of (a)`, '']);
if (tor != null) {
  rows.push([`(c) PyTorch ${modelCfg ? 'same weights' : ''}, DataLoader(${cfg.torchWorkers} worker)`, `${tor.toFixed(2)} img/s`, `(b)/(c) = ${ratioTorch.toFixed(2)}`, `>= 1.8: ${yes(ratioTorch >= 1.8)}`]);
  rows.push(['    PyTorch whole process', `${torWall.toFixed(2)} img/s`, `${ratioTorchWall.toFixed(2)} whole/whole`, '']);
  const torRaw = median(runs.torchRaw.map((r) => r.ips));
  const bound = median(runs.torchRaw.map((t, i) => runs.raw[i].ips / runs.torch[i].ips));
  rows.push(['    PyTorch model alone, pre-made tensors', `${torRaw.toFixed(2)} img/s`, `(a)/(c) = ${bound.toFixed(2)}: the most (b)/(c) can be`, '']);
  const maxDiff = runs.torch.at(-1).maxAbsDiff;
  if (maxDiff != null) rows.push(['    embeddings, max |clip-bench - PyTorch|', maxDiff.toExponential(2), '', '']);
}
if (zs.skipped) rows.push(['(d) warm zeroshot (mini, fashion-mnist)', 'skipped', zs.skipped, '< 1 s: n/a']);
else rows.push(['(d) warm zeroshot (mini, fashion-mnist)', `${zs.median.toFixed(3)} s median of 5`, `cold ${zs.cold.toFixed(2)} s`, `< 1 s: ${yes(zs.median < 1)}`]);
rows.push(['(e) peak RSS of (b)', MB(embRss), `expected ~${MB(embExpected)} (2 x model ${MB(modelBytes)} + emb + 4 batches + activations)`, '']);
if (probe) rows.push([`    linear probe ${cfg.probeN} x 512 (${probe.backend}, 5 iters)`, MB(probe.rss), `features ${MB(probe.featureBytes)}`, '']);
if (solver) {
  rows.push([`(g) probe solver ${solver.n} x ${solver.dim} x ${solver.k}, ${deviceLabel(device)}`, `${solver.devPerEval.toFixed(3)} s/evaluation`, `CPU ${solver.cpuPerEval.toFixed(3)} s/evaluation (${(solver.cpuPerEval / solver.devPerEval).toFixed(2)}x)`, '']);
  rows.push(['    max |W_device - W_cpu| after 5 iterations', solver.maxDiff.toExponential(2), '', '']);
}
if (peak) {
  rows.push(['(f) model FLOPs per image', `${(flopsPerImage / 1e9).toFixed(2)} GFLOP`, `(${(flopsPerImage / 2e9).toFixed(2)} GMAC)`, '']);
  rows.push([`    MatMul peak, ${cfg.threads} threads`, `${peak.gflops.toFixed(1)} GFLOP/s`, `(a) runs at ${(fracRaw * 100).toFixed(0)}% of it, (b) at ${(fracEmb * 100).toFixed(0)}%`, '']);
}
if (pp) rows.push(...pp.rows);
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`\nclip-bench embedding benchmark: ViT-B/32 (random weights), ${cfg.images} JPEGs, batch ${cfg.batchSize}, device ${describeDevice(device)}, ` +
  `threads ${cfg.threads}, ${os.availableParallelism()} cores, ${cfg.repeat} round(s), load average at end ${os.loadavg()[0].toFixed(2)}`);
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd());
if (cfg.json) console.log(JSON.stringify({ cfg, device, runs, zs, probe, solver, peak, preprocess: pp?.data }, null, 1));
