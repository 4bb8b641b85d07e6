/**
 * Plain-JS dense kernels (single thread, register-blocked), used for predictions
 * (synchronous API) and as the measured alternative to ORT/MLAS for training.
 * Row-major everywhere.
 */

/**
 * out[n, k] = A[n, d] · B[d, k] + bias[k]. Blocks 4 rows of A against the full
 * (contiguous) rows of B; accumulates in a float64 scratch row block, so the
 * reduction order is fixed (p = 0..d-1) and results are deterministic.
 */
export function gemmBias(
  A: Float32Array,
  n: number,
  d: number,
  B: Float32Array | Float64Array,
  k: number,
  bias: Float32Array | Float64Array | null,
  out: Float32Array | Float64Array,
): Float32Array | Float64Array {
  const acc = new Float64Array(4 * k);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    acc.fill(0);
    const a0o = i * d;
    const a1o = a0o + d;
    const a2o = a1o + d;
    const a3o = a2o + d;
    for (let p = 0; p < d; p++) {
      const a0 = A[a0o + p]!;
      const a1 = A[a1o + p]!;
      const a2 = A[a2o + p]!;
      const a3 = A[a3o + p]!;
      const bo = p * k;
      for (let j = 0; j < k; j++) {
        const bv = B[bo + j]!;
        acc[j] += a0 * bv;
        acc[k + j] += a1 * bv;
        acc[2 * k + j] += a2 * bv;
        acc[3 * k + j] += a3 * bv;
      }
    }
    for (let r = 0; r < 4; r++) {
      const oo = (i + r) * k;
      for (let j = 0; j < k; j++) out[oo + j] = acc[r * k + j]! + (bias ? bias[j]! : 0);
    }
  }
  for (; i < n; i++) {
    acc.fill(0, 0, k);
    const ao = i * d;
    for (let p = 0; p < d; p++) {
      const a = A[ao + p]!;
      const bo = p * k;
      for (let j = 0; j < k; j++) acc[j] += a * B[bo + j]!;
    }
    const oo = i * k;
    for (let j = 0; j < k; j++) out[oo + j] = acc[j]! + (bias ? bias[j]! : 0);
  }
  return out;
}

/**
 * out[d, k] += Aᵀ[d, n] · G[n, k] (A is [n, d] row-major), float64 output.
 * Processes 4 rows of A/G at a time: for each feature p, out row p gets
 * Σ_r A[i+r, p] · G[i+r, :].
 */
export function gemmTNAccumulate(
  A: Float32Array,
  n: number,
  d: number,
  G: Float32Array | Float64Array,
  k: number,
  out: Float64Array,
): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a0o = i * d;
    const g0o = i * k;
    for (let p = 0; p < d; p++) {
      const a0 = A[a0o + p]!;
      const a1 = A[a0o + d + p]!;
      const a2 = A[a0o + 2 * d + p]!;
      const a3 = A[a0o + 3 * d + p]!;
      const oo = p * k;
      for (let j = 0; j < k; j++) {
        out[oo + j] += a0 * G[g0o + j]! + a1 * G[g0o + k + j]! + a2 * G[g0o + 2 * k + j]! + a3 * G[g0o + 3 * k + j]!;
      }
    }
  }
  for (; i < n; i++) {
    const ao = i * d;
    const go = i * k;
    for (let p = 0; p < d; p++) {
      const a = A[ao + p]!;
      const oo = p * k;
      for (let j = 0; j < k; j++) out[oo + j] += a * G[go + j]!;
    }
  }
}
