import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';

/** A unique suffix for temp files: `.tmp-<pid>-<random>`. Anything matching TMP_RE is a leftover temp file. */
export function tmpSuffix(): string {
  return `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}
export const TMP_RE = /\.tmp-\d+-[0-9a-f]+$/;

/** fsync a directory so a rename in it is durable (best effort: some filesystems refuse). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    /* not supported here */
  } finally {
    await fh?.close().catch(() => {});
  }
}

/** File-system errors the user can act on (a full disk, a read-only or forbidden place), by errno code. */
const USER_FS_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'a file is in the way',
};

/**
 * `e` as a UserError naming `file` when it is a file-system error the user can fix (Node's write errors carry
 * no path: "ENOSPC: no space left on device, write"); any other error unchanged.
 */
export function userFsError(e: unknown, file: string, action = 'cannot write'): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && code in USER_FS_ERRORS) return new UserError(`${action} ${file}: ${USER_FS_ERRORS[code]} (${code})`);
  return e;
}

/** The description of a user-fixable file-system error code, or undefined. */
export function userFsErrorText(code: string | undefined): string | undefined {
  return code && code in USER_FS_ERRORS ? USER_FS_ERRORS[code] : undefined;
}

/**
 * Writes buffers to `<file>.tmp-*`, fsyncs, renames over `file`, fsyncs the directory. A failure leaves no temp
 * file; a full disk (or any error the user can fix) is a UserError naming the file.
 */
export async function atomicWriteFile(file: string, ...parts: Uint8Array[]): Promise<void> {
  const tmp = file + tmpSuffix();
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'w');
    for (const p of parts) await writeAll(fh, p);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, file);
  } catch (e) {
    await fh?.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw userFsError(e, file);
  }
  await fsyncDir(path.dirname(file));
}

/** Synchronous atomicWriteFile (same temp-name scheme): for small files written at the end of a command. */
export function atomicWriteFileSync(file: string, data: string | Uint8Array): void {
  ensureDir(path.dirname(file));
  const tmp = file + tmpSuffix();
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw userFsError(e, file);
  }
}

/**
 * Files that belong together (a table's CSV and JSON): every temp file is written before any is renamed, so a
 * failed write (a full disk) leaves all of them as they were; a failure leaves no temp file.
 */
export function atomicWriteFilesSync(files: ReadonlyArray<readonly [string, string | Uint8Array]>): void {
  const written: string[] = [];
  let current = '';
  try {
    for (const [file, data] of files) {
      current = file;
      ensureDir(path.dirname(file));
      const tmp = file + tmpSuffix();
      written.push(tmp);
      fs.writeFileSync(tmp, data);
    }
    files.forEach(([file], i) => {
      current = file;
      fs.renameSync(written[i]!, file);
    });
  } catch (e) {
    for (const tmp of written) fs.rmSync(tmp, { force: true });
    throw userFsError(e, current);
  }
}

/** stat, or undefined where nothing is (ENOENT, or a file where a directory should be: ENOTDIR). */
function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw userFsError(e, p, 'cannot read');
  }
}

/**
 * `mkdir -p` that always ends: Node's recursive mkdir spins at 100% CPU forever where mkdir fails with ENOENT
 * although the parent exists (`/proc/x`, `/sys/x`). Creates one level at a time; a failure (or a file in the
 * way) is a UserError naming the directory.
 */
export function ensureDir(dir: string): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    const st = statOrUndefined(p);
    if (st) {
      if (!st.isDirectory()) throw new UserError(`cannot create directory ${dir}: ${p} is not a directory`);
      break;
    }
    missing.push(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const m of missing.reverse()) {
    try {
      fs.mkdirSync(m);
    } catch (e) {
      if (isErrno(e, 'EEXIST') && statOrUndefined(m)?.isDirectory()) continue; // made meanwhile
      const code = (e as NodeJS.ErrnoException).code;
      // ENOENT with the parent present: a file system that has no such entries (/proc, /sys)
      const why = userFsErrorText(code) ?? (code === 'ENOENT' ? `${path.dirname(m)} does not allow creating ${path.basename(m)}` : (e as Error).message);
      throw new UserError(`cannot create directory ${dir}: ${why}${code ? ` (${code})` : ''}`);
    }
  }
}

/**
 * Before any work: `dir` (an output folder given by `flag`) exists or can be made, and can be written. A run of
 * minutes must not fail at its end on a typo in --out.
 */
export function checkOutputDir(flag: string, dir: string): void {
  const st = statOrUndefined(dir);
  if (st && !st.isDirectory()) throw new UserError(`${flag} ${dir}: a file, not a directory`);
  try {
    ensureDir(dir);
  } catch (e) {
    throw new UserError(`${flag} ${dir}: ${(e as Error).message}`);
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new UserError(`${flag} ${dir}: ${userFsErrorText((e as NodeJS.ErrnoException).code) ?? 'not writable'}`);
  }
}

/** Before any work: `file` (an output file given by `flag`) is not a directory and its folder is writable. */
export function checkOutputFile(flag: string, file: string): void {
  if (statOrUndefined(file)?.isDirectory()) throw new UserError(`${flag} ${file}: a directory, not a file`);
  checkOutputDir(flag, path.dirname(path.resolve(file)));
}

/**
 * The text of a file given by `what` (a flag and its value, for messages): a missing file, a directory or binary
 * content (NUL bytes, invalid UTF-8) is a UserError, so that raw bytes never reach the terminal.
 */
export function readTextFile(file: string, what: string): string {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : (userFsErrorText(code) ?? (e as Error).message);
    throw new UserError(`${what}: ${why}`);
  }
  const text = buf.toString('utf8');
  if (buf.includes(0) || text.includes('\uFFFD')) throw new UserError(`${what}: not a UTF-8 text file`);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Writes all of `data` at the current position (handles short writes). */
export async function writeAll(fh: fsp.FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) {
    const { bytesWritten } = await fh.write(data, off, data.byteLength - off);
    off += bytesWritten;
  }
}

/** Reads exactly `length` bytes at `position` into `into` (from `offset`); throws on a short file. */
export async function readExactly(fh: fsp.FileHandle, into: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(into, offset + done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file (wanted ${length} bytes at ${position}, got ${done})`);
    done += bytesRead;
  }
}

/** Total size of the plain files under a path (0 if missing). */
export async function duBytes(p: string): Promise<number> {
  let st: fs.Stats;
  try {
    st = await fsp.lstat(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let total = 0;
  let names: string[] = [];
  try {
    names = await fsp.readdir(p);
  } catch {
    return 0;
  }
  for (const n of names) total += await duBytes(path.join(p, n));
  return total;
}

export function isErrno(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');
}
