/** The `fewshot` table: one row per model x dataset x subset x shot count (mean and std over seeds). */
import { meanStd, type FewshotPoint } from '../../eval/fewshot.js';
import type { FeatureTransform, Solver } from '../../eval/probe.js';
import { MIN_SEEDS_FOR_INTERVAL, intervalBasisOfSeeds, seedIntervals } from '../../eval/intervals.js';
import { withinRange } from '../../eval/metric-descriptors.js';
import type { ImageFeatures } from '../../model/towers.js';
import { FEATURES, FEATURES_COLUMNS, featuresArgs, ACC, ID, INT, INTERVAL_BASIS_COLUMNS, INTERVAL_BASIS_KIND, METRIC, PRIMARY_SEED_COLUMNS, SEED_INTERVAL_COLUMNS, compareBase, variantArgs, variantKey, primaryDescriptor, primarySeedColumnsOf, groupBy, intervalKinds, subsetArgs, subsetKey } from './common.js';
import { SUBSET_KINDS, VARIANT_ADDED_COLUMNS, VARIANT_COLUMNS, VARIANT_KINDS, type ProbeRowsInput, type BaseRow, type RunFlags, type TableDescriptor } from './types.js';

export interface FewshotRow extends BaseRow {
  /** the image features the probes learned from: embedding or pre-projection (absent before the column: embedding) */
  features?: ImageFeatures;
  shots: number;
  seeds: number;
  top1_mean: number | null;
  top1_std: number | null;
  mean_per_class_mean: number | null;
  mean_per_class_std: number | null;
  /** the zero-shot primary metric on the same test images (same subset), or null */
  zeroshot_top1: number | null;
  /** "5.4", "<1", "> 16" or null; the same on every row of one model x dataset x subset */
  zeroshot_equivalent_shots: string | null;
  /** 95% intervals of the means: over seeds, widened by the test images' own sampling spread */
  top1_mean_lo?: number | null;
  top1_mean_hi?: number | null;
  mean_per_class_mean_lo?: number | null;
  mean_per_class_mean_hi?: number | null;
  /** the dataset's primary metric: mean and std over seeds, and the 95% interval of the mean */
  primary_mean?: number | null;
  primary_std?: number | null;
  primary_mean_lo?: number | null;
  primary_mean_hi?: number | null;
  /** what the intervals are over ('seeds+images'), or why there are none (too few seeds); null in older files */
  intervals?: string | null;
}

export interface FewshotFlags extends RunFlags {
  shots: number[];
  seeds: number;
  solver: Solver;
  transform: FeatureTransform;
  /** absent: the embedding */
  features?: ImageFeatures;
  oneShotC: number;
}

export interface FewshotInput extends ProbeRowsInput {
  seeds: number;
  points: readonly FewshotPoint[];
  zeroshot: number | null;
  equivalentShots: string | null;
}

/** The model x dataset x subset a row's zero-shot columns describe. */
const groupKey = (r: FewshotRow) => `${r.model}\u0000${variantKey(r)}\u0000${r.dataset}\u0000${r.features ?? 'embedding'}\u0000${subsetKey(r)}`;

/** The mean over seeds of the primary metric: its column, or for files written before it, the metric's own column. */
export function primaryMean(row: FewshotRow): number | null {
  if (row.primary_mean != null) return row.primary_mean;
  return primaryDescriptor(row)?.fromColumns?.({ top1: row.top1_mean, top5: null, mean_per_class: row.mean_per_class_mean }) ?? null;
}

/** The standard deviation of the primary metric. */
export function primaryStd(row: FewshotRow): number | null {
  if (row.primary_std != null) return row.primary_std;
  return primaryDescriptor(row)?.fromColumns?.({ top1: row.top1_std, top5: null, mean_per_class: row.mean_per_class_std }) ?? null;
}

/**
 * The 95% interval of the mean over seeds of the primary metric (the metric's own columns for older files), inside
 * the metric's range; none with fewer than MIN_SEEDS_FOR_INTERVAL seeds (files written before that rule hold a
 * t-interval of 2 seeds, wider than the range).
 */
export function primaryMeanInterval(row: FewshotRow): [number | null, number | null] {
  const d = primaryDescriptor(row);
  if (!d || row.seeds < MIN_SEEDS_FOR_INTERVAL) return [null, null];
  let lo: number | null;
  let hi: number | null;
  if (row.primary_mean != null) [lo, hi] = [row.primary_mean_lo ?? null, row.primary_mean_hi ?? null];
  else {
    lo = d.fromColumns?.({ top1: row.top1_mean_lo ?? null, top5: null, mean_per_class: row.mean_per_class_mean_lo ?? null }) ?? null;
    hi = d.fromColumns?.({ top1: row.top1_mean_hi ?? null, top5: null, mean_per_class: row.mean_per_class_mean_hi ?? null }) ?? null;
  }
  return lo == null || hi == null ? [null, null] : withinRange(d, lo, hi);
}

export const fewshotTable: TableDescriptor<'fewshot', FewshotRow, FewshotFlags, FewshotInput> = {
  name: 'fewshot',
  command: 'fewshot',
  columns: {
    model: ID,
    dataset: ID,
    shots: INT,
    seeds: INT,
    top1_mean: ACC,
    top1_std: { kind: 'std', nullable: true },
    mean_per_class_mean: ACC,
    mean_per_class_std: { kind: 'std', nullable: true },
    primary_metric: METRIC,
    zeroshot_top1: ACC,
    zeroshot_equivalent_shots: { kind: 'equiv', nullable: true },
    ...SUBSET_KINDS,
    ...intervalKinds(SEED_INTERVAL_COLUMNS),
    primary_mean: ACC,
    primary_std: { kind: 'std', nullable: true },
    primary_mean_lo: ACC,
    primary_mean_hi: ACC,
    features: FEATURES,
    ...INTERVAL_BASIS_KIND,
    ...VARIANT_KINDS,
  },
  terminal: ['model', 'dtype', 'dataset', 'features', 'shots', 'seeds', 'limit', 'primary_mean', 'primary_std', 'top1_mean'],
  addedColumns: [SEED_INTERVAL_COLUMNS, PRIMARY_SEED_COLUMNS, FEATURES_COLUMNS, INTERVAL_BASIS_COLUMNS, VARIANT_ADDED_COLUMNS],
  identity: ['model', ...VARIANT_COLUMNS, 'dataset', 'features', 'shots', 'limit', 'subset_seed', 'skipped_images'],
  testName: (r) => `${r.dataset}/${r.shots}-shot`,
  compare: (a, b) => compareBase(a, b) || a.shots - b.shots,
  metricValue(r, metric) {
    if (metric === 'primary') return primaryMean(r);
    if (metric === 'top5') return null;
    return metric === 'top1' ? r.top1_mean : r.mean_per_class_mean;
  },
  derive(rows, fresh, identityKey) {
    // the zero-shot columns describe the model x dataset x subset: the newest rows' values win for the whole group
    const latest = new Map<string, FewshotRow>();
    for (const r of rows) if (fresh.has(identityKey(r))) latest.set(groupKey(r), r);
    for (const r of rows) {
      const l = latest.get(groupKey(r));
      if (l) {
        r.zeroshot_top1 = l.zeroshot_top1;
        r.zeroshot_equivalent_shots = l.zeroshot_equivalent_shots;
      }
    }
  },
  rerun: (rows, outDir) =>
    groupBy(rows, groupKey).map((g) => [
      '--model', g[0]!.model, ...variantArgs(g[0]!), '--dataset', g[0]!.dataset, ...featuresArgs(g[0]!),
      '--shots', [...new Set(g.map((r) => r.shots))].sort((a, b) => a - b).join(','),
      '--seeds', String(Math.max(...g.map((r) => r.seeds))), '--out', outDir, ...subsetArgs(g[0]!),
    ]),
  build: (x) =>
    x.points.map((p) => {
      const top1 = meanStd(p.top1);
      const mpc = meanStd(p.meanPerClass);
      const seedIv = seedIntervals(p.outcomes);
      return {
        model: x.model,
        ...x.variant,
        dataset: x.dataset,
        features: x.features,
        shots: p.shots,
        seeds: x.seeds,
        top1_mean: top1.mean,
        top1_std: top1.std,
        mean_per_class_mean: mpc.mean,
        mean_per_class_std: mpc.std,
        primary_metric: x.primaryMetric,
        zeroshot_top1: x.zeroshot,
        zeroshot_equivalent_shots: x.equivalentShots,
        ...x.subset,
        ...seedIv,
        ...primarySeedColumnsOf(p.primary, seedIv),
        intervals: intervalBasisOfSeeds(p.outcomes.length),
      };
    }),
  outcomes: (x) => x.points.map((p) => p.outcomes.map((outcomes) => ({ outcomes, ...(x.imageIds ? { ids: x.imageIds } : {}) }))),
  config: (f) => ({ shots: f.shots, seeds: f.seeds, solver: f.solver, transform: f.transform, features: f.features ?? 'embedding', oneShotC: f.oneShotC }),
};
