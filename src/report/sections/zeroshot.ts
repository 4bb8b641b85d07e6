/** Sections about zero-shot transfer: prompt engineering (3.1.4), few-shot (Figure 6), data efficiency (Figure 7). */
import { dataEfficiency, datasetSubsets, pickZeroshot, promptEngineering, shotCounts, zeroshotVsFewshot } from '../compare.js';
import { fewshotAverage } from '../compare-paper.js';
import { comparisonCsv, markdownTable, shownColumns } from '../markdown.js';
import { dataEfficiencySpec, fewshotAverageSpec, fewshotSpec, promptGainSpec } from '../plots.js';
import { METRICS, withinRange } from '../../eval/metric-descriptors.js';
import { primaryMeanInterval, primaryStd, primaryValue } from '../../results/index.js';
import { plural } from '../../util/text-table.js';
import { plotDataset, rowDataset, type ReportSection } from './types.js';

export const promptEngineeringSection: ReportSection = {
  title: '1. Prompt engineering (paper §3.1.4)',
  async build({ all, md, write, plot, skip, notes }) {
    if (!all.zeroshot.length) return skip('prompt engineering', 'no zeroshot results', 'prompt_engineering.csv', 'prompt_gain.svg', 'prompt_gain.png');
    const c = promptEngineering(all.zeroshot);
    write('prompt_engineering.csv', comparisonCsv(c));
    notes(c);
    md.push(markdownTable(shownColumns(c, ['split', 'metric']), c.rows), '', 'As CSV: [prompt_engineering.csv](prompt_engineering.csv).', '');
    const data = c.rows
      .filter((r) => r.dataset !== 'MEAN')
      .flatMap((r) => [
        { model: r.model, dataset: rowDataset(r), gain: 'single vs contextless', points: r.gain_single },
        { model: r.model, dataset: rowDataset(r), gain: 'ensemble vs single', points: r.gain_ensemble },
      ])
      .filter((d) => d.points != null);
    if (data.length) await plot('prompt_gain', promptGainSpec(data, new Set(data.map((d) => d.model)).size), 'prompt engineering gains');
    else skip('the prompt-gain plot', 'no dataset was run with two or more prompt modes', 'prompt_gain.svg', 'prompt_gain.png');
  },
};

export const fewshotSection: ReportSection = {
  title: '2. Zero-shot vs few-shot linear probes (Figure 6)',
  async build({ all, paper, md, write, plot, skip, notes }) {
    const stale = ['zeroshot_vs_fewshot.csv', 'fewshot_curves.svg', 'fewshot_curves.png', 'fewshot_average.csv', 'fewshot_average.svg', 'fewshot_average.png'];
    if (!all.fewshot.length) return skip('zero-shot vs few-shot', 'no fewshot results', ...stale);
    const c = zeroshotVsFewshot(all.zeroshot, all.fewshot);
    write('zeroshot_vs_fewshot.csv', comparisonCsv(c));
    notes(c);
    const meanCols = c.columns.filter((x) => x === 'model' || x === 'zeroshot' || x.endsWith('_mean'));
    md.push(markdownTable(['model', 'dataset', ...meanCols.slice(1)], c.rows), '', 'With the standard deviations: [zeroshot_vs_fewshot.csv](zeroshot_vs_fewshot.csv).', '');
    const shots = shotCounts(all.fewshot);
    const points = all.fewshot
      .filter((r) => primaryValue('fewshot', r) != null)
      .map((r) => {
        const m = primaryValue('fewshot', r)!;
        const s = primaryStd(r) ?? 0;
        const [lo, hi] = primaryMeanInterval(r);
        // the +-1 std band stays inside the metric's range too
        const [sLo, sHi] = withinRange(METRICS[r.primary_metric], m - s, m + s);
        return { model: r.model, dataset: plotDataset(r), shots: r.shots, mean: m, lo: lo ?? sLo, hi: hi ?? sHi, interval: lo != null };
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

    // averaged over the datasets run, beside the paper's curves
    const avg = fewshotAverage(all, paper);
    write('fewshot_average.csv', comparisonCsv(avg));
    md.push('Averaged over the datasets run (per model), with the paper\'s Figure 6 curves:', '');
    notes(avg);
    md.push(markdownTable(avg.columns.filter((x) => x !== 'dataset_list'), avg.rows), '');
    const ours = avg.rows.filter((r) => r.source === 'ours' && (r.datasets as number) > 0);
    const shotCols = avg.columns.filter((x) => x.startsWith('fewshot_')).map((x) => Number(x.slice('fewshot_'.length)));
    const line = (r: (typeof avg.rows)[number], series: string) =>
      shotCols.filter((k) => r[`fewshot_${k}`] != null).map((k) => ({ series, shots: k, accuracy: r[`fewshot_${k}`] as number }));
    const oursData = ours.flatMap((r) => line(r, `${r.model} (${plural(r.datasets as number, 'dataset')})`));
    if (oursData.length) {
      const paperRows = avg.rows.filter((r) => r.source !== 'ours');
      await plot(
        'fewshot_average',
        fewshotAverageSpec(
          oursData,
          ours.map((r) => ({ series: `${r.model} (${plural(r.datasets as number, 'dataset')})`, accuracy: r.zeroshot as number })),
          paperRows.flatMap((r) => line(r, `paper: ${r.model}`)),
          paperRows.filter((r) => r.zeroshot != null).map((r) => ({ accuracy: r.zeroshot as number })),
          [...new Set([...shotCols])].sort((a, b) => a - b),
        ),
        'few-shot averages beside the paper',
      );
    } else skip('the few-shot average plot', 'no dataset has a zero-shot result on the same images as its few-shot rows', 'fewshot_average.svg', 'fewshot_average.png');
  },
};

export const dataEfficiencySection: ReportSection = {
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
    const data = c.rows.filter((r) => r.dataset !== 'MEDIAN' && r.dataset !== 'MEAN' && r.value != null).map((r) => ({ model: r.model, dataset: rowDataset(r), value: r.value }));
    const medians = [...new Set(c.rows.map((r) => r.model as string))].map((m) => ({
      model: m,
      median: c.rows.find((r) => r.model === m && r.dataset === 'MEDIAN')?.zeroshot_equivalent_shots ?? null,
      mean: c.rows.find((r) => r.model === m && r.dataset === 'MEAN')?.zeroshot_equivalent_shots ?? null,
    }));
    if (data.length) await plot('data_efficiency', dataEfficiencySpec(data, new Set(data.map((d) => d.model)).size, medians), 'data efficiency');
    else skip('the data-efficiency plot', 'no dataset has a numeric zero-shot-equivalent shot count', 'data_efficiency.svg', 'data_efficiency.png');
  },
};
