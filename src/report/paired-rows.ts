/**
 * Result rows compared image by image through their kept predictions: the rows of two result folders (or two
 * models of one folder) matched on everything that selects the images, each pair's difference with its paired
 * bootstrap interval and test (as the metric's descriptor says), and the numbers' formats; `regress --significance`
 * builds its verdict on these (significance.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { modelLabel, primaryDescriptor } from '../results/tables/common.js';
import { VARIANT_COLUMNS } from '../results/tables/types.js';
import { pairedComparison, type PairedComparison, type PairedMetric } from '../eval/paired.js';
import { METRICS, type ImageEvidence } from '../eval/metric-descriptors.js';
import { holm, type BootstrapOptions } from '../eval/stats.js';
import { UserError } from '../errors.js';
import { loadEvidence, predictionsPathOf, readPredictions, unlistedPredictionsPaths, type PredictionsIndex } from '../results/predictions.js';
import { identityKey, identityLabel, metricValue, readResults, testName, TABLES, type AnyRow, type RegressMetric, type RunEntry, type TableName } from '../results/index.js';

/**
 * The metric behind a row's value of `metric` (primary: the row's dataset's, by its descriptor), or null when the
 * row has none: few-shot top-5, top-5 under 5 classes, a metric name this version does not know.
 */
export function pairedMetricOf(table: TableName, row: AnyRow, metric: RegressMetric): PairedMetric | null {
  const r = row as unknown as Record<string, unknown>;
  if (metric === 'primary') {
    const d = primaryDescriptor(row);
    return d?.sameAs ?? d?.name ?? null;
  }
  if (metric === 'top5' && (table === 'fewshot' || r.top5 == null)) return null;
  return metric;
}

/** A table as read from one folder: its rows, its runs and the predictions files it lists. */
export interface TableDoc {
  dir: string;
  table: TableName;
  rows: AnyRow[];
  runs: RunEntry[];
  predictions?: PredictionsIndex;
}

export function readTableDoc(dir: string, table: TableName): TableDoc | null {
  const r = readResults(dir, table);
  return r ? { dir, table, rows: r.rows as AnyRow[], runs: r.runs, ...(r.predictions ? { predictions: r.predictions } : {}) } : null;
}

/** Rows' values agree when they print the same (a CSV keeps 2 decimals). */
const agrees = (a: number, b: number) => Math.abs(a - b) < 0.0051;

/**
 * A row's kept predictions (one set per few-shot seed), or null when its folder has none: the files its table
 * lists (digests checked), else a file of the older unlisted layout. Either way bound to the row: the metric
 * recomputed from them must be the row's value, or they are not its predictions (swapped, edited, or left by a run
 * that died before its tables were written), which is an error naming the file.
 */
export function rowPredictions(doc: TableDoc, row: AnyRow): ImageEvidence[] | null {
  const rel = predictionsPathOf(doc.table, row);
  const entry = doc.predictions?.[rel];
  const unlisted = entry ? null : (unlistedPredictionsPaths(doc.table, row).find((p) => existsSync(path.join(doc.dir, p))) ?? rel);
  const file = path.join(doc.dir, entry?.file ?? unlisted!);
  const sets: ImageEvidence[] | null = entry ? loadEvidence(doc.dir, entry) : (readPredictions(doc.dir, unlisted!)?.map((outcomes) => ({ outcomes })) ?? null);
  if (!sets?.length) return null;
  if (!entry) {
    // an unlisted file: its classes bounded by those its run recorded
    const run = runOf(doc, row);
    const classes = Array.isArray(run?.class_names) ? run.class_names.length : typeof run?.n_classes === 'number' ? run.n_classes : null;
    for (const { outcomes: o } of sets) {
      if (classes !== null && o.nClasses > classes) throw new UserError(`${file}: class ${o.nClasses - 1} in the predictions, but the run of ${identityLabel(doc.table, row)} has ${classes} classes`);
      if (classes !== null) o.nClasses = classes;
    }
  }
  const r = row as unknown as Record<string, number | null | string>;
  const n = sets[0]!.outcomes.n;
  const rowN = doc.table === 'zeroshot' ? r.n_images : doc.table === 'linear_probe' ? r.n_test : null;
  const mismatch = (what: string, got: string, want: string) =>
    new UserError(`${file}: its predictions give ${what} ${got} but the row (${identityLabel(doc.table, row)}) says ${want}: they are not this row's predictions (swapped, edited, or left by a run that did not finish); rerun the row`);
  if (typeof rowN === 'number' && rowN !== n) throw mismatch('images', String(n), String(rowN));
  const top1 = sets.reduce((s, e) => s + METRICS.top1.fromOutcomes(e).value!, 0) / sets.length;
  const rowTop1 = doc.table === 'fewshot' ? r.top1_mean : r.top1;
  if (typeof rowTop1 === 'number' && !agrees(top1, rowTop1)) throw mismatch('top-1', top1.toFixed(2), rowTop1.toFixed(2));
  const d = primaryDescriptor(row);
  const rowPrimary = metricValue(doc.table, row, 'primary');
  if (d && rowPrimary != null && sets.length === 1 && (d.needs === 'outcomes' || sets[0]!.scores)) {
    const v = d.fromOutcomes(sets[0]!).value;
    if (v != null && !agrees(v, rowPrimary)) throw mismatch(d.label, v.toFixed(2), rowPrimary.toFixed(2));
  }
  return sets;
}

/** The run entry of a row (same model, dataset, split and subset), for its dataset fingerprint. */
function runOf(doc: TableDoc, row: AnyRow): RunEntry | undefined {
  const r = row as unknown as Record<string, unknown>;
  return doc.runs.find(
    (x) => x.model === row.model && x.dataset === row.dataset && (r.split === undefined || x.split === undefined || x.split === r.split) && (x.limit ?? null) === (row.limit ?? null) && (x.subset_seed ?? null) === (row.subset_seed ?? null),
  );
}

/**
 * The two sides' evidence in one image order: B's images reordered to A's by their ids. Images on one side only
 * are an error naming the count. Predictions written before ids were kept pair by position only when both rows'
 * runs record the same dataset fingerprint and the same number of images; otherwise they cannot be paired.
 */
export function pairImages(a: ImageEvidence[], docA: TableDoc, rowA: AnyRow, b: ImageEvidence[], docB: TableDoc, rowB: AnyRow): ImageEvidence[] {
  const idsA = a[0]!.ids;
  const idsB = b[0]!.ids;
  if (!idsA || !idsB) {
    const fa = runOf(docA, rowA)?.dataset_fingerprint;
    const fb = runOf(docB, rowB)?.dataset_fingerprint;
    const nA = a[0]!.outcomes.n;
    const nB = b[0]!.outcomes.n;
    if (typeof fa === 'string' && fa === fb && nA === nB) return b;
    const which = !idsA && !idsB ? 'both sides' : !idsA ? `A (${docA.dir})` : `B (${docB.dir})`;
    throw new UserError(
      `${docA.table} ${testName(docA.table, rowA)}: the predictions of ${which} do not name their images (written before image ids were kept), and the two runs ${typeof fa === 'string' && fa === fb ? `cover ${nA} vs ${nB} images` : 'do not record the same dataset fingerprint'}, so their images cannot be paired; rerun the older side`,
    );
  }
  const where = new Map<string, number>();
  idsB.forEach((id, i) => where.set(id, i));
  const order = new Int32Array(idsA.length);
  let missing = 0;
  idsA.forEach((id, i) => {
    const j = where.get(id);
    if (j === undefined) missing++;
    else order[i] = j;
  });
  const extra = idsB.length - (idsA.length - missing);
  if (missing || extra) {
    throw new UserError(`${docA.table} ${testName(docA.table, rowA)}: not the same images: ${missing} of A's ${idsA.length} images are not in B, ${extra} of B's ${idsB.length} are not in A (by image id)`);
  }
  return b.map((e) => permuteEvidence(e, order));
}

/** Evidence in another image order: row i of the result is row order[i] of `e`. */
function permuteEvidence(e: ImageEvidence, order: Int32Array): ImageEvidence {
  const o = e.outcomes;
  const pick = (x: Int32Array) => Int32Array.from(order, (j) => x[j]!);
  const rows = <A extends Float32Array | Uint8Array>(x: A | undefined, make: (len: number) => A): A | undefined => {
    if (!x) return undefined;
    const c = o.nClasses;
    const out = make(order.length * c);
    order.forEach((j, i) => out.set(x.subarray(j * c, (j + 1) * c), i * c));
    return out;
  };
  const scores = rows(e.scores, (len) => new Float32Array(len));
  const targets = rows(e.targets, (len) => new Uint8Array(len));
  return {
    outcomes: { n: order.length, nClasses: o.nClasses, labels: pick(o.labels), predicted: pick(o.predicted), trueRank: pick(o.trueRank) },
    ...(e.ids ? { ids: Array.from(order, (j) => e.ids![j]!) } : {}),
    ...(scores ? { scores } : {}),
    ...(targets ? { targets } : {}),
  };
}

/** One side of a comparison: a results folder, optionally narrowed to one model of it. */
export interface Side {
  dir: string;
  model?: string;
}

export interface ComparedRow {
  table: TableName;
  /** `dataset/split/prompts`, `dataset`, `dataset/K-shot` */
  name: string;
  modelA: string;
  modelB: string;
  /** null where the pair could not be compared (see `note`) */
  result: PairedComparison | null;
  note: string | null;
}

/** A row's identity without its model and variant: what selects the images and the configuration (the variants are what compare contrasts). */
function imagesKey(table: TableName, row: AnyRow): string {
  return identityKey(table, { ...(row as unknown as Record<string, unknown>), model: '', ...Object.fromEntries(VARIANT_COLUMNS.map((c) => [c, null])) });
}

function rowsOf(side: Side, doc: TableDoc | null, label: string): Map<string, AnyRow> {
  const out = new Map<string, AnyRow>();
  if (!doc) return out;
  for (const r of doc.rows) {
    if (side.model !== undefined && r.model !== side.model) continue;
    const k = imagesKey(doc.table, r);
    const other = out.get(k);
    if (other) {
      throw new UserError(`${label} (${side.dir}) holds ${doc.table} rows of several models or variants for ${testName(doc.table, r)} (${modelLabel(other)}, ${modelLabel(r)}): name one model (--model-a/--model-b), or compare folders of one variant each`);
    }
    out.set(k, r);
  }
  return out;
}

/**
 * Every row of A with a matching row in B (same table, same identity apart from the model), compared on `metric`:
 * b - a with its paired-bootstrap interval and p-value. Pairs without predictions carry a note instead; pairs on
 * other images are an error.
 */
export function compareSides(a: Side, b: Side, metric: RegressMetric, opts: BootstrapOptions = {}): ComparedRow[] {
  const out: ComparedRow[] = [];
  for (const table of TABLES) {
    const docA = readTableDoc(a.dir, table);
    const docB = readTableDoc(b.dir, table);
    const ra = rowsOf(a, docA, 'A');
    const rb = rowsOf(b, docB, 'B');
    for (const [k, rowA] of ra) {
      const rowB = rb.get(k);
      if (!rowB) continue;
      out.push({ table, name: testName(table, rowA), modelA: modelLabel(rowA), modelB: modelLabel(rowB), ...comparePair(docA!, rowA, docB!, rowB, metric, opts) });
    }
  }
  return out;
}

/** The rows of each side that match no row of the other (`table dataset/split/mode`): compare leaves them out and says so. */
export function unmatchedRows(a: Side, b: Side): { onlyA: string[]; onlyB: string[] } {
  const onlyA: string[] = [];
  const onlyB: string[] = [];
  for (const table of TABLES) {
    const ra = rowsOf(a, readTableDoc(a.dir, table), 'A');
    const rb = rowsOf(b, readTableDoc(b.dir, table), 'B');
    for (const [k, r] of ra) if (!rb.has(k)) onlyA.push(`${table} ${testName(table, r)}`);
    for (const [k, r] of rb) if (!ra.has(k)) onlyB.push(`${table} ${testName(table, r)}`);
  }
  return { onlyA, onlyB };
}

/** One pair of rows compared through their predictions. */
export function comparePair(
  docA: TableDoc,
  rowA: AnyRow,
  docB: TableDoc,
  rowB: AnyRow,
  metric: RegressMetric,
  opts: BootstrapOptions = {},
): { result: PairedComparison | null; note: string | null } {
  const pm = pairedMetricOf(docA.table, rowA, metric);
  if (!pm) return { result: null, note: `no per-image ${metric}` };
  const pa = rowPredictions(docA, rowA);
  const pb = rowPredictions(docB, rowB);
  if (!pa || !pb) {
    const where = path.join(!pa ? docA.dir : docB.dir, predictionsPathOf(docA.table, !pa ? rowA : rowB));
    return { result: null, note: `no predictions (${where})` };
  }
  const d = METRICS[pm];
  if (d.needs !== 'outcomes' && (!pa[0]!.scores || !pb[0]!.scores)) {
    return { result: null, note: `no per-image scores for ${d.label} in ${!pa[0]!.scores ? docA.dir : docB.dir} (predictions written before scores were kept: rerun that side)` };
  }
  const aligned = pairImages(pa, docA, rowA, pb, docB, rowB);
  try {
    return { result: pairedComparison(pa, aligned, pm, opts), note: null };
  } catch (err) {
    if (err instanceof RangeError) return { result: null, note: err.message };
    throw err;
  }
}

/** Holm-adjusted p-values of the compared rows (null where a row has no result), in order. */
export function holmAdjusted(results: readonly (PairedComparison | null)[]): (number | null)[] {
  const idx = results.map((r, i) => (r ? i : -1)).filter((i) => i >= 0);
  const adj = holm(idx.map((i) => results[i]!.p));
  const out: (number | null)[] = results.map(() => null);
  idx.forEach((i, j) => (out[i] = adj[j]!));
  return out;
}

/** `+0.12 [-0.05, +0.31]` style numbers. */
export function signed(v: number): string {
  const s = v.toFixed(2);
  if (/^-0\.00$/.test(s)) return '0.00';
  return v > 0 && s !== '0.00' ? `+${s}` : s;
}

/** A change of `delta` points is a drop beyond the tolerance (1e-9: printed values that only round to it are not). */
export function isDrop(delta: number, tolerance: number): boolean {
  return delta < -tolerance - 1e-9;
}

/** A p-value for tables: 4 significant digits, small ones in exponent form. */
export function formatP(p: number): string {
  if (p === 0) return '0';
  return p < 1e-4 ? p.toExponential(2) : p.toPrecision(4).replace(/\.?0+$/, '');
}
