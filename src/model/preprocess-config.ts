import { UserError } from '../errors.js';
import type { PreprocessConfig } from './types.js';

export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
const BICUBIC = 3;

/** OpenAI CLIP's `_transform(n)`: Resize(n, bicubic), CenterCrop(n), ToTensor, Normalize(CLIP mean/std). */
export function preprocessConfigForSize(n: number): PreprocessConfig {
  if (!Number.isInteger(n) || n < 1) throw new UserError(`image size must be a positive integer, got ${n}`);
  return { shortestEdge: n, cropSize: n, resample: BICUBIC, rescaleFactor: 1 / 255, mean: [...CLIP_MEAN], std: [...CLIP_STD] };
}

/**
 * Normalise a Hugging Face `preprocessor_config.json` (CLIPImageProcessor / CLIPFeatureExtractor);
 * absent fields take CLIPImageProcessor's defaults.
 */
export function parsePreprocessorConfig(json: unknown, file: string): PreprocessConfig {
  const bad = (what: string): never => {
    throw new UserError(`${file}: ${what}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('not a JSON object');
  const j = json as Record<string, unknown>;

  const posInt = (v: unknown, key: string): number =>
    typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : bad(`${key} must be a positive integer, got ${JSON.stringify(v)}`);
  const bool = (key: string, dflt: boolean): boolean => {
    const v = j[key];
    if (v === undefined || v === null) return dflt;
    return typeof v === 'boolean' ? v : bad(`${key} must be true or false, got ${JSON.stringify(v)}`);
  };
  const triple = (key: string, dflt: [number, number, number]): [number, number, number] => {
    const v = j[key];
    if (v === undefined || v === null) return [...dflt];
    const arr = typeof v === 'number' ? [v, v, v] : v;
    if (!Array.isArray(arr) || arr.length !== 3 || !arr.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      return bad(`${key} must be 3 numbers, got ${JSON.stringify(v)}`);
    }
    return arr as [number, number, number];
  };

  let shortestEdge = 224;
  const size = j.size;
  if (typeof size === 'number') shortestEdge = posInt(size, 'size');
  else if (typeof size === 'object' && size !== null) {
    const s = size as Record<string, unknown>;
    if (s.shortest_edge !== undefined) shortestEdge = posInt(s.shortest_edge, 'size.shortest_edge');
    else bad(`size ${JSON.stringify(size)} is not supported (need a number or {shortest_edge})`);
  } else if (size !== undefined && size !== null) bad(`size must be a number or {shortest_edge}, got ${JSON.stringify(size)}`);

  let cropSize = 224;
  const crop = j.crop_size;
  if (typeof crop === 'number') cropSize = posInt(crop, 'crop_size');
  else if (typeof crop === 'object' && crop !== null) {
    const c = crop as Record<string, unknown>;
    const h = posInt(c.height, 'crop_size.height');
    const w = posInt(c.width, 'crop_size.width');
    if (h !== w) bad(`crop_size must be square, got ${h}x${w}`);
    cropSize = h;
  } else if (crop !== undefined && crop !== null) bad(`crop_size must be a number or {height,width}, got ${JSON.stringify(crop)}`);

  const resample = j.resample ?? BICUBIC;
  // PIL codes: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming
  if (typeof resample !== 'number' || !Number.isInteger(resample) || resample < 0 || resample > 5) {
    bad(`resample must be a PIL resampling code 0..5, got ${JSON.stringify(resample)}`);
  }

  let rescaleFactor = 1;
  if (bool('do_rescale', true)) {
    const f = j.rescale_factor ?? 1 / 255;
    rescaleFactor = typeof f === 'number' && Number.isFinite(f) && f > 0 ? f : bad(`rescale_factor must be a positive number, got ${JSON.stringify(f)}`);
  }

  let mean: [number, number, number] = [0, 0, 0];
  let std: [number, number, number] = [1, 1, 1];
  if (bool('do_normalize', true)) {
    mean = triple('image_mean', CLIP_MEAN);
    std = triple('image_std', CLIP_STD);
    if (std.some((s) => s <= 0)) bad(`image_std must be positive, got ${JSON.stringify(std)}`);
  }

  return {
    shortestEdge: bool('do_resize', true) ? shortestEdge : 0,
    cropSize: bool('do_center_crop', true) ? cropSize : 0,
    resample: resample as number,
    rescaleFactor,
    mean,
    std,
  };
}

/** Side of the square tensor the image tower takes: the crop, or (without a crop) the resized shorter side. */
export function modelInputSize(cfg: PreprocessConfig): number {
  return cfg.cropSize || cfg.shortestEdge;
}
