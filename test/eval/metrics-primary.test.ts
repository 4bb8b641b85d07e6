/**
 * The paper's non-accuracy metrics end to end: Hateful Memes' ROC AUC and Kinetics700's mean(top1, top5) on
 * user-provided CSV datasets, through the real CLI with the built-in model, checked against the metric computed
 * directly from the cached embeddings and text features.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { imageEmbeddings, textEmbeddings } from '../../src/cache/embeddings.js';
import { getDataset } from '../../src/data/registry.js';
import { openModel } from '../../src/model/resolve.js';
import { classNamesForPrompts, fillPrompts, SINGLE_TEMPLATE } from '../../src/eval/prompts.js';
import { classWeights, zeroshotLogits } from '../../src/eval/zeroshot.js';
import { classificationMetrics } from '../../src/eval/metrics.js';
import { meanApRanked, ranked, rankedColumns, rocAuc, rocAucRanked, vocAp11, vocAp11Ranked, vocMeanAp11 } from '../../src/eval/ranking.js';
import { fitLogReg, predictScores } from '../../src/eval/logreg.js';
import { scorePrimary } from '../../src/eval/primary.js';
import { primaryIntervals } from '../../src/eval/intervals.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { CPU_DEVICE } from '../../src/model/device.js';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'stats', name), 'utf8'));

/**
 * A CSV dataset ROOT/<split>.csv of solid-colour images: image i of a split has label labels[i] and the colour of
 * class looks[i] (a look differing from the label is a hard example, so that no metric is trivially 100).
 */
async function writeCsvDataset(root: string, splits: Record<string, { labels: number[]; looks: number[] }>, nLooks: number): Promise<string> {
  fs.mkdirSync(path.join(root, 'img'), { recursive: true });
  for (const [split, { labels, looks }] of Object.entries(splits)) {
    const lines = ['path,label'];
    for (let i = 0; i < labels.length; i++) {
      const file = `img/${split}-${i}.png`;
      const h = looks[i]! / nLooks;
      const v = (k: number) => Math.round(255 * Math.max(0, Math.min(1, Math.abs(((h * 6 + k) % 6) - 3) - 1)));
      await sharp({ create: { width: 16 + (i % 3), height: 16 + (i % 2), channels: 3, background: { r: v(0), g: v(4), b: (v(2) + 37 * (i % 4)) % 256 } } })
        .png()
        .toFile(path.join(root, file));
      lines.push(`${file},${labels[i]}`);
    }
    fs.writeFileSync(path.join(root, `${split}.csv`), lines.join('\n') + '\n');
  }
  return root;
}

/** n images over nClasses classes, class-major, with every `every`-th image looking like the next class. */
function split(nClasses: number, perClass: number, every: number): { labels: number[]; looks: number[] } {
  const labels = Array.from({ length: nClasses * perClass }, (_, i) => Math.floor(i / perClass));
  return { labels, looks: labels.map((y, i) => (i % every === 0 ? (y + 1) % nClasses : y)) };
}

type Row = Record<string, number | string | null>;

async function cli(args: string[]): Promise<Row[]> {
  const r = await runCli([...args, '--json', '--no-progress']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Row[];
}

/** Zero-shot logits of one split recomputed from the cache the CLI filled (image entry and text entry must be hits). */
async function cachedLogits(dataset: string, root: string, splitName: string, cacheDir: string, template: string, classnames?: string) {
  const model = await openModel('mini', { dtype: 'fp32', device: CPU_DEVICE, threads: 1 });
  try {
    const d = getDataset(dataset, { classnamesFile: classnames });
    const source = await d.open(root, splitName);
    const images = await imageEmbeddings({ model, dataset: d.name, split: splitName, source, subset: null, cacheDir, batchSize: 8, skipBadImages: false, progress: false });
    assert.equal(images.hit, true, 'the CLI cached these image embeddings');
    const names = classNamesForPrompts(d.name, source.classes, d.classOrigin === 'file');
    const { texts, perClass } = fillPrompts(names, [template]);
    const text = await textEmbeddings(model, texts, cacheDir);
    const w = classWeights(text.embeddings, perClass, text.dim);
    return { logits: zeroshotLogits(images.embeddings, images.n, images.dim, w, names.length), labels: images.labels, n: images.n, nClasses: names.length, images };
  } finally {
    await model.close();
  }
}

const close = (a: unknown, b: number, tol: number, what: string) => assert.ok(typeof a === 'number' && Math.abs(a - b) <= tol, `${what}: ${String(a)} vs ${b}`);

test('the ranking walk with bootstrap weights: integer weights are repeated samples (and the sklearn fixtures hold)', () => {
  const f = fixture('ranking.json');
  for (const c of f.binary) {
    const r = ranked('t', Float64Array.from(c.scores), Uint8Array.from(c.targets));
    close(rocAucRanked(r), c.roc_auc, 1e-12, `auc ${c.name}`);
    close(vocAp11Ranked(r)!, c.voc_ap11, 1e-12, `ap11 ${c.name}`);
    // weights 0..2: the same as the sample with each row repeated that many times
    const w = Int32Array.from(c.scores, (_: number, i: number) => (i * 7) % 3);
    const rep = (xs: number[]) => xs.flatMap((x, i) => Array(w[i]).fill(x));
    const ys = Uint8Array.from(rep(c.targets));
    if (ys.some((y) => y === 1) && ys.some((y) => y === 0)) close(rocAucRanked(r, w), rocAuc(Float64Array.from(rep(c.scores)), ys), 1e-12, `weighted auc ${c.name}`);
    if (ys.some((y) => y === 1)) close(vocAp11Ranked(r, w)!, vocAp11(Float64Array.from(rep(c.scores)), ys)!, 1e-12, `weighted ap ${c.name}`);
  }
  const m = f.multilabel;
  close(meanApRanked(rankedColumns(Float32Array.from(m.scores), Uint8Array.from(m.targets), m.n, m.n_classes)).mAP, vocMeanAp11(Float32Array.from(m.scores), Uint8Array.from(m.targets), m.n, m.n_classes).mAP, 0, 'mAP');
});

test('Hateful Memes (user CSV): zero-shot, linear probe and few-shot report ROC AUC of class 1, as computed from the cache', async () => {
  const root = await writeCsvDataset(tmpDir('memes'), { train: split(2, 16, 4), test: split(2, 12, 3) }, 2);
  const cacheDir = tmpDir('memes-cache');
  const out = tmpDir('memes-out');
  const common = ['--model', 'mini', '--dataset', 'hateful_memes', '--dataset-root', root, '--cache-dir', cacheDir, '--out', out];
  const zs = await cli(['zeroshot', ...common, '--prompts', 'single']);
  assert.equal(zs.length, 1);
  const row = zs[0]!;
  assert.equal(row.primary_metric, 'roc_auc');
  const { logits, labels, n } = await cachedLogits('hateful_memes', root, 'test', cacheDir, SINGLE_TEMPLATE);
  const pos = Float64Array.from({ length: n }, (_, i) => logits[i * 2 + 1]! - logits[i * 2]!);
  const auc = 100 * rocAuc(pos, Uint8Array.from(labels));
  close(row.primary, auc, 1e-9, 'zero-shot ROC AUC');
  assert.ok(auc > 0 && auc < 100, `a non-trivial AUC (${auc})`);
  // accuracy columns are still there; the primary interval is the bootstrap's and brackets the value
  close(row.top1, classificationMetrics(logits, labels, n, 2).top1, 1e-9, 'top-1');
  assert.equal(row.top5, null);
  assert.ok((row.primary_lo as number) <= auc && auc <= (row.primary_hi as number) && (row.primary_hi as number) - (row.primary_lo as number) > 1, `${row.primary_lo} .. ${row.primary_hi}`);
  const csv = fs.readFileSync(path.join(out, 'zeroshot.csv'), 'utf8').split('\n');
  assert.ok(csv[0]!.endsWith(',primary,primary_lo,primary_hi,intervals,dtype,preprocess,model_digest,provider'));
  assert.ok(!csv.join('\n').includes('NaN'));

  // linear probe: the probability of class 1 ranks the test images; refitting at the chosen C gives the same AUC
  const [lp] = await cli(['linear-probe', ...common]);
  assert.equal(lp!.primary_metric, 'roc_auc');
  const model = await openModel('mini', { dtype: 'fp32', device: CPU_DEVICE, threads: 1, imageOnly: true });
  const d = getDataset('hateful_memes');
  const emb = async (s: string) => imageEmbeddings({ model, dataset: d.name, split: s, source: await d.open(root, s), subset: null, cacheDir, batchSize: 8, skipBadImages: false, progress: false });
  const [train, test_] = [await emb('train'), await emb('test')];
  await model.close();
  const fit = await fitLogReg(train.embeddings, train.labels, train.n, train.dim, 2, { C: lp!.C as number, maxIter: 1000 });
  const s = predictScores(fit, test_.embeddings, test_.n);
  const probeAuc = 100 * rocAuc(Float64Array.from({ length: test_.n }, (_, i) => s[i * 2 + 1]! - s[i * 2]!), Uint8Array.from(test_.labels));
  close(lp!.primary, probeAuc, 1e-9, 'probe ROC AUC');
  assert.ok((lp!.primary_lo as number) <= probeAuc && probeAuc <= (lp!.primary_hi as number));

  // few-shot: the mean over seeds of each seed's AUC, with an interval of the mean
  const fs_ = await cli(['fewshot', ...common, '--shots', '2,4', '--seeds', '3']);
  assert.deepEqual(fs_.map((r) => [r.shots, r.primary_metric]), [[2, 'roc_auc'], [4, 'roc_auc']]);
  for (const r of fs_) {
    assert.ok(typeof r.primary_mean === 'number' && r.primary_mean >= 0 && r.primary_mean <= 100, String(r.primary_mean));
    assert.ok((r.primary_mean_lo as number) < (r.primary_mean as number) && (r.primary_mean as number) < (r.primary_mean_hi as number));
  }
  // the zero-shot primary is what few-shot compares with (zeroshot.json of the same images)
  close(fs_[0]!.zeroshot_top1, auc, 1e-9, 'few-shot zero-shot column');
});

test('Kinetics700-like user data: the primary metric is the mean of top-1 and top-5', async () => {
  const names = ['abseiling', 'acting in play', 'adjusting glasses', 'air drumming', 'alligator wrestling', 'answering questions'];
  const classnames = path.join(tmpDir('k-names'), 'classes.txt');
  fs.writeFileSync(classnames, names.join('\n') + '\n');
  const root = await writeCsvDataset(tmpDir('kinetics'), { train: split(6, 8, 3), test: split(6, 5, 4) }, 6);
  const cacheDir = tmpDir('k-cache');
  const common = ['--model', 'mini', '--dataset', 'kinetics700', '--dataset-root', root, '--classnames', classnames, '--cache-dir', cacheDir, '--out', tmpDir('k-out')];
  const [zs] = await cli(['zeroshot', ...common, '--prompts', 'single']);
  assert.equal(zs!.primary_metric, 'mean_top1_top5');
  const { logits, labels, n, nClasses } = await cachedLogits('kinetics700', root, 'test', cacheDir, SINGLE_TEMPLATE, classnames);
  const m = classificationMetrics(logits, labels, n, nClasses);
  close(zs!.primary, (m.top1 + m.top5!) / 2, 1e-9, 'zero-shot mean(top1, top5)');
  close(zs!.primary, ((zs!.top1 as number) + (zs!.top5 as number)) / 2, 1e-9, 'from its own columns');
  assert.ok((zs!.primary_lo as number) <= (zs!.primary as number) && (zs!.primary as number) <= (zs!.primary_hi as number));
  const [lp] = await cli(['linear-probe', ...common]);
  assert.equal(lp!.primary_metric, 'mean_top1_top5');
  close(lp!.primary, ((lp!.top1 as number) + (lp!.top5 as number)) / 2, 1e-9, 'probe mean(top1, top5)');
  assert.ok((lp!.primary_lo as number) <= (lp!.primary as number) && (lp!.primary as number) <= (lp!.primary_hi as number));
});

test('primary metrics undefined on the images are blank, never NaN: ROC AUC with one class, mean(top1, top5) under 5 classes', () => {
  const scores = Float32Array.from([0.1, 0.9, 0.3, 0.7, 0.8, 0.2]);
  const one = classificationMetrics(scores, Int32Array.from([1, 1, 1]), 3, 2);
  const auc = scorePrimary('roc_auc', scores, one, 2);
  assert.equal(auc.value, null);
  assert.deepEqual(primaryIntervals(auc), { primary_lo: null, primary_hi: null });
  const both = classificationMetrics(scores, Int32Array.from([0, 1, 0]), 3, 2);
  // the positive image outscores one negative and loses to the other: 1/2
  close(scorePrimary('roc_auc', scores, both, 2).value, 50, 1e-12, 'AUC');
  const k = scorePrimary('mean_top1_top5', scores, both, 2);
  assert.equal(k.value, null);
  assert.deepEqual(primaryIntervals(k), { primary_lo: null, primary_hi: null });
  assert.throws(() => scorePrimary('roc_auc', Float32Array.from([1, 2, 3]), classificationMetrics(Float32Array.from([1, 2, 3]), Int32Array.from([0]), 1, 3), 3), /2-class dataset/);
});
