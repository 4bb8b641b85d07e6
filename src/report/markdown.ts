/** Comparison tables as text: CSV cells (2 decimals, counts as integers, blank for null) and Markdown tables. */
import { stringify } from 'csv-stringify/sync';
import type { Cell, Comparison, Row } from './compare.js';

/** Columns that hold counts (printed as integers). */
const INT_COLUMNS = new Set([
  'zeroshot_datasets', 'linear_probe_datasets', 'kornblith12_datasets', 'paper27_datasets', 'run_datasets', 'datasets', 'paper_test', 'paper_train',
]);

/** A comparison cell as text: numbers with 2 decimals (counts as integers), blank for null. */
export function formatComparisonCell(column: string, v: Cell): string {
  if (v == null) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`report: refusing to write ${v} in column ${column}`);
    if (INT_COLUMNS.has(column)) return String(v);
    const s = v.toFixed(2);
    return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
  }
  return v;
}

export function comparisonCsv(c: Comparison): string {
  return stringify([c.columns, ...c.rows.map((r) => c.columns.map((col) => formatComparisonCell(col, r[col] ?? null)))], { record_delimiter: '\n' });
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function markdownTable(columns: string[], rows: Row[]): string {
  const head = `| ${columns.join(' | ')} |`;
  const sep = `|${columns.map((c) => (rows.length && rows.every((r) => r[c] == null || typeof r[c] === 'number') ? '---:' : '---')).join('|')}|`;
  const body = rows.map((r) => `| ${columns.map((c) => mdEscape(formatComparisonCell(c, r[c] ?? null))).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

/** A comparison's columns for report.md, without `hide`, and without `subset` when every row is on the full split. */
export function shownColumns(c: Comparison, hide: string[] = []): string[] {
  const uniform = c.rows.every((r) => r.subset == null || r.subset === 'full split');
  return c.columns.filter((x) => !hide.includes(x) && !(x === 'subset' && uniform));
}
