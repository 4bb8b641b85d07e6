import { createHash } from 'node:crypto';
import { deviceLabel } from '../model/device.js';
import { modelImageGflops } from '../model/flops.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import { formatResultsTable, runConfig, writeResults, type RowTypes, type RunEntry, type RunFlags, type TableName, type Variant } from '../results/index.js';
import { toolVersion } from '../version.js';
import type { ImageEvidence } from '../eval/metric-descriptors.js';
import type { Shard } from '../util/shard.js';
import type { DataFlags } from './data-options.js';
import { forEachModelAndDataset, type ModelFlags } from './model-options.js';
import { sharesReady } from './shard-options.js';

const hashConfig = (config: Record<string, unknown>): string => createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);

/** The config hash a run of `table` with these flags records (`suite` compares it to decide whether a step is done). */
export function configHash<T extends TableName>(table: T, flags: Parameters<typeof runConfig<T>>[1] & RunFlags): string {
  return hashConfig(runConfig(table, flags));
}

/** The variant of a model its rows record (src/report/tables/types.ts Variant): dtype, preprocessing, files, provider. */
export function rowVariant(model: OnnxClipModel): Required<Variant> {
  return {
    dtype: model.dtype,
    preprocess: createHash('sha256').update(JSON.stringify(model.preprocess)).digest('hex').slice(0, 12),
    model_digest: model.filesDigest,
    provider: deviceLabel(model.device),
  };
}

/** The metadata every run records: what was evaluated, with which tool and configuration (from the flags, the same fields for every table), and when. */
export function runMetadata<T extends TableName>(
  table: T,
  flags: Parameters<typeof runConfig<T>>[1] & RunFlags,
  model: OnnxClipModel,
  dataset: string,
  datasetFingerprint: string,
  extra: Record<string, unknown>,
): RunEntry {
  const config = runConfig(table, flags);
  return {
    model: model.name,
    dataset,
    // the variant, as its rows record it: runs of other variants are kept beside this one
    ...rowVariant(model),
    features: model.features,
    tool_version: toolVersion(),
    model_identity: model.identity,
    image_gflops: modelImageGflops(model.files.dir),
    dataset_fingerprint: datasetFingerprint,
    // where the towers ran (--device auto records what it chose) and on which GPU (null: the CPU, or not known)
    execution_provider: deviceLabel(model.device),
    adapter: model.device.adapter,
    ...extra,
    config,
    config_hash: hashConfig(config),
    timestamp: new Date().toISOString(),
  };
}

/** Merge the rows into <out>/<table>.csv/.json, then print them (a table, or JSON with --json). */
export function writeAndPrint<T extends TableName>(
  table: T,
  out: string,
  rows: RowTypes[T][],
  runs: RunEntry[],
  json: boolean,
  outcomes?: readonly (readonly ImageEvidence[])[],
): void {
  writeResults(out, table, rows, runs, outcomes);
  if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else process.stdout.write(formatResultsTable(table, rows));
  process.stderr.write(`results written to ${out}/${table}.csv and ${table}.json\n`);
}

/** What one model x dataset evaluation gives: its rows, their per-image outcomes, its run entry. */
export interface EvaluationStep<T extends TableName> {
  rows: RowTypes[T][];
  outcomes: ImageEvidence[][];
  run: RunEntry;
}

/**
 * The body of every evaluation command: `step` for each --model x --dataset (with --shard, only where this shard
 * completed the embeddings of `splits`: one evaluation per unit, not N), then the rows merged into --out and printed.
 * `imageOnly`: the models need no text tower.
 */
export async function evaluateEach<T extends TableName>(
  table: T,
  f: ModelFlags & DataFlags & { dataset: string; out: string; json: boolean },
  opts: { imageOnly: boolean; splits: string[]; shard: Shard | null },
  step: (model: OnnxClipModel, modelSpec: string, dataset: string) => Promise<EvaluationStep<T>>,
): Promise<void> {
  const rows: RowTypes[T][] = [];
  const outcomes: ImageEvidence[][] = [];
  const runs: RunEntry[] = [];
  await forEachModelAndDataset(f, opts.imageOnly, async (model, modelSpec, dataset) => {
    if (opts.shard && !(await sharesReady(model, dataset, opts.splits, f, opts.shard))) return;
    const r = await step(model, modelSpec, dataset);
    rows.push(...r.rows);
    outcomes.push(...r.outcomes);
    runs.push(r.run);
  });
  if (opts.shard && rows.length === 0) return; // nothing evaluated here: no rows to write
  writeAndPrint(table, f.out, rows, runs, f.json, outcomes);
}
