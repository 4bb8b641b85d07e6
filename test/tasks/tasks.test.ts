// The task registry: what each evaluation applies to and which splits it reads, from the datasets' descriptors;
// --tasks in the registry's order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { repoRoot } from '../support/helpers.js';
import { readResults } from '../../src/results/index.js';
import { HeldResults, resultsIn } from '../../src/tasks/prior-results.js';
import { UserError } from '../../src/errors.js';
import { getDataset } from '../../src/data/registry.js';
import { TASKS } from '../../src/tasks/index.js';
import { factsOf } from '../../src/tasks/run.js';
import { parseTasks } from '../../src/suite/units.js';

const task = (name: string) => TASKS.find((t) => t.name === name)!;

test('tasks: one registry, in the order a suite runs them, each writing its own table', () => {
  assert.deepEqual(TASKS.map((t) => [t.name, t.table]), [['zeroshot', 'zeroshot'], ['linear-probe', 'linear_probe'], ['fewshot', 'fewshot']]);
  assert.deepEqual(parseTasks('fewshot, zeroshot').map((t) => t.name), ['zeroshot', 'fewshot']);
  assert.throws(() => parseTasks('zeroshot,retrieval'), (e: unknown) => e instanceof UserError && e.message === '--tasks retrieval: unknown task (one of zeroshot, linear-probe, fewshot)');
});

test('tasks: splits and applicability come from the dataset descriptor (no train split: no probes; multilabel: no few-shot)', () => {
  const imagenet = getDataset('imagenet');
  assert.deepEqual(task('zeroshot').splits(imagenet), { test: 'test' });
  assert.deepEqual(task('linear-probe').splits(imagenet), { train: 'train', val: undefined, test: 'test' });
  assert.deepEqual(task('fewshot').splits(imagenet), { train: 'train', test: 'test' });
  for (const t of TASKS) assert.equal(t.applies(factsOf(getDataset('fashion-mnist'))), true, t.name);

  const sun = factsOf(getDataset('sun397'));
  assert.equal(task('zeroshot').applies(sun), true);
  assert.equal(task('linear-probe').applies(sun), 'sun397 has no train split (see clip-bench datasets)');
  assert.equal(task('fewshot').applies(sun), 'sun397 has no train split (see clip-bench datasets)');

  const voc = factsOf(getDataset('voc2007'));
  assert.equal(voc.multilabel, true);
  assert.equal(task('linear-probe').applies(voc), true);
  assert.equal(task('fewshot').applies(voc), 'voc2007: few-shot probes (k images per class) are not defined for a multilabel dataset; use zeroshot or linear-probe');
  // zero-shot takes the embedding and the text tower; the probes --features, and few-shot the text tower only when
  // it computes its own zero-shot figure
  assert.deepEqual(TASKS.map((t) => t.model({ withZeroshot: false, features: 'pre-projection' })), [
    { features: 'embedding', text: true },
    { features: 'pre-projection', text: false },
    { features: 'pre-projection', text: false },
  ]);
  assert.deepEqual(task('fewshot').model({ withZeroshot: true }), { features: 'embedding', text: true });
});

test('tasks: the rows earlier tasks gave are held in memory for their tables, the others read from --out', () => {
  const dir = tmpDir('prior');
  for (const t of ['zeroshot', 'linear_probe']) fs.copyFileSync(path.join(repoRoot, 'results', 'baseline', `${t}.json`), path.join(dir, `${t}.json`));
  const onDisk = readResults(dir, 'zeroshot')!.rows;
  assert.ok(onDisk.length > 0);
  const held = new HeldResults(['zeroshot', 'fewshot'], dir);
  assert.deepEqual(held.rows('zeroshot'), [], 'a held table starts empty, whatever --out holds');
  assert.equal(held.rows('linear_probe').length, readResults(dir, 'linear_probe')!.rows.length);
  held.add('zeroshot', onDisk.slice(0, 2));
  assert.deepEqual(held.rows('zeroshot'), onDisk.slice(0, 2));
  held.clear();
  assert.deepEqual(held.rows('zeroshot'), []);
  assert.deepEqual(resultsIn(dir).rows('zeroshot'), onDisk);
});

test('tasks: in a suite, few-shot rows carry the zero-shot and probe figures of the same run (same images)', async () => {
  const out = tmpDir('tasks-suite');
  const r = await runCli(['suite', '--model', 'mini', '--dataset', 'fashion-mnist', '--limit', '100', '--shots', '1,2', '--seeds', '2', '--no-report', '--no-progress', '--cache-dir', tmpDir('tasks-cache'), '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const read = (t: string) => JSON.parse(fs.readFileSync(path.join(out, `${t}.json`), 'utf8'));
  const ensemble = read('zeroshot').rows.find((x: { prompts: string }) => x.prompts === 'ensemble');
  const probe = read('linear_probe').rows[0];
  const fewshot = read('fewshot');
  assert.equal(fewshot.rows.length, 2);
  for (const row of fewshot.rows) assert.equal(row.zeroshot_top1, ensemble.primary);
  assert.equal(fewshot.runs[0].zeroshot_source, 'zeroshot.json');
  assert.deepEqual(fewshot.runs[0].linear_probe_point, { x: (probe.n_train + probe.n_val) / 10, acc: probe.primary });
});
