import os from 'node:os';
import path from 'node:path';
import { UserError } from './errors.js';

/** The one place that decides defaults; commands read them from here. */
export const DEFAULTS = {
  model: 'mini',
  dtype: 'fp32',
  device: 'cpu',
  dataset: 'fashion-mnist',
  split: 'test',
  outDir: 'results',
  /** images per inference batch */
  batchSize: 32,
  /** onnxruntime intra-op threads: all cores */
  threads: os.availableParallelism(),
  seed: 0,
} as const;

/**
 * The per-user cache folder every default location lives under (embeddings, datasets, the Hugging Face hub):
 * $XDG_CACHE_HOME when it is absolute (the XDG spec says to ignore a relative one), else ~/.cache.
 */
export function userCacheBase(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return xdg;
  const home = env.HOME || os.homedir();
  if (!home) throw new UserError('cannot find a cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir');
  return path.join(home, '.cache');
}
