import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { UserError } from '../../src/errors.js';
import { getDataset, listDatasets } from '../../src/data/registry.js';
import { paperPrompts } from '../../src/data/prompts.js';
import { expandDatasets, SUITES } from '../../src/data/suites.js';
import { paperTables } from '../../src/paper/paper.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { labelsOf, writeWdsPackage } from '../support/wds-package.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const TABLE9 = Object.keys(paperTables().table9_linear_probe_datasets);

/** The package of each paper dataset, as CLIP_benchmark's table lists them (wds.md); none for four. */
const PACKAGE: Record<string, string | null> = {
  food101: 'wds_food101', birdsnap: null, sun397: 'wds_sun397', stanford_cars: 'wds_cars', fgvc_aircraft: 'wds_fgvc_aircraft',
  voc2007: 'wds_voc2007_multilabel', dtd: 'wds_vtab-dtd', oxford_pets: 'wds_vtab-pets', caltech101: 'wds_vtab-caltech101', flowers102: 'wds_vtab-flowers',
  fer2013: 'wds_fer2013', eurosat: 'wds_vtab-eurosat', resisc45: 'wds_vtab-resisc45', gtsrb: 'wds_gtsrb',
  kitti: 'wds_vtab-kitti_closest_vehicle_distance', country211: 'wds_country211', pcam: 'wds_vtab-pcam', ucf101: null, kinetics700: null,
  clevr_counts: 'wds_vtab-clevr_count_all', hateful_memes: null, rendered_sst2: 'wds_renderedsst2', imagenet: 'wds_imagenet1k',
};
const BUILTIN = ['cifar10', 'cifar100', 'mnist', 'stl10'];
/** The two read from parquet copies on the hub (issue 23), at the revisions MTEB pins. */
const PARQUET: Record<string, { repoId: string; revision: string }> = {
  birdsnap: { repoId: 'isaacchung/birdsnap', revision: 'fd23015508be94f0b5b59d61630e4ea2536509e4' },
  ucf101: { repoId: 'mteb/ucf101', revision: 'e0618988874f6ffbf90af69fa6dccecb9be3deb3' },
};

test("the paper's 27 datasets: Table 9 order, sources, class names, templates, metric, sizes", () => {
  assert.equal(TABLE9.length, 27);
  const paper = listDatasets().filter((d) => d.paper);
  assert.deepEqual(paper.map((d) => d.name), TABLE9);
  for (const d of paper) {
    const t9 = paperTables().table9_linear_probe_datasets[d.name]!;
    assert.equal(d.paper!.title, t9.name);
    assert.deepEqual([d.paper!.train, d.paper!.test], [t9.train_size, t9.test_size]);
    const want = { accuracy: 'accuracy', 'mean per class': 'mean_per_class', 'mean-per-class': 'mean_per_class', 'mean(top1, top5)': 'mean_top1_top5', 'ROC AUC': 'roc_auc', '11-point mAP': 'map11' }[t9.metric];
    assert.equal(d.primaryMetric, want, d.name);
    assert.deepEqual(d.classes, paperPrompts(d.name)!.classes, d.name);
    assert.equal(d.classOrigin, 'paper');
    assert.ok(d.templates.length > 0);
    assert.ok(d.roles.test && d.splits.includes(d.roles.test), d.name);
    if (d.roles.train) assert.ok(d.splits.includes(d.roles.train), d.name);
    if (BUILTIN.includes(d.name)) {
      assert.ok(d.source.kind === 'download' || d.source.kind === 'user', d.name);
    } else if (PARQUET[d.name]) {
      assert.deepEqual(d.source, { kind: 'hub', format: 'parquet', ...PARQUET[d.name] }, d.name);
    } else if (PACKAGE[d.name]) {
      assert.deepEqual(d.source, { kind: 'hub', repoId: `clip-benchmark/${PACKAGE[d.name]}` }, d.name);
    } else {
      assert.equal(PACKAGE[d.name], null, d.name);
      assert.ok(d.source.kind === 'user' && !d.source.generic, d.name);
      assert.match(d.protocolNote!, /no public (package|image copy)/);
    }
  }
  // Table 9's metrics are computed: no dataset's note says another metric is reported
  for (const d of paper) assert.doesNotMatch(d.protocolNote ?? '', /Table 9's metric/, d.name);
  assert.match(getDataset('voc2007').protocolNote!, /the paper's multilabel protocol/);
  assert.equal(getDataset('sun397').roles.train, undefined, 'the package has no train split');
  assert.match(getDataset('fgvc_aircraft').protocolNote!, /3,334 of 6,667/);
  assert.equal(getDataset('fgvc_aircraft').primaryMetric, 'mean_per_class');
});

test('a packaged dataset from a local package: the paper\'s names mapped by name onto a reordered classnames.txt', async () => {
  const paperNames = getDataset('rendered_sst2').classes; // ['negative', 'positive']
  const root = await writeWdsPackage(path.join(tmpDir('pkg'), 'sst2'), {
    classes: [...paperNames].reverse(),
    splits: { test: [0, 0, 1, 1, 1], train: [1, 0] },
    shardSize: 2,
  });
  const d = getDataset('rendered_sst2');
  assert.equal(d.isPresent(root), true);
  const src = await d.open(root, 'test');
  assert.deepEqual(src.classes, paperNames);
  // package label 0 = 'positive' = paper label 1
  assert.deepEqual([...src.labels], [1, 1, 0, 0, 0]);
  // a package with another class count: one line naming the package
  const bad = await writeWdsPackage(path.join(tmpDir('pkg'), 'three'), { classes: ['negative', 'positive', 'neutral'], splits: { test: [0, 1, 2] } });
  await assert.rejects(d.open(bad, 'test'), (e: unknown) => e instanceof UserError && /3 classes in the package but 2 in the paper's list/.test(e.message) && !e.message.includes('\n'));
});

test('a dataset without a public package: from a folder (classes matched by name) or a CSV, with the paper\'s names', async () => {
  const d = getDataset('hateful_memes');
  const folder = tmpDir('memes');
  // folder names sort the other way round from the paper's order
  for (const [cls, colour] of [['hatespeech meme', '#e00'], ['meme', '#00e']] as const) {
    fs.mkdirSync(path.join(folder, 'test', cls), { recursive: true });
    for (let i = 0; i < 2 + (cls === 'meme' ? 1 : 0); i++) await sharp({ create: { width: 12, height: 12, channels: 3, background: colour } }).png().toFile(path.join(folder, 'test', cls, `${i}.png`));
  }
  const src = await d.open(folder, 'test');
  assert.deepEqual(src.classes, ['meme', 'hatespeech meme']);
  assert.deepEqual([...src.labels], [1, 1, 0, 0, 0]);
  const csvRoot = tmpDir('memes-csv');
  fs.cpSync(path.join(folder, 'test'), path.join(csvRoot, 'img'), { recursive: true });
  fs.writeFileSync(path.join(csvRoot, 'test.csv'), 'path,label\nimg/meme/0.png,meme\nimg/hatespeech meme/0.png,1\n');
  assert.deepEqual([...(await d.open(csvRoot, 'test')).labels], [0, 1]);
  // and from a package
  const pkg = await writeWdsPackage(path.join(tmpDir('pkg'), 'memes'), { classes: ['meme', 'hatespeech meme'], splits: { test: [1, 0] } });
  assert.deepEqual([...(await d.open(pkg, 'test')).labels], [1, 0]);
});

test('suites: @paper27, @kornblith12, @FILE, lists and nesting', () => {
  assert.deepEqual(expandDatasets('@paper27'), TABLE9);
  assert.deepEqual(expandDatasets('@kornblith12'), TABLE9.slice(0, 12));
  assert.deepEqual(SUITES.kornblith12!().slice(-1), ['flowers102']);
  const file = path.join(tmpDir('suite'), 'mine.txt');
  fs.writeFileSync(file, '# my suite\nmnist\n\ncifar10  # the small one\n@kornblith12\n');
  const got = expandDatasets(`fashion-mnist,@${file}`);
  assert.deepEqual(got.slice(0, 3), ['fashion-mnist', 'mnist', 'cifar10']);
  assert.equal(got.length, 3 + 11, 'cifar10 appears once');
  assert.throws(() => expandDatasets('@nope.txt'), (e: unknown) => e instanceof UserError && /--dataset @nope\.txt: neither a suite \(@paper27, @kornblith12\) nor a file/.test(e.message));
  const self = path.join(tmpDir('suite'), 'self.txt');
  fs.writeFileSync(self, `mnist\n@${self}\n`);
  assert.throws(() => expandDatasets(`@${self}`), (e: unknown) => e instanceof UserError && /includes itself/.test(e.message));
});

test('--dataset @FILE through a command; a packaged dataset through --dataset-root', async () => {
  const root = await writeWdsPackage(path.join(tmpDir('pkg'), 'sst2'), { classes: ['negative', 'positive'], splits: { test: labelsOf(2, 3) } });
  const file = path.join(tmpDir('suite'), 'two.txt');
  fs.writeFileSync(file, 'rendered_sst2\n');
  const r = await runCli(['zeroshot', '--model', tiny, '--dataset', `@${file}`, '--dataset-root', root, '--prompts', 'single', '--json', '--out', tmpDir('out'), '--cache-dir', tmpDir('cache')]);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { dataset: string; n_images: number }[];
  assert.deepEqual(rows.map((x) => [x.dataset, x.n_images]), [['rendered_sst2', 6]]);
});
