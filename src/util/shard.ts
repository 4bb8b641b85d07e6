import { UserError } from '../errors.js';

/**
 * One shard of a job split N ways: `--shard K/N` (1-based, as jest and Playwright write it) or `--shard auto`,
 * read from the scheduler's environment (a Slurm array task or a Kubernetes Indexed Job).
 */
export interface Shard {
  /** 0-based */
  index: number;
  count: number;
  /** where it came from, for messages: "--shard 2/4", "Slurm array task 7 (2 of 4)", ... */
  source: string;
}

export interface ShardParseOptions {
  /** N for a Kubernetes Indexed Job (--shard-count); else CLIP_BENCH_SHARDS */
  count?: number;
  env?: NodeJS.ProcessEnv;
}

const FLAG = '--shard';

/** `K/N` or `auto`; throws a UserError naming the flag (and the variable) that is wrong. */
export function parseShard(value: string, opts: ShardParseOptions = {}): Shard {
  const env = opts.env ?? process.env;
  const v = value.trim();
  if (v === 'auto') return fromScheduler(env, opts.count);
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) throw new UserError(`${FLAG} ${value}: expected K/N (1 <= K <= N, e.g. 2/4) or auto`);
  const [k, n] = [Number(m[1]), Number(m[2])];
  if (!(n >= 1 && k >= 1 && k <= n)) throw new UserError(`${FLAG} ${value}: expected K/N with 1 <= K <= N`);
  return { index: k - 1, count: n, source: `${FLAG} ${k}/${n}` };
}

function envInt(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const x = Number(raw);
  if (!Number.isSafeInteger(x) || x < min) throw new UserError(`${FLAG} auto: ${name}=${raw} is not an integer >= ${min}`);
  return x;
}

function fromScheduler(env: NodeJS.ProcessEnv, count: number | undefined): Shard {
  if (env.SLURM_ARRAY_TASK_ID !== undefined) return fromSlurm(env);
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = envInt(env, 'JOB_COMPLETION_INDEX', 0)!;
    const n = count ?? envInt(env, 'CLIP_BENCH_SHARDS', 1);
    if (n === undefined)
      throw new UserError(`${FLAG} auto: a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=${index}) needs the shard count: pass --shard-count N or set CLIP_BENCH_SHARDS (the Job's completions)`);
    if (index >= n) throw new UserError(`${FLAG} auto: JOB_COMPLETION_INDEX=${index} is not below the shard count ${n}`);
    return { index, count: n, source: `Kubernetes Indexed Job completion ${index} (${index + 1} of ${n})` };
  }
  throw new UserError(
    `${FLAG} auto: no scheduler found (neither SLURM_ARRAY_TASK_ID, a Slurm array task, nor JOB_COMPLETION_INDEX, a Kubernetes Indexed Job, is set); pass ${FLAG} K/N`,
  );
}

/**
 * A Slurm array task's position among the array's IDs. Slurm gives the task's ID, the number of tasks
 * (SLURM_ARRAY_TASK_COUNT), the smallest and largest ID (SLURM_ARRAY_TASK_MIN/_MAX) and the step of a range
 * (SLURM_ARRAY_TASK_STEP: 3 for `--array=2-8:3`, but 1 for any list such as `--array=1,3,5`, as Slurm 22.05 sets it).
 * IDs need not start at 0 (`--array=1-4`), so the position is counted from MIN in steps of STEP. That works for one
 * range (`A-B` or `A-B:S`, with or without `%` throttling), the only arrays whose IDs the environment determines;
 * any other list (`--array=1,2,7`) is refused rather than guessed.
 */
function fromSlurm(env: NodeJS.ProcessEnv): Shard {
  const id = envInt(env, 'SLURM_ARRAY_TASK_ID', 0)!;
  const count = envInt(env, 'SLURM_ARRAY_TASK_COUNT', 1);
  const min = envInt(env, 'SLURM_ARRAY_TASK_MIN', 0);
  const max = envInt(env, 'SLURM_ARRAY_TASK_MAX', 0);
  if (count === undefined || min === undefined || max === undefined)
    throw new UserError(`${FLAG} auto: a Slurm array task (SLURM_ARRAY_TASK_ID=${id}) without SLURM_ARRAY_TASK_COUNT/_MIN/_MAX; pass ${FLAG} K/N`);
  if (id < min || id > max) throw new UserError(`${FLAG} auto: SLURM_ARRAY_TASK_ID=${id} is outside SLURM_ARRAY_TASK_MIN..MAX (${min}..${max})`);
  const step = envInt(env, 'SLURM_ARRAY_TASK_STEP', 1) ?? 1;
  if (max - min !== (count - 1) * step || (id - min) % step !== 0)
    throw new UserError(
      `${FLAG} auto: the Slurm array's IDs (${count} tasks from ${min} to ${max}, step ${step}) are not one evenly spaced range, so this task's position cannot be derived from its environment; ` +
        `use --array=A-B or A-B:S (e.g. 0-${count - 1}) or pass ${FLAG} K/N`,
    );
  const index = (id - min) / step;
  return { index, count, source: `Slurm array task ${id} (${index + 1} of ${count})` };
}

/** The shard's block of `total` items [start, end): contiguous, sizes differing by at most one, in shard order. */
export function shardRange(total: number, shard: Pick<Shard, 'index' | 'count'>): { start: number; end: number } {
  return { start: Math.floor((shard.index * total) / shard.count), end: Math.floor(((shard.index + 1) * total) / shard.count) };
}

/** The shard's items of a list dealt out round-robin (item i goes to shard i mod N): for suites of uneven units. */
export function dealOut<T>(items: readonly T[], shard: Pick<Shard, 'index' | 'count'>): T[] {
  return items.filter((_, i) => i % shard.count === shard.index);
}

/** "2/4" */
export function shardLabel(shard: Pick<Shard, 'index' | 'count'>): string {
  return `${shard.index + 1}/${shard.count}`;
}
