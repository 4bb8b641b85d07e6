/** Pieces the table descriptors share: subset keys and arguments, grouping, the shared column kinds. */
import { compareStrings } from '../../util/compare.js';
import { primaryIntervals, primarySeedIntervals, runIntervals, type PrimaryIntervals, type PrimarySeedIntervals, type RunIntervals, type SeedIntervals } from '../../eval/intervals.js';
import type { PrimaryScore } from '../../eval/primary.js';
import { meanStd } from '../../eval/fewshot.js';
import type { Metrics } from '../../eval/metrics.js';
import { METRICS, type ImageEvidence, type MetricDescriptor } from '../../eval/metric-descriptors.js';
import type { PrimaryMetric } from '../../data/types.js';
import { VARIANT_COLUMNS, type BaseRow, type ColumnSpec, type RegressMetric, type Subset, type Variant } from './types.js';

export const ID: ColumnSpec = { kind: 'id', nullable: false };
export const INT: ColumnSpec = { kind: 'int', nullable: false };
export const ACC: ColumnSpec = { kind: 'acc', nullable: true };
export const METRIC: ColumnSpec = { kind: 'metric', nullable: false };
/** The image features a probe row learned from; files from before the column hold embedding rows. */
export const FEATURES: ColumnSpec = { kind: 'features', nullable: false, absent: 'embedding' };
export const FEATURES_COLUMNS = ['features'] as const;

/** The flag that selects a row's features again (none for the default, the embedding). */
export function featuresArgs(r: { features?: string | null }): string[] {
  return !r.features || r.features === 'embedding' ? [] : ['--features', r.features];
}

/** A stable key of a row's model variant (unknown: null). */
export function variantKey(v: Variant): string {
  return VARIANT_COLUMNS.map((c) => String(v[c] ?? null)).join('\u0000');
}

/** The flags that make the same variant again: `--dtype` where it is known (preprocessing and files come with the model). */
export function variantArgs(v: Variant): string[] {
  return v.dtype ? ['--dtype', v.dtype] : [];
}

/** `mini[q8]`: the model and its dtype, so that two variants of one model never print alike. */
export function modelLabel(r: { model: string } & Variant): string {
  return r.dtype ? `${r.model}[${r.dtype}]` : r.model;
}

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
    compareStrings(variantKey(a), variantKey(b)) ||
    compareStrings(a.dataset, b.dataset) ||
    n(a.limit) - n(b.limit) ||
    n(a.subset_seed) - n(b.subset_seed) ||
    n(a.skipped_images) - n(b.skipped_images)
  );
}

/** What a run row (zero-shot, linear probe) carries of its metrics. */
export interface RunMetricRow {
  top1: number | null;
  top5: number | null;
  mean_per_class: number | null;
  primary_metric: string;
  /** absent or null in files written before the primary column */
  primary?: number | null;
}

/** A row's primary metric's descriptor (a file's unknown metric name: none). */
export function primaryDescriptor(r: { primary_metric: string }): MetricDescriptor | null {
  return Object.hasOwn(METRICS, r.primary_metric) ? METRICS[r.primary_metric as PrimaryMetric] : null;
}

/**
 * A run row's value of its dataset's primary metric: the `primary` column, or for files written before it, the
 * value the metric's descriptor reads from its own columns (ROC AUC and mAP were not computed then).
 */
export function rowPrimary(r: RunMetricRow): number | null {
  if (r.primary != null) return r.primary;
  return primaryDescriptor(r)?.fromColumns?.(r) ?? null;
}

/** The 95% interval of a run row's primary metric: its columns, or for older files the interval columns of the column metric it is. */
export function rowPrimaryInterval(
  r: RunMetricRow & { primary_lo?: number | null; primary_hi?: number | null; top1_lo?: number | null; top1_hi?: number | null; mean_per_class_lo?: number | null; mean_per_class_hi?: number | null },
): [number | null, number | null] {
  if (r.primary != null) return [r.primary_lo ?? null, r.primary_hi ?? null];
  const d = primaryDescriptor(r);
  const col = d?.sameAs ?? (d?.name === 'mean_per_class' ? 'mean_per_class' : null);
  if (col === 'top1') return [r.top1_lo ?? null, r.top1_hi ?? null];
  if (col === 'mean_per_class') return [r.mean_per_class_lo ?? null, r.mean_per_class_hi ?? null];
  return [null, null];
}

/** A probe-style row's value of a metric: `top1`, `top5`, `mean_per_class`; primary is the dataset's metric. */
export function accuracyValue(r: RunMetricRow, metric: RegressMetric): number | null {
  if (metric === 'primary') return rowPrimary(r);
  return r[metric];
}

/**
 * The columns of the primary metric (value and 95% interval), added after the interval columns: files without them
 * still read (their primary comes from the metric's own columns).
 */
export const PRIMARY_COLUMNS = ['primary', 'primary_lo', 'primary_hi'] as const;
/** The few-shot table's primary columns: mean and std over seeds, and the interval of the mean. */
export const PRIMARY_SEED_COLUMNS = ['primary_mean', 'primary_std', 'primary_mean_lo', 'primary_mean_hi'] as const;

/** A run's primary columns: its value, and the interval of the metric's own columns where there is one (top-1, mean per class). */
export function primaryColumnsOf(m: Metrics, run: { [K in keyof RunIntervals]: RunIntervals[K] | null }): { primary: number | null } & PrimaryIntervals {
  const p = m.primary;
  if (!p) return { primary: null, primary_lo: null, primary_hi: null };
  const col = columnOf(p.metric);
  if (col === 'top1') return { primary: p.value, primary_lo: run.top1_lo, primary_hi: run.top1_hi };
  if (col === 'mean_per_class') return { primary: p.value, primary_lo: run.mean_per_class_lo, primary_hi: run.mean_per_class_hi };
  return { primary: p.value, ...primaryIntervals(p) };
}

/** The column metric a primary metric is (accuracy: top-1, mean per class: itself), whose columns it shares; else null. */
function columnOf(metric: PrimaryMetric): 'top1' | 'mean_per_class' | null {
  const d = METRICS[metric];
  return d.sameAs === 'top1' ? 'top1' : d.name === 'mean_per_class' ? 'mean_per_class' : null;
}

/** A few-shot point's primary columns over its seeds (null where a seed's metric is undefined). */
export function primarySeedColumnsOf(
  seeds: readonly PrimaryScore[],
  seedIv: SeedIntervals,
): { primary_mean: number | null; primary_std: number | null } & PrimarySeedIntervals {
  const values = seeds.map((p) => p.value);
  if (!seeds.length || values.some((v) => v === null)) return { primary_mean: null, primary_std: null, primary_mean_lo: null, primary_mean_hi: null };
  const { mean, std } = meanStd(values as number[]);
  const col = columnOf(seeds[0]!.metric);
  if (col === 'top1') return { primary_mean: mean, primary_std: std, primary_mean_lo: seedIv.top1_mean_lo, primary_mean_hi: seedIv.top1_mean_hi };
  if (col === 'mean_per_class') return { primary_mean: mean, primary_std: std, primary_mean_lo: seedIv.mean_per_class_mean_lo, primary_mean_hi: seedIv.mean_per_class_mean_hi };
  return { primary_mean: mean, primary_std: std, ...primarySeedIntervals(seeds) };
}

/** 95% interval columns of one run's accuracies (zero-shot, linear probe): Clopper-Pearson, bootstrap for mean per class. */
export const RUN_INTERVAL_COLUMNS = ['top1_lo', 'top1_hi', 'top5_lo', 'top5_hi', 'mean_per_class_lo', 'mean_per_class_hi'] as const;
/** 95% interval columns of few-shot means over seeds. */
export const SEED_INTERVAL_COLUMNS = ['top1_mean_lo', 'top1_mean_hi', 'mean_per_class_mean_lo', 'mean_per_class_mean_hi'] as const;

/** What a row's interval columns are over ('images', 'seeds+images'), or why it has none; added after the interval columns. */
export const INTERVAL_BASIS_COLUMNS = ['intervals'] as const;
export const INTERVAL_BASIS_KIND: Record<(typeof INTERVAL_BASIS_COLUMNS)[number], ColumnSpec> = { intervals: { kind: 'string', nullable: true } };

export function intervalKinds(columns: readonly string[]): Record<string, ColumnSpec> {
  return Object.fromEntries(columns.map((c) => [c, ACC]));
}

/** What a run's metrics keep of each image: outcomes, ids, and the scores (and targets) where the metric ranks images. */
export function evidenceOf(m: Metrics, ids: readonly string[] | undefined): ImageEvidence[] {
  if (!m.outcomes) return [];
  return [{ outcomes: m.outcomes, ...(ids ? { ids } : {}), ...(m.scores ? { scores: m.scores } : {}), ...(m.targets ? { targets: m.targets } : {}) }];
}

/** A run's interval columns from its metrics (null without per-image outcomes). */
export function runIntervalsOf(m: Metrics): { [K in keyof RunIntervals]: RunIntervals[K] | null } {
  // multilabel (mAP): the single-label columns are not defined, nor their intervals
  if (!m.outcomes || m.primary?.metric === 'map11') return Object.fromEntries(RUN_INTERVAL_COLUMNS.map((c) => [c, null])) as { [K in keyof RunIntervals]: null };
  return runIntervals(m.outcomes, m.top5 !== null);
}


/** The metric columns of a run row: top-1, top-5 and mean per class with their intervals, and the primary metric with its own. */
export function runMetricColumns(m: Metrics): Pick<RunMetricRow, 'top1' | 'top5' | 'mean_per_class' | 'primary'> & { [K in keyof RunIntervals]: RunIntervals[K] | null } & PrimaryIntervals {
  const iv = runIntervalsOf(m);
  // multilabel (mAP): top-1, top-5 and mean per class are not defined, blank
  if (m.primary?.metric === 'map11') return { top1: null, top5: null, mean_per_class: null, ...iv, ...primaryColumnsOf(m, iv) };
  return { top1: m.top1, top5: m.top5, mean_per_class: m.meanPerClass, ...iv, ...primaryColumnsOf(m, iv) };
}
