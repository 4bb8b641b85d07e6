/**
 * Per-image predictions kept beside the result rows, so two runs can be compared image by image without re-running:
 * `<results>/predictions/<table>/<row key>.npy`, one file per row. The array is [n, 3] (zero-shot, linear probe) or
 * [seeds, n, 3] (few-shot, one slice per seed), columns (true label, predicted class, rank of the true class; 0 =
 * right, < 5 = right in top-5), in the smallest integer dtype that holds the class count ('|u1', '<i2' or '<i4').
 * numpy reads it: `p = np.load(f); correct = p[..., 1] == p[..., 0]`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNpy, LITTLE_ENDIAN, parseNpyHeader, type NpyDescr } from '../util/npy.js';
import type { ImageOutcomes } from '../eval/metrics.js';
import { UserError } from '../errors.js';
import { atomicWriteFileSync } from '../util/fs.js';
import { identityKey, identityLabel } from './schema.js';
import type { AnyRow, TableName } from './tables/index.js';

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
