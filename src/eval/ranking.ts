/**
 * Ranking metrics from real-valued scores and 0/1 targets: VOC2007's 11-point interpolated average precision (the
 * multilabel metric of the paper's Table 9 for PASCAL VOC 2007) and binary ROC AUC (Hateful Memes). Equal scores
 * form one threshold, as in scikit-learn's precision_recall_curve / roc_curve, so the result does not depend on the
 * order of tied samples. Results are fractions in [0, 1].
 */

/** Indices of `scores` sorted by descending score (ties by index, but tied runs are always treated as one group). */
function descendingOrder(scores: Float32Array | Float64Array): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  order.sort((i, j) => scores[j]! - scores[i]! || i - j);
  return order;
}

function checkInputs(what: string, scores: Float32Array | Float64Array, targets: Uint8Array): void {
  if (scores.length !== targets.length) throw new RangeError(`${what}: ${scores.length} scores vs ${targets.length} targets`);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new RangeError(`${what}: score ${i} is NaN`);
    if (targets[i]! > 1) throw new RangeError(`${what}: target ${i} is ${targets[i]}, not 0 or 1`);
  }
}

/**
 * A ranking over one column of scores, sorted once, that a resample reuses: a bootstrap resample is a weight per
 * sample (how often it was drawn), so the metric of a resample is one weighted walk down the same order.
 */
export interface Ranked {
  /** sample indices by descending score */
  order: Int32Array;
  /** the target of order[k] */
  sortedTargets: Uint8Array;
  /** tied scores form one threshold: group g is order[groupEnd[g - 1] .. groupEnd[g]) */
  groupEnd: Int32Array;
  /** the samples whose target is 1 (a resample's positives are their weights' sum) */
  positives: Int32Array;
  /** working memory of the AP walk (reused across resamples) */
  scratch: Float64Array;
}

export function ranked(what: string, scores: Float32Array | Float64Array, targets: Uint8Array): Ranked {
  checkInputs(what, scores, targets);
  const order = descendingOrder(scores);
  const n = order.length;
  const ends: number[] = [];
  for (let k = 1; k <= n; k++) if (k === n || scores[order[k]!] !== scores[order[k - 1]!]) ends.push(k);
  const positives = Int32Array.from(targets.keys()).filter((i) => targets[i] === 1);
  return { order, sortedTargets: Uint8Array.from(order, (i) => targets[i]!), groupEnd: Int32Array.from(ends), positives, scratch: new Float64Array(ends.length) };
}

/**
 * 11-point AP of a ranking with sample weights (null: every weight 1; a weight counts the sample that many times).
 * Null when the weighted positives are 0. One walk down the ranking records each threshold's precision and the
 * first threshold reaching each recall level; the interpolated precision at level t is then the highest precision
 * from that threshold on (a suffix maximum), so a resample costs O(n), not O(11 n).
 */
export function vocAp11Ranked(r: Ranked, weights: Float64Array | Int32Array | null = null): number | null {
  const { order, sortedTargets: pos, groupEnd } = r;
  let positives = 0;
  if (weights) for (const i of r.positives) positives += weights[i]!;
  else positives = r.positives.length;
  if (positives === 0) return null;
  const prec = r.scratch;
  // first[t]: the first threshold whose recall is >= t / 10 (-1: none reaches it)
  const first = new Int32Array(11).fill(-1);
  let level = 0;
  let groups = 0;
  let tp = 0;
  let seen = 0;
  for (let g = 0, k = 0; g < groupEnd.length; g++) {
    const end = groupEnd[g]!;
    if (weights) {
      for (; k < end; k++) {
        const w = weights[order[k]!]!;
        tp += pos[k]! * w;
        seen += w;
      }
    } else {
      for (; k < end; k++) tp += pos[k]!;
      seen = end;
    }
    if (seen === 0) continue;
    const recall = tp / positives;
    prec[groups] = tp / seen;
    while (level <= 10 && recall >= level / 10) first[level++] = groups;
    groups++;
  }
  // suffix maxima of the precision, in place
  for (let g = groups - 2; g >= 0; g--) if (prec[g + 1]! > prec[g]!) prec[g] = prec[g + 1]!;
  let ap = 0;
  for (let t = 0; t <= 10; t++) if (first[t]! >= 0) ap += prec[first[t]!]!;
  return ap / 11;
}

/**
 * VOC2007's 11-point interpolated AP of one class (the devkit's VOCevalcls with 0/1 ground truth): the mean over
 * t = 0, 0.1, ..., 1 of the highest precision at any threshold whose recall is >= t (0 where none). Null when the
 * class has no positive sample (its recall is undefined).
 */
export function vocAp11(scores: Float32Array | Float64Array, targets: Uint8Array): number | null {
  return vocAp11Ranked(ranked('vocAp11', scores, targets));
}

/** Column c of a row-major n x nClasses matrix. */
function column<T extends Float32Array | Uint8Array>(m: T, n: number, nClasses: number, c: number, out: T): T {
  for (let i = 0; i < n; i++) out[i] = m[i * nClasses + c]!;
  return out;
}

/** The per-class rankings of scores [n, nClasses] against 0/1 targets [n, nClasses] (for a bootstrap of mAP). */
export function rankedColumns(scores: Float32Array, targets: Uint8Array, n: number, nClasses: number): Ranked[] {
  if (scores.length !== n * nClasses || targets.length !== n * nClasses) {
    throw new RangeError(`vocMeanAp11: expected ${n} x ${nClasses} scores and targets, got ${scores.length} and ${targets.length}`);
  }
  return Array.from({ length: nClasses }, (_, c) =>
    ranked('vocMeanAp11', column(scores, n, nClasses, c, new Float32Array(n)), column(targets, n, nClasses, c, new Uint8Array(n))),
  );
}

/** mAP of per-class rankings with sample weights: the mean AP over the classes with a (weighted) positive; NaN when none has. */
export function meanApRanked(columns: readonly Ranked[], weights: Float64Array | Int32Array | null = null): { mAP: number; perClass: (number | null)[] } {
  const perClass = columns.map((r) => vocAp11Ranked(r, weights));
  const present = perClass.filter((a): a is number => a !== null);
  return { mAP: present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN, perClass };
}

/** Per-class 11-point AP and their mean over the classes with a positive sample, from scores [n, nClasses] and 0/1 targets [n, nClasses]. */
export function vocMeanAp11(
  scores: Float32Array,
  targets: Uint8Array,
  n: number,
  nClasses: number,
): { mAP: number; perClass: (number | null)[] } {
  return meanApRanked(rankedColumns(scores, targets, n, nClasses));
}

/** ROC AUC of a ranking with sample weights (null: every weight 1); NaN when the weighted positives or negatives are 0. */
export function rocAucRanked(r: Ranked, weights: Float64Array | Int32Array | null = null): number {
  const { order, sortedTargets: pos, groupEnd } = r;
  // walk thresholds from the highest score; each tied group adds a trapezoid
  let area = 0;
  let tp = 0;
  let fp = 0;
  for (let g = 0, k = 0; g < groupEnd.length; g++) {
    const end = groupEnd[g]!;
    let dtp = 0;
    let dfp = 0;
    for (; k < end; k++) {
      const w = weights ? weights[order[k]!]! : 1;
      if (pos[k]) dtp += w;
      else dfp += w;
    }
    area += dfp * (tp + dtp / 2);
    tp += dtp;
    fp += dfp;
  }
  return tp === 0 || fp === 0 ? NaN : area / (tp * fp);
}

/**
 * Binary ROC AUC as scikit-learn's roc_auc_score: the area under the ROC curve with tied scores as one threshold
 * (a diagonal step), i.e. the Mann-Whitney probability that a positive outscores a negative, ties counting 1/2.
 * Throws when only one class is present (the AUC is undefined there, as scikit-learn says).
 */
export function rocAuc(scores: Float32Array | Float64Array, targets: Uint8Array): number {
  const r = ranked('rocAuc', scores, targets);
  let pos = 0;
  for (let i = 0; i < targets.length; i++) pos += targets[i]!;
  if (pos === 0 || pos === targets.length) throw new RangeError('rocAuc: only one class present in the targets; ROC AUC is not defined');
  return rocAucRanked(r);
}
