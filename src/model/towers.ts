/**
 * What each tower's ONNX session is made of: the file as it is (the transformers.js layout, embeddings), or a
 * graph edited at load time (the pre-projection features of an export that only outputs embeddings; one tower
 * cut out of optimum's combined `model.onnx`). Edits happen in memory: the model files are never rewritten.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { extractTower, findProjection, readGraph, withOutput, type OnnxGraph } from './onnx-graph.js';

/** Which image features a run uses: the projected embedding, or the pooled features before the projection (I_f). */
export type ImageFeatures = 'embedding' | 'pre-projection';
export const IMAGE_FEATURES: readonly ImageFeatures[] = ['embedding', 'pre-projection'];

/** An ONNX session's source: the file, or edited bytes of it; `output`: the output to read (null: chosen by name). */
export interface TowerSource {
  file: string;
  bytes: Uint8Array | null;
  output: string | null;
}

/** Output names of the embedding, in order of preference (transformers.js / optimum, then generic). */
export const IMAGE_OUTPUTS = ['image_embeds', 'embeddings', 'pooler_output', 'output'];
export const TEXT_OUTPUTS = ['text_embeds', 'sentence_embedding', 'pooler_output', 'output'];
/** What an export that writes both calls the pooled pre-projection features (transformers' name; scripts/export_model.py writes it). */
export const POOLED_OUTPUT = 'pooler_output';

function loadGraph(file: string): OnnxGraph {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const g = readGraph(bytes, file);
  if (g.externalData) {
    throw new UserError(`${file}: its weights live in an external data file, which clip-bench cannot edit at load time; re-export it with scripts/export_model.py (it writes the pre-projection output)`);
  }
  return g;
}

function projectionOf(g: OnnxGraph, file: string, output: string) {
  const p = findProjection(g, output);
  if (!p) throw new UserError(`${file}: no projection (a MatMul/Gemm by a constant weight) found behind output '${output}'`);
  return p;
}

/** The image tower of a split export (onnx/vision_model.onnx or a single .onnx image model). */
export function splitVisionTower(file: string, features: ImageFeatures): TowerSource {
  if (features === 'embedding') return { file, bytes: null, output: null };
  const g = loadGraph(file);
  const names = g.outputs.map((o) => o.name);
  const embeds = IMAGE_OUTPUTS.find((n) => names.includes(n)) ?? names[0]!;
  // an export that writes both (scripts/export_model.py) needs no edit
  if (embeds !== POOLED_OUTPUT && names.includes(POOLED_OUTPUT)) return { file, bytes: null, output: POOLED_OUTPUT };
  const { pooled } = projectionOf(g, file, embeds);
  return { file, bytes: withOutput(g, pooled), output: pooled };
}

/**
 * The two towers of a combined graph (optimum's CLIP `model.onnx`: inputs input_ids, pixel_values, attention_mask;
 * outputs logits and L2-normalised text_embeds / image_embeds). Each tower keeps only its own nodes, and reads the
 * projection's output: the embedding before the normalisation, as the split towers output it.
 */
export function combinedTowers(file: string, features: ImageFeatures, imageOnly: boolean): { vision: TowerSource; text: TowerSource | null } {
  const g = loadGraph(file);
  const names = g.outputs.map((o) => o.name);
  for (const need of ['image_embeds', ...(imageOnly ? [] : ['text_embeds'])]) {
    if (!names.includes(need)) throw new UserError(`${file}: a combined CLIP model must output '${need}' (outputs: ${names.join(', ')})`);
  }
  const image = projectionOf(g, file, 'image_embeds');
  const visionOut = features === 'embedding' ? image.projected : image.pooled;
  const vision = extractTower(g, [visionOut]);
  if (vision.inputs.length !== 1) {
    throw new UserError(`${file}: the image tower reads ${vision.inputs.join(', ')}, expected pixel values alone`);
  }
  let text: TowerSource | null = null;
  if (!imageOnly) {
    const textOut = projectionOf(g, file, 'text_embeds').projected;
    text = { file, bytes: extractTower(g, [textOut]).bytes, output: textOut };
  }
  return { vision: { file, bytes: vision.bytes, output: visionOut }, text };
}
