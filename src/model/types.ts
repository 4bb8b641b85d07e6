/** What `preprocessor_config.json` says, normalised (transformers' CLIPImageProcessor fields). */
export interface PreprocessConfig {
  /** resize the shorter side to this many pixels (0 = no resize) */
  shortestEdge: number;
  /** center crop to cropSize x cropSize (0 = no crop) */
  cropSize: number;
  /** PIL resample code: 0 nearest, 2 bilinear, 3 bicubic */
  resample: number;
  rescaleFactor: number;
  mean: [number, number, number];
  std: [number, number, number];
}

import type { ExecutionProvider } from './device.js';

/** A CLIP model: two encoders with a shared embedding space. Embeddings are row-major [n, dim]. */
export interface ClipModel {
  /** display name, e.g. `mini` or `Xenova/clip-vit-base-patch32` */
  name: string;
  /** content hash of the ONNX files + dtype + execution provider class: the cache key's model part */
  identity: string;
  /** ONNX variant (fp32, fp16, q8, ...) and execution provider: parts of the cache key */
  dtype: string;
  provider: ExecutionProvider;
  /** CPU cores its image inference keeps busy (onnxruntime's intra-op threads; 1 on a GPU): the rest can preprocess */
  inferenceCores: number;
  preprocess: PreprocessConfig;
  /** pixels: float32 [n, 3, S, S] as produced by preprocess() */
  encodeImages(pixels: Float32Array, n: number): Promise<Float32Array>;
  /** the image embedding width (opens the image tower) */
  imageDim(): Promise<number>;
  /** text embeddings [texts.length, dim] */
  encodeTexts(texts: string[], onBatch?: (done: number) => void): Promise<{ embeddings: Float32Array; dim: number }>;
  close(): Promise<void>;
}
