import fsp from 'node:fs/promises';
import path from 'node:path';
import { DEFAULTS } from '../defaults.js';
import type { RowRange } from './entry-format.js';
import { lockStatus, tryLock, type EntryLock, type LockInfo } from '../util/lock.js';

/**
 * Per-chunk claims, so that many processes (on many machines sharing one filesystem) fill one entry at once
 * without waiting for each other: `chunks/<start>-<end>.claim`, one per chunk of the entry's grid, created with
 * O_EXCL like the entry lock. The holder heartbeats its claims (mtime) while it works; a claim is stale, and taken
 * over, when its pid is dead on this host or, from any host, when its mtime is older than `staleMs`.
 */

export const CLAIM_RE = /^(\d+)-(\d+)\.claim$/;
/** a claim not touched for this long is stale (heartbeats come every CLAIM_HEARTBEAT_MS) */
export const CLAIM_STALE_MS = DEFAULTS.cacheClaimStaleMs;
export const CLAIM_HEARTBEAT_MS = DEFAULTS.cacheClaimHeartbeatMs;

export const claimName = (r: RowRange) => `${r.start}-${r.end}.claim`;

export interface ClaimOptions {
  staleMs?: number;
  onSteal?: (holder: LockInfo | null, why: string) => void;
}

export type ClaimResult = 'claimed' | 'taken' | 'gone';

/** The claims one writer holds. */
export class ChunkClaims {
  private readonly held = new Map<string, { range: RowRange; lock: EntryLock }>();
  constructor(
    private readonly chunksDir: string,
    private readonly opts: ClaimOptions = {},
  ) {}

  has(r: RowRange): boolean {
    return this.held.has(claimName(r));
  }

  /** the held claims, in row order */
  ranges(): RowRange[] {
    return [...this.held.values()].map((h) => h.range).sort((a, b) => a.start - b.start);
  }

  /** 'claimed' (now ours), 'taken' (a live claim of someone else) or 'gone' (the chunks folder was removed: assembled) */
  async claim(r: RowRange): Promise<ClaimResult> {
    if (this.has(r)) return 'claimed';
    const res = tryLock(path.join(this.chunksDir, claimName(r)), { staleMs: this.opts.staleMs ?? CLAIM_STALE_MS, recreateDir: false, onSteal: this.opts.onSteal });
    if ('lock' in res) {
      this.held.set(claimName(r), { range: r, lock: res.lock });
      return 'claimed';
    }
    return res.gone ? 'gone' : 'taken';
  }

  async release(r: RowRange): Promise<void> {
    const h = this.held.get(claimName(r));
    if (!h) return;
    this.held.delete(claimName(r));
    await h.lock.release();
  }

  async releaseAll(): Promise<void> {
    for (const r of this.ranges()) await this.release(r);
  }

  /** heartbeat: mark every held claim as alive */
  async touchAll(): Promise<void> {
    for (const h of this.held.values()) await h.lock.touch();
  }
}

/** Is any claim in chunksDir held by a live writer? */
export async function anyLiveClaim(chunksDir: string, staleMs = CLAIM_STALE_MS): Promise<boolean> {
  const names = await fsp.readdir(chunksDir).catch(() => [] as string[]);
  for (const name of names) {
    if (!CLAIM_RE.test(name)) continue;
    if (lockStatus(chunksDir, null, staleMs, path.join(chunksDir, name)) === 'live') return true;
  }
  return false;
}

