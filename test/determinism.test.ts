import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers.js';
import { runCli } from './fixtures/cli.js';

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
