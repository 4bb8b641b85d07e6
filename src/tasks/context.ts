/**
 * The evaluation context: what a task asks of a dataset for one model (its opened splits, templates, primary
 * metric, --limit subset, image embeddings), each split opened once and each split's embeddings loaded once.
 */
import { existsSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { locateSplit } from '../data/ensure.js';
import { canonicalSplit, getDataset } from '../data/registry.js';
import { datasetRootFor } from '../data/dataset-roots.js';
import { splitWarnings } from '../data/split-warnings.js';
import { stratifiedSubset } from '../data/subset.js';
import { imagenetTemplates } from '../data/prompts.js';
import type { DatasetDescriptor, ImageSource, PrimaryMetric } from '../data/types.js';
import { defaultCacheDir } from '../cache/key.js';
import { defaultBatchSize } from '../model/device.js';
import { imageEmbeddings, type ImageEmbeddingRequest, type ImageEmbeddings } from '../cache/embeddings.js';
import type { Features } from '../eval/probe.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import type { ClipModel } from '../model/types.js';
import { subsetOf, type Subset } from '../results/index.js';
import type { PriorResults } from './prior-results.js';

/** The splits an evaluation reads: the classifiers learn from `train` (choosing C on `val`, when given) and are scored on `test`. */
export interface TaskSplits {
  train?: string;
  val?: string;
  test: string;
}

/** Where the data comes from and how images are embedded (the evaluation commands' shared flags). */
export interface DataOptions {
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

/** --cache-dir, else the default embedding cache. */
export function cacheDirOf(f: { cacheDir?: string }): string {
  return f.cacheDir ?? defaultCacheDir();
}

export interface OpenSplit {
  spec: DatasetDescriptor;
  source: ImageSource;
  split: string;
}

/**
 * The splits one command has opened: a command evaluating several models opens each split once (decoded pixels
 * stay with the source); a suite forgets them when it moves to the next dataset.
 */
export class OpenedSplits {
  private readonly opened = new Map<string, Promise<OpenSplit>>();

  /** Resolve a dataset name and open one split, downloading it first if it is missing (and allowed). */
  open(name: string, split: string, f: DataOptions): Promise<OpenSplit> {
    const key = JSON.stringify([name, split, f.datasetRoot ?? null, f.classnames ?? null, f.labelColumn ?? null, f.imageColumn ?? null]);
    let s = this.opened.get(key);
    if (!s) {
      s = openSplitUncached(name, split, f);
      this.opened.set(key, s);
      s.catch(() => this.opened.delete(key));
    }
    return s;
  }

  /** Drop every opened split (one dataset's data in memory at a time). */
  clear(): void {
    this.opened.clear();
  }
}

async function openSplitUncached(name: string, asked: string, f: DataOptions): Promise<OpenSplit> {
  // --classnames names the classes of every dataset (its count checked against the dataset's)
  const spec = getDataset(name, { classnamesFile: f.classnames, labelColumn: f.labelColumn, imageColumn: f.imageColumn });
  // ImageNet's `val` is its `test`: one split, one name in rows and cache keys
  const split = canonicalSplit(spec, asked);
  // this dataset's folder under --dataset-root (DIR, DIR/{dataset}, NAME=DIR), or its default place
  const explicit = datasetRootFor(f.datasetRoot, spec.name);
  if (spec.source.kind === 'user' && spec.source.generic && explicit === undefined) {
    throw new UserError(`--dataset ${name}: pass --dataset-root DIR, the folder holding ${spec.source.layout}`);
  }
  // an explicit root must exist; the default one is created by the first download
  if (explicit !== undefined && !existsSync(explicit)) throw new UserError(`--dataset-root ${explicit}: no such directory`);
  if (explicit !== undefined && statSync(explicit, { throwIfNoEntry: false })?.isFile()) throw new UserError(`--dataset-root ${explicit}: a file, not a directory`);
  const root = await locateSplit(spec, explicit, split, {
    download: f.download,
    onStatus: (m) => process.stderr.write(`${m}\n`),
  });
  const source = await spec.open(root, split);
  return { spec, source, split };
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

/** The templates of an opened split: the dataset's own, else those its data carries (a package's), else ImageNet's 80. */
export function splitTemplates(s: OpenSplit): string[] {
  if (s.spec.templates.length) return s.spec.templates;
  return s.source.templates?.length ? s.source.templates : imagenetTemplates();
}

/** The --limit a split is actually cut to (null: the limit is absent or covers the whole split). */
export function effectiveLimit(s: OpenSplit, limit: number | undefined): number | null {
  return limit !== undefined && limit < s.source.n ? limit : null;
}

/** What the embedding cache is asked for a split: its --limit subset, the cache folder, the pipeline flags. */
export function embeddingRequest(model: ClipModel, s: OpenSplit, f: DataOptions, limit = f.limit): ImageEmbeddingRequest {
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

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`clip-bench: warning: ${message}\n`);
}

/** The (cached) image embeddings of an opened split, honouring --limit. */
export async function splitEmbeddings(model: ClipModel, s: OpenSplit, f: DataOptions): Promise<ImageEmbeddings> {
  for (const w of splitWarnings(`${s.spec.name}/${s.split}`, s.source, f.limit)) warnOnce(w);
  return imageEmbeddings(embeddingRequest(model, s, f));
}

/** A split's embeddings as labelled features, with the split (for class names etc.). */
export interface SplitFeatures {
  features: Features;
  split: OpenSplit;
  /** unreadable images left out (--skip-bad-images) */
  skipped: number;
  /** the --limit this split was cut to, or null (whole split) */
  limit: number | null;
  /** each feature row's image id (ImageSource.imageId) */
  imageIds: string[];
}

/**
 * One model on one dataset: what every task asks of the data. `splits` are the splits this evaluation reads (a
 * command's flags, or the dataset's own in a suite); `prior` holds the rows earlier tasks gave (few-shot reads
 * zero-shot's and the probe's).
 */
export class EvalContext {
  constructor(
    readonly model: OnnxClipModel,
    /** the --model entry the rows name */
    readonly modelSpec: string,
    /** the dataset as named (a name or an alias) */
    readonly dataset: string,
    readonly splits: TaskSplits,
    readonly data: DataOptions,
    readonly prior: PriorResults,
    private readonly opened: OpenedSplits,
    private readonly loaded = new Map<string, Promise<ImageEmbeddings>>(),
  ) {}

  /** The same model and dataset read through other splits (the suite's next task), sharing the loaded embeddings. */
  withSplits(splits: TaskSplits): EvalContext {
    return new EvalContext(this.model, this.modelSpec, this.dataset, splits, this.data, this.prior, this.opened, this.loaded);
  }

  /** One of the dataset's splits, opened once. */
  open(split: string): Promise<OpenSplit> {
    return this.opened.open(this.dataset, split, this.data);
  }

  /** A split's image embeddings (its --limit subset), loaded or computed once per context. */
  embeddings(split: string): Promise<ImageEmbeddings> {
    let e = this.loaded.get(split);
    if (!e) {
      e = this.open(split).then((s) => splitEmbeddings(this.model, s, this.data));
      this.loaded.set(split, e);
      e.catch(() => this.loaded.delete(split));
    }
    return e;
  }

  /** A split's embeddings as labelled features; a split with no images is an error naming it. */
  async features(split: string): Promise<SplitFeatures> {
    const s = await this.open(split);
    const emb = await this.embeddings(split);
    if (emb.n === 0) throw new UserError(`${s.spec.name}/${split}: no images`);
    return {
      features: { X: emb.embeddings, y: emb.labels, n: emb.n, dim: emb.dim, ...(emb.targets ? { targets: emb.targets } : {}) },
      split: s,
      skipped: emb.skipped,
      limit: effectiveLimit(s, this.data.limit),
      imageIds: Array.from(emb.rows, (i) => s.source.imageId(i)),
    };
  }

  /** The images rows of this split were computed on: its --limit cut and the images skipped from it. */
  subsetOf(split: OpenSplit, skipped: number): Required<Subset> {
    return subsetOf(effectiveLimit(split, this.data.limit), this.data.seed, skipped);
  }

  /** The images a probe row was computed on: cut by --limit when any of its splits was, and every skipped image. */
  probeSubset(splits: readonly (SplitFeatures | null)[]): Required<Subset> {
    const used = splits.filter((s): s is SplitFeatures => s !== null);
    const cut = used.some((s) => s.limit !== null) ? this.data.limit! : null;
    return subsetOf(cut, this.data.seed, used.reduce((n, s) => n + s.skipped, 0));
  }
}
