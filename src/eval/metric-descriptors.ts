/**
 * One descriptor per metric: its range, direction, how it is computed from per-image evidence (as a statistic of a
 * resample of the images, so one function gives the value, its interval and its paired test), which interval goes
 * beside it and which paired test compares two runs of it. Tables, intervals, `compare` and `regress` ask these;
 * a new metric is one entry here plus its implementation.
 */
import type { PrimaryMetric } from '../data/types.js';
import { correctAt, meanPerClassOf, type ImageOutcomes } from './metrics.js';
import { meanApRanked, ranked, rankedColumns, rocAucRanked } from './ranking.js';
import { accuracyStatistic, meanPerClassStatistic, type ResampleStatistic } from './stats.js';

/** The metrics with their own columns in the run tables. */
export type ColumnMetric = 'top1' | 'top5' | 'mean_per_class';
export type MetricName = ColumnMetric | PrimaryMetric;

/** What a metric is computed from: one classifier on n images. */
export interface ImageEvidence {
  outcomes: ImageOutcomes;
  /** the classifier's scores [n, outcomes.nClasses] (kept where the metric ranks images: ROC AUC, mAP) */
  scores?: Float32Array;
  /** a multilabel split's 0/1 targets [n, outcomes.nClasses] (mAP) */
  targets?: Uint8Array;
  /** each image's stable identity (path under the root, sample key, `file#index`): runs are paired on it */
  ids?: readonly string[];
}

/** A metric on some images: its value in percent and the statistic (a fraction) on a resample; null where undefined on them. */
export interface MetricScore {
  value: number | null;
  statistic: ResampleStatistic | null;
}

export interface MetricDescriptor {
  name: MetricName;
  /** as tables and notes print it */
  label: string;
  /** the values it can take, in percent */
  range: readonly [number, number];
  higherIsBetter: boolean;
  /** the per-image evidence it needs besides labels and ranks ('scores': ranked metrics; 'targets': multilabel too) */
  needs: 'outcomes' | 'scores' | 'targets';
  /** the metric and its resample statistic from per-image evidence */
  fromOutcomes(e: ImageEvidence): MetricScore;
  /**
   * Its value from a row's column metrics (files written before the primary column held only those); undefined:
   * it has no such columns (ROC AUC, mAP).
   */
  fromColumns?(c: { top1: number | null; top5: number | null; mean_per_class: number | null }): number | null;
  /** the column metric whose interval columns it shares (accuracy: top-1's) */
  sameAs?: ColumnMetric;
  /** the 95% interval of one run: Clopper-Pearson (a proportion of images) or the seeded percentile bootstrap over images */
  interval: 'clopper-pearson' | 'bootstrap';
  /** two runs on the same images: exact McNemar on the images right at top-k in one only, or the paired bootstrap */
  pairedTest: { kind: 'mcnemar'; k: number } | { kind: 'bootstrap' };
}

/** Is idx the identity (the images themselves, as the bootstrap evaluates the estimate)? */
function isIdentity(idx: Int32Array): boolean {
  for (let k = 0; k < idx.length; k++) if (idx[k] !== k) return false;
  return true;
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

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
const NONE: MetricScore = { value: null, statistic: null };

/**
 * The positive-class scores of a 2-class classifier: score(class 1) - score(class 0), which ranks images as the
 * softmax probability of class 1 does (zero-shot logits and probe logits alike).
 */
export function positiveClassScores(scores: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scores[i * 2 + 1]! - scores[i * 2]!;
  return out;
}

function topK(k: number): (e: ImageEvidence) => MetricScore {
  return ({ outcomes: o }) => {
    if (k > 1 && o.nClasses < k) return NONE;
    const c = correctAt(o, k);
    let hits = 0;
    for (const v of c) hits += v;
    return { value: o.n ? (100 * hits) / o.n : 0, statistic: accuracyStatistic(c) };
  };
}

const top1: MetricDescriptor = {
  name: 'top1',
  label: 'top-1',
  range: [0, 100],
  higherIsBetter: true,
  needs: 'outcomes',
  fromOutcomes: topK(1),
  fromColumns: (c) => c.top1,
  interval: 'clopper-pearson',
  pairedTest: { kind: 'mcnemar', k: 1 },
};

const meanPerClass: MetricDescriptor = {
  name: 'mean_per_class',
  label: 'mean per class',
  range: [0, 100],
  higherIsBetter: true,
  needs: 'outcomes',
  fromOutcomes: ({ outcomes: o }) => ({ value: meanPerClassOf(o), statistic: meanPerClassStatistic(correctAt(o, 1), o.labels, o.nClasses) }),
  fromColumns: (c) => c.mean_per_class,
  interval: 'bootstrap',
  pairedTest: { kind: 'bootstrap' },
};

/** Every metric clip-bench computes, by name. */
export const METRICS: Record<MetricName, MetricDescriptor> = {
  top1,
  top5: {
    name: 'top5',
    label: 'top-5',
    range: [0, 100],
    higherIsBetter: true,
    needs: 'outcomes',
    fromOutcomes: topK(5),
    fromColumns: (c) => c.top5,
    interval: 'clopper-pearson',
    pairedTest: { kind: 'mcnemar', k: 5 },
  },
  mean_per_class: meanPerClass,
  accuracy: { ...top1, name: 'accuracy', label: 'accuracy', sameAs: 'top1' },
  // mean_per_class is both a column and a primary metric: one descriptor
  mean_top1_top5: {
    name: 'mean_top1_top5',
    label: 'mean(top-1, top-5)',
    range: [0, 100],
    higherIsBetter: true,
    needs: 'outcomes',
    fromOutcomes({ outcomes: o }) {
      if (o.nClasses < 5) return NONE;
      const c1 = correctAt(o, 1);
      const c5 = correctAt(o, 5);
      const statistic: ResampleStatistic = (idx) => {
        let s = 0;
        for (let k = 0; k < idx.length; k++) s += c1[idx[k]!]! + c5[idx[k]!]!;
        return s / (2 * idx.length);
      };
      // the value as the mean of the two percentages (as the paper states it)
      return { value: (topK(1)({ outcomes: o }).value! + topK(5)({ outcomes: o }).value!) / 2, statistic };
    },
    fromColumns: (c) => (c.top1 == null || c.top5 == null ? null : (c.top1 + c.top5) / 2),
    interval: 'bootstrap',
    pairedTest: { kind: 'bootstrap' },
  },
  roc_auc: {
    name: 'roc_auc',
    label: 'ROC AUC',
    range: [0, 100],
    higherIsBetter: true,
    needs: 'scores',
    fromOutcomes({ outcomes: o, scores }) {
      if (o.nClasses !== 2) throw new RangeError(`ROC AUC is the metric of a 2-class dataset; this one has ${o.nClasses} classes`);
      if (!scores) throw new RangeError('ROC AUC needs the scores of the images');
      const r = ranked('rocAuc', positiveClassScores(scores, o.n), Uint8Array.from(o.labels.subarray(0, o.n), (y) => (y === 1 ? 1 : 0)));
      const value = finiteOrNull(rocAucRanked(r));
      if (value === null) return NONE;
      const w = weigher(o.n);
      return { value: 100 * value, statistic: (idx) => (isIdentity(idx) ? value : rocAucRanked(r, w(idx))) };
    },
    interval: 'bootstrap',
    pairedTest: { kind: 'bootstrap' },
  },
  map11: {
    name: 'map11',
    label: '11-point mAP',
    range: [0, 100],
    higherIsBetter: true,
    needs: 'targets',
    fromOutcomes({ outcomes: o, scores, targets }) {
      if (!scores || !targets) throw new RangeError('11-point mAP needs the scores and the multilabel targets of the images');
      const { n, nClasses } = o;
      const cols = rankedColumns(scores.subarray(0, n * nClasses), targets.subarray(0, n * nClasses), n, nClasses);
      const value = finiteOrNull(meanApRanked(cols).mAP);
      if (value === null) return NONE;
      const w = weigher(n);
      return { value: 100 * value, statistic: (idx) => (isIdentity(idx) ? value : meanApRanked(cols, w(idx)).mAP) };
    },
    interval: 'bootstrap',
    pairedTest: { kind: 'bootstrap' },
  },
};

export function metricOf(name: MetricName): MetricDescriptor {
  return METRICS[name];
}

/** Clamp an interval into the metric's range (a t-interval over few seeds, a bootstrap's float noise). */
export function withinRange(d: MetricDescriptor, lo: number, hi: number): [number, number] {
  const [min, max] = d.range;
  return [Math.min(max, Math.max(min, lo)), Math.min(max, Math.max(min, hi))];
}
