import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { RawImage } from '../../image/types.js';
import type { ImageSource } from '../types.js';
import { fingerprintFiles } from '../../util/fingerprint.js';
import { checkIndex, readAt, requireFiles, requireRoot, requireSplit } from './common.js';

/** STL-10 binary version: stl10_binary.tar.gz -> stl10_binary/{train,test}_{X,y}.bin. */
export const STL10_DIR = 'stl10_binary';
export const STL10_SPLITS = ['train', 'test'] as const;
const SIDE = 96;
const PLANE = SIDE * SIDE;
const RECORD = 3 * PLANE;

export function stl10Files(split: string): { x: string; y: string } {
  return { x: `${STL10_DIR}/${split}_X.bin`, y: `${STL10_DIR}/${split}_y.bin` };
}

/**
 * STL-10 stores each image as 3 planes (R, G, B) of 96x96 in column-major order
 * (byte [c][x][y]); labels are 1..10 in a separate file. Output: row-major HWC RGB, labels 0..9.
 */
export function stlRecordToHwc(rec: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD);
  for (let c = 0; c < 3; c++) {
    const base = c * PLANE;
    for (let x = 0; x < SIDE; x++) {
      const col = base + x * SIDE;
      for (let y = 0; y < SIDE; y++) out[(y * SIDE + x) * 3 + c] = rec[col + y]!;
    }
  }
  return out;
}

export async function openStl10(root: string, split: string, classes: string[]): Promise<ImageSource> {
  const dataset = 'stl10';
  requireRoot(dataset, root);
  requireSplit(dataset, split, STL10_SPLITS);
  const f = stl10Files(split);
  requireFiles(dataset, root, split, [f.x, f.y]);
  const xFile = path.join(root, f.x);
  const yFile = path.join(root, f.y);
  const ybytes = fs.readFileSync(yFile);
  const n = ybytes.length;
  if (n === 0) throw new UserError(`${yFile}: empty label file`);
  const xsize = fs.statSync(xFile).size;
  if (xsize !== n * RECORD) {
    throw new UserError(
      `${xFile}: truncated or corrupt (${xsize} bytes; ${yFile} has ${n} labels, which need ${n * RECORD} bytes of ${RECORD}-byte images)`,
    );
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = ybytes[i]!;
    if (y < 1 || y > classes.length) throw new UserError(`${yFile}: corrupt (label ${y} at record ${i}, expected 1..${classes.length})`);
    labels[i] = y - 1;
  }
  return {
    n,
    labels,
    classes: [...classes],
    fingerprint: fingerprintFiles(root, [f.x, f.y]),
    async load(i: number): Promise<RawImage> {
      checkIndex(i, n);
      return { data: stlRecordToHwc(readAt(xFile, i * RECORD, RECORD)), width: SIDE, height: SIDE, channels: 3 };
    },
    describe: (i) => `${xFile}#${i}`,
    imageId: (i) => `${path.basename(xFile)}#${i}`,
  };
}
