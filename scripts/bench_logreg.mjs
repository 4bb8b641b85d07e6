#!/usr/bin/env node
/**
 * Benchmark: our L-BFGS softmax regression (src/eval/logreg.ts) vs scikit-learn's
 * LogisticRegression(solver='lbfgs') on the same synthetic data, side by side,
 * plus ml-logistic-regression on a smaller problem.
 *
 *   npm run build && node scripts/bench_logreg.mjs            # full: 50000x512x100, test 10000
 *   node scripts/bench_logreg.mjs --n 5000 --test 2000 --classes 20   # quick
 *
 * Flags: --n --test --dim --classes --C --seed --threads --sep --max-iter --tol
 *        --repeat R (alternate sklearn/ours R times; report min and median)
 *        --backend auto|ort|js (our data-term backend; js = single-threaded JS kernels)
 *        --sk-threads T (limit sklearn's BLAS/OpenMP threads; default: library default)
 *        --skip-sklearn --skip-mljs --warm (also time a warm-started refit at 2C)
 *        --mljs-n --mljs-dim --mljs-classes --mljs-steps --mljs-lr
 *        --python (default /usr/bin/python3)
 *
 * Data: class means μ_c ~ N(0, sep²·I) in `dim` dims, x = μ_c + N(0, I) noise;
 * balanced classes; seeded (mulberry32 + Box–Muller), written as .npy to a temp
 * dir that the python side (scripts/bench_logreg.py) reads.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag } from './bench_args.mjs';
import { lastJson, median } from './bench_util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { fitLogReg, predictLabels, logRegObjective } = await import(path.join(root, 'dist/src/eval/logreg.js'));
const { fitMljs } = await import(path.join(root, 'dist/src/eval/logreg-mljs.js'));

// ---------------------------------------------------------------- flags
const cfg = {
  n: flag('n', 50000),
  test: flag('test', 10000),
  dim: flag('dim', 512),
  classes: flag('classes', 100),
  C: flag('C', 0.01),
  seed: flag('seed', 1),
  threads: flag('threads', os.availableParallelism()),
  sep: flag('sep', 0.16),
  maxIter: flag('max-iter', 1000),
  tol: flag('tol', 1e-4),
  skipSklearn: flag('skip-sklearn', false),
  skipMljs: flag('skip-mljs', false),
  warm: flag('warm', false),
  mljsN: flag('mljs-n', 2000),
  mljsDim: flag('mljs-dim', 64),
  mljsClasses: flag('mljs-classes', 10),
  mljsSteps: flag('mljs-steps', 300),
  mljsLr: flag('mljs-lr', 1e-4),
  python: flag('python', '/usr/bin/python3'),
  repeat: flag('repeat', 1),
  skThreads: flag('sk-threads', 0),
  backend: flag('backend', 'auto'),
};

// ---------------------------------------------------------------- data
function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(rnd) {
  let spare = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rnd();
    const v = rnd();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
function makeData({ nTrain, nTest, dim, k, sep, seed }) {
  const g = gaussian(mulberry32(seed));
  const mu = new Float32Array(k * dim);
  for (let i = 0; i < mu.length; i++) mu[i] = sep * g();
  const gen = (n) => {
    const X = new Float32Array(n * dim);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % k;
      y[i] = c;
      for (let j = 0; j < dim; j++) X[i * dim + j] = mu[c * dim + j] + g();
    }
    return { X, y };
  };
  return { train: gen(nTrain), test: gen(nTest) };
}

function writeNpy(file, arr, shape) {
  const descr = arr instanceof Float32Array ? '<f4' : arr instanceof Int32Array ? '<i4' : '<f8';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1;
  h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength)]));
}
function readNpyF64(file) {
  const b = fs.readFileSync(file);
  const hl = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hl).toString('latin1');
  if (!header.includes("'<f8'")) throw new Error(`${file}: expected <f8, got ${header}`);
  const off = 10 + hl;
  return new Float64Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
}

function accuracy(pred, y) {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
}

function cpuInfo() {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown'} — ${cpus.length} logical cores (availableParallelism ${os.availableParallelism()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}`;
}

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

// ---------------------------------------------------------------- main
console.log(`machine: ${cpuInfo()}`);
console.log(
  `problem: train ${cfg.n} x dim ${cfg.dim} x ${cfg.classes} classes, test ${cfg.test}, sep ${cfg.sep}, seed ${cfg.seed}, C ${cfg.C}, max_iter ${cfg.maxIter}, tol ${cfg.tol}`,
);
let t0 = performance.now();
const data = makeData({ nTrain: cfg.n, nTest: cfg.test, dim: cfg.dim, k: cfg.classes, sep: cfg.sep, seed: cfg.seed });
console.log(`data generated in ${fmt((performance.now() - t0) / 1000)} s`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench_logreg-'));
let sk = null;
try {
  if (!cfg.skipSklearn) {
    writeNpy(path.join(dir, 'Xtr.npy'), data.train.X, [cfg.n, cfg.dim]);
    writeNpy(path.join(dir, 'ytr.npy'), data.train.y, [cfg.n]);
    writeNpy(path.join(dir, 'Xte.npy'), data.test.X, [cfg.test, cfg.dim]);
    writeNpy(path.join(dir, 'yte.npy'), data.test.y, [cfg.test]);
  }
  const skTimes = [];
  const oursTimes = [];
  let ours;
  for (let rep = 0; rep < cfg.repeat; rep++) {
    if (!cfg.skipSklearn) {
      console.log(`[${rep + 1}/${cfg.repeat}] running scikit-learn ... (loadavg ${os.loadavg().map((v) => v.toFixed(2)).join(' ')})`);
      const r = spawnSync(
        cfg.python,
        [path.join(here, 'bench_logreg.py'), dir, '--C', String(cfg.C), '--max-iter', String(cfg.maxIter), '--tol', String(cfg.tol), '--threads', String(cfg.skThreads)],
        { encoding: 'utf8', maxBuffer: 1 << 26 },
      );
      if (r.status !== 0) {
        console.error(r.stderr);
        throw new Error(`python side failed (status ${r.status})`);
      }
      sk = lastJson(r.stdout);
      skTimes.push(sk.fit_s);
      console.log(`    sklearn fit ${fmt(sk.fit_s)} s, ${sk.n_iter} it`);
    }
    console.log(`[${rep + 1}/${cfg.repeat}] running ours (L-BFGS, ${cfg.threads} threads) ... (loadavg ${os.loadavg().map((v) => v.toFixed(2)).join(' ')})`);
    t0 = performance.now();
    ours = await fitLogReg(data.train.X, data.train.y, cfg.n, cfg.dim, cfg.classes, {
      C: cfg.C,
      maxIter: cfg.maxIter,
      tol: cfg.tol,
      threads: cfg.threads,
      backend: cfg.backend,
    });
    oursTimes.push((performance.now() - t0) / 1000);
    console.log(`    ours fit ${fmt(oursTimes.at(-1))} s, ${ours.iterations} it`);
  }
  const oursS = median(oursTimes);
  if (sk) {
    sk.fit_s = median(skTimes);
    // sklearn coef_ is [k, dim]; ours is [dim, k]
    const coef = readNpyF64(path.join(dir, 'coef.npy'));
    const icpt = readNpyF64(path.join(dir, 'intercept.npy'));
    const W = new Float32Array(cfg.dim * cfg.classes);
    for (let c = 0; c < cfg.classes; c++) for (let j = 0; j < cfg.dim; j++) W[j * cfg.classes + c] = coef[c * cfg.dim + j];
    sk.model = { nClasses: cfg.classes, dim: cfg.dim, W, b: Float32Array.from(icpt), iterations: sk.n_iter, converged: true };
  }
  const oursAcc = accuracy(predictLabels(ours, data.test.X, cfg.test), data.test.y);
  const oursTrainAcc = accuracy(predictLabels(ours, data.train.X, cfg.n), data.train.y);
  const oursObj = logRegObjective(ours, data.train.X, data.train.y, cfg.n, cfg.C).objective;

  console.log('');
  const how = ours.backend === 'ort' ? 'float32 GEMMs in onnxruntime' : 'float64 single-thread JS kernels';
  console.log(`${''.padEnd(22)}${'scikit-learn (lbfgs, float64)'.padEnd(36)}ours (L-BFGS, ${how})`);
  const row = (name, a, b) => console.log(`${name.padEnd(22)}${String(a).padEnd(36)}${b}`);
  const tl = (a) => (a.length > 1 ? ` (median of ${a.length}; min ${fmt(Math.min(...a))})` : '');
  row('fit time (s)', sk ? fmt(sk.fit_s) + tl(skTimes) : '-', fmt(oursS) + tl(oursTimes));
  row('iterations', sk ? sk.n_iter : '-', `${ours.iterations} (${ours.evaluations} f/g evals; ${ours.message})`);
  row('test accuracy (%)', sk ? fmt(100 * sk.test_acc) : '-', fmt(100 * oursAcc));
  row('train accuracy (%)', sk ? fmt(100 * sk.train_acc) : '-', fmt(100 * oursTrainAcc));
  let skObjJs = NaN;
  if (sk) skObjJs = logRegObjective(sk.model, data.train.X, data.train.y, cfg.n, cfg.C).objective;
  row('objective', sk ? `${fmt(skObjJs, 4)}` : '-', fmt(oursObj, 4));
  row('threads', sk ? sk.blas_threads.map((b) => `${b.api} ${b.threads}`).join(', ') : '-', ours.backend === 'ort' ? `onnxruntime intra-op ${cfg.threads}` : '1 (JS)');
  if (sk) {
    console.log('');
    console.log(`time ratio sklearn/ours: ${fmt(sk.fit_s / oursS)}x`);
    console.log(`test accuracy diff (ours - sklearn): ${fmt(100 * (oursAcc - sk.test_acc), 2)} points`);
    console.log(`objective rel. diff (ours - sklearn)/sklearn: ${(oursObj - skObjJs) / Math.abs(skObjJs)}`);
    let agree = 0;
    const po = predictLabels(ours, data.test.X, cfg.test);
    const ps = predictLabels(sk.model, data.test.X, cfg.test);
    for (let i = 0; i < cfg.test; i++) if (po[i] === ps[i]) agree++;
    console.log(`test prediction agreement: ${fmt((100 * agree) / cfg.test)}%   (sklearn ${sk.sklearn}, numpy ${sk.numpy})`);
  }

  if (cfg.warm) {
    t0 = performance.now();
    const w2 = await fitLogReg(data.train.X, data.train.y, cfg.n, cfg.dim, cfg.classes, { C: 2 * cfg.C, threads: cfg.threads, warmStart: ours });
    const ws = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const c2 = await fitLogReg(data.train.X, data.train.y, cfg.n, cfg.dim, cfg.classes, { C: 2 * cfg.C, threads: cfg.threads });
    const cs = (performance.now() - t0) / 1000;
    console.log(`\nwarm start: refit at C=${2 * cfg.C} from the C=${cfg.C} solution: ${fmt(ws)} s, ${w2.iterations} it; cold: ${fmt(cs)} s, ${c2.iterations} it`);
  }

  if (!cfg.skipMljs) {
    const { mljsN: n, mljsDim: dm, mljsClasses: k } = cfg;
    const small = makeData({ nTrain: n, nTest: Math.max(500, n / 4) | 0, dim: dm, k, sep: cfg.sep * 2, seed: cfg.seed + 1 });
    const nt = small.test.y.length;
    console.log(`\nml-logistic-regression on a smaller problem: ${n} x ${dm} x ${k}, test ${nt}, ${cfg.mljsSteps} steps, lr ${cfg.mljsLr}`);
    t0 = performance.now();
    const mj = fitMljs(small.train.X, small.train.y, n, dm, k, { numSteps: cfg.mljsSteps, learningRate: cfg.mljsLr });
    const mjS = (performance.now() - t0) / 1000;
    const mjAcc = accuracy(predictLabels(mj, small.test.X, nt), small.test.y);
    t0 = performance.now();
    const lb = await fitLogReg(small.train.X, small.train.y, n, dm, k, { C: cfg.C, threads: cfg.threads });
    const lbS = (performance.now() - t0) / 1000;
    const lbAcc = accuracy(predictLabels(lb, small.test.X, nt), small.test.y);
    console.log(`  mljs:  ${fmt(mjS)} s, test accuracy ${fmt(100 * mjAcc)}%`);
    console.log(`  lbfgs: ${fmt(lbS)} s, test accuracy ${fmt(100 * lbAcc)}% (${lb.iterations} it, C=${cfg.C})`);
  }
  console.log(`\nloadavg at end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')} (shared machine: timings are noisy)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
