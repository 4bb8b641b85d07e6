// Errors about data a user must provide or fetch say the fix: the flag, the layout, the mirror, and HF_HUB_OFFLINE
// only where the Hugging Face cache has a copy to use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-advice-'));

test('a dataset the user provides and has not: --dataset-root and the layout', async () => {
  const xdg = tmp();
  // (ImageNet, the example here before, is now fetched from CLIP_benchmark's package by default)
  const r = await runCli(['zeroshot', '--dataset', 'kinetics700', '--limit', '5', '--out', tmp()], { XDG_CACHE_HOME: xdg });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /kinetics700: split 'test' not found: .* does not exist; this dataset is not downloadable: pass --dataset-root DIR holding a package, ROOT\/<split>\.csv or ROOT\/<split>\/<class>\/<image>/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('a download that is off names the mirror variable and --dataset-root', async () => {
  const xdg = tmp();
  const r = await runCli(['zeroshot', '--dataset', 'cifar10', '--no-download', '--limit', '5', '--out', tmp()], { XDG_CACHE_HOME: xdg });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /downloads are off \(--no-download\); .*CLIP_BENCH_DATASET_MIRROR\/cifar10\/.*--dataset-root DIR holding a copy/);
});

test('an unreachable hub: HF_HUB_OFFLINE is suggested only when the cache holds a copy', async () => {
  const xdg = tmp();
  const hub = path.join(xdg, 'hub');
  const env = { XDG_CACHE_HOME: xdg, HF_HUB_CACHE: hub, HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_DOWNLOAD_TIMEOUT: '2' };
  const empty = await runCli(['zeroshot', '--dataset', 'food101', '--limit', '5', '--out', tmp()], env);
  assert.notEqual(empty.status, 0);
  assert.match(empty.stderr, /cannot reach http:\/\/127\.0\.0\.1:9 .*the Hugging Face cache \(.*\) has no copy: run once where the network reaches the hub, or set HF_ENDPOINT to a mirror/);
  assert.doesNotMatch(empty.stderr, /HF_HUB_OFFLINE/);
  // a snapshot of the package in the cache: now the cache is worth using
  fs.mkdirSync(path.join(hub, 'datasets--clip-benchmark--wds_food101', 'snapshots', 'abc'), { recursive: true });
  const cached = await runCli(['zeroshot', '--dataset', 'food101', '--limit', '5', '--out', tmp()], env);
  assert.notEqual(cached.status, 0);
  assert.match(cached.stderr, /set HF_HUB_OFFLINE=1 to use the copy in the Hugging Face cache/);
});

test('zeroshot over several datasets: one that cannot be had does not stop the others; their rows are written, then the command names it and exits 1', async () => {
  const { startHubServer } = await import('../support/hub-server.js');
  const server = await startHubServer({});
  const xdg = tmp();
  const out = tmp();
  try {
    // the mirror has no cifar10 (HTTP 404): not available
    const r = await runCli(['zeroshot', '--model', 'mini', '--dataset', 'cifar10,fashion-mnist', '--limit', '20', '--prompts', 'single', '--out', out], { XDG_CACHE_HOME: xdg, CLIP_BENCH_DATASET_MIRROR: `${server.endpoint}/mirror` });
    assert.equal(r.status, 1, r.stderr);
    const rows = JSON.parse(fs.readFileSync(path.join(out, 'zeroshot.json'), 'utf8')).rows as { dataset: string; n_images: number }[];
    assert.deepEqual(rows.map((x) => [x.dataset, x.n_images]), [['fashion-mnist', 20]]);
    assert.match(r.stderr, /\nclip-bench: cifar10 not evaluated: download of .*\/mirror\/cifar10\/cifar-10-binary\.tar\.gz failed: HTTP 404/);
    assert.match(r.stderr, /\nclip-bench: 1 of 2 datasets not evaluated \(cifar10\); the others' results are written\n/);
    // one dataset alone: its error, exit 2, as before
    const one = await runCli(['zeroshot', '--model', 'mini', '--dataset', 'cifar10', '--limit', '20', '--out', tmp()], { XDG_CACHE_HOME: xdg, CLIP_BENCH_DATASET_MIRROR: `${server.endpoint}/mirror` });
    assert.equal(one.status, 2, one.stderr);
    assert.equal(one.stderr.trim().split('\n').filter((l) => l.startsWith('clip-bench:')).length, 1, one.stderr);
  } finally {
    await server.close();
  }
});
