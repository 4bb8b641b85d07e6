import { UserError } from '../errors.js';
import { getDataset, testSplitNames } from '../data/registry.js';
import type { TaskSplits } from './types.js';

/**
 * The paper's protocol never chooses anything on test: a split that a probe learns from or chooses C on (`roles`,
 * named by their flags `--train-split`, `--val-split`) may be neither the split it is scored on, nor one named
 * `test`, nor a dataset's own test split under any of its names (ImageNet's `test`, alias `val`), unless `allow` (--allow-tuning-on-test) says so.
 * Returns the offending flags (recorded in the run config as `tuned_on_test`), empty when the protocol is kept.
 */
export function testSplitSelection(splits: TaskSplits, roles: readonly ('train' | 'val')[], datasets: readonly string[], allow: boolean): string[] {
  const heldOut = new Set([splits.test, 'test', ...datasets.flatMap((d) => testSplitNames(getDataset(d)))]);
  const offending = roles
    .map((role) => [`--${role}-split`, splits[role]] as const)
    .filter(([, split]) => split !== undefined && heldOut.has(split))
    .map(([flag, split]) => `${flag} ${split}`);
  if (offending.length === 0) return [];
  if (!allow) {
    throw new UserError(
      `${offending.join(', ')}: training or choosing C on a test split overstates accuracy (held out: ${[...heldOut].join(', ')}); use another split, or pass --allow-tuning-on-test to do it anyway (the run is then marked)`,
    );
  }
  process.stderr.write(`clip-bench: warning: ${offending.join(', ')}: tuning on the test split (--allow-tuning-on-test); the run config records tuned_on_test\n`);
  return offending;
}
