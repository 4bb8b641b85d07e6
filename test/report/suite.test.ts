// The suite-wide report sections (issue 11) on test/fixtures/report/suite/ (make-suite-fixture.mjs: the paper's
// own numbers shifted by fixed offsets, so every expected figure is recomputed here from paper_tables.json).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReport } from '../../src/report/report.js';
import { paperTables } from '../../src/paper/paper.js';
import { parseCsv } from '../../src/util/csv.js';
import { repoRoot } from '../support/helpers.js';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'report', 'suite');
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-suite-report-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
const readCsv = (file: string) => {
  const [head, ...rows] = parseCsv(readFileSync(file, 'utf8'), file).map((r) => r.fields);
  return rows.map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i]!])));
};
const paper = paperTables();
const t10 = paper.table10_linear_probe.models;
const t11 = paper.table11_zero_shot.models;
const k12 = paper.table10_linear_probe.kornblith12;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('suite-wide report sections', () => {
  const out = path.join(tmpRoot, 'report');
  let files: string[] = [];
  before(async () => {
    files = (await buildReport({ resultsDir: fixture, outDir: out, baselineModel: 'ResNet 50' })).files;
  });

  it('representation learning (Figure 10): averages over Kornblith 12, all 27 and the datasets run, beside Table 10', () => {
    const rows = readCsv(path.join(out, 'representation_learning.csv'));
    const vit = rows.find((r) => r.model === 'ViT-B/32')!;
    assert.equal(vit.kornblith12_mean, (mean(k12.map((d) => t10['ViT-B/32']![d]!)) - 1).toFixed(2));
    assert.equal(vit.kornblith12_datasets, '12');
    assert.equal(vit.paper27_mean, '', 'not all 27 run');
    assert.equal(vit.paper27_datasets, '13');
    assert.equal(vit.run_datasets, '13');
    assert.equal(vit.paper_kornblith12_mean, mean(k12.map((d) => t10['ViT-B/32']![d]!)).toFixed(2));
    assert.equal(vit.paper_paper27_mean, mean(Object.keys(paper.table9_linear_probe_datasets).map((d) => t10['ViT-B/32']![d]!)).toFixed(2));
    assert.equal(vit.gflops, '4.40');
    assert.equal(vit.missing_paper27.split(' ').length, 14);
    assert.ok(!vit.missing_paper27.includes('eurosat') && vit.missing_paper27.includes('mnist'));
    assert.ok(files.includes('representation_learning.png'));
  });

  it('Figure 11: linear probe minus the baseline model, with the paper difference', () => {
    const rows = readCsv(path.join(out, 'linear_probe_vs_baseline.csv'));
    const c10 = rows.find((r) => r.model === 'ViT-B/32' && r.dataset === 'cifar10')!;
    assert.equal(c10.delta, (t10['ViT-B/32']!.cifar10! - 1 - t10['ResNet 50']!.cifar10!).toFixed(2));
    assert.equal(c10.paper_delta, (t10['ViT-B/32']!.cifar10! - t10['ResNet 50']!.cifar10!).toFixed(2));
    assert.equal(rows.length, 13);
  });

  it('Figure 5 (a baseline backbone) and Figure 8 (the same model) are separate tables; subsets are not mixed', () => {
    const f5 = readCsv(path.join(out, 'zeroshot_vs_baseline_probe.csv'));
    const c10 = f5.find((r) => r.dataset === 'cifar10')!;
    assert.equal(c10.baseline_model, 'ResNet 50');
    assert.equal(c10.delta, (t11['ViT-B/32']!.cifar10! - 2 - t10['ResNet 50']!.cifar10!).toFixed(2));
    assert.equal(c10.paper_delta, (t11['ViT-B/32']!.cifar10! - t10['ResNet 50']!.cifar10!).toFixed(2));
    const f8 = readCsv(path.join(out, 'zeroshot_vs_linear_probe.csv'));
    assert.equal(f8.find((r) => r.dataset === 'cifar10')!.baseline_model, 'ViT-B/32');
    assert.equal(f8.find((r) => r.dataset === 'cifar10')!.delta, (t11['ViT-B/32']!.cifar10! - 2 - (t10['ViT-B/32']!.cifar10! - 1)).toFixed(2));
    const pets = f8.find((r) => r.dataset === 'oxford_pets')!;
    assert.equal(pets.subset, 'limit 500 (seed 0)');
    assert.equal(pets.linear_probe, '', 'the probe ran on the full split: not compared with a 500-image zero-shot');
  });

  it('Figure 6 averaged over the datasets run, with the paper curves', () => {
    const rows = readCsv(path.join(out, 'fewshot_average.csv'));
    const ours = rows.find((r) => r.model === 'ViT-B/32')!;
    assert.equal(ours.datasets, '2');
    // +1 on cifar10 and -1 on eurosat average to the paper's curve
    assert.equal(ours.fewshot_4, paper.figure6_fewshot_average_read_from_plot.linear_probe_clip[2]!.toFixed(2));
    assert.equal(ours.zeroshot, mean([t11['ViT-B/32']!.cifar10! - 2, t11['ViT-B/32']!.eurosat! - 2]).toFixed(2));
    assert.equal(rows.find((r) => r.model.startsWith('ResNet-50'))!.fewshot_16, paper.figure6_fewshot_average_read_from_plot.resnet50[4]!.toFixed(2));
    assert.ok(files.includes('fewshot_average.png'));
  });

  it('against the paper: Table 10 beside ours', () => {
    const rows = readCsv(path.join(out, 'against_paper_linear_probe.csv'));
    assert.deepEqual([...new Set(rows.filter((r) => r.model === 'ViT-B/32').map((r) => r.diff))], ['-1.00']);
    assert.deepEqual([...new Set(rows.filter((r) => r.model === 'ResNet 50').map((r) => r.diff))], ['0.00']);
  });

  it('coverage lists every paper dataset, evaluated or not, with sizes beside Table 9', () => {
    const rows = readCsv(path.join(out, 'coverage.csv'));
    const t9 = paper.table9_linear_probe_datasets;
    assert.deepEqual(rows.slice(0, 27).map((r) => r.dataset), Object.keys(t9));
    assert.equal(rows.filter((r) => r.status === 'evaluated').length, 13, 'the 12 of Kornblith and eurosat');
    assert.equal(rows.find((r) => r.dataset === 'mnist')!.status, 'not run');
    const pets = rows.find((r) => r.dataset === 'oxford_pets')!;
    assert.match(pets.note, /--limit subsets: limit 500 \(seed 0\)/);
    assert.equal(pets.paper_test, String(t9.oxford_pets!.test_size));
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const h of ['(Figure 5)', '(Figure 8)', '(Figure 10, Table 10)', '(Figure 11)', 'Coverage of the paper']) assert.ok(md.includes(h), h);
  });

  it('opens with a summary: means, averages, the rank among the paper models on the same datasets, what is missing', () => {
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    assert.ok(md.indexOf('## Summary') < md.indexOf('## How to read this report'), 'the summary comes before the methodology');
    assert.ok(md.indexOf('## Summary') < md.indexOf('## 1.'), 'and before the sections');
    const rows = readCsv(path.join(out, 'summary.csv'));
    const rep = readCsv(path.join(out, 'representation_learning.csv'));
    const vit = rows.find((r) => r.model === 'ViT-B/32')!;
    const vitRep = rep.find((r) => r.model === 'ViT-B/32')!;
    assert.equal(vit.linear_probe_mean, vitRep.run_mean);
    assert.equal(vit.linear_probe_datasets, '13');
    assert.equal(vit.kornblith12_mean, vitRep.kornblith12_mean);
    assert.equal(vit.paper27_mean, '', 'not all 27 run');
    // the rank recomputed from Table 10: every paper model with all 13 datasets, averaged over them
    const lp = readCsv(path.join(fixture, 'linear_probe.csv')).filter((r) => r.model === 'ViT-B/32' && r.limit === '');
    const run = [...new Set(lp.map((r) => r.dataset))];
    const oursMean = Number(vitRep.run_mean);
    const theirs = Object.values(t10).filter((v) => run.every((d) => typeof v[d] === 'number')).map((v) => mean(run.map((d) => v[d] as number)));
    assert.ok(theirs.length > 20, `${theirs.length} paper models have all ${run.length} datasets`);
    assert.equal(vit.linear_probe_rank, `${1 + theirs.filter((m) => m > oursMean).length} of ${theirs.length + 1}`);
    assert.equal(vit.missing_paper27.split(' ').length, 14);
    assert.match(md, /`ViT-B\/32`: zero-shot \*\*\d+\.\d\d\*\* \(mean over 3 datasets\); linear probe \*\*81\.65\*\* over the 13 datasets run/);
  });

  it('writes every table as LaTeX (booktabs) and every figure as SVG, PNG and a vector PDF', () => {
    for (const csv of files.filter((f) => f.endsWith('.csv'))) {
      const tex = readFileSync(path.join(out, csv.replace(/\.csv$/, '.tex')), 'utf8');
      assert.match(tex, /\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/, csv);
      const [head] = parseCsv(readFileSync(path.join(out, csv), 'utf8'), csv);
      assert.ok(tex.includes(head!.fields.map((h) => h.replace(/_/g, '\\_')).join(' & ')), `${csv}: the header row`);
    }
    const svgs = files.filter((f) => f.endsWith('.svg'));
    assert.ok(svgs.includes('summary_rank.svg') && svgs.length >= 6);
    for (const svg of svgs) {
      const pdf = readFileSync(path.join(out, svg.replace(/\.svg$/, '.pdf')));
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', `${svg}: a PDF`);
      assert.ok(!pdf.includes(Buffer.from('/Subtype /Image')), `${svg}: vector, no embedded raster`);
    }
  });
});
