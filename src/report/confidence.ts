/**
 * The report's "how sure" section: per dataset, every model's score with its 95% interval, and the models within
 * the 99.5% Clopper-Pearson interval of the best marked as the paper's Table 10 bolds them.
 */
import { stringify } from 'csv-stringify/sync';
import type { TopLevelSpec } from 'vega-lite';
import { INTERVAL_OVER_IMAGES, withinBestInterval } from '../eval/intervals.js';
import type { Row } from './compare.js';
import type { ReportSection } from './sections/types.js';
import { describeSubset, primaryValue, rowPrimaryInterval, type AnyRow, type LinearProbeRow, type ZeroshotRow } from '../results/index.js';

export interface ConfidenceEntry {
  evaluation: 'zero-shot' | 'linear probe';
  dataset: string;
  subset: string;
  model: string;
  n: number;
  score: number;
  lo95: number | null;
  hi95: number | null;
  /** within the 99.5% Clopper-Pearson interval of the best model on this dataset */
  best: boolean;
}

/** Zero-shot uses the ensemble rows where a dataset has them (the paper's setting), else its single-prompt rows. */
function zeroshotRows(rows: readonly ZeroshotRow[]): ZeroshotRow[] {
  const key = (r: ZeroshotRow) => `${r.dataset}\u0000${r.split}\u0000${describeSubset(r)}`;
  const hasEnsemble = new Set(rows.filter((r) => r.prompts === 'ensemble').map(key));
  return rows.filter((r) => (hasEnsemble.has(key(r)) ? r.prompts === 'ensemble' : r.prompts === 'single'));
}

/** Group, rank and mark: one entry per model x dataset x subset of each evaluation. */
export function confidenceEntries(zeroshot: readonly ZeroshotRow[], linearProbe: readonly LinearProbeRow[]): ConfidenceEntry[] {
  const out: ConfidenceEntry[] = [];
  const add = (evaluation: ConfidenceEntry['evaluation'], rows: readonly (ZeroshotRow | LinearProbeRow)[], table: 'zeroshot' | 'linear_probe') => {
    const groups = new Map<string, { r: ZeroshotRow | LinearProbeRow; score: number; n: number }[]>();
    for (const r of rows) {
      const score = primaryValue(table, r as AnyRow);
      if (score == null) continue;
      const n = 'n_images' in r ? r.n_images : r.n_test;
      const k = `${r.dataset}\u0000${describeSubset(r)}`;
      groups.set(k, [...(groups.get(k) ?? []), { r, score, n }]);
    }
    for (const g of groups.values()) {
      const best = withinBestInterval(g.map((e) => ({ score: e.score, n: e.n })));
      g.forEach((e, i) => {
        const [lo, hi] = rowPrimaryInterval(e.r);
        out.push({ evaluation, dataset: e.r.dataset, subset: describeSubset(e.r), model: e.r.model, n: e.n, score: e.score, lo95: lo, hi95: hi, best: best[i]! });
      });
    }
  };
  add('zero-shot', zeroshotRows(zeroshot), 'zeroshot');
  add('linear probe', linearProbe, 'linear_probe');
  return out.sort((a, b) => (a.evaluation < b.evaluation ? -1 : a.evaluation > b.evaluation ? 1 : a.dataset < b.dataset ? -1 : a.dataset > b.dataset ? 1 : b.score - a.score));
}

/** Dot-and-whisker plot: each model's score with its 95% interval, one panel per evaluation x dataset. */
export function confidenceSpec(entries: readonly ConfidenceEntry[]): TopLevelSpec {
  const data = entries.map((e) => ({ ...e, panel: `${e.evaluation}: ${e.dataset}${e.subset === 'full split' ? '' : ` (${e.subset})`}`, mark: e.best ? 'within the best (99.5% CP)' : 'below' }));
  const x = { type: 'quantitative', title: 'primary metric (%)', scale: { zero: false } };
  const color = { field: 'mark', type: 'nominal', title: null, scale: { domain: ['within the best (99.5% CP)', 'below'], range: ['#e45756', '#4c78a8'] }, legend: { orient: 'bottom' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Scores with their 95% intervals', subtitle: 'whiskers: 95% interval over test images; red: within the 99.5% Clopper-Pearson interval of the best (the paper\'s Table 10 bolding)' },
    data: { values: data },
    facet: { row: { field: 'panel', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width: 360,
      layer: [
        { transform: [{ filter: 'datum.lo95 != null' }], mark: { type: 'rule', strokeWidth: 2 }, encoding: { y: { field: 'model', type: 'nominal', title: null }, x: { ...x, field: 'lo95' }, x2: { field: 'hi95' }, color } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'model', type: 'nominal', title: null }, x: { ...x, field: 'score' }, color } },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as unknown as TopLevelSpec;
}

const CSV_COLUMNS = ['evaluation', 'dataset', 'subset', 'model', 'n', 'score', 'lo95', 'hi95', 'interval_over', 'best'];
const f2 = (v: number | null) => (v == null ? '' : v.toFixed(2));

export const confidenceSection: ReportSection = {
  title: "11. How sure: 95% intervals, and the best models per dataset (Table 10's bolding)",
  async build({ all, md, write, plot, skip }) {
    const entries = confidenceEntries(all.zeroshot, all.linear_probe);
    if (!entries.length) return skip('confidence', 'no zeroshot or linear_probe results', 'confidence.csv', 'confidence.svg', 'confidence.png');
    // every interval here is one run's, over its test images (few-shot means are not in this section)
    const rows: Row[] = entries.map((e) => ({ ...e, interval_over: e.lo95 == null ? '' : INTERVAL_OVER_IMAGES, best: e.best ? 'yes' : '' }));
    const cell = (c: string, v: unknown) => (typeof v === 'number' && c !== 'n' ? f2(v) : String(v ?? ''));
    write('confidence.csv', stringify([CSV_COLUMNS, ...rows.map((r) => CSV_COLUMNS.map((c) => cell(c, r[c])))], { record_delimiter: '\n' }));
    md.push(
      "Each score with its 95% interval (Clopper-Pearson for accuracy, a seeded bootstrap over images for mean per-class accuracy). **Bold**: the models whose score lies within the 99.5% Clopper-Pearson interval of the best model's on that dataset, as the paper's Table 10 marks them; a model not in bold is worse than the best beyond what the test set's size explains.",
      '',
      '| evaluation | dataset | model | n | score | 95% interval |',
      '|---|---|---|---:|---:|---|',
      ...entries.map((e) => {
        const s = e.best ? `**${f2(e.score)}**` : f2(e.score);
        const ds = e.subset === 'full split' ? e.dataset : `${e.dataset} (${e.subset})`;
        return `| ${e.evaluation} | ${ds} | ${e.model.replace(/\|/g, '\\|')} | ${e.n} | ${s} | ${e.lo95 == null ? '' : `[${f2(e.lo95)}, ${f2(e.hi95)}]`} |`;
      }),
      '',
      'As a CSV: [confidence.csv](confidence.csv).',
      '',
    );
    await plot('confidence', confidenceSpec(entries), 'scores with 95% intervals');
  },
};
