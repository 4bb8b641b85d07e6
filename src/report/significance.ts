/**
 * `regress --significance alpha`: the baseline's and the current rows compared through their predictions
 * (paired-rows.ts), Holm-corrected across rows; a drop counts only when it is significant.
 */
import path from 'node:path';
import type { BootstrapOptions } from '../eval/stats.js';
import { UserError } from '../errors.js';
import { comparePair, holmAdjusted, isDrop, readTableDoc, type TableDoc } from './paired-rows.js';
import { identityKey, type AnyRow, type RegressMetric, type TableName } from '../results/index.js';
import type { Baseline, RegressRow } from './regress.js';

/** Where a baseline's predictions live: beside its result files. */
export function baselineDir(b: Baseline): string {
  return b.kind === 'dir' ? b.path : path.dirname(b.path);
}

/**
 * `regress --significance alpha`: every row present on both sides is compared through its predictions, the
 * p-values are Holm-corrected across those rows, and a row is a DROP only when it fell by more than the tolerance
 * AND its corrected p-value is <= alpha. A compared row without predictions (or on other images) is a UserError:
 * a weaker check must not pass silently.
 */
export function applySignificance(
  rows: readonly RegressRow[],
  baseline: Baseline,
  resultsDir: string,
  metric: RegressMetric,
  tolerance: number,
  alpha: number,
  opts: BootstrapOptions = {},
): RegressRow[] {
  const baseDir = baselineDir(baseline);
  const baseDocs = new Map<TableName, TableDoc>(baseline.tables.map((t) => [t.table, { dir: baseDir, table: t.table, rows: t.rows as AnyRow[], runs: t.runs, ...(t.predictions ? { predictions: t.predictions } : {}) }]));
  const curDocs = new Map<TableName, TableDoc | null>();
  const find = (doc: TableDoc | null | undefined, key: string) => doc?.rows.find((x) => identityKey(doc.table, x) === key);
  const compared = rows.map((r) => {
    if ((r.status !== 'ok' && r.status !== 'DROP') || r.old == null || r.new == null) return null;
    if (!curDocs.has(r.table)) curDocs.set(r.table, readTableDoc(resultsDir, r.table));
    const base = baseDocs.get(r.table)!;
    const cur = curDocs.get(r.table)!;
    const { result, note } = comparePair(base, find(base, r.key)!, cur, find(cur, r.key)!, metric, opts);
    if (!result) {
      // advice that works: --update is refused together with --significance (which needs the predictions first)
      throw new UserError(`--significance: ${r.table} ${r.identity}: ${note}; \`clip-bench regress --baseline ${baseline.path} --run --update\` (without --significance) rewrites the baseline with what a paired test needs`);
    }
    return result;
  });
  const adjusted = holmAdjusted(compared);
  return rows.map((r, i) => {
    const c = compared[i];
    if (!c) return r;
    const significant = adjusted[i]! <= alpha;
    const dropped = isDrop(r.delta!, tolerance);
    return {
      ...r,
      status: dropped && significant ? 'DROP' : 'ok',
      significance: { n: c.n, seeds: c.seeds, test: c.test, diff: c.diff, lo: c.lo, hi: c.hi, p: c.p, p_holm: adjusted[i]!, alpha, significant },
    };
  });
}
