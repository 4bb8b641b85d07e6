import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { getDataset, testSplitNames } from '../data/registry.js';
import type { FeatureTransform, Features, Solver } from '../eval/probe.js';
import type { ClipModel } from '../model/types.js';
import { addFeaturesOption } from './model-options.js';
import { effectiveLimit, openSplit, splitEmbeddings, type DataFlags } from './data-options.js';
import { subsetOf, type Subset } from '../results/index.js';
import type { OpenSplit } from './data-options.js';

export interface ProbeFlags extends DataFlags {
  solver: Solver;
  transform: FeatureTransform;
  trainSplit: string;
  testSplit: string;
  allowTuningOnTest: boolean;
}

/** Flags shared by linear-probe and fewshot. */
export function addProbeOptions(cmd: Command, opts: { splits?: boolean } = {}): Command {
  cmd
    .addOption(new Option('--solver <solver>', 'lbfgs (the paper\'s L2 logistic regression) or mljs (ml-logistic-regression: one-vs-rest, no penalty, no intercept)').choices(['lbfgs', 'mljs']).default('lbfgs'))
    .addOption(new Option('--transform <transform>', 'feature transform fitted on training rows: none (as the paper), standardize, l2').choices(['none', 'standardize', 'l2']).default('none'));
  addFeaturesOption(cmd);
  // a suite takes each dataset's own train/test splits
  if (opts.splits === false) return cmd;
  return cmd
    .option('--train-split <split>', 'split the classifiers learn from', 'train')
    .option('--test-split <split>', 'split they are scored on', 'test')
    .option('--allow-tuning-on-test', 'let --train-split/--val-split be the test split (refused otherwise; the run config records it)', false);
}

/**
 * The paper's protocol never chooses anything on test: a split that the classifier learns from or chooses C on
 * (`--train-split`, `--val-split`) may be neither the split it is scored on, nor one named `test`, nor a dataset's
 * own test split under any of its names (ImageNet's `test`, alias `val`), unless --allow-tuning-on-test says so. Returns the offending flags (recorded in the run config as `tuned_on_test`),
 * empty when the protocol is kept.
 */
export function testSplitSelection(f: ProbeFlags, chosenOn: Record<string, string | undefined>, datasets: string[]): string[] {
  const heldOut = new Set([f.testSplit, 'test', ...datasets.flatMap((d) => testSplitNames(getDataset(d)))]);
  const offending = Object.entries(chosenOn)
    .filter(([, split]) => split !== undefined && heldOut.has(split))
    .map(([flag, split]) => `${flag} ${split}`);
  if (offending.length === 0) return [];
  if (!f.allowTuningOnTest) {
    throw new UserError(
      `${offending.join(', ')}: training or choosing C on a test split overstates accuracy (held out: ${[...heldOut].join(', ')}); use another split, or pass --allow-tuning-on-test to do it anyway (the run is then marked)`,
    );
  }
  process.stderr.write(`clip-bench: warning: ${offending.join(', ')}: tuning on the test split (--allow-tuning-on-test); the run config records tuned_on_test\n`);
  return offending;
}

export interface SplitFeatures {
  features: Features;
  split: OpenSplit;
  /** unreadable images left out (--skip-bad-images) */
  skipped: number;
  /** the --limit this split was cut to, or null (whole split) */
  limit: number | null;
  /** each feature row's image id (ImageSource.imageId) */
  imageIds: string[];
}

/** A split's cached image embeddings as labelled features, with the split (for class names etc.). */
export async function splitFeatures(model: ClipModel, dataset: string, split: string, f: DataFlags): Promise<SplitFeatures> {
  const s = await openSplit(dataset, split, f);
  const emb = await splitEmbeddings(model, s, f);
  if (emb.n === 0) throw new UserError(`${s.spec.name}/${split}: no images`);
  return {
    features: { X: emb.embeddings, y: emb.labels, n: emb.n, dim: emb.dim, ...(emb.targets ? { targets: emb.targets } : {}) },
    split: s,
    skipped: emb.skipped,
    limit: effectiveLimit(s, f.limit),
    imageIds: Array.from(emb.rows, (i) => s.source.imageId(i)),
  };
}

/** The images a probe row was computed on: cut by --limit when any of its splits was, and every skipped image. */
export function probeSubset(splits: readonly (SplitFeatures | null)[], f: DataFlags): Required<Subset> {
  const used = splits.filter((s): s is SplitFeatures => s !== null);
  const cut = used.some((s) => s.limit !== null) ? f.limit! : null;
  return subsetOf(cut, f.seed, used.reduce((n, s) => n + s.skipped, 0));
}
