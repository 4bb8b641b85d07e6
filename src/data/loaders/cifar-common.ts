import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { RawImage } from '../../image/types.js';
import type { ImageSource } from '../types.js';
import { fingerprintFiles } from '../../util/fingerprint.js';
import { checkIndex, readAt, requireFiles, requireRoot, requireSplit } from './common.js';

export interface CifarLayout {
  dataset: string;
  /** relative file paths per split */
  files: Record<string, string[]>;
  /** bytes of label before the pixels: CIFAR-10 1 (label), CIFAR-100 2 (coarse, fine) */
  labelBytes: number;
  /** which of the label bytes is the class (CIFAR-100: 1 = fine) */
  labelIndex: number;
}

const SIDE = 32;
const PLANE = SIDE * SIDE;

/** Planar RGB (1024 R, 1024 G, 1024 B, row-major) -> interleaved HWC. */
export function planarToHwc(planar: Uint8Array, plane: number): Uint8Array {
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    out[3 * p] = planar[p]!;
    out[3 * p + 1] = planar[plane + p]!;
    out[3 * p + 2] = planar[2 * plane + p]!;
  }
  return out;
}

/** Open a split of the CIFAR binary format (fixed-size records: label byte(s) + 3x32x32 planar RGB). */
export async function openCifarSplit(layout: CifarLayout, root: string, split: string, classes: string[]): Promise<ImageSource> {
  const { dataset, labelBytes, labelIndex } = layout;
  requireRoot(dataset, root);
  requireSplit(dataset, split, Object.keys(layout.files));
  const rels = layout.files[split]!;
  requireFiles(dataset, root, split, rels);
  const recordSize = labelBytes + 3 * PLANE;
  const fileOf: string[] = [];
  const starts: number[] = [];
  const labelList: number[] = [];
  const chunkRecords = 2048;
  const buf = Buffer.allocUnsafe(recordSize * chunkRecords);
  for (const rel of rels) {
    const file = path.join(root, rel);
    const size = fs.statSync(file).size;
    if (size === 0 || size % recordSize !== 0) {
      throw new UserError(`${file}: truncated or corrupt (${size} bytes is not a whole number of ${recordSize}-byte records)`);
    }
    starts.push(labelList.length);
    fileOf.push(file);
    const fd = fs.openSync(file, 'r');
    try {
      for (let off = 0; off < size; off += buf.length) {
        const want = Math.min(buf.length, size - off);
        let got = 0;
        while (got < want) {
          const r = fs.readSync(fd, buf, got, want - got, off + got);
          if (r === 0) throw new UserError(`${file}: truncated while reading`);
          got += r;
        }
        for (let p = 0; p < want; p += recordSize) {
          const y = buf[p + labelIndex]!;
          if (y >= classes.length) {
            throw new UserError(`${file}: corrupt (record ${labelList.length - starts[starts.length - 1]!} has label ${y}, not below ${classes.length})`);
          }
          labelList.push(y);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  const n = labelList.length;
  const locate = (i: number): [string, number] => {
    let f = starts.length - 1;
    while (starts[f]! > i) f--;
    return [fileOf[f]!, i - starts[f]!];
  };
  return {
    n,
    labels: Int32Array.from(labelList),
    classes: [...classes],
    fingerprint: fingerprintFiles(root, rels),
    async load(i: number): Promise<RawImage> {
      checkIndex(i, n);
      const [file, r] = locate(i);
      const rec = readAt(file, r * recordSize + labelBytes, 3 * PLANE);
      return { data: planarToHwc(rec, PLANE), width: SIDE, height: SIDE, channels: 3 };
    },
    describe(i: number): string {
      const [file, r] = locate(i);
      return `${file}#${r}`;
    },
    imageId(i: number): string {
      const [file, r] = locate(i);
      return `${path.basename(file)}#${r}`;
    },
  };
}
