/** `clip-bench report`: the paper's comparisons as CSVs, plots and a Markdown summary. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { UserError } from '../errors.js';
import { parseCsv } from '../util/csv.js';
import { toolVersion } from '../version.js';
import {
  againstPaper,
  dataEfficiency,
  datasetSubsets,
  gflopsByModel,
  modelScaling,
  pickZeroshot,
  promptEngineering,
  shotCounts,
  zeroshotVsFewshot,
  zeroshotVsLinearProbe,
  type AllResults,
  type Cell,
  type Comparison,
  type Row,
} from './compare.js';
import { confidenceSection } from './confidence.js';
import { paperTables, type PaperTables } from './paper.js';
import { dataEfficiencySpec, fewshotSpec, promptGainSpec, scalingSpec, supervisedGapSpec, writePlot } from './plots.js';
import { atomicWriteFileSync } from '../util/fs.js';
import { TABLES, describeSubset, primaryStd, primaryValue, readResults, type Subset } from './results.js';

export interface ReportOptions {
  /** directory holding zeroshot/linear_probe/fewshot .json (or .csv) */
  resultsDir: string;
  /** where to write the report (default `<resultsDir>/report`) */
  outDir?: string;
  /** linear-probe model every zero-shot result is compared with (default: each model's own probe) */
  baselineModel?: string;
  /** CSV `model,gflops` giving GFLOPs per image (wins over the runs' image_gflops) */
  modelsTable?: string;
  /** progress messages (default: none) */
  log?: (msg: string) => void;
}

export interface ReportResult {
  outDir: string;
  /** files written, relative to outDir, sorted */
  files: string[];
  /** `name: reason` for each comparison or plot that was skipped */
  skipped: string[];
}

const INT_COLUMNS = new Set(['zeroshot_datasets', 'linear_probe_datasets']);

/** A comparison cell as text: numbers with 2 decimals (counts as integers), blank for null. */
export function formatComparisonCell(column: string, v: Cell): string {
  if (v == null) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`report: refusing to write ${v} in column ${column}`);
    if (INT_COLUMNS.has(column)) return String(v);
    const s = v.toFixed(2);
    return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
  }
  return v;
}

export function comparisonCsv(c: Comparison): string {
  return stringify([c.columns, ...c.rows.map((r) => c.columns.map((col) => formatComparisonCell(col, r[col] ?? null)))], { record_delimiter: '\n' });
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function markdownTable(columns: string[], rows: Row[]): string {
  const head = `| ${columns.join(' | ')} |`;
  const sep = `|${columns.map((c) => (rows.length && rows.every((r) => r[c] == null || typeof r[c] === 'number') ? '---:' : '---')).join('|')}|`;
  const body = rows.map((r) => `| ${columns.map((c) => mdEscape(formatComparisonCell(c, r[c] ?? null))).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

/** Read `--models-table`: CSV with a header holding `model` and `gflops`. */
export function readModelsTable(file: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`--models-table ${file}: cannot read the file`);
  }
  const [header, ...records] = parseCsv(text, `--models-table ${file}`);
  const cols = (header?.fields ?? []).map((c) => c.trim());
  const mi = cols.indexOf('model');
  const gi = cols.indexOf('gflops');
  if (mi < 0 || gi < 0) throw new UserError(`--models-table ${file}: expected a CSV header with columns model,gflops`);
  const out = new Map<string, number>();
  for (const { line, fields } of records) {
    const model = fields[mi]?.trim() ?? '';
    const g = Number(fields[gi]?.trim() || NaN);
    if (!model || !Number.isFinite(g) || g <= 0) {
      throw new UserError(`--models-table ${file}: line ${line}: expected model,gflops with a positive number, got ${JSON.stringify(fields.join(','))}`);
    }
    out.set(model, g);
  }
  return out;
}

/** Load the three tables of a results directory (absent tables are empty). */
export function loadAll(resultsDir: string): AllResults & { present: string[] } {
  const zs = readResults(resultsDir, 'zeroshot');
  const lp = readResults(resultsDir, 'linear_probe');
  const fs = readResults(resultsDir, 'fewshot');
  const present = [zs && 'zeroshot', lp && 'linear_probe', fs && 'fewshot'].filter((x): x is string => !!x);
  return {
    zeroshot: zs?.rows ?? [],
    linear_probe: lp?.rows ?? [],
    fewshot: fs?.rows ?? [],
    runs: { zeroshot: zs?.runs ?? [], linear_probe: lp?.runs ?? [], fewshot: fs?.runs ?? [] },
    present,
  };
}

const f2 = (v: number | null | undefined) => (v == null ? '–' : v.toFixed(2));

/** What every report section works with: the results, the paper's numbers, and ways to write what it finds. */
export interface SectionContext {
  all: AllResults;
  paper: PaperTables;
  opts: ReportOptions;
  models: string[];
  modelsTable: Map<string, number> | null;
  /** report.md lines */
  md: string[];
  /** write `<outDir>/<name>` (a CSV or other text file) */
  write(name: string, text: string): void;
  /** render a plot as `<name>.svg` + `<name>.png` and embed it in report.md */
  plot(name: string, spec: Parameters<typeof writePlot>[2], alt: string): Promise<void>;
  /** record that (part of) a section was skipped, and remove the files an earlier report left for it */
  skip(name: string, why: string, ...stale: string[]): void;
  /** a comparison's notes as a bullet list */
  notes(c: Comparison): void;
}

/** One section of report.md: a heading and what it computes, writes and plots. */
export interface ReportSection {
  title: string;
  build(ctx: SectionContext): Promise<void> | void;
}

const promptEngineeringSection: ReportSection = {
  title: '1. Prompt engineering (paper §3.1.4)',
  async build({ all, md, write, plot, skip, notes }) {
    if (!all.zeroshot.length) return skip('prompt engineering', 'no zeroshot results', 'prompt_engineering.csv', 'prompt_gain.svg', 'prompt_gain.png');
    const c = promptEngineering(all.zeroshot);
    write('prompt_engineering.csv', comparisonCsv(c));
    notes(c);
    md.push(markdownTable(shown(c, ['split', 'metric']), c.rows.filter((r) => r.dataset === 'MEAN')), '', 'Per dataset: [prompt_engineering.csv](prompt_engineering.csv).', '');
    const data = c.rows
      .filter((r) => r.dataset !== 'MEAN')
      .flatMap((r) => [
        { model: r.model, dataset: r.dataset, gain: 'single vs contextless', points: r.gain_single },
        { model: r.model, dataset: r.dataset, gain: 'ensemble vs single', points: r.gain_ensemble },
      ])
      .filter((d) => d.points != null);
    if (data.length) await plot('prompt_gain', promptGainSpec(data, new Set(data.map((d) => d.model)).size), 'prompt engineering gains');
    else skip('the prompt-gain plot', 'no dataset was run with two or more prompt modes', 'prompt_gain.svg', 'prompt_gain.png');
  },
};

const fewshotSection: ReportSection = {
  title: '2. Zero-shot vs few-shot linear probes (Figure 6)',
  async build({ all, md, write, plot, skip, notes }) {
    if (!all.fewshot.length) return skip('zero-shot vs few-shot', 'no fewshot results', 'zeroshot_vs_fewshot.csv', 'fewshot_curves.svg', 'fewshot_curves.png');
    const c = zeroshotVsFewshot(all.zeroshot, all.fewshot);
    write('zeroshot_vs_fewshot.csv', comparisonCsv(c));
    notes(c);
    const meanCols = c.columns.filter((x) => x === 'model' || x === 'zeroshot' || x.endsWith('_mean'));
    md.push(markdownTable(meanCols, c.rows.filter((r) => r.dataset === 'MEAN')), '', 'Per dataset: [zeroshot_vs_fewshot.csv](zeroshot_vs_fewshot.csv).', '');
    const shots = shotCounts(all.fewshot);
    const points = all.fewshot
      .filter((r) => primaryValue('fewshot', r) != null)
      .map((r) => {
        const m = primaryValue('fewshot', r)!;
        const s = primaryStd(r) ?? 0;
        const [lo, hi] = r.primary_metric === 'mean_per_class' ? [r.mean_per_class_mean_lo, r.mean_per_class_mean_hi] : [r.top1_mean_lo, r.top1_mean_hi];
        return { model: r.model, dataset: plotDataset(r), shots: r.shots, mean: m, lo: lo ?? m - s, hi: hi ?? m + s, interval: lo != null };
      });
    const rules: Record<string, string | number>[] = [];
    for (const model of [...new Set(all.fewshot.map((r) => r.model))]) {
      for (const ds of datasetSubsets(all.fewshot.filter((r) => r.model === model))) {
        const z = pickZeroshot(all.zeroshot, model, ds);
        if (z) rules.push({ model, dataset: plotDataset({ dataset: ds.dataset, ...ds.subset }), zeroshot: z.value });
      }
    }
    if (points.length) {
      const axisShots = shots.length > 1 ? shots : [shots[0]! / 2, shots[0]!, shots[0]! * 2];
      // the band is the 95% interval of the mean (seeds and test images) where the rows carry it, else +-1 std
      const band = points.every((p) => p.interval) ? '95% interval of the mean (seeds and test images)' : points.some((p) => p.interval) ? '95% interval of the mean, or ± 1 std where a row has none' : '± 1 std';
      await plot('fewshot_curves', fewshotSpec(points.map(({ interval: _i, ...p }) => p), rules, axisShots, band), 'few-shot curves');
    } else skip('the few-shot plot', 'no few-shot row has a value', 'fewshot_curves.svg', 'fewshot_curves.png');
  },
};

const dataEfficiencySection: ReportSection = {
  title: '3. Data efficiency of zero-shot transfer (Figure 7)',
  async build({ all, paper, md, write, plot, skip, notes }) {
    if (!all.fewshot.length) return skip('data efficiency', 'no fewshot results', 'data_efficiency.csv', 'data_efficiency.svg', 'data_efficiency.png');
    const c = dataEfficiency(all, paper);
    write('data_efficiency.csv', comparisonCsv(c));
    notes(c);
    const summary = c.rows.filter((r) => r.dataset === 'MEDIAN' || r.dataset === 'MEAN');
    md.push(markdownTable(['model', 'dataset', 'zeroshot_equivalent_shots', 'note'], summary), '');
    const f7 = paper.figure7_zero_shot_equivalent_labeled_examples_per_class;
    md.push(`For reference, the paper (${f7.model}) reports a median of ${f7.median_printed} and a mean of ${f7.mean_printed} examples per class over ${Object.keys(f7.values).length} datasets.`, '');
    md.push('Per dataset: [data_efficiency.csv](data_efficiency.csv).', '');
    const data = c.rows
      .filter((r) => r.dataset !== 'MEDIAN' && r.dataset !== 'MEAN' && r.value != null)
      .map((r) => ({ model: r.model, dataset: r.subset === 'full split' || r.subset == null ? r.dataset : `${r.dataset} (${r.subset})`, value: r.value }));
    const medians = [...new Set(c.rows.map((r) => r.model as string))].map((m) => ({
      model: m,
      median: c.rows.find((r) => r.model === m && r.dataset === 'MEDIAN')?.zeroshot_equivalent_shots ?? null,
      mean: c.rows.find((r) => r.model === m && r.dataset === 'MEAN')?.zeroshot_equivalent_shots ?? null,
    }));
    if (data.length) await plot('data_efficiency', dataEfficiencySpec(data, new Set(data.map((d) => d.model)).size, medians), 'data efficiency');
    else skip('the data-efficiency plot', 'no dataset has a numeric zero-shot-equivalent shot count', 'data_efficiency.svg', 'data_efficiency.png');
  },
};

const linearProbeSection: ReportSection = {
  title: '4. Zero-shot vs fully supervised linear probe (Figure 5)',
  async build({ all, opts, md, write, plot, skip, notes }) {
    if (!all.zeroshot.length || !all.linear_probe.length) {
      return skip('zero-shot vs linear probe', `no ${all.zeroshot.length ? 'linear_probe' : 'zeroshot'} results`, 'zeroshot_vs_linear_probe.csv', 'zeroshot_vs_linear_probe.svg', 'zeroshot_vs_linear_probe.png');
    }
    const c = zeroshotVsLinearProbe(all.zeroshot, all.linear_probe, opts.baselineModel);
    write('zeroshot_vs_linear_probe.csv', comparisonCsv(c));
    notes(c);
    for (const m of [...new Set(c.rows.map((r) => r.model as string))]) {
      const mine = c.rows.filter((r) => r.model === m && r.delta != null);
      const wins = mine.filter((r) => (r.delta as number) >= 0).length;
      md.push(`- \`${m}\`: zero-shot matches or beats the probe on ${wins} of ${mine.length} datasets (mean delta ${f2(mine.length ? mine.reduce((a, r) => a + (r.delta as number), 0) / mine.length : null)} points).`);
    }
    md.push('', markdownTable(shown(c, ['metric', 'zeroshot_prompts']), c.rows), '');
    const data = c.rows.filter((r) => r.delta != null).map((r) => ({ model: r.model, dataset: r.subset === 'full split' ? r.dataset : `${r.dataset} (${r.subset})`, delta: r.delta }));
    if (data.length) {
      const label = opts.baselineModel ? `\`${opts.baselineModel}\``.replace(/`/g, '') : "each model's own features";
      await plot('zeroshot_vs_linear_probe', supervisedGapSpec(data, new Set(data.map((d) => d.model)).size, label), 'zero-shot minus linear probe');
    } else skip('the zero-shot vs linear-probe plot', 'no dataset has both results', 'zeroshot_vs_linear_probe.svg', 'zeroshot_vs_linear_probe.png');
  },
};

const scalingSection: ReportSection = {
  title: '5. Model scaling (Figure 9)',
  async build({ all, models, modelsTable, md, write, plot, skip, notes }) {
    if (models.length < 2 || !(all.zeroshot.length || all.linear_probe.length)) {
      return skip('model scaling', 'needs results of two or more models', 'model_scaling.csv', 'model_scaling.svg', 'model_scaling.png');
    }
    const gflops = gflopsByModel(all, modelsTable);
    const c = modelScaling(all, gflops);
    write('model_scaling.csv', comparisonCsv(c));
    notes(c);
    md.push(markdownTable(c.columns, c.rows), '');
    const data = c.rows
      .filter((r) => r.gflops != null)
      .flatMap((r) => [
        { model: r.model, gflops: r.gflops, evaluation: 'zero-shot', accuracy: r.zeroshot_mean },
        { model: r.model, gflops: r.gflops, evaluation: 'linear probe', accuracy: r.linear_probe_mean },
      ])
      .filter((d) => d.accuracy != null);
    if (new Set(data.map((d) => d.model)).size >= 2) await plot('model_scaling', scalingSpec(data), 'model scaling');
    else skip('the scaling plot', "fewer than two models have GFLOPs per image (runs' image_gflops or --models-table) and a mean accuracy", 'model_scaling.svg', 'model_scaling.png');
  },
};

const againstPaperSection: ReportSection = {
  title: '6. Against the paper (Table 11)',
  build({ all, paper, md, write, skip, notes }) {
    const ap = againstPaper(all.zeroshot, paper);
    if (!ap.rows.length) {
      return skip('against the paper', "no zero-shot ensemble result of a model named like one of the paper's (RN50, …, ViT-L/14@336px) on one of its datasets", 'against_paper.csv');
    }
    write('against_paper.csv', comparisonCsv(ap));
    notes(ap);
    const diffs = ap.rows.map((r) => Math.abs(r.diff as number));
    md.push(`Mean absolute difference: ${f2(diffs.reduce((a, b) => a + b, 0) / diffs.length)} points over ${diffs.length} model × dataset pairs.`, '');
    md.push(markdownTable(shown(ap, ['split']), ap.rows), '');
    md.push('Paper numbers: see `PAPER_TABLES_SOURCES.md` in the clip-bench package (src/report/) for their provenance.', '');
  },
};

/** The sections of report.md, in order. A new comparison is one more entry. */
export const REPORT_SECTIONS: readonly ReportSection[] = [
  promptEngineeringSection,
  fewshotSection,
  dataEfficiencySection,
  linearProbeSection,
  scalingSection,
  againstPaperSection,
  confidenceSection,
];

/** A comparison's columns for report.md, without `hide` and without `subset` when every row is on the full split. */
function shown(c: Comparison, hide: string[]): string[] {
  const uniform = c.rows.every((r) => r.subset == null || r.subset === 'full split');
  return c.columns.filter((x) => !hide.includes(x) && !(x === 'subset' && uniform));
}

/** A dataset's label in a plot: its name, with the subset when it is not the full split. */
function plotDataset(r: Subset & { dataset: string }): string {
  const label = describeSubset(r);
  return label === 'full split' ? r.dataset : `${r.dataset} (${label})`;
}

/** Build the report; returns what was written and what was skipped. */
export async function buildReport(opts: ReportOptions): Promise<ReportResult> {
  const log = opts.log ?? (() => {});
  const resultsDir = opts.resultsDir;
  const outDir = opts.outDir ?? path.join(resultsDir, 'report');
  if (!existsSync(resultsDir)) throw new UserError(`--results ${resultsDir}: no such directory`);
  const all = loadAll(resultsDir);
  if (!all.present.length) {
    throw new UserError(`--results ${resultsDir}: no results found (expected ${TABLES.join(', ')} .json/.csv there)`);
  }
  if (opts.baselineModel !== undefined) {
    const models = [...new Set(all.linear_probe.map((r) => r.model))].sort();
    if (!models.includes(opts.baselineModel)) {
      throw new UserError(`--baseline-model ${opts.baselineModel}: no linear_probe rows for that model (have: ${models.join(', ') || 'none'})`);
    }
  }
  const files: string[] = [];
  const skipped: string[] = [];
  const md: string[] = [];
  const models = [...new Set([...all.zeroshot, ...all.linear_probe, ...all.fewshot].map((r) => r.model))].sort();
  const ctx: SectionContext = {
    all,
    paper: paperTables(),
    opts,
    models,
    modelsTable: opts.modelsTable ? readModelsTable(opts.modelsTable) : null,
    md,
    write(name, text) {
      atomicWriteFileSync(path.join(outDir, name), text);
      files.push(name);
    },
    async plot(name, spec, alt) {
      log(`report: plotting ${name}`);
      await writePlot(outDir, name, spec);
      files.push(`${name}.svg`, `${name}.png`);
      md.push(`![${alt}](${name}.png)`, '', `(vector: [${name}.svg](${name}.svg))`, '');
    },
    skip(name, why, ...stale) {
      skipped.push(`${name}: ${why}`);
      md.push(`_Skipped ${name}: ${why}._`, '');
      for (const n of stale) rmSync(path.join(outDir, n), { force: true });
    },
    notes: (c) => md.push(...c.notes.map((n) => `- ${n}`), ''),
  };

  md.push(
    '# clip-bench report',
    '',
    `Generated by clip-bench ${toolVersion()} from \`${resultsDir}\`. Tables: ` +
      `zeroshot ${all.zeroshot.length} rows, linear_probe ${all.linear_probe.length} rows, fewshot ${all.fewshot.length} rows. ` +
      `Models: ${models.map((m) => `\`${m}\``).join(', ')}.`,
    '',
    'Accuracies are percentages in each dataset\'s primary metric (the one the paper\'s Table 9 uses: accuracy or mean per-class accuracy); differences are percentage points. Rows are compared only with rows computed on the same images (same `--limit`, subset seed and skipped images; the `subset` column says which). Every table below is also a CSV in this folder.',
    '',
  );
  for (const section of REPORT_SECTIONS) {
    md.push(`## ${section.title}`, '');
    await section.build(ctx);
  }
  if (skipped.length) md.push('## Skipped', '', ...skipped.map((s) => `- ${s}`), '');
  ctx.write('report.md', `${md.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`);
  files.sort();
  return { outDir, files, skipped };
}
