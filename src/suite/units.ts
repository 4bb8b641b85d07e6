import { UserError } from '../errors.js';
import { TASKS, type AnyTask } from '../tasks/index.js';

/** One step of a suite: one task of one model on one dataset. */
export interface SuiteUnit {
  /** position in the suite's unit list (0-based) */
  index: number;
  model: string;
  dataset: string;
  task: AnyTask;
}

/** --tasks: a comma-separated subset of the registered tasks (run in the registry's order whatever the order given). */
export function parseTasks(value: string): AnyTask[] {
  const names = TASKS.map((t) => t.name);
  const asked = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of asked) {
    if (!names.includes(t)) throw new UserError(`--tasks ${t}: unknown task (one of ${names.join(', ')})`);
  }
  if (asked.length === 0) throw new UserError(`--tasks: expected a comma-separated list of ${names.join(', ')}`);
  return TASKS.filter((t) => asked.includes(t.name));
}

/**
 * Every unit of a suite, as a deterministic array: model-major, then dataset (in the suite's order), then task. A
 * model x dataset's units are adjacent, so that one dataset's embeddings are in memory at a time; a shard of the
 * suite is a slice of this list.
 */
export function suiteUnits(models: readonly string[], datasets: readonly string[], tasks: readonly AnyTask[]): SuiteUnit[] {
  const out: SuiteUnit[] = [];
  for (const model of models) for (const dataset of datasets) for (const task of tasks) out.push({ index: out.length, model, dataset, task });
  return out;
}

/** `mini x food101 x zeroshot` */
export const unitLabel = (u: SuiteUnit): string => `${u.model} x ${u.dataset} x ${u.task.name}`;
