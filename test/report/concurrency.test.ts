import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readResults, resultsLockFile, writeResults, type ZeroshotRow } from '../../src/results/index.js';
import { UserError } from '../../src/errors.js';
import { withFileLockSync } from '../../src/util/lock.js';
import { repoRoot } from '../support/helpers.js';

const writer = path.join(repoRoot, 'test', 'support', 'write-rows.mjs');
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-concurrency-test-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const tmp = () => path.join(tmpRoot, `d${n++}`);

function run(args: string[]): Promise<number | null> {
  return new Promise((resolve) => spawn(process.execPath, [writer, ...args], { stdio: 'inherit' }).on('close', resolve));
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim() as unknown as number;
}

const row = (model: string): ZeroshotRow => ({
  model, dataset: 'd', split: 'test', prompts: 'single', n_templates: 1, n_images: 1, top1: 1, top5: 1, mean_per_class: 1,
  primary_metric: 'accuracy', gain_vs_contextless: null, limit: null, subset_seed: null, skipped_images: 0,
});

describe('concurrent writers sharing an --out', () => {
  it('lose no row: 4 processes x 6 writes each, 3 rounds, every row in both the CSV and the JSON', async () => {
    for (let round = 0; round < 3; round++) {
      const out = tmp();
      const codes = await Promise.all(Array.from({ length: 4 }, (_, p) => run([out, `m${p}`, '6'])));
      assert.deepEqual(codes, [0, 0, 0, 0]);
      const json = readResults(out, 'zeroshot')!;
      const want = Array.from({ length: 4 }, (_, p) => Array.from({ length: 6 }, (_, i) => `m${p}/d${i}`)).flat().sort();
      assert.deepEqual(json.rows.map((r) => `${r.model}/${r.dataset}`).sort(), want, `round ${round}: JSON rows`);
      assert.equal(json.runs.length, 24, `round ${round}: JSON runs`);
      const csv = readFileSync(path.join(out, 'zeroshot.csv'), 'utf8').trim().split('\n').slice(1);
      assert.deepEqual(csv.map((l) => l.split(',').slice(0, 2).join('/')).sort(), want, `round ${round}: CSV rows`);
      assert.deepEqual(readdirSync(out).sort(), ['zeroshot.csv', 'zeroshot.json'], 'no lock or temp file left');
    }
  });

  it('a lock left by a writer that died (kill -9) does not block the next writer', () => {
    const out = tmp();
    writeResults(out, 'zeroshot', [row('a')], []);
    writeFileSync(resultsLockFile(out, 'zeroshot'), JSON.stringify({ pid: Number(deadPid()), hostname: os.hostname(), token: 'dead' }));
    writeResults(out, 'zeroshot', [row('b')], []);
    assert.deepEqual(readResults(out, 'zeroshot')!.rows.map((r) => r.model), ['a', 'b']);
    assert.deepEqual(readdirSync(out).sort(), ['zeroshot.csv', 'zeroshot.json']);
  });

  it('a live holder makes a writer wait, and a timeout names the lock and its holder', () => {
    const lock = path.join(tmpRoot, 'live.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, hostname: os.hostname(), token: 'live' }));
    assert.throws(
      () => withFileLockSync(lock, () => 1, { timeoutMs: 100 }),
      (e: unknown) => e instanceof UserError && e.message.includes(lock) && e.message.includes(`pid ${process.pid}`),
    );
    rmSync(lock);
    assert.equal(withFileLockSync(lock, () => 42), 42);
  });
});
