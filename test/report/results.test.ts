import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { equivalentShotsValue, zeroshotEquivalentShots } from '../../src/results/efficiency.js';
import {
  FEWSHOT_COLUMNS,
  LINEAR_PROBE_COLUMNS,
  ZEROSHOT_COLUMNS,
  formatTable,
  parseResultsCsv,
  readResults,
  writeResults,
  type FewshotRow,
  type LinearProbeRow,
  type ZeroshotRow,
} from '../../src/results/index.js';

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-results-test-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const tmp = () => path.join(tmpRoot, `d${n++}`);

function zs(model: string, dataset: string, prompts: ZeroshotRow['prompts'], top1: number, extra: Partial<ZeroshotRow> = {}): ZeroshotRow {
  return {
    model, dataset, split: 'test', prompts, n_templates: prompts === 'ensemble' ? 18 : 1, n_images: 10000,
    top1, top5: top1 + 5, mean_per_class: top1 - 1, primary_metric: 'accuracy', gain_vs_contextless: null, ...extra,
  };
}
const run = (model: string, dataset: string, ts = '2026-01-01T00:00:00Z') => ({ model, dataset, split: 'test', model_identity: 'h1', timestamp: ts, image_gflops: null });

describe('results tables', () => {
  it('exports the fixed column orders', () => {
    assert.deepEqual([...ZEROSHOT_COLUMNS], ['model', 'dataset', 'split', 'prompts', 'n_templates', 'n_images', 'top1', 'top5', 'mean_per_class', 'primary_metric', 'gain_vs_contextless', 'limit', 'subset_seed', 'skipped_images', 'top1_lo', 'top1_hi', 'top5_lo', 'top5_hi', 'mean_per_class_lo', 'mean_per_class_hi', 'primary', 'primary_lo', 'primary_hi', 'intervals', 'dtype', 'preprocess', 'model_digest', 'provider']);
    assert.deepEqual([...LINEAR_PROBE_COLUMNS], ['model', 'dataset', 'n_train', 'n_val', 'n_test', 'C', 'top1', 'top5', 'mean_per_class', 'primary_metric', 'solver', 'seconds', 'limit', 'subset_seed', 'skipped_images', 'top1_lo', 'top1_hi', 'top5_lo', 'top5_hi', 'mean_per_class_lo', 'mean_per_class_hi', 'primary', 'primary_lo', 'primary_hi', 'features', 'intervals', 'dtype', 'preprocess', 'model_digest', 'provider']);
    assert.deepEqual([...FEWSHOT_COLUMNS], ['model', 'dataset', 'shots', 'seeds', 'top1_mean', 'top1_std', 'mean_per_class_mean', 'mean_per_class_std', 'primary_metric', 'zeroshot_top1', 'zeroshot_equivalent_shots', 'limit', 'subset_seed', 'skipped_images', 'top1_mean_lo', 'top1_mean_hi', 'mean_per_class_mean_lo', 'mean_per_class_mean_hi', 'primary_mean', 'primary_std', 'primary_mean_lo', 'primary_mean_hi', 'features', 'intervals', 'dtype', 'preprocess', 'model_digest', 'provider']);
  });

  it('writes the exact CSV text (fixed decimals, blanks, sorted, gains derived)', () => {
    const dir = tmp();
    writeResults(dir, 'zeroshot', [
      zs('m', 'cifar10', 'ensemble', 88.3456),
      zs('m', 'cifar10', 'contextless', 80),
      zs('m', 'cifar10', 'single', 85.5, { top5: null }),
      zs('m', 'pets', 'single', 70.125, { primary_metric: 'mean_per_class', mean_per_class: 69.999 }),
    ], [run('m', 'cifar10'), run('m', 'pets')]);
    assert.equal(readFileSync(path.join(dir, 'zeroshot.csv'), 'utf8'), [
      'model,dataset,split,prompts,n_templates,n_images,top1,top5,mean_per_class,primary_metric,gain_vs_contextless,limit,subset_seed,skipped_images,top1_lo,top1_hi,top5_lo,top5_hi,mean_per_class_lo,mean_per_class_hi,primary,primary_lo,primary_hi,intervals,dtype,preprocess,model_digest,provider',
      'm,cifar10,test,contextless,1,10000,80.00,85.00,79.00,accuracy,,,,,,,,,,,,,,,,,,',
      'm,cifar10,test,single,1,10000,85.50,,84.50,accuracy,5.50,,,,,,,,,,,,,,,,,',
      'm,cifar10,test,ensemble,18,10000,88.35,93.35,87.35,accuracy,8.35,,,,,,,,,,,,,,,,,',
      'm,pets,test,single,1,10000,70.13,75.13,70.00,mean_per_class,,,,,,,,,,,,,,,,,,',
      '',
    ].join('\n'));
    const json = JSON.parse(readFileSync(path.join(dir, 'zeroshot.json'), 'utf8'));
    assert.equal(json.table, 'zeroshot');
    assert.equal(typeof json.tool_version, 'string');
    assert.deepEqual(json.columns, [...ZEROSHOT_COLUMNS]);
    assert.equal(json.rows[2].top1, 88.3456, 'JSON keeps full precision');
    assert.deepEqual(Object.keys(json.rows[0]), [...ZEROSHOT_COLUMNS]);
    assert.equal(json.runs.length, 2);
    assert.equal(json.runs[0].model_identity, 'h1');
  });

  it('formats linear_probe and fewshot columns (C 6 significant digits, seconds, std, equivalent shots)', () => {
    const dir = tmp();
    const lp: LinearProbeRow = { model: 'm', dataset: 'd', n_train: 50000, n_val: 10000, n_test: 10000, C: 0.00031622776601683794, top1: 95, top5: null, mean_per_class: 94.95, primary_metric: 'accuracy', solver: 'lbfgs', seconds: 12.3456 };
    writeResults(dir, 'linear_probe', [lp], []);
    assert.equal(readFileSync(path.join(dir, 'linear_probe.csv'), 'utf8').split('\n')[1], 'm,d,50000,10000,10000,0.000316228,95.00,,94.95,accuracy,lbfgs,12.35,,,,,,,,,,,,,embedding,,,,,');
    const fs: FewshotRow[] = [4, 1, 16].map((shots) => ({ model: 'm', dataset: 'd', shots, seeds: 3, top1_mean: 50 + shots, top1_std: 1.234, mean_per_class_mean: null, mean_per_class_std: null, primary_metric: 'accuracy', zeroshot_top1: 60, zeroshot_equivalent_shots: '5.4' }));
    writeResults(dir, 'fewshot', fs, []);
    assert.deepEqual(readFileSync(path.join(dir, 'fewshot.csv'), 'utf8').trim().split('\n').slice(1), [
      'm,d,1,3,51.00,1.23,,,accuracy,60.00,5.4,,,,,,,,,,,,embedding,,,,,',
      'm,d,4,3,54.00,1.23,,,accuracy,60.00,5.4,,,,,,,,,,,,embedding,,,,,',
      'm,d,16,3,66.00,1.23,,,accuracy,60.00,5.4,,,,,,,,,,,,embedding,,,,,',
    ]);
  });

  it('merges: keeps other identities, replaces its own rows and runs, sorts deterministically', () => {
    const dir = tmp();
    writeResults(dir, 'zeroshot', [zs('b', 'cifar10', 'ensemble', 50), zs('a', 'cifar10', 'ensemble', 60)], [run('b', 'cifar10', 't1'), run('a', 'cifar10', 't1')]);
    writeResults(dir, 'zeroshot', [zs('a', 'cifar10', 'contextless', 55), zs('a', 'cifar10', 'ensemble', 61)], [run('a', 'cifar10', 't2')]);
    const r = readResults(dir, 'zeroshot')!;
    assert.deepEqual(r.rows.map((x) => `${x.model}/${x.prompts}/${x.top1}/${x.gain_vs_contextless}`), ['a/contextless/55/null', 'a/ensemble/61/6', 'b/ensemble/50/null']);
    assert.deepEqual(r.runs.map((x) => `${x.model}:${x.timestamp}`), ['a:t2', 'b:t1']);
    // a later contextless row fills in the gain of an earlier row
    writeResults(dir, 'zeroshot', [zs('b', 'cifar10', 'contextless', 45)], [run('b', 'cifar10', 't3')]);
    const r2 = readResults(dir, 'zeroshot')!;
    assert.equal(r2.rows.find((x) => x.model === 'b' && x.prompts === 'ensemble')!.gain_vs_contextless, 5);
    assert.equal(readResults(dir, 'fewshot'), null, 'absent table reads as null');
    assert.deepEqual(readdirSync(dir).sort(), ['zeroshot.csv', 'zeroshot.json'], 'no temp files left behind');
  });

  it('sorts fewshot shots numerically and propagates the newest zero-shot columns to the model x dataset', () => {
    const dir = tmp();
    const row = (shots: number, eq: string | null): FewshotRow => ({ model: 'm', dataset: 'd', shots, seeds: 2, top1_mean: shots, top1_std: 0, mean_per_class_mean: shots, mean_per_class_std: 0, primary_metric: 'accuracy', zeroshot_top1: 10, zeroshot_equivalent_shots: eq });
    writeResults(dir, 'fewshot', [row(16, '> 16'), row(2, '> 16')], []);
    writeResults(dir, 'fewshot', [row(32, '20.5'), row(8, '20.5')], []);
    const r = readResults(dir, 'fewshot')!;
    assert.deepEqual(r.rows.map((x) => x.shots), [2, 8, 16, 32]);
    assert.deepEqual([...new Set(r.rows.map((x) => x.zeroshot_equivalent_shots))], ['20.5']);
  });

  it('gives identical CSVs for two runs of the same evaluation (timestamps only in JSON)', () => {
    const a = tmp();
    const b = tmp();
    writeResults(a, 'zeroshot', [zs('m', 'd', 'single', 1 / 3)], [run('m', 'd', 'time-1')]);
    writeResults(b, 'zeroshot', [zs('m', 'd', 'single', 1 / 3)], [run('m', 'd', 'time-2')]);
    assert.equal(readFileSync(path.join(a, 'zeroshot.csv'), 'utf8'), readFileSync(path.join(b, 'zeroshot.csv'), 'utf8'));
  });

  it('refuses NaN and Infinity (rows and runs) without touching the files', () => {
    const dir = tmp();
    writeResults(dir, 'zeroshot', [zs('m', 'd', 'single', 50)], []);
    const before = readFileSync(path.join(dir, 'zeroshot.csv'), 'utf8');
    assert.throws(() => writeResults(dir, 'zeroshot', [zs('m', 'd', 'single', Number.NaN)], []), /top1.*NaN/);
    assert.throws(() => writeResults(dir, 'zeroshot', [zs('m', 'd', 'single', 50, { top5: Infinity })], []), /top5/);
    assert.throws(() => writeResults(dir, 'zeroshot', [zs('m', 'd', 'single', 50)], [{ model: 'm', dataset: 'd', image_gflops: Number.NaN }]), /image_gflops/);
    assert.throws(() => writeResults(dir, 'zeroshot', [zs('m', 'd', 'single', 50), zs('m', 'd', 'single', 51)], []), /duplicate/);
    assert.equal(readFileSync(path.join(dir, 'zeroshot.csv'), 'utf8'), before);
    assert.ok(!readFileSync(path.join(dir, 'zeroshot.csv'), 'utf8').includes('NaN'));
  });

  it('reads a CSV back (regress accepts CSV baselines) and rejects a corrupt JSON with a UserError', () => {
    const dir = tmp();
    writeResults(dir, 'zeroshot', [zs('m', 'd', 'contextless', 50), zs('m', 'd', 'ensemble', 60.5)], []);
    const parsed = parseResultsCsv(readFileSync(path.join(dir, 'zeroshot.csv'), 'utf8'), 'x.csv');
    assert.equal(parsed.table, 'zeroshot');
    assert.equal((parsed.rows[1] as ZeroshotRow).top1, 60.5);
    assert.equal((parsed.rows[0] as ZeroshotRow).gain_vs_contextless, null);
    writeFileSync(path.join(dir, 'zeroshot.json'), '{ nope');
    assert.throws(() => readResults(dir, 'zeroshot'), (e: Error) => e.name === 'UserError' && /zeroshot\.json/.test(e.message));
  });

  it('formats an aligned text table', () => {
    const t = formatTable(['model', 'top1', 'note'], [{ model: 'ViT-B/32', top1: 88.3456, note: 'x' }, { model: 'm', top1: 5, note: null }]);
    assert.equal(t, ['model      top1  note', '--------  -----  ----', 'ViT-B/32  88.35  x', 'm             5', ''].join('\n'));
  });
});

describe('zero-shot equivalent shots', () => {
  const pts = [1, 2, 4, 8, 16].map((x, i) => ({ x, acc: [50, 65, 75, 82, 88][i] }));
  it('interpolates log-linearly', () => {
    assert.equal(zeroshotEquivalentShots(pts, 84), (2 ** (3 + 1 / 3)).toFixed(1)); // 10.1
    assert.equal(zeroshotEquivalentShots(pts, 75), '4.0');
  });
  it('reports censored values', () => {
    assert.equal(zeroshotEquivalentShots(pts, 40), '<1');
    assert.equal(zeroshotEquivalentShots(pts, 95), '> 16');
    assert.equal(zeroshotEquivalentShots([...pts, { x: 5000, acc: 96 }], 99), '> 5000');
    assert.equal(zeroshotEquivalentShots([], 50), null);
    assert.equal(equivalentShotsValue('<1'), null);
    assert.equal(equivalentShotsValue('> 16'), null);
    assert.equal(equivalentShotsValue('5.4'), 5.4);
  });
});
