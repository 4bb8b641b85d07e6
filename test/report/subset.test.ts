// Issue 12 item 4: a row's identity includes the images it was computed on (--limit, its seed, skipped images),
// and every comparison matches on it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { zeroshotVsFewshot, zeroshotVsLinearProbe } from '../../src/report/compare.js';
import { evaluationCommands, loadBaseline } from '../../src/report/regress.js';
import { readResults, writeResults, type FewshotRow, type LinearProbeRow, type Subset, type ZeroshotRow } from '../../src/results/index.js';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/helpers.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-subset-test-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const tmp = () => path.join(tmpRoot, `d${n++}`);

const FULL: Subset = { limit: null, subset_seed: null, skipped_images: 0 };
const sub = (limit: number, seed = 0, skipped = 0): Subset => ({ limit, subset_seed: seed, skipped_images: skipped });
const zs = (prompts: ZeroshotRow['prompts'], top1: number, s: Subset, model = 'm'): ZeroshotRow => ({
  model, dataset: 'd', split: 'test', prompts, n_templates: 1, n_images: s.limit ?? 1000, top1, top5: null, mean_per_class: top1,
  primary_metric: 'accuracy', gain_vs_contextless: null, ...s,
});
const lp = (top1: number, s: Subset, model = 'm'): LinearProbeRow => ({
  model, dataset: 'd', n_train: 100, n_val: 20, n_test: 100, C: 1, top1, top5: null, mean_per_class: top1, primary_metric: 'accuracy', solver: 'lbfgs', seconds: 1, ...s,
});
const fs = (shots: number, top1: number, s: Subset): FewshotRow => ({
  model: 'm', dataset: 'd', shots, seeds: 2, top1_mean: top1, top1_std: 0, mean_per_class_mean: top1, mean_per_class_std: 0,
  primary_metric: 'accuracy', zeroshot_top1: null, zeroshot_equivalent_shots: null, ...s,
});

describe('row identity includes the image subset', () => {
  it('keeps rows of different subsets apart, and gain_vs_contextless only subtracts the same subset', () => {
    const dir = tmp();
    writeResults(dir, 'zeroshot', [zs('contextless', 50, sub(1000))], []);
    writeResults(dir, 'zeroshot', [zs('single', 60, sub(500))], []);
    let rows = readResults(dir, 'zeroshot')!.rows;
    assert.equal(rows.length, 2, 'a 500-image row does not replace a 1000-image row');
    assert.equal(rows.find((r) => r.limit === 500)!.gain_vs_contextless, null, 'no contextless row on these 500 images');
    writeResults(dir, 'zeroshot', [zs('contextless', 52, sub(500)), zs('single', 61, sub(500, 7))], []);
    rows = readResults(dir, 'zeroshot')!.rows;
    assert.equal(rows.find((r) => r.prompts === 'single' && r.subset_seed === 0)!.gain_vs_contextless, 8);
    assert.equal(rows.find((r) => r.prompts === 'single' && r.subset_seed === 7)!.gain_vs_contextless, null, 'another seed is other images');
    writeResults(dir, 'zeroshot', [zs('single', 70, sub(500, 0, 2))], []);
    assert.equal(readResults(dir, 'zeroshot')!.rows.find((r) => r.skipped_images === 2)!.gain_vs_contextless, null, 'skipped images make other images');
    const csv = readFileSync(path.join(dir, 'zeroshot.csv'), 'utf8').split('\n');
    assert.equal(csv[1], 'm,d,test,contextless,1,500,52.00,,52.00,accuracy,,500,0,0,,,,,,,,,,,,,,');
  });

  it('report comparisons match on the subset (Figure 5/6 tables)', () => {
    const z = [zs('ensemble', 70, sub(500)), zs('ensemble', 72, FULL)];
    const c = zeroshotVsLinearProbe(z, [lp(80, FULL)]);
    assert.deepEqual(c.rows.map((r) => [r.subset, r.zeroshot, r.linear_probe, r.delta]), [
      ['full split', 72, 80, -8],
      ['limit 500 (seed 0)', 70, null, null],
    ]);
    const f = zeroshotVsFewshot(z, [fs(1, 40, sub(500)), fs(1, 45, FULL)]);
    assert.deepEqual(f.rows.filter((r) => r.dataset === 'd').map((r) => [r.subset, r.zeroshot, r.fewshot_1_mean]), [
      ['full split', 72, 45],
      ['limit 500 (seed 0)', 70, 40],
    ]);
  });

  it('regress --run re-runs the baseline rows on their own images (--limit, --seed, --skip-bad-images)', () => {
    const dir = tmp();
    writeResults(dir, 'zeroshot', [zs('contextless', 50, sub(500, 3)), zs('single', 60, FULL)], []);
    writeResults(dir, 'linear_probe', [lp(80, sub(200, 1, 2))], []);
    writeResults(dir, 'fewshot', [fs(1, 40, sub(300)), fs(2, 50, sub(300))], []);
    const cmds = evaluationCommands(loadBaseline(dir), '/tmp/out').map((c) => c.args.join(' '));
    assert.deepEqual(cmds, [
      'zeroshot --model m --dataset d --split test --prompts single --out /tmp/out',
      'zeroshot --model m --dataset d --split test --prompts contextless --out /tmp/out --limit 500 --seed 3',
      'linear-probe --model m --dataset d --out /tmp/out --limit 200 --seed 1 --skip-bad-images',
      'fewshot --model m --dataset d --shots 1,2 --seeds 2 --out /tmp/out --limit 300 --seed 0',
    ]);
  });
});

describe('commands match on the subset', () => {
  it("fewshot takes its zero-shot figure only from the same test images; regress --run reproduces a --limit baseline", async () => {
    const out = tmp();
    const cache = tmp();
    const common = ['--model', tiny, '--out', out, '--cache-dir', cache, '--threads', '1'];
    assert.equal((await runCli(['zeroshot', ...common, '--limit', '200'])).status, 0);
    const other = await runCli(['fewshot', ...common, '--limit', '300', '--shots', '1', '--seeds', '1', '--json']);
    assert.equal(other.status, 0, other.stderr);
    assert.equal(JSON.parse(other.stdout)[0].zeroshot_top1, null, 'no zero-shot row on these 300 images');
    assert.equal((await runCli(['zeroshot', ...common, '--limit', '300'])).status, 0);
    const same = await runCli(['fewshot', ...common, '--limit', '300', '--shots', '1', '--seeds', '1', '--json']);
    const zsRows = readResults(out, 'zeroshot')!.rows;
    assert.equal(zsRows.length, 6, 'two subsets x three prompt modes');
    const ensemble300 = zsRows.find((r) => r.limit === 300 && r.prompts === 'ensemble')!;
    assert.equal(JSON.parse(same.stdout)[0].zeroshot_top1, ensemble300.top1);
    assert.equal(ensemble300.subset_seed, 0);
    assert.equal(ensemble300.skipped_images, 0);
    assert.equal(ensemble300.n_images, 300);

    // the 200-image rows as a baseline: --run must evaluate those 200 images again (all 10,000 would not match)
    const base = tmp();
    writeResults(base, 'zeroshot', zsRows.filter((r) => r.limit === 200), []);
    const r = await runCli(['regress', '--baseline', base, '--run', '--tolerance', '0', '--run-args', `--cache-dir ${cache} --threads 1`]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /clip-bench zeroshot .* --limit 200 --seed 0/);
    assert.match(r.stdout, /3 ok, 0 DROP, 0 missing, 0 new -> PASS/);
    assert.match(r.stdout, /\+?0\.00\s+ok/);
  });
});
