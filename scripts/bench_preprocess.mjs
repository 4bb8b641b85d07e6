#!/usr/bin/env node
/**
 * Benchmark: decode + PIL-exact preprocessing per core, clip-bench against Pillow + torchvision on the same
 * 500x375 JPEGs to 224 px, measured side by side in one run (contenders alternated, medians of --repeat rounds).
 * Part of `npm run bench` (scripts/bench_embed.mjs); standalone:
 *
 *   node scripts/bench_preprocess.mjs [--images 200] [--cores N] [--repeat 3] [--work .work/bench] [--python /usr/bin/python3]
 *
 * What it measures (each child process pinned with `taskset -c 0`, or `-c 0-(N-1)` for N cores, where taskset exists):
 *  (p) one core, the stage timed directly (scripts/bench_preprocess_stage.mjs, scripts/bench_preprocess_torch.py
 *      stages): decode and preprocessing per image, CPU and wall ms; ratio Pillow / clip-bench [goal >= 2]
 *  (q) whole pipeline with a 224-px model whose inference is negligible (the mean of each image): `clip-bench embed`
 *      against a PyTorch DataLoader (0 workers on 1 core, N workers on N cores), images/s, at 1 core and N cores;
 *      scaling = rate(N) / (N x rate(1)) [goal >= 0.85]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag } from './bench_args.mjs';
import { hasTaskset, lastJson, median, runProcess } from './bench_util.mjs';
import { makeJpegs } from './bench_images.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const cli = path.join(root, 'bin/clip-bench');

/** Run cmd pinned to the first `cores` CPUs; resolves to stdout + stderr. */
function pinned(cores, cmd, argv, env = {}) {
  const [c, a] = hasTaskset ? ['taskset', ['-c', cores === 1 ? '0' : `0-${cores - 1}`, cmd, ...argv]] : [cmd, argv];
  return runProcess(c, a, { env, what: `${cmd} ${argv.join(' ')}` });
}

/** A 224-px image model whose inference is negligible: embeddings = the per-channel mean, [n, 3]. */
async function negligibleModel(work) {
  const file = path.join(work, 'mean224.onnx');
  if (fs.existsSync(file)) return file;
  const { encodeModel, ONNX_FLOAT } = await import(path.join(root, 'dist/src/util/onnx-proto.js'));
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(file, encodeModel({
    name: 'mean224',
    inputs: [{ name: 'pixel_values', elemType: ONNX_FLOAT, shape: ['n', 3, 224, 224] }],
    outputs: [{ name: 'embeddings', elemType: ONNX_FLOAT, shape: ['n', 3] }],
    nodes: [{ op: 'ReduceMean', inputs: ['pixel_values'], outputs: ['embeddings'], attrs: { axes: { ints: [2, 3] }, keepdims: { i: 0 } } }],
  }));
  return file;
}

/**
 * Run the benchmark; returns { rows, data } where rows are [figure, measured, ratio, goal] table rows.
 * opts: images, cores, repeat, work, python, log
 */
export async function preprocessBench(opts) {
  const { images, cores, repeat, work, python, log } = opts;
  const dir = await makeJpegs(path.join(work, `images-500x375-${images}`), images, [[500, 375]], { log });
  const model = await negligibleModel(work);
  const coreCounts = [...new Set([1, cores])];
  const runs = {
    wasm: [], js: [], pil: [], noPool: [],
    embed: Object.fromEntries(coreCounts.map((c) => [c, []])),
    torch: Object.fromEntries(coreCounts.map((c) => [c, []])),
  };
  const stage = path.join(here, 'bench_preprocess_stage.mjs');
  const torchPy = path.join(here, 'bench_preprocess_torch.py');
  for (let r = 0; r < repeat; r++) {
    log(`preprocess round ${r + 1}/${repeat}: (p) stages on 1 core: clip-bench (wasm, js), Pillow ...`);
    runs.wasm.push(lastJson((await pinned(1, process.execPath, [stage, dir, '--resampler', 'wasm'])).out));
    runs.js.push(lastJson((await pinned(1, process.execPath, [stage, dir, '--resampler', 'js'])).out));
    runs.pil.push(lastJson((await pinned(1, python, [torchPy, 'stages', dir])).out));
    /** `clip-bench embed` of the folder with the negligible model on c cores: the embedding phase's images/s. */
    const embed = async (c, env = {}) => {
      const cacheDir = fs.mkdtempSync(path.join(work, 'pp-cache-'));
      try {
        const { err } = await pinned(c, process.execPath, [cli, 'embed', '--model', model, '--dataset', 'imagefolder', '--dataset-root', dir,
          '--split', 'test', '--cache-dir', cacheDir, '--threads', '1', '--batch-size', '32'], env);
        const m = /embedded (\d+) images in [\d.]+ s \(([\d.]+) img\/s\)/.exec(err);
        if (!m) throw new Error(`clip-bench embed printed no rate:\n${err}`);
        return Number(m[2]);
      } finally {
        fs.rmSync(cacheDir, { recursive: true, force: true });
      }
    };
    for (const c of coreCounts) {
      log(`  (q) pipelines on ${c} core(s): clip-bench embed, PyTorch DataLoader(${c === 1 ? 0 : c} workers) ...`);
      runs.embed[c].push(await embed(c));
      runs.torch[c].push(lastJson((await pinned(c, python, [torchPy, 'pipeline', dir, '--workers', String(c === 1 ? 0 : c)])).out).ips);
      // the default pool (one worker per core inference leaves free: c - 1 here) against none
      if (c > 1) runs.noPool.push(await embed(c, { CLIP_BENCH_PREPROCESS_WORKERS: '0' }));
    }
  }
  const med = (list, key) => median(list.map((x) => x[key]));
  const per = (list) => ({ decode: med(list, 'decodeCpuMs'), pre: med(list, 'preprocessCpuMs'), total: med(list, 'totalCpuMs'), wall: med(list, 'totalMs') });
  const wasm = per(runs.wasm);
  const js = per(runs.js);
  const pil = per(runs.pil);
  // ratios per round (side by side), then their median
  const ratioCpu = median(runs.pil.map((p, i) => p.totalCpuMs / runs.wasm[i].totalCpuMs));
  const ratioWall = median(runs.pil.map((p, i) => p.totalMs / runs.wasm[i].totalMs));
  const ratioPre = median(runs.pil.map((p, i) => p.preprocessCpuMs / runs.wasm[i].preprocessCpuMs));
  const yes = (ok) => (ok ? 'MET' : 'not met');
  // the decoder the timed stages used: libjpeg-turbo called directly where it loads (and CLIP_BENCH_TURBOJPEG is not off), else sharp
  const { turbojpeg } = await import(path.join(root, 'dist/src/image/decoders/turbojpeg.js'));
  const decoder = turbojpeg() ? 'libjpeg-turbo' : 'sharp';
  const f = (v) => v.toFixed(2);
  const rows = [
    ['(p) one core, per 500x375 JPEG -> 224 px, CPU ms', 'decode + preprocess', 'Pillow / clip-bench', ''],
    ['    Pillow 9.4 + torchvision: Image.open+load, transform', `${f(pil.decode)} + ${f(pil.pre)} = ${f(pil.total)} ms`, '', ''],
    [`    clip-bench: ${decoder} decode, wasm preprocess`, `${f(wasm.decode)} + ${f(wasm.pre)} = ${f(wasm.total)} ms`, `${f(ratioCpu)} (wall ${f(ratioWall)})`, `>= 2: ${yes(ratioCpu >= 2)}`],
    ['    preprocessing alone (resize+crop+tensor+normalise)', `${f(wasm.pre)} vs ${f(pil.pre)} ms`, `${f(ratioPre)}`, ''],
    ['    clip-bench, JavaScript resampler (reference)', `${f(js.decode)} + ${f(js.pre)} = ${f(js.total)} ms`, `${f(median(runs.pil.map((p, i) => p.totalCpuMs / runs.js[i].totalCpuMs)))}`, ''],
  ];
  const scaling = {};
  for (const c of coreCounts) {
    const e = median(runs.embed[c]);
    const t = median(runs.torch[c]);
    const ratio = median(runs.embed[c].map((v, i) => v / runs.torch[c][i]));
    rows.push([`(q) ${c} core(s), 224-px model with negligible inference`, `embed ${e.toFixed(1)} img/s, PyTorch ${t.toFixed(1)} img/s`, `${f(ratio)}`, '']);
    if (c > 1) {
      const se = e / (c * median(runs.embed[1]));
      const st = t / (c * median(runs.torch[1]));
      scaling[c] = { embed: se, torch: st };
      rows.push([`    scaling 1 -> ${c} cores: rate(${c}) / (${c} x rate(1))`, `clip-bench ${f(se)}, PyTorch ${f(st)}`, '', `>= 0.85: ${yes(se >= 0.85)}`]);
      const np = median(runs.noPool);
      rows.push([`    clip-bench on ${c} cores without its ${c - 1} preprocessing worker(s)`, `${np.toFixed(1)} img/s`, `pool / none = ${f(median(runs.noPool.map((v, i) => runs.embed[c][i] / v)))}`, '']);
    }
  }
  return { rows, data: { runs, wasm, js, pil, ratioCpu, ratioWall, ratioPre, scaling, taskset: hasTaskset } };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = {
    images: flag('images', 200),
    cores: flag('cores', 1),
    repeat: flag('repeat', 3),
    work: path.resolve(root, flag('work', '.work/bench')),
    python: flag('python', '/usr/bin/python3'),
    log: (m) => process.stderr.write(`${m}\n`),
  };
  const { rows, data } = await preprocessBench(opts);
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`\nclip-bench preprocessing benchmark: ${opts.images} JPEGs 500x375, ${opts.cores} core(s) of ${os.availableParallelism()}, ` +
    `${opts.repeat} round(s), ${hasTaskset ? 'taskset-pinned' : 'not pinned (no taskset)'}, load average at end ${os.loadavg()[0].toFixed(2)}`);
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd());
  if (flag('json', false)) console.log(JSON.stringify(data, null, 1));
}
