/**
 * What an evaluation task is: one descriptor per task (in the spirit of transformers.js' SUPPORTED_TASKS). The
 * commands and the suite only ask the descriptor; a new task is one descriptor module plus its registry line
 * (index.ts).
 */
import type { DatasetDescriptor } from '../data/types.js';
import type { ImageEvidence } from '../eval/metric-descriptors.js';
import type { ImageFeatures } from '../model/towers.js';
import type { RowTypes, RunEntry, RunFlags, TableName } from '../results/index.js';
import type { EvalContext, TaskSplits } from './context.js';

export type { TaskSplits } from './context.js';

/** What decides whether a task applies to a dataset: the splits on offer and whether its data is multilabel. */
export interface DatasetFacts {
  /** the dataset's canonical name */
  name: string;
  /** a descriptor's own splits (the suite), or the splits a command was given */
  splits: TaskSplits;
  multilabel: boolean;
}

/** What one task gives for one model on one dataset: its rows, their per-image outcomes, its run entry. */
export interface TaskResult<T extends TableName = TableName> {
  rows: RowTypes[T][];
  /** outcomes[i]: row i's per-image outcomes (one set per few-shot seed; empty: none) */
  outcomes: ImageEvidence[][];
  run: RunEntry;
}

/** What a task asks of the model it runs on. */
export interface ModelNeeds {
  features: ImageFeatures;
  text: boolean;
}

/** The options every task reads besides its own: the model's and the data's, as the run config records them. */
export interface EvalOptions extends RunFlags {
  threads: number;
}

/**
 * One evaluation. `O`: its options (a command's flags, or the suite's); `P`: the options checked and resolved, as
 * the run config records them.
 */
export interface TaskDescriptor<T extends TableName = TableName, O = unknown, P extends RunFlags = RunFlags> {
  /** the command that runs it alone, and its name in `suite --tasks`: its table's `command` */
  name: string;
  /** the result table its rows go to */
  table: T;
  /** the dataset's own splits this task reads (a suite's choice; a command takes them from its flags) */
  splits(d: DatasetDescriptor): TaskSplits;
  /** true, or why the task is not defined on the dataset (one line) */
  applies(d: DatasetFacts): true | string;
  /** what it asks of the model: which image features, and whether the text tower */
  model(o: O): ModelNeeds;
  /** check the options before any work and resolve them; `datasets` are every dataset the run will evaluate */
  prepare(o: O, splits: TaskSplits, datasets: readonly string[]): P;
  /** evaluate one model on one dataset */
  run(ctx: EvalContext, p: P): Promise<TaskResult<T>>;
}
