import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReport } from '../../src/report/report.js';
import { parseCsv } from '../../src/util/csv.js';
import { repoRoot } from '../support/helpers.js';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'report', 'results');
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-report-test-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** CSV -> records keyed by header. */
function readCsv(file: string): Record<string, string>[] {
  const [head, ...rows] = parseCsv(readFileSync(file, 'utf8'), file).map((r) => r.fields);
  return rows.map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i]])));
}

describe('report on the fixture results', () => {
  const out = path.join(tmpRoot, 'report');
  let skipped: string[] = [];
  before(async () => {
    skipped = (await buildReport({ resultsDir: fixture, outDir: out })).skipped;
  });

  it('writes every CSV, report.md and the plots (SVG + PNG)', () => {
    for (const f of ['prompt_engineering.csv', 'zeroshot_vs_fewshot.csv', 'data_efficiency.csv', 'zeroshot_vs_linear_probe.csv', 'model_scaling.csv', 'against_paper.csv', 'report.md']) {
      assert.ok(existsSync(path.join(out, f)), f);
    }
    for (const p of ['prompt_gain', 'fewshot_curves', 'data_efficiency', 'model_scaling', 'zeroshot_vs_linear_probe']) {
      const svg = readFileSync(path.join(out, `${p}.svg`), 'utf8');
      assert.match(svg, /^<svg/);
      const png = readFileSync(path.join(out, `${p}.png`));
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `${p}.png is a PNG`);
      assert.ok(png.length > 5000, `${p}.png has content`);
    }
    assert.deepEqual(skipped, []);
    for (const f of ['prompt_engineering.csv', 'data_efficiency.csv', 'zeroshot_vs_fewshot.csv']) assert.ok(!readFileSync(path.join(out, f), 'utf8').includes('NaN'));
  });

  it('computes the prompt-engineering gains', () => {
    const rows = readCsv(path.join(out, 'prompt_engineering.csv'));
    const c10 = rows.find((r) => r.model === 'ViT-B/32' && r.dataset === 'cifar10')!;
    assert.deepEqual([c10.contextless, c10.single, c10.ensemble, c10.gain_single, c10.gain_ensemble], ['80.00', '85.50', '88.30', '5.50', '2.80']);
    const pets = rows.find((r) => r.model === 'ViT-B/32' && r.dataset === 'oxford_pets')!;
    assert.equal(pets.metric, 'mean_per_class');
    assert.equal(pets.gain_single, '10.00'); // mean per class: 80 - 70
    const mean = rows.find((r) => r.model === 'ViT-B/32' && r.dataset === 'MEAN')!;
    assert.equal(mean.gain_single, '7.75');
    assert.equal(mean.gain_ensemble, '3.40');
  });

  it('computes the data efficiency (recomputed and given values, median excluding "<1")', () => {
    const rows = readCsv(path.join(out, 'data_efficiency.csv'));
    const c10 = rows.find((r) => r.model === 'ViT-B/32' && r.dataset === 'cifar10')!;
    // zero-shot 88.3 lies between 16 shots (86) and the full probe (95 at 50000/10 = 5000 per class)
    const x = 2 ** (4 + ((88.3 - 86) / (95 - 86)) * (Math.log2(5000) - 4));
    assert.equal(c10.zeroshot_equivalent_shots, x.toFixed(1));
    assert.equal(c10.source, 'recomputed');
    assert.equal(rows.find((r) => r.model === 'ViT-B/32' && r.dataset === 'eurosat')!.zeroshot_equivalent_shots, '<1');
    const median = rows.find((r) => r.model === 'ViT-B/32' && r.dataset === 'MEDIAN')!;
    assert.equal(median.value, ((Number(x.toFixed(1)) + 10.1) / 2).toFixed(2));
    assert.match(median.note, /excluded: "<1" x1/);
    // mini's class count comes from its runs' class_names (10): 4 shots (30) .. full probe (60 at 5000)
    const mini = rows.find((r) => r.model === 'mini' && r.dataset === 'cifar10')!;
    assert.equal(mini.zeroshot_equivalent_shots, (2 ** (2 + ((40 - 30) / 30) * (Math.log2(5000) - 2))).toFixed(1));
  });

  it('compares zero-shot with few-shot, linear probes, the paper and across models', () => {
    const fs = readCsv(path.join(out, 'zeroshot_vs_fewshot.csv'));
    const c10 = fs.find((r) => r.model === 'ViT-B/32' && r.dataset === 'cifar10')!;
    assert.equal(c10.zeroshot, '88.30');
    assert.equal(c10.fewshot_16_mean, '86.00');
    assert.equal(c10.fewshot_16_std, '1.50');

    const lp = readCsv(path.join(out, 'zeroshot_vs_linear_probe.csv'));
    assert.equal(lp.find((r) => r.model === 'ViT-B/32' && r.dataset === 'cifar10')!.delta, '-6.70');

    const paper = readCsv(path.join(out, 'against_paper.csv'));
    const p = paper.find((r) => r.model === 'ViT-B/32' && r.dataset === 'cifar10')!;
    assert.deepEqual([p.ours, p.paper, p.diff], ['88.30', '91.30', '-3.00']);
    assert.ok(!paper.some((r) => r.model === 'mini'), 'mini is not a paper model');

    const sc = readCsv(path.join(out, 'model_scaling.csv'));
    assert.deepEqual(sc.map((r) => [r.model, r.gflops, r.zeroshot_mean, r.linear_probe_mean]), [
      ['mini', '0.50', '31.67', '60.00'],
      ['ViT-B/32', '4.40', '72.43', '93.33'],
    ]);

    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const img of ['prompt_gain.png', 'fewshot_curves.png', 'data_efficiency.png', 'model_scaling.png']) assert.ok(md.includes(`](${img})`), img);
    assert.match(md, /\| ViT-B\/32 \| cifar10 \| accuracy \| accuracy \| 88\.30 \| 91\.30 \| -3\.00 \|/);
  });

  it('compares with --baseline-model and --models-table; refuses an unknown baseline model', async () => {
    const out2 = path.join(tmpRoot, 'report2');
    const table = path.join(tmpRoot, 'models.csv');
    writeFileSync(table, 'model,gflops\nmini,1.25\nViT-B/32,4.4\n');
    await buildReport({ resultsDir: fixture, outDir: out2, baselineModel: 'mini', modelsTable: table });
    const lp = readCsv(path.join(out2, 'zeroshot_vs_baseline_probe.csv')); // Figure 5: the baseline backbone's probe
    const r = lp.find((x) => x.model === 'ViT-B/32' && x.dataset === 'cifar10')!;
    assert.deepEqual([r.baseline_model, r.linear_probe, r.delta], ['mini', '60.00', '28.30']);
    assert.equal(readCsv(path.join(out2, 'model_scaling.csv'))[0].gflops, '1.25');
    await assert.rejects(buildReport({ resultsDir: fixture, outDir: out2, baselineModel: 'nope' }), (e: Error) => e.name === 'UserError' && /--baseline-model nope/.test(e.message));
    await assert.rejects(buildReport({ resultsDir: path.join(tmpRoot, 'absent'), outDir: out2 }), (e: Error) => e.name === 'UserError' && /--results/.test(e.message));
  });

  it('is deterministic: a second report gives the same CSVs and report.md', async () => {
    const out3 = path.join(tmpRoot, 'report3');
    await buildReport({ resultsDir: fixture, outDir: out3 });
    for (const f of ['prompt_engineering.csv', 'data_efficiency.csv', 'zeroshot_vs_fewshot.csv', 'report.md']) {
      assert.equal(readFileSync(path.join(out3, f), 'utf8').replace(out3, ''), readFileSync(path.join(out, f), 'utf8').replace(out, ''), f);
    }
  });
});
