#!/usr/bin/env node
/**
 * JPEG decode alone, clip-bench against Pillow, side by side in one run, pinned to one core (`taskset -c 0` where it
 * exists). `npm run build` first.
 *
 *   node scripts/bench_decode.mjs [--images 64] [--rounds 9] [--python /usr/bin/python3] [--work .work/bench_decode]
 *                                 [--no-pin]
 *
 * 500x375 photo-like JPEGs (quality 90, 4:2:0, written by Pillow) are decoded from memory, every contender once per
 * round, rounds alternating, and each contender's milliseconds per image are the median over rounds; ratios are to
 * Pillow's `Image.open` + `load()` (scripts/bench_decode_pil.py, run between the Node contenders in each round).
 * Every contender's RGB pixels are checked against Pillow's (sha256 per image): a contender that decodes other
 * pixels is marked, whatever its speed.
 *
 * Contenders: clip-bench's decodeImage (one read, one header parse, then libjpeg-turbo called directly where the
 * system has libturbojpeg, else sharp), its sharp path, the path before (sharp metadata() and then the decode: two
 * parses), the sharp path with sharp.cache(false), and decodeImage / the sharp path with 32 decodes in flight at
 * once (as a batch is decoded). Then where sharp's time goes: 16x16 JPEGs (a fixed cost per call) and 4000x3000
 * JPEGs (the cost per pixel).
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag } from './bench_args.mjs';
import { median } from './bench_util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const cfg = {
  images: flag('images', 64),
  rounds: flag('rounds', 9),
  python: flag('python', '/usr/bin/python3'),
  work: path.resolve(root, flag('work', '.work/bench_decode')),
  noPin: flag('no-pin', false),
};

// pin this process (and the Python child, which inherits it) to one core
if (!cfg.noPin && !process.env.CLIP_BENCH_PINNED && spawnSync('taskset', ['-c', '0', 'true']).status === 0) {
  const r = spawnSync('taskset', ['-c', '0', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, CLIP_BENCH_PINNED: '1' },
  });
  process.exit(r.status ?? 1);
}

const sharp = (await import('sharp')).default;
const { decodeImage, viaSharp } = await import(path.join(root, 'dist/src/image/decode.js'));
const { turbojpeg } = await import(path.join(root, 'dist/src/image/decoders/turbojpeg.js'));
const log = (m) => process.stderr.write(`${m}\n`);

/** n generated w x h JPEGs (written once into --work): their names and bytes. */
function images(n, w, h) {
  const dir = path.join(cfg.work, `jpeg-${w}x${h}-${n}`);
  if (!fs.existsSync(path.join(dir, '.complete'))) {
    log(`writing ${n} JPEGs to ${dir} ...`);
    fs.rmSync(dir, { recursive: true, force: true });
    const r = spawnSync(cfg.python, [path.join(here, 'bench_decode_pil.py'), '--make', dir, '--n', String(n), '--size', String(w), String(h)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench_decode_pil.py --make failed');
    fs.writeFileSync(path.join(dir, '.complete'), '');
  }
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort();
  return { dir, files, blobs: files.map((f) => fs.readFileSync(path.join(dir, f))) };
}
const { dir, files, blobs } = images(cfg.images, 500, 375);
// where the time goes: a fixed cost per call (16x16 images) and a cost per pixel (12-megapixel images)
const tiny = images(64, 16, 16);
const big = images(2, 4000, 3000);

const OPTS = { ignoreIcc: true, failOn: 'error', autoOrient: false };
const sharpDefaults = { concurrency: sharp.concurrency(), cache: sharp.cache() };
const withSharp = (concurrency, cache) => () => {
  sharp.concurrency(concurrency);
  sharp.cache(cache);
};
const restore = () => {
  sharp.concurrency(sharpDefaults.concurrency);
  sharp.cache(sharpDefaults.cache.memory.max ? { memory: sharpDefaults.cache.memory.max, files: sharpDefaults.cache.files.max, items: sharpDefaults.cache.items.max } : false);
};
const decodeOne = async (b) => (await decodeImage(b)).data;
const sharpPath = async (b) => (await viaSharp(b, 'RGB')).data;
/** Each contender: bytes -> RGB pixels (a Uint8Array of w*h*3), with the sharp settings it runs under. */
const contenders = {
  [`clip-bench decodeImage (${turbojpeg() ? 'libjpeg-turbo directly' : 'sharp: libturbojpeg not found'})`]: { fn: decodeOne },
  'clip-bench sharp path': { fn: sharpPath },
  'previous: metadata() + decode': {
    fn: async (b) => {
      await sharp(b, OPTS).metadata();
      return (await sharp(b, OPTS).toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })).data;
    },
  },
  'sharp path, sharp.cache(false)': { fn: sharpPath, setup: withSharp(sharpDefaults.concurrency, false) },
  // embed decodes a whole batch at once: per-image cost when 32 are in flight together
  'decodeImage, 32 at a time': { fn: decodeOne, batch: 32 },
  'sharp path, 32 at a time': { fn: sharpPath, batch: 32 },
};

function pillow(rounds, from = dir) {
  const r = spawnSync(cfg.python, [path.join(here, 'bench_decode_pil.py'), '--dir', from, '--rounds', String(rounds)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`bench_decode_pil.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// pixel check first (also warms every path up)
const ref = pillow(1).sha256;
const same = {};
for (const [name, { fn }] of Object.entries(contenders)) {
  let ok = 0;
  for (let i = 0; i < files.length; i++) {
    const px = await fn(blobs[i]);
    if (crypto.createHash('sha256').update(px).digest('hex') === ref[files[i]]) ok++;
  }
  same[name] = ok;
}

const times = Object.fromEntries([...Object.keys(contenders), 'Pillow 9.4 Image.open + load'].map((k) => [k, []]));
const scale = { tiny: { ours: [], pil: [] }, big: { ours: [], pil: [] } };
for (let round = 0; round < cfg.rounds; round++) {
  for (const [name, { fn, setup, batch = 1 }] of Object.entries(contenders)) {
    setup?.();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < blobs.length; i += batch) await Promise.all(blobs.slice(i, i + batch).map(fn));
    times[name].push(Number(process.hrtime.bigint() - t0) / 1e6 / blobs.length);
    restore();
  }
  times['Pillow 9.4 Image.open + load'].push(pillow(1).ms_per_image[0]);
  for (const [key, set] of [['tiny', tiny], ['big', big]]) {
    const t0 = process.hrtime.bigint();
    for (const b of set.blobs) await sharpPath(b);
    scale[key].ours.push(Number(process.hrtime.bigint() - t0) / 1e6 / set.blobs.length);
    scale[key].pil.push(pillow(1, set.dir).ms_per_image[0]);
  }
  log(`round ${round + 1}/${cfg.rounds}`);
}

const pil = median(times['Pillow 9.4 Image.open + load']);
const pinned = process.env.CLIP_BENCH_PINNED ? 'pinned to core 0 (taskset -c 0)' : 'not pinned';
console.log(`\nJPEG decode, ${files.length} images 500x375 q90 4:2:0 from memory, ${cfg.rounds} rounds, ${pinned}; ` +
  `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips} (default concurrency ${sharpDefaults.concurrency}), Node ${process.versions.node}\n`);
console.log('| decoder | ms per image (median) | vs Pillow | same pixels as Pillow |');
console.log('|---|---|---|---|');
for (const [name, ts] of Object.entries(times)) {
  const ms = median(ts);
  const px = name in same ? `${same[name]}/${files.length}` : 'reference';
  console.log(`| ${name} | ${ms.toFixed(2)} | ${(ms / pil).toFixed(2)}x the time | ${px} |`);
}
for (const [key, label] of [['tiny', '16x16 (the fixed cost of a call)'], ['big', '4000x3000 (the cost per pixel)']]) {
  const ours = median(scale[key].ours);
  const pilMs = median(scale[key].pil);
  console.log(`| sharp path, ${label} | ${ours.toFixed(2)} | ${(ours / pilMs).toFixed(2)}x Pillow's ${pilMs.toFixed(2)} ms | |`);
}
