/**
 * The report's suite-wide comparisons (the paper's Section 3.2 and its Table 10): representation-learning averages
 * (Figure 10), one model's linear probe minus another's (Figure 11), few-shot averages beside the paper's curves
 * (Figure 6), linear probes against Table 10, and coverage of the paper's 27 datasets. Pure functions of the rows.
 */
import type { DatasetDescriptor } from '../data/types.js';
import { compareStrings as cmp } from '../util/compare.js';
import { datasetSubsets, mean, pickZeroshot, rowOn, type AllResults, type Comparison, type DatasetSubset, type Row } from './compare.js';
import { SUITES } from '../data/suites.js';
import type { PaperTables } from '../paper/paper.js';
import { describeSubset, primaryValue, type FewshotRow, type LinearProbeRow } from '../results/index.js';

const uniq = (xs: string[]) => [...new Set(xs)].sort(cmp);

/**
 * The linear-probe rows compared with Table 10: the paper's features (pre-projection, I_f, Appendix A.3) for a
 * model that has such rows, else its embedding rows; one kind per model, so every average takes one number per dataset.
 */
export function paperFeatureRows<R extends { model: string; features?: string | null }>(lp: readonly R[]): R[] {
  const withIf = new Set(lp.filter((r) => r.features === 'pre-projection').map((r) => r.model));
  return lp.filter((r) => (r.features ?? 'embedding') === (withIf.has(r.model) ? 'pre-projection' : 'embedding'));
}

const featuresOf = (lp: readonly LinearProbeRow[], model: string) => (lp.find((r) => r.model === model)?.features ?? 'embedding');
const FEATURES_NOTE =
  "features: the image features the probe learned from. Table 10 used the pre-projection features (I_f) for CLIP-ViT models: a model's pre-projection rows (`--features pre-projection`) are compared where they exist, else its embedding rows.";

/**
 * The one subset a suite-wide average takes for a model x dataset: the full split when it was run, else the
 * largest --limit (then the lowest seed). Averages over datasets need one number per dataset.
 */
export function preferredSubset(rows: readonly { model: string; dataset: string; limit?: number | null; subset_seed?: number | null; skipped_images?: number | null }[], model: string, dataset: string): DatasetSubset | null {
  const ds = datasetSubsets(rows.filter((r) => r.model === model && r.dataset === dataset));
  if (!ds.length) return null;
  return ds.find((d) => d.subset.limit == null) ?? [...ds].sort((a, b) => (b.subset.limit ?? 0) - (a.subset.limit ?? 0))[0]!;
}

/** A model's linear-probe value per dataset (primary metric, preferred subset); subsets other than the full split are listed. */
export function probeValues(lp: readonly LinearProbeRow[], model: string): { values: Map<string, number>; partial: string[] } {
  const values = new Map<string, number>();
  const partial: string[] = [];
  for (const dataset of uniq(lp.filter((r) => r.model === model).map((r) => r.dataset))) {
    const ds = preferredSubset(lp, model, dataset)!;
    const v = primaryValue('linear_probe', rowOn(lp, model, ds)!);
    if (v == null) continue;
    values.set(dataset, v);
    if (ds.label !== 'full split') partial.push(`${dataset} (${ds.label})`);
  }
  return { values, partial };
}

const meanOver = (values: Map<string, number> | Record<string, number>, datasets: readonly string[]): number | null => {
  const get = (d: string) => (values instanceof Map ? values.get(d) : values[d]);
  return datasets.every((d) => typeof get(d) === 'number') && datasets.length ? mean(datasets.map(get)) : null;
};

// ---------------------------------------------------------------------------------------------
// Figure 10 / Table 10: representation learning

export function representationLearning(allRows: readonly LinearProbeRow[], paper: PaperTables, gflops: Map<string, number>): Comparison {
  const lp = paperFeatureRows(allRows);
  const k12 = SUITES.kornblith12!();
  const p27 = SUITES.paper27!();
  const table10 = paper.table10_linear_probe.models;
  const columns = [
    'model', 'features', 'gflops', 'kornblith12_mean', 'kornblith12_datasets', 'paper27_mean', 'paper27_datasets', 'run_mean', 'run_datasets',
    'paper_kornblith12_mean', 'paper_paper27_mean', 'paper_run_mean', 'missing_paper27',
  ];
  const rows: Row[] = [];
  const partialNotes: string[] = [];
  for (const model of uniq(lp.map((r) => r.model))) {
    const { values, partial } = probeValues(lp, model);
    if (partial.length) partialNotes.push(`\`${model}\`: ${partial.join(', ')}`);
    const run = [...values.keys()];
    const theirs = table10[model];
    const runInPaper = run.filter((d) => p27.includes(d));
    rows.push({
      model,
      features: featuresOf(lp, model),
      gflops: gflops.get(model) ?? null,
      kornblith12_mean: meanOver(values, k12),
      kornblith12_datasets: k12.filter((d) => values.has(d)).length,
      paper27_mean: meanOver(values, p27),
      paper27_datasets: p27.filter((d) => values.has(d)).length,
      run_mean: mean([...values.values()]),
      run_datasets: run.length,
      paper_kornblith12_mean: theirs ? meanOver(theirs, k12) : null,
      paper_paper27_mean: theirs ? meanOver(theirs, p27) : null,
      paper_run_mean: theirs && runInPaper.length ? meanOver(theirs, runInPaper) : null,
      missing_paper27: p27.filter((d) => !values.has(d)).join(' ') || 'none',
    });
  }
  return {
    columns,
    rows,
    notes: [
      `Linear-probe primary metric (percent), averaged per model over Kornblith et al.'s 12 datasets (${k12.join(', ')}; Figure 10 left), over the paper's 27 (Figure 10 right) and over the datasets run; the 12- and 27-dataset means are left blank unless every one of those datasets was run (the \`_datasets\` columns count them, \`missing_paper27\` names the rest).`,
      "paper_* = the same averages of the paper's Table 10 row for a model of the same name (the 9 CLIP models, and baselines such as `ResNet 50` or `EfficientNet Noisy Student L2-800`); paper_run_mean averages it over the paper datasets run here, the like-for-like figure when the suite is incomplete.",
      FEATURES_NOTE,
      ...(partialNotes.length ? [`Datasets run only on a subset (the largest one is used): ${partialNotes.join('; ')}.`] : []),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Figure 11: one model's linear probe minus another's

export function linearProbeDelta(allRows: readonly LinearProbeRow[], baselineModel: string, paper: PaperTables): Comparison {
  const columns = ['model', 'dataset', 'subset', 'metric', 'linear_probe', 'baseline_model', 'baseline_linear_probe', 'delta', 'paper_delta'];
  const table10 = paper.table10_linear_probe.models;
  const rows: Row[] = [];
  const hasIf = (m: string) => allRows.some((r) => r.model === m && r.features === 'pre-projection');
  for (const model of uniq(allRows.map((r) => r.model)).filter((m) => m !== baselineModel)) {
    const mine: Row[] = [];
    // like with like: the pre-projection features where both models have them, else the embeddings
    const kind = hasIf(model) && hasIf(baselineModel) ? 'pre-projection' : 'embedding';
    const lp = allRows.filter((r) => (r.features ?? 'embedding') === kind);
    for (const ds of datasetSubsets(lp.filter((r) => r.model === model))) {
      const a = rowOn(lp, model, ds)!;
      const b = rowOn(lp, baselineModel, ds);
      const va = primaryValue('linear_probe', a);
      const vb = b ? primaryValue('linear_probe', b) : null;
      const pa = table10[model]?.[ds.dataset];
      const pb = table10[baselineModel]?.[ds.dataset];
      mine.push({
        model, dataset: ds.dataset, subset: ds.label, metric: a.primary_metric, linear_probe: va, baseline_model: baselineModel,
        baseline_linear_probe: vb, delta: va != null && vb != null ? va - vb : null,
        paper_delta: typeof pa === 'number' && typeof pb === 'number' ? pa - pb : null,
      });
    }
    mine.sort((x, y) => ((y.delta as number | null) ?? -Infinity) - ((x.delta as number | null) ?? -Infinity) || cmp(String(x.dataset), String(y.dataset)));
    rows.push(...mine);
  }
  return {
    columns,
    rows,
    notes: [
      `delta = the model's linear probe − \`${baselineModel}\`'s on the same dataset and images (primary metric, points), sorted by delta; the paper's Figure 11 shows ViT-L/14@336px − Noisy Student EfficientNet-L2.`,
      "paper_delta = the same difference in the paper's Table 10, where both models are named like rows of it.",
      "Both probes use the same image features: the pre-projection features where both models have such rows, else the embeddings.",
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Figure 6 over the datasets run

/** Per model: few-shot and zero-shot averaged over the datasets that have zero-shot and every shot count; the paper's curves beside. */
export function fewshotAverage(all: AllResults, paper: PaperTables): Comparison {
  const f6 = paper.figure6_fewshot_average_read_from_plot;
  const rows: Row[] = [];
  const modelShots = new Map<string, number[]>();
  for (const model of uniq(all.fewshot.map((r) => r.model))) {
    const picks: { ds: DatasetSubset; own: FewshotRow[]; zs: number }[] = [];
    for (const dataset of uniq(all.fewshot.filter((r) => r.model === model).map((r) => r.dataset))) {
      const ds = preferredSubset(all.fewshot, model, dataset)!;
      const z = pickZeroshot(all.zeroshot, model, ds);
      if (!z) continue;
      picks.push({ ds, own: all.fewshot.filter((r) => r.model === model && r.dataset === dataset && describeSubset(r) === ds.label), zs: z.value });
    }
    // the shot counts every picked dataset has
    const shots = [...new Set(picks.flatMap((p) => p.own.map((r) => r.shots)))].filter((k) => picks.every((p) => p.own.some((r) => r.shots === k))).sort((a, b) => a - b);
    modelShots.set(model, shots);
    const row: Row = { model, source: 'ours', datasets: picks.length, dataset_list: picks.map((p) => p.ds.dataset).join(' '), zeroshot: mean(picks.map((p) => p.zs)) };
    for (const k of shots) row[`fewshot_${k}`] = mean(picks.map((p) => primaryValue('fewshot', p.own.find((r) => r.shots === k)!)));
    rows.push(row);
  }
  const allShots = [...new Set([...f6.shots, ...[...modelShots.values()].flat()])].sort((a, b) => a - b);
  const paperRow = (model: string, curve: number[] | null, zeroshot: number | null): Row => {
    const r: Row = { model, source: "paper's Figure 6", datasets: 20, dataset_list: null, zeroshot };
    f6.shots.forEach((k, i) => (r[`fewshot_${k}`] = curve ? curve[i]! : null));
    return r;
  };
  rows.push(
    paperRow('CLIP ViT-L/14@336px (zero-shot and linear probe)', f6.linear_probe_clip, f6.zeroshot_clip),
    paperRow('BiT-M (ImageNet-21k)', f6.bit_m_imagenet21k, null),
    paperRow('SimCLRv2', f6.simclrv2, null),
    paperRow('ResNet-50 (ImageNet)', f6.resnet50, null),
  );
  const columns = ['model', 'source', 'datasets', 'dataset_list', 'zeroshot', ...allShots.map((k) => `fewshot_${k}`)];
  for (const r of rows) for (const c of columns) r[c] ??= null;
  return {
    columns,
    rows,
    notes: [
      'ours: per model, the mean over the datasets that have a zero-shot result on the same images and every listed shot count (one subset per dataset: the full split if run, else the largest --limit); primary metric, percent.',
      `paper: ${f6.note} Our averages are over other (and fewer) datasets: compare shapes, not levels, unless the same 20 datasets were run.`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// against the paper: Table 10

export function againstPaperLinearProbe(allRows: readonly LinearProbeRow[], paper: PaperTables): Comparison {
  const lp = paperFeatureRows(allRows);
  const columns = ['model', 'features', 'dataset', 'subset', 'metric', 'paper_metric', 'ours', 'paper', 'diff'];
  const table10 = paper.table10_linear_probe.models;
  const rows: Row[] = [];
  for (const model of uniq(lp.map((r) => r.model))) {
    const theirs = table10[model];
    if (!theirs) continue;
    for (const ds of datasetSubsets(lp.filter((r) => r.model === model))) {
      const p = theirs[ds.dataset];
      const r = rowOn(lp, model, ds)!;
      const v = primaryValue('linear_probe', r);
      if (typeof p !== 'number' || v == null) continue;
      rows.push({ model, features: r.features ?? 'embedding', dataset: ds.dataset, subset: ds.label, metric: r.primary_metric, paper_metric: paper.table9_linear_probe_datasets[ds.dataset]?.metric ?? null, ours: v, paper: p, diff: v - p });
    }
  }
  return {
    columns,
    rows,
    notes: [
      "ours = our linear probe (primary metric); paper = Table 10 of Radford et al. 2021 for the row of the same name (the 9 CLIP models, and baselines such as `ResNet 50`; a known model's other names and `--paper-model` map to a row); diff = ours − paper, in points.",
      FEATURES_NOTE,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// coverage of the paper's datasets

/** What the registry knows of a dataset (null: clip-bench has no such dataset). */
export type DatasetLookup = (name: string) => DatasetDescriptor | null;

const fmtInt = (n: number | null | undefined) => (n == null ? null : n.toLocaleString('en-US'));

export function coverage(all: AllResults, paper: PaperTables, lookup: DatasetLookup): Comparison {
  const columns = ['dataset', 'paper_name', 'status', 'source', 'zeroshot_models', 'linear_probe_models', 'fewshot_models', 'test_used', 'train_used', 'paper_test', 'paper_train', 'note'];
  const t9 = paper.table9_linear_probe_datasets;
  const rows: Row[] = [];
  const describeRun = (dataset: string): Row => {
    const zs = all.zeroshot.filter((r) => r.dataset === dataset);
    const lp = all.linear_probe.filter((r) => r.dataset === dataset);
    const fs = all.fewshot.filter((r) => r.dataset === dataset);
    const models = (rs: readonly { model: string }[]) => uniq(rs.map((r) => r.model)).join(' ') || null;
    const sizes = (xs: number[]) => uniq(xs.map(String)).map(Number).sort((a, b) => a - b).map((n) => fmtInt(n)).join(' / ') || null;
    const limited = [...zs, ...lp, ...fs].filter((r) => r.limit != null);
    return {
      zeroshot_models: models(zs),
      linear_probe_models: models(lp),
      fewshot_models: models(fs),
      test_used: sizes([...zs.map((r) => r.n_images), ...lp.map((r) => r.n_test)]),
      train_used: sizes(lp.map((r) => r.n_train + r.n_val)),
      limited: limited.length ? uniq(limited.map((r) => describeSubset(r))).join(', ') : null,
      any: zs.length + lp.length + fs.length,
    };
  };
  const notesFor = (dataset: string, run: Row, d: DatasetDescriptor | null): string | null => {
    const p = t9[dataset];
    const notes: string[] = [];
    if (d?.protocolNote) notes.push(d.protocolNote);
    if (run.limited) notes.push(`--limit subsets: ${run.limited}`);
    if (p && run.test_used && !String(run.test_used).split(' / ').includes(fmtInt(p.test_size)!)) notes.push(`test images differ from Table 9's ${fmtInt(p.test_size)}`);
    if (p && run.train_used && !String(run.train_used).split(' / ').includes(fmtInt(p.train_size)!)) notes.push(`train+validation images differ from Table 9's ${fmtInt(p.train_size)}`);
    return notes.join('; ') || null;
  };
  for (const dataset of SUITES.paper27!()) {
    const d = lookup(dataset);
    const run = describeRun(dataset);
    const status = (run.any as number) > 0 ? 'evaluated' : d ? 'not run' : 'not available';
    rows.push({
      dataset,
      paper_name: t9[dataset]!.name,
      status,
      source: d ? sourceText(d) : 'no loader in clip-bench',
      zeroshot_models: run.zeroshot_models,
      linear_probe_models: run.linear_probe_models,
      fewshot_models: run.fewshot_models,
      test_used: run.test_used,
      train_used: run.train_used,
      paper_test: t9[dataset]!.test_size,
      paper_train: t9[dataset]!.train_size,
      note: notesFor(dataset, run, d),
    });
  }
  // datasets run that are not the paper's
  const others = uniq([...all.zeroshot, ...all.linear_probe, ...all.fewshot].map((r) => r.dataset)).filter((x) => !(x in t9));
  for (const dataset of others) {
    const d = lookup(dataset);
    const run = describeRun(dataset);
    rows.push({
      dataset, paper_name: null, status: 'evaluated (not a paper dataset)', source: d ? sourceText(d) : null,
      zeroshot_models: run.zeroshot_models, linear_probe_models: run.linear_probe_models, fewshot_models: run.fewshot_models,
      test_used: run.test_used, train_used: run.train_used, paper_test: null, paper_train: null, note: notesFor(dataset, run, d),
    });
  }
  const counts = (s: string) => rows.filter((r) => r.status === s).length;
  return {
    columns,
    rows,
    notes: [
      `The paper's 27 datasets (Table 9's order): ${counts('evaluated')} evaluated, ${counts('not run')} available but not run, ${counts('not available')} not available in clip-bench.`,
      "test_used / train_used: the images our rows used (zero-shot n_images and linear-probe n_test; linear-probe n_train + n_val), beside Table 9's sizes; the note says where the protocol differs from the paper's, so a reader knows which numbers are comparable.",
    ],
  };
}

function sourceText(d: DatasetDescriptor): string {
  switch (d.source.kind) {
    case 'bundled':
      return 'bundled';
    case 'download':
      return 'downloads on first use';
    case 'hub':
      return d.source.format === 'parquet' ? `hub parquet dataset ${d.source.repoId}${d.source.revision ? `@${d.source.revision}` : ''}` : `hub package ${d.source.repoId}`;
    default:
      return `user-provided (${d.source.layout})`;
  }
}
