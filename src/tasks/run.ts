import { UserError } from '../errors.js';
import type { DatasetDescriptor } from '../data/types.js';
import { splitPrimaryMetric, type EvalContext } from './context.js';
import type { DatasetFacts, TaskDescriptor, TaskResult, TaskSplits } from './types.js';
import type { RunFlags, TableName } from '../results/index.js';

/** What a dataset's descriptor says of it, before any data is opened (the suite asks this first). */
export function factsOf(d: DatasetDescriptor): DatasetFacts {
  return { name: d.name, splits: d.roles, multilabel: d.primaryMetric === 'map11' };
}

/** The splits in the order they are embedded (and sharded): train, val, test. */
export function splitList(s: TaskSplits): string[] {
  return [s.train, s.val, s.test].filter((x): x is string => x !== undefined);
}

/**
 * Run one task on the context's model and dataset. Refused before anything is embedded: the splits are opened
 * (train first, as they are embedded) and the task asked whether it applies to the data (a package's own
 * multilabel targets included); its reason is the error.
 */
export async function runTask<T extends TableName, O, P extends RunFlags>(task: TaskDescriptor<T, O, P>, ctx: EvalContext, p: P): Promise<TaskResult<T>> {
  if (ctx.splits.train) await ctx.open(ctx.splits.train);
  const test = await ctx.open(ctx.splits.test);
  const applies = task.applies({ name: test.spec.name, splits: ctx.splits, multilabel: splitPrimaryMetric(test) === 'map11' });
  if (applies !== true) throw new UserError(applies);
  return task.run(ctx, p);
}
