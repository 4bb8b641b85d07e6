import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { clopperPearson } from '../../src/eval/stats.js';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { getDataset } from '../../src/data/registry.js';
import { stratifiedSubset } from '../../src/data/subset.js';
import { imagenetTemplates } from '../../src/data/prompts.js';
import { readModelDir } from '../../src/model/model-dir.js';
import { preprocess } from '../../src/model/preprocess.js';
import { ClipTokenizer } from '../../src/model/tokenizer.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-zs-'));

const norm = (v: number[]) => {
  const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  return v.map((x) => x / n);
};

/** Zero-shot by brute force: every prompt and image through onnxruntime one at a time, plain float64 arithmetic. */
async function bruteForce(limit: number, classes: string[], templates: string[]) {
  const files = readModelDir(tiny, 'fp32');
  const textSession = await ort.InferenceSession.create(files.textOnnx!);
  const visionSession = await ort.InferenceSession.create(files.visionOnnx);
  const tok = ClipTokenizer.fromModelDir(tiny);
  const weights: number[][] = [];
  for (const c of classes) {
    const acc = new Array(16).fill(0);
    for (const t of templates) {
      const ids = tok.tokenize([t.replace('{}', c)]).ids;
      const out = await textSession.run({ input_ids: new ort.Tensor('int64', ids, [1, 77]) });
      norm(Array.from(out.text_embeds.data as Float32Array)).forEach((x, j) => (acc[j] += x / templates.length));
    }
    weights.push(norm(acc));
  }
  const source = await getDataset('fashion-mnist').open(path.join(repoRoot, 'datasets', 'fashion-mnist'), 'test');
  const idx = stratifiedSubset(source.labels, 10, limit, 0);
  let top1 = 0;
  let top5 = 0;
  const hits = new Array(10).fill(0);
  const counts = new Array(10).fill(0);
  for (const i of idx) {
    const px = preprocess(await source.load(i), files.preprocess);
    const out = await visionSession.run({ pixel_values: new ort.Tensor('float32', px, [1, 3, 16, 16]) });
    const img = norm(Array.from(out.image_embeds.data as Float32Array));
    const logits = weights.map((w) => 100 * w.reduce((a, x, j) => a + x * img[j], 0));
    const y = source.labels[i];
    const rank = logits.filter((l, c) => l > logits[y] || (l === logits[y] && c < y)).length;
    counts[y]++;
    if (rank === 0) {
      top1++;
      hits[y]++;
    }
    if (rank < 5) top5++;
  }
  const present = counts.filter((n) => n > 0).length;
  return {
    top1: (100 * top1) / idx.length,
    top5: (100 * top5) / idx.length,
    meanPerClass: (100 * hits.reduce((a, h, c) => a + (counts[c] ? h / counts[c] : 0), 0)) / present,
  };
}

test('zeroshot equals a brute-force computation (one template and 80 templates)', async () => {
  const out = tmp();
  const r = await runCli(['zeroshot', '--model', tiny, '--limit', '120', '--json', '--out', out, '--cache-dir', tmp()]);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.deepEqual(rows.map((x: { prompts: string }) => x.prompts), ['contextless', 'single', 'ensemble']);
  const classes = JSON.parse(readFileSync(path.join(repoRoot, 'datasets', 'fashion-mnist.json'), 'utf8')).classes;
  for (const [row, templates] of [
    [rows[0], ['{}']],
    [rows[1], ['a photo of a {}.']],
    [rows[2], imagenetTemplates()],
  ] as const) {
    const expected = await bruteForce(120, classes, [...templates]);
    assert.equal(row.n_templates, templates.length);
    assert.equal(row.n_images, 120);
    assert.ok(Math.abs(row.top1 - expected.top1) < 1e-9, `${row.prompts} top1 ${row.top1} vs ${expected.top1}`);
    assert.ok(Math.abs(row.top5 - expected.top5) < 1e-9, `${row.prompts} top5`);
    assert.ok(Math.abs(row.mean_per_class - expected.meanPerClass) < 1e-9, `${row.prompts} mean per class`);
  }
  assert.ok(Math.abs(rows[2].gain_vs_contextless - (rows[2].top1 - rows[0].top1)) < 1e-9);
  const csv = readFileSync(path.join(out, 'zeroshot.csv'), 'utf8').split('\n');
  assert.equal(csv[0], 'model,dataset,split,prompts,n_templates,n_images,top1,top5,mean_per_class,primary_metric,gain_vs_contextless,limit,subset_seed,skipped_images,top1_lo,top1_hi,top5_lo,top5_hi,mean_per_class_lo,mean_per_class_hi,primary,primary_lo,primary_hi,intervals,dtype,preprocess,model_digest,provider');
  // the interval columns: Clopper-Pearson of the images right out of 120
  for (const row of rows) {
    const cp = clopperPearson(Math.round((row.top1 * 120) / 100), 120);
    assert.ok(Math.abs(row.top1_lo - 100 * cp.lo) < 1e-9 && Math.abs(row.top1_hi - 100 * cp.hi) < 1e-9, `${row.prompts} top1 interval`);
    assert.ok(row.mean_per_class_lo <= row.mean_per_class && row.mean_per_class <= row.mean_per_class_hi);
  }
  const json = JSON.parse(readFileSync(path.join(out, 'zeroshot.json'), 'utf8'));
  assert.equal(json.runs[0].templates.ensemble.length, 80);
  assert.match(json.runs[0].model_identity, /^[0-9a-f]{64}$/);
});

test('custom templates and class names; a class-count mismatch is an error', async () => {
  const dir = tmp();
  const templatesTxt = path.join(dir, 'templates.txt');
  writeFileSync(templatesTxt, 'a photo of a {}.\na blurry photo of a {}.\n');
  const templatesJson = path.join(dir, 'templates.json');
  writeFileSync(templatesJson, JSON.stringify(['itap of a {}.', 'a {} in a shop.', 'a {}.']));
  const names = ['tee', 'trousers', 'jumper', 'dress', 'coat', 'sandal', 'shirt', 'trainer', 'bag', 'boot'];
  const classnames = path.join(dir, 'names.txt');
  writeFileSync(classnames, names.join('\n'));
  const common = ['zeroshot', '--model', tiny, '--limit', '50', '--prompts', 'ensemble', '--json', '--out', tmp(), '--cache-dir', tmp()];
  const txt = await runCli([...common, '--templates', templatesTxt, '--classnames', classnames]);
  assert.equal(txt.status, 0, txt.stderr);
  assert.equal(JSON.parse(txt.stdout)[0].n_templates, 2);
  const js = await runCli([...common, '--templates', templatesJson]);
  assert.equal(JSON.parse(js.stdout)[0].n_templates, 3);
  const builtin = await runCli([...common, '--templates', 'imagenet7']);
  assert.equal(JSON.parse(builtin.stdout)[0].n_templates, 7);
  // renaming the classes changes the prompts, so the result is really computed from the given names
  const renamed = JSON.parse(txt.stdout)[0];
  const plain = JSON.parse((await runCli([...common, '--templates', templatesTxt])).stdout)[0];
  assert.notEqual(renamed.top1, plain.top1);

  writeFileSync(classnames, names.slice(0, 9).join('\n'));
  const bad = await runCli([...common, '--classnames', classnames]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--classnames .*names\.txt: 9 names, but fashion-mnist has 10 classes/);
  const noPlaceholder = path.join(dir, 'bad.txt');
  writeFileSync(noPlaceholder, 'a photo\n');
  const badT = await runCli([...common, '--templates', noPlaceholder]);
  assert.equal(badT.status, 2);
  assert.match(badT.stderr, /has no \{\} placeholder/);
});

test('fewer than 5 classes: top5 is blank, never NaN; rows of other runs are kept', async () => {
  const root = tmp();
  for (const [cls, colour] of [['red', '#e00'], ['green', '#0c0'], ['blue', '#00e']] as const) {
    mkdirSync(path.join(root, 'test', cls), { recursive: true });
    for (let i = 0; i < 4; i++) {
      await sharp({ create: { width: 18 + i, height: 16, channels: 3, background: colour } }).png().toFile(path.join(root, 'test', cls, `${i}.png`));
    }
  }
  const out = tmp();
  const cache = tmp();
  const first = await runCli(['zeroshot', '--model', tiny, '--limit', '30', '--out', out, '--cache-dir', cache]);
  assert.equal(first.status, 0, first.stderr);
  const r = await runCli(['zeroshot', '--model', tiny, '--dataset', 'imagefolder', '--dataset-root', root, '--json', '--out', out, '--cache-dir', cache]);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.equal(row.top5, null);
    assert.equal(row.n_images, 12);
  }
  const csv = readFileSync(path.join(out, 'zeroshot.csv'), 'utf8');
  assert.doesNotMatch(csv, /NaN/);
  const lines = csv.trim().split('\n');
  assert.equal(lines.length, 7, 'header + 3 fashion-mnist rows + 3 imagefolder rows');
  const red = lines.find((l) => l.includes('imagefolder') && l.includes(',single,'))!;
  assert.match(red, /,12,[\d.]+,,[\d.]+,accuracy,/);
});
