import { paperTables, type PaperDataset } from '../paper/paper.js';

/**
 * The paper's Table 9 (datasets of the linear-probe study, in the paper's order), keyed like datasets/prompts.json.
 * The numbers ship in src/paper/paper_tables.json (provenance in src/paper/PAPER_TABLES_SOURCES.md).
 */
export function paperTable9(): Record<string, PaperDataset> {
  return paperTables().table9_linear_probe_datasets;
}
