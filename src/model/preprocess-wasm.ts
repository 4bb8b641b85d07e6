/**
 * The WebAssembly SIMD implementation of clip-bench's preprocessing (wasm/resample.c, built by
 * scripts/build_wasm.sh and committed as wasm/resample.wasm). It computes what src/model/preprocess-js.ts
 * computes, from the same coefficients and table, with the resize, crop, normalisation and CHW layout fused.
 * One instance per thread, loaded synchronously on first use; its memory only grows, and is reused by every image.
 */
import fs from 'node:fs';
import path from 'node:path';
import { coeffs, lutFor, nearestIndex, type Plan } from './preprocess-plan.js';
import type { PreprocessConfig } from './types.js';
import { packageRoot } from '../version.js';

export const WASM_FILE = path.join(packageRoot, 'wasm/resample.wasm');

interface Exports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  preprocess(
    src: number, w: number, h: number, nb: number, mode: number, premul: number,
    needH: number, hb: number, hk: number, hks: number, htaps: number, work: number,
    needV: number, vb: number, vk: number, vks: number,
    x0: number, x1: number, y0: number, y1: number, tmp: number, row: number,
    lut: number, out: number, cw: number, ch: number, left: number, top: number,
  ): void;
  premultiply(p: number, pixels: number, nb: number): void;
  horizontal_work_size(w: number, rw: number, taps: number): number;
}

/** Images needing more working memory than this use the JavaScript path (wasm32 memory never shrinks). */
const MAX_BYTES = 1 << 30;
const PAD = 16; // the C code's whole-vector loads and stores may run this far past a buffer
const align = (n: number): number => (n + 15) & ~15;

export class WasmPreprocessor {
  private readonly x: Exports;
  private readonly heapBase: number;
  // views of the memory, renewed when it grows (growing detaches the old buffer)
  private u8 = new Uint8Array(0);
  private i32 = new Int32Array(0);
  private f32 = new Float32Array(0);

  constructor(bytes: BufferSource) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    this.x = instance.exports as unknown as Exports;
    this.heapBase = align(Number(this.x.__heap_base.value));
  }

  /** Preprocess one image laid out by `plan` into out[offset..]; false (nothing written) when it is too large. */
  run(data: Uint8Array, plan: Plan, cfg: PreprocessConfig, out: Float32Array, offset: number): boolean {
    const { w, h, nb, outW, outH, cw, ch, x0, x1, y0, y1 } = plan;
    const rw = x1 - x0;
    const mode = !plan.resize ? 0 : plan.nearest ? 2 : 1;
    const needH = mode === 1 && outW !== w;
    const needV = mode === 1 && outH !== h;
    const hc = needH ? coeffs(w, outW, cfg.resample) : null;
    const vc = needV ? coeffs(h, outH, cfg.resample) : null;
    const hIdx = mode === 2 ? nearestIndex(w, outW, x0, x1) : hc?.bounds;
    const vIdx = mode === 2 ? nearestIndex(h, outH, y0, y1) : vc?.bounds;
    // source rows the horizontal pass produces
    const tmpRows = !needH ? 0 : vc ? vc.bounds[2 * (y1 - 1)] + vc.bounds[2 * (y1 - 1) + 1] - vc.bounds[2 * y0] : y1 - y0;

    // layout: src | hIdx | hk | vIdx | vk | tmp | work | row | lut | out
    let at = this.heapBase;
    const place = (bytes: number): number => {
      const p = at;
      at += align(bytes + PAD);
      return p;
    };
    // the horizontal pass reads `taps` pixels from each output's first tap, past the row end at the right edge
    const pSrc = place(w * h * nb + (hc ? (hc.taps + 4) * nb : 0));
    const pHb = place(4 * (hIdx?.length ?? 0));
    const pHk = place(4 * (hc?.k.length ?? 0));
    const pVb = place(4 * (vIdx?.length ?? 0));
    const pVk = place(4 * (vc?.k.length ?? 0));
    const pTmp = place(tmpRows * rw * nb);
    const pWork = place(hc ? this.x.horizontal_work_size(w, rw, hc.taps) : 0);
    const pRow = place(rw * nb);
    const pLut = place(4 * 768);
    const pOut = place(4 * 3 * cw * ch);
    if (at > MAX_BYTES) return false;
    const mem = this.x.memory;
    if (at > mem.buffer.byteLength) mem.grow(Math.ceil((at - mem.buffer.byteLength) / 65536));
    if (this.u8.buffer !== mem.buffer) {
      this.u8 = new Uint8Array(mem.buffer);
      this.i32 = new Int32Array(mem.buffer);
      this.f32 = new Float32Array(mem.buffer);
    }
    const { i32, f32 } = this;
    this.u8.set(data.subarray(0, w * h * nb), pSrc);
    if (hIdx) i32.set(hIdx, pHb >> 2);
    if (hc) i32.set(hc.k, pHk >> 2);
    if (vIdx) i32.set(vIdx, pVb >> 2);
    if (vc) i32.set(vc.k, pVk >> 2);
    f32.set(lutFor(cfg), pLut >> 2);
    if (plan.premul) this.x.premultiply(pSrc, w * h, nb);
    this.x.preprocess(
      pSrc, w, h, nb, mode, plan.premul ? 1 : 0,
      needH ? 1 : 0, pHb, pHk, hc?.ksize ?? 0, hc?.taps ?? 0, pWork,
      needV ? 1 : 0, pVb, pVk, vc?.ksize ?? 0,
      x0, x1, y0, y1, pTmp, pRow,
      pLut, pOut, cw, ch, plan.left, plan.top,
    );
    out.set(f32.subarray(pOut >> 2, (pOut >> 2) + 3 * cw * ch), offset);
    return true;
  }
}

let loaded: WasmPreprocessor | null | undefined;

/** This thread's instance, or null where WebAssembly (SIMD) or the module is unavailable. */
export function wasmPreprocessor(): WasmPreprocessor | null {
  if (loaded === undefined) {
    try {
      loaded = new WasmPreprocessor(fs.readFileSync(WASM_FILE));
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
