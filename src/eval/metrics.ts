import type { PrimaryMetric } from '../data/types.js';
import type { ResampleStatistic } from './stats.js';

/** A dataset's primary metric (the paper's Table 9) on one classifier's images. */
export interface PrimaryScore {
  metric: PrimaryMetric;
  /** percent; null where the metric is undefined on these images (no top-5 with fewer than 5 classes, ROC AUC with one class present, mAP without a positive) */
  value: number | null;
  /** the metric as a fraction on a resample of the images (idx: n indices drawn with replacement); null with the value */
  statistic: ResampleStatistic | null;
  /** test images */
  n: number;
}

/** Classification metrics in percent. top5 is null when there are fewer than 5 classes (never NaN). */
export interface Metrics {
  n: number;
  top1: number;
  top5: number | null;
  /** mean per-class recall (balanced accuracy) over the classes present in the labels */
  meanPerClass: number;
  /** what each image got: kept so that two runs can be compared image by image */
  outcomes?: ImageOutcomes;
  /** the dataset's primary metric, where the evaluator knows it (set by scorePrimary in primary.ts) */
  primary?: PrimaryScore;
  /** the scores [n, nClasses], kept where the primary metric ranks images (ROC AUC, mAP) */
  scores?: Float32Array;
  /** a multilabel split's 0/1 targets [n, nClasses] (mAP) */
  targets?: Uint8Array;
}

/** Per-image outcomes of one classifier on n images, in the images' order. */
export interface ImageOutcomes {
  n: number;
  nClasses: number;
  labels: Int32Array;
  /** argmax class (ties: the lower class index) */
  predicted: Int32Array;
  /** classes that beat the true one (0 = right; < 5 = right in top-5) */
  trueRank: Int32Array;
}

/**
 * Rank of the true class among the scores of one row: how many classes beat it. Ties go to the lower class index,
 * as argmax does, so the result is deterministic.
 */
function rankOfTrue(scores: Float32Array, offset: number, nClasses: number, label: number): number {
  const s = scores[offset + label];
  let rank = 0;
  for (let c = 0; c < nClasses; c++) {
    const v = scores[offset + c];
    if (v > s || (v === s && c < label)) rank++;
  }
  return rank;
}

function argmax(scores: Float32Array, offset: number, nClasses: number): number {
  let best = 0;
  for (let c = 1; c < nClasses; c++) if (scores[offset + c] > scores[offset + best]) best = c;
  return best;
}

/** Per-image outcomes of scores [n, nClasses] against labels (0..nClasses-1). */
export function imageOutcomes(scores: Float32Array, labels: Int32Array, n: number, nClasses: number): ImageOutcomes {
  const predicted = new Int32Array(n);
  const trueRank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    predicted[i] = argmax(scores, i * nClasses, nClasses);
    trueRank[i] = rankOfTrue(scores, i * nClasses, nClasses, labels[i]);
  }
  return { n, nClasses, labels: labels.slice(0, n), predicted, trueRank };
}

/** 1 where the true class ranks below `k` (k = 1: top-1 correct, k = 5: top-5 correct). */
export function correctAt(o: ImageOutcomes, k: number): Uint8Array {
  const out = new Uint8Array(o.n);
  for (let i = 0; i < o.n; i++) out[i] = o.trueRank[i] < k ? 1 : 0;
  return out;
}

/** Metrics of per-image outcomes (the outcomes ride along). */
export function metricsOfOutcomes(o: ImageOutcomes): Metrics {
  const { n, nClasses } = o;
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < n; i++) {
    const rank = o.trueRank[i];
    if (rank === 0) top1++;
    if (rank < 5) top5++;
  }
  return {
    n,
    top1: n ? (100 * top1) / n : 0,
    top5: nClasses >= 5 ? (n ? (100 * top5) / n : 0) : null,
    meanPerClass: meanPerClassOf(o),
    outcomes: o,
  };
}

/** Mean per-class recall in percent over the classes present in the labels (0 without images). */
export function meanPerClassOf(o: ImageOutcomes): number {
  const perClassHit = new Float64Array(o.nClasses);
  const perClassN = new Float64Array(o.nClasses);
  for (let i = 0; i < o.n; i++) {
    const y = o.labels[i];
    perClassN[y]++;
    if (o.trueRank[i] === 0) perClassHit[y]++;
  }
  let sum = 0;
  let present = 0;
  for (let c = 0; c < o.nClasses; c++) {
    if (perClassN[c] > 0) {
      sum += perClassHit[c] / perClassN[c];
      present++;
    }
  }
  return present ? (100 * sum) / present : 0;
}

/** Metrics of scores [n, nClasses] against labels (0..nClasses-1), with the per-image outcomes. */
export function classificationMetrics(scores: Float32Array, labels: Int32Array, n: number, nClasses: number): Metrics {
  return metricsOfOutcomes(imageOutcomes(scores, labels, n, nClasses));
}

/** Kinetics-700's metric in the paper (Table 9): the mean of top-1 and top-5 accuracy, in percent; null without top-5. */
export function meanTop1Top5(m: Pick<Metrics, 'top1' | 'top5'>): number | null {
  return m.top5 === null ? null : (m.top1 + m.top5) / 2;
}
