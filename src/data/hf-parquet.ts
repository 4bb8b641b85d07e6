import fs from 'node:fs';
import path from 'node:path';
import { DatasetUnavailable, TransferFailed, UserError } from '../errors.js';
import { HubRepo, HubUnavailable, hubOptionsFromEnv, hubOptionsWithProgress, offlineReason, parseHubId, type HubOptions, type HubRef } from '../hub/hub.js';
import { listHubFiles, NoHubListing } from '../hub/tree.js';
import { localPackageBase, type DatasetDef } from './descriptor.js';
import type { ImageSource } from './types.js';
import { fetchWdsPackage, inParallel } from './hub-package.js';
import { readCardFeatures } from './dataset-card.js';
import { listTree, openParquetSplit, shardSplits, splitShards, type MiddleFrame, type ParquetColumns } from './loaders/parquet.js';
import { WDS_FILES } from './loaders/wds.js';
import { isPackageComplete, isPackagePresent, wdsHubDef } from './wds-datasets.js';
import { hubDatasetBase, type HubDatasetFields } from './hub-fields.js';

export const PARQUET_LAYOUT = 'parquet shards in the Hugging Face datasets layout: ROOT/data/<split>-00000-of-000NN.parquet ... (or in ROOT itself)';

/** Shards fetched at once. */
const SHARD_DOWNLOADS = 4;

/** The parquet files of a dataset folder that can be shards: in ROOT/data/ (the hub's default configuration) or ROOT itself. */
function candidateFiles(files: string[]): string[] {
  return files.filter((f) => f.endsWith('.parquet') && (!f.includes('/') || /^data\/[^/]+$/.test(f)));
}

/** The shards of `split` under `root` (relative paths), or null when it has none; a gap in `<i>-of-<n>` is an error. */
export function parquetShards(root: string, split: string, shown = root): string[] | null {
  const s = splitShards(candidateFiles(listTree(root)), split, shown);
  if (!s) return null;
  if (s.missing.length) {
    throw new UserError(`${shown}: split '${split}' lacks shard${s.missing.length > 1 ? 's' : ''} ${s.missing.slice(0, 5).join(', ')}${s.missing.length > 5 ? ', ...' : ''} of ${s.count}`);
  }
  return s.shards;
}

/** Whether `root` holds every shard of `split` (of some split, when none is given). */
export function isParquetPresent(root: string, split?: string): boolean {
  try {
    const files = candidateFiles(listTree(root));
    const splits = split ? [split] : shardSplits(files);
    return splits.length > 0 && splits.every((s) => splitShards(files, s, root)?.missing.length === 0);
  } catch {
    return false;
  }
}

export interface ParquetDatasetOptions {
  name: string;
  columns?: ParquetColumns;
  middleFrame?: MiddleFrame;
}

/**
 * Open `split` of a parquet dataset folder; `classes` as for packages: undefined = the ClassLabel's names, the
 * definition's own list (the paper's) = mapped by name, any other list (--classnames) = renamed by index.
 */
export async function openParquetDataset(root: string, split: string, classes: string[] | undefined, ownClasses: string[], o: ParquetDatasetOptions): Promise<ImageSource> {
  if (!fs.existsSync(root)) throw new UserError(`${o.name}: dataset root ${root} does not exist`);
  const rel = parquetShards(root, split);
  if (!rel) {
    const have = shardSplits(candidateFiles(listTree(root)));
    throw new UserError(`${o.name}: no split '${split}' in ${root} (no ${split}-00000-of-NNNNN.parquet under data/; ${have.length ? `it has ${have.map((s) => `'${s}'`).join(', ')}` : 'no parquet shards at all'})`);
  }
  const paper = classes !== undefined && classes === ownClasses;
  return openParquetSplit(rel.map((f) => path.join(root, f)), {
    datasetName: o.name,
    split,
    columns: o.columns,
    middleFrame: o.middleFrame,
    cardFeatures: readCardFeatures(root),
    ...(classes === undefined ? {} : paper ? { paperClasses: classes } : { classNames: classes }),
  });
}

/**
 * Make `split` of a hub dataset repository available in the Hugging Face cache and return the snapshot folder:
 * the repository's files are listed (the hub's tree API), then the split's parquet shards fetched (resuming, as
 * every hub file). A repository in CLIP_benchmark's WebDataset layout (a classnames.txt) is fetched as a package
 * unless `format` says parquet. Offline, everything must be cached.
 */
export async function fetchHfSplit(ref: HubRef, split: string, opts: HubOptions, format: 'parquet' | 'auto'): Promise<string> {
  const label = `dataset ${ref.repoId}@${ref.revision}`;
  if (opts.offline) throw new HubUnavailable(`${offlineReason(opts)} and split '${split}' of ${label} is not in the cache (${new HubRepo(ref, opts).dir})`);
  let files: string[];
  try {
    files = (await listHubFiles(ref, opts)).map((f) => f.path);
  } catch (e) {
    if (!(format === 'auto' && e instanceof NoHubListing)) throw e;
    // no listing (a static mirror): a WebDataset package is fetched by its file names alone
    try {
      return await fetchWdsPackage(ref, [split], opts);
    } catch (w) {
      if (w instanceof HubUnavailable && !opts.offline) throw new HubUnavailable(`${w.message}; nor can parquet shards be found: ${(e as Error).message.replace(`${label}: `, '')}`);
      throw w;
    }
  }
  if (format === 'auto' && files.includes(WDS_FILES.classnames)) return fetchWdsPackage(ref, [split], opts);
  const s = splitShards(candidateFiles(files), split, label);
  if (!s) {
    const have = shardSplits(candidateFiles(files));
    throw new HubUnavailable(`${label} has no split '${split}' (no data/${split}-00000-of-NNNNN.parquet; ${have.length ? `its splits: ${have.join(', ')}` : 'no parquet shards under data/'})`);
  }
  if (s.missing.length) throw new UserError(`${label}: the hub lists ${s.count - s.missing.length} of the ${s.count} shards of split '${split}' (missing ${s.missing.slice(0, 5).join(', ')})`);
  const repo = new HubRepo(ref, opts);
  // the dataset card names the classes where the parquet metadata does not
  if (files.includes('README.md')) await repo.file('README.md');
  await inParallel(s.shards, SHARD_DOWNLOADS, (f) => repo.require(f));
  return repo.finish();
}

const present = (root: string, split?: string): boolean => isPackagePresent(root, split) || isParquetPresent(root, split);
/** A cached copy needs no fetch when a package's split has every shard (an interrupted fetch left some out). */
const cachedComplete = (root: string, split: string): boolean => isPackageComplete(root, split) || isParquetPresent(root, split);

/** Whether the Hugging Face cache holds `split` of a hub dataset (every split of `splits`), in either layout. */
export function hfDatasetCached(source: { repoId: string; revision?: string }, splits: string[]): boolean {
  const repo = new HubRepo({ repoId: source.repoId, revision: source.revision ?? 'main', type: 'dataset' }, { ...hubOptionsFromEnv(), offline: true });
  return splits.length > 0 && splits.every((s) => cachedComplete(repo.snapshot, s));
}

/**
 * The snapshot folder holding `split` of a hub dataset in the parquet layout (or, `auto`, either layout): from the
 * cache when complete there, else fetched. --no-download and HF_HUB_OFFLINE use the cache only; what is missing
 * then, or an unreachable hub, is a DatasetUnavailable (a suite skips it and says so).
 */
export async function ensureHfDataset(source: { repoId: string; revision?: string }, name: string, split: string, download: boolean, format: 'parquet' | 'auto'): Promise<string> {
  const ref: HubRef = { repoId: source.repoId, revision: source.revision ?? 'main', type: 'dataset' };
  const opts = hubOptionsWithProgress();
  const cached = new HubRepo(ref, { ...opts, offline: true }).snapshot;
  if (format === 'auto' ? cachedComplete(cached, split) : isParquetPresent(cached, split)) return cached;
  if (!download && !opts.offline) Object.assign(opts, { offline: true, offlineReason: 'downloads are off (--no-download)' });
  try {
    return await fetchHfSplit(ref, split, opts, format);
  } catch (e) {
    // the source does not have it (or offline without a copy): not available; a transfer that failed is a failure
    if (e instanceof HubUnavailable) throw new DatasetUnavailable(`${name}: ${e.message}`);
    if (e instanceof TransferFailed) throw new TransferFailed(`${name}: ${e.message}`);
    throw e;
  }
}

export interface ParquetHubFields extends ParquetDatasetOptions, HubDatasetFields {}

/** A parquet dataset in a hub dataset repository (the Hugging Face datasets layout). */
export function parquetHubDef(f: ParquetHubFields): DatasetDef {
  const base = hubDatasetBase(f);
  const def: DatasetDef = {
    ...base,
    description: f.description ?? `the parquet dataset ${f.repoId}${f.revision ? `@${f.revision}` : ''} from the hub (Hugging Face datasets layout)`,
    format: 'parquet',
    source: { kind: 'hub', repoId: f.repoId, format: 'parquet', ...(f.revision ? { revision: f.revision } : {}) },
    requiredFiles: (split) => [`data/${split}-00000-of-NNNNN.parquet`],
    isPresent: (root, split) => isParquetPresent(root, split),
    load: (root, split, cls) => openParquetDataset(root, split, cls, base.classes, f),
    withColumns: (columns) => parquetHubDef({ ...f, columns: { ...f.columns, ...columns } }),
  };
  return def;
}

/**
 * `hf:<owner>/<name>[@revision]`: a hub dataset repository in either layout, told apart when it is fetched (its
 * file listing) or opened (a classnames.txt is a WebDataset package, else parquet shards).
 */
export function hfHubDef(name: string, repoId: string, revision: string | undefined, columns: ParquetColumns = {}): DatasetDef {
  const wds = wdsHubDef({ name, repoId, revision });
  const parquet = parquetHubDef({ name, repoId, revision, columns });
  return {
    ...parquet,
    description: `the hub dataset ${repoId}${revision ? `@${revision}` : ''}: parquet shards (Hugging Face datasets layout) or a WebDataset package (CLIP_benchmark layout)`,
    format: 'parquet or wds',
    source: { kind: 'hub', repoId, format: 'auto', ...(revision ? { revision } : {}) },
    requiredFiles: (split) => [`data/${split}-00000-of-NNNNN.parquet or ${split}/nshards.txt`],
    isPresent: present,
    load: (root, split, cls, origin) => (fs.existsSync(path.join(root, WDS_FILES.classnames)) ? wds.load(root, split, cls, origin) : parquet.load(root, split, cls, origin)),
    withColumns: (c) => hfHubDef(name, repoId, revision, { ...columns, ...c }),
  };
}

/** `parquet --dataset-root DIR`: parquet shards in a local folder. */
export function parquetLocalDef(columns: ParquetColumns = {}): DatasetDef {
  return {
    name: 'parquet',
    aliases: ['hf-parquet'],
    description: `${PARQUET_LAYOUT} in --dataset-root; classes from the ClassLabel column (--label-column), images from the Image column (--image-column); hf:<owner>/<name>[@revision] fetches such a dataset from the hub`,
    format: 'parquet',
    source: { kind: 'user', layout: PARQUET_LAYOUT, generic: true },
    ...localPackageBase(),
    requiredFiles: (split) => [`data/${split}-00000-of-NNNNN.parquet`],
    isPresent: (root, split) => isParquetPresent(root, split),
    load: (root, split, cls) => openParquetDataset(root, split, cls, [], { name: 'parquet', columns }),
    withColumns: (c) => parquetLocalDef({ ...columns, ...c }),
  };
}

/** `hf:<owner>/<name>[@revision]` as a dataset (undefined for any other name). */
export function resolveHfName(name: string): DatasetDef | undefined {
  const n = name.trim();
  if (!/^hf:/i.test(n)) return undefined;
  const ref = parseHubId(n.slice(3), 'dataset');
  if (!ref) throw new UserError(`--dataset ${name}: expected hf:<owner>/<repo>[@revision]`);
  return hfHubDef(n, ref.repoId, n.includes('@') ? ref.revision : undefined);
}
