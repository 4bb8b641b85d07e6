import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const tmp = () => tmpDir('shard');
// 2100 images: chunks of 1024, 1024 and 52 rows, one per shard of 3
const common = ['--model', tiny, '--split', 'test', '--limit', '2100', '--threads', '1', '--no-progress'];
const noScheduler = { SLURM_ARRAY_TASK_ID: undefined, JOB_COMPLETION_INDEX: undefined, CLIP_BENCH_SHARDS: undefined };

test('embed --shard, three ways (K/N, a Slurm array task, a Kubernetes Indexed Job): the entry equals an unsharded one; zeroshot --shard evaluates once', async () => {
  const ref = tmp();
  const single = await runCli(['embed', ...common, '--cache-dir', ref], noScheduler);
  assert.equal(single.status, 0, single.stderr);
  const refDir = single.stdout.trim();

  const cache = tmp();
  // shard 1 by flag and shard 2 as Slurm array task 11 of --array=10-12, at once
  const slurm = { ...noScheduler, SLURM_ARRAY_TASK_ID: '11', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_MAX: '12', SLURM_ARRAY_TASK_STEP: '1' };
  const [one, two] = await Promise.all([
    runCli(['embed', ...common, '--cache-dir', cache, '--shard', '1/3'], noScheduler),
    runCli(['embed', ...common, '--cache-dir', cache, '--shard', 'auto'], slurm),
  ]);
  assert.equal(one.status, 0, one.stderr);
  assert.equal(two.status, 0, two.stderr);
  assert.match(one.stderr, /shard 1\/3 \(--shard 1\/3\): rows 0-1024 of 2100, 1024 computed now; waiting on other shards \(\d+ rows missing\)/);
  assert.match(two.stderr, /shard 2\/3 \(Slurm array task 11 \(2 of 3\)\): rows 1024-2048 of 2100/);
  assert.equal(one.stdout + two.stdout, '', 'no entry folder is printed while the entry is incomplete');

  // nothing to assemble yet: cache finish says what is missing and exits 1
  const early = await runCli(['cache', 'finish', '--cache-dir', cache]);
  assert.equal(early.status, 1, early.stderr);
  assert.match(early.stdout, /52 of 2100 rows missing \(nobody is computing them: rerun the missing shards\)/);

  // the last shard, as completion index 2 of a Kubernetes Indexed Job, through zeroshot: it completes the entry and evaluates
  const out = tmp();
  const k8s = { ...noScheduler, JOB_COMPLETION_INDEX: '2' };
  const zs = ['zeroshot', ...common, '--prompts', 'single', '--json'];
  const three = await runCli([...zs, '--cache-dir', cache, '--out', out, '--shard', 'auto', '--shard-count', '3'], k8s);
  assert.equal(three.status, 0, three.stderr);
  assert.match(three.stderr, /shard 3\/3 \(Kubernetes Indexed Job completion 2 \(3 of 3\)\): rows 2048-2100 of 2100, 52 computed now; every chunk present: assembled the entry/);
  const entry = JSON.parse(readFileSync(path.join(out, 'zeroshot.json'), 'utf8'));
  assert.equal(entry.rows.length, 1);

  const sharded = (await runCli(['embed', ...common, '--cache-dir', cache], noScheduler)).stdout.trim();
  assert.ok(readFileSync(path.join(sharded, 'embeddings.npy')).equals(readFileSync(path.join(refDir, 'embeddings.npy'))), 'byte-identical embeddings.npy');
  assert.ok(readFileSync(path.join(sharded, 'labels.npy')).equals(readFileSync(path.join(refDir, 'labels.npy'))), 'identical labels.npy');
  const meta = JSON.parse(readFileSync(path.join(sharded, 'meta.json'), 'utf8'));
  assert.deepEqual(meta.producers.map((p: { rows: unknown }) => p.rows), [[[0, 2100]]]);

  // a rerun of the sharded evaluation: every entry was complete, so only shard 1 evaluates
  const again = await Promise.all(['1/3', '2/3'].map((s) => runCli([...zs, '--cache-dir', cache, '--out', tmp(), '--shard', s], noScheduler)));
  assert.equal(again[0].status, 0, again[0].stderr);
  assert.equal(JSON.parse(again[0].stdout).length, 1);
  assert.equal(again[1].status, 0, again[1].stderr);
  assert.equal(again[1].stdout, '');
  assert.match(again[1].stderr, /not evaluated by shard 2\/3: the shard that completed the embeddings evaluates/);

  // the same evaluation unsharded, from the reference cache: the same row
  const plain = await runCli([...zs, '--cache-dir', ref, '--out', tmp()], noScheduler);
  assert.equal(plain.status, 0, plain.stderr);
  assert.deepEqual(JSON.parse(plain.stdout), JSON.parse(again[0].stdout));
});

test('--shard errors are one line and exit 2', async () => {
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [['--shard', 'auto'], noScheduler, /^clip-bench: --shard auto: no scheduler found \(neither SLURM_ARRAY_TASK_ID.*JOB_COMPLETION_INDEX.*\); pass --shard K\/N\n$/],
    [['--shard', '4/3'], noScheduler, /^clip-bench: --shard 4\/3: expected K\/N with 1 <= K <= N\n$/],
    [['--shard', 'auto'], { ...noScheduler, JOB_COMPLETION_INDEX: '1' }, /^clip-bench: --shard auto: a Kubernetes Indexed Job .* needs the shard count: pass --shard-count N or set CLIP_BENCH_SHARDS .*\n$/],
  ];
  for (const [flags, env, re] of cases) {
    const r = await runCli(['embed', ...common, '--cache-dir', tmp(), ...flags], env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
  }
});
