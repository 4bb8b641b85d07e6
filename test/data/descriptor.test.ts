import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { UserError } from '../../src/errors.js';
import { defaultDatasetRoot, getDataset, listDatasets } from '../../src/data/registry.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-desc-'));

/** ROOT/{val,train}/<wnid>/<i>.png: three synsets, `perClass` images each, a colour per class. */
async function tinyImagenet(perClass = 2): Promise<string> {
  const root = tmp();
  const wnids: [string, string][] = [['n01440764', '#d00'], ['n01443537', '#0b0'], ['n01484850', '#00d']];
  for (const split of ['val', 'train']) {
    for (const [wnid, colour] of wnids) {
      mkdirSync(path.join(root, split, wnid), { recursive: true });
      for (let i = 0; i < perClass; i++) {
        await sharp({ create: { width: 20 + i, height: 18, channels: 3, background: colour } }).png().toFile(path.join(root, split, wnid, `${i}.png`));
      }
    }
  }
  return root;
}

test('zeroshot --dataset imagenet --classnames FILE on an ImageNet-layout folder', async () => {
  const root = await tinyImagenet();
  const dir = tmp();
  const names = path.join(dir, 'names.txt');
  writeFileSync(names, 'tench\ngoldfish\ngreat white shark\n');
  const out = tmp();
  const common = ['zeroshot', '--model', tiny, '--dataset', 'imagenet', '--split', 'val', '--dataset-root', root, '--cache-dir', tmp()];
  const r = await runCli([...common, '--classnames', names, '--json', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { dataset: string; prompts: string; n_images: number; n_templates: number }[];
  assert.deepEqual(rows.map((x) => x.prompts), ['contextless', 'single', 'ensemble']);
  for (const row of rows) {
    assert.equal(row.dataset, 'imagenet');
    assert.equal(row.n_images, 6);
  }
  assert.equal(rows[2]!.n_templates, 80, "ImageNet's own 80 templates");
  const runs = JSON.parse(readFileSync(path.join(out, 'zeroshot.json'), 'utf8')).runs as { class_names: string[][] }[];
  assert.deepEqual(runs.at(-1)!.class_names, [['tench'], ['goldfish'], ['great white shark']]);

  // a count that does not match the folders: one line naming the file, exit 2
  writeFileSync(names, 'tench\ngoldfish\n');
  const bad = await runCli([...common, '--classnames', names, '--out', out]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /names\.txt has 2 class names but .* has 3 class folders/);
  // without --classnames the paper's 1000 names do not fit 3 folders
  const noNames = await runCli([...common, '--out', out]);
  assert.equal(noNames.status, 2);
  assert.match(noNames.stderr, /the paper's 1000 imagenet classes has 1000 class names but .* has 3 class folders/);
});

test('zeroshot --dataset imagenet on an ImageNet-layout folder: the default --split test reads ROOT/val; the probe trains on ROOT/train', async () => {
  const root = await tinyImagenet();
  const names = path.join(tmp(), 'names.txt');
  writeFileSync(names, 'tench\ngoldfish\ngreat white shark\n');
  const common = ['--model', tiny, '--dataset', 'imagenet', '--dataset-root', root, '--classnames', names, '--cache-dir', tmp(), '--json', '--out', tmp()];
  const zs = await runCli(['zeroshot', ...common, '--prompts', 'single']);
  assert.equal(zs.status, 0, zs.stderr);
  const [row] = JSON.parse(zs.stdout) as { split: string; n_images: number }[];
  assert.deepEqual([row!.split, row!.n_images], ['test', 6]);
  const lp = await runCli(['linear-probe', ...common, '--val-fraction', '0.5']);
  assert.equal(lp.status, 0, lp.stderr);
  const [probe] = JSON.parse(lp.stdout) as { n_train: number; n_test: number }[];
  assert.equal(probe!.n_test, 6);
  // ImageNet's test split under its other name is still held out from training
  const tuned = await runCli(['linear-probe', ...common, '--train-split', 'val']);
  assert.equal(tuned.status, 2);
  assert.match(tuned.stderr, /^clip-bench: --train-split val: training or choosing C on a test split overstates accuracy \(held out: test, val\)/);
});

test('--classnames for a dataset with a fixed class list: the names replace the paper\'s, the count is checked', async () => {
  const dir = tmp();
  const ten = path.join(dir, 'ten.txt');
  writeFileSync(ten, Array.from({ length: 10 }, (_, i) => `thing ${i}`).join('\n'));
  const c10 = getDataset('cifar10', { classnamesFile: ten });
  assert.equal(c10.classOrigin, 'file');
  assert.equal(c10.classesFile, ten);
  assert.deepEqual(c10.classes.slice(0, 2), ['thing 0', 'thing 1']);
  assert.equal(getDataset('cifar10').classOrigin, 'paper');
  assert.equal(getDataset('cifar10').classes[0], 'airplane');
  const three = path.join(dir, 'three.txt');
  writeFileSync(three, 'a\nb\nc\n');
  for (const name of ['cifar10', 'mnist', 'stl10', 'fashion-mnist', 'cifar100']) {
    const want = name === 'cifar100' ? 100 : 10;
    assert.throws(
      () => getDataset(name, { classnamesFile: three }),
      (e: unknown) => e instanceof UserError && e.message === `--classnames ${three}: 3 names, but ${name} has ${want} classes`,
    );
  }
  // the data decides the count for folders (checked at open time), so any count is accepted here
  for (const name of ['imagenet', 'imagefolder', 'csv']) assert.equal(getDataset(name, { classnamesFile: three }).classes.length, 3);
});

test('descriptors: sources, class origins, split roles', () => {
  const byName = new Map(listDatasets().map((d) => [d.name, d]));
  assert.equal(byName.get('fashion-mnist')!.source.kind, 'bundled');
  assert.equal(byName.get('fashion-mnist')!.classOrigin, 'bundled');
  for (const n of ['mnist', 'cifar10', 'cifar100', 'stl10']) {
    const d = byName.get(n)!;
    assert.equal(d.source.kind, 'download');
    assert.equal(d.classOrigin, 'paper');
    assert.deepEqual(d.roles, { train: 'train', test: 'test' });
  }
  // ImageNet: CLIP_benchmark's package by default (its test split is ILSVRC2012's val, which `val` still names)
  const inet = byName.get('imagenet')!;
  assert.deepEqual(inet.source, { kind: 'hub', repoId: 'clip-benchmark/wds_imagenet1k' });
  assert.deepEqual(inet.roles, { train: 'train', test: 'test' });
  assert.deepEqual(inet.splitAliases, { val: 'test' });
  assert.equal(inet.resources.length, 0);
  for (const n of ['imagefolder', 'csv']) {
    const d = byName.get(n)!;
    assert.ok(d.source.kind === 'user' && d.source.generic);
    assert.equal(d.classOrigin, 'data');
    assert.equal(d.anySplit, true);
  }
  assert.equal(getDataset('ImageNet1k').name, 'imagenet');
});

test('clip-bench datasets describes every dataset', async () => {
  const root = await tinyImagenet(1);
  const r = await runCli(['datasets', '--wide']);
  assert.equal(r.status, 0, r.stderr);
  const [table, notes] = r.stdout.trimEnd().split('\n\n');
  const lines = table!.split('\n');
  const header = lines[0]!.split(/\s{2,}/);
  assert.deepEqual(header, ['dataset', 'source', 'classes', 'splits', 'paper_train_test', 'templates', 'primary_metric', 'present', 'root']);
  const rows = new Map(lines.slice(2).map((l) => {
    const cells = l.split(/\s{2,}/);
    return [cells[0]!, Object.fromEntries(header.map((h, i) => [h, cells[i]]))];
  }));
  assert.deepEqual([...rows.keys()], listDatasets().map((d) => d.name));
  const fm = rows.get('fashion-mnist')!;
  assert.equal(fm.source, 'bundled (or download 31 MB)');
  assert.equal(fm.paper_train_test, '-');
  assert.equal(fm.classes, '10 (bundled list)');
  assert.equal(fm.present, 'yes');
  assert.equal(fm.root, defaultDatasetRoot('fashion-mnist'));
  assert.equal(rows.get('cifar10')!.source, 'download 170 MB');
  assert.equal(rows.get('cifar10')!.classes, '10 (paper)');
  assert.equal(rows.get('cifar10')!.splits, 'train 50000, test 10000');
  assert.equal(rows.get('cifar10')!.paper_train_test, '50000/10000');
  // every paper dataset, with its source
  for (const d of listDatasets().filter((x) => x.paper)) {
    const row = rows.get(d.name)!;
    assert.equal(row.paper_train_test, `${d.paper!.train}/${d.paper!.test}`, d.name);
    if (d.source.kind === 'hub') {
      assert.equal(row.source, `hub ${d.source.repoId}${d.source.revision ? `@${d.source.revision}` : ''}`);
      assert.equal(row.present, 'fetched on first use');
      assert.equal(row.root, '(Hugging Face cache)');
    }
    if (d.protocolNote) assert.ok(notes!.includes(`  ${d.name}: ${d.protocolNote}`), d.name);
  }
  assert.equal(rows.get('food101')!.splits, 'train 75750, test 25250');
  assert.equal(rows.get('kinetics700')!.source, 'you provide a package, ROOT/<split>.csv or ROOT/<split>/<class>/<image>');
  assert.equal(rows.get('sun397')!.splits, 'test');
  const inet = rows.get('imagenet')!;
  assert.equal(inet.source, 'hub clip-benchmark/wds_imagenet1k');
  assert.equal(inet.classes, '1000 (paper)');
  assert.equal(inet.templates, '80');
  assert.equal(inet.splits, 'train 1281167, test 50000 (= val)');
  assert.equal(inet.root, '(Hugging Face cache)');
  assert.match(notes!, /imagenet: the package's test split is ILSVRC2012's 50,000 validation images .*--dataset-root DIR holding ROOT\/\{val,train\}\/<wnid>\/\*\.JPEG \(val as test\)/);
  // 25 of the paper's 27 are reachable without the user's own copy
  const provided = listDatasets().filter((d) => d.paper && rows.get(d.name)!.source.startsWith('you provide')).map((d) => d.name);
  assert.deepEqual(provided, ['kinetics700', 'hateful_memes']);
  for (const n of ['imagefolder', 'csv']) {
    assert.equal(rows.get(n)!.classes, 'from files');
    assert.equal(rows.get(n)!.root, '(--dataset-root)');
  }
  // a generic layout has no default root
  const noRoot = await runCli(['zeroshot', '--model', tiny, '--dataset', 'imagefolder', '--cache-dir', tmp(), '--out', tmp()]);
  assert.equal(noRoot.status, 2);
  assert.match(noRoot.stderr, /--dataset imagefolder: pass --dataset-root DIR, the folder holding ROOT\/<split>\/<class>\/<image>/);
  // with --dataset-root, ImageNet is found there
  const withRoot = await runCli(['datasets', '--wide', '--dataset-root', root]);
  const inetLine = withRoot.stdout.split('\n').find((l) => l.startsWith('imagenet '))!;
  assert.match(inetLine, /\byes\b/);
});

test('clip-bench datasets fits 100 columns by default, with the same datasets and metrics as --wide', async () => {
  const r = await runCli(['datasets']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  for (const l of lines) assert.ok([...l].length <= 100, `${[...l].length} > 100: ${l}`);
  const [table] = r.stdout.split('\n\n');
  const rows = table!.split('\n').slice(2).map((l) => l.split(/\s{2,}/));
  assert.deepEqual(rows.map((c) => c[0]), listDatasets().map((d) => d.name));
  assert.deepEqual(rows.map((c) => c[2]), listDatasets().map((d) => d.primaryMetric));
  const inet = rows.find((c) => c[0] === 'imagenet')!;
  assert.equal(inet[1], '1000');
});
