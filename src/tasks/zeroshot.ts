/** Zero-shot classification: bare class names vs "a photo of a {}." vs the template ensemble (the paper's 3.1.4). */
import { textEmbeddings } from '../cache/embeddings.js';
import { classNamesForPrompts, loadTemplates, parsePromptModes, type PromptMode } from '../eval/prompts.js';
import { runZeroshot } from '../eval/run-zeroshot.js';
import { zeroshotTable, type ZeroshotFlags } from '../results/tables/zeroshot.js';
import { cacheDirOf, splitPrimaryMetric, splitTemplates } from './context.js';
import { rowVariant, runMetadata } from './run-entry.js';
import type { EvalOptions, TaskDescriptor } from './types.js';

export interface ZeroshotOptions extends EvalOptions {
  /** comma-separated prompt modes */
  prompts: string;
  /** --templates: the ensemble's templates (a name or a file) */
  templates?: string;
}

export interface ZeroshotPrepared extends ZeroshotOptions, ZeroshotFlags {
  modes: PromptMode[];
  templatesOverride?: string[];
}

export const zeroshotTask: TaskDescriptor<'zeroshot', ZeroshotOptions, ZeroshotPrepared> = {
  name: zeroshotTable.command,
  table: zeroshotTable.name,
  splits: (d) => ({ test: d.roles.test }),
  applies: () => true,
  // zero-shot compares the image embedding with the text embeddings
  model: () => ({ features: 'embedding', text: true }),
  prepare: (o) => ({ ...o, modes: parsePromptModes(o.prompts), templatesOverride: o.templates ? loadTemplates(o.templates) : undefined }),
  async run(ctx, p) {
    const splitName = ctx.splits.test;
    const split = await ctx.open(splitName);
    // --classnames is applied by the dataset (and its count checked there)
    const classNames = classNamesForPrompts(split.spec.name, split.source.classes, split.spec.classOrigin === 'file');
    const primaryMetric = splitPrimaryMetric(split);
    const images = await ctx.embeddings(splitName);
    const results = await runZeroshot(
      ctx.model,
      images,
      { modes: p.modes, classNames, datasetTemplates: splitTemplates(split), templatesOverride: p.templatesOverride, primaryMetric },
      (m, texts) => textEmbeddings(m, texts, cacheDirOf(ctx.data), { progress: ctx.data.progress }),
    );
    const subset = ctx.subsetOf(split, images.skipped);
    const input = { model: ctx.modelSpec, dataset: split.spec.name, split: splitName, subset, nImages: images.n, primaryMetric, results, imageIds: Array.from(images.rows, (i) => split.source.imageId(i)), variant: rowVariant(ctx.model) };
    const run = runMetadata('zeroshot', p, ctx.model, split.spec.name, split.source.fingerprint, {
      split: splitName,
      ...subset,
      templates: Object.fromEntries(results.map((r) => [r.mode, r.templates])),
      class_names: classNames,
    });
    return { rows: zeroshotTable.build(input), outcomes: zeroshotTable.outcomes(input), run };
  },
};
