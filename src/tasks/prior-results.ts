/**
 * The rows earlier tasks gave, for a task that builds on them (few-shot compares its curve with zero-shot and the
 * linear probe on the same images): in memory within one invocation, read from --out only for a table that was
 * not evaluated in it.
 */
import { readResults, type RowTypes, type TableName } from '../results/index.js';

export interface PriorResults {
  rows<T extends TableName>(table: T): readonly RowTypes[T][];
}

/** The rows of a results directory (`fewshot` run on its own reads zero-shot's and the probe's from --out). */
export function resultsIn(out: string): PriorResults {
  return { rows: (table) => readResults(out, table)?.rows ?? [] };
}

/**
 * Rows held in memory for the tables evaluated in this invocation (`held`), the others read from `out`. A suite
 * keeps the rows of each step it computed or reused.
 */
export class HeldResults implements PriorResults {
  private readonly held = new Map<TableName, unknown[]>();
  private readonly disk: PriorResults;

  constructor(tables: readonly TableName[], out: string) {
    for (const t of tables) this.held.set(t, []);
    this.disk = resultsIn(out);
  }

  add<T extends TableName>(table: T, rows: readonly RowTypes[T][]): void {
    this.held.get(table)?.push(...rows);
  }

  /** Forget the held rows (a suite moves on to the next model x dataset). */
  clear(): void {
    for (const rows of this.held.values()) rows.length = 0;
  }

  rows<T extends TableName>(table: T): readonly RowTypes[T][] {
    const held = this.held.get(table);
    return held ? (held as RowTypes[T][]) : this.disk.rows(table);
  }
}
