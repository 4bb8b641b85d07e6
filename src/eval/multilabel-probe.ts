/**
 * The linear probe of a multilabel dataset (VOC2007): one binary L2 logistic regression per class (one-vs-rest),
 * all with the same C, chosen by the paper's parametric search on validation 11-point mAP; scored by mAP on test.
 */
import type { DeviceChoice } from '../model/device.js';
import { fitLogReg, predictScores, predictScoresAsync, type LogRegModel } from './logreg.js';
import { scoredMetrics } from './primary.js';
import { concatFeatures, fitTransform, parametricSearch, type Features } from './probe.js';
import { holdOut, type LinearProbeOptions, type LinearProbeResult } from './linear-probe.js';

/** Per class: a binary model, or the constant score of a class whose training rows are all one way. */
type ClassModel = { model: LogRegModel } | { constant: number };

export interface OneVsRest {
  nClasses: number;
  models: ClassModel[];
}

function column(targets: Uint8Array, n: number, nClasses: number, c: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => targets[i * nClasses + c]!);
}

/**
 * Fit one binary logistic regression per class. The 2-class multinomial fit with C/2 is scikit-learn's binary
 * LogisticRegression(C) (the penalty on w1 - w0 is then the binary one), so C is in scikit-learn's binary units.
 */
export async function fitOneVsRest(train: Features, nClasses: number, C: number, opts: { threads?: number; device?: DeviceChoice; maxIter?: number }, warm?: OneVsRest): Promise<OneVsRest> {
  const targets = train.targets!;
  const models: ClassModel[] = [];
  for (let c = 0; c < nClasses; c++) {
    const y = column(targets, train.n, nClasses, c);
    const pos = y.reduce((a, v) => a + v, 0);
    if (pos === 0 || pos === train.n) {
      models.push({ constant: pos === 0 ? 0 : 1 });
      continue;
    }
    const w = warm?.models[c];
    const model = await fitLogReg(train.X, y, train.n, train.dim, 2, {
      C: C / 2,
      maxIter: opts.maxIter ?? 1000,
      threads: opts.threads,
      device: opts.device,
      warmStart: w && 'model' in w ? w.model : undefined,
    });
    models.push({ model });
  }
  return { nClasses, models };
}

/** Scores [n, nClasses]: each class's logit of "present" against "absent" (z1 - z0). */
export async function oneVsRestScores(m: OneVsRest, f: Features, threads?: number, device?: DeviceChoice): Promise<Float32Array> {
  const out = new Float32Array(f.n * m.nClasses);
  const big = f.n * f.dim * 2 > 4e6;
  for (let c = 0; c < m.nClasses; c++) {
    const cm = m.models[c]!;
    if ('constant' in cm) {
      for (let i = 0; i < f.n; i++) out[i * m.nClasses + c] = cm.constant;
      continue;
    }
    const s = big ? await predictScoresAsync(cm.model, f.X, f.n, threads, device) : predictScores(cm.model, f.X, f.n);
    for (let i = 0; i < f.n; i++) out[i * m.nClasses + c] = s[i * 2 + 1]! - s[i * 2]!;
  }
  return out;
}

/** Metrics of one-vs-rest scores, primary 11-point mAP over the targets. */
const mapMetrics = (scores: Float32Array, f: Features, nClasses: number) => scoredMetrics('map11', scores, f.y, f.n, nClasses, f.targets);

/** The paper's protocol (as linearProbe) with one-vs-rest binary probes and validation mAP. */
export async function multilabelLinearProbe(trainAll: Features, ownVal: Features | null, test: Features, opts: LinearProbeOptions): Promise<LinearProbeResult> {
  if (!trainAll.targets || !test.targets || (ownVal && !ownVal.targets)) throw new Error('multilabel probe: the splits have no targets');
  if (opts.solver !== 'lbfgs') throw new Error('multilabel probe: only the lbfgs solver fits one-vs-rest probes');
  const [train, val] = ownVal ? [trainAll, ownVal] : holdOut(trainAll, opts.nClasses, opts.valFraction, opts.seed);
  const t = fitTransform(opts.transform, train);
  const [tr, va] = [t(train), t(val)];
  const fitted: { log: number; m: OneVsRest }[] = [];
  const search = await parametricSearch(async (C) => {
    const l = Math.log10(C);
    const nearest = [...fitted].sort((a, b) => Math.abs(a.log - l) - Math.abs(b.log - l) || a.log - b.log)[0];
    const m = await fitOneVsRest(tr, opts.nClasses, C, opts, nearest?.m);
    fitted.push({ log: l, m });
    const s = mapMetrics(await oneVsRestScores(m, va, opts.threads, opts.device), va, opts.nClasses).primary!.value ?? -Infinity;
    opts.onFit?.(C, s);
    return s;
  });
  const full = concatFeatures(train, val);
  const tf = fitTransform(opts.transform, full);
  opts.onRefit?.(search.C, full.n);
  const final = await fitOneVsRest(tf(full), opts.nClasses, search.C, opts);
  const tt = tf(test);
  return { C: search.C, nTrain: train.n, nVal: val.n, nTest: test.n, metrics: mapMetrics(await oneVsRestScores(final, tt, opts.threads, opts.device), tt, opts.nClasses), tried: search.tried };
}
