/**
 * Per-image results are paired by image identity and bound to their rows: the same images in another order pair
 * to a difference of exactly 0; other images are an error naming the count; predictions swapped, edited or out of
 * range are refused; and a run that dies between its predictions and its tables (a failed write, a SIGKILL) leaves
 * the previous rows with their own predictions.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { metricsOfOutcomes, type ImageOutcomes } from '../../src/eval/metrics.js';
import type { ImageEvidence } from '../../src/eval/metric-descriptors.js';
import { compareSides } from '../../src/report/paired-rows.js';
import { listedPredictionsPath, predictionsPathOf, writePredictions } from '../../src/results/predictions.js';
import { readResults, writeResults, type RunEntry } from '../../src/results/index.js';
import { zeroshotTable } from '../../src/results/tables/zeroshot.js';
import { runCli, spawnCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';

/** n images of 10 classes; image i right when right(i). */
function outcomes(n: number, right: (i: number) => boolean): ImageOutcomes {
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  const ok = Array.from({ length: n }, (_, i) => right(i));
  return { n, nClasses: 10, labels, predicted: labels.map((y, i) => (ok[i] ? y : (y + 1) % 10)), trueRank: Int32Array.from(ok, (v) => (v ? 0 : 2)) };
}

/** Zero-shot rows (one per dataset) written through the results writer; ids: the images' ids (none: an older writer's layout). */
function writeRows(dir: string, sets: Record<string, { o: ImageOutcomes; ids?: string[] }>, runs: RunEntry[] = [], legacy = false): void {
  const rows = [];
  const outs: ImageEvidence[][] = [];
  for (const [dataset, { o, ids }] of Object.entries(sets)) {
    const input = {
      model: 'm',
      dataset,
      split: 'test',
      subset: { limit: null, subset_seed: null, skipped_images: 0 },
      nImages: o.n,
      primaryMetric: 'accuracy' as const,
      results: [{ mode: 'single' as const, templates: ['{}'], metrics: metricsOfOutcomes(o), gainVsContextless: null }],
      ...(ids ? { imageIds: ids } : {}),
    };
    rows.push(...zeroshotTable.build(input));
    outs.push(...zeroshotTable.outcomes(input));
  }
  if (!legacy) return writeResults(dir, 'zeroshot', rows, runs, outs);
  // clip-bench before image ids: the tables list no predictions, each row's file sits at its fixed path
  writeResults(dir, 'zeroshot', rows, runs);
  rows.forEach((r, i) => writePredictions(dir, predictionsPathOf('zeroshot', r), [outs[i]![0]!.outcomes], false));
}

const run = (dataset: string, fingerprint: string): RunEntry => ({ model: 'm', dataset, split: 'test', dataset_fingerprint: fingerprint, class_names: Array.from({ length: 10 }, (_, k) => `c${k}`) });
const ids = (n: number) => Array.from({ length: n }, (_, i) => `img/${i}.png`);

/** The same outcomes with the images in another order (their ids move with them). */
function reordered(o: ImageOutcomes, order: number[], names: string[]): { o: ImageOutcomes; ids: string[] } {
  const pick = (x: Int32Array) => Int32Array.from(order, (j) => x[j]!);
  return { o: { n: o.n, nClasses: o.nClasses, labels: pick(o.labels), predicted: pick(o.predicted), trueRank: pick(o.trueRank) }, ids: order.map((j) => names[j]!) };
}

describe('pairing by image identity', () => {
  const a = outcomes(100, (i) => (i * 37) % 100 < 70);
  // the same classifier on the same images, stored in another order that keeps the labels' order (images swapped
  // within each class): by position, 2 x 15 images would look discordant
  const order = Array.from({ length: 100 }, (_, i) => (i + 10) % 100);

  it('the same images in another order pair to a difference of exactly 0', () => {
    const A = tmpDir('pair-a');
    const B = tmpDir('pair-b');
    writeRows(A, { d: { o: a, ids: ids(100) } });
    writeRows(B, { d: reordered(a, order, ids(100)) });
    const [c] = compareSides({ dir: A }, { dir: B }, 'top1', { seed: 0 });
    assert.equal(c!.note, null);
    assert.deepEqual([c!.result!.onlyA, c!.result!.onlyB, c!.result!.diff, c!.result!.lo, c!.result!.hi, c!.result!.p], [0, 0, 0, 0, 0, 1]);
  });

  it('images on one side only are an error naming the count', () => {
    const A = tmpDir('pair-a');
    const B = tmpDir('pair-b');
    writeRows(A, { d: { o: a, ids: ids(100) } });
    const other = ids(100);
    other[3] = 'img/elsewhere.png';
    other[4] = 'img/another.png';
    writeRows(B, { d: { o: a, ids: other } });
    assert.throws(() => compareSides({ dir: A }, { dir: B }, 'top1'), /not the same images: 2 of A's 100 images are not in B, 2 of B's 100 are not in A \(by image id\)/);
  });

  it('predictions without ids pair by position only on the same dataset fingerprint and image count', () => {
    const A = tmpDir('pair-a');
    const B = tmpDir('pair-b');
    const C = tmpDir('pair-c');
    writeRows(A, { d: { o: a } }, [run('d', 'f1')], true);
    writeRows(B, { d: { o: a } }, [run('d', 'f1')], true);
    writeRows(C, { d: { o: a } }, [run('d', 'f2')], true);
    const [same] = compareSides({ dir: A }, { dir: B }, 'top1');
    assert.equal(same!.result!.diff, 0);
    assert.throws(() => compareSides({ dir: A }, { dir: C }, 'top1'), /do not name their images .* do not record the same dataset fingerprint, so their images cannot be paired/);
  });
});

describe('predictions bound to their rows', () => {
  const r81 = outcomes(100, (i) => i % 100 < 81);
  const r82 = outcomes(100, (i) => i % 100 < 82);

  it('listed files: swapped or edited since the table was written is refused', () => {
    const A = tmpDir('bind-a');
    writeRows(A, { x: { o: r81, ids: ids(100) }, y: { o: r82, ids: ids(100) } });
    const rows = readResults(A, 'zeroshot')!.rows;
    const [fx, fy] = rows.map((r) => path.join(A, listedPredictionsPath(A, 'zeroshot', r)));
    const [bx, by] = [fs.readFileSync(fx!), fs.readFileSync(fy!)];
    fs.writeFileSync(fx!, by);
    fs.writeFileSync(fy!, bx);
    assert.throws(() => compareSides({ dir: A }, { dir: A }, 'top1'), /not the predictions the table recorded \(its sha256 differs/);
  });

  it('unlisted files (older layout): swapped, edited to all right, or a class out of range is refused', () => {
    const A = tmpDir('bind-legacy');
    writeRows(A, { x: { o: r81 }, y: { o: r82 } }, [run('x', 'f'), run('y', 'f')], true);
    const rows = readResults(A, 'zeroshot')!.rows;
    const [fx, fy] = rows.map((r) => path.join(A, predictionsPathOf('zeroshot', r)));
    const [bx, by] = [fs.readFileSync(fx!), fs.readFileSync(fy!)];
    fs.writeFileSync(fx!, by);
    fs.writeFileSync(fy!, bx);
    assert.throws(() => compareSides({ dir: A }, { dir: A }, 'top1'), /its predictions give top-1 82\.00 but the row \(m x\/test\/single\) says 81\.00: they are not this row's predictions/);
    fs.writeFileSync(fx!, bx);
    fs.writeFileSync(fy!, by);
    // edited to "all right"
    writePredictions(A, predictionsPathOf('zeroshot', rows[0]!), [outcomes(100, () => true)], false);
    assert.throws(() => compareSides({ dir: A }, { dir: A }, 'top1'), /give top-1 100\.00 but the row \(m x\/test\/single\) says 81\.00/);
    // a predicted class 250 of 10 (rank kept consistent: a wrong guess)
    const bad = { ...r81, predicted: r81.predicted.slice() };
    bad.predicted[99] = 250;
    writePredictions(A, predictionsPathOf('zeroshot', rows[0]!), [bad], false);
    assert.throws(() => compareSides({ dir: A }, { dir: A }, 'top1'), /class 250 in the predictions, but the run of m x\/test\/single has 10 classes/);
  });
});

describe('a run that dies between its predictions and its tables (real processes)', () => {
  /** A CSV dataset of 40 coloured images, 4 classes. */
  async function dataset(): Promise<string> {
    const root = tmpDir('pair-csv');
    fs.mkdirSync(path.join(root, 'img'));
    const lines = ['path,label'];
    for (let i = 0; i < 40; i++) {
      await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: (i * 53) % 256, g: (i * 97) % 256, b: (i * 31) % 256 } } })
        .png()
        .toFile(path.join(root, 'img', `${i}.png`));
      lines.push(`img/${i}.png,${i % 4}`);
    }
    fs.writeFileSync(path.join(root, 'test.csv'), `${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(root, 'classnames.txt'), 'red\ngreen\nblue\nyellow\n');
    // the new runs' class names: other text weights, so other predictions for the same row
    fs.writeFileSync(path.join(root, 'reversed.txt'), 'yellow\nblue\ngreen\nred\n');
    return root;
  }
  const common = (root: string, cache: string) => ['zeroshot', '--model', 'mini', '--dataset', 'csv', '--dataset-root', root, '--prompts', 'single', '--cache-dir', cache, '--no-progress'];
  const newer = (root: string) => ['--classnames', path.join(root, 'reversed.txt')];

  it('a failed table write and a SIGKILL while waiting for the tables leave the old rows with their own predictions', async () => {
    const root = await dataset();
    const cache = tmpDir('pair-cache');
    const out = tmpDir('pair-out');
    const ref = tmpDir('pair-ref');
    // the old rows and a reference copy of them
    for (const o of [out, ref]) assert.equal((await runCli([...common(root, cache), '--out', o])).status, 0);
    const before = fs.readFileSync(path.join(out, 'zeroshot.json'), 'utf8');

    // 1. the new run (other class names: other predictions, same row) cannot replace the CSV: it fails after its predictions
    fs.rmSync(path.join(out, 'zeroshot.csv'));
    fs.mkdirSync(path.join(out, 'zeroshot.csv'));
    const failed = await runCli([...common(root, cache), ...newer(root), '--out', out]);
    assert.equal(failed.status, 2, failed.stderr);
    fs.rmSync(path.join(out, 'zeroshot.csv'), { recursive: true });
    fs.copyFileSync(path.join(ref, 'zeroshot.csv'), path.join(out, 'zeroshot.csv'));
    assert.equal(fs.readFileSync(path.join(out, 'zeroshot.json'), 'utf8'), before);
    const stored = fs.readdirSync(path.join(out, 'predictions', 'zeroshot'));
    assert.equal(stored.length, 2, `the failed run's predictions are on disk beside the old ones: ${stored}`);
    let [c] = compareSides({ dir: ref }, { dir: out }, 'top1');
    assert.deepEqual([c!.result!.diff, c!.result!.onlyA, c!.result!.onlyB], [0, 0, 0], 'the old rows are paired with their own predictions');

    // 2. SIGKILL after the predictions are written, while the run waits for the tables' lock (held by this test)
    const lock = path.join(out, '.zeroshot.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, hostname: os.hostname(), token: 'test' }));
    const child = spawnCli([...common(root, cache), ...newer(root), '--out', out]);
    let seen = '';
    child.child.stderr!.on('data', (d: string) => {
      seen += d;
      if (/waiting for .*\.zeroshot\.lock/.test(seen)) child.child.kill('SIGKILL');
    });
    const killed = await child.done;
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    fs.rmSync(lock);
    assert.equal(fs.readFileSync(path.join(out, 'zeroshot.json'), 'utf8'), before);
    [c] = compareSides({ dir: ref }, { dir: out }, 'top1');
    assert.deepEqual([c!.result!.diff, c!.result!.onlyA, c!.result!.onlyB], [0, 0, 0]);

    // 3. the rerun finishes: its rows list its own predictions, the old files are gone
    assert.equal((await runCli([...common(root, cache), ...newer(root), '--out', out])).status, 0);
    const now = readResults(out, 'zeroshot')!;
    assert.deepEqual(fs.readdirSync(path.join(out, 'predictions', 'zeroshot')), [path.basename(listedPredictionsPath(out, 'zeroshot', now.rows[0]!))]);
    [c] = compareSides({ dir: out }, { dir: out }, 'top1');
    assert.equal(c!.result!.diff, 0);
    // the images are named by their paths under the dataset root, in the rows' order
    const entry = now.predictions![predictionsPathOf('zeroshot', now.rows[0]!)]!;
    const names = JSON.parse(fs.readFileSync(path.join(out, entry.images!.file), 'utf8')) as string[];
    assert.deepEqual(names.slice(0, 3), ['img/0.png', 'img/1.png', 'img/2.png']);
    assert.equal(names.length, 40);
  });
});
