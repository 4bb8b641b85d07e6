import { Option, type Command } from 'commander';
import type { ImageEvidence } from '../eval/metric-descriptors.js';
import { DEFAULTS } from '../defaults.js';
import { expandDatasets } from '../data/suites.js';
import { checkOutputDir } from '../util/fs.js';
import { linearProbe } from '../eval/linear-probe.js';
import { multilabelLinearProbe } from '../eval/multilabel-probe.js';
import { UserError } from '../errors.js';
import { type LinearProbeRow, type RunEntry } from '../results/index.js';
import { linearProbeTable } from '../results/tables/linear-probe.js';
import { DATASETS_HELP, addDataOptions, openSplit, splitPrimaryMetric, type DataFlags } from './data-options.js';
import { addModelOptions, numberIn, type ModelFlags } from './model-options.js';
import { evaluateEach, rowVariant, runMetadata } from './results-output.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';
import { addProbeOptions, probeSubset, splitFeatures, testSplitSelection, type ProbeFlags } from './probe-options.js';

export interface LinearProbeFlags extends ModelFlags, DataFlags, ProbeFlags, ShardFlags {
  dataset: string;
  valSplit?: string;
  valFraction: number;
  out: string;
  json: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('linear-probe')
    .description("the paper's linear probe (Appendix A.3): L2 logistic regression on frozen image embeddings, C chosen on validation")
    .option('--dataset <names>', DATASETS_HELP, DEFAULTS.dataset)
    .option('--val-split <split>', "the dataset's own validation split (default: hold out part of train)")
    .addOption(new Option('--val-fraction <f>', 'fraction of train held out for choosing C when there is no --val-split').default(DEFAULTS.valFraction).argParser(numberIn('--val-fraction', 0, 1)))
    .option('--out <dir>', 'where linear_probe.csv and linear_probe.json go', DEFAULTS.outDir)
    .option('--json', 'print the result rows as JSON on stdout instead of a table', false);
  addModelOptions(cmd, { multiple: true });
  addDataOptions(cmd);
  addShardOptions(cmd);
  addProbeOptions(cmd);
  cmd.action(async (f: LinearProbeFlags) => {
    checkOutputDir('--out', f.out);
    const tunedOnTest = testSplitSelection(f, { '--train-split': f.trainSplit, '--val-split': f.valSplit }, expandDatasets(f.dataset));
    const shard = shardOf(f);
    await evaluateEach('linear_probe', f, { imageOnly: true, splits: [f.trainSplit, ...(f.valSplit ? [f.valSplit] : []), f.testSplit], shard }, (model, modelSpec, dataset) => linearProbeStep(model, modelSpec, dataset, f, tunedOnTest));
  });
}

/** The flags as the run config records them. */
export function linearProbeRunFlags(f: LinearProbeFlags, tunedOnTest: string[]): LinearProbeFlags & { tunedOnTest: string[] } {
  return { ...f, tunedOnTest };
}

/**
 * The linear probe of one model on one dataset: its rows and the run that made them (`suite` runs it too).
 * `tunedOnTest`: the flags that train or choose C on a test split, as testSplitSelection allowed them.
 */
export async function linearProbeStep(model: OnnxClipModel, modelSpec: string, dataset: string, f: LinearProbeFlags, tunedOnTest: string[]): Promise<{ rows: LinearProbeRow[]; outcomes: ImageEvidence[][]; run: RunEntry }> {
  // the metric (a multilabel split: mAP, one-vs-rest) is known from the opened splits (train first, as they are
  // embedded), before anything is embedded
  await openSplit(dataset, f.trainSplit, f);
  const primaryMetric = splitPrimaryMetric(await openSplit(dataset, f.testSplit, f));
  const multilabel = primaryMetric === 'map11';
  if (multilabel && f.solver !== 'lbfgs') throw new UserError(`--solver ${f.solver}: ${dataset} is multilabel; its one-vs-rest probes use the lbfgs solver`);
  const train = await splitFeatures(model, dataset, f.trainSplit, f);
  const val = f.valSplit ? await splitFeatures(model, dataset, f.valSplit, f) : null;
  const test = await splitFeatures(model, dataset, f.testSplit, f);
  const spec = train.split.spec;
  const nClasses = train.split.source.classes.length;
  const started = performance.now();
  process.stderr.write(`linear probe: ${modelSpec} on ${spec.name} (${train.features.n} train images, ${nClasses} classes${multilabel ? ', one-vs-rest' : ''})\n`);
  const r = await (multilabel ? multilabelLinearProbe : linearProbe)(train.features, val?.features ?? null, test.features, {
    solver: f.solver,
    nClasses,
    primaryMetric,
    transform: f.transform,
    valFraction: f.valFraction,
    seed: f.seed,
    threads: f.threads,
    device: model.device,
    onFit: (C, score) => process.stderr.write(`  C=${C.toPrecision(3)}  validation ${score.toFixed(2)}\n`),
  });
  const seconds = (performance.now() - started) / 1000;
  const subset = probeSubset([train, val, test], f);
  const input = { model: modelSpec, dataset: spec.name, features: model.features, subset, primaryMetric, solver: f.solver, seconds, result: r, imageIds: test.imageIds, variant: rowVariant(model) };
  const rows = linearProbeTable.build(input);
  const outcomes = linearProbeTable.outcomes(input);
  const run = runMetadata('linear_probe', linearProbeRunFlags(f, tunedOnTest), model, spec.name, train.split.source.fingerprint, {
    ...subset,
    n_classes: nClasses,
    class_names: train.split.source.classes,
    // a C whose validation score is undefined (ROC AUC with one class in validation) is recorded as null
    c_search: r.tried.map((t) => ({ C: t.C, score: Number.isFinite(t.score) ? t.score : null })),
  });
  return { rows, outcomes, run };
}
