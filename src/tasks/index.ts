/**
 * The registry of evaluation tasks, in the order a suite runs them for each model x dataset (few-shot last: it
 * takes zero-shot's and the probe's rows). A new task is one descriptor module plus one line here.
 */
import type { TableName } from '../results/index.js';
import { fewshotTask } from './fewshot.js';
import { linearProbeTask } from './linear-probe.js';
import type { TaskDescriptor } from './types.js';
import { zeroshotTask } from './zeroshot.js';

/** A descriptor seen through the operations every task has (its options as the suite's flags give them). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTask = TaskDescriptor<TableName, any, any>;

export const TASKS: readonly AnyTask[] = [
  zeroshotTask,
  linearProbeTask,
  fewshotTask,
];
