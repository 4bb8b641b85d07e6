/** Few-shot linear probes (k labelled images per class) and the zero-shot-equivalent number of shots (Figure 7). */
import { textEmbeddings } from '../cache/embeddings.js';
import { fewshot, meanStd } from '../eval/fewshot.js';
import { UserError } from '../errors.js';
import { formatC } from '../util/text-table.js';
import type { FeatureTransform, Solver } from '../eval/probe.js';
import type { ImageFeatures } from '../model/towers.js';
import { classNamesForPrompts } from '../eval/prompts.js';
import { runZeroshot } from '../eval/run-zeroshot.js';
import { zeroshotEquivalentShots, type ShotPoint } from '../results/efficiency.js';
import { primaryValue, sameSubset, type LinearProbeRow, type Subset, type ZeroshotRow } from '../results/index.js';
import { fewshotTable, type FewshotFlags } from '../results/tables/fewshot.js';
import { cacheDirOf, splitPrimaryMetric, splitTemplates, type EvalContext, type OpenSplit } from './context.js';
import { testSplitSelection } from './probe-protocol.js';
import { rowVariant, runMetadata } from './run-entry.js';
import { variantKey } from '../results/tables/common.js';
import type { EvalOptions, TaskDescriptor } from './types.js';

export interface FewshotOptions extends EvalOptions {
  /** shots per class, ascending and distinct */
  shots: number[];
  /** samples per shot count */
  seeds: number;
  /** C for 1 shot, where there is nothing to cross-validate on */
  oneShotC: number;
  /** compute the zero-shot figure (ensemble prompts) from the test embeddings instead of taking zero-shot's rows */
  withZeroshot: boolean;
  solver: Solver;
  transform: FeatureTransform;
  /** the image features the probes learn from (absent: the embedding) */
  features?: ImageFeatures;
  /** --allow-tuning-on-test */
  allowTuningOnTest?: boolean;
}

export interface FewshotPrepared extends FewshotOptions, FewshotFlags {
  tunedOnTest: string[];
}

/** The zero-shot primary metric of zero-shot's rows on the same test images (ensemble prompts preferred), or null. */
function priorZeroshot(rows: readonly ZeroshotRow[], model: string, variant: string, dataset: string, split: string, subset: Subset): number | null {
  const mine = rows.filter((r) => r.model === model && variantKey(r) === variant && r.dataset === dataset && r.split === split && sameSubset(r, subset));
  const row = mine.find((r) => r.prompts === 'ensemble') ?? mine.find((r) => r.prompts === 'single') ?? mine[0];
  return row ? primaryValue('zeroshot', row) : null;
}

/** The zero-shot primary metric with the ensemble prompts, computed from the test split's embeddings. */
async function computeZeroshot(ctx: EvalContext, test: OpenSplit, classes: string[]): Promise<number | null> {
  const classNames = classNamesForPrompts(test.spec.name, classes, false);
  const [r] = await runZeroshot(
    ctx.model,
    await ctx.embeddings(test.split),
    { modes: ['ensemble'], classNames, datasetTemplates: splitTemplates(test), primaryMetric: splitPrimaryMetric(test) },
    (m, texts) => textEmbeddings(m, texts, cacheDirOf(ctx.data), { progress: ctx.data.progress }),
  );
  return r!.metrics.primary!.value;
}

export const fewshotTask: TaskDescriptor<'fewshot', FewshotOptions, FewshotPrepared> = {
  name: fewshotTable.command,
  table: fewshotTable.name,
  splits: (d) => ({ train: d.roles.train, test: d.roles.test }),
  applies(d) {
    if (!d.splits.train) return `${d.name} has no train split (see clip-bench datasets)`;
    if (d.multilabel) return `${d.name}: few-shot probes (k images per class) are not defined for a multilabel dataset; use zeroshot or linear-probe`;
    return true;
  },
  model: (o) => ({ features: o.features ?? 'embedding', text: o.withZeroshot }),
  // the probes learn from train: never from a test split
  prepare(o, splits, datasets) {
    if (o.withZeroshot && (o.features ?? 'embedding') !== 'embedding') throw new UserError(`--with-zeroshot: zero-shot needs the embedding, not --features ${o.features} (run zeroshot on its own)`);
    return { ...o, tunedOnTest: testSplitSelection(splits, ['train'], datasets, o.allowTuningOnTest ?? false) };
  },
  async run(ctx, p) {
    const train = await ctx.features(ctx.splits.train!);
    const test = await ctx.features(ctx.splits.test);
    const spec = train.split.spec;
    const classes = train.split.source.classes;
    const primaryMetric = splitPrimaryMetric(test.split);
    process.stderr.write(`few-shot: ${ctx.modelSpec} on ${spec.name}, ${p.shots.join('/')} shots x ${p.seeds} seeds\n`);
    const points = await fewshot(train.features, test.features, {
      shots: p.shots,
      seeds: p.seeds,
      baseSeed: p.seed,
      nClasses: classes.length,
      classNames: classes,
      primaryMetric,
      solver: p.solver,
      transform: p.transform,
      oneShotC: p.oneShotC,
      threads: p.threads,
      device: ctx.model.device,
      onSample: (k, rep, C, top1) => process.stderr.write(`  ${k}-shot #${rep + 1}: C=${C === null ? '-' : formatC(C)} top1 ${top1.toFixed(2)}\n`),
    });
    // every figure compared with the few-shot curve is taken on the same images (same limit, seed, skipped images)
    const subset = ctx.probeSubset([train, test]);
    // earlier rows count only when they are of the same model variant
    const variant = rowVariant(ctx.model);
    const zeroshot = p.withZeroshot
      ? await computeZeroshot(ctx, test.split, classes)
      : priorZeroshot(ctx.prior.rows('zeroshot'), ctx.modelSpec, variantKey(variant), spec.name, ctx.splits.test, ctx.subsetOf(test.split, test.skipped));
    // the curve in the primary metric, over the shot counts where every seed has it
    const curve: ShotPoint[] = points
      .filter((pt) => pt.primary.every((s) => s.value !== null))
      .map((pt) => ({ x: pt.shots, acc: meanStd(pt.primary.map((s) => s.value!)).mean }));
    const probe: LinearProbeRow | undefined = ctx.prior.rows('linear_probe').find((r) => r.model === ctx.modelSpec && variantKey(r) === variantKey(variant) && r.dataset === spec.name && (r.features ?? 'embedding') === ctx.model.features && sameSubset(r, subset));
    const probeAcc = probe ? primaryValue('linear_probe', probe) : null;
    if (probe && probeAcc !== null) curve.push({ x: (probe.n_train + probe.n_val) / classes.length, acc: probeAcc });
    const equivalentShots = zeroshot === null ? null : zeroshotEquivalentShots(curve, zeroshot);
    const input = { model: ctx.modelSpec, dataset: spec.name, features: ctx.model.features, subset, primaryMetric, seeds: p.seeds, points, zeroshot, equivalentShots, imageIds: test.imageIds, variant };
    const run = runMetadata('fewshot', p, ctx.model, spec.name, train.split.source.fingerprint, {
      ...subset,
      n_classes: classes.length,
      class_names: classes,
      chosen_C: Object.fromEntries(points.map((pt) => [pt.shots, pt.C])),
      zeroshot_source: zeroshot === null ? null : p.withZeroshot ? 'computed (ensemble)' : 'zeroshot.json',
      linear_probe_point: probe ? { x: (probe.n_train + probe.n_val) / classes.length, acc: probeAcc } : null,
    });
    return { rows: fewshotTable.build(input), outcomes: fewshotTable.outcomes(input), run };
  },
};
