/**
 * PIL mode I (16-bit grey PNG/PGM, held as 32-bit integers) through clip.py's transform: Image.resize runs Pillow's
 * 32-bit resampler (libImaging/Resample.c, ImagingResampleHorizontal/Vertical_32bpc: double coefficients, each pass
 * rounded with ROUND_UP to int32, no clipping), and only convert('RGB') after the crop clips to 0..255 (i2rgb).
 * Because of that clip after the resize, a 16-bit image cannot be reduced to 8 bits first.
 */
import type { RawImage } from '../image/types.js';
import { FILTERS } from './preprocess-plan.js';

/** Pillow's precompute_coeffs for box (0, inSize), without the 8-bit fixed-point step. */
function coeffs(inSize: number, outSize: number, filterId: number): { ksize: number; bounds: Int32Array; k: Float64Array } {
  const filter = FILTERS[filterId];
  if (!filter) throw new RangeError(`unsupported resample filter ${filterId}`);
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const ss = 1 / filterscale;
  const bounds = new Int32Array(outSize * 2);
  const k = new Float64Array(outSize * ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const n = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < n; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[xx * ksize + x] = w;
      ww += w;
    }
    if (ww !== 0) for (let x = 0; x < n; x++) k[xx * ksize + x] /= ww;
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = n;
  }
  return { ksize, bounds, k };
}

/** ROUND_UP: (int)(f >= 0 ? f + 0.5 : f - 0.5), truncating towards zero into int32. */
const roundUp = (f: number): number => (f >= 0 ? Math.trunc(f + 0.5) : Math.trunc(f - 0.5)) | 0;

/**
 * Resize a mode-I image to outW x outH as Pillow does (filter 0, NEAREST, commutes with the clip and is left to the
 * 8-bit path), then clip to 8-bit grey: the L image the rest of the transform sees.
 */
export function resizeInt32ToL(img: RawImage, outW: number, outH: number, filterId: number): RawImage {
  const { width: w, height: h } = img;
  const src = img.data.byteOffset % 2 === 0 ? img.data : img.data.slice();
  let cur: Int32Array | Uint16Array = new Uint16Array(src.buffer, src.byteOffset, w * h);
  let cw = w;
  let ch = h;
  if (filterId !== 0 && (outW !== w || outH !== h)) {
    const vc = coeffs(h, outH, filterId);
    // source rows the vertical pass reads
    const y0 = vc.bounds[0];
    const y1 = vc.bounds[2 * (outH - 1)] + vc.bounds[2 * (outH - 1) + 1];
    if (outW !== w) {
      const { ksize, bounds, k } = coeffs(w, outW, filterId);
      const tmp = new Int32Array((y1 - y0) * outW);
      for (let y = y0; y < y1; y++) {
        for (let xx = 0; xx < outW; xx++) {
          const xmin = bounds[2 * xx];
          const n = bounds[2 * xx + 1];
          let ss = 0;
          for (let x = 0; x < n; x++) ss += cur[y * w + xmin + x] * k[xx * ksize + x];
          tmp[(y - y0) * outW + xx] = roundUp(ss);
        }
      }
      cur = tmp;
    } else {
      cur = cur.subarray(y0 * w, y1 * w);
    }
    cw = outW;
    if (outH !== h) {
      const { ksize, bounds, k } = vc;
      const out = new Int32Array(outW * outH);
      for (let yy = 0; yy < outH; yy++) {
        const ymin = bounds[2 * yy] - y0;
        const n = bounds[2 * yy + 1];
        for (let xx = 0; xx < outW; xx++) {
          let ss = 0;
          for (let y = 0; y < n; y++) ss += cur[(ymin + y) * outW + xx] * k[yy * ksize + y];
          out[yy * outW + xx] = roundUp(ss);
        }
      }
      cur = out;
    }
    ch = outH;
  }
  // convert('RGB') from I: clip8
  const data = new Uint8Array(cw * ch);
  for (let i = 0; i < data.length; i++) {
    const v = cur[i];
    data[i] = v <= 0 ? 0 : v >= 255 ? 255 : v;
  }
  return { data, width: cw, height: ch, channels: 1 };
}
