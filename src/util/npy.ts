/**
 * NumPy .npy (format v1.0) headers, written byte-for-byte as numpy.save writes them (numpy >= 1.23: with the
 * growth-axis padding), and a strict reader for the subset we write: little-endian, C order, '<f4' / '<i4' (and '|u1' / '<i2' for compact integer arrays).
 */

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

export type NpyDescr = '<f4' | '<i4' | '<i2' | '|u1';

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** byte offset of the data */
  dataOffset: number;
  major: number;
  minor: number;
}

function pyTuple(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return '(' + shape.join(', ') + ')';
}

/** The complete header (magic .. '\n') of a C-order array: its length is a multiple of 64. */
export function npyHeader(descr: NpyDescr, shape: readonly number[]): Buffer {
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) throw new Error(`npy: bad dimension ${d}`);
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pyTuple(shape)}, }`;
  // numpy pads so that the first axis may grow in place (np.lib.format._write_array_header)
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = Buffer.byteLength(dict, 'latin1') + 1; // + '\n'
  const padlen = ARRAY_ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ARRAY_ALIGN);
  const total = hlen + padlen;
  if (total > 0xffff) throw new Error('npy: header too long for format 1.0');
  const out = Buffer.alloc(MAGIC.length + 2 + 2 + total, 0x20);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(total, 8);
  out.write(dict, 10, 'latin1');
  out[out.length - 1] = 0x0a;
  return out;
}

/** Parses a .npy header from the start of a file; throws Error with a reason if it is not one. */
export function parseNpyHeader(buf: Uint8Array): NpyHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) throw new Error('not a .npy file (bad magic)');
  const major = b[6]!;
  const minor = b[7]!;
  let hlen: number;
  let start: number;
  if (major === 1) {
    hlen = b.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (b.length < 12) throw new Error('truncated .npy header');
    hlen = b.readUInt32LE(8);
    start = 12;
  } else throw new Error(`unsupported .npy version ${major}.${minor}`);
  if (b.length < start + hlen) throw new Error('truncated .npy header');
  const text = b.subarray(start, start + hlen).toString(major === 3 ? 'utf8' : 'latin1');
  if (!text.endsWith('\n')) throw new Error('.npy header does not end with a newline');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fo = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const sh = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fo || !sh) throw new Error(`malformed .npy header: ${text.trim()}`);
  const parts = sh[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const shape = parts.map((p) => {
    if (!/^\d+L?$/.test(p)) throw new Error(`malformed .npy shape: (${sh[1]})`);
    return Number.parseInt(p, 10);
  });
  return { descr: descr[1]!, fortranOrder: fo[1] === 'True', shape, dataOffset: start + hlen, major, minor };
}

/** A complete .npy file in memory (small arrays: labels). */
export function encodeNpy(descr: NpyDescr, shape: readonly number[], data: Float32Array | Int32Array | Int16Array | Uint8Array): Buffer {
  const header = npyHeader(descr, shape);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!LITTLE_ENDIAN) throw new Error('npy: big-endian hosts are not supported');
  return Buffer.concat([header, body]);
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
