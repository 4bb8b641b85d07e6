#!/usr/bin/env node
/**
 * Benchmark: the whole suite on local stand-ins for the paper's packaged datasets, stage by stage, against
 * scikit-learn doing the same probe and few-shot fits on the same embeddings in the same run.
 *
 *   npm run bench:suite                      # 16 stand-ins at 2% of the packages' sizes, shots 1,2,4,8,16 x 5 seeds
 *   node scripts/bench_suite.mjs --scale 0.01 --seeds 2 --datasets gtsrb,food101 --threads 1,2
 *
 * Stand-ins: every hub-packaged paper dataset with a train and a test split (the README's dataset table: 16 of
 * them; voc2007 is multilabel and sun397 has no train split), written as WebDataset packages with the paper's
 * class names and counts, `--scale` of the package's images per split (at least 17 training images per class, so
 * that 16 shots can be drawn, and 2 test images per class), 24x24 PNGs of a colour per class with seeded noise.
 * They go into a temporary XDG_CACHE_HOME (HF_HUB_OFFLINE=1), and the built-in model embeds them (128-d features).
 *
 * Stages, each timed as the wall time of its own process(es) with the embeddings cached:
 *   embedding  `clip-bench embed` of every train and test split (2 onnxruntime threads)
 *   zero-shot  `clip-bench suite --tasks zeroshot`
 *   probe      `clip-bench suite --tasks linear-probe` with --threads T for each T of --threads
 *   few-shot   `clip-bench suite --tasks fewshot` with --threads T
 * then scripts/bench_suite_sklearn.py runs the same protocol with scikit-learn, fit after fit, on the same
 * embeddings and the same draws (held-out validation rows, few-shot samples), and the ratios are printed.
 * The result tables of the runs at different thread counts are compared byte for byte (`seconds` aside).
 *
 * Flags: --scale (0.02) --shots (1,2,4,8,16) --seeds (5) --datasets (all) --threads (1,2) --python (/usr/bin/python3)
 *        --keep (keep the temporary folder)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as tar from 'tar';
import { flag } from './bench_args.mjs';
import { lastJson, runProcess } from './bench_util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const cli = path.join(root, 'bin', 'clip-bench');
const { paperPrompts } = await import(path.join(root, 'dist/src/data/prompts.js'));
const { sampleShots, sampleSeed } = await import(path.join(root, 'dist/src/eval/fewshot.js'));
const { stratifiedSubset } = await import(path.join(root, 'dist/src/data/subset.js'));
const { parseNpyHeader } = await import(path.join(root, 'dist/src/util/npy.js'));

const cfg = {
  scale: flag('scale', 0.02),
  shots: flag('shots', '1,2,4,8,16'),
  seeds: flag('seeds', 5),
  datasets: flag('datasets', ''),
  threads: flag('threads', '1,2'),
  python: flag('python', '/usr/bin/python3'),
  keep: flag('keep', false),
};

// the packaged paper datasets with train and test: name, images per split (the package's, else Table 9's), metric
const STANDINS = [
  ['food101', 75750, 25250],
  ['stanford_cars', 8144, 8041],
  ['fgvc_aircraft', 3334, 3333, 'mean_per_class'],
  ['dtd', 1880, 1880],
  ['oxford_pets', 2944, 3669, 'mean_per_class'],
  ['caltech101', 2754, 6084, 'mean_per_class'],
  ['flowers102', 1020, 6149, 'mean_per_class'],
  ['fer2013', 28709, 7178],
  ['eurosat', 16200, 5400],
  ['resisc45', 18900, 6300],
  ['gtsrb', 26640, 12630],
  ['kitti', 6770, 711],
  ['country211', 21100, 21100],
  ['pcam', 262144, 32768],
  ['clevr_counts', 63000, 15000],
  ['rendered_sst2', 6920, 1821],
].filter(([name]) => !cfg.datasets || cfg.datasets.split(',').includes(name));
const threadCounts = String(cfg.threads).split(',').map(Number);
const shots = cfg.shots.split(',').map(Number);

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A WebDataset package in CLIP_benchmark's layout: classnames.txt, <split>/nshards.txt, <split>/N.tar (.cls + .png). */
async function writePackage(dir, classes, perClass, seed) {
  const rnd = mulberry32(seed);
  const k = classes.length;
  // a base colour per class, and a second one mixed in by a per-image amount: classes overlap a little
  const base = Array.from({ length: k }, () => [rnd() * 255, rnd() * 255, rnd() * 255]);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'classnames.txt'), `${classes.join('\n')}\n`);
  for (const [split, per] of Object.entries(perClass)) {
    const n = per * k;
    const shard = 1000;
    const nShards = Math.ceil(n / shard);
    fs.mkdirSync(path.join(dir, split), { recursive: true });
    for (let s = 0; s < nShards; s++) {
      const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-suite-stage-'));
      const members = [];
      for (let i = s * shard; i < Math.min(n, (s + 1) * shard); i++) {
        const label = i % k;
        const other = base[(label + 1 + Math.floor(rnd() * (k - 1))) % k];
        const mix = rnd() * 0.6;
        const px = Buffer.alloc(24 * 24 * 3);
        for (let p = 0; p < px.length; p++) {
          const c = p % 3;
          const v = (1 - mix) * base[label][c] + mix * other[c] + (rnd() - 0.5) * 120;
          px[p] = Math.max(0, Math.min(255, Math.round(v)));
        }
        const key = `s${String(i).padStart(7, '0')}`;
        fs.writeFileSync(path.join(stage, `${key}.cls`), String(label));
        await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(path.join(stage, `${key}.png`));
        members.push(`${key}.cls`, `${key}.png`);
      }
      tar.c({ file: path.join(dir, split, `${s}.tar`), cwd: stage, portable: true, sync: true }, members);
      fs.rmSync(stage, { recursive: true, force: true });
    }
    fs.writeFileSync(path.join(dir, split, 'nshards.txt'), `${nShards}\n`);
  }
}

const fmt = (x) => x.toFixed(1);

/** Run a child (through GNU time where it is installed): wall seconds and CPU seconds (user + system, children included). */
async function timed(cmd, argv, opts) {
  if (!fs.existsSync('/usr/bin/time')) return { ...(await runProcess(cmd, argv, opts)), cpu: NaN };
  const file = path.join(os.tmpdir(), `bench-suite-time-${process.pid}`);
  const r = await runProcess('/usr/bin/time', ['-f', '%U %S', '-o', file, cmd, ...argv], opts);
  const [u, sys] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  fs.rmSync(file, { force: true });
  return { ...r, cpu: u + sys };
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-suite-'));
const env = { XDG_CACHE_HOME: tmp, HF_HUB_OFFLINE: '1', HF_HUB_CACHE: path.join(tmp, 'hub'), HF_HOME: path.join(tmp, 'hf') };
const cacheDir = path.join(tmp, 'embeddings');
try {
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores, node ${process.version}; load average at the start ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  // ---- stand-ins
  let t0 = performance.now();
  const specs = [];
  for (const [name, nTrain, nTest, metric = 'accuracy'] of STANDINS) {
    const classes = paperPrompts(name).classes;
    const k = classes.length;
    const perClass = { train: Math.max(17, Math.round((nTrain * cfg.scale) / k)), test: Math.max(2, Math.round((nTest * cfg.scale) / k)) };
    await writePackage(path.join(tmp, 'clip-bench', 'datasets', name), classes, perClass, specs.length + 1);
    specs.push({ name, classes: k, metric, train: perClass.train * k, test: perClass.test * k });
  }
  const images = specs.reduce((a, s) => a + s.train + s.test, 0);
  console.log(`stand-ins: ${specs.length} datasets, ${images} images (scale ${cfg.scale}; at least 17 training images per class) in ${fmt((performance.now() - t0) / 1000)} s`);
  for (const s of specs) console.log(`  ${s.name.padEnd(14)} ${String(s.classes).padStart(4)} classes  train ${String(s.train).padStart(6)}  test ${String(s.test).padStart(6)}  ${s.metric}`);

  // ---- embedding
  const stage = {};
  const entries = {};
  t0 = performance.now();
  for (const s of specs) {
    for (const split of ['train', 'test']) {
      const r = await runProcess(process.execPath, [cli, 'embed', '--dataset', s.name, '--split', split, '--cache-dir', cacheDir, '--no-progress', '--threads', '2'], { env });
      entries[`${s.name}/${split}`] = r.out.trim().split('\n').pop();
    }
  }
  stage.embedding = (performance.now() - t0) / 1000;
  console.log(`embedding: ${fmt(stage.embedding)} s (${specs.length * 2} processes)`);

  // ---- clip-bench's stages, at each thread count
  const list = path.join(tmp, 'suite.txt');
  fs.writeFileSync(list, `${specs.map((s) => s.name).join('\n')}\n`);
  const ours = {};
  const outs = {};
  for (const T of threadCounts) {
    const out = path.join(tmp, `results-${T}`);
    outs[T] = out;
    ours[T] = {};
    for (const [label, task] of [['zero-shot', 'zeroshot'], ['probe', 'linear-probe'], ['few-shot', 'fewshot']]) {
      if (label === 'zero-shot' && T !== threadCounts[0]) continue;
      const args = [cli, 'suite', '--dataset', `@${list}`, '--tasks', task, '--out', out, '--cache-dir', cacheDir, '--no-report', '--no-progress', '--threads', String(T), '--shots', cfg.shots, '--seeds', String(cfg.seeds)];
      if (label !== 'zero-shot' && T !== threadCounts[0]) fs.cpSync(path.join(outs[threadCounts[0]], 'zeroshot.csv'), path.join(out, 'zeroshot.csv'));
      if (label !== 'zero-shot' && T !== threadCounts[0]) fs.cpSync(path.join(outs[threadCounts[0]], 'zeroshot.json'), path.join(out, 'zeroshot.json'));
      console.log(`${label}, ${T} thread${T > 1 ? 's' : ''} ... (load ${os.loadavg()[0].toFixed(1)})`);
      const r = await timed(process.execPath, args, { env });
      ours[T][label] = r.wall;
      ours[T][`${label} cpu`] = r.cpu;
      console.log(`${label}, ${T} thread${T > 1 ? 's' : ''}: ${fmt(r.wall)} s (CPU ${fmt(r.cpu)} s)`);
    }
  }
  if (stage['zero-shot'] === undefined) stage['zero-shot'] = ours[threadCounts[0]]['zero-shot'];

  // ---- the same fits by scikit-learn: same embeddings, same held-out rows, same draws
  const sk = path.join(tmp, 'sklearn');
  fs.mkdirSync(sk);
  const manifest = { tasks: ['probe', 'fewshot'], datasets: [] };
  // labels.npy: int32 [n]
  const readLabels = (file) => {
    const buf = fs.readFileSync(file);
    const h = parseNpyHeader(buf);
    if (h.descr !== '<i4') throw new Error(`${file}: expected <i4 labels, got ${h.descr}`);
    return new Int32Array(buf.buffer.slice(buf.byteOffset + h.dataOffset, buf.byteOffset + buf.length));
  };
  for (const s of specs) {
    const d = { name: s.name, classes: s.classes, metric: s.metric };
    for (const [split, tag] of [['train', 'tr'], ['test', 'te']]) {
      for (const [what, f] of [['X', 'embeddings.npy'], ['y', 'labels.npy']]) {
        const file = path.join(sk, `${s.name}-${what}${tag}.npy`);
        fs.copyFileSync(path.join(entries[`${s.name}/${split}`], f), file);
        d[`${what}${tag}`] = file;
      }
    }
    const ytr = readLabels(d.ytr);
    // the linear probe's held-out fifth (src/eval/linear-probe.ts holdOut, --seed 0)
    d.val = Array.from(stratifiedSubset(ytr, s.classes, Math.max(s.classes, Math.round(ytr.length * 0.2)), 0));
    d.samples = shots.flatMap((k) => Array.from({ length: cfg.seeds }, (_, rep) => ({ k, rows: Array.from(sampleShots(ytr, s.classes, k, sampleSeed(0, k, rep), [])) })));
    manifest.datasets.push(d);
  }
  fs.writeFileSync(path.join(sk, 'manifest.json'), JSON.stringify(manifest));
  console.log(`scikit-learn, one fit after another ... (load ${os.loadavg()[0].toFixed(1)})`);
  const r = await runProcess(cfg.python, [path.join(here, 'bench_suite_sklearn.py'), path.join(sk, 'manifest.json')], { env: { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } });
  process.stderr.write(r.err);
  const skr = lastJson(r.out);
  const skStage = { probe: 0, 'few-shot': 0, 'probe cpu': 0, 'few-shot cpu': 0 };
  for (const v of Object.values(skr.datasets)) {
    skStage.probe += v.probe.seconds;
    skStage['few-shot'] += v.fewshot.seconds;
    skStage['probe cpu'] += v.probe.cpu;
    skStage['few-shot cpu'] += v.fewshot.cpu;
  }

  // ---- identical tables at every thread count
  const noSeconds = (file) => {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(','));
    const drop = lines[0].indexOf('seconds');
    return lines.map((c) => c.filter((_, i) => i !== drop).join(',')).join('\n');
  };
  const same = threadCounts.every((T) => ['fewshot.csv', 'linear_probe.csv'].every((f) => noSeconds(path.join(outs[T], f)) === noSeconds(path.join(outs[threadCounts[0]], f))));

  // ---- summary
  console.log(`\nload average at the end ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}; scikit-learn ${skr.sklearn} (1 BLAS thread), shots ${cfg.shots} x ${cfg.seeds} seeds`);
  console.log('| stage | clip-bench, 1 thread | clip-bench, 2 threads | scikit-learn, one fit after another | scikit-learn / clip-bench |');
  console.log('|---|---|---|---|---|');
  const col = (T, label) => (ours[T]?.[label] === undefined ? '' : `${fmt(ours[T][label])} s`);
  console.log(`| embedding (${images} images) | | ${fmt(stage.embedding)} s | | |`);
  console.log(`| zero-shot | ${col(threadCounts[0], 'zero-shot')} | | | |`);
  for (const label of ['probe', 'few-shot']) {
    const best = Math.min(...threadCounts.map((T) => ours[T][label]));
    const ratios = threadCounts.map((T) => `${(skStage[label] / ours[T][label]).toFixed(2)}x (${T})`).join(', ');
    console.log(`| ${label} | ${col(1, label)} | ${col(2, label)} | ${fmt(skStage[label])} s | ${ratios}; best ${(skStage[label] / best).toFixed(2)}x |`);
  }
  for (const label of ['probe', 'few-shot']) {
    const cpu = threadCounts.map((T) => `${fmt(ours[T][`${label} cpu`])} s (${T})`).join(', ');
    console.log(`CPU seconds, ${label}: clip-bench ${cpu}; scikit-learn ${fmt(skStage[`${label} cpu`])} s; ratio ${threadCounts.map((T) => (skStage[`${label} cpu`] / ours[T][`${label} cpu`]).toFixed(2) + 'x').join(', ')}`);
  }
  if (ours[1] && ours[2]) for (const label of ['probe', 'few-shot']) console.log(`scaling ${label}: 1 -> 2 threads ${(ours[1][label] / ours[2][label]).toFixed(2)}x`);
  console.log(`result tables at ${threadCounts.join(' and ')} threads identical (seconds aside): ${same ? 'yes' : 'NO'}`);
  console.log(JSON.stringify({ stage, ours, sklearn: skStage, images, same, load: os.loadavg() }));
  if (!same) process.exitCode = 1;
} finally {
  if (cfg.keep) console.log(`kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
