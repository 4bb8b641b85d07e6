/** Classification metrics in percent. top5 is null when there are fewer than 5 classes (never NaN). */
export interface Metrics {
  n: number;
  top1: number;
  top5: number | null;
  /** mean per-class recall (balanced accuracy) over the classes present in the labels */
  meanPerClass: number;
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

/** Metrics of scores [n, nClasses] against labels (0..nClasses-1). */
export function classificationMetrics(scores: Float32Array, labels: Int32Array, n: number, nClasses: number): Metrics {
  let top1 = 0;
  let top5 = 0;
  const perClassHit = new Float64Array(nClasses);
  const perClassN = new Float64Array(nClasses);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const rank = rankOfTrue(scores, i * nClasses, nClasses, y);
    perClassN[y]++;
    if (rank === 0) {
      top1++;
      perClassHit[y]++;
    }
    if (rank < 5) top5++;
  }
  let sum = 0;
  let present = 0;
  for (let c = 0; c < nClasses; c++) {
    if (perClassN[c] > 0) {
      sum += perClassHit[c] / perClassN[c];
      present++;
    }
  }
  return {
    n,
    top1: n ? (100 * top1) / n : 0,
    top5: nClasses >= 5 ? (n ? (100 * top5) / n : 0) : null,
    meanPerClass: present ? (100 * sum) / present : 0,
  };
}

/** Kinetics-700's metric in the paper (Table 9): the mean of top-1 and top-5 accuracy, in percent; null without top-5. */
export function meanTop1Top5(m: Pick<Metrics, 'top1' | 'top5'>): number | null {
  return m.top5 === null ? null : (m.top1 + m.top5) / 2;
}
