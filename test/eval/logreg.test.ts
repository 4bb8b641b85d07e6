import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/helpers.js';
import {
  fitLogReg,
  logRegObjective,
  predictLabels,
  predictScores,
  predictScoresAsync,
  type LogRegBackend,
  type LogRegModel,
} from '../../src/eval/logreg.js';
import { fitMljs, predict as predictMljs } from '../../src/eval/logreg-mljs.js';
import { encodeModel, ONNX_FLOAT } from '../../src/util/onnx-proto.js';

interface Fixture {
  sklearn: string;
  n: number;
  dim: number;
  nClasses: number;
  C: number;
  X: number[];
  y: number[];
  coef: number[];
  intercept: number[];
  n_iter: number;
  pred: number[];
  objective: number;
  train_acc: number;
  ref_coef: number[];
  ref_intercept: number[];
  ref_objective: number;
}

const FIXTURES = ['separable', 'nonseparable', 'nonseparable-smallC'];

function loadFixture(name: string): Fixture & { Xf: Float32Array; yi: Int32Array } {
  const file = path.join(repoRoot, 'test', 'fixtures', 'logreg', `${name}.json`);
  const f = JSON.parse(fs.readFileSync(file, 'utf8')) as Fixture;
  return { ...f, Xf: Float32Array.from(f.X), yi: Int32Array.from(f.y) };
}

/** sklearn coef_ [k, dim] → our [dim, k] layout. */
function coefToW(coef: number[], dim: number, k: number): Float64Array {
  const W = new Float64Array(dim * k);
  for (let c = 0; c < k; c++) for (let j = 0; j < dim; j++) W[j * k + c] = coef[c * dim + j]!;
  return W;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Seeded Gaussian-cluster data (same recipe as the benchmark). */
function makeData(n: number, dim: number, k: number, sep: number, seed: number): { X: Float32Array; y: Int32Array } {
  let a = seed | 0;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const g = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const mu = Array.from({ length: k * dim }, () => sep * g());
  const X = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % k;
    for (let j = 0; j < dim; j++) X[i * dim + j] = mu[y[i]! * dim + j]! + g();
  }
  return { X, y };
}

function sameBits(a: LogRegModel, b: LogRegModel): void {
  assert.deepEqual(new Uint32Array(a.W.buffer), new Uint32Array(b.W.buffer));
  assert.deepEqual(new Uint32Array(a.b.buffer), new Uint32Array(b.b.buffer));
  assert.equal(a.iterations, b.iterations);
}

for (const name of FIXTURES) {
  test(`logreg matches scikit-learn (${name})`, async () => {
    const f = loadFixture(name);
    const m = await fitLogReg(f.Xf, f.yi, f.n, f.dim, f.nClasses, { C: f.C, backend: 'js' });
    assert.equal(m.W.length, f.dim * f.nClasses);
    assert.ok(m.converged, m.message);

    // (1) gradient of the objective at the solution ~ 0. sklearn stops on
    // max|g| <= 1e-4 or on a relative decrease <= 2.2e-9, so allow a bit more.
    const { objective, grad } = logRegObjective(m, f.Xf, f.yi, f.n, f.C);
    const gscale = Math.max(1, objective / f.n);
    assert.ok(maxAbs(grad) < 5e-3 * gscale, `max|grad| = ${maxAbs(grad)}`);

    // (2) agreement with sklearn: same predictions, close coefficients and objective.
    assert.deepEqual(Array.from(predictLabels(m, f.Xf, f.n)), f.pred);
    const skW = coefToW(f.coef, f.dim, f.nClasses);
    const scale = Math.max(maxAbs(skW), maxAbs(f.intercept));
    assert.ok(maxAbsDiff(m.W, skW) <= 1e-3 * scale, `W diff ${maxAbsDiff(m.W, skW)} vs scale ${scale}`);
    assert.ok(maxAbsDiff(m.b, f.intercept) <= 1e-3 * scale, `b diff ${maxAbsDiff(m.b, f.intercept)}`);
    assert.ok(Math.abs(objective - f.objective) <= 1e-6 * Math.abs(f.objective), `objective ${objective} vs ${f.objective}`);
    // and with the tightly converged reference
    const refW = coefToW(f.ref_coef, f.dim, f.nClasses);
    assert.ok(maxAbsDiff(m.W, refW) <= 1e-2 * scale, `W vs tight reference ${maxAbsDiff(m.W, refW)}`);
    // iteration counts comparable with sklearn's n_iter_ (same algorithm)
    assert.ok(Math.abs(m.iterations - f.n_iter) <= Math.max(3, 0.2 * f.n_iter), `iterations ${m.iterations} vs sklearn ${f.n_iter}`);

    // the ORT backend converges to the same predictions (float32 GEMMs)
    const mo = await fitLogReg(f.Xf, f.yi, f.n, f.dim, f.nClasses, { C: f.C, backend: 'ort', threads: 2 });
    const agree = predictLabels(mo, f.Xf, f.n).filter((p, i) => p === f.pred[i]).length;
    assert.ok(agree >= f.n - 1, `ort backend agrees on ${agree}/${f.n}`);
    assert.ok(maxAbsDiff(mo.W, skW) <= 1e-2 * scale, `ort W diff ${maxAbsDiff(mo.W, skW)}`);
  });
}

for (const backend of ['js', 'ort'] as LogRegBackend[]) {
  test(`logreg is deterministic (${backend})`, async () => {
    const { X, y } = makeData(400, 24, 5, 0.5, 7);
    const a = await fitLogReg(X, y, 400, 24, 5, { C: 0.5, backend, threads: 2 });
    const b = await fitLogReg(X, y, 400, 24, 5, { C: 0.5, backend, threads: 2 });
    sameBits(a, b);
  });

  test(`logreg warm start reaches the same solution (${backend})`, async () => {
    const f = loadFixture('nonseparable');
    const cold = await fitLogReg(f.Xf, f.yi, f.n, f.dim, f.nClasses, { C: f.C, backend, tol: 1e-6 });
    const prev = await fitLogReg(f.Xf, f.yi, f.n, f.dim, f.nClasses, { C: f.C / 10, backend });
    const warm = await fitLogReg(f.Xf, f.yi, f.n, f.dim, f.nClasses, { C: f.C, backend, tol: 1e-6, warmStart: prev });
    const scale = maxAbs(cold.W);
    const tolW = backend === 'js' ? 1e-4 : 5e-3;
    assert.ok(maxAbsDiff(warm.W, cold.W) <= tolW * scale, `warm vs cold W diff ${maxAbsDiff(warm.W, cold.W)}`);
    assert.deepEqual(predictLabels(warm, f.Xf, f.n), predictLabels(cold, f.Xf, f.n));
    // starting at the solution converges immediately
    const again = await fitLogReg(f.Xf, f.yi, f.n, f.dim, f.nClasses, { C: f.C, backend, warmStart: cold });
    assert.ok(again.iterations <= 2, `restart from the solution took ${again.iterations} iterations`);
  });
}

test('predictScores layout: [n, k] logits = X·W + b with W [dim, k]', async () => {
  const model: LogRegModel = {
    nClasses: 3,
    dim: 2,
    W: Float32Array.from([1, 2, 3, 4, 5, 6]), // W[f*3 + c]
    b: Float32Array.from([0.5, 0, -0.5]),
    iterations: 0,
    converged: true,
  };
  const X = Float32Array.from([1, 0, 0, 1, 1, 1]);
  const expected = [1.5, 2, 2.5, 4.5, 5, 5.5, 5.5, 7, 8.5];
  assert.deepEqual(Array.from(predictScores(model, X, 3)), expected);
  assert.deepEqual(Array.from(await predictScoresAsync(model, X, 3, 1)), expected);
});

test('fitLogReg rejects bad labels and shapes', async () => {
  const X = new Float32Array(6);
  await assert.rejects(fitLogReg(X, Int32Array.from([0, 3, 1]), 3, 2, 3, { C: 1 }), RangeError);
  await assert.rejects(fitLogReg(X, Int32Array.from([0, 1, 1]), 4, 2, 3, { C: 1 }), RangeError);
  await assert.rejects(fitLogReg(X, Int32Array.from([0, 1, 1]), 3, 2, 3, { C: 0 }), RangeError);
});

test('onnx encoder produces a model header', () => {
  const bytes = encodeModel({
    name: 'g',
    inputs: [{ name: 'A', elemType: ONNX_FLOAT, shape: ['N', 2] }],
    outputs: [{ name: 'B', elemType: ONNX_FLOAT, shape: ['N', 2] }],
    nodes: [{ op: 'Relu', inputs: ['A'], outputs: ['B'] }],
  });
  assert.equal(bytes[0], 0x08); // field 1 (ir_version), varint
  assert.equal(bytes[1], 8);
});

test('mljs wrapper runs and beats chance on separable data', () => {
  const f = loadFixture('separable');
  const m = fitMljs(f.Xf, f.yi, f.n, f.dim, f.nClasses, { numSteps: 200, learningRate: 1e-3 });
  assert.equal(m.W.length, f.dim * f.nClasses);
  const s = predictMljs(m, f.Xf, f.n);
  assert.equal(s.length, f.n * f.nClasses);
  const acc = predictLabels(m, f.Xf, f.n).filter((p, i) => p === f.yi[i]).length / f.n;
  assert.ok(acc > 0.5, `mljs accuracy ${acc} (chance 0.25)`);
  assert.throws(() => fitMljs(f.Xf, new Int32Array(f.n), f.n, f.dim, f.nClasses), RangeError);
});
