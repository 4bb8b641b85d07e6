/**
 * CLIP image preprocessing that reproduces OpenAI clip.py's torchvision-on-PIL transform bit for bit
 * (torchvision 0.14, Pillow 9.4): Resize(n) with Pillow's 8-bit fixed-point separable resampler (see
 * libImaging/Resample.c), CenterCrop(n), convert('RGB'), ToTensor, Normalize.
 *
 * Only the part of the resized image that survives the crop is computed: every output pixel depends on
 * its own coefficients only, so this gives the same values as resizing everything and cropping after.
 */
import type { PreprocessConfig, RawImage } from './types.js';

// One array type everywhere keeps the hot loops monomorphic (input bytes are viewed, not copied).
type Bytes = Uint8ClampedArray;

// Pillow: 8 bits for the result, 2 for overflow of negative lobes / sums above 1.
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Filter {
  fn: (x: number) => number;
  support: number;
}

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(x * Math.PI) / (x * Math.PI));
// Same expressions (and operation order) as Pillow's filters, so the doubles match.
const FILTERS: Record<number, Filter> = {
  1: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) }, // lanczos
  2: { support: 1, fn: (x) => ((x = Math.abs(x)) < 1 ? 1 - x : 0) }, // bilinear
  3: {
    support: 2, // bicubic, a = -0.5
    fn: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  4: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) }, // box
  5: {
    support: 1, // hamming (Pillow uses float constants 0.54f / 0.46f)
    fn: (x) => {
      x = Math.abs(x);
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      return (Math.sin(x) / x) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(x));
    },
  },
};

/** Fixed-point coefficients for one axis: output i reads bounds[2i+1] inputs from bounds[2i], weights k[i*ksize..]. */
interface Coeffs {
  ksize: number;
  bounds: Int32Array;
  k: Int32Array;
}

const coeffCache = new Map<string, Coeffs>();

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for box (0, inSize), cached per (in, out, filter). */
function coeffs(inSize: number, outSize: number, filterId: number): Coeffs {
  const key = `${inSize}:${outSize}:${filterId}`;
  const hit = coeffCache.get(key);
  if (hit) return hit;
  const filter = FILTERS[filterId];
  if (!filter) throw new RangeError(`unsupported resample filter ${filterId}`);
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1); // antialias: widen the kernel when downscaling
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const ss = 1 / filterscale;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale; // pixel centres
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const n = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < n; x++) {
      w[x] = filter.fn((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (let x = 0; x < n; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = n;
  }
  if (coeffCache.size >= 256) coeffCache.clear(); // bound memory on datasets with many sizes
  const c = { ksize, bounds, k };
  coeffCache.set(key, c);
  return c;
}

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

/** torchvision Resize(int): shorter side to n, longer side int(n * long / short). */
function resizedSize(w: number, h: number, n: number): [number, number] {
  if (n <= 0 || Math.min(w, h) === n) return [w, h];
  return w <= h ? [n, Math.trunc((n * h) / w)] : [Math.trunc((n * w) / h), n];
}

/** torchvision center_crop offset: int(round((size - crop) / 2)) with Python's half-to-even, or the zero padding when crop > size. */
function cropOffset(size: number, crop: number): number {
  const d = size - crop;
  if (d < 0) return -((-d) >> 1);
  const h = d >> 1;
  return d % 2 === 1 && h % 2 === 1 ? h + 1 : h;
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

/** Pillow's NEAREST resize (ImagingScaleAffine), including its accumulated source coordinates. */
function nearest(
  src: Bytes, w: number, h: number, nb: number, outW: number, outH: number,
  x0: number, x1: number, y0: number, y1: number,
): View {
  const coord = (v: number): number => (v < 0 ? -1 : Math.trunc(v));
  const xin = new Int32Array(x1 - x0);
  const ax = w / outW;
  let xo = ax * 0.5;
  for (let x = 0; x < x1; x++, xo += ax) if (x >= x0) xin[x - x0] = coord(xo);
  const ay = h / outH;
  let yo = ay * 0.5;
  for (let y = 0; y < y0; y++) yo += ay;
  const len = (x1 - x0) * nb;
  const dst = buffer(2, (y1 - y0) * len);
  let o = 0;
  for (let y = y0; y < y1; y++, yo += ay) {
    const yi = coord(yo);
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

/** Pillow's RGBa->RGBA: CLIP8(255 * c / alpha) with integer division, unchanged at alpha 0 or 255. */
function unpremultiply(v: number, alpha: number): number {
  return alpha === 0 || alpha === 255 ? v : Math.min(255, Math.trunc((255 * v) / alpha));
}

const luts = new WeakMap<PreprocessConfig, Float32Array>();
/** uint8 -> normalised float32 per channel, with torchvision's float32 ops: (v / 255 - mean) / std. */
function lutFor(cfg: PreprocessConfig): Float32Array {
  let lut = luts.get(cfg);
  if (lut) return lut;
  lut = new Float32Array(3 * 256);
  const f = Math.fround;
  // ToTensor divides by 255; other factors (HF rescale_factor) multiply
  const byDivision = Math.abs(cfg.rescaleFactor - 1 / 255) < 1e-15;
  for (let c = 0; c < 3; c++) {
    const mean = f(cfg.mean[c]);
    const std = f(cfg.std[c]);
    for (let v = 0; v < 256; v++) {
      const x = byDivision ? f(v / 255) : f(v * cfg.rescaleFactor);
      lut[c * 256 + v] = f(f(x - mean) / std);
    }
  }
  luts.set(cfg, lut);
  return lut;
}

/**
 * Preprocess one image into float32 CHW [3, crop, crop] at out[offset..] (allocated when `out` is
 * omitted). With cropSize 0 the output is [3, H, W] of the resized image.
 */
export function preprocess(img: RawImage, cfg: PreprocessConfig, out?: Float32Array, offset = 0): Float32Array {
  const { width: w, height: h, channels: nb } = img;
  if (img.data.length < w * h * nb) throw new RangeError(`image data too short for ${w}x${h}x${nb}`);
  const [outW, outH] = resizedSize(w, h, cfg.shortestEdge);
  const cw = cfg.cropSize || outW;
  const ch = cfg.cropSize || outH;
  const left = cropOffset(outW, cw);
  const top = cropOffset(outH, ch);
  const n = cw * ch;
  out ??= new Float32Array(offset + 3 * n);
  if (offset < 0 || offset + 3 * n > out.length) throw new RangeError(`output buffer too small for 3x${ch}x${cw} at ${offset}`);

  // the part of the resized image inside the crop window
  const x0 = Math.max(0, left);
  const x1 = Math.min(outW, left + cw);
  const y0 = Math.max(0, top);
  const y1 = Math.min(outH, top + ch);

  const resize = outW !== w || outH !== h; // PIL returns a copy when the size is unchanged
  const useNearest = img.palette === true || cfg.resample === 0; // PIL resizes P and 1 with NEAREST
  // PIL resizes RGBA/LA premultiplied (except NEAREST) and converts back afterwards
  const premul = resize && !useNearest && (nb === 2 || nb === 4);
  const data = new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length);
  const src = premul ? premultiply(data, nb, w * h) : data;
  const view = !resize
    ? { buf: src, base: (y0 * w + x0) * nb, stride: w * nb }
    : useNearest
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
      else if (premul) {
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
  return out;
}
