import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import type { FeatureTransform, Features, Solver } from '../eval/probe.js';
import type { ClipModel } from '../model/types.js';
import { openSplit, splitEmbeddings, type DataFlags } from './data-options.js';
import type { OpenSplit } from './data-options.js';

export interface ProbeFlags extends DataFlags {
  solver: Solver;
  features: FeatureTransform;
  trainSplit: string;
  testSplit: string;
}

/** Flags shared by linear-probe and fewshot. */
export function addProbeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--solver <solver>', 'lbfgs (the paper\'s L2 logistic regression) or mljs (ml-logistic-regression: one-vs-rest, no penalty, no intercept)').choices(['lbfgs', 'mljs']).default('lbfgs'))
    .addOption(new Option('--features <transform>', 'feature transform fitted on training rows: none (as the paper), standardize, l2').choices(['none', 'standardize', 'l2']).default('none'))
    .option('--train-split <split>', 'split the classifiers learn from', 'train')
    .option('--test-split <split>', 'split they are scored on', 'test');
}

/** A split's cached image embeddings as labelled features, with the split (for class names etc.). */
export async function splitFeatures(model: ClipModel, dataset: string, split: string, f: DataFlags): Promise<{ features: Features; split: OpenSplit; skipped: number }> {
  const s = await openSplit(dataset, split, f);
  const emb = await splitEmbeddings(model, s, f);
  if (emb.n === 0) throw new UserError(`${s.spec.name}/${split}: no images`);
  return { features: { X: emb.embeddings, y: emb.labels, n: emb.n, dim: emb.dim }, split: s, skipped: emb.skipped };
}
