/**
 * What a result table is: one descriptor per table (in the spirit of transformers.js' SUPPORTED_TASKS).
 * The schema, writer, reader, terminal tables, `regress` and the commands only ask the descriptor.
 */
import type { PrimaryMetric } from '../../data/types.js';
import type { ImageFeatures } from '../../model/towers.js';
import type { ImageEvidence } from '../../eval/metric-descriptors.js';

/** How a column is checked and printed: id/string text, int, acc/std/sec (2 decimals), sig6 (6 significant digits), enums. */
export type Kind = 'id' | 'string' | 'int' | 'acc' | 'std' | 'sig6' | 'sec' | 'prompts' | 'metric' | 'equiv' | 'features';
export interface ColumnSpec {
  kind: Kind;
  /** may be null (blank in the CSV) */
  nullable: boolean;
  /** the value of a row from a file written before the column existed */
  absent?: string;
}

/** The metric `regress --metric` compares (primary = the dataset's Table 9 metric). */
export type RegressMetric = 'primary' | 'top1' | 'top5' | 'mean_per_class';

/**
 * Which images a row was computed on. Part of every table's identity, and every comparison between rows
 * (within a table or across tables) matches on it: rows of different subsets are never compared.
 * limit/subset_seed: the class-stratified `--limit` subset (null = the whole split); skipped_images: unreadable
 * images left out by `--skip-bad-images` over the splits the row used (null = unknown, a file from before 0.2).
 */
export interface Subset {
  /** absent = null (rows are normalised to null when written or read) */
  limit?: number | null;
  subset_seed?: number | null;
  skipped_images?: number | null;
}
export const SUBSET_COLUMNS = ['limit', 'subset_seed', 'skipped_images'] as const;
export const SUBSET_KINDS: Record<(typeof SUBSET_COLUMNS)[number], ColumnSpec> = {
  limit: { kind: 'int', nullable: true },
  subset_seed: { kind: 'int', nullable: true },
  skipped_images: { kind: 'int', nullable: true },
};

/** What the builders of the probe tables (linear_probe, fewshot) take from every evaluation: which rows, on which images. */
export interface ProbeRowsInput {
  /** the model variant that made the rows (absent: unknown) */
  variant?: Variant;
  model: string;
  dataset: string;
  features: ImageFeatures;
  subset: Subset;
  primaryMetric: PrimaryMetric;
  /** the test images' ids (ImageSource.imageId), in the rows' order */
  imageIds?: readonly string[];
}

/**
 * Which variant of the model made a row: everything besides the model's name that changes its embeddings (the
 * ONNX dtype, the preprocessing as configured or overridden, the model files' content; the image features are the
 * probe tables' `features`). Part of every table's identity, after the model: a run of another variant adds rows,
 * never replaces or mixes with these. `provider` (the execution provider) is recorded, not identity. Null in files
 * written before these columns: unknown, which matches only unknown.
 */
export interface Variant {
  dtype?: string | null;
  /** a digest (12 hex) of the preprocessing configuration: differs when a flag or the model's files override it */
  preprocess?: string | null;
  /** the sha256 (12 hex) of the model's image tower file */
  model_digest?: string | null;
  /** cpu, cuda, webgpu, ... */
  provider?: string | null;
}
export const VARIANT_COLUMNS = ['dtype', 'preprocess', 'model_digest'] as const;
/** The variant columns, added to files together (the provider with them). */
export const VARIANT_ADDED_COLUMNS = [...VARIANT_COLUMNS, 'provider'] as const;
export const VARIANT_KINDS: Record<(typeof VARIANT_ADDED_COLUMNS)[number], ColumnSpec> = {
  dtype: { kind: 'string', nullable: true },
  preprocess: { kind: 'string', nullable: true },
  model_digest: { kind: 'string', nullable: true },
  provider: { kind: 'string', nullable: true },
};

/** Every row has these. */
export interface BaseRow extends Subset, Variant {
  model: string;
  dataset: string;
  primary_metric: PrimaryMetric;
}

/** The scores of one evaluated run, as zeroshot and linear_probe rows hold them: percent, null = not measured. */
export interface RunScores {
  top1: number | null;
  top5: number | null;
  mean_per_class: number | null;
  /** 95% intervals (Clopper-Pearson for top-1/top-5, seeded bootstrap over images for mean per class) */
  top1_lo?: number | null;
  top1_hi?: number | null;
  top5_lo?: number | null;
  top5_hi?: number | null;
  mean_per_class_lo?: number | null;
  mean_per_class_hi?: number | null;
  /** the dataset's primary metric (percent) and its 95% interval (Clopper-Pearson for accuracy, else the bootstrap over images) */
  primary?: number | null;
  primary_lo?: number | null;
  primary_hi?: number | null;
  /** what the intervals are over ('images'); null in files written before this column */
  intervals?: string | null;
}

/** The flags every evaluation command shares, as the run config records them. */
export interface RunFlags {
  limit?: number;
  seed: number;
  dtype: string;
  device: string;
  skipBadImages: boolean;
  /** the flags that made a probe choose or learn on the test split (--allow-tuning-on-test), recorded as tuned_on_test */
  tunedOnTest?: string[];
}

/** Metadata of one evaluation run (model identity hash, dataset fingerprint, templates, class names, config hash, timestamp, image_gflops, ...). */
export interface RunEntry {
  model: string;
  dataset: string;
  split?: string;
  [key: string]: unknown;
}

export interface TableDescriptor<Name extends string = string, Row extends BaseRow = BaseRow, Flags = never, Input = never> {
  name: Name;
  /**
   * The CLI command that writes it, the one place of that spelling (`linear-probe` writes `linear_probe`): its task
   * is named by it, the command registers under it, `regress --run` starts it with rerun's flags.
   */
  command: string;
  /** columns in CSV/JSON order, with their kinds */
  columns: Record<string, ColumnSpec>;
  /**
   * The columns a command prints by default, to fit 100 terminal columns (`--wide`: every column); one blank in
   * every row (or holding its `absent` value in every row) is left out, and a primary-value column prints with its 95% interval (`<col>_lo`, `<col>_hi`).
   */
  terminal: readonly string[];
  /** the columns that make a row's identity: a rerun replaces rows of the same identity */
  identity: readonly string[];
  /** `dataset/split/prompts`, `dataset`, `dataset/K-shot` (regress and JUnit names) */
  testName(row: Row): string;
  /** deterministic row order */
  compare(a: Row, b: Row): number;
  /** the metric `regress --metric` compares (null: not measured) */
  metricValue(row: Row, metric: RegressMetric): number | null;
  /** recompute derived columns after a merge; `fresh` = identity keys of the rows just written */
  derive?(rows: Row[], fresh: Set<string>, identityKey: (r: Row) => string): void;
  /** the flags (after `clip-bench <command>`) of each run that re-creates these rows into `outDir` */
  rerun(rows: readonly Row[], outDir: string): string[][];
  /** the rows of one model x dataset, from the evaluator's result */
  build(input: Input): Row[];
  /** the per-image outcomes behind each row of build(input), in the same order (few-shot: one set per seed), with the images' ids */
  outcomes(input: Input): ImageEvidence[][];
  /** column groups added after files were first written (intervals): a file without them still reads, as null */
  addedColumns: readonly (readonly string[])[];
  /** the table's own part of the run config (the shared part comes from `runConfig`) */
  config(flags: Flags): Record<string, unknown>;
}
