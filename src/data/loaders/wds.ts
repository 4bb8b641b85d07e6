import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { ImageSource } from '../types.js';
import { mapClassesByName } from '../class-map.js';
import { decodeImage } from '../../image/decode.js';
import { checkIndex, requireRoot } from './common.js';
import { parseTemplateLines } from '../templates.js';
import { defaultIndexDir, shardIndex, type ShardIndex } from './wds-shard.js';

/**
 * A WebDataset package in CLIP_benchmark's layout (the `clip-benchmark/wds_*` hub repositories):
 *   classnames.txt, zeroshot_classification_templates.txt, dataset_type.txt (optional),
 *   <split>/nshards.txt and <split>/0.tar ... <split>/{N-1}.tar.
 */
export interface WdsPackage {
  dir: string;
  /** shown in messages: the dataset's name, else the folder */
  name: string;
  /** classnames.txt, line i = class i; empty interior lines are classes (only the final newline is not) */
  classes: string[];
  /** the package's templates with clip-bench's `{}` placeholder (CLIP_benchmark writes `{c}`; data/templates.ts); [] when absent */
  templates: string[];
  type: 'classification' | 'multilabel' | 'retrieval';
  /** split folders found in `dir` holding an nshards.txt */
  splits: string[];
}

export const WDS_FILES = { classnames: 'classnames.txt', templates: 'zeroshot_classification_templates.txt', type: 'dataset_type.txt' } as const;

/** Lines of a text file: CRLF or LF; the single final newline ends the last line and is not an empty line. */
function lines(text: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
}

/** Read a package's metadata files (no shard is touched). */
export function readWdsPackage(dir: string, name = dir): WdsPackage {
  requireRoot(name, dir);
  const typeText = readText(path.join(dir, WDS_FILES.type))?.trim();
  const type = (typeText || 'classification') as WdsPackage['type'];
  if (!['classification', 'multilabel', 'retrieval'].includes(type)) {
    throw new UserError(`${path.join(dir, WDS_FILES.type)}: unknown dataset type '${typeText}' (expected classification, multilabel or retrieval)`);
  }
  let classes: string[] = [];
  if (type !== 'retrieval') {
    const file = path.join(dir, WDS_FILES.classnames);
    const text = readText(file);
    if (text === undefined) throw new UserError(`${name}: ${file} is missing (a WebDataset package names its classes there)`);
    classes = lines(text).map((l) => l.trim());
    if (classes.length === 0) throw new UserError(`${file}: no class names`);
  }
  const tFile = path.join(dir, WDS_FILES.templates);
  const tText = readText(tFile);
  // one rule with --templates FILE: {} or {c}, exactly once per line
  const templates = tText === undefined ? [] : parseTemplateLines(tText, tFile);
  const splits = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.') && fs.existsSync(path.join(dir, d.name, 'nshards.txt')))
    .map((d) => d.name)
    .sort();
  return { dir, name, classes, templates, type, splits };
}

/** Class names that appear more than once, with their lines (1-based): classes are told apart by index, their prompts are not. */
export function duplicateClassLines(classes: string[]): string[] {
  const first = new Map<string, number>();
  const dups: string[] = [];
  classes.forEach((c, i) => {
    const f = first.get(c);
    if (f === undefined) first.set(c, i);
    else dups.push(`${JSON.stringify(c)} at lines ${f + 1} and ${i + 1}`);
  });
  return dups;
}

/**
 * `<split>/nshards.txt`: one positive integer (a missing file is an error, never "one shard"), bounded by the shards
 * that exist: every `<split>/<i>.tar` for i < N must be a file. Nothing of size N is built before that is known, so
 * a count of 100000000 is an error naming the first missing shard, not a full heap.
 */
export function readShardCount(pkg: WdsPackage, split: string): number {
  const file = path.join(pkg.dir, split, 'nshards.txt');
  const text = readText(file);
  if (text === undefined) {
    const have = pkg.splits.length ? `the package has ${pkg.splits.map((s) => `'${s}'`).join(', ')}` : 'the package has no split with an nshards.txt';
    throw new UserError(`${pkg.name}: split '${split}': ${file} is missing (${have})`);
  }
  const n = parseShardCount(text, file);
  const missing = firstMissingShard(pkg.dir, split, n);
  if (missing !== null) {
    const tars = fs.readdirSync(path.join(pkg.dir, split)).filter((f) => /^\d+\.tar$/.test(f)).length;
    throw new UserError(`${pkg.name}: ${path.join(pkg.dir, shardName(split, missing))} is missing (${split}/nshards.txt says ${n} shard${n === 1 ? '' : 's'}); the folder has ${tars} .tar file${tars === 1 ? '' : 's'}`);
  }
  for (let i = 0; i < n; i++) {
    const f = path.join(pkg.dir, shardName(split, i));
    if (!fs.statSync(f).isFile()) throw new UserError(`${pkg.name}: ${f} is not a file (a shard is a .tar file)`);
  }
  return n;
}

/**
 * The first i < n whose `<split>/<i>.tar` does not exist, or null when all do. A count above the folder's entries is
 * answered from the listing alone (the first index not in it).
 */
function firstMissingShard(dir: string, split: string, n: number): number | null {
  let names: Set<string>;
  try {
    names = new Set(fs.readdirSync(path.join(dir, split)));
  } catch {
    return 0;
  }
  const upTo = Math.min(n, names.size + 1);
  for (let i = 0; i < upTo; i++) if (!names.has(`${i}.tar`)) return i;
  return null; // n <= names.size here: a larger n always finds a gap above
}

/** Whether `<split>` of the package in `dir` has a readable count and every shard it names (never throws). */
export function hasAllShards(dir: string, split: string): boolean {
  try {
    const n = parseShardCount(fs.readFileSync(path.join(dir, split, 'nshards.txt'), 'utf8'), 'nshards.txt');
    return firstMissingShard(dir, split, n) === null;
  } catch {
    return false;
  }
}

export function parseShardCount(text: string, file: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1 || !Number.isSafeInteger(Number(t))) {
    throw new UserError(`${file}: expected a positive number of shards, found ${JSON.stringify(t.length > 20 ? `${t.slice(0, 20)}...` : t)}`);
  }
  return Number(t);
}

/** The path of shard i of a split relative to the package: decimal, no zero padding. */
export function shardName(split: string, i: number): string {
  return `${split}/${i}.tar`;
}

/** Shard paths of a split relative to the package, in order (n bounded by the caller: see readShardCount). */
export function shardNames(split: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => shardName(split, i));
}

export interface OpenWdsOptions {
  /** the dataset's name, for messages */
  datasetName?: string;
  /** the paper's class names: the package's labels are mapped onto them (by name where the order differs) */
  paperClasses?: string[];
  /** names replacing the package's by index (--classnames): one per line of classnames.txt */
  classNames?: string[];
  /** where shard indexes are kept (default $XDG_CACHE_HOME/clip-bench/wds-index) */
  indexDir?: string;
  /** a line when shards are scanned for the first time */
  onStatus?: (message: string) => void;
}

/**
 * Reads at an offset of a split's shards. A few descriptors stay open while reads come (Map order = recency);
 * idle ones are closed after a second, so that an opened split holds no descriptor once it is no longer read.
 */
class ShardReader {
  private open = new Map<number, { fd: Promise<number>; users: number }>();
  private sweep: NodeJS.Timeout | undefined;
  constructor(
    private readonly files: string[],
    private readonly maxOpen = 16,
  ) {}

  async read(shard: number, offset: number, size: number): Promise<Buffer> {
    let h = this.open.get(shard);
    if (h) this.open.delete(shard);
    else {
      const file = this.files[shard];
      h = { fd: new Promise<number>((resolve, reject) => fs.open(file, 'r', (e, fd) => (e ? reject(e) : resolve(fd)))), users: 0 };
      h.fd.catch(() => this.open.delete(shard));
    }
    this.open.set(shard, h);
    h.users++;
    try {
      const fd = await h.fd;
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const n = await readFd(fd, buf, got, size - got, offset + got);
        if (n === 0) throw new Error(`unexpected end of file (wanted ${size} bytes at ${offset})`);
        got += n;
      }
      return buf;
    } finally {
      h.users--;
      this.closeIdle(this.maxOpen);
      this.sweep ??= setTimeout(() => {
        this.sweep = undefined;
        this.closeIdle(0);
      }, 1000).unref();
    }
  }

  /** close idle descriptors, least recently used first, until at most `keep` remain */
  private closeIdle(keep: number): void {
    for (const [k, v] of this.open) {
      if (this.open.size <= keep) break;
      if (v.users > 0) continue;
      this.open.delete(k);
      void v.fd.then((fd) => fs.close(fd, () => {})).catch(() => {});
    }
  }
}

function readFd(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

/**
 * Open one split of a package as an ImageSource. Each shard is indexed once (kept under indexDir), then images are
 * read by offset and decoded from memory. Bad packages (no nshards.txt, a truncated shard, a sample without a label
 * or image, a label outside classnames.txt) are one-line UserErrors naming the shard and the sample key.
 */
export async function openWdsSplit(pkg: WdsPackage, split: string, opts: OpenWdsOptions = {}): Promise<ImageSource> {
  const name = opts.datasetName ?? pkg.name;
  const map = checkClasses(pkg, name, opts);
  const rels = shardNames(split, readShardCount(pkg, split));
  const indexes = await indexShards(pkg, split, rels, name, opts);
  const { shardOf, localOf } = flattenSamples(pkg, rels, indexes);
  const { labels, targets } = mapLabels(pkg, indexes, shardOf, localOf, map);
  const reader = new ShardReader(rels.map((r) => path.join(pkg.dir, r)));
  const n = labels.length;
  const describe = (i: number): string => {
    const ix = indexes[shardOf[i]];
    return `${path.join(pkg.dir, rels[shardOf[i]])}#${ix.keys[localOf[i]]}.${ix.exts[localOf[i]]}`;
  };
  return {
    n,
    labels,
    classes: [...(opts.paperClasses ?? opts.classNames ?? pkg.classes)],
    ...(pkg.templates.length ? { templates: [...pkg.templates] } : {}),
    fingerprint: splitFingerprint(rels, indexes, labels, targets),
    // the package's bytes decide its embeddings, not the name it was opened by (wds --dataset-root, wds/NAME, hf:...)
    cacheDataset: WDS_CACHE_DATASET,
    ...(targets ? { targets } : {}),
    async load(i) {
      checkIndex(i, n);
      const ix = indexes[shardOf[i]];
      let bytes: Buffer;
      try {
        bytes = await reader.read(shardOf[i], ix.offsets[localOf[i]], ix.sizes[localOf[i]]);
      } catch (e) {
        throw new UserError(`${describe(i)}: cannot read (${(e as Error).message}); the shard changed since it was indexed`);
      }
      try {
        return await decodeImage(bytes);
      } catch (e) {
        throw new UserError(`${describe(i)}: ${(e as Error).message.replace(/^image buffer: /, '')}`);
      }
    },
    describe,
    // the sample key: the same sample in a repacked package (other shards, another order) keeps it
    imageId: (i) => indexes[shardOf[i]].keys[localOf[i]],
  };
}

/** The dataset name in the cache key of every package's entries: the fingerprint (content, labels) tells them apart. */
export const WDS_CACHE_DATASET = 'wds-package';

/**
 * What can be checked before any shard is read: the package's type, the class lists (a --classnames list of the
 * right length; the paper's names mapped onto the package's), duplicate names (a warning). Returns package label ->
 * paper label, or null.
 */
function checkClasses(pkg: WdsPackage, name: string, opts: OpenWdsOptions): Int32Array | null {
  if (pkg.type === 'retrieval') throw new UserError(`${name}: a retrieval package (${path.join(pkg.dir, WDS_FILES.type)}); clip-bench evaluates classification and multilabel packages`);
  const file = path.join(pkg.dir, WDS_FILES.classnames);
  if (opts.classNames && opts.classNames.length !== pkg.classes.length) {
    throw new UserError(`${name}: ${opts.classNames.length} class names given, but ${file} has ${pkg.classes.length}`);
  }
  const dups = duplicateClassLines(pkg.classes);
  if (dups.length > 0 && !opts.classNames) {
    const list = `${dups.slice(0, 3).join('; ')}${dups.length > 3 ? `; and ${dups.length - 3} more` : ''}`;
    opts.onStatus?.(`clip-bench: warning: ${file}: duplicate class name${dups.length > 1 ? 's' : ''} ${list} (told apart by index, but their prompts are the same: zero-shot cannot tell them apart)`);
  }
  return opts.paperClasses ? mapClassesByName(pkg.classes, opts.paperClasses, `${name} (${file})`) : null;
}

/** Index every shard (kept from an earlier run, or scanned now), each checked against the package's classes. */
async function indexShards(pkg: WdsPackage, split: string, rels: string[], name: string, opts: OpenWdsOptions): Promise<ShardIndex[]> {
  const files = rels.map((r) => path.join(pkg.dir, r));
  const indexDir = opts.indexDir ?? defaultIndexDir();
  const nClasses = pkg.classes.length;
  const multilabel = pkg.type === 'multilabel';
  // one line when the first shard of the split has to be scanned
  let told = false;
  const tell = (): void => {
    if (told) return;
    told = true;
    const bytes = files.reduce((t, f) => t + fs.statSync(f).size, 0);
    opts.onStatus?.(`indexing ${name} ${split}: ${files.length} shard${files.length === 1 ? '' : 's'}, ${(bytes / 1e6).toFixed(1)} MB (once; kept in ${indexDir})`);
  };
  const indexes: ShardIndex[] = [];
  for (const file of files) {
    const check = (ix: ShardIndex): void => {
      if (ix.keys.length === 0) throw new UserError(`${file}: no samples`);
      ix.keys.forEach((key, j) => {
        if (multilabel) {
          const t = ix.targets?.[j];
          if (!t) throw new UserError(`${file}: sample ${key} has no label (.npy, a multilabel package)`);
          if (t.length !== nClasses) throw new UserError(`${file}: sample ${key}: ${key}.npy has ${t.length} values for ${nClasses} classes in classnames.txt`);
        } else {
          const label = ix.labels[j];
          if (label < 0) throw new UserError(`${file}: sample ${key} has no label (.cls)`);
          if (label >= nClasses) throw new UserError(`${file}: sample ${key}: label ${label} is outside classnames.txt (${nClasses} classes)`);
        }
      });
    };
    try {
      indexes.push(await shardIndex(file, file, indexDir, check, tell));
    } catch (e) {
      if (e instanceof UserError && !(e instanceof ShardError)) throw new ShardError(e.message, file);
      throw e;
    }
  }
  return indexes;
}

/** A shard that cannot be indexed (truncated, malformed, a label out of range): `file` for a caller that knows where it came from. */
export class ShardError extends UserError {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/** Image i of the split is sample localOf[i] of shard shardOf[i]; a sample key seen in two shards is an error. */
function flattenSamples(pkg: WdsPackage, rels: string[], indexes: ShardIndex[]): { shardOf: Int32Array; localOf: Int32Array } {
  const n = indexes.reduce((t, ix) => t + ix.keys.length, 0);
  const shardOf = new Int32Array(n);
  const localOf = new Int32Array(n);
  const keyShard = new Map<string, number>();
  let k = 0;
  indexes.forEach((ix, s) => {
    ix.keys.forEach((key, j) => {
      // keys number samples over the whole split: one seen in two shards means a shard is there twice
      const other = keyShard.get(key);
      if (other !== undefined) throw new UserError(`${path.join(pkg.dir, rels[s])}: sample ${key} is also in ${rels[other]}`);
      keyShard.set(key, s);
      shardOf[k] = s;
      localOf[k++] = j;
    });
  });
  return { shardOf, localOf };
}

/**
 * Each image's label (mapped onto the paper's classes when `map` is given); a multilabel package's 0/1 targets, the
 * label then being the lowest positive class.
 */
function mapLabels(pkg: WdsPackage, indexes: ShardIndex[], shardOf: Int32Array, localOf: Int32Array, map: Int32Array | null): { labels: Int32Array; targets?: ImageSource['targets'] } {
  const n = shardOf.length;
  const nClasses = pkg.classes.length;
  const labels = new Int32Array(n);
  if (pkg.type !== 'multilabel') {
    for (let i = 0; i < n; i++) {
      const y = indexes[shardOf[i]].labels[localOf[i]];
      labels[i] = map ? map[y] : y;
    }
    return { labels };
  }
  const data = new Uint8Array(n * nClasses);
  for (let i = 0; i < n; i++) {
    const t = indexes[shardOf[i]].targets![localOf[i]]!;
    let lowest = -1;
    for (let c = 0; c < nClasses; c++) {
      if (!t[c]) continue;
      const to = map ? map[c] : c;
      data[i * nClasses + to] = 1;
      if (lowest < 0 || to < lowest) lowest = to;
    }
    labels[i] = Math.max(lowest, 0);
  }
  return { labels, targets: { data, nClasses } };
}

/** The shards' content hashes and the labels as mapped: a different mapping (class order) is a different cache entry. */
function splitFingerprint(rels: string[], indexes: ShardIndex[], labels: Int32Array, targets: ImageSource['targets'] | undefined): string {
  const fp = createHash('sha256').update(`clip-bench-wds-v1\n`);
  indexes.forEach((ix, s) => fp.update(`${rels[s]}\0${ix.sha256}\n`));
  fp.update(new Uint8Array(labels.buffer));
  if (targets) fp.update(targets.data);
  return fp.digest('hex').slice(0, 32);
}
