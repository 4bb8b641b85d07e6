import fs from 'node:fs';
import path from 'node:path';
import { datasetMirror } from '../defaults.js';
import { DatasetUnavailable, UserError } from '../errors.js';
import type { DatasetDescriptor, DatasetResource } from './types.js';
import { downloadFile, extractTarGz } from './download.js';
import { canonicalSplit, defaultDatasetRoot } from './registry.js';
import { ensureHubDataset } from './wds-datasets.js';
import { ensureHfDataset } from './hf-parquet.js';
import { ensureDir } from '../util/fs.js';

/** Env var: a base URL under which `<dataset>/<file>` is served, replacing every built-in dataset's own URLs. */
export const MIRROR_ENV = 'CLIP_BENCH_DATASET_MIRROR';

/** The URL a resource is fetched from: the publisher's, or `$CLIP_BENCH_DATASET_MIRROR/<dataset>/<file>`. */
export function resourceUrl(dataset: string, res: DatasetResource): string {
  const mirror = datasetMirror();
  if (!mirror) return res.url;
  return `${mirror}/${encodeURIComponent(dataset)}/${encodeURIComponent(res.file)}`;
}

export interface EnsureOptions {
  /** fetch what is missing (else a missing split is a UserError saying how to fetch it) */
  download: boolean;
  onProgress?: (file: string, done: number, total?: number) => void;
  /** one-line status messages ("downloading ...", "extracting ...") */
  onStatus?: (message: string) => void;
}

const mb = (b?: number): string => (b === undefined ? '' : ` (${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB)`);

/**
 * Make sure `root` holds `split` of `spec`, downloading (and extracting) what is missing when
 * `download` is set. Files already in place are not fetched again (downloads are verified before
 * they are renamed into place, so a file in place is a complete one).
 */
export async function ensureDataset(spec: DatasetDescriptor, root: string, split: string, opts: EnsureOptions): Promise<void> {
  split = canonicalSplit(spec, split);
  if (spec.isPresent(root, split)) return;
  const download = spec.source.kind === 'download' || spec.source.kind === 'bundled' ? spec.source.download : undefined;
  const resources = spec.resources.filter((r) => !r.splits || r.splits.includes(split));
  const missing = spec.requiredFiles(split).map((f) => path.join(root, f));
  if (spec.source.kind === 'hub') {
    // a hub dataset given a root of the user's: that root must hold it
    throw new DatasetUnavailable(
      `${spec.name}: split '${split}' not found under --dataset-root ${root} (missing ${missing.join(', ')}): pass a root holding ${spec.rootLayout ?? 'a copy of ' + spec.source.repoId}, ` +
        `or leave --dataset-root out to fetch ${spec.source.repoId} from the hub`,
    );
  }
  if (!download || resources.length === 0) {
    const layout = spec.source.kind === 'user' ? ` holding ${spec.source.layout}` : '';
    throw new DatasetUnavailable(
      `${spec.name}: split '${split}' not found: ${missing.join(', ') || root} does not exist; this dataset is not downloadable: ` +
        `pass --dataset-root DIR${layout} (\`clip-bench datasets\` shows each layout), or put the data there`,
    );
  }
  if (!opts.download) {
    const total = resources.reduce((s, r) => s + (r.bytes ?? 0), 0);
    throw new DatasetUnavailable(
      `${spec.name}: split '${split}' not found under ${root} (missing ${missing[0]}); downloads are off (--no-download); without that flag it is fetched${mb(total || undefined)} ` +
        `(from ${MIRROR_ENV}/${spec.name}/ where that is set), or pass --dataset-root DIR holding a copy`,
    );
  }
  ensureDir(root);
  for (const r of resources) {
    const dest = path.join(root, r.file);
    if (fs.existsSync(dest)) continue;
    const url = resourceUrl(spec.name, r);
    opts.onStatus?.(`downloading ${url}${mb(r.bytes)} -> ${dest}`);
    try {
      await downloadFile(url, dest, {
        md5: r.md5,
        sha256: r.sha256,
        onProgress: opts.onProgress ? (done, total) => opts.onProgress!(r.file, done, total ?? r.bytes) : undefined,
      });
    } catch (e) {
      // say the ways round a publisher that cannot be reached: a mirror, or a copy of one's own
      if (e instanceof Error && !datasetMirror()) e.message += ` (set ${MIRROR_ENV} to a mirror serving ${spec.name}/${r.file}, or pass --dataset-root DIR holding a copy)`;
      throw e;
    }
  }
  if (download.extract) {
    const archive = path.join(root, download.extract.archive);
    opts.onStatus?.(`extracting ${archive}`);
    await extractTarGz(archive, root, { filter: download.extract.filter });
  }
  if (!spec.isPresent(root, split)) {
    const still = spec.requiredFiles(split).map((f) => path.join(root, f)).filter((f) => !fs.existsSync(f));
    throw new UserError(`${spec.name}: after download, ${still.join(', ')} still missing (the archive does not have the expected layout)`);
  }
}

/**
 * The folder a split is read from, with the split in place: --dataset-root (which must hold it, or be filled by a
 * download), else the dataset's default root (bundled, or $XDG_CACHE_HOME/clip-bench/datasets/<name>; for a hub
 * package, that folder when it holds a copy, else the package fetched into the Hugging Face cache).
 */
export async function locateSplit(spec: DatasetDescriptor, explicitRoot: string | undefined, split: string, opts: EnsureOptions): Promise<string> {
  split = canonicalSplit(spec, split);
  if (spec.source.kind === 'hub' && explicitRoot === undefined) {
    // a copy of the package in the dataset folder is used as it is
    const local = defaultDatasetRoot(spec.name);
    if (spec.isPresent(local, split)) return local;
    // else the split fetched into (or already in) the Hugging Face cache: its snapshot folder is the root
    const format = spec.source.format ?? 'wds';
    if (format !== 'wds') return ensureHfDataset(spec.source, spec.name, split, opts.download, format);
    return ensureHubDataset(spec.source, spec.name, split, opts.download);
  }
  const root = explicitRoot ?? defaultDatasetRoot(spec.name);
  await ensureDataset(spec, root, split, opts);
  return root;
}
