import { Command, Option } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { deviceFlagHelp, openDevice, parseDevice } from '../model/device.js';
import { openModel } from '../model/resolve.js';
import { IMAGE_FEATURES, type ImageFeatures } from '../model/towers.js';
import { preprocessConfigForSize } from '../model/preprocess-config.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import { UserError } from '../errors.js';
import { expandDatasets } from '../data/suites.js';

export interface ModelFlags {
  model: string;
  dtype: string;
  device: string;
  threads: number;
  imageSize: number;
  imageMean?: [number, number, number];
  imageStd?: [number, number, number];
  /** image features (embed, linear-probe, fewshot, suite); zero-shot always uses the embedding */
  features?: ImageFeatures;
}

/**
 * --features embedding|pre-projection: the projected embedding, or the pooled features before the final projection
 * (the paper's I_f, Appendix A.3). The feature transform it once named is --transform.
 */
export function addFeaturesOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--features <kind>', "image features: embedding (the projected image embedding) or pre-projection (the pooled features before the projection, the paper's linear-probe features)")
      .default('embedding')
      .argParser((v: string): ImageFeatures => {
        if ((IMAGE_FEATURES as readonly string[]).includes(v)) return v as ImageFeatures;
        if (['none', 'standardize', 'l2'].includes(v)) throw new UserError(`--features ${v}: the feature transform is --transform ${v} now; --features chooses ${IMAGE_FEATURES.join(' or ')}`);
        throw new UserError(`--features ${v}: expected ${IMAGE_FEATURES.join(' or ')}`);
      }),
  );
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
    .addOption(
      new Option('--device <device>', `where the towers and the probe solver run: ${deviceFlagHelp()} (auto: the first accelerator that works, else the CPU)`)
        .default(DEFAULTS.device)
        .argParser((v) => (parseDevice(v), v)),
    )
    .addOption(new Option('--threads <n>', 'onnxruntime intra-op threads').default(DEFAULTS.threads).argParser(positiveInt('--threads')))
    .addOption(new Option('--image-size <n>', 'a single .onnx image model: input size (bicubic resize of the shorter side, center crop)').default(224).argParser(positiveInt('--image-size')))
    .addOption(new Option('--image-mean <r,g,b>', "a single .onnx image model: normalisation mean (default CLIP's)").argParser(triple('--image-mean')))
    .addOption(new Option('--image-std <r,g,b>', "a single .onnx image model: normalisation std (default CLIP's)").argParser(triple('--image-std', true)));
}

function triple(flag: string, positive = false): (v: string) => [number, number, number] {
  return (v: string) => {
    const t = v.split(',').map((x) => (x.trim() === '' ? Number.NaN : Number(x)));
    if (t.length !== 3 || !t.every(Number.isFinite)) throw new UserError(`${flag} ${v}: expected three comma-separated numbers`);
    // a zero std divides every pixel by zero: every embedding would be NaN
    if (positive && !t.every((x) => x > 0)) throw new UserError(`${flag} ${v}: expected three positive numbers`);
    return t as [number, number, number];
  };
}

/** A number flag in (min, max) (exclusive; max optional); the message quotes what was typed, never "NaN". */
export function numberIn(flag: string, min: number, max = Infinity): (v: string) => number {
  return (v: string) => {
    const n = v.trim() === '' ? Number.NaN : Number(v);
    if (!(n > min && n < max)) {
      throw new UserError(`${flag} ${v}: expected a number ${max === Infinity ? `greater than ${min}` : `between ${min} and ${max}`}`);
    }
    return n;
  };
}

export function positiveInt(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} ${v}: expected a positive integer`);
    return n;
  };
}

export async function openModelFromFlags(spec: string, f: ModelFlags, imageOnly = false, features: ImageFeatures = f.features ?? 'embedding'): Promise<OnnxClipModel> {
  const base = preprocessConfigForSize(f.imageSize);
  const singleFilePreprocess = { ...base, mean: f.imageMean ?? base.mean, std: f.imageStd ?? base.std };
  const device = await openDevice(parseDevice(f.device));
  return openModel(spec, { dtype: f.dtype, device, threads: f.threads, imageOnly, singleFilePreprocess, features });
}

/** Split a comma-separated flag value, dropping empty entries. */
export function splitList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** splitList for --model: a model given twice would run twice and give duplicate rows (datasets are deduplicated, see expandDatasets). */
export function splitUniqueList(flag: string, v: string): string[] {
  const items = splitList(v);
  const twice = items.find((x, i) => items.indexOf(x) !== i);
  if (twice !== undefined) throw new UserError(`${flag} ${v}: ${twice} is listed twice`);
  if (items.length === 0) throw new UserError(`${flag}: expected at least one name`);
  return items;
}

/**
 * Run `fn` for every model x dataset of `--model a,b --dataset x,y` (the cartesian product; `--dataset` may name suites:
 * @paper27, @kornblith12, @FILE), each model opened
 * once and closed afterwards.
 */
export async function forEachModelAndDataset(
  f: ModelFlags & { dataset: string },
  need: { features: ImageFeatures; text: boolean },
  fn: (model: OnnxClipModel, modelSpec: string, dataset: string) => Promise<void>,
): Promise<void> {
  const models = splitUniqueList('--model', f.model);
  const datasets = expandDatasets(f.dataset);
  for (const modelSpec of models) {
    const model = await openModelFromFlags(modelSpec, f, !need.text, need.features);
    try {
      for (const dataset of datasets) await fn(model, modelSpec, dataset);
    } finally {
      await model.close();
    }
  }
}
