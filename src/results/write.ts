/**
 * The one writer of result tables: `<out>/<table>.csv` and `<out>/<table>.json`, merged with what is there.
 * A rerun replaces the rows of its own identities and keeps everything else. Writers of one table serialise on
 * `<out>/<table>.lock` (crash-safe: a dead holder's lock is taken over), so concurrent runs sharing an --out
 * lose no row: each reads the files only once it holds the lock.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { atomicWriteFilesSync, ensureDir } from '../util/fs.js';
import { compareStrings } from '../util/compare.js';
import { withFileLockSync } from '../util/lock.js';
import type { ImageOutcomes } from '../eval/metrics.js';
import type { ImageEvidence } from '../eval/metric-descriptors.js';
import { evidenceFiles, predictionsPathOf, removeSuperseded, unlistedPredictionsPaths, writeEvidenceFiles, type EvidenceFiles, type PredictionsIndex } from './predictions.js';
import { readResults } from './read.js';
import { assertFiniteDeep, describeRow, identityKey, normalizeRow, sortRows, toCsv, toJson } from './schema.js';
import { tableOf, type RowTypes, type RunEntry, type TableName } from './tables/index.js';

/** Runs are matched on model, variant, features, dataset, split and subset: a rerun replaces its own run entries, and keeps other variants'. */
function runKey(r: RunEntry): string {
  return [r.model, r.dtype ?? '', r.preprocess ?? '', r.model_digest ?? '', r.features ?? '', r.dataset, r.split ?? '', r.limit ?? '', r.subset_seed ?? ''].join('\u0000');
}

function sortRuns(runs: RunEntry[]): RunEntry[] {
  return [...runs].sort((a, b) => compareStrings(runKey(a), runKey(b)));
}

/** The lock writers of `table` under `outDir` serialise on. */
export function resultsLockFile(outDir: string, table: TableName): string {
  return path.join(outDir, `.${table}.lock`);
}

/**
 * Merge `rows` (and their `runs` metadata) into `<outDir>/<table>.csv` and `.json`, holding the table's lock.
 * Rows are sorted deterministically and derived columns recomputed from the merged rows; both files are written
 * atomically. Throws (before writing anything) on NaN/Infinity, a malformed row or two rows of one identity.
 * `outcomes[i]`, when given, are row i's per-image outcomes (one set per few-shot seed; empty: none), with the
 * images' ids and, where the metric ranks images, the scores: written first to `<outDir>/predictions/` under names
 * of their content, then listed with their digests in `<table>.json`, which replaces the old one in the same
 * rename as the CSV. Files of the replaced rows go afterwards: a reader never sees rows beside predictions that
 * are not theirs, whenever the writer dies.
 */
export function writeResults<T extends TableName>(
  outDir: string,
  table: T,
  rows: readonly RowTypes[T][],
  runs: readonly RunEntry[],
  outcomes?: readonly (readonly (ImageOutcomes | ImageEvidence)[])[],
): void {
  if (outcomes && outcomes.length !== rows.length) throw new Error(`writeResults: ${outcomes.length} outcome sets for ${rows.length} rows`);
  const desc = tableOf(table);
  const fresh = rows.map((r) => normalizeRow(table, r));
  const key = (r: RowTypes[T]) => identityKey(table, r);
  const freshKeys = new Set<string>();
  for (const r of fresh) {
    const k = key(r);
    if (freshKeys.has(k)) throw new Error(`writeResults: duplicate ${describeRow(table, r as unknown as Record<string, unknown>)}`);
    freshKeys.add(k);
  }
  runs.forEach((r, i) => assertFiniteDeep(r, `${table} runs[${i}]`));

  ensureDir(outDir);
  // the predictions go first, named by their content: nothing names them until the tables are replaced
  const stored: PredictionsIndex = {};
  const toWrite: EvidenceFiles[] = [];
  fresh.forEach((r, i) => {
    const sets = outcomes?.[i];
    const rel = predictionsPathOf(table, r);
    if (!sets?.length) return;
    const ef = evidenceFiles(rel, sets.map((x) => ('outcomes' in x ? x : { outcomes: x })), table === 'fewshot');
    writeEvidenceFiles(outDir, ef);
    stored[rel] = ef.entry;
    toWrite.push(ef);
  });
  const onWait = (holder: string) => process.stderr.write(`clip-bench: waiting for ${resultsLockFile(outDir, table)} (held by ${holder})\n`);
  withFileLockSync(resultsLockFile(outDir, table), () => {
    // a writer that held the lock meanwhile may have removed a file of the same content that its rows no longer list
    for (const ef of toWrite) writeEvidenceFiles(outDir, ef);
    const existing = readResults(outDir, table);
    const kept = (existing?.rows ?? []).filter((r) => !freshKeys.has(key(r)));
    const merged = sortRows(table, [...kept, ...fresh]);
    desc.derive?.(merged, freshKeys, key);
    const finalRows = merged.map((r) => normalizeRow(table, r));

    const newRunKeys = new Set(runs.map(runKey));
    const keptRuns = (existing?.runs ?? []).filter((r) => !newRunKeys.has(runKey(r)));
    const finalRuns = sortRuns([...keptRuns, ...runs]);

    // the kept rows keep their listed predictions; the fresh rows list what was just stored (or nothing)
    const before = existing?.predictions ?? {};
    const index: PredictionsIndex = {};
    for (const r of finalRows) {
      const rel = predictionsPathOf(table, r);
      const e = freshKeys.has(key(r)) ? stored[rel] : before[rel];
      if (e) index[rel] = e;
    }

    const csv = toCsv(table, finalRows);
    const json = toJson(table, finalRows, finalRuns, index);
    // the JSON last: it lists the predictions, so its rename is the step that makes this run's rows and predictions current
    atomicWriteFilesSync([
      [path.join(outDir, `${table}.csv`), csv],
      [path.join(outDir, `${table}.json`), json],
    ]);
    // now that no table names them: the replaced rows' files, and a predictions file of the unlisted layout
    for (const r of fresh) {
      const rel = predictionsPathOf(table, r);
      removeSuperseded(outDir, before[rel], index[rel]);
      for (const old of unlistedPredictionsPaths(table, r)) rmSync(path.join(outDir, old), { force: true });
    }
  }, { onWait });
}
