// Reading images from WebDataset shards vs the same images as files in an image folder, side by side.
//   npm run build && node scripts/bench_wds.mjs [--images 2000] [--size 256] [--shards 4] [--rounds 5] [--batch 32]
// Both sources are read the way the embedding pipeline reads them (a batch of loads at once, each decoded to pixels),
// alternating which goes first; each source is read once before timing (page cache warm, shard index built).
// Prints the median seconds of each and the ratio shards / folder (< 1: shards are faster).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tar from 'tar';
import { flag } from './bench_args.mjs';
import { openImageFolder } from '../dist/src/data/loaders/imagefolder.js';
import { openWdsSplit, readWdsPackage } from '../dist/src/data/loaders/wds.js';

const N = flag('images', 2000);
const SIZE = flag('size', 256);
const SHARDS = flag('shards', 4);
const ROUNDS = flag('rounds', 5);
const BATCH = flag('batch', 32);
const CLASSES = 10;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-bench_wds-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

async function jpeg(i) {
  // a smooth picture with some texture, so JPEG sizes are like photos' (not a flat colour)
  const raw = Buffer.alloc(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const o = (y * SIZE + x) * 3;
      raw[o] = (x * 7 + i * 13) & 255;
      raw[o + 1] = (y * 5 + ((x * y) >> 6) + i) & 255;
      raw[o + 2] = ((x ^ y) * 3 + i * 29) & 255;
    }
  }
  return sharp(raw, { raw: { width: SIZE, height: SIZE, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

// the same bytes twice: folder/test/<class>/<key>.jpg and pkg/test/<shard>.tar with <key>.cls + <key>.jpg
const folder = path.join(root, 'folder');
const pkg = path.join(root, 'pkg');
const staging = path.join(root, 'staging');
fs.mkdirSync(path.join(pkg, 'test'), { recursive: true });
fs.writeFileSync(path.join(pkg, 'classnames.txt'), Array.from({ length: CLASSES }, (_, c) => `class ${c}`).join('\n') + '\n');
fs.writeFileSync(path.join(pkg, 'test', 'nshards.txt'), `${SHARDS}\n`);
const perShard = Math.ceil(N / SHARDS);
let bytes = 0;
for (let s = 0; s < SHARDS; s++) {
  const dir = path.join(staging, `${s}`);
  fs.mkdirSync(dir, { recursive: true });
  const names = [];
  for (let i = s * perShard; i < Math.min(N, (s + 1) * perShard); i++) {
    const key = `s${String(i).padStart(7, '0')}`;
    const label = i % CLASSES;
    const img = await jpeg(i);
    bytes += img.length;
    const cdir = path.join(folder, 'test', `c${String(label).padStart(2, '0')}`);
    fs.mkdirSync(cdir, { recursive: true });
    fs.writeFileSync(path.join(cdir, `${key}.jpg`), img);
    fs.writeFileSync(path.join(dir, `${key}.cls`), String(label));
    fs.writeFileSync(path.join(dir, `${key}.jpg`), img);
    names.push(`${key}.cls`, `${key}.jpg`);
  }
  await tar.c({ file: path.join(pkg, 'test', `${s}.tar`), cwd: dir, portable: true }, names);
}
fs.rmSync(staging, { recursive: true });

const indexDir = path.join(root, 'index');
const t0 = performance.now();
const shards = await openWdsSplit(readWdsPackage(pkg), 'test', { indexDir });
const indexSeconds = (performance.now() - t0) / 1000;
const files = await openImageFolder('bench', folder, 'test', undefined);
if (shards.n !== N || files.n !== N) throw new Error(`expected ${N} images, got ${shards.n} and ${files.n}`);

async function readAll(src) {
  const t = performance.now();
  let pixels = 0;
  for (let start = 0; start < src.n; start += BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(BATCH, src.n - start) }, (_, b) => src.load(start + b)));
    for (const img of batch) pixels += img.width * img.height;
  }
  if (pixels !== N * SIZE * SIZE) throw new Error('wrong pixel count');
  return (performance.now() - t) / 1000;
}

await readAll(files);
await readAll(shards);
const times = { folder: [], shards: [] };
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ['folder', 'shards'] : ['shards', 'folder'];
  for (const which of order) times[which].push(await readAll(which === 'folder' ? files : shards));
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mf = median(times.folder);
const ms = median(times.shards);
console.log(`${N} JPEG images ${SIZE}x${SIZE} (${(bytes / 1e6).toFixed(1)} MB), ${SHARDS} shards, batches of ${BATCH}, ${ROUNDS} rounds, ${os.availableParallelism()} CPUs`);
console.log(`first open of the shards (scan + sha256 + index written): ${indexSeconds.toFixed(3)} s`);
console.log(`image folder: median ${mf.toFixed(3)} s (${(N / mf).toFixed(0)} images/s)`);
console.log(`shards:       median ${ms.toFixed(3)} s (${(N / ms).toFixed(0)} images/s)`);
console.log(`ratio shards / folder: ${(ms / mf).toFixed(3)}`);
