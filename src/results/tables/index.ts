/**
 * The registry of result tables. Adding a table = one descriptor module + one entry here (and the command
 * that builds its rows): schema, writer, reader, terminal output and `regress` follow from the descriptor.
 */
import { fewshotTable, type FewshotRow } from './fewshot.js';
import { linearProbeTable, type LinearProbeRow } from './linear-probe.js';
import type { RunFlags, TableDescriptor } from './types.js';
import { zeroshotTable, type ZeroshotRow } from './zeroshot.js';

export const TABLE_DESCRIPTORS = {
  zeroshot: zeroshotTable,
  linear_probe: linearProbeTable,
  fewshot: fewshotTable,
} as const;

export type TableName = keyof typeof TABLE_DESCRIPTORS;
export const TABLES = Object.keys(TABLE_DESCRIPTORS) as TableName[];

export interface RowTypes {
  zeroshot: ZeroshotRow;
  linear_probe: LinearProbeRow;
  fewshot: FewshotRow;
}
export type AnyRow = RowTypes[TableName];

/** A descriptor seen through the operations every table has (rows as BaseRow). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTable = TableDescriptor<TableName, any, any, any>;

export function isTableName(s: string): s is TableName {
  return Object.hasOwn(TABLE_DESCRIPTORS, s);
}

export function tableOf(name: TableName): AnyTable {
  return TABLE_DESCRIPTORS[name];
}

/** The run config every table records: the shared flags (one list for all tables), then the table's own. */
export function runConfig<T extends TableName>(table: T, flags: Parameters<(typeof TABLE_DESCRIPTORS)[T]['config']>[0] & RunFlags): Record<string, unknown> {
  const shared = {
    limit: flags.limit ?? null,
    seed: flags.seed,
    dtype: flags.dtype,
    device: flags.device,
    skipBadImages: flags.skipBadImages,
    ...(flags.tunedOnTest?.length ? { tuned_on_test: flags.tunedOnTest } : {}),
  };
  return { ...(tableOf(table).config(flags) as Record<string, unknown>), ...shared };
}

export type { BaseRow, ColumnSpec, Kind, RegressMetric, RunEntry, RunFlags, Subset, TableDescriptor, Variant } from './types.js';
export { SUBSET_COLUMNS } from './types.js';
export { describeSubset, rowPrimaryInterval, sameSubset, subsetKey, subsetOf } from './common.js';
export { primaryMeanInterval, primaryStd, type FewshotRow } from './fewshot.js';
export type { LinearProbeRow } from './linear-probe.js';
export type { ZeroshotRow } from './zeroshot.js';
