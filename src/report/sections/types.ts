/** What a section of report.md is, and what it works with. */
import type { DatasetDescriptor } from '../../data/types.js';
import type { AllResults, Comparison } from '../compare.js';
import type { PaperTables } from '../../paper/paper.js';
import type { writePlot } from '../plots.js';
import { describeSubset, type Subset } from '../../results/index.js';

export interface ReportOptions {
  /** directory holding zeroshot/linear_probe/fewshot .json (or .csv) */
  resultsDir: string;
  /** where to write the report (default `<resultsDir>/report`) */
  outDir?: string;
  /** the baseline backbone: its linear probe for Figure 5 (zero-shot vs a baseline's probe) and Figure 11 (probe vs probe) */
  baselineModel?: string;
  /** CSV `model,gflops` giving GFLOPs per image (wins over the runs' image_gflops) */
  modelsTable?: string;
  /** `--paper-model my-clip=ViT-B/32,...`: the paper rows renamed or fine-tuned models are compared with */
  paperModels?: string;
  /** the registry's descriptor of a dataset, or null (default: src/data's registry) */
  lookupDataset?: (name: string) => DatasetDescriptor | null;
  /** progress messages (default: none) */
  log?: (msg: string) => void;
}

/** What every report section works with: the results, the paper's numbers, and ways to write what it finds. */
export interface SectionContext {
  /** the results, probes reduced to one kind of features per model (pre-projection where run, else embedding) */
  all: AllResults;
  /** every linear_probe row, both kinds of features (probe-vs-probe picks a kind both models have) */
  allLinearProbe: AllResults['linear_probe'];
  paper: PaperTables;
  opts: ReportOptions;
  models: string[];
  /** image GFLOPs per model (--models-table over the runs' image_gflops) */
  gflops: Map<string, number>;
  lookupDataset: (name: string) => DatasetDescriptor | null;
  /** report.md lines */
  md: string[];
  /** write `<outDir>/<name>` (a CSV or other text file) */
  write(name: string, text: string): void;
  /** render a plot as `<name>.svg` + `<name>.png` and embed it in report.md */
  plot(name: string, spec: Parameters<typeof writePlot>[2], alt: string): Promise<void>;
  /** record that (part of) a section was skipped for want of results, and remove the files an earlier report left for it */
  skip(name: string, why: string, ...stale: string[]): void;
  /** a section that needs a flag the user did not pass: say so in report.md (not a skip: nothing is missing), remove stale files */
  needs(flagNote: string, ...stale: string[]): void;
  /** a comparison's notes as a bullet list */
  notes(c: Comparison): void;
}

/** One section of report.md: a heading and what it computes, writes and plots. */
export interface ReportSection {
  title: string;
  build(ctx: SectionContext): Promise<void> | void;
}

export const f2 = (v: number | null | undefined) => (v == null ? '–' : v.toFixed(2));

/** A dataset's label in a plot: its name, with the subset when it is not the full split. */
export function plotDataset(r: Subset & { dataset: string }): string {
  const label = describeSubset(r);
  return label === 'full split' ? r.dataset : `${r.dataset} (${label})`;
}

/** The same for a comparison row (its `subset` column). */
export function rowDataset(r: Record<string, unknown>): string {
  return r.subset == null || r.subset === 'full split' ? String(r.dataset) : `${r.dataset} (${r.subset})`;
}
