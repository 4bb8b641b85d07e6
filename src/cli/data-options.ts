import { defaultBatchSize } from '../model/device.js';
import { existsSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { UserError } from '../errors.js';
import { locateSplit } from '../data/ensure.js';
import { canonicalSplit, getDataset } from '../data/registry.js';
import { splitWarnings } from '../data/split-warnings.js';
import { stratifiedSubset } from '../data/subset.js';
import { imagenetTemplates } from '../data/prompts.js';
import type { DatasetDescriptor, ImageSource, PrimaryMetric } from '../data/types.js';
import { defaultCacheDir } from '../cache/key.js';
import { imageEmbeddings, type ImageEmbeddingRequest, type ImageEmbeddings } from '../cache/embeddings.js';
import type { ClipModel } from '../model/types.js';
import { positiveInt } from './model-options.js';

export interface DataFlags {
  datasetRoot?: string;
  classnames?: string;
  /** the label / image column of a parquet dataset */
  labelColumn?: string;
  imageColumn?: string;
  limit?: number;
  seed: number;
  download: boolean;
  cacheDir?: string;
  /** unset: the device's default (defaultBatchSize) */
  batchSize?: number;
  skipBadImages: boolean;
  progress: boolean;
}

/** Help of every --dataset flag. */
export const DATASETS_HELP = 'comma-separated datasets (see `clip-bench datasets`), or a suite: @paper27, @kornblith12, @FILE (one per line)';

/** --dataset-root/--classnames/--limit/--seed/--download and the embedding cache flags, shared by the evaluators. */
export function addDataOptions(cmd: Command, opts: { oneDataset?: boolean } = {}): Command {
  // --dataset-root and --classnames name one dataset's files (a suite takes each dataset from its default place)
  if (opts.oneDataset !== false) {
    cmd
      .option('--dataset-root <dir>', 'where the dataset files are, or where downloads go (default: per-user cache; fashion-mnist: bundled)')
      .option('--classnames <file>', 'class names (JSON array or one per line), replacing the dataset\'s')
      .option('--label-column <name>', 'parquet datasets: the ClassLabel column holding the class (default: label, else the only ClassLabel)')
      .option('--image-column <name>', 'parquet datasets: the Image column holding the pictures (default: image, else the only Image)');
  }
  return cmd
    .addOption(new Option('--limit <n>', 'evaluate a deterministic class-stratified subset of N images per split').argParser(positiveInt('--limit')))
    .addOption(new Option('--seed <n>', 'seed of every sampled subset').default(DEFAULTS.seed).argParser(nonNegativeInt('--seed')))
    .option('--no-download', 'never download a missing dataset')
    .option('--cache-dir <dir>', 'embedding cache directory (default $XDG_CACHE_HOME/clip-bench/embeddings)')
    .addOption(new Option('--batch-size <n>', `images per inference batch (default: ${DEFAULTS.batchSize} on the CPU, ${DEFAULTS.deviceBatchSize} on an accelerator)`).argParser(positiveInt('--batch-size')))
    .option('--skip-bad-images', 'skip (and count) unreadable images instead of failing', false)
    .option('--no-progress', 'no progress bar on stderr');
}

/** --cache-dir, else the default embedding cache. */
export function cacheDirOf(f: { cacheDir?: string }): string {
  return f.cacheDir ?? defaultCacheDir();
}

export function nonNegativeInt(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag} ${v}: expected a non-negative integer`);
    return n;
  };
}

export interface OpenSplit {
  spec: DatasetDescriptor;
  source: ImageSource;
  split: string;
}

/**
 * The metric a split is scored with: 11-point mAP for multilabel data (a package whose dataset_type.txt says
 * multilabel, whatever name it came by), else the dataset's Table 9 metric. A dataset scored by mAP whose data is
 * not multilabel is an error naming it.
 */
export function splitPrimaryMetric(s: OpenSplit): PrimaryMetric {
  if (s.source.targets) return 'map11';
  if (s.spec.primaryMetric === 'map11') throw new UserError(`${s.spec.name}/${s.split}: scored with 11-point mAP over multilabel targets, but the data has none (a WebDataset package with dataset_type.txt 'multilabel' and a .npy 0/1 vector per sample)`);
  return s.spec.primaryMetric;
}

// A command evaluating several models opens each split once (decoded pixels stay with the source).
const opened = new Map<string, Promise<OpenSplit>>();

/** Drop the opened splits (a suite moves on to the next dataset: one dataset's data in memory at a time). */
export function forgetOpenedSplits(): void {
  opened.clear();
}

/** Resolve a dataset name and open one split, downloading it first if it is missing (and allowed). */
export function openSplit(name: string, split: string, f: DataFlags): Promise<OpenSplit> {
  const key = JSON.stringify([name, split, f.datasetRoot ?? null, f.classnames ?? null, f.labelColumn ?? null, f.imageColumn ?? null]);
  let s = opened.get(key);
  if (!s) {
    s = openSplitUncached(name, split, f);
    opened.set(key, s);
    s.catch(() => opened.delete(key));
  }
  return s;
}

async function openSplitUncached(name: string, asked: string, f: DataFlags): Promise<OpenSplit> {
  // --classnames names the classes of every dataset (its count checked against the dataset's)
  const spec = getDataset(name, { classnamesFile: f.classnames, labelColumn: f.labelColumn, imageColumn: f.imageColumn });
  // ImageNet's `val` is its `test`: one split, one name in rows and cache keys
  const split = canonicalSplit(spec, asked);
  if (spec.source.kind === 'user' && spec.source.generic && f.datasetRoot === undefined) {
    throw new UserError(`--dataset ${name}: pass --dataset-root DIR, the folder holding ${spec.source.layout}`);
  }
  // an explicit root must exist; the default one is created by the first download
  if (f.datasetRoot !== undefined && !existsSync(f.datasetRoot)) throw new UserError(`--dataset-root ${f.datasetRoot}: no such directory`);
  if (f.datasetRoot !== undefined && statSync(f.datasetRoot, { throwIfNoEntry: false })?.isFile()) throw new UserError(`--dataset-root ${f.datasetRoot}: a file, not a directory`);
  const root = await locateSplit(spec, f.datasetRoot, split, {
    download: f.download,
    onStatus: (m) => process.stderr.write(`${m}\n`),
  });
  const source = await spec.open(root, split);
  return { spec, source, split };
}

/** The templates of an opened split: the dataset's own, else those its data carries (a package's), else ImageNet's 80. */
export function splitTemplates(s: OpenSplit): string[] {
  if (s.spec.templates.length) return s.spec.templates;
  return s.source.templates?.length ? s.source.templates : imagenetTemplates();
}

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`clip-bench: warning: ${message}\n`);
}

/** The --limit a split is actually cut to (null: the limit is absent or covers the whole split). */
export function effectiveLimit(s: OpenSplit, limit: number | undefined): number | null {
  return limit !== undefined && limit < s.source.n ? limit : null;
}

/** The (cached) image embeddings of an opened split, honouring --limit. */
export async function splitEmbeddings(model: ClipModel, s: OpenSplit, f: DataFlags, limit = f.limit): Promise<ImageEmbeddings> {
  for (const w of splitWarnings(`${s.spec.name}/${s.split}`, s.source, limit)) warnOnce(w);
  return imageEmbeddings(embeddingRequest(model, s, f, limit));
}

/** What the embedding cache is asked for a split: its --limit subset, the cache folder, the pipeline flags. */
export function embeddingRequest(model: ClipModel, s: OpenSplit, f: DataFlags, limit = f.limit): ImageEmbeddingRequest {
  const cut = effectiveLimit(s, limit);
  const subset = cut !== null ? { indices: stratifiedSubset(s.source.labels, s.source.classes.length, cut, f.seed), limit: cut, seed: f.seed } : null;
  return {
    model,
    dataset: s.spec.name,
    split: s.split,
    source: s.source,
    subset,
    cacheDir: cacheDirOf(f),
    batchSize: f.batchSize ?? defaultBatchSize(model.provider),
    skipBadImages: f.skipBadImages,
    progress: f.progress,
  };
}
