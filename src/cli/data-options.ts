import { Command, Option } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { UserError } from '../errors.js';
import type { DataOptions } from '../tasks/context.js';
import { positiveInt } from './model-options.js';

/** The flags addDataOptions adds: the evaluation context's data options. */
export type DataFlags = DataOptions;

/** What --dataset-root accepts besides one folder (src/data/dataset-roots.ts). */
export const ROOTS_HELP = 'DIR/{dataset} for a folder per dataset (one without its folder there comes from its default source), NAME=DIR for one dataset, comma-separated';

/** Help of every --dataset flag. */
export const DATASETS_HELP = 'comma-separated datasets (see `clip-bench datasets`), or a suite: @paper27, @kornblith12, @FILE (one per line)';

/** --dataset-root/--classnames/--limit/--seed/--download and the embedding cache flags, shared by the evaluators. */
export function addDataOptions(cmd: Command, opts: { oneDataset?: boolean } = {}): Command {
  // --dataset-root and --classnames name one dataset's files (a suite takes each dataset from its default place)
  if (opts.oneDataset !== false) {
    cmd
      .option('--dataset-root <dir>', `where the dataset files are, or where downloads go (default: per-user cache; fashion-mnist: bundled); ${ROOTS_HELP}`)
      .option('--classnames <file>', 'class names (JSON array or one per line), replacing the dataset\'s')
      .option('--label-column <name>', 'parquet datasets: the ClassLabel column holding the class (default: label, else the only ClassLabel)')
      .option('--image-column <name>', 'parquet datasets: the Image column holding the pictures (default: image, else the only Image)');
  }
  return cmd
    .addOption(new Option('--limit <n>', 'evaluate a deterministic class-stratified subset of N images per split').argParser(positiveInt('--limit')))
    .addOption(new Option('--seed <n>', 'seed of every sampled subset').default(DEFAULTS.seed).argParser(nonNegativeInt('--seed')))
    .option('--no-download', 'never download a missing dataset')
    .option('--cache-dir <dir>', 'embedding cache directory (default $XDG_CACHE_HOME/clip-bench/embeddings)')
    .addOption(new Option('--batch-size <n>', `images per inference batch (default: ${DEFAULTS.batchSize} on the CPU, ${DEFAULTS.deviceBatchSize} on an accelerator)`).argParser(positiveInt('--batch-size')))
    .option('--skip-bad-images', 'skip (and count) unreadable images instead of failing', false)
    .option('--no-progress', 'no progress bar on stderr');
}

export function nonNegativeInt(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag} ${v}: expected a non-negative integer`);
    return n;
  };
}
