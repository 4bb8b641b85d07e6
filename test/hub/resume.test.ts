import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fetchHubFiles, repoCacheDir, type HubOptions } from '../../src/hub/hub.js';
import { repoRoot } from '../support/helpers.js';
import { runCli, spawnCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer, type HubServer, type HubServerOptions } from '../support/hub-server.js';

const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';
const MODEL = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const SHAPES = path.join(repoRoot, 'test', 'fixtures', 'wds', 'shapes');
const TEXT = 'onnx/text_model.onnx';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** the partial downloads in a blobs folder: name -> size */
function partials(blobs: string): Record<string, number> {
  if (!fs.existsSync(blobs)) return {};
  return Object.fromEntries(fs.readdirSync(blobs).filter((f) => f.endsWith('.incomplete')).map((f) => [f, fs.statSync(path.join(blobs, f)).size]));
}

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}


/** requests for `file`'s bytes (the storage redirect's target in hub mode): their Range start, status */
const bodyRequests = (server: HubServer, from = 0) => server.requests.slice(from).filter((r) => r.status === 200 || r.status === 206 || r.status === 416);
const rangeStart = (r: { range?: string }): number | null => (r.range ? Number(/^bytes=(\d+)-$/.exec(r.range)![1]) : null);

/** The whole CLI: a zeroshot killed by SIGKILL while the text model downloads, then run again. */

/** The zero-shot rows of a `--json` run, as [prompts, images, top1, top5]: what two runs on the same data must share. */
const zeroshotMetrics = (out: string) =>
  (JSON.parse(out) as { prompts: string; n_images: number; top1: number; top5: number }[]).map((r) => [r.prompts, r.n_images, r.top1, r.top5]);

test('a clip-bench killed mid-download (SIGKILL) resumes it with Range on the next run, and gives the uninterrupted result', async () => {
  const server = await startHubServer({ 'acme/tiny-ids': MODEL }, COMMIT, { throttle: { bytes: 16_384, ms: 10, file: TEXT } });
  const hubCache = tmpDir('resume-kill');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: hubCache, XDG_CACHE_HOME: tmpDir('resume-xdg') };
  const args = (model: string) => ['zeroshot', '--model', model, '--dataset', 'wds', '--dataset-root', SHAPES, '--json', '--no-progress', '--out', tmpDir('resume-out'), '--cache-dir', tmpDir('resume-cache')];
  const blobs = path.join(repoCacheDir(hubCache, 'acme/tiny-ids'), 'blobs');
  try {
    const first = spawnCli(args('acme/tiny-ids'), env);
    await until('a partial download', () => Object.values(partials(blobs)).some((n) => n > 200_000));
    first.child.kill('SIGKILL');
    assert.equal((await first.done).status, null);
    const kept = partials(blobs);
    const keptSize = Object.values(kept)[0];
    assert.ok(keptSize > 200_000 && keptSize < fs.statSync(path.join(MODEL, TEXT)).size, JSON.stringify(kept));

    const from = server.requests.length;
    const rerun = await runCli(args('acme/tiny-ids'), env);
    assert.equal(rerun.status, 0, rerun.stderr);
    // continued from where the killed run stopped (at least what it had written), not from 0
    const resumed = bodyRequests(server, from).filter((r) => r.range);
    assert.equal(resumed.length, 1, JSON.stringify(server.requests.slice(from)));
    assert.equal(resumed[0].status, 206);
    assert.ok(rangeStart(resumed[0])! >= keptSize, `${resumed[0].range} vs ${keptSize}`);
    assert.match(rerun.stderr, /downloading acme\/tiny-ids onnx\/text_model\.onnx: resuming at [\d.]+ of 1\.64 MB/);
    assert.deepEqual(partials(blobs), {});
    assert.ok(!fs.readdirSync(blobs).some((f) => f.includes('incomplete')), fs.readdirSync(blobs).join(' '));
    // the blob is the file, and the result is the one of the model read from its folder
    const snap = path.join(repoCacheDir(hubCache, 'acme/tiny-ids'), 'snapshots', COMMIT);
    const bytes = fs.readFileSync(path.join(MODEL, TEXT));
    assert.equal(path.basename(fs.readlinkSync(path.join(snap, TEXT))), sha256(bytes));
    assert.ok(fs.readFileSync(path.join(snap, TEXT)).equals(bytes));
    const local = await runCli(args(MODEL), env);
    assert.equal(local.status, 0, local.stderr);
    assert.deepEqual(zeroshotMetrics(rerun.stdout), zeroshotMetrics(local.stdout));
  } finally {
    await server.close();
  }
});

test('a dataset package: a clip-bench killed mid-shard resumes the shard with Range, with the result of the local package', async () => {
  const shard = 'test/0.tar';
  const server = await startHubServer({ 'datasets/acme/shapes': SHAPES }, COMMIT, { throttle: { bytes: 1024, ms: 20, file: shard } });
  const hubCache = tmpDir('resume-wds');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: hubCache, XDG_CACHE_HOME: tmpDir('resume-wds-xdg') };
  const args = (dataset: string[]) => ['zeroshot', '--model', 'mini', ...dataset, '--json', '--no-progress', '--out', tmpDir('resume-wds-out'), '--cache-dir', tmpDir('resume-wds-cache')];
  const blobs = path.join(hubCache, 'datasets--acme--shapes', 'blobs');
  try {
    // the throttled shard's partial is named by the sha256 the hub's redirect announced (other shards may be in flight too)
    const name = `${sha256(fs.readFileSync(path.join(SHAPES, shard)))}.incomplete`;
    const first = spawnCli(args(['--dataset', 'hf:acme/shapes']), env);
    await until('a partial shard', () => partials(blobs)[name] >= 4096);
    first.child.kill('SIGKILL');
    await first.done;
    const kept = partials(blobs)[name];
    assert.ok(kept >= 4096, JSON.stringify(partials(blobs)));
    const from = server.bodies.length;
    const rerun = await runCli(args(['--dataset', 'hf:acme/shapes']), env);
    assert.equal(rerun.status, 0, rerun.stderr);
    const resumed = server.bodies.slice(from).filter((r) => r.file === shard);
    assert.deepEqual(resumed.map((r) => [r.status, r.start >= kept, r.complete]), [[206, true, true]]);
    assert.match(rerun.stderr, /downloading acme\/shapes test\/0\.tar: resuming at [\d.]+ of 0\.03 MB/);
    const snap = path.join(hubCache, 'datasets--acme--shapes', 'snapshots', COMMIT);
    assert.equal(path.basename(fs.readlinkSync(path.join(snap, shard))), sha256(fs.readFileSync(path.join(SHAPES, shard))));
    assert.deepEqual(partials(blobs), {});
    const local = await runCli(args(['--dataset', 'wds', '--dataset-root', SHAPES]), env);
    assert.equal(local.status, 0, local.stderr);
    assert.deepEqual(zeroshotMetrics(rerun.stdout), zeroshotMetrics(local.stdout));
  } finally {
    await server.close();
  }
});

test('a connection cut mid-body is resumed with Range within the same run', async () => {
  const server = await startHubServer({ 'acme/tiny-ids': MODEL }, COMMIT, { cut: { afterBytes: 200_000, responses: 1 } });
  const cacheDir = tmpDir('resume-cut');
  const lines: string[] = [];
  const hub: HubOptions = { endpoint: server.endpoint, cacheDir, offline: false, token: 'secret', log: (l) => lines.push(l) };
  try {
    const snap = await fetchHubFiles({ repoId: 'acme/tiny-ids', revision: 'main' }, [[TEXT]], hub);
    assert.ok(fs.readFileSync(path.join(snap, TEXT)).equals(fs.readFileSync(path.join(MODEL, TEXT))));
    // HF_TOKEN to the hub only, also on the retry; the resumed request goes to storage without it
    assert.ok(server.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.auth === 'Bearer secret'));
    assert.ok(server.requests.filter((r) => r.url.startsWith('/cdn/')).every((r) => r.auth === undefined && r.host.startsWith('localhost')));
    assert.equal(server.requests.filter((r) => r.url.includes('/resolve/')).length, 2);
    const got = bodyRequests(server);
    assert.deepEqual(got.map((r) => [r.status, rangeStart(r) !== null]), [[200, false], [206, true]]);
    assert.ok(rangeStart(got[1])! > 0 && rangeStart(got[1])! <= 200_000, got[1].range);
    assert.match(lines.join('\n'), /^download of onnx\/text_model\.onnx interrupted at [\d.]+ of 1\.64 MB \(.+\); retrying \(attempt 2 of 4\)$/);
    assert.deepEqual(partials(path.join(repoCacheDir(cacheDir, 'acme/tiny-ids'), 'blobs')), {});
  } finally {
    await server.close();
  }
});

test('a connection that keeps dropping: a one-line error, exit 2, the partial kept; the next run resumes it', async () => {
  const server = await startHubServer({ 'acme/tiny-ids': MODEL }, COMMIT, { cut: { afterBytes: 150_000 } });
  const hubCache = tmpDir('resume-drop');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: hubCache };
  const blobs = path.join(repoCacheDir(hubCache, 'acme/tiny-ids'), 'blobs');
  try {
    const failed = await runCli(['tokenize', '--model', 'acme/tiny-ids', 'a dog'], env);
    assert.equal(failed.status, 2, failed.stderr);
    const errors = failed.stderr.split('\n').filter((l) => l.startsWith('clip-bench:'));
    assert.equal(errors.length, 1, failed.stderr);
    assert.match(errors[0], /^clip-bench: download of onnx\/text_model\.onnx interrupted at [\d.]+ of 1\.64 MB \(.+\) after 4 attempts; run again to resume from there \(kept in .+\.incomplete\)$/);
    assert.doesNotMatch(failed.stderr, /^\s+at /m);
    assert.equal(failed.stderr.match(/retrying \(attempt \d of 4\)/g)?.length, 3);
    // each attempt went on from the last one's bytes
    const tries = server.bodies.filter((r) => r.file === TEXT);
    assert.deepEqual(tries.map((r) => r.status), [200, 206, 206, 206]);
    const starts = tries.map((r) => r.start);
    assert.ok(starts.every((s, i) => i === 0 ? s === 0 : s > starts[i - 1]), JSON.stringify(starts));
    const kept = Object.values(partials(blobs));
    assert.equal(kept.length, 1);
    assert.ok(kept[0] > starts[3], `${kept[0]}`);

    server.options.cut = undefined;
    const from = server.bodies.length;
    const ok = await runCli(['tokenize', '--model', 'acme/tiny-ids', 'a dog'], env);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout)[0].slice(0, 4), [49406, 320, 1929, 49407]);
    const resumed = server.bodies.slice(from).filter((r) => r.file === TEXT);
    assert.deepEqual(resumed.map((r) => [r.status, r.start, r.complete]), [[206, kept[0], true]]);
    assert.deepEqual(partials(blobs), {});
  } finally {
    await server.close();
  }
});

/** A repository with one 1 MB file of random bytes; `change()` rewrites it (new content, new mtime). */
function bigRepo(tag: string): { dir: string; file: string; bytes: () => Buffer; change: () => void } {
  const dir = tmpDir(tag);
  const file = 'onnx/big.onnx';
  fs.mkdirSync(path.join(dir, 'onnx'));
  const write = (ahead: number) => {
    fs.writeFileSync(path.join(dir, file), randomBytes(1_000_000));
    const t = new Date(Math.floor(Date.now() / 1000) * 1000 + ahead);
    fs.utimesSync(path.join(dir, file), t, t);
  };
  write(0);
  return { dir, file, bytes: () => fs.readFileSync(path.join(dir, file)), change: () => write(10_000) };
}

/** Fetch once through a connection cut after 300 KB (one attempt: the partial stays), then with the cut gone. */
async function interruptedThenWhole(server: HubServer, repo: ReturnType<typeof bigRepo>, cacheDir: string, between: () => void): Promise<{ snap: string; second: HubServer['requests'] }> {
  const hub: HubOptions = { endpoint: server.endpoint, cacheDir, offline: false, attempts: 1 };
  server.options.cut = { afterBytes: 300_000 };
  await assert.rejects(fetchHubFiles({ repoId: 'acme/big', revision: 'main' }, [[repo.file]], hub), /download of onnx\/big\.onnx interrupted at [\d.]+ of 1\.00 MB \(.+\); run again to resume from there/);
  const blobs = path.join(repoCacheDir(cacheDir, 'acme/big'), 'blobs');
  assert.ok(Object.values(partials(blobs))[0] > 0, JSON.stringify(partials(blobs)));
  between();
  server.options.cut = undefined;
  const from = server.requests.length;
  const snap = await fetchHubFiles({ repoId: 'acme/big', revision: 'main' }, [[repo.file]], hub);
  assert.ok(fs.readFileSync(path.join(snap, repo.file)).equals(repo.bytes()), 'the new content, not a splice');
  // nothing left behind: no partial of either version, no lock, no .json
  assert.deepEqual(fs.readdirSync(blobs).filter((f) => f.includes('incomplete')), []);
  return { snap, second: bodyRequests(server, from) };
}

for (const [name, opts] of [
  ['hub: a new X-Linked-Etag', { mode: 'hub' }],
  ['strong ETag: If-Range', { mode: 'git-etag' }],
  ['static with Range: If-Range with Last-Modified', { mode: 'static', range: true }],
  ['a proxy that ignores If-Range: the 206 of another version is refused', { mode: 'git-etag', ignoreIfRange: true }],
] as [string, HubServerOptions][]) {
  test(`a file changed on the server between attempts is downloaded whole, never spliced (${name})`, async () => {
    const repo = bigRepo('resume-changed');
    const server = await startHubServer({ 'acme/big': repo.dir }, COMMIT, opts);
    try {
      const { second } = await interruptedThenWhole(server, repo, tmpDir('resume-changed-cache'), repo.change);
      // the last answer is the whole file
      assert.equal(second[second.length - 1].status, 200);
      if (opts.mode === 'hub') {
        assert.equal(second.length, 1); // another blob name: the old partial is not even asked about
      } else {
        // asked to resume, with the old validator, and answered with the whole new file
        assert.ok(second[0].range && second[0].ifRange, JSON.stringify(second[0]));
        assert.equal(second.length, opts.ignoreIfRange ? 2 : 1, JSON.stringify(second));
        // a 206 of the wrong version is dropped and the file asked for again, from the start
        if (opts.ignoreIfRange) assert.deepEqual(second.map((r) => [r.status, rangeStart(r) !== null]), [[206, true], [200, false]]);
      }
    } finally {
      await server.close();
    }
  });
}

test('the same file unchanged with If-Range: resumed (git ETag, Last-Modified)', async () => {
  for (const opts of [{ mode: 'git-etag' }, { mode: 'static', range: true }] as HubServerOptions[]) {
    const repo = bigRepo('resume-same');
    const server = await startHubServer({ 'acme/big': repo.dir }, COMMIT, opts);
    try {
      const { snap, second } = await interruptedThenWhole(server, repo, tmpDir('resume-same-cache'), () => {});
      assert.deepEqual(second.map((r) => [r.status, rangeStart(r)! > 0]), [[206, true]]);
      assert.equal(second[0].ifRange, opts.mode === 'git-etag' ? `"${createHash('sha1').update(`blob 1000000\0`).update(repo.bytes()).digest('hex')}"` : fs.statSync(path.join(repo.dir, repo.file)).mtime.toUTCString());
      const want = opts.mode === 'git-etag' ? createHash('sha1').update(`blob 1000000\0`).update(repo.bytes()).digest('hex') : sha256(repo.bytes());
      assert.equal(path.basename(fs.readlinkSync(path.join(snap, repo.file))), want);
    } finally {
      await server.close();
    }
  }
});

test('a resumed download whose bytes do not match the hub\'s sha256 is deleted, with a one-line error', async () => {
  const repo = bigRepo('resume-corrupt');
  const server = await startHubServer({ 'acme/big': repo.dir }, COMMIT);
  const cacheDir = tmpDir('resume-corrupt-cache');
  const hub: HubOptions = { endpoint: server.endpoint, cacheDir, offline: false, attempts: 1 };
  const blobs = path.join(repoCacheDir(cacheDir, 'acme/big'), 'blobs');
  try {
    server.options.cut = { afterBytes: 300_000 };
    await assert.rejects(fetchHubFiles({ repoId: 'acme/big', revision: 'main' }, [[repo.file]], hub), /interrupted/);
    // the kept prefix damaged on disk: the rest is appended, and the whole no longer has the promised hash
    const [name] = Object.keys(partials(blobs));
    const fd = fs.openSync(path.join(blobs, name), 'r+');
    fs.writeSync(fd, Buffer.from([0xff, 0x00, 0xff]), 0, 3, 1000);
    fs.closeSync(fd);
    server.options.cut = undefined;
    await assert.rejects(
      fetchHubFiles({ repoId: 'acme/big', revision: 'main' }, [[repo.file]], hub),
      (e: Error) => /^download of onnx\/big\.onnx is corrupt: sha256 [0-9a-f]{64}, expected [0-9a-f]{64} \(resumed at \d+ bytes; the partial download is deleted\)$/.test(e.message),
    );
    assert.deepEqual(fs.readdirSync(blobs), []);
    assert.ok(!fs.existsSync(path.join(repoCacheDir(cacheDir, 'acme/big'), 'snapshots', COMMIT, repo.file)));
    // and the next run downloads it whole
    const snap = await fetchHubFiles({ repoId: 'acme/big', revision: 'main' }, [[repo.file]], hub);
    assert.ok(fs.readFileSync(path.join(snap, repo.file)).equals(repo.bytes()));
  } finally {
    await server.close();
  }
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('a server without Range support (the fixture\'s static mode, then python3 -m http.server): the whole file again, right content', async () => {
  // the fixture: Range asked for (with Last-Modified as If-Range), ignored, the whole file in a 200
  const repo = bigRepo('resume-norange');
  const server = await startHubServer({ 'acme/big': repo.dir }, COMMIT, { mode: 'static' });
  try {
    const { second } = await interruptedThenWhole(server, repo, tmpDir('resume-norange-cache'), () => {});
    assert.equal(second.length, 1);
    assert.ok(rangeStart(second[0])! > 0 && second[0].ifRange === fs.statSync(path.join(repo.dir, repo.file)).mtime.toUTCString(), JSON.stringify(second[0]));
    assert.equal(second[0].status, 200);
  } finally {
    await server.close();
  }

  // the real python http.server on the port of a mirror whose download was cut: it sends no ETag and ignores Range
  const root = tmpDir('resume-python');
  const tree = path.join(root, 'acme', 'big', 'resolve', 'main');
  fs.mkdirSync(tree, { recursive: true });
  fs.cpSync(repo.dir, tree, { recursive: true, preserveTimestamps: true });
  const cacheDir = tmpDir('resume-python-cache');
  const blobs = path.join(repoCacheDir(cacheDir, 'acme/big'), 'blobs');
  // the cut mirror is at the python server's address: the partial is keyed by the resolve URL
  const port = await freePort();
  let python: ChildProcess | null = null;
  const mirror = http(port);
  try {
    const cut = await startOn(port, tree);
    const hub: HubOptions = { endpoint: mirror, cacheDir, offline: false, attempts: 1 };
    await assert.rejects(fetchHubFiles({ repoId: 'acme/big', revision: 'main' }, [[repo.file]], hub), /interrupted/);
    await cut.close();
    const kept = partials(blobs);
    assert.ok(Object.values(kept)[0] > 0, JSON.stringify(kept));
    python = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', root], { stdio: 'ignore' });
    await untilServing(mirror);
    const snap = await fetchHubFiles({ repoId: 'acme/big', revision: 'main' }, [[repo.file]], hub);
    assert.ok(fs.readFileSync(path.join(snap, repo.file)).equals(repo.bytes()));
    assert.equal(path.basename(fs.readlinkSync(path.join(snap, repo.file))), sha256(repo.bytes()));
    assert.deepEqual(fs.readdirSync(blobs).filter((f) => f.includes('incomplete')), []);
  } finally {
    python?.kill();
  }
});

const http = (port: number): string => `http://127.0.0.1:${port}`;

/** the fixture's static mode with Range, cutting every body after 300 KB, listening on `port` */
async function startOn(port: number, tree: string): Promise<{ close(): Promise<void> }> {
  for (;;) {
    try {
      const s = await startHubServer({ 'acme/big': tree }, COMMIT, { mode: 'static', range: true, cut: { afterBytes: 300_000 }, port });
      return s;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      await sleep(50);
    }
  }
}

async function untilServing(url: string): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      const r = await fetch(url + '/');
      await r.body?.cancel();
      return;
    } catch {
      if (Date.now() > end) throw new Error(`python3 -m http.server did not start at ${url}`);
      await sleep(50);
    }
  }
}

for (const mode of ['hub', 'static'] as const) {
  test(`two processes fetching the same model into one cache (${mode}): both succeed, one download`, async () => {
    const server = await startHubServer({ 'acme/tiny-ids': MODEL }, COMMIT, { mode, range: true, throttle: { bytes: 16_384, ms: 15, file: TEXT } });
    const hubCache = tmpDir('resume-two');
    const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: hubCache };
    const blobs = path.join(repoCacheDir(hubCache, 'acme/tiny-ids'), 'blobs');
    try {
      const a = spawnCli(['tokenize', '--model', 'acme/tiny-ids', 'a dog'], env);
      // the second starts while the first is in the middle of the text model
      await until('the first one\'s partial download', () => Object.values(partials(blobs)).some((n) => n > 0));
      const b = spawnCli(['tokenize', '--model', 'acme/tiny-ids', 'a dog'], env);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      assert.equal(ra.status, 0, ra.stderr);
      assert.equal(rb.status, 0, rb.stderr);
      assert.equal(ra.stdout, rb.stdout);
      assert.match(rb.stderr, new RegExp(`waiting for pid ${a.child.pid}, which is downloading acme/tiny-ids onnx/text_model\\.onnx`));
      // text_model.onnx sent once, whole
      const textBodies = server.bodies.filter((r) => r.file === TEXT && r.complete);
      assert.deepEqual(textBodies.map((r) => [r.status, r.sent]), [[200, fs.statSync(path.join(MODEL, TEXT)).size]], JSON.stringify(server.bodies));
      const snap = path.join(repoCacheDir(hubCache, 'acme/tiny-ids'), 'snapshots', mode === 'hub' ? COMMIT : 'main');
      assert.ok(fs.readFileSync(path.join(snap, TEXT)).equals(fs.readFileSync(path.join(MODEL, TEXT))));
      assert.deepEqual(fs.readdirSync(blobs).filter((f) => f.includes('incomplete')), []);
    } finally {
      await server.close();
    }
  });
}
