/**
 * The schema side of the result tables: a row checked against its descriptor, identity keys, order, and the
 * CSV (fixed column order, fixed decimals, blank for null) and JSON (full precision + per-run metadata) texts.
 */
import { stringify } from 'csv-stringify/sync';
import { PROMPT_MODES, type PromptMode } from '../eval/prompts.js';
import { PRIMARY_METRICS, type PrimaryMetric } from '../data/types.js';
import { fixed } from '../util/text-table.js';
import { IMAGE_FEATURES, type ImageFeatures } from '../model/towers.js';
import { toolVersion } from '../version.js';
import { modelLabel } from './tables/common.js';
import { tableOf, type AnyRow, type RegressMetric, type RowTypes, type RunEntry, type TableName } from './tables/index.js';

export interface ResultsFile<T extends TableName = TableName> {
  table: T;
  tool_version: string;
  columns: string[];
  rows: RowTypes[T][];
  runs: RunEntry[];
  /** each row's predictions files and their digests, by predictionsPathOf (JSON only; absent in older files) */
  predictions?: PredictionsIndex;
}

type Loose = Record<string, unknown>;

/** A file of a row's predictions and its sha256. */
export interface StoredFile {
  file: string;
  sha256: string;
}

/** What the table's JSON records of one row's predictions (keyed there by predictionsPathOf in predictions.ts). */
export interface PredictionsEntry extends StoredFile {
  /** the classes the outcomes index (labels, predictions and ranks lie below it) */
  classes: number;
  /** the images' identities in the rows' order (a JSON array of strings), or null where not known */
  images: StoredFile | null;
  /** float32 scores [n, classes] or [seeds, n, classes], for metrics that rank images */
  scores: StoredFile | null;
  /** 0/1 multilabel targets [n, classes] */
  targets: StoredFile | null;
}
export type PredictionsIndex = Record<string, PredictionsEntry>;


/** The table's columns, in CSV/JSON order. */
export function columnsOf(table: TableName): string[] {
  return Object.keys(tableOf(table).columns);
}

/** A stable string key of a row's identity within its table. */
export function identityKey(table: TableName, row: AnyRow | Loose): string {
  const r = row as Loose;
  return tableOf(table).identity.map((c) => String(r[c] ?? null)).join('\u0000');
}

/** `dataset/split/prompts` (zeroshot), `dataset` (linear_probe), `dataset/K-shot` (fewshot). */
export function testName(table: TableName, row: AnyRow): string {
  return tableOf(table).testName(row);
}

/** Human-readable identity: `model dataset/split/prompts`, `model dataset`, `model dataset/4-shot`. */
export function identityLabel(table: TableName, row: AnyRow): string {
  return `${modelLabel(row)} ${testName(table, row)}`;
}

export function compareRows(table: TableName, a: AnyRow, b: AnyRow): number {
  return tableOf(table).compare(a, b);
}

export function sortRows<T extends TableName>(table: T, rows: readonly RowTypes[T][]): RowTypes[T][] {
  return [...rows].sort((a, b) => compareRows(table, a, b));
}

/** The value of `metric` on a row (fewshot: the mean over seeds; null when not measured). */
export function metricValue(table: TableName, row: AnyRow, metric: RegressMetric): number | null {
  return tableOf(table).metricValue(row, metric);
}

/** The row's value of the metric the paper's Table 9 uses for its dataset (top-1, mean per class, mean(top1, top5), ROC AUC, 11-point mAP). */
export function primaryValue(table: TableName, row: AnyRow): number | null {
  return metricValue(table, row, 'primary');
}

export function describeRow(table: TableName, row: Loose): string {
  return `${table} row (${tableOf(table).identity.map((c) => `${c}=${String(row[c] ?? null)}`).join(', ')})`;
}

/** Check one row and return a copy holding exactly the table's columns in order (absent = null). Throws on NaN/Infinity. */
export function normalizeRow<T extends TableName>(table: T, row: RowTypes[T] | Loose): RowTypes[T] {
  const src = row as Loose;
  const out: Loose = {};
  for (const [col, spec] of Object.entries(tableOf(table).columns)) {
    let v = src[col];
    if (v === undefined) v = spec.absent ?? null;
    const where = `${describeRow(table, src)}: column ${col}`;
    if (v === null) {
      if (!spec.nullable) throw new Error(`${where} is missing`);
      out[col] = null;
      continue;
    }
    switch (spec.kind) {
      case 'id':
      case 'string':
        if (typeof v !== 'string' || (spec.kind === 'id' && v === '')) throw new Error(`${where} must be a non-empty string, got ${JSON.stringify(v)}`);
        break;
      case 'prompts':
        if (!PROMPT_MODES.includes(v as PromptMode)) throw new Error(`${where} must be one of ${PROMPT_MODES.join('|')}, got ${JSON.stringify(v)}`);
        break;
      case 'features':
        if (!IMAGE_FEATURES.includes(v as ImageFeatures)) throw new Error(`${where} must be one of ${IMAGE_FEATURES.join('|')}, got ${JSON.stringify(v)}`);
        break;
      case 'metric':
        if (!PRIMARY_METRICS.includes(v as PrimaryMetric)) throw new Error(`${where} must be ${PRIMARY_METRICS.join('|')}, got ${JSON.stringify(v)}`);
        break;
      case 'equiv':
        if (typeof v !== 'string') throw new Error(`${where} must be a string or null, got ${JSON.stringify(v)}`);
        if (v === '') v = null;
        break;
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${where} must be an integer, got ${String(v)}`);
        break;
      default:
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where} must be a finite number or null, got ${String(v)}`);
    }
    out[col] = v;
  }
  return out as unknown as RowTypes[T];
}

/** The CSV text of one cell: fixed decimals, blank for null. */
export function formatCell(table: TableName, column: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  const spec = tableOf(table).columns[column];
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${table}.${column}: refusing to write ${value}`);
    switch (spec?.kind) {
      case 'acc':
      case 'std':
      case 'sec':
        return fixed(value, 2);
      case 'sig6':
        return value === 0 ? '0' : value.toPrecision(6);
      default:
        return String(value);
    }
  }
  return String(value);
}

/** The CSV text (header + one line per row, in the given order). */
export function toCsv<T extends TableName>(table: T, rows: readonly RowTypes[T][]): string {
  const cols = columnsOf(table);
  const records = rows.map((r) => cols.map((c) => formatCell(table, c, (r as unknown as Loose)[c])));
  return stringify([cols, ...records], { record_delimiter: '\n' });
}

export function assertFiniteDeep(v: unknown, where: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${where}: refusing to write ${v}`);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => assertFiniteDeep(x, `${where}[${i}]`));
  } else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    for (const [k, x] of Object.entries(v)) assertFiniteDeep(x, `${where}.${k}`);
  } else if (ArrayBuffer.isView(v)) {
    throw new Error(`${where}: typed arrays are not JSON; pass a plain array`);
  }
}

/** The JSON text of a results file (2-space indented, trailing newline). */
export function toJson<T extends TableName>(table: T, rows: readonly RowTypes[T][], runs: readonly RunEntry[], predictions?: PredictionsIndex): string {
  runs.forEach((r, i) => assertFiniteDeep(r, `${table}.json runs[${i}]`));
  const doc: ResultsFile<T> = { table, tool_version: toolVersion(), columns: columnsOf(table), rows: [...rows], runs: [...runs], ...(predictions && Object.keys(predictions).length ? { predictions } : {}) };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
