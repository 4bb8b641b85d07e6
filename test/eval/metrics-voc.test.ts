/**
 * VOC2007 as the paper scores it: `--dataset voc2007` resolves to clip-benchmark/wds_voc2007_multilabel (served by
 * a local static mirror), zero-shot ranks the images by each class's cosine logit and the linear probe is one-vs-rest;
 * both report 11-point mAP, checked against the mAP computed directly from the cached embeddings and targets.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { imageEmbeddings, textEmbeddings } from '../../src/cache/embeddings.js';
import { parseNpyHeader } from '../../src/util/npy.js';
import { loadEntry, openWriter } from '../../src/cache/index.js';
import { baseKey, labelsOf, rowsOf } from '../support/cache-util.js';
import { locateSplit } from '../../src/data/ensure.js';
import { getDataset } from '../../src/data/registry.js';
import { openModel } from '../../src/model/resolve.js';
import { classNamesForPrompts, fillPrompts, SINGLE_TEMPLATE } from '../../src/eval/prompts.js';
import { classWeights, zeroshotLogits } from '../../src/eval/zeroshot.js';
import { vocMeanAp11 } from '../../src/eval/ranking.js';
import { fitOneVsRest, oneVsRestScores } from '../../src/eval/multilabel-probe.js';
import { holdOut } from '../../src/eval/linear-probe.js';
import { concatFeatures } from '../../src/eval/probe.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer } from '../support/hub-server.js';
import { writeWdsPackage } from '../support/wds-package.js';
import { CPU_DEVICE } from '../../src/model/device.js';

const VOC = getDataset('voc2007').classes;

/** n samples: sample i shows class i % 20 and, every third sample, class (i * 7) % 20 too; its colour is the first class's. */
function multilabel(n: number, offset: number): { looks: number[]; targets: number[][] } {
  const looks: number[] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const a = (i + offset) % 20;
    const t = new Array(20).fill(0);
    t[a] = 1;
    if (i % 3 === 0) t[(i * 7 + offset) % 20] = 1;
    looks.push(a);
    targets.push(t);
  }
  return { looks, targets };
}

const close = (a: unknown, b: number, tol: number, what: string) => assert.ok(typeof a === 'number' && Math.abs(a - b) <= tol, `${what}: ${String(a)} vs ${b}`);

test('voc2007: the multilabel package from the hub, zero-shot and one-vs-rest probe report 11-point mAP from the cache', async () => {
  const train = multilabel(60, 0);
  const testSplit = multilabel(30, 5);
  // the package lists the classes in reverse order: its vectors are mapped onto the paper's names
  const rev = (t: number[]) => [...t].reverse();
  const pkg = await writeWdsPackage(path.join(tmpDir('voc-pkg'), 'voc'), {
    classes: [...VOC].reverse(),
    splits: { train: train.looks.map((a) => 19 - a), test: testSplit.looks.map((a) => 19 - a) },
    targets: { train: train.targets.map(rev), test: testSplit.targets.map(rev) },
    shardSize: 16,
  });
  const server = await startHubServer({ 'datasets/clip-benchmark/wds_voc2007_multilabel': pkg }, undefined, { mode: 'static' });
  const cache = tmpDir('voc-cache');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: path.join(cache, 'hub'), XDG_CACHE_HOME: cache };
  const cacheDir = path.join(cache, 'emb');
  const out = tmpDir('voc-out');
  const common = ['--model', 'mini', '--dataset', 'voc2007', '--cache-dir', cacheDir, '--out', out, '--json', '--no-progress'];
  const saved = { ...process.env };
  try {
    const zs = await runCli(['zeroshot', ...common, '--prompts', 'single'], env);
    assert.equal(zs.status, 0, zs.stderr);
    const [row] = JSON.parse(zs.stdout) as Record<string, number | string | null>[];
    assert.equal(row!.primary_metric, 'map11');
    assert.deepEqual([row!.top1, row!.top5, row!.mean_per_class, row!.top1_lo], [null, null, null, null], 'single-label columns are blank');
    assert.ok(server.requests.some((r) => r.url.startsWith('/datasets/clip-benchmark/wds_voc2007_multilabel/resolve/main/test/')));

    // the same mAP from the cache: image embeddings (a hit), their targets.npy, the prompts' text embeddings
    Object.assign(process.env, env);
    const d = getDataset('voc2007');
    const model = await openModel('mini', { dtype: 'fp32', device: CPU_DEVICE, threads: 1 });
    const open = async (split: string) => {
      const source = await d.open(await locateSplit(d, undefined, split, { download: false }), split);
      const images = await imageEmbeddings({ model, dataset: d.name, split, source, subset: null, cacheDir, batchSize: 8, skipBadImages: false, progress: false });
      return { source, images };
    };
    const test_ = await open('test');
    assert.equal(test_.images.hit, true);
    const stored = fs.readFileSync(path.join(test_.images.dir, 'targets.npy'));
    const h = parseNpyHeader(stored);
    assert.deepEqual([h.descr, h.shape], ['|u1', [30, 20]]);
    assert.deepEqual(Array.from(stored.subarray(h.dataOffset)), testSplit.targets.flat(), 'targets.npy holds the vectors in the paper\'s class order');
    const names = classNamesForPrompts(d.name, test_.source.classes, false);
    const { texts, perClass } = fillPrompts(names, [SINGLE_TEMPLATE]);
    const text = await textEmbeddings(model, texts, cacheDir);
    const logits = zeroshotLogits(test_.images.embeddings, 30, test_.images.dim, classWeights(text.embeddings, perClass, text.dim), 20);
    const mAP = 100 * vocMeanAp11(logits, test_.images.targets!, 30, 20).mAP;
    close(row!.primary, mAP, 1e-9, 'zero-shot mAP');
    assert.ok(mAP > 0 && mAP < 100);
    assert.ok((row!.primary_lo as number) <= mAP && mAP <= (row!.primary_hi as number), `${row!.primary_lo} .. ${row!.primary_hi}`);

    // the linear probe: 20 binary probes at the chosen C; refit on all training rows, the same test mAP
    const lp = await runCli(['linear-probe', ...common], env);
    assert.equal(lp.status, 0, lp.stderr);
    assert.match(lp.stderr, /one-vs-rest/);
    const [p] = JSON.parse(lp.stdout) as Record<string, number | string | null>[];
    assert.equal(p!.primary_metric, 'map11');
    assert.equal(p!.top1, null);
    const tr = (await open('train')).images;
    await model.close();
    // the probe's own rows in its order: train with its seeded, stratified validation part held out, then that part
    const full = concatFeatures(...holdOut({ X: tr.embeddings, y: tr.labels, n: tr.n, dim: tr.dim, targets: tr.targets }, 20, 0.2, 0));
    assert.equal(full.n + 0, (p!.n_train as number) + (p!.n_val as number));
    const fit = await fitOneVsRest(full, 20, p!.C as number, {});
    const scores = await oneVsRestScores(fit, { X: test_.images.embeddings, y: test_.images.labels, n: 30, dim: tr.dim });
    close(p!.primary, 100 * vocMeanAp11(scores, test_.images.targets!, 30, 20).mAP, 1e-9, 'probe mAP');
    assert.ok((p!.primary_lo as number) <= (p!.primary as number) && (p!.primary as number) <= (p!.primary_hi as number));
    const csv = fs.readFileSync(path.join(out, 'linear_probe.csv'), 'utf8');
    assert.ok(!csv.includes('NaN'));

    // the one-vs-rest probes are L-BFGS's: another solver is refused before any work
    const mljs = await runCli(['linear-probe', ...common, '--solver', 'mljs'], env);
    assert.equal(mljs.status, 2, mljs.stderr);
    assert.equal(mljs.stderr.trim(), 'clip-bench: --solver mljs: voc2007 is multilabel; its one-vs-rest probes use the lbfgs solver');
    // few-shot (k images per class) is not defined for multilabel data: one line, exit 2
    const fsr = await runCli(['fewshot', ...common, '--shots', '1'], env);
    assert.equal(fsr.status, 2, fsr.stderr);
    assert.equal(fsr.stderr.trim(), 'clip-bench: voc2007: few-shot probes (k images per class) are not defined for a multilabel dataset; use zeroshot or linear-probe');
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await server.close();
  }
});

test('multilabel packages with bad label vectors: one line naming the shard and sample, exit 2', async () => {
  const cases: [string, number[], RegExp][] = [
    ['short', new Array(19).fill(0), /test\/0\.tar: sample s0000001: s0000001\.npy has 19 values for 20 classes in classnames\.txt$/],
    ['not01', [...new Array(19).fill(0), 2], /test\/0\.tar: sample s0000001: s0000001\.npy: value 2 at position 19 is not 0 or 1$/],
  ];
  for (const [name, bad, re] of cases) {
    const good = new Array(20).fill(0);
    good[3] = 1;
    const pkg = await writeWdsPackage(path.join(tmpDir('voc-bad'), name), { classes: VOC, splits: { test: [3, 3, 3] }, targets: { test: [good, bad, good] } });
    const r = await runCli(['zeroshot', '--model', 'mini', '--dataset', 'wds', '--dataset-root', pkg, '--prompts', 'single', '--no-progress', '--out', tmpDir('voc-bad-out'), '--cache-dir', tmpDir('voc-bad-cache')], { XDG_CACHE_HOME: tmpDir('voc-bad-xdg') });
    assert.equal(r.status, 2, r.stderr);
    // the error is one line (after the indexing status line), no stack
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('indexing '));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, re);
  }
});

test('cache: multilabel targets are stored beside the labels (targets.npy, uint8 [n, classes]), verified on load', async () => {
  const dir = tmpDir('voc-entry');
  const key = baseKey({ dataset: 'voc-like' });
  const [n, dim, k] = [7, 3, 4];
  const data = Uint8Array.from({ length: n * k }, (_, i) => ((i * 5) % 3 === 0 ? 1 : 0));
  // two shards: either may assemble the entry, the targets come from the pending chunks/targets.npy
  for (const index of [0, 1]) {
    const w = await openWriter(dir, key, { n, dim, chunkSize: 4, toolVersion: '0.0.0-test', warn: () => {}, labels: labelsOf(n), targets: { data, nClasses: k }, shard: { index, count: 2 } });
    for (const c of w.pendingChunks()) await w.writeChunk(c.start, rowsOf(c.start, c.end, dim));
    await w.finishShare();
  }
  const e = await loadEntry(dir, key);
  assert.ok(e);
  assert.deepEqual(e.meta.targetsShape, [n, k]);
  assert.deepEqual(Array.from(e.targets!), Array.from(data));
  assert.deepEqual(fs.readdirSync(e.dir).sort(), ['embeddings.npy', 'labels.npy', 'meta.json', 'targets.npy']);
  // a value that is not 0/1 makes the entry corrupt: a warning, and a miss
  const file = path.join(e.dir, 'targets.npy');
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1] = 7;
  fs.writeFileSync(file, bytes);
  const warnings: string[] = [];
  assert.equal(await loadEntry(dir, key, { warn: (m) => warnings.push(m) }), null);
  assert.match(warnings[0]!, /targets\.npy holds 7 \(not 0 or 1\)/);
  // an entry without targets (single-label data, or written before they were kept) still reads
  const plain = baseKey({ dataset: 'plain' });
  const w = await openWriter(dir, plain, { n, dim, chunkSize: 4, toolVersion: '0.0.0-test', warn: () => {}, labels: labelsOf(n) });
  for (const c of w.pendingChunks()) await w.writeChunk(c.start, rowsOf(c.start, c.end, dim));
  await w.finish(labelsOf(n));
  const p = await loadEntry(dir, plain);
  assert.equal(p!.targets, null);
  assert.equal(p!.meta.targetsShape, undefined);
});
