/** A decoded image: interleaved (HWC) 8-bit samples, as the file stores them (no colour conversion yet). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 = L (grey), 2 = LA, 3 = RGB, 4 = RGBA */
  channels: 1 | 2 | 3 | 4;
  /** true for palette images: PIL resizes those with NEAREST */
  palette?: boolean;
  /**
   * PIL modes the channel count does not tell apart. 'CMYK': 4 channels, resized as they are (not premultiplied) and
   * converted to RGB afterwards with PIL's formula. 'I': 16-bit grey that PIL holds as 32-bit integers; `data` holds
   * the samples as native-endian uint16 (2 bytes each), resized in double precision and clipped to 0..255 only by
   * convert('RGB').
   */
  mode?: 'CMYK' | 'I';
}

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

/** A CLIP model: two encoders with a shared embedding space. Embeddings are row-major [n, dim]. */
export interface ClipModel {
  /** display name, e.g. `mini` or `Xenova/clip-vit-base-patch32` */
  name: string;
  /** content hash of the ONNX files + dtype + execution provider class: the cache key's model part */
  identity: string;
  /** ONNX variant (fp32, fp16, q8, ...) and execution provider: parts of the cache key */
  dtype: string;
  provider: 'cpu' | 'cuda';
  /** CPU cores its image inference keeps busy (onnxruntime's intra-op threads; 1 on a GPU): the rest can preprocess */
  inferenceCores: number;
  preprocess: PreprocessConfig;
  /** pixels: float32 [n, 3, S, S] as produced by preprocess() */
  encodeImages(pixels: Float32Array, n: number): Promise<Float32Array>;
  /** the image embedding width (opens the image tower) */
  imageDim(): Promise<number>;
  /** text embeddings [texts.length, dim] */
  encodeTexts(texts: string[]): Promise<{ embeddings: Float32Array; dim: number }>;
  close(): Promise<void>;
}
