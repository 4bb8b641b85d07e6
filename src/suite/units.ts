import { UserError } from '../errors.js';

/** The suite's tasks, in the order they run for each model x dataset (zero-shot first: few-shot reads it). */
export const SUITE_TASKS = ['zeroshot', 'linear-probe', 'fewshot'] as const;
export type SuiteTask = (typeof SUITE_TASKS)[number];

/** One step of a suite: one task of one model on one dataset. */
export interface SuiteUnit {
  /** position in the suite's unit list (0-based) */
  index: number;
  model: string;
  dataset: string;
  task: SuiteTask;
}

/** --tasks: a comma-separated subset of zeroshot, linear-probe, fewshot (run in that order whatever the order given). */
export function parseTasks(value: string): SuiteTask[] {
  const asked = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of asked) {
    if (!(SUITE_TASKS as readonly string[]).includes(t)) throw new UserError(`--tasks ${t}: unknown task (one of ${SUITE_TASKS.join(', ')})`);
  }
  if (asked.length === 0) throw new UserError(`--tasks: expected a comma-separated list of ${SUITE_TASKS.join(', ')}`);
  return SUITE_TASKS.filter((t) => asked.includes(t));
}

/**
 * Every unit of a suite, as a deterministic array: model-major, then dataset (in the suite's order), then task. A
 * model x dataset's units are adjacent, so that one dataset's embeddings are in memory at a time; a shard of the
 * suite is a slice of this list.
 */
export function suiteUnits(models: readonly string[], datasets: readonly string[], tasks: readonly SuiteTask[]): SuiteUnit[] {
  const out: SuiteUnit[] = [];
  for (const model of models) for (const dataset of datasets) for (const task of tasks) out.push({ index: out.length, model, dataset, task });
  return out;
}

/** `mini x food101 x zeroshot` */
export const unitLabel = (u: SuiteUnit): string => `${u.model} x ${u.dataset} x ${u.task}`;
