import { l2NormalizeRows } from './normalize.js';

/**
 * Zero-shot class weights [nClasses, dim], as OpenAI's ImageNet notebook builds them: each prompt's text embedding
 * is L2-normalised, the prompts of a class are averaged, and the average is L2-normalised again.
 * textEmb holds the prompts class by class: counts[c] consecutive rows belong to class c.
 */
export function classWeights(textEmb: Float32Array, counts: number[], dim: number): Float32Array {
  const nClasses = counts.length;
  const total = counts.reduce((a, b) => a + b, 0);
  const normed = l2NormalizeRows(textEmb, total, dim);
  const mean = new Float32Array(nClasses * dim);
  const acc = new Float64Array(dim);
  let row = 0;
  for (let c = 0; c < nClasses; c++) {
    acc.fill(0);
    for (let t = 0; t < counts[c]; t++, row++) {
      for (let j = 0; j < dim; j++) acc[j] += normed[row * dim + j];
    }
    for (let j = 0; j < dim; j++) mean[c * dim + j] = acc[j] / counts[c];
  }
  return l2NormalizeRows(mean, nClasses, dim);
}

/** logits [n, nClasses] = 100 * normalise(image) . weight, as CLIP's logit scale at inference. */
export function zeroshotLogits(imageEmb: Float32Array, n: number, dim: number, weights: Float32Array, nClasses: number): Float32Array {
  const img = l2NormalizeRows(imageEmb, n, dim);
  const logits = new Float32Array(n * nClasses);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let c = 0; c < nClasses; c++) {
      const w = c * dim;
      let s = 0;
      for (let j = 0; j < dim; j++) s += img[row + j] * weights[w + j];
      logits[i * nClasses + c] = 100 * s;
    }
  }
  return logits;
}
