/*
 * Pillow's fixed-point separable resampler (libImaging/Resample.c, 8 bits per channel, PRECISION_BITS 22,
 * 32-bit integer sums) in WebAssembly SIMD, fused with the rest of clip-bench's preprocessing: centre crop,
 * convert('RGB') (grey replicated, alpha un-premultiplied and dropped), ToTensor + Normalize through a
 * per-channel lookup table, HWC to CHW. The caller (src/model/preprocess-wasm.ts) computes the coefficients
 * with the JavaScript reference code and places every buffer in this module's memory; nothing here allocates.
 *
 * Exactness: every sum is the JS reference's int32 sum (wrapping i32x4 adds are associative mod 2^32, so the
 * lane order does not matter); results are clamped with saturating narrows, which is Pillow's clip8.
 *
 * Reads and writes may run up to 16 bytes past a row or buffer end (whole-vector loads/stores); the caller pads
 * every byte buffer by 16.
 *
 * Build: scripts/build_wasm.sh (clang --target=wasm32 -msimd128, freestanding, no libc).
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;

#define PRECISION_BITS 22
#define HALF (1 << (PRECISION_BITS - 1))

#define EXPORT(name) __attribute__((export_name(#name)))

/* Pillow's RGBA->RGBa / LA->La in place: c = MULDIV255(c, alpha). */
EXPORT(premultiply)
void premultiply(u8 *p, i32 pixels, i32 nb) {
  i32 a = nb - 1;
  for (i32 i = 0; i < pixels; i++, p += nb) {
    i32 alpha = p[a];
    for (i32 c = 0; c < a; c++) {
      i32 t = p[c] * alpha + 128;
      p[c] = (u8)(((t >> 8) + t) >> 8);
    }
  }
}

/* i32 lanes >> PRECISION_BITS, clamped to 0..255, packed into the low 4 bytes. */
static inline v128_t pack4(v128_t s) {
  v128_t v = wasm_i32x4_shr(s, PRECISION_BITS);
  v = wasm_i16x8_narrow_i32x4(v, v);
  return wasm_u8x16_narrow_i16x8(v, v);
}

static inline u8 clip8(i32 s) {
  s >>= PRECISION_BITS;
  return (u8)(s < 0 ? 0 : s > 255 ? 255 : s);
}

/* One pixel of 3 or 4 channels as i32 lanes (reads 4 bytes). */
static inline v128_t pixel4(const u8 *p) {
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(p)));
}

/*
 * Horizontal pass for 3 or 4 channels with i32x4.dot_i16x8_s, two taps per instruction. Each weight is split
 * into k = kh * 2^11 + kl (kl in 0..2047, kh within +-2^15 for |k| < 2^26), so that sum(p * k) =
 * (sum(p * kh) << 11) + sum(p * kl) exactly in wrapping int32, i.e. the same int32 as Pillow's loop.
 * pairs: per source pixel i, the i16 lanes [c0(i), c0(i+1), c1(i), c1(i+1), ...]; weights: per output column
 * and tap pair, the i16 pattern [kh(2j), kh(2j+1)] x 4 then the same for kl. Returns 0 (nothing written) when
 * a weight is out of that range.
 */
static i32 horizontal_dot(const u8 *src, i32 rowLen, u8 *dst, i32 ry0, i32 ry1, i32 x0, i32 x1, i32 nb,
                          const i32 *bounds, const i32 *k, i32 ksize, i32 taps, v128_t *work) {
  i32 npairs = (taps + 1) >> 1;
  i32 lo = bounds[2 * x0], hi = bounds[2 * (x1 - 1)] + 2 * npairs;
  v128_t *weights = work;
  v128_t *pairs = work + 2 * npairs * (x1 - x0) - lo;
  for (i32 xx = x0; xx < x1; xx++) {
    const i32 *kk = k + xx * ksize;
    v128_t *wt = weights + 2 * npairs * (xx - x0);
    for (i32 j = 0; j < npairs; j++) {
      i32 k0 = kk[2 * j], k1 = 2 * j + 1 < taps ? kk[2 * j + 1] : 0;
      if (k0 < -(1 << 26) || k0 >= (1 << 26) || k1 < -(1 << 26) || k1 >= (1 << 26)) return 0;
      wt[2 * j] = wasm_i32x4_splat((i32)(((unsigned)(k1 >> 11) << 16) | ((unsigned)(k0 >> 11) & 0xffff)));
      wt[2 * j + 1] = wasm_i32x4_splat(((k1 & 0x7ff) << 16) | (k0 & 0x7ff));
    }
  }
  const v128_t mask = nb == 3 ? wasm_i8x16_make(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1)
                              : wasm_i8x16_make(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1);
  i32 span = hi - lo;
  i32 rw = x1 - x0;
  // four rows at a time: each weight vector loaded once serves all four; missing rows at the end alias the
  // last real one (same values written twice)
  for (i32 y = ry0; y < ry1; y += 4) {
    const u8 *r0 = src + y * rowLen;
    const u8 *r1 = y + 1 < ry1 ? r0 + rowLen : r0;
    const u8 *r2 = y + 2 < ry1 ? r1 + rowLen : r1;
    const u8 *r3 = y + 3 < ry1 ? r2 + rowLen : r2;
    v128_t *p0 = pairs, *p1 = p0 + span, *p2 = p1 + span, *p3 = p2 + span;
    for (i32 i = lo; i < hi; i++) {
      p0[i] = wasm_i8x16_swizzle(wasm_v128_load64_zero(r0 + i * nb), mask);
      p1[i] = wasm_i8x16_swizzle(wasm_v128_load64_zero(r1 + i * nb), mask);
      p2[i] = wasm_i8x16_swizzle(wasm_v128_load64_zero(r2 + i * nb), mask);
      p3[i] = wasm_i8x16_swizzle(wasm_v128_load64_zero(r3 + i * nb), mask);
    }
    i32 rowBytes = rw * nb;
    u8 *d0 = dst;
    u8 *d1 = y + 1 < ry1 ? d0 + rowBytes : d0;
    u8 *d2 = y + 2 < ry1 ? d1 + rowBytes : d1;
    u8 *d3 = y + 3 < ry1 ? d2 + rowBytes : d2;
    const v128_t *wt = weights;
    for (i32 xx = x0; xx < x1; xx++) {
      i32 first = bounds[2 * xx];
      const v128_t *q0 = p0 + first, *q1 = p1 + first, *q2 = p2 + first, *q3 = p3 + first;
      v128_t h0 = wasm_i32x4_splat(0), h1 = h0, h2 = h0, h3 = h0;
      v128_t l0 = wasm_i32x4_splat(HALF), l1 = l0, l2 = l0, l3 = l0;
      for (i32 j = 0; j < npairs; j++, wt += 2) {
        v128_t wh = wt[0], wl = wt[1];
        v128_t a0 = q0[2 * j], a1 = q1[2 * j], a2 = q2[2 * j], a3 = q3[2 * j];
        h0 = wasm_i32x4_add(h0, wasm_i32x4_dot_i16x8(a0, wh));
        l0 = wasm_i32x4_add(l0, wasm_i32x4_dot_i16x8(a0, wl));
        h1 = wasm_i32x4_add(h1, wasm_i32x4_dot_i16x8(a1, wh));
        l1 = wasm_i32x4_add(l1, wasm_i32x4_dot_i16x8(a1, wl));
        h2 = wasm_i32x4_add(h2, wasm_i32x4_dot_i16x8(a2, wh));
        l2 = wasm_i32x4_add(l2, wasm_i32x4_dot_i16x8(a2, wl));
        h3 = wasm_i32x4_add(h3, wasm_i32x4_dot_i16x8(a3, wh));
        l3 = wasm_i32x4_add(l3, wasm_i32x4_dot_i16x8(a3, wl));
      }
#define PIX(h, l) pack4(wasm_i32x4_add(wasm_i32x4_shl(h, 11), l))
      // 4-byte stores: for nb 3 the 4th byte is overwritten by the next pixel, or lands in the padding; a row's
      // last pixel must not spill into the next row, already written (the fourth row's next is written later)
      if (nb == 4 || xx + 1 < x1) {
        wasm_v128_store32_lane(d0, PIX(h0, l0), 0);
        wasm_v128_store32_lane(d1, PIX(h1, l1), 0);
        wasm_v128_store32_lane(d2, PIX(h2, l2), 0);
      } else {
        v128_t v0 = PIX(h0, l0), v1 = PIX(h1, l1), v2 = PIX(h2, l2);
        wasm_v128_store16_lane(d0, v0, 0);
        wasm_v128_store8_lane(d0 + 2, v0, 2);
        wasm_v128_store16_lane(d1, v1, 0);
        wasm_v128_store8_lane(d1 + 2, v1, 2);
        wasm_v128_store16_lane(d2, v2, 0);
        wasm_v128_store8_lane(d2 + 2, v2, 2);
      }
      wasm_v128_store32_lane(d3, PIX(h3, l3), 0);
#undef PIX
      d0 += nb;
      d1 += nb;
      d2 += nb;
      d3 += nb;
    }
    dst = d3;
  }
  return 1;
}

/*
 * Horizontal pass over source rows ry0..ry1 (row r at src + r * rowLen), output columns x0..x1, packed row
 * after row into dst ((x1 - x0) * nb bytes a row). bounds[2x] = first tap, bounds[2x+1] = tap count,
 * k[x * ksize + i] = fixed-point weights (0 past the tap count), taps = the largest tap count.
 * work: horizontal_work_size(...) bytes of scratch (16-byte aligned).
 */
EXPORT(horizontal_work_size)
i32 horizontal_work_size(i32 w, i32 rw, i32 taps) {
  i32 npairs = (taps + 1) >> 1;
  return 16 * (2 * npairs * rw + 4 * (w + 2 * npairs + 1));
}

EXPORT(horizontal)
void horizontal(const u8 *src, i32 rowLen, u8 *dst, i32 ry0, i32 ry1, i32 x0, i32 x1, i32 nb,
                const i32 *bounds, const i32 *k, i32 ksize, i32 taps, v128_t *work) {
  if ((nb == 3 || nb == 4) && horizontal_dot(src, rowLen, dst, ry0, ry1, x0, x1, nb, bounds, k, ksize, taps, work)) return;
  if (nb == 3 || nb == 4) {
    for (i32 y = ry0; y < ry1; y++) {
      const u8 *row = src + y * rowLen;
      for (i32 xx = x0; xx < x1; xx++) {
        const u8 *p = row + bounds[2 * xx] * nb;
        const i32 *kk = k + xx * ksize;
        v128_t s0 = wasm_i32x4_splat(HALF), s1 = wasm_i32x4_splat(0);
        i32 i = 0;
        // two independent chains: the adds of consecutive taps overlap
        for (; i + 2 <= taps; i += 2, p += 2 * nb) {
          s0 = wasm_i32x4_add(s0, wasm_i32x4_mul(pixel4(p), wasm_v128_load32_splat(kk + i)));
          s1 = wasm_i32x4_add(s1, wasm_i32x4_mul(pixel4(p + nb), wasm_v128_load32_splat(kk + i + 1)));
        }
        if (i < taps) s0 = wasm_i32x4_add(s0, wasm_i32x4_mul(pixel4(p), wasm_v128_load32_splat(kk + i)));
        wasm_v128_store32_lane(dst, pack4(wasm_i32x4_add(s0, s1)), 0);
        dst += nb;
      }
    }
  } else if (nb == 1) {
    for (i32 y = ry0; y < ry1; y++) {
      const u8 *row = src + y * rowLen;
      for (i32 xx = x0; xx < x1; xx++) {
        const u8 *p = row + bounds[2 * xx];
        const i32 *kk = k + xx * ksize;
        i32 n = bounds[2 * xx + 1];
        v128_t acc = wasm_i32x4_splat(0);
        i32 i = 0;
        for (; i + 4 <= n; i += 4) acc = wasm_i32x4_add(acc, wasm_i32x4_mul(pixel4(p + i), wasm_v128_load(kk + i)));
        i32 s = HALF + wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
                wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
        for (; i < n; i++) s += p[i] * kk[i];
        *dst++ = clip8(s);
      }
    }
  } else { /* nb == 2 */
    for (i32 y = ry0; y < ry1; y++) {
      const u8 *row = src + y * rowLen;
      for (i32 xx = x0; xx < x1; xx++) {
        const u8 *p = row + bounds[2 * xx] * 2;
        const i32 *kk = k + xx * ksize;
        i32 n = bounds[2 * xx + 1];
        i32 s0 = HALF, s1 = HALF;
        for (i32 i = 0; i < n; i++, p += 2) {
          s0 += p[0] * kk[i];
          s1 += p[1] * kk[i];
        }
        dst[0] = clip8(s0);
        dst[1] = clip8(s1);
        dst += 2;
      }
    }
  }
}

/* Vertical pass for one output row, one tap at a time with i32x4.mul (the fallback for unusual weights). */
static void vertical_row_mul(const u8 *first, i32 stride, i32 n, const i32 *k, i32 len, u8 *dst) {
  for (i32 i = 0; i < len; i += 16) {
    v128_t a0 = wasm_i32x4_splat(HALF), a1 = a0, a2 = a0, a3 = a0;
    const u8 *p = first + i;
    for (i32 j = 0; j < n; j++, p += stride) {
      v128_t v = wasm_v128_load(p);
      v128_t kj = wasm_i32x4_splat(k[j]);
      v128_t lo = wasm_u16x8_extend_low_u8x16(v), hi = wasm_u16x8_extend_high_u8x16(v);
      a0 = wasm_i32x4_add(a0, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(lo), kj));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(lo), kj));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(hi), kj));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(hi), kj));
    }
    v128_t b01 = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(a0, PRECISION_BITS), wasm_i32x4_shr(a1, PRECISION_BITS));
    v128_t b23 = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(a2, PRECISION_BITS), wasm_i32x4_shr(a3, PRECISION_BITS));
    wasm_v128_store(dst + i, wasm_u8x16_narrow_i16x8(b01, b23));
  }
}

#define VMAX_PAIRS 64

/* (h << 11) + l per i32 lane, >> PRECISION_BITS, clamped: 16 samples packed to bytes. */
static inline v128_t pack16(v128_t h0, v128_t l0, v128_t h1, v128_t l1, v128_t h2, v128_t l2, v128_t h3, v128_t l3) {
#define SUM(h, l) wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_shl(h, 11), l), PRECISION_BITS)
  v128_t b01 = wasm_i16x8_narrow_i32x4(SUM(h0, l0), SUM(h1, l1));
  v128_t b23 = wasm_i16x8_narrow_i32x4(SUM(h2, l2), SUM(h3, l3));
#undef SUM
  return wasm_u8x16_narrow_i16x8(b01, b23);
}

/*
 * Vertical pass for one output row: n source rows from `first` (stride apart), len bytes, into dst. Taps go in
 * pairs through i32x4.dot_i16x8_s on the two rows' samples interleaved, with the weights split as in
 * horizontal_dot (exact in wrapping int32).
 */
static void vertical_row(const u8 *first, i32 stride, i32 n, const i32 *k, i32 len, u8 *dst) {
  v128_t wh[VMAX_PAIRS], wl[VMAX_PAIRS];
  i32 npairs = (n + 1) >> 1;
  if (npairs > VMAX_PAIRS) {
    vertical_row_mul(first, stride, n, k, len, dst);
    return;
  }
  for (i32 j = 0; j < npairs; j++) {
    i32 k0 = k[2 * j], k1 = 2 * j + 1 < n ? k[2 * j + 1] : 0;
    if (k0 < -(1 << 26) || k0 >= (1 << 26) || k1 < -(1 << 26) || k1 >= (1 << 26)) {
      vertical_row_mul(first, stride, n, k, len, dst);
      return;
    }
    wh[j] = wasm_i32x4_splat((i32)(((unsigned)(k1 >> 11) << 16) | ((unsigned)(k0 >> 11) & 0xffff)));
    wl[j] = wasm_i32x4_splat(((k1 & 0x7ff) << 16) | (k0 & 0x7ff));
  }
  const v128_t zero = wasm_i32x4_splat(0);
  for (i32 i = 0; i < len; i += 16) {
    v128_t h0 = zero, h1 = zero, h2 = zero, h3 = zero;
    v128_t l0 = wasm_i32x4_splat(HALF), l1 = l0, l2 = l0, l3 = l0;
    const u8 *p = first + i;
    for (i32 j = 0; j < npairs; j++, p += 2 * stride) {
      v128_t a = wasm_v128_load(p);
      // an odd last tap pairs with a zero row (its weight is 0 too)
      v128_t b = 2 * j + 1 < n ? wasm_v128_load(p + stride) : zero;
      v128_t lo = wasm_i8x16_shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      v128_t hi = wasm_i8x16_shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      v128_t s0 = wasm_u16x8_extend_low_u8x16(lo), s1 = wasm_u16x8_extend_high_u8x16(lo);
      v128_t s2 = wasm_u16x8_extend_low_u8x16(hi), s3 = wasm_u16x8_extend_high_u8x16(hi);
      h0 = wasm_i32x4_add(h0, wasm_i32x4_dot_i16x8(s0, wh[j]));
      l0 = wasm_i32x4_add(l0, wasm_i32x4_dot_i16x8(s0, wl[j]));
      h1 = wasm_i32x4_add(h1, wasm_i32x4_dot_i16x8(s1, wh[j]));
      l1 = wasm_i32x4_add(l1, wasm_i32x4_dot_i16x8(s1, wl[j]));
      h2 = wasm_i32x4_add(h2, wasm_i32x4_dot_i16x8(s2, wh[j]));
      l2 = wasm_i32x4_add(l2, wasm_i32x4_dot_i16x8(s2, wl[j]));
      h3 = wasm_i32x4_add(h3, wasm_i32x4_dot_i16x8(s3, wh[j]));
      l3 = wasm_i32x4_add(l3, wasm_i32x4_dot_i16x8(s3, wl[j]));
    }
    wasm_v128_store(dst + i, pack16(h0, l0, h1, l1, h2, l2, h3, l3));
  }
}

/* Pillow's RGBa->RGBA for one sample: CLIP8(255 * c / alpha), unchanged at alpha 0 or 255. */
static inline i32 unpremultiply(i32 v, i32 alpha) {
  if (alpha == 0 || alpha == 255) return v;
  i32 u = (255 * v) / alpha;
  return u > 255 ? 255 : u;
}

/*
 * convert('RGB') + normalise one row of `count` pixels into the three planes (lut: 3 x 256 floats).
 * premul: the samples are premultiplied (PIL resized RGBa/La) and are un-premultiplied first.
 */
static void store_row(const u8 *p, i32 count, i32 nb, i32 premul, const float *lut, float *r, float *g, float *b) {
  const float *lg = lut + 256, *lb = lut + 512;
  if (nb == 3) {
    for (i32 x = 0; x < count; x++, p += 3) {
      r[x] = lut[p[0]];
      g[x] = lg[p[1]];
      b[x] = lb[p[2]];
    }
  } else if (nb == 1) {
    for (i32 x = 0; x < count; x++) {
      r[x] = lut[p[x]];
      g[x] = lg[p[x]];
      b[x] = lb[p[x]];
    }
  } else if (nb == 2) {
    for (i32 x = 0; x < count; x++, p += 2) {
      i32 v = premul ? unpremultiply(p[0], p[1]) : p[0];
      r[x] = lut[v];
      g[x] = lg[v];
      b[x] = lb[v];
    }
  } else {
    for (i32 x = 0; x < count; x++, p += 4) {
      i32 a = premul ? p[3] : 255;
      r[x] = lut[unpremultiply(p[0], a)];
      g[x] = lg[unpremultiply(p[1], a)];
      b[x] = lb[unpremultiply(p[2], a)];
    }
  }
}

/* Fill plane c of out (n floats each) with lut[c][0]: torchvision's zero padding when the crop exceeds the image. */
static void pad(float *out, i32 n, const float *lut) {
  for (i32 c = 0; c < 3; c++) {
    v128_t v = wasm_f32x4_splat(lut[c * 256]);
    float *o = out + c * n;
    i32 i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(o + i, v);
    for (; i < n; i++) o[i] = lut[c * 256];
  }
}

/*
 * The whole preprocessing of one image into out = float32 [3, ch, cw]: region x0..x1, y0..y1 of the resized
 * image lands at (x0 - left, y0 - top) of the crop window.
 *   mode 0: no resize (src is the image); 1: Pillow's separable filter (hb/hk/hks horizontal coefficients
 *   when needH, vb/vk/vks vertical ones when needV; tmp holds the horizontal pass, row one output row);
 *   2: NEAREST (hb: source column per output column x0..x1, vb: source row per output row y0..y1, -1 or
 *   out of range for Pillow's fill with 0).
 */
EXPORT(preprocess)
void preprocess(const u8 *src, i32 w, i32 h, i32 nb, i32 mode, i32 premul,
                i32 needH, const i32 *hb, const i32 *hk, i32 hks, i32 htaps, v128_t *work,
                i32 needV, const i32 *vb, const i32 *vk, i32 vks,
                i32 x0, i32 x1, i32 y0, i32 y1, u8 *tmp, u8 *row,
                const float *lut, float *out, i32 cw, i32 ch, i32 left, i32 top) {
  i32 n = cw * ch;
  i32 rw = x1 - x0;
  if (rw < cw || y1 - y0 < ch) pad(out, n, lut);
  float *outR = out + (y0 - top) * cw + (x0 - left);

  if (mode == 0) {
    for (i32 y = y0; y < y1; y++, outR += cw)
      store_row(src + (y * w + x0) * nb, rw, nb, premul, lut, outR, outR + n, outR + 2 * n);
    return;
  }

  if (mode == 2) {
    for (i32 y = y0; y < y1; y++, outR += cw) {
      i32 yi = vb[y - y0];
      u8 *o = row;
      for (i32 x = 0; x < rw; x++) {
        i32 xi = hb[x];
        i32 ok = yi >= 0 && yi < h && xi >= 0 && xi < w;
        const u8 *p = src + (yi * w + xi) * nb;
        for (i32 c = 0; c < nb; c++) *o++ = ok ? p[c] : 0;
      }
      store_row(row, rw, nb, premul, lut, outR, outR + n, outR + 2 * n);
    }
    return;
  }

  // rows 0.. of `buf` are source rows from `ry0`, columns from x0 (bytes `stride` apart)
  const u8 *buf = src + x0 * nb;
  i32 stride = w * nb;
  i32 ry0 = 0;
  if (needH) {
    ry0 = y0;
    i32 ry1 = y1;
    if (needV) {
      ry0 = vb[2 * y0];
      ry1 = vb[2 * (y1 - 1)] + vb[2 * (y1 - 1) + 1];
    }
    horizontal(src, w * nb, tmp, ry0, ry1, x0, x1, nb, hb, hk, hks, htaps, work);
    buf = tmp;
    stride = rw * nb;
  }
  for (i32 y = y0; y < y1; y++, outR += cw) {
    const u8 *line;
    if (needV) {
      vertical_row(buf + (vb[2 * y] - ry0) * stride, stride, vb[2 * y + 1], vk + y * vks, rw * nb, row);
      line = row;
    } else {
      line = buf + (y - ry0) * stride;
    }
    store_row(line, rw, nb, premul, lut, outR, outR + n, outR + 2 * n);
  }
}
