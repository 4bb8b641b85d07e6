import path from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { DatasetUnavailable } from '../errors.js';
import { getDataset } from '../data/registry.js';
import { expandDatasets } from '../data/suites.js';
import type { DatasetDescriptor } from '../data/types.js';
import { buildReport } from '../report/report.js';
import { checkOutputDir } from '../util/fs.js';
import { readResults, writeResults, type RunEntry, type TableName } from '../results/index.js';
import { parseTasks, suiteUnits, unitLabel, type SuiteTask, type SuiteUnit } from '../suite/units.js';
import { SuiteProgress } from '../suite/progress.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';
import { shardLabel, shardRange } from '../util/shard.js';
import { addDataOptions, forgetOpenedSplits, type DataFlags } from './data-options.js';
import { addModelOptions, numberIn, openModelFromFlags, positiveInt, splitList, type ModelFlags } from './model-options.js';
import { addProbeOptions, testSplitSelection, type ProbeFlags } from './probe-options.js';
import { configHash } from './results-output.js';
import { zeroshotStep, type ZeroshotFlags } from './zeroshot.js';
import { linearProbeRunFlags, linearProbeStep, type LinearProbeFlags } from './linear-probe.js';
import { fewshotRunFlags, fewshotStep, type FewshotFlags } from './fewshot.js';
import type { OnnxClipModel } from '../model/clip-model.js';

interface SuiteFlags extends ModelFlags, DataFlags, ProbeFlags, ShardFlags {
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

const TABLE: Record<SuiteTask, TableName> = { zeroshot: 'zeroshot', 'linear-probe': 'linear_probe', fewshot: 'fewshot' };

/** The flags of one task on one dataset, as its command would get them: the dataset's own train/val/test splits. */
function taskFlags(task: SuiteTask, d: DatasetDescriptor, f: SuiteFlags): ZeroshotFlags | LinearProbeFlags | FewshotFlags {
  const common = { ...f, dataset: d.name, json: false, trainSplit: d.roles.train ?? 'train', testSplit: d.roles.test };
  if (task === 'zeroshot') return { ...common, split: d.roles.test, prompts: 'contextless,single,ensemble' } as ZeroshotFlags;
  if (task === 'linear-probe') return { ...common, valSplit: d.roles.val } as LinearProbeFlags;
  return { ...common, withZeroshot: false } as FewshotFlags;
}

/** Why a task cannot run on a dataset (null: it can). */
function notApplicable(task: SuiteTask, d: DatasetDescriptor): string | null {
  if (task !== 'zeroshot' && !d.roles.train) return `${d.name} has no train split (see clip-bench datasets)`;
  if (task === 'fewshot' && d.primaryMetric === 'map11') return `${d.name} is multilabel: few-shot probes (k images per class) are not defined`;
  return null;
}

/**
 * Whether the results already hold this unit with the same configuration: rows of the model on the dataset, and the
 * run that wrote them recorded the config hash these flags give.
 */
function alreadyDone(out: string, table: TableName, modelSpec: string, model: OnnxClipModel, d: DatasetDescriptor, expected: string): boolean {
  const res = readResults(out, table);
  if (!res) return false;
  const hasRows = res.rows.some((r) => r.model === modelSpec && r.dataset === d.name && (!('split' in r) || r.split === d.roles.test));
  const run = res.runs.find((r: RunEntry) => r.model === model.name && r.dataset === d.name && r.config_hash === expected);
  return hasRows && run !== undefined;
}

const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

export function register(program: Command): void {
  const cmd = program
    .command('suite')
    .description("the paper's Section 3 for each model over a suite of datasets: zero-shot (3 prompt modes), the linear probe, few-shot probes, then the report; resumes where it stopped")
    .option('--dataset <names>', 'datasets: names, @paper27, @kornblith12 or @FILE (one per line)', '@paper27')
    .option('--tasks <list>', 'comma-separated: zeroshot, linear-probe, fewshot', 'zeroshot,linear-probe,fewshot')
    .option('--shots <list>', 'few-shot: comma-separated shots per class', '1,2,4,8,16')
    .addOption(new Option('--seeds <n>', 'few-shot: samples per shot count').default(DEFAULTS.seeds).argParser(positiveInt('--seeds')))
    .addOption(new Option('--one-shot-C <C>', 'few-shot: C for 1 shot').default(DEFAULTS.oneShotC).argParser(numberIn('--one-shot-C', 0)))
    .addOption(new Option('--val-fraction <f>', 'linear probe: fraction of train held out for choosing C when a dataset has no validation split').default(DEFAULTS.valFraction).argParser(numberIn('--val-fraction', 0, 1)))
    .option('--out <dir>', 'results directory (zeroshot/linear_probe/fewshot .csv/.json, report/)', DEFAULTS.outDir)
    .option('--no-report', 'do not write the report at the end')
    .option('--paper-model <model=row,...>', "the report compares a renamed or fine-tuned model with this row of the paper's Tables 10 and 11, e.g. my-clip=ViT-B/32")
    .option('--force', 'recompute steps whose results are already there with the same configuration', false);
  addModelOptions(cmd, { multiple: true });
  addDataOptions(cmd, { oneDataset: false });
  addProbeOptions(cmd, { splits: false });
  addShardOptions(cmd);
  // the suite's own meaning of --shard: a block of its steps (the shared option's text speaks of embeddings)
  cmd.options.find((o) => o.long === '--shard')!.description =
    "run only shard K of N (1-based) of the suite's steps: the K-th contiguous block of its model x dataset groups (each with all its tasks, in order: few-shot reads zero-shot's rows), block sizes differing by at most one; results go to the shared --out; no report (run `clip-bench report --results DIR` when all shards are done); auto: from a Slurm array task or a Kubernetes Indexed Job";
  cmd.action(async (f: SuiteFlags) => {
    checkOutputDir('--out', f.out);
    const tasks = parseTasks(f.tasks);
    const models = splitList(f.model);
    // every name is checked before anything runs
    const datasets = expandDatasets(f.dataset).map((n) => getDataset(n));
    const shard = shardOf(f);
    const allUnits = suiteUnits(models, datasets.map((d) => d.name), tasks);
    // a shard runs a contiguous block of whole model x dataset groups: few-shot reads the zero-shot and linear-probe
    // rows of its model x dataset from --out, so a group's steps run in one process, in order
    const groups = models.flatMap((m) => datasets.map((d) => allUnits.filter((u) => u.model === m && u.dataset === d.name)));
    const block = shard ? shardRange(groups.length, shard) : { start: 0, end: groups.length };
    const units = groups.slice(block.start, block.end).flat();
    if (shard) {
      const steps = units.length ? `steps ${units[0]!.index + 1}-${units[units.length - 1]!.index + 1} of ${allUnits.length}` : `no steps (only ${groups.length} model x dataset groups)`;
      process.stderr.write(`suite: shard ${shardLabel(shard)} (${shard.source}): model x dataset groups ${block.start + 1}-${block.end} of ${groups.length}, ${steps}\n`);
    }
    const progress = new SuiteProgress(units.length, f.progress);
    const skipped: { unit: SuiteUnit; why: string }[] = [];
    const failures: { unit: SuiteUnit; error: string }[] = [];
    const notRun: { unit: SuiteUnit; why: string }[] = [];
    let computed = 0;
    let reused = 0;
    try {
      for (const modelSpec of models) {
        if (!units.some((u) => u.model === modelSpec)) continue;
        // zero-shot always takes the embedding; the probes take --features (a second, image-only model for I_f)
        const model = await openModelFromFlags(modelSpec, f, !tasks.includes('zeroshot'), tasks.includes('zeroshot') ? 'embedding' : f.features);
        const probeModel = model.features === (f.features ?? 'embedding') ? model : await openModelFromFlags(modelSpec, f, true);
        try {
          for (const d of datasets) {
            try {
              for (const unit of units.filter((u) => u.model === modelSpec && u.dataset === d.name)) {
                const label = unitLabel(unit);
                const started = Date.now();
                progress.start(label);
                const why = notApplicable(unit.task, d);
                if (why) {
                  notRun.push({ unit, why });
                  progress.finish(label, `not run: ${why}`, 0, false);
                  continue;
                }
                const table = TABLE[unit.task];
                const flags = taskFlags(unit.task, d, f);
                // the probes learn from the dataset's own train split: never a test split (an error here if a descriptor said otherwise)
                const tunedOnTest = unit.task === 'zeroshot' ? [] : testSplitSelection(flags as ProbeFlags, { '--train-split': (flags as ProbeFlags).trainSplit, '--val-split': (flags as LinearProbeFlags).valSplit }, [d.name]);
                const recorded =
                  unit.task === 'zeroshot' ? flags : unit.task === 'linear-probe' ? linearProbeRunFlags(flags as LinearProbeFlags, tunedOnTest) : fewshotRunFlags(flags as FewshotFlags, tunedOnTest);
                const expected = configHash(table, recorded as never);
                if (!f.force && alreadyDone(f.out, table, modelSpec, unit.task === 'zeroshot' ? model : probeModel, d, expected)) {
                  reused++;
                  progress.finish(label, 'reused (results with the same configuration)', 0, false);
                  continue;
                }
                try {
                  const step =
                    unit.task === 'zeroshot'
                      ? await zeroshotStep(model, modelSpec, d.name, flags as ZeroshotFlags)
                      : unit.task === 'linear-probe'
                        ? await linearProbeStep(probeModel, modelSpec, d.name, flags as LinearProbeFlags, tunedOnTest)
                        : await fewshotStep(probeModel, modelSpec, d.name, flags as FewshotFlags, tunedOnTest);
                  // written at once: a killed suite keeps every finished step
                  writeResults(f.out, table, step.rows as never[], [step.run], step.outcomes);
                  computed++;
                  progress.finish(label, `done (${step.rows.length} row${step.rows.length === 1 ? '' : 's'})`, Date.now() - started, true);
                } catch (e) {
                  if (e instanceof DatasetUnavailable) {
                    skipped.push({ unit, why: oneLine(e) });
                    progress.finish(label, `skipped: ${oneLine(e)}`, 0, false);
                  } else {
                    failures.push({ unit, error: oneLine(e) });
                    progress.finish(label, `FAILED: ${oneLine(e)}`, Date.now() - started, false);
                  }
                }
              }
            } finally {
              // one dataset's splits and embeddings in memory at a time
              forgetOpenedSplits();
            }
          }
        } finally {
          await model.close();
          if (probeModel !== model) await probeModel.close();
        }
      }
    } finally {
      progress.stop();
    }
    const say = (m: string) => process.stderr.write(`${m}\n`);
    say(`suite: ${units.length} steps: ${computed} computed, ${reused} reused, ${skipped.length} skipped (data not available), ${notRun.length} not applicable, ${failures.length} failed`);
    for (const { unit, why } of skipped) say(`  not available: ${unitLabel(unit)}: ${why}`);
    for (const { unit, why } of notRun) say(`  not run: ${unitLabel(unit)}: ${why}`);
    for (const { unit, error } of failures) say(`  failed: ${unitLabel(unit)}: ${error}`);
    if (shard) {
      say(`suite: shard ${shardLabel(shard)} writes no report: run \`clip-bench report --results ${f.out}\` when all shards are done`);
    } else if (f.report) {
      const res = await buildReport({ resultsDir: f.out, outDir: path.join(f.out, 'report'), paperModels: f.paperModel, log: say });
      say(`report written to ${res.outDir} (${res.files.length} files)`);
    }
    if (failures.length) process.exitCode = 1;
  });
}
