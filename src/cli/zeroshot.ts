import type { Command } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { checkOutputDir } from '../util/fs.js';
import { zeroshotTask } from '../tasks/zeroshot.js';
import { DATASETS_HELP, addDataOptions, type DataFlags } from './data-options.js';
import { addModelOptions, type ModelFlags } from './model-options.js';
import { evaluateEach } from './results-output.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';

interface ZeroshotFlags extends ModelFlags, DataFlags, ShardFlags {
  dataset: string;
  split: string;
  prompts: string;
  templates?: string;
  out: string;
  json: boolean;
  wide?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command(zeroshotTask.name)
    .description('zero-shot classification: bare class names vs "a photo of a {}." vs the template ensemble (the paper\'s 3.1.4)')
    .option('--dataset <names>', DATASETS_HELP, DEFAULTS.dataset)
    .option('--split <split>', 'split to evaluate', DEFAULTS.split)
    .option('--prompts <modes>', 'comma-separated prompt modes: contextless, single, ensemble', DEFAULTS.prompts)
    .option('--templates <name|file>', 'ensemble templates: imagenet80, imagenet7, a dataset name, a JSON array or a one-per-line file')
    .option('--out <dir>', 'where zeroshot.csv and zeroshot.json go', DEFAULTS.outDir)
    .option('--json', 'print the result rows as JSON on stdout instead of a table', false)
    .option('--wide', 'print every column of the table (default: the columns a reader needs, to fit 100 columns)', false);
  addModelOptions(cmd, { multiple: true });
  addDataOptions(cmd);
  addShardOptions(cmd);
  cmd.action(async (f: ZeroshotFlags) => {
    checkOutputDir('--out', f.out);
    await evaluateEach(zeroshotTask, f, f, { test: f.split }, shardOf(f));
  });
}
