/** `clip-bench regress`: compare current results with a baseline, row by row on identity. */
import { plural } from '../util/text-table.js';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../version.js';
import { atomicWriteFileSync } from '../util/fs.js';
import { PREDICTIONS_DIR, entryFiles, predictionsPathOf, unlistedPredictionsPaths, type PredictionsIndex } from '../results/predictions.js';
import { formatP, isDrop } from './paired-rows.js';
import {
  TABLES,
  columnsOf,
  identityKey,
  identityLabel,
  isTableName,
  metricValue,
  readResults,
  readResultsFile,
  sortRows,
  tableOf,
  testName,
  toCsv,
  toJson,
  type AnyRow,
  type RegressMetric,
  type ResultsFile,
  type RowTypes,
  type RunEntry,
  type TableName,
} from '../results/index.js';

export type { RegressMetric } from '../results/index.js';
export const REGRESS_METRICS: readonly RegressMetric[] = ['primary', 'top1', 'top5', 'mean_per_class'];
export type RegressStatus = 'ok' | 'DROP' | 'new' | 'missing';

export interface RegressRow {
  table: TableName;
  model: string;
  /** `dataset/split/prompts`, `dataset`, `dataset/K-shot` */
  name: string;
  /** `model name` */
  identity: string;
  old: number | null;
  new: number | null;
  delta: number | null;
  status: RegressStatus;
  /** the row's identity key within its table */
  key: string;
  /** with --significance: the paired comparison of the baseline and current predictions */
  significance?: RowSignificance;
  /** a missing row that a new row matches but for some identity fields: those fields, `dtype fp32 -> q8` */
  differsIn?: string;
}

/** The numbers behind a --significance verdict (points; p-values before and after Holm's correction). */
export interface RowSignificance {
  n: number;
  seeds: number;
  test: 'mcnemar' | 'bootstrap';
  diff: number;
  lo: number;
  hi: number;
  p: number;
  p_holm: number;
  alpha: number;
  /** p_holm <= alpha */
  significant: boolean;
}

export interface Baseline {
  /** the path given */
  path: string;
  kind: 'file' | 'dir';
  /** tables found, in TABLES order */
  tables: ResultsFile[];
}

export { metricValue };

/** Load a baseline: a results .json/.csv file, or a directory holding some of `<table>.json|csv`. UserError when absent or unparsable. */
export function loadBaseline(p: string): Baseline {
  if (!existsSync(p)) throw new UserError(`--baseline ${p}: no such file or directory`);
  if (statSync(p).isDirectory()) {
    const tables: ResultsFile[] = [];
    for (const t of TABLES) {
      const r = readResults(p, t);
      if (r) tables.push({ table: t, tool_version: r.tool_version, columns: columnsOf(t), rows: r.rows, runs: r.runs, ...(r.predictions ? { predictions: r.predictions } : {}) });
    }
    if (!tables.length) throw new UserError(`--baseline ${p}: directory holds no results (expected ${TABLES.join(', ')} .json/.csv)`);
    return { path: p, kind: 'dir', tables };
  }
  return { path: p, kind: 'file', tables: [readResultsFile(p)] };
}

/** Compare baseline and current rows of one table. */
/**
 * The identity fields in which a missing baseline row differs from the closest new row (fewest fields apart, and
 * only when the model and dataset agree): what the user changed between the runs, to name instead of listing the
 * same evaluation as both missing and new.
 */
function closestNew(table: TableName, missing: AnyRow, fresh: readonly AnyRow[]): { differsIn?: string } {
  const cols = tableOf(table).identity.filter((c) => c !== 'model' && c !== 'dataset');
  const get = (r: AnyRow, c: string) => (r as unknown as Record<string, unknown>)[c] ?? null;
  let best: string[] | null = null;
  for (const c of fresh.filter((x) => x.model === missing.model && x.dataset === missing.dataset)) {
    const diff = cols.filter((col) => get(c, col) !== get(missing, col)).map((col) => `${col} ${String(get(missing, col) ?? 'blank')} -> ${String(get(c, col) ?? 'blank')}`);
    if (diff.length && (!best || diff.length < best.length)) best = diff;
  }
  return best ? { differsIn: best.join(', ') } : {};
}

/**
 * What the summary adds when rows are missing only because the runs differ in identity fields: for each set of
 * differing fields, how many rows, and what to do.
 */
export function mismatchNotes(rows: readonly RegressRow[]): string[] {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.status === 'missing' && r.differsIn) counts.set(r.differsIn, (counts.get(r.differsIn) ?? 0) + 1);
  return [...counts].map(
    ([what, n]) =>
      `${plural(n, 'missing row')} ${n === 1 ? 'has' : 'have'} a new row that differs only in ${what}: regress compares the same variant on the same images; run the baseline's configuration, or \`clip-bench compare\` the two`,
  );
}

export function compareTable(
  table: TableName,
  baseline: readonly AnyRow[],
  current: readonly AnyRow[],
  metric: RegressMetric,
  tolerance: number,
): RegressRow[] {
  const cur = new Map(current.map((r) => [identityKey(table, r), r]));
  const base = new Set(baseline.map((r) => identityKey(table, r)));
  const out: RegressRow[] = [];
  const mk = (r: AnyRow, o: number | null, n: number | null, status: RegressStatus): RegressRow => ({
    table,
    model: r.model,
    name: testName(table, r),
    identity: identityLabel(table, r),
    old: o,
    new: n,
    delta: o != null && n != null ? n - o : null,
    status,
    key: identityKey(table, r),
  });
  const all = sortRows(table, [...baseline, ...current.filter((r) => !base.has(identityKey(table, r)))] as RowTypes[TableName][]);
  for (const r of all) {
    const k = identityKey(table, r);
    const b = base.has(k) ? baseline.find((x) => identityKey(table, x) === k)! : null;
    const c = cur.get(k) ?? null;
    if (!b) {
      out.push(mk(r, null, metricValue(table, c!, metric), 'new'));
      continue;
    }
    const o = metricValue(table, b, metric);
    if (!c) {
      out.push({ ...mk(r, o, null, 'missing'), ...closestNew(table, r, current.filter((x) => !base.has(identityKey(table, x)))) });
      continue;
    }
    const n = metricValue(table, c, metric);
    if (o != null && n == null) out.push(mk(r, o, n, 'missing'));
    else if (o != null && n != null && isDrop(n - o, tolerance)) out.push(mk(r, o, n, 'DROP'));
    else out.push(mk(r, o, n, 'ok'));
  }
  return out;
}

/** Compare every table of the baseline with the same table under `resultsDir`. */
export function compareWithBaseline(baseline: Baseline, resultsDir: string, metric: RegressMetric, tolerance: number): RegressRow[] {
  const out: RegressRow[] = [];
  for (const b of baseline.tables) {
    const cur = readResults(resultsDir, b.table);
    out.push(...compareTable(b.table, b.rows, cur?.rows ?? [], metric, tolerance));
  }
  return out;
}

export function failed(rows: readonly RegressRow[]): boolean {
  return rows.some((r) => r.status === 'DROP' || r.status === 'missing');
}

const n2 = (v: number | null, sign = false) => (v == null ? '' : `${sign && v > 0 ? '+' : ''}${v.toFixed(2).replace(/^-0\.00$/, '0.00')}`);

/** `[-0.16, +0.01]`, `p=0.1671 p_holm=0.5013 (McNemar)`: a row's --significance numbers, or ''. */
function significanceText(s: RowSignificance | undefined): { ci95: string; p: string; p_holm: string } {
  if (!s) return { ci95: '', p: '', p_holm: '' };
  return { ci95: `[${n2(s.lo, true)}, ${n2(s.hi, true)}]`, p: formatP(s.p), p_holm: formatP(s.p_holm) };
}

/** Rows for formatTable: table, identity, old, new, delta, (with --significance: ci95, p, p_holm,) status. */
export function displayRows(rows: readonly RegressRow[]): Record<string, string>[] {
  return rows.map((r) => ({ table: r.table, identity: r.identity, old: n2(r.old), new: n2(r.new), delta: n2(r.delta, true), ...significanceText(r.significance), status: r.status }));
}

export const DISPLAY_COLUMNS = ['table', 'identity', 'old', 'new', 'delta', 'status'] as const;
export const SIGNIFICANCE_DISPLAY_COLUMNS = ['table', 'identity', 'old', 'new', 'delta', 'ci95', 'p', 'p_holm', 'status'] as const;

/** The columns to print: the significance ones when any row carries them. */
export function displayColumns(rows: readonly RegressRow[]): readonly string[] {
  return rows.some((r) => r.significance) ? SIGNIFICANCE_DISPLAY_COLUMNS : DISPLAY_COLUMNS;
}

export function summary(rows: readonly RegressRow[], tolerance: number, metric: RegressMetric, alpha?: number): string {
  const count = (s: RegressStatus) => rows.filter((r) => r.status === s).length;
  const sig = alpha === undefined ? '' : `, significance ${alpha} (Holm over ${plural(rows.filter((r) => r.significance).length, 'row')})`;
  const noise = rows.filter((r) => r.status === 'ok' && r.significance && r.delta != null && isDrop(r.delta, tolerance)).length;
  const within = noise ? `, ${noise} ${noise === 1 ? 'drop' : 'drops'} beyond the tolerance but not significant` : '';
  return `${plural(rows.length, 'row')} (metric ${metric}, tolerance ${tolerance} points${sig}): ${count('ok')} ok, ${count('DROP')} DROP, ${count('missing')} missing, ${count('new')} new${within} -> ${failed(rows) ? 'FAIL' : 'PASS'}`;
}

/** The regress rows as JSON: each row with its verdict and, with --significance, its numbers. */
export function regressJson(rows: readonly RegressRow[], tolerance: number, metric: RegressMetric, alpha?: number): string {
  const doc = {
    metric,
    tolerance,
    significance: alpha ?? null,
    verdict: failed(rows) ? 'FAIL' : 'PASS',
    rows: rows.map(({ key: _key, significance, ...r }) => ({ ...r, significance: significance ?? null })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// JUnit

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** JUnit XML: one testcase per row (classname = table.model, name = dataset/split/mode), failures for DROP and missing. */
export function junitXml(rows: readonly RegressRow[], tolerance: number, metric: RegressMetric, alpha?: number): string {
  const failures = rows.filter((r) => r.status === 'DROP' || r.status === 'missing').length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="clip-bench regress" tests="${rows.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="clip-bench regress" tests="${rows.length}" failures="${failures}" errors="0" skipped="0">`,
    `    <properties><property name="metric" value="${xmlEscape(metric)}"/><property name="tolerance" value="${tolerance}"/>${alpha === undefined ? '' : `<property name="significance" value="${alpha}"/>`}</properties>`,
  ];
  for (const r of rows) {
    const open = `    <testcase classname="${xmlEscape(`${r.table}.${r.model}`)}" name="${xmlEscape(r.name)}" time="0"`;
    const s = r.significance;
    const sig = s ? ` ci95=[${n2(s.lo, true)}, ${n2(s.hi, true)}] p=${formatP(s.p)} p_holm=${formatP(s.p_holm)} (${s.test}, alpha ${s.alpha})` : '';
    const detail = `old=${n2(r.old) || 'n/a'} new=${n2(r.new) || 'n/a'} delta=${n2(r.delta, true) || 'n/a'}${sig} (${metric}, tolerance ${tolerance})`;
    if (r.status === 'DROP') {
      lines.push(`${open}>`, `      <failure type="DROP" message="${xmlEscape(`dropped by ${n2(-(r.delta ?? 0))} points: ${detail}`)}">${xmlEscape(detail)}</failure>`, '    </testcase>');
    } else if (r.status === 'missing') {
      lines.push(`${open}>`, `      <failure type="missing" message="${xmlEscape(`baseline row missing from the current results: ${detail}`)}">${xmlEscape(detail)}</failure>`, '    </testcase>');
    } else if (r.status === 'new') {
      lines.push(`${open}>`, `      <system-out>${xmlEscape(`new row (not in the baseline): ${detail}`)}</system-out>`, '    </testcase>');
    } else if (s) {
      const why = r.delta != null && isDrop(r.delta, tolerance) ? 'drop beyond the tolerance but not significant' : s.significant ? 'significant change, within the tolerance' : 'no significant change';
      lines.push(`${open}>`, `      <system-out>${xmlEscape(`${why}: ${detail}`)}</system-out>`, '    </testcase>');
    } else lines.push(`${open}/>`);
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// --update

/**
 * Rewrite the baseline from the current results (exactly, no merge). A file baseline gets the current
 * rows of its table (as .json or .csv after its extension); a directory baseline gets every table the
 * current results hold. A baseline path that does not exist yet is created: as a file when it ends in
 * .json/.csv, else as a directory. Returns the files written.
 */
export function updateBaseline(baselinePath: string, resultsDir: string, tableHint?: TableName): string[] {
  const written: string[] = [];
  const exists = existsSync(baselinePath);
  const isDir = exists ? statSync(baselinePath).isDirectory() : !/\.(json|csv)$/i.test(baselinePath);
  const current = (t: TableName) => readResults(resultsDir, t);
  const copied = new Set<TableName>();
  const writeOne = (file: string, t: TableName, rows: AnyRow[], runs: RunEntry[], predictions: PredictionsIndex | undefined) => {
    // the predictions first: the baseline's JSON names them
    if (!copied.has(t)) written.push(...copyPredictions(resultsDir, path.dirname(file), t, rows, predictions));
    copied.add(t);
    const text = file.toLowerCase().endsWith('.csv') ? toCsv(t, rows as RowTypes[TableName][]) : toJson(t, rows as RowTypes[TableName][], runs, predictions);
    atomicWriteFileSync(file, text);
    written.push(file);
  };
  if (isDir) {
    for (const t of TABLES) {
      const cur = current(t);
      if (!cur) continue;
      writeOne(path.join(baselinePath, `${t}.json`), t, cur.rows, cur.runs, cur.predictions);
      writeOne(path.join(baselinePath, `${t}.csv`), t, cur.rows, cur.runs, cur.predictions);
    }
    if (!written.length) throw new UserError(`--update: no current results under ${resultsDir} to write to ${baselinePath}`);
    return written;
  }
  let table = tableHint;
  if (!table && exists) table = readResultsFile(baselinePath).table;
  if (!table) {
    const base = path.basename(baselinePath).replace(/\.(json|csv)$/i, '');
    if (isTableName(base)) table = base;
  }
  if (!table) throw new UserError(`--update ${baselinePath}: cannot tell which table this file should hold (name it ${TABLES.map((t) => `${t}.json`).join(', ')})`);
  const cur = current(table);
  if (!cur) throw new UserError(`--update: no current ${table} results under ${resultsDir}`);
  writeOne(baselinePath, table, cur.rows, cur.runs, cur.predictions);
  return written;
}

/**
 * The baseline keeps the rows' per-image predictions beside its tables (for --significance): the table's
 * predictions folder is replaced by the current rows' files (those its JSON lists, with their image lists, or
 * the older unlisted files). Returns the files written.
 */
function copyPredictions(resultsDir: string, destDir: string, table: TableName, rows: readonly AnyRow[], index: PredictionsIndex | undefined): string[] {
  if (path.resolve(resultsDir) === path.resolve(destDir)) return [];
  rmSync(path.join(destDir, PREDICTIONS_DIR, table), { recursive: true, force: true });
  const out: string[] = [];
  for (const r of rows) {
    const rel = predictionsPathOf(table, r);
    const e = index?.[rel];
    for (const f of e ? [...entryFiles(e), ...(e.images ? [e.images.file] : [])] : unlistedPredictionsPaths(table, r)) {
      const src = path.join(resultsDir, f);
      if (!existsSync(src)) continue;
      const dest = path.join(destDir, f);
      atomicWriteFileSync(dest, readFileSync(src));
      out.push(dest);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// --run

export interface EvalCommand {
  /** CLI arguments after `clip-bench` */
  args: string[];
}

/** The evaluations that reproduce the baseline's rows (same images: limit, subset seed, skipping), writing into `outDir`. */
export function evaluationCommands(baseline: Baseline, outDir: string, extraArgs: readonly string[] = []): EvalCommand[] {
  return baseline.tables.flatMap((t) => {
    const desc = tableOf(t.table);
    return desc.rerun(t.rows, outDir).map((flags) => ({ args: [desc.command, ...flags, ...extraArgs] }));
  });
}

/** Run the CLI as a child process (`node <packageRoot>/bin/clip-bench ...`); its output goes to our stderr. */
export function runCli(args: readonly string[], log: (msg: string) => void = () => {}): Promise<void> {
  const bin = path.join(packageRoot, 'bin', 'clip-bench');
  log(`regress --run: clip-bench ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 2, 2] });
    child.on('error', (err) => reject(new UserError(`regress --run: cannot start clip-bench ${args[0]}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new UserError(`regress --run: 'clip-bench ${args.join(' ')}' failed (${signal ? `signal ${signal}` : `exit code ${code}`})`));
    });
  });
}
