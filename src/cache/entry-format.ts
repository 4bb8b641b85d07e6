/** The on-disk format of a cache entry, shared by its reader, its writer and the management commands. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../util/fs.js';
import type { CacheKey, EntryLabel } from './key.js';

export const META_FILE = 'meta.json';
export const EMBEDDINGS_FILE = 'embeddings.npy';
export const LABELS_FILE = 'labels.npy';
/** a multilabel split's 0/1 targets, uint8 [n, classes] (entries of single-label data have none) */
export const TARGETS_FILE = 'targets.npy';
export const CHUNKS_DIR = 'chunks';
export const LAYOUT_FILE = 'layout.json';
export const CACHE_FORMAT = 1;
export const CHUNK_RE = /^(\d+)-(\d+)\.f32$/;
/** chunks/<start>-<end>.json: who wrote a chunk and which of its images were skipped (written before the chunk) */
export const CHUNK_RECORD_RE = /^(\d+)-(\d+)\.json$/;

/** An image the pipeline could not decode (its row is whatever the pipeline wrote, typically zeros). */
export interface SkippedImage {
  index: number;
  source?: string;
  reason?: string;
}

/** meta.json of a complete entry. */
export interface CacheMeta {
  format: number;
  hash: string;
  key: CacheKey;
  label: EntryLabel;
  /** rows of embeddings.npy */
  n: number;
  dim: number;
  /** rows of labels.npy, null when there is no labels.npy */
  labelsCount: number | null;
  /** distinct label values, null when there is no labels.npy */
  numClasses: number | null;
  /** shape of targets.npy ([n, classes]); absent or null: the entry has none (single-label data, or written before targets were kept) */
  targetsShape?: [number, number] | null;
  toolVersion: string;
  /** ISO time the entry was completed */
  created: string;
  /** when the first chunk was started (ISO) */
  started: string;
  chunkSize: number;
  skipped: { count: number; items: SkippedImage[] };
  /** which machines computed which rows (absent in entries written before it was recorded) */
  producers?: Producer[];
  /** whatever else the caller passed to finish() */
  extra: Record<string, unknown>;
}

/** Rows computed on one kind of machine (host, CPU model and instruction set). */
export interface Producer {
  host: string;
  cpu: string;
  arch: string;
  isa: string[];
  /** [start, end) row ranges */
  rows: Array<[number, number]>;
}

/** chunks/<start>-<end>.json */
export interface ChunkRecord {
  host: string;
  cpu: string;
  arch: string;
  isa: string[];
  pid: number;
  /** "K/N" of the writer, null when unsharded */
  shard: string | null;
  written: string;
  /** the chunk's images that could not be read */
  skipped: SkippedImage[];
}

/** chunks/layout.json: what an incomplete entry is (for resume and `cache ls`): the shape part of its future meta. */
export type Layout = Pick<CacheMeta, 'format' | 'hash' | 'key' | 'label' | 'n' | 'dim' | 'chunkSize' | 'started'>;

export interface LoadedEntry {
  /** row-major n x dim */
  embeddings: Float32Array;
  labels: Int32Array | null;
  /** targets.npy, row-major n x classes; null when the entry has none */
  targets: Uint8Array | null;
  n: number;
  dim: number;
  meta: CacheMeta;
  dir: string;
}

export type WarnFn = (message: string) => void;
export const defaultWarn: WarnFn = (m) => {
  process.stderr.write(`clip-bench: warning: ${m}\n`);
};

export interface LoadOptions {
  /** where "corrupt entry, treated as a miss" warnings go; default stderr */
  warn?: WarnFn;
}

export interface RowRange {
  /** first row */
  start: number;
  /** one past the last row */
  end: number;
}

/** A complete entry failed validation: it is treated as a miss. */
export class CorruptEntry extends Error {}

/** A JSON file, undefined if it does not exist; CorruptEntry if it does not parse. */
export async function readJson(file: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptEntry(`${path.basename(file)} is not valid JSON`);
  }
}

/** Sorted, non-overlapping union of row ranges. */
export function mergeRanges(ranges: RowRange[]): RowRange[] {
  const s = [...ranges].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: RowRange[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** The rows of [0, n) not in `merged` (sorted, non-overlapping). */
export function complement(merged: RowRange[], n: number): RowRange[] {
  const out: RowRange[] = [];
  let pos = 0;
  for (const r of merged) {
    if (r.start > pos) out.push({ start: pos, end: r.start });
    pos = Math.max(pos, r.end);
  }
  if (pos < n) out.push({ start: pos, end: n });
  return out;
}

export const chunkName = (r: RowRange) => `${r.start}-${r.end}.f32`;
export const chunkRecordName = (r: RowRange) => `${r.start}-${r.end}.json`;
/** chunks/labels.npy: the entry's labels, stored when it is started so that any process can assemble it */
export const PENDING_LABELS_FILE = 'labels.npy';
/** chunks/targets.npy: the entry's multilabel targets, stored with its labels */
export const PENDING_TARGETS_FILE = 'targets.npy';

/** 0/1 targets of n rows, row-major n x nClasses. */
export interface Targets {
  data: Uint8Array;
  nClasses: number;
}
