import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { metricsOfOutcomes, type ImageOutcomes } from '../../src/eval/metrics.js';
import { buildReport } from '../../src/report/report.js';
import { writeResults } from '../../src/results/index.js';
import { zeroshotTable } from '../../src/results/tables/zeroshot.js';

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-confidence-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** 10,000 images of 10 classes, the first `right` of every 1,000 right. */
function outcomes(right: number): ImageOutcomes {
  const n = 10000;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  const ok = (i: number) => Math.floor(i / 10) % 1000 < right;
  return { n, nClasses: 10, labels, predicted: labels.map((y, i) => (ok(i) ? y : (y + 1) % 10)), trueRank: Int32Array.from({ length: n }, (_, i) => (ok(i) ? 0 : 1)) };
}

it("report: scores with 95% intervals, the models within the best's 99.5% Clopper-Pearson interval in bold", async () => {
  const dir = path.join(tmpRoot, 'results');
  const rows = [];
  const outs = [];
  // best 80.0% on 10,000 images: its 99.5% interval starts at 78.88%, so 79.2% is bold and 78.0% is not
  for (const [model, right] of [['a', 800], ['b', 792], ['c', 780]] as const) {
    const input = {
      model, dataset: 'fashion-mnist', split: 'test', subset: { limit: null, subset_seed: null, skipped_images: 0 }, nImages: 10000, primaryMetric: 'accuracy' as const,
      results: [{ mode: 'ensemble' as const, templates: ['a photo of a {}.'], metrics: metricsOfOutcomes(outcomes(right)), gainVsContextless: null }],
    };
    rows.push(...zeroshotTable.build(input));
    outs.push(...zeroshotTable.outcomes(input));
  }
  writeResults(dir, 'zeroshot', rows, [], outs);
  const res = await buildReport({ resultsDir: dir });
  assert.ok(res.files.includes('confidence.csv') && res.files.includes('confidence.svg'));
  const csv = readFileSync(path.join(res.outDir, 'confidence.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'evaluation,dataset,subset,model,n,score,lo95,hi95,interval_over,best');
  assert.match(csv[1]!, /^zero-shot,fashion-mnist,full split,a,10000,80\.00,79\.2\d,80\.7\d,images,yes$/);
  assert.match(csv[2]!, /^zero-shot,fashion-mnist,full split,b,10000,79\.20,78\.\d\d,79\.\d\d,images,yes$/);
  assert.match(csv[3]!, /^zero-shot,fashion-mnist,full split,c,10000,78\.00,77\.\d\d,78\.\d\d,images,$/);
  const md = readFileSync(path.join(res.outDir, 'report.md'), 'utf8');
  assert.match(md, /\| zero-shot \| fashion-mnist \| a \| 10000 \| \*\*80\.00\*\* \| \[79\.2\d, 80\.7\d\] \|/);
  assert.match(md, /\| zero-shot \| fashion-mnist \| c \| 10000 \| 78\.00 \| \[77\.\d\d, 78\.\d\d\] \|/);
  assert.ok(existsSync(path.join(res.outDir, 'confidence.png')));
});
