import { Option, type Command } from 'commander';
import type { ImageEvidence } from '../eval/metric-descriptors.js';
import { DEFAULTS } from '../defaults.js';
import { expandDatasets } from '../data/suites.js';
import { checkOutputDir } from '../util/fs.js';
import { textEmbeddings } from '../cache/embeddings.js';
import { fewshot, meanStd } from '../eval/fewshot.js';
import { fewshotTable } from '../results/tables/fewshot.js';
import { runZeroshot } from '../eval/run-zeroshot.js';
import { classNamesForPrompts } from '../eval/prompts.js';
import { zeroshotEquivalentShots, type ShotPoint } from '../results/efficiency.js';
import { primaryValue, readResults, sameSubset, subsetOf, type FewshotRow, type RunEntry, type Subset } from '../results/index.js';
import type { ClipModel } from '../model/types.js';
import type { PrimaryMetric } from '../data/types.js';
import type { Features } from '../eval/probe.js';
import { DATASETS_HELP, addDataOptions, cacheDirOf, openSplit, splitPrimaryMetric, splitTemplates, type DataFlags } from './data-options.js';
import { UserError } from '../errors.js';
import { addModelOptions, numberIn, positiveInt, splitList, type ModelFlags } from './model-options.js';
import { evaluateEach, rowVariant, runMetadata } from './results-output.js';
import { variantKey } from '../results/tables/common.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';
import { addProbeOptions, probeSubset, splitFeatures, testSplitSelection, type ProbeFlags } from './probe-options.js';

export interface FewshotFlags extends ModelFlags, DataFlags, ProbeFlags, ShardFlags {
  dataset: string;
  shots: string;
  seeds: number;
  oneShotC: number;
  withZeroshot: boolean;
  out: string;
  json: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('fewshot')
    .description('few-shot linear probes (k labelled images per class) and the zero-shot-equivalent number of shots (Figure 7)')
    .option('--dataset <names>', DATASETS_HELP, DEFAULTS.dataset)
    .option('--shots <list>', 'comma-separated shots per class', DEFAULTS.shots)
    .addOption(new Option('--seeds <n>', 'samples per shot count (mean and std are reported)').default(DEFAULTS.seeds).argParser(positiveInt('--seeds')))
    .addOption(new Option('--one-shot-C <C>', 'C for 1 shot, where there is nothing to cross-validate on').default(DEFAULTS.oneShotC).argParser(numberIn('--one-shot-C', 0)))
    .option('--with-zeroshot', 'compute the zero-shot accuracy (ensemble prompts) from the same cache instead of reading zeroshot.json', false)
    .option('--out <dir>', 'where fewshot.csv and fewshot.json go (zeroshot/linear-probe results are read from here too)', DEFAULTS.outDir)
    .option('--json', 'print the result rows as JSON on stdout instead of a table', false);
  addModelOptions(cmd, { multiple: true });
  addDataOptions(cmd);
  addShardOptions(cmd);
  addProbeOptions(cmd);
  cmd.action(async (f: FewshotFlags) => {
    checkOutputDir('--out', f.out);
    const shard = shardOf(f);
    parseShots(f.shots);
    const tunedOnTest = testSplitSelection(f, { '--train-split': f.trainSplit }, expandDatasets(f.dataset));
    await evaluateEach('fewshot', f, { imageOnly: !f.withZeroshot, splits: [f.trainSplit, f.testSplit], shard }, (model, modelSpec, dataset) => fewshotStep(model, modelSpec, dataset, f, tunedOnTest));
  });
}

/** The zero-shot primary metric of a previous `clip-bench zeroshot` run on the same test images (ensemble prompts preferred), or null. */
function storedZeroshot(out: string, model: string, variant: string, dataset: string, split: string, subset: Subset): number | null {
  const rows = readResults(out, 'zeroshot')?.rows.filter((r) => r.model === model && variantKey(r) === variant && r.dataset === dataset && r.split === split && sameSubset(r, subset)) ?? [];
  const row = rows.find((r) => r.prompts === 'ensemble') ?? rows.find((r) => r.prompts === 'single') ?? rows[0];
  return row ? primaryValue('zeroshot', row) : null;
}

async function computeZeroshot(
  model: ClipModel,
  test: Features,
  classes: string[],
  dataset: string,
  templates: string[],
  primaryMetric: PrimaryMetric,
  f: FewshotFlags,
): Promise<number | null> {
  const classNames = classNamesForPrompts(dataset, classes, false);
  const [r] = await runZeroshot(
    model,
    { embeddings: test.X, labels: test.y, n: test.n, dim: test.dim, skipped: 0, rows: Int32Array.from({ length: test.n }, (_, i) => i), dir: '', hit: true },
    { modes: ['ensemble'], classNames, datasetTemplates: templates, primaryMetric },
    (m, texts) => textEmbeddings(m, texts, cacheDirOf(f)),
  );
  return r!.metrics.primary!.value;
}

/** --shots as the sorted list of distinct counts. */
export function parseShots(value: string): number[] {
  return [...new Set(splitList(value).map((s) => positiveInt('--shots')(s)))].sort((a, b) => a - b);
}

/** The flags as the run config records them (--shots parsed). */
export function fewshotRunFlags(f: FewshotFlags, tunedOnTest: string[]): Omit<FewshotFlags, 'shots'> & { shots: number[]; tunedOnTest: string[] } {
  return { ...f, shots: parseShots(f.shots), tunedOnTest };
}

/**
 * Few-shot probes of one model on one dataset: its rows and the run that made them (`suite` runs it too).
 * `tunedOnTest`: the flags that train on a test split, as testSplitSelection allowed them.
 */
export async function fewshotStep(model: OnnxClipModel, modelSpec: string, dataset: string, f: FewshotFlags, tunedOnTest: string[]): Promise<{ rows: FewshotRow[]; outcomes: ImageEvidence[][]; run: RunEntry }> {
  const shots = parseShots(f.shots);
  if (f.withZeroshot && model.features !== 'embedding') throw new UserError(`--with-zeroshot: zero-shot needs the embedding, not --features ${model.features} (run zeroshot on its own)`);
  // refused before anything is embedded
  await openSplit(dataset, f.trainSplit, f);
  const opened = await openSplit(dataset, f.testSplit, f);
  if (splitPrimaryMetric(opened) === 'map11') throw new UserError(`${opened.spec.name}: few-shot probes (k images per class) are not defined for a multilabel dataset; use zeroshot or linear-probe`);
  const train = await splitFeatures(model, dataset, f.trainSplit, f);
  const test = await splitFeatures(model, dataset, f.testSplit, f);
  const spec = train.split.spec;
  const classes = train.split.source.classes;
  const primaryMetric = splitPrimaryMetric(test.split);
  process.stderr.write(`few-shot: ${modelSpec} on ${spec.name}, ${shots.join('/')} shots x ${f.seeds} seeds\n`);
  const points = await fewshot(train.features, test.features, {
    shots,
    seeds: f.seeds,
    baseSeed: f.seed,
    nClasses: classes.length,
    classNames: classes,
    primaryMetric,
    solver: f.solver,
    transform: f.transform,
    oneShotC: f.oneShotC,
    threads: f.threads,
    device: model.device,
    onSample: (k, rep, C, top1) => process.stderr.write(`  ${k}-shot #${rep + 1}: C=${C === null ? '-' : C.toPrecision(3)} top1 ${top1.toFixed(2)}\n`),
  });
  // every figure compared with the few-shot curve is taken on the same images (same limit, seed, skipped images)
  const subset = probeSubset([train, test], f);
  const zeroshot = f.withZeroshot
    ? await computeZeroshot(model, test.features, classes, spec.name, splitTemplates(test.split), primaryMetric, f)
    : storedZeroshot(f.out, modelSpec, variantKey(rowVariant(model)), spec.name, f.testSplit, subsetOf(test.limit, f.seed, test.skipped));
  // the curve in the primary metric, over the shot counts where every seed has it
  const curve: ShotPoint[] = points
    .filter((p) => p.primary.every((s) => s.value !== null))
    .map((p) => ({ x: p.shots, acc: meanStd(p.primary.map((s) => s.value!)).mean }));
  const probe = readResults(f.out, 'linear_probe')?.rows.find((r) => r.model === modelSpec && variantKey(r) === variantKey(rowVariant(model)) && r.dataset === spec.name && (r.features ?? 'embedding') === model.features && sameSubset(r, subset));
  const probeAcc = probe ? primaryValue('linear_probe', probe) : null;
  if (probe && probeAcc !== null) curve.push({ x: (probe.n_train + probe.n_val) / classes.length, acc: probeAcc });
  const equivalentShots = zeroshot === null ? null : zeroshotEquivalentShots(curve, zeroshot);
  const input = { model: modelSpec, dataset: spec.name, features: model.features, subset, primaryMetric, seeds: f.seeds, points, zeroshot, equivalentShots, imageIds: test.imageIds, variant: rowVariant(model) };
  const rows = fewshotTable.build(input);
  const outcomes = fewshotTable.outcomes(input);
  const run = runMetadata('fewshot', fewshotRunFlags(f, tunedOnTest), model, spec.name, train.split.source.fingerprint, {
    ...subset,
    n_classes: classes.length,
    class_names: classes,
    chosen_C: Object.fromEntries(points.map((p) => [p.shots, p.C])),
    zeroshot_source: zeroshot === null ? null : f.withZeroshot ? 'computed (ensemble)' : 'zeroshot.json',
    linear_probe_point: probe ? { x: (probe.n_train + probe.n_val) / classes.length, acc: probeAcc } : null,
  });
  return { rows, outcomes, run };
}
