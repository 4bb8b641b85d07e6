import { createHash } from 'node:crypto';
import path from 'node:path';
import { userCacheBase } from '../defaults.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../model/device.js';

/** Which rows of a split were embedded: null = all of them. */
export interface CacheSubset {
  limit: number;
  seed: number;
}

/**
 * Everything that determines an embedding matrix. Its canonical JSON is hashed: changing any field is a miss.
 * A human-readable model name is NOT part of the key (see {@link EntryLabel}).
 */
export interface CacheKey {
  tool: 'clip-bench';
  /** content hash of the ONNX files */
  modelIdentity: string;
  dtype: string;
  provider: ExecutionProvider;
  /** the preprocessing config: hashed canonically (key order does not matter) */
  preprocess: Record<string, unknown>;
  dataset: string;
  datasetFingerprint: string;
  split: string;
  subset: CacheSubset | null;
  kind: 'image' | 'text';
  /** text entries only: {@link hashTexts} of the embedded texts, in order */
  textsHash?: string;
}

/** Human-readable metadata stored beside the key, not hashed. */
export interface EntryLabel {
  modelName?: string;
}

/** A key with its label: what {@link openWriter} takes. */
export interface EntryRef {
  key: CacheKey;
  label?: EntryLabel;
}

/** JSON with object keys sorted recursively, no whitespace. Rejects values JSON cannot round-trip. */
export function canonicalJson(value: unknown): string {
  return canon(value, '$');
}

function canon(v: unknown, where: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`cache key: ${where} is not a finite number (${v})`);
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return '[' + v.map((x, i) => canon(x ?? null, `${where}[${i}]`)).join(',') + ']';
      if (ArrayBuffer.isView(v)) return canon(Array.from(v as unknown as ArrayLike<number>), where);
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + canon(o[k], `${where}.${k}`)).join(',') + '}';
    }
    default:
      throw new Error(`cache key: ${where} has unsupported type ${typeof v}`);
  }
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** Checks the key's shape (programming errors, not user errors). */
export function validateKey(key: CacheKey): void {
  if (!key || typeof key !== 'object') throw new Error('cache key: not an object');
  if (key.tool !== 'clip-bench') throw new Error(`cache key: tool must be 'clip-bench'`);
  for (const f of ['modelIdentity', 'dtype', 'dataset', 'datasetFingerprint', 'split'] as const) {
    if (typeof key[f] !== 'string' || key[f] === '') throw new Error(`cache key: ${f} must be a non-empty string`);
  }
  if (!EXECUTION_PROVIDERS.includes(key.provider)) throw new Error(`cache key: provider must be one of ${EXECUTION_PROVIDERS.join(', ')}`);
  if (!key.preprocess || typeof key.preprocess !== 'object') throw new Error('cache key: preprocess must be an object');
  if (key.subset !== null && (typeof key.subset !== 'object' || !Number.isInteger(key.subset.limit) || !Number.isFinite(key.subset.seed)))
    throw new Error('cache key: subset must be null or { limit, seed }');
  if (key.kind !== 'image' && key.kind !== 'text') throw new Error(`cache key: kind must be 'image' or 'text'`);
  if (key.kind === 'text' && (typeof key.textsHash !== 'string' || key.textsHash === ''))
    throw new Error('cache key: text entries need textsHash');
}

/** sha256 (hex) of the key's canonical JSON. */
export function cacheKeyHash(key: CacheKey): string {
  validateKey(key);
  return sha256Hex(canonicalJson(key));
}

/** sha256 (hex) of the canonical JSON of the texts list (order matters). */
export function hashTexts(texts: readonly string[]): string {
  return sha256Hex(canonicalJson(texts));
}

/** `<cacheDir>/<first 2 hex>/<hash>` */
export function entryDirForHash(cacheDir: string, hash: string): string {
  return path.join(cacheDir, hash.slice(0, 2), hash);
}

/** The entry directory of a key: `<cacheDir>/<first 2 hex>/<hash>`. */
export function entryDir(cacheDir: string, key: CacheKey): string {
  return entryDirForHash(cacheDir, cacheKeyHash(key));
}

/** `$XDG_CACHE_HOME/clip-bench/embeddings`, else `~/.cache/clip-bench/embeddings`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userCacheBase(env), 'clip-bench', 'embeddings');
}

/** Accepts a bare key or { key, label }. */
export function toEntryRef(k: CacheKey | EntryRef): EntryRef {
  return 'tool' in k ? { key: k } : k;
}
