/** Reading result tables back: `<table>.json` (rows + runs) or `<table>.csv` (rows), checked against the descriptors. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { parseCsv } from '../util/csv.js';
import { columnsOf, normalizeRow, sortRows, type PredictionsIndex, type ResultsFile } from './schema.js';
import { SUBSET_COLUMNS, TABLES, isTableName, tableOf, type AnyRow, type RowTypes, type RunEntry, type TableName } from './tables/index.js';

const NUMERIC_KINDS = new Set(['int', 'acc', 'std', 'sig6', 'sec']);

/**
 * The column lists a table's files may have: today's, and today's without any of the groups added since files
 * were first written (the subset columns of clip-bench 0.1, the interval columns, ...).
 */
function acceptedColumns(table: TableName): { columns: string[]; legacy: boolean }[] {
  const groups: (readonly string[])[] = [SUBSET_COLUMNS, ...tableOf(table).addedColumns];
  const out: { columns: string[]; legacy: boolean }[] = [];
  for (let mask = 0; mask < 1 << groups.length; mask++) {
    const dropped = new Set(groups.filter((_, g) => mask & (1 << g)).flat());
    out.push({ columns: columnsOf(table).filter((c) => !dropped.has(c)), legacy: (mask & 1) === 1 });
  }
  return out;
}

/** Which table a CSV header (or JSON columns list) belongs to (`legacy`: one without the subset columns), or null. */
export function tableForColumns(columns: readonly string[]): { table: TableName; legacy: boolean; columns: string[] } | null {
  const same = (want: string[]) => want.length === columns.length && want.every((c, i) => columns[i] === c);
  for (const t of TABLES) {
    for (const a of acceptedColumns(t)) if (same(a.columns)) return { table: t, legacy: a.legacy, columns: a.columns };
  }
  return null;
}

/**
 * A row of an old file gets its subset from the run that wrote it when one is recorded (config.limit, config.seed,
 * skipped_images), else null (unknown): such rows are only ever compared with rows of the same unknown subset.
 */
function legacySubset(row: Record<string, unknown>, runs: readonly RunEntry[]): Record<string, unknown> {
  const run = runs.find((r) => r.model === row.model && r.dataset === row.dataset && (row.split === undefined || r.split === undefined || r.split === row.split));
  const config = (run?.config ?? {}) as Record<string, unknown>;
  const limit = typeof config.limit === 'number' ? config.limit : null;
  const seed = typeof config.seed === 'number' ? config.seed : null;
  const skipped = typeof run?.skipped_images === 'number' ? run.skipped_images : null;
  return { ...row, limit: run ? limit : null, subset_seed: run && limit != null ? seed : null, skipped_images: skipped };
}

function checked(table: TableName, obj: unknown, where: string): AnyRow {
  try {
    return normalizeRow(table, obj as AnyRow);
  } catch (err) {
    throw new UserError(`${where}: ${(err as Error).message}`);
  }
}

/** Parse a results CSV (as written by writeResults) back into rows; `file` names it in errors. */
export function parseResultsCsv(text: string, file: string): { table: TableName; rows: AnyRow[] } {
  const records = parseCsv(text, file);
  if (!records.length) throw new UserError(`${file}: empty CSV (expected a header row)`);
  const found = tableForColumns(records[0]!.fields);
  if (!found) throw new UserError(`${file}: header is not that of a clip-bench results table (${TABLES.join(', ')})`);
  const { table, legacy, columns: cols } = found;
  const kinds = tableOf(table).columns;
  const rows = records.slice(1).map(({ line, fields }) => {
    if (fields.length !== cols.length) throw new UserError(`${file}: line ${line} has ${fields.length} fields, expected ${cols.length}`);
    const obj: Record<string, unknown> = {};
    cols.forEach((c, j) => {
      const s = fields[j]!;
      if (s === '') obj[c] = null;
      else if (NUMERIC_KINDS.has(kinds[c]!.kind)) {
        const n = Number(s);
        if (!Number.isFinite(n)) throw new UserError(`${file}: line ${line}, column ${c}: not a number: ${JSON.stringify(s)}`);
        obj[c] = n;
      } else obj[c] = s;
    });
    return checked(table, legacy ? legacySubset(obj, []) : obj, `${file}: line ${line}`);
  });
  return { table, rows };
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
    throw new UserError(`${file}: not a clip-bench results file (expected {"table": "${TABLES.join('"|"')}", "rows": [...]})`);
  }
  const table = d.table;
  const runs = Array.isArray(d.runs) ? (d.runs as RunEntry[]) : [];
  const legacy = Array.isArray(d.columns) && tableForColumns(d.columns as string[])?.legacy === true;
  const rows = d.rows.map((r, i) => checked(table, legacy ? legacySubset(r as unknown as Record<string, unknown>, runs) : r, `${file}: rows[${i}]`));
  const predictions = d.predictions && typeof d.predictions === 'object' && !Array.isArray(d.predictions) ? d.predictions : undefined;
  return { table, tool_version: String(d.tool_version ?? ''), columns: columnsOf(table), rows, runs, ...(predictions ? { predictions } : {}) };
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
    return { table, tool_version: '', columns: columnsOf(table), rows, runs: [] };
  }
  return parseResultsJson(text, file);
}

/**
 * Read `<outDir>/<table>.json` (or, when only the CSV exists, `<outDir>/<table>.csv`, without runs).
 * Returns null when neither exists. Throws UserError when the file does not parse.
 */
export function readResults<T extends TableName>(
  outDir: string,
  table: T,
): { rows: RowTypes[T][]; runs: RunEntry[]; tool_version: string; predictions?: PredictionsIndex } | null {
  const json = path.join(outDir, `${table}.json`);
  const csv = path.join(outDir, `${table}.csv`);
  const file = existsSync(json) ? json : existsSync(csv) ? csv : null;
  if (!file) return null;
  const doc = readResultsFile(file);
  if (doc.table !== table) throw new UserError(`${file}: holds table ${doc.table}, expected ${table}`);
  return { rows: sortRows(table, doc.rows as RowTypes[T][]), runs: doc.runs, tool_version: doc.tool_version, ...(doc.predictions ? { predictions: doc.predictions } : {}) };
}
