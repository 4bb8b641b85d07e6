/** The `linear_probe` table: one row per model x dataset x subset (the paper's Appendix A.3 protocol). */
import type { LinearProbeResult } from '../../eval/linear-probe.js';
import type { FeatureTransform, Solver } from '../../eval/probe.js';
import type { ImageFeatures } from '../../model/towers.js';
import { FEATURES, FEATURES_COLUMNS, featuresArgs, ACC, ID, INT, INTERVAL_BASIS_COLUMNS, INTERVAL_BASIS_KIND, METRIC, PRIMARY_COLUMNS, RUN_INTERVAL_COLUMNS, accuracyValue, compareBase, variantArgs, variantKey, evidenceOf, groupBy, intervalKinds, runMetricColumns, subsetArgs, subsetKey } from './common.js';
import { INTERVAL_OVER_IMAGES } from '../../eval/intervals.js';
import { SUBSET_KINDS, VARIANT_ADDED_COLUMNS, VARIANT_COLUMNS, VARIANT_KINDS, type ProbeRowsInput, type BaseRow, type RunFlags, type RunScores, type TableDescriptor } from './types.js';

export interface LinearProbeRow extends BaseRow, RunScores {
  /** the image features the probe learned from: embedding or pre-projection (absent before the column: embedding) */
  features?: ImageFeatures;
  n_train: number;
  n_val: number;
  n_test: number;
  C: number | null;
  solver: string;
  seconds: number | null;
}

export interface LinearProbeFlags extends RunFlags {
  solver: Solver;
  transform: FeatureTransform;
  /** absent: the embedding */
  features?: ImageFeatures;
  valSplit?: string;
  valFraction: number;
}

export interface LinearProbeInput extends ProbeRowsInput {
  solver: Solver;
  seconds: number;
  result: LinearProbeResult;
}

export const linearProbeTable: TableDescriptor<'linear_probe', LinearProbeRow, LinearProbeFlags, LinearProbeInput> = {
  name: 'linear_probe',
  command: 'linear-probe',
  columns: {
    model: ID,
    dataset: ID,
    n_train: INT,
    n_val: INT,
    n_test: INT,
    C: { kind: 'sig6', nullable: true },
    top1: ACC,
    top5: ACC,
    mean_per_class: ACC,
    primary_metric: METRIC,
    solver: { kind: 'string', nullable: false },
    seconds: { kind: 'sec', nullable: true },
    ...SUBSET_KINDS,
    ...intervalKinds(RUN_INTERVAL_COLUMNS),
    ...intervalKinds(PRIMARY_COLUMNS),
    features: FEATURES,
    ...INTERVAL_BASIS_KIND,
    ...VARIANT_KINDS,
  },
  terminal: ['model', 'dtype', 'dataset', 'features', 'n_train', 'n_test', 'limit', 'C', 'primary', 'top1', 'top5'],
  addedColumns: [RUN_INTERVAL_COLUMNS, PRIMARY_COLUMNS, FEATURES_COLUMNS, INTERVAL_BASIS_COLUMNS, VARIANT_ADDED_COLUMNS],
  identity: ['model', ...VARIANT_COLUMNS, 'dataset', 'features', 'limit', 'subset_seed', 'skipped_images'],
  testName: (r) => r.dataset,
  compare: compareBase,
  metricValue: accuracyValue,
  rerun: (rows, outDir) =>
    groupBy(rows, (r) => `${r.model}\u0000${variantKey(r)}\u0000${r.dataset}\u0000${r.features ?? 'embedding'}\u0000${subsetKey(r)}`).map(([r]) => [
      '--model', r!.model, ...variantArgs(r!), '--dataset', r!.dataset, ...featuresArgs(r!), '--out', outDir, ...subsetArgs(r!),
    ]),
  build: (x) => [
    {
      model: x.model,
      ...x.variant,
      dataset: x.dataset,
      features: x.features,
      n_train: x.result.nTrain,
      n_val: x.result.nVal,
      n_test: x.result.nTest,
      C: x.result.C,
      ...runMetricColumns(x.result.metrics),
      intervals: INTERVAL_OVER_IMAGES,
      primary_metric: x.primaryMetric,
      solver: x.solver,
      seconds: x.seconds,
      ...x.subset,
    },
  ],
  outcomes: (x) => [evidenceOf(x.result.metrics, x.imageIds)],
  config: (f) => ({ solver: f.solver, transform: f.transform, features: f.features ?? 'embedding', valSplit: f.valSplit ?? null, valFraction: f.valFraction }),
};
