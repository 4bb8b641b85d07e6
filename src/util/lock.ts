import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { isErrno, userFsError, userFsErrorText } from './fs.js';
import { pidAlive } from './process.js';

/**
 * The one crash-safe lock file of clip-bench: a cache entry's write lock (`<entry>/lock`), the per-chunk claims of
 * sharded writers (`chunks/<start>-<end>.claim`, see cache/claims.ts), a hub download's partial
 * (`<partial>.lock`, hub/partial.ts) and a results table's read-merge-write (`<out>/.<table>.lock`, results/write.ts).
 *
 * A lock is a file created with O_EXCL holding { pid, hostname, created, token }. Its holder touches it as it makes
 * progress. The one stale rule: a lock is stale (and is stolen) when
 *   - its pid is not running on this host, or
 *   - it cannot be parsed (its creator died between open and write) and is older than UNPARSEABLE_GRACE_MS, or
 *   - neither the lock file nor its progress directory (an entry's chunks; none for the other locks) changed for
 *     `staleMs`: a holder on another host, or a hung one. Each user says how long its holder may stay silent
 *     (an entry 10 minutes, a download 2, a results table 1).
 * Stealing renames the lock aside first, so two waiters cannot both steal it; one that took a lock that was live
 * after all puts it back. The protocol is synchronous (a lock is a few small file operations), so the results
 * writer can hold one in synchronous code and the async users share the same implementation.
 */

export interface LockInfo {
  pid: number;
  hostname: string;
  created: string;
  token: string;
}

export interface LockOptions {
  /** a lock with no progress (lock or chunk mtimes) for this long is stale; default 10 minutes */
  staleMs?: number;
  /** how long to wait for a live holder before giving up (UserError); default: forever */
  timeoutMs?: number;
  /** poll interval while waiting; default 250 ms */
  pollMs?: number;
  /** called once when we start waiting for another live holder */
  onWait?: (holder: LockInfo | null) => void;
  /** called when a stale lock is stolen */
  onSteal?: (holder: LockInfo | null, why: string) => void;
}

export const DEFAULT_STALE_MS = 10 * 60_000;
/** a lock file we cannot parse (its creator died between open and write) is stale after this long */
const UNPARSEABLE_GRACE_MS = 30_000;

/** lock files this process holds -> their tokens (removed on exit, if still ours) */
const held = new Map<string, string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [p, token] of held) {
      try {
        if ((JSON.parse(fs.readFileSync(p, 'utf8')) as LockInfo).token === token) fs.unlinkSync(p);
      } catch {
        /* gone */
      }
    }
  });
}

interface LockRead {
  info: LockInfo | null;
  mtimeMs: number;
}

function readLock(file: string): LockRead | null {
  let text: string;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
  try {
    const j = JSON.parse(text) as LockInfo;
    if (typeof j.pid === 'number' && typeof j.hostname === 'string' && typeof j.token === 'string') return { info: j, mtimeMs: st.mtimeMs };
  } catch {
    /* partial */
  }
  return { info: null, mtimeMs: st.mtimeMs };
}

function newestMtime(dir: string): number {
  let newest = 0;
  try {
    newest = fs.statSync(dir).mtimeMs;
    for (const n of fs.readdirSync(dir)) {
      try {
        newest = Math.max(newest, fs.statSync(path.join(dir, n)).mtimeMs);
      } catch {
        /* raced */
      }
    }
  } catch {
    /* no dir */
  }
  return newest;
}

/** Why this lock is stale, or null if it is live (the stale rule above). */
function staleness(lock: LockRead, progressDir: string | null, staleMs: number): string | null {
  const { info } = lock;
  const now = Date.now();
  if (!info) return now - lock.mtimeMs > UNPARSEABLE_GRACE_MS ? 'unreadable lock file' : null;
  if (info.hostname === os.hostname() && !pidAlive(info.pid)) return `pid ${info.pid} is not running`;
  // a lock touched within staleMs is live whatever the chunks say: no need to stat them all (this runs in poll loops)
  if (now - lock.mtimeMs <= staleMs) return null;
  const progress = Math.max(lock.mtimeMs, progressDir === null ? 0 : newestMtime(progressDir));
  if (now - progress > staleMs) return `no progress for ${Math.round((now - progress) / 1000)} s`;
  return null;
}

export class EntryLock {
  private released = false;
  constructor(
    readonly file: string,
    readonly info: LockInfo,
  ) {}

  /** Do we still own the lock file? (false if someone judged us stale and stole it) */
  async stillHeld(): Promise<boolean> {
    if (this.released) return false;
    return this.ownsFile();
  }

  /** Mark progress (so that others do not judge us stale). */
  async touch(): Promise<void> {
    if (this.released) return;
    const t = new Date();
    await fsp.utimes(this.file, t, t).catch(() => {});
  }

  async release(): Promise<void> {
    this.releaseSync();
  }

  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.file);
    // only remove it if it is still ours
    if (this.ownsFile()) fs.rmSync(this.file, { force: true });
  }

  private ownsFile(): boolean {
    try {
      return readLock(this.file)?.info?.token === this.info.token;
    } catch {
      return false;
    }
  }
}

export interface TryLockOptions {
  /** a lock with no progress for this long is stale; default DEFAULT_STALE_MS */
  staleMs?: number;
  /** whose mtimes also count as the holder's progress (the chunks directory of an entry lock) */
  progressDir?: string;
  /** true: recreate the lock's directory if it vanished; false: a vanished directory is reported as 'gone' */
  recreateDir?: boolean;
  onSteal?: (holder: LockInfo | null, why: string) => void;
}

export type TryLockResult = { lock: EntryLock } | { holder: LockInfo | null; gone?: false } | { gone: true };

/**
 * One non-blocking attempt at `file` (O_EXCL): returns the lock, or the live holder, stealing a stale lock on the
 * way. `gone`: the directory no longer exists and recreateDir is false.
 */
export function tryLock(file: string, opts: TryLockOptions = {}): TryLockResult {
  const dir = path.dirname(file);
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  for (;;) {
    const info: LockInfo = {
      pid: process.pid,
      hostname: os.hostname(),
      created: new Date().toISOString(),
      token: randomBytes(12).toString('hex'),
    };
    try {
      const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
      try {
        fs.writeSync(fd, JSON.stringify(info) + '\n');
        fs.fsyncSync(fd);
      } catch (e) {
        // a full disk: an empty lock of ours would hold others off until it went stale
        fs.closeSync(fd);
        fs.rmSync(file, { force: true });
        throw userFsError(e, file);
      }
      fs.closeSync(fd);
      installExitHook();
      held.set(file, info.token);
      return { lock: new EntryLock(file, info) };
    } catch (e) {
      if (isErrno(e, 'ENOENT')) {
        if (!opts.recreateDir) return { gone: true };
        // the entry directory was removed under us (cache rm): recreate it
        fs.mkdirSync(dir, { recursive: true });
        continue;
      }
      if (!isErrno(e, 'EEXIST')) throw userFsError(e, file);
    }
    const cur = readLock(file);
    if (!cur) continue; // released meanwhile
    const why = staleness(cur, opts.progressDir ?? null, staleMs);
    if (!why) return { holder: cur.info };
    // steal: move it aside (only one stealer wins the rename), then check we moved the lock we judged
    const aside = `${file}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      fs.renameSync(file, aside);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) continue;
      throw e;
    }
    const moved = readLock(aside);
    if (moved && moved.info?.token !== cur.info?.token && (moved.info !== null || cur.info !== null)) {
      // someone replaced it between our read and our rename: it is live, put it back (unless yet another exists)
      try {
        fs.linkSync(aside, file);
      } catch {
        /* yet another process holds it now */
      }
      fs.rmSync(aside, { force: true });
      continue;
    }
    fs.rmSync(aside, { force: true });
    opts.onSteal?.(cur.info, why);
  }
}

/** Takes `<dir>/lock`, waiting for a live holder and stealing a stale one. `progressDir`: the chunks directory. */
export async function acquireLock(dir: string, progressDir: string, opts: LockOptions = {}): Promise<EntryLock> {
  const file = path.join(dir, 'lock');
  const pollMs = opts.pollMs ?? 250;
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let waited = false;
  await fsp.mkdir(dir, { recursive: true });
  for (;;) {
    const r = tryLock(file, { staleMs: opts.staleMs, progressDir, recreateDir: true, onSteal: opts.onSteal });
    if ('lock' in r) return r.lock;
    const h = r.gone ? null : r.holder;
    if (!waited) {
      waited = true;
      opts.onWait?.(h);
    }
    if (Date.now() >= deadline) {
      throw new UserError(
        `cache entry ${path.basename(dir)} is being written by ${h ? `pid ${h.pid} on ${h.hostname} (since ${h.created})` : 'another process'}; ` +
          `gave up waiting after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s (remove ${file} if that process is gone)`,
      );
    }
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}

/** 'none' (no lock file), 'live' (held by a live writer) or 'stale'. */
export function lockStatus(dir: string, progressDir: string | null, staleMs = DEFAULT_STALE_MS, file = path.join(dir, 'lock')): 'none' | 'live' | 'stale' {
  let cur: LockRead | null;
  try {
    cur = readLock(file);
  } catch {
    return 'none';
  }
  if (!cur) return 'none';
  return staleness(cur, progressDir, staleMs) ? 'stale' : 'live';
}

export interface FileLockOptions {
  /** give up (UserError) after waiting this long for a live holder; default 2 minutes */
  timeoutMs?: number;
  /** a holder silent for this long is stale; default 1 minute (holding it takes milliseconds) */
  staleMs?: number;
  /** called once when we start waiting for a live holder */
  onWait?: (holder: string) => void;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Run `fn` holding the lock `file` (its directory must exist), waiting synchronously for a live holder; the lock is
 * removed afterwards, also when `fn` throws. For read-merge-write of small files (the result tables).
 */
export function withFileLockSync<T>(file: string, fn: () => T, opts: FileLockOptions = {}): T {
  const staleMs = opts.staleMs ?? 60_000;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let waited = false;
  let lock: EntryLock;
  for (;;) {
    const r = tryLock(file, { staleMs });
    if ('lock' in r) {
      lock = r.lock;
      break;
    }
    if (r.gone) throw new UserError(`cannot write ${file}: ${userFsErrorText('ENOENT')} (ENOENT)`);
    const who = r.holder ? `pid ${r.holder.pid} on ${r.holder.hostname}` : 'another process';
    if (Date.now() > deadline) throw new UserError(`${file} is held by ${who}; gave up waiting (remove it if that process is gone)`);
    if (!waited) {
      waited = true;
      opts.onWait?.(r.holder ? `pid ${r.holder.pid}` : 'another process');
    }
    Atomics.wait(sleeper, 0, 0, 5 + Math.floor(Math.random() * 20));
  }
  try {
    return fn();
  } finally {
    lock.releaseSync();
  }
}
