import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { downloadFile } from '../../src/data/download.js';
import { fetchWdsPackage } from '../../src/data/hub-package.js';
import { hubDownloadTimeoutMs } from '../../src/defaults.js';
import { TransferFailed, UserError } from '../../src/errors.js';
import type { HubOptions } from '../../src/hub/hub.js';
import { runCli, spawnCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer, type HubServerMode } from '../support/hub-server.js';
import { labelsOf, writeWdsPackage } from '../support/wds-package.js';

/** A two-class package whose one test shard is a few kB. */
async function smallPackage(tag: string): Promise<string> {
  return writeWdsPackage(path.join(tmpDir(tag), 'pkg'), { classes: ['cat', 'dog'], splits: { test: labelsOf(2, 4) } });
}

test('HF_HUB_DOWNLOAD_TIMEOUT is read as huggingface_hub reads it: whole seconds, unset, empty or 0 = 10', () => {
  assert.equal(hubDownloadTimeoutMs({}), 10_000);
  assert.equal(hubDownloadTimeoutMs({ HF_HUB_DOWNLOAD_TIMEOUT: '' }), 10_000);
  assert.equal(hubDownloadTimeoutMs({ HF_HUB_DOWNLOAD_TIMEOUT: '0' }), 10_000);
  assert.equal(hubDownloadTimeoutMs({ HF_HUB_DOWNLOAD_TIMEOUT: ' 3 ' }), 3_000);
  assert.throws(() => hubDownloadTimeoutMs({ HF_HUB_DOWNLOAD_TIMEOUT: 'abc' }), (e: Error) => e instanceof UserError && /^HF_HUB_DOWNLOAD_TIMEOUT: expected whole seconds, found "abc"$/.test(e.message));
});

for (const mode of ['hub', 'static'] as HubServerMode[]) {
  test(`a stalled mirror (${mode}: headers sent, the body stops) fails each attempt after the inactivity timeout, saying what it waited for; a later run resumes`, async () => {
    const pkg = await smallPackage('hub-stall');
    const tarSize = fs.statSync(path.join(pkg, 'test', '0.tar')).size;
    const server = await startHubServer({ 'datasets/acme/pets': pkg }, undefined, { mode, stall: { afterBytes: 1024 } });
    const cacheDir = tmpDir('hub-stall-cache');
    const log: string[] = [];
    const hub: HubOptions = { endpoint: server.endpoint, cacheDir, offline: false, timeoutMs: 1000, attempts: 2, log: (l) => log.push(l) };
    try {
      const started = Date.now();
      await assert.rejects(fetchWdsPackage({ repoId: 'acme/pets', revision: 'main' }, ['test'], hub), (e: Error) => {
        assert.ok(e instanceof TransferFailed, String(e));
        // classnames.txt (a few bytes) is not longer than the stall point: the shard is the file that stalls
        assert.match(e.message, /^download of test\/0\.tar interrupted at 0\.00 of 0\.0\d MB \(no bytes for 1 s \(HF_HUB_DOWNLOAD_TIMEOUT\)\) after 2 attempts; run again to resume from there \(kept in .*\.incomplete\)$/);
        return true;
      });
      // two attempts of 1 s each and one pause between them: nowhere near undici's 300 s
      assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
      assert.equal(log.length, 1, log.join('\n'));
      assert.match(log[0]!, /no bytes for 1 s .*; retrying \(attempt 2 of 2\)$/);
      // the mirror recovers: the next run completes the file
      server.options.stall = undefined;
      const snap = await fetchWdsPackage({ repoId: 'acme/pets', revision: 'main' }, ['test'], hub);
      assert.deepEqual(fs.readFileSync(path.join(snap, 'test', '0.tar')), fs.readFileSync(path.join(pkg, 'test', '0.tar')));
      assert.ok(tarSize > 1024);
      if (mode === 'hub') {
        // each stalled attempt kept its 1024 bytes and the next resumed after them (Range)
        assert.deepEqual(server.bodies.filter((b) => b.file === 'test/0.tar').map((b) => b.start), [0, 1024, 2048]);
      }
    } finally {
      await server.close();
    }
  });
}

test('a mirror that accepts and never answers fails after the inactivity timeout, naming the server and the file awaited', async () => {
  const pkg = await smallPackage('hub-silent');
  const server = await startHubServer({ 'datasets/acme/pets': pkg }, undefined, { mode: 'static', silent: true });
  const hub: HubOptions = { endpoint: server.endpoint, cacheDir: tmpDir('hub-silent-cache'), offline: false, timeoutMs: 1000, attempts: 2 };
  try {
    const started = Date.now();
    await assert.rejects(fetchWdsPackage({ repoId: 'acme/pets', revision: 'main' }, ['test'], hub), (e: Error) => {
      assert.ok(e instanceof TransferFailed, String(e));
      assert.equal(e.message, `no answer from ${server.endpoint} for classnames.txt in 1 s (HF_HUB_DOWNLOAD_TIMEOUT) after 2 attempts; run again`);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('the CLI reads HF_HUB_DOWNLOAD_TIMEOUT: a stalled mirror is a one-line error in seconds, not a 20-minute hang', async () => {
  const pkg = await smallPackage('hub-stall-cli');
  const server = await startHubServer({ 'datasets/acme/pets': pkg }, undefined, { mode: 'static', stall: { afterBytes: 1024 } });
  const cache = tmpDir('hub-stall-cli-cache');
  const env = { XDG_CACHE_HOME: cache, HF_HUB_CACHE: path.join(cache, 'hub'), HF_ENDPOINT: server.endpoint, HF_HUB_DOWNLOAD_TIMEOUT: '1' };
  try {
    const started = Date.now();
    const r = await runCli(['zeroshot', '--model', 'mini', '--dataset', 'hf:acme/pets', '--out', tmpDir('hub-stall-cli-out')], env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /download of test\/0\.tar interrupted at 0\.00 of 0\.0\d MB \(no bytes for 1 s \(HF_HUB_DOWNLOAD_TIMEOUT\)\); retrying \(attempt 2 of 4\)/);
    assert.match(r.stderr, /\(no bytes for 1 s \(HF_HUB_DOWNLOAD_TIMEOUT\)\) after 4 attempts; run again to resume from there/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(Date.now() - started < 60_000, `${Date.now() - started} ms`);
  } finally {
    await server.close();
  }
});

/** The suite's flags here: the built-in model, zero-shot only. */
const SUITE = ['suite', '--model', 'mini', '--tasks', 'zeroshot', '--no-report'];

test('suite: a transfer that dies part-way (the mirror goes down mid-file) is a failure (exit 1) saying so; a dataset the mirror does not have is not available', async () => {
  const pkg = await smallPackage('suite-drop');
  // pcam's package comes from the mirror, slowly enough to take the mirror down mid-file; sun397 is not on it
  const server = await startHubServer({ 'datasets/clip-benchmark/wds_vtab-pcam': pkg }, undefined, { mode: 'static', throttle: { bytes: 256, ms: 30, file: 'test/0.tar' } });
  const cache = tmpDir('suite-drop-cache');
  const env = { XDG_CACHE_HOME: cache, HF_HUB_CACHE: path.join(cache, 'hub'), HF_ENDPOINT: server.endpoint, HF_HUB_DOWNLOAD_TIMEOUT: '2' };
  const run = spawnCli([...SUITE, '--dataset', 'sun397,pcam', '--out', tmpDir('suite-drop-out')], env);
  let closed = false;
  const watch = setInterval(() => {
    if (!closed && server.bodies.some((b) => b.file === 'test/0.tar' && b.sent > 1000)) {
      closed = true;
      void server.close();
    }
  }, 20);
  try {
    const r = await run.done;
    assert.ok(closed, 'the mirror was taken down during the shard');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /suite: 2 steps: 0 computed, 0 reused, 1 skipped \(data not available\), 0 not applicable, 1 failed/);
    assert.match(r.stderr, /\n {2}failed: (mini x pcam x zeroshot|pcam \(1 step\)): pcam: (download of test\/0\.tar interrupted at .*|cannot reach http:\/\/127\.0\.0\.1:\d+ for dataset clip-benchmark\/wds_vtab-pcam: .*)/);
    assert.match(r.stderr, /\n {2}not available: sun397 \(1 step\): sun397: .*has no /);
  } finally {
    clearInterval(watch);
    if (!closed) await server.close();
  }
});

test('a dataset download (a publisher or CLIP_BENCH_DATASET_MIRROR) that stalls fails after the inactivity timeout, keeping its part to resume', async () => {
  const pkg = await smallPackage('download-stall');
  const server = await startHubServer({ 'acme/files': pkg }, undefined, { mode: 'static', stall: { afterBytes: 1024 } });
  const dest = path.join(tmpDir('download-stall-dest'), '0.tar');
  const url = `${server.endpoint}/acme/files/resolve/main/test/0.tar`;
  try {
    const started = Date.now();
    await assert.rejects(downloadFile(url, dest, { timeoutMs: 1000 }), (e: Error) => {
      assert.ok(e instanceof TransferFailed, String(e));
      assert.equal(e.message, `download of ${url} interrupted after 1024 bytes (no bytes for 1 s); run again to resume`);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
    assert.equal(fs.statSync(`${dest}.part`).size, 1024);
    server.options.stall = undefined;
    server.options.silent = true;
    await assert.rejects(downloadFile(url, dest, { timeoutMs: 1000 }), (e: Error) => e instanceof TransferFailed && e.message === `download of ${url} failed: no answer from ${server.endpoint} in 1 s`);
    server.options.silent = false;
    await downloadFile(url, dest, { timeoutMs: 1000 });
    assert.deepEqual(fs.readFileSync(dest), fs.readFileSync(path.join(pkg, 'test', '0.tar')));
  } finally {
    await server.close();
  }
});
