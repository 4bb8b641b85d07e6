import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-det-'));

/** The CSV without its one timing column (`seconds`). */
function csvWithoutTimings(file: string): string {
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(','));
  const drop = lines[0].indexOf('seconds');
  return lines.map((cells) => cells.filter((_, i) => i !== drop).join(',')).join('\n');
}

test('two runs of the same evaluations (fresh caches) give identical CSVs', async () => {
  const outs: string[] = [];
  for (let run = 0; run < 2; run++) {
    const out = tmp();
    const common = ['--model', tiny, '--limit', '300', '--out', out, '--cache-dir', tmp()];
    for (const args of [['zeroshot'], ['linear-probe'], ['fewshot', '--shots', '1,2,4', '--seeds', '2']]) {
      const r = await runCli([...args, ...common]);
      assert.equal(r.status, 0, r.stderr);
    }
    outs.push(out);
  }
  for (const table of ['zeroshot', 'linear_probe', 'fewshot']) {
    const [a, b] = outs.map((o) => csvWithoutTimings(path.join(o, `${table}.csv`)));
    assert.ok(a.split('\n').length > 1, `${table} has rows`);
    assert.equal(a, b, `${table}.csv differs between runs`);
  }
});

test('linear-probe and fewshot on two threads (fits side by side on worker threads) write the same bytes as on one', async () => {
  // one cache: both runs read the same embeddings, so the comparison is of the fits alone
  const cache = tmp();
  const outs: string[] = [];
  for (const threads of ['1', '2']) {
    const out = tmp();
    const common = ['--model', tiny, '--limit', '300', '--out', out, '--cache-dir', cache, '--threads', threads];
    for (const args of [['linear-probe'], ['fewshot', '--shots', '1,2,4,8', '--seeds', '3']]) {
      const r = await runCli([...args, ...common]);
      assert.equal(r.status, 0, r.stderr);
    }
    outs.push(out);
  }
  const [one, two] = outs;
  assert.equal(readFileSync(path.join(two, 'fewshot.csv'), 'utf8'), readFileSync(path.join(one, 'fewshot.csv'), 'utf8'), 'fewshot.csv');
  assert.ok(readFileSync(path.join(one, 'fewshot.csv'), 'utf8').trim().split('\n').length === 5, 'fewshot has a row per shot count');
  assert.equal(csvWithoutTimings(path.join(two, 'linear_probe.csv')), csvWithoutTimings(path.join(one, 'linear_probe.csv')), 'linear_probe.csv');
  // the per-image outcomes behind every interval, file for file
  const files = (dir: string) => readdirSync(path.join(dir, 'predictions'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name))).sort();
  assert.deepEqual(files(two), files(one));
  assert.ok(files(one).length >= 2);
  for (const f of files(one)) assert.ok(readFileSync(path.join(two, f)).equals(readFileSync(path.join(one, f))), f);
});
