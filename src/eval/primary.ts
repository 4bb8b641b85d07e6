/**
 * A dataset's primary metric (the paper's Table 9) from one classifier's scores: its value in percent and the
 * statistic of a resample of the test images that its intervals are built from, as its descriptor computes them
 * (src/eval/metric-descriptors.ts).
 */
import type { PrimaryMetric } from '../data/types.js';
import { classificationMetrics, type Metrics, type PrimaryScore } from './metrics.js';
import { METRICS } from './metric-descriptors.js';

export type { PrimaryScore } from './metrics.js';
export { positiveClassScores } from './metric-descriptors.js';

/**
 * Classification metrics of scores [n, nClasses] with the dataset's primary metric: what every evaluator reports.
 * A metric that ranks images (ROC AUC, mAP) keeps the scores (and mAP the targets) beside the outcomes, so that
 * two runs can be compared image by image. A multilabel split's single-label columns (against its lowest positive
 * class) only fill the shape; the tables leave them blank.
 */
export function scoredMetrics(metric: PrimaryMetric, scores: Float32Array, labels: Int32Array, n: number, nClasses: number, targets?: Uint8Array): Metrics {
  const m = classificationMetrics(scores, labels, n, nClasses);
  m.primary = scorePrimary(metric, scores, m, nClasses, targets);
  const needs = METRICS[metric].needs;
  if (needs !== 'outcomes') m.scores = scores.slice(0, n * nClasses);
  if (needs === 'targets' && targets) m.targets = targets.slice(0, n * nClasses);
  return m;
}

/**
 * The primary metric of scores [n, nClasses] (logits or any per-class score) whose per-image outcomes are in `m`.
 * `targets`: the 0/1 matrix [n, nClasses] of a multilabel split (needed for map11 only).
 */
export function scorePrimary(metric: PrimaryMetric, scores: Float32Array, m: Metrics, nClasses: number, targets?: Uint8Array): PrimaryScore {
  const n = m.n;
  if (!m.outcomes) throw new Error(`${metric}: the per-image outcomes of the images are needed`);
  if (m.outcomes.nClasses !== nClasses) throw new Error(`${metric}: outcomes of ${m.outcomes.nClasses} classes vs scores of ${nClasses}`);
  const s = METRICS[metric].fromOutcomes({ outcomes: m.outcomes, scores, targets });
  return { metric, value: s.value, statistic: s.statistic, n };
}

/** The value the probes choose C by (percent): the primary metric, -Infinity where it is undefined on the validation images. */
export function primaryForSelection(p: PrimaryScore): number {
  return p.value ?? -Infinity;
}
