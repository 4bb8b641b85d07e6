import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { paperPrompts } from '../../src/data/prompts.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer } from '../support/hub-server.js';

const FIX = path.join(repoRoot, 'test', 'fixtures', 'wds');
type Row = { dataset: string; prompts: string; n_templates: number; n_images: number; top1: number; top5: number; mean_per_class: number };
const metrics = (rows: Row[]): unknown[] => rows.map((r) => [r.prompts, r.n_templates, r.n_images, r.top1, r.top5, r.mean_per_class]);

test('zeroshot on WebDataset packages: hf:<owner>/<repo> and wds/<name> from a static mirror, wds --dataset-root, then offline', async () => {
  // food101's package: the shapes shards (labels 0-3) under the paper's 101 names, in reverse order
  const food = path.join(tmpDir('wds-cli-food'), 'wds_food101');
  fs.cpSync(path.join(FIX, 'shapes'), food, { recursive: true });
  const foodNames = paperPrompts('food101')!.classes;
  fs.writeFileSync(path.join(food, 'classnames.txt'), [...foodNames].reverse().join('\n') + '\n');
  const server = await startHubServer(
    { 'datasets/acme/shapes': path.join(FIX, 'shapes'), 'datasets/clip-benchmark/wds_vtab-shapes': path.join(FIX, 'shapes'), 'datasets/clip-benchmark/wds_food101': food },
    undefined,
    { mode: 'static' },
  );
  const hubCache = tmpDir('wds-cli-hub');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: hubCache, XDG_CACHE_HOME: tmpDir('wds-cli-xdg') };
  const run = (dataset: string[], extraEnv: Record<string, string> = {}) =>
    runCli(['zeroshot', '--model', 'mini', ...dataset, '--json', '--no-progress', '--out', tmpDir('wds-cli-out'), '--cache-dir', tmpDir('wds-cli-cache')], { ...env, ...extraEnv });
  try {
    const hf = await run(['--dataset', 'hf:acme/shapes']);
    assert.equal(hf.status, 0, hf.stderr);
    const rows = JSON.parse(hf.stdout) as Row[];
    assert.deepEqual(rows.map((r) => r.prompts), ['contextless', 'single', 'ensemble']);
    assert.ok(rows.every((r) => r.dataset === 'hf:acme/shapes' && r.n_images === 11));
    // the ensemble is the package's two templates ({c} -> {})
    assert.equal(rows[2].n_templates, 2);
    // only the test split was fetched, from /datasets/...; progress was reported in bytes
    assert.ok(server.requests.some((r) => r.url === '/datasets/acme/shapes/resolve/main/test/2.tar'));
    assert.ok(!server.requests.some((r) => r.url.includes('/train/')));
    assert.match(hf.stderr, /downloading acme\/shapes test\/0\.tar: [\d.]+ of [\d.]+ MB, done/);
    assert.ok(fs.existsSync(path.join(hubCache, 'datasets--acme--shapes', 'snapshots', 'main', 'test', '0.tar')));

    const wds = await run(['--dataset', 'wds/vtab/shapes']);
    assert.equal(wds.status, 0, wds.stderr);
    assert.ok(server.requests.some((r) => r.url.startsWith('/datasets/clip-benchmark/wds_vtab-shapes/resolve/main/')));
    const wdsRows = JSON.parse(wds.stdout) as Row[];
    assert.equal(wdsRows[0].dataset, 'wds/vtab/shapes');
    assert.deepEqual(metrics(wdsRows), metrics(rows));

    const local = await run(['--dataset', 'wds', '--dataset-root', path.join(FIX, 'shapes')]);
    assert.equal(local.status, 0, local.stderr);
    assert.deepEqual(metrics(JSON.parse(local.stdout)), metrics(rows));

    // a paper dataset by its name: its package from the mirror, the paper's names mapped onto classnames.txt
    const f101 = await run(['--dataset', 'food101']);
    assert.equal(f101.status, 0, f101.stderr);
    const f101Rows = JSON.parse(f101.stdout) as Row[];
    assert.ok(f101Rows.every((r) => r.dataset === 'food101' && r.n_images === 11));
    assert.equal(f101Rows[2].n_templates, paperPrompts('food101')!.templates.length);
    assert.ok(fs.existsSync(path.join(hubCache, 'datasets--clip-benchmark--wds_food101', 'snapshots', 'main', 'test', '2.tar')));

    const missing = await run(['--dataset', 'hf:acme/nothing']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr.trim(), /^clip-bench: .*dataset acme\/nothing@main has no classnames\.txt; nor can parquet shards be found: the hub lists no files there \(.*\)$/m);
    const noDownload = await runCli(['zeroshot', '--dataset', 'hf:acme/other', '--no-download', '--out', tmpDir('o'), '--cache-dir', tmpDir('c')], env);
    assert.equal(noDownload.status, 2);
    assert.match(noDownload.stderr, /downloads are off \(--no-download\)/);

    await server.close();
    // from the cache alone: offline, and with the mirror gone
    for (const extra of [{ HF_HUB_OFFLINE: '1' }, {}] as Record<string, string>[]) {
      const off = await run(['--dataset', 'hf:acme/shapes'], extra);
      assert.equal(off.status, 0, off.stderr);
      assert.deepEqual(metrics(JSON.parse(off.stdout)), metrics(rows));
    }
    const offMiss = await run(['--dataset', 'hf:acme/shapes', '--split', 'train'], { HF_HUB_OFFLINE: '1' });
    assert.equal(offMiss.status, 2);
    assert.match(offMiss.stderr, /HF_HUB_OFFLINE is set and split 'train' of dataset acme\/shapes@main is not in the cache/);
  } finally {
    await server.close().catch(() => {});
  }
});

test('wds bad packages through the CLI: exit 2, one line naming the shard and sample, no cache entry completed', async () => {
  for (const [pkg, re] of [
    ['bad-label', /bad-label\/test\/1\.tar: sample s0000002: label 7 is outside classnames\.txt \(4 classes\)/],
    ['bad-image', /bad-image\/test\/1\.tar#s0000002\.jpg: cannot decode image/],
  ] as const) {
    const cache = tmpDir('wds-cli-cache');
    const r = await runCli(['zeroshot', '--dataset', 'wds', '--dataset-root', path.join(FIX, pkg), '--no-progress', '--out', tmpDir('o'), '--cache-dir', cache], { XDG_CACHE_HOME: tmpDir('x') });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('indexing ') && !l.startsWith('embedding '));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], re);
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [e.name]));
    assert.ok(!walk(cache).includes('meta.json'), walk(cache).join(' '));
  }
  const list = await runCli(['datasets', '--wide']);
  assert.equal(list.status, 0);
  assert.match(list.stdout, /^wds\s+you provide a WebDataset package/m);
});
