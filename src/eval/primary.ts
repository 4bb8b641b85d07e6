/**
 * A dataset's primary metric (the paper's Table 9) from one classifier's scores: its value in percent and the
 * statistic of a resample of the test images that its intervals are built from. Accuracy and mean per class come
 * from the per-image outcomes; mean(top1, top5) too; ROC AUC and 11-point mAP need the scores themselves, which
 * are ranked once here and re-walked with bootstrap weights (no sort per resample).
 */
import type { PrimaryMetric } from '../data/types.js';
import { classificationMetrics, correctAt, meanTop1Top5, type Metrics } from './metrics.js';
import { meanApRanked, ranked, rankedColumns, rocAucRanked } from './ranking.js';
import { accuracyStatistic, meanPerClassStatistic, type ResampleStatistic } from './stats.js';

export interface PrimaryScore {
  metric: PrimaryMetric;
  /** percent; null where the metric is undefined on these images (no top-5 with fewer than 5 classes, ROC AUC with one class present, mAP without a positive) */
  value: number | null;
  /** the metric as a fraction on a resample of the images (idx: n indices drawn with replacement); null with the value */
  statistic: ResampleStatistic | null;
  /** test images */
  n: number;
}

/** Bootstrap weights from a resample: how often each image was drawn (one buffer reused across resamples). */
function weigher(n: number): (idx: Int32Array) => Int32Array {
  const w = new Int32Array(n);
  return (idx) => {
    w.fill(0);
    for (let k = 0; k < idx.length; k++) w[idx[k]!]!++;
    return w;
  };
}

/** Is idx the identity (the images themselves, as the bootstrap evaluates the estimate)? */
function isIdentity(idx: Int32Array): boolean {
  for (let k = 0; k < idx.length; k++) if (idx[k] !== k) return false;
  return true;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * The positive-class scores of a 2-class classifier: score(class 1) - score(class 0), which ranks images as the
 * softmax probability of class 1 does (zero-shot logits and probe logits alike).
 */
export function positiveClassScores(scores: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scores[i * 2 + 1]! - scores[i * 2]!;
  return out;
}

/**
 * Classification metrics of scores [n, nClasses] with the dataset's primary metric: what every evaluator reports.
 * A multilabel split (map11) keeps no per-image outcomes: an image has no single true class to compare on (its
 * single-label columns, against its lowest positive class, only fill the shape; the tables leave them blank).
 */
export function scoredMetrics(metric: PrimaryMetric, scores: Float32Array, labels: Int32Array, n: number, nClasses: number, targets?: Uint8Array): Metrics {
  const m = classificationMetrics(scores, labels, n, nClasses);
  m.primary = scorePrimary(metric, scores, m, nClasses, targets);
  if (metric === 'map11') delete m.outcomes;
  return m;
}

/**
 * The primary metric of scores [n, nClasses] (logits or any per-class score) whose per-image outcomes are in `m`.
 * `targets`: the 0/1 matrix [n, nClasses] of a multilabel split (needed for map11 only).
 */
export function scorePrimary(metric: PrimaryMetric, scores: Float32Array, m: Metrics, nClasses: number, targets?: Uint8Array): PrimaryScore {
  const n = m.n;
  const o = m.outcomes;
  const none = { metric, value: null, statistic: null, n };
  switch (metric) {
    case 'accuracy':
      return { metric, value: m.top1, statistic: o ? accuracyStatistic(correctAt(o, 1)) : null, n };
    case 'mean_per_class':
      return { metric, value: m.meanPerClass, statistic: o ? meanPerClassStatistic(correctAt(o, 1), o.labels, o.nClasses) : null, n };
    case 'mean_top1_top5': {
      const value = meanTop1Top5(m);
      if (value === null || !o) return { ...none, value };
      const c1 = correctAt(o, 1);
      const c5 = correctAt(o, 5);
      return {
        metric,
        value,
        n,
        statistic: (idx) => {
          let s = 0;
          for (let k = 0; k < idx.length; k++) s += c1[idx[k]!]! + c5[idx[k]!]!;
          return s / (2 * idx.length);
        },
      };
    }
    case 'roc_auc': {
      if (nClasses !== 2) throw new Error(`ROC AUC is the metric of a 2-class dataset; this one has ${nClasses} classes`);
      const labels = m.outcomes?.labels;
      if (!labels) throw new Error('ROC AUC needs the labels of the images');
      const r = ranked('rocAuc', positiveClassScores(scores, n), Uint8Array.from(labels.subarray(0, n), (y) => (y === 1 ? 1 : 0)));
      const value = finiteOrNull(rocAucRanked(r));
      if (value === null) return none;
      const w = weigher(n);
      return { metric, value: 100 * value, n, statistic: (idx) => (isIdentity(idx) ? value : rocAucRanked(r, w(idx))) };
    }
    case 'map11': {
      if (!targets) throw new Error('11-point mAP needs the multilabel targets of the images');
      const cols = rankedColumns(scores.subarray(0, n * nClasses), targets.subarray(0, n * nClasses), n, nClasses);
      const value = finiteOrNull(meanApRanked(cols).mAP);
      if (value === null) return none;
      const w = weigher(n);
      return { metric, value: 100 * value, n, statistic: (idx) => (isIdentity(idx) ? value : meanApRanked(cols, w(idx)).mAP) };
    }
  }
}

/** The value the probes choose C by (percent): the primary metric, -Infinity where it is undefined on the validation images. */
export function primaryForSelection(p: PrimaryScore): number {
  return p.value ?? -Infinity;
}
