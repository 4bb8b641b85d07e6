import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import { packageRoot } from '../version.js';
import { OnnxClipModel } from './clip-model.js';
import { MODEL_ALIASES, unexportedModelError } from './known-models.js';
import { fetchHubFiles, hubOptionsWithProgress, parseHubId, type HubOptions } from '../hub/hub.js';
import { modelFileNames, readModelDir, singleFileModel } from './model-dir.js';
import { TOKENIZER_FILES } from './tokenizer.js';
import type { PreprocessConfig } from './types.js';
import type { SessionOptions } from './onnx-session.js';
import type { ImageFeatures } from './towers.js';

export const BUILTIN_MODEL = 'mini';

export { MODEL_ALIASES } from './known-models.js';

export function builtinModelDir(): string {
  return path.join(packageRoot, 'models', BUILTIN_MODEL);
}

export interface ResolveOptions {
  dtype: string;
  /** a linear-probe baseline needs the image tower only */
  imageOnly?: boolean;
  hub?: HubOptions;
  /** preprocessing of a single-file .onnx image model (a directory brings its own preprocessor_config.json) */
  singleFilePreprocess?: PreprocessConfig;
  /** image features: the projected embedding (default) or the pooled features before the projection */
  features?: ImageFeatures;
}

/** `mini` | a local directory | a paper alias (ViT-B/32) | a hub id owner/name[@revision] -> a local model directory. */
export async function resolveModelDir(spec: string, opts: ResolveOptions): Promise<string> {
  if (spec === BUILTIN_MODEL) return builtinModelDir();
  if (existsSync(spec)) return path.resolve(spec);
  // a name shaped like the paper's (ViT-H/14, RN50) or open_clip's (ViT-B-32:laion2b_s34b_b79k) without a public
  // export is not a hub repository: the error names the exporter command
  const unexported = MODEL_ALIASES[spec] ? null : unexportedModelError(spec, didYouMean(spec, Object.keys(MODEL_ALIASES)));
  if (unexported) throw unexported;
  const hubSpec = MODEL_ALIASES[spec] ?? spec;
  const ref = parseHubId(hubSpec);
  if (!ref || spec.startsWith('.') || spec.startsWith('/')) {
    throw new UserError(
      `--model ${spec}: not a directory, a hub id (owner/name[@revision]) or a known model${didYouMean(spec, [BUILTIN_MODEL, ...Object.keys(MODEL_ALIASES)])} (${[BUILTIN_MODEL, ...Object.keys(MODEL_ALIASES)].join(', ')})`,
    );
  }
  const names = modelFileNames(opts.dtype);
  // a split export, else optimum's combined model.onnx
  const files = [['config.json'], ['preprocessor_config.json'], [names.vision, ...names.combined]];
  if (!opts.imageOnly) files.push([names.text, ...names.combined], TOKENIZER_FILES);
  return fetchHubFiles(ref, files, opts.hub ?? hubOptionsWithProgress());
}

/** Resolve, check and open a model (sessions open lazily, on first use). */
export async function openModel(spec: string, opts: ResolveOptions & SessionOptions): Promise<OnnxClipModel> {
  if (spec.endsWith('.onnx')) {
    if (!opts.imageOnly) throw new UserError(`--model ${spec}: a single .onnx file is an image model; it serves linear-probe, fewshot and embed, not zero-shot`);
    if (!opts.singleFilePreprocess) throw new Error('openModel: a single-file model needs its preprocessing');
    return OnnxClipModel.load(spec, singleFileModel(spec, opts.singleFilePreprocess), opts);
  }
  const dir = await resolveModelDir(spec, opts);
  const files = readModelDir(dir, opts.dtype, { imageOnly: opts.imageOnly });
  return OnnxClipModel.load(spec, files, opts);
}
