import { Command, Option } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { parseDevice } from '../model/onnx-session.js';
import { openModel } from '../model/resolve.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import { UserError } from '../errors.js';

export interface ModelFlags {
  model: string;
  dtype: string;
  device: string;
  threads: number;
}

/** --model/--dtype/--device/--threads, shared by every command that runs a model. */
export function addModelOptions(cmd: Command, opts: { multiple?: boolean } = {}): Command {
  return cmd
    .option(
      '--model <model>',
      `${opts.multiple ? 'comma-separated models: each ' : ''}'mini' (built in), a model directory, a hub id owner/name[@rev], or ViT-B/32, ViT-B/16, ViT-L/14, ViT-L/14@336px`,
      DEFAULTS.model,
    )
    .option('--dtype <dtype>', 'ONNX variant: fp32, fp16, q8 (quantized), int8, uint8, q4, q4f16, bnb4', DEFAULTS.dtype)
    .option('--device <device>', 'execution provider: cpu or cuda', DEFAULTS.device)
    .addOption(new Option('--threads <n>', 'onnxruntime intra-op threads').default(DEFAULTS.threads).argParser(positiveInt('--threads')));
}

export function positiveInt(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} ${v}: expected a positive integer`);
    return n;
  };
}

export function openModelFromFlags(spec: string, f: ModelFlags, imageOnly = false): Promise<OnnxClipModel> {
  return openModel(spec, { dtype: f.dtype, device: parseDevice(f.device), threads: f.threads, imageOnly });
}

/** Split a comma-separated flag value, dropping empty entries. */
export function splitList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}
