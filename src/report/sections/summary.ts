/**
 * The report's opening: per model, the numbers a reader quotes (the zero-shot mean, the linear-probe averages over
 * the datasets run, Kornblith's 12 and the paper's 27), where the model ranks among the paper's models on the same
 * datasets, and which of the paper's datasets are missing.
 */
import { mean, pickZeroshot, type Comparison, type Row } from '../compare.js';
import { preferredSubset, probeValues, representationLearning } from '../compare-paper.js';
import { SUITES } from '../../data/suites.js';
import { comparisonCsv, markdownTable } from '../markdown.js';
import { rankSpec } from '../plots.js';
import type { ZeroshotRow } from '../../results/index.js';
import { compareStrings as cmp } from '../../util/compare.js';
import { plural } from '../../util/text-table.js';
import { f2, type ReportSection } from './types.js';

/** A model's zero-shot value per dataset: the ensemble prompts (else the best mode) on the preferred subset. */
function zeroshotValues(zs: ZeroshotRow[], model: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const dataset of [...new Set(zs.filter((r) => r.model === model).map((r) => r.dataset))].sort(cmp)) {
    const ds = preferredSubset(zs, model, dataset);
    const pick = ds && pickZeroshot(zs, model, ds);
    if (pick) values.set(dataset, pick.value);
  }
  return values;
}

export interface Rank {
  /** 1-based: 1 + how many of the paper's models average higher */
  rank: number;
  /** the paper's models with a value on every dataset compared */
  of: number;
  datasets: string[];
  ours: number;
  /** each paper model's mean over `datasets` */
  theirs: { model: string; mean: number }[];
}

/** Where `ours` ranks among the paper's models, each averaged over the paper's datasets that `ours` was run on. */
export function rankAmong(ours: Map<string, number>, paperModels: Record<string, Record<string, number | string | null>>, paper27: readonly string[]): Rank | null {
  const datasets = [...ours.keys()].filter((d) => paper27.includes(d));
  if (!datasets.length) return null;
  const oursMean = mean(datasets.map((d) => ours.get(d)))!;
  const theirs = Object.entries(paperModels)
    .filter(([, v]) => datasets.every((d) => typeof v[d] === 'number'))
    .map(([model, v]) => ({ model, mean: mean(datasets.map((d) => v[d] as number))! }));
  if (!theirs.length) return null;
  return { rank: 1 + theirs.filter((t) => t.mean > oursMean).length, of: theirs.length, datasets, ours: oursMean, theirs };
}

export const summarySection: ReportSection = {
  title: 'Summary',
  async build({ all, paper, models, md, write, plot, skip }) {
    const p27 = SUITES.paper27!();
    const k12 = SUITES.kornblith12!();
    const probes = all.linear_probe.length ? representationLearning(all.linear_probe, paper, new Map()) : null;
    const columns = [
      'model', 'zeroshot_mean', 'zeroshot_datasets', 'zeroshot_rank', 'linear_probe_mean', 'linear_probe_datasets',
      'kornblith12_mean', 'paper27_mean', 'linear_probe_rank', 'missing_paper27',
    ];
    const rows: Row[] = [];
    const lines: string[] = [];
    const rankPoints: Record<string, string | number>[] = [];
    for (const model of models) {
      const zs = zeroshotValues(all.zeroshot, model);
      const lp = probeValues(all.linear_probe, model).values;
      const probeRow = probes?.rows.find((r) => r.model === model);
      const zsRank = rankAmong(zs, paper.table11_zero_shot.models, p27);
      const lpRank = rankAmong(lp, paper.table10_linear_probe.models, p27);
      const missing = p27.filter((d) => !zs.has(d) && !lp.has(d));
      const rankText = (r: Rank | null) => (r ? `${r.rank} of ${r.of + 1}` : null);
      rows.push({
        model,
        zeroshot_mean: mean([...zs.values()]),
        zeroshot_datasets: zs.size,
        zeroshot_rank: rankText(zsRank),
        linear_probe_mean: mean([...lp.values()]),
        linear_probe_datasets: lp.size,
        kornblith12_mean: (probeRow?.kornblith12_mean as number | null) ?? null,
        paper27_mean: (probeRow?.paper27_mean as number | null) ?? null,
        linear_probe_rank: rankText(lpRank),
        missing_paper27: missing.length ? missing.join(' ') : 'none',
      });
      const parts: string[] = [];
      if (zs.size) parts.push(`zero-shot **${f2(mean([...zs.values()]))}** (mean over ${plural(zs.size, 'dataset')})`);
      if (lp.size) {
        const avgs = [`**${f2(mean([...lp.values()]))}** over the ${plural(lp.size, 'dataset')} run`];
        if (probeRow?.kornblith12_mean != null) avgs.push(`**${f2(probeRow.kornblith12_mean as number)}** over Kornblith's 12`);
        if (probeRow?.paper27_mean != null) avgs.push(`**${f2(probeRow.paper27_mean as number)}** over the paper's 27`);
        parts.push(`linear probe ${avgs.join(', ')}`);
      }
      const ranks: string[] = [];
      if (zsRank) ranks.push(`zero-shot ${zsRank.rank} of ${zsRank.of + 1} among the paper's CLIP models (Table 11)`);
      if (lpRank) ranks.push(`linear probe ${lpRank.rank} of ${lpRank.of + 1} among the paper's Table 10 models`);
      const rankSentence = ranks.length
        ? `Ranks, on the ${plural(Math.max(zsRank?.datasets.length ?? 0, lpRank?.datasets.length ?? 0), 'dataset')} of the paper's 27 run here: ${ranks.join('; ')}.`
        : "Not ranked against the paper's models: none of the datasets run is one of the paper's 27.";
      lines.push(`- \`${model}\`: ${parts.join('; ') || 'no zero-shot or linear-probe results'}. ${rankSentence} ` +
        `${missing.length ? `Not run: ${missing.length} of the paper's 27 datasets (${missing.join(', ')}).` : "Every one of the paper's 27 datasets was run."}`);
      if (lpRank) {
        // labels apart from the paper's names (a user's model may be called like one of them); best first
        const bars = [
          ...lpRank.theirs.map((t) => ({ label: `paper: ${t.model}`, source: "the paper's Table 10", mean: t.mean })),
          { label: `ours: ${model}`, source: 'ours', mean: lpRank.ours },
        ].sort((a, b) => b.mean - a.mean || cmp(a.label, b.label));
        bars.forEach((b, order) => rankPoints.push({ ...b, order, highlight: model }));
      }
    }
    md.push(
      'Primary metric of each dataset, percent. Means are over the datasets each model was run on (ensemble prompts for zero-shot where run); ' +
        `the Kornblith-12 and 27-dataset averages only when all of them were run (${k12.length} and ${p27.length}). ` +
        "A rank compares like with like: each of the paper's models averaged over the same datasets of its 27 that were run here.",
      '',
      ...lines,
      '',
    );
    const c: Comparison = { columns, rows, notes: [] };
    md.push(markdownTable(columns.filter((x) => x !== 'missing_paper27'), rows), '', 'As CSV and LaTeX: [summary.csv](summary.csv), [summary.tex](summary.tex).', '');
    write('summary.csv', comparisonCsv(c));
    if (rankPoints.length) await plot('summary_rank', rankSpec(rankPoints), "linear-probe averages beside the paper's models on the same datasets");
    else skip('the ranking plot', "no linear probe on any of the paper's 27 datasets", 'summary_rank.svg', 'summary_rank.png');
  },
};
