/** The `zeroshot` table: one row per model x dataset x split x subset x prompt mode. */
import type { PrimaryMetric } from '../../data/types.js';
import type { ZeroshotResult } from '../../eval/run-zeroshot.js';
import { PROMPT_MODES, parsePromptModes, type PromptMode } from '../../eval/prompts.js';
import { compareStrings } from '../../util/compare.js';
import { ACC, ID, INT, INTERVAL_BASIS_COLUMNS, INTERVAL_BASIS_KIND, METRIC, PRIMARY_COLUMNS, RUN_INTERVAL_COLUMNS, accuracyValue, compareBase, variantArgs, variantKey, evidenceOf, groupBy, intervalKinds, runMetricColumns, subsetArgs, subsetKey } from './common.js';
import { INTERVAL_OVER_IMAGES } from '../../eval/intervals.js';
import { SUBSET_KINDS, VARIANT_ADDED_COLUMNS, VARIANT_COLUMNS, VARIANT_KINDS, type Variant, type BaseRow, type RunFlags, type RunScores, type Subset, type TableDescriptor } from './types.js';

/** Accuracies are in percent; null = not measured (blank in the CSV). */
export interface ZeroshotRow extends BaseRow, RunScores {
  split: string;
  prompts: PromptMode;
  n_templates: number;
  n_images: number;
  /** points, primary metric; recomputed on every write from the contextless row of the same model/dataset/split/subset */
  gain_vs_contextless: number | null;
}

export interface ZeroshotFlags extends RunFlags {
  prompts: string;
}

export interface ZeroshotInput {
  /** the model variant that made the rows (absent: unknown) */
  variant?: Variant;
  model: string;
  dataset: string;
  split: string;
  subset: Subset;
  nImages: number;
  primaryMetric: PrimaryMetric;
  results: readonly ZeroshotResult[];
  /** the test images' ids (ImageSource.imageId), in the rows' order */
  imageIds?: readonly string[];
}

const groupKey = (r: ZeroshotRow) => `${r.model}\u0000${variantKey(r)}\u0000${r.dataset}\u0000${r.split}\u0000${subsetKey(r)}`;

export const zeroshotTable: TableDescriptor<'zeroshot', ZeroshotRow, ZeroshotFlags, ZeroshotInput> = {
  name: 'zeroshot',
  command: 'zeroshot',
  columns: {
    model: ID,
    dataset: ID,
    split: ID,
    prompts: { kind: 'prompts', nullable: false },
    n_templates: INT,
    n_images: INT,
    top1: ACC,
    top5: ACC,
    mean_per_class: ACC,
    primary_metric: METRIC,
    gain_vs_contextless: ACC,
    ...SUBSET_KINDS,
    ...intervalKinds(RUN_INTERVAL_COLUMNS),
    ...intervalKinds(PRIMARY_COLUMNS),
    ...INTERVAL_BASIS_KIND,
    ...VARIANT_KINDS,
  },
  terminal: ['model', 'dtype', 'dataset', 'split', 'prompts', 'n_images', 'limit', 'primary', 'top1', 'top5'],
  addedColumns: [RUN_INTERVAL_COLUMNS, PRIMARY_COLUMNS, INTERVAL_BASIS_COLUMNS, VARIANT_ADDED_COLUMNS],
  identity: ['model', ...VARIANT_COLUMNS, 'dataset', 'split', 'prompts', 'limit', 'subset_seed', 'skipped_images'],
  testName: (r) => `${r.dataset}/${r.split}/${r.prompts}`,
  compare: (a, b) => compareBase(a, b) || compareStrings(a.split, b.split) || PROMPT_MODES.indexOf(a.prompts) - PROMPT_MODES.indexOf(b.prompts),
  metricValue: accuracyValue,
  derive(rows) {
    // the gain is over the contextless row of the same images (model, dataset, split and subset)
    const base = new Map<string, number | null>();
    for (const r of rows) if (r.prompts === 'contextless') base.set(groupKey(r), accuracyValue(r, 'primary'));
    for (const r of rows) {
      const b = base.get(groupKey(r));
      const v = accuracyValue(r, 'primary');
      r.gain_vs_contextless = r.prompts === 'contextless' || b == null || v == null ? null : v - b;
    }
  },
  rerun: (rows, outDir) =>
    groupBy(rows, groupKey).map((g) => [
      '--model', g[0]!.model, ...variantArgs(g[0]!), '--dataset', g[0]!.dataset, '--split', g[0]!.split,
      '--prompts', [...new Set(g.map((r) => r.prompts))].join(','), '--out', outDir, ...subsetArgs(g[0]!),
    ]),
  build: (x) =>
    x.results.map((r) => ({
      model: x.model,
      ...x.variant,
      dataset: x.dataset,
      split: x.split,
      prompts: r.mode,
      n_templates: r.templates.length,
      n_images: x.nImages,
      ...runMetricColumns(r.metrics),
      intervals: INTERVAL_OVER_IMAGES,
      primary_metric: x.primaryMetric,
      gain_vs_contextless: r.gainVsContextless,
      ...x.subset,
    })),
  outcomes: (x) => x.results.map((r) => evidenceOf(r.metrics, x.imageIds)),
  config: (f) => ({ modes: parsePromptModes(f.prompts) }),
};
