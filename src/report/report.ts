/** `clip-bench report`: the paper's comparisons as CSVs, plots and a Markdown summary. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { parseCsv } from '../util/csv.js';
import { atomicWriteFileSync } from '../util/fs.js';
import { toolVersion } from '../version.js';
import { gflopsByModel, type AllResults } from './compare.js';
import { getDataset } from '../data/registry.js';
import type { DatasetDescriptor } from '../data/types.js';
import { paperTables } from '../paper/paper.js';
import { csvToLatex } from './latex.js';
import { plotFiles, writePlot } from './plots.js';
import { paperRowsOf, paperTablesFor, parsePaperModels } from './paper-models.js';
import { paperFeatureRows } from './compare-paper.js';
import { TABLES, readResults } from '../results/index.js';
import { baselineProbeSection, ownProbeSection, probeDeltaSection, representationSection, scalingSection } from './sections/linear-probe.js';
import { againstPaperSection, coverageSection } from './sections/paper.js';
import { confidenceSection } from './confidence.js';
import { summarySection } from './sections/summary.js';
import { dataEfficiencySection, fewshotSection, promptEngineeringSection } from './sections/zeroshot.js';
import type { ReportOptions, ReportSection, SectionContext } from './sections/types.js';

export type { ReportOptions, ReportSection, SectionContext } from './sections/types.js';
export { comparisonCsv, formatComparisonCell, markdownTable } from './markdown.js';

export interface ReportResult {
  outDir: string;
  /** files written, relative to outDir, sorted */
  files: string[];
  /** `name: reason` for each comparison or plot that was skipped */
  skipped: string[];
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

/** The sections of report.md, in order. A new comparison is one more entry. */
/** How to read the sections after the summary. */
const readingSection: ReportSection = {
  title: 'How to read this report',
  build: ({ md }) => {
    md.push(
      'Accuracies are percentages in each dataset\'s primary metric (the one the paper\'s Table 9 uses: accuracy or mean per-class accuracy); differences are percentage points. Rows are compared only with rows computed on the same images (same `--limit`, subset seed and skipped images; the `subset` column says which). Every table below is also a CSV and a LaTeX (booktabs) table in this folder, and every figure an SVG, PNG and PDF.',
      '',
    );
  },
};

export const REPORT_SECTIONS: readonly ReportSection[] = [
  summarySection,
  readingSection,
  promptEngineeringSection,
  fewshotSection,
  dataEfficiencySection,
  baselineProbeSection,
  ownProbeSection,
  scalingSection,
  representationSection,
  probeDeltaSection,
  againstPaperSection,
  coverageSection,
  confidenceSection,
];

/** The registry's descriptor of a dataset, or null when clip-bench has no such dataset. */
function registryLookup(name: string): DatasetDescriptor | null {
  try {
    return getDataset(name);
  } catch {
    return null;
  }
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
  // a stale table or plot goes with its twins: the .tex of a .csv, the .pdf of a .svg
  const removeStale = (names: string[]) => {
    for (const n of names.flatMap((x) => [x, x.replace(/\.csv$/, '.tex'), x.replace(/\.svg$/, '.pdf')])) rmSync(path.join(outDir, n), { force: true });
  };
  const paperRows = paperRowsOf(models, parsePaperModels(opts.paperModels, paperTables()));
  for (const [model, row] of paperRows) log(`report: ${model} is compared with the paper's ${row}`);
  const ctx: SectionContext = {
    // the paper's probes used the pre-projection features: a model's rows of that kind are compared where they exist
    all: { ...all, linear_probe: paperFeatureRows(all.linear_probe), fewshot: paperFeatureRows(all.fewshot) },
    allLinearProbe: all.linear_probe,
    paper: paperTablesFor(paperTables(), paperRows),
    opts,
    models,
    gflops: gflopsByModel(all, opts.modelsTable ? readModelsTable(opts.modelsTable) : null),
    lookupDataset: opts.lookupDataset ?? registryLookup,
    md,
    write(name, text) {
      atomicWriteFileSync(path.join(outDir, name), text);
      files.push(name);
      // every table also as LaTeX, for a paper
      if (name.endsWith('.csv')) {
        const tex = name.replace(/\.csv$/, '.tex');
        atomicWriteFileSync(path.join(outDir, tex), csvToLatex(text, name));
        files.push(tex);
      }
    },
    async plot(name, spec, alt) {
      log(`report: plotting ${name}`);
      await writePlot(outDir, name, spec);
      files.push(...plotFiles(name));
      md.push(`![${alt}](${name}.png)`, '', `(vector: [${name}.svg](${name}.svg), [${name}.pdf](${name}.pdf))`, '');
    },
    skip(name, why, ...stale) {
      skipped.push(`${name}: ${why}`);
      md.push(`_Skipped ${name}: ${why}._`, '');
      removeStale(stale);
    },
    needs(flagNote, ...stale) {
      md.push(`_Not computed: needs ${flagNote}._`, '');
      removeStale(stale);
    },
    notes: (c) => md.push(...c.notes.map((n) => `- ${n}`), ''),
  };

  md.push(
    '# clip-bench report',
    '',
    `Generated by clip-bench ${toolVersion()} from \`${resultsDir}\`: ` +
      `zeroshot ${all.zeroshot.length}, linear_probe ${all.linear_probe.length}, fewshot ${all.fewshot.length} rows of ${models.length === 1 ? 'the model' : 'the models'} ${models.map((m) => `\`${m}\``).join(', ')}.`,
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
