/**
 * CLIP image preprocessing that reproduces OpenAI clip.py's torchvision-on-PIL transform bit for bit
 * (torchvision 0.14, Pillow 9.4): Resize(n) with Pillow's 8-bit fixed-point separable resampler (see
 * libImaging/Resample.c), CenterCrop(n), convert('RGB'), ToTensor, Normalize.
 *
 * Two implementations give identical output: WebAssembly SIMD (src/model/preprocess-wasm.ts, used when it
 * loads) and the JavaScript reference (src/model/preprocess-js.ts, the fallback; CLIP_BENCH_RESAMPLER=js
 * selects it).
 */
import { resamplerIsJs } from '../defaults.js';
import { preprocessJs } from './preprocess-js.js';
import { planFor, resizedSize } from './preprocess-plan.js';
import { resizeInt32ToL } from './resample-int32.js';
import { wasmPreprocessor } from './preprocess-wasm.js';
import type { PreprocessConfig } from './types.js';
import type { RawImage } from '../image/types.js';

export type Resampler = 'wasm' | 'js';

/** The implementation preprocess() uses in this thread. */
export function activeResampler(): Resampler {
  return !resamplerIsJs() && wasmPreprocessor() ? 'wasm' : 'js';
}

/**
 * Preprocess one image into float32 CHW [3, crop, crop] at out[offset..] (allocated when `out` is
 * omitted). With cropSize 0 the output is [3, H, W] of the resized image. `using` picks an implementation.
 */
export function preprocess(img: RawImage, cfg: PreprocessConfig, out?: Float32Array, offset = 0, using = activeResampler()): Float32Array {
  // PIL mode I (16-bit grey): resized as 32-bit integers and clipped to 8 bits only afterwards
  if (img.mode === 'I') img = resizeInt32ToL(img, ...resizedSize(img.width, img.height, cfg.shortestEdge), cfg.resample);
  const plan = planFor(img, cfg);
  const len = 3 * plan.cw * plan.ch;
  out ??= new Float32Array(offset + len);
  if (offset < 0 || offset + len > out.length) throw new RangeError(`output buffer too small for 3x${plan.ch}x${plan.cw} at ${offset}`);
  // CMYK (rare: PIL's own conversion after the resize) is the JavaScript path's alone
  const wasm = using === 'wasm' && !plan.cmyk ? wasmPreprocessor() : null;
  if (!wasm?.run(img.data, plan, cfg, out, offset)) preprocessJs(img.data, plan, cfg, out, offset);
  return out;
}
