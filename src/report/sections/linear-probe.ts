/**
 * Sections about linear probes: zero-shot against a baseline backbone's probe (Figure 5) and against the same
 * model's (Figure 8), model scaling (Figure 9), representation-learning averages (Figure 10, Table 10) and one
 * model's probe minus another's (Figure 11).
 */
import { plural } from '../../util/text-table.js';
import { modelScaling, zeroshotVsLinearProbe, type Comparison } from '../compare.js';
import { linearProbeDelta, representationLearning } from '../compare-paper.js';
import { comparisonCsv, markdownTable, shownColumns } from '../markdown.js';
import { deltaBarsSpec, representationSpec, scalingSpec, supervisedGapSpec, zeroshotVsProbeScatterSpec } from '../plots.js';
import { f2, rowDataset, type ReportSection, type SectionContext } from './types.js';

function winsLines(c: Comparison, md: string[]): void {
  for (const m of [...new Set(c.rows.map((r) => r.model as string))]) {
    const mine = c.rows.filter((r) => r.model === m && r.delta != null);
    const wins = mine.filter((r) => (r.delta as number) >= 0).length;
    md.push(`- \`${m}\`: zero-shot matches or beats the probe on ${wins} of ${plural(mine.length, 'dataset')} (mean delta ${f2(mine.length ? mine.reduce((a, r) => a + (r.delta as number), 0) / mine.length : null)} points).`);
  }
  md.push('');
}

export const baselineProbeSection: ReportSection = {
  title: "4. Zero-shot vs a baseline backbone's linear probe (Figure 5)",
  async build({ all, opts, paper, md, write, plot, skip, needs, notes }) {
    const stale = ['zeroshot_vs_baseline_probe.csv', 'zeroshot_vs_baseline_probe.svg', 'zeroshot_vs_baseline_probe.png'];
    if (!opts.baselineModel) return needs("`--baseline-model M`: the model whose linear probe zero-shot is compared with (the paper: an ImageNet ResNet-50, e.g. an image-only ONNX export probed with `clip-bench linear-probe`)", ...stale);
    if (!all.zeroshot.length) return skip('zero-shot vs a baseline linear probe', 'no zeroshot results', ...stale);
    const c = zeroshotVsLinearProbe(all.zeroshot, all.linear_probe, opts.baselineModel, paper);
    write('zeroshot_vs_baseline_probe.csv', comparisonCsv(c));
    notes(c);
    winsLines(c, md);
    md.push(markdownTable(shownColumns(c, ['metric', 'zeroshot_prompts']), c.rows), '');
    const data = c.rows.filter((r) => r.delta != null).map((r) => ({ model: r.model, dataset: rowDataset(r), delta: r.delta }));
    if (data.length) await plot('zeroshot_vs_baseline_probe', supervisedGapSpec(data, new Set(data.map((d) => d.model)).size, `\`${opts.baselineModel}\``.replace(/`/g, '')), `zero-shot minus ${opts.baselineModel}'s linear probe`);
    else skip('the Figure 5 plot', `no dataset has both a zero-shot result and a linear probe of ${opts.baselineModel} on the same images`, 'zeroshot_vs_baseline_probe.svg', 'zeroshot_vs_baseline_probe.png');
  },
};

export const ownProbeSection: ReportSection = {
  title: "5. Zero-shot vs the same model's linear probe (Figure 8)",
  async build({ all, paper, md, write, plot, skip, notes }) {
    const stale = ['zeroshot_vs_linear_probe.csv', 'zeroshot_vs_linear_probe.svg', 'zeroshot_vs_linear_probe.png'];
    if (!all.zeroshot.length || !all.linear_probe.length) return skip("zero-shot vs the same model's linear probe", `no ${all.zeroshot.length ? 'linear_probe' : 'zeroshot'} results`, ...stale);
    const c = zeroshotVsLinearProbe(all.zeroshot, all.linear_probe, undefined, paper);
    write('zeroshot_vs_linear_probe.csv', comparisonCsv(c));
    notes(c);
    winsLines(c, md);
    md.push(markdownTable(shownColumns(c, ['metric', 'zeroshot_prompts', 'baseline_model']), c.rows), '');
    const data = c.rows.filter((r) => r.delta != null).map((r) => ({ model: r.model, dataset: rowDataset(r), zeroshot: r.zeroshot, linear_probe: r.linear_probe }));
    if (data.length) await plot('zeroshot_vs_linear_probe', zeroshotVsProbeScatterSpec(data), "zero-shot against the same model's linear probe");
    else skip('the Figure 8 plot', 'no dataset has both results on the same images', 'zeroshot_vs_linear_probe.svg', 'zeroshot_vs_linear_probe.png');
  },
};

export const scalingSection: ReportSection = {
  title: '6. Model scaling (Figure 9)',
  async build({ all, models, gflops, md, write, plot, skip, notes }) {
    if (models.length < 2 || !(all.zeroshot.length || all.linear_probe.length)) {
      return skip('model scaling', 'needs results of two or more models', 'model_scaling.csv', 'model_scaling.svg', 'model_scaling.png');
    }
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

/** Figure 10's points: each average we have (and the paper's, for paper-named models) at the model's GFLOPs. */
function representationPoints(c: Comparison): Record<string, string | number>[] {
  const series: [string, string][] = [
    ['run_mean', 'ours: datasets run'],
    ['kornblith12_mean', "ours: Kornblith's 12"],
    ['paper27_mean', 'ours: all 27'],
    ['paper_run_mean', "paper Table 10: the datasets we ran"],
    ['paper_kornblith12_mean', "paper Table 10: Kornblith's 12"],
    ['paper_paper27_mean', 'paper Table 10: all 27'],
  ];
  return c.rows
    .filter((r) => r.gflops != null)
    .flatMap((r) => series.filter(([col]) => r[col] != null).map(([col, name]) => ({ model: String(r.model), gflops: r.gflops as number, series: name, average: r[col] as number })));
}

/**
 * The paper's own models in Figure 10 whatever the user's are called: Table 10's average over all 27 datasets of
 * each model whose GFLOPs the paper states (Figure 9's ResNets), as grey reference points.
 */
function paperReference(paper: SectionContext['paper'], c: Comparison): Record<string, string | number>[] {
  const f9 = paper.figure9_model_scaling;
  const t10 = paper.table10_linear_probe.models;
  const p27 = Object.keys(paper.table9_linear_probe_datasets);
  const ours = new Set(c.rows.map((r) => String(r.model)));
  return f9.models.flatMap((model, i) => {
    const row = t10[model];
    if (!row || ours.has(model) || !p27.every((d) => typeof row[d] === 'number')) return [];
    return [{ model, gflops: f9.gflops[i]!, average: p27.reduce((a, d) => a + row[d]!, 0) / p27.length }];
  });
}

export const representationSection: ReportSection = {
  title: '7. Representation learning: linear-probe averages (Figure 10, Table 10)',
  async build(ctx: SectionContext) {
    const { all, paper, gflops, md, write, plot, skip, notes } = ctx;
    if (!all.linear_probe.length) return skip('representation learning', 'no linear_probe results', 'representation_learning.csv', 'representation_learning.svg', 'representation_learning.png');
    const c = representationLearning(all.linear_probe, paper, gflops);
    write('representation_learning.csv', comparisonCsv(c));
    notes(c);
    md.push(markdownTable(c.columns, c.rows), '');
    const data = representationPoints(c);
    if (data.length) await plot('representation_learning', representationSpec(data, paperReference(paper, c)), 'linear-probe averages against GFLOPs');
    else skip('the Figure 10 plot', "no model with linear-probe results has GFLOPs per image (runs' image_gflops or --models-table)", 'representation_learning.svg', 'representation_learning.png');
  },
};

export const probeDeltaSection: ReportSection = {
  title: "8. One model's linear probe minus a baseline's, per dataset (Figure 11)",
  async build({ allLinearProbe, opts, paper, md, write, plot, skip, needs, notes }) {
    const stale = ['linear_probe_vs_baseline.csv', 'linear_probe_vs_baseline.svg', 'linear_probe_vs_baseline.png'];
    if (!opts.baselineModel) return needs('`--baseline-model M`: the model every linear probe is compared with (the paper: Noisy Student EfficientNet-L2)', ...stale);
    const c = linearProbeDelta(allLinearProbe, opts.baselineModel, paper);
    if (!c.rows.length) return skip('Figure 11', `no linear_probe results of a model other than ${opts.baselineModel}`, ...stale);
    write('linear_probe_vs_baseline.csv', comparisonCsv(c));
    notes(c);
    md.push(markdownTable(shownColumns(c, ['metric', 'baseline_model']), c.rows), '');
    const data = c.rows.filter((r) => r.delta != null).map((r) => ({ model: r.model, dataset: rowDataset(r), delta: r.delta }));
    if (data.length) {
      await plot(
        'linear_probe_vs_baseline',
        deltaBarsSpec(data, new Set(data.map((d) => d.model)).size, {
          title: `Linear probe vs ${opts.baselineModel}'s, per dataset (Figure 11)`,
          subtitle: 'green: the model\'s features are better than the baseline\'s',
          axis: `linear probe − ${opts.baselineModel}'s linear probe (percentage points)`,
        }),
        `linear probe minus ${opts.baselineModel}'s`,
      );
    } else skip('the Figure 11 plot', `no dataset has linear probes of both on the same images`, 'linear_probe_vs_baseline.svg', 'linear_probe_vs_baseline.png');
  },
};
