import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-embed-'));

function npyRows(dir: string): Buffer {
  return readFileSync(path.join(dir, 'embeddings.npy'));
}

test('embed fills the cache with the built-in model; a second run is a fast hit', async () => {
  const cache = tmp();
  const first = await runCli(['embed', '--cache-dir', cache]);
  assert.equal(first.status, 0, first.stderr);
  const dir = first.stdout.trim();
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  assert.equal(meta.n, 10000);
  assert.equal(meta.key.dataset, 'fashion-mnist');
  assert.equal(meta.key.split, 'test');
  assert.equal(meta.label.modelName, 'mini');
  assert.match(first.stderr, /computed in/);
  const second = await runCli(['embed', '--cache-dir', cache]);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.stdout.trim(), dir);
  const loaded = /cache hit, loaded in ([\d.]+) s/.exec(second.stderr);
  assert.ok(loaded, second.stderr);
  assert.ok(Number(loaded[1]) < 0.5, `hit loaded in ${loaded[1]} s`);
});

test('an embed killed with SIGKILL resumes and gives the embeddings of an uninterrupted run', async () => {
  const args = ['embed', '--model', tiny, '--batch-size', '32', '--threads', '1', '--no-progress'];
  const clean = tmp();
  const full = await runCli([...args, '--cache-dir', clean]);
  assert.equal(full.status, 0, full.stderr);

  const cache = tmp();
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'clip-bench'), ...args, '--cache-dir', cache], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // kill as soon as a chunk is on disk, i.e. mid-way
  const chunkDirs = () => readdirSync(cache).flatMap((h) => readdirSync(path.join(cache, h)).map((e) => path.join(cache, h, e, 'chunks')));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const chunks = chunkDirs().filter(existsSync).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.f32')));
    if (chunks.length >= 1) break;
    assert.ok(Date.now() < deadline, 'no chunk written within 60 s');
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  await exited;
  const entry = path.dirname(chunkDirs()[0]);
  assert.ok(!existsSync(path.join(entry, 'meta.json')), 'killed before completion');
  const done = readdirSync(path.join(entry, 'chunks')).filter((f) => f.endsWith('.f32')).length;

  const resumed = await runCli([...args.filter((a) => a !== '--no-progress'), '--cache-dir', cache]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming: ${done * 1024} cached`));
  assert.ok(npyRows(resumed.stdout.trim()).equals(npyRows(full.stdout.trim())), 'identical embeddings.npy');
});

test('changing the model file, the preprocessing or the subset misses the cache', async () => {
  const cache = tmp();
  const entryOf = async (model: string, extra: string[] = []) => {
    const r = await runCli(['embed', '--model', model, '--limit', '200', '--cache-dir', cache, ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const base = await entryOf(tiny);
  assert.equal(await entryOf(tiny), base, 'same inputs hit');
  // the same files elsewhere are the same model (content hash, not path)
  const copy = tmp();
  cpSync(tiny, copy, { recursive: true });
  assert.equal(await entryOf(copy), base);
  // other weights
  const otherWeights = tmp();
  cpSync(tiny, otherWeights, { recursive: true });
  cpSync(path.join(tiny, 'onnx', 'vision_model_fp16.onnx'), path.join(otherWeights, 'onnx', 'vision_model.onnx'));
  const a = await entryOf(otherWeights);
  // other preprocessing
  const otherPre = tmp();
  cpSync(tiny, otherPre, { recursive: true });
  const pp = JSON.parse(readFileSync(path.join(tiny, 'preprocessor_config.json'), 'utf8'));
  pp.image_mean = [0.5, 0.5, 0.5];
  writeFileSync(path.join(otherPre, 'preprocessor_config.json'), JSON.stringify(pp));
  const b = await entryOf(otherPre);
  // other subsets
  const c = await entryOf(tiny, ['--limit', '300']);
  const d = await entryOf(tiny, ['--seed', '7']);
  assert.equal(new Set([base, a, b, c, d]).size, 5);

  const ls = await runCli(['cache', 'ls', '--cache-dir', cache]);
  assert.equal(ls.status, 0, ls.stderr);
  assert.match(ls.stderr, /^5 entries/m);
  const rm = await runCli(['cache', 'rm', '--cache-dir', cache, '--model', otherPre]);
  assert.match(rm.stdout, /removed 1 entry /);
});

test('an unreadable image fails the run naming it, unless --skip-bad-images', async () => {
  const root = tmp();
  for (const [cls, colour] of [['cat', '#f00'], ['dog', '#00f']] as const) {
    mkdirSync(path.join(root, 'test', cls), { recursive: true });
    for (let i = 0; i < 3; i++) {
      await sharp({ create: { width: 20 + i, height: 24, channels: 3, background: colour } }).png().toFile(path.join(root, 'test', cls, `${i}.png`));
    }
  }
  const bad = path.join(root, 'test', 'dog', 'broken.jpg');
  writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  const args = ['embed', '--model', tiny, '--dataset', 'imagefolder', '--dataset-root', root, '--cache-dir', tmp(), '--no-progress'];
  const fail = await runCli(args);
  assert.equal(fail.status, 2);
  assert.ok(fail.stderr.includes(bad), fail.stderr);
  assert.equal(fail.stderr.trim().split('\n').length, 1);
  const skip = await runCli([...args, '--skip-bad-images']);
  assert.equal(skip.status, 0, skip.stderr);
  assert.match(skip.stderr, /6 x 16 embeddings .*1 unreadable images skipped/);
  const meta = JSON.parse(readFileSync(path.join(skip.stdout.trim(), 'meta.json'), 'utf8'));
  assert.equal(meta.skipped.count, 1);
});
