/**
 * The suite: every task of the registry (or --tasks) for each model x dataset, resuming where it stopped. Each
 * step's rows are written at once (a killed suite keeps every finished step) and kept in memory for the tasks that
 * build on them (few-shot takes zero-shot's and the probe's).
 */
import { DatasetUnavailable, TransferFailed } from '../errors.js';
import type { DatasetDescriptor } from '../data/types.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import type { ImageFeatures } from '../model/towers.js';
import { readResults, writeResults, type RowTypes, type RunEntry, type TableName } from '../results/index.js';
import { EvalContext, OpenedSplits, type DataOptions } from '../tasks/context.js';
import type { FewshotOptions } from '../tasks/fewshot.js';
import type { AnyTask } from '../tasks/index.js';
import type { LinearProbeOptions } from '../tasks/linear-probe.js';
import { HeldResults } from '../tasks/prior-results.js';
import { configHash } from '../tasks/run-entry.js';
import { factsOf, runTask } from '../tasks/run.js';
import type { ModelNeeds } from '../tasks/types.js';
import type { ZeroshotOptions } from '../tasks/zeroshot.js';
import { shardLabel, shardRange, type Shard } from '../util/shard.js';
import { SuiteProgress } from './progress.js';
import { suiteUnits, unitLabel, type SuiteUnit } from './units.js';

/** Every task's options (the suite's flags), the data's, and where results go. */
export interface SuiteOptions extends DataOptions, ZeroshotOptions, LinearProbeOptions, FewshotOptions {
  out: string;
  /** recompute steps whose results are already there with the same configuration */
  force: boolean;
}

export interface SuitePlan {
  models: readonly string[];
  datasets: readonly DatasetDescriptor[];
  tasks: readonly AnyTask[];
  shard: Shard | null;
  options: SuiteOptions;
  /** open a model with these image features (and its text tower, when asked) */
  openModel(spec: string, need: ModelNeeds): Promise<OnnxClipModel>;
}

export interface SuiteOutcome {
  /** the steps this run (or shard) covered */
  units: SuiteUnit[];
  computed: number;
  reused: number;
  /** data not available */
  skipped: { unit: SuiteUnit; why: string }[];
  /** the task does not apply to the dataset */
  notRun: { unit: SuiteUnit; why: string }[];
  failures: { unit: SuiteUnit; error: string }[];
  /**
   * the datasets found not available (`unavailable`) or whose download failed, with the reason: each is looked for
   * once per run, its other steps (every task, every model) skipped or failed with the same reason
   */
  dataProblems: Map<string, { unavailable: boolean; why: string }>;
}

/**
 * The rows of this unit when the results already hold it with the same configuration (rows of the model on the
 * dataset, and the run that wrote them recorded the config hash these options give), else null.
 */
function doneRows<T extends TableName>(out: string, table: T, modelSpec: string, model: OnnxClipModel, d: DatasetDescriptor, expected: string): RowTypes[T][] | null {
  const res = readResults(out, table);
  if (!res) return null;
  const rows = res.rows.filter((r) => r.model === modelSpec && r.dataset === d.name && (!('split' in r) || r.split === d.roles.test));
  const run = res.runs.find((r: RunEntry) => r.model === model.name && r.dataset === d.name && r.config_hash === expected);
  return rows.length > 0 && run !== undefined ? rows : null;
}

/**
 * The models the tasks run on, one per kind of image features they take (zero-shot the embedding, the probes
 * --features), each with its text tower where a task on it needs one; opened in the tasks' order.
 */
async function openModels(plan: SuitePlan, modelSpec: string): Promise<Map<ImageFeatures, OnnxClipModel>> {
  const needs = plan.tasks.map((t) => t.model(plan.options) as ModelNeeds);
  const models = new Map<ImageFeatures, OnnxClipModel>();
  try {
    for (const { features } of needs) {
      if (!models.has(features)) models.set(features, await plan.openModel(modelSpec, { features, text: needs.some((n) => n.features === features && n.text) }));
    }
  } catch (e) {
    for (const model of models.values()) await model.close();
    throw e;
  }
  return models;
}

const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/**
 * The steps of this run: all of them, or under --shard a contiguous block of whole model x dataset groups (a
 * group's steps run in one process, in order: few-shot takes zero-shot's and the probe's rows from memory).
 */
export function suiteBlock(plan: Pick<SuitePlan, 'models' | 'datasets' | 'tasks' | 'shard'>): { all: SuiteUnit[]; units: SuiteUnit[]; groups: number; start: number; end: number } {
  const all = suiteUnits(plan.models, plan.datasets.map((d) => d.name), plan.tasks);
  const groups = plan.models.flatMap((m) => plan.datasets.map((d) => all.filter((u) => u.model === m && u.dataset === d.name)));
  const block = plan.shard ? shardRange(groups.length, plan.shard) : { start: 0, end: groups.length };
  return { all, units: groups.slice(block.start, block.end).flat(), groups: groups.length, ...block };
}

/** Run the suite's steps (all, or this shard's block), one line per step on stderr. */
export async function runSuite(plan: SuitePlan): Promise<SuiteOutcome> {
  const { options: o, shard } = plan;
  const { all, units, groups, start, end } = suiteBlock(plan);
  if (shard) {
    const steps = units.length ? `steps ${units[0]!.index + 1}-${units[units.length - 1]!.index + 1} of ${all.length}` : `no steps (only ${groups} model x dataset groups)`;
    process.stderr.write(`suite: shard ${shardLabel(shard)} (${shard.source}): model x dataset groups ${start + 1}-${end} of ${groups}, ${steps}\n`);
  }
  const result: SuiteOutcome = { units, computed: 0, reused: 0, skipped: [], notRun: [], failures: [], dataProblems: new Map() };
  const progress = new SuiteProgress(units.length, o.progress);
  const opened = new OpenedSplits();
  const prior = new HeldResults(plan.tasks.map((t) => t.table), o.out);
  try {
    for (const modelSpec of plan.models) {
      if (!units.some((u) => u.model === modelSpec)) continue;
      const models = await openModels(plan, modelSpec);
      try {
        for (const d of plan.datasets) {
          // one context per model: the tasks on the same features share its loaded embeddings
          const contexts = new Map([...models].map(([kind, model]) => [kind, new EvalContext(model, modelSpec, d.name, { test: d.roles.test }, o, prior, opened)]));
          try {
            for (const unit of units.filter((u) => u.model === modelSpec && u.dataset === d.name)) {
              await runStep(unit, d, contexts.get(unit.task.model(o).features)!, plan, progress, result, prior);
            }
          } finally {
            // one dataset's splits, embeddings and rows in memory at a time
            opened.clear();
            prior.clear();
          }
        }
      } finally {
        for (const model of models.values()) await model.close();
      }
    }
  } finally {
    progress.stop();
  }
  return result;
}

/** One step: not run (the task does not apply), reused (done with the same configuration), or computed and written. */
async function runStep(unit: SuiteUnit, d: DatasetDescriptor, data: EvalContext, plan: SuitePlan, progress: SuiteProgress, result: SuiteOutcome, prior: HeldResults): Promise<void> {
  const { task } = unit;
  const label = unitLabel(unit);
  const started = Date.now();
  progress.start(label);
  const applies = task.applies(factsOf(d));
  if (applies !== true) {
    result.notRun.push({ unit, why: applies });
    progress.finish(label, `not run: ${applies}`, 0, false);
    return;
  }
  const splits = task.splits(d);
  // the probes learn from the dataset's own train split: never a test split (an error here if a descriptor said otherwise)
  const p = task.prepare(plan.options, splits, [d.name]);
  const done = plan.options.force ? null : doneRows(plan.options.out, task.table, unit.model, data.model, d, configHash(task.table, p));
  if (done) {
    prior.add(task.table, done);
    result.reused++;
    progress.finish(label, 'reused (results with the same configuration)', 0, false);
    return;
  }
  const known = result.dataProblems.get(d.name);
  if (known) {
    if (known.unavailable) result.skipped.push({ unit, why: known.why });
    else result.failures.push({ unit, error: known.why });
    progress.finish(label, `${known.unavailable ? 'skipped' : 'FAILED'} (${d.name}: ${known.unavailable ? 'not available' : 'download failed'}, above)`, 0, false);
    return;
  }
  try {
    const step = await runTask(task, data.withSplits(splits), p);
    // written at once: a killed suite keeps every finished step
    writeResults(plan.options.out, task.table, step.rows, [step.run], step.outcomes);
    prior.add(task.table, step.rows);
    result.computed++;
    progress.finish(label, `done (${step.rows.length} row${step.rows.length === 1 ? '' : 's'})`, Date.now() - started, true);
  } catch (e) {
    if (e instanceof DatasetUnavailable || e instanceof TransferFailed) result.dataProblems.set(d.name, { unavailable: e instanceof DatasetUnavailable, why: oneLine(e) });
    if (e instanceof DatasetUnavailable) {
      result.skipped.push({ unit, why: oneLine(e) });
      progress.finish(label, `skipped: ${oneLine(e)}`, 0, false);
    } else {
      result.failures.push({ unit, error: oneLine(e) });
      progress.finish(label, `FAILED: ${oneLine(e)}`, Date.now() - started, false);
    }
  }
}
