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
 * VOC2007's 11-point interpolated AP of one class (the devkit's VOCevalcls with 0/1 ground truth): the mean over
 * t = 0, 0.1, ..., 1 of the highest precision at any threshold whose recall is >= t (0 where none). Null when the
 * class has no positive sample (its recall is undefined).
 */
export function vocAp11(scores: Float32Array | Float64Array, targets: Uint8Array): number | null {
  checkInputs('vocAp11', scores, targets);
  let positives = 0;
  for (let i = 0; i < targets.length; i++) positives += targets[i]!;
  if (positives === 0) return null;
  const order = descendingOrder(scores);
  // best precision reached at recall >= t, for each of the 11 recall levels
  const best = new Float64Array(11);
  let tp = 0;
  let seen = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k]!]!;
    while (k < order.length && scores[order[k]!] === s) {
      tp += targets[order[k]!]!;
      seen++;
      k++;
    }
    const recall = tp / positives;
    const precision = tp / seen;
    for (let t = 0; t <= 10; t++) if (recall >= t / 10 && precision > best[t]!) best[t] = precision;
  }
  let ap = 0;
  for (let t = 0; t <= 10; t++) ap += best[t]!;
  return ap / 11;
}

/** Per-class 11-point AP and their mean over the classes with a positive sample, from scores [n, nClasses] and 0/1 targets [n, nClasses]. */
export function vocMeanAp11(
  scores: Float32Array,
  targets: Uint8Array,
  n: number,
  nClasses: number,
): { mAP: number; perClass: (number | null)[] } {
  if (scores.length !== n * nClasses || targets.length !== n * nClasses) {
    throw new RangeError(`vocMeanAp11: expected ${n} x ${nClasses} scores and targets, got ${scores.length} and ${targets.length}`);
  }
  const col = new Float32Array(n);
  const tcol = new Uint8Array(n);
  const perClass: (number | null)[] = [];
  let sum = 0;
  let counted = 0;
  for (let c = 0; c < nClasses; c++) {
    for (let i = 0; i < n; i++) {
      col[i] = scores[i * nClasses + c]!;
      tcol[i] = targets[i * nClasses + c]!;
    }
    const ap = vocAp11(col, tcol);
    perClass.push(ap);
    if (ap !== null) {
      sum += ap;
      counted++;
    }
  }
  return { mAP: counted ? sum / counted : NaN, perClass };
}

/**
 * Binary ROC AUC as scikit-learn's roc_auc_score: the area under the ROC curve with tied scores as one threshold
 * (a diagonal step), i.e. the Mann-Whitney probability that a positive outscores a negative, ties counting 1/2.
 * Throws when only one class is present (the AUC is undefined there, as scikit-learn says).
 */
export function rocAuc(scores: Float32Array | Float64Array, targets: Uint8Array): number {
  checkInputs('rocAuc', scores, targets);
  let pos = 0;
  for (let i = 0; i < targets.length; i++) pos += targets[i]!;
  const neg = targets.length - pos;
  if (pos === 0 || neg === 0) throw new RangeError('rocAuc: only one class present in the targets; ROC AUC is not defined');
  const order = descendingOrder(scores);
  // walk thresholds from the highest score; each tied group adds a trapezoid
  let area = 0;
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k]!]!;
    let dtp = 0;
    let dfp = 0;
    while (k < order.length && scores[order[k]!] === s) {
      if (targets[order[k]!]) dtp++;
      else dfp++;
      k++;
    }
    area += dfp * (tp + dtp / 2);
    tp += dtp;
    fp += dfp;
  }
  return area / (pos * neg);
}
