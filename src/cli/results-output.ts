import { createHash } from 'node:crypto';
import { modelImageGflops } from '../model/flops.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import { formatResultsTable, runConfig, writeResults, type RowTypes, type RunEntry, type RunFlags, type TableName } from '../report/results.js';
import { toolVersion } from '../version.js';
import type { ImageOutcomes } from '../eval/metrics.js';

const hashConfig = (config: Record<string, unknown>): string => createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);

/** The config hash a run of `table` with these flags records (`suite` compares it to decide whether a step is done). */
export function configHash<T extends TableName>(table: T, flags: Parameters<typeof runConfig<T>>[1] & RunFlags): string {
  return hashConfig(runConfig(table, flags));
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
    tool_version: toolVersion(),
    model_identity: model.identity,
    image_gflops: modelImageGflops(model.files.dir),
    dataset_fingerprint: datasetFingerprint,
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
  outcomes?: readonly (readonly ImageOutcomes[])[],
): void {
  writeResults(out, table, rows, runs, outcomes);
  if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else process.stdout.write(formatResultsTable(table, rows));
  process.stderr.write(`results written to ${out}/${table}.csv and ${table}.json\n`);
}
