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
  /** images per inference batch on the CPU */
  batchSize: 32,
  /** images per inference batch on an accelerator (--device webgpu, cuda, ...): fewer, larger launches */
  deviceBatchSize: 128,
  /** texts per text-encoder batch (prompt ensembles are embedded in batches of this many) */
  textBatch: 256,
  /** onnxruntime intra-op threads: all cores */
  threads: os.availableParallelism(),
  seed: 0,
  /** zero-shot: the prompt modes compared (the paper's 3.1.4) */
  prompts: 'contextless,single,ensemble',
  /** few-shot (the command and the suite): labelled images per class, the paper's Figure 6 (whose 0 is zero-shot) */
  shots: '1,2,4,8,16',
  /** few-shot: samples per shot count */
  seeds: 5,
  /** few-shot: C for 1 shot, where there is nothing to cross-validate on */
  oneShotC: 1,
  /** linear probe: fraction of train held out for choosing C when a dataset has no validation split */
  valFraction: 0.2,
  /** embedding cache: rows per chunk file (the unit of resumption) */
  cacheChunkSize: 1024,
  /** embedding cache: a chunk claim (sharded runs) not heartbeated for this long is taken over */
  cacheClaimStaleMs: 2 * 60_000,
  /** embedding cache: how often a writer heartbeats its chunk claims and lock */
  cacheClaimHeartbeatMs: 15_000,
} as const;

/**
 * Every environment variable clip-bench reads, and what it does. Read only through the functions below (or
 * `hubEnv`), so that this list stays complete.
 */
export const ENV_VARS = {
  XDG_CACHE_HOME: 'base of every default cache location (embeddings, datasets, the Hugging Face hub) when absolute; else ~/.cache',
  HOME: 'home directory, for ~/.cache when XDG_CACHE_HOME is not set',
  CLIP_BENCH_DATASET_MIRROR: 'base URL serving <base>/<dataset>/<file>, replacing the publishers\' URLs of the downloadable datasets',
  CLIP_BENCH_PROGRESS_SECONDS: 'seconds between progress lines when stderr is not a terminal (CI and Slurm logs); default 10',
  CLIP_BENCH_PREPROCESS_WORKERS: 'preprocessing worker threads of the embedding pipeline (0: the main thread); default: the cores onnxruntime\'s threads leave free',
  CLIP_BENCH_RESAMPLER: 'js: preprocess with the JavaScript reference instead of WebAssembly (same output, slower)',
  CLIP_BENCH_SHARDS: 'N for --shard auto in a Kubernetes Indexed Job (the Job\'s completions), unless --shard-count is given',
  SLURM_ARRAY_TASK_ID: '--shard auto: this Slurm array task\'s ID, placed among the array\'s IDs by SLURM_ARRAY_TASK_MIN, _STEP and _COUNT',
  JOB_COMPLETION_INDEX: '--shard auto: this Kubernetes Indexed Job pod\'s index (0-based)',
  CLIP_BENCH_TURBOJPEG: 'off: decode JPEG through sharp only; a path: the libturbojpeg library to call (default: the system\'s libturbojpeg.so.0 / .dylib, if any)',
  HF_ENDPOINT: 'the Hugging Face hub (default https://huggingface.co), for models and dataset packages',
  HF_HOME: 'Hugging Face home; the hub cache is $HF_HOME/hub unless HF_HUB_CACHE is set',
  HF_HUB_CACHE: 'the Hugging Face hub cache (shared with huggingface_hub)',
  HF_HUB_OFFLINE: '1/true/yes/on: use the hub cache only, never the network',
  HF_TOKEN: 'a token sent to the hub host only (never to redirect targets)',
  HF_HUB_DOWNLOAD_TIMEOUT: 'seconds a hub download may wait for an answer or its next bytes before that attempt fails (huggingface_hub\'s meaning; default 10)',
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

/** $CLIP_BENCH_DATASET_MIRROR without trailing slashes, or undefined when unset/blank. */
export function datasetMirror(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const m = env.CLIP_BENCH_DATASET_MIRROR?.trim();
  return m ? m.replace(/\/+$/, '') : undefined;
}

/** $CLIP_BENCH_RESAMPLER=js: the JavaScript preprocessing path instead of WebAssembly. */
export function resamplerIsJs(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CLIP_BENCH_RESAMPLER === 'js';
}

/** $CLIP_BENCH_TURBOJPEG: 'off', a library path, or undefined (look for the system's). */
export function turbojpegSetting(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.CLIP_BENCH_TURBOJPEG?.trim() || undefined;
}

/** $CLIP_BENCH_PREPROCESS_WORKERS when it is a non-negative integer, else undefined (the default by core count). */
export function preprocessWorkersOverride(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.CLIP_BENCH_PREPROCESS_WORKERS;
  if (v === undefined || v === '' || !Number.isInteger(Number(v)) || Number(v) < 0) return undefined;
  return Number(v);
}

/** The Hugging Face hub settings, with huggingface_hub's precedence (HF_HUB_CACHE, else $HF_HOME/hub, else <cache>/huggingface/hub). */
export function hubEnv(env: NodeJS.ProcessEnv = process.env): { endpoint: string; cacheDir: string; offline: boolean; token?: string } {
  const home = env.HF_HOME ?? path.join(userCacheBase(env), 'huggingface');
  return {
    endpoint: (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''),
    cacheDir: env.HF_HUB_CACHE ?? path.join(home, 'hub'),
    offline: ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase()),
    token: env.HF_TOKEN || undefined,
  };
}

/**
 * $HF_HUB_DOWNLOAD_TIMEOUT as huggingface_hub reads it: whole seconds a download waits for the server's answer or its
 * next bytes (requests' connect/read timeout, not a limit on the whole file); unset, empty or 0: the default 10.
 */
export function hubDownloadTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.HF_HUB_DOWNLOAD_TIMEOUT?.trim();
  if (!v) return 10_000;
  if (!/^\d+$/.test(v)) throw new UserError(`HF_HUB_DOWNLOAD_TIMEOUT: expected whole seconds, found ${JSON.stringify(v.slice(0, 20))}`);
  return (Number(v) || 10) * 1000;
}
