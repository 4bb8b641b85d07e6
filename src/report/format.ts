/** Result rows as an aligned terminal table (cells formatted as in the CSV). */
import { formatTable } from '../util/text-table.js';
import { columnsOf, formatCell } from './schema.js';
import type { RowTypes, TableName } from './tables/index.js';

export function formatResultsTable<T extends TableName>(table: T, rows: readonly RowTypes[T][]): string {
  const cols = columnsOf(table);
  const cells = rows.map((r) => Object.fromEntries(cols.map((c) => [c, formatCell(table, c, (r as unknown as Record<string, unknown>)[c])])));
  return formatTable(cols, cells);
}
