import { Command, Option } from 'commander';
import type { FeatureTransform, Solver } from '../eval/probe.js';
import type { DataFlags } from './data-options.js';
import { addFeaturesOption, positiveInt, splitList } from './model-options.js';

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

/** --shots as the sorted list of distinct counts. */
export function parseShots(value: string): number[] {
  return [...new Set(splitList(value).map((s) => positiveInt('--shots')(s)))].sort((a, b) => a - b);
}
