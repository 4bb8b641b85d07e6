import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/helpers.js';
import { GEMM_WASM_FILE, WasmGemm } from '../../src/eval/gemm-wasm.js';
import { gemmBias, gemmTNAccumulate } from '../../src/eval/matmul.js';

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

test('wasm products equal the JavaScript kernels bit for bit (odd and even shapes)', () => {
  // every remainder of the 4-row, 4- and 2-column and 2-feature blocks
  for (const [n, d, k] of [[1, 1, 1], [7, 3, 5], [8, 4, 4], [13, 9, 43], [64, 33, 10], [101, 128, 3]] as const) {
    const r = rng(n * 1000 + d * 10 + k);
    const X = Float32Array.from({ length: n * d }, () => r() * 4);
    const W = Float64Array.from({ length: d * k }, () => r() / 3);
    const b = Float64Array.from({ length: k }, () => r());
    const G = Float64Array.from({ length: n * k }, () => r() / 7);
    const g = WasmGemm.create(X, n, d, k);
    assert.ok(g, 'wasm/gemm.wasm loads');
    g.W.set(W);
    g.b.set(b);
    g.logits();
    const Z = new Float64Array(n * k);
    gemmBias(X, n, d, W, k, b, Z);
    assert.deepEqual(Buffer.from(g.Z.slice().buffer), Buffer.from(Z.buffer), `logits ${n}x${d}x${k}`);
    g.Z.set(G);
    g.gradient();
    const gW = new Float64Array(d * k);
    gemmTNAccumulate(X, n, d, G, k, gW);
    assert.deepEqual(Buffer.from(g.gW.slice().buffer), Buffer.from(gW.buffer), `gradient ${n}x${d}x${k}`);
  }
});

test('the committed wasm/gemm.wasm is what scripts/build_wasm.sh builds from wasm/gemm.c', (t) => {
  const tools = ['clang', 'wasm-ld'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  const version = tools ? spawnSync('clang', ['--version'], { encoding: 'utf8' }).stdout : '';
  if (!/clang version 14\./.test(version)) {
    t.skip('needs clang 14 and lld (wasm-ld), as in Debian 12: other versions emit other bytes');
    return;
  }
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-wasm-')), 'gemm.wasm');
  try {
    const r = spawnSync(path.join(repoRoot, 'scripts/build_wasm.sh'), [out, 'gemm'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(GEMM_WASM_FILE)), 'wasm/gemm.wasm is stale: run scripts/build_wasm.sh "" gemm');
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
});
