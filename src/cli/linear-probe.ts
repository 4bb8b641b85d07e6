import { Option, type Command } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { checkOutputDir } from '../util/fs.js';
import { linearProbeTask } from '../tasks/linear-probe.js';
import { DATASETS_HELP, addDataOptions, type DataFlags } from './data-options.js';
import { addModelOptions, numberIn, type ModelFlags } from './model-options.js';
import { evaluateEach } from './results-output.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';
import { addProbeOptions, type ProbeFlags } from './probe-options.js';

interface LinearProbeFlags extends ModelFlags, DataFlags, ProbeFlags, ShardFlags {
  dataset: string;
  valSplit?: string;
  valFraction: number;
  out: string;
  json: boolean;
  wide?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command(linearProbeTask.name)
    .description("the paper's linear probe (Appendix A.3): L2 logistic regression on frozen image embeddings, C chosen on validation")
    .option('--dataset <names>', DATASETS_HELP, DEFAULTS.dataset)
    .option('--val-split <split>', "the dataset's own validation split (default: hold out part of train)")
    .addOption(new Option('--val-fraction <f>', 'fraction of train held out for choosing C when there is no --val-split').default(DEFAULTS.valFraction).argParser(numberIn('--val-fraction', 0, 1)))
    .option('--out <dir>', 'where linear_probe.csv and linear_probe.json go', DEFAULTS.outDir)
    .option('--json', 'print the result rows as JSON on stdout instead of a table', false)
    .option('--wide', 'print every column of the table (default: the columns a reader needs, to fit 100 columns)', false);
  addModelOptions(cmd, { multiple: true });
  addDataOptions(cmd);
  addShardOptions(cmd);
  addProbeOptions(cmd);
  cmd.action(async (f: LinearProbeFlags) => {
    checkOutputDir('--out', f.out);
    await evaluateEach(linearProbeTask, f, f, { train: f.trainSplit, val: f.valSplit, test: f.testSplit }, shardOf(f));
  });
}
