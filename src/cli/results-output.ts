import { formatResultsTable, writeResults, type RowTypes, type RunEntry, type RunFlags, type TableName } from '../results/index.js';
import type { ImageEvidence } from '../eval/metric-descriptors.js';
import type { Shard } from '../util/shard.js';
import { expandDatasets } from '../data/suites.js';
import { EvalContext, OpenedSplits } from '../tasks/context.js';
import { resultsIn } from '../tasks/prior-results.js';
import { runTask, splitList } from '../tasks/run.js';
import { sharesReady } from '../tasks/shares.js';
import type { TaskDescriptor, TaskSplits } from '../tasks/types.js';
import { DatasetUnavailable, TransferFailed } from '../errors.js';
import type { DataFlags } from './data-options.js';
import { forEachModelAndDataset, type ModelFlags } from './model-options.js';

/** Merge the rows into <out>/<table>.csv/.json, then print them (a table, or JSON with --json). */
export function writeAndPrint<T extends TableName>(
  table: T,
  out: string,
  rows: RowTypes[T][],
  runs: RunEntry[],
  json: boolean,
  outcomes?: readonly (readonly ImageEvidence[])[],
  wide = false,
): void {
  writeResults(out, table, rows, runs, outcomes);
  if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else process.stdout.write(formatResultsTable(table, rows, { wide }));
  process.stderr.write(`results written to ${out}/${table}.csv and ${table}.json\n`);
}

/**
 * The body of every evaluation command: the task's options checked before any work, then the task run for each
 * --model x --dataset on `splits` (with --shard, only where this shard completed the embeddings of those splits:
 * one evaluation per unit, not N), then the rows merged into --out and printed. Earlier tasks' rows (few-shot's
 * zero-shot and probe figures) are read from --out.
 */
export async function evaluateEach<T extends TableName, O, P extends RunFlags>(
  task: TaskDescriptor<T, O, P>,
  f: ModelFlags & DataFlags & { dataset: string; out: string; json: boolean; wide?: boolean },
  options: O,
  splits: TaskSplits,
  shard: Shard | null,
): Promise<void> {
  const p = task.prepare(options, splits, expandDatasets(f.dataset));
  const opened = new OpenedSplits();
  const prior = resultsIn(f.out);
  const rows: RowTypes[T][] = [];
  const outcomes: ImageEvidence[][] = [];
  const runs: RunEntry[] = [];
  // over several datasets, one whose data cannot be had (not available, download failed) does not stop the others:
  // theirs are written, then each failure is named and the command exits 1; a single dataset's error is its own
  const several = expandDatasets(f.dataset).length > 1;
  const missing = new Map<string, string>();
  await forEachModelAndDataset(f, task.model(options), async (model, modelSpec, dataset) => {
    if (missing.has(dataset)) return;
    const ctx = new EvalContext(model, modelSpec, dataset, splits, f, prior, opened);
    try {
      if (shard && !(await sharesReady(ctx, splitList(splits), shard))) return;
      const r = await runTask(task, ctx, p);
      rows.push(...r.rows);
      outcomes.push(...r.outcomes);
      runs.push(r.run);
    } catch (e) {
      if (!several || !(e instanceof DatasetUnavailable || e instanceof TransferFailed)) throw e;
      missing.set(dataset, e.message.split('\n')[0]!);
    }
  });
  // nothing evaluated here (a shard's share not ready, every dataset missing): no rows to write
  if (rows.length > 0) writeAndPrint(task.table, f.out, rows, runs, f.json, outcomes, f.wide);
  if (missing.size) {
    for (const [dataset, why] of missing) process.stderr.write(`clip-bench: ${dataset} not evaluated: ${why}\n`);
    process.stderr.write(`clip-bench: ${missing.size} of ${expandDatasets(f.dataset).length} datasets not evaluated (${[...missing.keys()].join(', ')})${rows.length ? '; the others\' results are written' : ''}\n`);
    process.exitCode = 1;
  }
}
