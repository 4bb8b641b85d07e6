/** The paper's reference numbers (Table 9, Table 11, Figure 7), shipped as src/report/paper_tables.json. */
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
}

export const PAPER_TABLES_PATH = path.join(packageRoot, 'src', 'report', 'paper_tables.json');

let cached: PaperTables | undefined;
export function paperTables(): PaperTables {
  cached ??= JSON.parse(readFileSync(PAPER_TABLES_PATH, 'utf8')) as PaperTables;
  return cached;
}
