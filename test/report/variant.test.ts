/**
 * A row says which variant of its model made it (dtype, preprocessing, the model files' digest; the execution
 * provider recorded): another variant's run into the same --out adds rows beside it, never replaces or mixes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readResults, writeResults, type ZeroshotRow } from '../../src/results/index.js';
import { compareTable } from '../../src/report/regress.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';

test('zeroshot --dtype q8 --prompts single after an fp32 run: its own row, its own gain, both runs kept', async () => {
  const out = tmpDir('variant-out');
  const common = ['zeroshot', '--model', 'mini', '--limit', '200', '--cache-dir', tmpDir('variant-cache'), '--out', out, '--no-progress'];
  assert.equal((await runCli(common)).status, 0);
  const fp32 = readResults(out, 'zeroshot')!.rows;
  const q8run = await runCli([...common, '--dtype', 'q8', '--prompts', 'single']);
  assert.equal(q8run.status, 0, q8run.stderr);
  const doc = readResults(out, 'zeroshot')!;
  assert.equal(doc.rows.length, 4, 'three fp32 rows and the q8 row');
  const byDtype = (d: string) => doc.rows.filter((r) => r.dtype === d);
  assert.deepEqual(byDtype('fp32'), fp32, 'the fp32 rows are untouched');
  const [q8] = byDtype('q8');
  assert.equal(q8!.prompts, 'single');
  // no q8 contextless row: no gain (it is never q8 minus fp32)
  assert.equal(q8!.gain_vs_contextless, null);
  assert.equal(q8!.provider, 'cpu');
  assert.match(q8!.model_digest!, /^[0-9a-f]{12}$/);
  assert.notEqual(q8!.model_digest, fp32[0]!.model_digest, 'the int8 export is other files');
  assert.equal(q8!.preprocess, fp32[0]!.preprocess);
  // the JSON keeps each run's metadata
  assert.deepEqual(doc.runs.map((r) => r.dtype).sort(), ['fp32', 'q8']);
  // the terminal table and the CSV show the dtype
  assert.match(q8run.stdout, /q8/);
  const csv = fs.readFileSync(path.join(out, 'zeroshot.csv'), 'utf8').split('\n');
  assert.ok(csv[0]!.split(',').includes('dtype') && csv[0]!.split(',').includes('model_digest') && csv[0]!.split(',').includes('provider'));
  // regress names the variant: two rows of mini that differ only in dtype do not look alike
  const rows = compareTable('zeroshot', doc.rows, doc.rows, 'primary', 0.5);
  assert.ok(rows.some((r) => r.identity === 'mini[q8] fashion-mnist/test/single') && rows.some((r) => r.identity === 'mini[fp32] fashion-mnist/test/single'));
});

test('rows of files without the variant columns read as unknown, and match only unknown', () => {
  const dir = tmpDir('variant-old');
  const row = (extra: Partial<ZeroshotRow>): ZeroshotRow => ({
    model: 'm', dataset: 'd', split: 'test', prompts: 'single', n_templates: 1, n_images: 10, top1: 50, top5: null, mean_per_class: 50, primary_metric: 'accuracy', gain_vs_contextless: null, ...extra,
  });
  writeResults(dir, 'zeroshot', [row({})], []);
  // as an older clip-bench wrote it: no variant columns
  const json = path.join(dir, 'zeroshot.json');
  const doc = JSON.parse(fs.readFileSync(json, 'utf8'));
  doc.columns = doc.columns.filter((c: string) => !['dtype', 'preprocess', 'model_digest', 'provider'].includes(c));
  for (const r of doc.rows) for (const c of ['dtype', 'preprocess', 'model_digest', 'provider']) delete r[c];
  fs.writeFileSync(json, JSON.stringify(doc));
  const [old] = readResults(dir, 'zeroshot')!.rows;
  assert.equal(old!.dtype, null);
  writeResults(dir, 'zeroshot', [row({ dtype: 'fp32', preprocess: 'p', model_digest: 'x', top1: 60 })], []);
  const both = readResults(dir, 'zeroshot')!.rows;
  assert.deepEqual(both.map((r) => [r.dtype, r.top1]), [['fp32', 60], [null, 50]], 'the known variant did not replace the unknown one');
  const cmp = compareTable('zeroshot', [old!], both, 'primary', 0.5);
  assert.deepEqual(cmp.map((r) => [r.identity, r.status, r.old, r.new]).sort(), [['m d/test/single', 'ok', 50, 50], ['m[fp32] d/test/single', 'new', null, 60]]);
});
