import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';

/** Throw a UserError unless `root` is an existing directory. */
export function requireRoot(dataset: string, root: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new UserError(`${dataset}: dataset root ${root} does not exist`);
  }
  if (!st.isDirectory()) throw new UserError(`${dataset}: dataset root ${root} is not a directory`);
}

/** Throw a UserError unless `split` is one of `splits`. */
export function requireSplit(dataset: string, split: string, splits: readonly string[]): void {
  if (!splits.includes(split)) {
    throw new UserError(`${dataset}: unknown split '${split}' (known: ${splits.join(', ')})`);
  }
}

/** Throw a UserError naming the first of `files` (relative to root) that is missing. */
export function requireFiles(dataset: string, root: string, split: string, files: string[]): void {
  for (const f of files) {
    const p = path.join(root, f);
    if (!fs.existsSync(p)) {
      throw new UserError(
        `${dataset}: split '${split}' is missing ${p} (fetch it with --download, or put the file there)`,
      );
    }
  }
}

/** Read `len` bytes at `offset` of `file` (sync, positioned), throwing a UserError on a short read. */
export function readAt(file: string, offset: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  const fd = fs.openSync(file, 'r');
  try {
    let got = 0;
    while (got < len) {
      const r = fs.readSync(fd, buf, got, len - got, offset + got);
      if (r === 0) throw new UserError(`${file}: truncated (wanted ${len} bytes at offset ${offset})`);
      got += r;
    }
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

/** Check that i is a valid image index. */
export function checkIndex(i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`image index ${i} outside [0, ${n})`);
}
