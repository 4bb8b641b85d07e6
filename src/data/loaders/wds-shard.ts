import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { userCacheBase } from '../../defaults.js';
import { UserError } from '../../errors.js';
import { atomicWriteFileSync } from '../../util/fs.js';
import { scanTar, TarFormatError, type TarMember } from '../tar-scan.js';
import { parseNpyHeader } from '../../util/npy.js';

export const WDS_IMAGE_EXTENSIONS = ['webp', 'jpg', 'jpeg', 'png'];

/**
 * What one scan of a shard yields, one entry per sample in shard order (columns, not an object per sample: a split
 * of a million images stays a few arrays); kept on disk so that a later run does not read the shard again.
 */
export interface ShardIndex {
  sha256: string;
  size: number;
  keys: string[];
  /** where each sample's image is in the shard, and its extension (webp, jpg, ...) */
  offsets: number[];
  sizes: number[];
  exts: string[];
  /** the `.cls` text, parsed (-1 when the sample has none) */
  labels: number[];
  /** the `.npy` vectors (multilabel packages; null for a sample without one), or null when no sample has one */
  targets: (number[] | null)[] | null;
}

const INDEX_VERSION = 2;

/** Where shard indexes are kept: $XDG_CACHE_HOME/clip-bench/wds-index. */
export function defaultIndexDir(): string {
  return path.join(userCacheBase(), 'clip-bench', 'wds-index');
}

/**
 * The key a shard's index is kept under. A hub blob (blobs/<sha256>, immutable and verified when downloaded) is
 * known by its content hash, so a copied cache keeps its indexes; any other file by its real path, size, mtime,
 * inode and ctime, so that a file replaced or edited in place (even keeping size and mtime) is scanned again.
 */
function indexKey(file: string): { key: string; knownSha?: string; st: fs.Stats } {
  const real = fs.realpathSync(file);
  const st = fs.statSync(real);
  const base = path.basename(real);
  if (/^[0-9a-f]{64}$/.test(base) && path.basename(path.dirname(real)) === 'blobs') return { key: `sha256-${base}`, knownSha: base, st };
  const id = JSON.stringify([real, st.size, st.mtimeMs, st.ino, st.ctimeMs]);
  return { key: `stat-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`, st };
}

/** Read a kept index, or null when there is none (or it is unreadable: it is then rebuilt). */
function readKept(p: string, size: number): ShardIndex | null {
  try {
    const j = JSON.parse(fs.readFileSync(p, 'utf8')) as ShardIndex & { version: number };
    if (j.version !== INDEX_VERSION || j.size !== size || !Array.isArray(j.keys)) return null;
    const n = j.keys.length;
    if (![j.offsets, j.sizes, j.exts, j.labels].every((a) => Array.isArray(a) && a.length === n)) return null;
    if (j.targets !== null && !(Array.isArray(j.targets) && j.targets.length === n)) return null;
    return { sha256: j.sha256, size: j.size, keys: j.keys, offsets: j.offsets, sizes: j.sizes, exts: j.exts, labels: j.labels, targets: j.targets };
  } catch {
    return null;
  }
}

function splitName(name: string): { key: string; ext: string } | null {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  if (dot < 0) return null;
  return { key: name.slice(0, dot), ext: name.slice(dot + 1).toLowerCase() };
}

/** A `.npy` holding a 1-d vector of 0/1 values (float, int, uint or bool dtype): the values, or an error message. */
export function parseNpyVector(buf: Buffer): number[] | string {
  let h;
  try {
    h = parseNpyHeader(buf);
  } catch (e) {
    return (e as Error).message.startsWith('not a .npy file') ? 'not a .npy file' : (e as Error).message;
  }
  const dt = /^([<>|=])([fiub])(\d+)$/.exec(h.descr);
  if (!dt || h.fortranOrder) return `unsupported .npy header (dtype '${h.descr}'${h.fortranOrder ? ', Fortran order' : ''})`;
  // a vector: (n,), or a single row / column of one
  const n = h.shape.reduce((a, b) => a * b, 1);
  if (h.shape.length === 0 || h.shape.filter((d) => d !== 1).length > 1) return `.npy shape (${h.shape.join(', ')}) is not a vector`;
  const [, order, kind, bytesStr] = dt;
  const bytes = Number(bytesStr);
  const data = buf.subarray(h.dataOffset);
  if (data.length < n * bytes) return `.npy data shorter than its shape (${n} x ${bytes} bytes)`;
  const le = order !== '>';
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * bytes;
    let v: number;
    if (kind === 'f' && bytes === 4) v = le ? data.readFloatLE(o) : data.readFloatBE(o);
    else if (kind === 'f' && bytes === 8) v = le ? data.readDoubleLE(o) : data.readDoubleBE(o);
    else if ((kind === 'u' || kind === 'b') && bytes === 1) v = data[o]!;
    else if (kind === 'i' && bytes === 1) v = data.readInt8(o);
    else if (kind === 'i' && bytes === 4) v = le ? data.readInt32LE(o) : data.readInt32BE(o);
    else if (kind === 'i' && bytes === 8) v = Number(le ? data.readBigInt64LE(o) : data.readBigInt64BE(o));
    else return `unsupported .npy dtype '${h.descr}'`;
    if (v !== 0 && v !== 1) return `value ${v} at position ${i} is not 0 or 1`;
    out.push(v);
  }
  return out;
}

/**
 * Scan a shard into samples: members grouped by the name up to the first dot of its last path component (a
 * sample's members must be consecutive), one image each, its `.cls` parsed. Structural faults (truncated shard,
 * a sample without an image, a key seen twice, an unreadable label) are UserErrors naming the shard and sample.
 */
async function scanShard(file: string, shown: string): Promise<ShardIndex> {
  const small = new Map<string, Buffer>();
  let res: { members: TarMember[]; sha256: string };
  try {
    res = await scanTar(file, {
      wantData: (n) => /\.(cls|npy)$/i.test(n),
      onData: (m, data) => small.set(m.name, data),
    });
  } catch (e) {
    if (e instanceof TarFormatError) throw new UserError(`${shown}: ${e.message}`);
    throw e;
  }
  const ix: ShardIndex = { sha256: res.sha256, size: fs.statSync(file).size, keys: [], offsets: [], sizes: [], exts: [], labels: [], targets: null };
  const targets: (number[] | null)[] = [];
  const seen = new Set<string>();
  let cur: { key: string; image?: TarMember & { ext: string }; cls?: Buffer; npy?: Buffer } | null = null;
  const flush = (): void => {
    if (!cur) return;
    const { key } = cur;
    if (!cur.image) throw new UserError(`${shown}: sample ${key} has no image (.${WDS_IMAGE_EXTENSIONS.join('/.')})`);
    let label = -1;
    if (cur.cls) {
      const text = cur.cls.toString('utf8').trim();
      if (!/^\d+$/.test(text)) throw new UserError(`${shown}: sample ${key}: label ${JSON.stringify(text.slice(0, 20))} in ${key}.cls is not a class index`);
      label = Number(text);
      // no class list has 2^53 classes: a longer number is out of range whatever the package (never "label Infinity")
      if (!Number.isSafeInteger(label)) throw new UserError(`${shown}: sample ${key}: label ${text.slice(0, 20)}... (${text.length} digits) in ${key}.cls is not a class index`);
    }
    let target: number[] | undefined;
    if (cur.npy) {
      const v = parseNpyVector(cur.npy);
      if (typeof v === 'string') throw new UserError(`${shown}: sample ${key}: ${key}.npy: ${v}`);
      target = v;
    }
    ix.keys.push(key);
    ix.offsets.push(cur.image.offset);
    ix.sizes.push(cur.image.size);
    ix.exts.push(cur.image.ext);
    ix.labels.push(label);
    targets.push(target ?? null);
  };
  for (const m of res.members) {
    const parts = splitName(m.name);
    if (!parts) continue; // a member without an extension belongs to no sample
    if (!cur || parts.key !== cur.key) {
      flush();
      if (seen.has(parts.key)) throw new UserError(`${shown}: sample ${parts.key} appears twice (its members are not consecutive)`);
      seen.add(parts.key);
      cur = { key: parts.key };
    }
    if (WDS_IMAGE_EXTENSIONS.includes(parts.ext)) {
      if (cur.image) throw new UserError(`${shown}: sample ${parts.key} has two images (.${cur.image.ext}, .${parts.ext})`);
      cur.image = { ...m, ext: parts.ext };
    } else if (parts.ext === 'cls') cur.cls = small.get(m.name);
    else if (parts.ext === 'npy') cur.npy = small.get(m.name);
  }
  flush();
  if (targets.some((t) => t !== null)) ix.targets = targets;
  return ix;
}

/**
 * The index of a shard: kept from an earlier run, or scanned now. `check` validates it against the package
 * (labels present and in range) before it is kept, so a bad shard leaves nothing behind.
 */
export async function shardIndex(
  file: string,
  shown: string,
  indexDir: string,
  check: (ix: ShardIndex) => void,
  onScan?: () => void,
): Promise<ShardIndex> {
  const { key, knownSha, st } = indexKey(file);
  const kept = path.join(indexDir, `${key}.json`);
  const hit = readKept(kept, st.size);
  if (hit) {
    check(hit);
    return hit;
  }
  onScan?.();
  const ix = await scanShard(file, shown);
  if (knownSha && ix.sha256 !== knownSha) {
    throw new UserError(`${shown}: cached blob is corrupt (sha256 ${ix.sha256}, named ${knownSha}); delete it and download again`);
  }
  check(ix);
  atomicWriteFileSync(kept, JSON.stringify({ version: INDEX_VERSION, ...ix }));
  return ix;
}
