import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const MIB = 1 << 20;

/**
 * Fingerprint of a set of files under `root` (relative paths, '/'-separated, independent of where
 * root is).
 * - mode 'content' (few large files: IDX, CIFAR/STL binaries): path + size + sha256 of the first
 *   and last MiB (the whole file when it is <= 2 MiB). gzip files end in their CRC32, so any change
 *   to a .gz shows; the file's location and mtime do not matter (a copied tree keeps its cache).
 * - mode 'stat' (many small files: image folders): path + size + mtime, stat only, so that a
 *   tree of 50,000 JPEGs costs no reads; touching a file invalidates (the safe direction).
 */
export function fingerprintFiles(root: string, relPaths: string[], mode: 'content' | 'stat'): string {
  const h = crypto.createHash('sha256');
  h.update(`clip-bench-fingerprint-v1 ${mode}\n`);
  const buf = mode === 'content' ? Buffer.allocUnsafe(MIB) : undefined;
  for (const rel of relPaths) {
    const file = path.join(root, rel);
    const relNorm = rel.split(path.sep).join('/');
    if (mode === 'stat') {
      const st = fs.statSync(file);
      h.update(`${relNorm}\0${st.size}\0${Math.round(st.mtimeMs)}\n`);
      continue;
    }
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      h.update(`${relNorm}\0${size}\n`);
      const fh = crypto.createHash('sha256');
      const readRange = (start: number, len: number): void => {
        let off = 0;
        while (off < len) {
          const got = fs.readSync(fd, buf!, 0, Math.min(buf!.length, len - off), start + off);
          if (got === 0) break;
          fh.update(buf!.subarray(0, got));
          off += got;
        }
      };
      if (size <= 2 * MIB) readRange(0, size);
      else {
        readRange(0, MIB);
        readRange(size - MIB, MIB);
      }
      h.update(fh.digest());
    } finally {
      fs.closeSync(fd);
    }
  }
  return h.digest('hex').slice(0, 32);
}
