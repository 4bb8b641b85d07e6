import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fetchWdsPackage } from '../../src/data/hub-package.js';
import { openWdsSplit, readWdsPackage } from '../../src/data/loaders/wds.js';
import { checkTemplate } from '../../src/data/templates.js';
import { UserError } from '../../src/errors.js';
import { HubUnavailable } from '../../src/hub/hub.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';
import { makeTar, tmpDir } from '../support/data-files.js';
import { startHubServer } from '../support/hub-server.js';

const SHAPES = path.join(repoRoot, 'test', 'fixtures', 'wds', 'shapes');

/** A copy of the shapes package (4 classes, test: 3 shards of 7 images) to damage. */
function shapes(tag: string): string {
  const dir = path.join(tmpDir(tag), 'shapes');
  fs.cpSync(SHAPES, dir, { recursive: true });
  return dir;
}

const zeroshot = (root: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  runCli(['zeroshot', '--model', 'mini', '--dataset', 'wds', '--dataset-root', root, '--no-progress', '--out', tmpDir('wds-in-out'), '--cache-dir', tmpDir('wds-in-cache'), ...extra], {
    XDG_CACHE_HOME: tmpDir('wds-in-xdg'),
    ...env,
  });

/** The one line a failed command prints (no stack), and its exit code. */
function oneLineError(r: { status: number | null; stderr: string }): string {
  assert.equal(r.status, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const lines = r.stderr.trim().split('\n');
  return lines[lines.length - 1]!;
}

test('templates: one rule for packages and --templates: {} or {c} once; none, two or another {name} refused with the file and line', async () => {
  assert.equal(checkTemplate('a photo of a {c}.', 'x'), 'a photo of a {}.');
  assert.equal(checkTemplate('a photo of a {}.', 'x'), 'a photo of a {}.');
  assert.throws(() => checkTemplate('a photo.', 'f: line 2'), /^UserError: f: line 2 \("a photo\."\) has no \{\} placeholder \(or CLIP_benchmark's \{c\}\)/);
  assert.throws(() => checkTemplate('{c}, a photo of a {c}.', 'f: line 1'), /^UserError: f: line 1 \("\{c\}, a photo of a \{c\}\."\) has 2 placeholders/);
  assert.throws(() => checkTemplate('a photo of a {}, a {c}.', 'f: line 1'), /has 2 placeholders/);
  assert.throws(() => checkTemplate('a photo of a {classname}.', 'f: line 1'), /\{classname\} is not a placeholder \(write \{\} or CLIP_benchmark's \{c\}\)/);

  // a package's templates file: the bad line is named, nothing is evaluated
  const pkg = shapes('tpl-pkg');
  const tFile = path.join(pkg, 'zeroshot_classification_templates.txt');
  fs.writeFileSync(tFile, 'a photo of a {c}.\n\na photo of a {classname}.\n');
  assert.equal(oneLineError(await zeroshot(pkg)), `clip-bench: ${tFile}: line 3 ("a photo of a {classname}."): {classname} is not a placeholder (write {} or CLIP_benchmark's {c})`);
  fs.writeFileSync(tFile, 'a photo of a {c}.\r\na photo.\r\n');
  assert.match(oneLineError(await zeroshot(pkg)), new RegExp(`${tFile.replaceAll('/', '\\/')}: line 2 \\("a photo\\."\\) has no \\{\\} placeholder`));

  // --templates FILE takes CLIP_benchmark's {c}, as the package does, with the same prompts as {}
  const good = shapes('tpl-good');
  const cFile = path.join(tmpDir('tpl-files'), 'clip_benchmark.txt');
  const bFile = path.join(path.dirname(cFile), 'braces.txt');
  fs.writeFileSync(cFile, 'a photo of a {c}.\na drawing of the {c}.\n');
  fs.writeFileSync(bFile, 'a photo of a {}.\na drawing of the {}.\n');
  const withC = await zeroshot(good, ['--templates', cFile, '--prompts', 'ensemble', '--json']);
  const withB = await zeroshot(good, ['--templates', bFile, '--prompts', 'ensemble', '--json']);
  assert.equal(withC.status, 0, withC.stderr);
  assert.equal(withB.status, 0, withB.stderr);
  const top1 = (r: { stdout: string }) => (JSON.parse(r.stdout) as { top1: number }[]).map((x) => x.top1);
  assert.deepEqual(top1(withC), top1(withB));
  fs.writeFileSync(cFile, 'a photo of a {c}.\na photo.\n');
  assert.equal(oneLineError(await zeroshot(good, ['--templates', cFile])), `clip-bench: --templates ${cFile}: line 2 ("a photo.") has no {} placeholder (or CLIP_benchmark's {c}): every class would get the same prompt`);
});

test('nshards.txt: a count is bounded by the shards there (100000000 is a one-line error at once, not a full heap); "3" with two tars, "abc", "0", "-1" name the file', async () => {
  const pkg = shapes('nshards');
  const nfile = path.join(pkg, 'test', 'nshards.txt');
  const cases: [string, string][] = [
    ['100000000\n', `clip-bench: wds: ${pkg}/test/3.tar is missing (test/nshards.txt says 100000000 shards); the folder has 3 .tar files`],
    ['4\n', `clip-bench: wds: ${pkg}/test/3.tar is missing (test/nshards.txt says 4 shards); the folder has 3 .tar files`],
    ['abc\n', `clip-bench: ${nfile}: expected a positive number of shards, found "abc"`],
    ['0\n', `clip-bench: ${nfile}: expected a positive number of shards, found "0"`],
    ['-1\n', `clip-bench: ${nfile}: expected a positive number of shards, found "-1"`],
    [`${'9'.repeat(400)}\n`, `clip-bench: ${nfile}: expected a positive number of shards, found "99999999999999999999..."`],
  ];
  for (const [text, line] of cases) {
    fs.writeFileSync(nfile, text);
    const started = Date.now();
    assert.equal(oneLineError(await zeroshot(pkg)), line, text);
    assert.ok(Date.now() - started < 30_000, `${text}: ${Date.now() - started} ms`);
  }
  // "3" with two tars: the missing one is named, not "split 'test' not found"
  fs.writeFileSync(nfile, '3\n');
  fs.rmSync(path.join(pkg, 'test', '1.tar'));
  assert.equal(oneLineError(await zeroshot(pkg)), `clip-bench: wds: ${pkg}/test/1.tar is missing (test/nshards.txt says 3 shards); the folder has 2 .tar files`);
});

test('nshards.txt on the hub path: 100000000 fetches the shards the mirror has and stops at the first it lacks, building no list of that size', async () => {
  const pkg = shapes('nshards-hub');
  fs.writeFileSync(path.join(pkg, 'test', 'nshards.txt'), '100000000\n');
  const server = await startHubServer({ 'datasets/acme/shapes': pkg }, undefined, { mode: 'static' });
  try {
    const heapBefore = process.memoryUsage().heapUsed;
    await assert.rejects(fetchWdsPackage({ repoId: 'acme/shapes', revision: 'main' }, ['test'], { endpoint: server.endpoint, cacheDir: tmpDir('nshards-hub-cache'), offline: false }), (e: Error) => {
      assert.ok(e instanceof UserError, String(e));
      assert.ok(!(e instanceof HubUnavailable), 'a broken package is not data the source lacks');
      assert.equal(e.message, 'dataset acme/shapes@main: test/nshards.txt says 100000000 shards, but the repository has no test/3.tar');
      return true;
    });
    // a list of 10^8 shard names would be gigabytes
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 200e6);
    const asked = server.requests.filter((r) => r.url.includes('/test/') && r.url.endsWith('.tar')).length;
    assert.ok(asked >= 4 && asked <= 7, `${asked} shard requests`);
  } finally {
    await server.close();
  }
});

test('package faults: a directory in place of a shard is named, a .cls of 400 nines is not "label Infinity", duplicate class names warn', async () => {
  const dirShard = shapes('dir-shard');
  fs.rmSync(path.join(dirShard, 'test', '2.tar'));
  fs.mkdirSync(path.join(dirShard, 'test', '2.tar'));
  assert.equal(oneLineError(await zeroshot(dirShard)), `clip-bench: wds: ${dirShard}/test/2.tar is not a file (a shard is a .tar file)`);

  const nines = shapes('nines');
  const png = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'decode', 'png_l.png'));
  fs.writeFileSync(path.join(nines, 'test', '2.tar'), makeTar([
    { name: 's0000050.cls', data: Buffer.from('9'.repeat(400)) },
    { name: 's0000050.png', data: png },
  ]));
  const line = oneLineError(await zeroshot(nines));
  assert.equal(line, `clip-bench: ${nines}/test/2.tar: sample s0000050: label 99999999999999999999... (400 digits) in s0000050.cls is not a class index`);
  assert.doesNotMatch(line, /Infinity/);

  // ImageNet-like duplicates are allowed (classes are indices) but said, with their lines
  const dups = shapes('dup-names');
  fs.writeFileSync(path.join(dups, 'classnames.txt'), 'red square\ncrane\nblue triangle\ncrane\n');
  const r = await zeroshot(dups, ['--prompts', 'single']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`clip-bench: warning: ${dups.replaceAll('/', '\\/')}\\/classnames\\.txt: duplicate class name "crane" at lines 2 and 4 \\(told apart by index`));
});

test('the same package by another name hits the same cache entries: wds --dataset-root PKG and wds/NAME (the same bytes from a mirror)', async () => {
  const pkg = shapes('same-bytes');
  const server = await startHubServer({ 'datasets/clip-benchmark/wds_shapes': pkg }, undefined, { mode: 'static' });
  const cacheDir = tmpDir('same-bytes-cache');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: tmpDir('same-bytes-hub'), XDG_CACHE_HOME: tmpDir('same-bytes-xdg') };
  const imageEntries = (): string[] =>
    fs.readdirSync(cacheDir).flatMap((d) => fs.readdirSync(path.join(cacheDir, d)).filter((h) => JSON.parse(fs.readFileSync(path.join(cacheDir, d, h, 'meta.json'), 'utf8')).key.kind === 'image'));
  const run = (dataset: string[]) => runCli(['zeroshot', '--model', 'mini', ...dataset, '--prompts', 'single', '--json', '--no-progress', '--out', tmpDir('same-bytes-out'), '--cache-dir', cacheDir], env);
  try {
    const local = await run(['--dataset', 'wds', '--dataset-root', pkg]);
    assert.equal(local.status, 0, local.stderr);
    assert.equal(imageEntries().length, 1);
    const hub = await run(['--dataset', 'wds/shapes']);
    assert.equal(hub.status, 0, hub.stderr);
    // the shards came from the mirror, and their embeddings from the entry the local run wrote
    assert.ok(server.requests.some((x) => x.url.endsWith('/test/0.tar')));
    assert.equal(imageEntries().length, 1);
    assert.deepEqual(JSON.parse(hub.stdout)[0].top1, JSON.parse(local.stdout)[0].top1);
    // a byte-identical copy in another folder: the same entry again
    const again = await run(['--dataset', 'wds', '--dataset-root', shapes('same-bytes-copy')]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(imageEntries().length, 1);
  } finally {
    await server.close();
  }
});

test('openWdsSplit: the fingerprint follows the bytes and the class order, not the folder or the name', async () => {
  const a = shapes('fp-a');
  const b = shapes('fp-b');
  const open = (dir: string, name: string) => openWdsSplit(readWdsPackage(dir, name), 'test', { indexDir: tmpDir('fp-index') });
  const [sa, sb] = [await open(a, 'wds'), await open(b, 'wds/shapes')];
  assert.equal(sa.fingerprint, sb.fingerprint);
  assert.equal(sa.cacheDataset, sb.cacheDataset);
  const paper = ['red square', '', 'green circle', 'blue triangle'];
  const mapped = await openWdsSplit(readWdsPackage(b, 'x'), 'test', { indexDir: tmpDir('fp-index'), paperClasses: [paper[0]!, paper[2]!, paper[1]!, paper[3]!] });
  assert.notEqual(mapped.fingerprint, sa.fingerprint);
});

test('a truncated shard kept in the Hugging Face cache: the error says it is a cached download, whether the server\'s copy changed, and how to fetch it again', async () => {
  // the mirror serves a cut 1.tar (complete as far as HTTP can tell: a static server without ETag)
  const served = shapes('cached-cut');
  const full = fs.readFileSync(path.join(served, 'test', '1.tar'));
  fs.writeFileSync(path.join(served, 'test', '1.tar'), full.subarray(0, 3000));
  const server = await startHubServer({ 'datasets/clip-benchmark/wds_shapes': served }, undefined, { mode: 'static' });
  const hubCache = tmpDir('cached-cut-hub');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: hubCache, XDG_CACHE_HOME: tmpDir('cached-cut-xdg') };
  const run = () => runCli(['zeroshot', '--model', 'mini', '--dataset', 'wds/shapes', '--prompts', 'single', '--no-progress', '--out', tmpDir('cached-cut-out'), '--cache-dir', tmpDir('cached-cut-cache')], env);
  const link = path.join(hubCache, 'datasets--clip-benchmark--wds_shapes', 'snapshots', 'main', 'test', '1.tar');
  try {
    const first = oneLineError(await run());
    const blob = fs.realpathSync(link);
    assert.match(first, /test\/1\.tar: truncated .*\(a cached download of dataset clip-benchmark\/wds_shapes, the same as the server's copy \(3000 bytes\): the file is damaged at the source; to fetch it again, delete /);
    assert.ok(first.endsWith(`delete ${blob} and ${link})`), first);
    // the mirror is fixed: the cached copy is what fails now, and the error says the server's copy changed
    fs.writeFileSync(path.join(served, 'test', '1.tar'), full);
    const second = oneLineError(await run());
    assert.match(second, new RegExp(`the server's copy has changed since it was downloaded \\(${full.length} bytes, cached 3000\\); to fetch it again, delete `));
    // doing what it says fetches the new copy, and the run succeeds
    fs.rmSync(blob);
    fs.rmSync(link);
    const third = await run();
    assert.equal(third.status, 0, third.stderr);
    assert.deepEqual(fs.readFileSync(link), full);
  } finally {
    await server.close();
  }
});
