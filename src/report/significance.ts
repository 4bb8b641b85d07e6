/**
 * `regress --significance alpha`: the baseline's and the current rows compared through their predictions
 * (paired-rows.ts), Holm-corrected across rows; a drop counts only when it is significant.
 */
import path from 'node:path';
import type { BootstrapOptions } from '../eval/stats.js';
import { UserError } from '../errors.js';
import { comparePair, holmAdjusted, isDrop } from './paired-rows.js';
import { identityKey, readResults, type AnyRow, type RegressMetric } from './results.js';
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
  const baseRows = new Map<string, AnyRow>();
  for (const t of baseline.tables) for (const r of t.rows as AnyRow[]) baseRows.set(`${t.table}\u0000${identityKey(t.table, r)}`, r);
  const curRows = new Map<string, AnyRow>();
  for (const t of new Set(rows.map((r) => r.table))) {
    for (const r of (readResults(resultsDir, t)?.rows ?? []) as AnyRow[]) curRows.set(`${t}\u0000${identityKey(t, r)}`, r);
  }
  const compared = rows.map((r) => {
    if ((r.status !== 'ok' && r.status !== 'DROP') || r.old == null || r.new == null) return null;
    const k = `${r.table}\u0000${r.key}`;
    const { result, note } = comparePair(r.table, baseRows.get(k)!, baseDir, curRows.get(k)!, resultsDir, metric, opts);
    if (!result) throw new UserError(`--significance: ${r.table} ${r.identity}: ${note}; \`regress --run --update\` rebuilds a baseline with its predictions`);
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
