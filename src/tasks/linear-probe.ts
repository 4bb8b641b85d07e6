/** The paper's linear probe (Appendix A.3): L2 logistic regression on frozen image embeddings, C chosen on validation. */
import { UserError } from '../errors.js';
import { linearProbe } from '../eval/linear-probe.js';
import { multilabelLinearProbe } from '../eval/multilabel-probe.js';
import { C_SEARCH_MAX_FITS, type FeatureTransform, type Solver } from '../eval/probe.js';
import { formatSeconds } from '../util/progress.js';
import { formatC } from '../util/text-table.js';
import type { ImageFeatures } from '../model/towers.js';
import { linearProbeTable, type LinearProbeFlags } from '../results/tables/linear-probe.js';
import { splitPrimaryMetric } from './context.js';
import { testSplitSelection } from './probe-protocol.js';
import { rowVariant, runMetadata } from './run-entry.js';
import type { EvalOptions, TaskDescriptor } from './types.js';

export interface LinearProbeOptions extends EvalOptions {
  solver: Solver;
  transform: FeatureTransform;
  /** the image features the probe learns from (absent: the embedding) */
  features?: ImageFeatures;
  /** fraction of train held out for choosing C when there is no validation split */
  valFraction: number;
  /** --allow-tuning-on-test */
  allowTuningOnTest?: boolean;
}

export interface LinearProbePrepared extends LinearProbeOptions, LinearProbeFlags {
  tunedOnTest: string[];
}

export const linearProbeTask: TaskDescriptor<'linear_probe', LinearProbeOptions, LinearProbePrepared> = {
  name: linearProbeTable.command,
  table: linearProbeTable.name,
  splits: (d) => ({ train: d.roles.train, val: d.roles.val, test: d.roles.test }),
  applies: (d) => (d.splits.train ? true : `${d.name} has no train split (see clip-bench datasets)`),
  model: (o) => ({ features: o.features ?? 'embedding', text: false }),
  // the probe learns from train and chooses C on val: never on a test split
  prepare: (o, splits, datasets) => ({ ...o, valSplit: splits.val, tunedOnTest: testSplitSelection(splits, ['train', 'val'], datasets, o.allowTuningOnTest ?? false) }),
  async run(ctx, p) {
    const { train: trainSplit, val: valSplit, test: testSplit } = ctx.splits;
    // the metric (a multilabel split: mAP, one-vs-rest) is known from the opened splits (train first, as they are
    // embedded), before anything is embedded
    await ctx.open(trainSplit!);
    const primaryMetric = splitPrimaryMetric(await ctx.open(testSplit));
    const multilabel = primaryMetric === 'map11';
    if (multilabel && p.solver !== 'lbfgs') throw new UserError(`--solver ${p.solver}: ${ctx.dataset} is multilabel; its one-vs-rest probes use the lbfgs solver`);
    const train = await ctx.features(trainSplit!);
    const val = valSplit ? await ctx.features(valSplit) : null;
    const test = await ctx.features(testSplit);
    const spec = train.split.spec;
    const nClasses = train.split.source.classes.length;
    const started = performance.now();
    let fits = 0;
    let refitStarted = 0;
    process.stderr.write(`linear probe: ${ctx.modelSpec} on ${spec.name} (${train.features.n} train images, ${nClasses} classes${multilabel ? ', one-vs-rest' : ''})\n`);
    const r = await (multilabel ? multilabelLinearProbe : linearProbe)(train.features, val?.features ?? null, test.features, {
      solver: p.solver,
      nClasses,
      primaryMetric,
      transform: p.transform,
      valFraction: p.valFraction,
      seed: p.seed,
      threads: p.threads,
      device: ctx.model.device,
      onFit: (C, score) => {
        // a counter and an ETA: a search on a big split runs for minutes
        fits++;
        const eta = ((performance.now() - started) / 1000 / fits) * (C_SEARCH_MAX_FITS - fits);
        process.stderr.write(`  C search ${fits}/${C_SEARCH_MAX_FITS} (at most): C=${formatC(C)}  validation ${score.toFixed(2)}${fits < C_SEARCH_MAX_FITS ? `  ETA ${formatSeconds(eta)}` : ''}\n`);
      },
      onRefit: (C, n) => {
        refitStarted = performance.now();
        process.stderr.write(`  final fit on ${n} train + validation images${C === null ? '' : ` at C=${formatC(C)}`}, then the test split\n`);
      },
    });
    if (refitStarted) process.stderr.write(`  final fit and test in ${((performance.now() - refitStarted) / 1000).toFixed(1)} s\n`);
    const seconds = (performance.now() - started) / 1000;
    const subset = ctx.probeSubset([train, val, test]);
    const input = { model: ctx.modelSpec, dataset: spec.name, features: ctx.model.features, subset, primaryMetric, solver: p.solver, seconds, result: r, imageIds: test.imageIds, variant: rowVariant(ctx.model) };
    const run = runMetadata('linear_probe', p, ctx.model, spec.name, train.split.source.fingerprint, {
      ...subset,
      n_classes: nClasses,
      class_names: train.split.source.classes,
      // a C whose validation score is undefined (ROC AUC with one class in validation) is recorded as null
      c_search: r.tried.map((t) => ({ C: t.C, score: Number.isFinite(t.score) ? t.score : null })),
    });
    return { rows: linearProbeTable.build(input), outcomes: linearProbeTable.outcomes(input), run };
  },
};
