/**
 * The comparisons of `clip-bench report`, as plain tables (pure functions of the result rows).
 * Values are in percent / points; null = not available (blank in the CSV).
 */
import { plural } from '../util/text-table.js';
import { equivalentShotsValue, zeroshotEquivalentShots, type ShotPoint } from '../results/efficiency.js';
import type { PaperTables } from '../paper/paper.js';
import type { PrimaryMetric } from '../data/types.js';
import { PROMPT_MODES, type PromptMode } from '../eval/prompts.js';
import { compareStrings as cmp } from '../util/compare.js';
import {
  describeSubset,
  primaryStd,
  primaryValue,
  sameSubset,
  subsetKey,
  type FewshotRow,
  type Subset,
  type LinearProbeRow,
  type RunEntry,
  type ZeroshotRow,
} from '../results/index.js';

export type Cell = string | number | null;
export type Row = Record<string, Cell>;
export interface Comparison {
  columns: string[];
  rows: Row[];
  /** lines for report.md explaining how summary rows were computed */
  notes: string[];
}

export interface AllResults {
  zeroshot: ZeroshotRow[];
  linear_probe: LinearProbeRow[];
  fewshot: FewshotRow[];
  runs: { zeroshot: RunEntry[]; linear_probe: RunEntry[]; fewshot: RunEntry[] };
}

const uniq = (xs: string[]) => [...new Set(xs)].sort(cmp);

export function mean(xs: readonly (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const sub = (a: number | null, b: number | null) => (a == null || b == null ? null : a - b);

/** A dataset as a comparison sees it: its name and the images the rows were computed on (rows of different subsets are never compared). */
export interface DatasetSubset {
  dataset: string;
  subset: Subset;
  /** `full split`, `limit 500 (seed 0)`, ... (the comparisons' `subset` column) */
  label: string;
}

/** The datasets x subsets of some rows, sorted by dataset, then full split first. */
export function datasetSubsets(rows: readonly (Subset & { dataset: string })[]): DatasetSubset[] {
  const seen = new Map<string, DatasetSubset>();
  for (const r of rows) {
    const k = `${r.dataset}\u0000${subsetKey(r)}`;
    if (!seen.has(k)) seen.set(k, { dataset: r.dataset, subset: { limit: r.limit ?? null, subset_seed: r.subset_seed ?? null, skipped_images: r.skipped_images ?? null }, label: describeSubset(r) });
  }
  const n = (v: number | null | undefined) => (v == null ? -1 : v);
  return [...seen.values()].sort(
    (a, b) => cmp(a.dataset, b.dataset) || n(a.subset.limit) - n(b.subset.limit) || n(a.subset.subset_seed) - n(b.subset.subset_seed) || n(a.subset.skipped_images) - n(b.subset.skipped_images),
  );
}

/** The row of `model` on `ds` (same dataset and subset), or undefined. */
export function rowOn<R extends Subset & { model: string; dataset: string }>(rows: readonly R[], model: string, ds: DatasetSubset): R | undefined {
  return rows.find((r) => r.model === model && r.dataset === ds.dataset && sameSubset(r, ds.subset));
}

export interface ZeroshotPick {
  model: string;
  dataset: string;
  split: string;
  prompts: PromptMode;
  value: number;
  metric: PrimaryMetric;
  row: ZeroshotRow;
}

/** The split a report uses for a model x dataset: `test` when present, else the first in sort order. */
function preferredSplit(rows: ZeroshotRow[]): string | null {
  const splits = uniq(rows.map((r) => r.split));
  return splits.includes('test') ? 'test' : (splits[0] ?? null);
}

/**
 * The zero-shot result a comparison uses for a model x dataset: the `test` split if present, the
 * ensemble prompts if present (else the best mode, or only `mode` when given), primary metric.
 */
export function pickZeroshot(rows: ZeroshotRow[], model: string, ds: DatasetSubset, mode?: PromptMode): ZeroshotPick | null {
  const dataset = ds.dataset;
  const own = rows.filter((r) => r.model === model && r.dataset === dataset && sameSubset(r, ds.subset) && primaryValue('zeroshot', r) != null);
  const split = preferredSplit(own);
  if (split == null) return null;
  const cands = own.filter((r) => r.split === split);
  let best: ZeroshotRow | undefined;
  if (mode) best = cands.find((r) => r.prompts === mode);
  else {
    best = cands.find((r) => r.prompts === 'ensemble');
    if (!best) for (const r of cands) if (!best || primaryValue('zeroshot', r)! > primaryValue('zeroshot', best)!) best = r;
  }
  if (!best) return null;
  return { model, dataset, split, prompts: best.prompts, value: primaryValue('zeroshot', best)!, metric: best.primary_metric, row: best };
}

// ---------------------------------------------------------------------------------------------
// 1. prompt engineering (paper 3.1.4)

export function promptEngineering(zs: ZeroshotRow[]): Comparison {
  const columns = ['model', 'dataset', 'subset', 'split', 'metric', 'contextless', 'single', 'ensemble', 'gain_single', 'gain_ensemble'];
  const rows: Row[] = [];
  for (const model of uniq(zs.map((r) => r.model))) {
    const mine: Row[] = [];
    for (const ds of datasetSubsets(zs.filter((r) => r.model === model))) {
      const dataset = ds.dataset;
      const own = zs.filter((r) => r.model === model && r.dataset === dataset && sameSubset(r, ds.subset));
      const split = preferredSplit(own)!;
      const by = (m: PromptMode) => {
        const r = own.find((x) => x.split === split && x.prompts === m);
        return r ? primaryValue('zeroshot', r) : null;
      };
      const [c, s, e] = PROMPT_MODES.map(by);
      mine.push({
        model, dataset, subset: ds.label, split, metric: own.find((x) => x.split === split)!.primary_metric,
        contextless: c, single: s, ensemble: e, gain_single: sub(s, c), gain_ensemble: sub(e, s),
      });
    }
    rows.push(...mine);
    // average over the "complete" datasets: those with a value in every mode this model was run with,
    // so that the MEAN row's gains equal the differences of its means
    const modes = PROMPT_MODES.filter((p) => mine.some((r) => r[p] != null));
    const complete = mine.filter((r) => modes.every((p) => r[p] != null));
    const m = (k: string) => mean(complete.map((r) => r[k] as number | null));
    rows.push({
      model, dataset: 'MEAN', subset: null, split: null, metric: null,
      contextless: m('contextless'), single: m('single'), ensemble: m('ensemble'), gain_single: m('gain_single'), gain_ensemble: m('gain_ensemble'),
    });
  }
  return {
    columns,
    rows,
    notes: [
      'Values are the primary metric of each dataset (percent); gains are in points: gain_single = single − contextless, gain_ensemble = ensemble − single.',
      'The MEAN row of a model averages over the datasets that have a value for every prompt mode the model was run with (so its gains are the differences of its means).',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 2. zero-shot vs few-shot (Figure 6)

export function shotCounts(fs: FewshotRow[]): number[] {
  return [...new Set(fs.map((r) => r.shots))].sort((a, b) => a - b);
}

export function zeroshotVsFewshot(zs: ZeroshotRow[], fs: FewshotRow[]): Comparison {
  const shots = shotCounts(fs);
  const columns = ['model', 'dataset', 'subset', 'metric', 'zeroshot', 'zeroshot_prompts', ...shots.flatMap((k) => [`fewshot_${k}_mean`, `fewshot_${k}_std`])];
  const rows: Row[] = [];
  for (const model of uniq([...zs, ...fs].map((r) => r.model))) {
    if (!fs.some((r) => r.model === model)) continue;
    const mine: Row[] = [];
    for (const ds of datasetSubsets(fs.filter((r) => r.model === model))) {
      const dataset = ds.dataset;
      const z = pickZeroshot(zs, model, ds);
      const own = fs.filter((r) => r.model === model && r.dataset === dataset && sameSubset(r, ds.subset));
      const row: Row = { model, dataset, subset: ds.label, metric: own[0].primary_metric, zeroshot: z?.value ?? null, zeroshot_prompts: z?.prompts ?? null };
      for (const k of shots) {
        const r = own.find((x) => x.shots === k);
        row[`fewshot_${k}_mean`] = r ? primaryValue('fewshot', r) : null;
        row[`fewshot_${k}_std`] = r ? primaryStd(r) : null;
      }
      mine.push(row);
    }
    rows.push(...mine);
    const meanRow: Row = { model, dataset: 'MEAN', subset: null, metric: null, zeroshot: mean(mine.map((r) => r.zeroshot as number | null)), zeroshot_prompts: null };
    for (const k of shots) {
      meanRow[`fewshot_${k}_mean`] = mean(mine.map((r) => r[`fewshot_${k}_mean`] as number | null));
      meanRow[`fewshot_${k}_std`] = null;
    }
    rows.push(meanRow);
  }
  return {
    columns,
    rows,
    notes: [
      'Zero-shot uses the ensemble prompts when they were run, else the best prompt mode (zeroshot_prompts says which); few-shot values are the mean ± std over seeds of a linear probe trained on k examples per class; all in the primary metric (percent).',
      'The MEAN row of a model averages each column over the datasets where it has a value (std left blank).',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 3. data efficiency (Figure 7)

function classCount(all: AllResults, model: string, dataset: string, paper: PaperTables | null): number | null {
  for (const runs of [all.runs.linear_probe, all.runs.zeroshot, all.runs.fewshot]) {
    for (const r of runs) {
      if (r.model !== model || r.dataset !== dataset) continue;
      for (const key of ['class_names', 'classes', 'class_names_used']) {
        const v = r[key];
        if (Array.isArray(v) && v.length) return v.length;
      }
      for (const key of ['n_classes', 'num_classes']) {
        const v = r[key];
        if (typeof v === 'number' && v > 0) return v;
      }
    }
  }
  return paper?.table9_linear_probe_datasets[dataset]?.classes ?? null;
}

/** Sort key for an equivalent-shots string: "> X" above every number, "<K" below. */
function equivRank(s: string | null): number {
  if (s == null) return -Infinity;
  const v = equivalentShotsValue(s);
  if (v != null) return v;
  if (s.trim().startsWith('>')) return Infinity;
  return -1e9; // "<K"
}

export function dataEfficiency(all: AllResults, paper: PaperTables | null): Comparison {
  const columns = ['model', 'dataset', 'subset', 'metric', 'zeroshot', 'zeroshot_equivalent_shots', 'value', 'source', 'note'];
  const rows: Row[] = [];
  const notes: string[] = [
    'zeroshot_equivalent_shots = labelled examples per class a linear probe on the same features needs to match zero-shot accuracy: taken from the fewshot table, else recomputed by log-linear interpolation between the measured shot counts, with the full linear probe (n_train / classes examples per class) as the last point.',
  ];
  for (const model of uniq(all.fewshot.map((r) => r.model))) {
    const mine: Row[] = [];
    for (const ds of datasetSubsets(all.fewshot.filter((r) => r.model === model))) {
      const dataset = ds.dataset;
      const own = all.fewshot.filter((r) => r.model === model && r.dataset === dataset && sameSubset(r, ds.subset));
      const z = pickZeroshot(all.zeroshot, model, ds);
      const given = own.find((r) => r.zeroshot_equivalent_shots != null)?.zeroshot_equivalent_shots ?? null;
      let equiv: string | null = given;
      let source: string | null = given != null ? 'fewshot table' : null;
      let note: string | null = null;
      let zsValue: number | null = z?.value ?? null;
      if (equiv == null) {
        // compare like with like: the primary metric when the zero-shot table has it, else top-1
        const usePrimary = z != null;
        zsValue = usePrimary ? z.value : (own.find((r) => r.zeroshot_top1 != null)?.zeroshot_top1 ?? null);
        if (zsValue != null) {
          const pts: ShotPoint[] = [];
          for (const r of own) {
            const acc = usePrimary ? primaryValue('fewshot', r) : r.top1_mean;
            if (acc != null) pts.push({ x: r.shots, acc });
          }
          const lp = rowOn(all.linear_probe, model, ds);
          const classes = classCount(all, model, dataset, paper);
          if (lp && classes) {
            const acc = usePrimary ? primaryValue('linear_probe', lp) : lp.top1;
            if (acc != null) pts.push({ x: lp.n_train / classes, acc });
          } else note = lp ? 'class count unknown: full linear probe not used' : 'no linear probe: curve ends at the largest shot count';
          equiv = zeroshotEquivalentShots(pts, zsValue);
          source = equiv != null ? 'recomputed' : null;
        }
      }
      mine.push({ model, dataset, subset: ds.label, metric: own[0]!.primary_metric, zeroshot: zsValue, zeroshot_equivalent_shots: equiv, value: equivalentShotsValue(equiv), source, note });
    }
    mine.sort((a, b) => equivRank(b.zeroshot_equivalent_shots as string | null) - equivRank(a.zeroshot_equivalent_shots as string | null) || cmp(String(a.dataset), String(b.dataset)));
    rows.push(...mine);
    const withEquiv = mine.filter((r) => r.zeroshot_equivalent_shots != null);
    const numeric = withEquiv.map((r) => r.value).filter((v): v is number => v != null);
    const censored = withEquiv.filter((r) => r.value == null).map((r) => String(r.zeroshot_equivalent_shots));
    const counts = new Map<string, number>();
    for (const c of censored) counts.set(c, (counts.get(c) ?? 0) + 1);
    const excluded = [...counts].map(([k, n]) => `"${k}" x${n}`).join(', ');
    const med = median(numeric);
    const avg = mean(numeric);
    const scope = `over ${numeric.length} numeric of ${plural(withEquiv.length, 'dataset')}${excluded ? `; excluded: ${excluded}` : ''}`;
    rows.push({ model, dataset: 'MEDIAN', subset: null, metric: null, zeroshot: null, zeroshot_equivalent_shots: med == null ? null : med.toFixed(1), value: med, source: null, note: scope });
    rows.push({ model, dataset: 'MEAN', subset: null, metric: null, zeroshot: null, zeroshot_equivalent_shots: avg == null ? null : avg.toFixed(1), value: avg, source: null, note: scope });
  }
  notes.push(
    'MEDIAN and MEAN are taken over the datasets with a numeric value only: censored values ("<1": zero-shot beats the 1-shot probe; "> X": no measured point reaches zero-shot) are excluded from both and listed in the note column.',
  );
  return { columns, rows, notes };
}

// ---------------------------------------------------------------------------------------------
// 4. zero-shot vs linear probe (Figure 5)

/**
 * Zero-shot (primary metric) minus a linear probe on the same dataset and images. `baselineModel` given: the probe
 * of that baseline backbone (the paper's Figure 5, an ImageNet ResNet-50); absent: each model's own probe (Figure 8).
 * paper_delta: the same difference in the paper (Table 11 zero-shot of the model − Table 10 probe of the baseline,
 * or of the model itself), where the names match the paper's rows.
 */
export function zeroshotVsLinearProbe(zs: ZeroshotRow[], lp: LinearProbeRow[], baselineModel?: string, paper?: PaperTables): Comparison {
  const columns = ['model', 'dataset', 'subset', 'metric', 'zeroshot', 'zeroshot_prompts', 'baseline_model', 'linear_probe', 'delta', 'paper_delta'];
  const rows: Row[] = [];
  for (const model of uniq(zs.map((r) => r.model))) {
    const mine: Row[] = [];
    const base = baselineModel ?? model;
    for (const ds of datasetSubsets(zs.filter((r) => r.model === model))) {
      const dataset = ds.dataset;
      const z = pickZeroshot(zs, model, ds);
      if (!z) continue;
      const l = rowOn(lp, base, ds);
      const lv = l ? primaryValue('linear_probe', l) : null;
      const pz = paper?.table11_zero_shot.models[model]?.[dataset];
      const pl = paper?.table10_linear_probe.models[base]?.[dataset];
      mine.push({
        model, dataset, subset: ds.label, metric: z.metric, zeroshot: z.value, zeroshot_prompts: z.prompts, baseline_model: base, linear_probe: lv,
        delta: sub(z.value, lv), paper_delta: typeof pz === 'number' && typeof pl === 'number' ? pz - pl : null,
      });
    }
    mine.sort((a, b) => {
      const da = a.delta as number | null;
      const db = b.delta as number | null;
      if (da == null || db == null) return da == null && db == null ? cmp(String(a.dataset), String(b.dataset)) : da == null ? 1 : -1;
      return db - da || cmp(String(a.dataset), String(b.dataset));
    });
    rows.push(...mine);
  }
  return {
    columns,
    rows,
    notes: [
      `delta = zero-shot (primary metric) − the linear probe of ${baselineModel ? `\`${baselineModel}\`` : "the same model's own features"} on the same dataset and images, in points; sorted by delta within each model.`,
      `paper_delta = the paper's Table 11 zero-shot of the model − its Table 10 linear probe of ${baselineModel ? 'the baseline' : 'the same model'}, where both are named like the paper's rows${baselineModel ? ' (the paper\'s Figure 5: ViT-L/14@336px against `ResNet 50`)' : ' (the paper\'s Figure 8)'}.`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 5. model scaling (Figure 9)

/** GFLOPs per image by model: the `--models-table` entries win, else any run's image_gflops. */
export function gflopsByModel(all: AllResults, table: Map<string, number> | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const runs of [all.runs.zeroshot, all.runs.linear_probe, all.runs.fewshot]) {
    for (const r of runs) {
      const g = r.image_gflops;
      if (typeof g === 'number' && Number.isFinite(g) && g > 0 && !out.has(r.model)) out.set(r.model, g);
    }
  }
  if (table) for (const [m, g] of table) out.set(m, g);
  return out;
}

export function modelScaling(all: AllResults, gflops: Map<string, number>): Comparison {
  const columns = ['model', 'gflops', 'zeroshot_mean', 'zeroshot_datasets', 'linear_probe_mean', 'linear_probe_datasets'];
  const zsModels = uniq(all.zeroshot.map((r) => r.model));
  const lpModels = uniq(all.linear_probe.map((r) => r.model));
  const shared = (models: string[], has: (m: string, d: DatasetSubset) => boolean, datasets: DatasetSubset[]) =>
    datasets.filter((d) => models.every((m) => has(m, d)));
  const zsShared = shared(zsModels, (m, d) => pickZeroshot(all.zeroshot, m, d) != null, datasetSubsets(all.zeroshot));
  const lpOf = (m: string, d: DatasetSubset) => {
    const r = rowOn(all.linear_probe, m, d);
    return r ? primaryValue('linear_probe', r) : null;
  };
  const lpShared = shared(lpModels, (m, d) => lpOf(m, d) != null, datasetSubsets(all.linear_probe));
  const names = (ds: DatasetSubset[]) => ds.map((d) => (d.label === 'full split' ? d.dataset : `${d.dataset} (${d.label})`)).join(', ') || 'none';
  const rows: Row[] = uniq([...zsModels, ...lpModels]).map((model) => ({
    model,
    gflops: gflops.get(model) ?? null,
    zeroshot_mean: zsModels.includes(model) ? mean(zsShared.map((d) => pickZeroshot(all.zeroshot, model, d)!.value)) : null,
    zeroshot_datasets: zsModels.includes(model) ? zsShared.length : null,
    linear_probe_mean: lpModels.includes(model) ? mean(lpShared.map((d) => lpOf(model, d))) : null,
    linear_probe_datasets: lpModels.includes(model) ? lpShared.length : null,
  }));
  rows.sort((a, b) => {
    const ga = a.gflops as number | null;
    const gb = b.gflops as number | null;
    if (ga != null && gb != null && ga !== gb) return ga - gb;
    if ((ga == null) !== (gb == null)) return ga == null ? 1 : -1;
    return cmp(String(a.model), String(b.model));
  });
  return {
    columns,
    rows,
    notes: [
      `Means are over the datasets every model shares: zero-shot ${zsShared.length} (${names(zsShared)}), linear probe ${lpShared.length} (${names(lpShared)}); primary metric, percent. GFLOPs are per image for the image encoder.`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 6. against the paper (Table 11)

export function againstPaper(zs: ZeroshotRow[], paper: PaperTables): Comparison {
  const columns = ['model', 'dataset', 'subset', 'split', 'metric', 'paper_metric', 'ours', 'paper', 'diff'];
  const rows: Row[] = [];
  const models = paper.table11_zero_shot.models;
  for (const model of uniq(zs.map((r) => r.model))) {
    const theirs = models[model];
    if (!theirs) continue;
    for (const ds of datasetSubsets(zs.filter((r) => r.model === model))) {
      const dataset = ds.dataset;
      const p = theirs[dataset];
      if (typeof p !== 'number') continue;
      const z = pickZeroshot(zs, model, ds, 'ensemble');
      if (!z) continue;
      rows.push({
        model, dataset, subset: ds.label, split: z.split, metric: z.metric, paper_metric: paper.table9_linear_probe_datasets[dataset]?.metric ?? null,
        ours: z.value, paper: p, diff: z.value - p,
      });
    }
  }
  return {
    columns,
    rows,
    notes: [
      "ours = our zero-shot with the ensemble prompts (primary metric); paper = Table 11 of Radford et al. 2021 for the model of the same name; diff = ours − paper, in points. Rows appear only where the model name matches one of the paper's 9 models (RN50, RN101, RN50x4, RN50x16, RN50x64, ViT-B/32, ViT-B/16, ViT-L/14, ViT-L/14@336px) and the dataset is one of its 27.",
      "metric is what clip-bench computed (accuracy, mean_per_class, mean_top1_top5, roc_auc, map11), paper_metric Table 9's name for the paper's; they are the same metric except where `clip-bench datasets` notes otherwise for the dataset.",
    ],
  };
}
