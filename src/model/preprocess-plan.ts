/**
 * What both preprocessing implementations (the JavaScript reference, src/model/preprocess-js.ts, and the
 * WebAssembly one, src/model/preprocess-wasm.ts) compute identically: torchvision's output geometry,
 * Pillow's fixed-point filter coefficients and NEAREST coordinates, and the normalisation table.
 */
import type { PreprocessConfig } from './types.js';
import type { RawImage } from '../image/types.js';

// Pillow: 8 bits for the result, 2 for overflow of negative lobes / sums above 1.
export const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

interface Filter {
  fn: (x: number) => number;
  support: number;
}

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(x * Math.PI) / (x * Math.PI));
// Same expressions (and operation order) as Pillow's filters, so the doubles match.
export const FILTERS: Record<number, Filter> = {
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
export interface Coeffs {
  ksize: number;
  /** the largest tap count of any output (<= ksize) */
  taps: number;
  bounds: Int32Array;
  k: Int32Array;
}

const coeffCache = new Map<string, Coeffs>();

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for box (0, inSize), cached per (in, out, filter). */
export function coeffs(inSize: number, outSize: number, filterId: number): Coeffs {
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
  let taps = 0;
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
    taps = Math.max(taps, n);
  }
  if (coeffCache.size >= 256) coeffCache.clear(); // bound memory on datasets with many sizes
  const c = { ksize, taps, bounds, k };
  coeffCache.set(key, c);
  return c;
}

/**
 * Pillow's NEAREST source coordinates (ImagingScaleAffine, accumulated like Pillow) for outputs from..to of
 * an inSize -> outSize axis; -1 where Pillow fills with 0.
 */
export function nearestIndex(inSize: number, outSize: number, from: number, to: number): Int32Array {
  const idx = new Int32Array(to - from);
  const a = inSize / outSize;
  let v = a * 0.5;
  for (let i = 0; i < to; i++, v += a) if (i >= from) idx[i - from] = v < 0 ? -1 : Math.trunc(v);
  return idx;
}

/** torchvision Resize(int): shorter side to n, longer side int(n * long / short). */
export function resizedSize(w: number, h: number, n: number): [number, number] {
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

/** One image's preprocessing geometry: resize to outW x outH, crop window cw x ch at (left, top). */
export interface Plan {
  w: number;
  h: number;
  nb: 1 | 2 | 3 | 4;
  outW: number;
  outH: number;
  cw: number;
  ch: number;
  left: number;
  top: number;
  /** the part of the resized image inside the crop window: columns x0..x1, rows y0..y1 */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** PIL returns a copy when the size is unchanged */
  resize: boolean;
  /** PIL resizes P and 1 with NEAREST */
  nearest: boolean;
  /** PIL resizes RGBA/LA premultiplied (except NEAREST) and converts back afterwards */
  premul: boolean;
  /** PIL mode CMYK: resized as it is (not premultiplied), converted to RGB with PIL's formula after the crop */
  cmyk: boolean;
}

export function planFor(img: RawImage, cfg: PreprocessConfig): Plan {
  const { width: w, height: h, channels: nb } = img;
  if (img.data.length < w * h * nb) throw new RangeError(`image data too short for ${w}x${h}x${nb}`);
  const [outW, outH] = resizedSize(w, h, cfg.shortestEdge);
  const cw = cfg.cropSize || outW;
  const ch = cfg.cropSize || outH;
  const left = cropOffset(outW, cw);
  const top = cropOffset(outH, ch);
  const resize = outW !== w || outH !== h;
  const nearest = img.palette === true || cfg.resample === 0;
  return {
    w, h, nb, outW, outH, cw, ch, left, top,
    x0: Math.max(0, left),
    x1: Math.min(outW, left + cw),
    y0: Math.max(0, top),
    y1: Math.min(outH, top + ch),
    resize,
    nearest,
    premul: resize && !nearest && (nb === 2 || nb === 4) && img.mode !== 'CMYK',
    cmyk: img.mode === 'CMYK',
  };
}

const luts = new WeakMap<PreprocessConfig, Float32Array>();
/** uint8 -> normalised float32 per channel, with torchvision's float32 ops: (v / 255 - mean) / std. */
export function lutFor(cfg: PreprocessConfig): Float32Array {
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
