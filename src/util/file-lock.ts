/**
 * A short-held, synchronous, crash-safe lock file: `file` is created with O_EXCL and holds { pid, hostname, token }.
 * A holder that died (its pid is gone on this host, or, on another host, the lock is older than `staleMs`) does
 * not block anyone: its lock is moved aside (one stealer wins the rename) and taken. For read-merge-write of small
 * files (the result tables), where holding it takes milliseconds.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { UserError } from '../errors.js';
import { isErrno, userFsError } from './fs.js';
import { pidAlive } from './process.js';

export interface FileLockOptions {
  /** give up (UserError) after waiting this long for a live holder; default 2 minutes */
  timeoutMs?: number;
  /** a lock from another host is stale after this long; default 1 minute */
  staleMs?: number;
  /** called once when we start waiting for a live holder */
  onWait?: (holder: string) => void;
}

interface Holder {
  pid: number;
  hostname: string;
  token: string;
}

/** an unparseable lock (its creator died between open and write) is stale after this long */
const UNPARSEABLE_GRACE_MS = 5_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function readHolder(file: string): { holder: Holder | null; mtimeMs: number } | null {
  try {
    const mtimeMs = fs.statSync(file).mtimeMs;
    try {
      const h = JSON.parse(fs.readFileSync(file, 'utf8')) as Holder;
      return { holder: typeof h.pid === 'number' && typeof h.token === 'string' ? h : null, mtimeMs };
    } catch {
      return { holder: null, mtimeMs };
    }
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
}

function isStale(cur: { holder: Holder | null; mtimeMs: number }, staleMs: number): boolean {
  const age = Date.now() - cur.mtimeMs;
  if (!cur.holder) return age > UNPARSEABLE_GRACE_MS;
  if (cur.holder.hostname === os.hostname()) return !pidAlive(cur.holder.pid);
  return age > staleMs;
}

/** Run `fn` holding the lock `file` (its directory must exist); the lock is removed afterwards, also when `fn` throws. */
export function withFileLockSync<T>(file: string, fn: () => T, opts: FileLockOptions = {}): T {
  const me: Holder = { pid: process.pid, hostname: os.hostname(), token: randomBytes(12).toString('hex') };
  const staleMs = opts.staleMs ?? 60_000;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let waited = false;
  for (;;) {
    try {
      const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
      try {
        fs.writeSync(fd, `${JSON.stringify(me)}\n`);
      } catch (e) {
        // a full disk: an empty lock of ours would hold others off until it went stale
        fs.closeSync(fd);
        fs.rmSync(file, { force: true });
        throw userFsError(e, file);
      }
      fs.closeSync(fd);
      break;
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw userFsError(e, file);
    }
    const cur = readHolder(file);
    if (!cur) continue; // released meanwhile
    if (isStale(cur, staleMs)) {
      const aside = `${file}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
      try {
        fs.renameSync(file, aside);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) continue;
        throw e;
      }
      const moved = readHolder(aside);
      // someone replaced the lock between our read and our rename: that one is live, put it back
      if (moved?.holder && moved.holder.token !== cur.holder?.token) {
        try {
          fs.linkSync(aside, file);
        } catch {
          /* yet another process holds it now */
        }
      }
      fs.rmSync(aside, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      const who = cur.holder ? `pid ${cur.holder.pid} on ${cur.holder.hostname}` : 'another process';
      throw new UserError(`${file} is held by ${who}; gave up waiting (remove it if that process is gone)`);
    }
    if (!waited) {
      waited = true;
      opts.onWait?.(cur.holder ? `pid ${cur.holder.pid}` : 'another process');
    }
    Atomics.wait(sleeper, 0, 0, 5 + Math.floor(Math.random() * 20));
  }
  try {
    return fn();
  } finally {
    if (readHolder(file)?.holder?.token === me.token) fs.rmSync(file, { force: true });
  }
}
