/** Managing the cache: listing entries (complete or not) and removing them. */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { duBytes, isErrno } from '../util/fs.js';
import { canonicalJson, type CacheKey } from './key.js';
import { anyLiveClaim } from './claims.js';
import { lockStatus } from '../util/lock.js';
import { CHUNK_RE, CHUNKS_DIR, LAYOUT_FILE, mergeRanges, META_FILE, readJson, type CacheMeta, type Layout, type RowRange } from './entry-format.js';

export interface CacheEntryRow {
  hash: string;
  dir: string;
  dataset: string | null;
  split: string | null;
  kind: 'image' | 'text' | null;
  modelName: string | null;
  modelIdentity: string | null;
  /** the entry's key (from meta.json or chunks/layout.json) */
  key: CacheKey | null;
  n: number | null;
  dim: number | null;
  /** size of all files of the entry */
  bytes: number;
  /** ISO time: completion for complete entries, start for incomplete ones */
  created: string | null;
  /** meta.json present */
  complete: boolean;
  /** rows in complete chunks (incomplete entries), n for complete ones */
  rowsDone: number | null;
  /** a live process holds the entry's lock or claims one of its chunks */
  writing: boolean;
}

const HEX2 = /^[0-9a-f]{2}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Every entry under cacheDir, complete (meta.json present) or not (chunks without meta.json), sorted by dataset. */
export async function listEntries(cacheDir: string): Promise<CacheEntryRow[]> {
  const rows: CacheEntryRow[] = [];
  let tops: string[];
  try {
    tops = await fsp.readdir(cacheDir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw new UserError(`cannot read cache directory ${cacheDir}: ${(e as Error).message}`);
  }
  for (const top of tops.filter((t) => HEX2.test(t)).sort()) {
    let hashes: string[];
    try {
      hashes = await fsp.readdir(path.join(cacheDir, top));
    } catch {
      continue;
    }
    for (const hash of hashes.filter((h) => HEX64.test(h) && h.startsWith(top)).sort()) {
      const dir = path.join(cacheDir, top, hash);
      const row: CacheEntryRow = {
        hash,
        dir,
        dataset: null,
        split: null,
        kind: null,
        modelName: null,
        modelIdentity: null,
        key: null,
        n: null,
        dim: null,
        bytes: await duBytes(dir),
        created: null,
        complete: false,
        rowsDone: null,
        writing: lockStatus(dir, path.join(dir, CHUNKS_DIR)) === 'live' || (await anyLiveClaim(path.join(dir, CHUNKS_DIR))),
      };
      const meta = (await readJson(path.join(dir, META_FILE)).catch(() => undefined)) as CacheMeta | undefined;
      const info = meta ?? ((await readJson(path.join(dir, CHUNKS_DIR, LAYOUT_FILE)).catch(() => undefined)) as Layout | undefined);
      if (info && typeof info === 'object') {
        row.dataset = info.key?.dataset ?? null;
        row.split = info.key?.split ?? null;
        row.kind = info.key?.kind ?? null;
        row.modelIdentity = info.key?.modelIdentity ?? null;
        row.key = info.key ?? null;
        row.modelName = info.label?.modelName ?? null;
        row.n = info.n ?? null;
        row.dim = info.dim ?? null;
      }
      if (meta) {
        row.complete = true;
        row.created = meta.created ?? null;
        row.rowsDone = meta.n ?? null;
      } else {
        row.created = (info as Layout | undefined)?.started ?? null;
        const ranges: RowRange[] = [];
        for (const name of await fsp.readdir(path.join(dir, CHUNKS_DIR)).catch(() => [] as string[])) {
          const m = CHUNK_RE.exec(name);
          if (m) ranges.push({ start: Number(m[1]), end: Number(m[2]) });
        }
        row.rowsDone = mergeRanges(ranges).reduce((a, r) => a + r.end - r.start, 0);
      }
      if (!row.created) row.created = await fsp.stat(dir).then((s) => s.mtime.toISOString(), () => null);
      rows.push(row);
    }
  }
  return rows;
}

export interface RemoveFilter {
  dataset?: string;
  /** the model's display name, or a prefix (>= 6 hex digits) of its identity */
  model?: string;
  split?: string;
  kind?: 'image' | 'text';
  /** a prefix of the entry hash */
  hash?: string;
  /** true: only incomplete entries; false: only complete ones; absent: both */
  incomplete?: boolean;
  /** entries of this key on another version of the dataset's files (all of the key but datasetFingerprint) */
  otherFingerprintOf?: CacheKey;
  /** required when no other criterion is given */
  all?: boolean;
}

export interface RemoveResult {
  removed: number;
  bytes: number;
  /** matching entries left alone because a live process is writing them */
  busy: number;
}

export function matchesFilter(row: CacheEntryRow, f: RemoveFilter): boolean {
  if (f.dataset !== undefined && row.dataset !== f.dataset) return false;
  if (f.split !== undefined && row.split !== f.split) return false;
  if (f.kind !== undefined && row.kind !== f.kind) return false;
  if (f.hash !== undefined && !row.hash.startsWith(f.hash.toLowerCase())) return false;
  if (f.model !== undefined) {
    const byName = row.modelName === f.model;
    const byId = f.model.length >= 6 && row.modelIdentity !== null && row.modelIdentity.startsWith(f.model);
    if (!byName && !byId) return false;
  }
  if (f.incomplete !== undefined && row.complete === f.incomplete) return false;
  if (f.otherFingerprintOf !== undefined) {
    const o = f.otherFingerprintOf;
    if (!row.key || row.key.datasetFingerprint === o.datasetFingerprint) return false;
    if (canonicalJson({ ...row.key, datasetFingerprint: '' }) !== canonicalJson({ ...o, datasetFingerprint: '' })) return false;
  }
  return true;
}

/** Removes the matching entries (each disappears atomically: renamed aside, then deleted). */
export async function removeEntries(cacheDir: string, filter: RemoveFilter): Promise<RemoveResult> {
  const criteria = ['dataset', 'model', 'split', 'kind', 'hash', 'incomplete', 'otherFingerprintOf'] as const;
  if (!filter.all && !criteria.some((c) => filter[c] !== undefined))
    throw new UserError('cache rm: give a filter (--dataset, --model, --split, --kind, --incomplete, a hash) or --all');
  const res: RemoveResult = { removed: 0, bytes: 0, busy: 0 };
  for (const row of await listEntries(cacheDir)) {
    if (!matchesFilter(row, filter)) continue;
    if (row.writing) {
      res.busy++;
      continue;
    }
    const trash = path.join(cacheDir, `.trash-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await fsp.rename(row.dir, trash);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) continue;
      throw e;
    }
    await fsp.rm(trash, { recursive: true, force: true });
    await fsp.rmdir(path.dirname(row.dir)).catch(() => {}); // the 2-hex directory, if now empty
    res.removed++;
    res.bytes += row.bytes;
  }
  return res;
}
