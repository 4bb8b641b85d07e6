import type { Command } from 'commander';
import type { ImageEvidence } from '../eval/metric-descriptors.js';
import { DEFAULTS } from '../defaults.js';
import { checkOutputDir } from '../util/fs.js';
import { textEmbeddings } from '../cache/embeddings.js';
import { classNamesForPrompts, loadTemplates, parsePromptModes } from '../eval/prompts.js';
import { runZeroshot } from '../eval/run-zeroshot.js';
import { subsetOf, type RunEntry, type ZeroshotRow } from '../results/index.js';
import { zeroshotTable } from '../results/tables/zeroshot.js';
import { DATASETS_HELP, addDataOptions, cacheDirOf, effectiveLimit, openSplit, splitEmbeddings, splitPrimaryMetric, splitTemplates, type DataFlags } from './data-options.js';
import { addModelOptions, type ModelFlags } from './model-options.js';
import { evaluateEach, rowVariant, runMetadata } from './results-output.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';

export interface ZeroshotFlags extends ModelFlags, DataFlags, ShardFlags {
  dataset: string;
  split: string;
  prompts: string;
  templates?: string;
  out: string;
  json: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('zeroshot')
    .description('zero-shot classification: bare class names vs "a photo of a {}." vs the template ensemble (the paper\'s 3.1.4)')
    .option('--dataset <names>', DATASETS_HELP, DEFAULTS.dataset)
    .option('--split <split>', 'split to evaluate', DEFAULTS.split)
    .option('--prompts <modes>', 'comma-separated prompt modes: contextless, single, ensemble', 'contextless,single,ensemble')
    .option('--templates <name|file>', 'ensemble templates: imagenet80, imagenet7, a dataset name, a JSON array or a one-per-line file')
    .option('--out <dir>', 'where zeroshot.csv and zeroshot.json go', DEFAULTS.outDir)
    .option('--json', 'print the result rows as JSON on stdout instead of a table', false);
  addModelOptions(cmd, { multiple: true });
  addDataOptions(cmd);
  addShardOptions(cmd);
  cmd.action(async (f: ZeroshotFlags) => {
    checkOutputDir('--out', f.out);
    const shard = shardOf(f);
    // flags checked before any work
    parsePromptModes(f.prompts);
    if (f.templates) loadTemplates(f.templates);
    await evaluateEach('zeroshot', f, { imageOnly: false, splits: [f.split], shard }, (model, modelSpec, dataset) => zeroshotStep(model, modelSpec, dataset, f));
  });
}

/** Zero-shot of one model on one dataset: its rows and the run that made them (`suite` runs it too). */
export async function zeroshotStep(model: OnnxClipModel, modelSpec: string, datasetName: string, f: ZeroshotFlags): Promise<{ rows: ZeroshotRow[]; outcomes: ImageEvidence[][]; run: RunEntry }> {
  const modes = parsePromptModes(f.prompts);
  const templatesOverride = f.templates ? loadTemplates(f.templates) : undefined;
  const split = await openSplit(datasetName, f.split, f);
  // --classnames is applied by the dataset (and its count checked there)
  const classNames = classNamesForPrompts(split.spec.name, split.source.classes, split.spec.classOrigin === 'file');
  const primaryMetric = splitPrimaryMetric(split);
  const images = await splitEmbeddings(model, split, f);
  const results = await runZeroshot(
    model,
    images,
    { modes, classNames, datasetTemplates: splitTemplates(split), templatesOverride, primaryMetric },
    (m, texts) => textEmbeddings(m, texts, cacheDirOf(f)),
  );
  const subset = subsetOf(effectiveLimit(split, f.limit), f.seed, images.skipped);
  const input = {
    model: modelSpec,
    dataset: split.spec.name,
    split: f.split,
    subset,
    nImages: images.n,
    primaryMetric,
    results,
    imageIds: Array.from(images.rows, (i) => split.source.imageId(i)),
    variant: rowVariant(model),
  };
  const rows = zeroshotTable.build(input);
  const outcomes = zeroshotTable.outcomes(input);
  const run = runMetadata('zeroshot', f, model, split.spec.name, split.source.fingerprint, {
    split: f.split,
    ...subset,
    templates: Object.fromEntries(results.map((r) => [r.mode, r.templates])),
    class_names: classNames,
  });
  return { rows, outcomes, run };
}
