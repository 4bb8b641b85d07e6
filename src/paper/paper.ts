/** The paper's reference numbers (Tables 9, 10, 11; Figures 6, 7, 9), shipped as src/paper/paper_tables.json. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../version.js';

export interface PaperDataset {
  name: string;
  classes: number;
  train_size: number;
  test_size: number;
  metric: string;
}

export interface PaperTables {
  table9_linear_probe_datasets: Record<string, PaperDataset>;
  table11_zero_shot: { caption_note: string; columns_as_printed: string[]; models: Record<string, Record<string, number>> };
  figure7_zero_shot_equivalent_labeled_examples_per_class: { model: string; values: Record<string, number>; mean_printed: number; median_printed: number; note: string };
  /** Table 10: linear probes of the 9 CLIP models (Table 11 names) and the baselines the paper's figures use, per dataset */
  table10_linear_probe: { caption_note: string; columns_as_printed: string[]; kornblith12: string[]; models: Record<string, Record<string, number>> };
  /** Figure 6: averages over its 20 datasets, read from the plot */
  figure6_fewshot_average_read_from_plot: {
    note: string;
    zeroshot_clip: number;
    shots: number[];
    linear_probe_clip: number[];
    bit_m_imagenet21k: number[];
    simclrv2: number[];
    resnet50: number[];
  };
  figure9_model_scaling: { note: string; models: string[]; gflops: number[]; zeroshot_error_read_from_plot: number[] };
}

export const PAPER_TABLES_PATH = path.join(packageRoot, 'src', 'paper', 'paper_tables.json');

let cached: PaperTables | undefined;
export function paperTables(): PaperTables {
  cached ??= JSON.parse(readFileSync(PAPER_TABLES_PATH, 'utf8')) as PaperTables;
  return cached;
}
