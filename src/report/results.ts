/**
 * The one writer/reader of clip-bench's result tables.
 *
 * Three tables, each written as `<out>/<table>.csv` (fixed column order, fixed decimals, blank for
 * null) and `<out>/<table>.json` (full precision + per-run metadata). Writes merge with what is
 * already there: a rerun replaces the rows of its own identities and keeps everything else.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { UserError } from '../errors.js';
import { toolVersion } from '../version.js';
import { atomicWriteFileSync } from '../util/fs.js';

export type TableName = 'zeroshot' | 'linear_probe' | 'fewshot';
export const TABLES: readonly TableName[] = ['zeroshot', 'linear_probe', 'fewshot'];

export type PrimaryMetric = 'accuracy' | 'mean_per_class';
export type PromptMode = 'contextless' | 'single' | 'ensemble';
export const PROMPT_MODES: readonly PromptMode[] = ['contextless', 'single', 'ensemble'];

export const ZEROSHOT_COLUMNS = [
  'model', 'dataset', 'split', 'prompts', 'n_templates', 'n_images',
  'top1', 'top5', 'mean_per_class', 'primary_metric', 'gain_vs_contextless',
] as const;
export const LINEAR_PROBE_COLUMNS = [
  'model', 'dataset', 'n_train', 'n_val', 'n_test', 'C',
  'top1', 'top5', 'mean_per_class', 'primary_metric', 'solver', 'seconds',
] as const;
export const FEWSHOT_COLUMNS = [
  'model', 'dataset', 'shots', 'seeds', 'top1_mean', 'top1_std', 'mean_per_class_mean',
  'mean_per_class_std', 'primary_metric', 'zeroshot_top1', 'zeroshot_equivalent_shots',
] as const;

export const COLUMNS = {
  zeroshot: ZEROSHOT_COLUMNS,
  linear_probe: LINEAR_PROBE_COLUMNS,
  fewshot: FEWSHOT_COLUMNS,
} as const;

/** Columns that make a row's identity: a rerun replaces rows with the same identity. */
export const IDENTITY_COLUMNS = {
  zeroshot: ['model', 'dataset', 'split', 'prompts'],
  linear_probe: ['model', 'dataset'],
  fewshot: ['model', 'dataset', 'shots'],
} as const;

/** Accuracies are in percent; null = not measured (blank in the CSV). */
export interface ZeroshotRow {
  model: string;
  dataset: string;
  split: string;
  prompts: PromptMode;
  n_templates: number;
  n_images: number;
  top1: number | null;
  top5: number | null;
  mean_per_class: number | null;
  primary_metric: PrimaryMetric;
  /** points, primary metric; recomputed by writeResults from the contextless row of the same model/dataset/split */
  gain_vs_contextless: number | null;
}

export interface LinearProbeRow {
  model: string;
  dataset: string;
  n_train: number;
  n_val: number;
  n_test: number;
  C: number | null;
  top1: number | null;
  top5: number | null;
  mean_per_class: number | null;
  primary_metric: PrimaryMetric;
  solver: string;
  seconds: number | null;
}

export interface FewshotRow {
  model: string;
  dataset: string;
  shots: number;
  seeds: number;
  top1_mean: number | null;
  top1_std: number | null;
  mean_per_class_mean: number | null;
  mean_per_class_std: number | null;
  primary_metric: PrimaryMetric;
  zeroshot_top1: number | null;
  /** "5.4", "<1", "> 16" or null; the same on every row of one model x dataset */
  zeroshot_equivalent_shots: string | null;
}

export interface RowTypes {
  zeroshot: ZeroshotRow;
  linear_probe: LinearProbeRow;
  fewshot: FewshotRow;
}
export type AnyRow = ZeroshotRow | LinearProbeRow | FewshotRow;

/** Metadata of one evaluation run (model identity hash, dataset fingerprint, templates, class names, config hash, timestamp, image_gflops, ...). */
export interface RunEntry {
  model: string;
  dataset: string;
  split?: string;
  [key: string]: unknown;
}

export interface ResultsFile<T extends TableName = TableName> {
  table: T;
  tool_version: string;
  columns: string[];
  rows: RowTypes[T][];
  runs: RunEntry[];
}

// ---------------------------------------------------------------------------------------------
// column kinds

type Kind = 'id' | 'string' | 'int' | 'acc' | 'std' | 'sig6' | 'sec' | 'prompts' | 'metric' | 'equiv';
interface ColumnSpec {
  kind: Kind;
  /** may be null */
  nullable: boolean;
}

const KINDS: Record<TableName, Record<string, ColumnSpec>> = {
  zeroshot: {
    model: { kind: 'id', nullable: false },
    dataset: { kind: 'id', nullable: false },
    split: { kind: 'id', nullable: false },
    prompts: { kind: 'prompts', nullable: false },
    n_templates: { kind: 'int', nullable: false },
    n_images: { kind: 'int', nullable: false },
    top1: { kind: 'acc', nullable: true },
    top5: { kind: 'acc', nullable: true },
    mean_per_class: { kind: 'acc', nullable: true },
    primary_metric: { kind: 'metric', nullable: false },
    gain_vs_contextless: { kind: 'acc', nullable: true },
  },
  linear_probe: {
    model: { kind: 'id', nullable: false },
    dataset: { kind: 'id', nullable: false },
    n_train: { kind: 'int', nullable: false },
    n_val: { kind: 'int', nullable: false },
    n_test: { kind: 'int', nullable: false },
    C: { kind: 'sig6', nullable: true },
    top1: { kind: 'acc', nullable: true },
    top5: { kind: 'acc', nullable: true },
    mean_per_class: { kind: 'acc', nullable: true },
    primary_metric: { kind: 'metric', nullable: false },
    solver: { kind: 'string', nullable: false },
    seconds: { kind: 'sec', nullable: true },
  },
  fewshot: {
    model: { kind: 'id', nullable: false },
    dataset: { kind: 'id', nullable: false },
    shots: { kind: 'int', nullable: false },
    seeds: { kind: 'int', nullable: false },
    top1_mean: { kind: 'acc', nullable: true },
    top1_std: { kind: 'std', nullable: true },
    mean_per_class_mean: { kind: 'acc', nullable: true },
    mean_per_class_std: { kind: 'std', nullable: true },
    primary_metric: { kind: 'metric', nullable: false },
    zeroshot_top1: { kind: 'acc', nullable: true },
    zeroshot_equivalent_shots: { kind: 'equiv', nullable: true },
  },
};

export function isTableName(s: string): s is TableName {
  return (TABLES as readonly string[]).includes(s);
}

// ---------------------------------------------------------------------------------------------
// identity, ordering, metrics

/** A stable string key of a row's identity within its table. */
export function identityKey(table: TableName, row: AnyRow | Record<string, unknown>): string {
  const r = row as unknown as Record<string, unknown>;
  return IDENTITY_COLUMNS[table].map((c) => String(r[c])).join('\u0000');
}

/** Human-readable identity: `model dataset/split/prompts`, `model dataset`, `model dataset/4-shot`. */
export function identityLabel(table: TableName, row: AnyRow | Record<string, unknown>): string {
  const r = row as unknown as Record<string, unknown>;
  return `${r.model} ${testName(table, r)}`;
}

/** `dataset/split/prompts` (zeroshot), `dataset` (linear_probe), `dataset/K-shot` (fewshot). */
export function testName(table: TableName, row: AnyRow | Record<string, unknown>): string {
  const r = row as unknown as Record<string, unknown>;
  if (table === 'zeroshot') return `${r.dataset}/${r.split}/${r.prompts}`;
  if (table === 'fewshot') return `${r.dataset}/${r.shots}-shot`;
  return String(r.dataset);
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Deterministic order: model, dataset, split, then prompts (contextless, single, ensemble) / shots numerically. */
export function compareRows(table: TableName, a: AnyRow, b: AnyRow): number {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  let c = cmpStr(String(x.model), String(y.model)) || cmpStr(String(x.dataset), String(y.dataset));
  if (c) return c;
  if (table === 'zeroshot') {
    c = cmpStr(String(x.split), String(y.split));
    if (c) return c;
    return PROMPT_MODES.indexOf(x.prompts as PromptMode) - PROMPT_MODES.indexOf(y.prompts as PromptMode);
  }
  if (table === 'fewshot') return (x.shots as number) - (y.shots as number);
  return 0;
}

export function sortRows<T extends TableName>(table: T, rows: RowTypes[T][]): RowTypes[T][] {
  return [...rows].sort((a, b) => compareRows(table, a, b));
}

/** The row's value of the metric the paper's Table 9 uses for its dataset (top1 or mean per class). */
export function primaryValue(table: TableName, row: AnyRow): number | null {
  const r = row as unknown as Record<string, number | null | string>;
  const mpc = r.primary_metric === 'mean_per_class';
  if (table === 'fewshot') return (mpc ? r.mean_per_class_mean : r.top1_mean) as number | null;
  return (mpc ? r.mean_per_class : r.top1) as number | null;
}

/** The standard deviation of the primary metric (fewshot only). */
export function primaryStd(row: FewshotRow): number | null {
  return row.primary_metric === 'mean_per_class' ? row.mean_per_class_std : row.top1_std;
}

// ---------------------------------------------------------------------------------------------
// validation and formatting

function describeRow(table: TableName, row: Record<string, unknown>): string {
  return `${table} row (${IDENTITY_COLUMNS[table].map((c) => `${c}=${String(row[c])}`).join(', ')})`;
}

/** Check one row and return a copy holding exactly the table's columns in order. Throws on NaN/Infinity. */
export function normalizeRow<T extends TableName>(table: T, row: RowTypes[T]): RowTypes[T] {
  const src = row as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const col of COLUMNS[table]) {
    const spec = KINDS[table][col];
    let v = src[col];
    if (v === undefined) v = null;
    const where = `${describeRow(table, src)}: column ${col}`;
    if (v === null) {
      if (!spec.nullable) throw new Error(`${where} is missing`);
      out[col] = null;
      continue;
    }
    switch (spec.kind) {
      case 'id':
      case 'string':
        if (typeof v !== 'string' || (spec.kind === 'id' && v === '')) throw new Error(`${where} must be a non-empty string, got ${JSON.stringify(v)}`);
        break;
      case 'prompts':
        if (!PROMPT_MODES.includes(v as PromptMode)) throw new Error(`${where} must be one of ${PROMPT_MODES.join('|')}, got ${JSON.stringify(v)}`);
        break;
      case 'metric':
        if (v !== 'accuracy' && v !== 'mean_per_class') throw new Error(`${where} must be accuracy|mean_per_class, got ${JSON.stringify(v)}`);
        break;
      case 'equiv':
        if (typeof v !== 'string') throw new Error(`${where} must be a string or null, got ${JSON.stringify(v)}`);
        if (v === '') v = null;
        break;
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${where} must be an integer, got ${String(v)}`);
        break;
      default:
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where} must be a finite number or null, got ${String(v)}`);
    }
    out[col] = v;
  }
  return out as unknown as RowTypes[T];
}

function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  // never print "-0.00"
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** The CSV text of one cell: fixed decimals, blank for null. */
export function formatCell(table: TableName, column: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  const spec = KINDS[table][column];
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${table}.${column}: refusing to write ${value}`);
    switch (spec?.kind) {
      case 'acc':
      case 'std':
      case 'sec':
        return fixed(value, 2);
      case 'sig6':
        return value === 0 ? '0' : value.toPrecision(6);
      default:
        return String(value);
    }
  }
  return String(value);
}

/** The CSV text (header + one line per row, in the given order). */
export function toCsv<T extends TableName>(table: T, rows: RowTypes[T][]): string {
  const cols = COLUMNS[table];
  const records = rows.map((r) => cols.map((c) => formatCell(table, c, (r as unknown as Record<string, unknown>)[c])));
  return stringify([[...cols], ...records], { record_delimiter: '\n' });
}

function assertFiniteDeep(v: unknown, where: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${where}: refusing to write ${v}`);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => assertFiniteDeep(x, `${where}[${i}]`));
  } else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    for (const [k, x] of Object.entries(v)) assertFiniteDeep(x, `${where}.${k}`);
  } else if (ArrayBuffer.isView(v)) {
    throw new Error(`${where}: typed arrays are not JSON; pass a plain array`);
  }
}

/** The JSON text of a results file (2-space indented, trailing newline). */
export function toJson<T extends TableName>(table: T, rows: RowTypes[T][], runs: RunEntry[]): string {
  runs.forEach((r, i) => assertFiniteDeep(r, `${table}.json runs[${i}]`));
  const doc: ResultsFile<T> = { table, tool_version: toolVersion(), columns: [...COLUMNS[table]], rows, runs };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Write a file atomically (src/util/fs.ts: temp file in the same directory, then rename over the target). */
export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  atomicWriteFileSync(file, text);
}

function runKey(r: RunEntry): string {
  return `${r.model}\u0000${r.dataset}\u0000${r.split ?? ''}`;
}

function sortRuns(runs: RunEntry[]): RunEntry[] {
  return [...runs].sort((a, b) => cmpStr(runKey(a), runKey(b)));
}

/** Recompute derived columns after a merge. `fresh` = identity keys of the rows just written. */
function deriveColumns<T extends TableName>(table: T, rows: RowTypes[T][], fresh: Set<string>): void {
  if (table === 'zeroshot') {
    const zs = rows as ZeroshotRow[];
    const base = new Map<string, number | null>();
    for (const r of zs) if (r.prompts === 'contextless') base.set(`${r.model}\u0000${r.dataset}\u0000${r.split}`, primaryValue('zeroshot', r));
    for (const r of zs) {
      const b = base.get(`${r.model}\u0000${r.dataset}\u0000${r.split}`);
      const v = primaryValue('zeroshot', r);
      r.gain_vs_contextless = r.prompts === 'contextless' || b == null || v == null ? null : v - b;
    }
  } else if (table === 'fewshot') {
    // the zero-shot columns describe the model x dataset: the newest rows' values win for the whole group
    const fs = rows as FewshotRow[];
    const latest = new Map<string, FewshotRow>();
    for (const r of fs) if (fresh.has(identityKey('fewshot', r))) latest.set(`${r.model}\u0000${r.dataset}`, r);
    for (const r of fs) {
      const l = latest.get(`${r.model}\u0000${r.dataset}`);
      if (l) {
        r.zeroshot_top1 = l.zeroshot_top1;
        r.zeroshot_equivalent_shots = l.zeroshot_equivalent_shots;
      }
    }
  }
}

/**
 * Merge `rows` (and their `runs` metadata) into `<outDir>/<table>.csv` and `.json`.
 * Rows of other identities already there are kept; rows (and runs, matched on model+dataset(+split))
 * of the same identities are replaced. Rows are sorted deterministically; both files are written
 * atomically. Throws (before writing anything) on NaN/Infinity or a malformed row.
 * zeroshot's gain_vs_contextless is recomputed from the merged rows.
 */
export function writeResults<T extends TableName>(outDir: string, table: T, rows: RowTypes[T][], runs: RunEntry[]): void {
  const fresh = rows.map((r) => normalizeRow(table, r));
  const freshKeys = new Set<string>();
  for (const r of fresh) {
    const k = identityKey(table, r);
    if (freshKeys.has(k)) throw new Error(`writeResults: duplicate ${describeRow(table, r as unknown as Record<string, unknown>)}`);
    freshKeys.add(k);
  }
  runs.forEach((r, i) => assertFiniteDeep(r, `${table} runs[${i}]`));

  const existing = readResults(outDir, table);
  const kept = (existing?.rows ?? []).filter((r) => !freshKeys.has(identityKey(table, r)));
  const merged = sortRows(table, [...kept, ...fresh]);
  deriveColumns(table, merged, freshKeys);
  const finalRows = merged.map((r) => normalizeRow(table, r));

  const newRunKeys = new Set(runs.map(runKey));
  const keptRuns = (existing?.runs ?? []).filter((r) => !newRunKeys.has(runKey(r)));
  const finalRuns = sortRuns([...keptRuns, ...runs]);

  const csv = toCsv(table, finalRows);
  const json = toJson(table, finalRows, finalRuns);
  writeFileAtomic(path.join(outDir, `${table}.json`), json);
  writeFileAtomic(path.join(outDir, `${table}.csv`), csv);
}

// ---------------------------------------------------------------------------------------------
// reading

/** Parse RFC 4180 CSV text into records of strings. */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      out.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    out.push(row);
  }
  return out.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** Which table a CSV header (or JSON columns list) belongs to, or null. */
export function tableForColumns(columns: readonly string[]): TableName | null {
  for (const t of TABLES) {
    const want = COLUMNS[t];
    if (want.length === columns.length && want.every((c, i) => columns[i] === c)) return t;
  }
  return null;
}

/** Parse a results CSV (as written by writeResults) back into rows; `file` names it in errors. */
export function parseResultsCsv(text: string, file: string): { table: TableName; rows: AnyRow[] } {
  const records = parseCsv(text);
  if (!records.length) throw new UserError(`${file}: empty CSV (expected a header row)`);
  const table = tableForColumns(records[0]);
  if (!table) throw new UserError(`${file}: header is not that of a clip-bench results table (zeroshot, linear_probe or fewshot)`);
  const cols = COLUMNS[table];
  const rows = records.slice(1).map((rec, li) => {
    if (rec.length !== cols.length) throw new UserError(`${file}: line ${li + 2} has ${rec.length} fields, expected ${cols.length}`);
    const obj: Record<string, unknown> = {};
    cols.forEach((c, j) => {
      const s = rec[j];
      const kind = KINDS[table][c].kind;
      if (s === '') obj[c] = null;
      else if (kind === 'int' || kind === 'acc' || kind === 'std' || kind === 'sig6' || kind === 'sec') {
        const n = Number(s);
        if (!Number.isFinite(n)) throw new UserError(`${file}: line ${li + 2}, column ${c}: not a number: ${JSON.stringify(s)}`);
        obj[c] = n;
      } else obj[c] = s;
    });
    return checked(table, obj, `${file}: line ${li + 2}`);
  });
  return { table, rows };
}

function checked(table: TableName, obj: unknown, where: string): AnyRow {
  try {
    return normalizeRow(table, obj as AnyRow);
  } catch (err) {
    throw new UserError(`${where}: ${(err as Error).message}`);
  }
}

/** Parse a results JSON document; `file` names it in errors. */
export function parseResultsJson(text: string, file: string): ResultsFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const d = doc as Partial<ResultsFile> | null;
  if (!d || typeof d !== 'object' || typeof d.table !== 'string' || !isTableName(d.table) || !Array.isArray(d.rows)) {
    throw new UserError(`${file}: not a clip-bench results file (expected {"table": "zeroshot"|"linear_probe"|"fewshot", "rows": [...]})`);
  }
  const table = d.table;
  const rows = d.rows.map((r, i) => checked(table, r, `${file}: rows[${i}]`));
  const runs = Array.isArray(d.runs) ? (d.runs as RunEntry[]) : [];
  return { table, tool_version: String(d.tool_version ?? ''), columns: [...COLUMNS[table]], rows, runs };
}

/** Read one results file (.json, or .csv which carries no runs). Throws UserError when it does not exist or does not parse. */
export function readResultsFile(file: string): ResultsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${file}: cannot read results file (does it exist?)`);
  }
  if (file.toLowerCase().endsWith('.csv')) {
    const { table, rows } = parseResultsCsv(text, file);
    return { table, tool_version: '', columns: [...COLUMNS[table]], rows, runs: [] };
  }
  return parseResultsJson(text, file);
}

/**
 * Read `<outDir>/<table>.json` (or, when only the CSV exists, `<outDir>/<table>.csv`, without runs).
 * Returns null when neither exists. Throws UserError when the file does not parse.
 */
export function readResults<T extends TableName>(outDir: string, table: T): { rows: RowTypes[T][]; runs: RunEntry[]; tool_version: string } | null {
  const json = path.join(outDir, `${table}.json`);
  const csv = path.join(outDir, `${table}.csv`);
  const file = existsSync(json) ? json : existsSync(csv) ? csv : null;
  if (!file) return null;
  const doc = readResultsFile(file);
  if (doc.table !== table) throw new UserError(`${file}: holds table ${doc.table}, expected ${table}`);
  return { rows: sortRows(table, doc.rows as RowTypes[T][]), runs: doc.runs, tool_version: doc.tool_version };
}

// ---------------------------------------------------------------------------------------------
// stdout tables

function displayCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    return Number.isInteger(v) ? String(v) : fixed(v, 2);
  }
  return String(v);
}

const NUMERIC_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$|^$/i;

/**
 * A readable, aligned text table: header, dashes, one line per row. Numbers print as integers or with
 * 2 decimals (pass preformatted strings for other formats); numeric columns are right-aligned.
 */
export function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cells = rows.map((r) => columns.map((c) => displayCell(r[c])));
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const right = columns.map((_, j) => cells.length > 0 && cells.every((row) => NUMERIC_TEXT.test(row[j])) && cells.some((row) => row[j] !== ''));
  const line = (vals: string[]) =>
    vals.map((v, j) => (right[j] ? v.padStart(widths[j]) : v.padEnd(widths[j]))).join('  ').trimEnd();
  return [line([...columns]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n') + '\n';
}

/** A result table for the terminal: the table's columns, each cell formatted as in the CSV. */
export function formatResultsTable<T extends TableName>(table: T, rows: readonly RowTypes[T][]): string {
  const cols = COLUMNS[table];
  const cells = rows.map((r) => Object.fromEntries(cols.map((c) => [c, formatCell(table, c, (r as unknown as Record<string, unknown>)[c])])));
  return formatTable(cols, cells);
}
