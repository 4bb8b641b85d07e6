/**
 * The partial file of an interrupted hub download, kept so that a later attempt continues it with `Range`:
 * `blobs/<sha256>.incomplete` when the hub names the blob before the download starts (an LFS redirect with
 * X-Linked-Etag: the name huggingface_hub gives it too), else `blobs/url-<hash of the resolve URL>.incomplete`.
 * Beside it `<partial>.json` says which file it is and the validator (strong ETag or Last-Modified) of the response
 * it came from, sent as If-Range so that a changed file is never spliced, and `<partial>.lock` (src/util/lock.ts)
 * keeps two processes from writing it at once.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryLock, type EntryLock } from '../util/lock.js';
import { UserError } from '../errors.js';
import { atomicWriteFileSync, isErrno } from '../util/fs.js';

export const PARTIAL_SUFFIX = '.incomplete';

/** What `<partial>.json` records. */
export interface PartialMeta {
  /** the file's path in the repository */
  file: string;
  /** the resolve URL it was fetched from */
  url: string;
  /** strong ETag of the response the bytes came from */
  etag?: string;
  /** its Last-Modified (used when there is no strong ETag) */
  lastModified?: string;
}

/** A lock not touched for this long, by a holder on another host, is stale (a live download touches it every 20 s). */
const STALE_MS = 2 * 60_000;
const TOUCH_MS = 20_000;
const POLL_MS = 200;

export class Partial {
  readonly path: string;
  constructor(
    readonly blobs: string,
    readonly key: string,
    /** named by the content's sha256 (the hub's LFS hash): its bytes are checked against it, no validator needed */
    readonly byContentHash: boolean,
  ) {
    this.path = path.join(blobs, key + PARTIAL_SUFFIX);
  }

  get metaPath(): string {
    return this.path + '.json';
  }

  get lockPath(): string {
    return this.path + '.lock';
  }

  size(): number {
    try {
      return statSync(this.path).size;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return 0;
      throw e;
    }
  }

  meta(): PartialMeta | null {
    return readMeta(this.metaPath);
  }

  writeMeta(m: PartialMeta): void {
    atomicWriteFileSync(this.metaPath, JSON.stringify(m) + '\n');
  }

  /** The If-Range value a resumed request sends (null: resume needs none, the content hash decides). */
  ifRange(): string | null {
    if (this.byContentHash) return null;
    const m = this.meta();
    return m?.etag ?? m?.lastModified ?? null;
  }

  /**
   * How many bytes a resumed request can continue from: the partial's size when it can be checked (named by its
   * content hash, or with a validator to send as If-Range); anything else is deleted and 0 returned.
   */
  resumableBytes(): number {
    const n = this.size();
    if (n > 0 && (this.byContentHash || this.ifRange() !== null)) return n;
    if (n > 0 || this.meta()) this.discard();
    return 0;
  }

  /** Does a response's validator still match the one the partial's bytes came from? */
  sameValidator(headers: Headers): boolean {
    if (this.byContentHash) return true;
    const m = this.meta();
    if (m?.etag) return strongEtag(headers.get('etag')) === m.etag;
    if (m?.lastModified) return headers.get('last-modified') === m.lastModified;
    return false;
  }

  discard(): void {
    rmSync(this.path, { force: true });
    rmSync(this.metaPath, { force: true });
  }
}

function readMeta(file: string): PartialMeta | null {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as PartialMeta;
    return typeof m.file === 'string' && typeof m.url === 'string' ? m : null;
  } catch {
    return null;
  }
}

/** A strong ETag as sent (quotes kept, as If-Range needs it), or undefined for none or a weak one. */
export function strongEtag(raw: string | null): string | undefined {
  const v = raw?.trim();
  return v && !v.startsWith('W/') ? v : undefined;
}

/** The partial of `file` fetched from `resolveUrl`: by the blob's sha256 when the hub has named it, else by URL. */
export function partialFor(blobs: string, file: string, resolveUrl: string, sha256: string | null): Partial {
  if (sha256) return new Partial(blobs, sha256, true);
  const h = createHash('sha256').update(`${resolveUrl}\0${file}`).digest('hex').slice(0, 32);
  return new Partial(blobs, `url-${h}`, false);
}

/** Thrown after waiting for another process's download of the same partial: the caller starts again (it is likely cached now). */
export class WaitedForOther extends Error {}


/**
 * Take the partial's lock. When another live process holds it, wait until it is released (a dead holder's lock is
 * stolen: a SIGKILLed download does not block the next run), then throw WaitedForOther. The returned lock is
 * touched every 20 s until released, so that waiters on other hosts do not take it for stale.
 */
export async function lockPartial(p: Partial, onWait?: (holder: string) => void): Promise<{ release(): Promise<void> }> {
  let waited = false;
  for (;;) {
    const r = tryLock(p.lockPath, { staleMs: STALE_MS, recreateDir: true });
    if ('lock' in r) {
      if (waited) {
        await r.lock.release();
        throw new WaitedForOther();
      }
      return keepAlive(r.lock);
    }
    if (!waited) {
      waited = true;
      const h = 'holder' in r ? r.holder : null;
      onWait?.(h ? `pid ${h.pid}${h.hostname === os.hostname() ? '' : ` on ${h.hostname}`}` : 'another process');
    }
    await sleep(POLL_MS);
  }
}

function keepAlive(lock: EntryLock): { release(): Promise<void> } {
  const timer = setInterval(() => void lock.touch(), TOUCH_MS);
  timer.unref();
  return {
    release: async () => {
      clearInterval(timer);
      await lock.release();
    },
  };
}

/** Feed the first `n` bytes of `file` to `hashes` (the prefix a resumed download continues). */
export async function hashPrefix(file: string, n: number, hashes: (Hash | null)[]): Promise<void> {
  let read = 0;
  for await (const chunk of createReadStream(file, { start: 0, end: n - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (const h of hashes) h?.update(chunk);
    read += chunk.length;
  }
  if (read !== n) throw new UserError(`${file}: partial download shorter than expected (${read} of ${n} bytes)`);
}

/**
 * Remove the partials of `file` other than `keep` (an older version's, left by an interrupted download): those whose
 * `.json` names the same file and whose lock is free. Partials without a `.json` (huggingface_hub's) are left alone.
 */
export async function removeOtherPartials(blobs: string, file: string, keep: Partial): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(blobs);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.endsWith(PARTIAL_SUFFIX + '.json') || n === path.basename(keep.metaPath)) continue;
    if (readMeta(path.join(blobs, n))?.file !== file) continue;
    const other = new Partial(blobs, n.slice(0, -(PARTIAL_SUFFIX.length + 5)), false);
    const r = tryLock(other.lockPath, { staleMs: STALE_MS });
    if (!('lock' in r)) continue; // being downloaded right now
    try {
      other.discard();
    } finally {
      await r.lock.release();
    }
  }
}
