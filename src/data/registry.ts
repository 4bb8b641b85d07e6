import path from 'node:path';
import { UserError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { DatasetDescriptor, PrimaryMetric } from './types.js';
import { datasetCacheDir } from './paths.js';
import { describe, table9PrimaryMetric, type DatasetDef } from './descriptor.js';
import { builtinDatasets } from './builtin-datasets.js';
import { paperDatasets } from './paper-datasets.js';
import { resolveWdsName, wdsLocalDef } from './wds-datasets.js';
import { parquetLocalDef, resolveHfName } from './hf-parquet.js';
import { paperParquetDatasets } from './paper-parquet.js';

export { DEFAULT_CLASSNAMES_FILES } from './builtin-datasets.js';

/** Datasets in listing order: those outside the paper first (the bundled default), the paper's 27 in Table 9's order, then the generic layouts. */
function ordered(): DatasetDef[] {
  const all = [...builtinDatasets(), ...paperDatasets(), ...paperParquetDatasets(), wdsLocalDef(), parquetLocalDef()];
  const rank = (d: DatasetDef): number => (d.paper ? 1 + d.paper.order : d.source.kind === 'user' && d.source.generic ? 1000 : 0);
  return all.map((d, i) => ({ d, i })).sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i).map((x) => x.d);
}

let defs: DatasetDef[] | undefined;
const allDefs = (): DatasetDef[] => (defs ??= ordered());

const norm = (name: string): string => name.trim().toLowerCase();

/** The definition named `name` or one of its aliases (case-insensitive), or undefined. */
function findDef(name: string): DatasetDef | undefined {
  const n = norm(name);
  // wds/<name> and hf:<owner>/<repo> name hub datasets without a list entry
  return allDefs().find((d) => d.name === n || d.aliases.includes(n)) ?? resolveHfName(name) ?? resolveWdsName(name);
}

/** Every dataset name getDataset knows. */
export function datasetNames(): string[] {
  return allDefs().map((d) => d.name);
}

/**
 * The dataset called `name` (case-insensitive, or one of its aliases). `classnamesFile` (--classnames) names the
 * classes by index, for every dataset: it is read now, and its count is checked now against a dataset whose labels
 * index a fixed class list, or at open time against the data (folders, a package's classnames.txt).
 */
export function getDataset(name: string, opts: { classnamesFile?: string; labelColumn?: string; imageColumn?: string } = {}): DatasetDescriptor {
  let d = findDef(name);
  if (!d) {
    const aliases = allDefs().flatMap((x) => [x.name, ...x.aliases]);
    const hint = didYouMean(name, aliases);
    throw new UserError(`unknown dataset '${name}'${hint} (known: ${datasetNames().join(', ')})`);
  }
  if (opts.labelColumn !== undefined || opts.imageColumn !== undefined) {
    const flag = opts.labelColumn !== undefined ? '--label-column' : '--image-column';
    if (!d.withColumns) throw new UserError(`${flag}: ${d.name} is not a parquet dataset (the flag names a column of parquet shards)`);
    d = d.withColumns({ ...(opts.labelColumn !== undefined ? { label: opts.labelColumn } : {}), ...(opts.imageColumn !== undefined ? { image: opts.imageColumn } : {}) });
  }
  return describe(d, opts.classnamesFile);
}

/** All datasets: the bundled default, the paper's 27 in Table 9's order, then the generic imagefolder and csv layouts. */
export function listDatasets(): DatasetDescriptor[] {
  return allDefs().map((d) => describe(d));
}

/** The primary metric of a dataset (its descriptor's; for a name clip-bench cannot load, the paper's Table 9). */
export function primaryMetricFor(name: string): PrimaryMetric {
  return findDef(name)?.primaryMetric ?? table9PrimaryMetric(norm(name));
}

/** Where a dataset lives unless the user says otherwise: its bundled folder, else $XDG_CACHE_HOME/clip-bench/datasets/<name> (~/.cache/... without XDG_CACHE_HOME). */
export function defaultDatasetRoot(name: string): string {
  const d = findDef(name);
  if (d?.source.kind === 'bundled') return d.source.dir;
  return path.join(datasetCacheDir(), d?.name ?? name);
}


/**
 * The dataset's own name of `split` (an alias such as ImageNet's `val` resolved: one split, one name in results and
 * cache keys); a split the dataset does not have is a UserError listing those it has.
 */
export function canonicalSplit(spec: DatasetDescriptor, split: string): string {
  const own = spec.splitAliases?.[split] ?? split;
  if (!spec.anySplit && !spec.splits.includes(own)) {
    const aliases = Object.entries(spec.splitAliases ?? {}).map(([a, s]) => `${a} = ${s}`);
    throw new UserError(`${spec.name}: unknown split '${split}' (known: ${spec.splits.join(', ')}${aliases.length ? `; ${aliases.join(', ')}` : ''})`);
  }
  return own;
}

/** The names a dataset's test split goes by (its own and its aliases): what a probe must not train on. */
export function testSplitNames(spec: DatasetDescriptor): string[] {
  return [spec.roles.test, ...Object.entries(spec.splitAliases ?? {}).filter(([, s]) => s === spec.roles.test).map(([a]) => a)];
}
