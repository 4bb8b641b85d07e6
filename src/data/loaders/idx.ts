import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { UserError } from '../../errors.js';
import type { RawImage } from '../../image/types.js';
import type { ImageSource } from '../types.js';
import { fingerprintFiles } from '../../util/fingerprint.js';
import { checkIndex, requireRoot, requireSplit } from './common.js';

/** MNIST-style IDX files: `<prefix>-images-idx3-ubyte[.gz]` + `<prefix>-labels-idx1-ubyte[.gz]`, prefix train / t10k. */
export const IDX_SPLITS = { train: 'train', test: 't10k' } as const;

export function idxFiles(split: string): { images: string; labels: string } {
  const prefix = IDX_SPLITS[split as keyof typeof IDX_SPLITS];
  return { images: `${prefix}-images-idx3-ubyte.gz`, labels: `${prefix}-labels-idx1-ubyte.gz` };
}

interface IdxHeader {
  dims: number[];
  dataOffset: number;
}

function parseHeader(buf: Buffer, file: string, magic: number): IdxHeader {
  if (buf.length < 4) throw new UserError(`${file}: truncated IDX file (no header)`);
  const m = buf.readUInt32BE(0);
  if (m !== magic) {
    throw new UserError(`${file}: not an IDX file of the expected kind (magic ${m}, expected ${magic})`);
  }
  const nd = m & 0xff;
  const dataOffset = 4 + 4 * nd;
  if (buf.length < dataOffset) throw new UserError(`${file}: truncated IDX file (header)`);
  const dims: number[] = [];
  for (let k = 0; k < nd; k++) dims.push(buf.readUInt32BE(4 + 4 * k));
  return { dims, dataOffset };
}

/** An IDX file on disk, gzip-compressed (`.gz`) or not. */
class IdxFile {
  readonly header: IdxHeader;
  readonly expectedBytes: number;
  private data?: Buffer;

  constructor(readonly file: string, magic: number) {
    const gz = file.endsWith('.gz');
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      throw new UserError(`${file}: no such file`);
    }
    let head: Buffer;
    if (gz) {
      const first = readPrefix(file, Math.min(size, 4096));
      if (first.length < 18 || first[0] !== 0x1f || first[1] !== 0x8b) throw new UserError(`${file}: not a gzip file`);
      try {
        head = zlib.gunzipSync(first, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      } catch (e) {
        throw new UserError(`${file}: corrupt gzip data (${(e as Error).message})`);
      }
    } else {
      head = readPrefix(file, Math.min(size, 64));
    }
    this.header = parseHeader(head, file, magic);
    this.expectedBytes = this.header.dataOffset + this.header.dims.reduce((a, b) => a * b, 1);
    if (gz) {
      // gzip trailer: ISIZE = uncompressed length mod 2^32; a truncated .gz fails this almost surely
      const isize = readAt4(file, size - 4);
      if (isize !== this.expectedBytes % 4294967296) {
        throw new UserError(
          `${file}: truncated or corrupt (gzip trailer says ${isize} bytes, the IDX header needs ${this.expectedBytes})`,
        );
      }
    } else if (size !== this.expectedBytes) {
      throw new UserError(`${file}: ${size < this.expectedBytes ? 'truncated' : 'has trailing bytes'} (size ${size}, the IDX header needs ${this.expectedBytes})`);
    }
  }

  /** The whole uncompressed file (decompressed on first use, then kept). */
  bytes(): Buffer {
    if (this.data) return this.data;
    let raw: Buffer;
    try {
      raw = fs.readFileSync(this.file);
      if (this.file.endsWith('.gz')) raw = zlib.gunzipSync(raw);
    } catch (e) {
      throw new UserError(`${this.file}: truncated or corrupt (${(e as Error).message})`);
    }
    if (raw.length !== this.expectedBytes) {
      throw new UserError(`${this.file}: truncated or corrupt (${raw.length} bytes, the IDX header needs ${this.expectedBytes})`);
    }
    return (this.data = raw);
  }
}

function readPrefix(file: string, n: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = fs.readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

function readAt4(file: string, pos: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    fs.readSync(fd, b, 0, 4, Math.max(0, pos));
    return b.readUInt32LE(0);
  } finally {
    fs.closeSync(fd);
  }
}

/** Pick `<base>` (.gz) or its uncompressed twin, whichever exists (the .gz first). */
function resolveIdx(root: string, gzName: string): string | undefined {
  const gz = path.join(root, gzName);
  if (fs.existsSync(gz)) return gz;
  const plain = gz.replace(/\.gz$/, '');
  return fs.existsSync(plain) ? plain : undefined;
}

/**
 * Open an MNIST-like split: 28x28 (any size, really) grey images from gzip IDX files.
 * Labels are read at once; pixels are decompressed on the first load().
 */
export async function openIdxSplit(
  dataset: string,
  root: string,
  split: string,
  classes: string[],
): Promise<ImageSource> {
  requireRoot(dataset, root);
  requireSplit(dataset, split, Object.keys(IDX_SPLITS));
  const names = idxFiles(split);
  const imgPath = resolveIdx(root, names.images);
  const lblPath = resolveIdx(root, names.labels);
  for (const [p, n] of [[imgPath, names.images], [lblPath, names.labels]] as const) {
    if (!p) {
      throw new UserError(`${dataset}: split '${split}' is missing ${path.join(root, n)} (fetch it with --download, or put the file there)`);
    }
  }
  const images = new IdxFile(imgPath!, 2051);
  const labelsFile = new IdxFile(lblPath!, 2049);
  const [n, rows, cols] = images.header.dims as [number, number, number];
  const nl = labelsFile.header.dims[0]!;
  if (nl !== n) throw new UserError(`${lblPath}: ${nl} labels, but ${imgPath} has ${n} images`);
  const lbytes = labelsFile.bytes().subarray(labelsFile.header.dataOffset);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = lbytes[i]!;
    if (y >= classes.length) throw new UserError(`${lblPath}: label ${y} at record ${i} is not below ${classes.length}`);
    labels[i] = y;
  }
  const fingerprint = fingerprintFiles(root, [path.relative(root, imgPath!), path.relative(root, lblPath!)]);
  const px = rows * cols;
  return {
    n,
    labels,
    classes: [...classes],
    fingerprint,
    async load(i: number): Promise<RawImage> {
      checkIndex(i, n);
      const all = images.bytes();
      const start = images.header.dataOffset + i * px;
      return { data: new Uint8Array(all.subarray(start, start + px)), width: cols, height: rows, channels: 1 };
    },
    describe: (i) => `${imgPath}#${i}`,
    // the same records gzipped or not: one identity
    imageId: (i) => `${path.basename(imgPath!).replace(/\.gz$/, '')}#${i}`,
  };
}
