/**
 * Result rows as an aligned terminal table: the table's compact view by default (its `terminal` columns, the
 * primary value with its 95% interval in one cell, columns blank in every row left out: it fits 100 columns), or
 * every column as in the CSV (`wide`).
 */
import { fixed, formatC, formatTable } from '../util/text-table.js';
import { columnsOf, formatCell } from './schema.js';
import { tableOf, type RowTypes, type TableName } from './tables/index.js';

type Loose = Record<string, unknown>;

/** `81.75 [80.98, 82.50]`, or the value alone when the row has no interval. */
function withInterval(v: unknown, lo: unknown, hi: unknown): string {
  if (typeof v !== 'number') return '';
  return typeof lo === 'number' && typeof hi === 'number' ? `${fixed(v, 2)} [${fixed(lo, 2)}, ${fixed(hi, 2)}]` : fixed(v, 2);
}

export function formatResultsTable<T extends TableName>(table: T, rows: readonly RowTypes[T][], opts: { wide?: boolean } = {}): string {
  const loose = rows as unknown as readonly Loose[];
  if (opts.wide) {
    const cols = columnsOf(table);
    return formatTable(cols, loose.map((r) => Object.fromEntries(cols.map((c) => [c, formatCell(table, c, r[c])]))));
  }
  const desc = tableOf(table);
  const metrics = [...new Set(loose.map((r) => r.primary_metric))];
  const header = new Map<string, string>();
  const shown: string[] = [];
  // the primary value (primary, primary_mean) carries its interval; top-1 and top-5 print alone
  const isPrimary = (col: string) => col.startsWith('primary') && `${col}_lo` in desc.columns;
  for (const col of desc.terminal) {
    // blank in every row, or the value older files imply in every row (features: embedding)
    const absent = desc.columns[col]?.absent;
    if (loose.every((r) => r[col] == null || (absent !== undefined && r[col] === absent))) continue;
    if (isPrimary(col) && metrics.length === 1) {
      header.set(col, `${String(metrics[0])}${col.endsWith('_mean') ? ' mean' : ''} (95% CI)`);
    } else if (isPrimary(col)) {
      shown.push('primary_metric');
      header.set(col, `${col} (95% CI)`);
    }
    shown.push(col);
  }
  const cells = loose.map((r) =>
    Object.fromEntries(
      shown.map((c) => {
        const text = isPrimary(c) ? withInterval(r[c], r[`${c}_lo`], r[`${c}_hi`]) : c === 'C' && typeof r[c] === 'number' ? formatC(r[c] as number) : formatCell(table, c, r[c]);
        return [header.get(c) ?? c, text];
      }),
    ),
  );
  return formatTable(shown.map((c) => header.get(c) ?? c), cells);
}
