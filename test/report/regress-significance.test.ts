import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { metricsOfOutcomes, type ImageOutcomes } from '../../src/eval/metrics.js';
import { scoredMetrics } from '../../src/eval/primary.js';
import { listedPredictionsPath } from '../../src/results/predictions.js';
import { readResults, writeResults } from '../../src/results/index.js';
import { zeroshotTable } from '../../src/results/tables/zeroshot.js';
import { runCli } from '../support/cli.js';

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-significance-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let count = 0;
const tmp = () => path.join(tmpRoot, `d${count++}`);

/** Outcomes of n images (10 classes) where `right(i)` says whether image i is classified right. */
function outcomes(n: number, right: (i: number) => boolean): ImageOutcomes {
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  const ok = Array.from({ length: n }, (_, i) => right(i));
  return {
    n,
    nClasses: 10,
    labels,
    predicted: labels.map((y, i) => (ok[i] ? y : (y + 1) % 10)),
    trueRank: Int32Array.from(ok, (v) => (v ? 0 : 2)),
  };
}

/** A baseline right on 80% of n images, and a candidate that loses `lose` of those and gains `gain` others. */
function pair(n: number, lose: number, gain: number): [ImageOutcomes, ImageOutcomes] {
  const base = (i: number) => (i * 7919) % n < 0.8 * n;
  const lost = new Set<number>();
  const gained = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (base(i) && lost.size < lose) lost.add(i);
    else if (!base(i) && gained.size < gain) gained.add(i);
  }
  return [outcomes(n, base), outcomes(n, (i) => (base(i) && !lost.has(i)) || gained.has(i))];
}

/** Write zero-shot rows (one per dataset) with their predictions into dir, through the one results writer. */
function writeZeroshot(dir: string, sets: Record<string, ImageOutcomes>): void {
  const rows = [];
  const outs = [];
  for (const [dataset, o] of Object.entries(sets)) {
    const input = {
      model: 'mini',
      dataset,
      split: 'test',
      subset: { limit: null, subset_seed: null, skipped_images: 0 },
      nImages: o.n,
      primaryMetric: 'accuracy' as const,
      results: [{ mode: 'single' as const, templates: ['a photo of a {}.'], metrics: metricsOfOutcomes(o), gainVsContextless: null }],
      imageIds: Array.from({ length: o.n }, (_, i) => `img${i}.png`),
    };
    rows.push(...zeroshotTable.build(input));
    outs.push(...zeroshotTable.outcomes(input));
  }
  writeResults(dir, 'zeroshot', rows, [], outs);
}

describe('regress --significance', () => {
  // 20,000 images: -0.60 points (150 lost, 30 gained); 200 images: -1.50 points (4 lost, 1 gained)
  const [bigA, bigB] = pair(20000, 150, 30);
  const [smallA, smallB] = pair(200, 4, 1);
  const baseline = tmp();
  const current = tmp();
  writeZeroshot(baseline, { many: bigA, few: smallA });
  writeZeroshot(current, { many: bigB, few: smallB });

  it('writes each row with its interval columns and its predictions', () => {
    const rows = readResults(current, 'zeroshot')!.rows;
    const many = rows.find((r) => r.dataset === 'many')!;
    assert.ok(Math.abs(many.top1! - 79.4) < 1e-9);
    assert.ok(many.top1_lo! < 79.4 && many.top1_hi! > 79.4 && many.top1_hi! - many.top1_lo! < 1.2);
    assert.ok(existsSync(path.join(current, listedPredictionsPath(current, 'zeroshot', many))));
  });

  it('a small drop on many images fails, a larger one on few images passes', async () => {
    // a fixed tolerance gets both wrong: 0.5 points fails the noise on 200 images and passes the real loss
    const plain = await runCli(['regress', '--baseline', baseline, '--results', current, '--tolerance', '0.5']);
    assert.equal(plain.status, 1, plain.stderr);
    assert.match(plain.stdout, /mini few\/test\/single\s+80\.00\s+78\.50\s+-1\.50\s+DROP/);
    assert.match(plain.stdout, /mini many\/test\/single\s+80\.00\s+79\.40\s+-0\.60\s+DROP/);

    const junit = path.join(tmpRoot, 'junit.xml');
    const json = path.join(tmpRoot, 'regress.json');
    const sig = await runCli(['regress', '--baseline', baseline, '--results', current, '--tolerance', '0.1', '--significance', '0.05', '--junit', junit, '--json', json]);
    assert.equal(sig.status, 1, sig.stderr);
    // few: McNemar 4 vs 1 -> p = 0.375 (Holm: the larger of two p-values keeps its own): not significant, so not a
    // DROP however large; many: 150 vs 30, p ~ 2e-20 (Holm x2)
    assert.match(sig.stdout, /mini few\/test\/single\s+80\.00\s+78\.50\s+-1\.50\s+\[-3\.\d\d, \+0\.\d\d\]\s+0\.375\s+0\.375\s+ok/);
    assert.match(sig.stdout, /mini many\/test\/single\s+80\.00\s+79\.40\s+-0\.60\s+\[-0\.\d\d, -0\.\d\d\]\s+\d\.\d\de-\d+\s+\d\.\d\de-\d+\s+DROP/);
    assert.match(sig.stdout, /significance 0\.05 \(Holm over 2 rows\)\): 1 ok, 1 DROP.*1 drop beyond the tolerance but not significant -> FAIL/);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<property name="significance" value="0.05"\/>/);
    assert.match(xml, /name="many\/test\/single"[^\n]*>\n\s*<failure type="DROP" message="dropped by 0\.60 points: old=80\.00 new=79\.40 delta=-0\.60 ci95=\[/);
    assert.match(xml, /drop beyond the tolerance but not significant: old=80\.00 new=78\.50 delta=-1\.50 ci95=\[-3\.\d\d, \+0\.\d\d\] p=0\.375 p_holm=0\.375 \(mcnemar, alpha 0\.05\)/);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(doc.verdict, 'FAIL');
    const few = doc.rows.find((r: { name: string }) => r.name === 'few/test/single');
    assert.equal(few.status, 'ok');
    assert.equal(few.significance.significant, false);
    assert.ok(Math.abs(few.significance.p - 0.375) < 1e-12 && Math.abs(few.significance.p_holm - 0.375) < 1e-12);
    const many = doc.rows.find((r: { name: string }) => r.name === 'many/test/single');
    assert.ok(many.significance.p < 1e-15 && Math.abs(many.significance.p_holm - 2 * many.significance.p) < 1e-30);

    // the few-image drop alone passes with --significance, fails without
    const fewOnly = tmp();
    const fewCur = tmp();
    writeZeroshot(fewOnly, { few: smallA });
    writeZeroshot(fewCur, { few: smallB });
    assert.equal((await runCli(['regress', '--baseline', fewOnly, '--results', fewCur])).status, 1);
    const pass = await runCli(['regress', '--baseline', fewOnly, '--results', fewCur, '--significance', '0.05']);
    assert.equal(pass.status, 0, pass.stdout + pass.stderr);
    assert.match(pass.stdout, /-> PASS/);
  });

  it('needs the predictions of both sides, and a level in (0, 1)', async () => {
    const bare = tmp();
    writeResults(bare, 'zeroshot', readResults(current, 'zeroshot')!.rows, []);
    const r = await runCli(['regress', '--baseline', baseline, '--results', bare, '--significance', '0.05']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--significance: zeroshot mini few\/test\/single: no predictions \(.*predictions\/zeroshot\/mini_few_test_single-[0-9a-f]{12}\.npy\)/);
    assert.equal((await runCli(['regress', '--baseline', baseline, '--results', current, '--significance', '5'])).status, 2);
  });

  it('--update keeps the predictions with the baseline', async () => {
    const fresh = tmp();
    const u = await runCli(['regress', '--baseline', fresh, '--results', current, '--update']);
    assert.equal(u.status, 0, u.stderr);
    const rows = readResults(fresh, 'zeroshot')!.rows;
    for (const row of rows) assert.ok(existsSync(path.join(fresh, listedPredictionsPath(fresh, 'zeroshot', row))));
    const same = await runCli(['regress', '--baseline', fresh, '--results', current, '--significance', '0.05']);
    assert.equal(same.status, 0, same.stdout);
    assert.match(same.stdout, /\[0\.00, 0\.00\]\s+1\s+1\s+ok/);
  });
});

describe('regress --significance on ranked metrics (mAP, ROC AUC)', () => {
  /** Scores [n, c] of a classifier that ranks image i of class k high with probability `skill` (seeded). */
  function scoresOf(n: number, c: number, truth: (i: number, k: number) => boolean, skill: number, seed: number): Float32Array {
    const out = new Float32Array(n * c);
    let s = seed;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) out[i * c + k] = (truth(i, k) && rnd() < skill ? 1 : 0) + rnd();
    return out;
  }
  function writeRanked(dir: string, metric: 'map11' | 'roc_auc', skill: number): void {
    const n = 400;
    const c = metric === 'map11' ? 5 : 2;
    const targets = metric === 'map11' ? Uint8Array.from({ length: n * c }, (_, j) => (((j * 7) % 11) < 3 ? 1 : 0)) : undefined;
    const labels = Int32Array.from({ length: n }, (_, i) => (targets ? Math.max(0, targets.subarray(i * c, (i + 1) * c).indexOf(1)) : i % 2));
    const truth = (i: number, k: number) => (targets ? targets[i * c + k] === 1 : labels[i] === k);
    const metrics = scoredMetrics(metric, scoresOf(n, c, truth, skill, 7), labels, n, c, targets);
    const input = {
      model: 'mini',
      dataset: metric === 'map11' ? 'voc2007' : 'hateful_memes',
      split: 'test',
      subset: { limit: null, subset_seed: null, skipped_images: 0 },
      nImages: n,
      primaryMetric: metric,
      results: [{ mode: 'single' as const, templates: ['a photo of a {}.'], metrics, gainVsContextless: null }],
      imageIds: Array.from({ length: n }, (_, i) => `${i}.jpg`),
    };
    writeResults(dir, 'zeroshot', zeroshotTable.build(input), [], zeroshotTable.outcomes(input));
  }

  it('judges a mAP and a ROC AUC row by a paired bootstrap over images (it used to exit 2)', async () => {
    for (const metric of ['map11', 'roc_auc'] as const) {
      const base = tmp();
      const cur = tmp();
      writeRanked(base, metric, 0.9);
      writeRanked(cur, metric, 0.5);
      const r = await runCli(['regress', '--baseline', base, '--results', cur, '--tolerance', '0.5', '--significance', '0.05']);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stdout, /\[-\d+\.\d\d, -\d+\.\d\d\]\s+\S+\s+\S+\s+DROP/, `${metric}: a large drop on 400 images is significant`);
      const same = await runCli(['regress', '--baseline', base, '--results', base, '--significance', '0.05']);
      assert.equal(same.status, 0, same.stderr);
      assert.match(same.stdout, /\[0\.00, 0\.00\]\s+1\s+1\s+ok/);
    }
  });

  it('a baseline without per-image scores says how to rebuild it, and that advice works', async () => {
    const base = tmp();
    const cur = tmp();
    writeRanked(base, 'map11', 0.9);
    writeRanked(cur, 'map11', 0.9);
    // the baseline as an older clip-bench left it: its table lists no scores
    const json = path.join(base, 'zeroshot.json');
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    for (const e of Object.values(doc.predictions) as { scores: unknown; targets: unknown }[]) [e.scores, e.targets] = [null, null];
    writeFileSync(json, JSON.stringify(doc));
    const r = await runCli(['regress', '--baseline', base, '--results', cur, '--significance', '0.05']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no per-image scores for 11-point mAP in .*; `clip-bench regress --baseline .* --run --update` \(without --significance\) rewrites the baseline/);
    // the advice, minus --run (it would re-run the evaluations): --update rewrites the baseline from results that have them
    assert.equal((await runCli(['regress', '--baseline', base, '--results', cur, '--update'])).status, 0);
    assert.equal((await runCli(['regress', '--baseline', base, '--results', cur, '--significance', '0.05'])).status, 0);
  });
});
