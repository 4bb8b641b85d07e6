import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { parsePreprocessorConfig } from './preprocess-config.js';
import { TOKENIZER_FILES } from './tokenizer.js';
import type { PreprocessConfig } from './types.js';

/** ONNX file suffix per --dtype, as in transformers.js exports (onnx/vision_model_quantized.onnx, ...). */
export const DTYPE_SUFFIX: Record<string, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  quantized: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** A model directory in the Hugging Face / transformers.js CLIP layout, with its files located. */
export interface ModelFiles {
  dir: string;
  dtype: string;
  visionOnnx: string;
  /** null for an image-only model (a linear-probe baseline) */
  textOnnx: string | null;
  preprocess: PreprocessConfig;
  /** tokenizer.json or bpe_simple_vocab_16e6.txt.gz; null for an image-only model */
  tokenizerFile: string | null;
  /** 'split': one file per tower; 'combined': optimum's one `model.onnx` (visionOnnx = textOnnx = that file) */
  layout: 'split' | 'combined';
}

export function dtypeSuffix(dtype: string): string {
  const suffix = DTYPE_SUFFIX[dtype];
  if (suffix === undefined) {
    throw new UserError(`--dtype ${dtype}: unknown dtype (one of ${Object.keys(DTYPE_SUFFIX).join(', ')})`);
  }
  return suffix;
}

/** The files of a model directory that the tool needs, for the given dtype. */
export function modelFileNames(dtype: string): { vision: string; text: string; combined: string[] } {
  const s = dtypeSuffix(dtype);
  // optimum writes model.onnx at the top; a transformers.js-style repository keeps it under onnx/
  return { vision: `onnx/vision_model${s}.onnx`, text: `onnx/text_model${s}.onnx`, combined: [`model${s}.onnx`, `onnx/model${s}.onnx`] };
}


/** Locate and check a model directory's files; a missing or unreadable file is a UserError naming it. */
export function readModelDir(dir: string, dtype: string, opts: { imageOnly?: boolean } = {}): ModelFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`model directory not found: ${dir}`);
  const names = modelFileNames(dtype);
  let visionOnnx = path.join(dir, names.vision);
  let textPath = path.join(dir, names.text);
  let layout: ModelFiles['layout'] = 'split';
  if (!existsSync(visionOnnx)) {
    const combined = names.combined.map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (!combined) throw new UserError(`model file missing: ${visionOnnx} (for --dtype ${dtype}; nor is there a combined ${names.combined.join(' or ')})`);
    visionOnnx = textPath = combined;
    layout = 'combined';
  }
  const ppFile = path.join(dir, 'preprocessor_config.json');
  if (!existsSync(ppFile)) throw new UserError(`model file missing: ${ppFile}`);
  const preprocess = parsePreprocessorConfig(readJson(ppFile), ppFile);
  // config.json is optional (it gives the GFLOPs of Figure 9), but a broken one is reported, not ignored
  const configFile = path.join(dir, 'config.json');
  if (existsSync(configFile)) {
    const config = readJson(configFile);
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new UserError(`${configFile}: not a JSON object`);
  }

  const tokenizerFile = TOKENIZER_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f)) ?? null;
  if (opts.imageOnly) {
    return { dir, dtype, visionOnnx, textOnnx: existsSync(textPath) ? textPath : null, preprocess, tokenizerFile, layout };
  }
  if (!existsSync(textPath)) throw new UserError(`model file missing: ${textPath} (for --dtype ${dtype})`);
  if (!tokenizerFile) throw new UserError(`model file missing: ${path.join(dir, 'tokenizer.json')} (or bpe_simple_vocab_16e6.txt.gz)`);
  return { dir, dtype, visionOnnx, textOnnx: textPath, preprocess, tokenizerFile, layout };
}

/**
 * A single ONNX image model (e.g. a ResNet-50 export for the paper's "linear probe on ResNet-50 features"): its
 * preprocessing comes from flags, since no preprocessor_config.json travels with it.
 */
export function singleFileModel(file: string, preprocess: PreprocessConfig): ModelFiles {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UserError(`model file not found: ${file}`);
  return { dir: path.dirname(file), dtype: 'fp32', visionOnnx: path.resolve(file), textOnnx: null, preprocess, tokenizerFile: null, layout: 'split' };
}

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}
