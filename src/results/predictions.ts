/**
 * Per-image predictions kept beside the result rows, so two runs can be compared image by image without re-running:
 * `<results>/predictions/<table>/<row key>-<digest>.npy`, one file per row. The array is [n, 3] (zero-shot, linear
 * probe) or [seeds, n, 3] (few-shot, one slice per seed), columns (true label, predicted class, rank of the true
 * class; 0 = right, < 5 = right in top-5), in the smallest integer dtype that holds the class count ('|u1', '<i2'
 * or '<i4'). numpy reads it: `p = np.load(f); correct = p[..., 1] == p[..., 0]`. Beside it: the images' identities
 * (`predictions/images/<digest>.json`, shared by the rows of the same images) and, for metrics that rank images
 * (ROC AUC, mAP), the scores (`.scores.npy`, float32 [.., n, classes]) and multilabel targets (`.targets.npy`).
 *
 * A row's files are named by their content and listed, with their sha256, in the table's JSON (`predictions`),
 * which is written after them in one rename: a reader sees the tables and the predictions they name, or the
 * previous tables and theirs, never one run's rows beside another's predictions. Files a rewrite superseded are
 * removed after the tables are in place.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { encodeNpy, LITTLE_ENDIAN, parseNpyHeader, type NpyDescr } from '../util/npy.js';
import type { ImageOutcomes } from '../eval/metrics.js';
import type { ImageEvidence } from '../eval/metric-descriptors.js';
import { UserError } from '../errors.js';
import { atomicWriteFileSync } from '../util/fs.js';
import { identityKey, identityLabel, type PredictionsEntry, type StoredFile } from './schema.js';

export type { PredictionsEntry, PredictionsIndex, StoredFile } from './schema.js';
import { tableOf, type AnyRow, type TableName } from './tables/index.js';
import { readResults } from './read.js';

export const PREDICTIONS_DIR = 'predictions';
const FIELDS = 3;

/** The file of a row's predictions, relative to its results folder: readable name + hash of the full identity. */
export function predictionsRelPath(table: string, identityKey: string, label: string): string {
  const slug = label.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[_.]+|_+$/g, '').slice(0, 80) || 'row';
  const hash = createHash('sha256').update(`${table}\u0000${identityKey}`).digest('hex').slice(0, 12);
  return path.posix.join(PREDICTIONS_DIR, table, `${slug}-${hash}.npy`);
}

function dtypeFor(maxValue: number): { descr: NpyDescr; make: (n: number) => Uint8Array | Int16Array | Int32Array } {
  if (maxValue <= 0xff) return { descr: '|u1', make: (n) => new Uint8Array(n) };
  if (maxValue <= 0x7fff) return { descr: '<i2', make: (n) => new Int16Array(n) };
  return { descr: '<i4', make: (n) => new Int32Array(n) };
}

/** The .npy bytes of one row's outcomes: one set -> [n, 3]; several (few-shot seeds) -> [seeds, n, 3]. */
export function encodePredictions(sets: readonly ImageOutcomes[], stacked: boolean): Buffer {
  if (!sets.length) throw new Error('encodePredictions: no outcomes');
  if (!stacked && sets.length !== 1) throw new Error(`encodePredictions: ${sets.length} sets for an unstacked row`);
  const n = sets[0]!.n;
  const nClasses = Math.max(...sets.map((s) => s.nClasses));
  for (const s of sets) if (s.n !== n) throw new Error(`encodePredictions: seeds cover ${s.n} vs ${n} images`);
  const { descr, make } = dtypeFor(nClasses - 1);
  const data = make(sets.length * n * FIELDS);
  sets.forEach((s, k) => {
    const base = k * n * FIELDS;
    for (let i = 0; i < n; i++) {
      data[base + i * FIELDS] = s.labels[i]!;
      data[base + i * FIELDS + 1] = s.predicted[i]!;
      data[base + i * FIELDS + 2] = s.trueRank[i]!;
    }
  });
  return encodeNpy(descr, stacked ? [sets.length, n, FIELDS] : [n, FIELDS], data);
}

/** Outcomes back from .npy bytes (one per seed); `file` names it in errors. nClasses is the largest class seen + 1. */
export function decodePredictions(buf: Uint8Array, file: string): ImageOutcomes[] {
  let h;
  try {
    h = parseNpyHeader(buf);
  } catch (err) {
    throw new UserError(`${file}: ${(err as Error).message}`);
  }
  const shape = h.shape;
  const ok = !h.fortranOrder && shape[shape.length - 1] === FIELDS && (shape.length === 2 || shape.length === 3);
  const width = h.descr === '|u1' ? 1 : h.descr === '<i2' ? 2 : h.descr === '<i4' ? 4 : 0;
  if (!ok || !width) throw new UserError(`${file}: not a clip-bench predictions array (expected [n, 3] or [seeds, n, 3] of u1/i2/i4, got ${h.descr} ${JSON.stringify(shape)})`);
  const seeds = shape.length === 3 ? shape[0]! : 1;
  const n = shape.length === 3 ? shape[1]! : shape[0]!;
  const bytes = seeds * n * FIELDS * width;
  if (buf.byteLength - h.dataOffset !== bytes) throw new UserError(`${file}: truncated predictions (${buf.byteLength - h.dataOffset} of ${bytes} data bytes)`);
  if (!LITTLE_ENDIAN) throw new Error('predictions: big-endian hosts are not supported');
  const body = Buffer.from(buf.buffer, buf.byteOffset + h.dataOffset, bytes);
  const at = (j: number): number => (width === 1 ? body[j]! : width === 2 ? body.readInt16LE(2 * j) : body.readInt32LE(4 * j));
  const out: ImageOutcomes[] = [];
  for (let k = 0; k < seeds; k++) {
    const labels = new Int32Array(n);
    const predicted = new Int32Array(n);
    const trueRank = new Int32Array(n);
    let maxClass = 0;
    for (let i = 0; i < n; i++) {
      const j = (k * n + i) * FIELDS;
      labels[i] = at(j);
      predicted[i] = at(j + 1);
      trueRank[i] = at(j + 2);
      if (labels[i]! < 0 || predicted[i]! < 0 || trueRank[i]! < 0) throw new UserError(`${file}: negative value at image ${i}`);
      // the argmax is the true class exactly when nothing beats it
      if ((trueRank[i] === 0) !== (predicted[i] === labels[i])) throw new UserError(`${file}: image ${i} predicts class ${predicted[i]} for true class ${labels[i]} but ranks the true class ${trueRank[i]}: not a classifier's predictions`);
      maxClass = Math.max(maxClass, labels[i]!, predicted[i]!, trueRank[i]!);
    }
    out.push({ n, nClasses: maxClass + 1, labels, predicted, trueRank });
  }
  return out;
}

/** Where a row's predictions live, relative to its results folder (keyed by the row's identity). */
export function predictionsPathOf(table: TableName, row: AnyRow): string {
  return predictionsRelPath(table, identityKey(table, row), identityLabel(table, row));
}

/**
 * Where an older clip-bench put a row's unlisted predictions: under its identity, or under its identity without
 * the identity columns added since (features, the model variant), which its files were named by.
 */
export function unlistedPredictionsPaths(table: TableName, row: AnyRow): string[] {
  const added = new Set(tableOf(table).addedColumns.flat());
  const r = row as unknown as Record<string, unknown>;
  const older = tableOf(table).identity.filter((c) => !added.has(c)).map((c) => String(r[c] ?? null)).join('\u0000');
  return [...new Set([predictionsPathOf(table, row), predictionsRelPath(table, older, identityLabel(table, row))])];
}

/**
 * The file holding a row's predictions in `outDir`, relative to it: the one its table's JSON lists, else the file
 * of the older unlisted layout (which may not exist).
 */
export function listedPredictionsPath(outDir: string, table: TableName, row: AnyRow): string {
  const rel = predictionsPathOf(table, row);
  return readResults(outDir, table)?.predictions?.[rel]?.file ?? rel;
}

/** Write one row's predictions under its results folder (atomically); returns the relative path. */
export function writePredictions(outDir: string, rel: string, sets: readonly ImageOutcomes[], stacked: boolean): string {
  atomicWriteFileSync(path.join(outDir, rel), encodePredictions(sets, stacked));
  return rel;
}

/** One row's predictions, or null when the folder has none for it. */
export function readPredictions(outDir: string, rel: string): ImageOutcomes[] | null {
  const file = path.join(outDir, rel);
  if (!existsSync(file)) return null;
  return decodePredictions(readFileSync(file), file);
}

// ---------------------------------------------------------------------------------------------
// Content-addressed predictions, listed in the table's JSON


const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** A row's predictions files to write: their entry in the table, and each file's bytes. */
export interface EvidenceFiles {
  entry: PredictionsEntry;
  files: [string, Uint8Array | string][];
}

/** Write the files (unless one is already there with these bytes): before the tables name them, and again under the table's lock. */
export function writeEvidenceFiles(outDir: string, ef: EvidenceFiles): void {
  for (const [file, bytes] of ef.files) {
    const abs = path.join(outDir, file);
    if (!existsSync(abs) || sha256(readFileSync(abs)) !== sha256(bytes)) atomicWriteFileSync(abs, bytes);
  }
}

/** Write one row's evidence (one set per few-shot seed) under `rel` (its predictionsPathOf) and return its entry. */
export function storeEvidence(outDir: string, rel: string, sets: readonly ImageEvidence[], stacked: boolean): PredictionsEntry {
  const ef = evidenceFiles(rel, sets, stacked);
  writeEvidenceFiles(outDir, ef);
  return ef.entry;
}

/** The files of one row's evidence, named by their content (one set per few-shot seed; `rel`: its predictionsPathOf). */
export function evidenceFiles(rel: string, sets: readonly ImageEvidence[], stacked: boolean): EvidenceFiles {
  const files: [string, Uint8Array | string][] = [];
  const storeByContent = (name: (digest: string) => string, bytes: Uint8Array | string): StoredFile => {
    const digest = sha256(bytes);
    const file = name(digest);
    files.push([file, bytes]);
    return { file, sha256: digest };
  };
  const base = rel.replace(/\.npy$/, '');
  const classes = Math.max(...sets.map((e) => e.outcomes.nClasses));
  const n = sets[0]!.outcomes.n;
  const outcomes = storeByContent((d) => `${base}-${d.slice(0, 12)}.npy`, encodePredictions(sets.map((e) => e.outcomes), stacked));
  const ids = sets[0]!.ids;
  for (const e of sets) if (e.ids && ids && e.ids !== ids && e.ids.join('\n') !== ids.join('\n')) throw new Error('storeEvidence: seeds on different images');
  if (ids && ids.length !== n) throw new Error(`storeEvidence: ${ids.length} image ids for ${n} images`);
  const images = ids ? storeByContent((d) => path.posix.join(PREDICTIONS_DIR, 'images', `${d.slice(0, 16)}.json`), `${JSON.stringify(ids)}\n`) : null;
  const shape = (width: number) => (stacked ? [sets.length, n, width] : [n, width]);
  const stack = <A extends Float32Array | Uint8Array>(parts: (A | undefined)[], make: (len: number) => A): A | null => {
    if (parts.some((p) => !p)) return null;
    const out = make(parts.length * n * classes);
    parts.forEach((p, k) => out.set(p!.subarray(0, n * classes), k * n * classes));
    return out;
  };
  const sc = stack(sets.map((e) => e.scores), (len) => new Float32Array(len));
  const tg = stack(sets.map((e) => e.targets), (len) => new Uint8Array(len));
  const scores = sc ? storeByContent((d) => `${base}-${d.slice(0, 12)}.scores.npy`, encodeNpy('<f4', shape(classes), sc)) : null;
  const targets = tg ? storeByContent((d) => `${base}-${d.slice(0, 12)}.targets.npy`, encodeNpy('|u1', shape(classes), tg)) : null;
  return { entry: { file: outcomes.file, sha256: outcomes.sha256, classes, images, scores, targets }, files };
}

/** The files of an entry. */
export function entryFiles(e: PredictionsEntry): string[] {
  return [e.file, e.scores?.file, e.targets?.file].filter((f): f is string => !!f);
}

/** Remove the row files that `before` listed and `after` no longer does (the shared image lists stay). */
export function removeSuperseded(outDir: string, before: PredictionsEntry | undefined, after: PredictionsEntry | undefined): void {
  if (!before) return;
  const keep = new Set(after ? entryFiles(after) : []);
  for (const f of entryFiles(before)) if (!keep.has(f)) rmSync(path.join(outDir, f), { force: true });
}

/** A listed file's bytes, checked against the digest the table recorded. */
function readListed(outDir: string, f: StoredFile, what: string): Buffer {
  const abs = path.join(outDir, f.file);
  if (!existsSync(abs)) throw new UserError(`${abs}: missing; the table lists it as ${what} (rerun the row to write it again)`);
  const bytes = readFileSync(abs);
  if (sha256(bytes) !== f.sha256) throw new UserError(`${abs}: not the ${what} the table recorded (its sha256 differs: edited or replaced since the table was written); rerun the row`);
  return bytes;
}

function floatsOf(buf: Buffer, file: string, descr: string, count: number): Buffer {
  const h = parseNpyHeader(buf);
  const size = h.shape.reduce((a, b) => a * b, 1);
  if (h.descr !== descr || h.fortranOrder || size !== count || buf.byteLength - h.dataOffset < count * (descr === '<f4' ? 4 : 1)) {
    throw new UserError(`${file}: expected ${descr} of ${count} values, got ${h.descr} ${JSON.stringify(h.shape)}`);
  }
  return buf.subarray(h.dataOffset);
}

/** A row's evidence from its listed files: digests checked, classes in range, ids and scores attached. */
export function loadEvidence(outDir: string, e: PredictionsEntry): ImageEvidence[] {
  const file = path.join(outDir, e.file);
  const sets = decodePredictions(readListed(outDir, e, 'predictions'), file);
  const n = sets[0]!.n;
  for (const o of sets) {
    for (let i = 0; i < o.n; i++) {
      if (o.labels[i]! >= e.classes || o.predicted[i]! >= e.classes || o.trueRank[i]! >= e.classes) {
        throw new UserError(`${file}: image ${i} has class ${Math.max(o.labels[i]!, o.predicted[i]!)} (rank ${o.trueRank[i]}), but the row has ${e.classes} classes`);
      }
    }
    o.nClasses = e.classes;
  }
  let ids: string[] | undefined;
  if (e.images) {
    const parsed = JSON.parse(readListed(outDir, e.images, 'image list').toString('utf8')) as unknown;
    if (!Array.isArray(parsed) || parsed.length !== n || parsed.some((x) => typeof x !== 'string')) throw new UserError(`${path.join(outDir, e.images.file)}: not a list of ${n} image ids`);
    ids = parsed as string[];
    if (new Set(ids).size !== ids.length) throw new UserError(`${path.join(outDir, e.images.file)}: image ids repeat, so images cannot be paired on them`);
  }
  const per = n * e.classes;
  const sc = e.scores ? floatsOf(readListed(outDir, e.scores, 'scores'), path.join(outDir, e.scores.file), '<f4', sets.length * per) : null;
  const tg = e.targets ? floatsOf(readListed(outDir, e.targets, 'targets'), path.join(outDir, e.targets.file), '|u1', sets.length * per) : null;
  return sets.map((outcomes, k) => ({
    outcomes,
    ...(ids ? { ids } : {}),
    ...(sc ? { scores: new Float32Array(sc.buffer.slice(sc.byteOffset + 4 * k * per, sc.byteOffset + 4 * (k + 1) * per)) } : {}),
    ...(tg ? { targets: new Uint8Array(tg.subarray(k * per, (k + 1) * per)) } : {}),
  }));
}
