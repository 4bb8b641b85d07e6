/*
 * The two float64 matrix products of the logistic-regression data term (src/eval/logreg.ts, the 'js' backend)
 * in WebAssembly SIMD, bit for bit what the JavaScript kernels of src/eval/matmul.ts compute: every output
 * element is summed in the same order with the same IEEE double operations (WebAssembly has no fused
 * multiply-add, and clang does not reassociate without -ffast-math); the lanes only hold neighbouring columns.
 *
 *   logits:   Z[n, k]   = X[n, d] . W[d, k] + b[k]        (gemmBias: sum over p = 0..d-1, then + b)
 *   gradient: gW[d, k] += X^T . G[n, k]                    (gemmTNAccumulate: rows in blocks of 4, in order,
 *                                                           each block's four products summed left to right,
 *                                                           then the leftover rows one by one)
 *
 * X is given twice, row-major [n, d] and transposed [d, n], both float64 (exact copies of the float32 features),
 * so that both products read it contiguously. The caller (src/eval/gemm-wasm.ts) places every buffer.
 *
 * Build: scripts/build_wasm.sh (clang --target=wasm32 -msimd128, freestanding, no libc).
 */
#include <wasm_simd128.h>

typedef int i32;

#define EXPORT(name) __attribute__((export_name(#name)))

static inline v128_t ld(const double *p) { return wasm_v128_load(p); }
static inline void st(double *p, v128_t v) { wasm_v128_store(p, v); }
static inline v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f64x2_add(acc, wasm_f64x2_mul(a, b)); }

/* Z = X.W + b for rows i..i+3 (four rows) or one row; columns in pairs, an odd last column alone. */
EXPORT(logits)
void logits(const double *X, i32 n, i32 d, const double *W, i32 k, const double *b, double *Z) {
  i32 i = 0;
  for (; i + 4 <= n; i += 4) {
    const double *x0 = X + i * d, *x1 = x0 + d, *x2 = x1 + d, *x3 = x2 + d;
    i32 j = 0;
    for (; j + 4 <= k; j += 4) {
      v128_t a00 = wasm_f64x2_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      const double *w = W + j;
      for (i32 p = 0; p < d; p++, w += k) {
        v128_t w0 = ld(w), w1 = ld(w + 2);
        v128_t s0 = wasm_f64x2_splat(x0[p]), s1 = wasm_f64x2_splat(x1[p]);
        v128_t s2 = wasm_f64x2_splat(x2[p]), s3 = wasm_f64x2_splat(x3[p]);
        a00 = madd(a00, s0, w0); a01 = madd(a01, s0, w1);
        a10 = madd(a10, s1, w0); a11 = madd(a11, s1, w1);
        a20 = madd(a20, s2, w0); a21 = madd(a21, s2, w1);
        a30 = madd(a30, s3, w0); a31 = madd(a31, s3, w1);
      }
      v128_t b0 = ld(b + j), b1 = ld(b + j + 2);
      double *z = Z + i * k + j;
      st(z, wasm_f64x2_add(a00, b0)); st(z + 2, wasm_f64x2_add(a01, b1)); z += k;
      st(z, wasm_f64x2_add(a10, b0)); st(z + 2, wasm_f64x2_add(a11, b1)); z += k;
      st(z, wasm_f64x2_add(a20, b0)); st(z + 2, wasm_f64x2_add(a21, b1)); z += k;
      st(z, wasm_f64x2_add(a30, b0)); st(z + 2, wasm_f64x2_add(a31, b1));
    }
    for (; j < k; j++) {
      double c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      const double *w = W + j;
      for (i32 p = 0; p < d; p++, w += k) {
        c0 += x0[p] * *w; c1 += x1[p] * *w; c2 += x2[p] * *w; c3 += x3[p] * *w;
      }
      Z[i * k + j] = c0 + b[j]; Z[(i + 1) * k + j] = c1 + b[j];
      Z[(i + 2) * k + j] = c2 + b[j]; Z[(i + 3) * k + j] = c3 + b[j];
    }
  }
  for (; i < n; i++) {
    const double *x = X + i * d;
    for (i32 j = 0; j < k; j++) {
      double c = 0;
      const double *w = W + j;
      for (i32 p = 0; p < d; p++, w += k) c += x[p] * *w;
      Z[i * k + j] = c + b[j];
    }
  }
}

/* One feature row p of gW, columns j and j+1: the running sums o += ((a0 g0 + a1 g1) + a2 g2) + a3 g3 over the
 * rows in blocks of four, then o += a g for each leftover row. */
#define GRAD_BLOCK(o, t, g)                                          \
  do {                                                               \
    v128_t s_ = wasm_f64x2_mul(wasm_f64x2_splat((t)[i]), g0);        \
    s_ = madd(s_, wasm_f64x2_splat((t)[i + 1]), g1);                 \
    s_ = madd(s_, wasm_f64x2_splat((t)[i + 2]), g2);                 \
    s_ = madd(s_, wasm_f64x2_splat((t)[i + 3]), g3);                 \
    o = wasm_f64x2_add(o, s_);                                       \
  } while (0)

/* gW += X^T.G: for each block of four gW rows (features p..p+3) and pair of columns, the running sums stay in
 * registers while the rows of X go by in blocks of four, in order; then the leftover rows. */
EXPORT(gradient)
void gradient(const double *XT, i32 n, i32 d, const double *G, i32 k, double *gW) {
  i32 n4 = n & ~3;
  i32 p = 0;
  for (; p + 4 <= d; p += 4) {
    const double *t0 = XT + p * n, *t1 = t0 + n, *t2 = t1 + n, *t3 = t2 + n;
    i32 j = 0;
    for (; j + 2 <= k; j += 2) {
      v128_t o0 = ld(gW + p * k + j), o1 = ld(gW + (p + 1) * k + j);
      v128_t o2 = ld(gW + (p + 2) * k + j), o3 = ld(gW + (p + 3) * k + j);
      const double *g = G + j;
      i32 i = 0;
      for (; i < n4; i += 4, g += 4 * k) {
        v128_t g0 = ld(g), g1 = ld(g + k), g2 = ld(g + 2 * k), g3 = ld(g + 3 * k);
        GRAD_BLOCK(o0, t0, g);
        GRAD_BLOCK(o1, t1, g);
        GRAD_BLOCK(o2, t2, g);
        GRAD_BLOCK(o3, t3, g);
      }
      for (; i < n; i++, g += k) {
        v128_t gi = ld(g);
        o0 = madd(o0, wasm_f64x2_splat(t0[i]), gi);
        o1 = madd(o1, wasm_f64x2_splat(t1[i]), gi);
        o2 = madd(o2, wasm_f64x2_splat(t2[i]), gi);
        o3 = madd(o3, wasm_f64x2_splat(t3[i]), gi);
      }
      st(gW + p * k + j, o0);
      st(gW + (p + 1) * k + j, o1);
      st(gW + (p + 2) * k + j, o2);
      st(gW + (p + 3) * k + j, o3);
    }
    if (j < k) {
      for (i32 q = p; q < p + 4; q++) {
        const double *t = XT + q * n;
        double o = gW[q * k + j];
        const double *g = G + j;
        for (i32 i = 0; i < n4; i += 4, g += 4 * k) o += t[i] * g[0] + t[i + 1] * g[k] + t[i + 2] * g[2 * k] + t[i + 3] * g[3 * k];
        for (i32 i = n4; i < n; i++, g += k) o += t[i] * g[0];
        gW[q * k + j] = o;
      }
    }
  }
  for (; p < d; p++) {
    const double *t0 = XT + p * n;
    for (i32 j = 0; j < k; j++) {
      double o0 = gW[p * k + j];
      const double *g = G + j;
      for (i32 i = 0; i < n4; i += 4, g += 4 * k) o0 += t0[i] * g[0] + t0[i + 1] * g[k] + t0[i + 2] * g[2 * k] + t0[i + 3] * g[3 * k];
      for (i32 i = n4; i < n; i++, g += k) o0 += t0[i] * g[0];
      gW[p * k + j] = o0;
    }
  }
}
