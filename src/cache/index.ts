/** The shared embedding cache: storage layer. */
export { canonicalJson, cacheKeyHash, hashTexts, entryDir, defaultCacheDir, validateKey } from './key.js';
export type { CacheKey, CacheSubset, EntryLabel, EntryRef } from './key.js';
export { openWriter, loadEntry, isEntryComplete, finishEntry, listEntries, removeEntries, matchesFilter } from './store.js';
export type {
  CacheMeta,
  CacheWriter,
  ChunkInfo,
  FinishResult,
  CacheEntryRow,
  FinishMeta,
  LoadedEntry,
  LoadOptions,
  RemoveFilter,
  RemoveResult,
  RowRange,
  SkippedImage,
  WarnFn,
  WriterOptions,
} from './store.js';
export type { LockInfo, LockOptions } from '../util/lock.js';
export { npyHeader, parseNpyHeader } from '../util/npy.js';
