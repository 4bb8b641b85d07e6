import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { dealOut, parseShard, shardRange } from '../../src/util/shard.js';

const slurm = (id: number, count: number, min: number, max: number, step?: number): NodeJS.ProcessEnv => ({
  SLURM_JOB_ID: '77',
  SLURM_ARRAY_JOB_ID: '70',
  SLURM_ARRAY_TASK_ID: String(id),
  SLURM_ARRAY_TASK_COUNT: String(count),
  SLURM_ARRAY_TASK_MIN: String(min),
  SLURM_ARRAY_TASK_MAX: String(max),
  ...(step === undefined ? {} : { SLURM_ARRAY_TASK_STEP: String(step) }),
});

const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');

test('--shard K/N is 1-based; bad values are one-line errors naming the flag', () => {
  assert.deepEqual(parseShard('1/4', { env: {} }), { index: 0, count: 4, source: '--shard 1/4' });
  assert.deepEqual(parseShard('4/4', { env: {} }), { index: 3, count: 4, source: '--shard 4/4' });
  assert.equal(parseShard(' 1/1 ', { env: {} }).count, 1);
  for (const bad of ['0/4', '5/4', '1/0', '2', '1/2/3', 'a/b', '-1/4', '1.5/4', '']) assert.throws(() => parseShard(bad, { env: {} }), userError(/^--shard /), bad);
});

test('--shard auto in a Slurm array task: the position among the IDs, which need not start at 0', () => {
  // --array=0-3
  assert.deepEqual([0, 1, 2, 3].map((id) => parseShard('auto', { env: slurm(id, 4, 0, 3, 1) }).index), [0, 1, 2, 3]);
  // --array=1-4 (Slurm's step of a range)
  const s = parseShard('auto', { env: slurm(3, 4, 1, 4, 1) });
  assert.deepEqual([s.index, s.count], [2, 4]);
  assert.match(s.source, /Slurm array task 3 \(3 of 4\)/);
  // --array=2-8:3 -> IDs 2, 5, 8
  assert.deepEqual([2, 5, 8].map((id) => parseShard('auto', { env: slurm(id, 3, 2, 8, 3) }).index), [0, 1, 2]);
  // a one-task array
  assert.deepEqual(parseShard('auto', { env: slurm(7, 1, 7, 7, 1) }).index, 0);
  // no STEP at all (older Slurm): contiguous IDs still work
  assert.equal(parseShard('auto', { env: slurm(12, 4, 10, 13) }).index, 2);
  // Slurm wins over a Kubernetes index when both are set
  assert.equal(parseShard('auto', { env: { ...slurm(1, 2, 0, 1, 1), JOB_COMPLETION_INDEX: '0', CLIP_BENCH_SHARDS: '9' } }).count, 2);
});

test('--shard auto refuses Slurm arrays whose IDs the environment does not determine', () => {
  // --array=1,3,5: Slurm sets STEP=1 for a list, so 1..5 in steps of 1 is not 3 tasks
  assert.throws(() => parseShard('auto', { env: slurm(3, 3, 1, 5, 1) }), userError(/not one evenly spaced range/));
  // --array=1,2,7
  assert.throws(() => parseShard('auto', { env: slurm(2, 3, 1, 7, 1) }), userError(/not one evenly spaced range/));
  assert.throws(() => parseShard('auto', { env: { SLURM_ARRAY_TASK_ID: '3' } }), userError(/without SLURM_ARRAY_TASK_COUNT/));
  assert.throws(() => parseShard('auto', { env: slurm(9, 4, 0, 3, 1) }), userError(/outside/));
  assert.throws(() => parseShard('auto', { env: { ...slurm(1, 4, 0, 3, 1), SLURM_ARRAY_TASK_COUNT: 'x' } }), userError(/SLURM_ARRAY_TASK_COUNT=x/));
});

test('--shard auto in a Kubernetes Indexed Job: JOB_COMPLETION_INDEX, N from --shard-count or CLIP_BENCH_SHARDS', () => {
  assert.deepEqual(parseShard('auto', { env: { JOB_COMPLETION_INDEX: '2' }, count: 5 }), {
    index: 2,
    count: 5,
    source: 'Kubernetes Indexed Job completion 2 (3 of 5)',
  });
  assert.equal(parseShard('auto', { env: { JOB_COMPLETION_INDEX: '0', CLIP_BENCH_SHARDS: '3' } }).count, 3);
  assert.equal(parseShard('auto', { env: { JOB_COMPLETION_INDEX: '0', CLIP_BENCH_SHARDS: '3' }, count: 2 }).count, 2, 'the flag wins');
  assert.throws(() => parseShard('auto', { env: { JOB_COMPLETION_INDEX: '1' } }), userError(/--shard-count N or set CLIP_BENCH_SHARDS/));
  assert.throws(() => parseShard('auto', { env: { JOB_COMPLETION_INDEX: '3' }, count: 3 }), userError(/not below the shard count 3/));
  assert.throws(() => parseShard('auto', { env: { JOB_COMPLETION_INDEX: '0', CLIP_BENCH_SHARDS: '0' } }), userError(/CLIP_BENCH_SHARDS=0/));
});

test('--shard auto with no scheduler is a one-line error', () => {
  assert.throws(() => parseShard('auto', { env: { SLURM_JOB_ID: '5' } }), userError(/^--shard auto: no scheduler found .*SLURM_ARRAY_TASK_ID.*JOB_COMPLETION_INDEX.*pass --shard K\/N$/));
});

test('shardRange: contiguous blocks in shard order covering every item once, sizes within one', () => {
  for (const total of [0, 1, 7, 10, 59, 1250]) {
    for (const count of [1, 2, 3, 4, 7, 16]) {
      const blocks = Array.from({ length: count }, (_, index) => shardRange(total, { index, count }));
      assert.equal(blocks[0].start, 0);
      assert.equal(blocks[count - 1].end, total);
      for (let i = 1; i < count; i++) assert.equal(blocks[i].start, blocks[i - 1].end);
      const sizes = blocks.map((b) => b.end - b.start);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${total}/${count}: ${sizes}`);
    }
  }
  assert.deepEqual(shardRange(10, { index: 1, count: 4 }), { start: 2, end: 5 });
});

test('dealOut: round-robin, every item to exactly one shard', () => {
  const items = Array.from({ length: 11 }, (_, i) => `u${i}`);
  const dealt = [0, 1, 2].map((index) => dealOut(items, { index, count: 3 }));
  assert.deepEqual(dealt[1], ['u1', 'u4', 'u7', 'u10']);
  assert.deepEqual(dealt.flat().sort(), [...items].sort());
});
