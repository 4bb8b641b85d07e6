/** Pieces the table descriptors share: subset keys and arguments, grouping, the shared column kinds. */
import { compareStrings } from '../../util/compare.js';
import { runIntervals, type RunIntervals } from '../../eval/intervals.js';
import type { Metrics } from '../../eval/metrics.js';
import type { BaseRow, ColumnSpec, RegressMetric, Subset } from './types.js';

export const ID: ColumnSpec = { kind: 'id', nullable: false };
export const INT: ColumnSpec = { kind: 'int', nullable: false };
export const ACC: ColumnSpec = { kind: 'acc', nullable: true };
export const METRIC: ColumnSpec = { kind: 'metric', nullable: false };

/** A stable key of the images a row was computed on. */
export function subsetKey(s: Subset): string {
  return `${s.limit ?? null}\u0000${s.subset_seed ?? null}\u0000${s.skipped_images ?? null}`;
}

export function sameSubset(a: Subset, b: Subset): boolean {
  return subsetKey(a) === subsetKey(b);
}

/** `full split`, `limit 500 (seed 0)`, `..., 3 skipped`: for report notes and labels. */
export function describeSubset(s: Subset): string {
  const base = s.limit == null ? 'full split' : `limit ${s.limit} (seed ${s.subset_seed})`;
  return s.skipped_images ? `${base}, ${s.skipped_images} skipped` : base;
}

/** The flags that select the same images again: `--limit N --seed S`, `--skip-bad-images`. */
export function subsetArgs(s: Subset): string[] {
  const out: string[] = [];
  if (s.limit != null) out.push('--limit', String(s.limit), '--seed', String(s.subset_seed ?? 0));
  if (s.skipped_images) out.push('--skip-bad-images');
  return out;
}

/** The Subset of an evaluation: `limit`/`seed` only when a subset was actually taken. */
export function subsetOf(limit: number | null, seed: number, skipped: number): Required<Subset> {
  return { limit, subset_seed: limit == null ? null : seed, skipped_images: skipped };
}

/** Rows grouped by a key, in first-seen order. */
export function groupBy<R>(rows: readonly R[], key: (r: R) => string): R[][] {
  const m = new Map<string, R[]>();
  for (const r of rows) {
    const k = key(r);
    const g = m.get(k);
    if (g) g.push(r);
    else m.set(k, [r]);
  }
  return [...m.values()];
}

/** model, dataset, then the subset (full split first, then by limit, seed, skipped). */
export function compareBase(a: BaseRow, b: BaseRow): number {
  const n = (v: number | null | undefined) => (v == null ? -1 : v);
  return (
    compareStrings(a.model, b.model) ||
    compareStrings(a.dataset, b.dataset) ||
    n(a.limit) - n(b.limit) ||
    n(a.subset_seed) - n(b.subset_seed) ||
    n(a.skipped_images) - n(b.skipped_images)
  );
}

/** A probe-style row's value of a metric: `top1`, `top5`, `mean_per_class`; primary picks one by the dataset's metric. */
export function accuracyValue(r: { top1: number | null; top5: number | null; mean_per_class: number | null; primary_metric: string }, metric: RegressMetric): number | null {
  if (metric === 'primary') return r.primary_metric === 'mean_per_class' ? r.mean_per_class : r.top1;
  return r[metric];
}

/** 95% interval columns of one run's accuracies (zero-shot, linear probe): Clopper-Pearson, bootstrap for mean per class. */
export const RUN_INTERVAL_COLUMNS = ['top1_lo', 'top1_hi', 'top5_lo', 'top5_hi', 'mean_per_class_lo', 'mean_per_class_hi'] as const;
/** 95% interval columns of few-shot means over seeds. */
export const SEED_INTERVAL_COLUMNS = ['top1_mean_lo', 'top1_mean_hi', 'mean_per_class_mean_lo', 'mean_per_class_mean_hi'] as const;

export function intervalKinds(columns: readonly string[]): Record<string, ColumnSpec> {
  return Object.fromEntries(columns.map((c) => [c, ACC]));
}

/** A run's interval columns from its metrics (null without per-image outcomes). */
export function runIntervalsOf(m: Metrics): { [K in keyof RunIntervals]: RunIntervals[K] | null } {
  if (!m.outcomes) return Object.fromEntries(RUN_INTERVAL_COLUMNS.map((c) => [c, null])) as { [K in keyof RunIntervals]: null };
  return runIntervals(m.outcomes, m.top5 !== null);
}

