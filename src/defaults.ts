import os from 'node:os';

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
