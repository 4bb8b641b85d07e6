import type { RawImage } from '../image/types.js';

/**
 * The metric of the paper's Table 9 a dataset is scored with: top-1 accuracy, mean per-class recall, the mean of
 * top-1 and top-5 accuracy (Kinetics-700), binary ROC AUC of class 1 (Hateful Memes), or VOC2007's 11-point mAP
 * (multilabel). All in percent.
 */
export type PrimaryMetric = 'accuracy' | 'mean_per_class' | 'mean_top1_top5' | 'roc_auc' | 'map11';
export const PRIMARY_METRICS: readonly PrimaryMetric[] = ['accuracy', 'mean_per_class', 'mean_top1_top5', 'roc_auc', 'map11'];

/** One split of one dataset, opened: labels are known up front, pixels are decoded on demand. */
export interface ImageSource {
  /** number of images */
  n: number;
  /** class index per image, length n */
  labels: Int32Array;
  /** class names by index (identity is the index, names may repeat) */
  classes: string[];
  /** fingerprint of the content of the source files (src/util/fingerprint.ts: every byte): part of the cache key */
  fingerprint: string;
  /**
   * the dataset name its cache entries are kept under, when the data, not the name it is opened by, decides the
   * embeddings (a WebDataset package: the same bytes by `wds --dataset-root`, `wds/NAME` or `hf:...`); default the
   * dataset's name
   */
  cacheDataset?: string;
  /** decode image i (0 <= i < n) */
  load(i: number): Promise<RawImage>;
  /** a human-readable origin of image i for error messages (file path, or `file#record`) */
  describe(i: number): string;
  /**
   * The stable identity of image i, the same wherever the data is kept: its path under the dataset root (folders,
   * CSV manifests), its sample key (a WebDataset package), or `file#index` (IDX, CIFAR, STL-10 record files).
   * Per-image results are paired on it.
   */
  imageId(i: number): string;
  /**
   * Multilabel datasets only (VOC2007's `wds_voc2007_multilabel`): the 0/1 targets, row-major n x nClasses
   * (data[i * nClasses + c] = 1 when image i shows class c). `labels` then holds each image's lowest positive
   * class (0 when it has none), for subsetting and display only: multilabel metrics must use `targets`.
   */
  targets?: { data: Uint8Array; nClasses: number };
  /** prompt templates the data carries (a WebDataset package's), for a dataset that has none of its own */
  templates?: string[];
}

/** A file a dataset can fetch. */
export interface DatasetResource {
  /** file name, saved as ROOT/<file>; also the last part of its URL */
  file: string;
  /** the publisher's URL (CLIP_BENCH_DATASET_MIRROR replaces everything before <file>) */
  url: string;
  /** md5 sums accepted (publishers of these data sets give md5) */
  md5?: string[];
  sha256?: string[];
  /** download size in bytes, for display */
  bytes?: number;
  /** the splits that need it (all when absent) */
  splits?: string[];
}

/** Files fetched into ROOT, and an archive among them to extract there afterwards. */
export interface DatasetDownload {
  resources: DatasetResource[];
  extract?: { archive: string; filter?: (entryPath: string) => boolean };
}

/** Where a dataset's data comes from. */
export type DatasetSource =
  /** shipped in the package (its default root); `download` fetches the same files into any other root */
  | { kind: 'bundled'; dir: string; download?: DatasetDownload }
  /** fetched from the publisher (or CLIP_BENCH_DATASET_MIRROR) into ROOT on first use */
  | { kind: 'download'; download: DatasetDownload }
  /**
   * the user puts the data under ROOT (`layout` says how). `generic`: not one dataset but a file layout for any
   * data (imagefolder, csv): ROOT must be given with --dataset-root, and the classes come from the data
   */
  | { kind: 'user'; layout: string; generic: boolean }
  /**
   * a hub dataset repository: a WebDataset package (clip-benchmark layout; `format` absent or 'wds'), parquet shards
   * (the Hugging Face datasets layout, 'parquet'), or either, told apart by its files ('auto', hf:<owner>/<name>)
   */
  | { kind: 'hub'; repoId: string; revision?: string; format?: 'wds' | 'parquet' | 'auto' };

/**
 * Where `classes` come from: the paper's list (datasets/prompts.json), a list shipped with the dataset, the data
 * itself at open time (folder names, ROOT/classnames.txt), or the user's --classnames file.
 */
export type ClassOrigin = 'paper' | 'bundled' | 'data' | 'file';

/** Which split plays which part in an evaluation (zero-shot and probes score `test`; probes learn from `train`). */
export interface SplitRoles {
  train?: string;
  /** the dataset's own validation split (absent: the probe holds out part of train) */
  val?: string;
  test: string;
}

/** A dataset's row of the paper's Table 9 (the 27 datasets of the linear-probe study). */
export interface PaperDatasetInfo {
  /** the dataset's name as Table 9 prints it */
  title: string;
  /** position in Table 9 (0-based): the order of @paper27 */
  order: number;
  classes: number;
  train: number;
  test: number;
  /** the metric as Table 9 prints it (accuracy, mean per class, 11-point mAP, mean(top1, top5), ROC AUC) */
  metric: string;
}

/** Everything about one dataset: what it is, where its data comes from, its classes, prompts, metric and splits. */
export interface DatasetDescriptor {
  name: string;
  /** other names accepted for it (matched case-insensitively, like the name) */
  aliases: string[];
  description: string;
  homepage?: string;
  /** licence / terms note for display */
  license?: string;
  /** storage format of the files, for display only (idx, cifar10-bin, imagefolder, ...) */
  format: string;
  source: DatasetSource;
  /** the files a download fetches (from the source's download; empty when nothing can be downloaded) */
  resources: DatasetResource[];
  /** class names by label index; [] when they come from the data at open time */
  classes: string[];
  classOrigin: ClassOrigin;
  /** the --classnames file, when classOrigin is 'file' */
  classesFile?: string;
  /**
   * the data decides how many classes there are (folders, a package's classnames.txt) and the loader checks the
   * names against it; false: the labels index into `classes`, whose count is fixed
   */
  classCountFromData: boolean;
  /** the paper's templates for this dataset (ImageNet's 80 when it has none of its own) */
  templates: string[];
  /** the metric of the paper's Table 9 that clip-bench reports as primary */
  primaryMetric: PrimaryMetric;
  /** the split names the dataset has */
  splits: string[];
  /** other split names are accepted too (a generic layout: ROOT/<split>) */
  anySplit: boolean;
  roles: SplitRoles;
  /** other names of a split (ImageNet's `val` is the package's `test`): --split accepts them, results carry the split's own name */
  splitAliases?: Record<string, string>;
  /** what --dataset-root may hold for this dataset, for messages (absent: the source's layout) */
  rootLayout?: string;
  /** images per split of the data clip-bench reads, where known (absent for user-provided layouts) */
  splitSizes: Record<string, number>;
  /** the paper's Table 9 entry, for the paper's 27 datasets */
  paper?: PaperDatasetInfo;
  /** where what clip-bench evaluates differs from the paper's protocol (splits, metric): shown by `datasets` and reports */
  protocolNote?: string;
  /** files or folders (relative to ROOT) that a split needs */
  requiredFiles(split: string): string[];
  /** whether ROOT holds the split (every split when none is given) */
  isPresent(root: string, split?: string): boolean;
  /** open a split under root with this descriptor's classes; throws UserError for a missing root/split or a corrupt file */
  open(root: string, split: string): Promise<ImageSource>;
}
