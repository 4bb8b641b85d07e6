import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/errors.js';
import { datasetNames, defaultDatasetRoot, getDataset, listDatasets, primaryMetricFor } from '../../src/data/registry.js';
import { imagenetTemplates, imagenetTemplateSubset, paperPrompts } from '../../src/data/prompts.js';
import { paperTables } from '../../src/paper/paper.js';

test('registry: known names, unknown name lists them, aliases', () => {
  // the bundled default, the paper's 27 in Table 9's order (issue 11), the generic layouts
  assert.deepEqual(datasetNames(), ['fashion-mnist', ...Object.keys(paperTables().table9_linear_probe_datasets), 'imagefolder', 'csv', 'wds', 'parquet']);
  assert.throws(() => getDataset('cifar11'), (e: unknown) => e instanceof UserError && /unknown dataset 'cifar11'/.test(e.message) && e.message.includes('cifar100, birdsnap'));
  assert.equal(getDataset('Fashion_MNIST').name, 'fashion-mnist');
  assert.equal(getDataset('CIFAR-10').name, 'cifar10');
  assert.throws(() => getDataset('cifar10', { classnamesFile: 'x.txt' }), UserError);
  const all = listDatasets();
  assert.equal(all.length, 32);
  for (const d of all) {
    assert.ok(d.description.length > 0);
    // a local WebDataset package brings its own templates; a local parquet dataset takes ImageNet's
    assert.ok(d.templates.length > 0 || d.name === 'wds' || d.name === 'parquet', d.name);
    assert.equal(d.primaryMetric, primaryMetricFor(d.name));
  }
});

test('registry: class names, templates, split sizes, downloads', () => {
  const c10 = getDataset('cifar10');
  assert.equal(c10.classes.length, 10);
  assert.equal(c10.templates.length, 18);
  assert.deepEqual(c10.splitSizes, { train: 50000, test: 10000 });
  assert.equal(getDataset('cifar100').classes.length, 100);
  assert.deepEqual(getDataset('stl10').templates, ['a photo of a {}.', 'a photo of the {}.']);
  assert.deepEqual(getDataset('mnist').templates, ['a photo of the number: "{}".']);
  const fm = getDataset('fashion-mnist');
  assert.deepEqual(fm.classes, ['t-shirt', 'pair of trousers', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']);
  assert.deepEqual(fm.templates, imagenetTemplates());
  assert.equal(getDataset('imagenet').classes.length, 1000);
  for (const d of ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'stl10']) {
    const spec = getDataset(d);
    assert.ok(spec.resources.length > 0);
    for (const r of spec.resources) assert.ok((r.md5 ?? []).every((h) => /^[0-9a-f]{32}$/.test(h)), `${d} ${r.file}`);
  }
  assert.equal(getDataset('imagefolder').classes.length, 0);
});

test('primaryMetric: mean per class for the four Table 9 datasets', () => {
  for (const n of ['fgvc_aircraft', 'oxford_pets', 'caltech101', 'flowers102']) assert.equal(primaryMetricFor(n), 'mean_per_class');
  for (const n of ['cifar10', 'imagenet', 'stl10', 'food101']) assert.equal(primaryMetricFor(n), 'accuracy');
});

test('defaultDatasetRoot: XDG_CACHE_HOME, else ~/.cache; fashion-mnist is bundled', () => {
  const saved = process.env.XDG_CACHE_HOME;
  try {
    process.env.XDG_CACHE_HOME = '/x/cache';
    assert.equal(defaultDatasetRoot('cifar10'), '/x/cache/clip-bench/datasets/cifar10');
    delete process.env.XDG_CACHE_HOME;
    assert.equal(defaultDatasetRoot('mnist'), path.join(os.homedir(), '.cache', 'clip-bench', 'datasets', 'mnist'));
    assert.match(defaultDatasetRoot('fashion-mnist'), /datasets[\\/]fashion-mnist$/);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test('prompts: paper tables, fer2013 synonyms, duplicate ImageNet names kept by index', () => {
  assert.equal(imagenetTemplates().length, 80);
  assert.equal(imagenetTemplateSubset().length, 7);
  const fer = paperPrompts('fer2013')!;
  assert.equal(fer.classes.length, 7);
  assert.deepEqual(fer.synonyms[3], ['happy', 'smiling']);
  assert.equal(fer.classes[3], 'happy');
  const inet = paperPrompts('imagenet')!;
  assert.equal(inet.classes[657], 'missile');
  assert.equal(inet.classes[744], 'missile');
  assert.equal(paperPrompts('nope'), undefined);
});

test('a misspelt dataset or model name gets a "did you mean"', async () => {
  assert.throws(() => getDataset('cifar1O'), (e: unknown) => e instanceof UserError && /unknown dataset 'cifar1O'; did you mean cifar10\?/.test(e.message));
  assert.throws(() => getDataset('fasion-mnist'), (e: unknown) => e instanceof UserError && /did you mean fashion-mnist\?/.test(e.message));
  assert.throws(() => getDataset('xyzzy'), (e: unknown) => e instanceof UserError && !e.message.includes('did you mean'));
  const { resolveModelDir } = await import('../../src/model/resolve.js');
  await assert.rejects(resolveModelDir('mnii', { dtype: 'fp32' }), (e: unknown) => e instanceof UserError && /--model mnii: .*; did you mean mini\?/.test(e.message));
  await assert.rejects(resolveModelDir('ViT-B/23', { dtype: 'fp32' }), (e: unknown) => e instanceof UserError && /did you mean ViT-B\/32 or ViT-B\/16\?/.test(e.message));
});
