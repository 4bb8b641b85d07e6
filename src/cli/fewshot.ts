import { Option, type Command } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { checkOutputDir } from '../util/fs.js';
import { fewshotTask } from '../tasks/fewshot.js';
import { DATASETS_HELP, addDataOptions, type DataFlags } from './data-options.js';
import { addModelOptions, numberIn, positiveInt, type ModelFlags } from './model-options.js';
import { evaluateEach } from './results-output.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';
import { addProbeOptions, parseShots, type ProbeFlags } from './probe-options.js';

interface FewshotFlags extends ModelFlags, DataFlags, ProbeFlags, ShardFlags {
  dataset: string;
  shots: string;
  seeds: number;
  oneShotC: number;
  withZeroshot: boolean;
  out: string;
  json: boolean;
  wide?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command(fewshotTask.name)
    .description('few-shot linear probes (k labelled images per class) and the zero-shot-equivalent number of shots (Figure 7)')
    .option('--dataset <names>', DATASETS_HELP, DEFAULTS.dataset)
    .option('--shots <list>', 'comma-separated shots per class', DEFAULTS.shots)
    .addOption(new Option('--seeds <n>', 'samples per shot count (mean and std are reported)').default(DEFAULTS.seeds).argParser(positiveInt('--seeds')))
    .addOption(new Option('--one-shot-C <C>', 'C for 1 shot, where there is nothing to cross-validate on').default(DEFAULTS.oneShotC).argParser(numberIn('--one-shot-C', 0)))
    .option('--with-zeroshot', 'compute the zero-shot accuracy (ensemble prompts) from the same cache instead of reading zeroshot.json', false)
    .option('--out <dir>', 'where fewshot.csv and fewshot.json go (zeroshot/linear-probe results are read from here too)', DEFAULTS.outDir)
    .option('--json', 'print the result rows as JSON on stdout instead of a table', false)
    .option('--wide', 'print every column of the table (default: the columns a reader needs, to fit 100 columns)', false);
  addModelOptions(cmd, { multiple: true });
  addDataOptions(cmd);
  addShardOptions(cmd);
  addProbeOptions(cmd);
  cmd.action(async (f: FewshotFlags) => {
    checkOutputDir('--out', f.out);
    const shard = shardOf(f);
    await evaluateEach(fewshotTask, f, { ...f, shots: parseShots(f.shots) }, { train: f.trainSplit, test: f.testSplit }, shard);
  });
}
