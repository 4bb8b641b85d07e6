/**
 * Result rows compared image by image through their kept predictions: the rows of two result folders (or two
 * models of one folder) matched on everything that selects the images, each pair's difference with its paired
 * bootstrap interval and test (as the metric's descriptor says), and the numbers' formats; `regress --significance`
 * builds its verdict on these (significance.ts).
 */
import path from 'node:path';
import { primaryDescriptor } from './tables/common.js';
import { pairedComparison, type PairedComparison, type PairedMetric } from '../eval/paired.js';
import type { ImageOutcomes } from '../eval/metrics.js';
import { holm, type BootstrapOptions } from '../eval/stats.js';
import { UserError } from '../errors.js';
import { predictionsPathOf, readPredictions } from './predictions.js';
import { identityKey, readResults, testName, TABLES, type AnyRow, type RegressMetric, type TableName } from './results.js';

/**
 * The metric behind a row's value of `metric` (primary: the row's dataset's, by its descriptor), or null when the
 * row has none: few-shot top-5, top-5 under 5 classes, a metric name this version does not know.
 */
export function pairedMetricOf(table: TableName, row: AnyRow, metric: RegressMetric): PairedMetric | null {
  const r = row as unknown as Record<string, unknown>;
  if (metric === 'primary') {
    const d = primaryDescriptor(row);
    return d?.sameAs ?? d?.name ?? null;
  }
  if (metric === 'top5' && (table === 'fewshot' || r.top5 == null)) return null;
  return metric;
}

/** A row's kept predictions (one set per few-shot seed), or null when its folder has none. */
export function rowPredictions(dir: string, table: TableName, row: AnyRow): ImageOutcomes[] | null {
  return readPredictions(dir, predictionsPathOf(table, row));
}

/** One side of a comparison: a results folder, optionally narrowed to one model of it. */
export interface Side {
  dir: string;
  model?: string;
}

export interface ComparedRow {
  table: TableName;
  /** `dataset/split/prompts`, `dataset`, `dataset/K-shot` */
  name: string;
  modelA: string;
  modelB: string;
  /** null where the pair could not be compared (see `note`) */
  result: PairedComparison | null;
  note: string | null;
}

/** A row's identity without its model: what selects the images and the configuration. */
function imagesKey(table: TableName, row: AnyRow): string {
  return identityKey(table, { ...(row as unknown as Record<string, unknown>), model: '' });
}

function rowsOf(side: Side, table: TableName, label: string): Map<string, AnyRow> {
  const res = readResults(side.dir, table);
  const out = new Map<string, AnyRow>();
  for (const r of (res?.rows ?? []) as AnyRow[]) {
    if (side.model !== undefined && r.model !== side.model) continue;
    const k = imagesKey(table, r);
    const other = out.get(k);
    if (other) {
      throw new UserError(`${label} (${side.dir}) holds ${table} rows of several models for ${testName(table, r)} (${other.model}, ${r.model}): name one model`);
    }
    out.set(k, r);
  }
  return out;
}

/**
 * Every row of A with a matching row in B (same table, same identity apart from the model), compared on `metric`:
 * b - a with its paired-bootstrap interval and p-value. Pairs whose predictions are missing or cover other images
 * carry a note instead.
 */
export function compareSides(a: Side, b: Side, metric: RegressMetric, opts: BootstrapOptions = {}): ComparedRow[] {
  const out: ComparedRow[] = [];
  for (const table of TABLES) {
    const ra = rowsOf(a, table, 'A');
    const rb = rowsOf(b, table, 'B');
    for (const [k, rowA] of ra) {
      const rowB = rb.get(k);
      if (!rowB) continue;
      out.push({ table, name: testName(table, rowA), modelA: rowA.model, modelB: rowB.model, ...comparePair(table, rowA, a.dir, rowB, b.dir, metric, opts) });
    }
  }
  return out;
}

/** The rows of each side that match no row of the other (`table dataset/split/mode`): compare leaves them out and says so. */
export function unmatchedRows(a: Side, b: Side): { onlyA: string[]; onlyB: string[] } {
  const onlyA: string[] = [];
  const onlyB: string[] = [];
  for (const table of TABLES) {
    const ra = rowsOf(a, table, 'A');
    const rb = rowsOf(b, table, 'B');
    for (const [k, r] of ra) if (!rb.has(k)) onlyA.push(`${table} ${testName(table, r)}`);
    for (const [k, r] of rb) if (!ra.has(k)) onlyB.push(`${table} ${testName(table, r)}`);
  }
  return { onlyA, onlyB };
}

/** One pair of rows compared through their predictions. */
export function comparePair(
  table: TableName,
  rowA: AnyRow,
  dirA: string,
  rowB: AnyRow,
  dirB: string,
  metric: RegressMetric,
  opts: BootstrapOptions = {},
): { result: PairedComparison | null; note: string | null } {
  const pm = pairedMetricOf(table, rowA, metric);
  if (!pm) return { result: null, note: `no per-image ${metric}` };
  const pa = rowPredictions(dirA, table, rowA);
  const pb = rowPredictions(dirB, table, rowB);
  if (!pa || !pb) {
    const where = path.join(!pa ? dirA : dirB, predictionsPathOf(table, !pa ? rowA : rowB));
    return { result: null, note: `no predictions (${where})` };
  }
  try {
    return { result: pairedComparison(pa, pb, pm, opts), note: null };
  } catch (err) {
    if (err instanceof RangeError) return { result: null, note: err.message };
    throw err;
  }
}

/** Holm-adjusted p-values of the compared rows (null where a row has no result), in order. */
export function holmAdjusted(results: readonly (PairedComparison | null)[]): (number | null)[] {
  const idx = results.map((r, i) => (r ? i : -1)).filter((i) => i >= 0);
  const adj = holm(idx.map((i) => results[i]!.p));
  const out: (number | null)[] = results.map(() => null);
  idx.forEach((i, j) => (out[i] = adj[j]!));
  return out;
}

/** `+0.12 [-0.05, +0.31]` style numbers. */
export function signed(v: number): string {
  const s = v.toFixed(2);
  if (/^-0\.00$/.test(s)) return '0.00';
  return v > 0 && s !== '0.00' ? `+${s}` : s;
}

/** A change of `delta` points is a drop beyond the tolerance (1e-9: printed values that only round to it are not). */
export function isDrop(delta: number, tolerance: number): boolean {
  return delta < -tolerance - 1e-9;
}

/** A p-value for tables: 4 significant digits, small ones in exponent form. */
export function formatP(p: number): string {
  if (p === 0) return '0';
  return p < 1e-4 ? p.toExponential(2) : p.toPrecision(4).replace(/\.?0+$/, '');
}
