import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { BOOTSTRAP_RESAMPLES } from '../eval/stats.js';
import { compareSides, formatP, signed, unmatchedRows, type ComparedRow, type Side } from '../report/paired-rows.js';
import { REGRESS_METRICS, type RegressMetric } from '../report/regress.js';
import { formatTable, TABLES } from '../results/index.js';
import { wrapLines } from '../util/text-table.js';

interface Flags {
  results: string;
  metric: string;
  modelA?: string;
  modelB?: string;
  resamples: string;
  seed: string;
  json?: boolean;
  wide?: boolean;
}

/** A folder holding result tables (a model directory is not one). */
function isResultsFolder(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory() && TABLES.some((t) => existsSync(path.join(p, `${t}.json`)) || existsSync(path.join(p, `${t}.csv`)));
}

/** A positional side: a results folder, or a model of the --results folder. */
function sideOf(arg: string, which: 'A' | 'B', f: Flags): Side {
  const model = which === 'A' ? f.modelA : f.modelB;
  if (isResultsFolder(arg)) return { dir: arg, model };
  if (model !== undefined) throw new UserError(`${which} ${arg}: not a results folder (--model-${which.toLowerCase()} narrows a folder to one model)`);
  if (isResultsFolder(f.results)) return { dir: f.results, model: arg };
  const tables = TABLES.map((t) => `${t}.json`).join(', ');
  // an existing folder is what was meant: say it holds no results, not "no such folder"
  if (existsSync(arg) && statSync(arg).isDirectory()) throw new UserError(`${which} ${arg}: a folder without results (none of ${tables} in it)`);
  const why = existsSync(f.results) ? `a folder without results` : 'no such folder';
  throw new UserError(`${which} ${arg}: neither a results folder nor a model of --results ${f.results} (${why})`);
}

/** `zeroshot cifar10/test/single, ...` (at most 5, then how many more). */
function listRows(rows: string[]): string {
  return `${rows.slice(0, 5).join(', ')}${rows.length > 5 ? `, and ${rows.length - 5} more` : ''}`;
}

function intFlag(v: string, flag: string, min: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new UserError(`${flag} ${v}: expected an integer >= ${min}`);
  return n;
}

export const COMPARE_COLUMNS = ['table', 'test', 'model_a', 'model_b', 'n', 'metric', 'a', 'b', 'diff', 'ci95', 'p', 'test_used', 'note'] as const;

function displayRow(r: ComparedRow): Record<string, string> {
  const x = r.result;
  return {
    table: r.table,
    test: r.name,
    model_a: r.modelA,
    model_b: r.modelB,
    n: x ? String(x.n) + (x.seeds > 1 ? ` x ${x.seeds}` : '') : '',
    metric: x?.metric ?? '',
    a: x ? x.a.toFixed(2) : '',
    b: x ? x.b.toFixed(2) : '',
    diff: x ? signed(x.diff) : '',
    ci95: x ? `[${signed(x.lo)}, ${signed(x.hi)}]` : '',
    p: x ? formatP(x.p) : '',
    test_used: x ? (x.test === 'mcnemar' ? `McNemar ${x.onlyA}/${x.onlyB}` : 'bootstrap') : '',
    note: r.note ?? '',
  };
}

export function register(program: Command): void {
  program
    .command('compare')
    .description('compare two runs image by image: per matching row, B - A with its 95% paired-bootstrap interval and an exact McNemar p-value')
    .argument('<A>', 'a results folder, or a model in the --results folder')
    .argument('<B>', 'a results folder, or a model in the --results folder')
    .option('--results <dir>', 'the results folder when A or B names a model', 'results')
    .option('--model-a <name>', 'with A a folder: only its rows of this model')
    .option('--model-b <name>', 'with B a folder: only its rows of this model')
    .option('--metric <metric>', `metric to compare: ${REGRESS_METRICS.join('|')} (primary = the dataset's Table 9 metric)`, 'primary')
    .option('--resamples <n>', 'bootstrap resamples', String(BOOTSTRAP_RESAMPLES))
    .option('--seed <n>', 'bootstrap seed', '0')
    .option('--json', 'print the comparisons as JSON', false)
    .option('--wide', 'every column on every row (default: what every row shares, such as the two models, said once above the table)', false)
    .action((argA: string, argB: string, f: Flags) => {
      if (!(REGRESS_METRICS as readonly string[]).includes(f.metric)) throw new UserError(`--metric ${f.metric}: expected one of ${REGRESS_METRICS.join(', ')}`);
      const opts = { resamples: intFlag(f.resamples, '--resamples', 2), seed: intFlag(f.seed, '--seed', 0) };
      const a = sideOf(argA, 'A', f);
      const b = sideOf(argB, 'B', f);
      const rows = compareSides(a, b, f.metric as RegressMetric, opts);
      const { onlyA, onlyB } = unmatchedRows(a, b);
      if (!rows.length) throw new UserError(`compare: no rows of ${argA} match a row of ${argB} (same table, dataset, split, subset and mode; A has ${onlyA.length}, B ${onlyB.length})`);
      // rows without a partner are left out, and said so
      if (onlyA.length) process.stderr.write(`compare: ${onlyA.length} row${onlyA.length === 1 ? '' : 's'} of A (${argA}) match${onlyA.length === 1 ? 'es' : ''} no row of B, left out: ${listRows(onlyA)}\n`);
      if (onlyB.length) process.stderr.write(`compare: ${onlyB.length} row${onlyB.length === 1 ? '' : 's'} of B (${argB}) match${onlyB.length === 1 ? 'es' : ''} no row of A, left out: ${listRows(onlyB)}\n`);
      if (f.json) {
        process.stdout.write(`${JSON.stringify(rows.map((r) => ({ table: r.table, test: r.name, model_a: r.modelA, model_b: r.modelB, ...(r.result ?? {}), note: r.note })), null, 2)}\n`);
      } else {
        let cols: readonly string[] = rows.some((r) => r.note) ? COMPARE_COLUMNS : COMPARE_COLUMNS.filter((c) => c !== 'note');
        const shown = rows.map(displayRow);
        if (!f.wide) {
          // to fit 100 columns: what every row shares is said once, above the table
          const shared = (['model_a', 'model_b', 'table', 'metric'] as const).filter((c) => new Set(shown.map((r) => r[c])).size === 1);
          const said: Record<string, string> = { model_a: 'A', model_b: 'B', table: 'table', metric: 'metric' };
          if (shared.length) process.stdout.write(`${shared.map((c) => `${said[c]} ${shown[0]![c]}`).join(', ')}\n`);
          cols = cols.filter((c) => !(shared as readonly string[]).includes(c));
        }
        let table = formatTable(cols, shown);
        // still wider than 100 columns (rows of several tables): the test's name and counts stay in --wide and --json
        if (!f.wide && table.split('\n').some((l) => l.length > 100)) table = formatTable((cols = cols.filter((c) => c !== 'test_used')), shown);
        process.stdout.write(table);
        const legend = 'diff = B - A in points; ci95 = 95% paired-bootstrap interval over images; p = exact McNemar on the images only one side got right (bootstrap test for mean per class and few-shot means)';
        process.stdout.write(`${f.wide ? legend : wrapLines(legend, 100).join('\n')}\n`);
      }
    });
}
