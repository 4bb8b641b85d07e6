// The embedding cache is never stale and never hides skipped images: an edited file misses even when its size and
// mtime are kept (as `cp -p`, `rsync -a` and tar restore them), and an entry holding images skipped by
// --skip-bad-images is checked against the flag on every use.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { fingerprintFiles, memoFileFor } from '../../src/util/fingerprint.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { repoRoot } from '../support/helpers.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');

/** ROOT/test/{a,b}/N.png (6 each); image b/5.png truncated when `bad`. */
async function folder(bad: boolean): Promise<{ root: string; badFile: string }> {
  const root = tmpDir('relcache');
  for (const [c, cls] of ['a', 'b'].entries()) {
    fs.mkdirSync(path.join(root, 'test', cls), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const png = await sharp({ create: { width: 12 + i, height: 10, channels: 3, background: { r: 40 * i, g: 180 * c, b: 60 } } }).png().toBuffer();
      fs.writeFileSync(path.join(root, 'test', cls, `${i}.png`), bad && c === 1 && i === 5 ? png.subarray(0, 30) : png);
    }
  }
  return { root, badFile: path.join(root, 'test', 'b', '5.png') };
}

const embed = (root: string, cache: string, ...extra: string[]) =>
  runCli(['embed', '--model', tiny, '--dataset', 'imagefolder', '--dataset-root', root, '--cache-dir', cache, '--batch-size', '4', '--no-progress', ...extra]);

test('--skip-bad-images does not leak through the cache: without the flag a cached skip is refused, with it every run says so', async () => {
  const { root, badFile } = await folder(true);
  const cache = tmpDir('relcache-c');
  const first = await embed(root, cache, '--skip-bad-images');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /warning: skipped 1 unreadable image\(s\) of imagefolder\/test, e\.g\. .*b\/5\.png: cannot decode image/);

  const without = await embed(root, cache);
  assert.equal(without.status, 2, without.stderr);
  assert.ok(without.stderr.startsWith(`clip-bench: ${badFile}: cannot decode image`), without.stderr);
  assert.match(without.stderr, /1 image\(s\) of imagefolder\/test are unreadable .*--skip-bad-images/);
  assert.equal(without.stderr.trim().split('\n').length, 1, without.stderr);

  const again = await embed(root, cache, '--skip-bad-images');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /cache hit/);
  assert.match(again.stderr, /warning: skipped 1 unreadable image\(s\) of imagefolder\/test \(as recorded in the cache\), e\.g\. .*b\/5\.png/);

  // the zero-shot run that reads the same entry is told too, and refuses without the flag
  const zs = ['zeroshot', '--model', tiny, '--dataset', 'imagefolder', '--dataset-root', root, '--cache-dir', cache, '--batch-size', '4', '--prompts', 'single', '--no-progress', '--out', tmpDir('relcache-out')];
  const z1 = await runCli(zs);
  assert.equal(z1.status, 2, z1.stderr);
  const z2 = await runCli([...zs, '--skip-bad-images']);
  assert.equal(z2.status, 0, z2.stderr);
  assert.match(z2.stderr, /skipped 1 unreadable image/);
  assert.match(z2.stdout, /\b11\b/, 'n_images counts the 11 readable images');
});

test('an image edited in place with its size and mtime kept is a cache miss', async () => {
  const { root } = await folder(false);
  const cache = tmpDir('relcache-c');
  const first = await embed(root, cache);
  assert.equal(first.status, 0, first.stderr);
  const file = path.join(root, 'test', 'a', '3.png');
  const before = fs.statSync(file);
  const edited = await sharp({ create: { width: 15, height: 10, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
  // pad or cut the PNG to the old size (bytes after IEND are ignored by decoders)
  const same = Buffer.concat([edited, Buffer.alloc(Math.max(0, before.size - edited.length))]).subarray(0, before.size);
  assert.ok(edited.length <= before.size, 'the edited image fits');
  fs.writeFileSync(file, same);
  fs.utimesSync(file, before.atime, before.mtime);
  assert.equal(fs.statSync(file).size, before.size);
  assert.equal(Math.round(fs.statSync(file).mtimeMs), Math.round(before.mtimeMs), 'mtime kept (to the millisecond the old fingerprint used)');

  const second = await embed(root, cache);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stderr, /computed in/, 'recomputed, not a hit');
  assert.notEqual(second.stdout.trim(), first.stdout.trim(), 'another entry');
  // a copy of the tree (other paths, other mtimes) keeps the cache: the content is what counts
  const copy = tmpDir('relcache-copy');
  fs.cpSync(root, copy, { recursive: true });
  const third = await embed(copy, cache);
  assert.match(third.stderr, /cache hit/);
  assert.equal(third.stdout.trim(), second.stdout.trim());
});

test('fingerprint: every byte counts (a change in the middle of a large file, size and mtime kept)', () => {
  const dir = tmpDir('fp-mid');
  const file = path.join(dir, 'data.bin');
  const buf = Buffer.alloc(5 << 20, 7);
  fs.writeFileSync(file, buf);
  const st = fs.statSync(file);
  const f1 = fingerprintFiles(dir, ['data.bin']);
  buf[(5 << 20) >> 1] = 8;
  fs.writeFileSync(file, buf);
  fs.utimesSync(file, st.atime, st.mtime);
  assert.notEqual(fingerprintFiles(dir, ['data.bin']), f1);
});

test('fingerprint memo: a file whose stat is unchanged is not re-read; a new ctime re-reads it', () => {
  const dir = tmpDir('fp-memo');
  fs.writeFileSync(path.join(dir, 'x.bin'), 'hello');
  const f1 = fingerprintFiles(dir, ['x.bin']);
  const memoFile = memoFileFor(dir);
  assert.equal(fs.existsSync(memoFile), false, 'a file changed in the last seconds is not remembered');
  // as if 10 s had passed since the file was written
  const later = { nowNs: BigInt(Date.now() + 10_000) * 1_000_000n };
  assert.equal(fingerprintFiles(dir, ['x.bin'], later), f1);
  const memo = JSON.parse(fs.readFileSync(memoFile, 'utf8'));
  assert.equal(memo.files['x.bin'].sha256, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  // the memo is consulted: a planted digest under the same stat changes the fingerprint
  memo.files['x.bin'].sha256 = '0'.repeat(64);
  fs.writeFileSync(memoFile, JSON.stringify(memo));
  assert.notEqual(fingerprintFiles(dir, ['x.bin'], later), f1);
  // any change of ctime (here a chmod) invalidates the memo entry, and the content is hashed again
  fs.chmodSync(path.join(dir, 'x.bin'), 0o600);
  assert.equal(fingerprintFiles(dir, ['x.bin'], later), f1);
});

test('model files outside the hub cache go through the same memo: read once, and any edit is seen', async () => {
  const model = tmpDir('model-memo');
  fs.cpSync(tiny, model, { recursive: true });
  const cacheHome = tmpDir('model-memo-home');
  const env = { XDG_CACHE_HOME: cacheHome };
  const args = ['embed', '--model', model, '--split', 'test', '--limit', '40', '--no-progress', '--cache-dir', path.join(cacheHome, 'emb')];
  // files changed in the last 2 s are not remembered (their ctime could still move within one clock tick)
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const first = await runCli(args, env);
  assert.equal(first.status, 0, first.stderr);
  const onnx = fs.readdirSync(path.join(model, 'onnx')).find((f) => f.startsWith('vision'))!;
  const prev = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = cacheHome; // where the child processes keep the memo
  const memoPath = memoFileFor(path.join(model, 'onnx'));
  if (prev === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = prev;
  const memo = JSON.parse(fs.readFileSync(memoPath, 'utf8'));
  const real = memo.files[onnx].sha256;
  assert.match(real, /^[0-9a-f]{64}$/);
  // the memo is what the model's identity is read from: a planted digest under the same stat is another model
  memo.files[onnx].sha256 = '0'.repeat(64);
  fs.writeFileSync(memoPath, JSON.stringify(memo));
  const planted = await runCli(args, env);
  assert.equal(planted.status, 0, planted.stderr);
  assert.notEqual(planted.stdout.trim(), first.stdout.trim(), 'the planted digest was not used');
  // a chmod (a new ctime) invalidates the entry: the file is read again and the first entry is a cache hit
  fs.chmodSync(path.join(model, 'onnx', onnx), 0o600);
  const again = await runCli(args, env);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout.trim(), first.stdout.trim());
  assert.match(again.stderr, /cache hit/);
});
