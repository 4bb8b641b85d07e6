#!/usr/bin/env node
/**
 * clip-bench's decode + preprocessing stage timed directly, one image after another on one thread (run it
 * pinned: `taskset -c 0 node scripts/bench_preprocess_stage.mjs DIR`). Every *.jpg under DIR, in sorted order,
 * goes through decodeImage (sharp, file path) and preprocess (224-px CLIP transform) into one reused batch
 * buffer. Prints one JSON line: per image, wall and CPU milliseconds of each step (means over the images,
 * after --warmup images).
 *   --resampler wasm|js (default: what preprocess() picks)  --size N (default 224)  --warmup N (default 5)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag } from './bench_args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { decodeImage } = await import(path.join(root, 'dist/src/image/decode.js'));
const { preprocess, activeResampler } = await import(path.join(root, 'dist/src/model/preprocess.js'));
const { preprocessConfigForSize } = await import(path.join(root, 'dist/src/model/preprocess-config.js'));

const dir = process.argv[2];
const resampler = flag('resampler', activeResampler());
const size = flag('size', 224);
const warmup = flag('warmup', 5);

const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isDirectory()) walk(path.join(d, e.name));
    else if (e.name.endsWith('.jpg')) files.push(path.join(d, e.name));
  }
})(dir);
if (files.length <= warmup) throw new Error(`${dir}: need more than ${warmup} JPEGs`);

const cfg = preprocessConfigForSize(size);
const batch = new Float32Array(32 * 3 * size * size);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const t = { decodeWall: 0, decodeCpu: 0, preWall: 0, preCpu: 0 };
for (let i = 0; i < files.length; i++) {
  const w0 = performance.now();
  const c0 = cpu();
  const img = await decodeImage(files[i]);
  const w1 = performance.now();
  const c1 = cpu();
  preprocess(img, cfg, batch, (i % 32) * 3 * size * size, resampler);
  const w2 = performance.now();
  const c2 = cpu();
  if (i < warmup) continue;
  t.decodeWall += w1 - w0;
  t.decodeCpu += c1 - c0;
  t.preWall += w2 - w1;
  t.preCpu += c2 - c1;
}
const n = files.length - warmup;
const ms = (v) => Number((v / n).toFixed(3));
console.log(JSON.stringify({
  images: n, resampler,
  decodeMs: ms(t.decodeWall), decodeCpuMs: ms(t.decodeCpu),
  preprocessMs: ms(t.preWall), preprocessCpuMs: ms(t.preCpu),
  totalMs: ms(t.decodeWall + t.preWall), totalCpuMs: ms(t.decodeCpu + t.preCpu),
}));
