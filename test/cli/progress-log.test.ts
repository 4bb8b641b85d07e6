// Without a terminal (CI and Slurm logs), long work prints a progress line at a steady interval with rate and ETA:
// image embedding and the text tower's prompts (ImageNet's ensemble is 80,000 of them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';

test('log progress: embedding and prompt encoding print lines with rate and ETA, then a last one', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-progress-'));
  try {
    const r = await runCli(['zeroshot', '--limit', '2000', '--prompts', 'ensemble', '--cache-dir', path.join(tmp, 'c'), '--out', path.join(tmp, 'o')], {
      CLIP_BENCH_PROGRESS_SECONDS: '0.001',
    });
    assert.equal(r.status, 0, r.stderr);
    const images = r.stderr.split('\n').filter((l) => l.startsWith('embedding fashion-mnist/test: '));
    assert.ok(images.length >= 2, r.stderr);
    for (const l of images) assert.match(l, /^embedding fashion-mnist\/test: \d+\/2000 images \(\d+%\), [\d.]+ images\/s, ETA \d+(s|m\d\ds)$/);
    const counts = images.map((l) => Number(/: (\d+)\//.exec(l)![1]));
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'counts only grow');
    const prompts = r.stderr.split('\n').filter((l) => l.startsWith('encoding 800 prompts with mini: '));
    assert.ok(prompts.length >= 2, r.stderr);
    assert.match(prompts.at(-1)!, /: 800\/800 prompts \(100%\), [\d.]+ prompts\/s, done in \d+s$/);
    // a second run finds both in the cache: no progress at all
    const warm = await runCli(['zeroshot', '--limit', '2000', '--prompts', 'ensemble', '--cache-dir', path.join(tmp, 'c'), '--out', path.join(tmp, 'o')], {
      CLIP_BENCH_PROGRESS_SECONDS: '0.001',
    });
    assert.doesNotMatch(warm.stderr, /^(embedding|encoding) /m);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
