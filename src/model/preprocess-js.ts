/**
 * The JavaScript reference implementation of clip-bench's preprocessing (see src/model/preprocess.ts), and the
 * fallback where the WebAssembly one cannot run. Only the part of the resized image that survives the crop is
 * computed: every output pixel depends on its own coefficients only, so this gives the same values as resizing
 * everything and cropping after.
 */
import { coeffs, lutFor, nearestIndex, PRECISION_BITS, type Plan } from './preprocess-plan.js';
import type { PreprocessConfig } from './types.js';

// One array type everywhere keeps the hot loops monomorphic (input bytes are viewed, not copied).
type Bytes = Uint8ClampedArray;

const HALF = 1 << (PRECISION_BITS - 1);

// Scratch buffers reused across calls (0: premultiplied input, 1: horizontal pass, 2: resized region).
// Uint8ClampedArray: storing `sum >> PRECISION_BITS` clamps to 0..255 exactly like Pillow's clip8.
const scratch: Uint8ClampedArray[] = [new Uint8ClampedArray(0), new Uint8ClampedArray(0), new Uint8ClampedArray(0)];
const KEEP_MAX = 64 << 20; // don't pin huge one-off buffers
function buffer(i: number, size: number): Uint8ClampedArray {
  if (size > KEEP_MAX) return new Uint8ClampedArray(size);
  if (scratch[i].length < size) scratch[i] = new Uint8ClampedArray(size);
  return scratch[i];
}

/** Pixel (x, y) of a region lives at buf[base + y * stride + x * channels]. */
interface View {
  buf: Bytes;
  base: number;
  stride: number;
}

/** Pillow's resample (separable, uint8 between passes), computing output columns x0..x1, rows y0..y1 only. */
function resample(
  src: Bytes, w: number, h: number, nb: number, outW: number, outH: number,
  x0: number, x1: number, y0: number, y1: number, filterId: number,
): View {
  const rw = x1 - x0;
  const needH = outW !== w;
  const needV = outH !== h;
  const vc = needV ? coeffs(h, outH, filterId) : null;
  // rows are source rows, columns relative to x0
  let view: View = { buf: src, base: x0 * nb, stride: w * nb };
  if (needH) {
    const hc = coeffs(w, outW, filterId);
    const { bounds, k, ksize } = hc;
    // only the source rows the vertical pass will read
    let ry0 = y0;
    let ry1 = y1;
    if (vc) {
      ry0 = vc.bounds[2 * y0];
      ry1 = vc.bounds[2 * (y1 - 1)] + vc.bounds[2 * (y1 - 1) + 1];
    }
    const stride = rw * nb;
    const tmp = buffer(1, (ry1 - ry0) * stride);
    horizontal(src, w * nb, tmp, ry0, ry1, x0, x1, nb, bounds, k, ksize);
    view = { buf: tmp, base: -ry0 * stride, stride };
  }
  if (!vc) return { buf: view.buf, base: view.base + y0 * view.stride, stride: view.stride };
  const { bounds, k, ksize } = vc;
  const { buf, base, stride } = view;
  const len = rw * nb;
  const dst = buffer(2, (y1 - y0) * len);
  // per output sample, the taps summed in a register (int32, as Pillow); the few rows read stay in L1
  for (let yy = y0; yy < y1; yy++) {
    const n = bounds[2 * yy + 1];
    const kb = yy * ksize;
    const p0 = base + bounds[2 * yy] * stride;
    const o = (yy - y0) * len;
    for (let i = 0; i < len; i++) {
      let s = HALF;
      for (let j = 0, p = p0 + i; j < n; j++, p += stride) s = (s + Math.imul(buf[p], k[kb + j])) | 0;
      dst[o + i] = s >> PRECISION_BITS;
    }
  }
  return { buf: dst, base: 0, stride: len };
}

/**
 * Pillow's horizontal pass over source rows ry0..ry1, output columns x0..x1, packed row after row into tmp.
 * One loop per channel count keeps the tap loop free of branches; int32 arithmetic as in Pillow.
 */
function horizontal(
  src: Bytes, rowLen: number, tmp: Bytes, ry0: number, ry1: number, x0: number, x1: number,
  nb: number, bounds: Int32Array, k: Int32Array, ksize: number,
): void {
  let o = 0;
  if (nb === 3) {
    for (let y = ry0; y < ry1; y++) {
      const row = y * rowLen;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1];
        const kb = xx * ksize;
        let s0 = HALF, s1 = HALF, s2 = HALF;
        for (let i = 0, p = row + bounds[2 * xx] * 3; i < n; i++, p += 3) {
          const kv = k[kb + i];
          s0 = (s0 + Math.imul(src[p], kv)) | 0;
          s1 = (s1 + Math.imul(src[p + 1], kv)) | 0;
          s2 = (s2 + Math.imul(src[p + 2], kv)) | 0;
        }
        tmp[o] = s0 >> PRECISION_BITS;
        tmp[o + 1] = s1 >> PRECISION_BITS;
        tmp[o + 2] = s2 >> PRECISION_BITS;
        o += 3;
      }
    }
  } else if (nb === 1) {
    for (let y = ry0; y < ry1; y++) {
      const row = y * rowLen;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1];
        const kb = xx * ksize;
        let s0 = HALF;
        for (let i = 0, p = row + bounds[2 * xx]; i < n; i++, p++) s0 = (s0 + Math.imul(src[p], k[kb + i])) | 0;
        tmp[o++] = s0 >> PRECISION_BITS;
      }
    }
  } else {
    for (let y = ry0; y < ry1; y++) {
      const row = y * rowLen;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1];
        const kb = xx * ksize;
        let s0 = HALF, s1 = HALF, s2 = HALF, s3 = HALF;
        for (let i = 0, p = row + bounds[2 * xx] * nb; i < n; i++, p += nb) {
          const kv = k[kb + i];
          s0 = (s0 + Math.imul(src[p], kv)) | 0;
          s1 = (s1 + Math.imul(src[p + 1], kv)) | 0;
          if (nb > 2) s2 = (s2 + Math.imul(src[p + 2], kv)) | 0;
          if (nb > 3) s3 = (s3 + Math.imul(src[p + 3], kv)) | 0;
        }
        tmp[o++] = s0 >> PRECISION_BITS;
        tmp[o++] = s1 >> PRECISION_BITS;
        if (nb > 2) tmp[o++] = s2 >> PRECISION_BITS;
        if (nb > 3) tmp[o++] = s3 >> PRECISION_BITS;
      }
    }
  }
}

/** Pillow's NEAREST resize (ImagingScaleAffine): source pixels at nearestIndex, 0 outside. */
function nearest(
  src: Bytes, w: number, h: number, nb: number, outW: number, outH: number,
  x0: number, x1: number, y0: number, y1: number,
): View {
  const xin = nearestIndex(w, outW, x0, x1);
  const yin = nearestIndex(h, outH, y0, y1);
  const len = (x1 - x0) * nb;
  const dst = buffer(2, (y1 - y0) * len);
  let o = 0;
  for (let y = y0; y < y1; y++) {
    const yi = yin[y - y0];
    for (let x = 0; x < x1 - x0; x++) {
      const xi = xin[x];
      const ok = yi >= 0 && yi < h && xi >= 0 && xi < w; // outside: Pillow's fill with 0
      for (let c = 0, p = (yi * w + xi) * nb; c < nb; c++) dst[o++] = ok ? src[p + c] : 0;
    }
  }
  return { buf: dst, base: 0, stride: len };
}

/** Pillow's RGBA->RGBa / LA->La: c = MULDIV255(c, alpha). */
function premultiply(src: Bytes, nb: number, pixels: number): Bytes {
  const dst = buffer(0, pixels * nb);
  const a = nb - 1;
  for (let p = 0; p < pixels * nb; p += nb) {
    const alpha = src[p + a];
    for (let c = 0; c < a; c++) {
      const t = src[p + c] * alpha + 128;
      dst[p + c] = ((t >> 8) + t) >> 8;
    }
    dst[p + a] = alpha;
  }
  return dst;
}

/** Pillow's MULDIV255(a, b): a * b / 255, rounded, in integers. */
function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** Pillow's RGBa->RGBA: CLIP8(255 * c / alpha) with integer division, unchanged at alpha 0 or 255. */
function unpremultiply(v: number, alpha: number): number {
  return alpha === 0 || alpha === 255 ? v : Math.min(255, Math.trunc((255 * v) / alpha));
}

/** Preprocess one image laid out by `plan` into out[offset..] (float32 CHW [3, ch, cw]). */
export function preprocessJs(data: Uint8Array, plan: Plan, cfg: PreprocessConfig, out: Float32Array, offset: number): void {
  const { w, h, nb, outW, outH, cw, ch, left, top, x0, x1, y0, y1, premul } = plan;
  const n = cw * ch;
  const bytes = new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
  const src = premul ? premultiply(bytes, nb, w * h) : bytes;
  const view = !plan.resize
    ? { buf: src, base: (y0 * w + x0) * nb, stride: w * nb }
    : plan.nearest
      ? nearest(src, w, h, nb, outW, outH, x0, x1, y0, y1)
      : resample(src, w, h, nb, outW, outH, x0, x1, y0, y1, cfg.resample);

  const lut = lutFor(cfg);
  if (x1 - x0 < cw || y1 - y0 < ch) {
    for (let c = 0; c < 3; c++) out.fill(lut[c * 256], offset + c * n, offset + (c + 1) * n); // torchvision pads with 0
  }
  const { buf, base, stride } = view;
  for (let y = y0; y < y1; y++) {
    let p = base + (y - y0) * stride;
    let q = offset + (y - top) * cw + (x0 - left);
    for (let x = x0; x < x1; x++, p += nb, q++) {
      let r: number, g: number, b: number;
      // convert('RGB'): L replicated, alpha dropped (after un-premultiplying)
      if (nb === 1) r = g = b = buf[p];
      else if (nb === 2) r = g = b = premul ? unpremultiply(buf[p], buf[p + 1]) : buf[p];
      else if (nb === 3) (r = buf[p]), (g = buf[p + 1]), (b = buf[p + 2]);
      else if (plan.cmyk) {
        // PIL's cmyk2rgb: nk - MULDIV255(c, nk) with nk = 255 - k
        const nk = 255 - buf[p + 3];
        r = nk - muldiv255(buf[p], nk);
        g = nk - muldiv255(buf[p + 1], nk);
        b = nk - muldiv255(buf[p + 2], nk);
      } else if (premul) {
        const a = buf[p + 3];
        r = unpremultiply(buf[p], a);
        g = unpremultiply(buf[p + 1], a);
        b = unpremultiply(buf[p + 2], a);
      } else (r = buf[p]), (g = buf[p + 1]), (b = buf[p + 2]);
      out[q] = lut[r];
      out[q + n] = lut[256 + g];
      out[q + 2 * n] = lut[512 + b];
    }
  }
}
