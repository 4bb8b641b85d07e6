import fs from 'node:fs';
import os from 'node:os';

/**
 * Which machine computed something: onnxruntime's CPU kernels pick code paths by instruction set, so embeddings
 * computed on different CPUs may differ in the last bits. Recorded per cache chunk.
 */
export interface HostInfo {
  host: string;
  /** the CPU model name */
  cpu: string;
  arch: string;
  /** the SIMD extensions onnxruntime's kernels dispatch on, as /proc/cpuinfo names them (Linux; empty elsewhere) */
  isa: string[];
}

const ISA_FLAGS = [
  'sse4_1', 'sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16',
  'avx_vnni', 'amx_tile', 'amx_bf16', 'amx_int8', 'asimd', 'asimddp', 'sve', 'sve2', 'i8mm', 'bf16',
];

let cached: HostInfo | undefined;

export function hostInfo(): HostInfo {
  if (cached) return cached;
  let isa: string[] = [];
  try {
    const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(text);
    const have = new Set((line?.[1] ?? '').split(/\s+/));
    isa = ISA_FLAGS.filter((f) => have.has(f));
  } catch {
    /* not Linux */
  }
  cached = { host: os.hostname(), cpu: os.cpus()[0]?.model?.trim() ?? 'unknown', arch: os.arch(), isa };
  return cached;
}
