import type { RawImage } from '../model/types.js';

export type PrimaryMetric = 'accuracy' | 'mean_per_class';

/** One split of one dataset, opened: labels are known up front, pixels are decoded on demand. */
export interface ImageSource {
  /** number of images */
  n: number;
  /** class index per image, length n */
  labels: Int32Array;
  /** class names by index (identity is the index, names may repeat) */
  classes: string[];
  /** stable fingerprint of the source files (sizes + mtimes or content hashes): part of the cache key */
  fingerprint: string;
  /** decode image i (0 <= i < n) */
  load(i: number): Promise<RawImage>;
  /** a human-readable origin of image i for error messages (file path, or `file#record`) */
  describe(i: number): string;
  /**
   * Multilabel datasets only (VOC2007's `wds_voc2007_multilabel`): the 0/1 targets, row-major n x nClasses
   * (data[i * nClasses + c] = 1 when image i shows class c). `labels` then holds each image's lowest positive
   * class (0 when it has none), for subsetting and display only: multilabel metrics must use `targets`.
   */
  targets?: { data: Uint8Array; nClasses: number };
}

export interface DatasetSpec {
  name: string;
  /** the paper's class names (index = label) */
  classes: string[];
  /** the paper's templates for this dataset (ImageNet's 80 when it has none of its own) */
  templates: string[];
  splits: string[];
  primaryMetric: PrimaryMetric;
  /** open a split under root; throws UserError for a missing root/split or a corrupt file */
  open(root: string, split: string): Promise<ImageSource>;
}
