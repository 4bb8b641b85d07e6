import fs from 'node:fs';
import path from 'node:path';
import { DatasetUnavailable, TransferFailed, UserError } from '../errors.js';
import { HubRepo, HubUnavailable, hubOptionsFromEnv, hubOptionsWithProgress, type HubRef } from '../hub/hub.js';
import { localPackageBase, type DatasetDef } from './descriptor.js';
import type { ImageSource } from './types.js';
import { hubDatasetBase, type HubDatasetFields } from './hub-fields.js';
import { fetchWdsPackage } from './hub-package.js';
import { hasAllShards, openWdsSplit, readWdsPackage, ShardError, WDS_FILES } from './loaders/wds.js';

/** The hub organisation of CLIP_benchmark's packages: `wds/vtab/cifar10` is `clip-benchmark/wds_vtab-cifar10`. */
export const CLIP_BENCHMARK_ORG = 'clip-benchmark';
export const WDS_LAYOUT = 'a WebDataset package: ROOT/classnames.txt, ROOT/<split>/nshards.txt, ROOT/<split>/0.tar ...';

/** The hub repository of a CLIP_benchmark dataset name (`vtab/cifar10` -> clip-benchmark/wds_vtab-cifar10). */
export function clipBenchmarkRepo(name: string): string {
  return `${CLIP_BENCHMARK_ORG}/wds_${name.replaceAll('/', '-')}`;
}

/**
 * Whether ROOT holds a package with `split` (or some split, when none is given): its classnames.txt and
 * `<split>/nshards.txt`. Whether the count is readable and every shard is there is then for openWdsSplit to say, in
 * one line naming the file (a bad nshards.txt is not "not found").
 */
export function isPackagePresent(root: string, split?: string): boolean {
  if (!fs.existsSync(path.join(root, WDS_FILES.classnames))) return false;
  if (split) return fs.existsSync(path.join(root, split, 'nshards.txt'));
  return fs.readdirSync(root, { withFileTypes: true }).some((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'nshards.txt')));
}

/** Whether ROOT holds `split` of a package complete (every shard nshards.txt names): a cached hub copy needs no fetch. */
export function isPackageComplete(root: string, split: string): boolean {
  return fs.existsSync(path.join(root, WDS_FILES.classnames)) && hasAllShards(root, split);
}

/**
 * How a descriptor's classes apply to a package: undefined = the package's own names (classnames.txt); the
 * definition's own list (the paper's) = mapped by name onto the package's; any other list (--classnames) = the
 * package's classes renamed by index.
 */
async function openPackage(dir: string, name: string, split: string, classes: string[] | undefined, ownClasses: string[]): Promise<ImageSource> {
  const pkg = readWdsPackage(dir, name);
  const base = { datasetName: name, onStatus: status };
  const opts = classes === undefined ? base : classes === ownClasses ? { ...base, paperClasses: classes } : { ...base, classNames: classes };
  const src = await openWdsSplit(pkg, split, opts);
  if (src.targets) {
    status(`clip-bench: warning: ${name} is a multilabel package: single-label metrics count each image's lowest positive class only (its 0/1 targets are kept for multilabel metrics)`);
  }
  return src;
}

/**
 * openPackage for a package from the hub: a shard of the Hugging Face cache that cannot be read is said to be a
 * cached download, compared with the server's copy (changed since, or the same), with how to fetch it again.
 */
async function openHubPackage(ref: HubRef, root: string, name: string, split: string, classes: string[] | undefined, ownClasses: string[]): Promise<ImageSource> {
  try {
    return await openPackage(root, name, split, classes, ownClasses);
  } catch (e) {
    if (!(e instanceof ShardError)) throw e;
    const repo = new HubRepo(ref, hubOptionsFromEnv());
    if (!path.resolve(e.file).startsWith(repo.dir + path.sep)) throw e; // --dataset-root, or a copy in the datasets folder
    const file = path.relative(root, e.file);
    const blob = fs.realpathSync(e.file);
    const cmp = await repo.compareWithServer(file);
    const server =
      cmp.state === 'changed'
        ? `the server's copy has changed since it was downloaded (${cmp.detail})`
        : cmp.state === 'same'
          ? `the same as the server's copy (${cmp.detail}): the file is damaged at the source`
          : `not compared with the server's copy (${cmp.detail})`;
    throw new UserError(`${e.message} (a cached download of dataset ${ref.repoId}, ${server}; to fetch it again, delete ${blob} and ${e.file})`);
  }
}

const status = (m: string): void => {
  process.stderr.write(`${m}\n`);
};

export type WdsHubFields = HubDatasetFields;

/**
 * A dataset served as a WebDataset package from a hub dataset repository. locateSplit gives it as ROOT the snapshot
 * folder ensureHubDataset fetched the split into (or --dataset-root, a local copy of the package).
 */
export function wdsHubDef(f: WdsHubFields): DatasetDef {
  const base = hubDatasetBase(f);
  const def: DatasetDef = {
    ...base,
    description: f.description ?? `the WebDataset package ${f.repoId}${f.revision ? `@${f.revision}` : ''} from the hub (CLIP_benchmark layout)`,
    format: 'wds',
    source: { kind: 'hub', repoId: f.repoId, ...(f.revision ? { revision: f.revision } : {}) },
    requiredFiles: (split) => [WDS_FILES.classnames, `${split}/nshards.txt`],
    isPresent: (root, split) => isPackagePresent(root, split),
    load: (root, split, cls) => openHubPackage({ repoId: f.repoId, revision: f.revision ?? 'main', type: 'dataset' }, root, f.name, split, cls, base.classes),
  };
  return def;
}

/** `wds --dataset-root DIR`: a package in a local folder. */
export function wdsLocalDef(): DatasetDef {
  return {
    name: 'wds',
    aliases: ['webdataset'],
    description: `${WDS_LAYOUT} (CLIP_benchmark's layout) in --dataset-root; wds/<name> fetches clip-benchmark/wds_<name> from the hub, hf:<owner>/<repo>[@revision] any hub dataset repository in that layout`,
    format: 'wds',
    source: { kind: 'user', layout: WDS_LAYOUT, generic: true },
    ...localPackageBase(),
    requiredFiles: (split) => [WDS_FILES.classnames, `${split}/nshards.txt`],
    isPresent: (root, split) => isPackagePresent(root, split),
    load: (root, split, cls) => openPackage(root, 'wds', split, cls, []),
  };
}

/**
 * Dataset names that are not in the registry's list but name a package: `wds/<name>` (CLIP_benchmark's naming,
 * hub repository clip-benchmark/wds_<name with / as ->); `hf:<owner>/<repo>` is resolved in paper-parquet.ts.
 * Undefined otherwise.
 */
export function resolveWdsName(name: string): DatasetDef | undefined {
  const n = name.trim();
  if (/^wds\//i.test(n)) {
    const rest = n.slice(4).toLowerCase();
    if (!/^[a-z0-9][\w.-]*(\/[\w.-]+)*$/.test(rest)) throw new UserError(`--dataset ${name}: expected wds/<name> as CLIP_benchmark names its packages (e.g. wds/vtab/cifar10)`);
    return wdsHubDef({ name: `wds/${rest}`, repoId: clipBenchmarkRepo(rest) });
  }
  return undefined;
}

/** Whether the Hugging Face cache holds `split` of a hub package (every split of `splits` when none is given). */
export function hubPackageCached(source: { repoId: string; revision?: string }, splits: string[]): boolean {
  const repo = new HubRepo({ repoId: source.repoId, revision: source.revision ?? 'main', type: 'dataset' }, { ...hubOptionsFromEnv(), offline: true });
  return splits.length > 0 && splits.every((s) => isPackageComplete(repo.snapshot, s));
}

/**
 * The snapshot folder holding `split` of a hub package: taken from the Hugging Face cache when it is complete
 * there, else fetched (its metadata files, `<split>/nshards.txt`, then the shards). `download: false`
 * (--no-download) and HF_HUB_OFFLINE use the cache only; what is missing then, or what the hub does not have, is a
 * DatasetUnavailable (a suite skips it and says so); a download that fails (unreachable, stalled, interrupted after
 * its retries, an HTTP error) is a TransferFailed (a suite's failure).
 */
export async function ensureHubDataset(source: { repoId: string; revision?: string }, name: string, split: string, download: boolean): Promise<string> {
  const ref: HubRef = { repoId: source.repoId, revision: source.revision ?? 'main', type: 'dataset' };
  const opts = hubOptionsWithProgress();
  const cached = new HubRepo(ref, { ...opts, offline: true }).snapshot;
  if (isPackageComplete(cached, split)) return cached;
  if (!download && !opts.offline) Object.assign(opts, { offline: true, offlineReason: 'downloads are off (--no-download)' });
  try {
    return await fetchWdsPackage(ref, [split], opts);
  } catch (e) {
    // the source does not have it (or offline without a copy): not available; a transfer that failed is a failure
    if (e instanceof HubUnavailable) throw new DatasetUnavailable(`${name}: ${e.message}`);
    if (e instanceof TransferFailed) throw new TransferFailed(`${name}: ${e.message}`);
    throw e;
  }
}
