import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../version.js';

/** `<package>/datasets`: the bundled data files (prompts.json, Fashion-MNIST). */
export function bundledDataDir(): string {
  return path.join(packageRoot, 'datasets');
}

/** $XDG_CACHE_HOME/clip-bench/datasets (else ~/.cache/clip-bench/datasets). */
export function datasetCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'clip-bench', 'datasets');
}
