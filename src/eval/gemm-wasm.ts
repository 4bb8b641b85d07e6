/**
 * The logistic-regression data term's two matrix products in WebAssembly SIMD (wasm/gemm.c, built by
 * scripts/build_wasm.sh and committed as wasm/gemm.wasm): bit for bit the float64 results of gemmBias and
 * gemmTNAccumulate (matmul.ts), about 4x to 6x faster (README, Performance). One instance per fit holds the
 * features (as float64, row-major and transposed) for all of the fit's evaluations.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../version.js';

export const GEMM_WASM_FILE = path.join(packageRoot, 'wasm/gemm.wasm');

interface Exports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  logits(X: number, n: number, d: number, W: number, k: number, b: number, Z: number): void;
  gradient(XT: number, n: number, d: number, G: number, k: number, gW: number): void;
}

/** Features above this many bytes in wasm memory use the JavaScript kernels. */
const MAX_BYTES = 1 << 30;

let compiled: WebAssembly.Module | null | undefined;

function gemmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(fs.readFileSync(GEMM_WASM_FILE));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** One fit's matrices in wasm memory: W, b and Z are written by the caller, gW read back. */
export class WasmGemm {
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly Z: Float64Array;
  readonly gW: Float64Array;
  private constructor(
    private readonly x: Exports,
    private readonly n: number,
    private readonly d: number,
    private readonly k: number,
    private readonly at: { X: number; XT: number; W: number; b: number; Z: number; gW: number },
  ) {
    const buf = x.memory.buffer;
    this.W = new Float64Array(buf, at.W, d * k);
    this.b = new Float64Array(buf, at.b, k);
    this.Z = new Float64Array(buf, at.Z, n * k);
    this.gW = new Float64Array(buf, at.gW, d * k);
  }

  /** Kernels for X [n, d], or null where WebAssembly SIMD or the module is unavailable or X too large. */
  static create(X: Float32Array, n: number, d: number, k: number): WasmGemm | null {
    const mod = gemmModule();
    if (!mod) return null;
    const x = new WebAssembly.Instance(mod, {}).exports as unknown as Exports;
    let top = (Number(x.__heap_base.value) + 15) & ~15;
    const place = (doubles: number): number => {
      const p = top;
      top += (doubles * 8 + 15) & ~15;
      return p;
    };
    const at = { X: place(n * d), XT: place(n * d), W: place(d * k), b: place(k), Z: place(n * k), gW: place(d * k) };
    if (top > MAX_BYTES) return null;
    const mem = x.memory;
    if (top > mem.buffer.byteLength) mem.grow(Math.ceil((top - mem.buffer.byteLength) / 65536));
    const rows = new Float64Array(mem.buffer, at.X, n * d);
    const cols = new Float64Array(mem.buffer, at.XT, n * d);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < d; p++) {
        const v = X[i * d + p]!;
        rows[i * d + p] = v;
        cols[p * n + i] = v;
      }
    }
    return new WasmGemm(x, n, d, k, at);
  }

  /** Z = X·W + b. */
  logits(): void {
    this.x.logits(this.at.X, this.n, this.d, this.at.W, this.k, this.at.b, this.at.Z);
  }

  /** gW = Xᵀ·Z (Z holding the gradient of the loss wrt the logits). */
  gradient(): void {
    this.gW.fill(0);
    this.x.gradient(this.at.XT, this.n, this.d, this.at.Z, this.k, this.at.gW);
  }
}
