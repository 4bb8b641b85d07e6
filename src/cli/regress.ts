import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { checkOutputFile } from '../util/fs.js';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { formatTable, wrapLines } from '../util/text-table.js';
import { atomicWriteFileSync } from '../util/fs.js';
import { BOOTSTRAP_RESAMPLES } from '../eval/stats.js';
import { applySignificance } from '../report/significance.js';
import {
  REGRESS_METRICS,
  compareWithBaseline,
  displayColumns,
  displayRows,
  evaluationCommands,
  failed,
  junitXml,
  loadBaseline,
  regressJson,
  runCli,
  summary,
  mismatchNotes,
  updateBaseline,
  type RegressMetric,
} from '../report/regress.js';

interface Flags {
  baseline: string;
  results: string;
  tolerance: string;
  metric: string;
  run?: boolean;
  update?: boolean;
  junit?: string;
  /** true: the JSON on stdout instead of the table; a path: the table, and the JSON written there */
  json?: string | true;
  significance?: string;
  runArgs?: string;
  keep?: boolean;
}

export function register(program: Command): void {
  program
    .command('regress')
    .description('compare current results with a baseline row by row; exit 1 when a row drops by more than the tolerance or is missing')
    .requiredOption('--baseline <path>', 'baseline results: a zeroshot/linear_probe/fewshot .json or .csv, or a directory holding several')
    .option('--results <dir>', 'current results directory', 'results')
    .option('--tolerance <points>', 'allowed drop in percentage points', '0.5')
    .option('--metric <metric>', `metric to compare: ${REGRESS_METRICS.join('|')} (primary = the dataset's Table 9 metric)`, 'primary')
    .option('--run', 'first run the evaluations the baseline lists (into a temporary directory) and compare those')
    .option('--run-args <args>', 'extra arguments appended to every evaluation --run starts (space-separated)')
    .option('--keep', 'with --run: keep the temporary results directory')
    .option('--update', 'rewrite the baseline from the current results (exit 0)')
    .option('--significance <alpha>', 'a row regresses only when its drop is also significant: paired test on the kept per-image predictions, Holm-corrected across the rows (e.g. 0.05)')
    .option('--junit <file>', 'also write JUnit XML: one testcase per row')
    .option('--json [file]', 'the rows, their verdicts and numbers as JSON: on stdout instead of the table, or written to FILE beside it')
    .action(async (f: Flags) => {
      const tolerance = Number(f.tolerance);
      if (f.tolerance.trim() === '' || !Number.isFinite(tolerance) || tolerance < 0) {
        throw new UserError(`--tolerance ${f.tolerance}: expected a non-negative number of points`);
      }
      if (!(REGRESS_METRICS as readonly string[]).includes(f.metric)) {
        throw new UserError(`--metric ${f.metric}: expected one of ${REGRESS_METRICS.join(', ')}`);
      }
      const metric = f.metric as RegressMetric;
      if (f.junit) checkOutputFile('--junit', f.junit);
      if (typeof f.json === 'string') checkOutputFile('--json', f.json);
      if (!f.run && !statSync(f.results, { throwIfNoEntry: false })?.isDirectory()) {
        // as `report` does: a missing folder is a typo, not a regression of every row
        throw new UserError(`--results ${f.results}: no such directory (run the evaluations first, or pass --run)`);
      }
      const alpha = f.significance === undefined ? undefined : Number(f.significance);
      if (alpha !== undefined && (f.significance!.trim() === '' || !(alpha > 0 && alpha < 1))) {
        throw new UserError(`--significance ${f.significance}: expected a level between 0 and 1 (e.g. 0.05)`);
      }
      const log = (m: string) => process.stderr.write(`${m}\n`);

      if (f.update && !f.run && !existsSync(f.baseline)) {
        // first baseline: nothing to compare with yet
        const written = updateBaseline(f.baseline, f.results);
        log(`regress: created baseline ${written.join(', ')}`);
        return;
      }
      const baseline = loadBaseline(f.baseline);
      let resultsDir = f.results;
      let tmp: string | null = null;
      try {
        if (f.run) {
          tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-regress-'));
          resultsDir = tmp;
          const extra = f.runArgs ? f.runArgs.split(/\s+/).filter(Boolean) : [];
          for (const cmd of evaluationCommands(baseline, tmp, extra)) await runCli(cmd.args, log);
          log(`regress: fresh results in ${tmp}`);
        }
        let rows = compareWithBaseline(baseline, resultsDir, metric, tolerance);
        if (alpha !== undefined) rows = applySignificance(rows, baseline, resultsDir, metric, tolerance, alpha, { resamples: BOOTSTRAP_RESAMPLES, seed: 0 });
        if (f.json === true) process.stdout.write(regressJson(rows, tolerance, metric, alpha));
        else {
          process.stdout.write(formatTable(displayColumns(rows), displayRows(rows)));
          process.stdout.write(`${summary(rows, tolerance, metric, alpha)}\n`);
          for (const note of mismatchNotes(rows)) process.stdout.write(`${wrapLines(note, 100).join('\n  ')}\n`);
        }
        if (f.junit) {
          atomicWriteFileSync(f.junit, junitXml(rows, tolerance, metric, alpha));
          log(`regress: wrote ${f.junit}`);
        }
        if (typeof f.json === 'string') {
          atomicWriteFileSync(f.json, regressJson(rows, tolerance, metric, alpha));
          log(`regress: wrote ${f.json}`);
        }
        if (f.update) {
          const tableHint = baseline.kind === 'file' ? baseline.tables[0].table : undefined;
          const written = updateBaseline(f.baseline, resultsDir, tableHint);
          log(`regress: baseline updated (${written.join(', ')})`);
          return;
        }
        if (failed(rows)) process.exitCode = 1;
      } finally {
        if (tmp && !f.keep) rmSync(tmp, { recursive: true, force: true });
        else if (tmp) log(`regress: kept ${tmp}`);
      }
    });
}
