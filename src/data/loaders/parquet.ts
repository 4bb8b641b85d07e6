import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { UserError } from '../../errors.js';
import type { ImageSource } from '../types.js';
import { mapClassesByName } from '../class-map.js';
import { fileDigests } from '../../util/fingerprint.js';
import { decodeImage } from '../../image/decode.js';
import { checkIndex } from './common.js';

/**
 * A split of a dataset in the Hugging Face datasets layout: parquet shards `<split>-00000-of-000NN[-hash].parquet`
 * (under data/ on the hub), an image column (a struct of `bytes` and `path`, the `Image` feature) and a label column
 * (an integer column, the `ClassLabel` feature) whose class names are in the `huggingface` key of each file's
 * key-value metadata.
 */

/** `<split>-<i>-of-<n>[-<anything>].parquet`: the split, the shard's number and the count of shards. */
export const SHARD_NAME = /^(.+?)-(\d{5})-of-(\d{5})(?:-[^/]*)?\.parquet$/;

export interface ParquetShardName {
  split: string;
  index: number;
  count: number;
}

export function parseShardName(file: string): ParquetShardName | null {
  const m = SHARD_NAME.exec(path.basename(file));
  return m ? { split: m[1]!, index: Number(m[2]), count: Number(m[3]) } : null;
}

/**
 * The shards of `split` among `files` (relative paths), in shard order, and whether they are all there
 * (`<i>-of-<n>` for every i < n). Throws a UserError when shards of one split disagree on their count or repeat.
 */
export function splitShards(files: string[], split: string, shown: string): { shards: string[]; missing: number[]; count: number } | null {
  const mine = files.map((f) => ({ f, s: parseShardName(f) })).filter((x) => x.s?.split === split);
  if (mine.length === 0) return null;
  const count = mine[0]!.s!.count;
  const bad = mine.find((x) => x.s!.count !== count);
  if (bad) throw new UserError(`${shown}: shards of split '${split}' disagree on their count (${mine[0]!.f} says ${count}, ${bad.f} says ${bad.s!.count})`);
  const at = new Map<number, string>();
  for (const x of mine) {
    const other = at.get(x.s!.index);
    if (other !== undefined) throw new UserError(`${shown}: shard ${x.s!.index} of split '${split}' is there twice (${other}, ${x.f})`);
    at.set(x.s!.index, x.f);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !at.has(i));
  return { shards: [...at.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]), missing, count };
}

/** The splits named by shard files among `files`. */
export function shardSplits(files: string[]): string[] {
  return [...new Set(files.map((f) => parseShardName(f)?.split).filter((s): s is string => s !== undefined))].sort();
}

/** Every file under `dir` (relative, '/'-separated), following the snapshot's symlinks. */
export function listTree(dir: string, prefix = ''): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(dir, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    if (e.name.startsWith('.')) return [];
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    const st = fs.statSync(path.join(dir, rel), { throwIfNoEntry: false });
    if (!st) return [];
    return st.isDirectory() ? listTree(dir, rel) : [rel];
  });
}

/** A `datasets` feature as the parquet metadata stores it (only what clip-bench reads). */
export interface HfFeature {
  _type?: string;
  names?: string[];
}

export interface ParquetColumns {
  /** the ClassLabel column (default: `label`, else the only ClassLabel feature) */
  label?: string;
  /** the Image column (default: `image`, else the only Image feature) */
  image?: string;
}

/**
 * One frame per video (UCF101's frames): rows are grouped by the values of `videoColumns` (and the label), and of
 * each group the middle one by `frameColumn` is kept: the frame at position floor(n/2) of the n frames present,
 * in frame order.
 */
export interface MiddleFrame {
  videoColumns: string[];
  frameColumn: string;
}

export interface OpenParquetOptions {
  /** the dataset's name, for messages */
  datasetName: string;
  split: string;
  columns?: ParquetColumns;
  /** the paper's class names: the dataset's ClassLabel names are mapped onto them by name */
  paperClasses?: string[];
  /** names replacing the dataset's by index (--classnames) */
  classNames?: string[];
  middleFrame?: MiddleFrame;
  /** features from the dataset card (README.md), for what the parquet metadata does not name */
  cardFeatures?: Record<string, HfFeature>;
  /** decoded row groups kept in memory (each holds its rows' encoded images) */
  rowGroupCache?: number;
}

interface Shard {
  file: string;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
  /** first row of each row group, and the file's row count last */
  groupStarts: number[];
}

const toNumber = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));

/** The `huggingface` features of a file's metadata ({} when it has none). */
function hfFeatures(md: FileMetaData, file: string): Record<string, HfFeature> {
  const kv = md.key_value_metadata?.find((e) => e.key === 'huggingface');
  if (!kv?.value) return {};
  try {
    const j = JSON.parse(kv.value) as { info?: { features?: Record<string, HfFeature> } };
    return j.info?.features ?? {};
  } catch {
    throw new UserError(`${file}: the 'huggingface' metadata is not JSON`);
  }
}

async function openShard(file: string): Promise<Shard> {
  let buffer: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    buffer = await asyncBufferFromFile(file);
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw new UserError(`${file}: not a readable parquet file (${(e as Error).message}); a truncated download? delete it to fetch it again`);
  }
  const groupStarts = [0];
  for (const rg of metadata.row_groups) groupStarts.push(groupStarts[groupStarts.length - 1]! + toNumber(rg.num_rows));
  return { file, buffer, metadata, groupStarts };
}

/** The column of `type` features: the one asked for, else `preferred`, else the only one. */
function pickColumn(features: Record<string, HfFeature>, columns: string[], type: string, asked: string | undefined, preferred: string, flag: string, shown: string): string {
  const ofType = Object.keys(features).filter((k) => features[k]!._type === type);
  if (asked !== undefined) {
    if (!columns.includes(asked)) throw new UserError(`${flag} ${asked}: ${shown} has no such column (columns: ${columns.join(', ')})`);
    return asked;
  }
  if (columns.includes(preferred) && (ofType.length === 0 || ofType.includes(preferred))) return preferred;
  if (ofType.length === 1) return ofType[0]!;
  const which = ofType.length ? `${ofType.length} ${type} columns (${ofType.join(', ')})` : `no ${type} column named in its 'huggingface' metadata`;
  throw new UserError(`${shown}: ${which}; name the one to read with ${flag} (columns: ${columns.join(', ')})`);
}

async function readColumns(shard: Shard, columns: string[], rowStart: number, rowEnd: number): Promise<Record<string, unknown>[]> {
  try {
    return await parquetReadObjects({ file: shard.buffer, metadata: shard.metadata, columns, rowStart, rowEnd, compressors, utf8: false });
  } catch (e) {
    throw new UserError(`${shard.file}: cannot read rows ${rowStart}-${rowEnd - 1} (${(e as Error).message})`);
  }
}

/** The encoded image of a value of the image column (a struct of bytes and path, or bare bytes). */
function imageBytes(v: unknown): Uint8Array | string | null {
  if (v instanceof Uint8Array) return v;
  if (v && typeof v === 'object') {
    const o = v as { bytes?: unknown; path?: unknown };
    if (o.bytes instanceof Uint8Array && o.bytes.length > 0) return o.bytes;
    if (o.path instanceof Uint8Array) return new TextDecoder().decode(o.path);
    if (typeof o.path === 'string') return o.path;
  }
  return null;
}

/** The sha256 of a shard: a hub blob's name (verified when it was downloaded), else its content through the memo. */
function shardDigest(file: string): string {
  const real = fs.realpathSync(file);
  const base = path.basename(real);
  if (/^[0-9a-f]{64}$/.test(base) && path.basename(path.dirname(real)) === 'blobs') return base;
  return fileDigests(path.dirname(real), [base])[0]!.sha256;
}

/** Lower case, letters and digits only: `ApplyEyeMakeup`, `Apply Eye Makeup` and `apply_eye-makeup` are one name. */
const compactName = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * Open one split from its parquet shards (absolute paths, in shard order). Only the metadata and the label (and
 * frame) columns are read now; images are read a row group at a time when first asked for, and a few decoded row
 * groups are kept, so that the pipeline's mostly sequential reads decompress each row group once.
 */
export async function openParquetSplit(files: string[], opts: OpenParquetOptions): Promise<ImageSource> {
  const name = opts.datasetName;
  if (files.length === 0) throw new UserError(`${name}: split '${opts.split}' has no parquet shards`);
  const shards: Shard[] = [];
  for (const f of files) shards.push(await openShard(f));
  const first = shards[0]!;
  // the parquet metadata first; the dataset card for features it does not describe
  const features = { ...opts.cardFeatures, ...hfFeatures(first.metadata, first.file) };
  const topLevel = topColumns(first.metadata);
  const labelCol = pickColumn(features, topLevel, 'ClassLabel', opts.columns?.label, 'label', '--label-column', first.file);
  const imageCol = pickColumn(features, topLevel, 'Image', opts.columns?.image, 'image', '--image-column', first.file);
  const names = features[labelCol]?.names;
  if (!names?.length) {
    throw new UserError(`${first.file}: column '${labelCol}' is not a ClassLabel with names in the 'huggingface' metadata or the dataset card (the class names come from there)`);
  }
  for (const s of shards.slice(1)) {
    const other = { ...opts.cardFeatures, ...hfFeatures(s.metadata, s.file) }[labelCol]?.names;
    if (!other || other.length !== names.length || other.some((n, i) => n !== names[i])) {
      throw new UserError(`${s.file}: its '${labelCol}' class names differ from those of ${first.file}`);
    }
  }
  const nClasses = names.length;
  if (opts.classNames && opts.classNames.length !== nClasses) {
    throw new UserError(`${name}: ${opts.classNames.length} class names given, but '${labelCol}' has ${nClasses} classes`);
  }
  const map = opts.paperClasses
    ? mapClassesByName(names.map(compactName), opts.paperClasses.map(compactName), `${name} (${first.file}: '${labelCol}' class names against the paper's)`)
    : null;

  // the label (and video/frame) columns of every row, shard by shard
  const want = [labelCol, ...(opts.middleFrame ? [...opts.middleFrame.videoColumns, opts.middleFrame.frameColumn] : [])];
  const rowShard: number[] = [];
  const rowLocal: number[] = [];
  const rowLabel: number[] = [];
  // each row's video as a small number (UCF101's train split has 1.8M frames of 9.5k videos: no string per row kept)
  const videoIds = new Map<string, number>();
  const videoOf: number[] = [];
  const frameOf: number[] = [];
  for (let s = 0; s < shards.length; s++) {
    const sh = shards[s]!;
    const have = topColumns(sh.metadata);
    for (const c of want) if (!have.includes(c)) throw new UserError(`${sh.file}: no column '${c}' (columns: ${have.join(', ')})`);
    if (!have.includes(imageCol)) throw new UserError(`${sh.file}: no column '${imageCol}' (columns: ${have.join(', ')})`);
    const n = sh.groupStarts[sh.groupStarts.length - 1]!;
    const rows = n ? await readColumns(sh, want, 0, n) : [];
    rows.forEach((r, j) => {
      const y = r[labelCol];
      const label = y === null || y === undefined ? -1 : toNumber(y);
      if (!Number.isInteger(label) || label < 0 || label >= nClasses) {
        throw new UserError(`${sh.file}: row ${j}: label ${String(y)} is outside the ${nClasses} '${labelCol}' classes`);
      }
      rowShard.push(s);
      rowLocal.push(j);
      rowLabel.push(label);
      if (opts.middleFrame) {
        const text = (v: unknown): string => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));
        const key = JSON.stringify([label, ...opts.middleFrame.videoColumns.map((c) => text(r[c]))]);
        let id = videoIds.get(key);
        if (id === undefined) videoIds.set(key, (id = videoIds.size));
        videoOf.push(id);
        frameOf.push(toNumber(r[opts.middleFrame.frameColumn]));
      }
    });
  }
  // the rows this split is made of (all, or one middle frame per video), in file order
  let picked: number[];
  if (opts.middleFrame) {
    const groups: number[][] = Array.from({ length: videoIds.size }, () => []);
    videoOf.forEach((v, r) => groups[v]!.push(r));
    picked = groups.map((g) => g.sort((a, b) => frameOf[a]! - frameOf[b]! || a - b)[Math.floor(g.length / 2)]!).sort((a, b) => a - b);
  } else {
    picked = rowLabel.map((_, r) => r);
  }
  const n = picked.length;
  if (n === 0) throw new UserError(`${name}: split '${opts.split}' has no rows`);
  const shardOf = Int32Array.from(picked, (r) => rowShard[r]!);
  const localOf = Int32Array.from(picked, (r) => rowLocal[r]!);
  const labels = Int32Array.from(picked, (r) => (map ? map[rowLabel[r]!]! : rowLabel[r]!));

  // content of every shard, the rows taken and the labels as mapped: another selection or mapping is another entry
  const fp = createHash('sha256').update(`clip-bench-parquet-v1\n${labelCol}\0${imageCol}\n`);
  shards.forEach((sh) => fp.update(`${path.basename(sh.file)}\0${shardDigest(sh.file)}\n`));
  fp.update(new Uint8Array(shardOf.buffer)).update(new Uint8Array(localOf.buffer)).update(new Uint8Array(labels.buffer));

  // decoded row groups, least recently used first
  const cache = new Map<string, Promise<(Uint8Array | string | null)[]>>();
  const keep = opts.rowGroupCache ?? 4;
  const rowGroup = (s: number, g: number): Promise<(Uint8Array | string | null)[]> => {
    const key = `${s}:${g}`;
    let p = cache.get(key);
    if (p) cache.delete(key);
    else {
      const sh = shards[s]!;
      p = readColumns(sh, [imageCol], sh.groupStarts[g]!, sh.groupStarts[g + 1]!).then((rows) => rows.map((r) => imageBytes(r[imageCol])));
      p.catch(() => cache.delete(key));
    }
    cache.set(key, p);
    while (cache.size > keep) cache.delete(cache.keys().next().value!);
    return p;
  };
  const groupOf = (sh: Shard, local: number): number => {
    let lo = 0;
    let hi = sh.groupStarts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (sh.groupStarts[mid]! <= local) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const describe = (i: number): string => `${shards[shardOf[i]!]!.file}#row${localOf[i]}`;
  return {
    n,
    labels,
    classes: [...(opts.paperClasses ?? opts.classNames ?? names)],
    fingerprint: fp.digest('hex').slice(0, 32),
    async load(i) {
      checkIndex(i, n);
      const sh = shards[shardOf[i]!]!;
      const local = localOf[i]!;
      const g = groupOf(sh, local);
      const value = (await rowGroup(shardOf[i]!, g))[local - sh.groupStarts[g]!];
      if (value === null || value === undefined) throw new UserError(`${describe(i)}: no image bytes in column '${imageCol}'`);
      if (typeof value === 'string') throw new UserError(`${describe(i)}: the image is a path (${value}), not bytes stored in the parquet file`);
      try {
        return await decodeImage(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      } catch (e) {
        throw new UserError(`${describe(i)}: ${(e as Error).message.replace(/^image buffer: /, '')}`);
      }
    },
    describe,
    // the row within its parquet file (named without its folder): the same files elsewhere keep it
    imageId: (i) => `${path.basename(shards[shardOf[i]!]!.file)}#${localOf[i]}`,
  };
}

/** The top-level column names of a file's schema (a struct's fields are not columns of their own here). */
function topColumns(md: FileMetaData): string[] {
  const out: string[] = [];
  const schema = md.schema;
  // walk the flattened schema tree: element 0 is the root, each group is followed by its children
  let i = 1;
  const skip = (): void => {
    const e = schema[i++]!;
    for (let c = 0; c < (e.num_children ?? 0); c++) skip();
  };
  const rootChildren = schema[0]?.num_children ?? 0;
  for (let c = 0; c < rootChildren; c++) {
    out.push(schema[i]!.name);
    skip();
  }
  return out;
}
