import path from 'node:path';
import { userCacheBase } from '../defaults.js';
import { packageRoot } from '../version.js';

/** `<package>/datasets`: the bundled data files (prompts.json, Fashion-MNIST). */
export function bundledDataDir(): string {
  return path.join(packageRoot, 'datasets');
}

/** $XDG_CACHE_HOME/clip-bench/datasets (else ~/.cache/clip-bench/datasets). */
export function datasetCacheDir(): string {
  return path.join(userCacheBase(), 'clip-bench', 'datasets');
}
