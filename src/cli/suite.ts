import path from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { UserError } from '../errors.js';
import { getDataset } from '../data/registry.js';
import { expandDatasets } from '../data/suites.js';
import { buildReport } from '../report/report.js';
import { checkOutputDir } from '../util/fs.js';
import { shardLabel } from '../util/shard.js';
import { runSuite } from '../suite/run.js';
import { parseTasks, unitLabel, type SuiteUnit } from '../suite/units.js';
import { TASKS } from '../tasks/index.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';
import { addDataOptions, ROOTS_HELP, type DataFlags } from './data-options.js';
import { isSingleRoot, parseDatasetRoots } from '../data/dataset-roots.js';
import { addModelOptions, numberIn, openModelFromFlags, positiveInt, splitUniqueList, type ModelFlags } from './model-options.js';
import { addProbeOptions, parseShots, type ProbeFlags } from './probe-options.js';

interface SuiteFlags extends ModelFlags, DataFlags, Omit<ProbeFlags, 'trainSplit' | 'testSplit' | 'allowTuningOnTest'>, ShardFlags {
  dataset: string;
  tasks: string;
  shots: string;
  seeds: number;
  oneShotC: number;
  valFraction: number;
  out: string;
  report: boolean;
  paperModel?: string;
  force: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('suite')
    .description("the paper's Section 3 for each model over a suite of datasets: zero-shot (3 prompt modes), the linear probe, few-shot probes, then the report; resumes where it stopped")
    .option('--dataset <names>', 'datasets: names, @paper27, @kornblith12 or @FILE (one per line)', '@paper27')
    .option('--tasks <list>', `comma-separated: ${TASKS.map((t) => t.name).join(', ')}`, TASKS.map((t) => t.name).join(','))
    .option('--shots <list>', 'few-shot: comma-separated shots per class', DEFAULTS.shots)
    .addOption(new Option('--seeds <n>', 'few-shot: samples per shot count').default(DEFAULTS.seeds).argParser(positiveInt('--seeds')))
    .addOption(new Option('--one-shot-C <C>', 'few-shot: C for 1 shot').default(DEFAULTS.oneShotC).argParser(numberIn('--one-shot-C', 0)))
    .addOption(new Option('--val-fraction <f>', 'linear probe: fraction of train held out for choosing C when a dataset has no validation split').default(DEFAULTS.valFraction).argParser(numberIn('--val-fraction', 0, 1)))
    .option('--out <dir>', 'results directory (zeroshot/linear_probe/fewshot .csv/.json, report/)', DEFAULTS.outDir)
    .option('--no-report', 'do not write the report at the end')
    .option('--paper-model <model=row,...>', "the report compares a renamed or fine-tuned model with this row of the paper's Tables 10 and 11, e.g. my-clip=ViT-B/32")
    .option('--force', 'recompute steps whose results are already there with the same configuration', false);
  addModelOptions(cmd, { multiple: true });
  addDataOptions(cmd, { oneDataset: false });
  cmd.option('--dataset-root <roots>', `where the datasets you provide are: ${ROOTS_HELP}, e.g. /data/{dataset} or imagenet=/data/inet,kinetics700=/data/k7 (default: each dataset's own place)`);
  addProbeOptions(cmd, { splits: false });
  addShardOptions(cmd);
  // the suite's own meaning of --shard: a block of its steps (the shared option's text speaks of embeddings)
  cmd.options.find((o) => o.long === '--shard')!.description =
    "run only shard K of N (1-based) of the suite's steps: the K-th contiguous block of its model x dataset groups (each with all its tasks, in order: few-shot takes zero-shot's and the probe's rows), block sizes differing by at most one; results go to the shared --out; no report (run `clip-bench report --results DIR` when all shards are done); auto: from a Slurm array task or a Kubernetes Indexed Job";
  cmd.action(async (f: SuiteFlags) => {
    checkOutputDir('--out', f.out);
    const tasks = parseTasks(f.tasks);
    const models = splitUniqueList('--model', f.model);
    // every name is checked before anything runs
    const datasets = expandDatasets(f.dataset).map((n) => getDataset(n));
    // --dataset-root is checked before anything runs too: one plain folder cannot hold several datasets
    if (f.datasetRoot !== undefined && isSingleRoot(parseDatasetRoots(f.datasetRoot)) && datasets.length > 1) {
      throw new UserError(`--dataset-root ${f.datasetRoot}: one folder for ${datasets.length} datasets: use ${f.datasetRoot.replace(/\/+$/, '')}/{dataset} (a folder per dataset) or NAME=DIR,...`);
    }
    const shard = shardOf(f);
    // each task on each dataset as its command would run it with its defaults (the prompts, few-shot's zero-shot
    // figure taken from zero-shot's rows), on the dataset's own splits
    const options = { ...f, shots: parseShots(f.shots), prompts: DEFAULTS.prompts, withZeroshot: false };
    const r = await runSuite({ models, datasets, tasks, shard, options, openModel: (spec, need) => openModelFromFlags(spec, f, !need.text, need.features) });
    const say = (m: string) => process.stderr.write(`${m}\n`);
    say(`suite: ${r.units.length} steps: ${r.computed} computed, ${r.reused} reused, ${r.skipped.length} skipped (data not available), ${r.notRun.length} not applicable, ${r.failures.length} failed`);
    // a dataset's data problem once, with the steps it stopped; other failures step by step
    const byDataset = (list: { unit: SuiteUnit }[]): Map<string, SuiteUnit[]> => {
      const m = new Map<string, SuiteUnit[]>();
      for (const { unit } of list) m.set(unit.dataset, [...(m.get(unit.dataset) ?? []), unit]);
      return m;
    };
    const steps = (us: SuiteUnit[]): string => `${us.length} step${us.length === 1 ? '' : 's'}`;
    const unavailable = byDataset(r.skipped);
    for (const [name, us] of unavailable) say(`  not available: ${name} (${steps(us)}): ${r.skipped.find((x) => x.unit.dataset === name)!.why}`);
    for (const { unit, why } of r.notRun) say(`  not run: ${unitLabel(unit)}: ${why}`);
    const dataFailures = r.failures.filter((x) => r.dataProblems.get(x.unit.dataset)?.unavailable === false);
    for (const [name, us] of byDataset(dataFailures)) say(`  failed: ${name} (${steps(us)}): ${r.dataProblems.get(name)!.why}`);
    for (const { unit, error } of r.failures.filter((x) => !dataFailures.includes(x))) say(`  failed: ${unitLabel(unit)}: ${error}`);
    if (r.computed + r.reused === 0 && r.units.length > 0) {
      // nothing was evaluated: no report to write, and not a success
      const n = unavailable.size;
      say(`suite: nothing evaluated (${n ? `${n} dataset${n === 1 ? '' : 's'} not available` : 'no step ran'}${r.failures.length ? `, ${r.failures.length} failed` : ''}): see above; \`clip-bench datasets\` says where each dataset's data comes from`);
      process.exitCode = 1;
      return;
    }
    if (shard) {
      say(`suite: shard ${shardLabel(shard)} writes no report: run \`clip-bench report --results ${f.out}\` when all shards are done`);
    } else if (f.report) {
      const res = await buildReport({ resultsDir: f.out, outDir: path.join(f.out, 'report'), paperModels: f.paperModel, log: say });
      say(`report written to ${res.outDir} (${res.files.length} files)`);
    }
    if (r.failures.length) process.exitCode = 1;
  });
}
