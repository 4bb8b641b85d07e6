import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { locateSplit } from '../../src/data/ensure.js';
import { getDataset, listDatasets } from '../../src/data/registry.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer } from '../support/hub-server.js';
import { writeWdsPackage } from '../support/wds-package.js';

test('every packaged paper dataset resolves to its clip-benchmark package on the hub (a local mirror)', async () => {
  // the WebDataset packages (birdsnap and ucf101 are parquet datasets: data-parquet.test.ts)
  const hubbed = listDatasets().filter((d) => d.paper && d.source.kind === 'hub' && (d.source.format ?? 'wds') === 'wds');
  assert.equal(hubbed.length, 19, 'the 18 packaged paper datasets and ImageNet (wds_imagenet1k)');
  const pkg = await writeWdsPackage(path.join(tmpDir('hub-pkgs'), 'any'), { classes: ['a', 'b'], splits: { test: [0, 1] } });
  const repos = Object.fromEntries(hubbed.map((d) => [`datasets/${(d.source as { repoId: string }).repoId}`, pkg]));
  const server = await startHubServer(repos);
  const saved = { ...process.env };
  const cache = tmpDir('hub-cache');
  Object.assign(process.env, { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: path.join(cache, 'hub'), XDG_CACHE_HOME: cache });
  try {
    for (const d of hubbed) {
      const root = await locateSplit(d, undefined, 'test', { download: true });
      const repoId = (d.source as { repoId: string }).repoId;
      assert.ok(root.includes(`datasets--${repoId.replace('/', '--')}`), `${d.name}: ${root}`);
      assert.ok(fs.existsSync(path.join(root, 'test', '0.tar')), d.name);
      assert.ok(server.requests.some((r) => r.url === `/datasets/${repoId}/resolve/main/test/nshards.txt`), d.name);
    }
  } finally {
    for (const k of ['HF_ENDPOINT', 'HF_HUB_CACHE', 'XDG_CACHE_HOME']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await server.close();
  }
});

test('--dataset food101: the hub package fetched from a mirror without ETag, the paper\'s 101 names mapped onto it, then offline from the cache', async () => {
  const paper = getDataset('food101').classes;
  assert.equal(paper.length, 101);
  // the package lists the classes in another order (reversed): labels are mapped by name
  const reversed = [...paper].reverse();
  const pkg = await writeWdsPackage(path.join(tmpDir('hub-pkgs'), 'food'), { classes: reversed, splits: { test: reversed.map((_, i) => i) }, shardSize: 40 });
  const server = await startHubServer({ 'datasets/clip-benchmark/wds_food101': pkg }, undefined, { mode: 'static' });
  const cache = tmpDir('hub-cache');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: path.join(cache, 'hub'), XDG_CACHE_HOME: cache };
  const args = ['zeroshot', '--model', 'mini', '--dataset', 'food101', '--prompts', 'single', '--json', '--out', tmpDir('out')];
  try {
    const r = await runCli(args, env);
    assert.equal(r.status, 0, r.stderr);
    const [row] = JSON.parse(r.stdout) as { dataset: string; n_images: number }[];
    assert.equal(row!.dataset, 'food101');
    assert.equal(row!.n_images, 101);
    const runs = JSON.parse(fs.readFileSync(path.join(args.at(-1)!, 'zeroshot.json'), 'utf8')).runs as { class_names: string[][] }[];
    assert.deepEqual(runs[0]!.class_names.map((c) => c[0]), paper);
    assert.ok(fs.existsSync(path.join(cache, 'hub', 'datasets--clip-benchmark--wds_food101')));
  } finally {
    await server.close();
  }
  // the server is gone: offline, from the cache
  const offline = await runCli(args, { ...env, HF_HUB_OFFLINE: '1' });
  assert.equal(offline.status, 0, offline.stderr);
});

test('--dataset imagenet: wds_imagenet1k from a mirror by default (test, alias val), the same package or an image folder under --dataset-root', async () => {
  const paper = getDataset('imagenet').classes;
  assert.equal(paper.length, 1000);
  // a 1000-class package with 4 test and 2 train images
  const pkg = await writeWdsPackage(path.join(tmpDir('hub-pkgs'), 'inet'), { classes: paper, splits: { test: [0, 1, 2, 999], train: [5, 6] } });
  const server = await startHubServer({ 'datasets/clip-benchmark/wds_imagenet1k': pkg });
  const cache = tmpDir('hub-cache');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: path.join(cache, 'hub'), XDG_CACHE_HOME: cache };
  const args = (...extra: string[]) => ['zeroshot', '--model', 'mini', '--dataset', 'imagenet', '--prompts', 'single', '--json', '--out', tmpDir('out'), ...extra];
  type Row = { dataset: string; split: string; n_images: number; top1: number };
  try {
    const r = await runCli(args(), env);
    assert.equal(r.status, 0, r.stderr);
    const [row] = JSON.parse(r.stdout) as Row[];
    assert.deepEqual([row!.dataset, row!.split, row!.n_images], ['imagenet', 'test', 4]);
    assert.ok(fs.existsSync(path.join(cache, 'hub', 'datasets--clip-benchmark--wds_imagenet1k', 'snapshots')));
    assert.ok(!server.requests.some((q) => q.url.includes('/train/')), 'zero-shot fetches the test split only');
    // `val` names the same split: the same images, the same accuracy
    const val = await runCli(args('--split', 'val'), env);
    assert.equal(val.status, 0, val.stderr);
    const [vrow] = JSON.parse(val.stdout) as Row[];
    assert.deepEqual([vrow!.n_images, vrow!.top1], [4, row!.top1]);
    // a package under --dataset-root is read as a package
    const local = await runCli(args('--dataset-root', pkg), env);
    assert.equal(local.status, 0, local.stderr);
    assert.deepEqual((JSON.parse(local.stdout) as Row[]).map((x) => [x.n_images, x.top1]), [[4, row!.top1]]);
    // a root holding neither: one line naming --dataset-root and both layouts
    const empty = tmpDir('inet-empty');
    const bad = await runCli(args('--dataset-root', empty), env);
    assert.equal(bad.status, 2, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /imagenet: split 'test' not found under --dataset-root .*inet-empty.* \(missing .*val\): pass a root holding a package \(classnames\.txt, <split>\/nshards\.txt\), or ROOT\/\{val,train\}\/<wnid>\/\*\.JPEG \(val as test\), or leave --dataset-root out to fetch clip-benchmark\/wds_imagenet1k/);
  } finally {
    await server.close();
  }
});
