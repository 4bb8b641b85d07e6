import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { userCacheBase } from '../defaults.js';
import { atomicWriteFileSync } from './fs.js';

const MIB = 1 << 20;
const MEMO_VERSION = 1;
/** files changed less than this long ago are hashed but not remembered */
const RACY_NS = 2_000_000_000n;

/** One memo line: the stat that the digest was computed under. */
interface MemoEntry {
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  sha256: string;
}
interface MemoFile {
  version: number;
  root: string;
  files: Record<string, MemoEntry>;
}

/**
 * Fingerprint of a set of files under `root`: relative path ('/'-separated) and the sha256 of the whole content of
 * every file, so that any change to any byte shows, and a copied or moved tree keeps its cache.
 *
 * Hashing all of ImageNet's files on every run would be slow, so each file's digest is remembered in a memo
 * (`$XDG_CACHE_HOME/clip-bench/file-hashes/`) under its size, mtime, ctime and inode (nanoseconds). A memo entry is
 * used only when all four are unchanged; ctime cannot be set from user space (`cp -p`, `rsync -a`, `tar` and
 * `touch -d` restore mtime, but the kernel sets ctime to now on every write, rename or chmod), so an edited file is
 * always re-read; a file changed in the last 2 seconds is not remembered at all (see `racy` below). What is not detected: a change that restores ctime too (rewinding the system clock, or writing
 * the block device directly). The memo is an optimisation: when it cannot be read or written, files are hashed.
 */
export function fingerprintFiles(root: string, relPaths: string[], opts: { nowNs?: bigint } = {}): string {
  const h = crypto.createHash('sha256');
  h.update('clip-bench-fingerprint-v2 sha256\n');
  for (const f of fileDigests(root, relPaths, opts)) h.update(`${f.rel}\0${f.size}\0${f.sha256}\n`);
  return h.digest('hex').slice(0, 32);
}

/**
 * The sha256 of the whole content of each file under `root` ('/'-separated relative paths, and sizes), through
 * the memo described at {@link fingerprintFiles}: a file is read only when its size, mtime, ctime or inode changed.
 * Also serves model files outside the hub cache (src/model/file-hash.ts), so a local 1.7 GB export is not
 * re-read on every run.
 */
export function fileDigests(root: string, relPaths: string[], opts: { nowNs?: bigint } = {}): { rel: string; size: string; sha256: string }[] {
  const memo = readMemo(root);
  // "racy" files (git's term): the kernel's clock for ctime is coarse (a few ms), so a file changed again within
  // the same tick after being hashed could keep its ctime; only files unchanged for RACY_NS are remembered
  const memoBefore = (opts.nowNs ?? BigInt(Date.now()) * 1_000_000n) - RACY_NS;
  let changed = false;
  const buf = Buffer.allocUnsafe(MIB);
  const out: { rel: string; size: string; sha256: string }[] = [];
  for (const rel of relPaths) {
    const relNorm = rel.split(path.sep).join('/');
    const file = path.join(root, rel);
    const fd = fs.openSync(file, 'r');
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      const stat = { size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino) };
      const known = memo.files[relNorm];
      let digest: string;
      if (known && known.size === stat.size && known.mtimeNs === stat.mtimeNs && known.ctimeNs === stat.ctimeNs && known.ino === stat.ino) {
        digest = known.sha256;
      } else {
        digest = hashOpenFile(fd, buf);
        if (st.ctimeNs < memoBefore && st.mtimeNs < memoBefore) {
          memo.files[relNorm] = { ...stat, sha256: digest };
          changed = true;
        }
      }
      out.push({ rel: relNorm, size: stat.size, sha256: digest });
    } finally {
      fs.closeSync(fd);
    }
  }
  if (changed) writeMemo(root, memo);
  return out;
}

function hashOpenFile(fd: number, buf: Buffer): string {
  const fh = crypto.createHash('sha256');
  for (let pos = 0; ; ) {
    const got = fs.readSync(fd, buf, 0, buf.length, pos);
    if (got === 0) break;
    fh.update(buf.subarray(0, got));
    pos += got;
  }
  return fh.digest('hex');
}

/** The memo file of a dataset root (by its absolute, symlink-resolved path). */
export function memoFileFor(root: string): string {
  const abs = realpathOr(root);
  const id = crypto.createHash('sha256').update(abs).digest('hex').slice(0, 24);
  return path.join(userCacheBase(), 'clip-bench', 'file-hashes', `${id}.json`);
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function readMemo(root: string): MemoFile {
  const empty: MemoFile = { version: MEMO_VERSION, root: realpathOr(root), files: {} };
  try {
    const m = JSON.parse(fs.readFileSync(memoFileFor(root), 'utf8')) as MemoFile;
    if (m && m.version === MEMO_VERSION && m.root === empty.root && m.files && typeof m.files === 'object') return m;
  } catch {
    /* no memo yet, or an unreadable one: hash everything */
  }
  return empty;
}

function writeMemo(root: string, memo: MemoFile): void {
  try {
    atomicWriteFileSync(memoFileFor(root), JSON.stringify(memo));
  } catch {
    /* a read-only cache: the next run hashes again */
  }
}
